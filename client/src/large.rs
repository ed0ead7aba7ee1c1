//! Large files: [`Client::store_file`] and [`Client::read_file`].
//!
//! A file up to the chunk size is stored as one blob, exactly as [`Client::store`] stores its
//! bytes (the same blob id). A larger file is cut into chunks (floe-core's
//! [`floe_core::manifest`]): each chunk is stored as a blob of its own by [`Client::store`]
//! (so a re-run after an interruption pays nothing for the chunks already certified and reuses
//! uncertified registrations of ours), then the [`Manifest`] naming them is stored as one more
//! blob, whose registration gets the attribute `floe-kind=manifest`. Its id is the file's id.
//! The file is read from disk chunk by chunk while its SHA-256 is computed, with at most
//! [`FileOptions::chunks_in_flight`] chunks being encoded, uploaded or certified at once: memory
//! is a few chunks and their encodings, never the file.
//!
//! A file read asks for *file* semantics (see the module docs of [`floe_core::manifest`]): a
//! blob that starts with the manifest magic must parse as a manifest (else
//! [`ClientError::InvalidManifest`]), and its chunks are streamed in order, at most
//! [`FileOptions::chunks_ahead`] of them fetched at once, each verified sliver by sliver (see
//! [`BlobReader`]) and checked against the length the manifest gives it; the whole file's
//! SHA-256 is checked at the end ([`ClientError::FileHashMismatch`]). A blob without the magic
//! is streamed as itself. [`Client::read_file_to_path`] writes to a temporary file next to the
//! target and renames it only once everything verified. [`Client::read_file_range`] reads part
//! of a file, fetching only the chunks that hold it; [`Client::manifest_of`] tells a service
//! whether a blob is a manifest, to map ranges onto chunks itself.

use std::{
    collections::VecDeque,
    io::Read,
    ops::Range,
    path::{Path, PathBuf},
    pin::Pin,
    task::{Context, Poll},
};

use alloy::primitives::U256;
use bytes::Bytes;
use floe_core::{
    ids::BlobId,
    manifest::{
        ChunkSpan, KIND_ATTRIBUTE, KIND_MANIFEST, MANIFEST_MAGIC, MAX_MANIFEST_LEN, Manifest,
        chunk_count, chunk_size_for, is_manifest,
    },
};
use futures::{Stream, StreamExt};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::{
    io::{AsyncWrite, AsyncWriteExt},
    sync::mpsc,
    task::JoinHandle,
};

use crate::{
    client::{Client, StoreOptions, StoreOutcome, StoreResult, Transaction, serialize_display},
    error::ClientError,
    progress::Progress,
    stream::BlobReader,
};

/// Chunks stored at once by default. One keeps a store of any size near 0.5 GB of memory at
/// the default chunk size (measured: 546 MB peak RSS for 600 MiB at n = 100, against 1,015 MB
/// with two, which was no faster on two cores); `--chunks-in-flight 2` overlaps one chunk's
/// certification with the next one's encoding where uploads wait on network latency.
pub const DEFAULT_CHUNKS_IN_FLIGHT: usize = 1;
/// Chunks fetched at once by default when reading a large file.
pub const DEFAULT_CHUNKS_AHEAD: usize = 2;
/// Rows of one chunk buffered between its fetching task and the writer.
const ROWS_BUFFERED: usize = 2;

/// How [`Client::store_file_with`] cuts a file and [`Client::read_file_with`] fetches one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOptions {
    /// Bytes per chunk; `None`: [`chunk_size_for`] the network's encoding and its largest blob
    /// (67,105,324 bytes at n = 100). A file of at most this many bytes is stored as one blob.
    pub chunk_size: Option<u64>,
    /// Chunks encoded, uploaded and certified at once when storing (at least 1).
    pub chunks_in_flight: usize,
    /// Chunks fetched at once when reading (at least 1).
    pub chunks_ahead: usize,
}

impl Default for FileOptions {
    fn default() -> Self {
        Self {
            chunk_size: None,
            chunks_in_flight: DEFAULT_CHUNKS_IN_FLIGHT,
            chunks_ahead: DEFAULT_CHUNKS_AHEAD,
        }
    }
}

