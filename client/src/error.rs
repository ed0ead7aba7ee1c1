//! [`ClientError`]: everything the SDK can fail with, each message saying what to do next, and
//! its [`ErrorClass`]: what an HTTP service built on the SDK answers for it.

use std::path::PathBuf;

use floe_chain::ChainError;
use floe_core::{ids::BlobId, quilt::QuiltError};

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
    /// A systematic primary sliver (a row of the blob) could be neither fetched from its node
    /// nor rebuilt from other nodes' recovery symbols.
    #[error(
        "read of {blob_id} failed: primary sliver {pair} (bytes {start}..{end} of the blob) could not be fetched ({fetch}) \
         nor rebuilt: only {got} verified recovery symbols, {needed} are needed; too many nodes are down or faulty, retry later. \
         Node errors: {failures}"
    )]
    SliverUnavailable {
        /// The blob.
        blob_id: BlobId,
        /// The sliver pair (= the row of the blob).
        pair: u16,
        /// First byte of the blob the sliver holds.
        start: u64,
        /// End (exclusive) of the bytes it holds, at most the blob's length.
        end: u64,
        /// Why the sliver's own node did not serve it.
        fetch: String,
        /// Recovery symbols that verified.
        got: usize,
        /// Recovery symbols a rebuild needs (n-f).
        needed: usize,
        /// One line per failing node asked for a symbol (at most 8).
        failures: String,
    },
    /// A byte range outside the blob was asked for.
    #[error(
        "range {start}..{end} is outside blob {blob_id} of {len} bytes; ask for a range with start <= end <= {len}"
    )]
    RangeOutOfBounds {
        /// The blob.
        blob_id: BlobId,
        /// The range's start.
        start: u64,
        /// The range's end (exclusive).
        end: u64,
        /// The blob's length.
        len: u64,
    },
    /// The blob is larger than the network can store in one blob.
    #[error(
        "blob of {len} bytes is larger than the maximum of {max} bytes for this network's {n_shards} shards; split it into smaller blobs"
    )]
    BlobTooLarge {
        /// The blob's length.
        len: u64,
        /// The largest blob.
        max: u64,
        /// Shards of the network.
        n_shards: u16,
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
    /// No registration of the blob can be transferred as asked.
    #[error("cannot transfer blob {blob_id}: {reason}")]
    CannotTransfer {
        /// The blob.
        blob_id: BlobId,
        /// Why, and what to do.
        reason: String,
    },
    /// No registration of the blob can have its attributes changed as asked.
    #[error("cannot change the attributes of blob {blob_id}: {reason}")]
    CannotEditAttributes {
        /// The blob.
        blob_id: BlobId,
        /// Why, and what to do.
        reason: String,
    },
    /// An attribute's key or value is outside the registry's limits (checked before sending).
    #[error("invalid attribute: {0}")]
    InvalidAttribute(String),
    /// The registration has no attribute of this key.
    #[error(
        "registration {registration_id} of blob {blob_id} has no attribute {key:?}; `floe attr get {blob_id} --registration {registration_id}` lists its attributes"
    )]
    AttributeNotFound {
        /// The blob.
        blob_id: BlobId,
        /// The registration.
        registration_id: u64,
        /// The key asked for.
        key: String,
    },
    /// No registration of the blob can be shared as asked.
    #[error("cannot share blob {blob_id}: {reason}")]
    CannotShare {
        /// The blob.
        blob_id: BlobId,
        /// Why, and what to do.
        reason: String,
    },
    /// No shared registration of the blob can be funded and extended as asked.
    #[error("cannot fund blob {blob_id}: {reason}")]
    CannotFund {
        /// The blob.
        blob_id: BlobId,
        /// Why, and what to do.
        reason: String,
    },
    /// A file read of a blob that starts with the manifest magic but is not a valid manifest
    /// (see `floe_core::manifest`: it is never silently read as raw bytes).
    #[error(
        "blob {blob_id} starts like a file manifest but is not a valid one: {reason}; read its raw bytes with `floe read --raw` (Client::read / BlobReader)"
    )]
    InvalidManifest {
        /// The blob.
        blob_id: BlobId,
        /// Why it does not parse.
        reason: String,
    },
    /// A chunk of a large file could not be read.
    #[error("chunk {index} of {count} ({chunk}) of file {blob_id} cannot be read: {error}")]
    ChunkUnreadable {
        /// The file's manifest blob.
        blob_id: BlobId,
        /// The chunk's position (0-based).
        index: usize,
        /// The file's chunk count.
        count: usize,
        /// The chunk's blob id.
        chunk: BlobId,
        /// Why.
        error: Box<ClientError>,
    },
    /// A chunk blob whose length is not the one its manifest says.
    #[error(
        "chunk {index} ({chunk}) of file {blob_id} has {got} bytes, the manifest says {expected}: the manifest's writer named the wrong blob, the file cannot be read"
    )]
    ChunkLengthMismatch {
        /// The file's manifest blob.
        blob_id: BlobId,
        /// The chunk's position (0-based).
        index: usize,
        /// The chunk's blob id.
        chunk: BlobId,
        /// The chunk blob's length.
        got: u64,
        /// The length the manifest gives it.
        expected: u64,
    },
    /// The bytes of a large file's chunks do not hash to the SHA-256 its manifest records.
    #[error(
        "file {blob_id}: its chunks' bytes hash to SHA-256 {got}, the manifest records {expected}: the manifest's writer recorded a wrong hash, the file cannot be trusted"
    )]
    FileHashMismatch {
        /// The file's manifest blob.
        blob_id: BlobId,
        /// The SHA-256 recorded (hex).
        expected: String,
        /// The SHA-256 of the bytes read (hex).
        got: String,
    },
    /// A file being stored changed while it was read (its length no longer matches).
    #[error(
        "{} changed while it was being stored ({reason}); store it again once it is stable",
        path.display()
    )]
    FileChanged {
        /// The file.
        path: PathBuf,
        /// What changed.
        reason: String,
    },
    /// The files given cannot make a quilt (duplicate or bad identifier, no file, too large):
    /// found before anything is paid. The message says what to change.
    #[error("cannot build the quilt: {0}")]
    QuiltBuild(QuiltError),
    /// The paths given for a quilt cannot be collected (a name that is not UTF-8, too many or
    /// too large files).
    #[error("cannot collect the quilt's files: {0}")]
    QuiltInput(String),
    /// The blob is not a well-formed quilt (bad index, or a file that does not match its hash).
    #[error("blob {blob_id} is not a readable quilt: {error}; read it as a blob with `floe read`")]
    NotAQuilt {
        /// The blob.
        blob_id: BlobId,
        /// What is wrong with it.
        error: QuiltError,
    },
    /// The quilt has no file of this identifier.
    #[error(
        "quilt {quilt_id} has no file {identifier:?}; `floe list-quilt {quilt_id}` lists its files"
    )]
    QuiltFileUnknown {
        /// The quilt.
        quilt_id: BlobId,
        /// The identifier asked for.
        identifier: String,
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

/// What kind of failure a [`ClientError`] is, for a service answering over HTTP: whose fault it
/// is and whether retrying can help. See [`ClientError::class`] for the mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The request itself is wrong (a range outside the blob, a blob too large, a registration
    /// of another blob, ...): asking again unchanged fails again. HTTP 400.
    BadRequest,
    /// The blob or registration does not exist, or is not available yet (registered but not
    /// certified). HTTP 404.
    NotFound,
    /// The blob existed but its data is gone for good: deleted, expired, or invalid
    /// (inconsistently encoded). HTTP 410.
    Gone,
    /// Too few storage nodes answered, the chain could not be reached, a request timed out, or
    /// the network moved under the request: retrying later may succeed. HTTP 503 with
    /// `Retry-After`.
    Unavailable,
    /// The service itself is broken: its config, wallet, deployment or a bug. Nothing the
    /// caller can fix. HTTP 500.
    Internal,
}

