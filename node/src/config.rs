//! The node's configuration file (TOML). Every field is documented here; the example file
//! `node/floe-node.example.toml` is kept in sync with these defaults by a test.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use floe_chain::Deployment;
use serde::{Deserialize, Serialize};

/// Default values of the optional fields.
pub mod defaults {
    use std::net::SocketAddr;

    /// `listen_address`: all interfaces, port 9100.
    pub fn listen_address() -> SocketAddr {
        SocketAddr::from(([0, 0, 0, 0], 9100))
    }
    /// `poll_interval_ms`: how often the chain is polled for new events.
    pub const fn poll_interval_ms() -> u64 {
        500
    }
    /// `max_metadata_bytes`: 1 MiB (metadata is 64 bytes per shard plus a small header).
    pub const fn max_metadata_bytes() -> usize {
        1 << 20
    }
    /// `max_sliver_bytes`: 64 MiB (a sliver of the largest blob at n = 1000 is ~65 MB).
    pub const fn max_sliver_bytes() -> usize {
        64 << 20
    }
    /// `max_proof_bytes`: 8 MiB. An inconsistency proof is `n-f` symbols with Merkle paths, a
    /// little more than a sliver; 8 MiB covers every blob at n <= 100 (4.4 MB at most) and, at
    /// n = 1000, blobs up to about 2.7 GB, while 32 upload slots of 3 x 8 MiB stay at 768 MiB
    /// (the exact proof of the largest n = 1000 blob is 44 MB: 4.2 GB over 32 slots).
    pub const fn max_proof_bytes() -> usize {
        8 << 20
    }
    /// `max_concurrent_uploads`: uploads received and stored at the same time; more wait.
    pub const fn max_concurrent_uploads() -> usize {
        32
    }
    /// `upload_wait_ms`: how long an upload waits for a free slot before a 503.
    pub const fn upload_wait_ms() -> u64 {
        10_000
    }
    /// `certify_grace_secs`: how long a fully uploaded blob may stay uncertified before this
    /// node certifies it itself.
    pub const fn certify_grace_secs() -> u64 {
        30
    }
    /// `peer_timeout_ms`: timeout of one request to a peer node.
    pub const fn peer_timeout_ms() -> u64 {
        10_000
    }
    /// `max_log_range`: blocks per `eth_getLogs` request.
    pub const fn max_log_range() -> u64 {
        2_000
    }
    /// `advance_epochs`: whether this node calls `advanceEpoch` when an epoch's time is up.
    pub const fn advance_epochs() -> bool {
        true
    }
    /// `max_concurrent_reads`: GETs of metadata and slivers loaded at the same time.
    pub const fn max_concurrent_reads() -> usize {
        64
    }
    /// `body_min_rate`: slowest accepted request body, bytes per second (64 KiB/s).
    pub const fn body_min_rate() -> u64 {
        64 << 10
    }
    /// `body_min_time_ms`: time every body gets on top of its size at the minimum rate.
    pub const fn body_min_time_ms() -> u64 {
        10_000
    }
    /// `header_read_timeout_ms`: time a connection has to send a request's headers.
    pub const fn header_read_timeout_ms() -> u64 {
        10_000
    }
    /// `idle_timeout_ms`: an idle keep-alive connection is closed after this long.
    pub const fn idle_timeout_ms() -> u64 {
        60_000
    }
    /// `max_connections`: open HTTP connections; more wait in the listen backlog.
    pub const fn max_connections() -> usize {
        1024
    }
    /// `chain_lookups_per_sec`: chain lookups of unknown blob ids per second, all requests.
    pub const fn chain_lookups_per_sec() -> u32 {
        20
    }
    /// `chain_lookup_burst`: chain lookups allowed in a burst.
    pub const fn chain_lookup_burst() -> u32 {
        40
    }
    /// `negative_cache_ttl_ms`: how long "not registered" answers are remembered.
    pub const fn negative_cache_ttl_ms() -> u64 {
        2_000
    }
    /// `negative_cache_size`: most blob ids remembered as not registered.
    pub const fn negative_cache_size() -> usize {
        10_000
    }
    /// `confirmation_depth`: blocks behind the head the event follower stays.
    pub const fn confirmation_depth() -> u64 {
        0
    }
    /// `recovery_parallelism`: blobs recovered at the same time.
    pub const fn recovery_parallelism() -> usize {
        4
    }
    /// `service_max_failures`: failures in a row of a background service that stop the node.
    pub const fn service_max_failures() -> u32 {
        20
    }
}

