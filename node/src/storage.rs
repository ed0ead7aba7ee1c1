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

use floe_chain::{BlobStatusRecord, FloeEvent, RegistrationRecord, RegistrationState};
use floe_core::{encoding::SliverKind, ids::BlobId};
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};

// `blobs2`: entries of the registration model (the single-registration `blobs` table of
// older databases is ignored).
const BLOBS: TableDefinition<'_, &[u8; 32], &[u8]> = TableDefinition::new("blobs2");
const METADATA: TableDefinition<'_, &[u8; 32], &[u8]> = TableDefinition::new("metadata");
const SLIVERS: TableDefinition<'_, &[u8; 35], &[u8]> = TableDefinition::new("slivers");
const META: TableDefinition<'_, &str, u64> = TableDefinition::new("meta");
// `followed`: last block of each applied follower batch -> its hash ‖ first block (u64 BE) ‖
// the blob ids the batch touched; the most recent [`FOLLOWED_WINDOW`] batches.
const FOLLOWED: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("followed");

/// Follower batches remembered for reorg detection (each names its last block's hash).
pub const FOLLOWED_WINDOW: usize = 256;

/// One applied follower batch, as remembered for undoing it after a reorg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowedBatch {
    /// Its first block.
    pub from: u64,
    /// Its last block.
    pub to: u64,
    /// The hash of its last block when it was applied.
    pub hash: [u8; 32],
    /// The blobs its events touched.
    pub touched: Vec<BlobId>,
}

impl FollowedBatch {
    fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(40 + 32 * self.touched.len());
        v.extend_from_slice(&self.hash);
        v.extend_from_slice(&self.from.to_be_bytes());
        for id in &self.touched {
            v.extend_from_slice(&id.0);
        }
        v
    }

    fn decode(to: u64, v: &[u8]) -> Result<Self, StoreError> {
        if v.len() < 40 || !(v.len() - 40).is_multiple_of(32) {
            return Err(StoreError::Corrupt(format!("followed batch at block {to}")));
        }
        let mut hash = [0; 32];
        hash.copy_from_slice(&v[..32]);
        let mut from = [0; 8];
        from.copy_from_slice(&v[32..40]);
        let touched = v[40..]
            .chunks_exact(32)
            .map(|c| {
                let mut id = [0; 32];
                id.copy_from_slice(c);
                BlobId(id)
            })
            .collect();
        Ok(FollowedBatch {
            from: u64::from_be_bytes(from),
            to,
            hash,
            touched,
        })
    }
}

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
    /// The blob no longer accepts writes (collected, deleted, invalid or unknown): checked
    /// in the write transaction.
    #[error("the blob is {0}; the write was not stored")]
    NotAccepting(&'static str),
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

/// Most registrations of one blob id an entry keeps individually (the rest are summed up in
/// the chain's aggregates and looked up on-chain when named).
pub const MAX_KNOWN_REGISTRATIONS: usize = 16;

/// A registration of a blob the node keeps individually: what it signs for and certifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownRegistration {
    /// The registration's id.
    pub id: u64,
    /// Its deletable flag (signed into confirmations).
    pub deletable: bool,
    /// Certified on-chain.
    pub certified: bool,
    /// First epoch it no longer covers.
    pub end_epoch: u32,
}

/// What the node knows of a blob id: the chain's aggregates over all its registrations
/// (`blobStatus`, which decide liveness) and a bounded set of its registrations not deleted
/// (from events and lookups; pending ones are what the certify service works on).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobEntry {
    /// Unencoded size.
    pub size: u64,
    /// The blob id is invalid (final).
    pub invalid: bool,
    /// Registrations not deleted (expired ones included), as the chain last said.
    pub registrations: u32,
    /// Max end epoch over registrations not deleted.
    pub end_epoch: u32,
    /// Max end epoch over certified registrations not deleted.
    pub certified_end_epoch: u32,
    /// Registrations not deleted the node keeps individually, by id, at most
    /// [`MAX_KNOWN_REGISTRATIONS`].
    pub known: Vec<KnownRegistration>,
    /// The blob's data was garbage-collected (it is not checked again until the chain
    /// reports it live again, i.e. a new registration).
    #[serde(default)]
    pub collected: bool,
    /// Bumped by every write from the event follower: a handler that read the chain writes
    /// its answer only if the entry did not change meanwhile (so a delayed older answer never
    /// replaces a newer one).
    #[serde(default)]
    pub rev: u64,
}

