//! Encodes and decodes one blob of a given size, for peak-memory measurements:
//! `/usr/bin/time -v cargo run --release -p floe-core --example encode_blob -- 1000 256`
//! (arguments: shards, MiB, and optionally a mode: `encode` stops after encoding, `raw` runs
//! only the one-dimensional `reed-solomon-simd` baseline, `none` only builds the blob, so that
//! `/usr/bin/time` CPU seconds of the modes can be compared). Prints the phases' times.

use std::time::Instant;

use floe_core::EncodingConfig;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: u16 = args.next().as_deref().unwrap_or("1000").parse()?;
    let mib: usize = args.next().as_deref().unwrap_or("256").parse()?;
    let cfg = EncodingConfig::new(n)?;
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let blob: Vec<u8> = (0..mib << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let mode = args.next();
    match mode.as_deref() {
        Some("none") => return Ok(()),
        Some("raw") => {
            let k = usize::from(cfg.secondary_len());
            let shard = blob.len().div_ceil(k).max(2).next_multiple_of(2);
            let shards: Vec<Vec<u8>> = blob
                .chunks(shard)
                .map(|c| {
                    let mut v = c.to_vec();
                    v.resize(shard, 0);
                    v
                })
                .collect();
            let start = Instant::now();
            let recovery = reed_solomon_simd::encode(k, 2 * usize::from(cfg.f()), &shards)?;
            println!(
                "raw 1-D encode={:.3}s ({} recovery shards)",
                start.elapsed().as_secs_f64(),
                recovery.len()
            );
            return Ok(());
        }
        _ => {}
    }
    let start = Instant::now();
    let encoded = cfg.encode(&blob)?;
    let encode_time = start.elapsed();
    if mode.as_deref() == Some("encode") {
        println!(
            "n={n} blob={mib} MiB id={} encode={:.3}s ({:.1} MiB/s)",
            encoded.blob_id,
            encode_time.as_secs_f64(),
            mib as f64 / encode_time.as_secs_f64()
        );
        return Ok(());
    }
    let k1 = usize::from(cfg.secondary_len());
    let start = Instant::now();
    let primaries = encoded.pairs[..k1]
        .iter()
        .map(|p| p.primary.clone())
        .collect();
    let copy_time = start.elapsed();
    let start = Instant::now();
    let decoded = cfg.decode(&encoded.metadata, primaries)?;
    let decode_time = start.elapsed();
    if decoded != blob {
        return Err("decoded bytes differ from the blob".into());
    }
    println!(
        "n={n} blob={mib} MiB symbol={} B id={} encode={:.3}s ({:.1} MiB/s) decode(systematic)={:.3}s ({:.1} MiB/s) [clone {:.3}s]",
        cfg.symbol_size(blob.len() as u64)?,
        encoded.blob_id,
        encode_time.as_secs_f64(),
        mib as f64 / encode_time.as_secs_f64(),
        decode_time.as_secs_f64(),
        mib as f64 / decode_time.as_secs_f64(),
        copy_time.as_secs_f64(),
    );
    Ok(())
}
