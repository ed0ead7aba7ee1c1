//! The `floe-node` binary: parses arguments, sets up logging, and runs the node library.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use floe_node::NodeConfig;

/// floe storage node.
#[derive(Debug, Parser)]
#[command(name = "floe-node", version, about = "floe storage node")]
struct Cli {
    /// The node's config file (TOML; see node/floe-node.example.toml).
    #[arg(long, env = "FLOE_NODE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Writes a new BLS secret key (hex) to a file and prints its public key.
    Keygen {
        /// Where to write the key (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match real_main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("floe-node: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn real_main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Command::Keygen { out }) = cli.command {
        let key = floe_node::keygen(&out)?;
        println!("{}", key.public_key().to_hex());
        return Ok(());
    }
    let path = cli
        .config
        .context("no config file: pass --config FILE (see node/floe-node.example.toml)")?;
    let config = NodeConfig::load(&path)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen_address)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen_address))?;
        floe_node::run(config, listener, shutdown_signal()).await?;
        Ok(())
    })
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
