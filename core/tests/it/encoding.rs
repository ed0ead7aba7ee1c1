//! Encoding and decoding: parameters, sizes, round trips, sliver verification, decode errors.

use floe_core::{
    DecodeError, EncodeError, EncodingConfig, EncodingConfigError, SliverError, SliverKind,
    encoding::{MAX_SHARDS, MAX_SYMBOL_SIZE},
};
use proptest::prelude::*;

use crate::common::{blob, cfg, encode, interesting_len};

#[test]
fn config_rejects_too_few_and_too_many_shards() {
    assert_eq!(
        EncodingConfig::new(3),
        Err(EncodingConfigError::TooFewShards {
            n_shards: 3,
            min: 4
        })
    );
    assert_eq!(
        EncodingConfig::new(MAX_SHARDS + 1),
        Err(EncodingConfigError::TooManyShards {
            n_shards: MAX_SHARDS + 1,
            max: MAX_SHARDS
        })
    );
    assert!(EncodingConfig::new(MAX_SHARDS).is_ok());
}

#[test]
fn every_shard_count_up_to_the_maximum_is_supported_by_both_codes() {
    // A tiny blob at a few large n proves the codes exist there (encode runs the library).
    for n in [4u16, 5, 6, 7, 1000, 1001, 4096] {
        let (cfg, enc) = encode(n, b"x");
        assert_eq!(enc.pairs.len(), n as usize);
        enc.pairs[n as usize - 1]
            .secondary
            .verify(&enc.metadata, &cfg)
            .expect("verifies");
    }
}

#[test]
fn parameters_follow_the_design() {
    for (n, f, k1, k2) in [
        (4u16, 1u16, 2u16, 3u16),
        (10, 3, 4, 7),
        (100, 33, 34, 67),
        (1000, 333, 334, 667),
    ] {
        let c = cfg(n);
        assert_eq!(
            (c.n_shards(), c.f(), c.secondary_len(), c.primary_len()),
            (n, f, k1, k2)
        );
        assert_eq!(c.max_blob_size(), u64::from(k1) * u64::from(k2) * 65534);
    }
}

#[test]
fn symbol_and_encoded_sizes_match_the_contract_formula() {
    let c = cfg(10); // k1 = 4, k2 = 7: 28 symbols
    for (len, symbol) in [
        (0u64, 2u16),
        (1, 2),
        (56, 2),
        (57, 4),
        (84, 4),
        (85, 4),
        (1000, 36),
        (1009, 38),
    ] {
        assert_eq!(c.symbol_size(len), Ok(symbol), "len {len}");
        assert_eq!(
            c.encoded_size(len),
            Ok(10 * 11 * u64::from(symbol) + 640),
            "len {len}"
        );
    }
    let max = c.max_blob_size();
    assert_eq!(c.symbol_size(max), Ok(MAX_SYMBOL_SIZE));
    let too_large = EncodeError::BlobTooLarge {
        len: max + 1,
        max,
        n_shards: 10,
    };
    assert_eq!(c.symbol_size(max + 1), Err(too_large.clone()));
    assert_eq!(c.encoded_size(max + 1), Err(too_large));
    // n = 1000, 256 MiB: the benchmark's case.
    let c = cfg(1000);
    assert_eq!(c.symbol_size(256 << 20), Ok(1206));
    assert_eq!(c.encoded_size(256 << 20), Ok(1000 * 1001 * 1206 + 64_000));
}

#[test]
fn a_blob_larger_than_the_maximum_is_rejected_naming_the_maximum() {
    let c = cfg(4);
    let max = c.max_blob_size();
    let err = c
        .encode(&vec![0u8; max as usize + 1])
        .expect_err("too large");
    assert_eq!(
        err,
        EncodeError::BlobTooLarge {
            len: max + 1,
            max,
            n_shards: 4
        }
    );
    assert!(err.to_string().contains(&max.to_string()), "{err}");
}

#[test]
fn systematic_slivers_hold_the_blob_row_major() {
    let data = blob(1000, 1);
    let (c, enc) = encode(10, &data); // symbol 36, rows of 7 symbols = 252 bytes
    let row = 7 * 36;
    for r in 0..4 {
        let expected: Vec<u8> = data
            .iter()
            .copied()
            .skip(r * row)
            .chain(std::iter::repeat(0))
            .take(row)
            .collect();
        assert_eq!(enc.pairs[r].primary.data, expected, "row {r}");
    }
    // Secondary sliver of pair n-1-c is column c: its first symbols are column c of the matrix.
    for col in 0..7usize {
        let secondary = &enc.pairs[9 - col].secondary;
        assert_eq!(secondary.kind, SliverKind::Secondary);
        assert_eq!(secondary.data.len(), 4 * 36);
        for r in 0..4 {
            assert_eq!(
                secondary.data[r * 36..(r + 1) * 36],
                enc.pairs[r].primary.data[col * 36..(col + 1) * 36],
                "column {col} row {r}"
            );
        }
    }
    assert_eq!(c.sliver_index(SliverKind::Secondary, 9), 0);
}

