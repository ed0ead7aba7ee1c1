//! Fake storage nodes for the unit tests: an axum server on 127.0.0.1 speaking the node API
//! the client uses, whose behaviour (epoch followed, 421s, 410s once storage ends, oversized
//! answers, slow reading of uploads) a test sets.

use std::{
    collections::HashMap,
    convert::Infallible,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering},
    },
    time::Duration,
};

use alloy::primitives::Address;
use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, put},
};
use floe_chain::{Committee, committee::Member};
use floe_core::{
    bls::SecretKey,
    ids::BlobId,
    messages::{CertifyEntry, certify_message},
    protocol::{Confirmation, ErrorBody, ErrorCode, routes},
};
use futures::StreamExt;

/// Chain id the fake nodes sign for.
pub(crate) const CHAIN_ID: u64 = 31337;
/// Registry the fake nodes sign for.
pub(crate) const REGISTRY: [u8; 20] = [0x42; 20];

/// How a fake node answers GETs of metadata and slivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Serve {
    /// What was uploaded to it.
    Honest,
    /// A body of this many bytes, with its length announced.
    Announced(usize),
    /// An endless body without an announced length.
    Endless,
    /// A 404 whose error body is endless.
    EndlessError,
}

/// What a fake node does and what it saw.
#[derive(Debug)]
pub(crate) struct FakeState {
    /// The node's BLS key.
    pub(crate) key: SecretKey,
    /// The epoch the node follows (shared between the nodes of a test: the "chain").
    pub(crate) epoch: Arc<AtomicU32>,
    /// Answers 421 to this many sliver uploads (`u32::MAX`: to all).
    pub(crate) misdirect: AtomicU32,
    /// From this epoch on, blobs are expired: uploads and confirmations answer 410 (`u32::MAX`:
    /// never).
    pub(crate) expired_from: AtomicU32,
    /// Reads sliver uploads at this many bytes per second (0: as fast as they come).
    pub(crate) read_bytes_per_sec: AtomicU64,
    /// How it serves data.
    pub(crate) serve: Mutex<Serve>,
    /// The deletable flag of the registrations it confirms.
    pub(crate) deletable: AtomicBool,
    /// Confirms this registration whatever registration is asked for (a confused node).
    pub(crate) confirms_registration: Mutex<Option<u64>>,
    /// Confirmations asked for, by registration id.
    pub(crate) confirmations_asked: Mutex<Vec<u64>>,
    /// Sliver uploads accepted.
    pub(crate) sliver_puts: AtomicU32,
    /// GETs of metadata and slivers.
    pub(crate) gets: AtomicU32,
    data: Mutex<HashMap<String, Vec<u8>>>,
}

/// A running fake node.
#[derive(Debug)]
pub(crate) struct FakeNode {
    /// `127.0.0.1:port`.
    pub(crate) address: String,
    /// Its behaviour and counters.
    pub(crate) state: Arc<FakeState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeNode {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeNode {
    /// Starts a fake node with key seed `seed` following `epoch`.
    pub(crate) async fn start(seed: u8, epoch: Arc<AtomicU32>) -> Self {
        let state = Arc::new(FakeState {
            key: SecretKey::from_seed(&[seed; 32]),
            epoch,
            misdirect: AtomicU32::new(0),
            expired_from: AtomicU32::new(u32::MAX),
            read_bytes_per_sec: AtomicU64::new(0),
            serve: Mutex::new(Serve::Honest),
            deletable: AtomicBool::new(false),
            confirms_registration: Mutex::new(None),
            confirmations_asked: Mutex::new(Vec::new()),
            sliver_puts: AtomicU32::new(0),
            gets: AtomicU32::new(0),
            data: Mutex::new(HashMap::new()),
        });
        let app = Router::new()
            .route(routes::METADATA, put(put_metadata).get(get_data))
            .route(routes::SLIVER, put(put_sliver).get(get_data))
            .route(routes::CONFIRMATION, get(confirmation))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a local port");
        let address = listener.local_addr().expect("local address").to_string();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            address,
            state,
            task,
        }
    }

    /// The committee member this node is, holding no shards yet.
    pub(crate) fn member(&self, seed: u8) -> Member {
        Member {
            node: Address::repeat_byte(seed),
            public_key: self.state.key.public_key(),
            network_address: self.address.clone(),
            shards: vec![],
        }
    }
}

/// A committee of `nodes` (the i-th started with seed `i + 1`), `owners[s]` holding shard `s`.
pub(crate) fn committee(epoch: u32, nodes: &[FakeNode], owners: Vec<u16>) -> Committee {
    let members = nodes
        .iter()
        .zip(1u8..)
        .map(|(node, seed)| node.member(seed))
        .collect();
    Committee::new(epoch, owners.len() as u16, members, owners)
}

type St = State<Arc<FakeState>>;

/// The 410 a node answers for a blob whose registration expired, if it has.
fn expired(s: &FakeState) -> Option<Response> {
    let epoch = s.epoch.load(Ordering::SeqCst);
    (epoch >= s.expired_from.load(Ordering::SeqCst)).then(|| {
        error(
            ErrorCode::Gone,
            format!("the blob's registration expired (epoch {epoch})"),
        )
    })
}

/// An error answer as the protocol shapes it.
fn error(code: ErrorCode, message: String) -> Response {
    let status = StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = ErrorBody {
        error: message,
        code: code.as_str().to_owned(),
    };
    (status, Json(body)).into_response()
}

async fn put_metadata(State(s): St, Path(id): Path<String>, body: Bytes) -> Response {
    if let Some(gone) = expired(&s) {
        return gone;
    }
    s.data
        .lock()
        .expect("lock")
        .insert(format!("/v1/blobs/{id}/metadata"), body.to_vec());
    StatusCode::OK.into_response()
}

/// Reads an upload's body at [`FakeState::read_bytes_per_sec`], as a node on a slow link would.
async fn read_throttled(s: &FakeState, body: Body) -> Option<Vec<u8>> {
    let rate = s.read_bytes_per_sec.load(Ordering::SeqCst);
    let start = tokio::time::Instant::now();
    let mut stream = body.into_data_stream();
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.ok()?);
        if rate > 0 {
            let due = Duration::from_secs_f64(out.len() as f64 / rate as f64);
            tokio::time::sleep_until(start + due).await;
        }
    }
    Some(out)
}

