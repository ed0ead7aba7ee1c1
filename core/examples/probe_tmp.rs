use std::time::Instant;
fn main() {
    let mode = std::env::args().nth(1).unwrap();
    let size = 256usize << 20;
    let size = if mode.starts_with("merge") || mode.starts_with("hash64b") { 64 } else { size }; let data: Vec<u8> = (0..size).map(|i| (i * 131 % 251) as u8).collect();
    let t = Instant::now();
    match mode.as_str() {
        "raw" => {
            let k = 334; let r = 666;
            let shard = (size.div_ceil(k) + 63) / 64 * 64;
            let mut enc = reed_solomon_simd::ReedSolomonEncoder::new(k, r, shard).unwrap();
            let mut buf = vec![0u8; shard];
            for i in 0..k { let s = (i*shard).min(size); let e = ((i+1)*shard).min(size); buf[..e-s].copy_from_slice(&data[s..e]); buf[e-s..].fill(0); enc.add_original_shard(&buf).unwrap(); }
            let res = enc.encode().unwrap();
            let mut x = 0u8; for r in res.recovery_iter() { x ^= r[0]; }
            println!("raw {x}");
        }
        "hash" => {
            let mut acc = 0u8;
            for _ in 0..4 { for c in data.chunks_exact(1206) { acc ^= blake3::keyed_hash(&[7u8;32], c).as_bytes()[0]; } }
            println!("hash {acc} (4.0x blob)");
        }
        "hash64" => {
            let mut acc = 0u8;
            for c in data.chunks_exact(64).take(2_000_000) { acc ^= blake3::keyed_hash(&[7u8;32], c).as_bytes()[0]; }
            println!("hash64 x2M {acc}");
        }
        "merge" => {
            let mut acc = [1u8;32];
            for _ in 0..2_000_000 { acc = blake3::hazmat::merge_subtrees_non_root(&acc, &[3u8;32], blake3::hazmat::Mode::KeyedHash(&[7u8;32])); }
            println!("merge x2M {}", acc[0]);
        }
        "hash64b" => {
            let mut acc = [1u8;32];
            for _ in 0..2_000_000 { let mut b = [0u8;64]; b[..32].copy_from_slice(&acc); b[32..].copy_from_slice(&[3u8;32]); acc = *blake3::keyed_hash(&[7u8;32], &b).as_bytes(); }
            println!("hash64b x2M {}", acc[0]);
        }
        _ => {}
    }
    println!("{:.3}s", t.elapsed().as_secs_f64());
}
