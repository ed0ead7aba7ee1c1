//! The cargo-fuzz target bodies (`core/fuzz/src/bodies.rs`) run on stable as proptests:
//! random bytes, and valid encodings with random bytes changed, cut or inserted.

#[path = "../../fuzz/src/bodies.rs"]
mod bodies;

use floe_core::{InconsistencyProof, SliverKind, Wire};
use proptest::prelude::*;

use crate::common::{blob, encode};

/// Valid encodings of every type to mutate.
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(make_seeds)
}

fn make_seeds() -> Vec<Vec<u8>> {
    let (c, enc) = encode(4, &(0..100u8).collect::<Vec<_>>());
    let (_, other) = encode(5, &blob(300, 1));
    let sym = |k: SliverKind, q: usize, i: u16| {
        let p = &enc.pairs[q];
        c.recovery_symbol(
            if k == SliverKind::Primary {
                &p.primary
            } else {
                &p.secondary
            },
            i,
        )
        .expect("symbol")
    };
    let proof = InconsistencyProof {
        target_kind: SliverKind::Primary,
        target_pair: 1,
        symbols: vec![
            sym(SliverKind::Secondary, 0, 1),
            sym(SliverKind::Secondary, 2, 1),
            sym(SliverKind::Secondary, 3, 1),
        ],
    };
    vec![
        enc.metadata.to_wire(),
        other.metadata.to_wire(),
        enc.pairs[1].primary.to_wire(),
        enc.pairs[3].secondary.to_wire(),
        sym(SliverKind::Primary, 2, 3).to_wire(),
        proof.to_wire(),
    ]
}

fn run_all(data: &[u8]) {
    bodies::metadata(data);
    bodies::sliver(data);
    bodies::recovery_symbol(data);
    bodies::inconsistency_proof(data);
}

#[test]
fn bodies_accept_valid_encodings() {
    for seed in seeds() {
        run_all(seed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn bodies_never_panic_on_random_bytes(data in prop::collection::vec(any::<u8>(), 0..300), tag in 1u8..=4) {
        let mut framed = vec![1, tag];
        framed.extend_from_slice(&data);
        run_all(&data);
        run_all(&framed);
    }

    #[test]
    fn bodies_never_panic_on_mutated_encodings(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..6),
    ) {
        let mut data = seeds()[which.index(seeds().len())].clone();
        for (at, byte, op) in edits {
            let i = at.index(data.len().max(1));
            match op {
                0 if !data.is_empty() => data[i] = byte,
                1 if !data.is_empty() => data.truncate(i),
                2 => data.insert(i.min(data.len()), byte),
                _ if !data.is_empty() => data[i] ^= 1 << (byte % 8),
                _ => data.push(byte),
            }
        }
        run_all(&data);
    }
}
