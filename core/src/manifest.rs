//! Large-file manifests: a file too large for one blob, stored as a sequence of chunk blobs and
//! described by one small blob, the manifest.
//!
//! # Wire format (version 1)
//!
//! Integers are big-endian.
//!
//! | field | bytes | meaning |
//! | --- | ---: | --- |
//! | magic | 7 | `b"FLOEMAN"` ([`MANIFEST_MAGIC`]) |
//! | version | 1 | `1` ([`MANIFEST_VERSION`]) |
//! | total length | 8 | bytes in the file |
//! | chunk size | 8 | bytes in every chunk but the last (≥ 1) |
//! | chunk count | 4 | `ceil(total / chunk size)`, at most [`MAX_CHUNKS`] |
//! | SHA-256 | 32 | of the whole file |
//! | chunk ids | 32 × count | the chunk blobs' ids, in file order |
//!
//! Every chunk but the last holds exactly `chunk size` bytes; the last holds `1..=chunk size`; a
//! zero-length file has zero chunks. The encoding is canonical: [`Manifest::from_bytes`] accepts
//! exactly the bytes [`Manifest::to_bytes`] writes, and rejects anything else (wrong magic or
//! version, zero chunk size, a count that does not match the lengths, truncation, trailing
//! bytes) with a specific [`ManifestError`], without panicking and without allocating more than
//! the input's own length.
//!
//! # When is a blob a manifest?
//!
//! The bytes alone never decide: anyone can store a plain blob that starts with the magic bytes
//! (a backup of manifests, say), and such a blob must still read back as itself. A reader treats a
//! blob as a manifest only when its caller asked for *file* semantics (the SDK's file read, the
//! gateway's file route) **and** the blob parses fully; a file read of a blob that does not parse
//! fails with the parse error instead of falling back to raw bytes. A plain blob read always
//! returns the blob's own bytes, manifest or not. The SDK labels the registrations it creates
//! with the attribute [`KIND_ATTRIBUTE`]` = `[`KIND_MANIFEST`] so explorers can offer a file view,
//! but that label is advisory: attributes belong to one registration and whoever registers a blob
//! id first chooses them. [`is_manifest`] is the cheap magic check for such hints.

use std::ops::Range;

use crate::ids::BlobId;

/// The first bytes of every manifest.
pub const MANIFEST_MAGIC: &[u8; 7] = b"FLOEMAN";
/// The manifest format version written and read.
pub const MANIFEST_VERSION: u8 = 1;
/// Most chunks a manifest may list.
pub const MAX_CHUNKS: u64 = 1 << 20;
/// Bytes before the chunk ids: magic, version, total length, chunk size, count, SHA-256.
pub const MANIFEST_HEADER_LEN: usize = 7 + 1 + 8 + 8 + 4 + 32;
/// Largest encoded manifest: the header and [`MAX_CHUNKS`] ids (32 MiB + 60 bytes).
pub const MAX_MANIFEST_LEN: usize = MANIFEST_HEADER_LEN + 32 * MAX_CHUNKS as usize;
/// The chunk size [`default_chunk_size`] never exceeds: 64 MiB.
pub const MAX_DEFAULT_CHUNK_SIZE: u64 = 64 << 20;
/// The registration attribute naming what a blob holds (advisory; see the module docs).
pub const KIND_ATTRIBUTE: &str = "floe-kind";
/// The value of [`KIND_ATTRIBUTE`] on a manifest's registration.
pub const KIND_MANIFEST: &str = "manifest";

