//! Red Stuff encode and decode beside raw one-dimensional `reed-solomon-simd` on the same bytes.
//!
//! For each blob size (1, 16, 256 MiB) and n (10, 100, 1000) where the blob fits (the maximum
//! is ≈ 1.8 MB at n = 10 and ≈ 149 MB at n = 100, so those cases are skipped):
//! - `encode/red_stuff`: [`EncodingConfig::encode`] (both dimensions, every leaf hash, metadata, id);
//! - `encode/raw_1d`: `reed_solomon_simd::encode` of the blob as `n-2f` originals into `2f` recovery shards;
//! - `decode/systematic`: [`EncodingConfig::decode`] from primaries `0..n-2f` (a copy, no RS);
//! - `decode/red_stuff_rs`: decode from the last `n-2f` primaries (Reed–Solomon on every column);
//! - `decode/raw_1d`: `reed_solomon_simd::decode` from the last `n-2f` recovery shards.
//!
//! 1 and 16 MiB run under criterion (10 samples). 256 MiB runs each case three times and prints
//! the fastest (the machine is shared; set `FLOE_BENCH_BIG=0` to skip them), with the same names.
//! Recovery traffic (bytes moved to rebuild one sliver pair over the pair's size) is printed
//! for each case. Run: `cargo bench -p floe-core --bench encoding`.

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use floe_core::{EncodedBlob, EncodingConfig, SliverKind, Wire};

const MIB: usize = 1 << 20;
/// Timed runs of each 256 MiB case.
const BIG_RUNS: usize = 3;

fn blob(len: usize) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// The blob as `k` equal even-sized originals (the last zero padded).
fn raw_shards(data: &[u8], k: usize) -> Vec<Vec<u8>> {
    let shard = data.len().div_ceil(k).max(2).next_multiple_of(2);
    (0..k)
        .map(|i| {
            let start = (i * shard).min(data.len());
            let end = ((i + 1) * shard).min(data.len());
            let mut s = data[start..end].to_vec();
            s.resize(shard, 0);
            s
        })
        .collect()
}

fn raw_encode(data: &[u8], k: usize, r: usize) -> Vec<Vec<u8>> {
    let shards = raw_shards(data, k);
    reed_solomon_simd::encode(k, r, &shards).expect("raw encode")
}

fn raw_decode(k: usize, r: usize, recovery: &[Vec<u8>]) -> usize {
    let given = recovery.iter().enumerate().skip(r - k);
    let restored = reed_solomon_simd::decode(k, r, std::iter::empty::<(usize, &[u8])>(), given)
        .expect("raw decode");
    restored.len()
}

/// Blobs above the maximum for n (e.g. 16 MiB at n = 10) cannot be encoded: say so and skip.
fn skip(cfg: &EncodingConfig, len: usize) -> bool {
    let too_large = len as u64 > cfg.max_blob_size();
    if too_large {
        eprintln!(
            "skip {} MiB at n={}: above the maximum blob size of {} bytes",
            len / MIB,
            cfg.n_shards(),
            cfg.max_blob_size()
        );
    }
    too_large
}

fn codes(cfg: &EncodingConfig) -> (usize, usize) {
    (usize::from(cfg.secondary_len()), 2 * usize::from(cfg.f()))
}

fn primaries(enc: &EncodedBlob, range: std::ops::Range<usize>) -> Vec<floe_core::Sliver> {
    enc.pairs[range].iter().map(|p| p.primary.clone()).collect()
}

/// Bytes on the wire (recovery symbols with proofs) to rebuild sliver pair 0, over its size.
fn recovery_ratio(cfg: &EncodingConfig, enc: &EncodedBlob) -> f64 {
    let mut moved = 0usize;
    for kind in [SliverKind::Primary, SliverKind::Secondary] {
        for q in 1..=cfg.sliver_len(kind) {
            let (source_kind, index) = cfg.recovery_request(kind, 0, q);
            let p = &enc.pairs[usize::from(q)];
            let source = if source_kind == SliverKind::Primary {
                &p.primary
            } else {
                &p.secondary
            };
            moved += cfg
                .recovery_symbol(source, index)
                .expect("symbol")
                .to_wire()
                .len();
        }
    }
    let pair = enc.pairs[0].primary.data.len() + enc.pairs[0].secondary.data.len();
    moved as f64 / pair as f64
}

