//! `floe`: the command-line client of a floe network, and `floe devnet` to run one locally.

use std::{
    io::{IsTerminal, Write},
    path::PathBuf,
};

use alloy::primitives::{Address, U256};
use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use floe_client::{
    Attributes, Client, ClientConfig, ClientError, FileOptions, FileStored, ListOptions, Progress,
    StoreOptions, StoreOutcome,
    client::Transaction,
    config,
    units::{format_wal, parse_wal},
};
use floe_core::ids::BlobId;
use floe_devnet::{Devnet, DevnetOptions};

/// `println!` that ignores a closed stdout (e.g. piped into `head`) instead of panicking.
macro_rules! say {
    ($($t:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

mod files;

use files::{run_blob_id, run_dry_run, run_ls, run_store_files};

#[derive(Debug, Parser)]
#[command(
    name = "floe",
    version,
    about = "floe: decentralized blob storage (client and local network)"
)]
struct Cli {
    /// Client config file (default: $FLOE_CONFIG, else $FLOE_HOME/devnet/client.toml,
    /// FLOE_HOME defaulting to ~/.floe).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// More logs (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Store a file: encode, pay, upload to the storage nodes, certify. Pays nothing if a
    /// certified registration of yours, or a certified permanent one of anyone, already covers
    /// the epochs asked; reuses an uncertified registration of yours that does. A file larger
    /// than one chunk is stored as chunk blobs and a manifest blob, whose id is the file's;
    /// storing it again after an interruption pays nothing for the chunks already stored.
    Store {
        /// The files to store, each as its own blob or chunked file (several are stored
        /// concurrently, `--parallel` at once).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Epochs of storage to buy.
        #[arg(long, default_value_t = 1)]
        epochs: u32,
        /// Register it deletable: you may delete your registration before it expires (a
        /// permanent registration already covering the request is used as is).
        #[arg(long)]
        deletable: bool,
        /// Bytes per chunk of a large file (default: the network's, about 64 MiB). A file of at
        /// most this many bytes is stored as one blob.
        #[arg(long, value_name = "BYTES")]
        chunk_size: Option<u64>,
        /// Chunks of a large file encoded and uploaded at once (memory grows with it: about
        /// 0.5 GB each at the default chunk size).
        #[arg(long, value_name = "N", default_value_t = floe_client::large::DEFAULT_CHUNKS_IN_FLIGHT)]
        chunks_in_flight: usize,
        /// Files stored at once when several are given (memory adds up: a large file holds
        /// `--chunks-in-flight` chunks).
        #[arg(long, value_name = "N", default_value_t = 2)]
        parallel: usize,
        /// Store nothing: print each file's id, size, encoded size and what storing it would
        /// cost now (blobs already certified or registered by you cost nothing).
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        out: Output,
    },
    /// Print the id `floe store` would give a file, without storing anything (the file is cut
    /// and encoded as a store does, for the network's n).
    BlobId {
        /// The files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Bytes per chunk of a large file, as given to `floe store`.
        #[arg(long, value_name = "BYTES")]
        chunk_size: Option<u64>,
        #[command(flatten)]
        out: Output,
    },
    /// List your registrations, newest first, from the chain: blob id, size, state, end epoch,
    /// deletable or permanent.
    Ls {
        /// Only registrations that keep their blob alive (registered or certified, unexpired).
        #[arg(long)]
        live: bool,
        /// Most registrations read from the chain.
        #[arg(long, value_name = "N", default_value_t = floe_client::owned::DEFAULT_LIST_LIMIT)]
        limit: usize,
        #[command(flatten)]
        out: Output,
    },
    /// Read a file back, verified against its id: a large file's chunks are streamed in order,
    /// each verified, and the whole file is checked against its manifest's SHA-256.
    Read {
        /// The blob id (0x + 64 hex digits).
        blob_id: BlobId,
        /// Write to this file instead of stdout: written under a temporary name next to it and
        /// renamed only once the whole file verified (on error FILE is left untouched).
        #[arg(short, long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Read the blob's own bytes, even if it is a manifest.
        #[arg(long)]
        raw: bool,
    },
    /// A blob's on-chain status over all its registrations, and your registrations of it; for
    /// a large file's id (its manifest), also the file and the state of each chunk.
    Status {
        /// The blob id.
        blob_id: BlobId,
        #[command(flatten)]
        out: Output,
    },
    /// The network: epoch, committee and shards per node, prices, n, f.
    Info {
        #[command(flatten)]
        out: Output,
    },
    /// Delete your deletable registrations of a blob (their storage stays yours); other
    /// registrations of it, and so maybe its data, live on.
    Delete {
        /// The blob id.
        blob_id: BlobId,
        /// Delete only this registration of the blob.
        #[arg(long, value_name = "ID")]
        registration: Option<u64>,
        #[command(flatten)]
        out: Output,
    },
    /// Extend a registration of a blob by some epochs (pays WAL).
    Extend {
        /// The blob id.
        blob_id: BlobId,
        /// Epochs to add.
        #[arg(long)]
        epochs: u32,
        /// The registration to extend (default: your longest-lived live registration of the
        /// blob); anyone may extend a permanent registration, a deletable one only its owner.
        #[arg(long, value_name = "ID")]
        registration: Option<u64>,
        #[command(flatten)]
        out: Output,
    },
    /// Take WAL from the devnet faucet.
    Faucet {
        /// Amount in WAL (up to 9 decimals).
        #[arg(default_value = "1000")]
        amount: String,
        #[command(flatten)]
        out: Output,
    },
    /// Stake WAL with a storage node.
    Stake {
        /// The node id (its operator address).
        node: Address,
        /// Amount in WAL (up to 9 decimals).
        amount: String,
        #[command(flatten)]
        out: Output,
    },
    /// Run a local network: anvil, the contracts, storage nodes and a gateway; Ctrl-C stops it.
    Devnet(DevnetArgs),
    /// Run the HTTP gateway: aggregator, publisher (paid by this client's wallet), explorer
    /// page, metrics. With --config, FILE is the gateway's TOML (docs/GATEWAY.md), whose
    /// `client_config` names the client config (default: the usual one).
    Gateway(GatewayArgs),
    /// Transfer a registration of a blob you own, with its storage and attributes, to another
    /// address.
    Transfer {
        /// The blob id.
        blob_id: BlobId,
        /// The new owner.
        to: Address,
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        out: Output,
    },
    /// A registration's attributes: key/value pairs on-chain (the gateway serves some as HTTP
    /// headers, e.g. content-type).
    Attr {
        #[command(subcommand)]
        command: AttrCommand,
    },
    /// Share a permanent registration of a blob you own: final; anyone may then fund and
    /// extend it (`floe fund`), nobody may transfer it or change its attributes.
    Share {
        /// The blob id.
        blob_id: BlobId,
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        out: Output,
    },
    /// Extend a shared registration of a blob by some epochs, paying through its fund (anyone
    /// may; deposits what the fund lacks).
    Fund {
        /// The blob id.
        blob_id: BlobId,
        /// Epochs to add.
        #[arg(long)]
        epochs: u32,
        /// The shared registration (default: the blob's longest-lived shared registration).
        #[arg(long, value_name = "ID")]
        registration: Option<u64>,
        #[command(flatten)]
        out: Output,
    },
    /// Store many small files as one quilt: one blob, one registration, one payment; each file
    /// readable on its own (`floe read-quilt`). A directory adds every file below it, named by
    /// its path relative to the directory; a file is named by its file name; symlinks are
    /// skipped.
    StoreQuilt {
        /// Files and directories to put in the quilt.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Epochs of storage to buy.
        #[arg(long, default_value_t = 1)]
        epochs: u32,
        /// Register it deletable.
        #[arg(long)]
        deletable: bool,
        /// A tag on one file, IDENTIFIER:KEY=VALUE (e.g. `index.html:content-type=text/html`);
        /// repeatable.
        #[arg(long = "tag", value_name = "IDENT:KEY=VALUE")]
        tags: Vec<String>,
        #[command(flatten)]
        out: Output,
    },
    /// Read one file of a quilt, fetching only the slivers that hold it; checked against its
    /// SHA-256.
    ReadQuilt {
        /// The quilt's blob id.
        quilt_id: BlobId,
        /// The file's identifier (as `floe list-quilt` shows it).
        identifier: String,
        /// Write to this file instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// List the files of a quilt: identifier, size, content type, SHA-256.
    ListQuilt {
        /// The quilt's blob id.
        quilt_id: BlobId,
        #[command(flatten)]
        out: Output,
    },
}

/// The registration a command acts on.
#[derive(Debug, Args)]
struct Target {
    /// The registration (default: your one live registration of the blob).
    #[arg(long, value_name = "ID")]
    registration: Option<u64>,
}

#[derive(Debug, Subcommand)]
enum AttrCommand {
    /// Set an attribute (key 1..64 bytes, value at most 1024 bytes, at most 16 per
    /// registration), replacing its value if it exists.
    Set {
        /// The blob id.
        blob_id: BlobId,
        /// The key.
        key: String,
        /// The value.
        value: String,
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        out: Output,
    },
    /// Print the attributes, or only the value of KEY.
    Get {
        /// The blob id.
        blob_id: BlobId,
        /// Only this key: prints its value alone (fails if there is none).
        key: Option<String>,
        /// The registration, anyone's (default: your newest registration of the blob, else its
        /// first registration, the one the gateway uses).
        #[arg(long, value_name = "ID")]
        registration: Option<u64>,
        #[command(flatten)]
        out: Output,
    },
    /// Remove an attribute.
    Rm {
        /// The blob id.
        blob_id: BlobId,
        /// The key.
        key: String,
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        out: Output,
    },
}

#[derive(Debug, Args)]
struct Output {
    /// Print JSON (for scripts); hides progress bars.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct GatewayArgs {
    /// Where to listen (overrides the config's `listen`; default 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    listen: Option<std::net::SocketAddr>,
    /// Accept uploads without a token (only for a local network).
    #[arg(long)]
    open: bool,
}

#[derive(Debug, Args)]
struct DevnetArgs {
    /// Storage nodes to run.
    #[arg(long, default_value_t = 4)]
    nodes: usize,
    /// Shards n.
    #[arg(long, default_value_t = 100)]
    shards: u16,
    /// Epoch duration in seconds; a blob stored with `--epochs N` in epoch E is kept until
    /// epoch E+N begins.
    #[arg(long, default_value_t = 3600)]
    epoch_secs: u64,
    /// Working directory (default $FLOE_HOME/devnet); its node data is wiped at start.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The chain's JSON-RPC port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 8545)]
    port: u16,
    /// The gateway's port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 8000)]
    gateway_port: u16,
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn client(config_path: Option<&std::path::Path>, json: bool) -> Result<Client> {
    let path = config::config_path(config_path);
    let cfg = ClientConfig::load(&path)?;
    let progress = if json {
        Progress::Hidden
    } else {
        Progress::Auto
    };
    Ok(Client::new(cfg).await?.with_progress(progress))
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    say!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn print_txs(txs: &[Transaction]) {
    for tx in txs {
        say!("  {:<9} {}", tx.action, tx.hash);
    }
}

async fn run(cli: Cli) -> Result<()> {
    let cfg_path = cli.config.as_deref();
    match cli.command {
        Command::Store {
            files,
            epochs,
            deletable,
            chunk_size,
            chunks_in_flight,
            parallel,
            dry_run,
            out,
        } => {
            if epochs == 0 {
                bail!("--epochs must be at least 1");
            }
            if chunk_size == Some(0) {
                bail!("--chunk-size must be at least 1 byte");
            }
            if chunks_in_flight == 0 {
                bail!("--chunks-in-flight must be at least 1");
            }
            if parallel == 0 {
                bail!("--parallel must be at least 1");
            }
            // Several files stored at once would draw over each other's bars.
            let client = client(cfg_path, out.json || files.len() > 1).await?;
            let file_opts = FileOptions {
                chunk_size,
                chunks_in_flight,
                ..Default::default()
            };
            let opts = StoreOptions {
                epochs,
                deletable,
                ..Default::default()
            };
            if dry_run {
                return run_dry_run(&client, &files, &opts, &file_opts, out.json).await;
            }
            run_store_files(&client, &files, &opts, &file_opts, parallel, out.json).await
        }
        Command::BlobId {
            files,
            chunk_size,
            out,
        } => {
            if chunk_size == Some(0) {
                bail!("--chunk-size must be at least 1 byte");
            }
            let client = client(cfg_path, out.json).await?;
            let file_opts = FileOptions {
                chunk_size,
                ..Default::default()
            };
            run_blob_id(&client, &files, &file_opts, out.json).await
        }
        Command::Ls { live, limit, out } => {
            let client = client(cfg_path, out.json).await?;
            let listing = client
                .list_registrations(&ListOptions {
                    limit,
                    live_only: live,
                })
                .await?;
            run_ls(&listing, out.json)
        }
        Command::Read { blob_id, out, raw } => {
            let client = client(cfg_path, false).await?;
            run_read(&client, &blob_id, out.as_deref(), raw).await
        }
        Command::Status { blob_id, out } => {
            let client = client(cfg_path, out.json).await?;
            let status = client.file_status(&blob_id).await?;
            if out.json {
                return print_json(&status);
            }
            let s = &status.blob;
            say!(
                "Blob {}: {} (epoch {})",
                s.blob_id,
                s.state,
                s.current_epoch
            );
            if s.state == "unknown" {
                return Ok(());
            }
            say!("  size:          {} bytes", s.size);
            say!("  registrations: {} (not deleted)", s.registrations);
            if s.end_epoch > s.current_epoch {
                say!("  stored until:  epoch {}", s.end_epoch);
            }
            if s.certified_end_epoch > s.current_epoch {
                say!("  certified until: epoch {}", s.certified_end_epoch);
            }
            if s.permanent_certified_end_epoch > s.current_epoch {
                say!(
                    "  certified permanent until: epoch {}",
                    s.permanent_certified_end_epoch
                );
            }
            if s.mine.is_empty() {
                say!("  yours: none");
            } else {
                say!("  yours:");
                for r in &s.mine {
                    let kind = if r.deletable {
                        "deletable"
                    } else {
                        "permanent"
                    };
                    say!(
                        "    #{:<6} {:<10} {kind:<9} registered epoch {}, end epoch {}",
                        r.registration_id,
                        r.state,
                        r.registered_epoch,
                        r.end_epoch
                    );
                }
            }
            if let Some(file) = &status.file {
                print_file_summary(file, s.current_epoch);
            }
            Ok(())
        }
        Command::Info { out } => {
            let client = client(cfg_path, out.json).await?;
            let i = client.info().await?;
            if out.json {
                return print_json(&i);
            }
            say!("Chain {} · epoch {}", i.chain_id, i.epoch);
            say!(
                "Shards n = {}, f = {}, quorum = {} shards",
                i.n_shards,
                i.f,
                i.quorum
            );
            say!(
                "Prices: storage {} FROST/MiB/epoch, write {} FROST/MiB",
                i.storage_price,
                i.write_price
            );
            say!("Committee ({} nodes):", i.committee.len());
            for m in &i.committee {
                say!(
                    "  {}  {:<21} {:>5} shards",
                    m.node,
                    m.network_address,
                    m.shards
                );
            }
            say!("Wallet {}: {} WAL", i.wallet, format_wal(i.wal_balance));
            Ok(())
        }
        Command::Delete {
            blob_id,
            registration,
            out,
        } => {
            let client = client(cfg_path, out.json).await?;
            let deleted = client.delete(&blob_id, registration).await?;
            if out.json {
                return print_json(
                    &serde_json::json!({ "blob_id": blob_id.to_string(), "deleted": deleted }),
                );
            }
            for d in &deleted {
                say!(
                    "Deleted registration {} of {blob_id} (tx {}); its storage stays yours.",
                    d.registration_id,
                    d.transaction
                );
            }
            Ok(())
        }
        Command::Extend {
            blob_id,
            epochs,
            registration,
            out,
        } => {
            if epochs == 0 {
                bail!("--epochs must be at least 1");
            }
            let client = client(cfg_path, out.json).await?;
            let extended = client.extend(&blob_id, epochs, registration).await?;
            if out.json {
                return print_json(&extended);
            }
            say!(
                "Extended registration {} of {blob_id} to end epoch {}",
                extended.registration_id,
                extended.end_epoch
            );
            print_txs(&extended.transactions);
            Ok(())
        }
        Command::Faucet { amount, out } => {
            let frost = parse_wal(&amount)?;
            let client = client(cfg_path, out.json).await?;
            let tx = client.faucet(frost).await?;
            let balance = client.wal_balance().await?;
            if out.json {
                return print_json(
                    &serde_json::json!({ "transaction": tx, "balance_frost": balance }),
                );
            }
            say!(
                "Received {} WAL (tx {tx}); balance {} WAL",
                format_wal(frost),
                format_wal(balance)
            );
            Ok(())
        }
        Command::Stake { node, amount, out } => {
            let frost: U256 = parse_wal(&amount)?;
            let client = client(cfg_path, out.json).await?;
            let txs = client.stake(node, frost).await?;
            if out.json {
                return print_json(
                    &serde_json::json!({ "node": node, "amount_frost": frost, "transactions": txs }),
                );
            }
            say!(
                "Staked {} WAL with {node}; it counts from the next epoch.",
                format_wal(frost)
            );
            print_txs(&txs);
            Ok(())
        }
        Command::Devnet(args) => run_devnet(args).await,
        Command::Gateway(args) => run_gateway(cfg_path, args).await,
        Command::Transfer {
            blob_id,
            to,
            target,
            out,
        } => run_transfer(cfg_path, blob_id, to, target, out).await,
        Command::Attr { command } => run_attr(cfg_path, command).await,
        Command::Share {
            blob_id,
            target,
            out,
        } => run_share(cfg_path, blob_id, target, out).await,
        Command::Fund {
            blob_id,
            epochs,
            registration,
            out,
        } => run_fund(cfg_path, blob_id, epochs, registration, out).await,
        Command::StoreQuilt {
            paths,
            epochs,
            deletable,
            tags,
            out,
        } => run_store_quilt(cfg_path, paths, epochs, deletable, tags, out).await,
        Command::ReadQuilt {
            quilt_id,
            identifier,
            out,
        } => run_read_quilt(cfg_path, quilt_id, identifier, out).await,
        Command::ListQuilt { quilt_id, out } => run_list_quilt(cfg_path, quilt_id, out).await,
    }
}

/// Prints the file a manifest describes (`floe status` of a large file).
fn print_file_summary(file: &floe_client::FileSummary, current: u32) {
    let certified = file
        .chunks
        .iter()
        .filter(|c| c.state == "certified")
        .count();
    say!(
        "  file:          {} bytes in {} chunks of {} bytes: {}",
        file.size,
        file.chunks.len(),
        file.chunk_size,
        file.state
    );
    say!(
        "  chunks:        {certified} of {} certified",
        file.chunks.len()
    );
    if file.certified_end_epoch > current {
        say!(
            "  whole file certified until: epoch {}",
            file.certified_end_epoch
        );
    }
    for (i, c) in file.chunks.iter().enumerate() {
        if c.state != "certified" {
            say!("    chunk {i} {}: {}", c.blob_id, c.state);
        }
    }
}

/// Prints what `floe store` stored of `file` (one file; JSON done by the caller).
fn print_stored(client: &Client, file: &std::path::Path, stored: &FileStored) -> Result<()> {
    let result = &stored.stored;
    let kind = if result.deletable {
        "deletable"
    } else {
        "permanent"
    };
    if stored.is_manifest() && stored.already_certified() {
        say!(
            "File {} ({} bytes, {} chunks) is already certified until epoch {}: nothing to pay.",
            stored.blob_id,
            stored.size,
            stored.chunks.len(),
            result.end_epoch
        );
        return Ok(());
    }
    match result.outcome {
        StoreOutcome::AlreadyCertified if !stored.is_manifest() => {
            let whose = if result.owner == client.address() {
                "yours".to_owned()
            } else {
                format!("owned by {}", result.owner)
            };
            say!(
                "Blob {} is already certified until epoch {} by registration {} ({kind}, {whose}): nothing to pay.",
                result.blob_id,
                result.end_epoch,
                result.registration_id
            );
        }
        _ => {
            let how = if result.outcome == StoreOutcome::ReusedRegistration {
                " (reused the existing registration, nothing paid)"
            } else {
                ""
            };
            say!("Stored {} ({} bytes){how}", file.display(), stored.size);
            if stored.is_manifest() {
                let reused = stored
                    .chunks
                    .iter()
                    .filter(|c| c.outcome != StoreOutcome::NewlyCertified)
                    .count();
                say!(
                    "File id:      {} (manifest of {} chunks of {} bytes; {reused} already stored)",
                    stored.blob_id,
                    stored.chunks.len(),
                    stored.chunk_size.unwrap_or_default()
                );
                say!(
                    "Registration: {} ({kind}, the manifest's)",
                    result.registration_id
                );
                say!("Paid:         {}", format_wal(stored.paid));
            } else {
                say!("Blob id:      {}", result.blob_id);
                say!("Registration: {} ({kind})", result.registration_id);
            }
            say!("End epoch:    {}", result.end_epoch);
            say!("Transactions:");
            print_txs(&stored.transactions);
        }
    }
    Ok(())
}

async fn run_read(
    client: &Client,
    blob_id: &BlobId,
    out: Option<&std::path::Path>,
    raw: bool,
) -> Result<()> {
    if raw {
        let data = client.read(blob_id).await?;
        return match out {
            Some(path) => std::fs::write(path, &data)
                .with_context(|| format!("cannot write {}", path.display())),
            None => {
                let mut stdout = std::io::stdout().lock();
                if stdout.is_terminal() && std::str::from_utf8(&data).is_err() {
                    bail!(
                        "the blob is binary ({} bytes); write it to a file with -o FILE",
                        data.len()
                    );
                }
                stdout.write_all(&data)?;
                stdout.flush()?;
                Ok(())
            }
        };
    }
    match out {
        Some(path) => {
            client.read_file_to_path(blob_id, path).await?;
        }
        None => {
            let mut stdout = TextOnlyOnTerminal {
                inner: tokio::io::stdout(),
                checked: !std::io::stdout().is_terminal(),
            };
            match client.read_file(blob_id, &mut stdout).await {
                Ok(_) => {}
                // A closed stdout (piped into `head`) is not an error.
                Err(ClientError::Io { error, .. })
                    if error.kind() == std::io::ErrorKind::BrokenPipe => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// Parses `--tag IDENT:KEY=VALUE`: the value is everything after the first `=`, the key what
/// follows the last `:` before it (so identifiers may hold `:`).
fn parse_quilt_tag(tag: &str) -> Result<(String, String, String)> {
    let usage = || {
        format!(
            "invalid --tag {tag:?}: expected IDENTIFIER:KEY=VALUE, e.g. index.html:content-type=text/html"
        )
    };
    let (left, value) = tag.split_once('=').with_context(usage)?;
    let (identifier, key) = left.rsplit_once(':').with_context(usage)?;
    if identifier.is_empty() || key.is_empty() {
        bail!(usage());
    }
    Ok((identifier.to_owned(), key.to_owned(), value.to_owned()))
}

#[cfg(test)]
mod quilt_tag_tests {
    use super::parse_quilt_tag;

    #[test]
    fn tags_split_at_the_last_colon_before_the_first_equals() {
        let t = |s: &str| parse_quilt_tag(s).map_err(|e| e.to_string());
        assert_eq!(
            t("index.html:content-type=text/html; charset=utf-8"),
            Ok((
                "index.html".into(),
                "content-type".into(),
                "text/html; charset=utf-8".into()
            ))
        );
        assert_eq!(
            t("a:b/c.txt:k=v=w:x"),
            Ok(("a:b/c.txt".into(), "k".into(), "v=w:x".into()))
        );
        assert_eq!(t("f:k="), Ok(("f".into(), "k".into(), String::new())));
        for bad in ["nokey", "f=v", ":k=v", "f:=v"] {
            let e = t(bad).expect_err(bad);
            assert!(e.contains("IDENTIFIER:KEY=VALUE"), "{bad}: {e}");
        }
    }
}

async fn run_store_quilt(
    cfg_path: Option<&std::path::Path>,
    paths: Vec<PathBuf>,
    epochs: u32,
    deletable: bool,
    tags: Vec<String>,
    out: Output,
) -> Result<()> {
    if epochs == 0 {
        bail!("--epochs must be at least 1");
    }
    let tags = tags
        .iter()
        .map(|t| parse_quilt_tag(t))
        .collect::<Result<Vec<_>>>()?;
    let client = client(cfg_path, out.json).await?;
    let max = client.max_blob_size().await?;
    let mut files = floe_client::collect_quilt_files(&paths, max)?;
    for (identifier, key, value) in tags {
        let file = files
            .iter_mut()
            .find(|f| f.identifier == identifier)
            .with_context(|| {
                format!("--tag names {identifier:?}, which is not a file of the quilt; `floe list-quilt` shows identifiers as relative paths")
            })?;
        file.tags.push((key, value));
    }
    let stored = client
        .store_quilt(
            files,
            &StoreOptions {
                epochs,
                deletable,
                ..Default::default()
            },
        )
        .await?;
    if out.json {
        return print_json(&stored);
    }
    let how = match stored.outcome {
        StoreOutcome::AlreadyCertified => " (already certified: nothing paid)",
        StoreOutcome::ReusedRegistration => " (reused the existing registration, nothing paid)",
        StoreOutcome::NewlyCertified => "",
    };
    say!(
        "Stored a quilt of {} files ({} bytes){how}",
        stored.files,
        stored.size
    );
    say!("Quilt id:     {}", stored.quilt_id);
    say!("Registration: {}", stored.registration_id);
    say!("End epoch:    {}", stored.end_epoch);
    say!("Paid:         {} WAL", format_wal(stored.paid));
    say!("Transactions:");
    print_txs(&stored.transactions);
    Ok(())
}

async fn run_read_quilt(
    cfg_path: Option<&std::path::Path>,
    quilt_id: BlobId,
    identifier: String,
    out: Option<PathBuf>,
) -> Result<()> {
    let client = client(cfg_path, false).await?;
    let file = client.read_quilt_file(&quilt_id, &identifier).await?;
    match out {
        Some(path) => std::fs::write(&path, &file.bytes)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            if stdout.is_terminal() && std::str::from_utf8(&file.bytes).is_err() {
                bail!(
                    "the file is binary ({} bytes); write it to a file with -o FILE",
                    file.bytes.len()
                );
            }
            stdout.write_all(&file.bytes)?;
            stdout.flush()?;
        }
    }
    Ok(())
}

/// Stdout that refuses, on the first bytes written, a binary file on a terminal.
struct TextOnlyOnTerminal<W> {
    inner: W,
    /// The first bytes were checked (or stdout is not a terminal).
    checked: bool,
}

impl<W: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for TextOnlyOnTerminal<W> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if !self.checked && !buf.is_empty() {
            // A character cut at the end of the first chunk is not binary.
            if let Err(e) = std::str::from_utf8(buf)
                && e.error_len().is_some()
            {
                return std::task::Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "the file is binary; write it to a file with -o FILE",
                )));
            }
            self.checked = true;
        }
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// One file of `floe list-quilt --json`.
#[derive(serde::Serialize)]
struct QuiltFileView<'a> {
    identifier: &'a str,
    size: u64,
    content_type: &'a str,
    sha256: String,
    tags: std::collections::BTreeMap<&'a str, &'a str>,
}

async fn run_list_quilt(
    cfg_path: Option<&std::path::Path>,
    quilt_id: BlobId,
    out: Output,
) -> Result<()> {
    let client = client(cfg_path, out.json).await?;
    let index = client.quilt_index(&quilt_id).await?;
    let files: Vec<QuiltFileView<'_>> = index
        .entries()
        .iter()
        .map(|e| QuiltFileView {
            identifier: e.identifier(),
            size: e.len(),
            content_type: e.content_type(),
            sha256: hex_of(e.sha256()),
            tags: e
                .tags()
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect(),
        })
        .collect();
    if out.json {
        return print_json(&files);
    }
    for f in &files {
        say!(
            "{}  {:>10}  {:<28}  {}",
            f.sha256,
            f.size,
            f.content_type,
            f.identifier
        );
    }
    say!("{} files in quilt {quilt_id}", files.len());
    Ok(())
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn run_transfer(
    cfg_path: Option<&std::path::Path>,
    blob_id: BlobId,
    to: Address,
    target: Target,
    out: Output,
) -> Result<()> {
    let client = client(cfg_path, out.json).await?;
    let t = client.transfer(&blob_id, target.registration, to).await?;
    if out.json {
        return print_json(&t);
    }
    say!(
        "Transferred registration {} of {blob_id} from {} to {} (tx {}); its storage and attributes moved with it.",
        t.registration_id,
        t.from,
        t.to,
        t.transaction
    );
    Ok(())
}

fn print_attributes(a: &Attributes) {
    if a.attributes.is_empty() {
        say!(
            "Registration {} of {} has no attributes.",
            a.registration_id,
            a.blob_id
        );
        return;
    }
    say!(
        "Registration {} of {} has {} attribute{}:",
        a.registration_id,
        a.blob_id,
        a.attributes.len(),
        if a.attributes.len() == 1 { "" } else { "s" }
    );
    let width = a.attributes.iter().map(|x| x.key.len()).max().unwrap_or(0);
    for x in &a.attributes {
        say!("  {:<width$}  {}", x.key, x.value);
    }
}

async fn run_attr(cfg_path: Option<&std::path::Path>, command: AttrCommand) -> Result<()> {
    match command {
        AttrCommand::Set {
            blob_id,
            key,
            value,
            target,
            out,
        } => {
            let client = client(cfg_path, out.json).await?;
            let a = client
                .set_attribute(&blob_id, target.registration, &key, &value)
                .await?;
            if out.json {
                return print_json(&a);
            }
            say!(
                "Set {key} on registration {} of {blob_id}{}",
                a.registration_id,
                a.transaction
                    .map(|t| format!(" (tx {t})"))
                    .unwrap_or_default()
            );
            print_attributes(&a);
        }
        AttrCommand::Get {
            blob_id,
            key,
            registration,
            out,
        } => {
            let client = client(cfg_path, out.json).await?;
            let a = client.attributes(&blob_id, registration).await?;
            let Some(key) = key else {
                if out.json {
                    return print_json(&a);
                }
                print_attributes(&a);
                return Ok(());
            };
            let Some(value) = a.get(&key) else {
                return Err(ClientError::AttributeNotFound {
                    blob_id,
                    registration_id: a.registration_id,
                    key,
                }
                .into());
            };
            if out.json {
                return print_json(&serde_json::json!({
                    "blob_id": blob_id.to_string(),
                    "registration_id": a.registration_id,
                    "key": key,
                    "value": value,
                }));
            }
            say!("{value}");
        }
        AttrCommand::Rm {
            blob_id,
            key,
            target,
            out,
        } => {
            let client = client(cfg_path, out.json).await?;
            let a = client
                .remove_attribute(&blob_id, target.registration, &key)
                .await?;
            if out.json {
                return print_json(&a);
            }
            say!(
                "Removed {key} from registration {} of {blob_id}{}",
                a.registration_id,
                a.transaction
                    .map(|t| format!(" (tx {t})"))
                    .unwrap_or_default()
            );
            print_attributes(&a);
        }
    }
    Ok(())
}

async fn run_share(
    cfg_path: Option<&std::path::Path>,
    blob_id: BlobId,
    target: Target,
    out: Output,
) -> Result<()> {
    let client = client(cfg_path, out.json).await?;
    let s = client.share(&blob_id, target.registration).await?;
    if out.json {
        return print_json(&s);
    }
    say!(
        "Shared registration {} of {blob_id} (tx {}); it ends at epoch {}.",
        s.registration_id,
        s.transaction,
        s.end_epoch
    );
    say!(
        "Anyone may now extend it with `floe fund {blob_id} --epochs N`; nobody may transfer it or change its attributes."
    );
    Ok(())
}

async fn run_fund(
    cfg_path: Option<&std::path::Path>,
    blob_id: BlobId,
    epochs: u32,
    registration: Option<u64>,
    out: Output,
) -> Result<()> {
    if epochs == 0 {
        bail!("--epochs must be at least 1");
    }
    let client = client(cfg_path, out.json).await?;
    let f = client.fund(&blob_id, registration, epochs).await?;
    if out.json {
        return print_json(&f);
    }
    say!(
        "Extended shared registration {} of {blob_id} by {} epoch{} to end epoch {}",
        f.registration_id,
        f.epochs,
        if f.epochs == 1 { "" } else { "s" },
        f.end_epoch
    );
    say!(
        "  cost {} WAL, deposited {} WAL, left in its fund {} WAL",
        format_wal(f.cost),
        format_wal(f.deposited),
        format_wal(f.funds_left)
    );
    print_txs(&f.transactions);
    Ok(())
}

/// Resolves when Ctrl-C or SIGTERM arrives.
async fn stop_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

/// Binds `config.listen` and serves the gateway on `client` until `shutdown`.
async fn serve_gateway(
    client: Client,
    config: floe_gateway::GatewayConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let backend = floe_gateway::SdkBackend::new(client)
        .map_err(|e| anyhow::anyhow!("cannot start the gateway: {}", e.message))?;
    floe_gateway::serve(listener, backend, config, shutdown)
        .await
        .context("the gateway stopped")
}

async fn run_gateway(config_path: Option<&std::path::Path>, args: GatewayArgs) -> Result<()> {
    let mut gw = match config_path {
        Some(path) => floe_gateway::GatewayConfig::load(path)
            .with_context(|| format!("cannot use gateway config {}", path.display()))?,
        None => floe_gateway::GatewayConfig::default(),
    };
    if let Some(listen) = args.listen {
        gw.listen = listen;
    }
    if args.open {
        gw.open = true;
    }
    gw.validate()
        .context("fix the gateway config (docs/GATEWAY.md lists every field)")?;
    let client_path = config::config_path(gw.client_config.as_deref());
    let client_cfg = ClientConfig::load(&client_path)?;
    let client = Client::new(client_cfg).await?;
    let listener = tokio::net::TcpListener::bind(gw.listen)
        .await
        .with_context(|| format!("cannot listen on {}", gw.listen))?;
    let addr = listener.local_addr()?;
    say!("gateway: http://{addr}");
    say!(
        "  wallet {} pays for stores; uploads {}",
        client.address(),
        if gw.open {
            "need no token"
        } else {
            "need a JWT bearer token"
        }
    );
    serve_gateway(client, gw, listener, stop_signal()).await?;
    eprintln!("stopped");
    Ok(())
}

async fn run_devnet(args: DevnetArgs) -> Result<()> {
    let dir = args.dir.unwrap_or_else(config::default_devnet_dir);
    let opts = DevnetOptions {
        nodes: args.nodes,
        shards: args.shards,
        epoch_secs: args.epoch_secs,
        dir: Some(dir.clone()),
        chain_port: (args.port != 0).then_some(args.port),
        ..DevnetOptions::default()
    };
    eprintln!(
        "starting a devnet of {} nodes and {} shards in {} ...",
        args.nodes,
        args.shards,
        dir.display()
    );
    let mut devnet = Devnet::start(opts).await?;
    // The client config lives in the devnet directory and, so that `floe` finds it with no
    // setup, at the default location $FLOE_HOME/devnet/client.toml too.
    let default_toml = config::default_devnet_dir().join("client.toml");
    let client_toml = dir.join("client.toml");
    if client_toml != default_toml {
        devnet
            .client_config()
            .save(&default_toml)
            .with_context(|| format!("cannot write {}", default_toml.display()))?;
    }
    // The gateway, open (no tokens), paid by the devnet's publisher wallet.
    let gateway_addr = std::net::SocketAddr::from(([127, 0, 0, 1], args.gateway_port));
    let listener = tokio::net::TcpListener::bind(gateway_addr)
        .await
        .with_context(|| {
            format!("cannot listen on {gateway_addr} for the gateway: pass --gateway-port 0 for a free port")
        })?;
    let gateway_url = format!("http://{}", listener.local_addr()?);
    let gateway_config = floe_gateway::GatewayConfig {
        listen: listener.local_addr()?,
        open: true,
        max_body_bytes: devnet_max_blob(args.shards),
        ..floe_gateway::GatewayConfig::default()
    };
    let (stop_gateway, gateway_stopped) = tokio::sync::oneshot::channel::<()>();
    let publisher = devnet.publisher_client().await?;
    let gateway = tokio::spawn(serve_gateway(
        publisher,
        gateway_config,
        listener,
        async move {
            let _ = gateway_stopped.await;
        },
    ));
    say!("ready");
    say!(
        "  chain:   {} (chain id {})",
        devnet.rpc_url(),
        devnet.client_config().deployment.chain_id
    );
    for i in 0..devnet.node_count() {
        say!(
            "  node {i}:  http://{}  (log {})",
            devnet.node_address(i),
            devnet.node_log(i).display()
        );
    }
    say!("  gateway: {gateway_url}  (explorer page, aggregator, open publisher)");
    say!("  client config: {}", default_toml.display());
    if client_toml != default_toml {
        say!("            and: {}", client_toml.display());
    }
    // Name the binary by its path unless `floe` on PATH is this very executable.
    let exe = std::env::current_exe().ok();
    let on_path = std::env::var_os("PATH").is_some_and(|p| {
        std::env::split_paths(&p).any(|d| {
            let candidate = d.join("floe");
            candidate.is_file()
                && candidate.canonicalize().ok() == exe.as_ref().and_then(|e| e.canonicalize().ok())
        })
    });
    let floe = match (&exe, on_path) {
        (Some(e), false) => e.display().to_string(),
        _ => "floe".to_owned(),
    };
    say!();
    say!("Store a file from another terminal:  {floe} store photo.jpg");
    say!("Read it back:                        {floe} read <blob id> -o photo-copy.jpg");
    say!("Or open the explorer:                {gateway_url}/");
    say!("Press Ctrl-C to stop.");

    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut watch = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = sigterm.recv() => break,
            _ = watch.tick() => {
                if let Some(msg) = devnet.check_processes() {
                    eprintln!("warning: {msg}");
                }
            }
        }
    }
    eprintln!("stopping the devnet ...");
    let _ = stop_gateway.send(());
    match tokio::time::timeout(std::time::Duration::from_secs(35), gateway).await {
        Ok(Ok(Err(e))) => eprintln!("warning: {e:#}"),
        Ok(Err(e)) => eprintln!("warning: the gateway task failed: {e}"),
        Err(_) => eprintln!("warning: the gateway did not stop within 35 s"),
        Ok(Ok(Ok(()))) => {}
    }
    devnet.shutdown();
    eprintln!("stopped");
    Ok(())
}

/// The largest blob a devnet of `shards` shards stores (the gateway's body limit there).
fn devnet_max_blob(shards: u16) -> u64 {
    floe_core::encoding::EncodingConfig::new(shards)
        .map(|c| c.max_blob_size())
        .unwrap_or(128 << 20)
}
