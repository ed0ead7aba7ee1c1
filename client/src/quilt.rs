//! Quilts through the SDK: store many small files as one blob (one registration, one payment)
//! and read any one of them back by fetching only the rows (systematic primary slivers) that
//! hold it. The format is floe-core's [`floe_core::quilt`].
//!
//! - [`Client::store_quilt`] builds the quilt with the network's largest blob size as the limit,
//!   so every refusal (no file, duplicate or bad identifier, bad tag, too large) comes before
//!   anything is paid, then stores it with the attribute `floe-kind=quilt`.
//! - [`collect_quilt_files`] turns paths (files, and directories walked recursively without
//!   following symlinks) into [`QuiltFile`]s named by their relative paths.
//! - [`Client::open_quilt`] reads the index: row 0 of the blob first (a row costs the same to
//!   fetch whatever part of it is used), and the rest of the index only if it is longer. A
//!   [`QuiltReader`] then reads files ([`QuiltReader::read_file`]), each checked against its
//!   SHA-256, and says how many rows it fetched.

use std::{
    collections::BTreeSet,
    ops::Range,
    path::{Path, PathBuf},
};

use alloy::primitives::U256;
use floe_core::{
    encoding::EncodingConfig,
    ids::BlobId,
    manifest::KIND_ATTRIBUTE,
    quilt::{KIND_QUILT, MAX_FILES, PREFIX_LEN, QuiltBuilder, QuiltEntry, QuiltError, QuiltIndex},
};
use futures::StreamExt;
use serde::Serialize;

use crate::{
    BlobReader, Client, StoreOptions, StoreOutcome,
    client::{Transaction, serialize_display},
    error::ClientError,
};

/// One file to put in a quilt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuiltFile {
    /// Its identifier: a relative path with `/` separators (see
    /// [`floe_core::quilt::check_identifier`]).
    pub identifier: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its tags (key → value), e.g. `("content-type", "text/html")`.
    pub tags: Vec<(String, String)>,
}

impl QuiltFile {
    /// A file without tags.
    pub fn new(identifier: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            identifier: identifier.into(),
            bytes: bytes.into(),
            tags: Vec::new(),
        }
    }
}

/// The result of [`Client::store_quilt`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuiltStored {
    /// The quilt's blob id.
    #[serde(serialize_with = "serialize_display")]
    pub quilt_id: BlobId,
    /// Files in the quilt.
    pub files: usize,
    /// The quilt blob's size in bytes (prefix, index and files).
    pub size: u64,
    /// The registration that stores it.
    pub registration_id: u64,
    /// The first epoch it no longer stores the quilt.
    pub end_epoch: u32,
    /// How the store ended.
    pub outcome: StoreOutcome,
    /// FROST paid (0 unless a new registration was paid).
    #[serde(serialize_with = "serialize_display")]
    pub paid: U256,
    /// The transactions sent, in order.
    pub transactions: Vec<Transaction>,
}

/// A file read from a quilt by [`QuiltReader::read_file`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuiltFileRead {
    /// The file's index entry.
    pub entry: QuiltEntry,
    /// Its bytes, checked against the entry's length and SHA-256.
    pub bytes: Vec<u8>,
    /// Rows (systematic primary slivers) fetched for the file itself: 0 when the file lies
    /// within the rows already fetched for the index.
    pub rows_fetched: u64,
}

/// An open quilt: its verified blob metadata and its parsed index. Reads of its files fetch
/// only the rows holding them. Cheap to clone.
#[derive(Debug, Clone)]
pub struct QuiltReader {
    blob: BlobReader,
    index: QuiltIndex,
    /// The blob's first bytes as fetched for the index (whole rows, at least the header).
    head: bytes::Bytes,
    index_rows: u64,
}

