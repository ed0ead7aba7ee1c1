//! The client configuration file (TOML) and where it is looked up.
//!
//! Lookup order: an explicit path (`--config`), else `FLOE_CONFIG`, else
//! `$FLOE_HOME/devnet/client.toml` where `FLOE_HOME` defaults to `~/.floe`. `floe devnet` writes
//! that last file, so a client started next to a devnet needs no setup.
//!
//! ```toml
//! # JSON-RPC endpoint of the chain.
//! rpc_url = "http://127.0.0.1:8545"
//! # The wallet paying for storage: a hex secp256k1 private key.
//! wallet_key = "0xac09…"
//!
//! [deployment]          # the contracts (floe_chain::Deployment)
//! wal = "0x…"
//! staking = "0x…"
//! registry = "0x…"
//! chain_id = 31337
//! start_block = 0
//!
//! [timeouts]            # all optional
//! request_secs = 30                # base timeout of one node request ...
//! min_throughput_kib_per_sec = 256  # ... plus its payload at this rate
//! connect_secs = 5
//! confirmation_secs = 60
//! ```

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use floe_chain::Deployment;
use serde::{Deserialize, Serialize};

use crate::error::ClientError;

/// Environment variable naming the config file.
pub const CONFIG_ENV: &str = "FLOE_CONFIG";
/// Environment variable moving `~/.floe`.
pub const HOME_ENV: &str = "FLOE_HOME";

/// Default values of the optional fields.
pub mod defaults {
    /// Base timeout of one HTTP request to a storage node, in seconds.
    pub const REQUEST_SECS: u64 = 30;
    /// The slowest transfer to or from a storage node that is still waited for, in KiB/s: a
    /// request carrying `b` bytes may take `REQUEST_SECS + b / (this × 1024)` seconds.
    pub const MIN_THROUGHPUT_KIB_PER_SEC: u64 = 256;
    /// Timeout of establishing a TCP connection to a storage node, in seconds.
    pub const CONNECT_SECS: u64 = 5;
    /// How long a store keeps retrying uploads and confirmations before giving up, in seconds.
    pub const CONFIRMATION_SECS: u64 = 60;
    /// How many storage-node requests one client runs at once.
    pub const MAX_CONCURRENT_REQUESTS: usize = 32;
    /// After a quorum of confirmations, how long to keep waiting for the remaining nodes, in ms.
    pub const EXTRA_CONFIRMATION_MS: u64 = 1_000;
}

/// The client configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// JSON-RPC endpoint of the chain, e.g. `http://127.0.0.1:8545`.
    pub rpc_url: String,
    /// Hex secp256k1 private key of the wallet that pays for storage and sends transactions.
    pub wallet_key: String,
    /// Addresses of the deployed contracts.
    pub deployment: Deployment,
    /// Network timeouts and limits.
    #[serde(default)]
    pub timeouts: Timeouts,
}

/// Network timeouts and limits of the client.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Timeouts {
    /// Base timeout of one HTTP request to a storage node, in seconds; requests carrying a
    /// payload (slivers up or down) get its transfer time at `min_throughput_kib_per_sec` on top.
    pub request_secs: u64,
    /// The slowest transfer rate to or from a storage node still waited for, in KiB/s.
    pub min_throughput_kib_per_sec: u64,
    /// Timeout of establishing a TCP connection to a storage node, in seconds.
    pub connect_secs: u64,
    /// How long a store keeps retrying uploads and confirmations before giving up, in seconds
    /// (again in full on the new committee when the epoch changes during the store).
    pub confirmation_secs: u64,
    /// How many storage-node requests run at once.
    pub max_concurrent_requests: usize,
    /// After a quorum of confirmations, how long to keep waiting for the other nodes, in ms.
    pub extra_confirmation_ms: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            request_secs: defaults::REQUEST_SECS,
            min_throughput_kib_per_sec: defaults::MIN_THROUGHPUT_KIB_PER_SEC,
            connect_secs: defaults::CONNECT_SECS,
            confirmation_secs: defaults::CONFIRMATION_SECS,
            max_concurrent_requests: defaults::MAX_CONCURRENT_REQUESTS,
            extra_confirmation_ms: defaults::EXTRA_CONFIRMATION_MS,
        }
    }
}

