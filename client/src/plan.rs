//! What storing a file would do, without doing it: [`Client::file_id`] (the id `floe store`
//! would print, for `floe blob-id`) and [`Client::plan_file`] (sizes and cost, for
//! `floe store --dry-run`).
//!
//! Both cut and encode the file exactly as [`Client::store_file_with`] does: a file up to the
//! chunk size is one blob, a larger one is chunks and a manifest. Each chunk is read, encoded
//! for its id and dropped before the next is read, so memory is one chunk and its encoding,
//! whatever the file's size. Nothing is sent to the chain or to the nodes; [`Client::plan_file`]
//! reads the chain (the blobs' registrations and the prices) to say, blob by blob, whether a
//! store would register it (and for how much), reuse an uncertified registration of the
//! caller's, or find it already certified.

use std::{path::Path, sync::Arc};

use alloy::primitives::U256;
use floe_core::{
    encoding::EncodingConfig,
    ids::BlobId,
    manifest::{Manifest, chunk_size_for},
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{
    client::{Client, StoreOptions, serialize_display},
    error::ClientError,
    large::{FileOptions, Source, chunk_plan, read_chunk},
    registrations::{self, Plan},
};

/// One blob of a file: a chunk, the manifest, or the whole file stored as one blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileBlob {
    /// Its blob id.
    #[serde(serialize_with = "serialize_display")]
    pub blob_id: BlobId,
    /// Its unencoded size in bytes.
    pub size: u64,
    /// Its encoded size in bytes (what storage is bought for).
    pub encoded_size: u64,
}

/// The ids of a file as [`Client::store_file_with`] would store it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileId {
    /// The file's id: the manifest's blob id, or the blob's for a file stored as one blob.
    #[serde(serialize_with = "serialize_display")]
    pub blob_id: BlobId,
    /// Bytes in the file.
    pub size: u64,
    /// The chunk size; `None` when the file is one blob.
    pub chunk_size: Option<u64>,
    /// The chunks, in file order (empty for a file that is one blob).
    pub chunks: Vec<FileBlob>,
    /// The blob named by `blob_id`: the manifest, or the file.
    pub blob: FileBlob,
}

impl FileId {
    /// Every blob of the file: the chunks in order, then the manifest (or the one blob).
    pub fn blobs(&self) -> impl Iterator<Item = &FileBlob> {
        self.chunks.iter().chain(std::iter::once(&self.blob))
    }

    /// Encoded bytes over all the file's blobs.
    pub fn encoded_size(&self) -> u64 {
        self.blobs().map(|b| b.encoded_size).sum()
    }
}

/// What a store would do with one blob of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlannedAction {
    /// Buy storage and register it.
    Register,
    /// Upload to and certify an uncertified registration of the caller's (paid earlier).
    Reuse,
    /// Nothing: a certified registration already covers the request.
    AlreadyCertified,
}

/// One blob of [`FilePlan`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedBlob {
    /// The blob.
    #[serde(flatten)]
    pub blob: FileBlob,
    /// What a store would do with it.
    pub action: PlannedAction,
    /// FROST a store would pay for it (storage and write fee; 0 unless registered anew).
    #[serde(serialize_with = "serialize_display")]
    pub cost: U256,
}

/// The result of [`Client::plan_file`]: what `floe store` would do, blob by blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilePlan {
    /// The file's id (as [`FileId::blob_id`]).
    #[serde(serialize_with = "serialize_display")]
    pub blob_id: BlobId,
    /// Bytes in the file.
    pub size: u64,
    /// The chunk size; `None` when the file is one blob.
    pub chunk_size: Option<u64>,
    /// Encoded bytes over all the file's blobs.
    pub encoded_size: u64,
    /// Epochs of storage the plan is for.
    pub epochs: u32,
    /// FROST a store would pay in all.
    #[serde(serialize_with = "serialize_display")]
    pub cost: U256,
    /// Every blob: the chunks in order, then the manifest (or the one blob).
    pub blobs: Vec<PlannedBlob>,
}

