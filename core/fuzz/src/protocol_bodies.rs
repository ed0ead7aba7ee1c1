//! Bodies of the fuzz targets of floe-core's node API protocol: the batch answer of recovery
//! symbols, what a node parses from a request's path, query and the registered address, and
//! the JSON bodies clients and peers parse. Each checks a property, not only "no panic":
//! whatever parses round-trips to the same value (and, for the canonical binary format, to the
//! same bytes).

#![allow(dead_code)] // each fuzz target uses one body

use std::sync::OnceLock;

use floe_core::{
    BlobId, EncodedBlob, EncodingConfig, SliverKind,
    protocol::{
        BlobStatus, Confirmation, ErrorBody, ErrorCode, Health, NodeAddress, Stored,
        symbols::{decode_symbol_list, encode_symbol_list, format_indices, parse_indices},
    },
};
use serde::{Serialize, de::DeserializeOwned};

/// The most symbols a batch answer may hold in these runs (a client asks for at most `n`).
const MAX_SYMBOLS: usize = 64;

fn fixture() -> &'static (EncodingConfig, EncodedBlob) {
    static FIXTURE: OnceLock<(EncodingConfig, EncodedBlob)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let cfg = EncodingConfig::new(4).expect("4 shards are supported");
        let blob: Vec<u8> = (0..100u8).collect();
        let encoded = cfg.encode(&blob).expect("a 100-byte blob encodes");
        (cfg, encoded)
    })
}

/// `decode_symbol_list`: what decodes re-encodes to the same bytes, holds at most what was
/// asked for, and goes through verification without panicking.
pub(crate) fn symbol_list(data: &[u8]) {
    if let Ok(symbols) = decode_symbol_list(data, MAX_SYMBOLS) {
        assert!(symbols.len() <= MAX_SYMBOLS);
        assert_eq!(
            encode_symbol_list(&symbols),
            data,
            "a decoded list must re-encode to the same bytes"
        );
        let (cfg, encoded) = fixture();
        for symbol in &symbols {
            let _ = symbol.verify(&encoded.metadata, cfg);
        }
    }
}

/// Request parsing, by the first byte: 0 a blob id path segment, 1 a sliver kind segment,
/// 2 an `indices` query (two more bytes: `n`), 3 a registered node address.
pub(crate) fn request(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 4 {
        0 => {
            if let Ok(id) = text(rest).parse::<BlobId>() {
                assert_eq!(id.to_string().parse::<BlobId>().ok(), Some(id));
            }
        }
        1 => {
            if let Ok(kind) = text(rest).parse::<SliverKind>() {
                assert_eq!(kind.to_string().parse::<SliverKind>().ok(), Some(kind));
            }
        }
        2 => {
            let [hi, lo, list @ ..] = rest else {
                return;
            };
            let n = u16::from_be_bytes([*hi, *lo]);
            if let Ok(indices) = parse_indices(text(list), n) {
                assert!(!indices.is_empty() && indices.len() <= usize::from(n));
                assert!(indices.windows(2).all(|w| w[0] < w[1]), "sorted, unique");
                assert!(indices.iter().all(|&i| i < n));
                assert_eq!(parse_indices(&format_indices(&indices), n), Ok(indices));
            }
        }
        _ => {
            if let Ok(address) = NodeAddress::parse(text(rest)) {
                let shown = address.to_string();
                assert_eq!(NodeAddress::parse(&shown).as_ref(), Ok(&address));
                // Nothing but host and port reaches a URL.
                assert!(
                    shown
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b)),
                    "{shown:?}"
                );
                assert_eq!(address.base_url(), format!("http://{shown}"));
            }
        }
    }
}

/// JSON bodies, by the first byte: 0 confirmation, 1 blob status, 2 health, 3 error body,
/// 4 upload answer. What parses round-trips through serialization.
pub(crate) fn json(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    match selector % 5 {
        0 => drop(round_trip::<Confirmation>(body)),
        1 => drop(round_trip::<BlobStatus>(body)),
        2 => drop(round_trip::<Health>(body)),
        3 => {
            if let Some(code) = round_trip::<ErrorBody>(body).and_then(|e| e.code()) {
                assert!((400..600).contains(&code.status()));
                assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            }
        }
        _ => drop(round_trip::<Stored>(body)),
    }
}

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    body: &[u8],
) -> Option<T> {
    let value: T = serde_json::from_slice(body).ok()?;
    let again = serde_json::to_vec(&value).expect("a parsed body serializes");
    let back: T = serde_json::from_slice(&again).expect("a serialized body parses");
    assert_eq!(back, value);
    Some(value)
}

/// Bytes as text the way a server sees a path segment or query: invalid UTF-8 is lossy.
fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or("\u{fffd}")
}
