//! [`DevnetError`]: what can go wrong starting or driving a devnet, each message saying what to
//! do next.

use std::path::PathBuf;

use floe_client::ClientError;

/// What can go wrong starting or driving a devnet.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    /// anvil is not installed.
    #[error(
        "anvil not found in node_modules/.bin (searched upward from here and from this executable) nor on PATH; run `npm install` in the repository"
    )]
    AnvilNotFound,
    /// The floe-node executable is not built.
    #[error(
        "floe-node not found next to {exe} nor on PATH; build it with `cargo build --workspace --bins`"
    )]
    FloeNodeNotFound {
        /// The running executable.
        exe: String,
    },
    /// A local file operation failed.
    #[error("{context}: {error}")]
    Io {
        /// What was being done.
        context: String,
        /// Why.
        error: std::io::Error,
    },
    /// A chain call failed.
    #[error(transparent)]
    Chain(#[from] floe_chain::ChainError),
    /// The client failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A process exited during start-up.
    #[error("{name} exited during start-up ({status}); the end of its log {log}:\n{tail}")]
    Exited {
        /// Which process.
        name: String,
        /// Its exit status.
        status: String,
        /// Its log file.
        log: PathBuf,
        /// The end of the log.
        tail: String,
    },
    /// Something did not become ready in time.
    #[error("timed out after {secs}s waiting for {what}; see the logs in {dir}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        secs: u64,
        /// The devnet directory.
        dir: PathBuf,
    },
    /// A config file could not be serialized.
    #[error("cannot serialize the {what} as TOML: {message}")]
    Serialize {
        /// Which file.
        what: String,
        /// The serializer's message.
        message: String,
    },
    /// A bad option.
    #[error("invalid devnet option: {0}")]
    BadOption(String),
}

pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> DevnetError {
    let context = context.into();
    move |error| DevnetError::Io { context, error }
}
