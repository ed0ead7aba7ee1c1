//! The recovery batch endpoint's two formats: the `?indices=a,b,c` query and the answer.
//!
//! Indices: decimal `u16`s below `n`, separated by single commas, no spaces, signs or leading
//! zeros, at least one and at most `n` entries (the expansion has `n` symbols). Any order is
//! accepted; the node answers in ascending order, each index once.
//!
//! Answer: `u32 BE count`, then per symbol `u32 BE length` and its wire bytes.

use crate::{
    recovery::RecoverySymbol,
    wire::{Wire, WireError},
};

/// A malformed `indices` list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndicesError {
    /// No index at all.
    #[error("invalid indices: the list is empty; ask for at least one symbol index")]
    Empty,
    /// More entries than an expansion has symbols.
    #[error("invalid indices: more than {n} entries; an expansion has {n} symbols")]
    TooMany {
        /// `n`.
        n: u16,
    },
    /// An entry that is not a canonical decimal number below `n`.
    #[error("invalid indices: {entry:?} is not a symbol index below {n}")]
    Bad {
        /// The entry (at most 16 characters of it).
        entry: String,
        /// `n`.
        n: u16,
    },
}

/// The query value for `indices`.
pub fn format_indices(indices: &[u16]) -> String {
    let mut out = String::with_capacity(indices.len() * 4);
    for (i, x) in indices.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&x.to_string());
    }
    out
}

/// Parses an `indices` list for `n` shards: ascending, each index once. Reads at most `n`
/// entries of at most 5 digits each, whatever the input's length: the work is bounded by `n`.
pub fn parse_indices(list: &str, n: u16) -> Result<Vec<u16>, IndicesError> {
    if list.is_empty() {
        return Err(IndicesError::Empty);
    }
    let mut out = Vec::new();
    for (i, entry) in list.split(',').enumerate() {
        if i >= usize::from(n) {
            return Err(IndicesError::TooMany { n });
        }
        let bad = || IndicesError::Bad {
            entry: entry.chars().take(16).collect(),
            n,
        };
        let canonical = !entry.is_empty()
            && entry.len() <= 5
            && entry.bytes().all(|b| b.is_ascii_digit())
            && (entry == "0" || !entry.starts_with('0'));
        if !canonical {
            return Err(bad());
        }
        match entry.parse::<u16>() {
            Ok(x) if x < n => out.push(x),
            _ => return Err(bad()),
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// A batch answer that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SymbolListError {
    /// The answer ends early.
    #[error("truncated symbol list")]
    Truncated,
    /// More symbols than were asked for.
    #[error("symbol list has {got} symbols, at most {max} were asked for")]
    TooMany {
        /// Count announced.
        got: u32,
        /// Count asked for.
        max: usize,
    },
    /// A symbol does not decode.
    #[error("symbol {index} of the list: {source}")]
    Symbol {
        /// Its position.
        index: usize,
        /// Why.
        source: WireError,
    },
    /// Bytes after the last symbol.
    #[error("{0} trailing bytes after the symbol list")]
    Trailing(usize),
}

/// Encodes a batch answer.
pub fn encode_symbol_list(symbols: &[RecoverySymbol]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(
        &u32::try_from(symbols.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    for s in symbols {
        let w = s.to_wire();
        out.extend_from_slice(&u32::try_from(w.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(&w);
    }
    out
}

fn take<'a>(rest: &mut &'a [u8], n: usize) -> Result<&'a [u8], SymbolListError> {
    if rest.len() < n {
        return Err(SymbolListError::Truncated);
    }
    let (a, b) = rest.split_at(n);
    *rest = b;
    Ok(a)
}

fn read_u32(rest: &mut &[u8]) -> Result<u32, SymbolListError> {
    let b = take(rest, 4)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Decodes a batch answer of at most `max_count` symbols (what was asked for). Symbols are
/// returned unverified.
pub fn decode_symbol_list(
    bytes: &[u8],
    max_count: usize,
) -> Result<Vec<RecoverySymbol>, SymbolListError> {
    let mut rest = bytes;
    let count = read_u32(&mut rest)?;
    if count as usize > max_count {
        return Err(SymbolListError::TooMany {
            got: count,
            max: max_count,
        });
    }
    let mut out = Vec::with_capacity((count as usize).min(rest.len() / 16));
    for index in 0..count as usize {
        let len = read_u32(&mut rest)? as usize;
        let w = take(&mut rest, len)?;
        out.push(
            RecoverySymbol::from_wire(w)
                .map_err(|source| SymbolListError::Symbol { index, source })?,
        );
    }
    if !rest.is_empty() {
        return Err(SymbolListError::Trailing(rest.len()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_are_strict() {
        assert_eq!(parse_indices("3,1,3,0", 10), Ok(vec![0, 1, 3]));
        assert_eq!(parse_indices("9", 10), Ok(vec![9]));
        assert_eq!(parse_indices("", 10), Err(IndicesError::Empty));
        for bad in [
            "10", "1,,2", " 1", "1 ", "+1", "-1", "01", "1,", ",1", "0x1", "99999999",
        ] {
            assert!(
                matches!(parse_indices(bad, 10), Err(IndicesError::Bad { .. })),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_indices("0,1,2,3,4", 4),
            Err(IndicesError::TooMany { n: 4 })
        );
        assert_eq!(format_indices(&[0, 7, 12]), "0,7,12");
    }

    #[test]
    fn a_list_announcing_more_than_asked_is_refused_before_reading() {
        let mut bytes = 1000u32.to_be_bytes().to_vec();
        bytes.extend_from_slice(&[0; 8]);
        assert_eq!(
            decode_symbol_list(&bytes, 3),
            Err(SymbolListError::TooMany { got: 1000, max: 3 })
        );
        assert_eq!(
            decode_symbol_list(&[0, 0], 3),
            Err(SymbolListError::Truncated)
        );
        assert_eq!(decode_symbol_list(&[0, 0, 0, 0], 3), Ok(vec![]));
        assert_eq!(
            decode_symbol_list(&[0, 0, 0, 0, 1], 3),
            Err(SymbolListError::Trailing(1))
        );
    }
}
