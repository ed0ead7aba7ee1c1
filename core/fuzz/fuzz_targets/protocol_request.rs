//! Fuzzes request parsing: path segments, the indices query, node addresses (floe_core::protocol; body in src/protocol_bodies.rs).
#![no_main]

#[path = "../src/protocol_bodies.rs"]
mod protocol_bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| protocol_bodies::request(data));
