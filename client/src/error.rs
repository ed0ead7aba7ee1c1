//! [`ClientError`]: everything the SDK can fail with, each message saying what to do next.

use std::path::PathBuf;

use floe_core::ids::BlobId;

/// An error of the floe client SDK.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The config file could not be read.
    #[error(
        "cannot read the client config {path}: {error}; start a devnet with `floe devnet`, or point --config / FLOE_CONFIG at a config file"
    )]
    ConfigRead {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The config file is not valid TOML or misses fields.
    #[error(
        "invalid client config {path}: {message}; fix the file (see `floe --help` for its fields)"
    )]
    ConfigParse {
        /// The file (empty when parsed from text).
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// The wallet key in the config is not a secp256k1 private key.
    #[error("invalid wallet_key in the client config: {0}; expected 32 bytes of hex")]
    InvalidWalletKey(String),
    /// A chain call failed (RPC unreachable, a revert, ...).
    #[error(transparent)]
    Chain(#[from] floe_chain::ChainError),
    /// Reading or writing a local file failed.
    #[error("{context}: {error}")]
    Io {
        /// What was being done.
        context: String,
        /// Why it failed.
        error: std::io::Error,
    },
    /// The blob cannot be encoded (e.g. larger than the maximum for the network's shard count).
    #[error("cannot encode the blob: {0}")]
    Encode(String),
    /// The current epoch has no committee yet.
    #[error(
        "the network has no committee in epoch {epoch}; wait for the first epoch (a devnet advances to it at start)"
    )]
    NoCommittee {
        /// The current epoch.
        epoch: u32,
    },
    /// Fewer than a quorum of shards confirmed the blob.
    #[error(
        "store of {blob_id} failed: confirmations from nodes holding {weight} of {n} shards, a quorum needs {needed}; \
         registration {registration_id} (paid storage until epoch {end_epoch}) stays yours: run the same `floe store` again once more \
         nodes are up and it is reused without paying again. Node errors: {failures}"
    )]
    QuorumNotReached {
        /// The blob.
        blob_id: BlobId,
        /// The registration that was to be certified.
        registration_id: u64,
        /// Shards whose nodes confirmed.
        weight: u32,
        /// Shards needed (3w >= 2n+1).
        needed: u32,
        /// Total shards.
        n: u16,
        /// End epoch of the registration.
        end_epoch: u32,
        /// One line per failing node.
        failures: String,
    },
    /// The registration's storage ended while the blob was being uploaded (e.g. `--epochs 1`
    /// near the end of an epoch): the nodes no longer accept it (410) and it cannot be certified.
    #[error(
        "store of {blob_id} failed: its storage ran out during the upload: it was paid until epoch {end_epoch} and the network \
         is now in epoch {epoch}, so the nodes no longer accept the blob. Buy more: run `floe store --epochs {epochs}` \
         (one epoch more than the {bought} bought, so that the storage outlasts an upload that crosses an epoch boundary); \
         the expired registration cannot be reused"
    )]
    StorageRanOut {
        /// The blob.
        blob_id: BlobId,
        /// End epoch (exclusive) of the registration.
        end_epoch: u32,
        /// The chain's epoch when the upload gave up.
        epoch: u32,
        /// Epochs the registration had paid for.
        bought: u32,
        /// Epochs to buy when storing again.
        epochs: u32,
    },
    /// The committee changed again and again while the blob was being stored.
    #[error(
        "store of {blob_id} failed: the committee changed {replacements} times while uploading (last epoch {epoch}); \
         the registration (paid storage until epoch {end_epoch}) stays yours: run the same `floe store` again and it is reused without paying again"
    )]
    CommitteeKeptChanging {
        /// The blob.
        blob_id: BlobId,
        /// How many times the blob was placed on a new committee.
        replacements: usize,
        /// The last epoch seen.
        epoch: u32,
        /// End epoch of the registration.
        end_epoch: u32,
    },
    /// The committee read from the chain does not fit the network's encoding.
    #[error(
        "the committee of epoch {epoch} has {got} shards but the network encodes for {expected}; the chain's data is inconsistent, check the config's deployment"
    )]
    CommitteeMismatch {
        /// The epoch.
        epoch: u32,
        /// Shards of the committee.
        got: u16,
        /// Shards of the encoding.
        expected: u16,
    },
    /// The HTTP client for the storage nodes could not be built.
    #[error("cannot build the HTTP client for storage nodes: {0}; check the system's TLS setup")]
    HttpClient(String),
    /// The blob was never registered.
    #[error(
        "blob {0} is unknown: it was never registered on this network (check the id and the config's network)"
    )]
    BlobUnknown(BlobId),
    /// The blob was deleted by its owner.
    #[error("blob {0} was deleted by its owner; its data is gone")]
    BlobDeleted(BlobId),
    /// The blob's storage ran out.
    #[error(
        "blob {blob_id} expired at epoch {end_epoch} (current epoch {current}); its data is gone"
    )]
    BlobExpired {
        /// The blob.
        blob_id: BlobId,
        /// Its end epoch (exclusive).
        end_epoch: u32,
        /// The current epoch.
        current: u32,
    },
    /// The blob was marked invalid (inconsistently encoded by its writer).
    #[error("blob {0} is invalid: its writer encoded it inconsistently, so it has no content")]
    BlobInvalid(BlobId),
    /// The blob is registered but not certified: it is not available (yet).
    #[error(
        "blob {0} is registered but not certified, so it is not available; its writer should run `floe store` again"
    )]
    BlobNotCertified(BlobId),
    /// No node served metadata matching the blob id.
    #[error(
        "no storage node served valid metadata for blob {blob_id}: {failures}; retry later or check the nodes"
    )]
    NoMetadata {
        /// The blob.
        blob_id: BlobId,
        /// One line per failing node.
        failures: String,
    },
    /// Too few primary slivers could be fetched and verified.
    #[error(
        "read of {blob_id} failed: only {got} verified primary slivers, {needed} are needed; too many nodes are down or faulty, retry later. Node errors: {failures}"
    )]
    NotEnoughSlivers {
        /// The blob.
        blob_id: BlobId,
        /// Verified slivers fetched.
        got: usize,
        /// Slivers needed (n-2f).
        needed: usize,
        /// One line per failing node.
        failures: String,
    },
    /// Decoding failed although enough slivers verified.
    #[error("cannot decode blob {blob_id}: {message}")]
    Decode {
        /// The blob.
        blob_id: BlobId,
        /// The decoder's message.
        message: String,
    },
    /// The decoded bytes do not re-encode to the blob id: the writer encoded inconsistently.
    #[error(
        "blob {0} is inconsistent: the decoded bytes do not match the blob id (the writer encoded it inconsistently)"
    )]
    Inconsistent(BlobId),
    /// The blob is not deletable or not ours.
    #[error("cannot delete blob {blob_id}: {reason}")]
    NotDeletable {
        /// The blob.
        blob_id: BlobId,
        /// Why.
        reason: String,
    },
    /// No registration of the blob can be extended as asked.
    #[error("cannot extend blob {blob_id}: {reason}")]
    CannotExtend {
        /// The blob.
        blob_id: BlobId,
        /// Why, and what to do.
        reason: String,
    },
    /// No registration has this id.
    #[error(
        "registration {0} does not exist on this network; `floe status BLOB_ID` lists your registrations of a blob"
    )]
    RegistrationUnknown(u64),
    /// The registration named is of another blob.
    #[error(
        "registration {registration_id} is of blob {actual}, not of {blob_id}; `floe status {blob_id}` lists your registrations of it"
    )]
    RegistrationOfAnotherBlob {
        /// The registration.
        registration_id: u64,
        /// The blob named.
        blob_id: BlobId,
        /// The blob it is of.
        actual: BlobId,
    },
}

impl ClientError {
    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, error: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            error,
        }
    }
}