impl QuiltReader {
    /// Reads the index of the quilt `blob`: row 0 first, then the rest of the index if it is
    /// longer than a row. [`ClientError::NotAQuilt`] if the blob is not a well-formed quilt.
    pub async fn open(blob: BlobReader) -> Result<Self, ClientError> {
        let blob_id = blob.blob_id();
        let len = blob.len();
        let not_a_quilt = |error| ClientError::NotAQuilt { blob_id, error };
        if len < PREFIX_LEN as u64 {
            return Err(not_a_quilt(QuiltError::Truncated {
                len: len as usize,
                needed: PREFIX_LEN,
            }));
        }
        let first = len.min(blob.row_len().max(PREFIX_LEN as u64));
        let mut head = read_range(&blob, 0..first).await?;
        let header_len = QuiltIndex::parse_prefix(&head).map_err(not_a_quilt)?;
        if header_len > len {
            return Err(not_a_quilt(QuiltError::Truncated {
                len: usize::try_from(len).unwrap_or(usize::MAX),
                needed: usize::try_from(header_len).unwrap_or(usize::MAX),
            }));
        }
        if header_len > first {
            // parse_prefix bounds the index (MAX_INDEX_LEN), so this is at most 16 MiB.
            head.extend_from_slice(&read_range(&blob, first..header_len).await?);
        }
        let index = QuiltIndex::from_bytes(&head, len).map_err(not_a_quilt)?;
        let index_rows = rows_of(&(0..first.max(header_len)), blob.row_len());
        tracing::debug!(%blob_id, files = index.len(), header_len, index_rows, "quilt index read");
        Ok(Self {
            blob,
            index,
            head: head.into(),
            index_rows,
        })
    }

    /// The quilt's id.
    pub fn quilt_id(&self) -> BlobId {
        self.blob.blob_id()
    }

    /// Its index.
    pub fn index(&self) -> &QuiltIndex {
        &self.index
    }

    /// Its index, taking it.
    pub fn into_index(self) -> QuiltIndex {
        self.index
    }

    /// The blob reader under it (for ranged reads of a file: [`QuiltEntry::range`]).
    pub fn blob(&self) -> &BlobReader {
        &self.blob
    }

    /// Rows fetched to read the index.
    pub fn index_rows(&self) -> u64 {
        self.index_rows
    }

    /// Rows of the whole quilt blob.
    pub fn total_rows(&self) -> u64 {
        rows_of(&(0..self.blob.len()), self.blob.row_len())
    }

    /// The entry of `identifier`, or [`ClientError::QuiltFileUnknown`].
    pub fn entry(&self, identifier: &str) -> Result<&QuiltEntry, ClientError> {
        self.index
            .get(identifier)
            .ok_or_else(|| ClientError::QuiltFileUnknown {
                quilt_id: self.quilt_id(),
                identifier: identifier.to_owned(),
            })
    }

    /// Reads the file `identifier`: only the rows holding it (none if the index read already
    /// fetched them), checked against its length and SHA-256.
    pub async fn read_file(&self, identifier: &str) -> Result<QuiltFileRead, ClientError> {
        let entry = self.entry(identifier)?.clone();
        let range = entry.range();
        let (bytes, rows_fetched) = if range.end <= self.head.len() as u64 {
            // Offsets fit: the head is in memory.
            let (a, b) = (range.start as usize, range.end as usize);
            (self.head[a..b].to_vec(), 0)
        } else {
            let rows = rows_of(&range, self.blob.row_len());
            (read_range(&self.blob, range).await?, rows)
        };
        entry
            .verify(&bytes)
            .map_err(|error| ClientError::NotAQuilt {
                blob_id: self.quilt_id(),
                error,
            })?;
        Ok(QuiltFileRead {
            entry,
            bytes,
            rows_fetched,
        })
    }
}

/// Bytes `range` of `blob`, collected.
async fn read_range(blob: &BlobReader, range: Range<u64>) -> Result<Vec<u8>, ClientError> {
    let len = usize::try_from(range.end.saturating_sub(range.start)).unwrap_or(0);
    let mut out = Vec::with_capacity(len);
    let mut stream = Box::pin(blob.stream_range(range));
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}

/// How many rows of `row_len` bytes hold `range`.
fn rows_of(range: &Range<u64>, row_len: u64) -> u64 {
    if range.is_empty() || row_len == 0 {
        return 0;
    }
    (range.end - 1) / row_len - range.start / row_len + 1
}

impl Client {
    /// The largest blob (hence quilt) this network stores, in bytes.
    pub async fn max_blob_size(&self) -> Result<u64, ClientError> {
        let n = self.chain().n_shards().await?;
        let cfg = EncodingConfig::new(n).map_err(|e| ClientError::Encode(e.to_string()))?;
        Ok(cfg.max_blob_size())
    }

