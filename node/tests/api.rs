//! Handler tests through the router with tower's `oneshot`: no socket, no chain (a fake
//! [`BlobSource`] plays the registry).
#![allow(clippy::unwrap_used)]

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    body::{Body, to_bytes},
    http::{Method, Request, StatusCode},
};
use floe_chain::{
    BlobRecord, BlobState, ChainError, Committee, Member,
    alloy::primitives::{Address, U256},
};
use floe_core::{
    bls::{SecretKey, Signature},
    encoding::{EncodedBlob, EncodingConfig, SliverKind},
    ids::BlobId,
    messages::certify_message,
    metadata::BlobMetadata,
    recovery::RecoverySymbol,
    wire::Wire,
};
use floe_node::{BlobSource, Confirmation, EpochView, Limits, NodeState, Store, app};
use futures::future::BoxFuture;
use tower::ServiceExt;

const N: u16 = 10;
const EPOCH: u32 = 3;
const CHAIN_ID: u64 = 31337;

#[derive(Default)]
struct FakeRegistry(Mutex<HashMap<BlobId, BlobRecord>>);

impl BlobSource for FakeRegistry {
    fn blob(&self, id: BlobId) -> BoxFuture<'static, Result<BlobRecord, ChainError>> {
        let r = self
            .0
            .lock()
            .unwrap()
            .get(&id)
            .cloned()
            .unwrap_or(BlobRecord {
                blob_id: id,
                owner: Address::ZERO,
                size: 0,
                encoding_type: 0,
                deletable: false,
                state: BlobState::None,
                registered_epoch: 0,
                certified_epoch: 0,
                end_epoch: 0,
                storage_id: U256::ZERO,
                root: [0; 32],
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
        4,
        EpochView {
            epoch: EPOCH,
            committee: Arc::new(committee),
        },
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
    }
}

fn encode(len: usize, seed: u8) -> EncodedBlob {
    let data: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect();
    EncodingConfig::new(N).unwrap().encode(&data).unwrap()
}

impl Harness {
    fn register(&self, blob: &EncodedBlob, state: BlobState, end_epoch: u32) {
        self.registry.0.lock().unwrap().insert(
            blob.blob_id,
            BlobRecord {
                blob_id: blob.blob_id,
                owner: Address::repeat_byte(1),
                size: blob.metadata.unencoded_length,
                encoding_type: 1,
                deletable: true,
                state,
                registered_epoch: 1,
                certified_epoch: 0,
                end_epoch,
                storage_id: U256::from(1),
                root: blob.metadata.root(),
            },
        );
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
        self.state.my_pairs(&blob.blob_id)
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
    h.register(&blob, BlobState::Registered, 10);
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
    h.register(&blob, BlobState::Registered, 10);
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
    h.register(&blob, BlobState::Registered, 10);
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
    };
    let h = harness("oversize", limits);
    let blob = encode(1000, 6);
    h.register(&blob, BlobState::Registered, 10);
    let (status, body) = h.put_metadata(&blob).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );
    let pair = h.my_pairs(&blob)[0];
    let (status, _) = h.put_sliver(&blob, pair, SliverKind::Primary).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(h.state.store.metadata(&blob.blob_id).unwrap(), None);
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
    h.register(&blob, BlobState::Registered, 10);
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
    for (seed, state, end) in [
        (8, BlobState::Deleted, 10),
        (9, BlobState::Invalid, 10),
        (10, BlobState::Certified, EPOCH),
    ] {
        let blob = encode(100, seed);
        h.register(&blob, state, end);
        let (status, body) = h.put_metadata(&blob).await;
        assert_eq!(
            (status, code(&body).as_str()),
            (StatusCode::GONE, "gone"),
            "{state:?}"
        );
        assert_eq!(h.state.store.metadata(&blob.blob_id).unwrap(), None);
        let (status, _) = h
            .call(
                Method::GET,
                &format!("/v1/blobs/{}/confirmation", blob.blob_id),
                vec![],
            )
            .await;
        assert_eq!(status, StatusCode::GONE);
    }
}

#[tokio::test]
async fn confirmation_only_once_all_slivers_are_held() {
    let h = harness("confirm", default_limits());
    let blob = encode(3000, 11);
    h.register(&blob, BlobState::Registered, 10);
    let uri = format!("/v1/blobs/{}/confirmation", blob.blob_id);
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
    assert_eq!(c.epoch, EPOCH);
    let sig = Signature::from_hex(&c.signature).unwrap();
    let msg = certify_message(
        CHAIN_ID,
        registry_address().into_array(),
        EPOCH,
        &[(blob.blob_id.0, true)],
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
    h.register(&blob, BlobState::Certified, 10);
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
    let syms = floe_node::peers::decode_symbol_list(&body).unwrap();
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
