#![allow(clippy::unwrap_used)]
//! The node ↔ client protocol module against real encodings, and its parsers against
//! arbitrary input.

use floe_core::{
    encoding::{EncodingConfig, SliverKind},
    protocol::{
        NodeAddress, Quorum, WireLimits,
        limits::{metadata_wire_len, symbol_list_wire_len},
        quorum::max_faulty,
        symbols::{decode_symbol_list, encode_symbol_list, format_indices, parse_indices},
    },
    recovery::InconsistencyProof,
    wire::Wire,
};
use proptest::prelude::*;

#[test]
fn limits_are_the_exact_wire_sizes_of_real_values() {
    for (n, len) in [
        (4u16, 0usize),
        (4, 1),
        (10, 5000),
        (10, 77_777),
        (31, 10_000),
    ] {
        let cfg = EncodingConfig::new(n).unwrap();
        let limits = WireLimits::new(cfg);
        let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        let blob = cfg.encode(&data).unwrap();
        let blob_len = len as u64;
        assert_eq!(limits.metadata(), blob.metadata.to_wire().len() as u64);
        assert_eq!(metadata_wire_len(n), limits.metadata());
        let pair = &blob.pairs[1];
        assert_eq!(
            limits.sliver(blob_len, SliverKind::Primary),
            pair.primary.to_wire().len() as u64
        );
        assert_eq!(
            limits.sliver(blob_len, SliverKind::Secondary),
            pair.secondary.to_wire().len() as u64
        );
        let all: Vec<u16> = (0..n).collect();
        let symbols = cfg.recovery_symbols(&pair.secondary, &all).unwrap();
        assert_eq!(
            limits.recovery_symbol(blob_len),
            symbols[0].to_wire().len() as u64
        );
        assert_eq!(
            limits.symbol_list(blob_len, symbols.len()),
            encode_symbol_list(&symbols).len() as u64
        );
        assert_eq!(
            symbol_list_wire_len(n, limits.symbol_size(blob_len), 0),
            4,
            "an empty list is its count"
        );
        // The largest proof: as many symbols as a primary rebuild takes.
        let need = usize::from(cfg.primary_len());
        let proof = InconsistencyProof {
            target_kind: SliverKind::Primary,
            target_pair: 0,
            symbols: symbols[..need].to_vec(),
        };
        assert_eq!(
            limits.inconsistency_proof(blob_len),
            proof.to_wire().len() as u64
        );
        let decoded = decode_symbol_list(&encode_symbol_list(&symbols), symbols.len()).unwrap();
        assert_eq!(decoded.len(), symbols.len());
        assert_eq!(decoded[3].to_wire(), symbols[3].to_wire());
        assert!(decode_symbol_list(&encode_symbol_list(&symbols), symbols.len() - 1).is_err());
    }
}

#[test]
#[allow(clippy::int_plus_one)] // the formulas as the design writes them
fn chain_committee_and_core_agree_on_the_quorum() {
    // 3w >= 2n+1 and 3w >= n+1, checked by brute force against the formulas.
    for n in 1..=300u16 {
        for w in 0..=u64::from(n) {
            assert_eq!(Quorum::Certify.is_met(w, n), 3 * w >= 2 * u64::from(n) + 1);
            assert_eq!(Quorum::Invalidate.is_met(w, n), 3 * w >= u64::from(n) + 1);
        }
        let f = u64::from(max_faulty(n));
        if n % 3 == 1 {
            assert_eq!(Quorum::Certify.required(n), 2 * f + 1, "n = {n}");
            assert_eq!(Quorum::Invalidate.required(n), f + 1, "n = {n}");
        }
    }
}

proptest! {
    #[test]
    fn quorum_required_is_the_least_weight_meeting_it(n in 1u16.., certify: bool) {
        let q = if certify { Quorum::Certify } else { Quorum::Invalidate };
        let r = q.required(n);
        prop_assert!(q.is_met(r, n));
        prop_assert!(!q.is_met(r - 1, n));
    }

    #[test]
    fn indices_parse_never_panics_and_round_trips(list in ".{0,64}", n in 1u16..2000) {
        if let Ok(v) = parse_indices(&list, n) {
            prop_assert!(!v.is_empty() && v.len() <= usize::from(n));
            prop_assert!(v.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(v.iter().all(|&i| i < n));
            prop_assert_eq!(parse_indices(&format_indices(&v), n), Ok(v));
        }
    }

    #[test]
    fn formatted_indices_parse_back_sorted_and_unique(mut v in proptest::collection::vec(0u16..500, 1..100)) {
        let parsed = parse_indices(&format_indices(&v), 500).unwrap();
        v.sort_unstable();
        v.dedup();
        prop_assert_eq!(parsed, v);
    }

    #[test]
    fn address_parse_never_panics_and_valid_ones_round_trip(s in "[a-z0-9.:\\[\\]/@ -]{0,40}") {
        if let Ok(a) = NodeAddress::parse(&s) {
            let again = NodeAddress::parse(&a.to_string()).unwrap();
            prop_assert_eq!(&again, &a);
            prop_assert!(!a.base_url().contains(['/', '@', ' '].as_ref()) || a.base_url().starts_with("http://"));
            prop_assert!(!a.base_url()[7..].contains('/'));
        }
    }

    #[test]
    fn host_port_pairs_are_accepted(a: u8, b: u8, c: u8, d: u8, port in 1u16..) {
        let s = format!("{a}.{b}.{c}.{d}:{port}");
        prop_assert_eq!(NodeAddress::parse(&s).map(|x| x.base_url()), Ok(format!("http://{s}")));
    }

    #[test]
    fn symbol_list_decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512), max in 0usize..64) {
        if let Ok(v) = decode_symbol_list(&bytes, max) {
            prop_assert!(v.len() <= max);
        }
    }
}
