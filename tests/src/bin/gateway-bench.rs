//! Gateway benchmark on a local devnet: the HTTP gateway (`floe-gateway` on the SDK) against
//! the SDK itself, measured in the same run (issue #8).
//!
//! Figures, each over `--runs` runs (median, min, max), after a warm-up:
//! 1. `GET` of one large blob through the gateway (the body streamed to nothing) against
//!    `Client::read` of the same blob (fetch, decode, re-encode to check the id) and against
//!    the SDK's streaming `BlobReader` the gateway serves from (rows verified, no decoding).
//! 2. Time to first byte of that `GET` (request sent → first body chunk) beside the whole `GET`.
//! 3. `--readers` concurrent `GET`s of as many different blobs against as many concurrent
//!    `Client::read`s of the same blobs: aggregate throughput.
//! 4. `PUT` of fresh blobs through an open gateway against `Client::store` of fresh blobs of
//!    the same size.
//! 5. Peak memory of a gateway serving the large `GET`: the gateway then runs in a child
//!    process of its own (this binary with `--serve-gateway`), fresh for every run, whose
//!    `VmHWM` is read before and after the `GET`.
//!
//! ```text
//! cargo build --release -p floe-node -p floe-tests --bins
//! target/release/gateway-bench                 # 4 nodes, n = 100, 64 MiB, 16 × 4 MiB, 3 runs
//! target/release/gateway-bench --runs 5 --json
//! ```

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Instant,
};

use anyhow::{Context, Result, bail, ensure};
use clap::Parser;
use floe_client::{Client, ClientConfig, StoreOptions, StoreOutcome, config::Timeouts};
use floe_core::ids::BlobId;
use floe_devnet::{Devnet, DevnetOptions};
use floe_gateway::{GatewayConfig, SdkBackend};
use floe_tests::test_bytes;
use futures::{StreamExt, future::join_all};
use serde::Serialize;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, BufReader},
    net::TcpListener,
    sync::oneshot,
    task::JoinHandle,
};

#[derive(Debug, Parser)]
#[command(
    name = "gateway-bench",
    about = "floe gateway benchmark on a local devnet, against the SDK in the same run"
)]
struct Args {
    /// Shards n of the devnet.
    #[arg(long, default_value_t = 100)]
    shards: u16,
    /// Storage nodes.
    #[arg(long, default_value_t = 4)]
    nodes: usize,
    /// Timed runs of every measurement (after a warm-up).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Size of the blob of the single large GET (B, KiB, MiB suffixes).
    #[arg(long, default_value = "64MiB")]
    get_size: String,
    /// Concurrent readers, each of a blob of its own.
    #[arg(long, default_value_t = 16)]
    readers: usize,
    /// Size of each concurrent reader's blob.
    #[arg(long, default_value = "4MiB")]
    reader_size: String,
    /// Sizes of the PUTs (and of the stores they are compared with), comma separated.
    #[arg(long, default_value = "16MiB,64MiB", value_delimiter = ',')]
    put_sizes: Vec<String>,
    /// Skip the peak-memory measurement (it starts a gateway process per run).
    #[arg(long)]
    no_memory: bool,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Internal: serve a gateway with the client config in FILE, print its URL on stdout and
    /// stop when stdin closes (the peak-memory measurement runs the gateway this way).
    #[arg(long, value_name = "FILE", hide = true)]
    serve_gateway: Option<PathBuf>,
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
        .with_context(|| format!("bad size {s:?}: use e.g. 64MiB, 512KiB or 1000B"))?
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

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

/// Samples of one measurement (seconds, or KiB for memory) with their median and spread.
#[derive(Debug, Clone, Serialize)]
struct Stat {
    median: f64,
    min: f64,
    max: f64,
    samples: Vec<f64>,
}

impl Stat {
    fn of(samples: Vec<f64>) -> Self {
        let mut v = samples.clone();
        v.sort_by(f64::total_cmp);
        let median = match v.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        };
        Self {
            median,
            min: v.first().copied().unwrap_or(f64::NAN),
            max: v.last().copied().unwrap_or(f64::NAN),
            samples,
        }
    }
}