/// The result of [`Client::store_file`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileStored {
    /// The file's id: its manifest's blob id, or the blob's for a file stored as one blob.
    #[serde(serialize_with = "serialize_display")]
    pub blob_id: BlobId,
    /// Bytes in the file.
    pub size: u64,
    /// The chunk size; `None` when the file was stored as one blob.
    pub chunk_size: Option<u64>,
    /// Each chunk's store, in file order (empty for a file stored as one blob).
    pub chunks: Vec<StoreResult>,
    /// The store of the blob named by [`FileStored::blob_id`]: the manifest, or the file.
    pub stored: StoreResult,
    /// FROST paid in all (chunks and manifest).
    #[serde(serialize_with = "serialize_display")]
    pub paid: U256,
    /// Every transaction sent: the chunks' in file order, then the manifest's.
    pub transactions: Vec<Transaction>,
}

impl FileStored {
    /// Whether the file was stored as chunks and a manifest.
    pub fn is_manifest(&self) -> bool {
        self.chunk_size.is_some()
    }

    /// The chunks' blob ids, in file order.
    pub fn chunk_ids(&self) -> Vec<BlobId> {
        self.chunks.iter().map(|c| c.blob_id).collect()
    }

    /// The registrations storing the file: the chunks', in file order, then the manifest's
    /// (or the one blob's).
    pub fn registration_ids(&self) -> Vec<u64> {
        self.chunks
            .iter()
            .chain(std::iter::once(&self.stored))
            .map(|c| c.registration_id)
            .collect()
    }

    /// Whether every blob of the file was already certified (nothing paid or uploaded).
    pub fn already_certified(&self) -> bool {
        self.chunks
            .iter()
            .chain(std::iter::once(&self.stored))
            .all(|c| c.outcome == StoreOutcome::AlreadyCertified)
    }
}

/// The result of [`Client::read_file`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileRead {
    /// The blob read (a manifest, or the file itself).
    #[serde(serialize_with = "serialize_display")]
    pub blob_id: BlobId,
    /// Bytes written.
    pub size: u64,
    /// The chunks read; 0 for a blob read as itself.
    pub chunks: usize,
    /// The SHA-256 of the bytes written (hex); for a manifest, checked against it.
    pub sha256: String,
}

/// The byte ranges of the chunks of a `len`-byte file in `chunk_size`-byte chunks, or `None`
/// when the file fits in one blob (`len <= chunk_size`, an empty file included).
pub(crate) fn chunk_plan(len: u64, chunk_size: u64) -> Option<Vec<Range<u64>>> {
    if len <= chunk_size || chunk_size == 0 {
        return None;
    }
    let count = len.div_ceil(chunk_size);
    Some(
        (0..count)
            .map(|i| {
                let start = i * chunk_size;
                start..(start + chunk_size).min(len)
            })
            .collect(),
    )
}

/// The temporary file a read into `out` writes first: `.NAME.floe-partial-NONCE` in `out`'s
/// directory (so the final rename stays on one file system). `None` if `out` names no file.
pub fn partial_path(out: &Path, nonce: u64) -> Option<PathBuf> {
    let name = out.file_name()?;
    let mut partial = std::ffi::OsString::from(".");
    partial.push(name);
    partial.push(format!(".floe-partial-{nonce:016x}"));
    Some(out.with_file_name(partial))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A spawned task, aborted when dropped.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

/// A temporary file removed when dropped, unless kept.
struct Partial(Option<PathBuf>);

impl Drop for Partial {
    fn drop(&mut self) {
        if let Some(path) = self.0.take()
            && let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), error = %e, "cannot remove the partial file");
        }
    }
}

type RowStream = Pin<Box<dyn Stream<Item = Result<Bytes, ClientError>> + Send>>;

/// What a blob opened for a file read holds.
enum Opened {
    /// A manifest (parsed).
    Manifest(Manifest),
    /// Not a manifest: its first bytes, read already, and the rest.
    Raw { head: Vec<u8>, rest: RowStream },
}

impl Client {
    /// Stores the file at `path` with the default [`FileOptions`] (see the module docs).
    pub async fn store_file(
        &self,
        path: &Path,
        opts: &StoreOptions,
    ) -> Result<FileStored, ClientError> {
        self.store_file_with(path, opts, &FileOptions::default())
            .await
    }

