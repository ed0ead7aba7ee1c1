//! floe-client: the SDK behind the `floe` CLI.
//!
//! A [`Client`] stores a blob by encoding it (floe-core's Red Stuff), paying for and registering
//! it on-chain, uploading each shard's sliver pair to the node holding that shard, collecting
//! BLS confirmations from nodes holding a quorum of shards and certifying the blob with their
//! aggregate. It reads a blob back from any `n-2f` verified primary slivers, or streams a byte
//! range of it from the systematic primary slivers that hold it.
//!
//! Layout:
//! - [`client`]: the SDK ([`Client`]): store, read, status, info, delete, extend, faucet, stake.
//! - [`objects`]: registrations as on-chain objects: transfer, attributes, share, fund.
//! - `registrations`: which registration a store reuses, or whether it registers anew.
//! - [`large`]: large files as chunk blobs and a manifest ([`Client::store_file`],
//!   [`Client::read_file`]).
//! - [`config`]: the client config file and where it is looked up (`FLOE_CONFIG`, `FLOE_HOME`).
//! - [`error`]: [`ClientError`], messages that say what to do next.
//! - [`node_api`]: HTTP client of one storage node, with retries and backoff.
//! - [`progress`]: indicatif progress bars.
//! - [`observe`]: [`StoreEvent`]s of a store's phases, for services showing progress.
//! - [`quilt`]: many small files as one blob ([`Client::store_quilt`]), each read on its own.
//! - [`plan`]: what a store would do without doing it ([`Client::file_id`], [`Client::plan_file`]).
//! - [`file_status`]: a blob's status and, for a manifest, its file's ([`Client::file_status`]).
//! - [`owned`]: the caller's registrations from the chain ([`Client::list_registrations`]).
//! - [`stream`]: [`BlobReader`], streaming ranged reads verified sliver by sliver.
//!
//! The local network of `floe devnet` lives in the floe-devnet crate, above this one.

pub mod client;
pub mod config;
pub mod error;
#[cfg(test)]
mod fake_node;
pub mod file_status;
pub mod large;
pub mod node_api;
pub mod objects;
pub mod observe;
pub mod owned;
pub mod plan;
pub mod progress;
pub mod quilt;
mod read;
mod registrations;
mod store;
pub mod stream;
pub mod units;

pub use client::{
    BlobStatus, Client, Deleted, Extended, NetworkInfo, RegistrationView, StoreOptions,
    StoreOutcome, StoreResult, StoreTimings,
};
pub use config::ClientConfig;
pub use error::{ClientError, ErrorClass};
pub use file_status::{ChunkStatus, FileStatus, FileSummary};
pub use large::{FileOptions, FileRead, FileStored};
pub use objects::{Attribute, Attributes, Funded, Shared, Transferred};
pub use observe::{StoreEvent, StoreObserver};
pub use owned::{ListOptions, Listed, Listing};
pub use plan::{FileBlob, FileId, FilePlan, PlannedAction, PlannedBlob};
pub use progress::Progress;
pub use quilt::{QuiltFile, QuiltFileRead, QuiltReader, QuiltStored, collect_quilt_files};
pub use stream::BlobReader;
