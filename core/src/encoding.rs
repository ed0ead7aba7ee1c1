//! Red Stuff: two-dimensional Reed–Solomon encoding over GF(2^16).
//!
//! For `n` shards and `f = (n-1)/3`, a blob is laid out row-major, zero padded, in a matrix of
//! `k1 = n-2f` rows by `k2 = n-f` columns of symbols (`s` bytes each, `s` even, at most 65534).
//! The column code `(k1 → n)` expands every column: the `n` rows of the result are the primary
//! slivers (`k2` symbols each). The row code `(k2 → n)` expands every row: its `n` columns are
//! the secondary slivers (`k1` symbols each). Both codes applied to the whole matrix give the
//! `n × n` fully expanded matrix `F`: a primary sliver's full expansion is its row of `F`, a
//! secondary's its column, and each sliver's hash is the Merkle root over those `n` symbols.
//! Sliver pair `i` = primary `i` + secondary `n-1-i`. A symbol of `s` bytes is `s/2` elements
//! of GF(2^16), element `e` the little-endian `u16` of bytes `2e, 2e+1`; both codes are
//! `reed-solomon-simd`'s systematic codes for their `(originals, recovery)` counts.
//!
//! Encoding computes `F` block by block on all cores (rayon): the column code on blocks of
//! columns, then the row code on blocks of rows, hashing each symbol of `F` once (a leaf hash
//! serves both its row's and its column's tree). Memory: the slivers (≈ 4.5× the blob at
//! n=1000), `n² × 32` bytes of leaf hashes, and a few MiB of work buffers per thread.

use std::{fmt, str::FromStr};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    ids::{BlobId, ENCODING_RED_STUFF},
    merkle::{self, Hash},
    metadata::{BlobMetadata, MetadataError, SliverPairHashes},
    rs::{self, CodecError},
};

/// Fewest shards a system can have.
pub const MIN_SHARDS: u16 = 4;
/// Most shards a system can have: the largest `n` whose two codes GF(2^16) supports.
pub const MAX_SHARDS: u16 = 49155;
/// Largest symbol size in bytes.
pub const MAX_SYMBOL_SIZE: u16 = 65534;
/// Bytes of metadata per shard counted in the encoded size (two 32-byte hashes).
pub const METADATA_BYTES_PER_SHARD: u64 = 64;

/// Target bytes of one batch shard handed to the Reed–Solomon library.
const BATCH_BYTES: usize = 16 * 1024;

/// The two kinds of slivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SliverKind {
    /// A row of the column-expanded matrix (`n-f` symbols).
    Primary,
    /// A column of the row-expanded matrix (`n-2f` symbols).
    Secondary,
}

impl SliverKind {
    /// The other kind.
    pub fn other(self) -> Self {
        match self {
            Self::Primary => Self::Secondary,
            Self::Secondary => Self::Primary,
        }
    }

    /// The kind's byte in the wire format (0 primary, 1 secondary).
    pub fn to_byte(self) -> u8 {
        match self {
            Self::Primary => 0,
            Self::Secondary => 1,
        }
    }

    /// The kind of a wire byte.
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            0 => Some(Self::Primary),
            1 => Some(Self::Secondary),
            _ => None,
        }
    }
}

impl fmt::Display for SliverKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Primary => "primary",
            Self::Secondary => "secondary",
        })
    }
}

/// A string that is neither `primary` nor `secondary`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid sliver kind {0:?}: expected \"primary\" or \"secondary\"")]
pub struct ParseSliverKindError(pub String);

impl FromStr for SliverKind {
    type Err = ParseSliverKindError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "primary" => Ok(Self::Primary),
            "secondary" => Ok(Self::Secondary),
            _ => Err(ParseSliverKindError(s.to_owned())),
        }
    }
}

/// One sliver: the symbols of a row (primary) or column (secondary) of the encoded matrix.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sliver {
    /// Primary or secondary.
    pub kind: SliverKind,
    /// The sliver PAIR index (a secondary sliver of pair `p` is column `n-1-p`).
    pub pair: u16,
    /// Bytes per symbol.
    pub symbol_size: u16,
    /// The symbols, concatenated.
    pub data: Vec<u8>,
}

