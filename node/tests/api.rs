//! Handler tests through the router with tower's `oneshot`: no socket, no chain (a fake
//! [`BlobSource`] plays the registry).
#![allow(clippy::unwrap_used)]

use std::{
    collections::{BTreeMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    body::{Body, to_bytes},
    http::{Method, Request, StatusCode},
};
use floe_chain::{
    BlobStatusRecord, ChainError, Committee, Member, RegistrationRecord, RegistrationState,
    alloy::primitives::{Address, U256},
};
use floe_core::{
    bls::{SecretKey, Signature},
    encoding::{EncodedBlob, EncodingConfig, SliverKind},
    ids::BlobId,
    messages::{CertifyEntry, certify_message},
    metadata::BlobMetadata,
    recovery::RecoverySymbol,
    wire::Wire,
};
use floe_node::{
    BlobEntry, BlobSource, Confirmation, EpochView, Limits, NodeConfig, NodeState, Store, app,
};
use futures::future::BoxFuture;
use tower::ServiceExt;

const N: u16 = 10;
const EPOCH: u32 = 3;
const CHAIN_ID: u64 = 31337;

/// Plays the registry: registrations by id, and blob status computed from them as the
/// contract does (maxima over registrations not deleted).
#[derive(Default)]
struct FakeRegistry {
    registrations: Mutex<BTreeMap<u64, RegistrationRecord>>,
    invalid: Mutex<HashSet<BlobId>>,
    calls: std::sync::atomic::AtomicU64,
}

impl FakeRegistry {
    fn calls(&self) -> u64 {
        self.calls.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn status(&self, id: BlobId) -> BlobStatusRecord {
        let regs = self.registrations.lock().unwrap();
        let of: Vec<&RegistrationRecord> = regs.values().filter(|r| r.blob_id == id).collect();
        let alive: Vec<&&RegistrationRecord> = of
            .iter()
            .filter(|r| r.state != RegistrationState::Deleted)
            .collect();
        let max = |f: &dyn Fn(&RegistrationRecord) -> bool| {
            alive
                .iter()
                .filter(|r| f(r))
                .map(|r| r.end_epoch)
                .max()
                .unwrap_or(0)
        };
        BlobStatusRecord {
            blob_id: id,
            invalid: self.invalid.lock().unwrap().contains(&id),
            size: of.first().map_or(0, |r| r.size),
            encoding_type: of.first().map_or(0, |r| r.encoding_type),
            root: of.first().map_or([0; 32], |r| r.root),
            registrations: alive.len() as u32,
            first_registration_id: of.first().map_or(0, |r| r.registration_id),
            end_epoch: max(&|_| true),
            permanent_end_epoch: max(&|r| !r.deletable),
            certified_end_epoch: max(&|r| r.state == RegistrationState::Certified),
            permanent_certified_end_epoch: max(&|r| {
                !r.deletable && r.state == RegistrationState::Certified
            }),
        }
    }
}

impl BlobSource for FakeRegistry {
    fn blob_status(&self, id: BlobId) -> BoxFuture<'static, Result<BlobStatusRecord, ChainError>> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let r = self.status(id);
        Box::pin(async move { Ok(r) })
    }

    fn registration(
        &self,
        registration_id: u64,
    ) -> BoxFuture<'static, Result<RegistrationRecord, ChainError>> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let invalid = self.invalid.lock().unwrap().clone();
        let r = self
            .registrations
            .lock()
            .unwrap()
            .get(&registration_id)
            .cloned()
            .map(|mut r| {
                r.invalid = invalid.contains(&r.blob_id);
                r
            })
            .unwrap_or(RegistrationRecord {
                registration_id: 0,
                blob_id: BlobId([0; 32]),
                owner: Address::ZERO,
                size: 0,
                encoding_type: 0,
                deletable: false,
                state: RegistrationState::None,
                registered_epoch: 0,
                certified_epoch: 0,
                end_epoch: 0,
                storage_id: U256::ZERO,
                root: [0; 32],
                invalid: false,
                shared: false,
            });
        Box::pin(async move { Ok(r) })
    }
}

