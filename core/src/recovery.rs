//! Recovery of a lost sliver from symbols of other slivers, and inconsistency proofs.
//!
//! A recovery symbol is one symbol of a source sliver's full expansion with a Merkle proof
//! against that sliver's hash in the metadata. Symbol `(i, j)` of the fully expanded matrix
//! `F` lies in both primary `i`'s expansion (at index `j`) and secondary column `j`'s (at index
//! `i`). So a lost primary sliver `p` (row `p`) is rebuilt from symbol `p` of any `n-f`
//! secondary slivers, and a lost secondary sliver of pair `p` (column `c = n-1-p`) from symbol
//! `c` of any `n-2f` primary slivers: the target's index is the same whoever the source is
//! ([`EncodingConfig::recovery_request`]).
//!
//! When symbols verify but the rebuilt sliver does not hash to the metadata's value, the writer
//! encoded inconsistently: the symbols used form an [`InconsistencyProof`] any node re-checks.

use serde::{Deserialize, Serialize};

use crate::{
    encoding::{EncodingConfig, Sliver, SliverError, SliverKind, leaf_hashes},
    merkle::{self, Hash, MerkleProof, MerkleTree},
    metadata::{BlobMetadata, MetadataError},
    rs::{self, CodecError},
};

/// One symbol of a sliver's full expansion, with its proof against the sliver's hash.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoverySymbol {
    /// Kind of the sliver the symbol comes from.
    pub source_kind: SliverKind,
    /// Pair of the sliver the symbol comes from.
    pub source_pair: u16,
    /// Position in the source sliver's full expansion (`0..n`).
    pub index: u16,
    /// The symbol's bytes.
    pub symbol: Vec<u8>,
    /// Merkle proof of the symbol at `index` against the source sliver's hash.
    pub proof: MerkleProof,
}

impl std::fmt::Debug for RecoverySymbol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecoverySymbol")
            .field("source_kind", &self.source_kind)
            .field("source_pair", &self.source_pair)
            .field("index", &self.index)
            .field("symbol_len", &self.symbol.len())
            .field("proof_len", &self.proof.path.len())
            .finish()
    }
}

/// Verified symbols that rebuild a sliver whose hash is not the metadata's: proof that the
/// writer encoded the blob inconsistently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InconsistencyProof {
    /// Kind of the sliver that could not be rebuilt consistently.
    pub target_kind: SliverKind,
    /// Its pair.
    pub target_pair: u16,
    /// The symbols used, exactly as many as a rebuild needs.
    pub symbols: Vec<RecoverySymbol>,
}

/// Recovery failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryError {
    /// The metadata does not fit the configuration.
    #[error("bad metadata: {0}")]
    Metadata(#[from] MetadataError),
    /// The source sliver given to [`EncodingConfig::recovery_symbol`] is malformed.
    #[error("bad source sliver: {0}")]
    Source(#[from] SliverError),
    /// A pair index is not below the number of shards.
    #[error("pair {pair} out of range: there are {n_shards} pairs")]
    PairOutOfRange {
        /// The pair.
        pair: u16,
        /// Shards of the system.
        n_shards: u16,
    },
    /// A symbol index is not below the number of shards.
    #[error("symbol index {index} out of range: an expanded sliver has {n_shards} symbols")]
    IndexOutOfRange {
        /// The index.
        index: u16,
        /// Shards of the system.
        n_shards: u16,
    },
    /// A symbol's length is not the blob's symbol size.
    #[error(
        "recovery symbol from pair {source_pair} has {got} bytes, the blob's symbol size is {expected}"
    )]
    WrongSymbolSize {
        /// The symbol's source pair.
        source_pair: u16,
        /// Its length.
        got: usize,
        /// The blob's symbol size.
        expected: u16,
    },
    /// A symbol's Merkle proof does not lead to its source sliver's hash.
    #[error(
        "recovery symbol {index} of the {source_kind} sliver of pair {source_pair} fails its Merkle proof; discard it and ask another node"
    )]
    InvalidProof {
        /// The source kind.
        source_kind: SliverKind,
        /// The source pair.
        source_pair: u16,
        /// The symbol index.
        index: u16,
    },
    /// A symbol is not one the target needs.
    #[error(
        "recovery symbol {index} of the {source_kind} sliver of pair {source_pair} is not for this target, which needs symbol {expected_index} of {expected_kind} slivers"
    )]
    NotForTarget {
        /// The source kind.
        source_kind: SliverKind,
        /// The source pair.
        source_pair: u16,
        /// The symbol index.
        index: u16,
        /// The kind the target needs.
        expected_kind: SliverKind,
        /// The index the target needs.
        expected_index: u16,
    },
    /// Two symbols from the same source pair.
    #[error("two recovery symbols from pair {source_pair}; give each source once")]
    DuplicateSource {
        /// The repeated source pair.
        source_pair: u16,
    },
    /// Too few symbols to rebuild the target.
    #[error("{got} recovery symbols given but {needed} are needed; ask more nodes")]
    NotEnoughSymbols {
        /// Distinct symbols given.
        got: usize,
        /// Symbols needed.
        needed: usize,
    },
    /// The symbols verify but rebuild a sliver that does not match the metadata.
    #[error("the blob is inconsistently encoded: verified symbols rebuild a {} sliver of pair {} that does not match the metadata; submit the inconsistency proof", .0.target_kind, .0.target_pair)]
    Inconsistent(Box<InconsistencyProof>),
    /// Internal Reed–Solomon failure (a bug).
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// An inconsistency proof that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InconsistencyError {
    /// The proof's symbols are malformed, unproven or too few.
    #[error("invalid inconsistency proof: {0}")]
    Invalid(#[from] RecoveryError),
    /// The symbols rebuild a sliver that matches the metadata: the blob is consistent.
    #[error(
        "the symbols rebuild the {kind} sliver of pair {pair} exactly as committed: the blob is consistent, reject this proof"
    )]
    Consistent {
        /// The target kind.
        kind: SliverKind,
        /// The target pair.
        pair: u16,
    },
}