impl fmt::Debug for Sliver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sliver")
            .field("kind", &self.kind)
            .field("pair", &self.pair)
            .field("symbol_size", &self.symbol_size)
            .field("data_len", &self.data.len())
            .finish()
    }
}

/// A sliver pair: what one shard stores of one blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SliverPair {
    /// Primary sliver `i`.
    pub primary: Sliver,
    /// Secondary sliver `n-1-i`.
    pub secondary: Sliver,
}

/// A blob's encoding: id, metadata and every sliver pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedBlob {
    /// The blob id.
    pub blob_id: BlobId,
    /// The metadata the id commits to.
    pub metadata: BlobMetadata,
    /// `pairs[i]` is sliver pair `i` (place it on shard `blob_id.shard_for_pair(i, n)`).
    pub pairs: Vec<SliverPair>,
}

/// An unusable number of shards.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodingConfigError {
    /// Fewer than [`MIN_SHARDS`].
    #[error("{n_shards} shards are too few: Red Stuff needs at least {min}")]
    TooFewShards {
        /// Shards asked for.
        n_shards: u16,
        /// The minimum.
        min: u16,
    },
    /// More than [`MAX_SHARDS`].
    #[error("{n_shards} shards are too many: GF(2^16) Reed–Solomon supports at most {max}")]
    TooManyShards {
        /// Shards asked for.
        n_shards: u16,
        /// The maximum.
        max: u16,
    },
}

/// Encoding failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The blob is larger than the maximum for this number of shards.
    #[error(
        "blob of {len} bytes is larger than the maximum of {max} bytes for {n_shards} shards; split it into smaller blobs"
    )]
    BlobTooLarge {
        /// The blob's length.
        len: u64,
        /// The maximum blob size.
        max: u64,
        /// Shards of the system.
        n_shards: u16,
    },
    /// Internal Reed–Solomon failure (a bug).
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// Decoding failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The metadata does not fit the configuration.
    #[error("bad metadata: {0}")]
    Metadata(#[from] MetadataError),
    /// Fewer than `n-2f` distinct primary slivers.
    #[error("{got} primary slivers given but {needed} are needed; fetch more from other nodes")]
    NotEnoughSlivers {
        /// Distinct slivers given.
        got: usize,
        /// Slivers needed (`n-2f`).
        needed: usize,
    },
    /// A secondary sliver was given; decoding uses primary slivers.
    #[error("sliver of pair {pair} is a secondary sliver; decode takes primary slivers")]
    NotPrimary {
        /// Its pair.
        pair: u16,
    },
    /// A sliver's pair index is not below the number of shards.
    #[error("sliver pair {pair} out of range: there are {n_shards} pairs")]
    PairOutOfRange {
        /// Its pair.
        pair: u16,
        /// Shards of the system.
        n_shards: u16,
    },
    /// Two slivers of the same pair.
    #[error("two slivers of pair {pair} given; give each pair once")]
    DuplicatePair {
        /// The pair.
        pair: u16,
    },
    /// A sliver's symbol size differs from the blob's.
    #[error("sliver of pair {pair} has symbol size {got}, the blob's is {expected}")]
    WrongSymbolSize {
        /// Its pair.
        pair: u16,
        /// Its symbol size.
        got: u16,
        /// The blob's.
        expected: u16,
    },
    /// A sliver's data has the wrong length.
    #[error("sliver of pair {pair} has {got} bytes, expected {expected}")]
    WrongLength {
        /// Its pair.
        pair: u16,
        /// Its length.
        got: usize,
        /// The expected length.
        expected: usize,
    },
    /// The decoded blob re-encodes to another blob id: the writer encoded inconsistently.
    #[error(
        "decoded bytes re-encode to blob id {computed}, not {expected}: the blob is inconsistently encoded; treat it as invalid"
    )]
    Inconsistent {
        /// The metadata's blob id.
        expected: BlobId,
        /// The blob id of the decoded bytes.
        computed: BlobId,
    },
    /// Internal Reed–Solomon failure (a bug).
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// A sliver that does not match its metadata.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SliverError {
    /// The metadata does not fit the configuration.
    #[error("bad metadata: {0}")]
    Metadata(#[from] MetadataError),
    /// The pair index is not below the number of shards.
    #[error("sliver pair {pair} out of range: there are {n_shards} pairs")]
    PairOutOfRange {
        /// Its pair.
        pair: u16,
        /// Shards of the system.
        n_shards: u16,
    },
    /// The symbol size differs from the blob's.
    #[error("sliver has symbol size {got}, the blob's is {expected}")]
    WrongSymbolSize {
        /// Its symbol size.
        got: u16,
        /// The blob's.
        expected: u16,
    },
    /// The data has the wrong length.
    #[error("sliver has {got} bytes, expected {expected}")]
    WrongLength {
        /// Its length.
        got: usize,
        /// The expected length.
        expected: usize,
    },
    /// The sliver's hash is not the one in the metadata.
    #[error("{kind} sliver of pair {pair} hashes to {}, the metadata says {}; discard it and fetch it from another node", hex::encode(.computed), hex::encode(.expected))]
    HashMismatch {
        /// Its kind.
        kind: SliverKind,
        /// Its pair.
        pair: u16,
        /// Hash in the metadata.
        expected: Hash,
        /// Hash of the sliver.
        computed: Hash,
    },
    /// Internal Reed–Solomon failure (a bug).
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// The parameters of Red Stuff for `n` shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EncodingConfig {
    n: u16,
}

