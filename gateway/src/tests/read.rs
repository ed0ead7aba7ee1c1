//! The aggregator: whole reads, ranges, 304, HEAD, headers from attributes, error statuses.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};

use super::*;
use crate::backend::BlobState;

fn req(uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut b = Request::get(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Body::empty()).expect("request")
}

#[tokio::test]
async fn whole_blob_streams_with_all_headers() {
    let fake = FakeBackend::new();
    let bytes = data(103);
    let id = fake.insert(&bytes, BlobState::Certified, &[]);
    let a = get(&app(&fake, open_config()), &format!("/v1/blobs/{id}")).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body.as_ref(), bytes.as_slice());
    assert_eq!(a.header("etag"), Some(format!("\"{id}\"").as_str()));
    assert_eq!(
        a.header("cache-control"),
        Some("public, max-age=3600, immutable")
    );
    assert_eq!(a.header("content-length"), Some("103"));
    assert_eq!(a.header("content-type"), Some("application/octet-stream"));
    assert_eq!(a.header("accept-ranges"), Some("bytes"));
    assert_eq!(a.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(a.header("content-security-policy"), Some("sandbox"));
    assert_eq!(a.header("x-floe-registration"), Some("1"));
    assert_eq!(fake.reads(), vec![0..103]);
    // The id without 0x reads the same blob.
    let hex = id.to_string()[2..].to_owned();
    let a = get(&app(&fake, open_config()), &format!("/v1/blobs/{hex}")).await;
    assert_eq!(a.body.as_ref(), bytes.as_slice());
}

#[tokio::test]
async fn ranges_answer_206_with_only_those_bytes() {
    let fake = FakeBackend::new();
    let bytes = data(100);
    let id = fake.insert(&bytes, BlobState::Certified, &[]);
    let app = app(&fake, open_config());
    let cases: [(&str, std::ops::Range<usize>); 6] = [
        ("bytes=0-9", 0..10),
        ("bytes=40-59", 40..60),
        ("bytes=90-99", 90..100),
        ("bytes=95-500", 95..100),
        ("bytes=-7", 93..100),
        ("bytes=64-", 64..100),
    ];
    for (h, r) in cases {
        let a = send(&app, req(&format!("/v1/blobs/{id}"), &[("range", h)])).await;
        assert_eq!(a.status, StatusCode::PARTIAL_CONTENT, "{h}");
        assert_eq!(a.body.as_ref(), &bytes[r.clone()], "{h}");
        let expect = format!("bytes {}-{}/100", r.start, r.end - 1);
        assert_eq!(a.header("content-range"), Some(expect.as_str()), "{h}");
        assert_eq!(
            a.header("content-length"),
            Some(r.len().to_string().as_str())
        );
        assert_eq!(
            fake.reads().last(),
            Some(&(r.start as u64..r.end as u64)),
            "{h}"
        );
    }
}

#[tokio::test]
async fn unsatisfiable_range_is_416_with_the_length() {
    let fake = FakeBackend::new();
    let id = fake.insert(&data(50), BlobState::Certified, &[]);
    let app = app(&fake, open_config());
    for h in ["bytes=50-", "bytes=60-70", "bytes=-0"] {
        let a = send(&app, req(&format!("/v1/blobs/{id}"), &[("range", h)])).await;
        assert_error(
            &a,
            StatusCode::RANGE_NOT_SATISFIABLE,
            "range_not_satisfiable",
        );
        assert_eq!(a.header("content-range"), Some("bytes */50"));
    }
    assert!(fake.reads().is_empty());
}