    /// Stores the file at `path`: as one blob if it holds at most the chunk size, else as chunk
    /// blobs and a manifest blob (see the module docs). `opts` applies to every blob (epochs,
    /// deletable, owner); its attributes and observer only to the blob named by the result's
    /// id (the manifest, which also gets `floe-kind=manifest`).
    pub async fn store_file_with(
        &self,
        path: &Path,
        opts: &StoreOptions,
        file_opts: &FileOptions,
    ) -> Result<FileStored, ClientError> {
        let cfg = self.encoding().await?;
        let max = cfg.max_blob_size();
        let chunk_size = file_opts
            .chunk_size
            .unwrap_or_else(|| chunk_size_for(&cfg, max));
        if chunk_size == 0 {
            return Err(ClientError::Encode(
                "the chunk size must be at least 1 byte".into(),
            ));
        }
        if chunk_size > max {
            return Err(ClientError::BlobTooLarge {
                len: chunk_size,
                max,
                n_shards: cfg.n_shards(),
            });
        }
        let shown = path.display().to_string();
        let file = std::fs::File::open(path)
            .map_err(|e| ClientError::io(format!("cannot open {shown}"), e))?;
        let len = file
            .metadata()
            .map_err(|e| ClientError::io(format!("cannot read {shown}"), e))?
            .len();
        let Some(ranges) = chunk_plan(len, chunk_size) else {
            // One blob, exactly as `store` stores the file's bytes.
            let source = Source {
                file,
                hasher: Sha256::new(),
            };
            let (_, data) = read_chunk(source, len, path.to_owned(), true).await?;
            let stored = self.store(data, opts).await?;
            return Ok(FileStored {
                blob_id: stored.blob_id,
                size: len,
                chunk_size: None,
                chunks: Vec::new(),
                paid: stored.paid,
                transactions: stored.transactions.clone(),
                stored,
            });
        };
        let count = chunk_count(len, chunk_size).map_err(|_| ClientError::BlobTooLarge {
            len,
            max: chunk_size.saturating_mul(floe_core::manifest::MAX_CHUNKS),
            n_shards: cfg.n_shards(),
        })? as usize;
        tracing::info!(path = %shown, len, chunk_size, count, "storing a large file as chunks and a manifest");

        let bar = self.progress.bar("storing", len, len, true);
        bar.set_message(format!("0/{count} chunks"));
        // Chunks show one bar for the file, not one each.
        let quiet = self.clone().with_progress(Progress::Hidden);
        let chunk_opts = StoreOptions {
            observer: None,
            attributes: Vec::new(),
            ..opts.clone()
        };
        let in_flight = file_opts.chunks_in_flight.max(1);
        let mut pending: VecDeque<AbortOnDrop<Result<StoreResult, ClientError>>> = VecDeque::new();
        let mut chunks: Vec<StoreResult> = Vec::with_capacity(count);
        let mut source = Source {
            file,
            hasher: Sha256::new(),
        };
        let finish = |joined: Result<Result<StoreResult, ClientError>, tokio::task::JoinError>,
                      chunks: &mut Vec<StoreResult>|
         -> Result<(), ClientError> {
            let stored = joined.map_err(|e| {
                ClientError::Encode(format!("the task storing a chunk failed: {e}"))
            })??;
            tracing::info!(index = chunks.len(), blob_id = %stored.blob_id, outcome = ?stored.outcome, "chunk stored");
            bar.inc(stored.size);
            chunks.push(stored);
            bar.set_message(format!("{}/{count} chunks", chunks.len()));
            Ok(())
        };
        for (i, range) in ranges.iter().enumerate() {
            while pending.len() >= in_flight {
                if let Some(task) = pending.pop_front() {
                    finish(task.await, &mut chunks)?;
                }
            }
            let last = i + 1 == count;
            let (rest, data) =
                read_chunk(source, range.end - range.start, path.to_owned(), last).await?;
            source = rest;
            let client = quiet.clone();
            let o = chunk_opts.clone();
            pending.push_back(AbortOnDrop(tokio::spawn(async move {
                client.store(data, &o).await
            })));
        }
        while let Some(task) = pending.pop_front() {
            finish(task.await, &mut chunks)?;
        }
        bar.finish_and_clear();
        let sha256: [u8; 32] = source.hasher.finalize().into();
        let manifest = Manifest::new(
            len,
            chunk_size,
            chunks.iter().map(|c| c.blob_id).collect(),
            sha256,
        )
        .map_err(|e| ClientError::Encode(format!("cannot build the manifest: {e}")))?;
        let mut attributes = vec![(KIND_ATTRIBUTE.to_owned(), KIND_MANIFEST.to_owned())];
        attributes.extend(
            opts.attributes
                .iter()
                .filter(|(k, _)| k != KIND_ATTRIBUTE)
                .cloned(),
        );
        let manifest_opts = StoreOptions {
            attributes,
            ..opts.clone()
        };
        let stored = self.store(manifest.to_bytes(), &manifest_opts).await?;
        tracing::info!(blob_id = %stored.blob_id, count, "manifest stored");
        let paid = chunks.iter().map(|c| c.paid).sum::<U256>() + stored.paid;
        let transactions = chunks
            .iter()
            .chain(std::iter::once(&stored))
            .flat_map(|c| c.transactions.iter().cloned())
            .collect();
        Ok(FileStored {
            blob_id: stored.blob_id,
            size: len,
            chunk_size: Some(chunk_size),
            chunks,
            stored,
            paid,
            transactions,
        })
    }

