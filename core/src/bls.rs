//! BLS12-381 min-pk signatures (keys in G1, signatures in G2) with `blst`.
//!
//! Bird's-eye view:
//! - [`SecretKey`], [`PublicKey`], [`Signature`]: keys derived deterministically from 32 bytes
//!   of key material (no randomness here: core does no I/O), signing under floe's [`DST`],
//!   verification, aggregation. A [`PublicKey`] or [`Signature`] value is always a valid point
//!   of the prime-order subgroup and never the identity: every constructor checks.
//! - Encodings: compressed (48 / 96 bytes, zcash flags, what nodes exchange and serde writes as
//!   `0x` hex) and EIP-2537 (128 / 256 bytes, what the contracts take: each Fp is 16 zero
//!   bytes and 48 big-endian bytes, an Fp2 is `c0 ‖ c1`, the identity is all zeros).
//! - [`proof_of_possession`]: the registration proof the staking contract checks.
//! - [`Certificate`] and [`CertificateBuilder`]: an aggregate signature with a bitmap of its
//!   signers over an epoch's committee (bit `i % 8` of byte `i / 8` = member `i`), weighed by
//!   the signers' shards against a [`Quorum`].
//! - [`hash_to_g2`]: RFC 9380 `BLS12381G2_XMD:SHA-256_SSWU_RO_`, for cross-checks with the contracts.

use std::fmt;

use blst::{BLST_ERROR, min_pk};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::messages;

/// Domain separation tag of every floe signature (hash to G2 per RFC 9380).
pub const DST: &[u8] = b"FLOE-V01-CS01-with-BLS12381G2_XMD:SHA-256_SSWU_RO_";

/// Length of a secret key (big-endian scalar).
pub const SECRET_KEY_LEN: usize = 32;
/// Length of a compressed public key (G1).
pub const PUBLIC_KEY_LEN: usize = 48;
/// Length of a compressed signature (G2).
pub const SIGNATURE_LEN: usize = 96;
/// Length of a public key in the EIP-2537 encoding.
pub const PUBLIC_KEY_EIP2537_LEN: usize = 128;
/// Length of a signature in the EIP-2537 encoding.
pub const SIGNATURE_EIP2537_LEN: usize = 256;

