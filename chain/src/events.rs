//! The contracts' events that nodes and clients follow, decoded into one enum.

use alloy::{
    primitives::{Address, TxHash, U256},
    rpc::types::Log,
    sol_types::SolEventInterface,
};
use floe_core::ids::BlobId;
use serde::{Deserialize, Serialize};

use crate::bindings::{
    registry::BlobRegistry::BlobRegistryEvents as R, staking::Staking::StakingEvents as S,
};

/// A floe event, decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FloeEvent {
    /// The epoch advanced; the new committee is readable.
    EpochAdvanced {
        /// The new epoch.
        epoch: u32,
        /// Its start (unix seconds).
        start_time: u64,
        /// Committee size.
        committee_size: u64,
    },
    /// A node registered.
    NodeRegistered {
        /// Operator address.
        node: Address,
        /// Its network address.
        network_address: String,
    },
    /// A node changed its network address or commission.
    NodeUpdated {
        /// Operator address.
        node: Address,
        /// Its network address.
        network_address: String,
    },
    /// A blob was registered (one more registration of it).
    BlobRegistered {
        /// The new registration.
        registration_id: u64,
        /// The blob.
        blob_id: BlobId,
        /// The registering owner.
        owner: Address,
        /// Unencoded size.
        size: u64,
        /// Encoding type.
        encoding_type: u8,
        /// Deletable by its owner.
        deletable: bool,
        /// Epoch of registration.
        epoch: u32,
        /// First epoch no longer covered.
        end_epoch: u32,
        /// Storage resource.
        storage_id: U256,
        /// Metadata root.
        root: [u8; 32],
    },
    /// A registration was certified.
    BlobCertified {
        /// The registration.
        registration_id: u64,
        /// The blob.
        blob_id: BlobId,
        /// Epoch of certification.
        epoch: u32,
        /// First epoch no longer covered.
        end_epoch: u32,
        /// Deletable by its owner.
        deletable: bool,
    },
    /// A registration's end epoch was extended.
    BlobExtended {
        /// The registration.
        registration_id: u64,
        /// The blob.
        blob_id: BlobId,
        /// The new end epoch.
        end_epoch: u32,
    },
    /// A registration was deleted by its owner (other registrations of the blob live on).
    BlobDeleted {
        /// The registration.
        registration_id: u64,
        /// The blob.
        blob_id: BlobId,
        /// Epoch of deletion.
        epoch: u32,
    },
    /// A blob id was marked invalid: every registration of it is dead.
    BlobInvalidated {
        /// The blob.
        blob_id: BlobId,
        /// Epoch of invalidation.
        epoch: u32,
    },
    /// Another floe event nodes do not act on (staking, storage, prices, rewards, transfers,
    /// attributes, shared funds), by name.
    Other(String),
}

/// A decoded event with where it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// The event.
    pub event: FloeEvent,
    /// Block number.
    pub block: u64,
    /// Transaction hash.
    pub tx: Option<TxHash>,
    /// Index of the log in its block.
    pub log_index: u64,
}

impl FloeEvent {
    /// Decodes a log emitted by the staking contract or the registry; `None` if it is neither's.
    pub fn decode(log: &Log, staking: Address, registry: Address) -> Option<Self> {
        let (topics, data) = (log.topics(), &log.data().data);
        if log.address() == staking {
            let ev = S::decode_raw_log(topics, data).ok()?;
            Some(match ev {
                S::EpochAdvanced(e) => FloeEvent::EpochAdvanced {
                    epoch: e.epoch,
                    start_time: e.startTime,
                    committee_size: e.committeeSize.saturating_to(),
                },
                S::NodeRegistered(e) => FloeEvent::NodeRegistered {
                    node: e.node,
                    network_address: e.networkAddress,
                },
                S::NodeUpdated(e) => FloeEvent::NodeUpdated {
                    node: e.node,
                    network_address: e.networkAddress,
                },
                other => FloeEvent::Other(staking_name(&other).to_owned()),
            })
        } else if log.address() == registry {
            let ev = R::decode_raw_log(topics, data).ok()?;
            Some(match ev {
                R::BlobRegistered(e) => FloeEvent::BlobRegistered {
                    registration_id: reg_id(e.registrationId)?,
                    blob_id: BlobId(e.blobId.0),
                    owner: e.owner,
                    size: e.size,
                    encoding_type: e.encodingType,
                    deletable: e.deletable,
                    epoch: e.epoch,
                    end_epoch: e.endEpoch,
                    storage_id: e.storageId,
                    root: e.root.0,
                },
                R::BlobCertified(e) => FloeEvent::BlobCertified {
                    registration_id: reg_id(e.registrationId)?,
                    blob_id: BlobId(e.blobId.0),
                    epoch: e.epoch,
                    end_epoch: e.endEpoch,
                    deletable: e.deletable,
                },
                R::BlobExtended(e) => FloeEvent::BlobExtended {
                    registration_id: reg_id(e.registrationId)?,
                    blob_id: BlobId(e.blobId.0),
                    end_epoch: e.endEpoch,
                },
                R::BlobDeleted(e) => FloeEvent::BlobDeleted {
                    registration_id: reg_id(e.registrationId)?,
                    blob_id: BlobId(e.blobId.0),
                    epoch: e.epoch,
                },
                R::BlobInvalidated(e) => FloeEvent::BlobInvalidated {
                    blob_id: BlobId(e.blobId.0),
                    epoch: e.epoch,
                },
                R::StorageBought(_) => FloeEvent::Other("StorageBought".into()),
                R::StorageSplit(_) => FloeEvent::Other("StorageSplit".into()),
                R::StorageExtended(_) => FloeEvent::Other("StorageExtended".into()),
                // Ownership, attributes and shared funds: nothing a node stores changes (a
                // shared extension also emits BlobExtended, decoded above).
                R::BlobTransferred(_) => FloeEvent::Other("BlobTransferred".into()),
                R::StorageTransferred(_) => FloeEvent::Other("StorageTransferred".into()),
                R::AttributeSet(_) => FloeEvent::Other("AttributeSet".into()),
                R::AttributeRemoved(_) => FloeEvent::Other("AttributeRemoved".into()),
                R::BlobShared(_) => FloeEvent::Other("BlobShared".into()),
                R::SharedBlobFunded(_) => FloeEvent::Other("SharedBlobFunded".into()),
                R::SharedBlobFundsUsed(_) => FloeEvent::Other("SharedBlobFundsUsed".into()),
                #[allow(unreachable_patterns)]
                _ => FloeEvent::Other("BlobRegistry".into()),
            })
        } else {
            None
        }
    }
}

/// A registration id from an event; ids count from 1, so one over `u64` is not a real event.
fn reg_id(id: U256) -> Option<u64> {
    u64::try_from(id).ok()
}

fn staking_name(ev: &S) -> &'static str {
    match ev {
        S::Staked(_) => "Staked",
        S::WithdrawalRequested(_) => "WithdrawalRequested",
        S::Withdrawn(_) => "Withdrawn",
        S::PricesVoted(_) => "PricesVoted",
        S::PricesSet(_) => "PricesSet",
        S::RewardsClaimed(_) => "RewardsClaimed",
        S::CommissionChangeAnnounced(_) => "CommissionChangeAnnounced",
        S::CommissionActivated(_) => "CommissionActivated",
        S::BondPaid(_) => "BondPaid",
        S::NodeDeregistered(_) => "NodeDeregistered",
        S::BondReturned(_) => "BondReturned",
        S::CandidateChanged(_) => "CandidateChanged",
        _ => "Staking",
    }
}
