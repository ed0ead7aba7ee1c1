//! Recovery of lost slivers from recovery symbols, and inconsistency proofs.

use floe_core::{
    EncodedBlob, EncodingConfig, InconsistencyError, RecoveryError, Sliver, SliverKind, Wire,
    merkle::MerkleProof, recovery::RecoverySymbol,
};
use proptest::prelude::*;

use crate::common::{blob, encode};

fn sliver(enc: &EncodedBlob, kind: SliverKind, pair: u16) -> &Sliver {
    let p = &enc.pairs[usize::from(pair)];
    match kind {
        SliverKind::Primary => &p.primary,
        SliverKind::Secondary => &p.secondary,
    }
}

/// The symbols the target needs from the given source pairs, as the sources' holders answer.
fn symbols_for(
    c: &EncodingConfig,
    enc: &EncodedBlob,
    kind: SliverKind,
    pair: u16,
    sources: impl IntoIterator<Item = u16>,
) -> Vec<RecoverySymbol> {
    sources
        .into_iter()
        .map(|q| {
            let (source_kind, index) = c.recovery_request(kind, pair, q);
            c.recovery_symbol(sliver(enc, source_kind, q), index)
                .expect("symbol")
        })
        .collect()
}

#[test]
fn requests_pick_the_shared_symbol() {
    let c = EncodingConfig::new(10).expect("valid");
    assert_eq!(
        c.recovery_request(SliverKind::Primary, 3, 7),
        (SliverKind::Secondary, 3)
    );
    assert_eq!(
        c.recovery_request(SliverKind::Secondary, 3, 7),
        (SliverKind::Primary, 6)
    );
}

#[test]
fn recovery_rebuilds_both_kinds_and_rejects_bad_symbol_sets() {
    let (c, enc) = encode(10, &blob(4321, 9));
    // Primary of pair 4 from secondaries of pairs 3..10 (n-f = 7 symbols).
    let syms = symbols_for(&c, &enc, SliverKind::Primary, 4, 3..10);
    assert_eq!(
        c.recover_sliver(&enc.metadata, SliverKind::Primary, 4, syms.clone())
            .as_ref(),
        Ok(&enc.pairs[4].primary)
    );
    // Secondary of pair 4 from primaries of pairs 6..10 (n-2f = 4 symbols).
    let sec = symbols_for(&c, &enc, SliverKind::Secondary, 4, 6..10);
    assert_eq!(
        c.recover_sliver(&enc.metadata, SliverKind::Secondary, 4, sec)
            .as_ref(),
        Ok(&enc.pairs[4].secondary)
    );
    assert_eq!(
        c.recover_sliver(&enc.metadata, SliverKind::Primary, 4, syms[..6].to_vec()),
        Err(RecoveryError::NotEnoughSymbols { got: 6, needed: 7 })
    );
    let mut dup = syms.clone();
    dup.push(syms[0].clone());
    assert_eq!(
        c.recover_sliver(&enc.metadata, SliverKind::Primary, 4, dup),
        Err(RecoveryError::DuplicateSource { source_pair: 3 })
    );
    // A valid symbol, but for another target row.
    let other = symbols_for(&c, &enc, SliverKind::Primary, 5, [0]);
    assert_eq!(
        c.recover_sliver(&enc.metadata, SliverKind::Primary, 4, other),
        Err(RecoveryError::NotForTarget {
            source_kind: SliverKind::Secondary,
            source_pair: 0,
            index: 5,
            expected_kind: SliverKind::Secondary,
            expected_index: 4,
        })
    );
    assert_eq!(
        c.recover_sliver(&enc.metadata, SliverKind::Primary, 10, syms.clone()),
        Err(RecoveryError::PairOutOfRange {
            pair: 10,
            n_shards: 10
        })
    );
    assert_eq!(
        c.recovery_symbol(&enc.pairs[0].primary, 10),
        Err(RecoveryError::IndexOutOfRange {
            index: 10,
            n_shards: 10
        })
    );
}