    /// Builds a quilt of `files` and stores it (see the module docs). Every refusal of the
    /// files ([`ClientError::QuiltBuild`]) comes before any transaction. The attribute
    /// `floe-kind=quilt` is added to `opts.attributes` (on a new registration).
    pub async fn store_quilt(
        &self,
        files: Vec<QuiltFile>,
        opts: &StoreOptions,
    ) -> Result<QuiltStored, ClientError> {
        let max = self.max_blob_size().await?;
        let count = files.len();
        let blob = build_quilt(files, max)?;
        let mut opts = opts.clone();
        if !opts.attributes.iter().any(|(k, _)| k == KIND_ATTRIBUTE) {
            opts.attributes
                .push((KIND_ATTRIBUTE.to_owned(), KIND_QUILT.to_owned()));
        }
        let stored = self.store(blob, &opts).await?;
        tracing::info!(quilt_id = %stored.blob_id, files = count, size = stored.size, "quilt stored");
        Ok(QuiltStored {
            quilt_id: stored.blob_id,
            files: count,
            size: stored.size,
            registration_id: stored.registration_id,
            end_epoch: stored.end_epoch,
            outcome: stored.outcome,
            paid: stored.paid,
            transactions: stored.transactions,
        })
    }

    /// Opens the quilt `quilt_id`: checks the chain and the metadata as
    /// [`Client::open_blob`] does, then reads the index.
    pub async fn open_quilt(&self, quilt_id: &BlobId) -> Result<QuiltReader, ClientError> {
        QuiltReader::open(self.open_blob(quilt_id).await?).await
    }

    /// The index of the quilt `quilt_id` (its files, their sizes, hashes and tags).
    pub async fn quilt_index(&self, quilt_id: &BlobId) -> Result<QuiltIndex, ClientError> {
        Ok(self.open_quilt(quilt_id).await?.into_index())
    }

    /// Reads the file `identifier` of the quilt `quilt_id`, fetching the index and that file's
    /// rows only; checked against its SHA-256.
    pub async fn read_quilt_file(
        &self,
        quilt_id: &BlobId,
        identifier: &str,
    ) -> Result<QuiltFileRead, ClientError> {
        self.open_quilt(quilt_id).await?.read_file(identifier).await
    }
}

/// The quilt blob of `files`, refused if over `max_blob_size` bytes.
pub fn build_quilt(files: Vec<QuiltFile>, max_blob_size: u64) -> Result<Vec<u8>, ClientError> {
    let mut builder = QuiltBuilder::with_max_blob_size(max_blob_size);
    for file in files {
        builder
            .add(file.identifier, file.bytes, file.tags)
            .map_err(ClientError::QuiltBuild)?;
    }
    builder.build().map_err(ClientError::QuiltBuild)
}

/// Collects the files under `paths` for a quilt: a file is named by its file name, a directory
/// contributes every regular file below it named by its path relative to the directory (`/`
/// separators). Symlinks and other non-regular files are skipped (never followed). Refuses
/// names that are not UTF-8, more than [`MAX_FILES`] files, and more than `max_total_bytes`
/// bytes in all (checked from the file sizes before reading them). Identifiers are checked
/// when the quilt is built.
pub fn collect_quilt_files(
    paths: &[PathBuf],
    max_total_bytes: u64,
) -> Result<Vec<QuiltFile>, ClientError> {
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    let mut total = 0u64;
    for path in paths {
        let meta = std::fs::symlink_metadata(path)
            .map_err(|e| ClientError::io(format!("reading {}", path.display()), e))?;
        if meta.is_dir() {
            walk(path, path, &mut found, &mut total, max_total_bytes)?;
        } else if meta.is_file() {
            let name = utf8_name(path, path.file_name().map(Path::new))?;
            add_found(
                &mut found,
                &mut total,
                max_total_bytes,
                name,
                path,
                meta.len(),
            )?;
        } else {
            return Err(ClientError::QuiltInput(format!(
                "{} is neither a file nor a directory (symlinks are not followed); give its target instead",
                path.display()
            )));
        }
    }
    let mut files = Vec::with_capacity(found.len());
    for (identifier, path) in found {
        let bytes = std::fs::read(&path)
            .map_err(|e| ClientError::io(format!("reading {}", path.display()), e))?;
        files.push(QuiltFile {
            identifier,
            bytes,
            tags: Vec::new(),
        });
    }
    Ok(files)
}

