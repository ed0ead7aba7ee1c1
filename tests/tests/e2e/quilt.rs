//! Quilts on a live devnet: refusals before anything is paid (WAL and nonce unchanged), a quilt
//! of one file, a quilt of 600 small files in nested directories with unicode names stored with
//! one registration, listed, read back byte for byte through the SDK and an in-process gateway,
//! and one file read from a few rows rather than the whole quilt.
//!
//! The ignored `quilt_vs_separate_blobs` measures a quilt against separate blobs (release
//! build; see its doc for the command line).

use std::time::{Duration, Instant};

use alloy::providers::Provider;
use anyhow::{Context, Result, ensure};
use floe_client::{
    Client, ClientError, QuiltFile, StoreOptions, StoreOutcome, client::Transaction,
};
use floe_core::{ids::BlobId, manifest::KIND_ATTRIBUTE, quilt::KIND_QUILT};
use floe_gateway::{GatewayConfig, SdkBackend};
use floe_tests::{start_devnet, test_bytes};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

/// A gateway served in this process until shut down.
struct Gateway {
    url: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Gateway {
    async fn start(client: Client) -> Result<Self> {
        let backend = SdkBackend::new(client).map_err(|e| anyhow::anyhow!(e.message))?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        let config = GatewayConfig {
            open: true,
            ..GatewayConfig::default()
        };
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            if let Err(e) = floe_gateway::serve(listener, backend, config, shutdown).await {
                tracing::error!("gateway: {e}");
            }
        });
        Ok(Self {
            url,
            stop: Some(stop),
            task: Some(task),
        })
    }

    async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Percent-encodes a file identifier for a URL path, keeping its `/`s.
