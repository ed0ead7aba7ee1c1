//! A file's on-chain status: [`Client::file_status`] (`floe status ID`).
//!
//! For a blob, the blob's status ([`Client::status`]). For a large file's manifest, also the
//! file: its length, chunk size and every chunk's state and certified end epoch, and the file's
//! own state and guaranteed end over all of them: a file is certified only while the manifest
//! and every chunk are, and readable only until the first of them stops being certified.
//! Whether the blob is a manifest is read from the nodes ([`Client::manifest_of`]), only for a
//! certified blob (the manifest's bytes, never the chunks'); the chunks' states come from the
//! chain, [`CHUNK_READS`] at once.

use floe_core::ids::BlobId;
use futures::{StreamExt, TryStreamExt, stream};
use serde::Serialize;

use crate::{
    client::{BlobStatus, Client, overall_state, serialize_display},
    error::ClientError,
};

/// Chain reads of chunk states in flight at once.
pub const CHUNK_READS: usize = 16;

/// One chunk of [`FileSummary`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChunkStatus {
    /// The chunk's blob id.
    #[serde(serialize_with = "serialize_display")]
    pub blob_id: BlobId,
    /// Its state over all its registrations (as [`BlobStatus::state`]).
    pub state: String,
    /// The first epoch no certified registration of it covers.
    pub certified_end_epoch: u32,
}

/// The file a manifest describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileSummary {
    /// Bytes in the file.
    pub size: u64,
    /// Bytes per chunk (the last may be shorter).
    pub chunk_size: u64,
    /// "certified" when the manifest and every chunk are, else the state of the first blob that
    /// is not ("registered", "expired", "deleted", "invalid" or "unknown").
    pub state: String,
    /// The first epoch the whole file is no longer guaranteed readable: the smallest certified
    /// end epoch of the manifest and its chunks.
    pub certified_end_epoch: u32,
    /// The chunks, in file order.
    pub chunks: Vec<ChunkStatus>,
}

/// The result of [`Client::file_status`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileStatus {
    /// The blob's own status (the manifest's, for a large file).
    #[serde(flatten)]
    pub blob: BlobStatus,
    /// The file, if the blob is a certified manifest.
    pub file: Option<FileSummary>,
}

impl Client {
    /// The status of blob `blob_id` and, if it is a large file's manifest, of the file (see the
    /// module docs).
    pub async fn file_status(&self, blob_id: &BlobId) -> Result<FileStatus, ClientError> {
        let blob = self.status(blob_id).await?;
        if blob.state != "certified" {
            return Ok(FileStatus { blob, file: None });
        }
        let Some(manifest) = self.manifest_of(blob_id).await? else {
            return Ok(FileStatus { blob, file: None });
        };
        let current = blob.current_epoch;
        let chain = self.chain();
        let chunks: Vec<ChunkStatus> = stream::iter(manifest.chunks().iter().copied())
            .map(|id| async move {
                let s = chain.blob_status(&id).await?;
                Ok::<_, ClientError>(ChunkStatus {
                    blob_id: id,
                    state: overall_state(&s, current).to_owned(),
                    certified_end_epoch: s.certified_end_epoch,
                })
            })
            .buffered(CHUNK_READS)
            .try_collect()
            .await?;
        let state = chunks
            .iter()
            .map(|c| c.state.as_str())
            .find(|s| *s != "certified")
            .unwrap_or("certified")
            .to_owned();
        let certified_end_epoch = chunks
            .iter()
            .map(|c| c.certified_end_epoch)
            .chain(std::iter::once(blob.certified_end_epoch))
            .min()
            .unwrap_or(0);
        Ok(FileStatus {
            blob,
            file: Some(FileSummary {
                size: manifest.total_len(),
                chunk_size: manifest.chunk_size(),
                state,
                certified_end_epoch,
                chunks,
            }),
        })
    }
}