/// Everything that can go wrong with keys, signatures and certificates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlsError {
    /// The input has the wrong length for what it encodes.
    #[error(
        "{what} must be {expected} bytes, got {got}: check which encoding was sent (compressed or EIP-2537)"
    )]
    WrongLength {
        /// What was being decoded.
        what: &'static str,
        /// The required length.
        expected: usize,
        /// The length received.
        got: usize,
    },
    /// The input is not hex.
    #[error(
        "{what} is not valid hex: expected {expected} bytes as hex digits, optionally prefixed by 0x"
    )]
    InvalidHex {
        /// What was being decoded.
        what: &'static str,
        /// The number of bytes expected.
        expected: usize,
    },
    /// The bytes are not a canonical encoding (flag bits, a coordinate not below p, non-zero
    /// EIP-2537 padding).
    #[error("{what} is not a canonical encoding: {reason}")]
    BadEncoding {
        /// What was being decoded.
        what: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The coordinates are not a point of the curve.
    #[error("{what} is not a point on the BLS12-381 curve: the bytes are corrupt or not a {what}")]
    NotOnCurve {
        /// What was being decoded.
        what: &'static str,
    },
    /// The point is on the curve but outside the prime-order subgroup.
    #[error(
        "{what} is not in the prime-order subgroup: reject it, it cannot come from an honest signer"
    )]
    NotInSubgroup {
        /// What was being decoded.
        what: &'static str,
    },
    /// The point is the identity, which is never a valid key or signature.
    #[error("{what} is the point at infinity, which is never a valid key or signature")]
    Infinity {
        /// What was being decoded or computed.
        what: &'static str,
    },
    /// The secret key is zero or not below the group order.
    #[error("secret key is zero or not below the group order: regenerate the key file")]
    InvalidSecretKey,
    /// The signature does not verify.
    #[error(
        "signature does not verify for this public key and message: check the key, the message bytes (chain id, contract, epoch, intent) and the DST"
    )]
    InvalidSignature,
    /// Nothing to aggregate.
    #[error("cannot aggregate an empty list of {what}")]
    EmptyAggregate {
        /// What was being aggregated.
        what: &'static str,
    },
    /// A signer index outside the committee.
    #[error("member index {index} is outside the committee of {committee_size} members")]
    MemberOutOfRange {
        /// The index given.
        index: usize,
        /// The committee's size.
        committee_size: usize,
    },
    /// The same member signed twice.
    #[error("member {index} already signed: add each member's signature once")]
    DuplicateSigner {
        /// The index given twice.
        index: usize,
    },
    /// A certificate without any signer.
    #[error("certificate has no signers: collect signatures before finishing it")]
    NoSigners,
    /// The signer bitmap's length does not match the committee.
    #[error("signer bitmap must be {expected} bytes for this committee, got {got}")]
    BitmapLength {
        /// `ceil(committee size / 8)`.
        expected: usize,
        /// The length received.
        got: usize,
    },
    /// The bitmap names a member beyond the committee's size.
    #[error(
        "signer bitmap names member {index}, outside the committee of {committee_size} members"
    )]
    SignerOutsideCommittee {
        /// The first out-of-range bit.
        index: usize,
        /// The committee's size.
        committee_size: usize,
    },
    /// The committee's keys and shard counts differ in length.
    #[error("committee has {keys} keys but {shards} shard counts: pass both for the same epoch")]
    CommitteeMismatch {
        /// Number of keys.
        keys: usize,
        /// Number of shard counts.
        shards: usize,
    },
    /// The signers hold too few shards.
    #[error(
        "signers hold {weight} of {n} shards, short of the {quorum:?} quorum ({required} needed): collect more signatures"
    )]
    QuorumNotReached {
        /// The signers' shards.
        weight: u64,
        /// Total shards.
        n: u16,
        /// The quorum asked for.
        quorum: Quorum,
        /// The least weight meeting it.
        required: u64,
    },
}

fn map_blst(err: BLST_ERROR, what: &'static str) -> BlsError {
    match err {
        BLST_ERROR::BLST_POINT_NOT_ON_CURVE => BlsError::NotOnCurve { what },
        BLST_ERROR::BLST_POINT_NOT_IN_GROUP => BlsError::NotInSubgroup { what },
        BLST_ERROR::BLST_PK_IS_INFINITY => BlsError::Infinity { what },
        BLST_ERROR::BLST_BAD_ENCODING => BlsError::BadEncoding {
            what,
            reason: "bad flag bits or a coordinate not below p",
        },
        _ => BlsError::BadEncoding {
            what,
            reason: "rejected by blst",
        },
    }
}

fn check_len(bytes: &[u8], expected: usize, what: &'static str) -> Result<(), BlsError> {
    if bytes.len() == expected {
        Ok(())
    } else {
        Err(BlsError::WrongLength {
            what,
            expected,
            got: bytes.len(),
        })
    }
}

