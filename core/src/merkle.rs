//! BLAKE3 Merkle trees: the commitments to slivers and to a blob's metadata.
//!
//! - A leaf hash is `BLAKE3-keyed(LEAF_KEY, data)`, an inner node `BLAKE3-keyed(INNER_KEY, left ‖ right)`:
//!   two different keys separate the domains, so a leaf can never pass for an inner node.
//! - A tree over `m` leaves is padded to the next power of two with [`EMPTY`] (32 zero bytes,
//!   which no hash produces in practice), so every proof of a tree has the same length,
//!   `ceil(log2(m))` sibling hashes, listed from the leaf up.
//! - Sliver hashes are roots over the `n` symbols of a sliver's full expansion; the metadata
//!   root is the root over the `n` pair leaves `leaf(primary hash ‖ secondary hash)`.

use serde::{Deserialize, Serialize};

/// A 32-byte BLAKE3 digest.
pub type Hash = [u8; 32];

/// Key of leaf hashes (domain separation; 32 bytes, ASCII, zero padded).
pub const LEAF_KEY: [u8; 32] = *b"floe merkle leaf v1\0\0\0\0\0\0\0\0\0\0\0\0\0";
/// Key of inner-node hashes (domain separation; 32 bytes, ASCII, zero padded).
pub const INNER_KEY: [u8; 32] = *b"floe merkle inner v1\0\0\0\0\0\0\0\0\0\0\0\0";
/// The padding node that fills a tree up to a power of two.
pub const EMPTY: Hash = [0u8; 32];
/// Longest proof accepted anywhere: trees have at most 2^16 leaves.
pub const MAX_DEPTH: usize = 16;

/// The hash of one leaf.
pub fn leaf_hash(data: &[u8]) -> Hash {
    *blake3::keyed_hash(&LEAF_KEY, data).as_bytes()
}

/// The hash of an inner node from its two children.
pub fn inner_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(left);
    buf[32..].copy_from_slice(right);
    *blake3::keyed_hash(&INNER_KEY, &buf).as_bytes()
}

/// Depth of a tree over `n_leaves` leaves: `ceil(log2(n_leaves))` (0 for 0 or 1 leaf).
pub fn depth(n_leaves: usize) -> usize {
    n_leaves.next_power_of_two().trailing_zeros() as usize
}

/// The root over the given leaf hashes ([`EMPTY`] for none).
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => EMPTY,
        1 => leaves[0],
        _ => {
            let mut level = next_level(leaves);
            while level.len() > 1 {
                level = next_level(&level);
            }
            level[0]
        }
    }
}

fn next_level(level: &[Hash]) -> Vec<Hash> {
    level
        .chunks(2)
        .map(|pair| inner_hash(&pair[0], pair.get(1).unwrap_or(&EMPTY)))
        .collect()
}

/// A full tree, kept to answer proofs.
#[derive(Debug, Clone)]
pub struct MerkleTree {
    /// Levels from the leaves (padded to an even length except the root's) to the root.
    levels: Vec<Vec<Hash>>,
    n_leaves: usize,
}

impl MerkleTree {
    /// Builds the tree over the given leaf hashes.
    pub fn new(leaves: Vec<Hash>) -> Self {
        let n_leaves = leaves.len();
        let mut levels = vec![leaves];
        for _ in 0..depth(n_leaves) {
            let last = levels.last().map(|l| next_level(l)).unwrap_or_default();
            levels.push(last);
        }
        Self { levels, n_leaves }
    }

    /// Number of leaves (before padding).
    pub fn n_leaves(&self) -> usize {
        self.n_leaves
    }

    /// The root.
    pub fn root(&self) -> Hash {
        self.levels
            .last()
            .and_then(|l| l.first())
            .copied()
            .unwrap_or(EMPTY)
    }

    /// The proof of leaf `index`, or `None` if out of range.
    pub fn proof(&self, index: usize) -> Option<MerkleProof> {
        if index >= self.n_leaves {
            return None;
        }
        let mut path = Vec::with_capacity(self.levels.len().saturating_sub(1));
        let mut i = index;
        for level in &self.levels[..self.levels.len() - 1] {
            path.push(level.get(i ^ 1).copied().unwrap_or(EMPTY));
            i >>= 1;
        }
        Some(MerkleProof { path })
    }
}

/// The sibling hashes from a leaf up to the root.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MerkleProof {
    /// Sibling hashes, from the leaf's level upwards.
    pub path: Vec<Hash>,
}

impl MerkleProof {
    /// Whether this proves `leaf` at `index` in a tree of `n_leaves` leaves with root `root`.
    ///
    /// The path must have exactly the tree's depth; nothing here panics on any input.
    pub fn verify(&self, leaf: &Hash, index: usize, n_leaves: usize, root: &Hash) -> bool {
        if index >= n_leaves || self.path.len() != depth(n_leaves) {
            return false;
        }
        self.root_from(leaf, index) == *root
    }

    /// The root this proof yields for `leaf` at `index`.
    pub fn root_from(&self, leaf: &Hash, index: usize) -> Hash {
        let mut acc = *leaf;
        let mut i = index;
        for sibling in &self.path {
            acc = if i & 1 == 0 {
                inner_hash(&acc, sibling)
            } else {
                inner_hash(sibling, &acc)
            };
            i >>= 1;
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(&(i as u32).to_le_bytes()))
            .collect()
    }

    #[test]
    fn proofs_verify_for_every_leaf_and_size() {
        for n in 1..=17 {
            let l = leaves(n);
            let tree = MerkleTree::new(l.clone());
            assert_eq!(tree.root(), root(&l), "n = {n}");
            for (i, leaf) in l.iter().enumerate() {
                let proof = tree.proof(i).expect("in range");
                assert_eq!(proof.path.len(), depth(n));
                assert!(proof.verify(leaf, i, n, &tree.root()), "n = {n}, i = {i}");
                if n >= 2 {
                    assert!(!proof.verify(leaf, (i + 1) % n, n, &tree.root()));
                }
            }
            assert!(tree.proof(n).is_none());
        }
    }

    #[test]
    fn leaf_and_inner_domains_differ() {
        let a = leaf_hash(b"a");
        let b = leaf_hash(b"b");
        let mut cat = [0u8; 64];
        cat[..32].copy_from_slice(&a);
        cat[32..].copy_from_slice(&b);
        assert_ne!(inner_hash(&a, &b), leaf_hash(&cat));
    }

    #[test]
    fn padding_is_explicit() {
        let l = leaves(3);
        let expected = inner_hash(&inner_hash(&l[0], &l[1]), &inner_hash(&l[2], &EMPTY));
        assert_eq!(root(&l), expected);
    }
}