/// Walks `dir` (below `root`) in name order, adding its regular files.
fn walk(
    root: &Path,
    dir: &Path,
    found: &mut Vec<(String, PathBuf)>,
    total: &mut u64,
    max_total: u64,
) -> Result<(), ClientError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| ClientError::io(format!("listing {}", dir.display()), e))?;
    let mut children = BTreeSet::new();
    for entry in entries {
        let entry = entry.map_err(|e| ClientError::io(format!("listing {}", dir.display()), e))?;
        children.insert(entry.path());
        if children.len() > MAX_FILES {
            return Err(too_many());
        }
    }
    for path in children {
        let meta = std::fs::symlink_metadata(&path)
            .map_err(|e| ClientError::io(format!("reading {}", path.display()), e))?;
        if meta.is_dir() {
            walk(root, &path, found, total, max_total)?;
        } else if meta.is_file() {
            let relative = path.strip_prefix(root).ok();
            let name = utf8_name(&path, relative)?;
            add_found(found, total, max_total, name, &path, meta.len())?;
        } else {
            tracing::warn!(path = %path.display(), "skipping a symlink or special file");
        }
    }
    Ok(())
}

fn too_many() -> ClientError {
    ClientError::QuiltInput(format!(
        "more than {MAX_FILES} files; split them into several quilts"
    ))
}

fn add_found(
    found: &mut Vec<(String, PathBuf)>,
    total: &mut u64,
    max_total: u64,
    name: String,
    path: &Path,
    len: u64,
) -> Result<(), ClientError> {
    if found.len() >= MAX_FILES {
        return Err(too_many());
    }
    *total = total.saturating_add(len);
    if *total > max_total {
        return Err(ClientError::QuiltInput(format!(
            "the files reach {total} bytes at {}, more than the {max_total} bytes a quilt can hold; split them into several quilts",
            path.display()
        )));
    }
    found.push((name, path.to_owned()));
    Ok(())
}