/// A manifest that is invalid, or a request it cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The input does not start with [`MANIFEST_MAGIC`].
    #[error("not a floe manifest: the blob does not start with the magic bytes \"FLOEMAN\"")]
    BadMagic,
    /// A version this build does not read.
    #[error(
        "unsupported manifest version {got}: this build reads version {supported}; upgrade floe"
    )]
    UnsupportedVersion {
        /// The version byte.
        got: u8,
        /// The version supported.
        supported: u8,
    },
    /// The input ends before the manifest does.
    #[error("manifest truncated: {len} bytes, {needed} needed")]
    Truncated {
        /// The input's length.
        len: usize,
        /// The length the manifest needs.
        needed: usize,
    },
    /// Bytes after the last chunk id.
    #[error("{extra} trailing bytes after the manifest")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// A chunk size of zero.
    #[error("chunk size is zero: every chunk must hold at least one byte")]
    ZeroChunkSize,
    /// More chunks than [`MAX_CHUNKS`].
    #[error("{count} chunks exceed the maximum of {max} per manifest; use a larger chunk size")]
    TooManyChunks {
        /// The chunk count (given, or needed by the lengths).
        count: u64,
        /// The maximum.
        max: u64,
    },
    /// A chunk count that does not match the total length and the chunk size.
    #[error(
        "{count} chunk ids for a {total_len}-byte file in {chunk_size}-byte chunks, which needs {expected}"
    )]
    ChunkCountMismatch {
        /// The count given.
        count: u64,
        /// `ceil(total_len / chunk_size)`.
        expected: u64,
        /// The file's length.
        total_len: u64,
        /// The chunk size.
        chunk_size: u64,
    },
    /// A byte range that is not inside the file.
    #[error("range {start}..{end} is not inside the file's {total_len} bytes")]
    RangeOutOfBounds {
        /// The range's start.
        start: u64,
        /// The range's end.
        end: u64,
        /// The file's length.
        total_len: u64,
    },
}

/// A large file: its length, how it is cut into chunks, the chunks' blob ids and its SHA-256.
///
/// Every value is valid (the constructor and the parser check the counts), so
/// [`Manifest::to_bytes`] cannot fail.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Manifest {
    total_len: u64,
    chunk_size: u64,
    chunks: Vec<BlobId>,
    sha256: [u8; 32],
}

/// The part of one chunk a file range covers (see [`Manifest::chunks_for`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChunkSpan {
    /// The chunk's position in the file (0-based).
    pub index: usize,
    /// The chunk's blob id.
    pub blob_id: BlobId,
    /// The bytes to read within the chunk (offsets relative to the chunk's start).
    pub range: Range<u64>,
}

/// Iterator over the chunk parts of a file range, in file order (see [`Manifest::chunks_for`]).
#[derive(Debug, Clone)]
pub struct ChunkSpans<'a> {
    manifest: &'a Manifest,
    pos: u64,
    end: u64,
}

/// `true` if `bytes` start with [`MANIFEST_MAGIC`]: a cheap hint, not a parse (see the module
/// docs for when a blob is read as a manifest).
pub fn is_manifest(bytes: &[u8]) -> bool {
    bytes.starts_with(MANIFEST_MAGIC)
}

/// The number of chunks of a `total_len`-byte file cut into `chunk_size`-byte chunks:
/// `ceil(total_len / chunk_size)`, checked against [`MAX_CHUNKS`].
pub fn chunk_count(total_len: u64, chunk_size: u64) -> Result<u64, ManifestError> {
    if chunk_size == 0 {
        return Err(ManifestError::ZeroChunkSize);
    }
    let count = total_len.div_ceil(chunk_size);
    if count > MAX_CHUNKS {
        return Err(ManifestError::TooManyChunks {
            count,
            max: MAX_CHUNKS,
        });
    }
    Ok(count)
}

/// A network-agnostic chunk size for blobs of at most `max_blob_size` bytes:
/// `min(max_blob_size, 64 MiB)` rounded down to a multiple of 4 KiB (so chunk boundaries fall on
/// page boundaries of the file), or `max_blob_size` itself below 4 KiB (at least 1).
///
/// The padding this leaves in a chunk's encoding is under `2·(n−2f)(n−f)` bytes (4.6 KB at
/// n = 100, 0.007 % of 64 MiB), so no rounding to the code's shape is needed at this size; use
/// [`chunk_size_for`] to remove even that.
pub fn default_chunk_size(max_blob_size: u64) -> u64 {
    let cap = max_blob_size.min(MAX_DEFAULT_CHUNK_SIZE);
    if cap >= 4096 {
        cap - cap % 4096
    } else {
        cap.max(1)
    }
}

/// The chunk size for a network of `cfg`'s shape whose blobs may hold at most `max_blob_size`
/// bytes: the largest multiple of `2·(n−2f)(n−f)` bytes not above `min(max_blob_size,
/// cfg.max_blob_size(), 64 MiB)`, so every full chunk fills its symbol matrix exactly (no
/// padding); the cap itself (at least 1) if it is smaller than one such unit.
pub fn chunk_size_for(cfg: &crate::EncodingConfig, max_blob_size: u64) -> u64 {
    let unit = 2 * u64::from(cfg.primary_len()) * u64::from(cfg.secondary_len());
    let cap = max_blob_size
        .min(cfg.max_blob_size())
        .min(MAX_DEFAULT_CHUNK_SIZE);
    if cap >= unit {
        cap - cap % unit
    } else {
        cap.max(1)
    }
}