impl EncodingConfig {
    /// The configuration for `n_shards` shards (between [`MIN_SHARDS`] and [`MAX_SHARDS`]).
    pub fn new(n_shards: u16) -> Result<Self, EncodingConfigError> {
        if n_shards < MIN_SHARDS {
            return Err(EncodingConfigError::TooFewShards {
                n_shards,
                min: MIN_SHARDS,
            });
        }
        if n_shards > MAX_SHARDS {
            return Err(EncodingConfigError::TooManyShards {
                n_shards,
                max: MAX_SHARDS,
            });
        }
        Ok(Self { n: n_shards })
    }

    /// Number of shards `n`.
    pub fn n_shards(&self) -> u16 {
        self.n
    }

    /// Faults tolerated: `f = (n-1)/3`.
    pub fn f(&self) -> u16 {
        (self.n - 1) / 3
    }

    /// Symbols in a primary sliver: `n-f` (the matrix's columns).
    pub fn primary_len(&self) -> u16 {
        self.n - self.f()
    }

    /// Symbols in a secondary sliver: `n-2f` (the matrix's rows).
    pub fn secondary_len(&self) -> u16 {
        self.n - 2 * self.f()
    }

    /// Symbols in a sliver of `kind`.
    pub fn sliver_len(&self, kind: SliverKind) -> u16 {
        match kind {
            SliverKind::Primary => self.primary_len(),
            SliverKind::Secondary => self.secondary_len(),
        }
    }

    /// Symbols of the blob matrix: `(n-2f)(n-f)`.
    fn matrix_symbols(&self) -> u64 {
        u64::from(self.primary_len()) * u64::from(self.secondary_len())
    }

    /// Largest blob: `(n-2f)(n-f)·65534` bytes.
    pub fn max_blob_size(&self) -> u64 {
        self.matrix_symbols() * u64::from(MAX_SYMBOL_SIZE)
    }

    /// Symbol size for a blob of `blob_len` bytes: `max(2, ceil(len/((n-2f)(n-f))) rounded up to even)`.
    pub fn symbol_size(&self, blob_len: u64) -> Result<u16, EncodeError> {
        let max = self.max_blob_size();
        if blob_len > max {
            return Err(EncodeError::BlobTooLarge {
                len: blob_len,
                max,
                n_shards: self.n,
            });
        }
        let s = blob_len.div_ceil(self.matrix_symbols());
        let s = (s + (s & 1)).max(2);
        // s <= 65534 since blob_len <= max.
        Ok(u16::try_from(s).unwrap_or(MAX_SYMBOL_SIZE))
    }

    /// Encoded size, what storage is bought for: `n·(k1+k2)·symbol + n·64` (the contract's formula).
    pub fn encoded_size(&self, blob_len: u64) -> Result<u64, EncodeError> {
        let s = u64::from(self.symbol_size(blob_len)?);
        let n = u64::from(self.n);
        let per_pair = u64::from(self.primary_len()) + u64::from(self.secondary_len());
        Ok(n * per_pair * s + n * METADATA_BYTES_PER_SHARD)
    }

