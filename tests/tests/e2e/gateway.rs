//! The gateway against a live devnet, driven like curl: store through the publisher, read back
//! through the aggregator byte for byte, ranges, 304, HEAD, owner transfer and attributes
//! on-chain, every error status; and the explorer page in Chromium.

use std::{net::SocketAddr, time::Duration};

use alloy::primitives::Address;
use anyhow::{Context, Result, bail, ensure};
use floe_chain::RegistrationState;
use floe_client::{ClientConfig, StoreOptions};
use floe_core::{encoding::EncodingConfig, ids::BlobId};
use floe_devnet::Devnet;
use floe_gateway::{GatewayConfig, JwtConfig, SdkBackend, token::mint_hs256};
use floe_tests::{start_devnet, test_bytes};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

const SECRET: &str = "floe-e2e-gateway-secret-of-32-bytes!";

/// A gateway served in this process until dropped.
struct Gateway {
    url: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Gateway {
    async fn start(client_config: ClientConfig, config: GatewayConfig) -> Result<Self> {
        let client = floe_client::Client::new(client_config).await?;
        let backend = SdkBackend::new(client).map_err(|e| anyhow::anyhow!(e.message))?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
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

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
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

fn token(claims: Value) -> String {
    mint_hs256(SECRET, &claims)
}

fn in_an_hour() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        + 3600
}

/// Asserts a JSON error answer.
async fn expect_error(resp: reqwest::Response, status: StatusCode, code: &str) -> Result<Value> {
    let got = resp.status();
    let ct = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body: Value = resp.json().await.context("error body is JSON")?;
    ensure!(got == status, "status {got}, expected {status}: {body}");
    ensure!(ct.starts_with("application/json"), "content type {ct}");
    ensure!(
        body["code"] == code,
        "code {}, expected {code}",
        body["code"]
    );
    ensure!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "no message: {body}"
    );
    Ok(body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_publishes_and_aggregates() -> Result<()> {
    let mut devnet = start_devnet(4).await?;
    let client = devnet.client().await?;
    let user = client.address();
    let gw = Gateway::start(
        devnet.publisher_config(),
        GatewayConfig {
            open: false,
            jwt: JwtConfig {
                hs256_secrets: vec![SECRET.to_owned()],
                ..JwtConfig::default()
            },
            max_body_bytes: 4 << 20,
            ..GatewayConfig::default()
        },
    )
    .await?;
    let http = reqwest::Client::new();
    let good = token(json!({"exp": in_an_hour(), "sub": "e2e"}));

    // Writes: no token, a token signed by another key, a body over the limit.
    let data = test_bytes(1_500_000, 81);
    let put = |query: &str| http.put(gw.url(&format!("/v1/blobs{query}")));
    // Refusals come before the body is read (and the connection is closed after them): small
    // bodies here, so the client has sent all of it when the answer comes.
    let small = test_bytes(1000, 80);
    expect_error(
        put("?epochs=2").body(small.clone()).send().await?,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await?;
    let forged = mint_hs256(
        "some-other-secret-of-at-least-32-bytes",
        &json!({"exp": in_an_hour()}),
    );
    expect_error(
        put("?epochs=2")
            .bearer_auth(&forged)
            .body(small.clone())
            .send()
            .await?,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await?;
    // Over the body limit: the answer comes on the headers alone, no byte of the body sent.
    let (status, body) = raw_put_headers(&gw, "/v1/blobs?epochs=2", &good, 5 << 20).await?;
    ensure!(status == 413, "status {status}: {body}");
    let body: Value = serde_json::from_str(&body)?;
    ensure!(body["code"] == "payload_too_large", "{body}");
    let capped = token(json!({"exp": in_an_hour(), "max_epochs": 1}));
    expect_error(
        put("?epochs=3")
            .bearer_auth(&capped)
            .body(small.clone())
            .send()
            .await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    expect_error(
        put("?epochs=zero")
            .bearer_auth(&good)
            .body(small.clone())
            .send()
            .await?,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await?;

    // Store for `user`, with attributes: the publisher pays, the user owns it.
    let attributes = json!({
        "content-type": "text/plain; charset=utf-8",
        "content-disposition": "attachment; filename=\"notes.txt\"",
    })
    .to_string();
    let query = format!("?epochs=3&owner={user}&attributes={}", percent(&attributes));
    let resp = put(&query)
        .bearer_auth(&good)
        .body(data.clone())
        .send()
        .await?;
    ensure!(resp.status() == StatusCode::OK, "PUT: {}", resp.status());
    let stored: Value = resp.json().await?;
    let created = &stored["newlyCreated"];
    ensure!(created.is_object(), "expected newlyCreated: {stored}");
    let object = &created["blobObject"];
    let blob_id: BlobId = object["blobId"].as_str().context("blobId")?.parse()?;
    let registration = object["registrationId"]
        .as_u64()
        .context("registrationId")?;
    ensure!(
        object["owner"].as_str().map(str::to_lowercase) == Some(user.to_string().to_lowercase()),
        "owner {}",
        object["owner"]
    );
    ensure!(created["costFrost"].as_str().is_some_and(|c| c != "0"));
    let actions: Vec<&str> = created["transactions"]
        .as_array()
        .context("transactions")?
        .iter()
        .filter_map(|t| t["action"].as_str())
        .collect();
    ensure!(
        actions.ends_with(&["certify", "set_attribute", "set_attribute", "transfer"]),
        "{actions:?}"
    );
    // On-chain: certified, owned by the user, with the attributes.
    let record = client.chain().registration(registration).await?;
    ensure!(record.state == RegistrationState::Certified);
    ensure!(record.owner == user, "on-chain owner {}", record.owner);
    let mut attrs = client.chain().attributes(registration).await?;
    attrs.sort();
    ensure!(
        attrs
            == vec![
                (
                    "content-disposition".to_owned(),
                    "attachment; filename=\"notes.txt\"".to_owned()
                ),
                (
                    "content-type".to_owned(),
                    "text/plain; charset=utf-8".to_owned()
                )
            ],
        "{attrs:?}"
    );
    // Storing it again for the same owner pays nothing.
    let again: Value = put(&query)
        .bearer_auth(&good)
        .body(data.clone())
        .send()
        .await?
        .json()
        .await?;
    ensure!(
        again["alreadyCertified"]["blobObject"]["registrationId"] == registration,
        "{again}"
    );

    // Reads: whole, byte for byte, with the headers from the attributes.
    let blob_url = gw.url(&format!("/v1/blobs/{blob_id}"));
    let resp = http.get(&blob_url).send().await?;
    ensure!(resp.status() == StatusCode::OK);
    let h = resp.headers().clone();
    let etag = format!("\"{blob_id}\"");
    ensure!(h[header::ETAG] == etag.as_str(), "{:?}", h[header::ETAG]);
    ensure!(h[header::CONTENT_TYPE] == "text/plain; charset=utf-8");
    ensure!(h[header::CONTENT_DISPOSITION] == "attachment; filename=\"notes.txt\"");
    ensure!(h["x-content-type-options"] == "nosniff");
    let cache = h[header::CACHE_CONTROL].to_str()?;
    ensure!(
        cache.starts_with("public, max-age=") && cache.ends_with(", immutable"),
        "{cache}"
    );
    ensure!(
        resp.bytes().await?.as_ref() == data.as_slice(),
        "GET bytes differ"
    );

    // HEAD: the headers alone. If-None-Match: 304.
    let resp = http.head(&blob_url).send().await?;
    ensure!(resp.status() == StatusCode::OK);
    ensure!(resp.headers()[header::CONTENT_LENGTH] == data.len().to_string().as_str());
    ensure!(resp.bytes().await?.is_empty());
    let resp = http
        .get(&blob_url)
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await?;
    ensure!(
        resp.status() == StatusCode::NOT_MODIFIED,
        "{}",
        resp.status()
    );

    // Ranges: start, middle, end, across a sliver (row) boundary, open-ended and suffix.
    let len = data.len() as u64;
    let cfg = EncodingConfig::new(100)?;
    let row = u64::from(cfg.primary_len()) * u64::from(cfg.symbol_size(len)?);
    ensure!(len > 3 * row, "the blob spans several rows");
    for (spec, start, end) in [
        ("bytes=0-99".to_owned(), 0, 100),
        (
            format!("bytes={}-{}", len / 2, len / 2 + 999),
            len / 2,
            len / 2 + 1000,
        ),
        (format!("bytes={}-{}", len - 10, len - 1), len - 10, len),
        (format!("bytes={}-{}", row - 5, row + 4), row - 5, row + 5),
        (
            format!("bytes={}-{}", 2 * row - 1, 2 * row),
            2 * row - 1,
            2 * row + 1,
        ),
        (format!("bytes={}-", len - 300), len - 300, len),
        ("bytes=-77".to_owned(), len - 77, len),
    ] {
        let resp = http
            .get(&blob_url)
            .header(header::RANGE, &spec)
            .send()
            .await?;
        ensure!(
            resp.status() == StatusCode::PARTIAL_CONTENT,
            "{spec}: {}",
            resp.status()
        );
        let cr = resp.headers()[header::CONTENT_RANGE].to_str()?.to_owned();
        ensure!(
            cr == format!("bytes {start}-{}/{len}", end - 1),
            "{spec}: {cr}"
        );
        let body = resp.bytes().await?;
        ensure!(
            body.as_ref() == &data[start as usize..end as usize],
            "{spec}: wrong bytes"
        );
    }
    let resp = http
        .get(&blob_url)
        .header(header::RANGE, format!("bytes={len}-"))
        .send()
        .await?;
    ensure!(resp.headers()[header::CONTENT_RANGE] == format!("bytes */{len}").as_str());
    expect_error(
        resp,
        StatusCode::RANGE_NOT_SATISFIABLE,
        "range_not_satisfiable",
    )
    .await?;

    // Errors: a malformed id, an unknown one, a deleted blob.
    expect_error(
        http.get(gw.url("/v1/blobs/not-a-blob-id")).send().await?,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await?;
    expect_error(
        http.get(gw.url(&format!("/v1/blobs/{}", BlobId([0x5a; 32]))))
            .send()
            .await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    let doomed = client
        .store(
            test_bytes(10_000, 82),
            &StoreOptions {
                deletable: true,
                ..Default::default()
            },
        )
        .await?;
    client.delete(&doomed.blob_id, None).await?;
    expect_error(
        http.get(gw.url(&format!("/v1/blobs/{}", doomed.blob_id)))
            .send()
            .await?,
        StatusCode::GONE,
        "gone",
    )
    .await?;

    // The explorer's JSON knows the registration, its owner, attributes and transactions.
    let info: Value = http
        .get(gw.url(&format!("/v1/blobs/{blob_id}/info")))
        .send()
        .await?
        .json()
        .await?;
    ensure!(info["state"] == "certified", "{info}");
    let regs = info["registrations"].as_array().context("registrations")?;
    ensure!(regs.len() == 1 && regs[0]["registrationId"] == registration);
    ensure!(regs[0]["attributes"]["content-type"] == "text/plain; charset=utf-8");
    ensure!(
        regs[0]["certifyTx"]
            .as_str()
            .is_some_and(|t| t.starts_with("0x"))
    );
    let openapi: Value = http
        .get(gw.url("/openapi.json"))
        .send()
        .await?
        .json()
        .await?;
    ensure!(
        openapi["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    ensure!(openapi["paths"]["/v1/blobs/{id}"]["get"].is_object());

    // The metrics saw the bytes served and the errors answered.
    let metrics = http.get(gw.url("/metrics")).send().await?.text().await?;
    let served: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("floe_gateway_bytes_served_total "))
        .context("bytes served metric")?
        .trim()
        .parse()?;
    ensure!(
        served >= len,
        "served {served} bytes, at least {len} expected"
    );
    ensure!(
        metrics.contains("floe_gateway_errors_total{code=\"unauthorized\"} 2"),
        "{metrics}"
    );

    // Too few nodes answer: 503 with Retry-After, never a 500 (a blob not read before, so no
    // reader is cached).
    let unread = client
        .store(test_bytes(20_000, 83), &StoreOptions::default())
        .await?;
    for i in 0..devnet.node_count() {
        devnet.stop_node(i);
    }
    let resp = http
        .get(gw.url(&format!("/v1/blobs/{}", unread.blob_id)))
        .send()
        .await?;
    ensure!(
        resp.headers().contains_key(header::RETRY_AFTER),
        "no Retry-After"
    );
    expect_error(resp, StatusCode::SERVICE_UNAVAILABLE, "unavailable").await?;
    gw.shutdown().await;
    Ok(())
}

/// Sends a `PUT` whose headers announce `length` body bytes, sends none, and returns the
/// status and body of the answer.
async fn raw_put_headers(
    gw: &Gateway,
    path: &str,
    token: &str,
    length: u64,
) -> Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = gw.url.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await?;
    let request = format!(
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: {length}\r\nExpect: 100-continue\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .context("the gateway did not answer the headers alone")??;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no status line")?;
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    Ok((status, body))
}

/// Percent-encodes a query value.
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A TCP proxy to the chain's RPC that can be cut, so a gateway sees its chain go away.
struct RpcProxy {
    url: String,
    accept: JoinHandle<()>,
    cut: tokio::sync::watch::Sender<bool>,
}

impl RpcProxy {
    async fn start(target: SocketAddr) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let (cut, cut_rx) = tokio::sync::watch::channel(false);
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut cut_rx = cut_rx.clone();
                if *cut_rx.borrow() {
                    continue;
                }
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut_rx.wait_for(|c| *c) => {}
                    }
                });
            }
        });
        Ok(Self { url, accept, cut })
    }

    fn cut(&self) {
        let _ = self.cut.send(true);
    }
}

impl Drop for RpcProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

fn chromium() -> Result<()> {
    let path = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !std::path::Path::new(&path).exists() {
        bail!(
            "the explorer browser test needs Chromium at {path}: `apt-get install -y chromium` \
             (scripts/test.sh installs it), or set CHROMIUM"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explorer_page_works_in_chromium() -> Result<()> {
    chromium()?;
    let devnet: Devnet = start_devnet(4).await?;
    let open = GatewayConfig {
        open: true,
        ..GatewayConfig::default()
    };
    let gw = Gateway::start(devnet.publisher_config(), open.clone()).await?;
    // A second gateway whose chain goes away once it is up.
    let rpc: SocketAddr = devnet
        .rpc_url()
        .trim_start_matches("http://")
        .parse()
        .context("the devnet's RPC address")?;
    let proxy = RpcProxy::start(rpc).await?;
    let cut_off = Gateway::start(
        ClientConfig {
            rpc_url: proxy.url.clone(),
            ..devnet.client_config().clone()
        },
        open,
    )
    .await?;
    proxy.cut();

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out_dir = root.join("target/browser-test/e2e");
    let output = tokio::process::Command::new("node")
        .arg("tests/browser/explorer.test.mjs")
        .current_dir(&root)
        .env("GATEWAY_URL", &gw.url)
        .env("FLOE_BROWSER_CHAIN_DOWN_URL", &cut_off.url)
        .env("OUT_DIR", &out_dir)
        .env("FLOE_BROWSER_CERTIFY_TIMEOUT_MS", "120000")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(300), output)
        .await
        .context("the browser test did not finish within 5 minutes")??;
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    ensure!(
        output.status.success(),
        "the browser test failed:\n{stdout}"
    );
    // It ran the live steps, the chain-down one included, and skipped none of them.
    for step in [
        "upload a random file through the page",
        "download through the page link returns the exact bytes",
        "looking up an unknown id says not found",
        "chain down: banner",
    ] {
        ensure!(
            stdout
                .lines()
                .any(|l| l.starts_with("ok ") && l.contains(step)),
            "step {step:?} did not pass:\n{stdout}"
        );
    }
    // What the page uploaded is on-chain, stored by the publisher.
    let stored = stdout
        .lines()
        .find_map(|l| l.strip_prefix("info stored "))
        .and_then(|l| l.split(';').next())
        .context("the test names the blob it stored")?;
    let blob_id: BlobId = stored.trim().parse()?;
    let status = devnet.chain().await?.blob_status(&blob_id).await?;
    ensure!(status.is_certified(devnet.chain().await?.current_epoch().await?));
    let publisher: Address =
        floe_chain::signer_from_hex(&devnet.publisher_config().wallet_key)?.address();
    let first = devnet
        .chain()
        .await?
        .registration(status.first_registration_id)
        .await?;
    ensure!(first.owner == publisher, "owner {}", first.owner);
    gw.shutdown().await;
    cut_off.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_serves_a_large_file_through_its_manifest() -> Result<()> {
    let devnet = start_devnet(4).await?;
    let client = devnet.client().await?;
    // Three 1 MiB chunks and one byte: four chunks and a manifest.
    const CHUNK: u64 = 1 << 20;
    let data = test_bytes(3 * CHUNK as usize + 1, 84);
    let dir = tempdir()?;
    let path = dir.join("big.bin");
    std::fs::write(&path, &data)?;
    let stored = client
        .store_file_with(
            &path,
            &StoreOptions::default(),
            &floe_client::FileOptions {
                chunk_size: Some(CHUNK),
                ..Default::default()
            },
        )
        .await?;
    ensure!(stored.is_manifest() && stored.chunk_ids().len() == 4);
    let gw = Gateway::start(
        devnet.publisher_config(),
        GatewayConfig {
            open: true,
            ..GatewayConfig::default()
        },
    )
    .await?;
    let http = reqwest::Client::new();
    let url = gw.url(&format!("/v1/blobs/{}", stored.blob_id));
    // HEAD and GET answer the file, not the manifest.
    let head = http.head(&url).send().await?;
    ensure!(head.status() == StatusCode::OK, "{}", head.status());
    ensure!(head.headers()[header::CONTENT_LENGTH] == data.len().to_string().as_str());
    let whole = http.get(&url).send().await?.bytes().await?;
    ensure!(
        whole.as_ref() == data.as_slice(),
        "the file read through the gateway differs"
    );
    // A range across the boundary of chunks 1 and 2, and the last byte (chunk 3 alone).
    let len = data.len() as u64;
    for (start, end) in [(2 * CHUNK - 10, 2 * CHUNK + 10), (len - 1, len)] {
        let resp = http
            .get(&url)
            .header(header::RANGE, format!("bytes={start}-{}", end - 1))
            .send()
            .await?;
        ensure!(resp.status() == StatusCode::PARTIAL_CONTENT);
        ensure!(
            resp.bytes().await?.as_ref() == &data[start as usize..end as usize],
            "range {start}..{end}"
        );
    }
    // A chunk itself is a plain blob.
    let chunk = stored.chunk_ids()[3];
    let last = http
        .get(gw.url(&format!("/v1/blobs/{chunk}")))
        .send()
        .await?
        .bytes()
        .await?;
    ensure!(last.as_ref() == &data[3 * CHUNK as usize..]);
    gw.shutdown().await;
    Ok(())
}

/// A fresh directory under the system's temporary directory.
fn tempdir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "floe-gw-e2e-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
