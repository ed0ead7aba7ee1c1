//! Over a real TCP socket: `Expect: 100-continue`, early 413/401 before the body is sent,
//! streamed reads, the header read timeout and graceful shutdown.

use std::net::SocketAddr;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::oneshot,
    task::JoinHandle,
};

use super::*;
use crate::{GatewayError, backend::BlobState, serve};

struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), GatewayError>>,
}

impl Running {
    async fn start(fake: &FakeBackend, config: GatewayConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, fake.clone(), config, async move {
            let _ = rx.await;
        }));
        Self {
            addr,
            stop: Some(stop),
            task,
        }
    }

    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        (&mut self.task).await.expect("task").expect("serve");
    }
}

/// Reads one response head (through the blank line); returns it and any bytes after it.
async fn read_head(s: &mut TcpStream) -> (String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(i + 4);
            return (String::from_utf8_lossy(&buf).into_owned(), rest);
        }
        let n = s.read(&mut chunk).await.expect("read");
        assert!(
            n > 0,
            "connection closed before a response head: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Reads a whole response with a Content-Length body.
async fn read_response(s: &mut TcpStream) -> (String, Vec<u8>) {
    let (head, mut body) = read_head(s).await;
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(|v| v.trim().parse().expect("length"))
        })
        .expect("content-length");
    while body.len() < len {
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).await.expect("read");
        assert!(n > 0, "short body");
        body.extend_from_slice(&chunk[..n]);
    }
    (head, body)
}

#[tokio::test]
async fn expect_100_continue_uploads_after_the_interim_answer() {
    let fake = FakeBackend::new();
    let gw = Running::start(&fake, open_config()).await;
    let mut s = TcpStream::connect(gw.addr).await.expect("connect");
    s.write_all(b"PUT /v1/blobs?epochs=2 HTTP/1.1\r\nhost: x\r\ncontent-length: 11\r\nexpect: 100-continue\r\n\r\n")
        .await
        .expect("write");
    let (head, rest) = read_head(&mut s).await;
    assert!(head.starts_with("HTTP/1.1 100 Continue"), "{head}");
    assert!(rest.is_empty());
    assert_eq!(fake.store_calls(), 0);
    s.write_all(b"hello world").await.expect("write");
    let (head, body) = read_response(&mut s).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let j: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(j["newlyCreated"]["blobObject"]["size"], 11);
    drop(s);
    gw.stop().await;
}

#[tokio::test]
async fn expect_with_a_too_large_length_is_refused_before_the_body() {
    let fake = FakeBackend::new();
    let gw = Running::start(
        &fake,
        GatewayConfig {
            max_body_bytes: 100,
            ..open_config()
        },
    )
    .await;
    let mut s = TcpStream::connect(gw.addr).await.expect("connect");
    s.write_all(b"PUT /v1/blobs HTTP/1.1\r\nhost: x\r\ncontent-length: 1000000\r\nexpect: 100-continue\r\n\r\n")
        .await
        .expect("write");
    let (head, body) = read_response(&mut s).await;
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    let e: crate::ErrorBody = serde_json::from_slice(&body).expect("json");
    assert_eq!(e.code, "payload_too_large");
    assert_eq!(fake.store_calls(), 0);
    drop(s);
    gw.stop().await;
}

#[tokio::test]
async fn expect_without_a_token_is_refused_before_the_body() {
    let fake = FakeBackend::new();
    let gw = Running::start(&fake, jwt_config()).await;
    let mut s = TcpStream::connect(gw.addr).await.expect("connect");
    s.write_all(
        b"PUT /v1/blobs HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n",
    )
    .await
    .expect("write");
    let (head, body) = read_response(&mut s).await;
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    let e: crate::ErrorBody = serde_json::from_slice(&body).expect("json");
    assert_eq!(e.code, "unauthorized");
    drop(s);
    gw.stop().await;
}

#[tokio::test]
async fn chunked_body_over_the_limit_is_answered_before_it_ends() {
    let fake = FakeBackend::new();
    let gw = Running::start(
        &fake,
        GatewayConfig {
            max_body_bytes: 16,
            ..open_config()
        },
    )
    .await;
    let mut s = TcpStream::connect(gw.addr).await.expect("connect");
    // 20 bytes of a body that never ends: the answer must come anyway.
    s.write_all(b"PUT /v1/blobs HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n14\r\n01234567890123456789\r\n")
        .await
        .expect("write");
    let (head, body) = read_response(&mut s).await;
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    let e: crate::ErrorBody = serde_json::from_slice(&body).expect("json");
    assert_eq!(e.code, "payload_too_large");
    assert_eq!(fake.store_calls(), 0);
    drop(s);
    gw.stop().await;
}

#[tokio::test]
async fn reads_stream_over_the_socket() {
    let fake = FakeBackend::new();
    let bytes = data(10_000);
    let id = fake.insert(&bytes, BlobState::Certified, &[]);
    let gw = Running::start(&fake, open_config()).await;
    let mut s = TcpStream::connect(gw.addr).await.expect("connect");
    let req = format!("GET /v1/blobs/{id} HTTP/1.1\r\nhost: x\r\nrange: bytes=100-\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let (head, body) = read_response(&mut s).await;
    assert!(head.starts_with("HTTP/1.1 206"), "{head}");
    assert!(
        !head.to_ascii_lowercase().contains("transfer-encoding"),
        "{head}"
    );
    assert_eq!(body, &bytes[100..]);
    drop(s);
    gw.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_client_that_never_finishes_its_headers_is_dropped() {
    let fake = FakeBackend::new();
    let gw = Running::start(
        &fake,
        GatewayConfig {
            header_read_timeout_secs: 5,
            ..open_config()
        },
    )
    .await;
    let mut s = TcpStream::connect(gw.addr).await.expect("connect");
    s.write_all(b"GET /v1/network HTTP/1.1\r\nhost: x\r\n")
        .await
        .expect("write");
    // The paused clock advances to the timeout once everything is idle; hyper then closes.
    let mut buf = Vec::new();
    let n = s.read_to_end(&mut buf).await.unwrap_or(0);
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
    gw.stop().await;
}

#[tokio::test]
async fn shutdown_stops_accepting() {
    let fake = FakeBackend::new();
    let gw = Running::start(&fake, open_config()).await;
    let addr = gw.addr;
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(b"GET /v1/network HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .expect("write");
    let (head, _) = read_response(&mut s).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    gw.stop().await;
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the listener is closed"
    );
}
