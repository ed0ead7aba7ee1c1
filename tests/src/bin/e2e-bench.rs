//! End-to-end benchmark on a local 4-node devnet (anvil + `floe-node` processes + the SDK).
//!
//! Measures, in one run: store and read throughput per blob size, each beside a plain TCP
//! copy of the same bytes over 127.0.0.1 (the ratio says how far floe is from moving the bytes
//! once); the latency of storing a 1 KiB blob; and where a store's time goes (encoding,
//! upload + confirmations, chain).
//!
//! ```text
//! cargo build --release --workspace --bins
//! target/release/e2e-bench                     # 1 KiB latency, 1 MiB and 256 MiB
//! target/release/e2e-bench --sizes 1MiB,16MiB --runs 5 --json
//! ```
//!
//! Default shards: 200, because a 256 MiB blob does not fit n = 100 (the maximum there is
//! (n-2f)(n-f)·65534 ≈ 149 MB).

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail, ensure};
use clap::Parser;
use floe_client::{StoreOptions, StoreOutcome, config::Timeouts};
use floe_devnet::{Devnet, DevnetOptions};
use floe_tests::test_bytes;
use serde::Serialize;

#[derive(Debug, Parser)]
#[command(
    name = "e2e-bench",
    about = "floe end-to-end benchmark on a local devnet"
)]
struct Args {
    /// Blob sizes (B, KiB, MiB suffixes), comma separated.
    #[arg(long, default_value = "1MiB,256MiB", value_delimiter = ',')]
    sizes: Vec<String>,
    /// Shards n of the devnet.
    #[arg(long, default_value_t = 200)]
    shards: u16,
    /// Storage nodes.
    #[arg(long, default_value_t = 4)]
    nodes: usize,
    /// Runs per size up to 16 MiB (larger sizes run once).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Stores of a 1 KiB blob for the latency figure.
    #[arg(long, default_value_t = 10)]
    small_runs: usize,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
}

fn parse_size(s: &str) -> Result<usize> {
    let s = s.trim();
    let (num, mul) = if let Some(n) = s.strip_suffix("MiB") {
        (n, 1 << 20)
    } else if let Some(n) = s.strip_suffix("KiB") {
        (n, 1 << 10)
    } else if let Some(n) = s.strip_suffix('B') {
        (n, 1)
    } else {
        (s, 1)
    };
    Ok(num
        .trim()
        .parse::<usize>()
        .with_context(|| format!("bad size {s:?}"))?
        * mul)
}

fn human(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} B")
    }
}

/// Copies `data` once over a loopback TCP connection; returns the time until the reader has
/// every byte.
fn loopback_copy(data: &[u8]) -> Result<Duration> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let len = data.len();
    let reader = std::thread::spawn(move || -> std::io::Result<Vec<u8>> {
        let (mut stream, _) = listener.accept()?;
        let mut buf = Vec::with_capacity(len);
        stream.read_to_end(&mut buf)?;
        Ok(buf)
    });
    let start = Instant::now();
    let mut stream = TcpStream::connect(addr)?;
    for chunk in data.chunks(1 << 20) {
        stream.write_all(chunk)?;
    }
    drop(stream);
    let received = reader
        .join()
        .map_err(|_| anyhow::anyhow!("reader thread panicked"))??;
    let elapsed = start.elapsed();
    ensure!(received.len() == len, "loopback copy lost bytes");
    Ok(elapsed)
}

#[derive(Debug, Default, Serialize)]
struct SizeResult {
    size: usize,
    runs: usize,
    /// Best (shortest) times over the runs, seconds.
    loopback_secs: f64,
    store_secs: f64,
    read_secs: f64,
    /// Store breakdown of the best store run, seconds.
    encode_secs: f64,
    upload_secs: f64,
    chain_secs: f64,
}

impl SizeResult {
    fn mib_s(&self, secs: f64) -> f64 {
        self.size as f64 / (1 << 20) as f64 / secs
    }
}

#[derive(Debug, Serialize)]
struct Report {
    shards: u16,
    nodes: usize,
    sizes: Vec<SizeResult>,
    small_store_secs: Vec<f64>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let sizes: Vec<usize> = args
        .sizes
        .iter()
        .map(|s| parse_size(s))
        .collect::<Result<_>>()?;
    let opts = DevnetOptions {
        nodes: args.nodes,
        shards: args.shards,
        epoch_secs: 3600,
        timeouts: Timeouts {
            request_secs: 300,
            confirmation_secs: 600,
            ..Timeouts::default()
        },
        node_log_filter: "warn".into(),
        node_certify_grace_secs: Some(3600),
        ..DevnetOptions::default()
    };
    eprintln!(
        "starting a devnet: {} nodes, {} shards ...",
        args.nodes, args.shards
    );
    let devnet = Devnet::start(opts).await?;
    let client = devnet.client().await?;
    let store_opts = StoreOptions {
        epochs: 1,
        deletable: false,
        ..Default::default()
    };

