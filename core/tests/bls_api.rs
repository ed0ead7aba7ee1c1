//! floe-core's BLS API: RFC 9380 hash-to-G2 vectors, encodings, rejection of malformed input,
//! aggregation, proofs of possession and certificates.

use floe_core::{
    bls::{
        self, BlsError, Certificate, CertificateBuilder, PublicKey, Quorum, SecretKey, Signature,
    },
    messages,
};
use proptest::prelude::*;

fn sk(i: u8) -> SecretKey {
    SecretKey::from_seed(&[i; 32])
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("test constant is hex")
}

/// EIP-2537 encoding of a G2 point from its four 48-byte coordinates (x.c0, x.c1, y.c0, y.c1).
fn g2_eip(coords: [&str; 4]) -> Vec<u8> {
    coords
        .iter()
        .flat_map(|c| {
            let mut fp = vec![0u8; 16];
            fp.extend(unhex(c));
            fp
        })
        .collect()
}

/// A point on the G1 curve (x = 4) outside the prime-order subgroup, EIP-2537.
const G1_NOT_IN_SUBGROUP: &str = "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000004000000000000000000000000000000000a989badd40d6212b33cffc3f3763e9bc760f988c9926b26da9dd85e928483446346b8ed00e1de5d5ea93e354abe706c";
/// A point on the G2 curve (x = 2) outside the prime-order subgroup, EIP-2537.
const G2_NOT_IN_SUBGROUP: &str = "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000013a59858b6809fca4d9a3b6539246a70051a3c88899964a42bc9a69cf9acdd9dd387cfa9086b894185b9a46a402be730000000000000000000000000000000002d27e0ec3356299a346a09ad7dc4ef68a483c3aed53f9139d2f929a3eecebf72082e5e58c6da24ee32e03040c406d4f";
/// The base field modulus p (48 bytes, big-endian).
const P: &str = "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab";
/// The group order r (32 bytes, big-endian).
const R: &str = "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001";

// ---------------------------------------------------------------- RFC 9380 J.10.1

#[test]
fn hash_to_g2_matches_rfc9380_vectors() {
    const DST: &[u8] = b"QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_";
    let q128 = format!("q128_{}", "q".repeat(128));
    let a512 = format!("a512_{}", "a".repeat(512));
    let cases: [(&[u8], [&str; 4]); 5] = [
        (
            b"",
            [
                "0141ebfbdca40eb85b87142e130ab689c673cf60f1a3e98d69335266f30d9b8d4ac44c1038e9dcdd5393faf5c41fb78a",
                "05cb8437535e20ecffaef7752baddf98034139c38452458baeefab379ba13dff5bf5dd71b72418717047f5b0f37da03d",
                "0503921d7f6a12805e72940b963c0cf3471c7b2a524950ca195d11062ee75ec076daf2d4bc358c4b190c0c98064fdd92",
                "12424ac32561493f3fe3c260708a12b7c620e7be00099a974e259ddc7d1f6395c3c811cdd19f1e8dbf3e9ecfdcbab8d6",
            ],
        ),
        (
            b"abc",
            [
                "02c2d18e033b960562aae3cab37a27ce00d80ccd5ba4b7fe0e7a210245129dbec7780ccc7954725f4168aff2787776e6",
                "139cddbccdc5e91b9623efd38c49f81a6f83f175e80b06fc374de9eb4b41dfe4ca3a230ed250fbe3a2acf73a41177fd8",
                "1787327b68159716a37440985269cf584bcb1e621d3a7202be6ea05c4cfe244aeb197642555a0645fb87bf7466b2ba48",
                "00aa65dae3c8d732d10ecd2c50f8a1baf3001578f71c694e03866e9f3d49ac1e1ce70dd94a733534f106d4cec0eddd16",
            ],
        ),
        (
            b"abcdef0123456789",
            [
                "121982811d2491fde9ba7ed31ef9ca474f0e1501297f68c298e9f4c0028add35aea8bb83d53c08cfc007c1e005723cd0",
                "190d119345b94fbd15497bcba94ecf7db2cbfd1e1fe7da034d26cbba169fb3968288b3fafb265f9ebd380512a71c3f2c",
                "05571a0f8d3c08d094576981f4a3b8eda0a8e771fcdcc8ecceaf1356a6acf17574518acb506e435b639353c2e14827c8",
                "0bb5e7572275c567462d91807de765611490205a941a5a6af3b1691bfe596c31225d3aabdf15faff860cb4ef17c7c3be",
            ],
        ),
        (
            q128.as_bytes(),
            [
                "19a84dd7248a1066f737cc34502ee5555bd3c19f2ecdb3c7d9e24dc65d4e25e50d83f0f77105e955d78f4762d33c17da",
                "0934aba516a52d8ae479939a91998299c76d39cc0c035cd18813bec433f587e2d7a4fef038260eef0cef4d02aae3eb91",
                "14f81cd421617428bc3b9fe25afbb751d934a00493524bc4e065635b0555084dd54679df1536101b2c979c0152d09192",
                "09bcccfa036b4847c9950780733633f13619994394c23ff0b32fa6b795844f4a0673e20282d07bc69641cee04f5e5662",
            ],
        ),
        (
            a512.as_bytes(),
            [
                "01a6ba2f9a11fa5598b2d8ace0fbe0a0eacb65deceb476fbbcb64fd24557c2f4b18ecfc5663e54ae16a84f5ab7f62534",
                "11fca2ff525572795a801eed17eb12785887c7b63fb77a42be46ce4a34131d71f7a73e95fee3f812aea3de78b4d01569",
                "0b6798718c8aed24bc19cb27f866f1c9effcdbf92397ad6448b5c9db90d2b9da6cbabf48adc1adf59a1a28344e79d57e",
                "03a47f8e6d1763ba0cad63d6114c0accbef65707825a511b251a660a9b3994249ae4e63fac38b23da0c398689ee2ab52",
            ],
        ),
    ];
    for (msg, coords) in cases {
        assert_eq!(
            bls::hash_to_g2(msg, DST).to_vec(),
            g2_eip(coords),
            "P({})",
            String::from_utf8_lossy(&msg[..msg.len().min(8)])
        );
    }
}

