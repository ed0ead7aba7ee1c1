//! Explorer JSON, the page and its assets, metrics, the OpenAPI document against the router,
//! and the config.

use std::collections::BTreeSet;

use axum::{
    body::Body,
    http::{Method, Request, StatusCode},
};

use super::*;
use crate::{ROUTES, backend::BlobState, openapi::ApiDoc};

#[tokio::test]
async fn explorer_json() {
    let fake = FakeBackend::new();
    let id = fake.insert(
        b"info",
        BlobState::Certified,
        &[("content-type", "text/plain")],
    );
    fake.add_registration(id, &[]).expect("blob");
    let app = app(
        &fake,
        GatewayConfig {
            max_body_bytes: 777,
            ..open_config()
        },
    );
    let a = get(&app, &format!("/v1/blobs/{id}/info")).await;
    assert_eq!(a.status, StatusCode::OK);
    let j = a.json();
    assert_eq!(j["downloadUrl"], format!("/v1/blobs/{id}"));
    assert_eq!(j["state"], "certified");
    assert_eq!(j["registrations"][0]["registrationId"], 2, "newest first");
    assert_eq!(j["attributes"]["content-type"], "text/plain");
    assert_error(
        &get(&app, &format!("/v1/blobs/0x{}/info", "00".repeat(32))).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &get(&app, "/v1/blobs/xyz/info").await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    let n = get(&app, "/v1/network").await.json();
    assert_eq!(n["publisher"]["open"], true);
    assert_eq!(n["publisher"]["maxBodyBytes"], 777);
    assert_eq!(n["committee"][0]["health"]["ok"], true);
    let r = get(&app, "/v1/recent?limit=1").await.json();
    assert_eq!(r["blobs"].as_array().map(Vec::len), Some(1));
    assert_eq!(r["blobs"][0]["registrationId"], 2);
    for bad in [
        "/v1/recent?limit=0",
        "/v1/recent?limit=101",
        "/v1/recent?limit=x",
    ] {
        assert_error(
            &get(&app, bad).await,
            StatusCode::BAD_REQUEST,
            "bad_request",
        );
    }
    fake.set_unavailable(true);
    for uri in ["/v1/network", "/v1/recent"] {
        let a = get(&app, uri).await;
        assert_error(&a, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
        assert_eq!(a.header("retry-after"), Some("7"));
    }
}

#[tokio::test]
async fn page_and_assets_have_types_and_a_strict_csp() {
    let app = app(&FakeBackend::new(), open_config());
    for (uri, ty, file) in [
        (
            "/",
            "text/html; charset=utf-8",
            include_str!("../../web/index.html"),
        ),
        (
            "/assets/app.js",
            "text/javascript; charset=utf-8",
            include_str!("../../web/app.js"),
        ),
        (
            "/assets/style.css",
            "text/css; charset=utf-8",
            include_str!("../../web/style.css"),
        ),
    ] {
        let a = get(&app, uri).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.header("content-type"), Some(ty));
        assert_eq!(a.body.as_ref(), file.as_bytes());
        let csp = a.header("content-security-policy").expect("csp");
        assert!(
            csp.starts_with("default-src 'none'; script-src 'self'"),
            "{csp}"
        );
        assert_eq!(a.header("x-content-type-options"), Some("nosniff"));
    }
    assert_error(
        &get(&app, "/assets/secret.txt").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

#[tokio::test]
async fn metrics_count_requests_bytes_and_errors() {
    let fake = FakeBackend::new();
    let id = fake.insert(&data(25), BlobState::Certified, &[]);
    let app = app(&fake, open_config());
    get(&app, &format!("/v1/blobs/{id}")).await;
    get(&app, &format!("/v1/blobs/{id}")).await;
    get(&app, "/v1/blobs/bad").await;
    send(&app, put("/v1/blobs", "seven b", None)).await;
    let m = String::from_utf8(get(&app, "/metrics").await.body.to_vec()).expect("utf8");
    for line in [
        "floe_gateway_requests_total{method=\"GET\",route=\"/v1/blobs/{id}\",status=\"200\"} 2",
        "floe_gateway_requests_total{method=\"GET\",route=\"/v1/blobs/{id}\",status=\"400\"} 1",
        "floe_gateway_requests_total{method=\"PUT\",route=\"/v1/blobs\",status=\"200\"} 1",
        "floe_gateway_errors_total{code=\"bad_request\"} 1",
        "floe_gateway_bytes_served_total 50",
        "floe_gateway_bytes_received_total 7",
        "floe_gateway_uploads_in_flight 0",
    ] {
        assert!(m.lines().any(|l| l == line), "missing {line:?} in\n{m}");
    }
}

/// The document's (METHOD, path) pairs.
fn documented() -> BTreeSet<(String, String)> {
    let doc = serde_json::to_value(<ApiDoc as utoipa::OpenApi>::openapi()).expect("json");
    assert_eq!(doc["openapi"], "3.1.0");
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            if ["get", "head", "put", "post", "delete", "patch", "options"]
                .contains(&method.as_str())
            {
                assert!(
                    op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                    "{method} {path}"
                );
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn openapi_documents_exactly_the_routes() {
    let routed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(documented(), routed);
    // Each listed route is live in the router: its answer is not the "no route" fallback and
    // not a 405.
    let fake = FakeBackend::new();
    // A quilt, so that the quilt routes answer too.
    let id = fake.insert(
        &super::quilt::quilt(&[("a.txt", b"x")]),
        BlobState::Certified,
        &[],
    );
    let app = app(&fake, open_config());
    for (method, path) in ROUTES {
        let uri = path
            .replace("{id}", &id.to_string())
            .replace("{file}", "app.js")
            .replace("{identifier}", "a.txt");
        let req = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).expect("method"))
            .uri(&uri)
            .body(Body::from("x"))
            .expect("request");
        let a = send(&app, req).await;
        assert!(a.status.is_success(), "{method} {uri}: {a:?}");
    }
    // And a path or method not listed is not routed.
    let a = send(
        &app,
        Request::post("/v1/blobs")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    let a = get(&app, "/v1/blob").await;
    assert!(a.error().error.starts_with("no route"));
    // The served document is the same.
    let served = get(&app, "/openapi.json").await.json();
    assert_eq!(
        served,
        serde_json::to_value(<ApiDoc as utoipa::OpenApi>::openapi()).expect("json")
    );
}

#[test]
fn config_parses_and_checks() {
    let cfg = GatewayConfig::from_toml(
        "listen = \"0.0.0.0:9000\"\nmax_body_bytes = 1000\n[jwt]\nhs256_secrets = [\"0123456789abcdef0123456789abcdef\"]\n",
    )
    .expect("valid");
    assert_eq!(cfg.max_body_bytes, 1000);
    assert_eq!(cfg.upload_slots, GatewayConfig::default().upload_slots);
    assert!(GatewayConfig::from_toml("open = true").is_ok());
    for bad in [
        "",
        "open = true\nupload_slots = 0",
        "open = true\nnope = 1",
        "[jwt]\nhs256_secrets = [\"short\"]",
        "[jwt]\ned25519_public_keys = [\"abcd\"]",
    ] {
        assert!(GatewayConfig::from_toml(bad).is_err(), "{bad:?}");
    }
}
