//! The node's hot paths through the router (no socket, no chain): storing every sliver of a
//! blob (wire decode, Merkle verification against the metadata, one committed redb
//! transaction each), and serving a batch of recovery symbols.
//!
//! `cargo bench -p floe-node --bench upload`

use std::{
    collections::HashMap,
    hint::black_box,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    body::Body,
    http::{Method, Request, StatusCode},
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use floe_chain::{
    BlobStatusRecord, ChainError, Committee, Member, RegistrationRecord, alloy::primitives::Address,
};
use floe_core::{
    bls::SecretKey,
    encoding::{EncodedBlob, EncodingConfig},
    ids::BlobId,
    wire::Wire,
};
use floe_node::{BlobSource, EpochView, Limits, NodeState, Store, app};
use futures::future::BoxFuture;
use tower::ServiceExt;

struct Registry(Mutex<HashMap<BlobId, BlobStatusRecord>>);

impl BlobSource for Registry {
    fn blob_status(&self, id: BlobId) -> BoxFuture<'static, Result<BlobStatusRecord, ChainError>> {
        let r = self.0.lock().map(|m| m.get(&id).cloned()).ok().flatten();
        Box::pin(async move { r.ok_or_else(|| ChainError::BadData("unknown".into())) })
    }

    fn registration(&self, _: u64) -> BoxFuture<'static, Result<RegistrationRecord, ChainError>> {
        Box::pin(async move { Err(ChainError::BadData("not used by the benchmark".into())) })
    }
}

fn setup(n: u16, len: usize) -> (Arc<NodeState>, EncodedBlob, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("floe-node-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = EncodingConfig::new(n).expect("n");
    let data: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
    let blob = cfg.encode(&data).expect("encode");
    let key = SecretKey::from_seed(&[1; 32]);
    let me = Address::repeat_byte(0xAA);
    let member = Member {
        node: me,
        public_key: key.public_key(),
        network_address: String::new(),
        shards: vec![],
    };
    let committee = Committee::new(1, n, vec![member], vec![0; usize::from(n)]);
    let record = BlobStatusRecord {
        blob_id: blob.blob_id,
        invalid: false,
        size: len as u64,
        encoding_type: 1,
        root: blob.metadata.root(),
        registrations: 1,
        first_registration_id: 1,
        end_epoch: 100,
        permanent_end_epoch: 100,
        certified_end_epoch: 0,
        permanent_certified_end_epoch: 0,
    };
    let registry = Registry(Mutex::new(HashMap::from([(blob.blob_id, record)])));
    let state = Arc::new(NodeState::new(
        Store::open(&dir).expect("store"),
        cfg,
        key,
        me,
        31337,
        Address::repeat_byte(0x42),
        Limits {
            max_metadata_bytes: 1 << 20,
            max_sliver_bytes: 64 << 20,
            upload_wait: Duration::from_secs(30),
            ..Limits::default()
        },
        32,
        EpochView::new(committee),
        Arc::new(registry),
    ));
    (state, blob, dir)
}

async fn call(state: &Arc<NodeState>, method: Method, uri: String, body: Vec<u8>) -> StatusCode {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::from(body))
        .expect("request");
    app(state.clone())
        .oneshot(req)
        .await
        .expect("infallible")
        .status()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (state, blob, dir) = setup(100, 1 << 20);
    let id = blob.blob_id;
    let status = rt.block_on(call(
        &state,
        Method::PUT,
        format!("/v1/blobs/{id}/metadata"),
        blob.metadata.to_wire(),
    ));
    assert_eq!(status, StatusCode::OK);
    let slivers: Vec<(u16, String, Vec<u8>)> = blob
        .pairs
        .iter()
        .flat_map(|p| [&p.primary, &p.secondary])
        .map(|s| (s.pair, s.kind.to_string(), s.to_wire()))
        .collect();
    let bytes: u64 = slivers.iter().map(|(_, _, w)| w.len() as u64).sum();

    let mut g = c.benchmark_group("node");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("put 200 slivers of a 1 MiB blob one by one (n=100)", |b| {
        b.iter(|| {
            rt.block_on(async {
                for (pair, kind, wire) in &slivers {
                    let uri = format!("/v1/blobs/{id}/slivers/{pair}/{kind}");
                    assert_eq!(
                        call(&state, Method::PUT, uri, wire.clone()).await,
                        StatusCode::OK
                    );
                }
            })
        })
    });
    g.bench_function(
        "put 200 slivers of a 1 MiB blob concurrently (n=100)",
        |b| {
            b.iter(|| {
                rt.block_on(async {
                    // As a client uploads: all at once (the node stores up to 32 at a time and
                    // commits the writes waiting together in one transaction).
                    let puts = slivers.iter().map(|(pair, kind, wire)| {
                        let state = state.clone();
                        let uri = format!("/v1/blobs/{id}/slivers/{pair}/{kind}");
                        let wire = wire.clone();
                        tokio::spawn(async move { call(&state, Method::PUT, uri, wire).await })
                    });
                    for status in futures::future::join_all(puts).await {
                        assert_eq!(status.expect("task"), StatusCode::OK);
                    }
                })
            })
        },
    );
    let indices: Vec<String> = (0..100u16).map(|i| i.to_string()).collect();
    let uri = format!(
        "/v1/blobs/{id}/recovery/0/secondary?indices={}",
        indices.join(",")
    );
    g.throughput(Throughput::Elements(100));
    g.bench_function(
        "serve 100 recovery symbols of one sliver (1 MiB blob, n=100)",
        |b| {
            b.iter(|| {
                rt.block_on(async {
                    black_box(call(&state, Method::GET, uri.clone(), vec![]).await)
                })
            })
        },
    );
    g.finish();
    drop(state);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