#[test]
fn signature_is_secret_key_times_hashed_message() {
    // Ties `hash_to_g2` to what `sign` hashes: sk = 1 signs H(m) itself.
    let mut one = [0u8; 32];
    one[31] = 1;
    let sk = SecretKey::from_bytes(&one).expect("1 is a valid scalar");
    let sig = sk.sign(b"floe");
    assert_eq!(
        sig.to_eip2537().to_vec(),
        bls::hash_to_g2(b"floe", bls::DST).to_vec()
    );
}

// ---------------------------------------------------------------- secret keys

#[test]
fn secret_key_is_deterministic_and_round_trips() {
    let a = sk(7);
    assert_eq!(a.to_bytes(), sk(7).to_bytes());
    assert_ne!(a.to_bytes(), sk(8).to_bytes());
    let b = SecretKey::from_bytes(&a.to_bytes()).expect("round trip");
    assert_eq!(a.public_key(), b.public_key());
    let hex = a.to_hex();
    assert!(hex.starts_with("0x") && hex.len() == 66);
    for s in [
        hex.clone(),
        hex[2..].to_string(),
        format!("  {hex}\n"),
        hex.to_uppercase().replace("0X", "0x"),
    ] {
        assert_eq!(
            SecretKey::from_hex(&s).expect("parses").to_bytes(),
            a.to_bytes()
        );
    }
}

#[test]
fn secret_key_rejects_bad_input() {
    assert_eq!(
        SecretKey::from_bytes(&[0u8; 32]).err(),
        Some(BlsError::InvalidSecretKey)
    );
    assert_eq!(
        SecretKey::from_bytes(&unhex(R)).err(),
        Some(BlsError::InvalidSecretKey)
    );
    assert_eq!(
        SecretKey::from_bytes(&[0xff; 32]).err(),
        Some(BlsError::InvalidSecretKey)
    );
    assert_eq!(
        SecretKey::from_bytes(&[1u8; 31]).err(),
        Some(BlsError::WrongLength {
            what: "secret key",
            expected: 32,
            got: 31
        })
    );
    assert_eq!(
        SecretKey::from_hex(&"zz".repeat(32)).err(),
        Some(BlsError::InvalidHex {
            what: "secret key",
            expected: 32
        })
    );
    assert!(matches!(
        SecretKey::from_hex("0x1234"),
        Err(BlsError::WrongLength { .. })
    ));
}

#[test]
fn secret_key_debug_is_redacted() {
    let a = sk(1);
    let debug = format!("{a:?}");
    assert!(!debug.contains(&hex::encode(a.to_bytes())), "{debug}");
    assert!(debug.contains("redacted"));
}

