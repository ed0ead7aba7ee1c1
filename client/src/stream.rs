//! Streaming, ranged, verified reads: [`BlobReader`].
//!
//! A blob is laid out row-major in `k1 = n-2f` rows of `k2 = n-f` symbols of `s` bytes
//! (floe-core's encoding): systematic primary sliver `p < k1` IS row `p`, bytes
//! `[p·k2·s, (p+1)·k2·s)` of the blob (zero padded past its length). So a byte range is read by
//! fetching only the rows that hold it, in order, each verified against the blob's metadata
//! (its hash, off the async workers) before any of its bytes is yielded: no decoding, and
//! memory of a few slivers, never the blob.
//!
//! A row whose node does not serve it (an error, a timeout, or bytes that are not the sliver:
//! too many, undecodable, another sliver, not hashing to the metadata) is rebuilt from symbol
//! `p` of the secondary slivers of `n-f` other pairs (each symbol's Merkle proof checked), and
//! the rebuilt sliver is checked against the metadata too. If that fails, the stream yields
//! [`ClientError::SliverUnavailable`] naming the row and why, and ends.
//!
//! Each row is fetched by a task of its own, at most [`BlobReader::lookahead`] of them at once
//! (prefetching ahead of the consumer); every request also takes a slot of the client's
//! concurrency limit and has the client's timeouts. Dropping the stream aborts its tasks.

use std::{
    future::Future,
    ops::Range,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use bytes::Bytes;
use floe_chain::Committee;
use floe_core::{
    encoding::{EncodingConfig, Sliver, SliverKind},
    ids::BlobId,
    metadata::BlobMetadata,
    protocol::limits::sliver_wire_len,
    recovery::{RecoveryError, RecoverySymbol},
    wire::Wire,
};
use futures::{
    Stream, StreamExt,
    future::{Either, ready},
    stream::{self, FuturesUnordered},
};
use tokio::{
    sync::Semaphore,
    task::{JoinError, JoinHandle},
};

use crate::{error::ClientError, node_api::NodeHttp, read};

/// How many rows a stream fetches ahead by default.
pub const DEFAULT_LOOKAHEAD: usize = 4;

/// At most this many node errors are kept in a [`ClientError::SliverUnavailable`].
const MAX_FAILURES: usize = 8;

/// An open, certified blob whose bytes can be streamed ([`BlobReader::stream_range`]). Cheap to
/// clone (it holds `Arc`s); clones share the metadata and committee read at
/// [`Client::open_blob`](crate::Client::open_blob). It reads from that epoch's committee: open
/// the blob again for reads after the epoch changes (nodes that lost a shard then fail, and
/// the rows are rebuilt from the others, which is slower).
#[derive(Debug, Clone)]
pub struct BlobReader {
    inner: Arc<Inner>,
    lookahead: usize,
}

/// What the row tasks of every stream of a blob share.
#[derive(Debug)]
struct Inner {
    blob_id: BlobId,
    cfg: EncodingConfig,
    committee: Arc<Committee>,
    metadata: Arc<BlobMetadata>,
    nodes: NodeHttp,
    limit: Arc<Semaphore>,
    symbol_size: u16,
    /// Bytes of one row (a systematic primary sliver): `k2·s`.
    row_len: u64,
}

impl BlobReader {
    /// Fetches and verifies `blob_id`'s metadata from the nodes of `committee` (the chain's
    /// state is the caller's to check).
    pub(crate) async fn open(
        nodes: NodeHttp,
        limit: Arc<Semaphore>,
        committee: Arc<Committee>,
        cfg: EncodingConfig,
        blob_id: BlobId,
    ) -> Result<Self, ClientError> {
        let metadata = read::fetch_metadata(&nodes, &committee, &cfg, &blob_id).await?;
        // The metadata verified against the id, and its length fits the encoding.
        let symbol_size = metadata
            .symbol_size(&cfg)
            .map_err(|e| ClientError::Decode {
                blob_id,
                message: e.to_string(),
            })?;
        let row_len = u64::from(cfg.primary_len()) * u64::from(symbol_size);
        Ok(Self {
            inner: Arc::new(Inner {
                blob_id,
                cfg,
                committee,
                metadata: Arc::new(metadata),
                nodes,
                limit,
                symbol_size,
                row_len,
            }),
            lookahead: DEFAULT_LOOKAHEAD,
        })
    }

    /// Fetches up to `lookahead` rows at once (at least 1) in the streams made from now on.
    pub fn with_lookahead(mut self, lookahead: usize) -> Self {
        self.lookahead = lookahead.max(1);
        self
    }

    /// How many rows a stream fetches at once.
    pub fn lookahead(&self) -> usize {
        self.lookahead
    }

    /// The blob id.
    pub fn blob_id(&self) -> BlobId {
        self.inner.blob_id
    }

    /// The blob's unencoded length in bytes.
    pub fn len(&self) -> u64 {
        self.inner.metadata.unencoded_length
    }

    /// Whether the blob has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The blob's verified metadata.
    pub fn metadata(&self) -> &BlobMetadata {
        &self.inner.metadata
    }

    /// Bytes per row (systematic primary sliver): what one fetch yields at most.
    pub fn row_len(&self) -> u64 {
        self.inner.row_len
    }

    /// The whole blob as a stream (see [`BlobReader::stream_range`]).
    pub fn stream(&self) -> impl Stream<Item = Result<Bytes, ClientError>> + Send + 'static {
        self.stream_range(0..self.len())
    }

    /// Bytes `range` of the blob, in order, in chunks of at most a row, each verified before it
    /// is yielded. A range with `start > end` or `end > len` yields one
    /// [`ClientError::RangeOutOfBounds`]; an empty range yields nothing. After an error the
    /// stream ends. Needs a tokio runtime when polled (each row is fetched by a task).
    pub fn stream_range(
        &self,
        range: Range<u64>,
    ) -> impl Stream<Item = Result<Bytes, ClientError>> + Send + 'static {
        let len = self.len();
        if range.start > range.end || range.end > len {
            let error = ClientError::RangeOutOfBounds {
                blob_id: self.inner.blob_id,
                start: range.start,
                end: range.end,
                len,
            };
            return Either::Left(stream::once(ready(Err(error))));
        }
        let inner = self.inner.clone();
        let (blob_id, row_len) = (inner.blob_id, inner.row_len);
        let rows = rows_of(&range, row_len);
        let chunks = stream::iter(rows.clone())
            .map(move |row| {
                let inner = inner.clone();
                AbortOnDrop(tokio::spawn(async move {
                    // Rows are below k1 <= u16::MAX: the range is within the blob.
                    let pair = u16::try_from(row).unwrap_or(u16::MAX);
                    inner.row(pair).await
                }))
            })
            .buffered(self.lookahead)
            .zip(stream::iter(rows))
            .map(move |(joined, row)| {
                // A task fails only if it panicked (a bug): aborts happen on drop only.
                let data = joined.map_err(|e| ClientError::Decode {
                    blob_id,
                    message: format!("the task fetching row {row} failed: {e}"),
                })??;
                let (lo, hi) = within_row(&range, row, row_len);
                Ok(data.slice(lo..hi))
            })
            .scan(false, |failed, item: Result<Bytes, ClientError>| {
                if *failed {
                    return ready(None);
                }
                *failed = item.is_err();
                ready(Some(item))
            });
        Either::Right(chunks)
    }
}