fn decode_hex<const N: usize>(s: &str, what: &'static str) -> Result<[u8; N], BlsError> {
    let s = s.trim();
    let digits = s.strip_prefix("0x").unwrap_or(s);
    if digits.len() != 2 * N {
        return Err(BlsError::WrongLength {
            what,
            expected: N,
            got: digits.len() / 2,
        });
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(digits, &mut out)
        .map_err(|_| BlsError::InvalidHex { what, expected: N })?;
    Ok(out)
}

/// Converts `n` big-endian field elements of 48 bytes into the EIP-2537 layout (64 bytes each).
fn pad_fps<const IN: usize, const OUT: usize>(fps: &[u8; IN], order: &[usize]) -> [u8; OUT] {
    let mut out = [0u8; OUT];
    for (slot, &src) in order.iter().enumerate() {
        out[slot * 64 + 16..slot * 64 + 64].copy_from_slice(&fps[src * 48..src * 48 + 48]);
    }
    out
}

/// Inverse of [`pad_fps`]: checks the 16 zero bytes of each EIP-2537 field element.
fn unpad_fps<const IN: usize, const OUT: usize>(
    eip: &[u8],
    order: &[usize],
    what: &'static str,
) -> Result<[u8; OUT], BlsError> {
    check_len(eip, IN, what)?;
    if eip.iter().all(|b| *b == 0) {
        return Err(BlsError::Infinity { what });
    }
    let mut out = [0u8; OUT];
    for (slot, &dst) in order.iter().enumerate() {
        let fp = &eip[slot * 64..slot * 64 + 64];
        if fp[..16].iter().any(|b| *b != 0) {
            return Err(BlsError::BadEncoding {
                what,
                reason: "the 16 padding bytes of a field element are not zero",
            });
        }
        out[dst * 48..dst * 48 + 48].copy_from_slice(&fp[16..]);
    }
    Ok(out)
}

/// blst serializes G1 as `x ‖ y`, EIP-2537 too (with padding).
const G1_ORDER: [usize; 2] = [0, 1];
/// blst (zcash) serializes G2 as `x.c1 ‖ x.c0 ‖ y.c1 ‖ y.c0`; EIP-2537 as `x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1`.
const G2_ORDER: [usize; 4] = [1, 0, 3, 2];

/// Converts blst's uncompressed G2 serialization (192 bytes) into EIP-2537 (256 bytes).
fn g2_blst_to_eip2537(ser: &[u8; 192]) -> [u8; SIGNATURE_EIP2537_LEN] {
    if ser[0] & 0x40 != 0 {
        return [0u8; SIGNATURE_EIP2537_LEN];
    }
    pad_fps::<192, 256>(ser, &G2_ORDER)
}

/// A BLS12-381 secret key (a scalar below the group order). Its `Debug` output is redacted.
#[derive(Clone)]
pub struct SecretKey(min_pk::SecretKey);

impl SecretKey {
    /// Derives a key from 32 bytes of key material (IETF `KeyGen`, no key info). Key files
    /// and tests seed it; production keys seed it from the OS's randomness outside core.
    pub fn from_seed(ikm: &[u8; 32]) -> Self {
        match min_pk::SecretKey::key_gen(ikm, &[]) {
            Ok(sk) => Self(sk),
            // blst only refuses key material shorter than 32 bytes.
            Err(err) => unreachable!("blst key_gen refused 32 bytes of key material: {err:?}"),
        }
    }

    /// The 32-byte big-endian scalar.
    pub fn to_bytes(&self) -> [u8; SECRET_KEY_LEN] {
        self.0.to_bytes()
    }

    /// Parses a 32-byte big-endian scalar (non-zero, below the group order).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        check_len(bytes, SECRET_KEY_LEN, "secret key")?;
        min_pk::SecretKey::from_bytes(bytes)
            .map(Self)
            .map_err(|_| BlsError::InvalidSecretKey)
    }

    /// `0x` and 64 hex digits, the key file format.
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.to_bytes()))
    }

    /// Parses [`SecretKey::to_hex`]'s format (the `0x` prefix and surrounding whitespace are optional).
    pub fn from_hex(s: &str) -> Result<Self, BlsError> {
        Self::from_bytes(&decode_hex::<SECRET_KEY_LEN>(s, "secret key")?)
    }

    /// The public key (G1).
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.sk_to_pk())
    }

    /// Signs `msg` under floe's [`DST`].
    pub fn sign(&self, msg: &[u8]) -> Signature {
        Signature(self.0.sign(msg, DST, &[]))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(<redacted>, public key {})", self.public_key())
    }
}

/// A public key: a point of G1's prime-order subgroup, never the identity.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(min_pk::PublicKey);

