//! floe-gateway: the floe HTTP gateway — aggregator (`GET /v1/blobs/{id}`, streamed, ranged),
//! publisher (`PUT /v1/blobs`, JWT-authorized), explorer JSON and page, Prometheus metrics and
//! an OpenAPI 3.1 document. The API is described in `docs/GATEWAY.md`.
//!
//! The gateway holds no network logic: every read, store and chain query goes through a
//! [`Backend`], implemented on the floe-client SDK (and, for tests, by `fake::FakeBackend`).
//!
//! Layout:
//! - [`backend`]: the [`Backend`] trait and the data it exchanges.
//! - [`error`]: [`BackendError`], [`ApiError`] (the JSON error answers), [`GatewayError`].
//! - [`config`]: [`GatewayConfig`] (TOML).
//! - `auth`: JWT verification (HS256, EdDSA), single-use ids, quotas.
//! - `range`, `headers`: the `Range` header; attribute → header validation.
//! - `routes`: the router and its handlers; [`openapi`]: the OpenAPI document.
//! - `metrics`: Prometheus counters; `server`: [`serve`] with its timeouts and limits.
//! - [`sdk`]: [`SdkBackend`], the backend on the floe-client SDK.

mod auth;
pub mod backend;
pub mod config;
pub mod error;
#[cfg(any(test, feature = "test-support"))]
pub mod fake;
mod headers;
mod metrics;
pub mod openapi;
mod range;
mod routes;
pub mod sdk;
mod server;
pub mod token;

pub use backend::{
    AlreadyCertified, Backend, BlobHead, BlobInfo, BlobObject, BlobState, ByteStream,
    CommitteeMember, EvmAddress, NetworkStatus, NewlyCreated, NodeHealth, Phase, PhaseSink,
    PhaseUpdate, PublisherInfo, RecentBlob, RecentBlobs, RegistrationInfo, StoreRequest,
    StoreResponse, TxRecord,
};
pub use config::{GatewayConfig, JwtConfig};
pub use error::{ApiError, BackendError, ErrorBody, ErrorClass, GatewayError};
pub use routes::{ROUTES, router};
pub use sdk::SdkBackend;
pub use server::serve;

#[cfg(test)]
mod tests;
