//! The `Range` header (RFC 9110 §14): one byte range `a-b`, `a-` or `-n`. Anything else (several
//! ranges, another unit, garbage) is ignored, which means the whole blob.

use std::ops::Range;

/// What a `Range` header asks of a blob of a given length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RangeAsk {
    /// No usable header: the whole blob (200).
    Whole,
    /// These bytes (206), non-empty and inside the blob.
    Part(Range<u64>),
    /// A valid range that the blob cannot satisfy (416).
    Unsatisfiable,
}

/// A syntactically valid single range, before it meets the blob's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec {
    /// `a-b` (`b` inclusive) or `a-` (`b` = None).
    From(u64, Option<u64>),
    /// `-n`: the last `n` bytes.
    Suffix(u64),
}

fn parse_spec(header: &str) -> Option<Spec> {
    let rest = header.trim();
    let (unit, set) = rest.split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return None;
    }
    let set = set.trim();
    if set.contains(',') {
        return None;
    }
    let (a, b) = set.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    match (a.is_empty(), b.is_empty()) {
        (true, false) if digits(b) => Some(Spec::Suffix(b.parse().ok()?)),
        (false, true) if digits(a) => Some(Spec::From(a.parse().ok()?, None)),
        (false, false) if digits(a) && digits(b) => {
            let (a, b): (u64, u64) = (a.parse().ok()?, b.parse().ok()?);
            (a <= b).then_some(Spec::From(a, Some(b)))
        }
        _ => None,
    }
}

/// Resolves a `Range` header against a blob of `len` bytes.
pub(crate) fn resolve(header: Option<&str>, len: u64) -> RangeAsk {
    let Some(spec) = header.and_then(parse_spec) else {
        return RangeAsk::Whole;
    };
    match spec {
        Spec::From(a, _) if a >= len => RangeAsk::Unsatisfiable,
        Spec::From(a, b) => {
            let end = b.map_or(len, |b| b.saturating_add(1).min(len));
            RangeAsk::Part(a..end)
        }
        Spec::Suffix(0) => RangeAsk::Unsatisfiable,
        Spec::Suffix(_) if len == 0 => RangeAsk::Unsatisfiable,
        Spec::Suffix(n) => RangeAsk::Part(len.saturating_sub(n)..len),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_ranges_resolve() {
        assert_eq!(resolve(Some("bytes=0-9"), 100), RangeAsk::Part(0..10));
        assert_eq!(resolve(Some("bytes=10-19"), 100), RangeAsk::Part(10..20));
        assert_eq!(resolve(Some("bytes=90-200"), 100), RangeAsk::Part(90..100));
        assert_eq!(resolve(Some("bytes=95-"), 100), RangeAsk::Part(95..100));
        assert_eq!(resolve(Some("bytes=-5"), 100), RangeAsk::Part(95..100));
        assert_eq!(resolve(Some("bytes=-500"), 100), RangeAsk::Part(0..100));
        assert_eq!(resolve(Some("BYTES = 1 - 2"), 100), RangeAsk::Part(1..3));
    }

    #[test]
    fn unsatisfiable_ranges() {
        assert_eq!(resolve(Some("bytes=100-"), 100), RangeAsk::Unsatisfiable);
        assert_eq!(resolve(Some("bytes=100-200"), 100), RangeAsk::Unsatisfiable);
        assert_eq!(resolve(Some("bytes=-0"), 100), RangeAsk::Unsatisfiable);
        assert_eq!(resolve(Some("bytes=0-"), 0), RangeAsk::Unsatisfiable);
        assert_eq!(resolve(Some("bytes=-1"), 0), RangeAsk::Unsatisfiable);
    }

    #[test]
    fn bad_or_multiple_ranges_are_ignored() {
        for h in [
            "bytes=0-1,5-6",
            "bytes=5-1",
            "bytes=a-b",
            "items=0-1",
            "bytes=",
            "bytes=-",
            "bytes=+1-2",
            "bytes=99999999999999999999999-",
            "0-1",
        ] {
            assert_eq!(resolve(Some(h), 100), RangeAsk::Whole, "{h}");
        }
        assert_eq!(resolve(None, 100), RangeAsk::Whole);
    }
}