impl Manifest {
    /// A manifest for a `total_len`-byte file cut into `chunk_size`-byte chunks whose blob ids
    /// are `chunks` (in file order), with the whole file's SHA-256 `sha256`.
    ///
    /// Fails if `chunk_size` is zero or `chunks` does not hold exactly
    /// [`chunk_count`]`(total_len, chunk_size)` ids.
    pub fn new(
        total_len: u64,
        chunk_size: u64,
        chunks: Vec<BlobId>,
        sha256: [u8; 32],
    ) -> Result<Self, ManifestError> {
        let expected = chunk_count(total_len, chunk_size)?;
        let count = chunks.len() as u64;
        if count != expected {
            return Err(ManifestError::ChunkCountMismatch {
                count,
                expected,
                total_len,
                chunk_size,
            });
        }
        Ok(Self {
            total_len,
            chunk_size,
            chunks,
            sha256,
        })
    }

    /// Bytes in the file.
    pub fn total_len(&self) -> u64 {
        self.total_len
    }

    /// Bytes in every chunk but the last.
    pub fn chunk_size(&self) -> u64 {
        self.chunk_size
    }

    /// The chunks' blob ids, in file order.
    pub fn chunks(&self) -> &[BlobId] {
        &self.chunks
    }

    /// The SHA-256 of the whole file.
    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }

    /// The length of [`Manifest::to_bytes`]: `60 + 32 × chunks`.
    pub fn encoded_len(&self) -> usize {
        MANIFEST_HEADER_LEN + 32 * self.chunks.len()
    }

    /// The byte range of chunk `index` in the file, `None` past the last chunk.
    pub fn chunk_range(&self, index: usize) -> Option<Range<u64>> {
        if index >= self.chunks.len() {
            return None;
        }
        // index < count = ceil(total_len / chunk_size), so start < total_len: no overflow.
        let start = index as u64 * self.chunk_size;
        let end = start + self.chunk_size.min(self.total_len - start);
        Some(start..end)
    }

    /// The chunks holding the file bytes `range`, each with the part of it to read, in order: a
    /// ranged read fetches just these. An empty range yields nothing; a range that is reversed
    /// or ends past the file is refused.
    pub fn chunks_for(&self, range: Range<u64>) -> Result<ChunkSpans<'_>, ManifestError> {
        if range.start > range.end || range.end > self.total_len {
            return Err(ManifestError::RangeOutOfBounds {
                start: range.start,
                end: range.end,
                total_len: self.total_len,
            });
        }
        Ok(ChunkSpans {
            manifest: self,
            pos: range.start,
            end: range.end,
        })
    }

    /// The canonical encoding (see the module docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        out.extend_from_slice(MANIFEST_MAGIC);
        out.push(MANIFEST_VERSION);
        out.extend_from_slice(&self.total_len.to_be_bytes());
        out.extend_from_slice(&self.chunk_size.to_be_bytes());
        // count <= MAX_CHUNKS = 2^20 fits in a u32.
        out.extend_from_slice(&(self.chunks.len() as u32).to_be_bytes());
        out.extend_from_slice(&self.sha256);
        for id in &self.chunks {
            out.extend_from_slice(&id.0);
        }
        out
    }

    /// Parses exactly one manifest from `bytes` (see the module docs for what is rejected).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ManifestError> {
        let magic_len = MANIFEST_MAGIC.len().min(bytes.len());
        if bytes[..magic_len] != MANIFEST_MAGIC[..magic_len] {
            return Err(ManifestError::BadMagic);
        }
        if bytes.len() < MANIFEST_HEADER_LEN {
            if let Some(&version) = bytes.get(7)
                && version != MANIFEST_VERSION
            {
                return Err(ManifestError::UnsupportedVersion {
                    got: version,
                    supported: MANIFEST_VERSION,
                });
            }
            return Err(ManifestError::Truncated {
                len: bytes.len(),
                needed: MANIFEST_HEADER_LEN,
            });
        }
        let (header, ids) = bytes.split_at(MANIFEST_HEADER_LEN);
        if header[7] != MANIFEST_VERSION {
            return Err(ManifestError::UnsupportedVersion {
                got: header[7],
                supported: MANIFEST_VERSION,
            });
        }
        let total_len = be_u64(&header[8..16]);
        let chunk_size = be_u64(&header[16..24]);
        let count = u64::from(u32::from_be_bytes([
            header[24], header[25], header[26], header[27],
        ]));
        let mut sha256 = [0u8; 32];
        sha256.copy_from_slice(&header[28..60]);
        if chunk_size == 0 {
            return Err(ManifestError::ZeroChunkSize);
        }
        if count > MAX_CHUNKS {
            return Err(ManifestError::TooManyChunks {
                count,
                max: MAX_CHUNKS,
            });
        }
        let expected = total_len.div_ceil(chunk_size);
        if count != expected {
            return Err(ManifestError::ChunkCountMismatch {
                count,
                expected,
                total_len,
                chunk_size,
            });
        }
        // count <= 2^20, so this is at most 32 MiB and fits in usize.
        let ids_len = 32 * count as usize;
        if ids.len() < ids_len {
            return Err(ManifestError::Truncated {
                len: bytes.len(),
                needed: MANIFEST_HEADER_LEN + ids_len,
            });
        }
        if ids.len() > ids_len {
            return Err(ManifestError::TrailingBytes {
                extra: ids.len() - ids_len,
            });
        }
        // The input holds every id, so this allocation is no larger than the input.
        let chunks = ids
            .chunks_exact(32)
            .map(|c| {
                let mut id = [0u8; 32];
                id.copy_from_slice(c);
                BlobId(id)
            })
            .collect();
        Ok(Self {
            total_len,
            chunk_size,
            chunks,
            sha256,
        })
    }
}