#[test]
fn symbol_verification_names_what_is_wrong() {
    let (c, enc) = encode(10, &blob(999, 4));
    let s = c.symbol_size(999).expect("fits");
    let good = c
        .recovery_symbol(&enc.pairs[2].secondary, 8)
        .expect("symbol");
    good.verify(&enc.metadata, &c).expect("verifies");
    let invalid = Err(RecoveryError::InvalidProof {
        source_kind: SliverKind::Secondary,
        source_pair: 2,
        index: 8,
    });
    let mut bad = good.clone();
    bad.index = 7;
    assert_eq!(
        bad.verify(&enc.metadata, &c),
        Err(RecoveryError::InvalidProof {
            source_kind: SliverKind::Secondary,
            source_pair: 2,
            index: 7,
        })
    );
    let mut bad = good.clone();
    bad.proof = MerkleProof {
        path: bad.proof.path[1..].to_vec(),
    };
    assert_eq!(bad.verify(&enc.metadata, &c), invalid);
    let mut bad = good.clone();
    bad.symbol.push(0);
    assert_eq!(
        bad.verify(&enc.metadata, &c),
        Err(RecoveryError::WrongSymbolSize {
            source_pair: 2,
            got: usize::from(s) + 1,
            expected: s
        })
    );
    let mut bad = good.clone();
    bad.index = 10;
    assert_eq!(
        bad.verify(&enc.metadata, &c),
        Err(RecoveryError::IndexOutOfRange {
            index: 10,
            n_shards: 10
        })
    );
    let mut bad = good;
    bad.source_pair = 11;
    assert_eq!(
        bad.verify(&enc.metadata, &c),
        Err(RecoveryError::PairOutOfRange {
            pair: 11,
            n_shards: 10
        })
    );
}

/// A writer that commits to a tampered sliver: honest encoding, one sliver altered and its
/// hash in the metadata recomputed.
fn inconsistent(n: u16, len: usize, kind: SliverKind, pair: u16) -> (EncodingConfig, EncodedBlob) {
    let (c, mut enc) = encode(n, &blob(len, 77));
    let p = &mut enc.pairs[usize::from(pair)];
    let target = match kind {
        SliverKind::Primary => &mut p.primary,
        SliverKind::Secondary => &mut p.secondary,
    };
    target.data[0] ^= 0x5a;
    let hash = target.hash(&c).expect("hashes");
    let h = &mut enc.metadata.hashes[usize::from(pair)];
    match kind {
        SliverKind::Primary => h.primary = hash,
        SliverKind::Secondary => h.secondary = hash,
    }
    enc.blob_id = enc.metadata.blob_id();
    (c, enc)
}

#[test]
fn inconsistent_encoding_yields_a_proof_any_node_checks() {
    for kind in [SliverKind::Primary, SliverKind::Secondary] {
        let (c, bad) = inconsistent(10, 2000, kind, 1);
        // The tampered sliver itself verifies against the (tampered) metadata.
        let tampered = sliver(&bad, kind, 1).clone();
        tampered.verify(&bad.metadata, &c).expect("committed");
        let syms = symbols_for(&c, &bad, kind, 1, (2..10).rev());
        let proof = match c.recover_sliver(&bad.metadata, kind, 1, syms) {
            Err(RecoveryError::Inconsistent(proof)) => *proof,
            other => panic!("expected an inconsistency proof, got {other:?}"),
        };
        assert_eq!((proof.target_kind, proof.target_pair), (kind, 1));
        assert_eq!(proof.symbols.len(), usize::from(c.sliver_len(kind)));
        assert_eq!(proof.verify(&bad.metadata, &c), Ok(()));
        // It survives the wire.
        let back = floe_core::InconsistencyProof::from_wire(&proof.to_wire()).expect("decodes");
        assert_eq!(back.verify(&bad.metadata, &c), Ok(()));

        // A bogus proof against an honest blob: the same symbols rebuild the committed sliver.
        let (c2, honest) = encode(10, &blob(2000, 77));
        let honest_syms = symbols_for(&c2, &honest, kind, 1, (2..10).rev());
        let bogus = floe_core::InconsistencyProof {
            target_kind: kind,
            target_pair: 1,
            symbols: honest_syms,
        };
        assert_eq!(
            bogus.verify(&honest.metadata, &c2),
            Err(InconsistencyError::Consistent { kind, pair: 1 })
        );
        // A proof with a forged symbol fails its Merkle check.
        let mut forged = proof.clone();
        forged.symbols[0].symbol[0] ^= 1;
        assert!(matches!(
            forged.verify(&bad.metadata, &c),
            Err(InconsistencyError::Invalid(
                RecoveryError::InvalidProof { .. }
            ))
        ));
        let mut short = proof;
        short.symbols.pop();
        assert!(matches!(
            short.verify(&bad.metadata, &c),
            Err(InconsistencyError::Invalid(
                RecoveryError::NotEnoughSymbols { .. }
            ))
        ));
    }
}