fn bench_small(c: &mut Criterion) {
    for mib in [1usize, 16] {
        let data = blob(mib * MIB);
        for n in [10u16, 100, 1000] {
            let cfg = EncodingConfig::new(n).expect("valid n");
            if skip(&cfg, data.len()) {
                continue;
            }
            let (k, r) = codes(&cfg);
            let enc = cfg.encode(&data).expect("encodes");
            eprintln!(
                "recovery n={n} {mib}MiB symbol={}B ratio={:.3}",
                cfg.symbol_size(data.len() as u64).expect("fits"),
                recovery_ratio(&cfg, &enc)
            );
            let mut g = c.benchmark_group(format!("{mib}MiB/n={n}"));
            g.sample_size(10)
                .warm_up_time(Duration::from_secs(1))
                .measurement_time(Duration::from_secs(3));
            g.throughput(Throughput::Bytes(data.len() as u64));
            g.bench_function(BenchmarkId::new("encode", "red_stuff"), |b| {
                b.iter(|| cfg.encode(black_box(&data)).expect("encodes"))
            });
            g.bench_function(BenchmarkId::new("encode", "raw_1d"), |b| {
                b.iter(|| raw_encode(black_box(&data), k, r))
            });
            g.bench_function(BenchmarkId::new("decode", "systematic"), |b| {
                b.iter_batched(
                    || primaries(&enc, 0..k),
                    |p| cfg.decode(&enc.metadata, p).expect("decodes"),
                    criterion::BatchSize::LargeInput,
                )
            });
            g.bench_function(BenchmarkId::new("decode", "red_stuff_rs"), |b| {
                b.iter_batched(
                    || primaries(&enc, usize::from(n) - k..usize::from(n)),
                    |p| cfg.decode(&enc.metadata, p).expect("decodes"),
                    criterion::BatchSize::LargeInput,
                )
            });
            let recovery = raw_encode(&data, k, r);
            g.bench_function(BenchmarkId::new("decode", "raw_1d"), |b| {
                b.iter(|| raw_decode(k, r, &recovery))
            });
            g.finish();
        }
    }
}

/// Times `routine` (not `setup`) in [`BIG_RUNS`] runs and prints the fastest, the usual
/// estimator on a shared, noisy machine (the first run doubles as the warm-up).
fn once<I, T>(
    name: &str,
    bytes: usize,
    mut setup: impl FnMut() -> I,
    mut routine: impl FnMut(I) -> T,
) {
    let mut times = Vec::with_capacity(BIG_RUNS);
    for _ in 0..BIG_RUNS {
        let input = setup();
        let start = Instant::now();
        let out = routine(input);
        times.push(start.elapsed().as_secs_f64());
        drop(out);
    }
    let best = times.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "{name:<40} time: {best:.3} s (fastest of {times:.3?})   thrpt: {:.1} MiB/s",
        bytes as f64 / MIB as f64 / best
    );
}

fn bench_big(_: &mut Criterion) {
    if std::env::var("FLOE_BENCH_BIG").is_ok_and(|v| v == "0") {
        return;
    }
    let data = blob(256 * MIB);
    for n in [10u16, 100, 1000] {
        let cfg = EncodingConfig::new(n).expect("valid n");
        if skip(&cfg, data.len()) {
            continue;
        }
        let (k, r) = codes(&cfg);
        let prefix = format!("256MiB/n={n}");
        once(
            &format!("{prefix}/encode/red_stuff"),
            data.len(),
            || (),
            |()| cfg.encode(&data).expect("encodes"),
        );
        once(
            &format!("{prefix}/encode/raw_1d"),
            data.len(),
            || (),
            |()| raw_encode(&data, k, r),
        );
        let enc = cfg.encode(&data).expect("encodes");
        eprintln!(
            "recovery n={n} 256MiB symbol={}B ratio={:.3}",
            cfg.symbol_size(data.len() as u64).expect("fits"),
            recovery_ratio(&cfg, &enc)
        );
        once(
            &format!("{prefix}/decode/systematic"),
            data.len(),
            || primaries(&enc, 0..k),
            |p| cfg.decode(&enc.metadata, p).expect("decodes"),
        );
        once(
            &format!("{prefix}/decode/red_stuff_rs"),
            data.len(),
            || primaries(&enc, usize::from(n) - k..usize::from(n)),
            |p| cfg.decode(&enc.metadata, p).expect("decodes"),
        );
        drop(enc);
        let recovery = raw_encode(&data, k, r);
        once(
            &format!("{prefix}/decode/raw_1d"),
            data.len(),
            || (),
            |()| raw_decode(k, r, &recovery),
        );
    }
}

criterion_group!(benches, bench_small, bench_big);
criterion_main!(benches);
