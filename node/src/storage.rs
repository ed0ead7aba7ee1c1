//! The node's embedded ACID store (redb, one file per node): blob states, metadata, slivers
//! and the chain cursor. Every write is one committed transaction (fsync) before the node
//! answers, so nothing it confirmed is lost across a crash or restart.
//!
//! Tables:
//! - `blobs`: blob id -> [`BlobEntry`] (JSON): what the node knows of the blob on-chain.
//! - `metadata`: blob id -> metadata (floe-core wire format).
//! - `slivers`: blob id ‖ pair (u16 BE) ‖ kind (u8) -> sliver (wire format).
//! - `meta`: `"cursor"` -> next block to read events from.
//!
//! Metadata and sliver writes go through one writer thread that commits every write waiting
//! at that moment in a single transaction (group commit): concurrent uploads share one fsync,
//! and each caller still returns only after its data is committed.

use std::{path::Path, sync::Arc};

use floe_chain::BlobState;
use floe_core::{encoding::SliverKind, ids::BlobId};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

const BLOBS: TableDefinition<'_, &[u8; 32], &[u8]> = TableDefinition::new("blobs");
const METADATA: TableDefinition<'_, &[u8; 32], &[u8]> = TableDefinition::new("metadata");
const SLIVERS: TableDefinition<'_, &[u8; 35], &[u8]> = TableDefinition::new("slivers");
const META: TableDefinition<'_, &str, u64> = TableDefinition::new("meta");

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or created.
    #[error(
        "cannot open the node database {path}: {message}; check the storage_dir and that no other floe-node uses it"
    )]
    Open {
        /// The database file.
        path: String,
        /// What redb said.
        message: String,
    },
    /// A read or write failed.
    #[error("node database error: {0}")]
    Db(String),
    /// A stored record does not decode.
    #[error("corrupt record in the node database: {0}")]
    Corrupt(String),
}

macro_rules! db_err {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Db(e.to_string())
            }
        }
    )*};
}
db_err!(
    redb::Error,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// What the node knows of a blob's registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobEntry {
    /// State on-chain.
    pub state: BlobState,
    /// Unencoded size.
    pub size: u64,
    /// Deletable by its owner.
    pub deletable: bool,
    /// Epoch of registration.
    pub registered_epoch: u32,
    /// First epoch no longer covered.
    pub end_epoch: u32,
    /// The blob's data was garbage-collected (it is not checked again until the chain
    /// reports a new registration or an extension).
    #[serde(default)]
    pub collected: bool,
}

impl BlobEntry {
    /// Registered or certified, and not expired at `epoch`.
    pub fn is_live(&self, epoch: u32) -> bool {
        matches!(self.state, BlobState::Registered | BlobState::Certified) && epoch < self.end_epoch
    }
}

/// The node's database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    db: Arc<Database>,
    writer: Arc<Writer>,
}

/// One write for the group-commit thread.
enum Put {
    Metadata([u8; 32], Vec<u8>),
    Sliver([u8; 35], Vec<u8>),
}

type Reply = std::sync::mpsc::SyncSender<Result<(), StoreError>>;