struct Harness {
    state: Arc<NodeState>,
    registry: Arc<FakeRegistry>,
    key: SecretKey,
    dir: std::path::PathBuf,
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn me() -> Address {
    Address::repeat_byte(0xAA)
}

fn registry_address() -> Address {
    Address::repeat_byte(0x42)
}

fn harness(name: &str, limits: Limits) -> Harness {
    harness_with(name, limits, 4)
}

fn harness_with(name: &str, limits: Limits, max_uploads: usize) -> Harness {
    let dir = std::env::temp_dir().join(format!("floe-node-api-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = Store::open(&dir).unwrap();
    let key = SecretKey::from_seed(&[1; 32]);
    let members = vec![
        Member {
            node: me(),
            public_key: key.public_key(),
            network_address: "127.0.0.1:1".into(),
            shards: vec![],
        },
        Member {
            node: Address::repeat_byte(0xBB),
            public_key: SecretKey::from_seed(&[2; 32]).public_key(),
            network_address: "127.0.0.1:2".into(),
            shards: vec![],
        },
    ];
    // This node holds shards 0..6, the other 6..10.
    let committee = Committee::new(EPOCH, N, members, vec![0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
    let registry = Arc::new(FakeRegistry::default());
    let state = Arc::new(NodeState::new(
        store,
        EncodingConfig::new(N).unwrap(),
        key.clone(),
        me(),
        CHAIN_ID,
        registry_address(),
        limits,
        max_uploads,
        EpochView::new(committee),
        registry.clone(),
    ));
    Harness {
        state,
        registry,
        key,
        dir,
    }
}

fn default_limits() -> Limits {
    Limits {
        max_metadata_bytes: 1 << 20,
        max_sliver_bytes: 1 << 20,
        upload_wait: Duration::from_secs(5),
        ..Limits::default()
    }
}

fn encode(len: usize, seed: u8) -> EncodedBlob {
    let data: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect();
    EncodingConfig::new(N).unwrap().encode(&data).unwrap()
}

impl Harness {
    /// Registers `blob` (deletable) in `state`; returns the registration id.
    fn register(&self, blob: &EncodedBlob, state: RegistrationState, end_epoch: u32) -> u64 {
        self.register_with(blob, state, end_epoch, true)
    }

    fn register_with(
        &self,
        blob: &EncodedBlob,
        state: RegistrationState,
        end_epoch: u32,
        deletable: bool,
    ) -> u64 {
        let mut regs = self.registry.registrations.lock().unwrap();
        let id = regs.keys().last().map_or(1, |k| k + 1);
        regs.insert(
            id,
            RegistrationRecord {
                registration_id: id,
                blob_id: blob.blob_id,
                owner: Address::repeat_byte(id as u8),
                size: blob.metadata.unencoded_length,
                encoding_type: 1,
                deletable,
                state,
                registered_epoch: 1,
                certified_epoch: 0,
                end_epoch,
                storage_id: U256::from(id),
                root: blob.metadata.root(),
                invalid: false,
                shared: false,
            },
        );
        id
    }

    fn set_state(&self, registration_id: u64, state: RegistrationState) {
        self.registry
            .registrations
            .lock()
            .unwrap()
            .get_mut(&registration_id)
            .unwrap()
            .state = state;
    }

    /// Writes the registry's current status of `blob` into the node's entry, as the follower does
    /// on an event.
    fn follow_status(&self, blob: &EncodedBlob) {
        let status = self.registry.status(blob.blob_id);
        self.state
            .store
            .modify_blob(
                &blob.blob_id,
                Box::new(move |old| {
                    let mut e = old.cloned().unwrap();
                    e.set_status(&status, EPOCH);
                    e.rev += 1;
                    Some(e)
                }),
            )
            .unwrap();
    }

    fn invalidate(&self, blob: &EncodedBlob) {
        self.registry.invalid.lock().unwrap().insert(blob.blob_id);
    }

    fn confirmation_uri(blob: &EncodedBlob, registration_id: u64) -> String {
        floe_core::protocol::routes::confirmation(&blob.blob_id, registration_id)
    }

    async fn upload_all(&self, blob: &EncodedBlob) {
        assert_eq!(self.put_metadata(blob).await.0, StatusCode::OK);
        for p in self.my_pairs(blob) {
            for kind in [SliverKind::Primary, SliverKind::Secondary] {
                assert_eq!(self.put_sliver(blob, p, kind).await.0, StatusCode::OK);
            }
        }
    }

    async fn call(&self, method: Method, uri: &str, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::from(body))
            .unwrap();
        let resp = app(self.state.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        (
            status,
            to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap()
                .to_vec(),
        )
    }

    async fn put_metadata(&self, blob: &EncodedBlob) -> (StatusCode, Vec<u8>) {
        self.call(
            Method::PUT,
            &format!("/v1/blobs/{}/metadata", blob.blob_id),
            blob.metadata.to_wire(),
        )
        .await
    }

    async fn put_sliver(
        &self,
        blob: &EncodedBlob,
        pair: u16,
        kind: SliverKind,
    ) -> (StatusCode, Vec<u8>) {
        let p = &blob.pairs[usize::from(pair)];
        let s = if kind == SliverKind::Primary {
            &p.primary
        } else {
            &p.secondary
        };
        self.call(
            Method::PUT,
            &format!("/v1/blobs/{}/slivers/{pair}/{kind}", blob.blob_id),
            s.to_wire(),
        )
        .await
    }

    fn my_pairs(&self, blob: &EncodedBlob) -> Vec<u16> {
        self.state.my_pairs(&self.state.view(), &blob.blob_id)
    }

    fn other_pair(&self, blob: &EncodedBlob) -> u16 {
        (0..N).find(|p| !self.my_pairs(blob).contains(p)).unwrap()
    }
}

fn code(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap();
    v["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn metadata_is_stored_and_served() {
    let h = harness("meta-ok", default_limits());
    let blob = encode(1000, 1);
    h.register(&blob, RegistrationState::Registered, 10);
    let (status, _) = h.put_metadata(&blob).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = h
        .call(
            Method::GET,
            &format!("/v1/blobs/{}/metadata", blob.blob_id),
            vec![],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(BlobMetadata::from_wire(&body).unwrap(), blob.metadata);
}

#[tokio::test]
async fn metadata_for_an_unregistered_blob_is_rejected_and_not_stored() {
    let h = harness("meta-unreg", default_limits());
    let blob = encode(1000, 2);
    let (status, body) = h.put_metadata(&blob).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::NOT_FOUND, "not_registered")
    );
    assert_eq!(h.state.store.metadata(&blob.blob_id).unwrap(), None);
    let (status, _) = h
        .call(
            Method::GET,
            &format!("/v1/blobs/{}/metadata", blob.blob_id),
            vec![],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn metadata_that_does_not_hash_to_the_id_is_rejected() {
    let h = harness("meta-mismatch", default_limits());
    let blob = encode(1000, 3);
    let other = encode(1000, 4);
    h.register(&blob, RegistrationState::Registered, 10);
    let (status, body) = h
        .call(
            Method::PUT,
            &format!("/v1/blobs/{}/metadata", blob.blob_id),
            other.metadata.to_wire(),
        )
        .await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "verification_failed")
    );
    assert_eq!(h.state.store.metadata(&blob.blob_id).unwrap(), None);
}

#[tokio::test]
async fn malformed_requests_are_bad_requests() {
    let h = harness("bad", default_limits());
    let blob = encode(100, 5);
    h.register(&blob, RegistrationState::Registered, 10);
    let id = blob.blob_id;
    let cases = [
        (
            Method::PUT,
            format!("/v1/blobs/{id}/metadata"),
            vec![1, 2, 3],
        ),
        (Method::GET, "/v1/blobs/0x1234/metadata".to_owned(), vec![]),
        (
            Method::GET,
            format!("/v1/blobs/{id}/slivers/99/primary"),
            vec![],
        ),
        (
            Method::GET,
            format!("/v1/blobs/{id}/slivers/1/tertiary"),
            vec![],
        ),
        (
            Method::GET,
            format!("/v1/blobs/{id}/recovery/1/primary/abc"),
            vec![],
        ),
    ];
    for (method, uri, body) in cases {
        let (status, resp) = h.call(method, &uri, body).await;
        assert_eq!(
            (status, code(&resp).as_str()),
            (StatusCode::BAD_REQUEST, "bad_request"),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn oversize_bodies_are_rejected_with_413() {
    let limits = Limits {
        max_metadata_bytes: 64,
        max_sliver_bytes: 64,
        upload_wait: Duration::from_secs(1),
        ..Limits::default()
    };
    let h = harness("oversize", limits);
    let blob = encode(1000, 6);
    h.register(&blob, RegistrationState::Registered, 10);
    let (status, body) = h.put_metadata(&blob).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );
    assert_eq!(h.state.store.metadata(&blob.blob_id).unwrap(), None);
    // The sliver check needs the metadata first (a 409 otherwise): store it directly.
    h.state
        .store
        .put_metadata(&blob.blob_id, &blob.metadata.to_wire())
        .unwrap();
    let pair = h.my_pairs(&blob)[0];
    let (status, _) = h.put_sliver(&blob, pair, SliverKind::Primary).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        h.state
            .store
            .held_slivers(&blob.blob_id)
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn slivers_are_checked_against_metadata_and_shards() {
    let h = harness("slivers", default_limits());
    let blob = encode(5000, 7);
    h.register(&blob, RegistrationState::Registered, 10);
    let mine = h.my_pairs(&blob)[0];

    // Before the metadata: 409.
    let (status, body) = h.put_sliver(&blob, mine, SliverKind::Primary).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::CONFLICT, "metadata_missing")
    );
    assert_eq!(h.put_metadata(&blob).await.0, StatusCode::OK);

    // Not this node's shard: 421.
    let theirs = h.other_pair(&blob);
    let (status, body) = h.put_sliver(&blob, theirs, SliverKind::Primary).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::MISDIRECTED_REQUEST, "not_my_shard")
    );

    // A corrupted sliver: 422, nothing stored.
    let mut bad = blob.pairs[usize::from(mine)].primary.clone();
    let last = bad.data.len() - 1;
    bad.data[last] ^= 1;
    let uri = format!("/v1/blobs/{}/slivers/{mine}/primary", blob.blob_id);
    let (status, body) = h.call(Method::PUT, &uri, bad.to_wire()).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "verification_failed")
    );
    assert!(
        h.state
            .store
            .held_slivers(&blob.blob_id)
            .unwrap()
            .is_empty()
    );

    // The secondary sent as the primary: 400.
    let (status, _) = h
        .call(
            Method::PUT,
            &uri,
            blob.pairs[usize::from(mine)].secondary.to_wire(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The right one: stored and served back byte for byte.
    assert_eq!(
        h.put_sliver(&blob, mine, SliverKind::Primary).await.0,
        StatusCode::OK
    );
    let (status, body) = h.call(Method::GET, &uri, vec![]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, blob.pairs[usize::from(mine)].primary.to_wire());
    let rejected = h
        .state
        .metrics
        .uploads_rejected
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(rejected, 4);
}

#[tokio::test]
async fn deleted_invalid_and_expired_blobs_accept_nothing() {
    let h = harness("gone", default_limits());
    for (seed, what) in [(8, "deleted"), (9, "invalid"), (10, "expired")] {
        let blob = encode(100, seed);
        let (state, end) = if what == "expired" {
            (RegistrationState::Certified, EPOCH)
        } else {
            (RegistrationState::Registered, 10)
        };
        let r = h.register(&blob, state, end);
        match what {
            "deleted" => h.set_state(r, RegistrationState::Deleted),
            "invalid" => h.invalidate(&blob),
            _ => {}
        }
        let (status, body) = h.put_metadata(&blob).await;
        assert_eq!(
            (status, code(&body).as_str()),
            (StatusCode::GONE, "gone"),
            "{what}"
        );
        let msg = serde_json::from_slice::<serde_json::Value>(&body).unwrap()["error"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(msg.contains(what), "{what}: {msg}");
        assert_eq!(h.state.store.metadata(&blob.blob_id).unwrap(), None);
        let (status, body) = h
            .call(Method::GET, &Harness::confirmation_uri(&blob, r), vec![])
            .await;
        assert_eq!(
            (status, code(&body).as_str()),
            (StatusCode::GONE, "gone"),
            "{what}"
        );
    }
}

#[tokio::test]
async fn confirmation_only_once_all_slivers_are_held() {
    let h = harness("confirm", default_limits());
    let blob = encode(3000, 11);
    let r = h.register(&blob, RegistrationState::Registered, 10);
    let uri = Harness::confirmation_uri(&blob, r);
    let (status, body) = h.call(Method::GET, &uri, vec![]).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::CONFLICT, "incomplete")
    );

    assert_eq!(h.put_metadata(&blob).await.0, StatusCode::OK);
    let pairs = h.my_pairs(&blob);
    assert_eq!(pairs.len(), 6);
    for &p in &pairs {
        assert_eq!(
            h.put_sliver(&blob, p, SliverKind::Primary).await.0,
            StatusCode::OK
        );
    }
    let (status, _) = h.call(Method::GET, &uri, vec![]).await;
    assert_eq!(status, StatusCode::CONFLICT, "secondaries still missing");
    for &p in &pairs {
        assert_eq!(
            h.put_sliver(&blob, p, SliverKind::Secondary).await.0,
            StatusCode::OK
        );
    }
    let (status, body) = h.call(Method::GET, &uri, vec![]).await;
    assert_eq!(status, StatusCode::OK);
    let c: Confirmation = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (c.epoch, c.registration_id, c.deletable),
        (EPOCH, Some(r), Some(true))
    );
    let sig = Signature::from_hex(&c.signature).unwrap();
    let msg = certify_message(
        CHAIN_ID,
        registry_address().into_array(),
        EPOCH,
        &[CertifyEntry {
            blob_id: blob.blob_id.0,
            registration_id: r,
            deletable: true,
        }],
    );
    sig.verify(&h.key.public_key(), &msg).unwrap();

    // Status reflects it.
    let (status, body) = h
        .call(
            Method::GET,
            &format!("/v1/blobs/{}/status", blob.blob_id),
            vec![],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let s: floe_node::BlobStatus = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (s.state.as_str(), s.complete, s.pairs_held.len()),
        ("registered", true, 6)
    );
}

#[tokio::test]
async fn recovery_symbols_verify_against_the_metadata() {
    let h = harness("recovery", default_limits());
    let blob = encode(4000, 12);
    h.register(&blob, RegistrationState::Certified, 10);
    assert_eq!(h.put_metadata(&blob).await.0, StatusCode::OK);
    let p = h.my_pairs(&blob)[0];
    assert_eq!(
        h.put_sliver(&blob, p, SliverKind::Secondary).await.0,
        StatusCode::OK
    );
    let cfg = EncodingConfig::new(N).unwrap();
    let (status, body) = h
        .call(
            Method::GET,
            &format!("/v1/blobs/{}/recovery/{p}/secondary/3", blob.blob_id),
            vec![],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let sym = RecoverySymbol::from_wire(&body).unwrap();
    assert_eq!(
        (sym.source_pair, sym.index, sym.source_kind),
        (p, 3, SliverKind::Secondary)
    );
    sym.verify(&blob.metadata, &cfg).unwrap();

    let (status, body) = h
        .call(
            Method::GET,
            &format!(
                "/v1/blobs/{}/recovery/{p}/secondary?indices=0,5,9",
                blob.blob_id
            ),
            vec![],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let syms = floe_node::peers::decode_symbol_list(&body, usize::from(N)).unwrap();
    assert_eq!(
        syms.iter().map(|s| s.index).collect::<Vec<_>>(),
        vec![0, 5, 9]
    );
    for s in &syms {
        s.verify(&blob.metadata, &cfg).unwrap();
    }
    // A sliver the node does not hold: 404.
    let (status, _) = h
        .call(
            Method::GET,
            &format!("/v1/blobs/{}/recovery/{p}/primary/3", blob.blob_id),
            vec![],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn health_and_metrics() {
    let h = harness("health", default_limits());
    let (status, body) = h.call(Method::GET, "/v1/health", vec![]).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["epoch"], EPOCH);
    assert_eq!(v["shards"], 6);
    let (status, body) = h.call(Method::GET, "/metrics", vec![]).await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains("\nfloe_node_epoch 3\n"), "{text}");
    assert!(text.contains("# TYPE floe_node_slivers_stored_total counter"));
}

#[tokio::test]
async fn batch_recovery_indices_are_deduplicated_and_bounded() {
    let h = harness("recovery-batch", default_limits());
    let blob = encode(4000, 13);
    h.register(&blob, RegistrationState::Certified, 10);
    assert_eq!(h.put_metadata(&blob).await.0, StatusCode::OK);
    let p = h.my_pairs(&blob)[0];
    assert_eq!(
        h.put_sliver(&blob, p, SliverKind::Primary).await.0,
        StatusCode::OK
    );
    let uri = |list: &str| {
        format!(
            "/v1/blobs/{}/recovery/{p}/primary?indices={list}",
            blob.blob_id
        )
    };

    // Repeats are answered once each, in ascending order.
    let (status, body) = h.call(Method::GET, &uri("9,0,5,9,0,0"), vec![]).await;
    assert_eq!(status, StatusCode::OK);
    let syms = floe_node::peers::decode_symbol_list(&body, usize::from(N)).unwrap();
    assert_eq!(
        syms.iter().map(|s| s.index).collect::<Vec<_>>(),
        vec![0, 5, 9]
    );

    // Every index once is fine; one more entry than the expansion has symbols is not.
    let all: Vec<String> = (0..N).map(|i| i.to_string()).collect();
    let (status, body) = h.call(Method::GET, &uri(&all.join(",")), vec![]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        floe_node::peers::decode_symbol_list(&body, usize::from(N))
            .unwrap()
            .len(),
        usize::from(N)
    );
    let too_many = vec!["1"; usize::from(N) + 1].join(",");
    for list in [too_many.as_str(), "", "1,,2", "1,10"] {
        let (status, body) = h.call(Method::GET, &uri(list), vec![]).await;
        assert_eq!(
            (status, code(&body).as_str()),
            (StatusCode::BAD_REQUEST, "bad_request"),
            "{list:?}"
        );
    }
    let served = h
        .state
        .metrics
        .symbols_served
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(served, 3 + u64::from(N));
}

#[tokio::test]
async fn an_upload_holds_its_slot_while_its_body_streams_in() {
    let limits = Limits {
        upload_wait: Duration::from_millis(50),
        ..default_limits()
    };
    let h = harness_with("upload-slot", limits, 1);
    let blob = encode(1000, 14);
    h.register(&blob, RegistrationState::Registered, 10);
    let wire = blob.metadata.to_wire();

    // A metadata upload whose body arrives in two parts; the second is held back.
    let (tx, rx) = futures::channel::mpsc::unbounded::<Result<Vec<u8>, std::io::Error>>();
    tx.unbounded_send(Ok(wire[..10].to_vec())).unwrap();
    let req = Request::builder()
        .method(Method::PUT)
        .uri(format!("/v1/blobs/{}/metadata", blob.blob_id))
        .body(Body::from_stream(rx))
        .unwrap();
    let router = app(h.state.clone());
    let first = tokio::spawn(async move { router.oneshot(req).await.unwrap().status() });

    // The slot is taken while the body is still streaming in...
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while h.state.free_upload_slots() != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the streaming upload never took the slot"
        );
        tokio::task::yield_now().await;
    }
    // ...so another upload is turned away before its body is read, while reads still work.
    let (status, body) = h.put_metadata(&blob).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "busy")
    );
    assert_eq!(
        h.call(Method::GET, "/v1/health", vec![]).await.0,
        StatusCode::OK
    );