#[test]
fn recovery_moves_at_most_three_times_the_pair_with_kib_symbols() {
    // Bytes on the wire to rebuild one pair (both slivers) over the pair's size.
    for (n, symbol) in [(10u16, 1024usize), (100, 1024), (100, 4096)] {
        let c = EncodingConfig::new(n).expect("valid");
        let len = usize::from(c.primary_len()) * usize::from(c.secondary_len()) * symbol;
        let (c, enc) = encode(n, &blob(len, 5));
        assert_eq!(
            usize::from(c.symbol_size(len as u64).expect("fits")),
            symbol
        );
        let moved: usize = [SliverKind::Primary, SliverKind::Secondary]
            .into_iter()
            .map(|kind| {
                let need = c.sliver_len(kind);
                symbols_for(&c, &enc, kind, 0, 1..=need)
                    .iter()
                    .map(|s| s.to_wire().len())
                    .sum::<usize>()
            })
            .sum();
        let pair = enc.pairs[0].primary.data.len() + enc.pairs[0].secondary.data.len();
        let ratio = moved as f64 / pair as f64;
        assert!(ratio <= 3.0, "n {n}, symbol {symbol}: ratio {ratio}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    /// Recovery from any allowed set of source pairs rebuilds the exact sliver.
    #[test]
    fn recovery_from_any_allowed_set(
        n in 4u16..=16,
        len in 0usize..6000,
        pair in any::<u16>(),
        secondary in any::<bool>(),
        keys in prop::collection::vec(any::<u32>(), 16),
    ) {
        let (c, enc) = encode(n, &blob(len, len as u64 + 1));
        let kind = if secondary { SliverKind::Secondary } else { SliverKind::Primary };
        let pair = pair % n;
        let mut sources: Vec<u16> = (0..n).collect();
        sources.sort_by_key(|&q| keys[usize::from(q)]);
        sources.truncate(usize::from(c.sliver_len(kind)));
        let syms = symbols_for(&c, &enc, kind, pair, sources);
        let rebuilt = c.recover_sliver(&enc.metadata, kind, pair, syms);
        prop_assert_eq!(rebuilt.as_ref(), Ok(sliver(&enc, kind, pair)));
    }

    /// Any flipped bit in a recovery symbol or its proof is detected.
    #[test]
    fn a_flipped_bit_in_a_symbol_or_proof_is_detected(
        n in 4u16..=16,
        len in 0usize..3000,
        pair in any::<u16>(),
        index in any::<u16>(),
        secondary in any::<bool>(),
        bit in any::<usize>(),
    ) {
        let (c, enc) = encode(n, &blob(len, 3));
        let kind = if secondary { SliverKind::Secondary } else { SliverKind::Primary };
        let mut sym = c.recovery_symbol(sliver(&enc, kind, pair % n), index % n).expect("symbol");
        prop_assert_eq!(sym.verify(&enc.metadata, &c), Ok(()));
        let symbol_bits = sym.symbol.len() * 8;
        let bit = bit % (symbol_bits + sym.proof.path.len() * 256);
        if bit < symbol_bits {
            sym.symbol[bit / 8] ^= 1 << (bit % 8);
        } else {
            let b = bit - symbol_bits;
            sym.proof.path[b / 256][(b % 256) / 8] ^= 1 << (b % 8);
        }
        let is_invalid = matches!(sym.verify(&enc.metadata, &c), Err(RecoveryError::InvalidProof { .. }));
        prop_assert!(is_invalid);
    }
}