// ---------------------------------------------------------------- public keys

#[test]
fn public_key_encodings_round_trip() {
    let pk = sk(3).public_key();
    assert_eq!(PublicKey::from_bytes(&pk.to_bytes()), Ok(pk));
    assert_eq!(PublicKey::from_eip2537(&pk.to_eip2537()), Ok(pk));
    assert_eq!(PublicKey::from_hex(&pk.to_hex()), Ok(pk));
    assert_eq!(pk.to_string(), pk.to_hex());
    let eip = pk.to_eip2537();
    assert!(eip[..16].iter().all(|b| *b == 0) && eip[64..80].iter().all(|b| *b == 0));
    // The compressed form carries x: the same bytes as the EIP-2537 x coordinate, flags aside.
    let mut x = pk.to_bytes();
    x[0] &= 0x1f;
    assert_eq!(&eip[16..64], &x[..]);
}

#[test]
fn public_key_rejects_malformed_bytes() {
    let pk = sk(3).public_key();
    let eip = pk.to_eip2537();
    // Wrong lengths.
    assert_eq!(
        PublicKey::from_bytes(&eip).err(),
        Some(BlsError::WrongLength {
            what: "public key",
            expected: 48,
            got: 128
        })
    );
    assert_eq!(
        PublicKey::from_eip2537(&pk.to_bytes()).err(),
        Some(BlsError::WrongLength {
            what: "public key",
            expected: 128,
            got: 48
        })
    );
    // The identity, in both encodings.
    assert_eq!(
        PublicKey::from_eip2537(&[0u8; 128]).err(),
        Some(BlsError::Infinity { what: "public key" })
    );
    let mut inf = [0u8; 48];
    inf[0] = 0xc0;
    assert_eq!(
        PublicKey::from_bytes(&inf).err(),
        Some(BlsError::Infinity { what: "public key" })
    );
    // Non-zero padding.
    let mut padded = eip;
    padded[3] = 1;
    assert!(matches!(
        PublicKey::from_eip2537(&padded),
        Err(BlsError::BadEncoding { .. })
    ));
    // Off the curve.
    let mut off = eip;
    off[127] ^= 1;
    assert_eq!(
        PublicKey::from_eip2537(&off).err(),
        Some(BlsError::NotOnCurve { what: "public key" })
    );
    // On the curve, outside the subgroup.
    assert_eq!(
        PublicKey::from_eip2537(&unhex(G1_NOT_IN_SUBGROUP)).err(),
        Some(BlsError::NotInSubgroup { what: "public key" })
    );
    // A coordinate equal to p.
    let mut big = eip;
    big[16..64].copy_from_slice(&unhex(P));
    assert!(matches!(
        PublicKey::from_eip2537(&big),
        Err(BlsError::BadEncoding { .. })
    ));
    // Compressed bytes without the compression flag.
    let mut unflagged = pk.to_bytes();
    unflagged[0] &= 0x7f;
    assert!(matches!(
        PublicKey::from_bytes(&unflagged),
        Err(BlsError::BadEncoding { .. })
    ));
}

// ---------------------------------------------------------------- signatures

#[test]
fn signature_encodings_round_trip() {
    let sig = sk(4).sign(b"m");
    assert_eq!(Signature::from_bytes(&sig.to_bytes()), Ok(sig));
    assert_eq!(Signature::from_eip2537(&sig.to_eip2537()), Ok(sig));
    assert_eq!(Signature::from_hex(&sig.to_hex()), Ok(sig));
    // Compressed G2 carries x.c1 then x.c0; EIP-2537 puts c0 first.
    let eip = sig.to_eip2537();
    let mut comp = sig.to_bytes();
    comp[0] &= 0x1f;
    assert_eq!(&eip[16..64], &comp[48..96], "x.c0");
    assert_eq!(&eip[80..128], &comp[..48], "x.c1");
}