/// `relative` as an identifier: UTF-8 components joined by `/`.
fn utf8_name(path: &Path, relative: Option<&Path>) -> Result<String, ClientError> {
    let relative = relative
        .ok_or_else(|| ClientError::QuiltInput(format!("{} has no file name", path.display())))?;
    let mut parts = Vec::new();
    for part in relative.components() {
        let s = part.as_os_str().to_str().ok_or_else(|| {
            ClientError::QuiltInput(format!(
                "the name of {} is not UTF-8; rename it",
                path.display()
            ))
        })?;
        parts.push(s);
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, atomic::AtomicU32};

    use floe_core::quilt::QuiltBuilder;
    use tokio::sync::Semaphore;

    use super::*;
    use crate::{
        config::RequestTimeout,
        fake_node::{FakeNode, committee, seed},
        node_api::NodeHttp,
    };

    const N: u16 = 10;

    /// 40 files of 300..=690 bytes; the quilt spans several rows.
    fn files() -> Vec<QuiltFile> {
        (0..40u32)
            .map(|i| {
                let len = 300 + (i as usize * 10);
                let bytes: Vec<u8> = (0..len).map(|j| (j as u32 * 7 + i) as u8).collect();
                QuiltFile::new(format!("dir{}/file-{i:02}.txt", i % 3), bytes)
            })
            .collect()
    }

    struct Net {
        nodes: Vec<FakeNode>,
        reader: BlobReader,
    }

    impl Net {
        async fn start(blob: &[u8]) -> Self {
            let cfg = EncodingConfig::new(N).expect("n = 10");
            let encoded = cfg.encode(blob).expect("encode");
            let epoch = Arc::new(AtomicU32::new(1));
            let mut nodes = Vec::new();
            for seed in 1..=N as u8 {
                nodes.push(FakeNode::start(seed, epoch.clone()).await);
            }
            let c = committee(1, &nodes, (0..N).collect());
            seed(&c, &encoded).await;
            let http = NodeHttp {
                http: reqwest::Client::new(),
                timeout: RequestTimeout::default(),
            };
            let reader = BlobReader::open(
                http,
                Arc::new(Semaphore::new(8)),
                Arc::new(c),
                cfg,
                encoded.blob_id,
            )
            .await
            .expect("open");
            let net = Self { nodes, reader };
            net.take_sliver_gets();
            net
        }

        /// Primary sliver GETs since the last call, over all nodes, sorted.
        fn take_sliver_gets(&self) -> Vec<String> {
            let mut out: Vec<String> = self
                .nodes
                .iter()
                .flat_map(|n| {
                    n.state
                        .paths
                        .lock()
                        .expect("lock")
                        .drain(..)
                        .collect::<Vec<_>>()
                })
                .filter(|p| p.contains("/slivers/"))
                .collect();
            out.sort();
            out
        }
    }

    #[tokio::test]
    async fn one_file_is_read_from_its_rows_only_and_verified() {
        let files = files();
        let blob = build_quilt(files.clone(), u64::MAX).expect("builds");
        let net = Net::start(&blob).await;
        let quilt = QuiltReader::open(net.reader.clone()).await.expect("index");
        let row = net.reader.row_len();
        // The index is read with row 0 only.
        assert!(
            quilt.index().header_len() < row,
            "test setup: the header fits row 0"
        );
        assert_eq!(quilt.index_rows(), 1);
        assert_eq!(net.take_sliver_gets().len(), 1);
        assert_eq!(quilt.index().len(), files.len());
        assert!(quilt.total_rows() >= 4, "{} rows", quilt.total_rows());

        // A file past row 0: exactly the rows holding its range are fetched.
        let last = quilt.index().entries().last().expect("entries").clone();
        let want = files
            .iter()
            .find(|f| f.identifier == last.identifier())
            .expect("file");
        let read = quilt.read_file(last.identifier()).await.expect("reads");
        assert_eq!(read.bytes, want.bytes);
        assert_eq!(read.entry, last);
        let r = last.range();
        let expected = (r.end - 1) / row - r.start / row + 1;
        assert_eq!(read.rows_fetched, expected);
        let gets = net.take_sliver_gets();
        assert_eq!(gets.len() as u64, expected, "{gets:?}");
        assert!(read.rows_fetched < quilt.total_rows());

        // A file inside row 0 costs no fetch at all.
        let first = quilt.index().entries()[0].clone();
        assert!(
            first.range().end <= row,
            "test setup: the first file is in row 0"
        );
        let read = quilt.read_file(first.identifier()).await.expect("reads");
        assert_eq!(read.rows_fetched, 0);
        assert_eq!(read.bytes.len() as u64, first.len());
        assert!(net.take_sliver_gets().is_empty());

        // An unknown identifier: no request.
        match quilt.read_file("nope.txt").await {
            Err(e @ ClientError::QuiltFileUnknown { .. }) => {
                assert_eq!(e.class(), crate::ErrorClass::NotFound);
            }
            other => panic!("expected QuiltFileUnknown, got {other:?}"),
        }
        assert!(net.take_sliver_gets().is_empty());
    }

    #[tokio::test]
    async fn an_index_longer_than_a_row_is_read_row_by_row_once() {
        // Long identifiers: the header spans several rows, the files are tiny.
        let files: Vec<QuiltFile> = (0..60u32)
            .map(|i| QuiltFile::new(format!("{}/{i}", "d".repeat(900)), vec![i as u8; 20]))
            .collect();
        let blob = build_quilt(files.clone(), u64::MAX).expect("builds");
        let net = Net::start(&blob).await;
        let quilt = QuiltReader::open(net.reader.clone()).await.expect("index");
        let row = net.reader.row_len();
        let header = quilt.index().header_len();
        assert!(header > 2 * row, "test setup: header {header}, row {row}");
        let rows = header.div_ceil(row);
        assert_eq!(quilt.index_rows(), rows);
        let gets = net.take_sliver_gets();
        assert_eq!(gets.len() as u64, rows, "each header row once: {gets:?}");
        assert_eq!(quilt.index().len(), 60);
        for f in [&files[0], &files[59]] {
            let read = quilt.read_file(&f.identifier).await.expect("reads");
            assert_eq!(read.bytes, f.bytes);
        }
    }

    #[tokio::test]
    async fn a_blob_that_is_not_a_quilt_is_refused() {
        let net = Net::start(&[7u8; 2000]).await;
        match QuiltReader::open(net.reader.clone()).await {
            Err(
                e @ ClientError::NotAQuilt {
                    error: QuiltError::BadMagic,
                    ..
                },
            ) => assert_eq!(e.class(), crate::ErrorClass::BadRequest),
            other => panic!("expected NotAQuilt, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_file_not_matching_its_hash_is_refused() {
        // A quilt whose last file's bytes were changed after building: the index still parses.
        let mut blob = build_quilt(files(), u64::MAX).expect("builds");
        let index = QuiltIndex::from_blob(&blob).expect("parses");
        let last = index.entries().last().expect("entries").clone();
        let at = usize::try_from(last.range().start).expect("fits");
        blob[at] ^= 1;
        let net = Net::start(&blob).await;
        let quilt = QuiltReader::open(net.reader.clone()).await.expect("index");
        match quilt.read_file(last.identifier()).await {
            Err(ClientError::NotAQuilt {
                error: QuiltError::HashMismatch { identifier },
                ..
            }) => assert_eq!(identifier, last.identifier()),
            other => panic!("expected HashMismatch, got {other:?}"),
        }
    }

    #[test]
    fn build_refusals_say_what_is_wrong() {
        let dup = vec![QuiltFile::new("a", "1"), QuiltFile::new("a", "2")];
        assert!(matches!(
            build_quilt(dup, u64::MAX),
            Err(ClientError::QuiltBuild(QuiltError::DuplicateIdentifier(id))) if id == "a"
        ));
        assert!(matches!(
            build_quilt(vec![], u64::MAX),
            Err(ClientError::QuiltBuild(QuiltError::Empty))
        ));
        let ctl = vec![QuiltFile::new("a\u{7}b", "1")];
        assert!(matches!(
            build_quilt(ctl, u64::MAX),
            Err(ClientError::QuiltBuild(QuiltError::BadIdentifier { .. }))
        ));
        let big = vec![QuiltFile::new("big", vec![0u8; 1000])];
        let e = build_quilt(big, 500).expect_err("too large");
        assert!(matches!(
            e,
            ClientError::QuiltBuild(QuiltError::TooLarge { max: 500, .. })
        ));
        assert!(e.to_string().contains("split"), "{e}");
        assert_eq!(e.class(), crate::ErrorClass::BadRequest);
        // The exact limit is accepted.
        let mut b = QuiltBuilder::new();
        b.add("big", vec![0u8; 1000], Vec::<(String, String)>::new())
            .expect("adds");
        let exact = b.blob_len();
        let one = vec![QuiltFile::new("big", vec![0u8; 1000])];
        assert_eq!(build_quilt(one, exact).expect("fits").len() as u64, exact);
    }

    #[test]
    fn paths_become_relative_identifiers_and_symlinks_are_skipped() {
        let dir = std::env::temp_dir().join(format!("floe-quilt-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let site = dir.join("site");
        std::fs::create_dir_all(site.join("css/deep")).expect("mkdir");
        std::fs::write(site.join("index.html"), "<p>hi</p>").expect("write");
        std::fs::write(site.join("css/deep/a.css"), "p{}").expect("write");
        std::fs::write(site.join("café.txt"), "crème").expect("write");
        std::fs::write(dir.join("loose.bin"), [1u8, 2, 3]).expect("write");
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.join("loose.bin"), site.join("link")).expect("symlink");

        let files =
            collect_quilt_files(&[site.clone(), dir.join("loose.bin")], 1 << 20).expect("collects");
        let names: Vec<&str> = files.iter().map(|f| f.identifier.as_str()).collect();
        assert_eq!(
            names,
            ["café.txt", "css/deep/a.css", "index.html", "loose.bin"]
        );
        assert_eq!(files[1].bytes, b"p{}");
        assert_eq!(files[3].bytes, [1, 2, 3]);

        // The total is bounded before reading.
        match collect_quilt_files(std::slice::from_ref(&site), 10) {
            Err(e @ ClientError::QuiltInput(_)) => {
                assert!(e.to_string().contains("split"), "{e}");
            }
            other => panic!("expected QuiltInput, got {other:?}"),
        }
        // A path that does not exist.
        assert!(matches!(
            collect_quilt_files(&[dir.join("missing")], 1 << 20),
            Err(ClientError::Io { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
