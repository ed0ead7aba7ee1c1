//! Registrations as on-chain objects: [`Client::transfer`], attributes
//! ([`Client::set_attribute`], [`Client::remove_attribute`], [`Client::attributes`]), sharing
//! ([`Client::share`]) and funding a shared registration ([`Client::fund`]).
//!
//! Each takes a blob id and, optionally, the registration to act on. By default a change acts
//! on the caller's one live registration of the blob that the change applies to (several: an
//! error listing them, asking for `--registration`; none: an error saying so); a read of
//! attributes on the caller's newest registration, else on the blob's first registration (the
//! one the gateway serves headers from); a fund on the blob's longest-lived shared registration,
//! whoever owns it.
//!
//! What the registry would refuse is checked before any transaction is sent (owner, deleted,
//! shared, permanent, attribute limits, how far ahead storage may be bought), and a revert that
//! still happens (another wallet acted in between) maps to the same errors.

use alloy::{
    primitives::{Address, B256, U256},
    sol_types::SolError,
};
use floe_chain::{
    ChainError, RegistrationRecord, RegistrationState, bindings::registry::BlobRegistry,
};
use floe_core::ids::BlobId;
use serde::Serialize;

use crate::{
    client::{Client, Transaction, serialize_display},
    error::ClientError,
    registrations::{ANY_LIMIT, state_name},
    units::format_wal,
};

/// Most attributes of one registration (`BlobRegistry.MAX_ATTRIBUTES`; the e2e tests check that
/// the deployed contract agrees).
pub const MAX_ATTRIBUTES: usize = 16;
/// Longest attribute key in bytes; keys have at least 1 (`BlobRegistry.MAX_KEY_LENGTH`).
pub const MAX_KEY_LENGTH: usize = 64;
/// Longest attribute value in bytes (`BlobRegistry.MAX_VALUE_LENGTH`).
pub const MAX_VALUE_LENGTH: usize = 1024;
/// Furthest a registration may end after the current epoch (`BlobRegistry.MAX_EPOCHS_AHEAD`).
pub const MAX_EPOCHS_AHEAD: u32 = 200;

/// The result of [`Client::transfer`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transferred {
    /// The blob.
    #[serde(serialize_with = "serialize_display")]
    pub blob_id: BlobId,
    /// The registration transferred (with its storage and attributes).
    pub registration_id: u64,
    /// Its owner before.
    pub from: Address,
    /// Its owner now.
    pub to: Address,
    /// The transaction.
    pub transaction: B256,
}

/// One attribute of a registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attribute {
    /// The key (1..=64 bytes).
    pub key: String,
    /// The value (at most 1024 bytes).
    pub value: String,
}

/// A registration's attributes: the result of [`Client::attributes`], and of
/// [`Client::set_attribute`] and [`Client::remove_attribute`] (after the change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attributes {
    /// The blob.
    #[serde(serialize_with = "serialize_display")]
    pub blob_id: BlobId,
    /// The registration whose attributes these are.
    pub registration_id: u64,
    /// The attributes, in the registry's order (insertion order; a removal moves the last one
    /// into the removed one's place).
    pub attributes: Vec<Attribute>,
    /// The transaction that changed them (none for a read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction: Option<B256>,
}

impl Attributes {
    /// The value of `key`, if the registration has it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.key == key)
            .map(|a| a.value.as_str())
    }
}

/// The result of [`Client::share`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shared {
    /// The blob.
    #[serde(serialize_with = "serialize_display")]
    pub blob_id: BlobId,
    /// The registration shared.
    pub registration_id: u64,
    /// Its end epoch (anyone may now extend it with [`Client::fund`]).
    pub end_epoch: u32,
    /// The transaction.
    pub transaction: B256,
}

/// The result of [`Client::fund`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Funded {
    /// The blob.
    #[serde(serialize_with = "serialize_display")]
    pub blob_id: BlobId,
    /// The shared registration extended.
    pub registration_id: u64,
    /// Epochs added.
    pub epochs: u32,
    /// What the extension cost, in FROST.
    pub cost: U256,
    /// What the caller deposited into the registration's fund, in FROST: the cost less what
    /// the fund already held.
    pub deposited: U256,
    /// FROST left in the fund after the extension.
    pub funds_left: U256,
    /// The registration's new end epoch.
    pub end_epoch: u32,
    /// The transactions sent: approve and fund (if a deposit was needed), extend.
    pub transactions: Vec<Transaction>,
}

/// A change of a registration object, for choosing its target and wording refusals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// [`Client::transfer`].
    Transfer,
    /// [`Client::set_attribute`], [`Client::remove_attribute`].
    Attributes,
    /// [`Client::share`].
    Share,
    /// [`Client::fund`].
    Fund,
}