/// The group-commit thread; dropping the last handle stops and joins it (closing the file).
#[derive(Debug)]
struct Writer {
    tx: Option<std::sync::mpsc::Sender<(Put, Reply)>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Most writes and bytes in one group commit.
const GROUP_MAX_WRITES: usize = 512;
const GROUP_MAX_BYTES: usize = 256 << 20;

fn writer_loop(db: Arc<Database>, rx: std::sync::mpsc::Receiver<(Put, Reply)>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        let mut bytes = 0usize;
        while batch.len() < GROUP_MAX_WRITES && bytes < GROUP_MAX_BYTES {
            match rx.try_recv() {
                Ok(next) => {
                    bytes += match &next.0 {
                        Put::Metadata(_, v) | Put::Sliver(_, v) => v.len(),
                    };
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        let result = commit_batch(&db, &batch);
        for (_, reply) in batch {
            let _ = reply.send(match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(StoreError::Db(e.to_string())),
            });
        }
    }
}

fn commit_batch(db: &Database, batch: &[(Put, Reply)]) -> Result<(), StoreError> {
    let txn = db.begin_write()?;
    {
        let mut meta = txn.open_table(METADATA)?;
        let mut slivers = txn.open_table(SLIVERS)?;
        for (put, _) in batch {
            match put {
                Put::Metadata(k, v) => {
                    meta.insert(k, v.as_slice())?;
                }
                Put::Sliver(k, v) => {
                    slivers.insert(k, v.as_slice())?;
                }
            }
        }
    }
    txn.commit()?;
    Ok(())
}

fn sliver_key(id: &BlobId, pair: u16, kind: SliverKind) -> [u8; 35] {
    let mut k = [0u8; 35];
    k[..32].copy_from_slice(&id.0);
    k[32..34].copy_from_slice(&pair.to_be_bytes());
    k[34] = kind.to_byte();
    k
}

impl Store {
    /// Opens (or creates) the database in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join("floe-node.redb");
        let open_err = |message: String| StoreError::Open {
            path: path.display().to_string(),
            message,
        };
        std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        let db = Database::create(&path).map_err(|e| open_err(e.to_string()))?;
        let txn = db.begin_write().map_err(|e| open_err(e.to_string()))?;
        {
            txn.open_table(BLOBS).map_err(|e| open_err(e.to_string()))?;
            txn.open_table(METADATA)
                .map_err(|e| open_err(e.to_string()))?;
            txn.open_table(SLIVERS)
                .map_err(|e| open_err(e.to_string()))?;
            txn.open_table(META).map_err(|e| open_err(e.to_string()))?;
        }
        txn.commit().map_err(|e| open_err(e.to_string()))?;
        let db = Arc::new(db);
        let (tx, rx) = std::sync::mpsc::channel();
        let thread_db = db.clone();
        let thread = std::thread::Builder::new()
            .name("floe-store-writer".into())
            .spawn(move || writer_loop(thread_db, rx))
            .map_err(|e| open_err(format!("cannot start the writer thread: {e}")))?;
        let writer = Arc::new(Writer {
            tx: Some(tx),
            thread: Some(thread),
        });
        Ok(Store { db, writer })
    }

    /// Hands a write to the group-commit thread and waits until it is committed.
    fn put(&self, put: Put) -> Result<(), StoreError> {
        let (reply, done) = std::sync::mpsc::sync_channel(1);
        let tx = self
            .writer
            .tx
            .as_ref()
            .ok_or_else(|| StoreError::Db("the store is closing".into()))?;
        tx.send((put, reply))
            .map_err(|_| StoreError::Db("the store writer stopped".into()))?;
        done.recv()
            .map_err(|_| StoreError::Db("the store writer stopped".into()))?
    }

    /// The blob's entry.
    pub fn blob(&self, id: &BlobId) -> Result<Option<BlobEntry>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(BLOBS)?;
        match t.get(&id.0)? {
            Some(v) => Ok(Some(decode_entry(v.value())?)),
            None => Ok(None),
        }
    }