impl PublicKey {
    /// The compressed encoding (48 bytes).
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.0.compress()
    }

    /// Parses a compressed public key, checking that it is on the curve, in the subgroup and
    /// not the identity.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        const WHAT: &str = "public key";
        check_len(bytes, PUBLIC_KEY_LEN, WHAT)?;
        let pk = min_pk::PublicKey::uncompress(bytes).map_err(|e| map_blst(e, WHAT))?;
        pk.validate().map_err(|e| map_blst(e, WHAT))?;
        Ok(Self(pk))
    }

    /// The EIP-2537 encoding the contracts take (128 bytes: `x ‖ y`, each 16 zero bytes + 48).
    pub fn to_eip2537(&self) -> [u8; PUBLIC_KEY_EIP2537_LEN] {
        pad_fps::<96, 128>(&self.0.serialize(), &G1_ORDER)
    }

    /// Parses the EIP-2537 encoding, with the same checks as [`PublicKey::from_bytes`].
    pub fn from_eip2537(bytes: &[u8]) -> Result<Self, BlsError> {
        const WHAT: &str = "public key";
        let ser = unpad_fps::<128, 96>(bytes, &G1_ORDER, WHAT)?;
        if ser[0] & 0xe0 != 0 {
            return Err(BlsError::BadEncoding {
                what: WHAT,
                reason: "a coordinate is not below p",
            });
        }
        let pk = min_pk::PublicKey::deserialize(&ser).map_err(|e| map_blst(e, WHAT))?;
        pk.validate().map_err(|e| map_blst(e, WHAT))?;
        Ok(Self(pk))
    }

    /// `0x` and the compressed key in hex.
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.to_bytes()))
    }

    /// Parses [`PublicKey::to_hex`]'s format (`0x` optional).
    pub fn from_hex(s: &str) -> Result<Self, BlsError> {
        Self::from_bytes(&decode_hex::<PUBLIC_KEY_LEN>(s, "public key")?)
    }

    /// The sum of `keys` (the key that verifies the aggregate of their signatures on one message).
    /// Safe against rogue keys only for keys with a checked proof of possession.
    pub fn aggregate(keys: &[PublicKey]) -> Result<PublicKey, BlsError> {
        let refs: Vec<&min_pk::PublicKey> = keys.iter().map(|k| &k.0).collect();
        if refs.is_empty() {
            return Err(BlsError::EmptyAggregate {
                what: "public keys",
            });
        }
        let agg = min_pk::AggregatePublicKey::aggregate(&refs, false)
            .map_err(|e| map_blst(e, "aggregate public key"))?
            .to_public_key();
        agg.validate()
            .map_err(|e| map_blst(e, "aggregate public key"))?;
        Ok(Self(agg))
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl std::hash::Hash for PublicKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.to_bytes().hash(state);
    }
}

/// A signature: a point of G2's prime-order subgroup, never the identity.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(min_pk::Signature);

impl Signature {
    /// The compressed encoding (96 bytes).
    pub fn to_bytes(&self) -> [u8; SIGNATURE_LEN] {
        self.0.compress()
    }