/// The configuration of one storage node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// File holding the node's BLS secret key (hex, as written by `floe-node keygen`).
    pub bls_key_file: PathBuf,
    /// File holding the operator's EVM private key (hex): the node's address on-chain, used to
    /// send transactions (certificates, epoch advances).
    pub operator_key_file: PathBuf,
    /// The chain's JSON-RPC URL.
    pub rpc_url: String,
    /// Address the HTTP API listens on.
    #[serde(default = "defaults::listen_address")]
    pub listen_address: SocketAddr,
    /// Address peers and clients reach this node at (`host:port`), as registered on-chain.
    pub public_address: String,
    /// Directory of the node's database (created if missing).
    pub storage_dir: PathBuf,
    /// How often to poll the chain for new events, in milliseconds.
    #[serde(default = "defaults::poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// Largest metadata body accepted, in bytes.
    #[serde(default = "defaults::max_metadata_bytes")]
    pub max_metadata_bytes: usize,
    /// Largest sliver body accepted, in bytes.
    #[serde(default = "defaults::max_sliver_bytes")]
    pub max_sliver_bytes: usize,
    /// Largest inconsistency proof body accepted (`POST /v1/blobs/{id}/inconsistency`), in
    /// bytes. A blob whose exact proof size is above it gets 413 naming this field: the node
    /// cannot attest such a blob invalid until the operator raises it.
    #[serde(default = "defaults::max_proof_bytes")]
    pub max_proof_bytes: usize,
    /// Uploads (`PUT` and `POST` requests) received and processed at the same time. Each holds
    /// its slot from before its body is read, so this times the body limits bounds the memory
    /// uploads use.
    #[serde(default = "defaults::max_concurrent_uploads")]
    pub max_concurrent_uploads: usize,
    /// How long an upload waits for a slot before the node answers 503, in milliseconds.
    #[serde(default = "defaults::upload_wait_ms")]
    pub upload_wait_ms: u64,
    /// Seconds a registered, fully uploaded blob may stay uncertified before this node
    /// collects confirmations from its peers and certifies it.
    #[serde(default = "defaults::certify_grace_secs")]
    pub certify_grace_secs: u64,
    /// Timeout of one request to a peer node, in milliseconds.
    #[serde(default = "defaults::peer_timeout_ms")]
    pub peer_timeout_ms: u64,
    /// Most blocks asked for in one `eth_getLogs` request.
    #[serde(default = "defaults::max_log_range")]
    pub max_log_range: u64,
    /// Whether this node advances the epoch when its time is up (anyone may; one succeeds).
    #[serde(default = "defaults::advance_epochs")]
    pub advance_epochs: bool,
    /// GETs of metadata and slivers loaded at the same time; more wait (then 503).
    #[serde(default = "defaults::max_concurrent_reads")]
    pub max_concurrent_reads: usize,
    /// Slowest accepted request body, in bytes per second: a body of `len` bytes must arrive
    /// within `body_min_time_ms + len / body_min_rate` seconds, or the node answers 408.
    #[serde(default = "defaults::body_min_rate")]
    pub body_min_rate: u64,
    /// Time every body gets on top of its size at the minimum rate, in milliseconds.
    #[serde(default = "defaults::body_min_time_ms")]
    pub body_min_time_ms: u64,
    /// Time a connection has to send a request's headers, in milliseconds.
    #[serde(default = "defaults::header_read_timeout_ms")]
    pub header_read_timeout_ms: u64,
    /// Idle keep-alive connections are closed after this long, in milliseconds.
    #[serde(default = "defaults::idle_timeout_ms")]
    pub idle_timeout_ms: u64,
    /// Open HTTP connections at most; further connections wait in the listen backlog.
    #[serde(default = "defaults::max_connections")]
    pub max_connections: usize,
    /// Chain lookups of blob ids the node has no entry for, per second over all requests;
    /// beyond it requests get 503 with `Retry-After`.
    #[serde(default = "defaults::chain_lookups_per_sec")]
    pub chain_lookups_per_sec: u32,
    /// Chain lookups allowed in a burst.
    #[serde(default = "defaults::chain_lookup_burst")]
    pub chain_lookup_burst: u32,
    /// How long a "not registered" answer is remembered, in milliseconds.
    #[serde(default = "defaults::negative_cache_ttl_ms")]
    pub negative_cache_ttl_ms: u64,
    /// Most blob ids remembered as not registered.
    #[serde(default = "defaults::negative_cache_size")]
    pub negative_cache_size: usize,
    /// Blocks behind the chain head the event follower stays (0 follows the head).
    #[serde(default = "defaults::confirmation_depth")]
    pub confirmation_depth: u64,
    /// Blobs recovered at the same time.
    #[serde(default = "defaults::recovery_parallelism")]
    pub recovery_parallelism: usize,
    /// Failures in a row of one background service that stop the node.
    #[serde(default = "defaults::service_max_failures")]
    pub service_max_failures: u32,
    /// The contracts (as written by `floe devnet`).
    pub deployment: Deployment,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for a node config.
    #[error("config file {path} is invalid: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong (field and line).
        message: String,
    },
    /// A value is out of range.
    #[error("config file {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
}