    /// The column (matrix row index) of a sliver: primary → row `pair`, secondary → column `n-1-pair`.
    pub fn sliver_index(&self, kind: SliverKind, pair: u16) -> u16 {
        match kind {
            SliverKind::Primary => pair,
            SliverKind::Secondary => self.n.wrapping_sub(1).wrapping_sub(pair),
        }
    }

    /// The code that expands a sliver of `kind` to its `n` symbols: `(originals, recovery)`.
    pub(crate) fn code_of(&self, kind: SliverKind) -> (usize, usize) {
        match kind {
            // A primary sliver is a row: the row code expands it.
            SliverKind::Primary => (usize::from(self.primary_len()), usize::from(self.f())),
            // A secondary sliver is a column: the column code expands it.
            SliverKind::Secondary => (usize::from(self.secondary_len()), 2 * usize::from(self.f())),
        }
    }

    /// Encodes a blob: slivers, metadata and blob id.
    pub fn encode(&self, blob: &[u8]) -> Result<EncodedBlob, EncodeError> {
        let len = blob.len() as u64;
        let s = usize::from(self.symbol_size(len)?);
        let n = usize::from(self.n);
        let f = usize::from(self.f());
        let k1 = usize::from(self.secondary_len());
        let k2 = usize::from(self.primary_len());
        let row_len = k2 * s;

        // The matrix's rows, then the column code's recovery rows: the primary slivers.
        let mut prim: Vec<Vec<u8>> = (0..n)
            .into_par_iter()
            .map(|i| {
                let mut row = Vec::with_capacity(row_len);
                if i < k1 {
                    let start = (i * row_len).min(blob.len());
                    let end = ((i + 1) * row_len).min(blob.len());
                    row.extend_from_slice(&blob[start..end]);
                }
                row.resize(row_len, 0);
                row
            })
            .collect();

        // Column code (k1 → n) on blocks of columns.
        {
            let width = (BATCH_BYTES / s).clamp(1, k2.div_ceil(8).max(1)) * s;
            let (sys, rec) = prim.split_at_mut(k1);
            let sys: &[Vec<u8>] = sys;
            let n_blocks = row_len.div_ceil(width);
            let mut jobs: Vec<Vec<&mut [u8]>> =
                (0..n_blocks).map(|_| Vec::with_capacity(2 * f)).collect();
            for row in rec.iter_mut() {
                for (b, seg) in row.chunks_mut(width).enumerate() {
                    jobs[b].push(seg);
                }
            }
            jobs.into_par_iter()
                .enumerate()
                .with_min_len(min_len(n_blocks))
                .try_for_each_init(
                    || None,
                    |enc: &mut Option<rs::Encoder>, (b, mut outs)| -> Result<(), CodecError> {
                        let start = b * width;
                        let end = (start + width).min(row_len);
                        let enc = reuse_encoder(enc, k1, 2 * f, end - start)?;
                        for row in sys {
                            enc.add(&row[start..end])?;
                        }
                        enc.encode(|t, sym| outs[t].copy_from_slice(sym))
                    },
                )?;
        }
        let prim = prim;

        // Row code (k2 → n) on blocks of rows: secondary slivers and every leaf hash of F.
        let mut sec: Vec<Vec<u8>> = (0..n).map(|_| vec![0u8; k1 * s]).collect();
        let mut leaves: Vec<Hash> = vec![merkle::EMPTY; n * n];
        let mut row_roots: Vec<Hash> = vec![merkle::EMPTY; n];
        {
            let height = (BATCH_BYTES / s).clamp(1, n.div_ceil(8).max(1));
            let n_blocks = n.div_ceil(height);
            let mut sec_jobs: Vec<Vec<&mut [u8]>> =
                (0..n_blocks).map(|_| Vec::with_capacity(n)).collect();
            for col in sec.iter_mut() {
                for (b, seg) in col.chunks_mut(height * s).enumerate() {
                    sec_jobs[b].push(seg);
                }
            }
            let prim: &[Vec<u8>] = &prim;
            let jobs: Vec<_> = leaves
                .chunks_mut(height * n)
                .zip(row_roots.chunks_mut(height))
                .zip(sec_jobs)
                .collect();
            jobs.into_par_iter()
                .enumerate()
                .with_min_len(min_len(n_blocks))
                .try_for_each_init(
                    || None,
                    |enc: &mut Option<rs::Encoder>,
                     (b, ((leaves, roots), mut secs))|
                     -> Result<(), CodecError> {
                        let r0 = b * height;
                        let rows = roots.len();
                        let enc = reuse_encoder(enc, k2, f, rows * s)?;
                        for c in 0..k2 {
                            let buf = enc.scratch();
                            for (ri, dst) in buf.chunks_exact_mut(s).enumerate() {
                                dst.copy_from_slice(&prim[r0 + ri][c * s..(c + 1) * s]);
                            }
                            enc.add_scratch()?;
                        }
                        for ri in 0..rows {
                            let row = &prim[r0 + ri];
                            for (c, sym) in row.chunks_exact(s).enumerate() {
                                leaves[ri * n + c] = merkle::leaf_hash(sym);
                                if let Some(dst) = secs
                                    .get_mut(c)
                                    .and_then(|seg| seg.get_mut(ri * s..(ri + 1) * s))
                                {
                                    dst.copy_from_slice(sym);
                                }
                            }
                        }
                        enc.encode(|t, batch| {
                            let j = k2 + t;
                            for (ri, sym) in batch.chunks_exact(s).enumerate() {
                                leaves[ri * n + j] = merkle::leaf_hash(sym);
                                if let Some(dst) = secs
                                    .get_mut(j)
                                    .and_then(|seg| seg.get_mut(ri * s..(ri + 1) * s))
                                {
                                    dst.copy_from_slice(sym);
                                }
                            }
                        })?;
                        for (ri, root) in roots.iter_mut().enumerate() {
                            *root = merkle::root(&leaves[ri * n..(ri + 1) * n]);
                        }
                        Ok(())
                    },
                )?;
        }
        let col_roots: Vec<Hash> = (0..n)
            .into_par_iter()
            .map(|j| {
                let column: Vec<Hash> = (0..n).map(|r| leaves[r * n + j]).collect();
                merkle::root(&column)
            })
            .collect();
        drop(leaves);

        let hashes = (0..n)
            .map(|i| SliverPairHashes {
                primary: row_roots[i],
                secondary: col_roots[n - 1 - i],
            })
            .collect();
        let metadata = BlobMetadata {
            encoding_type: ENCODING_RED_STUFF,
            unencoded_length: len,
            hashes,
        };
        let blob_id = metadata.blob_id();
        let symbol_size = s as u16;
        let mut sec: Vec<Option<Vec<u8>>> = sec.into_iter().map(Some).collect();
        let pairs = prim
            .into_iter()
            .enumerate()
            .map(|(i, data)| SliverPair {
                primary: Sliver {
                    kind: SliverKind::Primary,
                    pair: i as u16,
                    symbol_size,
                    data,
                },
                secondary: Sliver {
                    kind: SliverKind::Secondary,
                    pair: i as u16,
                    symbol_size,
                    data: sec[n - 1 - i].take().unwrap_or_default(),
                },
            })
            .collect();
        Ok(EncodedBlob {
            blob_id,
            metadata,
            pairs,
        })
    }

