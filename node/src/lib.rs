//! floe-node: the storage node daemon.
//!
//! A node follows the floe contracts' events over JSON-RPC (cursor persisted, so a restart
//! resumes), knows the committee and its own shards for the current epoch, stores metadata
//! and slivers in redb, serves them over HTTP, signs confirmations once it holds all its
//! slivers of a blob, recovers slivers it misses from peers' recovery symbols, certifies
//! blobs their writer left uncertified, advances epochs and garbage-collects expired and
//! deleted blobs at epoch change.
//!
//! Layout:
//! - `config`: the TOML config file ([`NodeConfig`], `defaults`).
//! - `storage`: the redb store ([`Store`]).
//! - `state`: [`NodeState`] shared by handlers and tasks; [`BlobSource`] asks the chain
//!   about blobs the follower has not seen yet.
//! - `api`: the axum [`app`] router and its one error type [`ApiError`].
//! - `server`: the HTTP server: connection limit, header, body and idle timeouts.
//! - `liveness`: the one decision whether a blob is alive ([`liveness::Liveness`]).
//! - `services`: one module per background service (follower, gc, recovery, certify,
//!   advance), run under `supervisor` (restarts with backoff, health, a persistent failure
//!   stops the node).
//! - `memory`: the node's worst-case memory as a formula ([`memory::worst_case_memory`]).
//! - `peers`: HTTP requests to other nodes.
//! - `metrics`: Prometheus counters.
//!
//! [`run`] takes a bound listener so tests bind `127.0.0.1:0`; the binary only parses
//! arguments and calls it.

pub mod api;
pub mod config;
pub mod liveness;
pub mod memory;
pub mod metrics;
pub mod peers;
pub mod server;
pub mod services;
pub mod state;
pub mod storage;
pub mod supervisor;

use std::{collections::HashSet, future::Future, path::Path, sync::Arc, time::Duration};

pub use api::{ApiError, BlobStatus, Confirmation, app};
pub use config::{ConfigError, NodeConfig};
use floe_chain::{Chain, ChainError};
use floe_core::{bls::SecretKey, encoding::EncodingConfig};
pub use state::{BlobSource, EpochView, Limits, NodeState};
pub use storage::{BlobEntry, KnownRegistration, Store, StoreError};
use tokio::net::TcpListener;

/// Why a node could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The config file is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A key file is missing or malformed.
    #[error("key file {path}: {message}")]
    Key {
        /// The key file.
        path: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// The chain could not be used.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The database could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The chain reports a shard count floe cannot encode for.
    #[error("unusable shard count from the chain: {0}")]
    Encoding(String),
    /// The HTTP client for peers could not be built (its timeouts are not optional).
    #[error(
        "cannot build the HTTP client for peer requests: {0}; check the system's TLS and network setup"
    )]
    PeerClient(String),
    /// Serving HTTP failed.
    #[error("HTTP server failed: {0}")]
    Serve(std::io::Error),
    /// The BLS key file is not the key registered on-chain for this operator.
    #[error(
        "the BLS key in {path} does not match the key registered on-chain for operator {node}: confirmations would not verify; use the registered key file, or re-register the node with this key"
    )]
    KeyMismatch {
        /// The key file.
        path: String,
        /// The operator.
        node: String,
    },
    /// A background service kept failing.
    #[error(transparent)]
    Service(#[from] supervisor::SupervisorError),
}

/// Reads a BLS secret key file (hex, as `floe-node keygen` writes it).
pub fn read_bls_key(path: &Path) -> Result<SecretKey, NodeError> {
    let key_err = |message: String| NodeError::Key {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        key_err(format!(
            "{e}; create one with `floe-node keygen --out {}`",
            path.display()
        ))
    })?;
    SecretKey::from_hex(text.trim()).map_err(|e| key_err(format!("not a BLS secret key: {e}")))
}

/// Reads the operator's EVM private key file (hex).
pub fn read_operator_key(
    path: &Path,
) -> Result<floe_chain::alloy::signers::local::PrivateKeySigner, NodeError> {
    let key_err = |message: String| NodeError::Key {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| key_err(e.to_string()))?;
    floe_chain::signer_from_hex(text.trim()).map_err(|e| key_err(e.to_string()))
}

