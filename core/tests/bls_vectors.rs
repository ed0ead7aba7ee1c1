//! The BLS vector file shared with the forge tests (`contracts/test/vectors/bls.json`).
//!
//! `cargo test -p floe-core --test bls_vectors` fails if the committed file differs from what
//! the code produces; `FLOE_REGEN_VECTORS=1 cargo test -p floe-core --test bls_vectors`
//! rewrites it. The schema is documented in `contracts/test/vectors/README.md`.

use std::path::PathBuf;

use floe_core::{
    bls::{self, PublicKey, SecretKey, Signature},
    ids::{BlobId, ENCODING_RED_STUFF},
    messages,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sha3::Keccak256;

/// Anvil's chain id.
const CHAIN_ID: u64 = 31337;
/// Staking, deployed by DEPLOYER = 0xF10E at nonce 1 in the contract tests.
const STAKING: &str = "0xa9f6c36B964AF4F8E535810c7a4D832cBB9771cC";
/// BlobRegistry, deployed by DEPLOYER = 0xF10E at nonce 2 in the contract tests.
const REGISTRY: &str = "0xa8e5860a8c7D5a9d7653Cd7436cF0d9857a87a82";
/// Number of test node keys.
const KEYS: u32 = 110;
/// Number of test blobs.
const BLOBS: u64 = 105;
/// Number of blobs in the batch certificate message.
const BATCH: usize = 100;

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn address(s: &str) -> [u8; 20] {
    let mut out = [0u8; 20];
    hex::decode_to_slice(&s[2..], &mut out).expect("address constant is 20 bytes of hex");
    out
}

/// Test node `i`'s key: seeded by `sha256("floe-test-key" ‖ u32 i big-endian)`.
fn test_key(i: u32) -> SecretKey {
    let mut h = Sha256::new();
    h.update(b"floe-test-key");
    h.update(i.to_be_bytes());
    SecretKey::from_seed(&h.finalize().into())
}

/// Test node `i`'s operator address: `address(uint160(0x10000 + i))`.
fn operator(i: u32) -> [u8; 20] {
    let mut out = [0u8; 20];
    out[16..].copy_from_slice(&(0x10000 + i).to_be_bytes());
    out
}

/// Test blob `j`: root `keccak256(abi.encode(uint256 j))`, a size that varies from one byte to
/// a few MiB, deletable when `j % 3 == 1`.
fn test_blob(j: u64) -> (u64, [u8; 32], bool) {
    let mut word = [0u8; 32];
    word[24..].copy_from_slice(&j.to_be_bytes());
    let root: [u8; 32] = Keccak256::digest(word).into();
    let size = 1 + j * j * 313 + (j % 7) * 1_000_003;
    (size, root, j % 3 == 1)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VectorFile {
    description: String,
    dst: String,
    chain_id: u64,
    staking: String,
    registry: String,
    hash_to_g2: HashVectors,
    keys: Keys,
    blobs: Blobs,
    messages: Messages,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HashVectors {
    messages: Vec<String>,
    points: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Keys {
    count: u32,
    secret_keys: Vec<String>,
    public_keys: Vec<String>,
    public_keys_compressed: Vec<String>,
    operators: Vec<String>,
    pops: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Blobs {
    count: u64,
    encoding_type: u8,
    sizes: Vec<u64>,
    roots: Vec<String>,
    deletable: Vec<bool>,
    ids: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Messages {
    certify_blob0_epoch1: SignedMessage,
    certify_blob0_epoch2: SignedMessage,
    certify_batch100_epoch1: SignedMessage,
    invalid_blob0_epoch1: SignedMessage,
    certify_blob1_epoch1: SignedMessage,
    certify_blob2_epoch1: SignedMessage,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SignedMessage {
    intent: u8,
    epoch: u32,
    blob_indices: Vec<u64>,
    message: String,
    hashed: String,
    signatures: Vec<String>,
}

fn signed(
    keys: &[SecretKey],
    intent: messages::Intent,
    epoch: u32,
    blob_indices: Vec<u64>,
    msg: [u8; 65],
) -> SignedMessage {
    let signatures = keys
        .iter()
        .map(|sk| {
            let sig = sk.sign(&msg);
            assert_eq!(sig.verify(&sk.public_key(), &msg), Ok(()));
            hex0x(&sig.to_eip2537())
        })
        .collect();
    SignedMessage {
        intent: intent as u8,
        epoch,
        blob_indices,
        message: hex0x(&msg),
        hashed: hex0x(&bls::hash_to_g2(&msg, bls::DST)),
        signatures,
    }
}

fn build() -> VectorFile {
    let staking = address(STAKING);
    let registry = address(REGISTRY);
    let keys: Vec<SecretKey> = (0..KEYS).map(test_key).collect();
    let pks: Vec<PublicKey> = keys.iter().map(SecretKey::public_key).collect();
    let pops: Vec<Signature> = keys
        .iter()
        .zip(0..KEYS)
        .map(|(sk, i)| bls::proof_of_possession(sk, CHAIN_ID, staking, operator(i)))
        .collect();
    for ((pk, pop), i) in pks.iter().zip(&pops).zip(0..KEYS) {
        assert_eq!(
            bls::verify_proof_of_possession(pk, pop, CHAIN_ID, staking, operator(i)),
            Ok(())
        );
    }

    let blobs: Vec<(u64, [u8; 32], bool)> = (0..BLOBS).map(test_blob).collect();
    let ids: Vec<[u8; 32]> = blobs
        .iter()
        .map(|(size, root, _)| BlobId::from_parts(ENCODING_RED_STUFF, *size, root).0)
        .collect();
    // Blob j's registration is the (j+1)-th: the contract tests register the vector blobs in order
    // on a fresh registry, whose registration ids count from 1.
    let entry = |j: usize| messages::CertifyEntry {
        blob_id: ids[j],
        registration_id: j as u64 + 1,
        deletable: blobs[j].2,
    };
    let batch: Vec<messages::CertifyEntry> = (0..BATCH).map(entry).collect();

    let hash_messages: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"abc".to_vec(),
        b"floe".to_vec(),
        vec![0xff; 65],
        messages::certify_message(CHAIN_ID, registry, 1, &[entry(0)]).to_vec(),
        vec![0x5a; 300],
    ];

    use messages::Intent::{Certify, Invalid};
    VectorFile {
        description: "floe BLS vectors, generated by `FLOE_REGEN_VECTORS=1 cargo test -p floe-core --test bls_vectors`; schema in README.md".into(),
        dst: String::from_utf8(bls::DST.to_vec()).expect("the DST is ASCII"),
        chain_id: CHAIN_ID,
        staking: STAKING.into(),
        registry: REGISTRY.into(),
        hash_to_g2: HashVectors {
            points: hash_messages
                .iter()
                .map(|m| hex0x(&bls::hash_to_g2(m, bls::DST)))
                .collect(),
            messages: hash_messages.iter().map(|m| hex0x(m)).collect(),
        },
        keys: Keys {
            count: KEYS,
            secret_keys: keys.iter().map(SecretKey::to_hex).collect(),
            public_keys: pks.iter().map(|pk| hex0x(&pk.to_eip2537())).collect(),
            public_keys_compressed: pks.iter().map(PublicKey::to_hex).collect(),
            operators: (0..KEYS).map(|i| hex0x(&operator(i))).collect(),
            pops: pops.iter().map(|s| hex0x(&s.to_eip2537())).collect(),
        },
        blobs: Blobs {
            count: BLOBS,
            encoding_type: ENCODING_RED_STUFF,
            sizes: blobs.iter().map(|b| b.0).collect(),
            roots: blobs.iter().map(|b| hex0x(&b.1)).collect(),
            deletable: blobs.iter().map(|b| b.2).collect(),
            ids: ids.iter().map(|id| hex0x(id)).collect(),
        },
        messages: Messages {
            certify_blob0_epoch1: signed(
                &keys,
                Certify,
                1,
                vec![0],
                messages::certify_message(CHAIN_ID, registry, 1, &[entry(0)]),
            ),
            certify_blob0_epoch2: signed(
                &keys,
                Certify,
                2,
                vec![0],
                messages::certify_message(CHAIN_ID, registry, 2, &[entry(0)]),
            ),
            certify_batch100_epoch1: signed(
                &keys,
                Certify,
                1,
                (0..BATCH as u64).collect(),
                messages::certify_message(CHAIN_ID, registry, 1, &batch),
            ),
            invalid_blob0_epoch1: signed(
                &keys,
                Invalid,
                1,
                vec![0],
                messages::invalid_message(CHAIN_ID, registry, 1, ids[0]),
            ),
            certify_blob1_epoch1: signed(
                &keys,
                Certify,
                1,
                vec![1],
                messages::certify_message(CHAIN_ID, registry, 1, &[entry(1)]),
            ),
            certify_blob2_epoch1: signed(
                &keys,
                Certify,
                1,
                vec![2],
                messages::certify_message(CHAIN_ID, registry, 1, &[entry(2)]),
            ),
        },
    }
}

fn vector_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../contracts/test/vectors/bls.json")
}

#[test]
fn vector_file_is_in_sync() {
    let mut json = serde_json::to_string_pretty(&build()).expect("vectors serialize");
    json.push('\n');
    let path = vector_path();
    if std::env::var_os("FLOE_REGEN_VECTORS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &json).expect("write contracts/test/vectors/bls.json");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == json,
        "{} is out of date: run `FLOE_REGEN_VECTORS=1 cargo test -p floe-core --test bls_vectors` and commit it",
        path.display()
    );
}
