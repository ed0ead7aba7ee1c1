//! Test helpers (feature `test-utils`): an anvil from the repository's npm toolchain and its
//! dev accounts as signers, for the chain and node integration tests.

use std::path::PathBuf;

use alloy::{
    node_bindings::{Anvil, AnvilInstance},
    signers::local::PrivateKeySigner,
};

/// Starts anvil from `node_modules/.bin` at the repository root. Panics with the command to run
/// when the npm toolchain is not installed: a test without a chain must fail, not skip.
pub fn anvil() -> AnvilInstance {
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../node_modules/.bin/anvil");
    assert!(
        bin.exists(),
        "anvil not installed: run `npm install` at the repo root, then rerun the tests"
    );
    // anvil's default code size limit is EIP-170's 24,576 bytes, as on a real chain: every
    // contract must deploy under it.
    Anvil::at(bin).args(["--hardfork", "prague"]).spawn()
}

/// anvil's dev account `i` as a signer.
pub fn signer(anvil: &AnvilInstance, i: usize) -> PrivateKeySigner {
    PrivateKeySigner::from_slice(&anvil.keys()[i].to_bytes()).expect("anvil's dev keys are valid")
}
