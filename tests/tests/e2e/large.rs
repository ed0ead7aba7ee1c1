//! Large files (issue #9): chunk blobs and a manifest. Round trips byte for byte at the chunk
//! boundaries, storing again pays nothing, a file of one chunk is a plain blob, reads of broken
//! manifests fail with the chunk named and leave no output file, and the `floe` binary stores
//! and reads a 3-chunk file. Chunks are 1 MiB (100 shards) so this runs fast.

use std::{
    path::{Path, PathBuf},
    process::Output,
    sync::Arc,
};

use anyhow::{Context, Result, ensure};
use floe_client::{ClientError, FileOptions, StoreOptions, StoreOutcome, client::Client};
use floe_core::{
    ids::{BlobId, ENCODING_RED_STUFF},
    manifest::{KIND_ATTRIBUTE, KIND_MANIFEST, Manifest},
};
use floe_tests::{start_devnet, test_bytes, workspace_binary};
use tokio::process::Command;

const CHUNK: u64 = 1 << 20;

fn small_chunks() -> FileOptions {
    FileOptions {
        chunk_size: Some(CHUNK),
        ..Default::default()
    }
}

fn opts() -> StoreOptions {
    StoreOptions {
        epochs: 2,
        ..Default::default()
    }
}

/// Files of `dir` whose name contains `floe-partial`.
fn partial_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.to_string_lossy().contains("floe-partial") {
            found.push(path);
        }
    }
    Ok(found)
}