impl BlobEntry {
    /// The entry for a blob status read from the chain (no registrations known individually).
    pub fn from_status(s: &BlobStatusRecord) -> Self {
        let mut e = BlobEntry::default();
        e.set_status(s, 0);
        e.collected = false;
        e
    }

    /// Some registration lives at `epoch` (see [`crate::liveness`]).
    pub fn is_live(&self, epoch: u32) -> bool {
        crate::liveness::Liveness::of(self).is_live(epoch)
    }

    /// Takes the chain's aggregates; an entry the chain says is live at `epoch` is no longer
    /// collected (its data will be uploaded or recovered again).
    pub fn set_status(&mut self, s: &BlobStatusRecord, epoch: u32) {
        if s.is_known() {
            self.size = s.size;
        }
        self.invalid = s.invalid;
        self.registrations = s.registrations;
        self.end_epoch = s.end_epoch;
        self.certified_end_epoch = s.certified_end_epoch;
        if s.invalid || s.registrations == 0 {
            self.known.clear();
        }
        if s.is_live(epoch) {
            self.collected = false;
        }
    }

    /// The registration `id`, if kept individually.
    pub fn known(&self, id: u64) -> Option<&KnownRegistration> {
        self.known.iter().find(|r| r.id == id)
    }

    /// Registrations kept individually that are uncertified and unexpired at `epoch`.
    pub fn pending(&self, epoch: u32) -> impl Iterator<Item = &KnownRegistration> {
        let invalid = self.invalid;
        self.known
            .iter()
            .filter(move |r| !invalid && !r.certified && epoch < r.end_epoch)
    }

    /// Forgets registrations expired at `epoch`.
    pub fn prune(&mut self, epoch: u32) {
        self.known.retain(|r| epoch < r.end_epoch);
    }

    /// Adds or updates a registration (never un-certifies it, never shortens it), keeping at
    /// most [`MAX_KNOWN_REGISTRATIONS`]: over the cap the certified one ending first is
    /// dropped, or, if all are pending, the newest (it can still be named and looked up).
    pub fn upsert(&mut self, r: KnownRegistration) {
        if self.invalid {
            return;
        }
        match self.known.iter_mut().find(|k| k.id == r.id) {
            Some(k) => {
                k.certified |= r.certified;
                k.end_epoch = k.end_epoch.max(r.end_epoch);
                k.deletable = r.deletable;
            }
            None => {
                self.known.push(r);
                self.known.sort_by_key(|k| k.id);
            }
        }
        if self.known.len() > MAX_KNOWN_REGISTRATIONS {
            let drop = self
                .known
                .iter()
                .enumerate()
                .filter(|(_, k)| k.certified)
                .min_by_key(|(_, k)| k.end_epoch)
                .map_or(self.known.len() - 1, |(i, _)| i);
            self.known.remove(drop);
        }
    }