impl NodeConfig {
    /// Reads and validates a config file. Relative paths in it are relative to its directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        let mut cfg = Self::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.into(),
            message,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [
            &mut cfg.bls_key_file,
            &mut cfg.operator_key_file,
            &mut cfg.storage_dir,
        ] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        cfg.validate().map_err(|message| ConfigError::Invalid {
            path: path.into(),
            message,
        })?;
        Ok(cfg)
    }

    /// Parses config TOML text (no validation, paths as written).
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim().replace('\n', " "))
    }

    /// Checks ranges; the message says which field to fix.
    pub fn validate(&self) -> Result<(), String> {
        if self.poll_interval_ms == 0 {
            return Err("poll_interval_ms must be at least 1".into());
        }
        if self.max_concurrent_uploads == 0 {
            return Err("max_concurrent_uploads must be at least 1".into());
        }
        if self.max_log_range == 0 {
            return Err("max_log_range must be at least 1".into());
        }
        if let Err(e) = floe_core::protocol::NodeAddress::parse(&self.public_address) {
            return Err(format!("public_address: {e}"));
        }
        for (name, v) in [
            ("max_concurrent_reads", self.max_concurrent_reads as u64),
            ("max_proof_bytes", self.max_proof_bytes as u64),
            ("body_min_rate", self.body_min_rate),
            ("max_connections", self.max_connections as u64),
            (
                "chain_lookups_per_sec",
                u64::from(self.chain_lookups_per_sec),
            ),
            ("chain_lookup_burst", u64::from(self.chain_lookup_burst)),
            ("recovery_parallelism", self.recovery_parallelism as u64),
            ("service_max_failures", u64::from(self.service_max_failures)),
            ("header_read_timeout_ms", self.header_read_timeout_ms),
            ("idle_timeout_ms", self.idle_timeout_ms),
        ] {
            if v == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        Ok(())
    }

    /// The poll interval.
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }

    /// The request limits this config sets.
    pub fn limits(&self) -> crate::state::Limits {
        crate::state::Limits {
            max_metadata_bytes: self.max_metadata_bytes,
            max_sliver_bytes: self.max_sliver_bytes,
            max_proof_bytes: self.max_proof_bytes,
            upload_wait: Duration::from_millis(self.upload_wait_ms),
            max_concurrent_reads: self.max_concurrent_reads,
            cpu_slots: std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
            body_min_rate: self.body_min_rate,
            body_min_time: Duration::from_millis(self.body_min_time_ms),
            chain_lookups_per_sec: self.chain_lookups_per_sec,
            chain_lookup_burst: self.chain_lookup_burst,
            negative_cache_ttl: Duration::from_millis(self.negative_cache_ttl_ms),
            negative_cache_size: self.negative_cache_size,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../floe-node.example.toml");

    #[test]
    fn example_file_parses_and_shows_every_default() {
        let cfg = NodeConfig::parse(EXAMPLE).expect("the example config parses");
        cfg.validate().expect("the example config is valid");
        assert_eq!(cfg.listen_address, defaults::listen_address());
        assert_eq!(cfg.poll_interval_ms, defaults::poll_interval_ms());
        assert_eq!(cfg.max_metadata_bytes, defaults::max_metadata_bytes());
        assert_eq!(cfg.max_sliver_bytes, defaults::max_sliver_bytes());
        assert_eq!(cfg.max_proof_bytes, defaults::max_proof_bytes());
        assert_eq!(
            cfg.max_concurrent_uploads,
            defaults::max_concurrent_uploads()
        );
        assert_eq!(cfg.upload_wait_ms, defaults::upload_wait_ms());
        assert_eq!(cfg.certify_grace_secs, defaults::certify_grace_secs());
        assert_eq!(cfg.peer_timeout_ms, defaults::peer_timeout_ms());
        assert_eq!(cfg.max_log_range, defaults::max_log_range());
        assert_eq!(cfg.advance_epochs, defaults::advance_epochs());
        assert_eq!(cfg.max_concurrent_reads, defaults::max_concurrent_reads());
        assert_eq!(cfg.body_min_rate, defaults::body_min_rate());
        assert_eq!(cfg.body_min_time_ms, defaults::body_min_time_ms());
        assert_eq!(
            cfg.header_read_timeout_ms,
            defaults::header_read_timeout_ms()
        );
        assert_eq!(cfg.idle_timeout_ms, defaults::idle_timeout_ms());
        assert_eq!(cfg.max_connections, defaults::max_connections());
        assert_eq!(cfg.chain_lookups_per_sec, defaults::chain_lookups_per_sec());
        assert_eq!(cfg.chain_lookup_burst, defaults::chain_lookup_burst());
        assert_eq!(cfg.negative_cache_ttl_ms, defaults::negative_cache_ttl_ms());
        assert_eq!(cfg.negative_cache_size, defaults::negative_cache_size());
        assert_eq!(cfg.confirmation_depth, defaults::confirmation_depth());
        assert_eq!(cfg.recovery_parallelism, defaults::recovery_parallelism());
        assert_eq!(cfg.service_max_failures, defaults::service_max_failures());
    }

    #[test]
    fn example_file_names_every_field() {
        // Serialize a config and check every key appears (uncommented) in the example file.
        let cfg = NodeConfig::parse(EXAMPLE).expect("the example config parses");
        let value = toml::Value::try_from(&cfg).expect("serializes");
        let table = value.as_table().expect("a table");
        for key in table.keys() {
            assert!(
                EXAMPLE
                    .lines()
                    .any(|l| l.starts_with(&format!("{key} =")) || l == format!("[{key}]")),
                "field {key} is missing from node/floe-node.example.toml"
            );
        }
        let doc_lines = EXAMPLE.lines().filter(|l| l.starts_with('#')).count();
        assert!(
            doc_lines >= table.len(),
            "every field of the example should be documented with a comment"
        );
    }

    #[test]
    fn unknown_field_is_an_error_naming_it() {
        let text = format!("{EXAMPLE}\n");
        let text = text.replacen("rpc_url", "rpc_urll", 1);
        let err = NodeConfig::parse(&text).unwrap_err();
        assert!(err.contains("rpc_urll"), "{err}");
    }

    #[test]
    fn missing_file_and_bad_values_are_clear_errors() {
        let err = NodeConfig::load(Path::new("/nonexistent/floe-node.toml")).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }), "{err}");
        assert!(err.to_string().contains("/nonexistent/floe-node.toml"));

        let dir = std::env::temp_dir().join(format!("floe-node-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.toml");
        std::fs::write(
            &path,
            EXAMPLE.replace("poll_interval_ms = 500", "poll_interval_ms = 0"),
        )
        .unwrap();
        let err = NodeConfig::load(&path).unwrap_err();
        assert!(
            err.to_string()
                .contains("poll_interval_ms must be at least 1"),
            "{err}"
        );
        std::fs::write(&path, "rpc_url = 5").unwrap();
        let err = NodeConfig::load(&path).unwrap_err();
        assert!(matches!(err, ConfigError::Parse { .. }), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn relative_paths_are_relative_to_the_config_file() {
        let dir = std::env::temp_dir().join(format!("floe-node-rel-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("node.toml");
        std::fs::write(&path, EXAMPLE).unwrap();
        let cfg = NodeConfig::load(&path).unwrap();
        assert_eq!(cfg.storage_dir, dir.join("db"));
        assert_eq!(cfg.bls_key_file, dir.join("bls.key"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