    /// Every blob entry.
    pub fn blobs(&self) -> Result<Vec<(BlobId, BlobEntry)>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(BLOBS)?;
        let mut out = Vec::new();
        for item in t.iter()? {
            let (k, v) = item?;
            out.push((BlobId(*k.value()), decode_entry(v.value())?));
        }
        Ok(out)
    }

    /// Writes blob entries and (if given) the event cursor in one transaction.
    pub fn apply(
        &self,
        entries: &[(BlobId, BlobEntry)],
        cursor: Option<u64>,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        {
            let mut t = txn.open_table(BLOBS)?;
            for (id, e) in entries {
                t.insert(&id.0, encode_entry(e)?.as_slice())?;
            }
            if let Some(c) = cursor {
                txn.open_table(META)?.insert("cursor", c)?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Stores one blob entry.
    pub fn put_blob(&self, id: &BlobId, entry: &BlobEntry) -> Result<(), StoreError> {
        self.apply(&[(*id, *entry)], None)
    }

    /// The next block to read events from.
    pub fn cursor(&self) -> Result<Option<u64>, StoreError> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(META)?.get("cursor")?.map(|v| v.value()))
    }

    /// The blob's metadata (wire bytes).
    pub fn metadata(&self, id: &BlobId) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read()?;
        Ok(txn
            .open_table(METADATA)?
            .get(&id.0)?
            .map(|v| v.value().to_vec()))
    }

    /// Stores the blob's metadata (wire bytes).
    pub fn put_metadata(&self, id: &BlobId, wire: &[u8]) -> Result<(), StoreError> {
        self.put(Put::Metadata(id.0, wire.to_vec()))
    }

    /// A sliver (wire bytes).
    pub fn sliver(
        &self,
        id: &BlobId,
        pair: u16,
        kind: SliverKind,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read()?;
        Ok(txn
            .open_table(SLIVERS)?
            .get(&sliver_key(id, pair, kind))?
            .map(|v| v.value().to_vec()))
    }

    /// True if the blob's metadata is stored (without copying it out).
    pub fn has_metadata(&self, id: &BlobId) -> Result<bool, StoreError> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(METADATA)?.get(&id.0)?.is_some())
    }

    /// True if the sliver is stored.
    #[cfg(test)]
    pub fn has_sliver(&self, id: &BlobId, pair: u16, kind: SliverKind) -> Result<bool, StoreError> {
        let txn = self.db.begin_read()?;
        Ok(txn
            .open_table(SLIVERS)?
            .get(&sliver_key(id, pair, kind))?
            .is_some())
    }

    /// Stores a sliver (wire bytes).
    pub fn put_sliver(
        &self,
        id: &BlobId,
        pair: u16,
        kind: SliverKind,
        wire: &[u8],
    ) -> Result<(), StoreError> {
        self.put(Put::Sliver(sliver_key(id, pair, kind), wire.to_vec()))
    }

    /// The slivers held for a blob, as (pair, kind), ascending.
    pub fn held_slivers(&self, id: &BlobId) -> Result<Vec<(u16, SliverKind)>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(SLIVERS)?;
        let (lo, hi) = sliver_range(id);
        let mut out = Vec::new();
        for item in t.range::<&[u8; 35]>(&lo..=&hi)? {
            let (k, _) = item?;
            let k = k.value();
            let pair = u16::from_be_bytes([k[32], k[33]]);
            if let Some(kind) = SliverKind::from_byte(k[34]) {
                out.push((pair, kind));
            }
        }
        Ok(out)
    }

    /// Deletes a blob's metadata and slivers and marks its entry collected, in one write
    /// transaction; returns the number of slivers deleted. A blob already collected (or with
    /// no entry and no data) costs no write.
    pub fn remove_data(&self, id: &BlobId) -> Result<usize, StoreError> {
        let (lo, hi) = sliver_range(id);
        {
            let txn = self.db.begin_read()?;
            let collected = match txn.open_table(BLOBS)?.get(&id.0)? {
                Some(v) => decode_entry(v.value())?.collected,
                None => true,
            };
            let has_data = txn.open_table(METADATA)?.get(&id.0)?.is_some()
                || txn
                    .open_table(SLIVERS)?
                    .range::<&[u8; 35]>(&lo..=&hi)?
                    .next()
                    .is_some();
            if collected && !has_data {
                return Ok(0);
            }
        }
        let txn = self.db.begin_write()?;
        let mut removed = 0;
        {
            txn.open_table(METADATA)?.remove(&id.0)?;
            txn.open_table(SLIVERS)?
                .retain_in::<&[u8; 35], _>(&lo..=&hi, |_, _| {
                    removed += 1;
                    false
                })?;
            let mut blobs = txn.open_table(BLOBS)?;
            let entry = match blobs.get(&id.0)? {
                Some(v) => Some(decode_entry(v.value())?),
                None => None,
            };
            if let Some(mut entry) = entry {
                entry.collected = true;
                blobs.insert(&id.0, encode_entry(&entry)?.as_slice())?;
            }
        }
        txn.commit()?;
        Ok(removed)
    }
}

fn sliver_range(id: &BlobId) -> ([u8; 35], [u8; 35]) {
    (
        sliver_key(id, 0, SliverKind::Primary),
        sliver_key(id, u16::MAX, SliverKind::Secondary),
    )
}

