//! The messages nodes sign, byte for byte what the contracts hash to G2.
//!
//! Every signed message is 65 bytes,
//! `abi.encodePacked(uint8 intent, uint64 chainId, address verifier, uint32 epoch, bytes32 body)`
//! (see `contracts/src/interfaces/IBlobRegistry.sol`), so a signature never replays across
//! chains, deployments, epochs or intents:
//!
//! | intent | verifier | epoch | body |
//! | --- | --- | --- | --- |
//! | 0 proof of possession | staking contract | 0 | `keccak256(operator ‖ publicKey EIP-2537 (128 bytes))` |
//! | 1 certify | blob registry | current | `keccak256(blobId_1 ‖ uint256(registrationId_1) ‖ uint8(deletable_1) ‖ … )` |
//! | 2 invalid | blob registry | current | `blobId` |

use sha3::{Digest, Keccak256};

/// Length in bytes of every signed message.
pub const MESSAGE_LEN: usize = 65;

/// What a signature attests; the first byte of every signed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Intent {
    /// The signer owns the secret key of the public key it registers.
    ProofOfPossession = 0,
    /// The signer stores its slivers of the listed blobs (availability confirmation).
    Certify = 1,
    /// The signer found the blob inconsistently encoded.
    Invalid = 2,
}

/// The 65-byte message `intent ‖ chainId (8, BE) ‖ verifier (20) ‖ epoch (4, BE) ‖ body (32)`.
pub fn message(
    intent: Intent,
    chain_id: u64,
    verifier: [u8; 20],
    epoch: u32,
    body: [u8; 32],
) -> [u8; MESSAGE_LEN] {
    let mut out = [0u8; MESSAGE_LEN];
    out[0] = intent as u8;
    out[1..9].copy_from_slice(&chain_id.to_be_bytes());
    out[9..29].copy_from_slice(&verifier);
    out[29..33].copy_from_slice(&epoch.to_be_bytes());
    out[33..65].copy_from_slice(&body);
    out
}

/// One registration a certify message confirms: the blob, the registration of it (its on-chain
/// id, so a confirmation never certifies another registration of the same blob) and the
/// registration's deletable flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CertifyEntry {
    /// The blob id.
    pub blob_id: [u8; 32],
    /// The registration's id (`uint256` on-chain; ids count from 1 and never reach `u64::MAX`).
    pub registration_id: u64,
    /// The registration's deletable flag.
    pub deletable: bool,
}

impl CertifyEntry {
    /// The entry's 65 packed bytes: `blobId ‖ uint256(registrationId) (big-endian) ‖ uint8(deletable)`.
    pub fn packed(&self) -> [u8; 65] {
        let mut out = [0u8; 65];
        out[..32].copy_from_slice(&self.blob_id);
        out[56..64].copy_from_slice(&self.registration_id.to_be_bytes());
        out[64] = u8::from(self.deletable);
        out
    }
}

/// The body of a certify message: `keccak256` over the entries' packed bytes, in the given order
/// (`abi.encodePacked(bytes32 blobId, uint256 registrationId, bool deletable, …)`).
pub fn certify_body(entries: &[CertifyEntry]) -> [u8; 32] {
    let mut h = Keccak256::new();
    for entry in entries {
        h.update(entry.packed());
    }
    h.finalize().into()
}

/// The message confirming that the signer stores the blobs of `entries`, signed for `epoch` and
/// the blob registry at `registry`. One registration is a batch of one.
pub fn certify_message(
    chain_id: u64,
    registry: [u8; 20],
    epoch: u32,
    entries: &[CertifyEntry],
) -> [u8; MESSAGE_LEN] {
    message(
        Intent::Certify,
        chain_id,
        registry,
        epoch,
        certify_body(entries),
    )
}

/// The message attesting that blob `blob_id` is inconsistently encoded.
pub fn invalid_message(
    chain_id: u64,
    registry: [u8; 20],
    epoch: u32,
    blob_id: [u8; 32],
) -> [u8; MESSAGE_LEN] {
    message(Intent::Invalid, chain_id, registry, epoch, blob_id)
}

