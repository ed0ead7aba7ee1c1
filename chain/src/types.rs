//! Plain Rust views of on-chain records: blobs, prices, epochs, nodes, and the deployment.

use alloy::primitives::{Address, U256};
use floe_core::ids::BlobId;
use serde::{Deserialize, Serialize};

use crate::error::ChainError;

/// Where the floe contracts live on a chain: written by `floe devnet` (JSON), read by nodes
/// and clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// The WAL token.
    pub wal: Address,
    /// The staking contract (epochs, committees, prices).
    pub staking: Address,
    /// The blob registry.
    pub registry: Address,
    /// The chain's id (`eth_chainId`).
    pub chain_id: u64,
    /// The block before the deployment: event followers start here.
    pub start_block: u64,
}

impl Deployment {
    /// Reads a deployment JSON file.
    pub fn load(path: &std::path::Path) -> Result<Self, ChainError> {
        let err = |reason: String| ChainError::DeploymentFile {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| err(format!("not a deployment JSON: {e}")))
    }

    /// Writes this deployment as pretty JSON.
    pub fn save(&self, path: &std::path::Path) -> Result<(), ChainError> {
        let err = |reason: String| ChainError::DeploymentFile {
            path: path.display().to_string(),
            reason,
        };
        let text = serde_json::to_string_pretty(self).map_err(|e| err(e.to_string()))?;
        std::fs::write(path, text + "\n").map_err(|e| err(e.to_string()))
    }
}

/// A registration's lifecycle state on-chain (`IBlobRegistry.RegistrationState`). Expiry is not
/// a state (`current >= end_epoch`), nor is invalidity, which belongs to the blob id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistrationState {
    /// No such registration.
    None,
    /// Registered, not yet certified.
    Registered,
    /// Certified: available until its end epoch.
    Certified,
    /// Deleted by its owner.
    Deleted,
}

impl RegistrationState {
    /// From the ABI's `uint8`.
    pub fn from_u8(v: u8) -> Result<Self, ChainError> {
        Ok(match v {
            0 => RegistrationState::None,
            1 => RegistrationState::Registered,
            2 => RegistrationState::Certified,
            3 => RegistrationState::Deleted,
            other => {
                return Err(ChainError::BadData(format!(
                    "unknown registration state {other}"
                )));
            }
        })
    }
}

/// A registration id as floe-core signs it: the contract's `uint256`, which counts from 1.
pub fn registration_id_u64(id: U256) -> Result<u64, ChainError> {
    u64::try_from(id).map_err(|_| ChainError::BadData(format!("registration id {id} over u64")))
}

/// One registration of a blob as the registry reports it (`IBlobRegistry.RegistrationInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationRecord {
    /// The registration's id (0 if there is none).
    pub registration_id: u64,
    /// The blob id.
    pub blob_id: BlobId,
    /// Who owns the registration.
    pub owner: Address,
    /// Unencoded size in bytes.
    pub size: u64,
    /// Encoding type (1 = Red Stuff).
    pub encoding_type: u8,
    /// Whether the owner may delete it.
    pub deletable: bool,
    /// Lifecycle state.
    pub state: RegistrationState,
    /// Epoch of registration.
    pub registered_epoch: u32,
    /// Epoch of certification (0 if not certified).
    pub certified_epoch: u32,
    /// First epoch no longer covered.
    pub end_epoch: u32,
    /// The storage resource backing it.
    pub storage_id: U256,
    /// The metadata root.
    pub root: [u8; 32],
    /// The blob id was marked invalid (every registration of it is dead).
    pub invalid: bool,
    /// Shared (final): anyone may fund and extend it; nobody may transfer it or edit its attributes.
    pub shared: bool,
}

impl RegistrationRecord {
    /// True once `current_epoch >= end_epoch`.
    pub fn is_expired(&self, current_epoch: u32) -> bool {
        current_epoch >= self.end_epoch
    }

    /// True while it keeps its blob alive: registered or certified, unexpired, blob not invalid.
    pub fn is_live(&self, current_epoch: u32) -> bool {
        matches!(
            self.state,
            RegistrationState::Registered | RegistrationState::Certified
        ) && !self.invalid
            && !self.is_expired(current_epoch)
    }
}