/// A gateway served in this process until [`Gateway::shutdown`].
#[derive(Debug)]
struct Gateway {
    url: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// The gateway config of the bench: open (no tokens, as on a devnet), bodies up to 256 MiB.
fn gateway_config() -> GatewayConfig {
    GatewayConfig {
        open: true,
        max_body_bytes: 256 << 20,
        ..GatewayConfig::default()
    }
}

impl Gateway {
    async fn start(config: ClientConfig) -> Result<Self> {
        let backend = SdkBackend::new(Client::new(config).await?)
            .map_err(|e| anyhow::anyhow!("gateway backend: {}", e.message))?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            if let Err(e) = floe_gateway::serve(listener, backend, gateway_config(), shutdown).await
            {
                eprintln!("gateway: {e}");
            }
        });
        Ok(Self { url, stop, task })
    }

    async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// `--serve-gateway`: a gateway on 127.0.0.1 with the client config in `path`, until stdin
/// closes.
async fn serve_gateway_child(path: &Path) -> Result<()> {
    let config = ClientConfig::load(path)?;
    let backend = SdkBackend::new(Client::new(config).await?)
        .map_err(|e| anyhow::anyhow!("gateway backend: {}", e.message))?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    println!("http://{}", listener.local_addr()?);
    let shutdown = async {
        let mut sink = Vec::new();
        let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    };
    floe_gateway::serve(listener, backend, gateway_config(), shutdown).await?;
    Ok(())
}

/// Timings of one `GET`, seconds from the request being sent.
#[derive(Debug, Clone, Copy)]
struct GetTiming {
    headers: f64,
    first_byte: f64,
    total: f64,
}

/// `GET {url}` with the body streamed to nothing (only counted); `keep` also returns it.
async fn http_get(
    http: &reqwest::Client,
    url: &str,
    len: usize,
    keep: bool,
) -> Result<(GetTiming, Vec<u8>)> {
    let start = Instant::now();
    let mut resp = http.get(url).send().await?;
    let headers = start.elapsed().as_secs_f64();
    ensure!(
        resp.status() == reqwest::StatusCode::OK,
        "GET {url}: {}",
        resp.status()
    );
    let mut first_byte = None;
    let mut got = 0usize;
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        first_byte.get_or_insert_with(|| start.elapsed().as_secs_f64());
        got += chunk.len();
        if keep {
            body.extend_from_slice(&chunk);
        }
    }
    let total = start.elapsed().as_secs_f64();
    ensure!(got == len, "GET {url}: {got} bytes, {len} expected");
    Ok((
        GetTiming {
            headers,
            first_byte: first_byte.unwrap_or(total),
            total,
        },
        body,
    ))
}

fn blob_url(base: &str, id: &BlobId) -> String {
    format!("{base}/v1/blobs/{id}")
}

/// Timings of one `PUT`, seconds from the request being sent.
#[derive(Debug, Clone, Copy)]
struct PutTiming {
    /// The answer's headers: the gateway has read the whole body.
    received: f64,
    /// The `encode` progress line: the SDK's store has begun encoding.
    encoding: f64,
    /// The result line.
    total: f64,
}

/// `PUT` of `data` through the open gateway, asking for NDJSON progress lines so that its
/// phases can be timed; checks that the blob was newly stored.
async fn http_put(http: &reqwest::Client, base: &str, data: Vec<u8>) -> Result<PutTiming> {
    let start = Instant::now();
    let mut resp = http
        .put(format!("{base}/v1/blobs?epochs=1"))
        .header(reqwest::header::ACCEPT, "application/x-ndjson")
        .body(data)
        .send()
        .await?;
    let received = start.elapsed().as_secs_f64();
    ensure!(
        resp.status() == reqwest::StatusCode::OK,
        "PUT: {}",
        resp.status()
    );
    let mut encoding = None;
    let mut pending = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        pending.extend_from_slice(&chunk);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let v: serde_json::Value =
                serde_json::from_slice(&line).context("a PUT progress line is not JSON")?;
            if v["phase"] == "encode" {
                encoding.get_or_insert_with(|| start.elapsed().as_secs_f64());
            } else if let Some(result) = v.get("result") {
                ensure!(result["newlyCreated"].is_object(), "PUT: {result}");
                let total = start.elapsed().as_secs_f64();
                return Ok(PutTiming {
                    received,
                    encoding: encoding.unwrap_or(total),
                    total,
                });
            } else if v.get("error").is_some() {
                bail!("PUT failed: {v}");
            }
        }
    }
    bail!("the PUT answer ended without a result line")
}