#[tokio::test]
async fn several_or_garbled_ranges_answer_the_whole_blob() {
    let fake = FakeBackend::new();
    let bytes = data(30);
    let id = fake.insert(&bytes, BlobState::Certified, &[]);
    let app = app(&fake, open_config());
    for h in ["bytes=0-1,4-5", "bytes=9-3", "bytes=x-", "lines=0-1"] {
        let a = send(&app, req(&format!("/v1/blobs/{id}"), &[("range", h)])).await;
        assert_eq!(a.status, StatusCode::OK, "{h}");
        assert_eq!(a.body.as_ref(), bytes.as_slice());
        assert!(a.header("content-range").is_none());
    }
    // If-Range with another validator: the whole blob.
    let a = send(
        &app,
        req(
            &format!("/v1/blobs/{id}"),
            &[("range", "bytes=0-1"), ("if-range", "\"other\"")],
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let etag = format!("\"{id}\"");
    let a = send(
        &app,
        req(
            &format!("/v1/blobs/{id}"),
            &[("range", "bytes=0-1"), ("if-range", &etag)],
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::PARTIAL_CONTENT);
}

#[tokio::test]
async fn if_none_match_answers_304_without_reading() {
    let fake = FakeBackend::new();
    let id = fake.insert(&data(30), BlobState::Certified, &[]);
    let app = app(&fake, open_config());
    let etag = format!("\"{id}\"");
    let a = send(
        &app,
        req(&format!("/v1/blobs/{id}"), &[("if-none-match", &etag)]),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_MODIFIED);
    assert!(a.body.is_empty());
    assert_eq!(a.header("etag"), Some(etag.as_str()));
    assert!(fake.reads().is_empty());
    let a = send(
        &app,
        req(&format!("/v1/blobs/{id}"), &[("if-none-match", "\"nope\"")]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
}

#[tokio::test]
async fn head_has_the_headers_and_no_body() {
    let fake = FakeBackend::new();
    let id = fake.insert(
        &data(77),
        BlobState::Certified,
        &[("content-type", "image/png")],
    );
    let app = app(&fake, open_config());
    let a = send(
        &app,
        Request::head(format!("/v1/blobs/{id}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.is_empty());
    assert_eq!(a.header("content-length"), Some("77"));
    assert_eq!(a.header("content-type"), Some("image/png"));
    assert_eq!(a.header("etag"), Some(format!("\"{id}\"").as_str()));
    assert!(fake.reads().is_empty(), "HEAD must not fetch the blob");
}

#[tokio::test]
async fn attributes_of_the_chosen_registration_become_headers() {
    let fake = FakeBackend::new();
    let id = fake.insert(
        &data(10),
        BlobState::Certified,
        &[
            ("content-type", "text/html; charset=utf-8"),
            ("content-disposition", "attachment; filename=\"x.html\""),
            ("content-encoding", "gzip"),
            ("content-language", "de"),
            ("cache-control", "max-age=99999999"),
        ],
    );
    let second = fake
        .add_registration(id, &[("content-type", "text/plain\r\nx-evil: 1")])
        .expect("blob exists");
    let app = app(&fake, open_config());
    let a = get(&app, &format!("/v1/blobs/{id}")).await;
    assert_eq!(a.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(
        a.header("content-disposition"),
        Some("attachment; filename=\"x.html\"")
    );
    assert_eq!(a.header("content-encoding"), Some("gzip"));
    assert_eq!(a.header("content-language"), Some("de"));
    assert_eq!(
        a.header("cache-control"),
        Some("public, max-age=3600, immutable")
    );
    assert_eq!(a.header("content-security-policy"), Some("sandbox"));
    // The second registration's injected value falls back to the default.
    let a = get(&app, &format!("/v1/blobs/{id}?registration={second}")).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("content-type"), Some("application/octet-stream"));
    assert!(a.header("x-evil").is_none());
    assert!(a.header("content-disposition").is_none());
    assert_eq!(
        a.header("x-floe-registration"),
        Some(second.to_string().as_str())
    );
    // A registration of another blob: 404.
    let a = get(&app, &format!("/v1/blobs/{id}?registration=999")).await;
    assert_error(&a, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn cache_lifetime_is_capped_and_zero_means_no_store() {
    let fake = FakeBackend::new();
    let id = fake.insert(&data(10), BlobState::Certified, &[]);
    let app = app(&fake, open_config());
    fake.set_secs_until_certified_end(&id, 10 * 365 * 24 * 3600);
    let a = get(&app, &format!("/v1/blobs/{id}")).await;
    assert_eq!(
        a.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    fake.set_secs_until_certified_end(&id, 0);
    let a = get(&app, &format!("/v1/blobs/{id}")).await;
    assert_eq!(a.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn every_read_error_status_of_the_table() {
    let fake = FakeBackend::new();
    let registered = fake.insert(b"registered", BlobState::Registered, &[]);
    let deleted = fake.insert(b"deleted", BlobState::Deleted, &[]);
    let expired = fake.insert(b"expired", BlobState::Expired, &[]);
    let invalid = fake.insert(b"invalid", BlobState::Invalid, &[]);
    let certified = fake.insert(b"certified", BlobState::Certified, &[]);
    let app = app(&fake, open_config());
    assert_error(
        &get(&app, "/v1/blobs/0x1234").await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &get(&app, &format!("/v1/blobs/{}", "zz".repeat(32))).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &get(&app, &format!("/v1/blobs/{certified}?registration=x")).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &get(&app, &format!("/v1/blobs/{certified}?bogus=1")).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &get(&app, &format!("/v1/blobs/0x{}", "ab".repeat(32))).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &get(&app, &format!("/v1/blobs/{registered}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    for id in [deleted, expired, invalid] {
        assert_error(
            &get(&app, &format!("/v1/blobs/{id}")).await,
            StatusCode::GONE,
            "gone",
        );
    }
    assert_error(
        &get(&app, "/v2/nothing").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let a = send(
        &app,
        Request::delete(format!("/v1/blobs/{certified}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_error(&a, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    fake.set_unavailable(true);
    let a = get(&app, &format!("/v1/blobs/{certified}")).await;
    assert_error(&a, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    assert_eq!(a.header("retry-after"), Some("7"));
}

#[tokio::test]
async fn empty_blob_reads_as_empty_without_fetching() {
    let fake = FakeBackend::new();
    let id = fake.insert(b"", BlobState::Certified, &[]);
    let a = get(&app(&fake, open_config()), &format!("/v1/blobs/{id}")).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.is_empty());
    assert_eq!(a.header("content-length"), Some("0"));
    assert!(fake.reads().is_empty());
}