impl FilePlan {
    /// How many blobs a store would register anew.
    pub fn to_register(&self) -> usize {
        self.blobs
            .iter()
            .filter(|b| b.action == PlannedAction::Register)
            .count()
    }
}

fn file_blob(cfg: &EncodingConfig, blob_id: BlobId, size: u64) -> Result<FileBlob, ClientError> {
    let encoded_size = cfg
        .encoded_size(size)
        .map_err(|e| ClientError::Encode(e.to_string()))?;
    Ok(FileBlob {
        blob_id,
        size,
        encoded_size,
    })
}

impl Client {
    /// The id `store_file_with(path, _, file_opts)` would give the file, computed by cutting and
    /// encoding it as a store does (see the module docs); nothing is stored or paid.
    pub async fn file_id(
        &self,
        path: &Path,
        file_opts: &FileOptions,
    ) -> Result<FileId, ClientError> {
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
        let mut source = Source {
            file,
            hasher: Sha256::new(),
        };
        let Some(ranges) = chunk_plan(len, chunk_size) else {
            let (_, data) = read_chunk(source, len, path.to_owned(), true).await?;
            let blob_id = self.encode(Arc::new(data)).await?.blob_id;
            return Ok(FileId {
                blob_id,
                size: len,
                chunk_size: None,
                chunks: Vec::new(),
                blob: file_blob(&cfg, blob_id, len)?,
            });
        };
        let bar = self.progress.bar("hashing", len, len, true);
        let count = ranges.len();
        let mut chunks = Vec::with_capacity(count);
        for (i, range) in ranges.iter().enumerate() {
            let size = range.end - range.start;
            let (rest, data) = read_chunk(source, size, path.to_owned(), i + 1 == count).await?;
            source = rest;
            let blob_id = self.encode(Arc::new(data)).await?.blob_id;
            chunks.push(file_blob(&cfg, blob_id, size)?);
            bar.inc(size);
            bar.set_message(format!("{}/{count} chunks", chunks.len()));
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
        let bytes = manifest.to_bytes();
        let manifest_len = bytes.len() as u64;
        let blob_id = self.encode(Arc::new(bytes)).await?.blob_id;
        Ok(FileId {
            blob_id,
            size: len,
            chunk_size: Some(chunk_size),
            chunks,
            blob: file_blob(&cfg, blob_id, manifest_len)?,
        })
    }

    /// What `store_file_with(path, opts, file_opts)` would do and pay, blob by blob, from the
    /// chain's registrations and prices now (see the module docs); nothing is stored or paid.
    pub async fn plan_file(
        &self,
        path: &Path,
        opts: &StoreOptions,
        file_opts: &FileOptions,
    ) -> Result<FilePlan, ClientError> {
        let id = self.file_id(path, file_opts).await?;
        let current = self.chain().current_epoch().await?;
        let me = opts.owner.unwrap_or_else(|| self.address());
        let mut blobs = Vec::new();
        let mut cost = U256::ZERO;
        for blob in id.blobs() {
            let request = registrations::Request {
                blob_id: blob.blob_id,
                me,
                current,
                end_epoch: current.saturating_add(opts.epochs),
                deletable: opts.deletable,
            };
            let (action, paid) = match self.plan_store(&request).await? {
                Plan::AlreadyCertified(_) => (PlannedAction::AlreadyCertified, U256::ZERO),
                Plan::Reuse(_) => (PlannedAction::Reuse, U256::ZERO),
                Plan::Register => {
                    let c = self
                        .chain()
                        .storage_cost(blob.encoded_size, opts.epochs)
                        .await?;
                    (PlannedAction::Register, c.total())
                }
            };
            cost += paid;
            blobs.push(PlannedBlob {
                blob: blob.clone(),
                action,
                cost: paid,
            });
        }
        Ok(FilePlan {
            blob_id: id.blob_id,
            size: id.size,
            chunk_size: id.chunk_size,
            encoded_size: id.encoded_size(),
            epochs: opts.epochs,
            cost,
            blobs,
        })
    }
}
