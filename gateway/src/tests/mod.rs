//! Tests of the gateway against the [`crate::fake::FakeBackend`]: through the router
//! (`oneshot`) and over real sockets where the wire matters.

mod auth;
mod fuzz;
mod misc;
mod quilt;
mod read;
mod socket;
mod write;

use axum::{
    Router,
    body::Body,
    http::{HeaderMap, Request, StatusCode},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use bytes::Bytes;
use ed25519_dalek::{Signer, SigningKey};
use hmac::{Hmac, Mac};
use http_body_util::BodyExt;
use sha2::Sha256;
use tower::ServiceExt;

use crate::{GatewayConfig, JwtConfig, error::ErrorBody, fake::FakeBackend, router};

/// The HS256 secret of [`jwt_config`].
pub(crate) const SECRET: &str = "0123456789abcdef0123456789abcdef-test";

/// The Ed25519 signing key whose public key [`jwt_config`] trusts.
pub(crate) fn ed_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

pub(crate) fn open_config() -> GatewayConfig {
    GatewayConfig {
        open: true,
        ..GatewayConfig::default()
    }
}

pub(crate) fn jwt_config() -> GatewayConfig {
    GatewayConfig {
        open: false,
        jwt: JwtConfig {
            hs256_secrets: vec![SECRET.to_owned()],
            ed25519_public_keys: vec![hex::encode(ed_key().verifying_key().to_bytes())],
            leeway_secs: 0,
        },
        ..GatewayConfig::default()
    }
}

pub(crate) fn app(backend: &FakeBackend, config: GatewayConfig) -> Router {
    router(backend.clone(), config).expect("valid config")
}

/// An answer: status, headers, whole body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Answer {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The JSON error body; panics if the answer is not one.
    pub(crate) fn error(&self) -> ErrorBody {
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "{self:?}"
        );
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not an error body ({e}): {self:?}"))
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }
}

pub(crate) async fn send(app: &Router, req: Request<Body>) -> Answer {
    let resp = app.clone().oneshot(req).await.expect("infallible");
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

pub(crate) async fn get(app: &Router, uri: &str) -> Answer {
    send(app, Request::get(uri).body(Body::empty()).expect("request")).await
}

/// Asserts a JSON error answer with this status and code.
#[track_caller]
pub(crate) fn assert_error(a: &Answer, status: StatusCode, code: &str) {
    assert_eq!(a.status, status, "{a:?}");
    assert_eq!(a.error().code, code, "{a:?}");
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token with this header and claims, signed by `sign` over `header.claims`.
pub(crate) fn token_with(
    header: serde_json::Value,
    claims: &serde_json::Value,
    sign: impl Fn(&[u8]) -> Vec<u8>,
) -> String {
    let signed = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let sig = sign(signed.as_bytes());
    format!("{signed}.{}", b64(&sig))
}

pub(crate) fn hs_sign(secret: &str) -> impl Fn(&[u8]) -> Vec<u8> {
    let secret = secret.to_owned();
    move |m| {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(m);
        mac.finalize().into_bytes().to_vec()
    }
}

pub(crate) fn hs_token(claims: &serde_json::Value) -> String {
    token_with(
        serde_json::json!({"alg": "HS256", "typ": "JWT"}),
        claims,
        hs_sign(SECRET),
    )
}

pub(crate) fn ed_token(key: &SigningKey, claims: &serde_json::Value) -> String {
    token_with(
        serde_json::json!({"alg": "EdDSA", "typ": "JWT"}),
        claims,
        |m| key.sign(m).to_bytes().to_vec(),
    )
}

pub(crate) fn now() -> u64 {
    crate::auth::unix_now()
}

/// A PUT of `body` to `uri`, with an optional bearer token and extra headers.
pub(crate) fn put(uri: &str, body: impl Into<Body>, token: Option<&str>) -> Request<Body> {
    let mut b = Request::put(uri);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    b.body(body.into()).expect("request")
}

/// Test data: `n` bytes of a simple pattern.
pub(crate) fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + 3) as u8).collect()
}