#[test]
fn signature_rejects_malformed_bytes() {
    let sig = sk(4).sign(b"m");
    let eip = sig.to_eip2537();
    assert_eq!(
        Signature::from_bytes(&eip[..95]).err(),
        Some(BlsError::WrongLength {
            what: "signature",
            expected: 96,
            got: 95
        })
    );
    assert_eq!(
        Signature::from_eip2537(&[0u8; 256]).err(),
        Some(BlsError::Infinity { what: "signature" })
    );
    let mut inf = [0u8; 96];
    inf[0] = 0xc0;
    assert_eq!(
        Signature::from_bytes(&inf).err(),
        Some(BlsError::Infinity { what: "signature" })
    );
    let mut padded = eip;
    padded[64 + 5] = 9;
    assert!(matches!(
        Signature::from_eip2537(&padded),
        Err(BlsError::BadEncoding { .. })
    ));
    let mut off = eip;
    off[255] ^= 1;
    assert_eq!(
        Signature::from_eip2537(&off).err(),
        Some(BlsError::NotOnCurve { what: "signature" })
    );
    assert_eq!(
        Signature::from_eip2537(&unhex(G2_NOT_IN_SUBGROUP)).err(),
        Some(BlsError::NotInSubgroup { what: "signature" })
    );
}

#[test]
fn verify_rejects_wrong_key_message_and_dst() {
    let a = sk(1);
    let sig = a.sign(b"message");
    assert_eq!(sig.verify(&a.public_key(), b"message"), Ok(()));
    assert_eq!(
        sig.verify(&sk(2).public_key(), b"message"),
        Err(BlsError::InvalidSignature)
    );
    assert_eq!(
        sig.verify(&a.public_key(), b"messagf"),
        Err(BlsError::InvalidSignature)
    );
    assert_eq!(
        sig.verify(&a.public_key(), b""),
        Err(BlsError::InvalidSignature)
    );
    // The same key signing under another DST (here: the RFC's test DST) does not verify.
    let other = blst::min_pk::SecretKey::from_bytes(&a.to_bytes())
        .expect("valid scalar")
        .sign(
            b"message",
            b"QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_",
            &[],
        );
    let other = Signature::from_bytes(&other.compress()).expect("valid point");
    assert_eq!(
        other.verify(&a.public_key(), b"message"),
        Err(BlsError::InvalidSignature)
    );
}

// ---------------------------------------------------------------- aggregation

#[test]
fn aggregate_signatures_verify_under_aggregate_key() {
    let keys: Vec<SecretKey> = (1..=10).map(sk).collect();
    let msg = messages::invalid_message(31337, [1; 20], 4, [2; 32]);
    let sigs: Vec<Signature> = keys.iter().map(|k| k.sign(&msg)).collect();
    let pks: Vec<PublicKey> = keys.iter().map(SecretKey::public_key).collect();
    let agg_sig = Signature::aggregate(&sigs).expect("non-empty");
    let agg_pk = PublicKey::aggregate(&pks).expect("non-empty");
    assert_eq!(agg_sig.verify(&agg_pk, &msg), Ok(()));
    // A missing signer breaks it.
    let partial = Signature::aggregate(&sigs[1..]).expect("non-empty");
    assert_eq!(
        partial.verify(&agg_pk, &msg),
        Err(BlsError::InvalidSignature)
    );
    assert_eq!(
        partial.verify(&PublicKey::aggregate(&pks[1..]).expect("non-empty"), &msg),
        Ok(())
    );
    // Aggregation is order-independent.
    let mut rev = pks.clone();
    rev.reverse();
    assert_eq!(PublicKey::aggregate(&rev), Ok(agg_pk));
    // One element aggregates to itself.
    assert_eq!(PublicKey::aggregate(&pks[..1]), Ok(pks[0]));
    assert_eq!(Signature::aggregate(&sigs[..1]), Ok(sigs[0]));
}

#[test]
fn aggregate_of_nothing_is_an_error() {
    assert_eq!(
        PublicKey::aggregate(&[]).err(),
        Some(BlsError::EmptyAggregate {
            what: "public keys"
        })
    );
    assert_eq!(
        Signature::aggregate(&[]).err(),
        Some(BlsError::EmptyAggregate { what: "signatures" })
    );
}

#[test]
fn aggregate_to_identity_is_an_error() {
    // sk and r - sk have opposite public keys.
    let a = sk(9);
    let r = unhex(R);
    let mut neg = [0u8; 32];
    let mut borrow = 0i16;
    let a_bytes = a.to_bytes();
    for i in (0..32).rev() {
        let d = i16::from(r[i]) - i16::from(a_bytes[i]) - borrow;
        borrow = i16::from(d < 0);
        neg[i] = d.rem_euclid(256) as u8;
    }
    let b = SecretKey::from_bytes(&neg).expect("r - sk is a valid scalar");
    assert_eq!(
        PublicKey::aggregate(&[a.public_key(), b.public_key()]).err(),
        Some(BlsError::Infinity {
            what: "aggregate public key"
        })
    );
    assert_eq!(
        Signature::aggregate(&[a.sign(b"m"), b.sign(b"m")]).err(),
        Some(BlsError::Infinity {
            what: "aggregate signature"
        })
    );
}

