//! The wire format: round trips, a pinned encoding, and rejection of malformed input.

use floe_core::{
    BlobMetadata, InconsistencyProof, RecoverySymbol, Sliver, SliverKind, Wire, WireError,
    merkle::MerkleProof,
    wire::{TAG_INCONSISTENCY_PROOF, TAG_METADATA, TAG_RECOVERY_SYMBOL, TAG_SLIVER, WIRE_VERSION},
};

use crate::common::{blob, encode};

/// Every value type, encoded from a real blob.
fn samples() -> Vec<(u8, Vec<u8>)> {
    let (c, enc) = encode(7, &blob(500, 8));
    let symbol = c
        .recovery_symbol(&enc.pairs[3].secondary, 5)
        .expect("symbol");
    let proof = InconsistencyProof {
        target_kind: SliverKind::Primary,
        target_pair: 5,
        symbols: vec![
            symbol.clone(),
            c.recovery_symbol(&enc.pairs[4].secondary, 5)
                .expect("symbol"),
        ],
    };
    vec![
        (TAG_METADATA, enc.metadata.to_wire()),
        (TAG_SLIVER, enc.pairs[2].primary.to_wire()),
        (TAG_SLIVER, enc.pairs[2].secondary.to_wire()),
        (TAG_RECOVERY_SYMBOL, symbol.to_wire()),
        (TAG_INCONSISTENCY_PROOF, proof.to_wire()),
    ]
}

fn decode(tag: u8, bytes: &[u8]) -> Result<Vec<u8>, WireError> {
    Ok(match tag {
        TAG_METADATA => BlobMetadata::from_wire(bytes)?.to_wire(),
        TAG_SLIVER => Sliver::from_wire(bytes)?.to_wire(),
        TAG_RECOVERY_SYMBOL => RecoverySymbol::from_wire(bytes)?.to_wire(),
        _ => InconsistencyProof::from_wire(bytes)?.to_wire(),
    })
}

#[test]
fn every_type_round_trips() {
    let (c, enc) = encode(7, &blob(500, 8));
    assert_eq!(
        BlobMetadata::from_wire(&enc.metadata.to_wire()),
        Ok(enc.metadata.clone())
    );
    for pair in &enc.pairs {
        assert_eq!(
            Sliver::from_wire(&pair.primary.to_wire()).as_ref(),
            Ok(&pair.primary)
        );
        assert_eq!(
            Sliver::from_wire(&pair.secondary.to_wire()).as_ref(),
            Ok(&pair.secondary)
        );
    }
    let symbol = c.recovery_symbol(&enc.pairs[0].primary, 6).expect("symbol");
    assert_eq!(
        RecoverySymbol::from_wire(&symbol.to_wire()).as_ref(),
        Ok(&symbol)
    );
    for (tag, bytes) in samples() {
        assert_eq!(decode(tag, &bytes), Ok(bytes.clone()));
    }
}

#[test]
fn the_sliver_encoding_is_pinned() {
    let sliver = Sliver {
        kind: SliverKind::Secondary,
        pair: 0x0102,
        symbol_size: 2,
        data: vec![0xaa, 0xbb, 0xcc, 0xdd],
    };
    assert_eq!(
        sliver.to_wire(),
        [
            WIRE_VERSION,
            TAG_SLIVER,
            1,
            0x01,
            0x02,
            0,
            2,
            0,
            0,
            0,
            4,
            0xaa,
            0xbb,
            0xcc,
            0xdd
        ]
    );
    let symbol = RecoverySymbol {
        source_kind: SliverKind::Primary,
        source_pair: 3,
        index: 4,
        symbol: vec![9, 8],
        proof: MerkleProof {
            path: vec![[7u8; 32]],
        },
    };
    let mut expected = vec![
        WIRE_VERSION,
        TAG_RECOVERY_SYMBOL,
        0,
        0,
        3,
        0,
        4,
        0,
        0,
        0,
        2,
        9,
        8,
        1,
    ];
    expected.extend_from_slice(&[7u8; 32]);
    assert_eq!(symbol.to_wire(), expected);
}

