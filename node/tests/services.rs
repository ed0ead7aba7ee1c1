//! Background services against fake peers (local axum servers) and a chain that is never
//! called: recovery runs several blobs at once; the certify service reads only its index.
#![allow(clippy::unwrap_used)]

use std::{
    collections::{BTreeMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    extract::{Path, RawQuery},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use floe_chain::{
    BlobStatusRecord, Chain, ChainError, Committee, Deployment, FloeEvent, Member,
    RegistrationRecord,
    alloy::{
        primitives::{Address, U256},
        providers::{Provider, ProviderBuilder},
    },
};
use floe_core::{
    bls::SecretKey,
    encoding::{EncodedBlob, EncodingConfig, SliverKind},
    ids::BlobId,
    wire::Wire,
};
use floe_node::{
    BlobEntry, BlobSource, EpochView, KnownRegistration, Limits, NodeState, Store,
    peers::Peers,
    services::{Ctx, certify, recovery},
};
use futures::future::BoxFuture;
use tokio::sync::watch;

const N: u16 = 10;
const EPOCH: u32 = 3;

/// A registry that must not be asked: every blob the tests use has an entry.
struct NoRegistry;

impl BlobSource for NoRegistry {
    fn blob_status(&self, id: BlobId) -> BoxFuture<'static, Result<BlobStatusRecord, ChainError>> {
        panic!("unexpected chain lookup of blob {id}")
    }
    fn registration(&self, id: u64) -> BoxFuture<'static, Result<RegistrationRecord, ChainError>> {
        panic!("unexpected chain lookup of registration {id}")
    }
}

fn me() -> Address {
    Address::repeat_byte(0xAA)
}

fn encode(len: usize, seed: u8) -> EncodedBlob {
    let data: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect();
    EncodingConfig::new(N).unwrap().encode(&data).unwrap()
}

