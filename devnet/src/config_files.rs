//! The TOML files a devnet writes: each node's `floe-node.toml` (as serde structs serialized with
//! the `toml` crate, never assembled by hand) and the client config.
//!
//! [`NodeConfigFile`] mirrors the fields of floe-node's `NodeConfig` that a devnet sets; the
//! node's own defaults apply to the rest. A test parses what is written with floe-node's parser,
//! so the two cannot drift apart unnoticed.

use std::path::{Path, PathBuf};

use floe_chain::Deployment;
use serde::Serialize;

use crate::error::DevnetError;

/// Node settings that are the same for every node of a devnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeOptions {
    /// `poll_interval_ms`: how often the node polls the chain for events.
    pub(crate) poll_interval_ms: u64,
    /// `certify_grace_secs`; `None` = the node's default.
    pub(crate) certify_grace_secs: Option<u64>,
}

/// One node's `floe-node.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct NodeConfigFile {
    /// The node's BLS secret key file (hex).
    pub(crate) bls_key_file: PathBuf,
    /// The operator's EVM private key file (hex).
    pub(crate) operator_key_file: PathBuf,
    /// The chain's JSON-RPC URL.
    pub(crate) rpc_url: String,
    /// Where the HTTP API listens (`127.0.0.1:port`).
    pub(crate) listen_address: String,
    /// Where peers and clients reach the node, as registered on-chain.
    pub(crate) public_address: String,
    /// The node's database directory.
    pub(crate) storage_dir: PathBuf,
    /// How often the node polls the chain, in milliseconds.
    pub(crate) poll_interval_ms: u64,
    /// How long a fully uploaded blob may stay uncertified before the node certifies it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) certify_grace_secs: Option<u64>,
    /// The contracts.
    pub(crate) deployment: Deployment,
}

impl NodeConfigFile {
    /// The config of a node listening on `127.0.0.1:port` whose files live in `dir`.
    pub(crate) fn new(
        dir: &Path,
        port: u16,
        rpc_url: &str,
        deployment: Deployment,
        opts: &NodeOptions,
    ) -> Self {
        let address = format!("127.0.0.1:{port}");
        Self {
            bls_key_file: dir.join("bls.key"),
            operator_key_file: dir.join("operator.key"),
            rpc_url: rpc_url.to_owned(),
            listen_address: address.clone(),
            public_address: address,
            storage_dir: dir.join("db"),
            poll_interval_ms: opts.poll_interval_ms,
            certify_grace_secs: opts.certify_grace_secs,
            deployment,
        }
    }
}

/// Serializes `value` as TOML into `path`, creating the parent directory; `what` names the file
/// in errors.
pub(crate) fn write_toml<T: Serialize>(
    path: &Path,
    value: &T,
    what: &str,
) -> Result<(), DevnetError> {
    let text = toml::to_string(value).map_err(|e| DevnetError::Serialize {
        what: what.to_owned(),
        message: e.to_string(),
    })?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(crate::error::io(format!(
            "cannot create {}",
            parent.display()
        )))?;
    }
    std::fs::write(path, text).map_err(crate::error::io(format!(
        "cannot write the {what} {}",
        path.display()
    )))
}

#[cfg(test)]
mod tests {
    use alloy::primitives::Address;

    use super::*;

    fn deployment() -> Deployment {
        Deployment {
            wal: Address::repeat_byte(1),
            staking: Address::repeat_byte(2),
            registry: Address::repeat_byte(3),
            chain_id: 31337,
            start_block: 9,
        }
    }

    fn written(opts: &NodeOptions) -> floe_node::config::NodeConfig {
        // A directory with a quote and a backslash: hand-assembled TOML would break on it.
        let dir = Path::new("/tmp/floe \"dev\\net\"/nodes/node0");
        let file = NodeConfigFile::new(dir, 9107, "http://127.0.0.1:8545", deployment(), opts);
        let text = toml::to_string(&file).expect("serializes");
        floe_node::config::NodeConfig::parse(&text).expect("floe-node reads what the devnet writes")
    }

    #[test]
    fn floe_node_reads_the_node_config_the_devnet_writes() {
        let cfg = written(&NodeOptions {
            poll_interval_ms: 200,
            certify_grace_secs: Some(3600),
        });
        let dir = Path::new("/tmp/floe \"dev\\net\"/nodes/node0");
        assert_eq!(cfg.bls_key_file, dir.join("bls.key"));
        assert_eq!(cfg.operator_key_file, dir.join("operator.key"));
        assert_eq!(cfg.storage_dir, dir.join("db"));
        assert_eq!(cfg.rpc_url, "http://127.0.0.1:8545");
        assert_eq!(cfg.listen_address.to_string(), "127.0.0.1:9107");
        assert_eq!(cfg.public_address, "127.0.0.1:9107");
        assert_eq!(cfg.poll_interval_ms, 200);
        assert_eq!(cfg.certify_grace_secs, 3600);
        assert_eq!(cfg.deployment, deployment());
    }

    #[test]
    fn an_unset_certify_grace_leaves_the_node_default() {
        let cfg = written(&NodeOptions {
            poll_interval_ms: 50,
            certify_grace_secs: None,
        });
        assert_eq!(
            cfg.certify_grace_secs,
            floe_node::config::defaults::certify_grace_secs()
        );
    }
}
