//! `sol!` bindings generated from the committed Foundry artifacts in `chain/artifacts/`
//! (ABI + creation bytecode; see `chain/artifacts/update.sh`).
//!
//! Each contract lives in its own module because the artifacts name the interfaces' structs
//! (`IBlobRegistry.BlobInfo`, `IStaking.NodeInfo`) and would otherwise collide.

#![allow(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    clippy::too_many_arguments
)]

/// The WAL token (ERC-20, 9 decimals, capped faucet).
pub mod wal {
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        WAL,
        "artifacts/WAL.json"
    );
}

/// Staking, epochs, committees and prices.
pub mod staking {
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        Staking,
        "artifacts/Staking.json"
    );
}

/// Storage resources and the blob registry.
pub mod registry {
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        BlobRegistry,
        "artifacts/BlobRegistry.json"
    );
}

/// The artifacts' JSON text, for deployment (creation bytecode) and the sync test.
pub mod artifacts {
    /// `chain/artifacts/WAL.json`.
    pub const WAL: &str = include_str!("../artifacts/WAL.json");
    /// `chain/artifacts/Staking.json`.
    pub const STAKING: &str = include_str!("../artifacts/Staking.json");
    /// `chain/artifacts/BlobRegistry.json`.
    pub const BLOB_REGISTRY: &str = include_str!("../artifacts/BlobRegistry.json");
}