#[test]
fn decode_uses_any_primaries_and_rejects_bad_sets() {
    let data = blob(5000, 2);
    let (c, enc) = encode(10, &data);
    let prim = |i: usize| enc.pairs[i].primary.clone();
    let s = c.symbol_size(5000).expect("fits");
    // Mixed systematic and recovery rows.
    assert_eq!(
        c.decode(&enc.metadata, vec![prim(9), prim(0), prim(5), prim(2)]),
        Ok(data.clone())
    );
    // More than needed is fine.
    assert_eq!(
        c.decode(&enc.metadata, (0..10).map(prim).collect()),
        Ok(data.clone())
    );
    assert_eq!(
        c.decode(&enc.metadata, vec![prim(1), prim(2), prim(3)]),
        Err(DecodeError::NotEnoughSlivers { got: 3, needed: 4 })
    );
    assert_eq!(
        c.decode(&enc.metadata, vec![prim(1), prim(2), prim(2), prim(3)]),
        Err(DecodeError::DuplicatePair { pair: 2 })
    );
    assert_eq!(
        c.decode(&enc.metadata, vec![enc.pairs[1].secondary.clone()]),
        Err(DecodeError::NotPrimary { pair: 1 })
    );
    let mut bad = prim(1);
    bad.pair = 10;
    assert_eq!(
        c.decode(&enc.metadata, vec![bad]),
        Err(DecodeError::PairOutOfRange {
            pair: 10,
            n_shards: 10
        })
    );
    let mut bad = prim(1);
    bad.symbol_size += 2;
    assert_eq!(
        c.decode(&enc.metadata, vec![bad]),
        Err(DecodeError::WrongSymbolSize {
            pair: 1,
            got: s + 2,
            expected: s
        })
    );
    let mut bad = prim(1);
    bad.data.pop();
    let full = 7 * usize::from(s);
    assert_eq!(
        c.decode(&enc.metadata, vec![bad]),
        Err(DecodeError::WrongLength {
            pair: 1,
            got: full - 1,
            expected: full
        })
    );
    assert_eq!(
        c.decode_and_verify(&enc.metadata, vec![prim(9), prim(8), prim(7), prim(6)]),
        Ok(data)
    );
}

#[test]
fn sliver_verification_names_what_is_wrong() {
    let (c, enc) = encode(7, &blob(333, 3));
    let s = c.symbol_size(333).expect("fits");
    let good = enc.pairs[2].primary.clone();
    good.verify(&enc.metadata, &c).expect("verifies");
    let mut bad = good.clone();
    bad.pair = 7;
    assert_eq!(
        bad.verify(&enc.metadata, &c),
        Err(SliverError::PairOutOfRange {
            pair: 7,
            n_shards: 7
        })
    );
    let mut bad = good.clone();
    bad.symbol_size = s + 2;
    assert_eq!(
        bad.verify(&enc.metadata, &c),
        Err(SliverError::WrongSymbolSize {
            got: s + 2,
            expected: s
        })
    );
    let mut bad = good.clone();
    bad.data.extend_from_slice(&[0, 0]);
    let len = good.data.len();
    assert_eq!(
        bad.verify(&enc.metadata, &c),
        Err(SliverError::WrongLength {
            got: len + 2,
            expected: len
        })
    );
    // The right bytes under another pair index.
    let mut bad = good.clone();
    bad.pair = 3;
    assert!(matches!(
        bad.verify(&enc.metadata, &c),
        Err(SliverError::HashMismatch { pair: 3, .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Any n-2f primary slivers decode to the original bytes; every sliver verifies.
    #[test]
    fn decode_from_any_allowed_subset(
        n in 4u16..=16,
        pick in any::<u8>(),
        raw in any::<usize>(),
        seed in any::<u64>(),
        keys in prop::collection::vec(any::<u32>(), 16),
    ) {
        let c = cfg(n);
        let len = interesting_len(&c, pick, raw);
        let data = blob(len, seed);
        let enc = c.encode(&data).expect("encodes");
        prop_assert_eq!(enc.blob_id, enc.metadata.blob_id());
        let k1 = usize::from(c.secondary_len());
        let mut order: Vec<usize> = (0..usize::from(n)).collect();
        order.sort_by_key(|&i| keys[i]);
        let chosen: Vec<_> = order.iter().copied().take(k1)
            .map(|i| enc.pairs[i].primary.clone()).collect();
        for sliver in &chosen {
            prop_assert_eq!(sliver.verify(&enc.metadata, &c), Ok(()));
        }
        prop_assert_eq!(enc.pairs[0].secondary.verify(&enc.metadata, &c), Ok(()));
        let decoded = c.decode(&enc.metadata, chosen).expect("decodes");
        prop_assert!(decoded == data, "decoded bytes differ (n {}, len {})", n, len);
    }

    /// Any flipped bit in a sliver is detected by its verification.
    #[test]
    fn a_flipped_bit_in_a_sliver_is_detected(
        n in 4u16..=13,
        len in 0usize..3000,
        pair in any::<u16>(),
        secondary in any::<bool>(),
        bit in any::<usize>(),
    ) {
        let (c, enc) = encode(n, &blob(len, len as u64));
        let p = &enc.pairs[usize::from(pair % n)];
        let mut sliver = if secondary { p.secondary.clone() } else { p.primary.clone() };
        let bit = bit % (sliver.data.len() * 8);
        sliver.data[bit / 8] ^= 1 << (bit % 8);
        let is_mismatch = matches!(sliver.verify(&enc.metadata, &c), Err(SliverError::HashMismatch { .. }));
        prop_assert!(is_mismatch);
    }
}