impl Timeouts {
    /// [`Timeouts::request_secs`] as a duration.
    pub fn request(&self) -> Duration {
        Duration::from_secs(self.request_secs.max(1))
    }
    /// The timeout of each node request: [`Timeouts::request`] plus the payload at
    /// [`Timeouts::min_throughput_kib_per_sec`].
    pub fn request_timeout(&self) -> RequestTimeout {
        RequestTimeout {
            base: self.request(),
            min_bytes_per_sec: self.min_throughput_kib_per_sec.max(1).saturating_mul(1024),
        }
    }
    /// [`Timeouts::connect_secs`] as a duration.
    pub fn connect(&self) -> Duration {
        Duration::from_secs(self.connect_secs.max(1))
    }
    /// [`Timeouts::confirmation_secs`] as a duration.
    pub fn confirmation(&self) -> Duration {
        Duration::from_secs(self.confirmation_secs.max(1))
    }
    /// [`Timeouts::extra_confirmation_ms`] as a duration.
    pub fn extra_confirmation(&self) -> Duration {
        Duration::from_millis(self.extra_confirmation_ms)
    }
}

/// How long one request to a storage node may take: a base (connection, the node's work, the
/// answer) plus the payload's transfer time at the slowest throughput still accepted. A fixed
/// timeout would either cut large slivers on slow links or wait far too long for small answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestTimeout {
    /// The timeout of a request without payload.
    pub base: Duration,
    /// The slowest transfer still waited for, in bytes per second (at least 1).
    pub min_bytes_per_sec: u64,
}

impl Default for RequestTimeout {
    fn default() -> Self {
        Timeouts::default().request_timeout()
    }
}

impl RequestTimeout {
    /// The timeout of a request carrying (or answering with up to) `bytes` bytes:
    /// `base + bytes / min_bytes_per_sec`, saturating instead of overflowing.
    pub fn for_payload(&self, bytes: u64) -> Duration {
        let rate = u128::from(self.min_bytes_per_sec.max(1));
        let nanos = u128::from(bytes) * 1_000_000_000 / rate;
        let transfer = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        self.base.saturating_add(transfer)
    }
}

/// `$FLOE_HOME`, or `~/.floe`.
pub fn floe_home() -> PathBuf {
    home_from(std::env::var_os(HOME_ENV), std::env::var_os("HOME"))
}

fn home_from(
    floe_home: Option<std::ffi::OsString>,
    user_home: Option<std::ffi::OsString>,
) -> PathBuf {
    if let Some(home) = floe_home.filter(|h| !h.is_empty()) {
        return PathBuf::from(home);
    }
    user_home
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".floe")
}

/// The directory `floe devnet` uses by default: `$FLOE_HOME/devnet`.
pub fn default_devnet_dir() -> PathBuf {
    floe_home().join("devnet")
}

/// Where the config is read from: `explicit`, else `FLOE_CONFIG`, else
/// `$FLOE_HOME/devnet/client.toml`.
pub fn config_path(explicit: Option<&Path>) -> PathBuf {
    resolve_config_path(
        explicit,
        std::env::var_os(CONFIG_ENV),
        std::env::var_os(HOME_ENV),
        std::env::var_os("HOME"),
    )
}

/// [`config_path`] with the environment passed in.
fn resolve_config_path(
    explicit: Option<&Path>,
    floe_config: Option<std::ffi::OsString>,
    floe_home: Option<std::ffi::OsString>,
    user_home: Option<std::ffi::OsString>,
) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(p) = floe_config.filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    home_from(floe_home, user_home)
        .join("devnet")
        .join("client.toml")
}

impl ClientConfig {
    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<Self, ClientError> {
        let text = std::fs::read_to_string(path).map_err(|error| ClientError::ConfigRead {
            path: path.to_path_buf(),
            error,
        })?;
        Self::from_toml(&text).map_err(|e| match e {
            ClientError::ConfigParse { message, .. } => ClientError::ConfigParse {
                path: path.to_path_buf(),
                message,
            },
            other => other,
        })
    }

    /// Parses a config from TOML text.
    pub fn from_toml(text: &str) -> Result<Self, ClientError> {
        toml::from_str(text).map_err(|e| ClientError::ConfigParse {
            path: PathBuf::new(),
            message: e.to_string(),
        })
    }

