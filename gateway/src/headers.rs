//! Response headers taken from a registration's attributes, validated so that no attribute can
//! inject a header or smuggle a different meaning: a value that fails its check is dropped
//! (the default applies). Also `If-None-Match` matching.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

/// Longest attribute value turned into a header.
const MAX_VALUE: usize = 512;

/// The default `Content-Type`.
pub(crate) const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// Visible ASCII and spaces only (no CR, LF, NUL or other controls, no non-ASCII).
fn is_plain(s: &str) -> bool {
    s.len() <= MAX_VALUE
        && s.bytes()
            .all(|c| c == b' ' || c == b'\t' || c.is_ascii_graphic())
}

/// `type/subtype` followed by `; name=value` parameters.
fn valid_content_type(v: &str) -> bool {
    if !is_plain(v) {
        return false;
    }
    let mut parts = v.split(';');
    let Some((t, s)) = parts.next().and_then(|m| m.trim().split_once('/')) else {
        return false;
    };
    is_token(t) && is_token(s) && parts.all(valid_param)
}

fn valid_param(p: &str) -> bool {
    let Some((name, value)) = p.trim().split_once('=') else {
        return false;
    };
    is_token(name.trim()) && {
        let value = value.trim();
        is_token(value) || (value.len() >= 2 && value.starts_with('"') && value.ends_with('"'))
    }
}

/// `inline` or `attachment`, then parameters.
fn valid_disposition(v: &str) -> bool {
    if !is_plain(v) {
        return false;
    }
    let mut parts = v.split(';');
    let kind = parts.next().unwrap_or("").trim();
    (kind.eq_ignore_ascii_case("inline") || kind.eq_ignore_ascii_case("attachment"))
        && parts.all(valid_param)
}

/// A comma-separated list of tokens (content codings).
fn valid_encoding(v: &str) -> bool {
    is_plain(v) && v.split(',').all(|t| is_token(t.trim()))
}

/// A comma-separated list of language tags (letters, digits, `-`).
fn valid_language(v: &str) -> bool {
    is_plain(v)
        && v.split(',').all(|t| {
            let t = t.trim();
            !t.is_empty()
                && t.len() <= 35
                && t.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
        })
}

/// A value check.
type Check = fn(&str) -> bool;

/// Sets `Content-Type`, `Content-Disposition`, `Content-Encoding` and `Content-Language` from
/// `attributes` (keys matched case-insensitively), each only if it passes its check.
pub(crate) fn apply_attributes(headers: &mut HeaderMap, attributes: &BTreeMap<String, String>) {
    let find = |name: &str| {
        attributes
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let rules: [(HeaderName, Check); 4] = [
        (header::CONTENT_TYPE, valid_content_type),
        (header::CONTENT_DISPOSITION, valid_disposition),
        (header::CONTENT_ENCODING, valid_encoding),
        (header::CONTENT_LANGUAGE, valid_language),
    ];
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(DEFAULT_CONTENT_TYPE),
    );
    for (name, check) in rules {
        if let Some(v) = find(name.as_str())
            && check(v)
            && let Ok(value) = HeaderValue::from_str(v.trim())
        {
            headers.insert(name, value);
        }
    }
}

/// Whether an `If-None-Match` value matches the strong ETag `etag` (weak comparison, RFC 9110).
pub(crate) fn none_match(if_none_match: &str, etag: &str) -> bool {
    if_none_match.split(',').any(|t| {
        let t = t.trim();
        t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(pairs: &[(&str, &str)]) -> HeaderMap {
        let attrs = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let mut h = HeaderMap::new();
        apply_attributes(&mut h, &attrs);
        h
    }

    #[test]
    fn valid_attributes_become_headers() {
        let h = apply(&[
            ("Content-Type", "text/plain; charset=utf-8"),
            ("content-disposition", "attachment; filename=\"a b.txt\""),
            ("content-encoding", "gzip"),
            ("content-language", "en-GB, fr"),
            ("cache-control", "max-age=1"),
        ]);
        assert_eq!(h[header::CONTENT_TYPE], "text/plain; charset=utf-8");
        assert_eq!(
            h[header::CONTENT_DISPOSITION],
            "attachment; filename=\"a b.txt\""
        );
        assert_eq!(h[header::CONTENT_ENCODING], "gzip");
        assert_eq!(h[header::CONTENT_LANGUAGE], "en-GB, fr");
        assert!(h.get(header::CACHE_CONTROL).is_none());
    }

    #[test]
    fn injection_and_garbage_fall_back_to_defaults() {
        let h = apply(&[
            ("content-type", "text/html\r\nSet-Cookie: a=b"),
            ("content-disposition", "evil; x=y"),
            ("content-encoding", "gzip\n"),
            ("content-language", "en<script>"),
        ]);
        assert_eq!(h[header::CONTENT_TYPE], DEFAULT_CONTENT_TYPE);
        assert!(h.get(header::CONTENT_DISPOSITION).is_none());
        assert!(h.get(header::CONTENT_ENCODING).is_none());
        assert!(h.get(header::CONTENT_LANGUAGE).is_none());
        for bad in [
            "text",
            "/x",
            "a/b; =c",
            "a/b\u{e9}",
            "a/b;c",
            &"a/".repeat(400),
        ] {
            assert!(!valid_content_type(bad), "{bad:?}");
        }
    }

    #[test]
    fn if_none_match_compares_weakly() {
        let etag = "\"0xab\"";
        assert!(none_match("\"0xab\"", etag));
        assert!(none_match("W/\"0xab\"", etag));
        assert!(none_match("\"x\", \"0xab\"", etag));
        assert!(none_match("*", etag));
        assert!(!none_match("\"0xac\"", etag));
        assert!(!none_match("0xab", etag));
    }
}