impl EncodingConfig {
    /// Symbol `index` of `source`'s full expansion with its Merkle proof.
    pub fn recovery_symbol(
        &self,
        source: &Sliver,
        index: u16,
    ) -> Result<RecoverySymbol, RecoveryError> {
        let mut symbols = self.recovery_symbols(source, &[index])?;
        symbols.pop().ok_or(RecoveryError::IndexOutOfRange {
            index,
            n_shards: self.n_shards(),
        })
    }

    /// Several symbols of `source`'s full expansion (expands and hashes the sliver once).
    pub fn recovery_symbols(
        &self,
        source: &Sliver,
        indices: &[u16],
    ) -> Result<Vec<RecoverySymbol>, RecoveryError> {
        if let Some(&index) = indices.iter().find(|&&i| i >= self.n_shards()) {
            return Err(RecoveryError::IndexOutOfRange {
                index,
                n_shards: self.n_shards(),
            });
        }
        let expanded = source.expanded(self)?;
        let s = usize::from(source.symbol_size);
        let tree = MerkleTree::new(leaf_hashes(&expanded, s));
        indices
            .iter()
            .map(|&index| {
                let i = usize::from(index);
                let proof = tree.proof(i).ok_or(RecoveryError::IndexOutOfRange {
                    index,
                    n_shards: self.n_shards(),
                })?;
                Ok(RecoverySymbol {
                    source_kind: source.kind,
                    source_pair: source.pair,
                    index,
                    symbol: expanded[i * s..(i + 1) * s].to_vec(),
                    proof,
                })
            })
            .collect()
    }

    /// Which symbol a target sliver needs from the pair `source_pair`: the source's kind (the
    /// other kind) and the index in its expansion. The index depends only on the target:
    /// `target_pair` for a primary target, `n-1-target_pair` for a secondary one.
    pub fn recovery_request(
        &self,
        target_kind: SliverKind,
        target_pair: u16,
        source_pair: u16,
    ) -> (SliverKind, u16) {
        let _ = source_pair;
        (
            target_kind.other(),
            self.sliver_index(target_kind, target_pair),
        )
    }

    /// Rebuilds the `target_kind` sliver of `target_pair` from symbols of other slivers
    /// (`n-f` for a primary, `n-2f` for a secondary; extra symbols are ignored). Verifies
    /// every symbol and the result; [`RecoveryError::Inconsistent`] carries the proof when
    /// verified symbols rebuild a sliver that does not match the metadata.
    pub fn recover_sliver(
        &self,
        metadata: &BlobMetadata,
        target_kind: SliverKind,
        target_pair: u16,
        symbols: Vec<RecoverySymbol>,
    ) -> Result<Sliver, RecoveryError> {
        let (sliver, used) = self.rebuild(metadata, target_kind, target_pair, symbols)?;
        let computed = sliver.hash(self)?;
        if computed != committed_hash(metadata, target_kind, target_pair) {
            return Err(RecoveryError::Inconsistent(Box::new(InconsistencyProof {
                target_kind,
                target_pair,
                symbols: used,
            })));
        }
        Ok(sliver)
    }