/// `VmHWM` and `VmRSS` of process `pid`, KiB.
fn memory_kib(pid: u32) -> Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .context("reading /proc/PID/status (Linux only)")?;
    let field = |name: &str| -> Result<u64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .with_context(|| format!("no {name} in /proc/{pid}/status"))
    };
    Ok((field("VmHWM:")?, field("VmRSS:")?))
}

/// One peak-memory run: a fresh gateway process, a `HEAD` (chain client, connections), then
/// the large `GET`; its memory before and after.
#[derive(Debug, Clone, Copy, Serialize)]
struct MemoryRun {
    /// glibc's mmap threshold was fixed at 128 KiB (`MALLOC_MMAP_THRESHOLD_`): every large
    /// buffer is then its own mapping, returned when freed, so the peak is the live bytes;
    /// otherwise glibc's defaults (freed buffers may stay resident in its arenas).
    fixed_mmap_threshold: bool,
    /// `VmHWM` after start-up and the `HEAD`, KiB.
    hwm_before_kib: u64,
    /// `VmHWM` after the `GET`, KiB.
    hwm_after_kib: u64,
    /// `VmRSS` after the `GET`, KiB.
    rss_after_kib: u64,
    /// The `GET`'s time, seconds (the first `GET` of the process: it opens the blob).
    get_secs: f64,
}