    /// Reads the file `blob_id` into `out` with the default [`FileOptions`] (see the module
    /// docs). On error, `out` may hold part of the file: nothing of it is verified as a whole.
    pub async fn read_file(
        &self,
        blob_id: &BlobId,
        out: &mut (impl AsyncWrite + Unpin),
    ) -> Result<FileRead, ClientError> {
        self.read_file_with(blob_id, out, &FileOptions::default())
            .await
    }

    /// Reads the file `blob_id` into `out`, fetching [`FileOptions::chunks_ahead`] chunks at
    /// once (see the module docs). Flushes `out` at the end.
    pub async fn read_file_with(
        &self,
        blob_id: &BlobId,
        out: &mut (impl AsyncWrite + Unpin),
        file_opts: &FileOptions,
    ) -> Result<FileRead, ClientError> {
        let reader = self.open_blob(blob_id).await?;
        let len = reader.len();
        let write_err = |e| ClientError::io("cannot write the file", e);
        match self.open_file(reader).await? {
            Opened::Raw { head, mut rest } => {
                let bar = self.progress.bar("reading", len, len, true);
                let mut hasher = Sha256::new();
                hasher.update(&head);
                out.write_all(&head).await.map_err(write_err)?;
                bar.inc(head.len() as u64);
                while let Some(bytes) = rest.next().await {
                    let bytes = bytes?;
                    hasher.update(&bytes);
                    out.write_all(&bytes).await.map_err(write_err)?;
                    bar.inc(bytes.len() as u64);
                }
                out.flush().await.map_err(write_err)?;
                bar.finish_and_clear();
                Ok(FileRead {
                    blob_id: *blob_id,
                    size: len,
                    chunks: 0,
                    sha256: hex(&hasher.finalize()),
                })
            }
            Opened::Manifest(manifest) => {
                self.read_chunks(blob_id, &manifest, out, file_opts.chunks_ahead.max(1))
                    .await
            }
        }
    }

    /// Reads the file `blob_id` into the file `path`: writes a temporary file next to it (see
    /// [`partial_path`]) and renames it to `path` only once the whole file verified. On error
    /// the temporary file is removed and `path` is left as it was.
    pub async fn read_file_to_path(
        &self,
        blob_id: &BlobId,
        path: &Path,
    ) -> Result<FileRead, ClientError> {
        let shown = path.display().to_string();
        let tmp = partial_path(path, rand::random()).ok_or_else(|| {
            ClientError::io(
                format!("cannot write to {shown}"),
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"),
            )
        })?;
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .await
            .map_err(|e| ClientError::io(format!("cannot create {}", tmp.display()), e))?;
        let mut guard = Partial(Some(tmp.clone()));
        let mut out = tokio::io::BufWriter::new(file);
        let read = self.read_file(blob_id, &mut out).await?;
        let file = out.into_inner();
        file.sync_all()
            .await
            .map_err(|e| ClientError::io(format!("cannot write {}", tmp.display()), e))?;
        drop(file);
        tokio::fs::rename(&tmp, path)
            .await
            .map_err(|e| ClientError::io(format!("cannot rename the read file to {shown}"), e))?;
        guard.0 = None;
        Ok(read)
    }

    /// The manifest `blob_id` holds, if it is a manifest (see the module docs); `None` for a
    /// blob read as itself. A gateway maps ranges of the file onto chunks with
    /// [`Manifest::chunks_for`].
    pub async fn manifest_of(&self, blob_id: &BlobId) -> Result<Option<Manifest>, ClientError> {
        let reader = self.open_blob(blob_id).await?;
        Ok(match self.open_file(reader).await? {
            Opened::Manifest(m) => Some(m),
            Opened::Raw { .. } => None,
        })
    }

