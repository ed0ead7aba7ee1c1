//! Fuzzes the wire decoder of `recovery_symbol` (body shared with the stable proptest run).
#![no_main]

#[path = "../src/bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::recovery_symbol(data));