    // The rest of the body arrives: the upload is stored and the slot is free again.
    tx.unbounded_send(Ok(wire[10..].to_vec())).unwrap();
    drop(tx);
    assert_eq!(first.await.unwrap(), StatusCode::OK);
    assert_eq!(h.state.free_upload_slots(), 1);
    assert_eq!(
        h.state.store.metadata(&blob.blob_id).unwrap(),
        Some(wire.clone())
    );
}

#[tokio::test]
async fn garbage_collection_asks_the_chain_before_deleting() {
    let h = harness("gc", default_limits());
    let store = &h.state.store;
    let stale = encode(500, 15);
    let deleted = encode(500, 16);
    let live = encode(500, 17);
    let entry = |registrations, end_epoch, certified_end_epoch| BlobEntry {
        size: 500,
        registrations,
        end_epoch,
        certified_end_epoch,
        ..BlobEntry::default()
    };
    // The store thinks `stale` expired at this epoch, but another registration of it was
    // made on-chain since (the follower is behind).
    store
        .put_blob(&stale.blob_id, &entry(1, EPOCH, EPOCH))
        .unwrap();
    h.register(&stale, RegistrationState::Certified, EPOCH);
    h.register(&stale, RegistrationState::Certified, EPOCH + 5);
    // `deleted`: its only registration is deleted, in the store and on-chain.
    store.put_blob(&deleted.blob_id, &entry(0, 10, 0)).unwrap();
    let r = h.register(&deleted, RegistrationState::Registered, 10);
    h.set_state(r, RegistrationState::Deleted);
    // `live` is live in the store: the chain is not asked, it is queued for recovery.
    store.put_blob(&live.blob_id, &entry(1, 10, 10)).unwrap();
    for b in [&stale, &deleted, &live] {
        store.put_metadata(&b.blob_id, b"meta").unwrap();
        store
            .put_sliver(&b.blob_id, 0, SliverKind::Primary, b"p")
            .unwrap();
        store
            .put_sliver(&b.blob_id, 0, SliverKind::Secondary, b"s")
            .unwrap();
    }

    let mut queued = floe_node::services::gc::collect_garbage(&h.state)
        .await
        .unwrap();
    queued.sort();
    let mut expected = vec![stale.blob_id, live.blob_id];
    expected.sort();
    assert_eq!(queued, expected);
    assert_eq!(
        h.registry.calls(),
        2,
        "only the two dead-looking entries are checked"
    );

    // The blob with a newer registration keeps its data; its entry is brought up to date.
    assert_eq!(store.held_slivers(&stale.blob_id).unwrap().len(), 2);
    assert!(store.has_metadata(&stale.blob_id).unwrap());
    let e = store.blob(&stale.blob_id).unwrap().unwrap();
    assert_eq!(
        (e.registrations, e.end_epoch, e.certified_end_epoch),
        (2, EPOCH + 5, EPOCH + 5)
    );
    // The deleted blob's data is gone and its entry marked collected.
    assert!(store.held_slivers(&deleted.blob_id).unwrap().is_empty());
    assert!(!store.has_metadata(&deleted.blob_id).unwrap());
    assert!(store.blob(&deleted.blob_id).unwrap().unwrap().collected);
    assert_eq!(store.held_slivers(&live.blob_id).unwrap().len(), 2);
    let collected = || {
        h.state
            .metrics
            .blobs_collected
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    assert_eq!(collected(), 1);

    // A second pass finds nothing more to do.
    floe_node::services::gc::collect_garbage(&h.state)
        .await
        .unwrap();
    assert_eq!(collected(), 1);
    assert_eq!(store.held_slivers(&stale.blob_id).unwrap().len(), 2);
}

#[tokio::test]
async fn confirmation_and_status_use_one_epoch_view() {
    // After an epoch change to a committee where this node holds nothing, it neither signs
    // nor claims the pairs of the old epoch.
    let h = harness("confirm-view", default_limits());
    let blob = encode(3000, 18);
    let r = h.register(&blob, RegistrationState::Registered, 10);
    h.upload_all(&blob).await;
    let uri = Harness::confirmation_uri(&blob, r);
    assert_eq!(h.call(Method::GET, &uri, vec![]).await.0, StatusCode::OK);
    let old = h.state.view();
    let members = old.committee.members.clone();
    h.state.set_view(EpochView::new(Committee::new(
        EPOCH + 1,
        N,
        members,
        vec![1; usize::from(N)],
    )));
    let (status, body) = h.call(Method::GET, &uri, vec![]).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let (_, body) = h
        .call(
            Method::GET,
            &format!("/v1/blobs/{}/status", blob.blob_id),
            vec![],
        )
        .await;
    let s: floe_node::BlobStatus = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (s.epoch, s.pairs_expected.len(), s.complete),
        (EPOCH + 1, 0, false)
    );
}