impl Change {
    /// The error refusing this change of `blob_id` for `reason`.
    pub(crate) fn refuse(self, blob_id: BlobId, reason: String) -> ClientError {
        match self {
            Change::Transfer => ClientError::CannotTransfer { blob_id, reason },
            Change::Attributes => ClientError::CannotEditAttributes { blob_id, reason },
            Change::Share => ClientError::CannotShare { blob_id, reason },
            Change::Fund => ClientError::CannotFund { blob_id, reason },
        }
    }
}

/// Why `change` cannot act on `r` for wallet `me` in epoch `current`, if it cannot: the
/// registry's own conditions (transfer and attributes: owner, not deleted, not shared; share:
/// also permanent and live; fund: shared and live, anyone).
pub(crate) fn unfit(
    change: Change,
    r: &RegistrationRecord,
    me: Address,
    current: u32,
) -> Option<String> {
    let id = r.registration_id;
    if change == Change::Fund {
        if !r.shared {
            return Some(format!(
                "registration {id} is not shared: only a shared registration can be funded (its owner shares a permanent one with `floe share`)"
            ));
        }
        if !r.is_live(current) {
            return Some(format!(
                "registration {id} is {}: only a live shared registration can be funded",
                state_name(r, current)
            ));
        }
        return None;
    }
    if r.state == RegistrationState::Deleted {
        return Some(format!("registration {id} is deleted"));
    }
    if r.owner != me {
        return Some(format!(
            "registration {id} belongs to {}, not to this wallet {me}",
            r.owner
        ));
    }
    if r.shared {
        return Some(if change == Change::Share {
            format!("registration {id} is shared already")
        } else {
            format!(
                "registration {id} is shared, which is final: nobody may transfer it or change its attributes"
            )
        });
    }
    if change == Change::Share {
        if r.deletable {
            return Some(format!(
                "registration {id} is deletable; only a permanent registration can be shared (store the blob without --deletable)"
            ));
        }
        if !r.is_live(current) {
            return Some(format!(
                "registration {id} is {}: only a live registration can be shared",
                state_name(r, current)
            ));
        }
    }
    None
}