async fn read_all(client: &Client, blob_id: &BlobId) -> Result<Vec<u8>, ClientError> {
    let mut out = Vec::new();
    client.read_file(blob_id, &mut out).await?;
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_files_round_trip_and_storing_again_pays_nothing() -> Result<()> {
    let devnet = start_devnet(4).await?;
    let client = devnet.client().await?;
    let work = devnet.dir().join("large");
    std::fs::create_dir_all(&work)?;

    // k chunks exactly, k chunks and one byte, one byte over the chunk size.
    for (len, chunks, seed) in [
        (3 * CHUNK, 3usize, 1u64),
        (3 * CHUNK + 1, 4, 2),
        (CHUNK + 1, 2, 3),
    ] {
        let data = test_bytes(len as usize, seed);
        let path = work.join(format!("file-{len}"));
        std::fs::write(&path, &data)?;
        let stored = client
            .store_file_with(&path, &opts(), &small_chunks())
            .await?;
        ensure!(stored.is_manifest(), "{len} bytes: not a manifest");
        assert_eq!(stored.size, len);
        assert_eq!(stored.chunk_size, Some(CHUNK));
        assert_eq!(stored.chunks.len(), chunks, "{len} bytes");
        for (i, c) in stored.chunks.iter().enumerate() {
            assert_eq!(c.outcome, StoreOutcome::NewlyCertified, "chunk {i}");
            let expected = CHUNK.min(len - i as u64 * CHUNK);
            assert_eq!(c.size, expected, "chunk {i} of {len}");
        }
        assert_eq!(stored.stored.outcome, StoreOutcome::NewlyCertified);
        assert_eq!(stored.registration_ids().len(), chunks + 1);
        let paid_each: alloy::primitives::U256 = stored
            .chunks
            .iter()
            .chain(std::iter::once(&stored.stored))
            .map(|c| c.paid)
            .sum();
        assert_eq!(stored.paid, paid_each);
        assert!(stored.paid > alloy::primitives::U256::ZERO);

        // The manifest blob names the chunks, and its registration says it is a manifest.
        let raw = client.read(&stored.blob_id).await?;
        let manifest = Manifest::from_bytes(&raw)?;
        assert_eq!(manifest.total_len(), len);
        assert_eq!(manifest.chunk_size(), CHUNK);
        assert_eq!(manifest.chunks(), stored.chunk_ids().as_slice());
        assert_eq!(
            client.manifest_of(&stored.blob_id).await?,
            Some(manifest.clone())
        );
        let attrs = client.attributes(&stored.blob_id, None).await?;
        assert_eq!(attrs.get(KIND_ATTRIBUTE), Some(KIND_MANIFEST));
        assert_eq!(attrs.registration_id, stored.stored.registration_id);

        // Read back byte for byte, into memory and into a file.
        let back = read_all(&client, &stored.blob_id).await?;
        ensure!(back == data, "{len} bytes: read other bytes");
        let out = work.join(format!("copy-{len}"));
        let read = client.read_file_to_path(&stored.blob_id, &out).await?;
        assert_eq!((read.size, read.chunks), (len, chunks));
        ensure!(
            std::fs::read(&out)? == data,
            "{len} bytes: wrote other bytes"
        );
        assert_eq!(partial_files(&work)?, Vec::<PathBuf>::new());

        // Ranged reads fetch only the chunks holding the range: across a chunk boundary, the
        // last byte, nothing; past the end is refused.
        for range in [CHUNK - 10..len.min(CHUNK + 10), len - 1..len, 5..5, 0..len] {
            let mut part = Vec::new();
            let n = client
                .read_file_range(&stored.blob_id, range.clone(), &mut part)
                .await?;
            assert_eq!(n, range.end - range.start);
            ensure!(
                part == data[range.start as usize..range.end as usize],
                "{len} bytes: range {range:?} read other bytes"
            );
        }
        match client
            .read_file_range(&stored.blob_id, 0..len + 1, &mut Vec::new())
            .await
        {
            Err(ClientError::RangeOutOfBounds { len: l, .. }) => assert_eq!(l, len),
            other => anyhow::bail!("expected RangeOutOfBounds, got {other:?}"),
        }

        // Again: every chunk and the manifest are already certified, nothing is paid or sent.
        let balance = client.wal_balance().await?;
        let again = client
            .store_file_with(&path, &opts(), &small_chunks())
            .await?;
        assert_eq!(again.blob_id, stored.blob_id);
        ensure!(again.already_certified(), "{len} bytes: {again:?}");
        assert_eq!(again.chunk_ids(), stored.chunk_ids());
        assert_eq!(again.paid, alloy::primitives::U256::ZERO);
        assert!(again.transactions.is_empty());
        assert_eq!(client.wal_balance().await?, balance);
    }

    // After an interruption: chunk 0 was certified and chunk 1 registered but not uploaded. The
    // re-run pays for chunk 2 and the manifest only, and reuses chunk 1's registration.
    let len = 2 * CHUNK + 3;
    let data = test_bytes(len as usize, 5);
    let path = work.join("interrupted");
    std::fs::write(&path, &data)?;
    let first = client
        .store(data[..CHUNK as usize].to_vec(), &opts())
        .await?;
    let second = &data[CHUNK as usize..2 * CHUNK as usize];
    let encoded = client.encode(Arc::new(second.to_vec())).await?;
    let chain = client.chain();
    let cost = chain
        .storage_cost(chain.encoded_size(CHUNK).await?, opts().epochs)
        .await?;
    chain.ensure_registry_allowance(cost.total()).await?;
    let registered = chain
        .register_blob_with_new_storage(
            encoded.metadata.root(),
            CHUNK,
            ENCODING_RED_STUFF,
            false,
            opts().epochs,
        )
        .await?;
    let balance = client.wal_balance().await?;
    let stored = client
        .store_file_with(&path, &opts(), &small_chunks())
        .await?;
    let outcomes: Vec<StoreOutcome> = stored.chunks.iter().map(|c| c.outcome).collect();
    assert_eq!(
        outcomes,
        [
            StoreOutcome::AlreadyCertified,
            StoreOutcome::ReusedRegistration,
            StoreOutcome::NewlyCertified
        ]
    );
    assert_eq!(stored.chunks[0].registration_id, first.registration_id);
    assert_eq!(stored.chunks[1].registration_id, registered.registration_id);
    assert_eq!(
        stored.paid,
        stored.chunks[2].paid + stored.stored.paid,
        "paid for chunks 0 and 1 again"
    );
    assert_eq!(client.wal_balance().await?, balance - stored.paid);
    ensure!(read_all(&client, &stored.blob_id).await? == data);

    // A file of exactly one chunk is one blob, the same as storing its bytes.
    let data = test_bytes(CHUNK as usize, 4);
    let path = work.join("one-chunk");
    std::fs::write(&path, &data)?;
    let stored = client
        .store_file_with(&path, &opts(), &small_chunks())
        .await?;
    ensure!(!stored.is_manifest());
    assert!(stored.chunks.is_empty());
    let plain = client.store(data.clone(), &opts()).await?;
    assert_eq!(plain.blob_id, stored.blob_id);
    assert_eq!(plain.outcome, StoreOutcome::AlreadyCertified);
    assert_eq!(client.manifest_of(&stored.blob_id).await?, None);
    let read = client
        .read_file_to_path(&stored.blob_id, &work.join("one"))
        .await?;
    assert_eq!((read.size, read.chunks), (CHUNK, 0));
    ensure!(std::fs::read(work.join("one"))? == data);
    let mut part = Vec::new();
    client
        .read_file_range(&stored.blob_id, 100..200, &mut part)
        .await?;
    ensure!(part == data[100..200]);

    // A plain blob that merely starts like a manifest's magic prefix ("FLO") is read as itself.
    let short = client.store(b"FLO".to_vec(), &opts()).await?;
    assert_eq!(read_all(&client, &short.blob_id).await?, b"FLO");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_manifests_fail_naming_why_and_leave_no_file() -> Result<()> {
    let devnet = start_devnet(4).await?;
    let client = devnet.client().await?;
    let work = devnet.dir().join("broken");
    std::fs::create_dir_all(&work)?;
    let chunk = test_bytes(CHUNK as usize, 7);
    let real = client.store(chunk.clone(), &opts()).await?.blob_id;
    let out = work.join("out.bin");
    std::fs::write(&out, b"old contents")?;

    let expect_untouched = |what: &str| -> Result<()> {
        ensure!(
            std::fs::read(&out)? == b"old contents",
            "{what}: the output file changed"
        );
        assert_eq!(partial_files(&work)?, Vec::<PathBuf>::new(), "{what}");
        Ok(())
    };

    // A chunk that was never registered: the error names it, nothing is written.
    let missing = BlobId([0x5a; 32]);
    let manifest = Manifest::new(2 * CHUNK, CHUNK, vec![real, missing], [0; 32])?;
    let id = client.store(manifest.to_bytes(), &opts()).await?.blob_id;
    match client.read_file_to_path(&id, &out).await {
        Err(ClientError::ChunkUnreadable {
            blob_id,
            index,
            count,
            chunk,
            error,
        }) => {
            assert_eq!((blob_id, index, count, chunk), (id, 1, 2, missing));
            ensure!(
                matches!(*error, ClientError::BlobUnknown(b) if b == missing),
                "{error}"
            );
        }
        other => anyhow::bail!("expected ChunkUnreadable, got {other:?}"),
    }
    expect_untouched("missing chunk")?;

    // The chunks read, but the file's SHA-256 is not the manifest's: rejected.
    let manifest = Manifest::new(CHUNK, CHUNK, vec![real], [0; 32])?;
    let id = client.store(manifest.to_bytes(), &opts()).await?.blob_id;
    match client.read_file_to_path(&id, &out).await {
        Err(ClientError::FileHashMismatch { blob_id, .. }) => assert_eq!(blob_id, id),
        other => anyhow::bail!("expected FileHashMismatch, got {other:?}"),
    }
    expect_untouched("wrong hash")?;

    // A chunk whose length is not the manifest's.
    let manifest = Manifest::new(CHUNK + 5, CHUNK + 5, vec![real], [0; 32])?;
    let id = client.store(manifest.to_bytes(), &opts()).await?.blob_id;
    match client.read_file_to_path(&id, &out).await {
        Err(ClientError::ChunkLengthMismatch {
            index,
            chunk,
            got,
            expected,
            ..
        }) => assert_eq!((index, chunk, got, expected), (0, real, CHUNK, CHUNK + 5)),
        other => anyhow::bail!("expected ChunkLengthMismatch, got {other:?}"),
    }
    expect_untouched("wrong length")?;

    // A manifest whose chunks do not add up does not parse: a file read refuses it, a plain
    // read returns its bytes.
    let mut bytes = Manifest::new(2 * CHUNK, CHUNK, vec![real, real], [0; 32])?.to_bytes();
    bytes[27] = 3; // count 3 for 2 MiB in 1 MiB chunks
    let id = client.store(bytes.clone(), &opts()).await?.blob_id;
    match read_all(&client, &id).await {
        Err(ClientError::InvalidManifest { blob_id, reason }) => {
            assert_eq!(blob_id, id);
            ensure!(reason.contains("needs 2"), "{reason}");
        }
        other => anyhow::bail!("expected InvalidManifest, got {other:?}"),
    }
    assert_eq!(
        client.manifest_of(&id).await.err().map(|e| e.class()),
        Some(floe_client::ErrorClass::BadRequest)
    );
    assert_eq!(client.read(&id).await?, bytes);
    Ok(())
}

/// Runs `floe ARGS` with the devnet's config.
async fn floe(args: &[&str], config: &Path) -> Result<Output> {
    Command::new(workspace_binary("floe")?)
        .args(args)
        .env_remove("FLOE_HOME")
        .env("FLOE_CONFIG", config)
        .env("NO_COLOR", "1")
        .output()
        .await
        .with_context(|| format!("running floe {args:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_stores_and_reads_a_three_chunk_file() -> Result<()> {
    let devnet = start_devnet(4).await?;
    let config = devnet.dir().join("client.toml");
    let work = devnet.dir().join("cli-large");
    std::fs::create_dir_all(&work)?;
    let data = test_bytes(3 * CHUNK as usize - 17, 9);
    let file = work.join("big.bin");
    std::fs::write(&file, &data)?;
    let chunk_size = CHUNK.to_string();
    let out = floe(
        &[
            "store",
            file.to_str().context("path")?,
            "--chunk-size",
            &chunk_size,
            "--json",
        ],
        &config,
    )
    .await?;
    ensure!(
        out.status.success(),
        "store failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stored: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(stored["size"], data.len());
    assert_eq!(stored["chunk_size"], CHUNK);
    let chunks = stored["chunks"].as_array().context("chunks")?;
    assert_eq!(chunks.len(), 3);
    for c in chunks {
        assert_eq!(c["outcome"], "newly_certified");
    }
    let blob_id = stored["blob_id"].as_str().context("blob_id")?;
    assert_eq!(stored["stored"]["blob_id"], blob_id);

    let copy = work.join("copy.bin");
    let out = floe(
        &["read", blob_id, "-o", copy.to_str().context("path")?],
        &config,
    )
    .await?;
    ensure!(
        out.status.success(),
        "read failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    ensure!(std::fs::read(&copy)? == data, "floe read wrote other bytes");
    assert_eq!(partial_files(&work)?, Vec::<PathBuf>::new());

    // Without -o, to a pipe: the file's bytes on stdout.
    let out = floe(&["read", blob_id], &config).await?;
    ensure!(out.status.success());
    ensure!(out.stdout == data, "stdout held other bytes");

    // A manifest naming a chunk that was never stored: the read fails naming the chunk, and
    // leaves neither the output file nor a partial one.
    let client = devnet.client().await?;
    let missing = BlobId([0x77; 32]);
    let broken = Manifest::new(2 * CHUNK, CHUNK, vec![missing, missing], [0; 32])?;
    let broken_id = client.store(broken.to_bytes(), &opts()).await?.blob_id;
    let target = work.join("never.bin");
    let out = floe(
        &[
            "read",
            &broken_id.to_string(),
            "-o",
            target.to_str().context("path")?,
        ],
        &config,
    )
    .await?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(
        !out.status.success()
            && stderr.contains(&format!("chunk 0 of 2 ({missing})"))
            && stderr.contains("never registered"),
        "{stderr}"
    );
    ensure!(!target.exists(), "floe read left {}", target.display());
    assert_eq!(partial_files(&work)?, Vec::<PathBuf>::new());

    // Storing again prints that nothing is paid.
    let out = floe(
        &[
            "store",
            file.to_str().context("path")?,
            "--chunk-size",
            &chunk_size,
        ],
        &config,
    )
    .await?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    ensure!(
        out.status.success() && stdout.contains("3 chunks") && stdout.contains("nothing to pay"),
        "{stdout}"
    );
    Ok(())
}