#[test]
fn every_truncation_and_trailing_byte_is_rejected() {
    for (tag, bytes) in samples() {
        for cut in 0..bytes.len() {
            assert!(
                decode(tag, &bytes[..cut]).is_err(),
                "tag {tag}: prefix of {cut} bytes accepted"
            );
        }
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(
            decode(tag, &long),
            Err(WireError::TrailingBytes { extra: 1 })
        );
    }
    assert_eq!(
        Sliver::from_wire(&[]),
        Err(WireError::Truncated {
            offset: 0,
            needed: 1,
            remaining: 0
        })
    );
}

#[test]
fn wrong_version_type_and_fields_are_named() {
    let (_, enc) = encode(7, &blob(500, 8));
    let mut bytes = enc.pairs[1].primary.to_wire();
    bytes[0] = 2;
    assert_eq!(
        Sliver::from_wire(&bytes),
        Err(WireError::UnsupportedVersion {
            got: 2,
            supported: 1
        })
    );
    let bytes = enc.pairs[1].primary.to_wire();
    assert_eq!(
        BlobMetadata::from_wire(&bytes),
        Err(WireError::WrongType {
            expected: TAG_METADATA,
            got: TAG_SLIVER
        })
    );

    let mut bad_kind = bytes.clone();
    bad_kind[2] = 2;
    assert_eq!(Sliver::from_wire(&bad_kind), Err(WireError::InvalidKind(2)));

    let raw = |symbol_size: u16, data: &[u8]| {
        let mut v = vec![WIRE_VERSION, TAG_SLIVER, 0, 0, 1];
        v.extend_from_slice(&symbol_size.to_be_bytes());
        v.extend_from_slice(&(data.len() as u32).to_be_bytes());
        v.extend_from_slice(data);
        v
    };
    assert_eq!(
        Sliver::from_wire(&raw(3, &[0; 6])),
        Err(WireError::InvalidSymbolSize(3))
    );
    assert_eq!(
        Sliver::from_wire(&raw(0, &[])),
        Err(WireError::InvalidSymbolSize(0))
    );
    assert_eq!(
        Sliver::from_wire(&raw(65535, &[])),
        Err(WireError::InvalidSymbolSize(65535))
    );
    assert_eq!(
        Sliver::from_wire(&raw(4, &[0; 6])),
        Err(WireError::PartialSymbol {
            len: 6,
            symbol_size: 4
        })
    );
    assert!(Sliver::from_wire(&raw(4, &[0; 8])).is_ok());

    let mut deep = vec![
        WIRE_VERSION,
        TAG_RECOVERY_SYMBOL,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        2,
        1,
        1,
        17,
    ];
    deep.extend_from_slice(&[0u8; 17 * 32]);
    assert_eq!(
        RecoverySymbol::from_wire(&deep),
        Err(WireError::ProofTooDeep { depth: 17, max: 16 })
    );
}

#[test]
fn huge_counts_are_rejected_before_allocating() {
    let mut metadata = vec![WIRE_VERSION, TAG_METADATA, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    metadata.extend_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(
        BlobMetadata::from_wire(&metadata),
        Err(WireError::Truncated {
            offset: 15,
            needed: u32::MAX as usize * 64,
            remaining: 0
        })
    );
    let mut proof = vec![WIRE_VERSION, TAG_INCONSISTENCY_PROOF, 0, 0, 0];
    proof.extend_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(
        InconsistencyProof::from_wire(&proof),
        Err(WireError::Truncated { .. })
    ));
    let mut sliver = vec![WIRE_VERSION, TAG_SLIVER, 0, 0, 0, 0, 2];
    sliver.extend_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(
        Sliver::from_wire(&sliver),
        Err(WireError::PartialSymbol {
            len: u32::MAX,
            symbol_size: 2
        })
    );
}