    /// Reads enough of `reader`'s blob to tell whether it is a manifest, and if so all of it.
    async fn open_file(&self, reader: BlobReader) -> Result<Opened, ClientError> {
        let blob_id = reader.blob_id();
        let len = reader.len();
        let mut rest: RowStream = Box::pin(reader.stream());
        let mut head = Vec::new();
        while head.len() < MANIFEST_MAGIC.len() {
            match rest.next().await {
                Some(bytes) => head.extend_from_slice(&bytes?),
                None => break,
            }
        }
        if !is_manifest(&head) {
            return Ok(Opened::Raw { head, rest });
        }
        if len > MAX_MANIFEST_LEN as u64 {
            return Err(ClientError::InvalidManifest {
                blob_id,
                reason: format!(
                    "it has {len} bytes, more than any manifest ({MAX_MANIFEST_LEN} bytes)"
                ),
            });
        }
        while let Some(bytes) = rest.next().await {
            head.extend_from_slice(&bytes?);
        }
        Manifest::from_bytes(&head)
            .map(Opened::Manifest)
            .map_err(|e| ClientError::InvalidManifest {
                blob_id,
                reason: e.to_string(),
            })
    }

    /// Streams `manifest`'s chunks into `out` in order, `ahead` fetched at once, and checks the
    /// file's SHA-256.
    async fn read_chunks(
        &self,
        blob_id: &BlobId,
        manifest: &Manifest,
        out: &mut (impl AsyncWrite + Unpin),
        ahead: usize,
    ) -> Result<FileRead, ClientError> {
        let count = manifest.chunks().len();
        let total = manifest.total_len();
        tracing::info!(%blob_id, total, count, "reading a large file");
        let spans: Vec<ChunkSpan> = manifest
            .chunks_for(0..total)
            .map_err(|e| ClientError::Encode(format!("the whole file is not in range: {e}")))?
            .collect();
        let got = self
            .write_spans(blob_id, manifest, spans, out, ahead)
            .await?;
        if &got != manifest.sha256() {
            return Err(ClientError::FileHashMismatch {
                blob_id: *blob_id,
                expected: hex(manifest.sha256()),
                got: hex(&got),
            });
        }
        Ok(FileRead {
            blob_id: *blob_id,
            size: total,
            chunks: count,
            sha256: hex(&got),
        })
    }

    /// Bytes `range` of the file `blob_id` into `out` (see the module docs): for a manifest, only
    /// the chunks holding the range are fetched, each verified, but the whole file's SHA-256
    /// cannot be checked on a part of it. A range with `start > end` or `end` past the file
    /// fails with [`ClientError::RangeOutOfBounds`]. Returns the bytes written.
    pub async fn read_file_range(
        &self,
        blob_id: &BlobId,
        range: Range<u64>,
        out: &mut (impl AsyncWrite + Unpin),
    ) -> Result<u64, ClientError> {
        let reader = self.open_blob(blob_id).await?;
        let write_err = |e| ClientError::io("cannot write the file", e);
        match self.open_file(reader.clone()).await? {
            Opened::Raw { .. } => {
                let mut rows = Box::pin(reader.stream_range(range));
                let mut written = 0u64;
                while let Some(bytes) = rows.next().await {
                    let bytes = bytes?;
                    out.write_all(&bytes).await.map_err(write_err)?;
                    written += bytes.len() as u64;
                }
                out.flush().await.map_err(write_err)?;
                Ok(written)
            }
            Opened::Manifest(manifest) => {
                let total = manifest.total_len();
                let spans: Vec<ChunkSpan> = manifest
                    .chunks_for(range.clone())
                    .map_err(|_| ClientError::RangeOutOfBounds {
                        blob_id: *blob_id,
                        start: range.start,
                        end: range.end,
                        len: total,
                    })?
                    .collect();
                self.write_spans(blob_id, &manifest, spans, out, DEFAULT_CHUNKS_AHEAD)
                    .await?;
                Ok(range.end - range.start)
            }
        }
    }

