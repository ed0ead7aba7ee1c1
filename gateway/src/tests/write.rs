//! The publisher: stores, query checks, body limits, upload slots, NDJSON progress.

use std::{
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    task::{Context, Poll},
};

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use bytes::Bytes;
use futures::Stream;

use super::*;
use crate::{backend::BlobState, fake::fake_blob_id};

#[tokio::test]
async fn open_store_then_already_certified() {
    let fake = FakeBackend::new();
    let app = app(&fake, open_config());
    let bytes = data(64);
    let attrs = "%7B%22content-type%22%3A%22image%2Fpng%22%7D";
    let owner = format!("0x{}", "ab".repeat(20));
    let a = send(
        &app,
        put(
            &format!("/v1/blobs?epochs=3&deletable=true&owner={owner}&attributes={attrs}"),
            bytes.clone(),
            None,
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    let j = a.json();
    let obj = &j["newlyCreated"]["blobObject"];
    let id = fake_blob_id(&bytes);
    assert_eq!(obj["blobId"], id.to_string());
    assert_eq!(obj["size"], 64);
    assert_eq!(obj["deletable"], true);
    assert_eq!(obj["owner"], owner);
    assert_eq!(j["newlyCreated"]["costFrost"], "192");
    assert_eq!(j["newlyCreated"]["transactions"][2]["action"], "transfer");
    let blob = fake.blob(&id).expect("stored");
    assert_eq!(blob.data.as_ref(), bytes.as_slice());
    assert_eq!(
        blob.registrations[0].attributes["content-type"],
        "image/png"
    );
    // Read back through the gateway with the attribute applied.
    let r = get(&app, &format!("/v1/blobs/{id}")).await;
    assert_eq!(r.body.as_ref(), bytes.as_slice());
    assert_eq!(r.header("content-type"), Some("image/png"));
    let a = send(&app, put("/v1/blobs", bytes.clone(), None)).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.json()["alreadyCertified"]["blobObject"]["registrationId"].is_u64());
    assert_eq!(fake.blob(&id).expect("stored").state, BlobState::Certified);
}

#[tokio::test]
async fn malformed_store_queries_are_400_and_store_nothing() {
    let fake = FakeBackend::new();
    let app = app(
        &fake,
        GatewayConfig {
            max_attributes: 2,
            max_attributes_bytes: 100,
            ..open_config()
        },
    );
    let long = format!("%7B%22k%22%3A%22{}%22%7D", "v".repeat(200));
    for q in [
        "epochs=0",
        "epochs=x",
        "epochs=-1",
        "deletable=maybe",
        "owner=0x1234",
        "attributes=notjson",
        "attributes=%5B1%5D",
        "attributes=%7B%22a%22%3A1%7D",
        "attributes=%7B%22a%22%3A%221%22%2C%22b%22%3A%222%22%2C%22c%22%3A%223%22%7D",
        "attributes=%7B%22%22%3A%22x%22%7D",
        long.as_str(),
        "unknown=1",
    ] {
        let a = send(&app, put(&format!("/v1/blobs?{q}"), "x", None)).await;
        assert_error(&a, StatusCode::BAD_REQUEST, "bad_request");
    }
    assert_eq!(fake.store_calls(), 0);
}

#[tokio::test]
async fn content_length_over_the_limit_is_413_before_reading() {
    let fake = FakeBackend::new();
    let app = app(
        &fake,
        GatewayConfig {
            max_body_bytes: 10,
            ..open_config()
        },
    );
    let pulled = Arc::new(AtomicUsize::new(0));
    let body = Body::from_stream(Endless {
        pulled: Arc::clone(&pulled),
    });
    let req = Request::put("/v1/blobs")
        .header("content-length", "11")
        .body(body)
        .expect("request");
    let a = send(&app, req).await;
    assert_error(&a, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(
        pulled.load(Ordering::SeqCst),
        0,
        "no byte of the body may be read"
    );
    assert_eq!(fake.store_calls(), 0);
    // Exactly the limit is fine.
    let a = send(&app, put("/v1/blobs", data(10), None)).await;
    assert_eq!(a.status, StatusCode::OK);
}

/// An endless body of 4-byte chunks, counting how many were taken.
struct Endless {
    pulled: Arc<AtomicUsize>,
}

impl Stream for Endless {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.pulled.fetch_add(1, Ordering::SeqCst);
        Poll::Ready(Some(Ok(Bytes::from_static(b"abcd"))))
    }
}

#[tokio::test]
async fn streamed_body_over_the_limit_stops_at_the_limit() {
    let fake = FakeBackend::new();
    let app = app(
        &fake,
        GatewayConfig {
            max_body_bytes: 10,
            ..open_config()
        },
    );
    let pulled = Arc::new(AtomicUsize::new(0));
    let req = Request::put("/v1/blobs")
        .body(Body::from_stream(Endless {
            pulled: Arc::clone(&pulled),
        }))
        .expect("request");
    let a = send(&app, req).await;
    assert_error(&a, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    // 10 bytes fit in 2 chunks of 4 (8 bytes); the third passes the limit: reading stops.
    assert_eq!(pulled.load(Ordering::SeqCst), 3);
    assert_eq!(fake.store_calls(), 0);
}

#[tokio::test]
async fn full_upload_slots_answer_503_with_retry_after() {
    let fake = FakeBackend::new();
    let gate = fake.hold_stores();
    let app = app(
        &fake,
        GatewayConfig {
            upload_slots: 1,
            retry_after_secs: 9,
            ..open_config()
        },
    );
    let first = tokio::spawn({
        let app = app.clone();
        async move { send(&app, put("/v1/blobs", "first", None)).await }
    });
    gate.wait_entered().await;
    let a = send(&app, put("/v1/blobs", "second", None)).await;
    assert_error(&a, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    assert_eq!(a.header("retry-after"), Some("9"));
    let m = get(&app, "/metrics").await;
    assert!(String::from_utf8_lossy(&m.body).contains("floe_gateway_uploads_in_flight 1"));
    gate.release(1);
    let a = first.await.expect("task");
    assert_eq!(a.status, StatusCode::OK);
    // The slot is free again.
    gate.release(1);
    let a = send(&app, put("/v1/blobs", "third", None)).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(fake.store_calls(), 2);
}

fn ndjson_lines(a: &Answer) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&a.body)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

#[tokio::test]
async fn ndjson_progress_then_result() {
    let fake = FakeBackend::new();
    let app = app(&fake, open_config());
    let req = Request::put(format!("/v1/blobs?owner=0x{}", "cd".repeat(20)))
        .header("accept", "application/x-ndjson")
        .body(Body::from("hello ndjson"))
        .expect("request");
    let a = send(&app, req).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("content-type"), Some("application/x-ndjson"));
    let lines = ndjson_lines(&a);
    let phases: Vec<&str> = lines.iter().filter_map(|l| l["phase"].as_str()).collect();
    assert_eq!(
        phases,
        [
            "receive", "encode", "register", "upload", "upload", "upload", "certify", "transfer"
        ]
    );
    assert_eq!(lines[0]["done"], 12);
    let last = lines.last().expect("lines");
    assert_eq!(last["result"]["newlyCreated"]["blobObject"]["size"], 12);
}

#[tokio::test]
async fn ndjson_failure_ends_with_an_error_line() {
    let fake = FakeBackend::new();
    fake.set_unavailable(true);
    let app = app(&fake, open_config());
    let req = Request::put("/v1/blobs")
        .header("accept", "application/x-ndjson")
        .body(Body::from("x"))
        .expect("request");
    let a = send(&app, req).await;
    let lines = ndjson_lines(&a);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["phase"], "receive");
    assert_eq!(lines[1]["code"], "unavailable");
    // Without NDJSON the same failure is a 503.
    let a = send(&app, put("/v1/blobs", "x", None)).await;
    assert_error(&a, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    assert_eq!(a.header("retry-after"), Some("7"));
}

#[tokio::test(start_paused = true)]
async fn a_stalled_body_is_408_and_frees_its_slot() {
    let fake = FakeBackend::new();
    let app = app(
        &fake,
        GatewayConfig {
            upload_slots: 1,
            body_idle_timeout_secs: 3,
            ..open_config()
        },
    );
    let stalled = futures::StreamExt::chain(
        futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"part"))]),
        futures::stream::pending(),
    );
    let req = Request::put("/v1/blobs")
        .body(Body::from_stream(stalled))
        .expect("request");
    let a = send(&app, req).await;
    assert_error(&a, StatusCode::REQUEST_TIMEOUT, "request_timeout");
    assert_eq!(fake.store_calls(), 0);
    assert_eq!(
        send(&app, put("/v1/blobs", "next", None)).await.status,
        StatusCode::OK
    );
}
