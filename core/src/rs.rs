//! Reed–Solomon over GF(2^16) (`reed-solomon-simd`) on floe's symbol layout.
//!
//! A symbol of `s` bytes (s even) is `s/2` elements of GF(2^16): element `e` is the
//! little-endian `u16` of bytes `2e, 2e+1`. The library keeps each 64-byte chunk of a shard as
//! 32 low bytes followed by 32 high bytes; [`to_lib`] and [`from_lib`] convert between the two.
//! Because every code then acts element by element, the same way whatever the batching, many
//! symbols can be encoded in one library call (a batch shard is any concatenation of symbols)
//! and the two dimensions of Red Stuff commute exactly.

use reed_solomon_simd::{ReedSolomonDecoder, ReedSolomonEncoder};

/// The library's chunk: shards handed to it are whole multiples of this.
pub(crate) const CHUNK: usize = 64;

/// `len` rounded up to whole chunks (at least one).
pub(crate) fn padded(len: usize) -> usize {
    len.div_ceil(CHUNK).max(1) * CHUNK
}

/// An internal failure of the Reed–Solomon library: a bug in floe-core, never bad input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("internal Reed–Solomon failure ({0}); this is a floe-core bug, please report it")]
pub struct CodecError(pub String);

impl From<reed_solomon_simd::Error> for CodecError {
    fn from(e: reed_solomon_simd::Error) -> Self {
        Self(e.to_string())
    }
}

fn deinterleave(src: &[u8; CHUNK], dst: &mut [u8; CHUNK]) {
    for k in 0..CHUNK / 2 {
        dst[k] = src[2 * k];
        dst[CHUNK / 2 + k] = src[2 * k + 1];
    }
}

fn interleave(src: &[u8; CHUNK], dst: &mut [u8; CHUNK]) {
    for k in 0..CHUNK / 2 {
        dst[2 * k] = src[k];
        dst[2 * k + 1] = src[CHUNK / 2 + k];
    }
}

/// Natural bytes into library layout; `dst` (whole chunks, at least `src.len()`) is zero padded.
pub(crate) fn to_lib(src: &[u8], dst: &mut [u8]) {
    let mut s_chunks = src.chunks_exact(CHUNK);
    let mut d_chunks = dst.chunks_exact_mut(CHUNK);
    for (s, d) in (&mut s_chunks).zip(&mut d_chunks) {
        if let (Ok(s), Ok(d)) = (<&[u8; CHUNK]>::try_from(s), <&mut [u8; CHUNK]>::try_from(d)) {
            deinterleave(s, d);
        }
    }
    let tail = s_chunks.remainder();
    let mut first = true;
    for d in d_chunks {
        if let Ok(d) = <&mut [u8; CHUNK]>::try_from(d) {
            if first && !tail.is_empty() {
                let mut tmp = [0u8; CHUNK];
                tmp[..tail.len()].copy_from_slice(tail);
                deinterleave(&tmp, d);
            } else {
                d.fill(0);
            }
        }
        first = false;
    }
}

/// Library layout back into natural bytes: fills `dst` (at most `src.len()` bytes).
pub(crate) fn from_lib(src: &[u8], dst: &mut [u8]) {
    let mut d_chunks = dst.chunks_exact_mut(CHUNK);
    let mut s_chunks = src.chunks_exact(CHUNK);
    for (d, s) in (&mut d_chunks).zip(&mut s_chunks) {
        if let (Ok(s), Ok(d)) = (<&[u8; CHUNK]>::try_from(s), <&mut [u8; CHUNK]>::try_from(d)) {
            interleave(s, d);
        }
    }
    let tail = d_chunks.into_remainder();
    if !tail.is_empty()
        && let Some(Ok(s)) = s_chunks.next().map(<&[u8; CHUNK]>::try_from)
    {
        let mut tmp = [0u8; CHUNK];
        interleave(s, &mut tmp);
        let len = tail.len();
        tail.copy_from_slice(&tmp[..len]);
    }
}

/// A reusable encoder of `k` originals into `r` recovery shards of `len` natural bytes.
pub(crate) struct Encoder {
    inner: ReedSolomonEncoder,
    lib: Vec<u8>,
    nat: Vec<u8>,
    k: usize,
    r: usize,
    len: usize,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("k", &self.k)
            .field("r", &self.r)
            .field("len", &self.len)
            .finish()
    }
}

impl Encoder {
    /// A new encoder for the code `(k, r)` and shards of `len` natural bytes.
    pub(crate) fn new(k: usize, r: usize, len: usize) -> Result<Self, CodecError> {
        let inner = ReedSolomonEncoder::new(k, r, padded(len))?;
        Ok(Self {
            inner,
            lib: vec![0; padded(len)],
            nat: vec![0; len],
            k,
            r,
            len,
        })
    }

    /// Prepares for a new batch; shards are now `len` bytes.
    pub(crate) fn reset(&mut self, len: usize) -> Result<(), CodecError> {
        self.inner.reset(self.k, self.r, padded(len))?;
        self.lib.resize(padded(len), 0);
        self.nat.resize(len, 0);
        self.len = len;
        Ok(())
    }

    /// Adds the next original shard (natural bytes, at most `len`, zero padded).
    pub(crate) fn add(&mut self, natural: &[u8]) -> Result<(), CodecError> {
        to_lib(natural, &mut self.lib);
        self.inner.add_original_shard(&self.lib)?;
        Ok(())
    }

    /// A scratch buffer of `len` bytes to gather an original into before [`Encoder::add_scratch`].
    pub(crate) fn scratch(&mut self) -> &mut [u8] {
        &mut self.nat
    }