async fn memory_run(
    config_path: &Path,
    http: &reqwest::Client,
    id: &BlobId,
    len: usize,
    fixed_mmap_threshold: bool,
) -> Result<MemoryRun> {
    let exe = std::env::current_exe()?;
    let mut command = tokio::process::Command::new(exe);
    if fixed_mmap_threshold {
        command.env("MALLOC_MMAP_THRESHOLD_", "131072");
    } else {
        command.env_remove("MALLOC_MMAP_THRESHOLD_");
    }
    let mut child = command
        .arg("--serve-gateway")
        .arg(config_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("starting the gateway process")?;
    let pid = child.id().context("gateway process id")?;
    let stdout = child.stdout.take().context("gateway stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).await?;
    let base = line.trim().to_owned();
    ensure!(
        base.starts_with("http://"),
        "the gateway process printed {base:?}"
    );
    let url = blob_url(&base, id);
    let head = http.head(&url).send().await?;
    ensure!(
        head.status() == reqwest::StatusCode::OK,
        "HEAD: {}",
        head.status()
    );
    let (hwm_before_kib, _) = memory_kib(pid)?;
    let (t, _) = http_get(http, &url, len, false).await?;
    let (hwm_after_kib, rss_after_kib) = memory_kib(pid)?;
    drop(child.stdin.take());
    let status = child.wait().await?;
    ensure!(status.success(), "the gateway process ended with {status}");
    Ok(MemoryRun {
        fixed_mmap_threshold,
        hwm_before_kib,
        hwm_after_kib,
        rss_after_kib,
        get_secs: t.total,
    })
}

#[derive(Debug, Serialize)]
struct PutResult {
    size: usize,
    gateway_put_secs: Stat,
    /// Request sent → the gateway has read the body.
    gateway_put_received_secs: Stat,
    /// Request sent → the SDK's store begins encoding.
    gateway_put_encoding_secs: Stat,
    client_store_secs: Stat,
    /// `Client::store`'s own encode time.
    client_encode_secs: Stat,
}

#[derive(Debug, Serialize)]
struct Report {
    shards: u16,
    nodes: usize,
    runs: usize,
    get_size: usize,
    /// Bytes of one row of the large blob (a systematic primary sliver).
    row_len: u64,
    gateway_get_secs: Stat,
    gateway_headers_secs: Stat,
    gateway_first_byte_secs: Stat,
    client_read_secs: Stat,
    /// `Client::open_blob` + `BlobReader::stream` to nothing.
    client_stream_secs: Stat,
    readers: usize,
    reader_size: usize,
    gateway_concurrent_secs: Stat,
    client_concurrent_secs: Stat,
    puts: Vec<PutResult>,
    memory: Vec<MemoryRun>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(path) = &args.serve_gateway {
        return serve_gateway_child(path).await;
    }
    let get_size = parse_size(&args.get_size)?;
    let reader_size = parse_size(&args.reader_size)?;
    let put_sizes: Vec<usize> = args
        .put_sizes
        .iter()
        .map(|s| parse_size(s))
        .collect::<Result<_>>()?;
    let runs = args.runs.max(1);
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
    let gateway = Gateway::start(devnet.publisher_config()).await?;
    let http = reqwest::Client::new();
    let mut seed: u64 = rand::random();
    let mut fresh = |len: usize| {
        seed = seed.wrapping_add(1);
        test_bytes(len, seed)
    };

    // The blobs read: one large, and one per concurrent reader.
    eprintln!("storing the blobs to read ...");
    let big = fresh(get_size);
    let big_id = client.store(big.clone(), &store_opts).await?.blob_id;
    let row_len = client.open_blob(&big_id).await?.row_len();
    let mut small = Vec::with_capacity(args.readers);
    for _ in 0..args.readers {
        let data = fresh(reader_size);
        let id = client.store(data.clone(), &store_opts).await?.blob_id;
        small.push((id, data));
    }

    // Warm-up: one read of every blob each way, checked byte for byte.
    eprintln!("warm-up reads ...");
    let big_url = blob_url(&gateway.url, &big_id);
    ensure!(
        http_get(&http, &big_url, get_size, true).await?.1 == big,
        "the gateway served other bytes"
    );
    ensure!(
        client.read(&big_id).await? == big,
        "Client::read returned other bytes"
    );
    for (id, data) in &small {
        let url = blob_url(&gateway.url, id);
        ensure!(
            http_get(&http, &url, reader_size, true).await?.1 == *data,
            "the gateway served other bytes"
        );
        ensure!(
            client.read(id).await? == *data,
            "Client::read returned other bytes"
        );
    }

    // 1, 2: the large GET against Client::read and against the SDK's own stream (what the
    // gateway serves from), rotating which goes first.
    let (mut gw_get, mut gw_headers, mut gw_first, mut sdk_read, mut sdk_stream) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        eprintln!("{} GET / read: run {}/{runs}", human(get_size), run + 1);
        for step in 0..3 {
            match (run + step) % 3 {
                0 => {
                    let (t, _) = http_get(&http, &big_url, get_size, false).await?;
                    gw_get.push(t.total);
                    gw_headers.push(t.headers);
                    gw_first.push(t.first_byte);
                }
                1 => {
                    let start = Instant::now();
                    let back = client.read(&big_id).await?;
                    sdk_read.push(start.elapsed().as_secs_f64());
                    ensure!(back.len() == get_size, "Client::read: {} bytes", back.len());
                }
                _ => {
                    let start = Instant::now();
                    let mut stream = Box::pin(client.open_blob(&big_id).await?.stream());
                    let mut got = 0;
                    while let Some(chunk) = stream.next().await {
                        got += chunk?.len();
                    }
                    sdk_stream.push(start.elapsed().as_secs_f64());
                    ensure!(got == get_size, "BlobReader::stream: {got} bytes");
                }
            }
        }
    }

    // 3: concurrent readers of different blobs.
    let (mut gw_conc, mut sdk_conc) = (Vec::new(), Vec::new());
    for run in 0..runs {
        eprintln!(
            "{} concurrent readers of {}: run {}/{runs}",
            args.readers,
            human(reader_size),
            run + 1
        );
        for step in 0..2 {
            let start = Instant::now();
            if (run + step) % 2 == 0 {
                let gets = small.iter().map(|(id, _)| {
                    let url = blob_url(&gateway.url, id);
                    let http = &http;
                    async move { http_get(http, &url, reader_size, false).await }
                });
                for r in join_all(gets).await {
                    r?;
                }
                gw_conc.push(start.elapsed().as_secs_f64());
            } else {
                for r in join_all(small.iter().map(|(id, _)| client.read(id))).await {
                    ensure!(r?.len() == reader_size, "Client::read: short blob");
                }
                sdk_conc.push(start.elapsed().as_secs_f64());
            }
        }
    }

    // 4: PUT against Client::store, fresh bytes every time.
    let mut puts = Vec::new();
    for &size in &put_sizes {
        let (mut gw_put, mut gw_received, mut gw_encoding) = (Vec::new(), Vec::new(), Vec::new());
        let (mut sdk_store, mut sdk_encode) = (Vec::new(), Vec::new());
        for run in 0..runs {
            eprintln!("{} PUT / store: run {}/{runs}", human(size), run + 1);
            for step in 0..2 {
                let data = fresh(size);
                if (run + step) % 2 == 0 {
                    let t = http_put(&http, &gateway.url, data).await?;
                    gw_put.push(t.total);
                    gw_received.push(t.received);
                    gw_encoding.push(t.encoding);
                } else {
                    let start = Instant::now();
                    let stored = client.store(data, &store_opts).await?;
                    sdk_store.push(start.elapsed().as_secs_f64());
                    sdk_encode.push(stored.timings.encode_secs);
                    if stored.outcome != StoreOutcome::NewlyCertified {
                        bail!("store of {}: outcome {:?}", human(size), stored.outcome);
                    }
                }
            }
        }
        puts.push(PutResult {
            size,
            gateway_put_secs: Stat::of(gw_put),
            gateway_put_received_secs: Stat::of(gw_received),
            gateway_put_encoding_secs: Stat::of(gw_encoding),
            client_store_secs: Stat::of(sdk_store),
            client_encode_secs: Stat::of(sdk_encode),
        });
    }
    gateway.shutdown().await;

    // 5: peak memory of a gateway process serving the large GET.
    let mut memory = Vec::new();
    if !args.no_memory {
        let path = std::env::temp_dir().join(format!(
            "floe-gateway-bench-{}-client.toml",
            std::process::id()
        ));
        devnet.publisher_config().save(&path)?;
        for run in 0..runs {
            eprintln!("gateway process memory: run {}/{runs}", run + 1);
            for fixed in [false, true] {
                match memory_run(&path, &http, &big_id, get_size, fixed).await {
                    Ok(m) => memory.push(m),
                    Err(e) => {
                        let _ = std::fs::remove_file(&path);
                        return Err(e);
                    }
                }
            }
        }
        let _ = std::fs::remove_file(&path);
    }
    drop(devnet);

    let report = Report {
        shards: args.shards,
        nodes: args.nodes,
        runs,
        get_size,
        row_len,
        gateway_get_secs: Stat::of(gw_get),
        gateway_headers_secs: Stat::of(gw_headers),
        gateway_first_byte_secs: Stat::of(gw_first),
        client_read_secs: Stat::of(sdk_read),
        client_stream_secs: Stat::of(sdk_stream),
        readers: args.readers,
        reader_size,
        gateway_concurrent_secs: Stat::of(gw_conc),
        client_concurrent_secs: Stat::of(sdk_conc),
        puts,
        memory,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_tables(&report);
    }
    Ok(())
}

/// `MiB/s` of `bytes` moved in the median, min and max of `secs` (fastest first).
fn rate(bytes: usize, secs: &Stat) -> String {
    let r = |s: f64| mib(bytes) / s;
    format!(
        "{:.1} MiB/s ({:.1}–{:.1})",
        r(secs.median),
        r(secs.max),
        r(secs.min)
    )
}

fn ms(s: &Stat) -> String {
    format!(
        "{:.0} ms ({:.0}–{:.0})",
        s.median * 1e3,
        s.min * 1e3,
        s.max * 1e3
    )
}

fn print_tables(r: &Report) {
    println!(
        "floe gateway vs SDK, {} nodes, n = {} shards: median of {} runs (min–max)",
        r.nodes, r.shards, r.runs
    );
    println!();
    println!("| measurement | gateway | SDK | gateway / SDK |");
    println!("| --- | ---: | ---: | ---: |");
    let ratio = |gw: &Stat, sdk: &Stat| sdk.median / gw.median;
    println!(
        "| GET {} vs `Client::read` | {} | {} | {:.2}× |",
        human(r.get_size),
        rate(r.get_size, &r.gateway_get_secs),
        rate(r.get_size, &r.client_read_secs),
        ratio(&r.gateway_get_secs, &r.client_read_secs)
    );
    println!(
        "| GET {} vs `open_blob` + `BlobReader::stream` | {} | {} | {:.2}× |",
        human(r.get_size),
        rate(r.get_size, &r.gateway_get_secs),
        rate(r.get_size, &r.client_stream_secs),
        ratio(&r.gateway_get_secs, &r.client_stream_secs)
    );
    let total = r.readers * r.reader_size;
    println!(
        "| {} concurrent GETs of {} vs {} `Client::read`s (aggregate) | {} | {} | {:.2}× |",
        r.readers,
        human(r.reader_size),
        r.readers,
        rate(total, &r.gateway_concurrent_secs),
        rate(total, &r.client_concurrent_secs),
        ratio(&r.gateway_concurrent_secs, &r.client_concurrent_secs)
    );
    for p in &r.puts {
        println!(
            "| PUT {} vs `Client::store` | {} | {} | {:.2}× |",
            human(p.size),
            rate(p.size, &p.gateway_put_secs),
            rate(p.size, &p.client_store_secs),
            ratio(&p.gateway_put_secs, &p.client_store_secs)
        );
    }
    println!();
    println!("Where a gateway PUT's time goes (request sent → ...):");
    println!();
    println!(
        "| size | body read by the gateway | store begins encoding | whole PUT | `Client::store` | its encode |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for p in &r.puts {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            human(p.size),
            ms(&p.gateway_put_received_secs),
            ms(&p.gateway_put_encoding_secs),
            ms(&p.gateway_put_secs),
            ms(&p.client_store_secs),
            ms(&p.client_encode_secs)
        );
    }
    println!();
    println!("GET {} through the gateway:", human(r.get_size));
    println!();
    println!("| headers | first body byte | whole GET |");
    println!("| ---: | ---: | ---: |");
    println!(
        "| {} | {} | {} |",
        ms(&r.gateway_headers_secs),
        ms(&r.gateway_first_byte_secs),
        ms(&r.gateway_get_secs)
    );
    if !r.memory.is_empty() {
        println!();
        println!(
            "Gateway process serving GET {} (a fresh process per run; a row is {:.2} MiB):",
            human(r.get_size),
            r.row_len as f64 / (1 << 20) as f64
        );
        println!();
        println!(
            "| malloc | VmHWM before | VmHWM after | peak growth | in rows | VmRSS after | GET |"
        );
        println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        for m in &r.memory {
            let growth = m.hwm_after_kib.saturating_sub(m.hwm_before_kib);
            println!(
                "| {} | {:.1} MiB | {:.1} MiB | {:.1} MiB | {:.1} | {:.1} MiB | {:.2} s |",
                if m.fixed_mmap_threshold {
                    "mmap threshold 128 KiB"
                } else {
                    "glibc default"
                },
                m.hwm_before_kib as f64 / 1024.0,
                m.hwm_after_kib as f64 / 1024.0,
                growth as f64 / 1024.0,
                (growth * 1024) as f64 / r.row_len.max(1) as f64,
                m.rss_after_kib as f64 / 1024.0,
                m.get_secs
            );
        }
    }
}
