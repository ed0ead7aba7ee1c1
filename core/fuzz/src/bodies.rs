//! Bodies of the fuzz targets, one per decoder of bytes from the network.
//!
//! Shared by the cargo-fuzz targets (`fuzz_targets/*.rs`, nightly) and by the stable test
//! `core/tests/it/fuzz_bodies.rs`, which runs the very same functions as a proptest over random
//! and mutated inputs. Each body decodes the bytes; whatever decodes must re-encode to exactly
//! the same bytes (the format is canonical) and go through verification without panicking.

#![allow(dead_code)] // each fuzz target uses one body

use std::sync::OnceLock;

use floe_core::{
    BlobMetadata, EncodedBlob, EncodingConfig, InconsistencyProof, RecoverySymbol, Sliver, Wire,
};

/// A small honest blob to verify decoded values against.
fn fixture() -> &'static (EncodingConfig, EncodedBlob) {
    static FIXTURE: OnceLock<(EncodingConfig, EncodedBlob)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let cfg = EncodingConfig::new(4).expect("4 shards are supported");
        let blob: Vec<u8> = (0..100u8).collect();
        let encoded = cfg.encode(&blob).expect("a 100-byte blob encodes");
        (cfg, encoded)
    })
}

fn canonical<T: Wire>(data: &[u8]) -> Option<T> {
    let value = T::from_wire(data).ok()?;
    assert_eq!(
        value.to_wire(),
        data,
        "a decoded value must re-encode to the same bytes"
    );
    Some(value)
}

/// `BlobMetadata::from_wire`, then id derivation and verification.
pub(crate) fn metadata(data: &[u8]) {
    if let Some(metadata) = canonical::<BlobMetadata>(data) {
        let (cfg, encoded) = fixture();
        let _ = metadata.verify(&encoded.blob_id, cfg);
        let _ = metadata.symbol_size(cfg);
    }
}

/// `Sliver::from_wire`, then verification against a real blob's metadata.
pub(crate) fn sliver(data: &[u8]) {
    if let Some(sliver) = canonical::<Sliver>(data) {
        let (cfg, encoded) = fixture();
        let _ = sliver.verify(&encoded.metadata, cfg);
        let _ = cfg.decode(&encoded.metadata, vec![sliver]);
    }
}

/// `RecoverySymbol::from_wire`, then verification and a recovery attempt.
pub(crate) fn recovery_symbol(data: &[u8]) {
    if let Some(symbol) = canonical::<RecoverySymbol>(data) {
        let (cfg, encoded) = fixture();
        let _ = symbol.verify(&encoded.metadata, cfg);
        let _ = cfg.recover_sliver(
            &encoded.metadata,
            symbol.source_kind.other(),
            symbol.index,
            vec![symbol],
        );
    }
}

/// `InconsistencyProof::from_wire`, then its check.
pub(crate) fn inconsistency_proof(data: &[u8]) {
    if let Some(proof) = canonical::<InconsistencyProof>(data) {
        let (cfg, encoded) = fixture();
        let _ = proof.verify(&encoded.metadata, cfg);
    }
}