impl ErrorClass {
    /// Whether the same request may succeed later.
    pub fn is_retryable(self) -> bool {
        self == Self::Unavailable
    }
}

impl ClientError {
    /// The class of this error, for services mapping it to an HTTP status:
    ///
    /// - NotFound ([`ErrorClass::NotFound`]): [`BlobUnknown`](Self::BlobUnknown) (never registered),
    ///   [`BlobNotCertified`](Self::BlobNotCertified) (registered, not readable yet),
    ///   [`RegistrationUnknown`](Self::RegistrationUnknown),
    ///   [`AttributeNotFound`](Self::AttributeNotFound),
    ///   [`QuiltFileUnknown`](Self::QuiltFileUnknown), and a chain revert `UnknownBlob`.
    /// - Gone ([`ErrorClass::Gone`]): [`BlobDeleted`](Self::BlobDeleted),
    ///   [`BlobExpired`](Self::BlobExpired), [`BlobInvalid`](Self::BlobInvalid),
    ///   [`Inconsistent`](Self::Inconsistent) (the blob's writer encoded it inconsistently: it
    ///   has no content and will be marked invalid), a large file whose manifest does not
    ///   match its chunks ([`ChunkLengthMismatch`](Self::ChunkLengthMismatch),
    ///   [`FileHashMismatch`](Self::FileHashMismatch)), and a chain revert `BlobExpired`.
    /// - BadRequest ([`ErrorClass::BadRequest`]): [`RangeOutOfBounds`](Self::RangeOutOfBounds),
    ///   [`BlobTooLarge`](Self::BlobTooLarge), [`NotDeletable`](Self::NotDeletable),
    ///   [`CannotExtend`](Self::CannotExtend),
    ///   [`RegistrationOfAnotherBlob`](Self::RegistrationOfAnotherBlob), the refused changes of a
    ///   registration object ([`CannotTransfer`](Self::CannotTransfer),
    ///   [`CannotEditAttributes`](Self::CannotEditAttributes),
    ///   [`InvalidAttribute`](Self::InvalidAttribute), [`CannotShare`](Self::CannotShare),
    ///   [`CannotFund`](Self::CannotFund)), a file read of a blob that starts like a manifest
    ///   but is not one ([`InvalidManifest`](Self::InvalidManifest)), a file that changed while
    ///   it was stored ([`FileChanged`](Self::FileChanged)), quilts that cannot be built or read
    ///   ([`QuiltBuild`](Self::QuiltBuild), [`QuiltInput`](Self::QuiltInput),
    ///   [`NotAQuilt`](Self::NotAQuilt)), and the chain reverts
    ///   `NotRegistrationOwner`, `NotStorageOwner`, `RegistrationNotDeletable`, `StorageTooSmall`.
    /// - Unavailable ([`ErrorClass::Unavailable`]): too few nodes ([`NoMetadata`](Self::NoMetadata),
    ///   [`NotEnoughSlivers`](Self::NotEnoughSlivers),
    ///   [`SliverUnavailable`](Self::SliverUnavailable),
    ///   [`QuorumNotReached`](Self::QuorumNotReached)), the network moving under the request
    ///   ([`NoCommittee`](Self::NoCommittee),
    ///   [`CommitteeKeptChanging`](Self::CommitteeKeptChanging),
    ///   [`StorageRanOut`](Self::StorageRanOut): the epoch ended during the upload; a store
    ///   with one epoch more succeeds), and the chain unreachable or slow
    ///   ([`ChainError::Unreachable`], [`ChainError::Rpc`], [`ChainError::ReceiptTimeout`],
    ///   [`ChainError::TxFailed`], and the reverts `WrongEpoch`, `ShortOfQuorum`,
    ///   `NoCommittee`). Node request timeouts end as one of the "too few nodes" errors.
    /// - Internal ([`ErrorClass::Internal`]): the service's own config, wallet or deployment
    ///   ([`ConfigRead`](Self::ConfigRead), [`ConfigParse`](Self::ConfigParse),
    ///   [`InvalidWalletKey`](Self::InvalidWalletKey), [`HttpClient`](Self::HttpClient),
    ///   [`CommitteeMismatch`](Self::CommitteeMismatch), [`Io`](Self::Io), the other
    ///   [`ChainError`]s, including other reverts such as the wallet lacking WAL), and local
    ///   bugs ([`Encode`](Self::Encode), [`Decode`](Self::Decode): the slivers verified, so
    ///   decoding cannot fail on anything a node sent).
    ///
    /// A chunk of a large file that cannot be read ([`ChunkUnreadable`](Self::ChunkUnreadable))
    /// has the class of why.
    pub fn class(&self) -> ErrorClass {
        use ErrorClass::*;
        match self {
            Self::BlobUnknown(_)
            | Self::BlobNotCertified(_)
            | Self::RegistrationUnknown(_)
            | Self::AttributeNotFound { .. }
            | Self::QuiltFileUnknown { .. } => NotFound,
            Self::BlobDeleted(_)
            | Self::BlobExpired { .. }
            | Self::BlobInvalid(_)
            | Self::Inconsistent(_)
            | Self::ChunkLengthMismatch { .. }
            | Self::FileHashMismatch { .. } => Gone,
            Self::RangeOutOfBounds { .. }
            | Self::BlobTooLarge { .. }
            | Self::NotDeletable { .. }
            | Self::CannotExtend { .. }
            | Self::RegistrationOfAnotherBlob { .. }
            | Self::CannotTransfer { .. }
            | Self::CannotEditAttributes { .. }
            | Self::InvalidAttribute(_)
            | Self::CannotShare { .. }
            | Self::CannotFund { .. }
            | Self::InvalidManifest { .. }
            | Self::FileChanged { .. }
            | Self::QuiltBuild(_)
            | Self::QuiltInput(_)
            | Self::NotAQuilt { .. } => BadRequest,
            Self::ChunkUnreadable { error, .. } => error.class(),
            Self::NoMetadata { .. }
            | Self::NotEnoughSlivers { .. }
            | Self::SliverUnavailable { .. }
            | Self::QuorumNotReached { .. }
            | Self::NoCommittee { .. }
            | Self::CommitteeKeptChanging { .. }
            | Self::StorageRanOut { .. } => Unavailable,
            Self::Chain(e) => chain_class(e),
            Self::ConfigRead { .. }
            | Self::ConfigParse { .. }
            | Self::InvalidWalletKey(_)
            | Self::HttpClient(_)
            | Self::CommitteeMismatch { .. }
            | Self::Io { .. }
            | Self::Encode(_)
            | Self::Decode { .. } => Internal,
        }
    }
}

