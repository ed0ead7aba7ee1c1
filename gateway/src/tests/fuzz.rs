//! Hostile input: random ids, ranges, queries, headers and bodies. Malformed input always gets
//! a 4xx JSON error; nothing ever gets a 5xx or panics.

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode},
};
use proptest::prelude::*;

use super::*;
use crate::backend::BlobState;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Percent-encodes every byte that is not unreserved, so any string makes a valid URI.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[track_caller]
fn assert_4xx_json(a: &Answer) {
    assert!(a.status.is_client_error(), "{a:?}");
    let e = a.error();
    assert!(!e.error.is_empty() && !e.code.is_empty(), "{a:?}");
}

fn setup() -> (FakeBackend, Router, Vec<u8>, String) {
    let fake = FakeBackend::new();
    let bytes = data(97);
    let id = fake.insert(&bytes, BlobState::Certified, &[]);
    let app = app(&fake, jwt_config());
    (fake, app, bytes, id.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn malformed_ids_are_400_or_404(id in "\\PC{0,80}") {
        let valid = id.strip_prefix("0x").unwrap_or(&id).len() == 64
            && id.strip_prefix("0x").unwrap_or(&id).bytes().all(|b| b.is_ascii_hexdigit());
        prop_assume!(!valid && !id.is_empty());
        let (_, app, _, _) = setup();
        runtime().block_on(async {
            for path in [format!("/v1/blobs/{}", encode(&id)), format!("/v1/blobs/{}/info", encode(&id))] {
                let a = get(&app, &path).await;
                assert_4xx_json(&a);
            }
        });
    }

    #[test]
    fn any_range_header_is_answered_consistently(range in "\\PC{0,40}|bytes=[0-9]{0,4}-[0-9]{0,4}(,[0-9]{0,3}-[0-9]{0,3})?|bytes=-[0-9]{1,4}") {
        let (_, app, bytes, id) = setup();
        let Ok(req) = Request::get(format!("/v1/blobs/{id}")).header("range", range.as_str()).body(Body::empty()) else {
            return Ok(());
        };
        let a = runtime().block_on(send(&app, req));
        match a.status {
            StatusCode::OK => prop_assert_eq!(a.body.as_ref(), bytes.as_slice()),
            StatusCode::PARTIAL_CONTENT => {
                let cr = a.header("content-range").expect("content-range").to_owned();
                let (span, total) = cr.strip_prefix("bytes ").and_then(|r| r.split_once('/')).expect("form");
                prop_assert_eq!(total, "97");
                let (s, e) = span.split_once('-').expect("span");
                let (s, e): (usize, usize) = (s.parse().expect("start"), e.parse().expect("end"));
                prop_assert!(s <= e && e < 97);
                prop_assert_eq!(a.body.as_ref(), &bytes[s..=e]);
            }
            StatusCode::RANGE_NOT_SATISFIABLE => {
                prop_assert_eq!(a.header("content-range"), Some("bytes */97"));
                assert_4xx_json(&a);
            }
            other => prop_assert!(false, "unexpected {other} for {range:?}"),
        }
    }

    #[test]
    fn any_conditional_header_never_fails(value in "[ -~]{0,60}", name in prop::sample::select(vec!["if-none-match", "if-range", "accept", "accept-encoding"])) {
        let (_, app, _, id) = setup();
        let Ok(req) = Request::get(format!("/v1/blobs/{id}")).header(name, value.as_str()).body(Body::empty()) else {
            return Ok(());
        };
        let a = runtime().block_on(send(&app, req));
        prop_assert!([StatusCode::OK, StatusCode::NOT_MODIFIED].contains(&a.status), "{:?}", a);
    }

    #[test]
    fn random_queries_never_5xx(query in "\\PC{0,60}", key in prop::sample::select(vec!["epochs", "deletable", "owner", "attributes", "registration", "limit", "x"])) {
        let (fake, _, _, id) = setup();
        let app = super::app(&fake, open_config());
        let q = format!("{key}={}", encode(&query));
        runtime().block_on(async {
            for uri in [format!("/v1/blobs?{q}"), format!("/v1/blobs/{id}?{q}"), format!("/v1/recent?{q}")] {
                let req = if uri.starts_with("/v1/blobs?") {
                    put(&uri, "payload", None)
                } else {
                    Request::get(&uri).body(Body::empty()).expect("request")
                };
                let a = send(&app, req).await;
                if !a.status.is_success() {
                    assert_4xx_json(&a);
                }
            }
        });
    }

    #[test]
    fn random_authorization_is_401(auth in "[ -~]{0,200}", body in prop::collection::vec(any::<u8>(), 0..64)) {
        let (fake, app, _, _) = setup();
        let Ok(req) = Request::put("/v1/blobs").header("authorization", auth.as_str()).body(Body::from(body)) else {
            return Ok(());
        };
        let a = runtime().block_on(send(&app, req));
        prop_assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_4xx_json(&a);
        prop_assert_eq!(fake.store_calls(), 0);
    }

    #[test]
    fn random_tokens_in_jwt_shape_are_401(parts in prop::collection::vec("[A-Za-z0-9_-]{0,40}", 3)) {
        let (_, app, _, _) = setup();
        let t = parts.join(".");
        let a = runtime().block_on(send(&app, put("/v1/blobs", "x", Some(&t))));
        prop_assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_4xx_json(&a);
    }

    #[test]
    fn random_bodies_store_and_read_back(body in prop::collection::vec(any::<u8>(), 0..300)) {
        let fake = FakeBackend::new();
        let app = super::app(&fake, GatewayConfig { max_body_bytes: 200, ..open_config() });
        runtime().block_on(async {
            let a = send(&app, put("/v1/blobs", body.clone(), None)).await;
            if body.len() > 200 {
                assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
                assert_4xx_json(&a);
                return;
            }
            assert_eq!(a.status, StatusCode::OK, "{a:?}");
            let id = a.json()["newlyCreated"]["blobObject"]["blobId"].as_str().expect("id").to_owned();
            let r = get(&app, &format!("/v1/blobs/{id}")).await;
            assert_eq!(r.body.as_ref(), body.as_slice());
        });
    }
}