#[tokio::test]
async fn bodies_are_capped_at_the_exact_size_the_blob_allows() {
    // The configured caps (1 MiB) are far above what this 1000-byte blob can need.
    let h = harness("exact-caps", default_limits());
    let blob = encode(1000, 20);
    h.register(&blob, RegistrationState::Registered, 10);
    let id = blob.blob_id;
    let mut meta = blob.metadata.to_wire();
    meta.push(0);
    let (status, body) = h
        .call(Method::PUT, &format!("/v1/blobs/{id}/metadata"), meta)
        .await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );
    assert_eq!(h.put_metadata(&blob).await.0, StatusCode::OK);

    let pair = h.my_pairs(&blob)[0];
    let mut sliver = blob.pairs[usize::from(pair)].secondary.to_wire();
    let exact = sliver.len();
    sliver.push(0);
    let uri = format!("/v1/blobs/{id}/slivers/{pair}/secondary");
    let (status, body) = h.call(Method::PUT, &uri, sliver).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );
    let msg: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(
        msg["error"]
            .as_str()
            .unwrap()
            .contains(&format!("at most {exact} bytes"))
    );
    assert!(h.state.store.held_slivers(&id).unwrap().is_empty());

    // An inconsistency proof: at most n-f symbols with proofs of this blob's symbol size.
    let limit = h.state.wire.inconsistency_proof(1000) as usize;
    let uri = format!("/v1/blobs/{id}/inconsistency");
    let (status, body) = h.call(Method::POST, &uri, vec![0; limit + 1]).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );
    let (status, body) = h.call(Method::POST, &uri, vec![0; limit]).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    // 128 MiB announced is refused before a byte of it is read.
    let req = Request::builder()
        .method(Method::POST)
        .uri(&uri)
        .header("content-length", (128u64 << 20).to_string())
        .body(Body::empty())
        .unwrap();
    let resp = app(h.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn proofs_over_max_proof_bytes_get_413_unread_naming_the_setting() {
    let exact = encode(1000, 20);
    let limit = EncodingConfig::new(N)
        .map(floe_core::protocol::WireLimits::new)
        .unwrap()
        .inconsistency_proof(1000);
    // At the cap the proof is read (and these zeros are rejected as malformed).
    let h = harness(
        "proof-cap-at",
        Limits {
            max_proof_bytes: limit as usize,
            ..default_limits()
        },
    );
    h.register(&exact, RegistrationState::Registered, 10);
    assert_eq!(h.put_metadata(&exact).await.0, StatusCode::OK);
    let uri = format!("/v1/blobs/{}/inconsistency", exact.blob_id);
    let (status, body) = h.call(Method::POST, &uri, vec![0; limit as usize]).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "bad_request")
    );

    // One byte under this blob's proof size: refused before a byte is read, even though the
    // body never finishes arriving.
    let h = harness(
        "proof-cap-under",
        Limits {
            max_proof_bytes: limit as usize - 1,
            ..default_limits()
        },
    );
    h.register(&exact, RegistrationState::Registered, 10);
    assert_eq!(h.put_metadata(&exact).await.0, StatusCode::OK);
    let read = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = read.clone();
    let stream = futures::stream::once(async move {
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![0u8; limit as usize]))
    });
    let req = Request::builder()
        .method(Method::POST)
        .uri(&uri)
        .header("content-length", limit.to_string())
        .body(Body::from_stream(stream))
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(5), app(h.state.clone()).oneshot(req))
        .await
        .expect("answered without waiting for the body")
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body = to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    assert_eq!(code(&body), "too_large");
    let msg: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let msg = msg["error"].as_str().unwrap();
    assert!(
        msg.contains("raise max_proof_bytes") && msg.contains(&limit.to_string()),
        "{msg}"
    );
    assert!(
        !read.load(std::sync::atomic::Ordering::SeqCst),
        "the body was read"
    );
}

