//! The node ↔ client HTTP contract, written once (pure, no I/O): both `floe-node` and
//! `floe-client` build their requests, answers and caps from here.
//!
//! Layout:
//! - [`routes`]: path templates (axum syntax) and builders for every endpoint.
//! - [`dto`]: the JSON bodies (confirmations, blob status, health, upload answers).
//! - [`error`]: the JSON error body `{error, code}` and [`ErrorCode`] with its HTTP status.
//! - [`limits`]: exact wire sizes of metadata, slivers, symbols and proofs derived from a
//!   blob's encoding, and the caps of small JSON bodies, so every body read is capped by what
//!   the request can legitimately need.
//! - [`symbols`]: the `?indices=a,b` list (strict, bounded parsing) and the batch answer of
//!   recovery symbols.
//! - [`address`]: a node's registered network address (`host:port`), validated and turned
//!   into a base URL.
//! - [`quorum`]: the one quorum computation (availability `3w ≥ 2n+1`, validity `3w ≥ n+1`).

pub mod address;
pub mod dto;
pub mod error;
pub mod limits;
pub mod quorum;
pub mod routes;
pub mod symbols;

pub use address::{AddressError, NodeAddress};
pub use dto::{BlobStatus, Confirmation, Health, ServiceHealth, Stored};
pub use error::{ErrorBody, ErrorCode};
pub use limits::WireLimits;
pub use quorum::Quorum;
pub use symbols::{IndicesError, SymbolListError};
