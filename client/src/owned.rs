//! The caller's registrations, from the chain: [`Client::list_registrations`] (`floe ls`).
//!
//! The registry indexes registrations by blob, not by owner, so the candidates come from the
//! logs (those the caller registered and those transferred to it, newest first; see
//! [`floe_chain::Chain::registration_ids_held_by`]) and each is read back: only those the caller
//! owns now are listed, with their state in the current epoch. Deleted and expired ones are
//! listed too unless [`ListOptions::live_only`] is set.

use floe_core::ids::BlobId;
use serde::Serialize;

use crate::{
    client::{Client, RegistrationView, serialize_display},
    error::ClientError,
};

/// Most registrations [`Client::list_registrations`] reads by default.
pub const DEFAULT_LIST_LIMIT: usize = 1000;

/// What [`Client::list_registrations`] lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListOptions {
    /// Most registrations read back from the chain (newest first).
    pub limit: usize,
    /// Only registrations that keep their blob alive (registered or certified, not expired).
    pub live_only: bool,
}

impl Default for ListOptions {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIST_LIMIT,
            live_only: false,
        }
    }
}

/// One registration of [`Client::list_registrations`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listed {
    /// The blob it stores.
    #[serde(serialize_with = "serialize_display")]
    pub blob_id: BlobId,
    /// The blob's unencoded size in bytes.
    pub size: u64,
    /// The registration.
    #[serde(flatten)]
    pub registration: RegistrationView,
}

/// The result of [`Client::list_registrations`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listing {
    /// The current epoch (states are as of it).
    pub current_epoch: u32,
    /// The registrations, newest first.
    pub registrations: Vec<Listed>,
    /// True when [`ListOptions::limit`] candidates were read: older ones may exist.
    pub truncated: bool,
}

impl Client {
    /// The registrations the caller owns now, newest first (see the module docs).
    pub async fn list_registrations(&self, opts: &ListOptions) -> Result<Listing, ClientError> {
        let me = self.address();
        let current = self.chain().current_epoch().await?;
        let ids = self
            .chain()
            .registration_ids_held_by(me, opts.limit)
            .await?;
        let truncated = opts.limit > 0 && ids.len() == opts.limit;
        let mut registrations = Vec::with_capacity(ids.len());
        for id in ids {
            let r = self.chain().registration(id).await?;
            if r.owner != me || (opts.live_only && !r.is_live(current)) {
                continue;
            }
            registrations.push(Listed {
                blob_id: r.blob_id,
                size: r.size,
                registration: RegistrationView::new(&r, current),
            });
        }
        Ok(Listing {
            current_epoch: current,
            registrations,
            truncated,
        })
    }
}
