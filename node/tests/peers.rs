//! Peer requests against a hostile peer (a local axum server): answers are read with a cap,
//! whether the peer declares their length or streams them.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use axum::{Router, body::Body, http::StatusCode, response::IntoResponse, routing::get};
use floe_chain::{Member, alloy::primitives::Address};
use floe_core::{
    bls::SecretKey,
    encoding::{EncodingConfig, SliverKind},
    ids::BlobId,
};
use floe_node::peers::{MAX_SMALL_ANSWER, PeerError, Peers, symbol_list_limit};

/// Serves `router` on a local port; returns the member pointing at it.
async fn peer(router: Router) -> Member {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    Member {
        node: Address::repeat_byte(7),
        public_key: SecretKey::from_seed(&[7; 32]).public_key(),
        network_address: addr,
        shards: vec![],
    }
}

/// A body of `len` bytes sent in 1 KiB chunks without a length (chunked encoding).
fn streamed(len: usize) -> Body {
    let chunks = (0..len.div_ceil(1024))
        .map(move |i| Ok::<_, std::io::Error>(vec![b'x'; 1024.min(len - i * 1024)]));
    Body::from_stream(futures::stream::iter(chunks))
}

#[tokio::test]
async fn oversized_answers_are_refused_declared_or_streamed() {
    let router = Router::new()
        .route(
            floe_core::protocol::routes::CONFIRMATION,
            get(|| async { vec![b'{'; MAX_SMALL_ANSWER + 1] }),
        )
        .route(
            "/v1/blobs/{id}/metadata",
            get(|| async { streamed(64 << 10) }),
        )
        .route(
            "/v1/blobs/{id}/recovery/{pair}/{kind}",
            get(|| async { streamed(1 << 20) }),
        );
    let member = peer(router).await;
    let peers = Peers::new(Duration::from_secs(10), 32 << 10).unwrap();
    let id = BlobId([1; 32]);
    let enc = EncodingConfig::new(10).unwrap();

    let err = peers
        .confirmation(&member, &id, 7, b"msg")
        .await
        .unwrap_err();
    assert!(
        matches!(err, PeerError::TooLarge { limit, .. } if limit == MAX_SMALL_ANSWER),
        "{err}"
    );
    // Metadata is capped at its exact size for n = 10 (under the configured 32 KiB).
    let err = peers.metadata(&member, &id, &enc).await.unwrap_err();
    assert!(
        matches!(err, PeerError::TooLarge { limit, .. } if limit == 15 + 64 * 10),
        "{err}"
    );
    // A registered address that is not host:port is never put in a URL.
    for bad in [
        "http://127.0.0.1:1",
        "127.0.0.1:1/x",
        "evil@127.0.0.1:1",
        "a b:1",
    ] {
        let mut m = member.clone();
        m.network_address = bad.into();
        let err = peers.confirmation(&m, &id, 7, b"msg").await.unwrap_err();
        assert!(matches!(err, PeerError::BadAddress(_)), "{bad}: {err}");
    }
    let limit = symbol_list_limit(10, 100, 3);
    let err = peers
        .symbols(&member, &id, 0, SliverKind::Primary, &[1, 2, 3], limit)
        .await
        .unwrap_err();
    assert!(
        matches!(err, PeerError::TooLarge { limit: l, .. } if l == limit),
        "{err}"
    );
}

#[tokio::test]
async fn error_answers_carry_the_start_of_the_peer_message() {
    let router = Router::new()
        .route(
            floe_core::protocol::routes::CONFIRMATION,
            get(
                |axum::extract::Path((id, r)): axum::extract::Path<(String, String)>| async move {
                    let msg = format!("{id} registration {r}: not all slivers held yet");
                    (StatusCode::CONFLICT, msg).into_response()
                },
            ),
        )
        .route(
            "/v1/blobs/{id}/metadata",
            get(|| async { (StatusCode::NOT_FOUND, streamed(1 << 20)).into_response() }),
        );
    let member = peer(router).await;
    let peers = Peers::new(Duration::from_secs(10), 32 << 10).unwrap();
    let id = BlobId([2; 32]);
    let err = peers
        .confirmation(&member, &id, 7, b"msg")
        .await
        .unwrap_err();
    match err {
        PeerError::Status {
            status, message, ..
        } => assert_eq!(
            (status, message.as_str()),
            (
                409,
                format!("{id} registration 7: not all slivers held yet").as_str()
            )
        ),
        e => panic!("unexpected {e}"),
    }
    // A huge error body is not read past the cap.
    let err = peers
        .metadata(&member, &id, &EncodingConfig::new(10).unwrap())
        .await
        .unwrap_err();
    match err {
        PeerError::Status {
            status, message, ..
        } => {
            assert_eq!(status, 404);
            assert!(message.contains("over 4096 bytes"), "{message}");
        }
        e => panic!("unexpected {e}"),
    }
}

#[test]
fn the_symbol_cap_fits_real_answers() {
    // A batch answer of real symbols fits the cap computed for it, and not much more does.
    let enc = EncodingConfig::new(10).unwrap();
    let blob = enc.encode(&vec![5u8; 5000]).unwrap();
    let symbol_size = blob.metadata.symbol_size(&enc).unwrap();
    let indices: Vec<u16> = (0..10).collect();
    let syms = enc
        .recovery_symbols(&blob.pairs[3].secondary, &indices)
        .unwrap();
    let mut answer = (syms.len() as u32).to_be_bytes().to_vec();
    for s in &syms {
        let w = floe_core::wire::Wire::to_wire(s);
        answer.extend_from_slice(&(w.len() as u32).to_be_bytes());
        answer.extend_from_slice(&w);
    }
    let cap = symbol_list_limit(10, symbol_size, indices.len());
    assert!(answer.len() <= cap, "{} > {cap}", answer.len());
    assert!(
        cap < 2 * answer.len(),
        "cap {cap} is loose for {}",
        answer.len()
    );
}
