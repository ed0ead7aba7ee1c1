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
//! | 1 certify | blob registry | current | `keccak256(blobId_1 ‖ uint8(deletable_1) ‖ … ‖ blobId_k ‖ uint8(deletable_k))` |
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

/// The body of a certify message: `keccak256(blobId_1 ‖ uint8(deletable_1) ‖ …)`, in the given order.
pub fn certify_body(blobs: &[([u8; 32], bool)]) -> [u8; 32] {
    let mut h = Keccak256::new();
    for (blob_id, deletable) in blobs {
        h.update(blob_id);
        h.update([u8::from(*deletable)]);
    }
    h.finalize().into()
}

/// The message confirming that the signer stores `blobs` (blob id, deletable), signed for `epoch`
/// and the blob registry at `registry`. One blob is a batch of one.
pub fn certify_message(
    chain_id: u64,
    registry: [u8; 20],
    epoch: u32,
    blobs: &[([u8; 32], bool)],
) -> [u8; MESSAGE_LEN] {
    message(
        Intent::Certify,
        chain_id,
        registry,
        epoch,
        certify_body(blobs),
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

    #[test]
    fn certify_body_packs_id_and_flag() {
        let a = [1u8; 32];
        let b = [2u8; 32];
        let mut packed = Vec::new();
        packed.extend_from_slice(&a);
        packed.push(1);
        packed.extend_from_slice(&b);
        packed.push(0);
        assert_eq!(certify_body(&[(a, true), (b, false)]), keccak(&packed));
        // Order and flags matter.
        assert_ne!(
            certify_body(&[(a, true), (b, false)]),
            certify_body(&[(b, false), (a, true)])
        );
        assert_ne!(certify_body(&[(a, true)]), certify_body(&[(a, false)]));
        assert_eq!(certify_body(&[]), keccak(&[]));
    }

    #[test]
    fn intents_separate_messages() {
        let id = [9u8; 32];
        let c = certify_message(31337, [1; 20], 1, &[(id, false)]);
        let i = invalid_message(31337, [1; 20], 1, id);
        assert_eq!(c[0], Intent::Certify as u8);
        assert_eq!(i[0], Intent::Invalid as u8);
        assert_eq!(&i[33..], &id);
        assert_ne!(c, certify_message(31337, [1; 20], 2, &[(id, false)]));
        assert_ne!(c, certify_message(1, [1; 20], 1, &[(id, false)]));
        assert_ne!(c, certify_message(31337, [2; 20], 1, &[(id, false)]));
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
