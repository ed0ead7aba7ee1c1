//! floe-chain: alloy bindings to the floe contracts, used by node and client.
