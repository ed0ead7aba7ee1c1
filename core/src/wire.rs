//! The stable binary wire format of what nodes and clients exchange.
//!
//! Every message is `version (1 byte) ‖ type tag (1 byte) ‖ body`; integers are big-endian,
//! lengths are explicit, and a decoder rejects a wrong version or tag, truncated input, bad
//! enum bytes, impossible sizes and trailing bytes, without panicking and without allocating
//! more than the input could fill.
//!
//! | type | tag | body |
//! | --- | --- | --- |
//! | [`BlobMetadata`] | 1 | `encoding_type u8 ‖ unencoded_length u64 ‖ count u32 ‖ count × (primary 32 ‖ secondary 32)` |
//! | [`Sliver`] | 2 | `kind u8 ‖ pair u16 ‖ symbol_size u16 ‖ len u32 ‖ data` (symbol size even, ≥ 2; len a multiple of it) |
//! | [`RecoverySymbol`] | 3 | `source_kind u8 ‖ source_pair u16 ‖ index u16 ‖ len u32 ‖ symbol ‖ depth u8 ‖ depth × 32` (len even, 2..=65534; depth ≤ 16) |
//! | [`InconsistencyProof`] | 4 | `target_kind u8 ‖ target_pair u16 ‖ count u32 ‖ count × recovery symbol body` |
//!
//! Kinds: 0 primary, 1 secondary.

use crate::{
    encoding::{MAX_SYMBOL_SIZE, Sliver, SliverKind},
    merkle::{Hash, MAX_DEPTH, MerkleProof},
    metadata::{BlobMetadata, SliverPairHashes},
    recovery::{InconsistencyProof, RecoverySymbol},
};

/// The wire format version written and read.
pub const WIRE_VERSION: u8 = 1;
/// Type tag of [`BlobMetadata`].
pub const TAG_METADATA: u8 = 1;
/// Type tag of [`Sliver`].
pub const TAG_SLIVER: u8 = 2;
/// Type tag of [`RecoverySymbol`].
pub const TAG_RECOVERY_SYMBOL: u8 = 3;
/// Type tag of [`InconsistencyProof`].
pub const TAG_INCONSISTENCY_PROOF: u8 = 4;

/// Bytes that are not a valid encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The input ends before the value does.
    #[error("input truncated: {needed} more bytes needed at offset {offset}, {remaining} left")]
    Truncated {
        /// Where reading stopped.
        offset: usize,
        /// Bytes needed there.
        needed: usize,
        /// Bytes left.
        remaining: usize,
    },
    /// A version this build does not read.
    #[error(
        "unsupported wire version {got}: this build reads version {supported}; upgrade the older side"
    )]
    UnsupportedVersion {
        /// The version byte.
        got: u8,
        /// The version supported.
        supported: u8,
    },
    /// A message of another type.
    #[error("wrong message type: expected tag {expected}, got {got}")]
    WrongType {
        /// The tag expected.
        expected: u8,
        /// The tag found.
        got: u8,
    },
    /// Bytes after the end of the value.
    #[error("{extra} trailing bytes after the value")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// A sliver kind byte other than 0 or 1.
    #[error("invalid sliver kind byte {0}: expected 0 (primary) or 1 (secondary)")]
    InvalidKind(u8),
    /// A symbol size that is odd, zero or above 65534.
    #[error("invalid symbol size {0}: must be even and between 2 and {MAX_SYMBOL_SIZE}")]
    InvalidSymbolSize(u32),
    /// Sliver data whose length is not a whole number of symbols.
    #[error("sliver data of {len} bytes is not a whole number of {symbol_size}-byte symbols")]
    PartialSymbol {
        /// Data length.
        len: u32,
        /// Symbol size.
        symbol_size: u16,
    },
    /// A Merkle proof longer than any tree.
    #[error("Merkle proof of depth {depth} exceeds the maximum of {max}")]
    ProofTooDeep {
        /// Its depth.
        depth: u8,
        /// The maximum.
        max: usize,
    },
}

/// A value with a stable binary encoding.
pub trait Wire: Sized {
    /// The encoding, version byte first.
    fn to_wire(&self) -> Vec<u8>;
    /// Decodes exactly one value from `bytes`; rejects anything malformed.
    fn from_wire(bytes: &[u8]) -> Result<Self, WireError>;
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], tag: u8) -> Result<Self, WireError> {
        let mut r = Self { buf, pos: 0 };
        let version = r.u8()?;
        if version != WIRE_VERSION {
            return Err(WireError::UnsupportedVersion {
                got: version,
                supported: WIRE_VERSION,
            });
        }
        let got = r.u8()?;
        if got != tag {
            return Err(WireError::WrongType { expected: tag, got });
        }
        Ok(r)
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn bytes(&mut self, len: usize) -> Result<&'a [u8], WireError> {
        if len > self.remaining() {
            return Err(WireError::Truncated {
                offset: self.pos,
                needed: len,
                remaining: self.remaining(),
            });
        }
        let out = &self.buf[self.pos..self.pos + len];
        self.pos += len;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    fn kind(&mut self) -> Result<SliverKind, WireError> {
        let b = self.u8()?;
        SliverKind::from_byte(b).ok_or(WireError::InvalidKind(b))
    }

    /// Checks that `count` items of at least `min_size` bytes can fit in what is left.
    fn fits(&self, count: u32, min_size: usize) -> Result<(), WireError> {
        let needed = (count as usize).saturating_mul(min_size);
        if needed > self.remaining() {
            return Err(WireError::Truncated {
                offset: self.pos,
                needed,
                remaining: self.remaining(),
            });
        }
        Ok(())
    }

    fn finish(self) -> Result<(), WireError> {
        match self.remaining() {
            0 => Ok(()),
            extra => Err(WireError::TrailingBytes { extra }),
        }
    }
}

