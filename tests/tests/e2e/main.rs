//! End-to-end tests: real anvil, the deployed contracts, `floe-node` processes and the client.
//!
//! Build the binaries first: `cargo build --workspace --bins && cargo test -p floe-tests`.
//! One test binary, one module per topic; each test runs its own devnet.

mod cli;
mod conveniences;
mod crash;
mod epoch_change;
mod faults;
mod gateway;
mod large;
mod lifecycle;
mod objects;
mod quilt;
mod registrations;
mod rejects;
mod store_read;
