//! floe-devnet: a whole local floe network as a library — anvil, the deployed contracts and
//! storage nodes each in its own `floe-node` process — for `floe devnet` and the end-to-end
//! tests.
//!
//! It sits above the SDK: it uses floe-client (the client config, node health checks),
//! floe-chain (deployment, registration, staking) and floe-core (BLS keys); nothing in the SDK
//! depends on it.
//!
//! Layout:
//! - [`network`]: [`Devnet`], start-up, stopping and restarting nodes, moving epochs.
//! - [`config_files`]: the node configs and the client config it writes (serde + `toml`).
//! - [`process`]: child processes with logs, free ports, finding `anvil` and `floe-node`.
//! - [`error`]: what can go wrong, [`DevnetError`].

pub mod config_files;
pub mod error;
pub mod network;
pub mod process;

pub use error::DevnetError;
pub use network::{Devnet, DevnetNode, DevnetOptions, increase_time};
