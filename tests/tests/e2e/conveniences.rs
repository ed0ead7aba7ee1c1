//! CLI conveniences of issue #9 through the `floe` binary: `floe blob-id` gives the id a store
//! gives, `floe store --dry-run` prices exactly what the store then pays and stores nothing,
//! `floe store` takes several files at once and reports each (one bad file fails the command
//! but not the others), `floe status` of a large file's id shows the file and its chunks, and
//! `floe ls` lists the caller's registrations from the chain (and stops listing one given away).

use std::path::Path;

use alloy::primitives::Address;
use anyhow::{Context, Result, ensure};
use floe_tests::{start_devnet, test_bytes, workspace_binary};
use serde_json::Value;
use tokio::process::Command;

const CHUNK: u64 = 1 << 20;

/// Runs `floe ARGS` with the devnet's config; fails unless it succeeds.
async fn floe_ok(args: &[&str], config: &Path) -> Result<std::process::Output> {
    let out = floe(args, config).await?;
    ensure!(
        out.status.success(),
        "floe {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(out)
}

async fn floe(args: &[&str], config: &Path) -> Result<std::process::Output> {
    Command::new(workspace_binary("floe")?)
        .args(args)
        .env_remove("FLOE_HOME")
        .env("FLOE_CONFIG", config)
        .env("NO_COLOR", "1")
        .output()
        .await
        .with_context(|| format!("running floe {args:?}"))
}

async fn floe_json(args: &[&str], config: &Path) -> Result<Value> {
    let out = floe_ok(args, config).await?;
    serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "floe {args:?} printed {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_id_dry_run_several_files_status_and_ls() -> Result<()> {
    let devnet = start_devnet(4).await?;
    let config = devnet.dir().join("client.toml");
    let work = devnet.dir().join("conveniences");
    std::fs::create_dir_all(&work)?;
    let big = work.join("big.bin");
    std::fs::write(&big, test_bytes(3 * CHUNK as usize - 17, 21))?;
    let a = work.join("a.txt");
    std::fs::write(&a, test_bytes(1000, 22))?;
    let b = work.join("b.txt");
    std::fs::write(&b, test_bytes(2000, 23))?;
    let (big_s, a_s, b_s) = (
        big.to_str().context("path")?,
        a.to_str().context("path")?,
        b.to_str().context("path")?,
    );
    let chunk = CHUNK.to_string();

    // blob-id: the id without storing; text is "ID  FILE" per line.
    let id = floe_json(
        &["blob-id", big_s, "--chunk-size", &chunk, "--json"],
        &config,
    )
    .await?;
    let big_id = id["blob_id"].as_str().context("blob_id")?.to_owned();
    assert_eq!(id["size"], 3 * CHUNK - 17);
    assert_eq!(id["chunks"].as_array().context("chunks")?.len(), 3);
    let text = floe_ok(&["blob-id", a_s, b_s], &config).await?;
    let text = String::from_utf8(text.stdout)?;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    ensure!(lines[0].ends_with(&format!("  {a_s}")), "{text}");

    // Dry run: every blob to register, at a price; nothing lands on the chain.
    let plan = floe_json(
        &[
            "store",
            big_s,
            "--chunk-size",
            &chunk,
            "--dry-run",
            "--json",
        ],
        &config,
    )
    .await?;
    assert_eq!(plan["blob_id"], big_id.as_str());
    let blobs = plan["blobs"].as_array().context("blobs")?;
    assert_eq!(blobs.len(), 4, "3 chunks and the manifest");
    for blob in blobs {
        assert_eq!(blob["action"], "register");
    }
    let encoded: u64 = blobs
        .iter()
        .map(|b| b["encoded_size"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(plan["encoded_size"], encoded);
    let cost = plan["cost"].as_str().context("cost")?.to_owned();
    ensure!(cost != "0", "a new file costs something");
    let status = floe_json(&["status", &big_id, "--json"], &config).await?;
    assert_eq!(status["state"], "unknown", "a dry run stored nothing");
    assert_eq!(status["file"], Value::Null);

    // Several files at once, one JSON entry each in the order given.
    let stored = floe_json(
        &["store", big_s, a_s, b_s, "--chunk-size", &chunk, "--json"],
        &config,
    )
    .await?;
    let stored = stored.as_array().context("an array")?;
    assert_eq!(stored.len(), 3);
    assert_eq!(stored[0]["file"], big_s);
    assert_eq!(stored[0]["result"]["blob_id"], big_id.as_str());
    assert_eq!(
        stored[0]["result"]["paid"],
        cost.as_str(),
        "the dry run's price"
    );
    let a_id = stored[1]["result"]["blob_id"].as_str().context("a")?;
    ensure!(
        lines[0].starts_with(a_id),
        "blob-id {} but stored {a_id}",
        lines[0]
    );
    assert_eq!(stored[2]["file"], b_s);

    // Now the dry run finds everything certified: nothing to pay.
    let plan = floe_json(
        &[
            "store",
            big_s,
            "--chunk-size",
            &chunk,
            "--dry-run",
            "--json",
        ],
        &config,
    )
    .await?;
    assert_eq!(plan["cost"], "0");
    for blob in plan["blobs"].as_array().context("blobs")? {
        assert_eq!(blob["action"], "already-certified");
    }

    // Status of the file's id: the manifest's status and the file's.
    let status = floe_json(&["status", &big_id, "--json"], &config).await?;
    assert_eq!(status["state"], "certified");
    let file = &status["file"];
    assert_eq!(file["size"], 3 * CHUNK - 17);
    assert_eq!(file["chunk_size"], CHUNK);
    assert_eq!(file["state"], "certified");
    assert_eq!(file["chunks"].as_array().context("chunks")?.len(), 3);
    assert_eq!(file["certified_end_epoch"], status["certified_end_epoch"]);
    let text = floe_ok(&["status", &big_id], &config).await?;
    let text = String::from_utf8(text.stdout)?;
    ensure!(text.contains("3 of 3 certified"), "{text}");
    // A plain blob has no file part.
    let status = floe_json(&["status", a_id, "--json"], &config).await?;
    assert_eq!(status["file"], Value::Null);

    // ls: the chunks', the manifest's and both small files' registrations, all certified.
    let listing = floe_json(&["ls", "--json"], &config).await?;
    let listed = listing["registrations"]
        .as_array()
        .context("registrations")?;
    let mut expected: Vec<u64> = stored[0]["result"]["chunks"]
        .as_array()
        .context("chunks")?
        .iter()
        .map(|c| c["registration_id"].as_u64().unwrap_or(0))
        .collect();
    expected.push(
        stored[0]["result"]["stored"]["registration_id"]
            .as_u64()
            .context("manifest")?,
    );
    expected.push(
        stored[1]["result"]["registration_id"]
            .as_u64()
            .context("a")?,
    );
    expected.push(
        stored[2]["result"]["registration_id"]
            .as_u64()
            .context("b")?,
    );
    for id in &expected {
        let entry = listed
            .iter()
            .find(|r| r["registration_id"] == *id)
            .with_context(|| format!("registration {id} not listed: {listing}"))?;
        assert_eq!(entry["state"], "certified");
    }
    assert_eq!(listed.len(), expected.len(), "{listing}");
    let newest: Vec<u64> = listed
        .iter()
        .map(|r| r["registration_id"].as_u64().unwrap_or(0))
        .collect();
    ensure!(
        newest.windows(2).all(|w| w[0] > w[1]),
        "newest first: {newest:?}"
    );

    // Give a's registration away: ls stops listing it.
    let client = devnet.client().await?;
    let a_blob = a_id.parse()?;
    client
        .transfer(&a_blob, None, Address::repeat_byte(0x42))
        .await?;
    let listing = floe_json(&["ls", "--json"], &config).await?;
    let listed = listing["registrations"]
        .as_array()
        .context("registrations")?;
    assert_eq!(listed.len(), expected.len() - 1);
    ensure!(
        !listed.iter().any(|r| r["blob_id"] == a_id),
        "a given-away registration is still listed"
    );
    let text = String::from_utf8(floe_ok(&["ls"], &config).await?.stdout)?;
    ensure!(
        text.contains(&big_id) && text.contains("certified"),
        "{text}"
    );

    // One missing file among several: the others are stored, the command fails naming it.
    let missing = work.join("missing.bin");
    let out = floe(&["store", b_s, missing.to_str().context("path")?], &config).await?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(
        !out.status.success(),
        "a missing file must fail the command"
    );
    ensure!(
        stderr.contains("1 of 2 files were not stored") && stderr.contains("missing.bin"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    ensure!(stdout.contains("already certified"), "{stdout}");
    Ok(())
}
