//! Writes the seed corpus of the fuzz targets (`core/fuzz/corpus/<target>/`) from real
//! encodings, so fuzzing starts from valid inputs instead of random bytes:
//!
//! ```sh
//! cargo run -p floe-core --example fuzz_corpus -- core/fuzz/corpus
//! ```
//!
//! Deterministic: the same build writes the same files, so the committed corpus only changes
//! when an encoding does. Kept small (a few KB per target).

use std::{error::Error, fs, path::Path};

use floe_core::{
    BlobId, EncodedBlob, EncodingConfig, InconsistencyProof, RecoverySymbol, SliverKind, Wire,
    manifest::Manifest,
    protocol::{
        BlobStatus, Confirmation, ErrorBody, ErrorCode, Health, ServiceHealth, Stored,
        symbols::{encode_symbol_list, format_indices},
    },
    quilt::QuiltBuilder,
};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn encode(n: u16, len: usize) -> Result<(EncodingConfig, EncodedBlob)> {
    let cfg = EncodingConfig::new(n)?;
    // The fuzz bodies' fixture is n = 4 with the bytes 0..100; other blobs add variety.
    let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
    let data = if n == 4 && len == 100 {
        (0..100u8).collect()
    } else {
        data
    };
    let blob = cfg.encode(&data)?;
    Ok((cfg, blob))
}

fn symbol(
    cfg: &EncodingConfig,
    blob: &EncodedBlob,
    kind: SliverKind,
    pair: usize,
    index: u16,
) -> Result<RecoverySymbol> {
    let p = &blob.pairs[pair];
    let sliver = match kind {
        SliverKind::Primary => &p.primary,
        SliverKind::Secondary => &p.secondary,
    };
    Ok(cfg.recovery_symbol(sliver, index)?)
}

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) -> Result<()> {
    let dir = dir.join(target);
    fs::create_dir_all(&dir)?;
    fs::write(dir.join(name), bytes)?;
    Ok(())
}

