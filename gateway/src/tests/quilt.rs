//! Quilt routes: the file list, one file byte for byte with its headers, ranges of a file,
//! 304, HEAD, a file that does not match its hash, and every error status; hostile ids and
//! identifiers are always 4xx.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use floe_core::quilt::{QuiltBuilder, QuiltIndex};
use http_body_util::BodyExt;
use proptest::prelude::*;
use tower::ServiceExt;

use super::*;
use crate::backend::BlobState;

/// A quilt blob of `files` without tags.
pub(crate) fn quilt(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = QuiltBuilder::new();
    for (id, bytes) in files {
        b.add(*id, bytes.to_vec(), Vec::<(String, String)>::new())
            .expect("valid file");
    }
    b.build().expect("builds")
}

/// A site: an HTML page with a tag, a stylesheet, a unicode name, a binary file.
fn site() -> (FakeBackend, floe_core::ids::BlobId, Vec<u8>) {
    let mut b = QuiltBuilder::new();
    b.add(
        "index.html",
        b"<h1>hi</h1>".to_vec(),
        Vec::<(String, String)>::new(),
    )
    .expect("add");
    b.add(
        "css/site.css",
        b"h1{color:red}".to_vec(),
        Vec::<(String, String)>::new(),
    )
    .expect("add");
    b.add(
        "docs/naïve café.txt",
        "crème brûlée".as_bytes().to_vec(),
        Vec::<(String, String)>::new(),
    )
    .expect("add");
    b.add("data.bin", data(300), [("content-type", "image/png")])
        .expect("add");
    b.add(
        "evil.txt",
        b"x".to_vec(),
        [("content-type", "text/html <script>")],
    )
    .expect("add");
    let blob = b.build().expect("builds");
    let fake = FakeBackend::new();
    let id = fake.insert(&blob, BlobState::Certified, &[]);
    (fake, id, blob)
}

fn req(uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut b = Request::get(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Body::empty()).expect("request")
}

#[tokio::test]
async fn the_list_names_every_file_with_its_size_type_and_hash() {
    let (fake, id, blob) = site();
    let app = app(&fake, open_config());
    let a = get(&app, &format!("/v1/quilts/{id}/files")).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    let j = a.json();
    assert_eq!(j["quiltId"], id.to_string());
    assert_eq!(j["size"], blob.len() as u64);
    let files = j["files"].as_array().expect("files");
    let names: Vec<&str> = files
        .iter()
        .filter_map(|f| f["identifier"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "css/site.css",
            "data.bin",
            "docs/naïve café.txt",
            "evil.txt",
            "index.html"
        ]
    );
    let index = QuiltIndex::from_blob(&blob).expect("parses");
    for (f, e) in files.iter().zip(index.entries()) {
        assert_eq!(f["size"], e.len());
        assert_eq!(f["sha256"], hex::encode(e.sha256()));
        assert_eq!(f["contentType"], e.content_type());
    }
    assert_eq!(files[1]["contentType"], "image/png");
    assert_eq!(files[1]["tags"]["content-type"], "image/png");
    assert_eq!(files[4]["contentType"], "text/html; charset=utf-8");
    assert_eq!(
        files[2]["url"],
        format!("/v1/quilts/{id}/files/docs/na%C3%AFve%20caf%C3%A9.txt")
    );
    // Only the prefix and the header were read, not the files.
    assert_eq!(fake.reads(), vec![0..12, 12..index.header_len()]);
}