    // Latency of a 1 KiB store (fresh bytes every time, so each pays and certifies).
    let mut small = Vec::new();
    for run in 0..args.small_runs {
        let data = test_bytes(1024, 1_000 + run as u64);
        let start = Instant::now();
        let r = client.store(data, &store_opts).await?;
        small.push(start.elapsed().as_secs_f64());
        ensure!(
            r.outcome == StoreOutcome::NewlyCertified,
            "1 KiB store run {run}: {:?}",
            r.outcome
        );
    }

    let mut results = Vec::new();
    for (i, &size) in sizes.iter().enumerate() {
        let runs = if size <= 16 << 20 {
            args.runs.max(1)
        } else {
            1
        };
        let mut res = SizeResult {
            size,
            runs,
            loopback_secs: f64::MAX,
            store_secs: f64::MAX,
            read_secs: f64::MAX,
            ..SizeResult::default()
        };
        for run in 0..runs {
            eprintln!("{}: run {}/{runs}", human(size), run + 1);
            let data = test_bytes(size, (i * 100 + run) as u64 + 7);
            res.loopback_secs = res.loopback_secs.min(loopback_copy(&data)?.as_secs_f64());
            let start = Instant::now();
            let stored = client.store(data.clone(), &store_opts).await?;
            let store_secs = start.elapsed().as_secs_f64();
            if stored.outcome != StoreOutcome::NewlyCertified {
                bail!(
                    "{} run {run}: store outcome {:?}",
                    human(size),
                    stored.outcome
                );
            }
            if store_secs < res.store_secs {
                res.store_secs = store_secs;
                res.encode_secs = stored.timings.encode_secs;
                res.upload_secs = stored.timings.upload_secs;
                res.chain_secs = stored.timings.chain_secs;
            }
            let start = Instant::now();
            let back = client.read(&stored.blob_id).await?;
            res.read_secs = res.read_secs.min(start.elapsed().as_secs_f64());
            ensure!(
                back == data,
                "{} run {run}: read back other bytes",
                human(size)
            );
        }
        results.push(res);
    }
    drop(devnet);

    let report = Report {
        shards: args.shards,
        nodes: args.nodes,
        sizes: results,
        small_store_secs: small,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    print_tables(&report);
    Ok(())
}

fn print_tables(r: &Report) {
    println!(
        "floe end-to-end, {} nodes, n = {} shards (best of the runs)",
        r.nodes, r.shards
    );
    println!();
    println!("| size | loopback copy | store | store / loopback | read | read / loopback |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for s in &r.sizes {
        let lb = s.mib_s(s.loopback_secs);
        let st = s.mib_s(s.store_secs);
        let rd = s.mib_s(s.read_secs);
        println!(
            "| {} | {lb:.0} MiB/s | {st:.1} MiB/s ({:.2} s) | {:.4} | {rd:.1} MiB/s ({:.2} s) | {:.4} |",
            human(s.size),
            s.store_secs,
            st / lb,
            s.read_secs,
            rd / lb
        );
    }
    println!();
    println!("Where a store's time goes:");
    println!();
    println!("| size | encode | upload + confirmations | chain (check, pay, register, certify) |");
    println!("| --- | --- | --- | --- |");
    for s in &r.sizes {
        let total = s.store_secs;
        let pct = |x: f64| 100.0 * x / total;
        println!(
            "| {} | {:.0}% ({:.2} s) | {:.0}% ({:.2} s) | {:.0}% ({:.2} s) |",
            human(s.size),
            pct(s.encode_secs),
            s.encode_secs,
            pct(s.upload_secs),
            s.upload_secs,
            pct(s.chain_secs),
            s.chain_secs
        );
    }
    if !r.small_store_secs.is_empty() {
        let mut v = r.small_store_secs.clone();
        v.sort_by(f64::total_cmp);
        let median = v[v.len() / 2];
        println!();
        println!(
            "1 KiB store latency over {} stores: median {:.0} ms, min {:.0} ms, max {:.0} ms",
            v.len(),
            median * 1e3,
            v[0] * 1e3,
            v[v.len() - 1] * 1e3
        );
    }
}