fn be_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    u64::from_be_bytes(a)
}

impl Iterator for ChunkSpans<'_> {
    type Item = ChunkSpan;

    fn next(&mut self) -> Option<ChunkSpan> {
        if self.pos >= self.end {
            return None;
        }
        let size = self.manifest.chunk_size;
        let index = self.pos / size;
        let chunk_start = index * size;
        // chunk_start <= pos < end, so this neither overflows nor passes end.
        let chunk_end = chunk_start + size.min(self.end - chunk_start);
        let span = ChunkSpan {
            // pos < end <= total_len, so index < count <= 2^20.
            index: index as usize,
            blob_id: self.manifest.chunks[index as usize],
            range: (self.pos - chunk_start)..(chunk_end - chunk_start),
        };
        self.pos = chunk_end;
        Some(span)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{alloc_probe, *};

    fn id(i: u64) -> BlobId {
        let mut b = [0u8; 32];
        b[..8].copy_from_slice(&i.to_be_bytes());
        b[31] = 0xee;
        BlobId(b)
    }

    fn ids(n: u64) -> Vec<BlobId> {
        (0..n).map(id).collect()
    }

    fn sample() -> Manifest {
        Manifest::new(25, 10, ids(3), [7; 32]).expect("valid")
    }

    #[test]
    fn encodes_the_documented_layout() {
        let bytes = sample().to_bytes();
        let mut expected = b"FLOEMAN\x01".to_vec();
        expected.extend_from_slice(&25u64.to_be_bytes());
        expected.extend_from_slice(&10u64.to_be_bytes());
        expected.extend_from_slice(&3u32.to_be_bytes());
        expected.extend_from_slice(&[7; 32]);
        for i in 0..3 {
            expected.extend_from_slice(&id(i).0);
        }
        assert_eq!(bytes, expected);
        assert_eq!(bytes.len(), sample().encoded_len());
        assert_eq!(Manifest::from_bytes(&bytes), Ok(sample()));
        assert!(is_manifest(&bytes));
        assert!(!is_manifest(b"FLOEMA"));
        assert!(!is_manifest(b"FLOEQLT\x01"));
    }

    #[test]
    fn empty_file_has_no_chunks() {
        let m = Manifest::new(0, 1 << 20, vec![], [0; 32]).expect("valid");
        let bytes = m.to_bytes();
        assert_eq!(bytes.len(), MANIFEST_HEADER_LEN);
        assert_eq!(Manifest::from_bytes(&bytes), Ok(m.clone()));
        assert_eq!(m.chunk_range(0), None);
        assert_eq!(m.chunks_for(0..0).map(|s| s.count()), Ok(0));
        assert_eq!(
            Manifest::new(0, 5, ids(1), [0; 32]),
            Err(ManifestError::ChunkCountMismatch {
                count: 1,
                expected: 0,
                total_len: 0,
                chunk_size: 5
            })
        );
    }

    #[test]
    fn chunk_ranges_and_spans() {
        let m = sample();
        assert_eq!(m.chunk_range(0), Some(0..10));
        assert_eq!(m.chunk_range(1), Some(10..20));
        assert_eq!(m.chunk_range(2), Some(20..25));
        assert_eq!(m.chunk_range(3), None);
        let spans: Vec<_> = m.chunks_for(5..22).expect("inside").collect();
        assert_eq!(
            spans,
            vec![
                ChunkSpan {
                    index: 0,
                    blob_id: id(0),
                    range: 5..10
                },
                ChunkSpan {
                    index: 1,
                    blob_id: id(1),
                    range: 0..10
                },
                ChunkSpan {
                    index: 2,
                    blob_id: id(2),
                    range: 0..2
                },
            ]
        );
        let spans: Vec<_> = m.chunks_for(10..20).expect("inside").collect();
        assert_eq!(spans.len(), 1);
        assert_eq!((spans[0].index, spans[0].range.clone()), (1, 0..10));
        assert_eq!(m.chunks_for(25..25).map(|s| s.count()), Ok(0));
        assert_eq!(
            m.chunks_for(20..26).err(),
            Some(ManifestError::RangeOutOfBounds {
                start: 20,
                end: 26,
                total_len: 25
            })
        );
        #[allow(clippy::reversed_empty_ranges)]
        let reversed = 9..3;
        assert_eq!(
            m.chunks_for(reversed).err(),
            Some(ManifestError::RangeOutOfBounds {
                start: 9,
                end: 3,
                total_len: 25
            })
        );
    }

    #[test]
    fn lengths_near_u64_max_do_not_overflow() {
        // Found by the fuzz target: a huge file in huge chunks.
        let total = u64::MAX - 9;
        let size = total / 2 + 1;
        let m = Manifest::new(total, size, ids(2), [0; 32]).expect("valid");
        assert_eq!(Manifest::from_bytes(&m.to_bytes()), Ok(m.clone()));
        assert_eq!(m.chunk_range(1), Some(size..total));
        let spans: Vec<_> = m.chunks_for(size - 1..total).expect("inside").collect();
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[0].range, size - 1..size);
        assert_eq!(spans[1].range, 0..total - size);
        let all: Vec<_> = m.chunks_for(0..total).expect("inside").collect();
        assert_eq!(all[1].range, 0..total - size);
    }

    #[test]
    fn constructor_errors() {
        assert_eq!(
            Manifest::new(10, 0, vec![], [0; 32]),
            Err(ManifestError::ZeroChunkSize)
        );
        assert_eq!(
            Manifest::new(25, 10, ids(2), [0; 32]),
            Err(ManifestError::ChunkCountMismatch {
                count: 2,
                expected: 3,
                total_len: 25,
                chunk_size: 10
            })
        );
        assert_eq!(
            Manifest::new(u64::MAX, 1, vec![], [0; 32]),
            Err(ManifestError::TooManyChunks {
                count: u64::MAX,
                max: MAX_CHUNKS
            })
        );
        assert_eq!(chunk_count(MAX_CHUNKS * 7, 7), Ok(MAX_CHUNKS));
        assert_eq!(
            chunk_count(MAX_CHUNKS * 7 + 1, 7),
            Err(ManifestError::TooManyChunks {
                count: MAX_CHUNKS + 1,
                max: MAX_CHUNKS
            })
        );
    }

    /// `sample()`'s bytes with the header field at `at` replaced.
    fn patched(at: usize, field: &[u8]) -> Vec<u8> {
        let mut b = sample().to_bytes();
        b[at..at + field.len()].copy_from_slice(field);
        b
    }

    #[test]
    fn parse_errors() {
        let good = sample().to_bytes();
        let parse = Manifest::from_bytes;
        assert_eq!(
            parse(b""),
            Err(ManifestError::Truncated { len: 0, needed: 60 })
        );
        assert_eq!(
            parse(b"FLOE"),
            Err(ManifestError::Truncated { len: 4, needed: 60 })
        );
        assert_eq!(parse(b"FLOEQLT\x01"), Err(ManifestError::BadMagic));
        assert_eq!(parse(b"xy"), Err(ManifestError::BadMagic));
        assert_eq!(parse(&patched(0, b"G")), Err(ManifestError::BadMagic));
        let v2 = ManifestError::UnsupportedVersion {
            got: 2,
            supported: 1,
        };
        assert_eq!(parse(&patched(7, &[2])), Err(v2.clone()));
        assert_eq!(parse(b"FLOEMAN\x02"), Err(v2));
        assert_eq!(
            parse(&good[..59]),
            Err(ManifestError::Truncated {
                len: 59,
                needed: 60
            })
        );
        assert_eq!(
            parse(&good[..good.len() - 1]),
            Err(ManifestError::Truncated {
                len: good.len() - 1,
                needed: good.len()
            })
        );
        let mut long = good.clone();
        long.extend_from_slice(&[0, 0]);
        assert_eq!(parse(&long), Err(ManifestError::TrailingBytes { extra: 2 }));
        assert_eq!(
            parse(&patched(16, &0u64.to_be_bytes())),
            Err(ManifestError::ZeroChunkSize)
        );
        assert_eq!(
            parse(&patched(24, &(MAX_CHUNKS as u32 + 1).to_be_bytes())),
            Err(ManifestError::TooManyChunks {
                count: MAX_CHUNKS + 1,
                max: MAX_CHUNKS
            })
        );
        // The lengths say 4 chunks (31 bytes), the count says 3.
        assert_eq!(
            parse(&patched(8, &31u64.to_be_bytes())),
            Err(ManifestError::ChunkCountMismatch {
                count: 3,
                expected: 4,
                total_len: 31,
                chunk_size: 10
            })
        );
        assert_eq!(
            parse(&patched(24, &2u32.to_be_bytes())),
            Err(ManifestError::ChunkCountMismatch {
                count: 2,
                expected: 3,
                total_len: 25,
                chunk_size: 10
            })
        );
    }

    #[test]
    fn a_huge_claimed_count_allocates_nothing() {
        // 2^20 chunks of 1 byte claimed by a 60-byte input: refused before any allocation.
        let mut b = b"FLOEMAN\x01".to_vec();
        b.extend_from_slice(&MAX_CHUNKS.to_be_bytes());
        b.extend_from_slice(&1u64.to_be_bytes());
        b.extend_from_slice(&(MAX_CHUNKS as u32).to_be_bytes());
        b.extend_from_slice(&[0; 32]);
        let (result, peak) = alloc_probe::peak(|| Manifest::from_bytes(&b));
        assert_eq!(
            result,
            Err(ManifestError::Truncated {
                len: 60,
                needed: MAX_MANIFEST_LEN
            })
        );
        assert_eq!(peak, 0);
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(default_chunk_size(u64::MAX), 64 << 20);
        assert_eq!(default_chunk_size(64 << 20), 64 << 20);
        assert_eq!(default_chunk_size((64 << 20) - 1), (64 << 20) - 4096);
        assert_eq!(default_chunk_size(393_204), 389_120);
        assert_eq!(default_chunk_size(4095), 4095);
        assert_eq!(default_chunk_size(0), 1);
        for n in [4u16, 7, 10, 100, 1000] {
            let cfg = crate::EncodingConfig::new(n).expect("n");
            let matrix = u64::from(cfg.primary_len()) * u64::from(cfg.secondary_len());
            let c = chunk_size_for(&cfg, u64::MAX);
            assert!(
                c <= cfg.max_blob_size() && c <= MAX_DEFAULT_CHUNK_SIZE,
                "n={n}"
            );
            assert_eq!(c % (2 * matrix), 0, "n={n}");
            assert!(c + 2 * matrix > cfg.max_blob_size().min(64 << 20), "n={n}");
            // A full chunk fills its matrix: no padding symbols.
            let s = u64::from(cfg.symbol_size(c).expect("fits"));
            assert_eq!(s * matrix, c, "n={n}");
        }
        let cfg = crate::EncodingConfig::new(100).expect("n");
        assert_eq!(chunk_size_for(&cfg, 1000), 1000);
        assert_eq!(chunk_size_for(&cfg, 0), 1);
        assert_eq!(chunk_size_for(&cfg, 64 << 20), 67_105_324);
    }

    fn arb_manifest() -> impl Strategy<Value = Manifest> {
        (0u64..5000, 1u64..700, any::<[u8; 32]>(), any::<u8>()).prop_map(
            |(total, size, sha, salt)| {
                let count = total.div_ceil(size);
                let chunks = (0..count).map(|i| id(i ^ u64::from(salt))).collect();
                Manifest::new(total, size, chunks, sha).expect("valid")
            },
        )
    }

    proptest! {
        #[test]
        fn round_trips(m in arb_manifest()) {
            let bytes = m.to_bytes();
            prop_assert_eq!(bytes.len(), m.encoded_len());
            prop_assert_eq!(Manifest::from_bytes(&bytes), Ok(m.clone()));
            // The chunk ranges tile the file.
            let mut next = 0;
            for i in 0..m.chunks().len() {
                let r = m.chunk_range(i).expect("in range");
                prop_assert_eq!(r.start, next);
                prop_assert!(r.end > r.start && r.end - r.start <= m.chunk_size());
                next = r.end;
            }
            prop_assert_eq!(next, m.total_len());
        }

        #[test]
        fn spans_cover_exactly_the_range(m in arb_manifest(), a in 0u64..6000, b in 0u64..6000) {
            let (start, end) = (a.min(b) % (m.total_len() + 1), a.max(b) % (m.total_len() + 1));
            let (start, end) = (start.min(end), start.max(end));
            let mut pos = start;
            for span in m.chunks_for(start..end).expect("inside") {
                let chunk = m.chunk_range(span.index).expect("chunk");
                prop_assert_eq!(span.blob_id, m.chunks()[span.index]);
                prop_assert_eq!(chunk.start + span.range.start, pos);
                prop_assert!(span.range.start < span.range.end);
                prop_assert!(chunk.start + span.range.end <= chunk.end);
                pos = chunk.start + span.range.end;
            }
            prop_assert_eq!(pos, end);
        }

        #[test]
        fn parser_never_panics_and_is_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let (result, peak) = alloc_probe::peak(|| Manifest::from_bytes(&bytes));
            prop_assert!(peak <= bytes.len());
            if let Ok(m) = result {
                prop_assert_eq!(m.to_bytes(), bytes);
            }
        }

        #[test]
        fn mutated_manifests_never_panic(m in arb_manifest(), at in any::<usize>(), byte in any::<u8>(), cut in any::<usize>()) {
            let mut bytes = m.to_bytes();
            let i = at % bytes.len();
            bytes[i] = byte;
            bytes.truncate(bytes.len() - cut % 3);
            let (result, peak) = alloc_probe::peak(|| Manifest::from_bytes(&bytes));
            prop_assert!(peak <= bytes.len());
            if let Ok(parsed) = result {
                prop_assert_eq!(parsed.to_bytes(), bytes);
            }
        }
    }
}