#[tokio::test]
async fn one_file_reads_byte_for_byte_from_its_range_only() {
    let (fake, id, blob) = site();
    let index = QuiltIndex::from_blob(&blob).expect("parses");
    let app = app(&fake, open_config());
    for (identifier, path, ct) in [
        ("index.html", "index.html", "text/html; charset=utf-8"),
        ("css/site.css", "css/site.css", "text/css; charset=utf-8"),
        (
            "docs/naïve café.txt",
            "docs/na%C3%AFve%20caf%C3%A9.txt",
            "text/plain; charset=utf-8",
        ),
        ("data.bin", "data.bin", "image/png"),
        // A tag that is not a valid header value falls back to the default.
        ("evil.txt", "evil.txt", "application/octet-stream"),
    ] {
        let e = index.get(identifier).expect("entry");
        let before = fake.reads().len();
        let a = get(&app, &format!("/v1/quilts/{id}/files/{path}")).await;
        assert_eq!(a.status, StatusCode::OK, "{identifier}: {a:?}");
        let r = e.range();
        assert_eq!(
            a.body.as_ref(),
            &blob[r.start as usize..r.end as usize],
            "{identifier}"
        );
        assert_eq!(a.header("content-type"), Some(ct), "{identifier}");
        assert_eq!(
            a.header("content-length"),
            Some(e.len().to_string().as_str())
        );
        let etag = format!("\"{}\"", hex::encode(e.sha256()));
        assert_eq!(a.header("etag"), Some(etag.as_str()));
        assert_eq!(a.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(a.header("content-security-policy"), Some("sandbox"));
        assert_eq!(a.header("accept-ranges"), Some("bytes"));
        assert_eq!(a.header("x-floe-quilt"), Some(id.to_string().as_str()));
        assert_eq!(
            a.header("cache-control"),
            Some("public, max-age=3600, immutable")
        );
        assert!(a.header("x-evil").is_none());
        // The prefix, the header, then exactly the file's range.
        let reads = fake.reads();
        assert_eq!(
            reads[before..],
            [0..12, 12..index.header_len(), r],
            "{identifier}"
        );
    }
}

#[tokio::test]
async fn ranges_304_and_head() {
    let (fake, id, blob) = site();
    let index = QuiltIndex::from_blob(&blob).expect("parses");
    let e = index.get("data.bin").expect("entry");
    let off = e.offset() as usize;
    let app = app(&fake, open_config());
    let uri = format!("/v1/quilts/{id}/files/data.bin");
    let a = send(&app, req(&uri, &[("range", "bytes=10-19")])).await;
    assert_eq!(a.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(a.body.as_ref(), &blob[off + 10..off + 20]);
    assert_eq!(a.header("content-range"), Some("bytes 10-19/300"));
    assert_eq!(
        fake.reads().last(),
        Some(&(e.offset() + 10..e.offset() + 20))
    );
    let a = send(&app, req(&uri, &[("range", "bytes=-5")])).await;
    assert_eq!(a.body.as_ref(), &blob[off + 295..off + 300]);
    let a = send(&app, req(&uri, &[("range", "bytes=300-")])).await;
    assert_error(
        &a,
        StatusCode::RANGE_NOT_SATISFIABLE,
        "range_not_satisfiable",
    );
    assert_eq!(a.header("content-range"), Some("bytes */300"));

    let etag = format!("\"{}\"", hex::encode(e.sha256()));
    let reads = fake.reads().len();
    let a = send(&app, req(&uri, &[("if-none-match", etag.as_str())])).await;
    assert_eq!(a.status, StatusCode::NOT_MODIFIED);
    assert!(a.body.is_empty());
    // The index was read, the file not.
    assert_eq!(fake.reads().len(), reads + 2);

    let head = Request::head(&uri).body(Body::empty()).expect("request");
    let a = send(&app, head).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("content-length"), Some("300"));
    assert!(a.body.is_empty());
    assert_eq!(fake.reads().len(), reads + 4, "HEAD fetches no file bytes");
}

#[tokio::test]
async fn errors_name_the_problem() {
    let (fake, id, _) = site();
    let plain = fake.insert(b"just a blob, not a quilt", BlobState::Certified, &[]);
    let pending = fake.insert(&quilt(&[("a", b"1")]), BlobState::Registered, &[]);
    let deleted = fake.insert(&quilt(&[("b", b"2")]), BlobState::Deleted, &[]);
    let app = app(&fake, open_config());
    let a = get(&app, &format!("/v1/quilts/{id}/files/missing.txt")).await;
    assert_error(&a, StatusCode::NOT_FOUND, "not_found");
    assert!(a.error().error.contains("missing.txt"), "{a:?}");
    for bad in ["a/../b", "a//b", "./a", "a%07b", "a%5Cb", "dir/"] {
        let a = get(&app, &format!("/v1/quilts/{id}/files/{bad}")).await;
        assert_error(&a, StatusCode::BAD_REQUEST, "bad_request");
        assert!(a.error().error.contains("identifier"), "{bad}: {a:?}");
    }
    for path in [
        format!("/v1/quilts/{plain}/files"),
        format!("/v1/quilts/{plain}/files/a"),
    ] {
        let a = get(&app, &path).await;
        assert_error(&a, StatusCode::BAD_REQUEST, "bad_request");
        assert!(a.error().error.contains("not a quilt"), "{a:?}");
    }
    assert_error(
        &get(&app, &format!("/v1/quilts/{pending}/files")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &get(&app, &format!("/v1/quilts/{deleted}/files/b")).await,
        StatusCode::GONE,
        "gone",
    );
    assert_error(
        &get(&app, &format!("/v1/quilts/0x{}/files", "00".repeat(32))).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &get(&app, "/v1/quilts/xyz/files").await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    fake.set_unavailable(true);
    let a = get(&app, &format!("/v1/quilts/{id}/files")).await;
    assert_error(&a, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    assert!(a.header("retry-after").is_some());
}

#[tokio::test]
async fn a_file_not_matching_its_hash_is_cut_short() {
    let mut blob = quilt(&[("a.txt", b"hello quilt"), ("b.txt", b"second")]);
    let index = QuiltIndex::from_blob(&blob).expect("parses");
    let at = index.get("a.txt").expect("entry").offset() as usize;
    blob[at] ^= 0x20;
    let fake = FakeBackend::new();
    let id = fake.insert(&blob, BlobState::Certified, &[]);
    let app = app(&fake, open_config());
    let resp = app
        .clone()
        .oneshot(req(&format!("/v1/quilts/{id}/files/a.txt"), &[]))
        .await
        .expect("infallible");
    assert_eq!(resp.status(), StatusCode::OK, "headers are sent first");
    let e = resp
        .into_body()
        .collect()
        .await
        .expect_err("the body is cut");
    assert!(e.to_string().contains("SHA-256"), "{e}");
    // The intact file reads.
    let a = get(&app, &format!("/v1/quilts/{id}/files/b.txt")).await;
    assert_eq!(a.body.as_ref(), b"second");
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Percent-encodes every byte that is not unreserved (keeping `/` when asked).
fn encode(s: &str, keep_slash: bool) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (keep_slash && b == b'/') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn hostile_ids_and_identifiers_are_4xx(id in "\\PC{0,80}", ident in "\\PC{0,80}|[a-z./]{0,12}") {
        let (fake, quilt_id, _) = site();
        let app = app(&fake, open_config());
        runtime().block_on(async {
            let known = ["index.html", "css/site.css", "data.bin", "evil.txt", "docs/naïve café.txt"];
            let paths = [
                format!("/v1/quilts/{}/files", encode(&id, false)),
                format!("/v1/quilts/{quilt_id}/files/{}", encode(&ident, true)),
                format!("/v1/quilts/{}/files/{}", encode(&id, false), encode(&ident, true)),
            ];
            for (i, path) in paths.iter().enumerate() {
                let a = get(&app, path).await;
                if i == 1 && known.contains(&ident.as_str()) {
                    assert_eq!(a.status, StatusCode::OK, "{path}");
                    continue;
                }
                if i == 0 && id.parse::<floe_core::ids::BlobId>().is_ok_and(|p| p == quilt_id) {
                    continue;
                }
                assert!(a.status.is_client_error(), "{path}: {a:?}");
                let e = a.error();
                assert!(!e.error.is_empty() && !e.code.is_empty(), "{path}: {a:?}");
            }
        });
    }
}