/// The body of a proof-of-possession message: `keccak256(operator ‖ publicKey EIP-2537)`.
pub fn pop_body(operator: [u8; 20], public_key_eip2537: &[u8; 128]) -> [u8; 32] {
    let mut h = Keccak256::new();
    h.update(operator);
    h.update(public_key_eip2537);
    h.finalize().into()
}

/// The proof-of-possession message a node signs to register `public_key_eip2537` for
/// `operator` at the staking contract `staking` (epoch 0).
pub fn pop_message(
    chain_id: u64,
    staking: [u8; 20],
    operator: [u8; 20],
    public_key_eip2537: &[u8; 128],
) -> [u8; MESSAGE_LEN] {
    message(
        Intent::ProofOfPossession,
        chain_id,
        staking,
        0,
        pop_body(operator, public_key_eip2537),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keccak(data: &[u8]) -> [u8; 32] {
        Keccak256::digest(data).into()
    }

    #[test]
    fn message_layout_is_packed_big_endian() {
        let m = message(
            Intent::Invalid,
            0x0102_0304_0506_0708,
            [0xaa; 20],
            0x0a0b_0c0d,
            [0x55; 32],
        );
        assert_eq!(m[0], 2);
        assert_eq!(&m[1..9], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(&m[9..29], &[0xaa; 20]);
        assert_eq!(&m[29..33], &[0x0a, 0x0b, 0x0c, 0x0d]);
        assert_eq!(&m[33..], &[0x55; 32]);
    }

    fn entry(blob: u8, registration_id: u64, deletable: bool) -> CertifyEntry {
        CertifyEntry {
            blob_id: [blob; 32],
            registration_id,
            deletable,
        }
    }

    #[test]
    fn certify_body_packs_id_registration_and_flag() {
        let a = entry(1, 7, true);
        let b = entry(2, 0x0102_0304_0506_0708, false);
        let mut packed = Vec::new();
        packed.extend_from_slice(&[1u8; 32]);
        packed.extend_from_slice(&[0u8; 31]);
        packed.push(7);
        packed.push(1);
        packed.extend_from_slice(&[2u8; 32]);
        packed.extend_from_slice(&[0u8; 24]);
        packed.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        packed.push(0);
        assert_eq!(packed.len(), 130);
        assert_eq!(certify_body(&[a, b]), keccak(&packed));
        // Order, registration and flag all matter.
        assert_ne!(certify_body(&[a, b]), certify_body(&[b, a]));
        assert_ne!(certify_body(&[a]), certify_body(&[entry(1, 7, false)]));
        assert_ne!(certify_body(&[a]), certify_body(&[entry(1, 8, true)]));
        assert_eq!(certify_body(&[]), keccak(&[]));
    }

    #[test]
    fn intents_separate_messages() {
        let id = [9u8; 32];
        let e = [entry(9, 1, false)];
        let c = certify_message(31337, [1; 20], 1, &e);
        let i = invalid_message(31337, [1; 20], 1, id);
        assert_eq!(c[0], Intent::Certify as u8);
        assert_eq!(i[0], Intent::Invalid as u8);
        assert_eq!(&i[33..], &id);
        assert_ne!(c, certify_message(31337, [1; 20], 2, &e));
        assert_ne!(c, certify_message(1, [1; 20], 1, &e));
        assert_ne!(c, certify_message(31337, [2; 20], 1, &e));
    }

    #[test]
    fn pop_message_binds_operator_and_key() {
        let key = [7u8; 128];
        let m = pop_message(31337, [3; 20], [4; 20], &key);
        assert_eq!(m[0], 0);
        assert_eq!(&m[29..33], &[0, 0, 0, 0]);
        let mut packed = vec![4u8; 20];
        packed.extend_from_slice(&key);
        assert_eq!(&m[33..], &keccak(&packed));
        assert_ne!(m, pop_message(31337, [3; 20], [5; 20], &key));
    }
}