/// Test-only global allocator that records, per thread, the largest single allocation made
/// inside [`alloc_probe::peak`], so the parsers' tests can assert they never allocate more than
/// their input justifies.
#[cfg(test)]
pub(crate) mod alloc_probe {
    use std::{
        alloc::{GlobalAlloc, Layout, System},
        cell::Cell,
    };

    struct Probe;

    thread_local! {
        static ACTIVE: Cell<bool> = const { Cell::new(false) };
        static PEAK: Cell<usize> = const { Cell::new(0) };
    }

    fn record(size: usize) {
        let _ = ACTIVE.try_with(|active| {
            if active.get() {
                let _ = PEAK.try_with(|p| p.set(p.get().max(size)));
            }
        });
    }

    // SAFETY: every call is forwarded unchanged to the system allocator.
    unsafe impl GlobalAlloc for Probe {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            record(layout.size());
            // SAFETY: the caller's contract is passed on unchanged.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: the caller's contract is passed on unchanged.
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            record(layout.size());
            // SAFETY: the caller's contract is passed on unchanged.
            unsafe { System.alloc_zeroed(layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            record(new_size);
            // SAFETY: the caller's contract is passed on unchanged.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static PROBE: Probe = Probe;

    /// Runs `f` and returns its result with the largest single allocation (bytes) it made on
    /// this thread.
    pub(crate) fn peak<T>(f: impl FnOnce() -> T) -> (T, usize) {
        PEAK.with(|p| p.set(0));
        ACTIVE.with(|a| a.set(true));
        let out = f();
        ACTIVE.with(|a| a.set(false));
        (out, PEAK.with(Cell::get))
    }
}