/// Writes a fresh BLS secret key (from OS randomness) to `path` (refusing to overwrite) and
/// returns it.
pub fn keygen(path: &Path) -> Result<SecretKey, NodeError> {
    let key_err = |message: String| NodeError::Key {
        path: path.display().to_string(),
        message,
    };
    if path.exists() {
        return Err(key_err(
            "already exists; refusing to overwrite a key".into(),
        ));
    }
    let seed: [u8; 32] = rand::random();
    let key = SecretKey::from_seed(&seed);
    std::fs::write(path, key.to_hex() + "\n").map_err(|e| key_err(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(key)
}

/// Runs a node with `config` on `listener` until `shutdown` completes.
pub async fn run(
    config: NodeConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), NodeError> {
    let key = read_bls_key(&config.bls_key_file)?;
    let signer = read_operator_key(&config.operator_key_file)?;
    let node = signer.address();
    let chain = Chain::connect(&config.rpc_url, config.deployment, Some(signer)).await?;
    let n = chain.n_shards().await?;
    let encoding = EncodingConfig::new(n).map_err(|e| NodeError::Encoding(e.to_string()))?;
    // The key is checked before the store is opened: a node with the wrong key stops without
    // touching its data (and whatever else holds the store cannot mask the error).
    let info = chain.node_info(node).await?;
    if !info.registered {
        tracing::warn!(%node, "this operator is not registered as a storage node yet; it holds no shards until it is");
    } else if info.public_key_eip2537 != key.public_key().to_eip2537() {
        return Err(NodeError::KeyMismatch {
            path: config.bls_key_file.display().to_string(),
            node: node.to_string(),
        });
    } else if info.network_address != config.public_address {
        tracing::warn!(
            %node,
            registered = %info.network_address,
            configured = %config.public_address,
            "public_address differs from the network address registered on-chain; peers and clients use the registered one"
        );
    }
    let store = Store::open(&config.storage_dir)?;
    let resume_at = store.cursor()?;
    let epoch = chain.current_epoch().await?;
    let committee = chain.committee(epoch).await?;
    let state = Arc::new(NodeState::new(
        store,
        encoding,
        key,
        node,
        config.deployment.chain_id,
        config.deployment.registry,
        config.limits(),
        config.max_concurrent_uploads,
        EpochView::new(committee),
        Arc::new(chain.clone()),
    ));
    if let Some(c) = resume_at {
        state
            .metrics
            .cursor
            .store(c, std::sync::atomic::Ordering::Relaxed);
        tracing::info!(block = c, "resuming the chain from the persisted cursor");
    }
    let pending: HashSet<_> = {
        let store = state.store.clone();
        let entries = state::blocking(move || store.blobs())
            .await
            .map_err(|e| NodeError::Store(StoreError::Db(e.to_string())))?;
        services::pending_index(&entries, epoch)
    };
    let ctx = services::Ctx {
        state: state.clone(),
        chain,
        peers: peers::Peers::new(
            Duration::from_millis(config.peer_timeout_ms),
            config.max_metadata_bytes,
        )
        .map_err(|e| NodeError::PeerClient(e.to_string()))?,
        poll: config.poll_interval(),
        max_log_range: config.max_log_range,
        confirmation_depth: config.confirmation_depth,
        grace: Duration::from_secs(config.certify_grace_secs),
        recovery_parallelism: config.recovery_parallelism,
        recovery_queue: Arc::default(),
        recovery_wake: Arc::default(),
        pending: Arc::new(std::sync::Mutex::new(pending)),
        gc_wake: Arc::default(),
    };
    let policy = supervisor::Policy {
        first_backoff: Duration::from_millis(200).min(config.poll_interval()),
        max_backoff: Duration::from_secs(30),
        max_failures: config.service_max_failures,
    };

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut services = tokio::task::JoinSet::new();
    macro_rules! service {
        ($module:ident) => {{
            let (ctx, rx) = (ctx.clone(), stop_rx.clone());
            let registry = state.services.clone();
            services.spawn(supervisor::supervise(
                services::$module::NAME,
                registry,
                policy,
                stop_rx.clone(),
                move || services::$module::run(ctx.clone(), rx.clone()),
            ));
        }};
    }
    service!(gc);
    service!(follower);
    service!(recovery);
    service!(certify);
    if config.advance_epochs {
        service!(advance);
    }
    tracing::info!(
        %node,
        address = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(),
        epoch,
        shards = state.view().committee.shards_of(node).len(),
        "floe-node serving"
    );
    // The node stops at `shutdown`, or when a service gives up (its error is returned).
    let (fatal_tx, fatal_rx) = tokio::sync::oneshot::channel::<supervisor::SupervisorError>();
    let watcher = tokio::spawn(async move {
        let mut fatal_tx = Some(fatal_tx);
        while let Some(r) = services.join_next().await {
            if let Ok(Err(e)) = r
                && let Some(tx) = fatal_tx.take()
            {
                let _ = tx.send(e);
            }
        }
    });
    let (fatal_seen_tx, fatal_seen_rx) = tokio::sync::oneshot::channel();
    let stop = async move {
        tokio::select! {
            _ = shutdown => {}
            Ok(e) = fatal_rx => { let _ = fatal_seen_tx.send(e); }
        }
    };
    let served = server::serve(
        listener,
        app(state),
        server::ServerConfig::from(&config),
        stop,
    )
    .await;
    let _ = stop_tx.send(true);
    let _ = watcher.await;
    if let Ok(e) = fatal_seen_rx.await {
        return Err(NodeError::Service(e));
    }
    served.map_err(NodeError::Serve)
}