    /// Decodes a blob from any `n-2f` primary slivers (checked for shape, not hashes: verify
    /// each with [`Sliver::verify`] as it arrives). With the systematic slivers (pairs
    /// `0..n-2f`) this only copies.
    pub fn decode(
        &self,
        metadata: &BlobMetadata,
        primaries: Vec<Sliver>,
    ) -> Result<Vec<u8>, DecodeError> {
        metadata.check(self)?;
        let len =
            usize::try_from(metadata.unencoded_length).map_err(|_| MetadataError::TooLarge {
                len: metadata.unencoded_length,
                max: usize::MAX as u64,
            })?;
        let s16 = metadata.symbol_size(self)?;
        let s = usize::from(s16);
        let n = usize::from(self.n);
        let f = usize::from(self.f());
        let k1 = usize::from(self.secondary_len());
        let k2 = usize::from(self.primary_len());
        let row_len = k2 * s;

        let mut rows: Vec<Option<Vec<u8>>> = vec![None; n];
        let mut got = 0;
        for sliver in primaries {
            if sliver.kind != SliverKind::Primary {
                return Err(DecodeError::NotPrimary { pair: sliver.pair });
            }
            let pair = sliver.pair;
            if pair >= self.n {
                return Err(DecodeError::PairOutOfRange {
                    pair,
                    n_shards: self.n,
                });
            }
            if sliver.symbol_size != s16 {
                return Err(DecodeError::WrongSymbolSize {
                    pair,
                    got: sliver.symbol_size,
                    expected: s16,
                });
            }
            if sliver.data.len() != row_len {
                return Err(DecodeError::WrongLength {
                    pair,
                    got: sliver.data.len(),
                    expected: row_len,
                });
            }
            let slot = &mut rows[usize::from(pair)];
            if slot.is_some() {
                return Err(DecodeError::DuplicatePair { pair });
            }
            *slot = Some(sliver.data);
            got += 1;
        }
        if got < k1 {
            return Err(DecodeError::NotEnoughSlivers { got, needed: k1 });
        }

        let missing: Vec<usize> = (0..k1).filter(|&r| rows[r].is_none()).collect();
        if missing.is_empty() {
            // Systematic slivers: the blob is their concatenation (copied on all cores: the
            // cost is mostly faulting in the fresh output pages).
            let mut out = vec![0u8; len];
            out.par_chunks_mut(row_len)
                .zip(&rows[..k1])
                .for_each(|(dst, row)| {
                    if let Some(row) = row {
                        dst.copy_from_slice(&row[..dst.len()]);
                    }
                });
            return Ok(out);
        }
        let mut out = vec![0u8; k1 * row_len];
        for (r, dst) in out.chunks_exact_mut(row_len).enumerate() {
            if let Some(row) = &rows[r] {
                dst.copy_from_slice(row);
            }
        }
        // Originals present plus enough recovery rows: exactly k1 shards.
        let given: Vec<usize> = (0..k1)
            .filter(|&r| rows[r].is_some())
            .chain((k1..n).filter(|&r| rows[r].is_some()).take(missing.len()))
            .collect();
        let width = (BATCH_BYTES / s).clamp(1, k2.div_ceil(8).max(1)) * s;
        let n_blocks = row_len.div_ceil(width);
        let mut slot_of = vec![usize::MAX; k1];
        for (m, &r) in missing.iter().enumerate() {
            slot_of[r] = m;
        }
        let mut jobs: Vec<Vec<&mut [u8]>> = (0..n_blocks)
            .map(|_| Vec::with_capacity(missing.len()))
            .collect();
        for (r, row) in out.chunks_exact_mut(row_len).enumerate() {
            if slot_of[r] != usize::MAX {
                for (b, seg) in row.chunks_mut(width).enumerate() {
                    jobs[b].push(seg);
                }
            }
        }
        let rows = &rows;
        jobs.into_par_iter()
            .enumerate()
            .with_min_len(min_len(n_blocks))
            .try_for_each_init(
                || None,
                |dec: &mut Option<rs::Decoder>, (b, mut outs)| -> Result<(), CodecError> {
                    let start = b * width;
                    let end = (start + width).min(row_len);
                    let dec = reuse_decoder(dec, k1, 2 * f, end - start)?;
                    for &r in &given {
                        if let Some(row) = &rows[r] {
                            dec.add(r, &row[start..end])?;
                        }
                    }
                    dec.decode(|i, sym| {
                        if let Some(seg) = slot_of.get(i).and_then(|&m| outs.get_mut(m)) {
                            seg.copy_from_slice(sym);
                        }
                    })
                },
            )?;
        out.truncate(len);
        Ok(out)
    }