fn main() -> Result<()> {
    let out = std::env::args()
        .nth(1)
        .ok_or("usage: fuzz_corpus <corpus dir>")?;
    let out = Path::new(&out);
    let (c4, b4) = encode(4, 100)?;
    let (c7, b7) = encode(7, 700)?;
    let (_, empty) = encode(4, 0)?;

    // Wire types.
    for (name, blob) in [("n4", &b4), ("n7", &b7), ("empty", &empty)] {
        write(out, "wire_metadata", name, &blob.metadata.to_wire())?;
    }
    write(
        out,
        "wire_sliver",
        "n4_primary_1",
        &b4.pairs[1].primary.to_wire(),
    )?;
    write(
        out,
        "wire_sliver",
        "n4_secondary_3",
        &b4.pairs[3].secondary.to_wire(),
    )?;
    write(
        out,
        "wire_sliver",
        "n7_primary_0",
        &b7.pairs[0].primary.to_wire(),
    )?;
    let sym_p = symbol(&c4, &b4, SliverKind::Primary, 2, 3)?;
    let sym_s = symbol(&c4, &b4, SliverKind::Secondary, 0, 1)?;
    write(out, "wire_recovery_symbol", "n4_primary", &sym_p.to_wire())?;
    write(
        out,
        "wire_recovery_symbol",
        "n4_secondary",
        &sym_s.to_wire(),
    )?;
    let proof = InconsistencyProof {
        target_kind: SliverKind::Primary,
        target_pair: 1,
        symbols: vec![
            symbol(&c4, &b4, SliverKind::Secondary, 0, 1)?,
            symbol(&c4, &b4, SliverKind::Secondary, 2, 1)?,
            symbol(&c4, &b4, SliverKind::Secondary, 3, 1)?,
        ],
    };
    write(out, "wire_inconsistency_proof", "n4", &proof.to_wire())?;

    // The batch answer of recovery symbols.
    let list = [
        symbol(&c4, &b4, SliverKind::Secondary, 0, 1)?,
        symbol(&c4, &b4, SliverKind::Secondary, 2, 1)?,
    ];
    write(
        out,
        "protocol_symbol_list",
        "two",
        &encode_symbol_list(&list),
    )?;
    write(
        out,
        "protocol_symbol_list",
        "one",
        &encode_symbol_list(&list[..1]),
    )?;
    write(
        out,
        "protocol_symbol_list",
        "none",
        &encode_symbol_list(&[]),
    )?;
    let _ = c7;

    // Request parsing: a selector byte, then the text (see core/fuzz/src/protocol_bodies.rs).
    // Indices carry `n` (two bytes, here 100) before the list.
    let requests: [(&str, &[u8], String); 7] = [
        ("blob_id", &[0], b4.blob_id.to_string()),
        ("kind_primary", &[1], "primary".into()),
        ("kind_secondary", &[1], "secondary".into()),
        ("indices", &[2, 0, 100], format_indices(&[0, 1, 3, 99])),
        ("address_v4", &[3], "127.0.0.1:9100".into()),
        ("address_v6", &[3], "[::1]:9100".into()),
        ("address_dns", &[3], "node-1.example.com:443".into()),
    ];
    for (name, prefix, text) in requests {
        let mut bytes = prefix.to_vec();
        bytes.extend_from_slice(text.as_bytes());
        write(out, "protocol_request", name, &bytes)?;
    }

    // JSON bodies: a selector byte, then the JSON.
    let id = b4.blob_id.to_string();
    let jsons: [(&str, u8, String); 5] = [
        (
            "confirmation",
            0,
            serde_json::to_string(&Confirmation {
                epoch: 3,
                signature: format!("0x{}", "ab".repeat(96)),
                node: "0x00000000000000000000000000000000000000aa".into(),
                registration_id: Some(7),
                deletable: Some(true),
            })?,
        ),
        (
            "blob_status",
            1,
            serde_json::to_string(&BlobStatus {
                blob_id: id.clone(),
                state: "certified".into(),
                end_epoch: 9,
                certified_end_epoch: 9,
                registrations: 2,
                size: 100,
                epoch: 3,
                metadata: true,
                pairs_expected: vec![0, 2],
                pairs_held: vec![2],
                complete: false,
            })?,
        ),
        (
            "health",
            2,
            serde_json::to_string(&Health {
                status: "ok".into(),
                node: "0x00000000000000000000000000000000000000aa".into(),
                public_key: format!("0x{}", "cd".repeat(48)),
                epoch: 3,
                shards: 25,
                n_shards: 100,
                cursor: 1234,
                services: vec![ServiceHealth {
                    name: "follower".into(),
                    state: "ok".into(),
                    failures: 0,
                    last_error: None,
                }],
            })?,
        ),
        (
            "error",
            3,
            serde_json::to_string(&ErrorBody {
                error: "not my shard".into(),
                code: ErrorCode::NotMyShard.as_str().into(),
            })?,
        ),
        (
            "stored",
            4,
            serde_json::to_string(&Stored {
                stored: "sliver".into(),
                blob_id: id,
                pair: Some(2),
                kind: Some("primary".into()),
            })?,
        ),
    ];
    for (name, selector, json) in jsons {
        let mut bytes = vec![selector];
        bytes.extend_from_slice(json.as_bytes());
        write(out, "protocol_json", name, &bytes)?;
    }

    // Large-file manifests: three chunks with a short last one, one chunk, an empty file.
    let ids = |n: u8| {
        (0..n)
            .map(|i| BlobId([i.wrapping_mul(37); 32]))
            .collect::<Vec<_>>()
    };
    for (name, total, chunk, count) in [
        ("three_chunks", 25u64, 10u64, 3u8),
        ("one_chunk", 10, 64 << 20, 1),
        ("empty_file", 0, 4096, 0),
    ] {
        let manifest = Manifest::new(total, chunk, ids(count), [count; 32])?;
        write(out, "manifest", name, &manifest.to_bytes())?;
    }

    // Quilts (whole blobs): two files with tags, one empty file, a small site.
    let mut two = QuiltBuilder::new();
    two.add(
        "a/index.html",
        &b"<p>hi</p>"[..],
        [("content-type", "text/html")],
    )?
    .add("b.txt", &b"bee"[..], [("x-a", "1"), ("x-b", "")])?;
    write(out, "quilt", "two_files", &two.build()?)?;
    let mut one = QuiltBuilder::new();
    one.add(".nojekyll", Vec::new(), [("k", "v")])?;
    write(out, "quilt", "one_empty_file", &one.build()?)?;
    let mut site = QuiltBuilder::new();
    for (i, name) in [
        "index.html",
        "css/site.css",
        "js/app.js",
        "img/logo.svg",
        "data/x.json",
    ]
    .into_iter()
    .enumerate()
    {
        let bytes: Vec<u8> = (0..40 + 13 * i).map(|j| (j * 7 + i) as u8).collect();
        site.add(name, bytes, [] as [(&str, &str); 0])?;
    }
    write(out, "quilt", "site", &site.build()?)?;
    Ok(())
}