    /// Streams the chunk parts `spans` of the file `blob_id` into `out` in order, `ahead`
    /// chunks fetched at once; returns the SHA-256 of the bytes written.
    async fn write_spans(
        &self,
        blob_id: &BlobId,
        manifest: &Manifest,
        spans: Vec<ChunkSpan>,
        out: &mut (impl AsyncWrite + Unpin),
        ahead: usize,
    ) -> Result<[u8; 32], ClientError> {
        let count = manifest.chunks().len();
        let total: u64 = spans.iter().map(|s| s.range.end - s.range.start).sum();
        let bar = self.progress.bar("reading", total, total, true);
        bar.set_message(format!("0/{} chunks", spans.len()));
        let quiet = self.clone().with_progress(Progress::Hidden);
        let spawn = |span: ChunkSpan| {
            let chunk_len = manifest
                .chunk_range(span.index)
                .map(|r| r.end - r.start)
                .unwrap_or(0);
            let (tx, rx) = mpsc::channel(ROWS_BUFFERED);
            let client = quiet.clone();
            let manifest_id = *blob_id;
            let job = span.clone();
            let task = AbortOnDrop(tokio::spawn(async move {
                fetch_chunk(client, manifest_id, job, chunk_len, tx).await
            }));
            (span, rx, task)
        };
        let n_spans = spans.len();
        let mut todo = spans.into_iter();
        let mut fetching = VecDeque::new();
        let mut hasher = Sha256::new();
        let write_err = |e| ClientError::io("cannot write the file", e);
        for span in todo.by_ref().take(ahead.max(1)) {
            fetching.push_back(spawn(span));
        }
        let mut done = 0;
        while let Some((span, mut rx, _task)) = fetching.pop_front() {
            let wrap = |error: ClientError| match error {
                e @ ClientError::ChunkLengthMismatch { .. } => e,
                error => ClientError::ChunkUnreadable {
                    blob_id: *blob_id,
                    index: span.index,
                    count,
                    chunk: span.blob_id,
                    error: Box::new(error),
                },
            };
            let expected = span.range.end - span.range.start;
            let mut got = 0u64;
            while let Some(item) = rx.recv().await {
                let bytes = item.map_err(wrap)?;
                got += bytes.len() as u64;
                hasher.update(&bytes);
                out.write_all(&bytes).await.map_err(write_err)?;
                bar.inc(bytes.len() as u64);
            }
            if got != expected {
                // The task ended early without an error: it was cancelled or panicked.
                return Err(wrap(ClientError::Decode {
                    blob_id: span.blob_id,
                    message: format!("the chunk's stream ended after {got} of {expected} bytes"),
                }));
            }
            done += 1;
            bar.set_message(format!("{done}/{n_spans} chunks"));
            if let Some(next) = todo.next() {
                fetching.push_back(spawn(next));
            }
        }
        out.flush().await.map_err(write_err)?;
        bar.finish_and_clear();
        Ok(hasher.finalize().into())
    }
}

/// Opens the chunk of `span` (`chunk_len` bytes per the manifest `manifest_id`) and sends the
/// rows of `span.range` to `tx`, each verified; an error is sent as the last item.
async fn fetch_chunk(
    client: Client,
    manifest_id: BlobId,
    span: ChunkSpan,
    chunk_len: u64,
    tx: mpsc::Sender<Result<Bytes, ClientError>>,
) {
    let reader = match client.open_blob(&span.blob_id).await {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.send(Err(e)).await;
            return;
        }
    };
    if reader.len() != chunk_len {
        let _ = tx
            .send(Err(ClientError::ChunkLengthMismatch {
                blob_id: manifest_id,
                index: span.index,
                chunk: span.blob_id,
                got: reader.len(),
                expected: chunk_len,
            }))
            .await;
        return;
    }
    let mut rows = Box::pin(reader.stream_range(span.range));
    while let Some(item) = rows.next().await {
        let failed = item.is_err();
        if tx.send(item).await.is_err() || failed {
            return;
        }
    }
}

/// A file being stored, read so far, and the SHA-256 of what was read.
pub(crate) struct Source {
    pub(crate) file: std::fs::File,
    pub(crate) hasher: Sha256,
}