    /// Parses a compressed signature, checking that it is on the curve, in the subgroup and
    /// not the identity.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        const WHAT: &str = "signature";
        check_len(bytes, SIGNATURE_LEN, WHAT)?;
        let sig = min_pk::Signature::uncompress(bytes).map_err(|e| map_blst(e, WHAT))?;
        sig.validate(true).map_err(|e| map_blst(e, WHAT))?;
        Ok(Self(sig))
    }

    /// The EIP-2537 encoding the contracts take (256 bytes: `x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1`).
    pub fn to_eip2537(&self) -> [u8; SIGNATURE_EIP2537_LEN] {
        g2_blst_to_eip2537(&self.0.serialize())
    }

    /// Parses the EIP-2537 encoding, with the same checks as [`Signature::from_bytes`].
    pub fn from_eip2537(bytes: &[u8]) -> Result<Self, BlsError> {
        const WHAT: &str = "signature";
        let ser = unpad_fps::<256, 192>(bytes, &G2_ORDER, WHAT)?;
        if ser[0] & 0xe0 != 0 {
            return Err(BlsError::BadEncoding {
                what: WHAT,
                reason: "a coordinate is not below p",
            });
        }
        let sig = min_pk::Signature::deserialize(&ser).map_err(|e| map_blst(e, WHAT))?;
        sig.validate(true).map_err(|e| map_blst(e, WHAT))?;
        Ok(Self(sig))
    }

    /// `0x` and the compressed signature in hex.
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.to_bytes()))
    }

    /// Parses [`Signature::to_hex`]'s format (`0x` optional).
    pub fn from_hex(s: &str) -> Result<Self, BlsError> {
        Self::from_bytes(&decode_hex::<SIGNATURE_LEN>(s, "signature")?)
    }

    /// Checks the signature on `msg` under `key` and floe's [`DST`].
    pub fn verify(&self, key: &PublicKey, msg: &[u8]) -> Result<(), BlsError> {
        // Both points were checked (curve, subgroup, identity) when they were built.
        match self.0.verify(false, msg, DST, &[], &key.0, false) {
            BLST_ERROR::BLST_SUCCESS => Ok(()),
            _ => Err(BlsError::InvalidSignature),
        }
    }

    /// The sum of `signatures`; it verifies the common message under the sum of the keys.
    pub fn aggregate(signatures: &[Signature]) -> Result<Signature, BlsError> {
        let refs: Vec<&min_pk::Signature> = signatures.iter().map(|s| &s.0).collect();
        if refs.is_empty() {
            return Err(BlsError::EmptyAggregate { what: "signatures" });
        }
        let agg = min_pk::AggregateSignature::aggregate(&refs, false)
            .map_err(|e| map_blst(e, "aggregate signature"))?
            .to_signature();
        agg.validate(true)
            .map_err(|e| map_blst(e, "aggregate signature"))?;
        Ok(Self(agg))
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", self.to_hex())
    }
}

/// Hashes `msg` to G2 per RFC 9380 (`BLS12381G2_XMD:SHA-256_SSWU_RO_`) under `dst`; returns the
/// point in the EIP-2537 encoding, as the contracts' `BLS.hashToG2` does.
pub fn hash_to_g2(msg: &[u8], dst: &[u8]) -> [u8; SIGNATURE_EIP2537_LEN] {
    let mut point = blst::blst_p2::default();
    let mut affine = blst::blst_p2_affine::default();
    let mut ser = [0u8; 192];
    // SAFETY: every pointer is valid for the length passed with it; `aug` is empty (null, 0).
    unsafe {
        blst::blst_hash_to_g2(
            &mut point,
            msg.as_ptr(),
            msg.len(),
            dst.as_ptr(),
            dst.len(),
            std::ptr::null(),
            0,
        );
        blst::blst_p2_to_affine(&mut affine, &point);
        blst::blst_p2_affine_serialize(ser.as_mut_ptr(), &affine);
    }
    g2_blst_to_eip2537(&ser)
}

/// The proof of possession a node submits when it registers `sk`'s public key for `operator`
/// at the staking contract `staking` on chain `chain_id`: a signature on
/// [`messages::pop_message`].
pub fn proof_of_possession(
    sk: &SecretKey,
    chain_id: u64,
    staking: [u8; 20],
    operator: [u8; 20],
) -> Signature {
    let pk = sk.public_key().to_eip2537();
    sk.sign(&messages::pop_message(chain_id, staking, operator, &pk))
}

/// Checks a proof of possession made by [`proof_of_possession`].
pub fn verify_proof_of_possession(
    key: &PublicKey,
    proof: &Signature,
    chain_id: u64,
    staking: [u8; 20],
    operator: [u8; 20],
) -> Result<(), BlsError> {
    let msg = messages::pop_message(chain_id, staking, operator, &key.to_eip2537());
    proof.verify(key, &msg)
}

/// The quorum thresholds live in [`crate::protocol::quorum`], the one place they are computed.
pub use crate::protocol::quorum::Quorum;

/// Bytes in the signer bitmap of a committee of `committee_size` members: `ceil(size / 8)`.
pub fn bitmap_len(committee_size: usize) -> usize {
    committee_size.div_ceil(8)
}

