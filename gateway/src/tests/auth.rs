//! Upload authorization: token verification (401), claims (403/413), single use, quotas (429).

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use serde_json::json;

use super::*;
use crate::fake::PUBLISHER;

fn valid() -> serde_json::Value {
    json!({"exp": now() + 3600, "sub": "alice"})
}

#[tokio::test]
async fn valid_hs256_and_eddsa_tokens_store() {
    let fake = FakeBackend::new();
    let app = app(&fake, jwt_config());
    let a = send(
        &app,
        put("/v1/blobs", "by hs256", Some(&hs_token(&valid()))),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    let a = send(
        &app,
        put(
            "/v1/blobs",
            "by eddsa",
            Some(&ed_token(&ed_key(), &valid())),
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(fake.store_calls(), 2);
}

#[tokio::test]
async fn bad_tokens_are_401() {
    let fake = FakeBackend::new();
    let app = app(&fake, jwt_config());
    let header = |alg: &str| json!({"alg": alg, "typ": "JWT"});
    let tokens = [
        "garbage".to_owned(),
        "a.b.c".to_owned(),
        "a.b".to_owned(),
        hs_token(&json!({"exp": now() - 10})),
        hs_token(&json!({"sub": "no exp"})),
        hs_token(&json!({"exp": "tomorrow"})),
        hs_token(&json!({"exp": now() + 3600, "nbf": now() + 600})),
        hs_token(&json!({"exp": now() + 3600, "owner": "not an address"})),
        token_with(
            header("HS256"),
            &valid(),
            hs_sign("another secret of thirty-two bytes!"),
        ),
        token_with(header("none"), &valid(), |_| Vec::new()),
        token_with(header("HS512"), &valid(), hs_sign(SECRET)),
        token_with(
            json!({"alg": "HS256", "crit": ["x"]}),
            &valid(),
            hs_sign(SECRET),
        ),
        ed_token(&ed25519_dalek::SigningKey::from_bytes(&[8u8; 32]), &valid()),
        // An EdDSA header over an HMAC signature.
        token_with(header("EdDSA"), &valid(), hs_sign(SECRET)),
    ];
    for t in &tokens {
        let a = send(&app, put("/v1/blobs", "x", Some(t))).await;
        assert_error(&a, StatusCode::UNAUTHORIZED, "unauthorized");
    }
    // Tampered claims under a valid signature.
    let t = hs_token(&valid());
    let mut parts: Vec<&str> = t.split('.').collect();
    let forged =
        URL_SAFE_NO_PAD.encode(json!({"exp": now() + 3600, "max_size": 1u64 << 40}).to_string());
    parts[1] = &forged;
    let a = send(&app, put("/v1/blobs", "x", Some(&parts.join(".")))).await;
    assert_error(&a, StatusCode::UNAUTHORIZED, "unauthorized");
    // No header, or another scheme.
    let a = send(&app, put("/v1/blobs", "x", None)).await;
    assert_error(&a, StatusCode::UNAUTHORIZED, "unauthorized");
    let req = Request::put("/v1/blobs")
        .header("authorization", format!("Basic {}", hs_token(&valid())))
        .body(Body::from("x"))
        .expect("request");
    assert_error(
        &send(&app, req).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    assert_eq!(fake.store_calls(), 0);
}

#[tokio::test]
async fn claims_forbid_epochs_owner_and_size() {
    let fake = FakeBackend::new();
    let app = app(&fake, jwt_config());
    let owner = format!("0x{}", "ee".repeat(20));
    let t = hs_token(&json!({"exp": now() + 3600, "max_epochs": 2, "owner": owner, "max_size": 8}));
    let a = send(&app, put("/v1/blobs?epochs=3", "x", Some(&t))).await;
    assert_error(&a, StatusCode::FORBIDDEN, "forbidden");
    let other = format!("0x{}", "ff".repeat(20));
    let a = send(
        &app,
        put(&format!("/v1/blobs?owner={other}"), "x", Some(&t)),
    )
    .await;
    assert_error(&a, StatusCode::FORBIDDEN, "forbidden");
    let a = send(&app, put("/v1/blobs", "nine byte", Some(&t))).await;
    assert_error(&a, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(fake.store_calls(), 0);
    // Within the claims: the token's owner is applied.
    let a = send(&app, put("/v1/blobs?epochs=2", "ok", Some(&t))).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(a.json()["newlyCreated"]["blobObject"]["owner"], owner);
    assert_ne!(owner, PUBLISHER.to_string());
}

#[tokio::test]
async fn single_use_tokens_are_spent_by_a_successful_store_only() {
    let fake = FakeBackend::new();
    let app = app(&fake, jwt_config());
    let t = hs_token(&json!({"exp": now() + 3600, "jti": "once"}));
    fake.set_unavailable(true);
    let a = send(&app, put("/v1/blobs", "x", Some(&t))).await;
    assert_error(&a, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    fake.set_unavailable(false);
    let a = send(&app, put("/v1/blobs", "x", Some(&t))).await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "a failed store does not spend the token"
    );
    let a = send(&app, put("/v1/blobs", "y", Some(&t))).await;
    assert_error(&a, StatusCode::FORBIDDEN, "forbidden");
    assert!(a.error().error.contains("already used"));
    let other = hs_token(&json!({"exp": now() + 3600, "jti": "twice"}));
    assert_eq!(
        send(&app, put("/v1/blobs", "y", Some(&other))).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn quota_is_per_token_and_answers_429() {
    let fake = FakeBackend::new();
    let app = app(
        &fake,
        GatewayConfig {
            quota_bytes_per_token: Some(10),
            ..jwt_config()
        },
    );
    let t = hs_token(&json!({"exp": now() + 3600, "sub": "q"}));
    assert_eq!(
        send(&app, put("/v1/blobs", "123456", Some(&t)))
            .await
            .status,
        StatusCode::OK
    );
    let a = send(&app, put("/v1/blobs", "abcdef", Some(&t))).await;
    assert_error(&a, StatusCode::TOO_MANY_REQUESTS, "quota_exceeded");
    // A chunked body (no Content-Length) over what is left is cut off with 429 too.
    let body =
        Body::from_stream(futures::stream::iter(["ab", "cd", "ef"].map(|c| {
            Ok::<_, std::io::Error>(bytes::Bytes::from_static(c.as_bytes()))
        })));
    let a = send(&app, put("/v1/blobs", body, Some(&t))).await;
    assert_error(&a, StatusCode::TOO_MANY_REQUESTS, "quota_exceeded");
    assert_eq!(
        send(&app, put("/v1/blobs", "wxyz", Some(&t))).await.status,
        StatusCode::OK
    );
    let a = send(&app, put("/v1/blobs", "1", Some(&t))).await;
    assert_error(&a, StatusCode::TOO_MANY_REQUESTS, "quota_exceeded");
    // Another token has its own quota.
    let u = hs_token(&json!({"exp": now() + 3600, "sub": "r"}));
    assert_eq!(
        send(&app, put("/v1/blobs", "1", Some(&u))).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_open_gateway_needs_no_token() {
    let fake = FakeBackend::new();
    let a = send(&app(&fake, open_config()), put("/v1/blobs", "x", None)).await;
    assert_eq!(a.status, StatusCode::OK);
}