/// A blob id's status over all its registrations (`IBlobRegistry.BlobStatus`). The maxima are
/// exact while above the current epoch; one at or below it only means that nothing lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobStatusRecord {
    /// The blob id.
    pub blob_id: BlobId,
    /// Marked invalid (inconsistently encoded): no registration of it counts.
    pub invalid: bool,
    /// Unencoded size (once registered).
    pub size: u64,
    /// Encoding type (once registered).
    pub encoding_type: u8,
    /// The metadata root (once registered).
    pub root: [u8; 32],
    /// Registrations not deleted (expired ones included).
    pub registrations: u32,
    /// The first registration's id, 0 if never registered.
    pub first_registration_id: u64,
    /// Max end epoch over registrations not deleted: nodes keep the data while it is ahead.
    pub end_epoch: u32,
    /// Max end epoch over permanent registrations.
    pub permanent_end_epoch: u32,
    /// Max end epoch over certified registrations not deleted.
    pub certified_end_epoch: u32,
    /// Max end epoch over certified permanent registrations (these cannot be deleted).
    pub permanent_certified_end_epoch: u32,
}

impl BlobStatusRecord {
    /// Ever registered.
    pub fn is_known(&self) -> bool {
        self.first_registration_id != 0
    }

    /// Some registration keeps the blob's data alive in `current_epoch`.
    pub fn is_live(&self, current_epoch: u32) -> bool {
        !self.invalid && self.registrations > 0 && self.end_epoch > current_epoch
    }

    /// Some certified registration guarantees reads in `current_epoch`.
    pub fn is_certified(&self, current_epoch: u32) -> bool {
        !self.invalid && self.certified_end_epoch > current_epoch
    }

    /// The epoch until which reads are guaranteed (0 if none), whoever's registration it is.
    pub fn certified_until(&self, current_epoch: u32) -> u32 {
        if self.is_certified(current_epoch) {
            self.certified_end_epoch
        } else {
            0
        }
    }
}

/// Prices in force, in FROST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prices {
    /// FROST per MiB (of encoded size) per epoch of storage.
    pub storage_per_mib_epoch: u64,
    /// FROST per MiB of encoded size written.
    pub write_per_mib: u64,
}

/// The cost of storing, in FROST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageCost {
    /// Storage for the epochs asked.
    pub storage: U256,
    /// The write fee paid at registration.
    pub write: U256,
}

impl StorageCost {
    /// Storage plus write fee.
    pub fn total(&self) -> U256 {
        self.storage + self.write
    }
}

/// The current epoch and its timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochTiming {
    /// The current epoch.
    pub epoch: u32,
    /// When it started (unix seconds).
    pub start_time: u64,
    /// How long every epoch after 0 lasts (seconds).
    pub duration: u64,
}

impl EpochTiming {
    /// When the current epoch may be advanced (unix seconds); epoch 0 may be advanced any time.
    pub fn next_advance_at(&self) -> u64 {
        if self.epoch == 0 {
            0
        } else {
            self.start_time.saturating_add(self.duration)
        }
    }
}

/// A storage node's registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// The operator address (node id).
    pub node: Address,
    /// BLS public key, EIP-2537 encoding (128 bytes).
    pub public_key_eip2537: Vec<u8>,
    /// Where its HTTP API is reached (`host:port`).
    pub network_address: String,
    /// Commission in basis points.
    pub commission_bps: u16,
    /// Offered capacity in bytes.
    pub capacity: u64,
    /// Active stake in FROST.
    pub stake: U256,
    /// Registered at all.
    pub registered: bool,
}

/// The result of registering a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// The registering transaction.
    pub tx: alloy::primitives::TxHash,
    /// The new registration's id.
    pub registration_id: u64,
    /// Whether it is deletable.
    pub deletable: bool,
    /// The blob id the contract derived.
    pub blob_id: BlobId,
    /// The storage resource used.
    pub storage_id: U256,
    /// The blob's end epoch.
    pub end_epoch: u32,
}

/// The transactions of one registration's life the explorer links to, from the registry's logs
/// (see [`crate::Chain::registration_txs`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationTxs {
    /// The transaction that made it (`BlobRegistered`), if within the blocks searched.
    pub registered: Option<alloy::primitives::TxHash>,
    /// The transaction that certified it (`BlobCertified`), if any within the blocks searched.
    pub certified: Option<alloy::primitives::TxHash>,
    /// The transactions that transferred it (`BlobTransferred`), oldest first; the newest
    /// [`crate::handle::MAX_TRANSFER_TXS`] at most.
    pub transfers: Vec<alloy::primitives::TxHash>,
}

/// A registration as its `BlobRegistered` log tells it (see [`crate::Chain::recent_registrations`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentRegistration {
    /// The registration's id.
    pub registration_id: u64,
    /// The blob id.
    pub blob_id: BlobId,
    /// Who registered it (its owner then; see [`crate::Chain::registration`] for now).
    pub owner: Address,
    /// Unencoded size in bytes.
    pub size: u64,
    /// Whether the owner may delete it.
    pub deletable: bool,
    /// Epoch of registration.
    pub epoch: u32,
    /// The block it was registered in.
    pub block_number: u64,
    /// The registering transaction.
    pub tx_hash: alloy::primitives::TxHash,
}