    /// Serializes the config as TOML.
    pub fn to_toml(&self) -> String {
        // Serializing plain structs of strings and numbers cannot fail.
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// Writes the config to `path` (creating the parent directory).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, self.to_toml())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::Address;

    fn sample() -> ClientConfig {
        ClientConfig {
            rpc_url: "http://127.0.0.1:8545".into(),
            wallet_key: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80".into(),
            deployment: Deployment {
                wal: Address::repeat_byte(1),
                staking: Address::repeat_byte(2),
                registry: Address::repeat_byte(3),
                chain_id: 31337,
                start_block: 7,
            },
            timeouts: Timeouts::default(),
        }
    }

    #[test]
    fn config_round_trips_through_toml() {
        let cfg = sample();
        assert_eq!(ClientConfig::from_toml(&cfg.to_toml()).ok(), Some(cfg));
    }

    #[test]
    fn timeouts_are_optional_and_default() {
        let mut text = sample().to_toml();
        let cut = text.find("[timeouts]").unwrap_or(text.len());
        text.truncate(cut);
        let cfg = ClientConfig::from_toml(&text).ok();
        assert_eq!(cfg.map(|c| c.timeouts), Some(Timeouts::default()));
    }

    #[test]
    fn unknown_and_missing_fields_are_errors_naming_them() {
        let text = sample().to_toml().replace("rpc_url", "rpc_uri");
        match ClientConfig::from_toml(&text) {
            Err(ClientError::ConfigParse { message, .. }) => {
                assert!(message.contains("rpc_uri"), "{message}")
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn request_timeouts_grow_with_the_payload_at_the_minimum_throughput() {
        let t = Timeouts {
            request_secs: 30,
            min_throughput_kib_per_sec: 256,
            ..Timeouts::default()
        }
        .request_timeout();
        assert_eq!(t.base, Duration::from_secs(30));
        assert_eq!(t.min_bytes_per_sec, 256 * 1024);
        assert_eq!(t.for_payload(0), Duration::from_secs(30));
        // 1 MiB at 256 KiB/s: 4 s on top.
        assert_eq!(t.for_payload(1 << 20), Duration::from_secs(34));
        // Half a second's worth of bytes.
        assert_eq!(t.for_payload(128 * 1024), Duration::from_millis(30_500));
        // The largest sliver at n = 1000 (667 symbols of 65534 bytes): about 3 minutes.
        assert_eq!(
            t.for_payload(667 * 65_534).as_secs(),
            30 + 667 * 65_534 / (256 * 1024)
        );
    }

    #[test]
    fn request_timeouts_saturate_and_never_divide_by_zero() {
        let zero = Timeouts {
            min_throughput_kib_per_sec: 0,
            ..Timeouts::default()
        }
        .request_timeout();
        assert_eq!(zero.min_bytes_per_sec, 1024);
        let t = RequestTimeout {
            base: Duration::MAX,
            min_bytes_per_sec: 0,
        };
        assert_eq!(t.for_payload(u64::MAX), Duration::MAX);
    }

    #[test]
    fn missing_file_says_how_to_get_one() {
        let err = ClientConfig::load(Path::new("/nonexistent/floe/client.toml"));
        let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            msg.contains("/nonexistent/floe/client.toml") && msg.contains("floe devnet"),
            "{msg}"
        );
    }

    #[test]
    fn lookup_order_is_flag_then_env_then_floe_home_then_home() {
        let os = |s: &str| Some(std::ffi::OsString::from(s));
        let flag = Path::new("/flag.toml");
        assert_eq!(
            resolve_config_path(Some(flag), os("/env.toml"), os("/fh"), os("/home/u")),
            flag
        );
        assert_eq!(
            resolve_config_path(None, os("/env.toml"), os("/fh"), os("/home/u")),
            Path::new("/env.toml")
        );
        assert_eq!(
            resolve_config_path(None, None, os("/fh"), os("/home/u")),
            Path::new("/fh/devnet/client.toml")
        );
        assert_eq!(
            resolve_config_path(None, os(""), os(""), os("/home/u")),
            Path::new("/home/u/.floe/devnet/client.toml")
        );
    }
}