async fn put_sliver(
    State(s): St,
    Path((id, pair, kind)): Path<(String, u16, String)>,
    body: Body,
) -> Response {
    if let Some(gone) = expired(&s) {
        return gone;
    }
    let misdirect = s.misdirect.load(Ordering::SeqCst);
    if misdirect > 0 {
        if misdirect != u32::MAX {
            s.misdirect.fetch_sub(1, Ordering::SeqCst);
        }
        return error(ErrorCode::NotMyShard, "not my shard".into());
    }
    let Some(body) = read_throttled(&s, body).await else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    s.sliver_puts.fetch_add(1, Ordering::SeqCst);
    s.data
        .lock()
        .expect("lock")
        .insert(format!("/v1/blobs/{id}/slivers/{pair}/{kind}"), body);
    StatusCode::OK.into_response()
}

fn endless() -> Body {
    Body::from_stream(futures::stream::repeat_with(|| {
        Ok::<_, Infallible>(Bytes::from(vec![7u8; 64 * 1024]))
    }))
}

async fn get_data(State(s): St, uri: axum::http::Uri) -> Response {
    s.gets.fetch_add(1, Ordering::SeqCst);
    let serve = *s.serve.lock().expect("lock");
    match serve {
        Serve::Announced(len) => vec![7u8; len].into_response(),
        Serve::Endless => Response::new(endless()),
        Serve::EndlessError => (StatusCode::NOT_FOUND, endless()).into_response(),
        Serve::Honest => match s.data.lock().expect("lock").get(uri.path()) {
            Some(bytes) => bytes.clone().into_response(),
            None => error(ErrorCode::NotFound, "not held here".into()),
        },
    }
}

async fn confirmation(State(s): St, Path((id, registration)): Path<(String, u64)>) -> Response {
    let Ok(id) = id.parse::<BlobId>() else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    s.confirmations_asked
        .lock()
        .expect("lock")
        .push(registration);
    if let Some(gone) = expired(&s) {
        return gone;
    }
    let epoch = s.epoch.load(Ordering::SeqCst);
    let registration_id = s
        .confirms_registration
        .lock()
        .expect("lock")
        .unwrap_or(registration);
    let deletable = s.deletable.load(Ordering::SeqCst);
    let message = certify_message(
        CHAIN_ID,
        REGISTRY,
        epoch,
        &[CertifyEntry {
            blob_id: id.0,
            registration_id,
            deletable,
        }],
    );
    Json(Confirmation {
        epoch,
        signature: s.key.sign(&message).to_hex(),
        node: String::new(),
        registration_id: Some(registration_id),
        deletable: Some(deletable),
    })
    .into_response()
}

/// Uploads `blob`'s metadata and each member's sliver pairs to the fake nodes, as a writer
/// would, so that reads can be tested.
pub(crate) async fn seed(committee: &Committee, blob: &floe_core::encoding::EncodedBlob) {
    use floe_core::{encoding::SliverKind, wire::Wire};
    let http = reqwest::Client::new();
    for member in &committee.members {
        let node = crate::node_api::NodeClient::new(http.clone(), &member.network_address);
        node.put_metadata(&blob.blob_id, blob.metadata.to_wire())
            .await
            .expect("seed metadata");
        for pair in committee.pairs_of(member.node, &blob.blob_id) {
            let slivers = &blob.pairs[usize::from(pair)];
            for (kind, sliver) in [
                (SliverKind::Primary, &slivers.primary),
                (SliverKind::Secondary, &slivers.secondary),
            ] {
                node.put_sliver(&blob.blob_id, pair, kind, sliver.to_wire())
                    .await
                    .expect("seed sliver");
            }
        }
    }
}