fn decode_entry(bytes: &[u8]) -> Result<BlobEntry, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn encode_entry(entry: &BlobEntry) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(entry).map_err(|e| StoreError::Corrupt(e.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn entry(state: BlobState) -> BlobEntry {
        BlobEntry {
            state,
            size: 10,
            deletable: true,
            registered_epoch: 1,
            end_epoch: 5,
            collected: false,
        }
    }

    #[test]
    fn data_survives_reopening() {
        let dir = std::env::temp_dir().join(format!("floe-node-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let id = BlobId([7; 32]);
        {
            let s = Store::open(&dir).unwrap();
            s.apply(&[(id, entry(BlobState::Registered))], Some(42))
                .unwrap();
            s.put_metadata(&id, b"meta").unwrap();
            s.put_sliver(&id, 3, SliverKind::Primary, b"p3").unwrap();
            s.put_sliver(&id, 3, SliverKind::Secondary, b"s3").unwrap();
            s.put_sliver(&id, 9, SliverKind::Secondary, b"s9").unwrap();
            s.put_sliver(&BlobId([8; 32]), 0, SliverKind::Primary, b"other")
                .unwrap();
        }
        let s = Store::open(&dir).unwrap();
        assert_eq!(s.cursor().unwrap(), Some(42));
        assert_eq!(s.blob(&id).unwrap(), Some(entry(BlobState::Registered)));
        assert_eq!(s.metadata(&id).unwrap().as_deref(), Some(&b"meta"[..]));
        assert_eq!(
            s.sliver(&id, 3, SliverKind::Secondary).unwrap().as_deref(),
            Some(&b"s3"[..])
        );
        assert_eq!(
            s.held_slivers(&id).unwrap(),
            vec![
                (3, SliverKind::Primary),
                (3, SliverKind::Secondary),
                (9, SliverKind::Secondary)
            ]
        );
        assert_eq!(s.remove_data(&id).unwrap(), 3);
        assert!(s.held_slivers(&id).unwrap().is_empty());
        assert_eq!(s.metadata(&id).unwrap(), None);
        assert!(!s.has_metadata(&id).unwrap());
        assert!(s.blob(&id).unwrap().unwrap().collected);
        assert!(
            s.has_sliver(&BlobId([8; 32]), 0, SliverKind::Primary)
                .unwrap()
        );
        assert_eq!(s.blobs().unwrap().len(), 1);
        drop(s);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn remove_data_marks_collected_and_then_writes_nothing() {
        let dir = std::env::temp_dir().join(format!("floe-node-gc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let s = Store::open(&dir).unwrap();
        let id = BlobId([5; 32]);
        let neighbour = BlobId([6; 32]);
        s.put_blob(&id, &entry(BlobState::Deleted)).unwrap();
        s.put_metadata(&id, b"meta").unwrap();
        assert!(s.has_metadata(&id).unwrap());
        for pair in [0, 7, u16::MAX] {
            s.put_sliver(&id, pair, SliverKind::Secondary, b"x")
                .unwrap();
        }
        s.put_sliver(&neighbour, 0, SliverKind::Primary, b"n")
            .unwrap();

        assert_eq!(s.remove_data(&id).unwrap(), 3);
        assert!(s.blob(&id).unwrap().unwrap().collected);
        assert!(s.held_slivers(&id).unwrap().is_empty());
        assert_eq!(s.held_slivers(&neighbour).unwrap().len(), 1);
        // Nothing left: no write (the entry is unchanged), nothing removed.
        assert_eq!(s.remove_data(&id).unwrap(), 0);
        // Data stored again (e.g. recovery after a re-registration) is removed again.
        s.put_sliver(&id, 2, SliverKind::Primary, b"y").unwrap();
        assert_eq!(s.remove_data(&id).unwrap(), 1);
        // A fresh entry (the follower saw a new registration) is no longer collected.
        s.put_blob(&id, &entry(BlobState::Registered)).unwrap();
        assert!(!s.blob(&id).unwrap().unwrap().collected);
        drop(s);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn concurrent_writes_are_all_committed() {
        let dir = std::env::temp_dir().join(format!("floe-node-group-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let id = BlobId([9; 32]);
        {
            let s = Store::open(&dir).unwrap();
            let threads: Vec<_> = (0..8u16)
                .map(|t| {
                    let s = s.clone();
                    std::thread::spawn(move || {
                        for i in 0..25u16 {
                            let pair = t * 25 + i;
                            s.put_sliver(&id, pair, SliverKind::Primary, &pair.to_be_bytes())
                                .unwrap();
                        }
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap();
            }
        }
        // Dropping the last handle closed the file: it reopens at once with everything in it.
        let s = Store::open(&dir).unwrap();
        let held = s.held_slivers(&id).unwrap();
        assert_eq!(held.len(), 200);
        assert_eq!(
            s.sliver(&id, 137, SliverKind::Primary).unwrap(),
            Some(137u16.to_be_bytes().to_vec())
        );
        drop(s);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