/// The rows holding bytes `range` (empty for an empty range).
fn rows_of(range: &Range<u64>, row_len: u64) -> Range<u64> {
    if range.is_empty() || row_len == 0 {
        return 0..0;
    }
    range.start / row_len..(range.end - 1) / row_len + 1
}

/// The part of row `row` inside `range`, as offsets in the row.
fn within_row(range: &Range<u64>, row: u64, row_len: u64) -> (usize, usize) {
    let start = row * row_len;
    let lo = range.start.max(start) - start;
    let hi = range.end.min(start + row_len) - start;
    // Both are at most a row, which is a sliver in memory.
    (
        usize::try_from(lo).unwrap_or(usize::MAX),
        usize::try_from(hi).unwrap_or(usize::MAX),
    )
}

/// A spawned task, aborted when dropped (so dropping a stream cancels its fetches).
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl Inner {
    /// Row `pair`: its systematic primary sliver from its node, else rebuilt.
    async fn row(self: Arc<Self>, pair: u16) -> Result<Bytes, ClientError> {
        let fetch = match self.fetch_primary(pair).await {
            Ok(sliver) => return Ok(Bytes::from(sliver.data)),
            Err(e) => e,
        };
        tracing::debug!(blob_id = %self.blob_id, pair, error = %fetch, "rebuilding a row from recovery symbols");
        self.rebuild_primary(pair, fetch)
            .await
            .map(|sliver| Bytes::from(sliver.data))
    }

    /// The node address holding pair `pair`, if any.
    fn holder(&self, pair: u16) -> Option<&str> {
        self.committee
            .holder_of_pair(&self.blob_id, pair)
            .map(|m| m.network_address.as_str())
    }

    /// Primary sliver `pair` from the node holding it, verified against the metadata.
    async fn fetch_primary(&self, pair: u16) -> Result<Sliver, String> {
        let address = self
            .holder(pair)
            .ok_or_else(|| "no node holds its shard".to_owned())?
            .to_owned();
        let max_bytes = sliver_wire_len(self.symbol_size, self.cfg.primary_len());
        let bytes = {
            let _permit = self.limit.acquire().await;
            self.nodes
                .node(&address)
                .get_sliver(&self.blob_id, pair, SliverKind::Primary, max_bytes)
                .await
                .map_err(|e| e.to_string())?
        };
        let (metadata, cfg) = (self.metadata.clone(), self.cfg);
        // Decoding and verifying (expansion + Merkle tree) is CPU work: off the runtime.
        tokio::task::spawn_blocking(move || {
            let sliver = Sliver::from_wire(&bytes)
                .map_err(|e| format!("node {address} sent an undecodable sliver: {e}"))?;
            // The wire copy is not needed past decoding: free it before verifying (which
            // expands the row), so a row in flight is held once, not twice.
            drop(bytes);
            if sliver.pair != pair || sliver.kind != SliverKind::Primary {
                return Err(format!(
                    "node {address} sent the {} sliver of pair {} instead",
                    sliver.kind, sliver.pair
                ));
            }
            sliver
                .verify(&metadata, &cfg)
                .map_err(|e| format!("node {address} sent a sliver that does not verify: {e}"))?;
            Ok(sliver)
        })
        .await
        .map_err(|e| format!("verification task failed: {e}"))?
    }

    /// Symbol `pair` of the secondary sliver of `source` (from the node holding `source`),
    /// checked to be that symbol and to prove against the metadata.
    async fn recovery_symbol(&self, pair: u16, source: u16) -> Result<RecoverySymbol, String> {
        let address = self
            .holder(source)
            .ok_or_else(|| format!("pair {source}: no node holds its shard"))?;
        let (kind, index) = self.cfg.recovery_request(SliverKind::Primary, pair, source);
        let mut symbols = {
            let _permit = self.limit.acquire().await;
            self.nodes
                .node(address)
                .recovery_symbols(
                    &self.blob_id,
                    source,
                    kind,
                    &[index],
                    self.cfg.n_shards(),
                    self.symbol_size,
                )
                .await
                .map_err(|e| format!("pair {source}: {e}"))?
        };
        let symbol = match (symbols.pop(), symbols.is_empty()) {
            (Some(symbol), true) => symbol,
            _ => return Err(format!("pair {source}: node {address} sent no symbol")),
        };
        if symbol.source_kind != kind || symbol.source_pair != source || symbol.index != index {
            return Err(format!(
                "pair {source}: node {address} sent symbol {} of the {} sliver of pair {} instead",
                symbol.index, symbol.source_kind, symbol.source_pair
            ));
        }
        // One leaf hash and a Merkle path: cheap enough for the async worker.
        symbol
            .verify(&self.metadata, &self.cfg)
            .map_err(|e| format!("pair {source}: node {address}: {e}"))?;
        Ok(symbol)
    }

    /// Rebuilds primary sliver `pair` from verified symbols of `n-f` secondary slivers; `fetch`
    /// is why its node did not serve it.
    async fn rebuild_primary(&self, pair: u16, fetch: String) -> Result<Sliver, ClientError> {
        let n = self.cfg.n_shards();
        let needed = usize::from(self.cfg.primary_len());
        // Sources on other nodes than the one that just failed come first.
        let failed = self.holder(pair).map(str::to_owned);
        let (mut sources, same): (Vec<u16>, Vec<u16>) =
            (0..n).partition(|&q| failed.is_none() || self.holder(q) != failed.as_deref());
        sources.extend(same);
        let mut sources = sources.into_iter();

        let mut got: Vec<RecoverySymbol> = Vec::with_capacity(needed);
        let mut failures: Vec<String> = Vec::new();
        let mut in_flight = FuturesUnordered::new();
        for source in sources.by_ref().take(needed) {
            in_flight.push(self.recovery_symbol(pair, source));
        }
        while let Some(result) = in_flight.next().await {
            match result {
                Ok(symbol) => {
                    got.push(symbol);
                    if got.len() >= needed {
                        break;
                    }
                }
                Err(e) => {
                    tracing::debug!(blob_id = %self.blob_id, pair, error = %e, "recovery symbol not fetched");
                    failures.push(e);
                    if let Some(source) = sources.next() {
                        in_flight.push(self.recovery_symbol(pair, source));
                    }
                }
            }
        }
        drop(in_flight);
        if got.len() < needed {
            failures.truncate(MAX_FAILURES);
            let start = u64::from(pair) * self.row_len;
            return Err(ClientError::SliverUnavailable {
                blob_id: self.blob_id,
                pair,
                start,
                end: (start + self.row_len).min(self.metadata.unencoded_length),
                fetch,
                got: got.len(),
                needed,
                failures: failures.join("; "),
            });
        }
        let (metadata, cfg, blob_id) = (self.metadata.clone(), self.cfg, self.blob_id);
        // Reed-Solomon decoding, expansion and hashing: CPU work, off the runtime. The rebuilt
        // sliver is checked against the metadata's hash.
        tokio::task::spawn_blocking(move || {
            cfg.recover_sliver(&metadata, SliverKind::Primary, pair, got)
        })
        .await
        .map_err(|e| ClientError::Decode {
            blob_id,
            message: format!("rebuilding primary sliver {pair}: the task failed: {e}"),
        })?
        .map_err(|e| match e {
            RecoveryError::Inconsistent(_) => ClientError::Inconsistent(blob_id),
            other => ClientError::Decode {
                blob_id,
                message: format!("rebuilding primary sliver {pair}: {other}"),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use std::{collections::BTreeMap, sync::atomic::AtomicU32};

    use floe_core::encoding::EncodedBlob;

    use super::*;
    use crate::{
        config::RequestTimeout,
        fake_node::{FakeNode, Serve, committee, seed},
    };

    /// n = 10: f = 3, rows k1 = 4, columns k2 = 7.
    const N: u16 = 10;
    /// 1000 bytes: symbols of 36 bytes, rows of 252, the last row 244 bytes and padding.
    const LEN: u32 = 1000;
    const ROW: u64 = 7 * 36;

    fn data() -> Vec<u8> {
        (0..LEN).map(|i| (i * 31 % 251) as u8).collect()
    }

    struct Net {
        nodes: Vec<FakeNode>,
        blob: EncodedBlob,
        reader: BlobReader,
    }

    impl Net {
        /// Ten fake nodes holding one shard each, seeded with the blob, and a reader of it.
        async fn start() -> Self {
            let cfg = EncodingConfig::new(N).expect("n = 10");
            let blob = cfg.encode(&data()).expect("encode");
            let epoch = Arc::new(AtomicU32::new(1));
            let mut nodes = Vec::new();
            for seed in 1..=N as u8 {
                nodes.push(FakeNode::start(seed, epoch.clone()).await);
            }
            let c = committee(1, &nodes, (0..N).collect());
            seed(&c, &blob).await;
            let http = NodeHttp {
                http: reqwest::Client::new(),
                timeout: RequestTimeout::default(),
            };
            let reader = BlobReader::open(
                http,
                Arc::new(Semaphore::new(8)),
                Arc::new(c),
                cfg,
                blob.blob_id,
            )
            .await
            .expect("open");
            for node in &nodes {
                node.state.paths.lock().expect("lock").clear();
            }
            Self {
                nodes,
                blob,
                reader,
            }
        }

        /// The fake node holding pair `pair`.
        fn holder(&self, pair: u16) -> &FakeNode {
            &self.nodes[usize::from(self.blob.blob_id.shard_for_pair(pair, N))]
        }

        fn serve(&self, pair: u16, serve: Serve) {
            *self.holder(pair).state.serve.lock().expect("lock") = serve;
        }

        /// GETs since the last call, over all nodes: path → count.
        fn take_gets(&self) -> BTreeMap<String, usize> {
            let id = self.blob.blob_id.to_string();
            let mut out = BTreeMap::new();
            for node in &self.nodes {
                for path in node.state.paths.lock().expect("lock").drain(..) {
                    let short = path.replace(&format!("/v1/blobs/{id}/"), "");
                    *out.entry(short).or_default() += 1;
                }
            }
            out
        }
    }

    /// Every item of the stream, in order.
    async fn items(reader: &BlobReader, range: Range<u64>) -> Vec<Result<Bytes, ClientError>> {
        reader.stream_range(range).collect().await
    }

    /// The bytes of the stream, or its first error.
    async fn read(reader: &BlobReader, range: Range<u64>) -> Result<Vec<u8>, ClientError> {
        let mut out = Vec::new();
        for item in items(reader, range).await {
            out.extend_from_slice(&item?);
        }
        Ok(out)
    }

    fn primaries(pairs: &[u16]) -> BTreeMap<String, usize> {
        pairs
            .iter()
            .map(|p| (format!("slivers/{p}/primary"), 1))
            .collect()
    }

    #[tokio::test]
    async fn ranges_read_exactly_their_bytes_and_only_the_rows_holding_them() {
        let net = Net::start().await;
        assert_eq!(net.reader.len(), u64::from(LEN));
        assert_eq!(net.reader.row_len(), ROW);
        assert_eq!(net.reader.blob_id(), net.blob.blob_id);
        let data = data();
        let cases: [(Range<u64>, &[u16]); 10] = [
            (0..10, &[0]),                   // the start
            (300..400, &[1]),                // the middle of a row
            (900..1000, &[3]),               // the end (the last row, without its padding)
            (240..260, &[0, 1]),             // across a row boundary
            (500..501, &[1]),                // one byte
            (ROW..2 * ROW, &[1]),            // exactly one row
            (2 * ROW - 1..3 * ROW, &[1, 2]), // one byte of a row, then a whole row
            (0..1000, &[0, 1, 2, 3]),        // the whole blob
            (1000..1000, &[]),               // empty at the end
            (0..0, &[]),                     // empty at the start
        ];
        for (range, pairs) in cases {
            let got = read(&net.reader, range.clone()).await.expect("reads");
            let (a, b) = (range.start as usize, range.end as usize);
            assert_eq!(got, data[a..b], "{range:?}");
            assert_eq!(net.take_gets(), primaries(pairs), "{range:?}");
        }
        // One chunk per row, the last one without padding.
        let chunks: Vec<usize> = items(&net.reader, 0..1000)
            .await
            .into_iter()
            .map(|c| c.expect("chunk").len())
            .collect();
        assert_eq!(chunks, vec![252, 252, 252, 244]);
        let whole: Vec<u8> = net
            .reader
            .stream()
            .map(|c| c.expect("chunk").to_vec())
            .concat()
            .await;
        assert_eq!(whole, data);
    }

    #[tokio::test]
    async fn a_range_outside_the_blob_is_one_error_and_no_request() {
        let net = Net::start().await;
        #[allow(clippy::reversed_empty_ranges)]
        let ranges = [0..1001, 1001..1002, 7..3];
        for range in ranges {
            let items = items(&net.reader, range.clone()).await;
            assert_eq!(items.len(), 1, "{range:?}");
            match &items[0] {
                Err(
                    e @ ClientError::RangeOutOfBounds {
                        start, end, len, ..
                    },
                ) => {
                    assert_eq!((*start, *end, *len), (range.start, range.end, 1000));
                    assert_eq!(e.class(), crate::ErrorClass::BadRequest);
                }
                other => panic!("expected RangeOutOfBounds, got {other:?}"),
            }
        }
        assert!(net.take_gets().is_empty());
    }

    #[tokio::test]
    async fn a_row_whose_node_is_down_is_rebuilt_from_recovery_symbols() {
        let net = Net::start().await;
        net.serve(1, Serve::Down);
        let got = read(&net.reader, 200..800).await.expect("reads");
        assert_eq!(got, data()[200..800]);
        let gets = net.take_gets();
        // Rows 0, 2 and 3 came from their nodes; row 1 was asked of its node once, then rebuilt
        // from symbol 1 of n-f = 7 secondary slivers, those of other nodes first.
        for pair in [0u16, 1, 2, 3] {
            assert_eq!(gets.get(&format!("slivers/{pair}/primary")), Some(&1));
        }
        let recovery: Vec<_> = gets
            .iter()
            .filter(|(p, _)| p.starts_with("recovery/"))
            .collect();
        assert_eq!(recovery.len(), 7, "{gets:?}");
        for (path, count) in &recovery {
            assert!(path.ends_with("/secondary"), "{path}");
            assert_ne!(
                path.as_str(),
                "recovery/1/secondary",
                "the failed node is asked last"
            );
            assert_eq!(**count, 1);
        }
        assert_eq!(gets.len(), 4 + 7, "{gets:?}");
    }

    #[tokio::test]
    async fn a_node_serving_a_wrong_sliver_is_never_trusted() {
        let net = Net::start().await;
        // The holder of row 2 serves it with one byte changed (and tampered symbols).
        net.serve(2, Serve::Tampered);
        let got = read(&net.reader, 0..1000).await.expect("rebuilt");
        assert_eq!(got, data());
        let gets = net.take_gets();
        // Rebuilt from 7 symbols of the other nodes (the tampering one is asked last).
        let recovery = gets.keys().filter(|p| p.starts_with("recovery/")).count();
        assert_eq!(recovery, 7, "{gets:?}");
        assert_eq!(gets.get("slivers/2/primary"), Some(&1));

        // With every node tampering, the stream yields no byte, just the error naming row 0.
        for node in &net.nodes {
            *node.state.serve.lock().expect("lock") = Serve::Tampered;
        }
        let items = items(&net.reader, 0..1000).await;
        assert_eq!(items.len(), 1, "the stream ends at the first error");
        match &items[0] {
            Err(
                e @ ClientError::SliverUnavailable {
                    pair: 0,
                    start: 0,
                    end,
                    fetch,
                    got: 0,
                    needed: 7,
                    failures,
                    ..
                },
            ) => {
                assert_eq!(*end, ROW);
                assert!(fetch.contains("does not verify"), "{fetch}");
                assert!(failures.contains("fails its Merkle proof"), "{failures}");
                assert_eq!(e.class(), crate::ErrorClass::Unavailable);
            }
            other => panic!("expected SliverUnavailable, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn bytes_before_a_lost_row_flow_and_then_the_error_says_which_row() {
        let net = Net::start().await;
        // Row 2's node and three more are down: 6 sources are left, a rebuild needs 7.
        for pair in [2, 7, 8, 9] {
            net.serve(pair, Serve::Down);
        }
        let items = items(&net.reader, 100..1000).await;
        assert_eq!(items.len(), 3, "{items:?}");
        let data = data();
        assert_eq!(items[0].as_ref().expect("row 0"), &data[100..252]);
        assert_eq!(items[1].as_ref().expect("row 1"), &data[252..504]);
        match &items[2] {
            Err(ClientError::SliverUnavailable {
                pair: 2,
                start: 504,
                end: 756,
                got: 6,
                needed: 7,
                fetch,
                ..
            }) => assert!(fetch.contains("503"), "{fetch}"),
            other => panic!("expected SliverUnavailable for row 2, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn at_most_lookahead_rows_are_fetched_at_once() {
        let net = Net::start().await;
        let gate = crate::fake_node::Gate::closed();
        for node in &net.nodes {
            *node.state.gate.lock().expect("lock") = Some(gate.clone());
        }
        let reader = net.reader.clone().with_lookahead(2);
        assert_eq!(reader.lookahead(), 2);
        let consumer = tokio::spawn(async move { read(&reader, 0..1000).await });
        // The first two rows are asked for; once they wait at the gate, let everything through.
        gate.arrived
            .subscribe()
            .wait_for(|&n| n >= 2)
            .await
            .expect("gate open");
        gate.permits.add_permits(100);
        let got = consumer.await.expect("consumer").expect("reads");
        assert_eq!(got, data());
        assert_eq!(*gate.arrived.borrow(), 4);
        assert!(gate.max_in_flight() <= 2, "{}", gate.max_in_flight());
        assert_eq!(net.take_gets(), primaries(&[0, 1, 2, 3]));
    }

    fn send_sync_static<T: Send + Sync + 'static>(_: &T) {}
    fn send_static<T: Send + 'static>(_: &T) {}

    #[tokio::test]
    async fn readers_and_their_streams_can_move_between_tasks() {
        let net = Net::start().await;
        send_sync_static(&net.reader);
        let stream = net.reader.stream_range(1..2);
        send_static(&stream);
        let got =
            tokio::spawn(async move { stream.map(|c| c.expect("chunk").to_vec()).concat().await })
                .await
                .expect("task");
        assert_eq!(got, data()[1..2]);
    }

    #[tokio::test]
    async fn dropping_a_fetch_aborts_its_task() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (started_tx, started) = tokio::sync::oneshot::channel::<()>();
        let task = AbortOnDrop(tokio::spawn(async move {
            let _tx = tx;
            let _ = started_tx.send(());
            std::future::pending::<()>().await
        }));
        started.await.expect("task started");
        drop(task);
        // The task was aborted: its sender is dropped without sending.
        assert!(rx.await.is_err());
    }
}