    /// [`EncodingConfig::decode`], then re-encodes the result and checks it against the
    /// metadata's blob id: catches a writer that encoded inconsistently (costs one encode).
    pub fn decode_and_verify(
        &self,
        metadata: &BlobMetadata,
        primaries: Vec<Sliver>,
    ) -> Result<Vec<u8>, DecodeError> {
        let blob = self.decode(metadata, primaries)?;
        let expected = metadata.blob_id();
        let computed = match self.encode(&blob) {
            Ok(encoded) => encoded.blob_id,
            Err(EncodeError::Codec(e)) => return Err(DecodeError::Codec(e)),
            Err(EncodeError::BlobTooLarge { len, max, .. }) => {
                return Err(DecodeError::Metadata(MetadataError::TooLarge { len, max }));
            }
        };
        if computed != expected {
            return Err(DecodeError::Inconsistent { expected, computed });
        }
        Ok(blob)
    }
}

/// Jobs per rayon task so that each thread builds its Reed–Solomon work buffers about twice
/// per pass rather than once per block (they are large and fresh memory is slow).
fn min_len(n_jobs: usize) -> usize {
    n_jobs.div_ceil(2 * rayon::current_num_threads()).max(1)
}

fn reuse_encoder(
    slot: &mut Option<rs::Encoder>,
    k: usize,
    r: usize,
    len: usize,
) -> Result<&mut rs::Encoder, CodecError> {
    match slot {
        Some(enc) => {
            enc.reset(len)?;
        }
        None => *slot = Some(rs::Encoder::new(k, r, len)?),
    }
    slot.as_mut()
        .ok_or_else(|| CodecError("encoder missing".into()))
}