    /// Applies a registry event about this blob (others are ignored).
    pub fn apply_event(&mut self, event: &FloeEvent) {
        match event {
            FloeEvent::BlobRegistered {
                registration_id,
                size,
                deletable,
                end_epoch,
                ..
            } => {
                self.size = *size;
                self.upsert(KnownRegistration {
                    id: *registration_id,
                    deletable: *deletable,
                    certified: false,
                    end_epoch: *end_epoch,
                });
            }
            FloeEvent::BlobCertified {
                registration_id,
                end_epoch,
                deletable,
                ..
            } => self.upsert(KnownRegistration {
                id: *registration_id,
                deletable: *deletable,
                certified: true,
                end_epoch: *end_epoch,
            }),
            FloeEvent::BlobExtended {
                registration_id,
                end_epoch,
                ..
            } => {
                if let Some(k) = self.known.iter_mut().find(|k| k.id == *registration_id) {
                    k.end_epoch = k.end_epoch.max(*end_epoch);
                }
            }
            FloeEvent::BlobDeleted {
                registration_id, ..
            } => self.known.retain(|k| k.id != *registration_id),
            FloeEvent::BlobInvalidated { .. } => {
                self.invalid = true;
                self.known.clear();
            }
            _ => {}
        }
    }

    /// Takes what the chain says of one of this blob's registrations (a lookup): a live one is
    /// kept, a deleted or vanished one forgotten.
    pub fn merge_registration(&mut self, r: &RegistrationRecord, epoch: u32) {
        if r.invalid {
            self.invalid = true;
            self.known.clear();
        } else if r.is_live(epoch) {
            self.upsert(KnownRegistration {
                id: r.registration_id,
                deletable: r.deletable,
                certified: r.state == RegistrationState::Certified,
                end_epoch: r.end_epoch,
            });
        } else if matches!(
            r.state,
            RegistrationState::Deleted | RegistrationState::None
        ) {
            let id = r.registration_id;
            self.known.retain(|k| k.id != id);
        }
    }
}

/// A read-modify-write of one blob entry inside a store transaction: gets the stored entry
/// (if any), returns the entry to store (`None`: leave it as it is).
pub type Modify = Box<dyn FnOnce(Option<&BlobEntry>) -> Option<BlobEntry> + Send>;

/// The node's database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    db: Arc<Database>,
    writer: Arc<Writer>,
    /// Blob entries read through [`Store::blob`] and [`Store::blobs`] since opening.
    entries_read: Arc<std::sync::atomic::AtomicU64>,
}

/// One write for the group-commit thread.
#[derive(Debug)]
pub enum Put {
    /// A blob's metadata.
    Metadata([u8; 32], Vec<u8>),
    /// A sliver.
    Sliver([u8; 35], Vec<u8>),
}

impl Put {
    /// The metadata of `id`.
    pub fn metadata(id: &BlobId, wire: Vec<u8>) -> Self {
        Put::Metadata(id.0, wire)
    }

    /// A sliver of `id`.
    pub fn sliver(id: &BlobId, pair: u16, kind: SliverKind, wire: Vec<u8>) -> Self {
        Put::Sliver(sliver_key(id, pair, kind), wire)
    }

    fn blob(&self) -> [u8; 32] {
        let mut id = [0; 32];
        match self {
            Put::Metadata(k, _) => id = *k,
            Put::Sliver(k, _) => id.copy_from_slice(&k[..32]),
        }
        id
    }

    fn len(&self) -> usize {
        match self {
            Put::Metadata(_, v) | Put::Sliver(_, v) => v.len(),
        }
    }
}

/// A write and whether it must find its blob accepting writes.
type Job = (Put, bool, Reply);

type Reply = std::sync::mpsc::SyncSender<Result<(), StoreError>>;