    /// Checks and decodes; returns the rebuilt sliver and the symbols used.
    fn rebuild(
        &self,
        metadata: &BlobMetadata,
        target_kind: SliverKind,
        target_pair: u16,
        symbols: Vec<RecoverySymbol>,
    ) -> Result<(Sliver, Vec<RecoverySymbol>), RecoveryError> {
        metadata.check(self)?;
        let n = self.n_shards();
        if target_pair >= n {
            return Err(RecoveryError::PairOutOfRange {
                pair: target_pair,
                n_shards: n,
            });
        }
        let symbol_size = metadata.symbol_size(self)?;
        let needed = usize::from(self.sliver_len(target_kind));
        let (expected_kind, expected_index) = self.recovery_request(target_kind, target_pair, 0);
        let mut seen = vec![false; usize::from(n)];
        let mut used = Vec::with_capacity(needed);
        for symbol in symbols {
            symbol.verify(metadata, self)?;
            if symbol.source_kind != expected_kind || symbol.index != expected_index {
                return Err(RecoveryError::NotForTarget {
                    source_kind: symbol.source_kind,
                    source_pair: symbol.source_pair,
                    index: symbol.index,
                    expected_kind,
                    expected_index,
                });
            }
            let seen = &mut seen[usize::from(symbol.source_pair)];
            if *seen {
                return Err(RecoveryError::DuplicateSource {
                    source_pair: symbol.source_pair,
                });
            }
            *seen = true;
            if used.len() < needed {
                used.push(symbol);
            }
        }
        if used.len() < needed {
            return Err(RecoveryError::NotEnoughSymbols {
                got: used.len(),
                needed,
            });
        }
        let (k, r) = self.code_of(target_kind);
        let positions: Vec<(usize, &[u8])> = used
            .iter()
            .map(|sym| {
                (
                    usize::from(self.sliver_index(sym.source_kind, sym.source_pair)),
                    sym.symbol.as_slice(),
                )
            })
            .collect();
        let data = rs::restore(k, r, usize::from(symbol_size), &positions)?;
        Ok((
            Sliver {
                kind: target_kind,
                pair: target_pair,
                symbol_size,
                data,
            },
            used,
        ))
    }
}

fn committed_hash(metadata: &BlobMetadata, kind: SliverKind, pair: u16) -> Hash {
    let hashes = &metadata.hashes[usize::from(pair)];
    match kind {
        SliverKind::Primary => hashes.primary,
        SliverKind::Secondary => hashes.secondary,
    }
}

impl RecoverySymbol {
    /// Checks the symbol's ranges, length and Merkle proof against the metadata.
    pub fn verify(
        &self,
        metadata: &BlobMetadata,
        cfg: &EncodingConfig,
    ) -> Result<(), RecoveryError> {
        metadata.check(cfg)?;
        let n = cfg.n_shards();
        if self.source_pair >= n {
            return Err(RecoveryError::PairOutOfRange {
                pair: self.source_pair,
                n_shards: n,
            });
        }
        if self.index >= n {
            return Err(RecoveryError::IndexOutOfRange {
                index: self.index,
                n_shards: n,
            });
        }
        let expected = metadata.symbol_size(cfg)?;
        if self.symbol.len() != usize::from(expected) {
            return Err(RecoveryError::WrongSymbolSize {
                source_pair: self.source_pair,
                got: self.symbol.len(),
                expected,
            });
        }
        let root = committed_hash(metadata, self.source_kind, self.source_pair);
        let leaf = merkle::leaf_hash(&self.symbol);
        if !self
            .proof
            .verify(&leaf, usize::from(self.index), usize::from(n), &root)
        {
            return Err(RecoveryError::InvalidProof {
                source_kind: self.source_kind,
                source_pair: self.source_pair,
                index: self.index,
            });
        }
        Ok(())
    }
}

impl InconsistencyProof {
    /// `Ok` when the proof holds: its symbols verify against the metadata and rebuild a
    /// sliver whose hash is not the committed one, so the blob is really inconsistent.
    pub fn verify(
        &self,
        metadata: &BlobMetadata,
        cfg: &EncodingConfig,
    ) -> Result<(), InconsistencyError> {
        let (sliver, _) = cfg.rebuild(
            metadata,
            self.target_kind,
            self.target_pair,
            self.symbols.clone(),
        )?;
        let computed = sliver.hash(cfg).map_err(RecoveryError::from)?;
        if computed == committed_hash(metadata, self.target_kind, self.target_pair) {
            return Err(InconsistencyError::Consistent {
                kind: self.target_kind,
                pair: self.target_pair,
            });
        }
        Ok(())
    }
}