// ---------------------------------------------------------------- proofs of possession

#[test]
fn proof_of_possession_binds_chain_contract_operator_and_key() {
    let a = sk(5);
    let pk = a.public_key();
    let staking = [0xaa; 20];
    let op = [0x01; 20];
    let pop = bls::proof_of_possession(&a, 31337, staking, op);
    assert_eq!(
        bls::verify_proof_of_possession(&pk, &pop, 31337, staking, op),
        Ok(())
    );
    let bad = Err(BlsError::InvalidSignature);
    assert_eq!(
        bls::verify_proof_of_possession(&pk, &pop, 1, staking, op),
        bad
    );
    assert_eq!(
        bls::verify_proof_of_possession(&pk, &pop, 31337, [0xab; 20], op),
        bad
    );
    assert_eq!(
        bls::verify_proof_of_possession(&pk, &pop, 31337, staking, [0x02; 20]),
        bad
    );
    assert_eq!(
        bls::verify_proof_of_possession(&sk(6).public_key(), &pop, 31337, staking, op),
        bad
    );
    // It is a signature on the PoP message and nothing else.
    let msg = messages::pop_message(31337, staking, op, &pk.to_eip2537());
    assert_eq!(pop.verify(&pk, &msg), Ok(()));
    assert_eq!(pop, a.sign(&msg));
}

// ---------------------------------------------------------------- certificates

struct Committee {
    keys: Vec<SecretKey>,
    pks: Vec<PublicKey>,
    shards: Vec<u16>,
    n: u16,
}

/// 10 members holding 10 shards each (n = 100).
fn committee() -> Committee {
    let keys: Vec<SecretKey> = (0..10).map(|i| sk(100 + i)).collect();
    let pks = keys.iter().map(SecretKey::public_key).collect();
    Committee {
        keys,
        pks,
        shards: vec![10; 10],
        n: 100,
    }
}

fn certificate(c: &Committee, signers: &[usize], msg: &[u8]) -> Certificate {
    let mut b = CertificateBuilder::new(3, c.keys.len());
    for &i in signers {
        b.add(i, c.keys[i].sign(msg)).expect("fresh member");
    }
    b.finish().expect("has signers")
}

#[test]
fn certificate_round_trip_and_quorum_boundaries() {
    let c = committee();
    let msg = messages::certify_message(
        31337,
        [7; 20],
        3,
        &[messages::CertifyEntry {
            blob_id: [1; 32],
            registration_id: 1,
            deletable: true,
        }],
    );
    // 7 members = 70 shards >= 67: certify quorum.
    let cert = certificate(&c, &[0, 2, 3, 4, 6, 8, 9], &msg);
    assert_eq!(cert.epoch, 3);
    assert_eq!(cert.signers, vec![0b0101_1101, 0b11]);
    assert_eq!(cert.weight(&c.shards), Ok(70));
    assert_eq!(
        cert.signer_indices().collect::<Vec<_>>(),
        vec![0, 2, 3, 4, 6, 8, 9]
    );
    assert_eq!(
        cert.verify(&c.pks, &c.shards, c.n, &msg, Quorum::Certify),
        Ok(())
    );
    // 6 members = 60 shards: enough to invalidate, not to certify.
    let cert = certificate(&c, &[0, 1, 2, 3, 4, 5], &msg);
    assert_eq!(
        cert.verify(&c.pks, &c.shards, c.n, &msg, Quorum::Certify),
        Err(BlsError::QuorumNotReached {
            weight: 60,
            n: 100,
            quorum: Quorum::Certify,
            required: 67
        })
    );
    assert_eq!(
        cert.verify(&c.pks, &c.shards, c.n, &msg, Quorum::Invalidate),
        Ok(())
    );
    // 3 members = 30 shards: short of f+1 = 34.
    let cert = certificate(&c, &[7, 8, 9], &msg);
    assert_eq!(
        cert.verify(&c.pks, &c.shards, c.n, &msg, Quorum::Invalidate),
        Err(BlsError::QuorumNotReached {
            weight: 30,
            n: 100,
            quorum: Quorum::Invalidate,
            required: 34
        })
    );
}