/// The group-commit thread; dropping the last handle stops and joins it (closing the file).
#[derive(Debug)]
struct Writer {
    tx: Option<std::sync::mpsc::Sender<Job>>,
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

fn writer_loop(db: Arc<Database>, rx: std::sync::mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut bytes = first.0.len();
        let mut batch = vec![first];
        while batch.len() < GROUP_MAX_WRITES && bytes < GROUP_MAX_BYTES {
            match rx.try_recv() {
                Ok(next) => {
                    bytes += next.0.len();
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        match commit_batch(&db, &batch) {
            Ok(results) => {
                for ((_, _, reply), r) in batch.into_iter().zip(results) {
                    let _ = reply.send(r);
                }
            }
            Err(e) => {
                for (_, _, reply) in batch {
                    let _ = reply.send(Err(StoreError::Db(e.to_string())));
                }
            }
        }
    }
}

/// Commits the batch in one transaction; checked writes whose blob does not accept writes
/// (no entry, collected, deleted or invalid) are skipped with [`StoreError::NotAccepting`].
fn commit_batch(db: &Database, batch: &[Job]) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    let txn = db.begin_write()?;
    let mut results = Vec::with_capacity(batch.len());
    {
        let blobs = txn.open_table(BLOBS)?;
        let mut meta = txn.open_table(METADATA)?;
        let mut slivers = txn.open_table(SLIVERS)?;
        for (put, checked, _) in batch {
            if *checked {
                let entry = read_entry(&blobs, &put.blob())?;
                let refused = match entry {
                    None => Some("not registered"),
                    Some(e) if e.collected => Some("garbage-collected"),
                    Some(e) if e.invalid => Some("invalid"),
                    Some(e) if !crate::liveness::Liveness::of(&e).accepts_writes() => {
                        Some("deleted")
                    }
                    Some(_) => None,
                };
                if let Some(reason) = refused {
                    results.push(Err(StoreError::NotAccepting(reason)));
                    continue;
                }
            }
            match put {
                Put::Metadata(k, v) => {
                    meta.insert(k, v.as_slice())?;
                }
                Put::Sliver(k, v) => {
                    slivers.insert(k, v.as_slice())?;
                }
            }
            results.push(Ok(()));
        }
    }
    txn.commit()?;
    Ok(results)
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
        let db = redb::Builder::new()
            .set_cache_size(crate::memory::REDB_CACHE_BYTES as usize)
            .create(&path)
            .map_err(|e| open_err(e.to_string()))?;
        let txn = db.begin_write().map_err(|e| open_err(e.to_string()))?;
        {
            txn.open_table(BLOBS).map_err(|e| open_err(e.to_string()))?;
            txn.open_table(METADATA)
                .map_err(|e| open_err(e.to_string()))?;
            txn.open_table(SLIVERS)
                .map_err(|e| open_err(e.to_string()))?;
            txn.open_table(META).map_err(|e| open_err(e.to_string()))?;
            txn.open_table(FOLLOWED)
                .map_err(|e| open_err(e.to_string()))?;
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
        Ok(Store {
            db,
            writer,
            entries_read: Arc::default(),
        })
    }

    /// Hands a write to the group-commit thread and waits until it is committed.
    fn put(&self, put: Put) -> Result<(), StoreError> {
        self.submit(put, false)
    }

    /// Stores `put` only if its blob has an entry that accepts writes (not collected, deleted
    /// or invalid), checked in the committing transaction: garbage collection, which marks the
    /// entry collected in the transaction that deletes the data, either runs after this write
    /// (and deletes it) or before (and this write is refused). Nothing is left orphaned.
    pub fn put_checked(&self, put: Put) -> Result<(), StoreError> {
        self.submit(put, true)
    }

    fn submit(&self, put: Put, checked: bool) -> Result<(), StoreError> {
        let (reply, done) = std::sync::mpsc::sync_channel(1);
        let tx = self
            .writer
            .tx
            .as_ref()
            .ok_or_else(|| StoreError::Db("the store is closing".into()))?;
        tx.send((put, checked, reply))
            .map_err(|_| StoreError::Db("the store writer stopped".into()))?;
        done.recv()
            .map_err(|_| StoreError::Db("the store writer stopped".into()))?
    }

    /// The blob's entry.
    pub fn blob(&self, id: &BlobId) -> Result<Option<BlobEntry>, StoreError> {
        let txn = self.db.begin_read()?;
        let entry = read_entry(&txn.open_table(BLOBS)?, &id.0)?;
        if entry.is_some() {
            self.count_entries_read(1);
        }
        Ok(entry)
    }

    /// Blob entries read through [`Store::blob`] and [`Store::blobs`] since the store was
    /// opened (shows which background work scans entries).
    pub fn entries_read(&self) -> u64 {
        self.entries_read.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn count_entries_read(&self, n: u64) {
        self.entries_read
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
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
        self.count_entries_read(out.len() as u64);
        Ok(out)
    }

    /// Read-modify-writes blob entries and writes the event cursor (if given), in one
    /// transaction.
    pub fn apply(
        &self,
        updates: Vec<(BlobId, Modify)>,
        cursor: Option<u64>,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        {
            modify_entries(&txn, updates)?;
            if let Some(c) = cursor {
                txn.open_table(META)?.insert("cursor", c)?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Applies a follower batch: its blob updates, the cursor (`batch.to + 1`) and the batch
    /// itself (for reorg detection), dropping batches older than [`FOLLOWED_WINDOW`], in one
    /// transaction.
    pub fn apply_batch(
        &self,
        updates: Vec<(BlobId, Modify)>,
        batch: &FollowedBatch,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        {
            modify_entries(&txn, updates)?;
            txn.open_table(META)?.insert("cursor", batch.to + 1)?;
            let mut f = txn.open_table(FOLLOWED)?;
            f.insert(batch.to, batch.encode().as_slice())?;
            let len = f.len()? as usize;
            if len > FOLLOWED_WINDOW {
                let cut = f
                    .iter()?
                    .nth(len - FOLLOWED_WINDOW)
                    .transpose()?
                    .map(|(k, _)| k.value());
                if let Some(cut) = cut {
                    f.retain_in(..cut, |_, _| false)?;
                }
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// The remembered follower batches, newest first.
    pub fn followed(&self) -> Result<Vec<FollowedBatch>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(FOLLOWED)?;
        let mut out = Vec::new();
        for item in t.iter()?.rev() {
            let (k, v) = item?;
            out.push(FollowedBatch::decode(k.value(), v.value())?);
        }
        Ok(out)
    }

    /// Forgets the batches after block `fork` and moves the cursor back to `cursor`, in one
    /// transaction (undoing a reorg; the caller re-derives the touched blobs).
    pub fn rewind(&self, fork: u64, cursor: u64) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        {
            txn.open_table(FOLLOWED)?
                .retain_in((fork + 1).., |_, _| false)?;
            txn.open_table(META)?.insert("cursor", cursor)?;
        }
        txn.commit()?;
        Ok(())
    }

    /// Deletes a blob's entry, metadata and slivers in one transaction (its registration
    /// vanished in a reorg: the node knows nothing of it any more).
    pub fn forget_blob(&self, id: &BlobId) -> Result<usize, StoreError> {
        let txn = self.db.begin_write()?;
        let removed = remove_blob_data(&txn, id)?;
        txn.open_table(BLOBS)?.remove(&id.0)?;
        txn.commit()?;
        Ok(removed)
    }

    /// Read-modify-writes one blob entry; returns the entry stored afterwards.
    pub fn modify_blob(
        &self,
        id: &BlobId,
        modify: Modify,
    ) -> Result<Option<BlobEntry>, StoreError> {
        self.apply(vec![(*id, modify)], None)?;
        self.blob(id)
    }

    /// Writes an entry built from a chain answer read when the stored entry was `seen` (its
    /// `rev`, `None` if there was none), only if it is still so; returns the entry stored
    /// afterwards (the newer one if the follower wrote meanwhile).
    pub fn put_blob_if_unchanged(
        &self,
        id: &BlobId,
        seen: Option<u64>,
        entry: BlobEntry,
    ) -> Result<Option<BlobEntry>, StoreError> {
        self.modify_blob(
            id,
            Box::new(move |old| (old.map(|o| o.rev) == seen).then_some(entry)),
        )
    }

    /// Replaces one blob entry unconditionally (tests, and undoing a reorg).
    pub fn put_blob(&self, id: &BlobId, entry: &BlobEntry) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        txn.open_table(BLOBS)?
            .insert(&id.0, encode_entry(entry)?.as_slice())?;
        txn.commit()?;
        Ok(())
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
            let collected = read_entry(&txn.open_table(BLOBS)?, &id.0)?.is_none_or(|e| e.collected);
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
        let removed = remove_blob_data(&txn, id)?;
        {
            let mut blobs = txn.open_table(BLOBS)?;
            let entry = read_entry(&blobs, &id.0)?;
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

/// Removes blob `id`'s metadata and slivers in `txn`; returns how many slivers there were.
fn remove_blob_data(txn: &redb::WriteTransaction, id: &BlobId) -> Result<usize, StoreError> {
    let (lo, hi) = sliver_range(id);
    txn.open_table(METADATA)?.remove(&id.0)?;
    let mut removed = 0;
    txn.open_table(SLIVERS)?
        .retain_in::<&[u8; 35], _>(&lo..=&hi, |_, _| {
            removed += 1;
            false
        })?;
    Ok(removed)
}

/// The entry of blob `id` in a table of [`BLOBS`].
fn read_entry(
    t: &impl ReadableTable<&'static [u8; 32], &'static [u8]>,
    id: &[u8; 32],
) -> Result<Option<BlobEntry>, StoreError> {
    t.get(id)?.map(|v| decode_entry(v.value())).transpose()
}

/// Read-modify-writes `updates` in `txn`'s [`BLOBS`] table, writing only entries that change.
fn modify_entries(
    txn: &redb::WriteTransaction,
    updates: Vec<(BlobId, Modify)>,
) -> Result<(), StoreError> {
    let mut t = txn.open_table(BLOBS)?;
    for (id, modify) in updates {
        let old = read_entry(&t, &id.0)?;
        if let Some(new) = modify(old.as_ref())
            && Some(&new) != old.as_ref()
        {
            t.insert(&id.0, encode_entry(&new)?.as_slice())?;
        }
    }
    Ok(())
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

    fn entry(registrations: u32) -> BlobEntry {
        BlobEntry {
            size: 10,
            registrations,
            end_epoch: 5,
            ..BlobEntry::default()
        }
    }

    #[test]
    fn data_survives_reopening() {
        let dir = std::env::temp_dir().join(format!("floe-node-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let id = BlobId([7; 32]);
        {
            let s = Store::open(&dir).unwrap();
            s.apply(vec![(id, Box::new(|_| Some(entry(1))))], Some(42))
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
        assert_eq!(s.blob(&id).unwrap(), Some(entry(1)));
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
        s.put_blob(&id, &entry(0)).unwrap();
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
        s.put_blob(&id, &entry(1)).unwrap();
        assert!(!s.blob(&id).unwrap().unwrap().collected);
        drop(s);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn registered(id: u64, end_epoch: u32) -> FloeEvent {
        FloeEvent::BlobRegistered {
            registration_id: id,
            blob_id: BlobId([1; 32]),
            owner: floe_chain::alloy::primitives::Address::ZERO,
            size: 10,
            encoding_type: 1,
            deletable: id.is_multiple_of(2),
            epoch: 1,
            end_epoch,
            storage_id: floe_chain::alloy::primitives::U256::from(id),
            root: [0; 32],
        }
    }

    #[test]
    fn registration_events_keep_a_bounded_set_and_pending_ones() {
        let mut e = BlobEntry::default();
        e.apply_event(&registered(1, 5));
        e.apply_event(&registered(2, 9));
        e.apply_event(&FloeEvent::BlobCertified {
            registration_id: 1,
            blob_id: BlobId([1; 32]),
            epoch: 2,
            end_epoch: 5,
            deletable: false,
        });
        let pending: Vec<u64> = e.pending(2).map(|r| r.id).collect();
        assert_eq!(pending, vec![2]);
        e.apply_event(&FloeEvent::BlobExtended {
            registration_id: 2,
            blob_id: BlobId([1; 32]),
            end_epoch: 12,
        });
        assert_eq!(e.known(2).unwrap().end_epoch, 12);
        assert!(e.known(2).unwrap().deletable);
        e.apply_event(&FloeEvent::BlobDeleted {
            registration_id: 2,
            blob_id: BlobId([1; 32]),
            epoch: 3,
        });
        assert_eq!(e.known(2), None);
        assert!(e.known(1).unwrap().certified);
        // Pending registrations beyond the cap: the set stays bounded, a certified one goes
        // first, then the newest pending ones are not kept.
        for id in 10..(10 + 2 * MAX_KNOWN_REGISTRATIONS as u64) {
            e.apply_event(&registered(id, 20));
        }
        assert_eq!(e.known.len(), MAX_KNOWN_REGISTRATIONS);
        assert_eq!(e.known(1), None);
        assert_eq!(e.known[0].id, 10);
        assert_eq!(
            e.known.last().unwrap().id,
            10 + MAX_KNOWN_REGISTRATIONS as u64 - 1
        );
        // Expired ones are pruned; invalidity forgets them all.
        e.prune(20);
        assert!(e.known.is_empty());
        e.apply_event(&registered(99, 30));
        e.apply_event(&FloeEvent::BlobInvalidated {
            blob_id: BlobId([1; 32]),
            epoch: 4,
        });
        assert!(e.invalid && e.known.is_empty());
        e.apply_event(&registered(100, 30));
        assert!(e.known.is_empty());
    }

    #[test]
    fn a_handler_write_loses_to_a_follower_write_in_between() {
        let dir = std::env::temp_dir().join(format!("floe-node-cas-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let s = Store::open(&dir).unwrap();
        let id = BlobId([4; 32]);
        // A handler saw no entry and asks the chain; an answer for an absent entry lands.
        let first = s.put_blob_if_unchanged(&id, None, entry(1)).unwrap();
        assert_eq!(first, Some(entry(1)));
        // The follower writes (rev 1): the registration was deleted.
        s.apply(
            vec![(
                id,
                Box::new(|old| {
                    let mut e = old.cloned().unwrap_or_default();
                    e.registrations = 0;
                    e.rev += 1;
                    Some(e)
                }),
            )],
            None,
        )
        .unwrap();
        // A delayed handler answer read at rev 0 (live) does not bring it back.
        let kept = s
            .put_blob_if_unchanged(&id, Some(0), entry(1))
            .unwrap()
            .unwrap();
        assert_eq!((kept.registrations, kept.rev), (0, 1));
        // One read at rev 1 is written.
        let mut fresh = entry(2);
        fresh.rev = 1;
        assert_eq!(
            s.put_blob_if_unchanged(&id, Some(1), fresh.clone())
                .unwrap(),
            Some(fresh)
        );
        drop(s);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn followed_batches_are_a_bounded_window_and_rewind_drops_the_undone_ones() {
        let dir = std::env::temp_dir().join(format!("floe-node-followed-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let s = Store::open(&dir).unwrap();
        let total = FOLLOWED_WINDOW as u64 + 10;
        for to in 1..=total {
            let batch = FollowedBatch {
                from: to,
                to,
                hash: [to as u8; 32],
                touched: vec![BlobId([to as u8; 32]); (to % 3) as usize],
            };
            s.apply_batch(vec![], &batch).unwrap();
        }
        let f = s.followed().unwrap();
        assert_eq!(f.len(), FOLLOWED_WINDOW);
        assert_eq!((f[0].to, f.last().unwrap().to), (total, 11));
        assert_eq!(
            f[0].touched,
            vec![BlobId([total as u8; 32]); (total % 3) as usize]
        );
        assert_eq!(s.cursor().unwrap(), Some(total + 1));
        s.rewind(100, 101).unwrap();
        let f = s.followed().unwrap();
        assert_eq!(f[0].to, 100);
        assert_eq!(s.cursor().unwrap(), Some(101));
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
