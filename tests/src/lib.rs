//! floe-tests: the harness of the end-to-end tests and the e2e benchmark.
//!
//! Each test starts its own devnet ([`floe_devnet::Devnet`]: anvil, the deployed
//! contracts, and `floe-node` processes) with [`start_devnet`], drives it through the SDK and
//! the nodes' HTTP API, and waits on conditions with [`wait_until`], never on bare sleeps.
//!
//! The node and CLI executables come from the cargo target directory next to the test
//! executable: build them first with `cargo build --workspace --bins`. A missing binary fails
//! the test with that instruction instead of skipping it.

use std::{
    future::Future,
    path::PathBuf,
    sync::Once,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use floe_client::{
    config::Timeouts,
    node_api::{NodeClient, http_client},
};
use floe_core::{ids::BlobId, protocol::BlobStatus};
use floe_devnet::{Devnet, DevnetOptions};

/// The target directory holding the workspace's binaries: the test executable lives in
/// `target/<profile>/deps`, the binaries in `target/<profile>`.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.parent().map(PathBuf::from).unwrap_or(dir)
    } else {
        dir
    }
}

/// The path of workspace binary `name`, or an error telling how to build it.
pub fn workspace_binary(name: &str) -> Result<PathBuf> {
    let path = bin_dir().join(name);
    if !path.is_file() {
        bail!(
            "{} is missing: the end-to-end tests run the real binaries; build them first with `cargo build --workspace --bins` (same profile as the tests)",
            path.display()
        );
    }
    Ok(path)
}

/// Logs of the tests (RUST_LOG, default warn), once per process.
pub fn init_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    });
}

/// The options the tests use: `nodes` nodes, 100 shards, epochs of an hour (tests move time
/// themselves), short client deadlines, and nodes that never certify on their own (so a test
/// decides who certifies).
pub fn test_options(nodes: usize) -> Result<DevnetOptions> {
    Ok(DevnetOptions {
        nodes,
        shards: 100,
        epoch_secs: 3600,
        floe_node: Some(workspace_binary("floe-node")?),
        timeouts: Timeouts {
            confirmation_secs: 20,
            extra_confirmation_ms: 500,
            ..Timeouts::default()
        },
        node_log_filter: std::env::var("FLOE_NODE_LOG").unwrap_or_else(|_| "info".into()),
        startup_timeout: Duration::from_secs(90),
        node_certify_grace_secs: Some(3600),
        ..DevnetOptions::default()
    })
}

/// Starts a devnet for a test.
pub async fn start_devnet(nodes: usize) -> Result<Devnet> {
    init_logs();
    let opts = test_options(nodes)?;
    Devnet::start(opts).await.context("starting the devnet")
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
pub fn test_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Polls `cond` every 100 ms until it returns `Some`, failing after `timeout` with `what`.
pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut cond: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = cond().await {
            return Ok(v);
        }
        if start.elapsed() >= timeout {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A client of node `i`'s HTTP API.
pub fn node_client(devnet: &Devnet, i: usize) -> Result<NodeClient> {
    Ok(NodeClient::new(
        http_client(Duration::from_secs(2), Duration::from_secs(30))?,
        &devnet.node_address(i),
    ))
}

/// Node `i`'s `/v1/blobs/{id}/status`, or `None` if it does not answer with one.
pub async fn node_blob_status(devnet: &Devnet, i: usize, blob_id: &BlobId) -> Option<BlobStatus> {
    node_client(devnet, i).ok()?.blob_status(blob_id).await.ok()
}

/// True if node `i` holds the metadata and every sliver it must hold of `blob_id`.
pub async fn node_complete(devnet: &Devnet, i: usize, blob_id: &BlobId) -> bool {
    node_blob_status(devnet, i, blob_id)
        .await
        .is_some_and(|s| s.complete)
}

/// A client on anvil dev account `account` (not the devnet's), with 10,000 WAL from the faucet.
pub async fn funded_client(devnet: &Devnet, account: usize) -> Result<floe_client::Client> {
    let mut config = devnet.client_config().clone();
    config.wallet_key = devnet
        .account_key(account)
        .with_context(|| format!("anvil's dev account {account}"))?
        .to_owned();
    let client = floe_client::Client::new(config).await?;
    client
        .faucet(
            alloy::primitives::U256::from(10_000u64)
                * alloy::primitives::U256::from(floe_client::units::FROST_PER_WAL),
        )
        .await?;
    Ok(client)
}

/// Store options of `epochs` epochs, deletable or not.
pub fn store_opts(epochs: u32, deletable: bool) -> floe_client::StoreOptions {
    floe_client::StoreOptions {
        epochs,
        deletable,
        ..Default::default()
    }
}