#[test]
fn certificate_weight_uses_each_members_shards() {
    let mut c = committee();
    c.shards = vec![40, 27, 1, 1, 1, 6, 6, 6, 6, 6];
    let msg = b"weighted";
    // 40 + 27 = 67 shards out of 100 by two members.
    let cert = certificate(&c, &[0, 1], msg);
    assert_eq!(
        cert.verify(&c.pks, &c.shards, c.n, msg, Quorum::Certify),
        Ok(())
    );
    // 40 + 26 = 66 falls short.
    c.shards[1] = 26;
    assert!(matches!(
        cert.verify(&c.pks, &c.shards, c.n, msg, Quorum::Certify),
        Err(BlsError::QuorumNotReached { weight: 66, .. })
    ));
}

#[test]
fn certificate_rejects_wrong_message_and_forged_bitmap() {
    let c = committee();
    let msg = b"certify me";
    let cert = certificate(&c, &[0, 1, 2, 3, 4, 5, 6], msg);
    assert_eq!(
        cert.verify(&c.pks, &c.shards, c.n, b"something else", Quorum::Certify),
        Err(BlsError::InvalidSignature)
    );
    // Claiming an extra signer breaks the aggregate key.
    let mut forged = cert.clone();
    forged.signers[0] |= 1 << 7;
    assert_eq!(
        forged.verify(&c.pks, &c.shards, c.n, msg, Quorum::Certify),
        Err(BlsError::InvalidSignature)
    );
    // Dropping a signer too.
    let mut forged = cert.clone();
    forged.signers[0] &= !1;
    forged.signers[1] |= 0b11;
    assert_eq!(
        forged.verify(&c.pks, &c.shards, c.n, msg, Quorum::Certify),
        Err(BlsError::InvalidSignature)
    );
}

#[test]
fn certificate_rejects_malformed_bitmaps() {
    let c = committee();
    let msg = b"m";
    let cert = certificate(&c, &[0, 1, 2, 3, 4, 5, 6], msg);
    let mut long = cert.clone();
    long.signers.push(0);
    assert_eq!(
        long.verify(&c.pks, &c.shards, c.n, msg, Quorum::Certify),
        Err(BlsError::BitmapLength {
            expected: 2,
            got: 3
        })
    );
    let mut short = cert.clone();
    short.signers.pop();
    assert_eq!(
        short.weight(&c.shards),
        Err(BlsError::BitmapLength {
            expected: 2,
            got: 1
        })
    );
    let mut outside = cert.clone();
    outside.signers[1] |= 1 << 4;
    assert_eq!(
        outside.verify(&c.pks, &c.shards, c.n, msg, Quorum::Certify),
        Err(BlsError::SignerOutsideCommittee {
            index: 12,
            committee_size: 10
        })
    );
    let mut empty = cert.clone();
    empty.signers = vec![0, 0];
    assert_eq!(
        empty.verify(&c.pks, &c.shards, c.n, msg, Quorum::Certify),
        Err(BlsError::NoSigners)
    );
    assert_eq!(
        cert.verify(&c.pks[..9], &c.shards, c.n, msg, Quorum::Certify),
        Err(BlsError::CommitteeMismatch {
            keys: 9,
            shards: 10
        })
    );
}

#[test]
fn builder_rejects_bad_members_and_tracks_quorum() {
    let c = committee();
    let msg = b"m";
    let mut b = CertificateBuilder::new(1, 10);
    assert!(b.is_empty());
    assert_eq!(
        b.add(10, c.keys[0].sign(msg)),
        Err(BlsError::MemberOutOfRange {
            index: 10,
            committee_size: 10
        })
    );
    for i in 0..6 {
        b.add(i, c.keys[i].sign(msg)).expect("fresh member");
        assert!(b.contains(i));
    }
    assert_eq!(
        b.add(3, c.keys[3].sign(msg)),
        Err(BlsError::DuplicateSigner { index: 3 })
    );
    assert_eq!(b.len(), 6);
    assert_eq!(b.weight(&c.shards), 60);
    assert!(!b.has_quorum(&c.shards, c.n, Quorum::Certify));
    assert!(b.has_quorum(&c.shards, c.n, Quorum::Invalidate));
    b.add(9, c.keys[9].sign(msg)).expect("fresh member");
    assert!(b.has_quorum(&c.shards, c.n, Quorum::Certify));
    let cert = b.finish().expect("signers");
    assert_eq!(
        cert.verify(&c.pks, &c.shards, c.n, msg, Quorum::Certify),
        Ok(())
    );
    assert_eq!(
        CertificateBuilder::new(1, 10).finish().err(),
        Some(BlsError::NoSigners)
    );
}