/// A certificate: the aggregate signature of some of an epoch's committee on one message,
/// with a bitmap of the signers (bit `i % 8` of byte `i / 8` set = member `i` signed; exactly
/// `ceil(committee size / 8)` bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    /// The epoch whose committee signed.
    pub epoch: u32,
    /// The signer bitmap over the committee.
    #[serde(with = "hex_bytes")]
    pub signers: Vec<u8>,
    /// The aggregate signature.
    pub signature: Signature,
}

impl Certificate {
    /// True if member `index` is marked as a signer.
    pub fn is_signer(&self, index: usize) -> bool {
        self.signers
            .get(index / 8)
            .is_some_and(|b| b & (1 << (index % 8)) != 0)
    }

    /// The signers' member indices, ascending.
    pub fn signer_indices(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.signers.len() * 8).filter(|i| self.is_signer(*i))
    }

    /// Checks the bitmap's shape against a committee of `committee_size` members.
    fn check_bitmap(&self, committee_size: usize) -> Result<(), BlsError> {
        let expected = bitmap_len(committee_size);
        if self.signers.len() != expected {
            return Err(BlsError::BitmapLength {
                expected,
                got: self.signers.len(),
            });
        }
        if let Some(index) = self.signer_indices().find(|i| *i >= committee_size) {
            return Err(BlsError::SignerOutsideCommittee {
                index,
                committee_size,
            });
        }
        Ok(())
    }

    /// The shards the signers hold, given each member's shard count.
    pub fn weight(&self, shards: &[u16]) -> Result<u64, BlsError> {
        self.check_bitmap(shards.len())?;
        Ok(self.signer_indices().map(|i| u64::from(shards[i])).sum())
    }

    /// Checks the certificate for `msg` against the committee (`committee[i]` holds
    /// `shards[i]` of `n` shards): the bitmap's shape, the signers' weight against `quorum`,
    /// then the aggregate signature under the signers' aggregate key. The caller checks that
    /// `self.epoch` is the epoch it expects and that `msg` names it.
    pub fn verify(
        &self,
        committee: &[PublicKey],
        shards: &[u16],
        n: u16,
        msg: &[u8],
        quorum: Quorum,
    ) -> Result<(), BlsError> {
        if committee.len() != shards.len() {
            return Err(BlsError::CommitteeMismatch {
                keys: committee.len(),
                shards: shards.len(),
            });
        }
        let weight = self.weight(shards)?;
        let keys: Vec<PublicKey> = self.signer_indices().map(|i| committee[i]).collect();
        if keys.is_empty() {
            return Err(BlsError::NoSigners);
        }
        if !quorum.is_met(weight, n) {
            return Err(BlsError::QuorumNotReached {
                weight,
                n,
                quorum,
                required: quorum.required(n),
            });
        }
        self.signature.verify(&PublicKey::aggregate(&keys)?, msg)
    }
}

/// Collects committee members' signatures on one message into a [`Certificate`]. It does not
/// verify what it is given: check each signature with [`Signature::verify`] before adding it.
#[derive(Debug, Clone)]
pub struct CertificateBuilder {
    epoch: u32,
    committee_size: usize,
    signers: Vec<u8>,
    signatures: Vec<Signature>,
}

impl CertificateBuilder {
    /// An empty certificate for `epoch`'s committee of `committee_size` members.
    pub fn new(epoch: u32, committee_size: usize) -> Self {
        Self {
            epoch,
            committee_size,
            signers: vec![0u8; bitmap_len(committee_size)],
            signatures: Vec::new(),
        }
    }

    /// Adds member `member_index`'s signature.
    pub fn add(&mut self, member_index: usize, signature: Signature) -> Result<(), BlsError> {
        if member_index >= self.committee_size {
            return Err(BlsError::MemberOutOfRange {
                index: member_index,
                committee_size: self.committee_size,
            });
        }
        if self.contains(member_index) {
            return Err(BlsError::DuplicateSigner {
                index: member_index,
            });
        }
        self.signers[member_index / 8] |= 1 << (member_index % 8);
        self.signatures.push(signature);
        Ok(())
    }

    /// True if member `member_index` has signed.
    pub fn contains(&self, member_index: usize) -> bool {
        self.signers
            .get(member_index / 8)
            .is_some_and(|b| b & (1 << (member_index % 8)) != 0)
    }

