//! The `floe-node` binary: keygen, and one clear error line (exit code 1, no panic) for a
//! missing config, a broken key and an unreachable RPC.
#![allow(clippy::unwrap_used)]

use std::{path::PathBuf, process::Command};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_floe-node"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("floe-node-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the binary expecting failure; returns stderr's error line.
fn fails(cmd: &mut Command) -> String {
    let out = cmd.env("RUST_LOG", "off").output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one error line expected: {stderr}");
    lines[0].to_owned()
}

#[test]
fn keygen_writes_a_key_and_refuses_to_overwrite() {
    let d = tmp("keygen");
    let key = d.join("bls.key");
    let out = bin().args(["keygen", "--out"]).arg(&key).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let sk =
        floe_core::bls::SecretKey::from_hex(std::fs::read_to_string(&key).unwrap().trim()).unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        sk.public_key().to_hex()
    );
    let line = fails(bin().args(["keygen", "--out"]).arg(&key));
    assert!(line.contains("refusing to overwrite"), "{line}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn missing_config_broken_key_and_dead_rpc_are_one_line_errors() {
    let line = fails(bin().args(["--config", "/nonexistent/floe-node.toml"]));
    assert!(
        line.contains("cannot read config file /nonexistent/floe-node.toml"),
        "{line}"
    );
    let line = fails(&mut bin());
    assert!(line.contains("--config"), "{line}");

    let d = tmp("errors");
    let example = include_str!("../floe-node.example.toml").replace("0.0.0.0:9100", "127.0.0.1:0");
    let config = d.join("node.toml");
    std::fs::write(
        &config,
        example.replace("http://127.0.0.1:8545", "http://127.0.0.1:1"),
    )
    .unwrap();
    // No key file yet.
    let line = fails(bin().arg("--config").arg(&config));
    assert!(
        line.contains("bls.key") && line.contains("floe-node keygen"),
        "{line}"
    );
    // A broken key.
    std::fs::write(d.join("bls.key"), "not hex").unwrap();
    let line = fails(bin().arg("--config").arg(&config));
    assert!(line.contains("not a BLS secret key"), "{line}");
    // Good keys, dead RPC.
    std::fs::remove_file(d.join("bls.key")).unwrap();
    assert!(
        bin()
            .args(["keygen", "--out"])
            .arg(d.join("bls.key"))
            .output()
            .unwrap()
            .status
            .success()
    );
    std::fs::write(
        d.join("operator.key"),
        "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    )
    .unwrap();
    let line = fails(bin().arg("--config").arg(&config));
    assert!(
        line.contains("cannot reach the chain RPC at http://127.0.0.1:1"),
        "{line}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}
