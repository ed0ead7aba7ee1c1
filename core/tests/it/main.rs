//! Integration tests of floe-core's encoding, recovery and wire format: one binary, one
//! module per topic.

mod common;
mod encoding;
mod fuzz_bodies;
mod kat;
mod protocol;
mod recovery;
mod wire;
