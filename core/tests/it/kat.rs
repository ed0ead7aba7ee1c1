//! Known answers: the blob ids of fixed inputs. A change here is a format change (symbol
//! layout, Merkle hashing, metadata root or id derivation): never edit these values to make a
//! test pass; bump the encoding type or the wire version instead.

use floe_core::{BlobId, Wire};

use crate::common::encode;

/// Byte `i` is `(7i + 3) mod 256`.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}

const KNOWN: [(u16, usize, &str); 6] = [
    (
        10,
        0,
        "0x9593615dd0ee3fccfa6036c73bb008485dcedf68df2de9292a96783bc5eb55de",
    ),
    (
        10,
        1,
        "0x3874ff2092c39ecb78a54f39f25f7d4b2f4a7bbeabcfcf8314353909b5a6d99d",
    ),
    (
        10,
        1000,
        "0x8c9b22a08e9e95c6655143ff92d8ceda2b44610c07b2b7c8ecd357688fd99eec",
    ),
    (
        4,
        0,
        "0x07d6300db4e8d6149c57db6c92834f9018a25ab4b38df28ba05ab7946613843b",
    ),
    (
        100,
        100_000,
        "0x3f608a134faad3e2f558af3bf4d6ffbee4d4fa7ef471df1285ef60ff319efee4",
    ),
    (
        1000,
        10_000,
        "0xdd88633d8579c0e924fa53736e4575637ceefd2aab563efb827360089a066daf",
    ),
];

#[test]
fn blob_ids_of_fixed_inputs_are_pinned() {
    for (n, len, id) in KNOWN {
        let (_, enc) = encode(n, &pattern(len));
        let expected: BlobId = id.parse().expect("hex id");
        assert_eq!(enc.blob_id, expected, "n = {n}, {len} bytes");
        assert_eq!(enc.metadata.blob_id(), expected);
        assert_eq!(enc.metadata.unencoded_length, len as u64);
    }
}

#[test]
fn the_id_is_the_keccak_of_type_length_and_root() {
    // keccak256(abi.encodePacked(uint8 1, uint64 0, bytes32 0)): what the contract derives.
    let id = BlobId::from_parts(1, 0, &[0u8; 32]);
    // (computed independently with `cast keccak 0x01` followed by 40 zero bytes).
    assert_eq!(
        id.to_string(),
        "0x696cbdb715f9d7f9a572e27a8b8a1c7a4290a244eced469cff3770b942413aee"
    );
    let (_, enc) = encode(10, &pattern(1000));
    let root = enc.metadata.root();
    assert_eq!(BlobId::from_parts(1, 1000, &root), enc.blob_id);
    // The metadata survives the wire with its id.
    let back = floe_core::BlobMetadata::from_wire(&enc.metadata.to_wire()).expect("decodes");
    assert_eq!(back.blob_id(), enc.blob_id);
}
