//! floe-tests: helpers for the end-to-end tests (anvil, contracts, node processes).
