//! floe-core: the pure heart of floe (no I/O, no chain).
//!
//! Layout (each module's owner keeps it compiling at all times):
//! - `bls`: BLS12-381 min-pk keys, signatures, proofs of possession, aggregation, certificates,
//!   EIP-2537 encodings for the contracts.
//! - `messages`: the exact 65-byte messages nodes sign and the contracts hash to G2.
//! - encoding, Merkle commitments, metadata, blob ids, recovery and the wire format follow.

pub mod bls;
pub mod ids;
pub mod messages;
