//! The committed artifacts in `chain/artifacts/` must be exactly what `chain/artifacts/update.sh`
//! produces from the current Solidity sources. This test runs the script into a temporary
//! directory (a real `forge build` with the repo's npm toolchain) and compares byte for byte, so
//! a contract change without regenerated bindings fails `cargo test`. It needs the npm toolchain
//! installed (`npm install`); without it the test fails saying so.

use std::{path::PathBuf, process::Command};

#[test]
fn committed_artifacts_match_a_fresh_forge_build() {
    let chain_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let repo = chain_dir
        .parent()
        .expect("chain/ has a parent")
        .to_path_buf();
    assert!(
        repo.join("node_modules/.bin/forge").exists(),
        "the npm toolchain is not installed: run `npm install` at the repo root, then rerun the tests"
    );
    let out = std::env::temp_dir().join(format!("floe-chain-artifacts-{}", std::process::id()));
    let status = Command::new("bash")
        .arg(chain_dir.join("artifacts/update.sh"))
        .arg(&out)
        .current_dir(&repo)
        .status()
        .expect("run chain/artifacts/update.sh");
    assert!(
        status.success(),
        "chain/artifacts/update.sh failed: {status}"
    );
    for name in ["WAL", "Staking", "BlobRegistry"] {
        let committed = std::fs::read_to_string(chain_dir.join(format!("artifacts/{name}.json")))
            .expect("read committed artifact");
        let fresh =
            std::fs::read_to_string(out.join(format!("{name}.json"))).expect("read fresh artifact");
        assert!(
            committed == fresh,
            "chain/artifacts/{name}.json is stale: the contracts changed; run chain/artifacts/update.sh and commit the result"
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}
