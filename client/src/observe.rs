//! Progress of a store for services: [`StoreEvent`]s, one per phase of [`Client::store`],
//! handed to the [`StoreObserver`] of [`StoreOptions::observer`].
//!
//! A store emits, in this order: [`Encoding`](StoreEvent::Encoding),
//! [`Encoded`](StoreEvent::Encoded), then either [`Done`](StoreEvent::Done) at once (the blob
//! is already certified), or [`Registering`](StoreEvent::Registering) (only when it pays for a
//! new registration), [`Registered`](StoreEvent::Registered), [`Uploading`](StoreEvent::Uploading)
//! (once when uploads to a committee start, then once per node that confirmed; again from zero
//! when the epoch changes and the blob goes to the new committee), [`Certifying`](StoreEvent::Certifying),
//! [`Transferring`](StoreEvent::Transferring) (only when storing for another owner) and
//! [`Done`](StoreEvent::Done). A store that fails stops emitting; its error is the result.
//!
//! [`Client::store`]: crate::Client::store
//! [`StoreOptions::observer`]: crate::StoreOptions::observer

use std::{fmt, sync::Arc};

use floe_core::ids::BlobId;
use serde::Serialize;

use crate::client::{StoreOutcome, serialize_display};

/// One phase of a store. Serializes as JSON with a `phase` tag, e.g.
/// `{"phase":"uploading","epoch":3,"confirmed_shards":40,"needed_shards":67,"n_shards":100}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
#[non_exhaustive]
pub enum StoreEvent {
    /// Encoding started.
    Encoding {
        /// Unencoded size in bytes.
        size: u64,
    },
    /// The blob is encoded: its id is known.
    Encoded {
        /// The blob id.
        #[serde(serialize_with = "serialize_display")]
        blob_id: BlobId,
        /// Unencoded size in bytes.
        size: u64,
    },
    /// Paying for and registering a new registration (approve and register transactions).
    Registering {
        /// Epochs of storage bought.
        epochs: u32,
    },
    /// The registration that the upload is for: new, or an earlier uncertified one of ours.
    Registered {
        /// The registration.
        registration_id: u64,
        /// Whether it is an earlier registration reused without paying again.
        reused: bool,
        /// The first epoch it no longer stores the blob.
        end_epoch: u32,
    },
    /// Uploading to the committee of `epoch`: nodes holding `confirmed_shards` shards have
    /// confirmed so far, `needed_shards` certify.
    Uploading {
        /// The epoch of the committee uploaded to.
        epoch: u32,
        /// Shards whose nodes confirmed so far.
        confirmed_shards: u64,
        /// Shards a certificate needs (`3w >= 2n+1`).
        needed_shards: u64,
        /// Total shards.
        n_shards: u16,
    },
    /// Sending the certificate to the chain.
    Certifying {
        /// Shards whose nodes' confirmations it aggregates.
        confirmed_shards: u64,
    },
    /// Handing a new registration over to the owner the store is for
    /// ([`StoreOptions::owner`](crate::StoreOptions::owner)).
    Transferring {
        /// The registration.
        registration_id: u64,
        /// Its new owner.
        #[serde(serialize_with = "crate::client::serialize_display")]
        to: alloy::primitives::Address,
    },
    /// The store finished: the blob is certified for the request.
    Done {
        /// The registration that stores the blob.
        registration_id: u64,
        /// How the store ended.
        outcome: StoreOutcome,
    },
}

/// Called with each [`StoreEvent`] of a store, synchronously on the store's task: it should
/// return quickly (e.g. send the event on a channel). Compares equal only to its clones.
#[derive(Clone)]
pub struct StoreObserver(Arc<dyn Fn(StoreEvent) + Send + Sync>);

impl StoreObserver {
    /// An observer calling `f`.
    pub fn new(f: impl Fn(StoreEvent) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    /// Hands `event` to the observer.
    pub fn notify(&self, event: StoreEvent) {
        (self.0)(event);
    }
}

impl fmt::Debug for StoreObserver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreObserver(..)")
    }
}

impl PartialEq for StoreObserver {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for StoreObserver {}

/// Notifies `observer`, if any, of the event `make` builds (built only when observed).
pub(crate) fn notify(observer: Option<&StoreObserver>, make: impl FnOnce() -> StoreEvent) {
    if let Some(o) = observer {
        o.notify(make());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn events_serialize_with_their_phase() {
        let id = BlobId([0xab; 32]);
        let cases = [
            (
                StoreEvent::Encoding { size: 5 },
                serde_json::json!({"phase": "encoding", "size": 5}),
            ),
            (
                StoreEvent::Encoded {
                    blob_id: id,
                    size: 5,
                },
                serde_json::json!({"phase": "encoded", "blob_id": id.to_string(), "size": 5}),
            ),
            (
                StoreEvent::Registering { epochs: 2 },
                serde_json::json!({"phase": "registering", "epochs": 2}),
            ),
            (
                StoreEvent::Registered {
                    registration_id: 3,
                    reused: false,
                    end_epoch: 9,
                },
                serde_json::json!({"phase": "registered", "registration_id": 3, "reused": false, "end_epoch": 9}),
            ),
            (
                StoreEvent::Uploading {
                    epoch: 4,
                    confirmed_shards: 2,
                    needed_shards: 3,
                    n_shards: 4,
                },
                serde_json::json!({"phase": "uploading", "epoch": 4, "confirmed_shards": 2, "needed_shards": 3, "n_shards": 4}),
            ),
            (
                StoreEvent::Certifying {
                    confirmed_shards: 4,
                },
                serde_json::json!({"phase": "certifying", "confirmed_shards": 4}),
            ),
            (
                StoreEvent::Done {
                    registration_id: 3,
                    outcome: StoreOutcome::NewlyCertified,
                },
                serde_json::json!({"phase": "done", "registration_id": 3, "outcome": "newly_certified"}),
            ),
        ];
        for (event, json) in cases {
            assert_eq!(serde_json::to_value(&event).expect("serializes"), json);
        }
    }

    #[test]
    fn an_observer_sees_what_is_notified_and_equals_only_its_clones() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let observer = StoreObserver::new(move |e| sink.lock().expect("lock").push(e));
        notify(Some(&observer), || StoreEvent::Encoding { size: 1 });
        notify(None, || unreachable!("not built without an observer"));
        observer.notify(StoreEvent::Certifying {
            confirmed_shards: 2,
        });
        assert_eq!(
            *seen.lock().expect("lock"),
            vec![
                StoreEvent::Encoding { size: 1 },
                StoreEvent::Certifying {
                    confirmed_shards: 2
                }
            ]
        );
        assert_eq!(observer, observer.clone());
        assert_ne!(observer, StoreObserver::new(|_| {}));
        assert_eq!(format!("{observer:?}"), "StoreObserver(..)");
    }
}