fn reuse_decoder(
    slot: &mut Option<rs::Decoder>,
    k: usize,
    r: usize,
    len: usize,
) -> Result<&mut rs::Decoder, CodecError> {
    match slot {
        Some(dec) => {
            dec.reset(len)?;
        }
        None => *slot = Some(rs::Decoder::new(k, r, len)?),
    }
    slot.as_mut()
        .ok_or_else(|| CodecError("decoder missing".into()))
}

impl Sliver {
    /// Number of symbols.
    pub fn n_symbols(&self) -> usize {
        if self.symbol_size == 0 {
            0
        } else {
            self.data.len() / usize::from(self.symbol_size)
        }
    }

    /// Checks pair range, symbol size and length against the configuration and a blob's symbol size.
    pub(crate) fn check_shape(
        &self,
        cfg: &EncodingConfig,
        symbol_size: u16,
    ) -> Result<(), SliverError> {
        if self.pair >= cfg.n_shards() {
            return Err(SliverError::PairOutOfRange {
                pair: self.pair,
                n_shards: cfg.n_shards(),
            });
        }
        if self.symbol_size != symbol_size {
            return Err(SliverError::WrongSymbolSize {
                got: self.symbol_size,
                expected: symbol_size,
            });
        }
        let expected = usize::from(cfg.sliver_len(self.kind)) * usize::from(symbol_size);
        if self.data.len() != expected {
            return Err(SliverError::WrongLength {
                got: self.data.len(),
                expected,
            });
        }
        Ok(())
    }

    /// The `n` symbols of the sliver's full expansion, concatenated (shape not checked against a blob).
    pub fn expanded(&self, cfg: &EncodingConfig) -> Result<Vec<u8>, SliverError> {
        if self.symbol_size == 0 || self.symbol_size % 2 == 1 {
            return Err(SliverError::WrongSymbolSize {
                got: self.symbol_size,
                expected: self.symbol_size & !1,
            });
        }
        self.check_shape(cfg, self.symbol_size)?;
        let (k, r) = cfg.code_of(self.kind);
        Ok(rs::expand(k, r, usize::from(self.symbol_size), &self.data)?)
    }

    /// The sliver's hash: the Merkle root over its full expansion.
    pub fn hash(&self, cfg: &EncodingConfig) -> Result<Hash, SliverError> {
        let expanded = self.expanded(cfg)?;
        Ok(merkle::root(&leaf_hashes(
            &expanded,
            usize::from(self.symbol_size),
        )))
    }

    /// Checks the sliver against the blob's metadata: pair, symbol size, length and hash.
    pub fn verify(&self, metadata: &BlobMetadata, cfg: &EncodingConfig) -> Result<(), SliverError> {
        metadata.check(cfg)?;
        let s = metadata.symbol_size(cfg)?;
        self.check_shape(cfg, s)?;
        let computed = self.hash(cfg)?;
        let hashes = &metadata.hashes[usize::from(self.pair)];
        let expected = match self.kind {
            SliverKind::Primary => hashes.primary,
            SliverKind::Secondary => hashes.secondary,
        };
        if computed != expected {
            return Err(SliverError::HashMismatch {
                kind: self.kind,
                pair: self.pair,
                expected,
                computed,
            });
        }
        Ok(())
    }
}

/// Leaf hashes of consecutive `s`-byte symbols.
pub(crate) fn leaf_hashes(symbols: &[u8], s: usize) -> Vec<Hash> {
    symbols.chunks_exact(s).map(merkle::leaf_hash).collect()
}