/// The class of a chain failure (see [`ClientError::class`]).
fn chain_class(e: &ChainError) -> ErrorClass {
    use ErrorClass::*;
    match e {
        ChainError::Unreachable { .. }
        | ChainError::Rpc { .. }
        | ChainError::ReceiptTimeout { .. }
        | ChainError::TxFailed { .. } => Unavailable,
        ChainError::Reverted { revert, .. } => match revert.name.as_str() {
            "UnknownBlob" => NotFound,
            "BlobExpired" => Gone,
            "NotRegistrationOwner"
            | "NotStorageOwner"
            | "RegistrationNotDeletable"
            | "StorageTooSmall" => BadRequest,
            "WrongEpoch" | "ShortOfQuorum" | "NoCommittee" => Unavailable,
            _ => Internal,
        },
        _ => Internal,
    }
}

#[cfg(test)]
mod tests {
    use floe_chain::error::Revert;

    use super::*;

    fn revert(name: &str) -> ClientError {
        ClientError::Chain(ChainError::Reverted {
            call: "certify",
            revert: Revert {
                name: name.to_owned(),
                rendered: format!("{name}()"),
                data: Default::default(),
            },
        })
    }

    #[test]
    fn errors_map_to_the_class_a_service_answers_with() {
        use ErrorClass::*;
        let id = BlobId([1; 32]);
        let cases = [
            (ClientError::BlobUnknown(id), NotFound),
            (ClientError::BlobNotCertified(id), NotFound),
            (ClientError::RegistrationUnknown(3), NotFound),
            (
                ClientError::AttributeNotFound {
                    blob_id: id,
                    registration_id: 3,
                    key: "k".into(),
                },
                NotFound,
            ),
            (
                ClientError::CannotTransfer {
                    blob_id: id,
                    reason: String::new(),
                },
                BadRequest,
            ),
            (
                ClientError::CannotEditAttributes {
                    blob_id: id,
                    reason: String::new(),
                },
                BadRequest,
            ),
            (ClientError::InvalidAttribute(String::new()), BadRequest),
            (
                ClientError::InvalidManifest {
                    blob_id: id,
                    reason: String::new(),
                },
                BadRequest,
            ),
            (
                ClientError::FileChanged {
                    path: "f".into(),
                    reason: String::new(),
                },
                BadRequest,
            ),
            (
                ClientError::ChunkUnreadable {
                    blob_id: id,
                    index: 1,
                    count: 2,
                    chunk: id,
                    error: Box::new(ClientError::BlobUnknown(id)),
                },
                NotFound,
            ),
            (
                ClientError::ChunkUnreadable {
                    blob_id: id,
                    index: 1,
                    count: 2,
                    chunk: id,
                    error: Box::new(ClientError::NoCommittee { epoch: 0 }),
                },
                Unavailable,
            ),
            (
                ClientError::ChunkLengthMismatch {
                    blob_id: id,
                    index: 0,
                    chunk: id,
                    got: 1,
                    expected: 2,
                },
                Gone,
            ),
            (
                ClientError::FileHashMismatch {
                    blob_id: id,
                    expected: String::new(),
                    got: String::new(),
                },
                Gone,
            ),
            (
                ClientError::CannotShare {
                    blob_id: id,
                    reason: String::new(),
                },
                BadRequest,
            ),
            (
                ClientError::CannotFund {
                    blob_id: id,
                    reason: String::new(),
                },
                BadRequest,
            ),
            (ClientError::BlobDeleted(id), Gone),
            (
                ClientError::BlobExpired {
                    blob_id: id,
                    end_epoch: 2,
                    current: 3,
                },
                Gone,
            ),
            (ClientError::BlobInvalid(id), Gone),
            (ClientError::Inconsistent(id), Gone),
            (
                ClientError::BlobTooLarge {
                    len: 10,
                    max: 5,
                    n_shards: 4,
                },
                BadRequest,
            ),
            (
                ClientError::NotEnoughSlivers {
                    blob_id: id,
                    got: 1,
                    needed: 2,
                    failures: String::new(),
                },
                Unavailable,
            ),
            (
                ClientError::NoMetadata {
                    blob_id: id,
                    failures: String::new(),
                },
                Unavailable,
            ),
            (ClientError::NoCommittee { epoch: 0 }, Unavailable),
            (
                ClientError::Chain(ChainError::Unreachable {
                    url: "http://127.0.0.1:1".into(),
                    reason: "refused".into(),
                }),
                Unavailable,
            ),
            (
                ClientError::Chain(ChainError::Rpc {
                    call: "epoch",
                    reason: "timed out".into(),
                }),
                Unavailable,
            ),
            (revert("WrongEpoch"), Unavailable),
            (revert("UnknownBlob"), NotFound),
            (revert("NotRegistrationOwner"), BadRequest),
            (revert("ERC20InsufficientBalance"), Internal),
            (
                ClientError::Chain(ChainError::NoWallet { call: "register" }),
                Internal,
            ),
            (ClientError::InvalidWalletKey("x".into()), Internal),
            (ClientError::Encode("bug".into()), Internal),
            (
                ClientError::Decode {
                    blob_id: id,
                    message: "bug".into(),
                },
                Internal,
            ),
        ];
        for (error, class) in cases {
            assert_eq!(error.class(), class, "{error}");
            assert_eq!(error.class().is_retryable(), class == Unavailable);
        }
        assert_eq!(
            serde_json::to_value(ErrorClass::BadRequest).expect("serializes"),
            "bad_request"
        );
    }
}
