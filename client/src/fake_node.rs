//! Fake storage nodes for the unit tests: an axum server on 127.0.0.1 speaking the node API
//! the client uses, whose behaviour (epoch followed, 421s, 410s once storage ends, oversized
//! or tampered answers, being down, slow reading of uploads) a test sets. It serves recovery
//! symbols computed from what was uploaded to it, and records the path of every GET.

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
    extract::{Path, Query, State},
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
    /// What was uploaded to it with its last byte flipped (a sliver that no longer hashes to
    /// the metadata), and recovery symbols with their first byte flipped.
    Tampered,
    /// 503 to every GET.
    Down,
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
    /// Paths of every GET of metadata, slivers and recovery symbols, in order.
    pub(crate) paths: Mutex<Vec<String>>,
    /// Holds sliver GETs until the gate lets them through.
    pub(crate) gate: Mutex<Option<Arc<Gate>>>,
    data: Mutex<HashMap<String, Vec<u8>>>,
}

/// Holds the sliver GETs of the nodes sharing it until a test lets them through, counting
/// how many wait at once.
#[derive(Debug)]
pub(crate) struct Gate {
    /// One permit lets one GET through.
    pub(crate) permits: tokio::sync::Semaphore,
    /// GETs that arrived so far.
    pub(crate) arrived: tokio::sync::watch::Sender<u32>,
    /// GETs waiting or being answered now, and the most there ever were.
    in_flight: Mutex<(u32, u32)>,
}

impl Gate {
    /// A closed gate.
    pub(crate) fn closed() -> Arc<Self> {
        Arc::new(Self {
            permits: tokio::sync::Semaphore::new(0),
            arrived: tokio::sync::watch::channel(0).0,
            in_flight: Mutex::new((0, 0)),
        })
    }

    /// The most GETs that were in flight at once.
    pub(crate) fn max_in_flight(&self) -> u32 {
        self.in_flight.lock().expect("lock").1
    }

    async fn pass(&self) {
        {
            let mut n = self.in_flight.lock().expect("lock");
            n.0 += 1;
            n.1 = n.1.max(n.0);
        }
        self.arrived.send_modify(|n| *n += 1);
        if let Ok(permit) = self.permits.acquire().await {
            permit.forget();
        }
    }

    fn leave(&self) {
        self.in_flight.lock().expect("lock").0 -= 1;
    }
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
            paths: Mutex::new(Vec::new()),
            gate: Mutex::new(None),
            data: Mutex::new(HashMap::new()),
        });
        let app = Router::new()
            .route(routes::METADATA, put(put_metadata).get(get_data))
            .route(routes::SLIVER, put(put_sliver).get(get_data))
            .route(routes::CONFIRMATION, get(confirmation))
            .route(routes::RECOVERY_BATCH, get(recovery_batch))
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
    s.paths.lock().expect("lock").push(uri.path().to_owned());
    let gate = s.gate.lock().expect("lock").clone();
    let gate = match gate {
        Some(gate) if uri.path().contains("/slivers/") => {
            gate.pass().await;
            Some(gate)
        }
        _ => None,
    };
    let response = answer(&s, &uri);
    if let Some(gate) = gate {
        gate.leave();
    }
    response
}

fn answer(s: &FakeState, uri: &axum::http::Uri) -> Response {
    let serve = *s.serve.lock().expect("lock");
    match serve {
        Serve::Down => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        Serve::Tampered => match s.data.lock().expect("lock").get(uri.path()) {
            Some(bytes) => {
                let mut bytes = bytes.clone();
                if let Some(last) = bytes.last_mut() {
                    *last ^= 1;
                }
                bytes.into_response()
            }
            None => error(ErrorCode::NotFound, "not held here".into()),
        },
        Serve::Announced(len) => vec![7u8; len].into_response(),
        Serve::Endless => Response::new(endless()),
        Serve::EndlessError => (StatusCode::NOT_FOUND, endless()).into_response(),
        Serve::Honest => match s.data.lock().expect("lock").get(uri.path()) {
            Some(bytes) => bytes.clone().into_response(),
            None => error(ErrorCode::NotFound, "not held here".into()),
        },
    }
}

/// `GET /v1/blobs/{id}/recovery/{pair}/{kind}?indices=a,b`: symbols of the expansion of the
/// sliver uploaded to it (the shard count taken from the blob's metadata uploaded to it).
async fn recovery_batch(
    State(s): St,
    Path((id, pair, kind)): Path<(String, u16, String)>,
    Query(query): Query<HashMap<String, String>>,
    uri: axum::http::Uri,
) -> Response {
    use floe_core::{
        encoding::{EncodingConfig, Sliver},
        metadata::BlobMetadata,
        protocol::symbols::{encode_symbol_list, parse_indices},
        wire::Wire,
    };
    s.paths.lock().expect("lock").push(uri.path().to_owned());
    let serve = *s.serve.lock().expect("lock");
    match serve {
        Serve::Honest | Serve::Tampered => {}
        Serve::Down => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
        Serve::Announced(len) => return vec![7u8; len].into_response(),
        Serve::Endless => return Response::new(endless()),
        Serve::EndlessError => return (StatusCode::NOT_FOUND, endless()).into_response(),
    }
    let (metadata, sliver) = {
        let data = s.data.lock().expect("lock");
        (
            data.get(&format!("/v1/blobs/{id}/metadata")).cloned(),
            data.get(&format!("/v1/blobs/{id}/slivers/{pair}/{kind}"))
                .cloned(),
        )
    };
    let (Some(metadata), Some(sliver)) = (metadata, sliver) else {
        return error(ErrorCode::NotFound, "not held here".into());
    };
    let metadata = BlobMetadata::from_wire(&metadata).expect("seeded metadata");
    let sliver = Sliver::from_wire(&sliver).expect("seeded sliver");
    let cfg = EncodingConfig::new(metadata.hashes.len() as u16).expect("seeded n");
    let Ok(indices) = parse_indices(
        query.get("indices").map_or("", String::as_str),
        cfg.n_shards(),
    ) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let mut symbols = cfg
        .recovery_symbols(&sliver, &indices)
        .expect("symbols of a seeded sliver");
    if serve == Serve::Tampered {
        for symbol in &mut symbols {
            symbol.symbol[0] ^= 1;
        }
    }
    encode_symbol_list(&symbols).into_response()
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