/// A node holding shard 0 of a committee whose other member, at `peer`, holds shards 1..10.
struct Node {
    ctx: Ctx,
    dir: std::path::PathBuf,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn node(name: &str, peer: &str, recovery_parallelism: usize) -> Node {
    let dir = std::env::temp_dir().join(format!("floe-node-svc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
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
            network_address: peer.into(),
            shards: vec![],
        },
    ];
    let committee = Committee::new(EPOCH, N, members, vec![0, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    let state = Arc::new(NodeState::new(
        Store::open(&dir).unwrap(),
        EncodingConfig::new(N).unwrap(),
        key,
        me(),
        31337,
        Address::repeat_byte(0x42),
        Limits::default(),
        4,
        EpochView::new(committee),
        Arc::new(NoRegistry),
    ));
    // Never connected to: a test that reaches the chain fails with "unreachable".
    let url = "http://127.0.0.1:1";
    let provider = ProviderBuilder::new()
        .connect_http(url.parse().unwrap())
        .erased();
    let deployment = Deployment {
        wal: Address::ZERO,
        staking: Address::ZERO,
        registry: Address::repeat_byte(0x42),
        chain_id: 31337,
        start_block: 0,
    };
    let ctx = Ctx {
        state,
        chain: Chain::from_provider(provider, deployment, None, url),
        // Longer than any deadline here: a stalled peer is never given up on in the test.
        peers: Peers::new(Duration::from_secs(600), 1 << 20).unwrap(),
        poll: Duration::from_millis(50),
        max_log_range: 100,
        confirmation_depth: 0,
        grace: Duration::from_secs(3600),
        recovery_parallelism,
        recovery_queue: Arc::default(),
        recovery_wake: Arc::default(),
        pending: Arc::default(),
        gc_wake: Arc::default(),
    };
    Node { ctx, dir }
}

fn certified(blob: &EncodedBlob) -> BlobEntry {
    BlobEntry::from_status(&BlobStatusRecord {
        blob_id: blob.blob_id,
        invalid: false,
        size: blob.metadata.unencoded_length,
        encoding_type: 1,
        root: blob.metadata.root(),
        registrations: 1,
        first_registration_id: 1,
        end_epoch: 10,
        permanent_end_epoch: 0,
        certified_end_epoch: 10,
        permanent_certified_end_epoch: 0,
    })
}

/// Polls `f` every 20 ms until it holds, failing after `secs`.
async fn eventually(secs: u64, what: &str, f: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {secs} s: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A peer serving the metadata and recovery symbols of `blobs`, except that symbol
/// requests for `stalled` never get an answer (and set the returned flag).
async fn fake_peer(blobs: Vec<EncodedBlob>, stalled: BlobId) -> (String, Arc<AtomicBool>) {
    let blobs: Arc<BTreeMap<String, EncodedBlob>> = Arc::new(
        blobs
            .into_iter()
            .map(|b| (b.blob_id.to_string(), b))
            .collect(),
    );
    let asked = Arc::new(AtomicBool::new(false));
    let (b1, b2, flag) = (blobs.clone(), blobs, asked.clone());
    let router = Router::new()
        .route(
            "/v1/blobs/{id}/metadata",
            get(move |Path(id): Path<String>| {
                let b = b1.get(&id).map(|b| b.metadata.to_wire());
                async move {
                    match b {
                        Some(m) => m.into_response(),
                        None => StatusCode::NOT_FOUND.into_response(),
                    }
                }
            }),
        )
        .route(
            "/v1/blobs/{id}/recovery/{pair}/{kind}",
            get(
                move |Path((id, pair, kind)): Path<(String, u16, String)>,
                      RawQuery(q): RawQuery| {
                    let blob = b2.get(&id).cloned();
                    let flag = flag.clone();
                    async move {
                        let Some(blob) = blob else {
                            return StatusCode::NOT_FOUND.into_response();
                        };
                        if blob.blob_id == stalled {
                            flag.store(true, Ordering::SeqCst);
                            futures::future::pending::<()>().await;
                        }
                        symbols(&blob, pair, &kind, &q.unwrap_or_default())
                    }
                },
            ),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (addr, asked)
}

fn symbols(blob: &EncodedBlob, pair: u16, kind: &str, query: &str) -> Response {
    let enc = EncodingConfig::new(N).unwrap();
    let indices: Vec<u16> = query
        .trim_start_matches("indices=")
        .split(',')
        .map(|i| i.parse().unwrap())
        .collect();
    let pair = &blob.pairs[usize::from(pair)];
    let sliver = if kind == "primary" {
        &pair.primary
    } else {
        &pair.secondary
    };
    let syms = enc.recovery_symbols(sliver, &indices).unwrap();
    floe_core::protocol::symbols::encode_symbol_list(&syms).into_response()
}

fn holds_all(node: &Node, blob: &EncodedBlob) -> bool {
    let state = &node.ctx.state;
    let (have, need) = state.holds_all(&state.view(), &blob.blob_id).unwrap();
    need > 0 && have == need
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_finishes_a_blob_queued_while_another_stalls() {
    let (slow, fast) = (encode(3000, 1), encode(3000, 2));
    let (peer, asked) = fake_peer(vec![slow.clone(), fast.clone()], slow.blob_id).await;
    let n = node("recovery-parallel", &peer, 2);
    let store = &n.ctx.state.store;
    store.put_blob(&slow.blob_id, &certified(&slow)).unwrap();
    store.put_blob(&fast.blob_id, &certified(&fast)).unwrap();
    let (stop, shutdown) = watch::channel(false);
    let service = tokio::spawn(recovery::run(n.ctx.clone(), shutdown));

    // The slow blob is being recovered (its peer holds the symbol requests) ...
    n.ctx.queue_recovery([slow.blob_id]);
    eventually(20, "the slow blob's symbols were asked for", || {
        asked.load(Ordering::SeqCst)
    })
    .await;
    // ... when the second blob is queued: it gets the free slot and is recovered.
    n.ctx.queue_recovery([fast.blob_id]);
    eventually(20, "the second blob was recovered", || holds_all(&n, &fast)).await;
    assert!(!holds_all(&n, &slow));
    for (p, kind) in n.ctx.state.store.held_slivers(&fast.blob_id).unwrap() {
        let pair = &fast.pairs[usize::from(p)];
        let want = match kind {
            SliverKind::Primary => pair.primary.to_wire(),
            SliverKind::Secondary => pair.secondary.to_wire(),
        };
        let got = n.ctx.state.store.sliver(&fast.blob_id, p, kind).unwrap();
        assert_eq!(got.as_deref(), Some(want.as_slice()));
    }
    stop.send(true).unwrap();
    service.await.unwrap().unwrap();
}

fn registered(blob: &EncodedBlob, registration_id: u64) -> FloeEvent {
    FloeEvent::BlobRegistered {
        registration_id,
        blob_id: blob.blob_id,
        owner: Address::repeat_byte(9),
        size: blob.metadata.unencoded_length,
        encoding_type: 1,
        deletable: true,
        epoch: EPOCH,
        end_epoch: 10,
        storage_id: U256::from(registration_id),
        root: blob.metadata.root(),
    }
}

#[tokio::test]
async fn the_pending_index_follows_registrations_and_is_all_certify_reads() {
    let n = node("certify-index", "127.0.0.1:1", 1);
    let ctx = &n.ctx;
    let pending = || -> HashSet<BlobId> { ctx.pending.lock().unwrap().clone() };

    // Registration events as the follower applies them to the blob's entry.
    let blob = encode(1000, 3);
    let id = blob.blob_id;
    let mut e = BlobEntry::default();
    e.apply_event(&registered(&blob, 1));
    ctx.index_pending(id, Some(&e), EPOCH);
    assert_eq!(pending(), HashSet::from([id]), "registered: indexed");
    e.apply_event(&FloeEvent::BlobCertified {
        registration_id: 1,
        blob_id: id,
        epoch: EPOCH,
        end_epoch: 10,
        deletable: true,
    });
    ctx.index_pending(id, Some(&e), EPOCH);
    assert!(pending().is_empty(), "certified: out of the index");
    // A second registration of the certified blob is pending again; deleting it leaves.
    e.apply_event(&registered(&blob, 2));
    ctx.index_pending(id, Some(&e), EPOCH);
    assert_eq!(
        pending(),
        HashSet::from([id]),
        "second registration: indexed"
    );
    e.apply_event(&FloeEvent::BlobDeleted {
        registration_id: 2,
        blob_id: id,
        epoch: EPOCH,
    });
    ctx.index_pending(id, Some(&e), EPOCH);
    assert!(pending().is_empty(), "deleted: out of the index");
    // Expired at a later epoch, or forgotten (a reorg), it is out too.
    e.apply_event(&registered(&blob, 3));
    ctx.index_pending(id, Some(&e), EPOCH);
    assert_eq!(pending(), HashSet::from([id]));
    ctx.index_pending(id, Some(&e), 10);
    assert!(pending().is_empty(), "expired: out of the index");
    ctx.index_pending(id, Some(&e), EPOCH);
    ctx.index_pending(id, None, EPOCH);
    assert!(pending().is_empty(), "forgotten: out of the index");

    // The start-up index is the entries with a pending registration.
    let store = &ctx.state.store;
    let mut pending_entry = BlobEntry::default();
    pending_entry.apply_event(&registered(&blob, 4));
    pending_entry.registrations = 1;
    pending_entry.end_epoch = 10;
    store.put_blob(&id, &pending_entry).unwrap();
    let others: Vec<EncodedBlob> = (0..40).map(|i| encode(100, 10 + i)).collect();
    for b in &others {
        store.put_blob(&b.blob_id, &certified(b)).unwrap();
    }
    let index = floe_node::services::pending_index(&store.blobs().unwrap(), EPOCH);
    assert_eq!(index, HashSet::from([id]));
    ctx.pending.lock().unwrap().extend(index);

    // A certify round reads the one indexed entry, none of the 40 others.
    let before = store.entries_read();
    let mut timers = certify::CertifyTimers::default();
    certify::certify_once(ctx, &mut timers).await.unwrap();
    assert_eq!(store.entries_read() - before, 1);
    assert_eq!(pending(), HashSet::from([id]));

    // An indexed entry that is no longer pending is dropped from the index by the round.
    let mut done = pending_entry.clone();
    done.known = vec![KnownRegistration {
        id: 4,
        deletable: true,
        certified: true,
        end_epoch: 10,
    }];
    store.put_blob(&id, &done).unwrap();
    certify::certify_once(ctx, &mut timers).await.unwrap();
    assert!(pending().is_empty());
}