    /// Adds the scratch buffer as the next original shard.
    pub(crate) fn add_scratch(&mut self) -> Result<(), CodecError> {
        to_lib(&self.nat, &mut self.lib);
        self.inner.add_original_shard(&self.lib)?;
        Ok(())
    }

    /// Encodes; `sink(t, natural)` receives recovery shard `t` (`len` natural bytes).
    pub(crate) fn encode(&mut self, mut sink: impl FnMut(usize, &[u8])) -> Result<(), CodecError> {
        let result = self.inner.encode()?;
        for (t, shard) in result.recovery_iter().enumerate() {
            from_lib(shard, &mut self.nat);
            sink(t, &self.nat);
        }
        Ok(())
    }
}

/// A decoder of the code `(k, r)` for shards of `len` natural bytes.
pub(crate) struct Decoder {
    inner: ReedSolomonDecoder,
    lib: Vec<u8>,
    nat: Vec<u8>,
    k: usize,
    r: usize,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("k", &self.k)
            .field("r", &self.r)
            .finish()
    }
}

impl Decoder {
    /// A new decoder for the code `(k, r)` and shards of `len` natural bytes.
    pub(crate) fn new(k: usize, r: usize, len: usize) -> Result<Self, CodecError> {
        let inner = ReedSolomonDecoder::new(k, r, padded(len))?;
        Ok(Self {
            inner,
            lib: vec![0; padded(len)],
            nat: vec![0; len],
            k,
            r,
        })
    }

    /// Prepares for a new batch; shards are now `len` bytes.
    pub(crate) fn reset(&mut self, len: usize) -> Result<(), CodecError> {
        self.inner.reset(self.k, self.r, padded(len))?;
        self.lib.resize(padded(len), 0);
        self.nat.resize(len, 0);
        Ok(())
    }

    /// Adds shard `pos` of the codeword (`pos < k`: original, else recovery `pos - k`).
    pub(crate) fn add(&mut self, pos: usize, natural: &[u8]) -> Result<(), CodecError> {
        to_lib(natural, &mut self.lib);
        if pos < self.k {
            self.inner.add_original_shard(pos, &self.lib)?;
        } else {
            self.inner.add_recovery_shard(pos - self.k, &self.lib)?;
        }
        Ok(())
    }

    /// Decodes; `sink(i, natural)` receives each restored (missing) original `i`.
    pub(crate) fn decode(&mut self, mut sink: impl FnMut(usize, &[u8])) -> Result<(), CodecError> {
        let result = self.inner.decode()?;
        for (i, shard) in result.restored_original_iter() {
            from_lib(shard, &mut self.nat);
            sink(i, &self.nat);
        }
        Ok(())
    }
}

/// Expands `k` symbols of `s` bytes (`data`, `k * s` bytes) to the `k + r` symbols of the codeword.
pub(crate) fn expand(k: usize, r: usize, s: usize, data: &[u8]) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity((k + r) * s);
    out.extend_from_slice(data);
    let mut enc = Encoder::new(k, r, s)?;
    for sym in data.chunks_exact(s) {
        enc.add(sym)?;
    }
    enc.encode(|_, sym| out.extend_from_slice(sym))?;
    Ok(out)
}

/// Rebuilds the `k` original symbols from `k` symbols at distinct codeword positions.
pub(crate) fn restore(
    k: usize,
    r: usize,
    s: usize,
    symbols: &[(usize, &[u8])],
) -> Result<Vec<u8>, CodecError> {
    let mut out = vec![0u8; k * s];
    let mut missing = false;
    let mut present = vec![false; k];
    for (pos, sym) in symbols {
        if *pos < k {
            out[pos * s..(pos + 1) * s].copy_from_slice(sym);
            present[*pos] = true;
        }
    }
    if present.iter().any(|p| !p) {
        missing = true;
    }
    if missing {
        let mut dec = Decoder::new(k, r, s)?;
        for (pos, sym) in symbols {
            dec.add(*pos, sym)?;
        }
        dec.decode(|i, sym| out[i * s..(i + 1) * s].copy_from_slice(sym))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_round_trips() {
        for len in [2usize, 6, 62, 64, 66, 130, 1206] {
            let src: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let mut lib = vec![0xffu8; padded(len)];
            to_lib(&src, &mut lib);
            let mut back = vec![0u8; len];
            from_lib(&lib, &mut back);
            assert_eq!(back, src, "len {len}");
        }
    }

    #[test]
    fn batching_commutes_with_single_symbols() {
        // Encoding a batch of concatenated symbols equals encoding each symbol position alone.
        let (k, r, s, per) = (5usize, 3usize, 6usize, 4usize);
        let originals: Vec<Vec<u8>> = (0..k)
            .map(|i| (0..s * per).map(|j| (i * 31 + j * 17 + 1) as u8).collect())
            .collect();
        let mut batch = Encoder::new(k, r, s * per).expect("supported");
        for o in &originals {
            batch.add(o).expect("add");
        }
        let mut batched = vec![Vec::new(); r];
        batch
            .encode(|t, sym| batched[t] = sym.to_vec())
            .expect("encode");
        for p in 0..per {
            let column: Vec<u8> = originals
                .iter()
                .flat_map(|o| o[p * s..(p + 1) * s].to_vec())
                .collect();
            let expanded = expand(k, r, s, &column).expect("expand");
            for t in 0..r {
                assert_eq!(
                    &expanded[(k + t) * s..(k + t + 1) * s],
                    &batched[t][p * s..(p + 1) * s]
                );
            }
        }
    }
}