/// The registration `change` (not [`Change::Fund`]) acts on by default among `all` (any
/// registrations of `blob_id`): the one live registration of `me`'s it applies to.
pub(crate) fn default_target(
    change: Change,
    blob_id: &BlobId,
    all: &[RegistrationRecord],
    me: Address,
    current: u32,
) -> Result<RegistrationRecord, ClientError> {
    let refuse = |reason: String| change.refuse(*blob_id, reason);
    let live: Vec<&RegistrationRecord> = all
        .iter()
        .filter(|r| r.blob_id == *blob_id && r.owner == me && r.is_live(current))
        .collect();
    let (fit, unfit_reasons): (Vec<_>, Vec<_>) = live
        .iter()
        .map(|r| (*r, unfit(change, r, me, current)))
        .partition(|(_, why)| why.is_none());
    match fit.as_slice() {
        [(r, _)] => Ok((*r).clone()),
        [] if live.is_empty() => Err(refuse(format!(
            "this wallet {me} has no live registration of it (`floe status {blob_id}` lists the blob's registrations; pass --registration to name one)"
        ))),
        [] => Err(refuse(
            unfit_reasons
                .into_iter()
                .filter_map(|(_, why)| why)
                .collect::<Vec<_>>()
                .join("; "),
        )),
        several => Err(refuse(format!(
            "this wallet has several live registrations of it ({}): pass --registration with one of them",
            several
                .iter()
                .map(|(r, _)| r.registration_id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The registration a fund extends by default among `all`: the longest-lived live shared one
/// (the oldest among equals), whoever owns it.
pub(crate) fn fund_target(
    all: &[RegistrationRecord],
    blob_id: &BlobId,
    current: u32,
) -> Option<RegistrationRecord> {
    all.iter()
        .filter(|r| r.blob_id == *blob_id && r.shared && r.is_live(current))
        .max_by_key(|r| (r.end_epoch, std::cmp::Reverse(r.registration_id)))
        .cloned()
}

/// The registration whose attributes a read shows by default: `me`'s newest registration not
/// deleted (`all` is newest first), else the blob's first registration.
pub(crate) fn read_target(
    all: &[RegistrationRecord],
    me: Address,
    first_registration_id: u64,
) -> u64 {
    all.iter()
        .find(|r| r.owner == me && r.state != RegistrationState::Deleted)
        .map_or(first_registration_id, |r| r.registration_id)
}

/// Checks an attribute key against the registry's limits (1..=64 bytes).
pub fn check_key(key: &str) -> Result<(), ClientError> {
    if key.is_empty() || key.len() > MAX_KEY_LENGTH {
        return Err(ClientError::InvalidAttribute(format!(
            "key {key:?} is {} bytes; a key has 1 to {MAX_KEY_LENGTH} bytes",
            key.len()
        )));
    }
    Ok(())
}

/// Checks an attribute against the registry's limits: key 1..=64 bytes, value at most 1024.
pub fn check_attribute(key: &str, value: &str) -> Result<(), ClientError> {
    check_key(key)?;
    if value.len() > MAX_VALUE_LENGTH {
        return Err(ClientError::InvalidAttribute(format!(
            "the value of {key:?} is {} bytes; a value has at most {MAX_VALUE_LENGTH} bytes",
            value.len()
        )));
    }
    Ok(())
}

/// Refuses a new key on registration `id` that already has `existing` (at most
/// [`MAX_ATTRIBUTES`] keys); replacing a key is always possible.
fn check_room(
    blob_id: &BlobId,
    id: u64,
    existing: &[Attribute],
    key: &str,
) -> Result<(), ClientError> {
    if existing.len() >= MAX_ATTRIBUTES && !existing.iter().any(|a| a.key == key) {
        return Err(too_many(blob_id, id));
    }
    Ok(())
}

fn too_many(blob_id: &BlobId, id: u64) -> ClientError {
    ClientError::CannotEditAttributes {
        blob_id: *blob_id,
        reason: format!(
            "registration {id} has {MAX_ATTRIBUTES} attributes, the most a registration may have: remove one first (`floe attr rm`)"
        ),
    }
}

/// Refuses extending a registration ending at `end_epoch` by `epochs` in epoch `current` if the
/// registry would: no epochs, or an end beyond [`MAX_EPOCHS_AHEAD`] epochs from now.
pub(crate) fn check_extension(
    blob_id: &BlobId,
    id: u64,
    end_epoch: u32,
    epochs: u32,
    current: u32,
) -> Result<(), ClientError> {
    let refuse = |reason: String| Change::Fund.refuse(*blob_id, reason);
    if epochs == 0 {
        return Err(refuse("fund at least 1 epoch (--epochs)".into()));
    }
    let furthest = u64::from(current) + u64::from(MAX_EPOCHS_AHEAD);
    let end = u64::from(end_epoch) + u64::from(epochs);
    if end > furthest {
        let room = furthest.saturating_sub(u64::from(end_epoch));
        return Err(refuse(format!(
            "registration {id} ends at epoch {end_epoch}; {epochs} more epochs would end it at {end}, beyond epoch {furthest} \
             ({MAX_EPOCHS_AHEAD} epochs from the current {current}, the furthest storage is sold): fund at most {room} epochs now"
        )));
    }
    Ok(())
}

/// Maps a chain error of a `change` of registration `id` of `blob_id`: the registry's reverts
/// about registration objects become the errors the client-side checks give; anything else
/// stays a [`ClientError::Chain`].
pub(crate) fn map_revert(change: Change, blob_id: &BlobId, id: u64, e: ChainError) -> ClientError {
    let Some(revert) = e.revert() else {
        return e.into();
    };
    let refuse = |reason: String| change.refuse(*blob_id, reason);
    let data = &revert.data[..];
    match revert.name.as_str() {
        "NotRegistrationOwner" => match BlobRegistry::NotRegistrationOwner::abi_decode(data) {
            Ok(r) => refuse(format!(
                "registration {id} belongs to {}, not to this wallet {}",
                r.owner, r.caller
            )),
            Err(_) => refuse(format!("registration {id} belongs to another wallet")),
        },
        "RegistrationIsShared" => refuse(if change == Change::Share {
            format!("registration {id} is shared already")
        } else {
            format!(
                "registration {id} is shared, which is final: nobody may transfer it or change its attributes"
            )
        }),
        "WrongRegistrationState" => refuse(format!("registration {id} is deleted")),
        "RegistrationExpired" => match BlobRegistry::RegistrationExpired::abi_decode(data) {
            Ok(r) => refuse(format!(
                "registration {id} expired at epoch {} (current epoch {})",
                r.endEpoch, r.currentEpoch
            )),
            Err(_) => refuse(format!("registration {id} expired")),
        },
        "RegistrationNotPermanent" => refuse(format!(
            "registration {id} is deletable; only a permanent registration can be shared (store the blob without --deletable)"
        )),
        "RegistrationNotShared" => refuse(format!(
            "registration {id} is not shared: only a shared registration can be funded (its owner shares a permanent one with `floe share`)"
        )),
        "InsufficientFunds" => match BlobRegistry::InsufficientFunds::abi_decode(data) {
            Ok(r) => refuse(format!(
                "the fund of registration {id} holds {} WAL and the extension costs {} WAL (the price changed?): run `floe fund` again",
                format_wal(r.balance),
                format_wal(r.cost)
            )),
            Err(_) => refuse(format!(
                "the fund of registration {id} does not cover the extension: run `floe fund` again"
            )),
        },
        "TooManyEpochs" => refuse(format!(
            "registration {id} would end beyond the furthest epoch storage is sold for ({MAX_EPOCHS_AHEAD} epochs ahead): fund fewer epochs"
        )),
        "TooManyAttributes" => too_many(blob_id, id),
        "AttributeKeyLength" => ClientError::InvalidAttribute(format!(
            "the registry refused the key ({}); a key has 1 to {MAX_KEY_LENGTH} bytes",
            revert.rendered
        )),
        "AttributeValueTooLong" => ClientError::InvalidAttribute(format!(
            "the registry refused the value ({}); a value has at most {MAX_VALUE_LENGTH} bytes",
            revert.rendered
        )),
        "AttributeNotFound" => match BlobRegistry::AttributeNotFound::abi_decode(data) {
            Ok(r) => ClientError::AttributeNotFound {
                blob_id: *blob_id,
                registration_id: id,
                key: r.key,
            },
            Err(_) => e.into(),
        },
        "ZeroAddress" => refuse("the zero address cannot own a registration".into()),
        "BlobIsInvalid" => ClientError::BlobInvalid(*blob_id),
        "UnknownRegistration" => ClientError::RegistrationUnknown(id),
        _ => e.into(),
    }
}

impl Client {
    /// The registration `change` acts on: `registration` (checked: of this blob, and fit for
    /// the change), or the default (see the module doc).
    async fn object_target(
        &self,
        change: Change,
        blob_id: &BlobId,
        registration: Option<u64>,
    ) -> Result<RegistrationRecord, ClientError> {
        let me = self.address();
        let current = self.chain().current_epoch().await?;
        if let Some(id) = registration {
            let r = self.registration_of_blob(blob_id, id).await?;
            return match unfit(change, &r, me, current) {
                Some(reason) => Err(change.refuse(*blob_id, reason)),
                None => Ok(r),
            };
        }
        let status = self.chain().blob_status(blob_id).await?;
        if !status.is_known() {
            return Err(ClientError::BlobUnknown(*blob_id));
        }
        // All registrations, not the caller's by their registering wallet: a registration
        // transferred to the caller is the caller's.
        let all = self.registrations_of(blob_id, None, ANY_LIMIT).await?;
        if change == Change::Fund {
            return fund_target(&all, blob_id, current).ok_or_else(|| {
                let shareable: Vec<String> = all
                    .iter()
                    .filter(|r| !r.deletable && r.is_live(current))
                    .map(|r| r.registration_id.to_string())
                    .collect();
                let hint = if shareable.is_empty() {
                    "and no permanent one lives that could be shared".to_owned()
                } else {
                    format!(
                        "its owner may share a permanent one ({}) with `floe share {blob_id}`",
                        shareable.join(", ")
                    )
                };
                change.refuse(
                    *blob_id,
                    format!("no live registration of it is shared; {hint}"),
                )
            });
        }
        default_target(change, blob_id, &all, me, current)
    }

    /// Transfers a registration of `blob_id` the caller owns (by default the caller's one live
    /// registration of it), with the storage it uses and its attributes, to `to`.
    pub async fn transfer(
        &self,
        blob_id: &BlobId,
        registration: Option<u64>,
        to: Address,
    ) -> Result<Transferred, ClientError> {
        let refuse = |reason: String| Change::Transfer.refuse(*blob_id, reason);
        if to == Address::ZERO {
            return Err(refuse(
                "the zero address cannot own a registration: name the new owner's address".into(),
            ));
        }
        let r = self
            .object_target(Change::Transfer, blob_id, registration)
            .await?;
        if to == r.owner {
            return Err(refuse(format!(
                "registration {} belongs to {to} already",
                r.registration_id
            )));
        }
        let id = r.registration_id;
        let transaction = self
            .chain()
            .transfer_registration(id, to)
            .await
            .map_err(|e| map_revert(Change::Transfer, blob_id, id, e))?;
        tracing::info!(%blob_id, registration = id, from = %r.owner, %to, "transferred");
        Ok(Transferred {
            blob_id: *blob_id,
            registration_id: id,
            from: r.owner,
            to,
            transaction,
        })
    }

    /// Sets attribute `key` to `value` on a registration of `blob_id` the caller owns (by
    /// default the caller's one live registration of it), replacing an existing value. Checks
    /// the limits first: key 1..=64 bytes, value at most 1024, at most 16 keys.
    pub async fn set_attribute(
        &self,
        blob_id: &BlobId,
        registration: Option<u64>,
        key: &str,
        value: &str,
    ) -> Result<Attributes, ClientError> {
        check_attribute(key, value)?;
        let r = self
            .object_target(Change::Attributes, blob_id, registration)
            .await?;
        let id = r.registration_id;
        check_room(blob_id, id, &self.attribute_list(id).await?, key)?;
        let tx = self
            .chain()
            .set_attribute(id, key, value)
            .await
            .map_err(|e| map_revert(Change::Attributes, blob_id, id, e))?;
        tracing::info!(%blob_id, registration = id, key, "attribute set");
        self.attributes_after(blob_id, id, tx).await
    }

    /// Removes attribute `key` of a registration of `blob_id` the caller owns (by default the
    /// caller's one live registration of it); fails with [`ClientError::AttributeNotFound`]
    /// if it has no such key.
    pub async fn remove_attribute(
        &self,
        blob_id: &BlobId,
        registration: Option<u64>,
        key: &str,
    ) -> Result<Attributes, ClientError> {
        check_key(key)?;
        let r = self
            .object_target(Change::Attributes, blob_id, registration)
            .await?;
        let id = r.registration_id;
        if !self.attribute_list(id).await?.iter().any(|a| a.key == key) {
            return Err(ClientError::AttributeNotFound {
                blob_id: *blob_id,
                registration_id: id,
                key: key.to_owned(),
            });
        }
        let tx = self
            .chain()
            .remove_attribute(id, key)
            .await
            .map_err(|e| map_revert(Change::Attributes, blob_id, id, e))?;
        tracing::info!(%blob_id, registration = id, key, "attribute removed");
        self.attributes_after(blob_id, id, tx).await
    }

    /// The attributes of a registration of `blob_id`: `registration` (anyone's), or by default
    /// the caller's newest registration of the blob, else the blob's first registration.
    pub async fn attributes(
        &self,
        blob_id: &BlobId,
        registration: Option<u64>,
    ) -> Result<Attributes, ClientError> {
        let id = match registration {
            Some(id) => {
                self.registration_of_blob(blob_id, id)
                    .await?
                    .registration_id
            }
            None => {
                let status = self.chain().blob_status(blob_id).await?;
                if !status.is_known() {
                    return Err(ClientError::BlobUnknown(*blob_id));
                }
                let all = self.registrations_of(blob_id, None, ANY_LIMIT).await?;
                read_target(&all, self.address(), status.first_registration_id)
            }
        };
        Ok(Attributes {
            blob_id: *blob_id,
            registration_id: id,
            attributes: self.attribute_list(id).await?,
            transaction: None,
        })
    }

    /// Shares a permanent registration of `blob_id` the caller owns (by default the caller's
    /// one live permanent registration of it): final; from then on anyone may fund and extend
    /// it ([`Client::fund`]) and nobody may transfer it or change its attributes.
    pub async fn share(
        &self,
        blob_id: &BlobId,
        registration: Option<u64>,
    ) -> Result<Shared, ClientError> {
        let r = self
            .object_target(Change::Share, blob_id, registration)
            .await?;
        let id = r.registration_id;
        let transaction = self
            .chain()
            .share_registration(id)
            .await
            .map_err(|e| map_revert(Change::Share, blob_id, id, e))?;
        tracing::info!(%blob_id, registration = id, "shared");
        Ok(Shared {
            blob_id: *blob_id,
            registration_id: id,
            end_epoch: r.end_epoch,
            transaction,
        })
    }

    /// Extends a shared registration of `blob_id` by `epochs`, paid through its fund (anyone
    /// may): `registration`, or by default the blob's longest-lived shared registration. The
    /// cost is the price of `epochs` more epochs of the registration's storage; the caller
    /// deposits what the fund lacks of it (nothing if the fund covers it, so running a failed
    /// fund again does not pay twice), then extends.
    pub async fn fund(
        &self,
        blob_id: &BlobId,
        registration: Option<u64>,
        epochs: u32,
    ) -> Result<Funded, ClientError> {
        if epochs == 0 {
            return Err(Change::Fund.refuse(*blob_id, "fund at least 1 epoch (--epochs)".into()));
        }
        let r = self
            .object_target(Change::Fund, blob_id, registration)
            .await?;
        let id = r.registration_id;
        let chain = self.chain();
        let current = chain.current_epoch().await?;
        check_extension(blob_id, id, r.end_epoch, epochs, current)?;
        // The registry charges for the storage resource's size, which may exceed the blob's
        // encoded size (a registration on larger storage bought earlier).
        let storage = chain
            .registry()
            .storageResource(r.storage_id)
            .call()
            .await
            .map_err(|e| ChainError::Rpc {
                call: "storageResource",
                reason: e.to_string(),
            })?;
        let cost = chain.storage_cost(storage.size, epochs).await?.storage;
        let held = chain.shared_funds(id).await?;
        let deposited = cost.saturating_sub(held);
        let mut transactions = Vec::new();
        if !deposited.is_zero() {
            if let Some(approve) = chain.ensure_registry_allowance(deposited).await? {
                transactions.push(Transaction {
                    action: "approve",
                    hash: approve,
                });
            }
            let fund = chain
                .fund_shared(id, deposited)
                .await
                .map_err(|e| map_revert(Change::Fund, blob_id, id, e))?;
            transactions.push(Transaction {
                action: "fund",
                hash: fund,
            });
        }
        let extend = chain.extend_shared(id, epochs).await.map_err(|e| {
            if !deposited.is_zero() {
                tracing::warn!(%blob_id, registration = id, deposited = %deposited, "deposited into the fund but the extension failed; the deposit stays in the fund");
            }
            map_revert(Change::Fund, blob_id, id, e)
        })?;
        transactions.push(Transaction {
            action: "extend",
            hash: extend,
        });
        let end_epoch = chain.registration(id).await?.end_epoch;
        let funds_left = chain.shared_funds(id).await?;
        tracing::info!(%blob_id, registration = id, epochs, end_epoch, "funded and extended");
        Ok(Funded {
            blob_id: *blob_id,
            registration_id: id,
            epochs,
            cost,
            deposited,
            funds_left,
            end_epoch,
            transactions,
        })
    }

    /// Registration `id`'s attributes, in the registry's order.
    async fn attribute_list(&self, id: u64) -> Result<Vec<Attribute>, ClientError> {
        Ok(self
            .chain()
            .attributes(id)
            .await?
            .into_iter()
            .map(|(key, value)| Attribute { key, value })
            .collect())
    }

    /// Registration `id`'s attributes after transaction `tx` changed them.
    async fn attributes_after(
        &self,
        blob_id: &BlobId,
        id: u64,
        tx: B256,
    ) -> Result<Attributes, ClientError> {
        Ok(Attributes {
            blob_id: *blob_id,
            registration_id: id,
            attributes: self.attribute_list(id).await?,
            transaction: Some(tx),
        })
    }
}

#[cfg(test)]
mod tests {
    use floe_chain::error::Revert;

    use super::*;

    const ME: Address = Address::repeat_byte(0xaa);
    const ALICE: Address = Address::repeat_byte(0xbb);
    const BLOB: BlobId = BlobId([7; 32]);
    /// The current epoch of the tests.
    const NOW: u32 = 3;

    fn reg(id: u64, owner: Address, deletable: bool, end: u32) -> RegistrationRecord {
        RegistrationRecord {
            registration_id: id,
            blob_id: BLOB,
            owner,
            size: 10,
            encoding_type: 1,
            deletable,
            state: RegistrationState::Certified,
            registered_epoch: 1,
            certified_epoch: 1,
            end_epoch: end,
            storage_id: U256::from(id),
            root: [0; 32],
            invalid: false,
            shared: false,
        }
    }

    fn shared(mut r: RegistrationRecord) -> RegistrationRecord {
        r.shared = true;
        r
    }

    fn deleted(mut r: RegistrationRecord) -> RegistrationRecord {
        r.state = RegistrationState::Deleted;
        r
    }

    fn reason(e: ClientError) -> String {
        match e {
            ClientError::CannotTransfer { reason, .. }
            | ClientError::CannotEditAttributes { reason, .. }
            | ClientError::CannotShare { reason, .. }
            | ClientError::CannotFund { reason, .. } => reason,
            other => panic!("not a refusal: {other:?}"),
        }
    }

    #[test]
    fn the_default_is_the_callers_one_live_registration() {
        let all = [
            reg(5, ALICE, false, 9),      // someone else's
            reg(4, ME, false, NOW),       // expired
            deleted(reg(3, ME, true, 9)), // deleted
            reg(2, ME, true, 9),          // ours, live
        ];
        for change in [Change::Transfer, Change::Attributes] {
            let r = default_target(change, &BLOB, &all, ME, NOW).expect("one target");
            assert_eq!(r.registration_id, 2, "{change:?}");
        }
    }

    #[test]
    fn several_live_registrations_ask_for_one_and_none_says_so() {
        let all = [reg(7, ME, false, 9), reg(2, ME, true, 5)];
        let e = default_target(Change::Transfer, &BLOB, &all, ME, NOW).expect_err("refused");
        assert!(matches!(e, ClientError::CannotTransfer { .. }), "{e:?}");
        assert_eq!(
            reason(e),
            "this wallet has several live registrations of it (7, 2): pass --registration with one of them"
        );
        let others = [reg(7, ALICE, false, 9)];
        let e = default_target(Change::Attributes, &BLOB, &others, ME, NOW).expect_err("refused");
        assert!(
            matches!(e, ClientError::CannotEditAttributes { .. }),
            "{e:?}"
        );
        assert_eq!(
            reason(e),
            format!(
                "this wallet {ME} has no live registration of it (`floe status {BLOB}` lists the blob's registrations; pass --registration to name one)"
            )
        );
    }

    #[test]
    fn a_shared_registration_is_final_and_skipped_by_default() {
        let all = [shared(reg(8, ME, false, 9)), reg(6, ME, false, 9)];
        let r = default_target(Change::Attributes, &BLOB, &all, ME, NOW).expect("target");
        assert_eq!(r.registration_id, 6);
        let only_shared = [shared(reg(8, ME, false, 9))];
        assert_eq!(
            reason(
                default_target(Change::Transfer, &BLOB, &only_shared, ME, NOW)
                    .expect_err("refused")
            ),
            "registration 8 is shared, which is final: nobody may transfer it or change its attributes"
        );
        assert_eq!(
            reason(
                default_target(Change::Share, &BLOB, &only_shared, ME, NOW).expect_err("refused")
            ),
            "registration 8 is shared already"
        );
    }

    #[test]
    fn only_a_permanent_live_registration_can_be_shared() {
        let all = [reg(9, ME, true, 9), reg(4, ME, false, 9)];
        let r = default_target(Change::Share, &BLOB, &all, ME, NOW).expect("the permanent one");
        assert_eq!(r.registration_id, 4);
        let deletable = [reg(9, ME, true, 9)];
        assert_eq!(
            reason(default_target(Change::Share, &BLOB, &deletable, ME, NOW).expect_err("refused")),
            "registration 9 is deletable; only a permanent registration can be shared (store the blob without --deletable)"
        );
        // Named explicitly: an expired one may be transferred, not shared.
        let expired = reg(4, ME, false, NOW);
        assert_eq!(unfit(Change::Transfer, &expired, ME, NOW), None);
        assert_eq!(
            unfit(Change::Share, &expired, ME, NOW).as_deref(),
            Some("registration 4 is expired: only a live registration can be shared")
        );
    }

    #[test]
    fn a_named_registration_must_be_the_callers_and_not_deleted() {
        let hers = reg(3, ALICE, false, 9);
        let expected = format!("registration 3 belongs to {ALICE}, not to this wallet {ME}");
        for change in [Change::Transfer, Change::Attributes, Change::Share] {
            assert_eq!(unfit(change, &hers, ME, NOW), Some(expected.clone()));
        }
        assert_eq!(
            unfit(Change::Attributes, &deleted(reg(3, ME, true, 9)), ME, NOW).as_deref(),
            Some("registration 3 is deleted")
        );
        // Anyone funds a live shared registration, nobody an unshared or expired one.
        assert_eq!(unfit(Change::Fund, &shared(hers.clone()), ME, NOW), None);
        assert!(
            unfit(Change::Fund, &hers, ME, NOW)
                .is_some_and(|r| r.starts_with("registration 3 is not shared"))
        );
        assert_eq!(
            unfit(Change::Fund, &shared(reg(3, ALICE, false, NOW)), ME, NOW).as_deref(),
            Some("registration 3 is expired: only a live shared registration can be funded")
        );
    }

    #[test]
    fn fund_targets_the_longest_lived_shared_registration_of_anyone() {
        let all = [
            reg(9, ME, false, 50), // not shared
            shared(reg(8, ALICE, false, 12)),
            shared(reg(7, ME, false, 12)), // as long, older: wins
            shared(reg(6, ALICE, false, 10)),
            shared(reg(5, ALICE, false, NOW)), // expired
        ];
        assert_eq!(
            fund_target(&all, &BLOB, NOW).map(|r| r.registration_id),
            Some(7)
        );
        assert_eq!(fund_target(&all[..1], &BLOB, NOW), None);
    }

    #[test]
    fn reads_show_the_callers_newest_registration_else_the_first() {
        let all = [
            reg(9, ALICE, false, 9),
            deleted(reg(8, ME, true, 9)),
            reg(5, ME, false, NOW), // expired, still ours
            reg(2, ME, false, 9),
        ];
        assert_eq!(read_target(&all, ME, 1), 5);
        assert_eq!(read_target(&all[..2], ME, 1), 1);
        assert_eq!(read_target(&[], ME, 4), 4);
    }

    #[test]
    fn attribute_limits_are_checked_before_sending() {
        assert!(check_attribute("k", "").is_ok());
        assert!(check_attribute(&"k".repeat(64), &"v".repeat(1024)).is_ok());
        let msg = |r: Result<(), ClientError>| r.expect_err("refused").to_string();
        assert_eq!(
            msg(check_attribute("", "v")),
            "invalid attribute: key \"\" is 0 bytes; a key has 1 to 64 bytes"
        );
        assert!(
            msg(check_attribute(&"k".repeat(65), "v"))
                .ends_with("is 65 bytes; a key has 1 to 64 bytes")
        );
        assert_eq!(
            msg(check_attribute("k", &"v".repeat(1025))),
            "invalid attribute: the value of \"k\" is 1025 bytes; a value has at most 1024 bytes"
        );
        // Bytes, not characters: 33 two-byte characters are 66 bytes.
        assert!(check_key(&"é".repeat(33)).is_err());

        let full: Vec<Attribute> = (0..16)
            .map(|i| Attribute {
                key: format!("k{i}"),
                value: String::new(),
            })
            .collect();
        assert!(check_room(&BLOB, 3, &full[..15], "new").is_ok());
        assert!(check_room(&BLOB, 3, &full, "k7").is_ok(), "replacing a key");
        let e = check_room(&BLOB, 3, &full, "new").expect_err("refused");
        assert!(
            matches!(e, ClientError::CannotEditAttributes { .. }),
            "{e:?}"
        );
        assert_eq!(
            reason(e),
            "registration 3 has 16 attributes, the most a registration may have: remove one first (`floe attr rm`)"
        );
    }

    #[test]
    fn extensions_stop_at_the_furthest_epoch_sold() {
        assert!(check_extension(&BLOB, 1, 10, 193, NOW).is_ok()); // ends at 203 = 3 + 200
        let e = check_extension(&BLOB, 1, 10, 194, NOW).expect_err("refused");
        assert!(reason(e).ends_with("fund at most 193 epochs now"));
        assert_eq!(
            reason(check_extension(&BLOB, 1, 10, 0, NOW).expect_err("refused")),
            "fund at least 1 epoch (--epochs)"
        );
    }

    fn reverted<E: SolError>(err: E) -> ChainError {
        ChainError::Reverted {
            call: "setAttribute",
            revert: Revert::decode(err.abi_encode().into()),
        }
    }

    #[test]
    fn registry_reverts_map_to_the_client_side_errors() {
        let owner = BlobRegistry::NotRegistrationOwner {
            registrationId: U256::from(3),
            owner: ALICE,
            caller: ME,
        };
        let e = map_revert(Change::Attributes, &BLOB, 3, reverted(owner));
        assert_eq!(
            e.to_string(),
            format!(
                "cannot change the attributes of blob {BLOB}: registration 3 belongs to {ALICE}, not to this wallet {ME}"
            )
        );
        let missing = BlobRegistry::AttributeNotFound {
            registrationId: U256::from(3),
            key: "colour".into(),
        };
        match map_revert(Change::Attributes, &BLOB, 3, reverted(missing)) {
            ClientError::AttributeNotFound {
                registration_id: 3,
                key,
                ..
            } => assert_eq!(key, "colour"),
            other => panic!("{other:?}"),
        }
        let full = BlobRegistry::TooManyAttributes {
            registrationId: U256::from(3),
            maxAttributes: U256::from(16),
        };
        assert!(matches!(
            map_revert(Change::Attributes, &BLOB, 3, reverted(full)),
            ClientError::CannotEditAttributes { .. }
        ));
        let permanent = BlobRegistry::RegistrationNotPermanent {
            registrationId: U256::from(3),
        };
        assert!(
            reason(map_revert(Change::Share, &BLOB, 3, reverted(permanent)))
                .starts_with("registration 3 is deletable")
        );
        let funds = BlobRegistry::InsufficientFunds {
            registrationId: U256::from(3),
            balance: U256::from(500_000_000u64),
            cost: U256::from(2_000_000_000u64),
        };
        assert_eq!(
            reason(map_revert(Change::Fund, &BLOB, 3, reverted(funds))),
            "the fund of registration 3 holds 0.5 WAL and the extension costs 2 WAL (the price changed?): run `floe fund` again"
        );
        let shared = BlobRegistry::RegistrationIsShared {
            registrationId: U256::from(3),
        };
        assert!(matches!(
            map_revert(Change::Transfer, &BLOB, 3, reverted(shared)),
            ClientError::CannotTransfer { .. }
        ));
        // Anything else stays the chain's error, with its own hint.
        let other = ChainError::Reverted {
            call: "fundSharedRegistration",
            revert: Revert {
                name: "ERC20InsufficientBalance".into(),
                rendered: "ERC20InsufficientBalance(..)".into(),
                data: Default::default(),
            },
        };
        assert!(matches!(
            map_revert(Change::Fund, &BLOB, 3, other),
            ClientError::Chain(ChainError::Reverted { .. })
        ));
    }
}
