//! Fuzzes the JSON bodies of the node API (floe_core::protocol; body in src/protocol_bodies.rs).
#![no_main]

#[path = "../src/protocol_bodies.rs"]
mod protocol_bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| protocol_bodies::json(data));