fn header(tag: u8, capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + capacity);
    out.push(WIRE_VERSION);
    out.push(tag);
    out
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    // Lengths above u32::MAX cannot occur for valid values; saturate so decoding rejects them.
    out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
}

impl Wire for BlobMetadata {
    fn to_wire(&self) -> Vec<u8> {
        let mut out = header(TAG_METADATA, 13 + 64 * self.hashes.len());
        out.push(self.encoding_type);
        out.extend_from_slice(&self.unencoded_length.to_be_bytes());
        put_len(&mut out, self.hashes.len());
        for h in &self.hashes {
            out.extend_from_slice(&h.primary);
            out.extend_from_slice(&h.secondary);
        }
        out
    }

    fn from_wire(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes, TAG_METADATA)?;
        let encoding_type = r.u8()?;
        let unencoded_length = r.u64()?;
        let count = r.u32()?;
        r.fits(count, 64)?;
        let mut hashes = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let primary: Hash = r.array()?;
            let secondary: Hash = r.array()?;
            hashes.push(SliverPairHashes { primary, secondary });
        }
        r.finish()?;
        Ok(Self {
            encoding_type,
            unencoded_length,
            hashes,
        })
    }
}

fn check_symbol_size(size: u32) -> Result<u16, WireError> {
    match u16::try_from(size) {
        Ok(s) if s >= 2 && s % 2 == 0 && s <= MAX_SYMBOL_SIZE => Ok(s),
        _ => Err(WireError::InvalidSymbolSize(size)),
    }
}

impl Wire for Sliver {
    fn to_wire(&self) -> Vec<u8> {
        let mut out = header(TAG_SLIVER, 9 + self.data.len());
        out.push(self.kind.to_byte());
        out.extend_from_slice(&self.pair.to_be_bytes());
        out.extend_from_slice(&self.symbol_size.to_be_bytes());
        put_len(&mut out, self.data.len());
        out.extend_from_slice(&self.data);
        out
    }

    fn from_wire(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes, TAG_SLIVER)?;
        let kind = r.kind()?;
        let pair = r.u16()?;
        let symbol_size = check_symbol_size(u32::from(r.u16()?))?;
        let len = r.u32()?;
        if len % u32::from(symbol_size) != 0 {
            return Err(WireError::PartialSymbol { len, symbol_size });
        }
        let data = r.bytes(len as usize)?.to_vec();
        r.finish()?;
        Ok(Self {
            kind,
            pair,
            symbol_size,
            data,
        })
    }
}

fn put_symbol(out: &mut Vec<u8>, s: &RecoverySymbol) {
    out.push(s.source_kind.to_byte());
    out.extend_from_slice(&s.source_pair.to_be_bytes());
    out.extend_from_slice(&s.index.to_be_bytes());
    put_len(out, s.symbol.len());
    out.extend_from_slice(&s.symbol);
    out.push(u8::try_from(s.proof.path.len()).unwrap_or(u8::MAX));
    for h in &s.proof.path {
        out.extend_from_slice(h);
    }
}

fn symbol_wire_len(s: &RecoverySymbol) -> usize {
    10 + s.symbol.len() + 32 * s.proof.path.len()
}

/// Smallest encoded recovery symbol body: 2-byte symbol, empty proof.
const MIN_SYMBOL_BODY: usize = 12;

fn read_symbol(r: &mut Reader<'_>) -> Result<RecoverySymbol, WireError> {
    let source_kind = r.kind()?;
    let source_pair = r.u16()?;
    let index = r.u16()?;
    let len = r.u32()?;
    check_symbol_size(len)?;
    let symbol = r.bytes(len as usize)?.to_vec();
    let depth = r.u8()?;
    if usize::from(depth) > MAX_DEPTH {
        return Err(WireError::ProofTooDeep {
            depth,
            max: MAX_DEPTH,
        });
    }
    let mut path = Vec::with_capacity(usize::from(depth));
    for _ in 0..depth {
        path.push(r.array()?);
    }
    Ok(RecoverySymbol {
        source_kind,
        source_pair,
        index,
        symbol,
        proof: MerkleProof { path },
    })
}

impl Wire for RecoverySymbol {
    fn to_wire(&self) -> Vec<u8> {
        let mut out = header(TAG_RECOVERY_SYMBOL, symbol_wire_len(self));
        put_symbol(&mut out, self);
        out
    }

    fn from_wire(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes, TAG_RECOVERY_SYMBOL)?;
        let symbol = read_symbol(&mut r)?;
        r.finish()?;
        Ok(symbol)
    }
}

impl Wire for InconsistencyProof {
    fn to_wire(&self) -> Vec<u8> {
        let body: usize = self.symbols.iter().map(symbol_wire_len).sum();
        let mut out = header(TAG_INCONSISTENCY_PROOF, 7 + body);
        out.push(self.target_kind.to_byte());
        out.extend_from_slice(&self.target_pair.to_be_bytes());
        put_len(&mut out, self.symbols.len());
        for s in &self.symbols {
            put_symbol(&mut out, s);
        }
        out
    }

    fn from_wire(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes, TAG_INCONSISTENCY_PROOF)?;
        let target_kind = r.kind()?;
        let target_pair = r.u16()?;
        let count = r.u32()?;
        r.fits(count, MIN_SYMBOL_BODY)?;
        let mut symbols = Vec::with_capacity(count as usize);
        for _ in 0..count {
            symbols.push(read_symbol(&mut r)?);
        }
        r.finish()?;
        Ok(Self {
            target_kind,
            target_pair,
            symbols,
        })
    }
}