fn url_path(identifier: &str) -> String {
    identifier
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `count` files of 1..=10 KiB in nested directories, some with unicode names.
fn many_files(count: usize) -> Vec<QuiltFile> {
    (0..count)
        .map(|i| {
            let len = 1024 + (i * 7919) % (9 * 1024 + 1);
            let identifier = match i % 4 {
                0 => format!("assets/img/{i:04}.bin"),
                1 => format!("données/été/fichier-{i}.txt"),
                2 => format!("日本/ファイル{i}.md"),
                _ => format!("a/b/c/d/{i}.json"),
            };
            QuiltFile::new(identifier, test_bytes(len, i as u64 + 1000))
        })
        .collect()
}

async fn nonce(client: &Client) -> Result<u64> {
    Ok(client
        .chain()
        .provider()
        .get_transaction_count(client.address())
        .await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quilts_store_list_and_read_file_by_file() -> Result<()> {
    let devnet = start_devnet(4).await?;
    let client = devnet.client().await?;
    let opts = StoreOptions {
        epochs: 2,
        ..Default::default()
    };

    // Refusals: each a clear error, nothing paid, no transaction sent.
    let wal = client.wal_balance().await?;
    let txs = nonce(&client).await?;
    let max = client.max_blob_size().await?;
    let half = usize::try_from(max / 2 + 1)?;
    let refusals: Vec<(Vec<QuiltFile>, &str)> = vec![
        (
            vec![QuiltFile::new("a.txt", "1"), QuiltFile::new("a.txt", "2")],
            "duplicate identifier",
        ),
        (vec![], "at least one file"),
        (
            vec![QuiltFile::new("bad\u{1}name", "x")],
            "control character",
        ),
        (
            // Zeroed vectors: the size check comes before any byte is touched.
            vec![
                QuiltFile::new("big/1", vec![0u8; half]),
                QuiltFile::new("big/2", vec![0u8; half]),
            ],
            "split the files into several quilts",
        ),
    ];
    for (files, says) in refusals {
        match client.store_quilt(files, &opts).await {
            Err(e @ ClientError::QuiltBuild(_)) => {
                ensure!(e.to_string().contains(says), "{e} (expected {says:?})");
                ensure!(e.class() == floe_client::ErrorClass::BadRequest, "{e}");
            }
            other => anyhow::bail!("expected a QuiltBuild refusal ({says}), got {other:?}"),
        }
    }
    ensure!(client.wal_balance().await? == wal, "a refusal paid");
    ensure!(nonce(&client).await? == txs, "a refusal sent a transaction");

    // A quilt of one file.
    let one = client
        .store_quilt(vec![QuiltFile::new("only.txt", "the only file")], &opts)
        .await?;
    ensure!(
        one.files == 1 && one.outcome == StoreOutcome::NewlyCertified,
        "{one:?}"
    );
    ensure!(client.wal_balance().await? < wal, "a stored quilt is paid");
    let read = client.read_quilt_file(&one.quilt_id, "only.txt").await?;
    ensure!(read.bytes == b"the only file", "one file read back");
    let attrs = client.chain().attributes(one.registration_id).await?;
    ensure!(
        attrs
            .iter()
            .any(|(k, v)| k == KIND_ATTRIBUTE && v == KIND_QUILT),
        "floe-kind=quilt set: {attrs:?}"
    );
    match client.read_quilt_file(&one.quilt_id, "other.txt").await {
        Err(e @ ClientError::QuiltFileUnknown { .. }) => {
            ensure!(e.to_string().contains("floe list-quilt"), "{e}")
        }
        other => anyhow::bail!("expected QuiltFileUnknown, got {other:?}"),
    }

    // 600 files, one registration.
    let files = many_files(600);
    let before = client.wal_balance().await?;
    let stored = client.store_quilt(files.clone(), &opts).await?;
    let actions: Vec<&str> = stored.transactions.iter().map(|t| t.action).collect();
    ensure!(
        actions.iter().filter(|a| **a == "register").count() == 1,
        "one registration: {actions:?}"
    );
    ensure!(stored.files == 600, "{stored:?}");
    ensure!(
        before - client.wal_balance().await? == stored.paid,
        "paid once"
    );

    // Listing: every file with its size and hash.
    let index = client.quilt_index(&stored.quilt_id).await?;
    ensure!(index.len() == 600, "{} files listed", index.len());
    for f in &files {
        let e = index.get(&f.identifier).context("listed")?;
        ensure!(e.len() == f.bytes.len() as u64, "{}", f.identifier);
        e.verify(&f.bytes)?;
    }

    // Several files byte for byte through the SDK, each fetching a few rows only.
    let quilt = client.open_quilt(&stored.quilt_id).await?;
    let row = quilt.blob().row_len();
    let total_rows = quilt.total_rows();
    for i in [0usize, 1, 2, 3, 299, 598, 599] {
        let f = &files[i];
        let got = quilt.read_file(&f.identifier).await?;
        ensure!(got.bytes == f.bytes, "{}: bytes differ", f.identifier);
        let fetched_rows = quilt.index_rows() + got.rows_fetched;
        let fetched = fetched_rows * row;
        ensure!(
            fetched_rows <= 4 && fetched_rows < total_rows && fetched < stored.size,
            "{}: {fetched_rows} of {total_rows} rows ({fetched} of {} bytes)",
            f.identifier,
            stored.size
        );
    }
    ensure!(
        quilt.index_rows() == 1,
        "the index of 600 files fits row 0 ({row} bytes)"
    );

    // Through the gateway.
    let gw = Gateway::start(devnet.publisher_client().await?).await?;
    let http = reqwest::Client::new();
    let list: Value = http
        .get(format!("{}/v1/quilts/{}/files", gw.url, stored.quilt_id))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    ensure!(
        list["files"].as_array().map(Vec::len) == Some(600),
        "gateway lists 600 files"
    );
    for i in [1usize, 2, 3, 400] {
        let f = &files[i];
        let url = format!(
            "{}/v1/quilts/{}/files/{}",
            gw.url,
            stored.quilt_id,
            url_path(&f.identifier)
        );
        let resp = http.get(&url).send().await?;
        ensure!(resp.status() == StatusCode::OK, "{url}: {}", resp.status());
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let want = index
            .get(&f.identifier)
            .context("entry")?
            .content_type()
            .to_owned();
        ensure!(ct == want, "{url}: content type {ct}, expected {want}");
        let body = resp.bytes().await?;
        ensure!(body.as_ref() == f.bytes.as_slice(), "{url}: bytes differ");
        // A range of the file.
        let part = http
            .get(&url)
            .header("range", "bytes=100-199")
            .send()
            .await?;
        ensure!(part.status() == StatusCode::PARTIAL_CONTENT, "{url} range");
        ensure!(
            part.bytes().await?.as_ref() == &f.bytes[100..200],
            "{url} range bytes"
        );
    }
    let missing = http
        .get(format!(
            "{}/v1/quilts/{}/files/nope",
            gw.url, stored.quilt_id
        ))
        .send()
        .await?;
    ensure!(missing.status() == StatusCode::NOT_FOUND, "unknown file");
    let not_quilt = client.store(test_bytes(5000, 9), &opts).await?;
    let resp = http
        .get(format!("{}/v1/quilts/{}/files", gw.url, not_quilt.blob_id))
        .send()
        .await?;
    ensure!(
        resp.status() == StatusCode::BAD_REQUEST,
        "a plain blob: {}",
        resp.status()
    );
    gw.shutdown().await;
    Ok(())
}

/// The gas of `txs` from their receipts.
async fn gas_of(client: &Client, txs: &[Transaction]) -> Result<u64> {
    let mut gas = 0u64;
    for tx in txs {
        let receipt = client
            .chain()
            .provider()
            .get_transaction_receipt(tx.hash)
            .await?
            .context("receipt")?;
        gas += receipt.gas_used;
    }
    Ok(gas)
}

/// Median of durations.
fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// 600 files of 10 KiB as one quilt vs as 600 blobs: WAL paid, gas (from receipts), wall time,
/// and the time to read one file back. Run with
/// `cargo build --release --workspace --bins && cargo test --release -p floe-tests --test e2e quilt_vs_separate_blobs -- --ignored --nocapture`
/// (`FLOE_QUILT_BENCH_FILES` changes the count).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: minutes of stores"]
async fn quilt_vs_separate_blobs() -> Result<()> {
    let count: usize = std::env::var("FLOE_QUILT_BENCH_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    let devnet = start_devnet(4).await?;
    let client = devnet.client().await?;
    let opts = StoreOptions::default();
    let files: Vec<QuiltFile> = (0..count)
        .map(|i| QuiltFile::new(format!("f/{i:04}.bin"), test_bytes(10 * 1024, i as u64 + 7)))
        .collect();

    let wal = client.wal_balance().await?;
    let t = Instant::now();
    let stored = client.store_quilt(files.clone(), &opts).await?;
    let quilt_secs = t.elapsed();
    let quilt_paid = wal - client.wal_balance().await?;
    let quilt_gas = gas_of(&client, &stored.transactions).await?;
    let quilt_txs = stored.transactions.len();

    let wal = client.wal_balance().await?;
    let t = Instant::now();
    let mut ids: Vec<BlobId> = Vec::with_capacity(count);
    let mut blob_gas = 0u64;
    let mut blob_txs = 0usize;
    for f in &files {
        let s = client.store(f.bytes.clone(), &opts).await?;
        blob_gas += gas_of(&client, &s.transactions).await?;
        blob_txs += s.transactions.len();
        ids.push(s.blob_id);
    }
    let blobs_secs = t.elapsed();
    let blobs_paid = wal - client.wal_balance().await?;

    // Reading one file: open + index + file (a fresh reader each time, as a CLI call does)
    // vs open + read of one blob.
    let mut quilt_reads = Vec::new();
    let mut blob_reads = Vec::new();
    for i in [0usize, count / 3, count / 2, count - 1, 7] {
        let t = Instant::now();
        let got = client
            .read_quilt_file(&stored.quilt_id, &files[i].identifier)
            .await?;
        quilt_reads.push(t.elapsed());
        ensure!(got.bytes == files[i].bytes, "quilt read");
        let t = Instant::now();
        let got = client.read(&ids[i]).await?;
        blob_reads.push(t.elapsed());
        ensure!(got == files[i].bytes, "blob read");
    }
    println!("files: {count} x 10 KiB");
    println!(
        "quilt: {} bytes, paid {quilt_paid} FROST, gas {quilt_gas} over {quilt_txs} txs, store {:.2} s",
        stored.size,
        quilt_secs.as_secs_f64()
    );
    println!(
        "blobs: paid {blobs_paid} FROST, gas {blob_gas} over {blob_txs} txs, store {:.2} s",
        blobs_secs.as_secs_f64()
    );
    println!(
        "read one file: quilt median {:.1} ms, blob median {:.1} ms",
        median(quilt_reads).as_secs_f64() * 1e3,
        median(blob_reads).as_secs_f64() * 1e3
    );
    Ok(())
}

/// Runs `floe ARGS` against the devnet's config and returns its output.
async fn floe(config: &std::path::Path, args: &[&str]) -> Result<std::process::Output> {
    tokio::process::Command::new(floe_tests::workspace_binary("floe")?)
        .args(args)
        .env("FLOE_CONFIG", config)
        .env("NO_COLOR", "1")
        .output()
        .await
        .with_context(|| format!("running floe {args:?}"))
}

fn succeeded(out: &std::process::Output) -> Result<&[u8]> {
    ensure!(
        out.status.success(),
        "floe failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(&out.stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_stores_lists_and_reads_a_quilt_of_a_directory() -> Result<()> {
    let devnet = start_devnet(4).await?;
    let config = devnet.dir().join("client.toml");
    let site = devnet.dir().join("quilt-site");
    std::fs::create_dir_all(site.join("css/deep"))?;
    std::fs::write(site.join("index.html"), "<h1>quilt</h1>")?;
    std::fs::write(site.join("css/deep/a.css"), "h1{}")?;
    std::fs::write(site.join("été.txt"), "soleil")?;
    let logo = test_bytes(20_000, 3);
    std::fs::write(site.join("logo.bin"), &logo)?;
    let site_arg = site.to_str().context("path")?;

    // A tag naming no file is refused before anything is paid.
    let client = devnet.client().await?;
    let wal = client.wal_balance().await?;
    let out = floe(&config, &["store-quilt", site_arg, "--tag", "nope.txt:k=v"]).await?;
    ensure!(!out.status.success(), "a tag on no file is refused");
    let err = String::from_utf8_lossy(&out.stderr);
    ensure!(err.contains("nope.txt"), "{err}");
    ensure!(client.wal_balance().await? == wal, "nothing paid");

    let out = floe(
        &config,
        &[
            "store-quilt",
            site_arg,
            "--epochs",
            "2",
            "--tag",
            "logo.bin:content-type=image/png",
            "--json",
        ],
    )
    .await?;
    let stored: Value = serde_json::from_slice(succeeded(&out)?)?;
    ensure!(stored["files"] == 4, "{stored}");
    let quilt_id = stored["quilt_id"].as_str().context("quilt_id")?.to_owned();

    let out = floe(&config, &["list-quilt", &quilt_id, "--json"]).await?;
    let list: Value = serde_json::from_slice(succeeded(&out)?)?;
    let names: Vec<&str> = list
        .as_array()
        .context("list")?
        .iter()
        .filter_map(|f| f["identifier"].as_str())
        .collect();
    ensure!(
        names == ["css/deep/a.css", "index.html", "logo.bin", "été.txt"],
        "{names:?}"
    );
    ensure!(list[2]["content_type"] == "image/png", "{list}");
    ensure!(list[2]["size"] == 20_000, "{list}");

    let dest = devnet.dir().join("logo.out");
    let out = floe(
        &config,
        &[
            "read-quilt",
            &quilt_id,
            "logo.bin",
            "-o",
            dest.to_str().context("path")?,
        ],
    )
    .await?;
    succeeded(&out)?;
    ensure!(
        std::fs::read(&dest)? == logo,
        "logo read back byte for byte"
    );
    let out = floe(&config, &["read-quilt", &quilt_id, "été.txt"]).await?;
    ensure!(
        succeeded(&out)? == "soleil".as_bytes(),
        "unicode name read to stdout"
    );
    let out = floe(&config, &["read-quilt", &quilt_id, "missing"]).await?;
    ensure!(!out.status.success(), "an unknown file fails");
    let err = String::from_utf8_lossy(&out.stderr);
    ensure!(err.contains("list-quilt"), "{err}");
    Ok(())
}