#[test]
fn bitmap_sizes() {
    assert_eq!(bls::bitmap_len(0), 0);
    assert_eq!(bls::bitmap_len(1), 1);
    assert_eq!(bls::bitmap_len(8), 1);
    assert_eq!(bls::bitmap_len(9), 2);
    assert_eq!(bls::bitmap_len(100), 13);
    assert_eq!(CertificateBuilder::new(0, 100).weight(&[1; 100]), 0);
}

// ---------------------------------------------------------------- serde

#[test]
fn serde_json_round_trips_as_hex() {
    let c = committee();
    let cert = certificate(&c, &[0, 1, 2, 3, 4, 5, 6], b"m");
    let json = serde_json::to_string(&cert).expect("serializes");
    assert!(json.contains("\"signers\":\"0x7f00\""), "{json}");
    assert!(
        json.contains(&format!("\"signature\":\"{}\"", cert.signature.to_hex())),
        "{json}"
    );
    let back: Certificate = serde_json::from_str(&json).expect("parses");
    assert_eq!(back, cert);

    let pk = c.pks[0];
    let json = serde_json::to_string(&pk).expect("serializes");
    assert_eq!(json, format!("\"{}\"", pk.to_hex()));
    assert_eq!(
        serde_json::from_str::<PublicKey>(&json).expect("parses"),
        pk
    );

    assert!(serde_json::from_str::<PublicKey>("\"0x1234\"").is_err());
    assert!(serde_json::from_str::<Signature>(&format!("\"0x{}\"", "00".repeat(96))).is_err());
    let bad = json.replace(&pk.to_hex()[2..6], "ffff");
    assert!(serde_json::from_str::<PublicKey>(&bad).is_err());
}

// ---------------------------------------------------------------- never panic on input

proptest! {
    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = PublicKey::from_bytes(&bytes);
        let _ = PublicKey::from_eip2537(&bytes);
        let _ = Signature::from_bytes(&bytes);
        let _ = Signature::from_eip2537(&bytes);
        let _ = SecretKey::from_bytes(&bytes);
        let _ = SecretKey::from_hex(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn decoders_never_panic_on_right_lengths(
        pk48 in proptest::array::uniform32(any::<u8>()),
        flag in any::<u8>(),
        tail in proptest::collection::vec(any::<u8>(), 256),
    ) {
        let mut b = tail.clone();
        b[0] = flag;
        b[1..33].copy_from_slice(&pk48);
        let _ = PublicKey::from_bytes(&b[..48]);
        let _ = Signature::from_bytes(&b[..96]);
        // EIP-2537 with zero padding, random coordinates.
        let mut eip = tail;
        for fp in 0..4 {
            eip[fp * 64..fp * 64 + 16].fill(0);
        }
        let _ = PublicKey::from_eip2537(&eip[..128]);
        let _ = Signature::from_eip2537(&eip);
    }

    #[test]
    fn keys_round_trip(seed in proptest::array::uniform32(any::<u8>()), msg in proptest::collection::vec(any::<u8>(), 0..100)) {
        let k = SecretKey::from_seed(&seed);
        let pk = k.public_key();
        prop_assert_eq!(PublicKey::from_eip2537(&pk.to_eip2537()), Ok(pk));
        let sig = k.sign(&msg);
        prop_assert_eq!(Signature::from_eip2537(&sig.to_eip2537()), Ok(sig));
        prop_assert_eq!(sig.verify(&pk, &msg), Ok(()));
    }

    #[test]
    fn quorum_is_monotone(n in 1u16..2000, w in 0u64..2000) {
        for q in [Quorum::Certify, Quorum::Invalidate] {
            prop_assert_eq!(q.is_met(w, n), w >= q.required(n));
        }
        prop_assert!(!Quorum::Certify.is_met(w, n) || Quorum::Invalidate.is_met(w, n));
        prop_assert!(Quorum::Certify.is_met(u64::MAX - w, n));
    }
}
