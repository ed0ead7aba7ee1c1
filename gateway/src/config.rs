//! [`GatewayConfig`]: the gateway's TOML config, with defaults for every field.

use std::{net::SocketAddr, path::Path, time::Duration};

use serde::{Deserialize, Serialize};

use crate::error::GatewayError;

/// The gateway's config (a TOML file; every field has a default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayConfig {
    /// Where to listen (used by the binary; [`crate::serve`] takes a bound listener).
    pub listen: SocketAddr,
    /// The floe client config the gateway reads the network with and whose wallet pays for
    /// what the publisher stores (used by the binary); `None`: the `floe` CLI's default.
    pub client_config: Option<std::path::PathBuf>,
    /// Writes need no token (the devnet). Otherwise every `PUT` needs a JWT bearer token
    /// signed by one of `jwt`'s keys.
    pub open: bool,
    /// Keys that sign upload tokens.
    pub jwt: JwtConfig,
    /// Largest body `PUT /v1/blobs` accepts, in bytes.
    pub max_body_bytes: u64,
    /// Stores running at once; a `PUT` finding none free answers 503.
    pub upload_slots: usize,
    /// Bytes each token may upload in total (its counter lives until the token expires);
    /// `None`: no quota.
    pub quota_bytes_per_token: Option<u64>,
    /// Blocks `GET /v1/recent` searches back from the head.
    pub recent_window_blocks: u64,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// A client must send a request's headers within this long.
    pub header_read_timeout_secs: u64,
    /// An upload's body may pause at most this long between chunks.
    pub body_idle_timeout_secs: u64,
    /// An upload's body must arrive within this long in total.
    pub body_total_timeout_secs: u64,
    /// A connection whose client does not take the answer's bytes for this long is closed.
    pub write_stall_timeout_secs: u64,
    /// `Retry-After` of a 503 the gateway makes itself (no upload slot).
    pub retry_after_secs: u64,
    /// Most attributes a `PUT` may set (the registry keeps at most 16 per registration).
    pub max_attributes: usize,
    /// Largest `attributes` JSON (bytes, URL-decoded).
    pub max_attributes_bytes: usize,
    /// Most single-use token ids remembered at once (a token with a new `jti` beyond this
    /// answers 503 until older ones expire).
    pub max_seen_jti: usize,
}

/// Keys that sign upload tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JwtConfig {
    /// HS256 shared secrets (the UTF-8 bytes of each string; at least 32 bytes).
    pub hs256_secrets: Vec<String>,
    /// EdDSA (Ed25519) public keys, 64 hex digits each (optionally `0x`-prefixed).
    pub ed25519_public_keys: Vec<String>,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    pub leeway_secs: u64,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            client_config: None,
            open: false,
            jwt: JwtConfig::default(),
            max_body_bytes: 128 << 20,
            upload_slots: 4,
            quota_bytes_per_token: None,
            recent_window_blocks: 10_000,
            max_connections: 1024,
            header_read_timeout_secs: 10,
            body_idle_timeout_secs: 30,
            body_total_timeout_secs: 900,
            write_stall_timeout_secs: 60,
            retry_after_secs: 5,
            max_attributes: 16,
            max_attributes_bytes: 8192,
            max_seen_jti: 100_000,
        }
    }
}

impl GatewayConfig {
    /// Parses a TOML config and checks it.
    pub fn from_toml(text: &str) -> Result<Self, GatewayError> {
        let cfg: Self = toml::from_str(text).map_err(|e| GatewayError::Config(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Reads, parses and checks a TOML config file.
    pub fn load(path: &Path) -> Result<Self, GatewayError> {
        let text = std::fs::read_to_string(path).map_err(|error| GatewayError::ConfigRead {
            path: path.to_owned(),
            error,
        })?;
        Self::from_toml(&text)
    }

    /// Checks the values: non-zero limits and timeouts, decodable keys, and keys present
    /// unless the gateway is open.
    pub fn validate(&self) -> Result<(), GatewayError> {
        let nonzero = [
            ("max_body_bytes", self.max_body_bytes),
            ("upload_slots", self.upload_slots as u64),
            ("max_connections", self.max_connections as u64),
            ("header_read_timeout_secs", self.header_read_timeout_secs),
            ("body_idle_timeout_secs", self.body_idle_timeout_secs),
            ("body_total_timeout_secs", self.body_total_timeout_secs),
            ("write_stall_timeout_secs", self.write_stall_timeout_secs),
            ("retry_after_secs", self.retry_after_secs),
        ];
        for (name, v) in nonzero {
            if v == 0 {
                return Err(GatewayError::Config(format!("{name} must be at least 1")));
            }
        }
        crate::auth::Keys::from_config(&self.jwt)?;
        if !self.open
            && self.jwt.hs256_secrets.is_empty()
            && self.jwt.ed25519_public_keys.is_empty()
        {
            return Err(GatewayError::Config(
                "the gateway is not open but has no jwt keys: set open = true (devnet) or add \
                 jwt.hs256_secrets / jwt.ed25519_public_keys"
                    .into(),
            ));
        }
        Ok(())
    }

    pub(crate) fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs)
    }

    pub(crate) fn body_idle_timeout(&self) -> Duration {
        Duration::from_secs(self.body_idle_timeout_secs)
    }

    pub(crate) fn body_total_timeout(&self) -> Duration {
        Duration::from_secs(self.body_total_timeout_secs)
    }

    pub(crate) fn write_stall_timeout(&self) -> Duration {
        Duration::from_secs(self.write_stall_timeout_secs)
    }
}