    /// Number of signatures added.
    pub fn len(&self) -> usize {
        self.signatures.len()
    }

    /// True if nothing was added.
    pub fn is_empty(&self) -> bool {
        self.signatures.is_empty()
    }

    /// The shards held by the signers so far (`shards[i]` = member `i`'s shard count;
    /// members without an entry weigh nothing).
    pub fn weight(&self, shards: &[u16]) -> u64 {
        (0..self.committee_size.min(shards.len()))
            .filter(|i| self.contains(*i))
            .map(|i| u64::from(shards[i]))
            .sum()
    }

    /// True once the signers hold `quorum` of the `n` shards.
    pub fn has_quorum(&self, shards: &[u16], n: u16, quorum: Quorum) -> bool {
        quorum.is_met(self.weight(shards), n)
    }

    /// Aggregates the signatures into a certificate.
    pub fn finish(self) -> Result<Certificate, BlsError> {
        if self.signatures.is_empty() {
            return Err(BlsError::NoSigners);
        }
        Ok(Certificate {
            epoch: self.epoch,
            signers: self.signers,
            signature: Signature::aggregate(&self.signatures)?,
        })
    }
}

/// Serde for byte strings: `0x` hex in human-readable formats, raw bytes otherwise.
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], ser: S) -> Result<S::Ok, S::Error> {
        if ser.is_human_readable() {
            ser.serialize_str(&format!("0x{}", hex::encode(bytes)))
        } else {
            ser.serialize_bytes(bytes)
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Vec<u8>, D::Error> {
        if de.is_human_readable() {
            let s = String::deserialize(de)?;
            let digits = s.strip_prefix("0x").unwrap_or(&s);
            hex::decode(digits).map_err(|e| D::Error::custom(format!("invalid hex bytes: {e}")))
        } else {
            Vec::<u8>::deserialize(de)
        }
    }
}

macro_rules! point_serde {
    ($ty:ty, $len:expr) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
                if ser.is_human_readable() {
                    ser.serialize_str(&self.to_hex())
                } else {
                    ser.serialize_bytes(&self.to_bytes())
                }
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
                use serde::de::Error as _;
                if de.is_human_readable() {
                    let s = String::deserialize(de)?;
                    <$ty>::from_hex(&s).map_err(D::Error::custom)
                } else {
                    let bytes = Vec::<u8>::deserialize(de)?;
                    <$ty>::from_bytes(&bytes).map_err(D::Error::custom)
                }
            }
        }
    };
}

point_serde!(PublicKey, PUBLIC_KEY_LEN);
point_serde!(Signature, SIGNATURE_LEN);

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u8) -> SecretKey {
        SecretKey::from_seed(&[i; 32])
    }

    #[test]
    fn sign_verify_round_trip() {
        let sk = key(1);
        let sig = sk.sign(b"hello");
        assert_eq!(sig.verify(&sk.public_key(), b"hello"), Ok(()));
        assert_eq!(
            sig.verify(&sk.public_key(), b"hellp"),
            Err(BlsError::InvalidSignature)
        );
        assert_eq!(
            sig.verify(&key(2).public_key(), b"hello"),
            Err(BlsError::InvalidSignature)
        );
    }

    #[test]
    fn quorum_thresholds() {
        // n = 100: f = 33, 2f+1 = 67, f+1 = 34.
        assert_eq!(Quorum::Certify.required(100), 67);
        assert!(Quorum::Certify.is_met(67, 100));
        assert!(!Quorum::Certify.is_met(66, 100));
        assert_eq!(Quorum::Invalidate.required(100), 34);
        assert!(Quorum::Invalidate.is_met(34, 100));
        assert!(!Quorum::Invalidate.is_met(33, 100));
        for n in 1..=1000u16 {
            for q in [Quorum::Certify, Quorum::Invalidate] {
                let r = q.required(n);
                assert!(q.is_met(r, n) && !q.is_met(r - 1, n), "{q:?} n={n}");
            }
        }
    }
}