#[tokio::test]
async fn extractor_rejections_unknown_routes_and_methods_answer_json() {
    let h = harness("rejections", default_limits());
    let blob = encode(100, 21);
    h.register(&blob, RegistrationState::Certified, 10);
    let id = blob.blob_id;
    for (method, uri, status, want) in [
        (
            Method::GET,
            "/v1/blobs/%FF/metadata".to_owned(),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            Method::GET,
            format!("/v1/blobs/{id}/slivers/%FF/primary"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            Method::GET,
            format!("/v1/blobs/{id}/recovery/1/primary"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            Method::GET,
            format!("/v1/blobs/{id}/recovery/1/primary?indices=1&indices=2"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            Method::GET,
            "/v1/nothing".to_owned(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::DELETE,
            format!("/v1/blobs/{id}/metadata"),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ] {
        let (got, body) = h.call(method, &uri, vec![]).await;
        assert_eq!((got, code(&body).as_str()), (status, want), "{uri}");
    }
}

#[tokio::test]
async fn unknown_ids_are_looked_up_once_and_lookups_are_rate_limited() {
    let limits = Limits {
        chain_lookups_per_sec: 1,
        chain_lookup_burst: 3,
        negative_cache_ttl: Duration::from_secs(60),
        ..default_limits()
    };
    let h = harness("lookups", limits);
    let unknown = BlobId([0x42; 32]);
    for path in ["status", "registrations/1/confirmation", "status"] {
        let (status, body) = h
            .call(Method::GET, &format!("/v1/blobs/{unknown}/{path}"), vec![])
            .await;
        assert_eq!(
            (status, code(&body).as_str()),
            (StatusCode::NOT_FOUND, "not_registered")
        );
    }
    assert_eq!(h.registry.calls(), 1, "the negative answer is cached");
    // Two more distinct ids use up the burst; the next gets 503 with Retry-After, no RPC.
    for b in [1u8, 2] {
        let (status, _) = h
            .call(
                Method::GET,
                &format!("/v1/blobs/{}/status", BlobId([b; 32])),
                vec![],
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let req = Request::builder()
        .uri(format!("/v1/blobs/{}/status", BlobId([3; 32])))
        .body(Body::empty())
        .unwrap();
    let resp = app(h.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["retry-after"], "1");
    let body = to_bytes(resp.into_body(), 4096).await.unwrap();
    assert_eq!(code(&body), "busy");
    assert_eq!(h.registry.calls(), 3);
    assert_eq!(
        h.state
            .metrics
            .chain_lookups
            .load(std::sync::atomic::Ordering::Relaxed),
        3
    );
}

#[tokio::test]
async fn an_upload_racing_garbage_collection_leaves_nothing_behind() {
    let h = harness("gc-race", default_limits());
    let blob = encode(500, 22);
    h.register(&blob, RegistrationState::Registered, 10);
    assert_eq!(h.put_metadata(&blob).await.0, StatusCode::OK);
    // GC collected the blob between the handler's liveness check and its write: the write
    // transaction sees the collected entry and refuses.
    h.state.store.remove_data(&blob.blob_id).unwrap();
    let pair = h.my_pairs(&blob)[0];
    let put = floe_node::storage::Put::sliver(
        &blob.blob_id,
        pair,
        SliverKind::Primary,
        blob.pairs[usize::from(pair)].primary.to_wire(),
    );
    let r = h.state.store_if_live(blob.blob_id, put).await;
    assert!(
        matches!(
            r,
            Err(floe_node::ApiError::Gone {
                reason: "garbage-collected",
                ..
            })
        ),
        "{r:?}"
    );
    assert!(
        h.state
            .store
            .held_slivers(&blob.blob_id)
            .unwrap()
            .is_empty()
    );
    assert_eq!(h.state.store.metadata(&blob.blob_id).unwrap(), None);
}

#[tokio::test]
async fn a_delayed_older_chain_answer_does_not_overwrite_a_newer_entry() {
    let h = harness("merge", default_limits());
    let blob = encode(300, 0x77);
    let id = blob.blob_id;
    let r = h.register(&blob, RegistrationState::Registered, 6);
    // A handler looks the blob up (no entry yet): the chain's answer is stored.
    assert_eq!(h.put_metadata(&blob).await.0, StatusCode::OK);
    let seen = h.state.store.blob(&id).unwrap().unwrap();
    assert_eq!((seen.registrations, seen.end_epoch, seen.rev), (1, 6, 0));
    // The follower then records the deletion of the only registration (rev 1).
    h.set_state(r, RegistrationState::Deleted);
    h.state
        .store
        .apply(
            vec![(
                id,
                Box::new(|old| {
                    let mut e = old.cloned().unwrap();
                    e.registrations = 0;
                    e.rev += 1;
                    Some(e)
                }),
            )],
            None,
        )
        .unwrap();
    // A handler's late write of what it read before (live) does not bring it back.
    let kept = h
        .state
        .store
        .put_blob_if_unchanged(&id, Some(seen.rev), seen.clone())
        .unwrap()
        .unwrap();
    assert_eq!((kept.registrations, kept.rev), (0, 1));
    let (status, body) = h.put_metadata(&blob).await;
    assert_eq!((status, code(&body).as_str()), (StatusCode::GONE, "gone"));
}

fn certify_msg(blob: &EncodedBlob, registration_id: u64, deletable: bool) -> Vec<u8> {
    certify_message(
        CHAIN_ID,
        registry_address().into_array(),
        EPOCH,
        &[CertifyEntry {
            blob_id: blob.blob_id.0,
            registration_id,
            deletable,
        }],
    )
    .to_vec()
}

#[tokio::test]
async fn a_confirmation_signs_only_the_registration_it_names() {
    let h = harness("confirm-one", default_limits());
    let blob = encode(2000, 30);
    let deletable = h.register_with(&blob, RegistrationState::Registered, 10, true);
    let permanent = h.register_with(&blob, RegistrationState::Registered, 12, false);
    h.upload_all(&blob).await;
    let mut sigs = Vec::new();
    for (r, flag) in [(deletable, true), (permanent, false)] {
        let (status, body) = h
            .call(Method::GET, &Harness::confirmation_uri(&blob, r), vec![])
            .await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        let c: Confirmation = serde_json::from_slice(&body).unwrap();
        assert_eq!((c.registration_id, c.deletable), (Some(r), Some(flag)));
        sigs.push(Signature::from_hex(&c.signature).unwrap());
    }
    let pk = h.key.public_key();
    // Each signature is over its own registration's entry, with its own flag ...
    sigs[0]
        .verify(&pk, &certify_msg(&blob, deletable, true))
        .unwrap();
    sigs[1]
        .verify(&pk, &certify_msg(&blob, permanent, false))
        .unwrap();
    // ... and over nothing else: not the other registration of the same blob, not the same
    // registration with the other flag, not a batch containing it.
    for (sig, msg) in [
        (&sigs[0], certify_msg(&blob, permanent, false)),
        (&sigs[0], certify_msg(&blob, permanent, true)),
        (&sigs[0], certify_msg(&blob, deletable, false)),
        (&sigs[1], certify_msg(&blob, deletable, true)),
        (&sigs[1], certify_msg(&blob, permanent, true)),
    ] {
        assert!(sig.verify(&pk, &msg).is_err());
    }
    let both = certify_message(
        CHAIN_ID,
        registry_address().into_array(),
        EPOCH,
        &[
            CertifyEntry {
                blob_id: blob.blob_id.0,
                registration_id: deletable,
                deletable: true,
            },
            CertifyEntry {
                blob_id: blob.blob_id.0,
                registration_id: permanent,
                deletable: false,
            },
        ],
    );
    assert!(sigs[0].verify(&pk, &both).is_err());
}

#[tokio::test]
async fn confirmation_requests_name_a_live_registration_of_this_blob() {
    let h = harness("confirm-errors", default_limits());
    let blob = encode(800, 31);
    let other = encode(800, 32);
    let mine = h.register(&blob, RegistrationState::Registered, 10);
    let theirs = h.register(&other, RegistrationState::Registered, 10);
    let deleted = h.register(&blob, RegistrationState::Registered, 10);
    h.set_state(deleted, RegistrationState::Deleted);
    let expired = h.register(&blob, RegistrationState::Certified, EPOCH);
    h.upload_all(&blob).await;
    let get = |uri: String| {
        let h = &h;
        async move {
            let (status, body) = h.call(Method::GET, &uri, vec![]).await;
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            (
                status,
                v["code"].as_str().unwrap_or("").to_owned(),
                v["error"].as_str().unwrap_or("").to_owned(),
            )
        }
    };
    // A registration of another blob: 400 registration_mismatch, naming both blobs.
    let (status, code, msg) = get(Harness::confirmation_uri(&blob, theirs)).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_REQUEST, "registration_mismatch")
    );
    assert!(
        msg.contains(&other.blob_id.to_string()) && msg.contains(&blob.blob_id.to_string()),
        "{msg}"
    );
    // No such registration: 404 not_registered.
    let (status, code, msg) = get(Harness::confirmation_uri(&blob, 999)).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NOT_FOUND, "not_registered")
    );
    assert!(msg.contains("registration 999"), "{msg}");
    // Malformed ids: 400 bad_request.
    for bad in ["0", "x", "-1", "18446744073709551616"] {
        let uri = format!(
            "/v1/blobs/{}/registrations/{bad}/confirmation",
            blob.blob_id
        );
        let (status, code, _) = get(uri).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::BAD_REQUEST, "bad_request"),
            "{bad}"
        );
    }
    // Deleted or expired registrations of a live blob: 410, nothing signed.
    for (r, why) in [(deleted, "deleted"), (expired, "expired")] {
        let (status, code, msg) = get(Harness::confirmation_uri(&blob, r)).await;
        assert_eq!((status, code.as_str()), (StatusCode::GONE, "gone"), "{why}");
        assert!(
            msg.contains(&format!("registration {r}")) && msg.contains(why),
            "{msg}"
        );
    }
    // The live one is confirmed.
    let (status, _, _) = get(Harness::confirmation_uri(&blob, mine)).await;
    assert_eq!(status, StatusCode::OK);
    let confirmations = h
        .state
        .metrics
        .confirmations
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(confirmations, 1);
}

#[tokio::test]
async fn a_blob_lives_while_any_registration_does() {
    let h = harness("any-registration", default_limits());
    let blob = encode(1500, 33);
    let first = h.register(&blob, RegistrationState::Certified, 8);
    let second = h.register_with(&blob, RegistrationState::Registered, 11, false);
    h.upload_all(&blob).await;
    async fn status(h: &Harness, blob: &EncodedBlob) -> floe_node::BlobStatus {
        let uri = format!("/v1/blobs/{}/status", blob.blob_id);
        let (code, body) = h.call(Method::GET, &uri, vec![]).await;
        assert_eq!(code, StatusCode::OK);
        serde_json::from_slice(&body).unwrap()
    }
    let s = status(&h, &blob).await;
    assert_eq!(
        (
            s.state.as_str(),
            s.end_epoch,
            s.certified_end_epoch,
            s.registrations,
            s.complete
        ),
        ("certified", 11, 8, 2, true)
    );
    // The first owner deletes theirs (the follower would write this entry).
    h.set_state(first, RegistrationState::Deleted);
    h.follow_status(&blob);
    let s = status(&h, &blob).await;
    assert_eq!(
        (
            s.state.as_str(),
            s.end_epoch,
            s.certified_end_epoch,
            s.registrations
        ),
        ("registered", 11, 0, 1)
    );
    // Data is still served and accepted; the second registration is confirmed.
    let pair = h.my_pairs(&blob)[0];
    let (code, body) = h
        .call(
            Method::GET,
            &format!("/v1/blobs/{}/slivers/{pair}/primary", blob.blob_id),
            vec![],
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body, blob.pairs[usize::from(pair)].primary.to_wire());
    assert_eq!(h.put_metadata(&blob).await.0, StatusCode::OK);
    let (code, body) = h
        .call(
            Method::GET,
            &Harness::confirmation_uri(&blob, second),
            vec![],
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    let c: Confirmation = serde_json::from_slice(&body).unwrap();
    Signature::from_hex(&c.signature)
        .unwrap()
        .verify(&h.key.public_key(), &certify_msg(&blob, second, false))
        .unwrap();
    // Once the last one is deleted, GC removes the data and the blob is gone.
    h.set_state(second, RegistrationState::Deleted);
    h.follow_status(&blob);
    floe_node::services::gc::collect_garbage(&h.state)
        .await
        .unwrap();
    assert!(
        h.state
            .store
            .held_slivers(&blob.blob_id)
            .unwrap()
            .is_empty()
    );
    assert!(!h.state.store.has_metadata(&blob.blob_id).unwrap());
    let (code, _) = h
        .call(
            Method::GET,
            &format!("/v1/blobs/{}/slivers/{pair}/primary", blob.blob_id),
            vec![],
        )
        .await;
    assert_eq!(code, StatusCode::GONE);
    assert_eq!(status(&h, &blob).await.state, "expired");
}

#[test]
fn worst_case_memory_is_the_documented_formula() {
    let config = NodeConfig::parse(include_str!("../floe-node.example.toml")).unwrap();
    let enc = EncodingConfig::new(N).unwrap();
    let w = floe_core::protocol::WireLimits::new(enc);
    let m = floe_node::memory::worst_case_memory(&config, &enc, 6, 2);
    let b_s = w.max_sliver().min(config.max_sliver_bytes as u64);
    // n = 10: the largest sliver is 7 symbols of 65534 bytes; the largest proof 7 symbols with
    // 4-hash paths.
    assert_eq!(b_s, 11 + 7 * 65534);
    assert_eq!(w.max_inconsistency_proof(), 9 + 7 * (10 + 65534 + 128));
    assert_eq!(
        m.uploads,
        32 * (3 * w.max_inconsistency_proof()).max(4 * b_s)
    );
    assert_eq!(m.reads, 64 * b_s);
    assert_eq!(m.store, 64 << 20);
    assert_eq!(
        m.total(),
        m.uploads + m.reads + m.cpu + m.recovery + m.connections + m.store
    );
    // 280 MiB for a 10-shard deployment with the example config (docs/DESIGN-NOTES.md, "Worst-case memory").
    assert_eq!(m.total(), 293_325_340, "{m:?}");

    // n = 1000: the largest proof (44 MB) is over max_proof_bytes (8 MiB), so B_p is the cap.
    let enc = EncodingConfig::new(1000).unwrap();
    let w = floe_core::protocol::WireLimits::new(enc);
    assert_eq!(w.max_inconsistency_proof(), 43_931_297);
    assert_eq!(config.max_proof_bytes, 8 << 20);
    let b_s = w.max_sliver().min(config.max_sliver_bytes as u64);
    let m = floe_node::memory::worst_case_memory(&config, &enc, 6, 2);
    assert_eq!(m.uploads, 32 * (4 * b_s).max(3 * (8 << 20)));
    // The example config at n = 1000 is dominated by recovery (4 blobs x 32 answers of a 66 MB
    // symbol batch) and uploads of slivers (32 x 4 x 43.7 MB), not by proofs.
    assert_eq!(m.recovery, 10_541_791_200);
    assert_eq!(m.total(), 19_769_263_854, "{m:?}");
    // An operator who lowers max_sliver_bytes to 4 MiB now bounds uploads by the proof cap:
    // 32 x 3 x 8 MiB = 768 MiB, where the uncapped proof made it 32 x 3 x 44 MB = 4.2 GB.
    let small = NodeConfig {
        max_sliver_bytes: 4 << 20,
        ..config.clone()
    };
    let m = floe_node::memory::worst_case_memory(&small, &enc, 6, 2);
    assert_eq!(m.uploads, 32 * 3 * (8 << 20));
    let uncapped = NodeConfig {
        max_proof_bytes: usize::MAX,
        ..small
    };
    let m = floe_node::memory::worst_case_memory(&uncapped, &enc, 6, 2);
    assert_eq!(m.uploads, 32 * 3 * 43_931_297);
}

/// Reads from `s` until EOF or `deadline`; returns what was read.
async fn read_until_closed(s: &mut tokio::net::TcpStream, secs: u64) -> Vec<u8> {
    use tokio::io::AsyncReadExt as _;
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(secs), s.read_to_end(&mut out)).await;
    assert!(
        read.is_ok(),
        "the server did not close the connection within {secs} s"
    );
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_time_out_and_real_uploads_still_succeed() {
    use tokio::io::AsyncWriteExt as _;
    let limits = Limits {
        body_min_rate: 1 << 20,
        body_min_time: Duration::from_millis(300),
        upload_wait: Duration::from_secs(10),
        ..default_limits()
    };
    let h = harness_with("slow-clients", limits, 2);
    let blob = encode(1000, 23);
    h.register(&blob, RegistrationState::Registered, 10);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cfg = floe_node::server::ServerConfig {
        header_read_timeout: Duration::from_millis(500),
        idle_timeout: Duration::from_millis(800),
        max_connections: 16,
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(floe_node::server::serve(
        listener,
        app(h.state.clone()),
        cfg,
        async {
            let _ = stop_rx.await;
        },
    ));
    let wire = blob.metadata.to_wire();
    let id = blob.blob_id;

    // Two uploads that hold both upload slots and trickle their bodies.
    let mut slow = Vec::new();
    for _ in 0..2 {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "PUT /v1/blobs/{id}/metadata HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n",
            wire.len()
        );
        s.write_all(head.as_bytes()).await.unwrap();
        s.write_all(&wire[..1]).await.unwrap();
        slow.push(s);
    }
    // Wait until both hold a slot.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while h.state.free_upload_slots() != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "slow uploads never took the slots"
        );
        tokio::task::yield_now().await;
    }
    // A client trickling its headers, and one that sends nothing at all.
    let mut slow_headers = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow_headers
        .write_all(b"GET /v1/health HTTP/1.1\r\nho")
        .await
        .unwrap();
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();

    // A real upload gets a slot once the slow bodies time out, and is stored.
    let resp = reqwest::Client::new()
        .put(format!("http://{addr}/v1/blobs/{id}/metadata"))
        .body(wire.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    assert_eq!(h.state.store.metadata(&id).unwrap(), Some(wire.clone()));

    for mut s in slow {
        let answer = String::from_utf8_lossy(&read_until_closed(&mut s, 10).await).into_owned();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("\"code\":\"timeout\""), "{answer}");
    }
    read_until_closed(&mut slow_headers, 10).await;
    assert!(read_until_closed(&mut silent, 10).await.is_empty());
    stop_tx.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_failing_service_makes_health_degraded_and_shows_in_metrics() {
    let h = harness("degraded", default_limits());
    h.state.services.ok("gc");
    h.state
        .services
        .failed("follower", "cannot reach the chain RPC");
    let (status, body) = h.call(Method::GET, "/v1/health", vec![]).await;
    assert_eq!(status, StatusCode::OK);
    let health: floe_core::protocol::Health = serde_json::from_slice(&body).unwrap();
    assert_eq!(health.status, "degraded");
    let follower = health
        .services
        .iter()
        .find(|s| s.name == "follower")
        .unwrap();
    assert_eq!(
        (follower.state.as_str(), follower.failures),
        ("restarting", 1)
    );
    assert_eq!(
        follower.last_error.as_deref(),
        Some("cannot reach the chain RPC")
    );
    let (_, text) = h.call(Method::GET, "/metrics", vec![]).await;
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("floe_node_service_up{service=\"follower\"} 0"),
        "{text}"
    );
    assert!(
        text.contains("floe_node_service_up{service=\"gc\"} 1"),
        "{text}"
    );
    h.state.services.ok("follower");
    let (_, body) = h.call(Method::GET, "/v1/health", vec![]).await;
    let health: floe_core::protocol::Health = serde_json::from_slice(&body).unwrap();
    assert_eq!(health.status, "ok");
}