/// Reads the next `len` bytes of `source` on a blocking thread, feeding them to its hasher; at
/// the `last` chunk, also checks that the file ends there.
pub(crate) async fn read_chunk(
    source: Source,
    len: u64,
    path: PathBuf,
    last: bool,
) -> Result<(Source, Vec<u8>), ClientError> {
    let Source {
        mut file,
        mut hasher,
    } = source;
    tokio::task::spawn_blocking(move || {
        let size = usize::try_from(len).map_err(|_| ClientError::BlobTooLarge {
            len,
            max: usize::MAX as u64,
            n_shards: 0,
        })?;
        let mut data = vec![0u8; size];
        file.read_exact(&mut data).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                ClientError::FileChanged {
                    path: path.clone(),
                    reason: "it became shorter".into(),
                }
            } else {
                ClientError::io(format!("cannot read {}", path.display()), e)
            }
        })?;
        if last {
            let mut probe = [0u8; 1];
            let extra = file
                .read(&mut probe)
                .map_err(|e| ClientError::io(format!("cannot read {}", path.display()), e))?;
            if extra != 0 {
                return Err(ClientError::FileChanged {
                    path,
                    reason: "it became longer".into(),
                });
            }
        }
        hasher.update(&data);
        Ok((Source { file, hasher }, data))
    })
    .await
    .map_err(|e| ClientError::Encode(format!("the file reader thread failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_up_to_the_chunk_size_is_one_blob() {
        assert_eq!(chunk_plan(0, 10), None);
        assert_eq!(chunk_plan(1, 10), None);
        assert_eq!(chunk_plan(10, 10), None);
    }

    #[test]
    fn a_larger_file_is_cut_into_full_chunks_and_a_shorter_last_one() {
        assert_eq!(chunk_plan(11, 10), Some(vec![0..10, 10..11]));
        assert_eq!(chunk_plan(30, 10), Some(vec![0..10, 10..20, 20..30]));
        assert_eq!(
            chunk_plan(31, 10),
            Some(vec![0..10, 10..20, 20..30, 30..31])
        );
        // The plan agrees with the manifest's own chunk ranges.
        let plan = chunk_plan(31, 10).expect("chunks");
        let m = Manifest::new(31, 10, vec![BlobId([0; 32]); 4], [0; 32]).expect("manifest");
        for (i, r) in plan.iter().enumerate() {
            assert_eq!(m.chunk_range(i), Some(r.clone()));
        }
    }

    #[test]
    fn partial_files_are_hidden_siblings_of_the_target() {
        assert_eq!(
            partial_path(Path::new("/tmp/d/out.bin"), 0xab),
            Some(PathBuf::from(
                "/tmp/d/.out.bin.floe-partial-00000000000000ab"
            ))
        );
        assert_eq!(
            partial_path(Path::new("out"), 1),
            Some(PathBuf::from(".out.floe-partial-0000000000000001"))
        );
        assert_eq!(partial_path(Path::new("/"), 1), None);
        assert_eq!(partial_path(Path::new("a/.."), 1), None);
    }

    fn result(id: u8, registration_id: u64, outcome: StoreOutcome) -> StoreResult {
        StoreResult {
            blob_id: BlobId([id; 32]),
            size: 1,
            registration_id,
            owner: Default::default(),
            deletable: false,
            end_epoch: 3,
            outcome,
            paid: U256::ZERO,
            transactions: Vec::new(),
            confirmed_shards: 0,
            timings: Default::default(),
        }
    }

    #[test]
    fn a_file_is_already_certified_only_if_every_blob_of_it_is() {
        let mut stored = FileStored {
            blob_id: BlobId([9; 32]),
            size: 2,
            chunk_size: Some(1),
            chunks: vec![
                result(1, 10, StoreOutcome::AlreadyCertified),
                result(2, 11, StoreOutcome::AlreadyCertified),
            ],
            stored: result(9, 12, StoreOutcome::AlreadyCertified),
            paid: U256::ZERO,
            transactions: Vec::new(),
        };
        assert!(stored.is_manifest());
        assert!(stored.already_certified());
        assert_eq!(stored.chunk_ids(), vec![BlobId([1; 32]), BlobId([2; 32])]);
        assert_eq!(stored.registration_ids(), vec![10, 11, 12]);
        stored.chunks[1].outcome = StoreOutcome::ReusedRegistration;
        assert!(!stored.already_certified());
        stored.chunks[1].outcome = StoreOutcome::AlreadyCertified;
        stored.stored.outcome = StoreOutcome::NewlyCertified;
        assert!(!stored.already_certified());
    }

    #[test]
    fn hex_is_lowercase_two_digits_a_byte() {
        assert_eq!(hex(&[0, 0xab, 0x0f]), "00ab0f");
    }
}
