//! Quilts: many small files packed into one blob, each readable on its own by a range read.
//!
//! A floe blob is row-major: systematic primary sliver `p` holds the blob bytes
//! `[p·row, (p+1)·row)` with `row = (n−f)·symbol_size`. A file that occupies a contiguous byte
//! range of the blob is therefore read by fetching only the rows covering it. A quilt puts a
//! small index first, so a reader fetches the index with one range read of the blob's first
//! bytes, looks a file up, and range-reads just that file.
//!
//! # Layout (version 1)
//!
//! Integers are big-endian; strings are UTF-8.
//!
//! ```text
//! prefix   magic "FLOEQLT" (7) ‖ version u8 = 1 ‖ index_len u32          (PREFIX_LEN = 12 bytes)
//! index    count u32 ‖ count × entry                                      (index_len bytes)
//! entry    id_len u16 ‖ identifier ‖ offset u64 ‖ length u64 ‖ sha256 (32)
//!          ‖ tag_count u8 ‖ tag_count × (key_len u8 ‖ key ‖ value_len u16 ‖ value)
//! data     the files' bytes, contiguous, in index order
//! ```
//!
//! Offsets are absolute positions in the blob: the first file starts right after the index
//! (`PREFIX_LEN + index_len`), every next one where the previous ends, and the last ends at the
//! blob's end. Entries are sorted by identifier (bytewise) and tags by key, so the same set of
//! files always gives the same bytes, hence the same blob id. The parser accepts exactly this
//! canonical form and nothing else.
//!
//! Reading one file: fetch the first [`PREFIX_LEN`] bytes, [`QuiltIndex::parse_prefix`] gives
//! the header length `h`; fetch `0..h`, [`QuiltIndex::from_bytes`] with the blob's length (from
//! its on-chain registration) checks every entry; [`QuiltIndex::get`] finds the file,
//! [`QuiltEntry::range`] is the range to read and [`QuiltEntry::verify`] checks what arrived.
//!
//! Whether a blob is read as a quilt follows the rule of [`crate::manifest`]: only when the
//! caller asks for quilt semantics and the blob parses; the attribute
//! [`crate::manifest::KIND_ATTRIBUTE`]` = `[`KIND_QUILT`] is an advisory label.

use std::{collections::BTreeMap, fmt, ops::Range};

use sha2::{Digest, Sha256};

/// The first bytes of every quilt.
pub const QUILT_MAGIC: &[u8; 7] = b"FLOEQLT";
/// The quilt format version written and read.
pub const QUILT_VERSION: u8 = 1;
/// Bytes of the fixed prefix: magic, version, index length.
pub const PREFIX_LEN: usize = 7 + 1 + 4;
/// Most files in one quilt.
pub const MAX_FILES: usize = 100_000;
/// Longest identifier, in bytes.
pub const MAX_ID_LEN: usize = 1024;
/// Most tags on one file.
pub const MAX_TAGS: usize = 16;
/// Longest tag key, in bytes (keys are at least 1 byte).
pub const MAX_TAG_KEY_LEN: usize = 64;
/// Longest tag value, in bytes.
pub const MAX_TAG_VALUE_LEN: usize = 1024;
/// Largest index (the bytes after the prefix, before the data): 16 MiB.
pub const MAX_INDEX_LEN: usize = 16 << 20;
/// The tag a gateway serves as the file's `Content-Type` (see [`QuiltEntry::content_type`]).
pub const CONTENT_TYPE_TAG: &str = "content-type";
/// The value of [`crate::manifest::KIND_ATTRIBUTE`] on a quilt's registration.
pub const KIND_QUILT: &str = "quilt";

/// A file's tags, sorted by key.
type Tags = Vec<(String, String)>;

/// The smallest entry: a 1-byte identifier and no tags.
const MIN_ENTRY_LEN: usize = 2 + 1 + 8 + 8 + 32 + 1;

/// Why an identifier is refused. Identifiers are relative paths: `dir/file.ext`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    /// The empty string.
    #[error("it is empty")]
    Empty,
    /// Longer than [`MAX_ID_LEN`] bytes.
    #[error("it is {len} bytes long, more than the maximum of {max}")]
    TooLong {
        /// Its length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// Not UTF-8 (only from parsing).
    #[error("it is not valid UTF-8")]
    NotUtf8,
    /// A control character (U+0000–U+001F, U+007F–U+009F).
    #[error("it contains the control character {0:?}")]
    ControlChar(char),
    /// A backslash, which some clients read as a path separator.
    #[error("it contains a backslash; use '/' to separate directories")]
    Backslash,
    /// Starts with `/`.
    #[error("it starts with '/'; identifiers are relative paths")]
    LeadingSlash,
    /// An empty segment: `a//b` or a trailing `/`.
    #[error("it has an empty path segment (\"//\" or a trailing '/')")]
    EmptySegment,
    /// A `.` or `..` segment.
    #[error("it has a {0:?} path segment")]
    DotSegment(&'static str),
}

/// Why a tag is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    /// An empty key.
    #[error("the key is empty")]
    EmptyKey,
    /// A key longer than [`MAX_TAG_KEY_LEN`] bytes.
    #[error("the key is {len} bytes long, more than the maximum of {max}")]
    KeyTooLong {
        /// Its length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A value longer than [`MAX_TAG_VALUE_LEN`] bytes.
    #[error("the value is {len} bytes long, more than the maximum of {max}")]
    ValueTooLong {
        /// Its length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A key or value that is not UTF-8 (only from parsing).
    #[error("it is not valid UTF-8")]
    NotUtf8,
    /// A control character in the key or value (they may end up in HTTP headers).
    #[error("it contains the control character {0:?}")]
    ControlChar(char),
    /// The same key twice on one file.
    #[error("the key is given twice")]
    DuplicateKey,
    /// Keys not in increasing order (only from parsing).
    #[error("the keys are not sorted")]
    Unsorted,
}

/// A quilt that cannot be built, an index that does not parse, or a file that does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuiltError {
    /// The input does not start with [`QUILT_MAGIC`].
    #[error("not a floe quilt: the blob does not start with the magic bytes \"FLOEQLT\"")]
    BadMagic,
    /// A version this build does not read.
    #[error("unsupported quilt version {got}: this build reads version {supported}; upgrade floe")]
    UnsupportedVersion {
        /// The version byte.
        got: u8,
        /// The version supported.
        supported: u8,
    },
    /// The input ends before the prefix or the index does.
    #[error(
        "quilt header truncated: {len} bytes, {needed} needed; fetch the first {needed} bytes of the blob"
    )]
    Truncated {
        /// The input's length.
        len: usize,
        /// The length needed.
        needed: usize,
    },
    /// An index larger than [`MAX_INDEX_LEN`].
    #[error(
        "quilt index of {len} bytes exceeds the maximum of {max}; split the files into several quilts"
    )]
    IndexTooLarge {
        /// The index's length.
        len: u64,
        /// The maximum.
        max: usize,
    },
    /// Entries that run past the index's declared length (at least to byte `at`).
    #[error(
        "the quilt index is corrupt: its entries run to at least byte {at}, past the header's end at byte {header_len}"
    )]
    IndexOverrun {
        /// The header byte the entries need (at least).
        at: usize,
        /// The header's length (prefix and index).
        header_len: usize,
    },
    /// Bytes in the index after its last entry.
    #[error("{extra} bytes in the quilt index after its last entry")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// A quilt without files.
    #[error("a quilt needs at least one file")]
    Empty,
    /// More than [`MAX_FILES`] files.
    #[error("{count} files exceed the maximum of {max} per quilt; split them into several quilts")]
    TooManyFiles {
        /// The count.
        count: u64,
        /// The maximum.
        max: usize,
    },
    /// An identifier that is not a clean relative path.
    #[error("bad identifier {identifier:?}: {reason}")]
    BadIdentifier {
        /// The identifier (lossily decoded if it was not UTF-8).
        identifier: String,
        /// What is wrong with it.
        reason: IdentifierError,
    },
    /// Two files with one identifier.
    #[error("duplicate identifier {0:?}: every file in a quilt needs its own")]
    DuplicateIdentifier(String),
    /// Entries not sorted by identifier (only from parsing).
    #[error("quilt index not sorted: {identifier:?} comes after {previous:?}")]
    Unsorted {
        /// The entry before.
        previous: String,
        /// The entry out of place.
        identifier: String,
    },
    /// More than [`MAX_TAGS`] tags on a file.
    #[error("file {identifier:?} has {count} tags, more than the maximum of {max}")]
    TooManyTags {
        /// The file.
        identifier: String,
        /// Its tag count.
        count: usize,
        /// The maximum.
        max: usize,
    },
    /// A tag that is refused.
    #[error("bad tag {key:?} on file {identifier:?}: {reason}")]
    BadTag {
        /// The file.
        identifier: String,
        /// The key (lossily decoded if it was not UTF-8).
        key: String,
        /// What is wrong with it.
        reason: TagError,
    },
    /// A file that does not start where the previous one ends (or right after the index).
    #[error(
        "file {identifier:?} starts at offset {offset}, expected {expected}: files must be contiguous in index order"
    )]
    BadOffset {
        /// The file.
        identifier: String,
        /// Its offset.
        offset: u64,
        /// Where it should start.
        expected: u64,
    },
    /// A file that ends past the blob's end.
    #[error("file {identifier:?} ends at byte {end}, past the end of the {blob_len}-byte blob")]
    OutOfBounds {
        /// The file.
        identifier: String,
        /// Its end (saturated at `u64::MAX`).
        end: u64,
        /// The blob's length.
        blob_len: u64,
    },
    /// The files end before the blob does (or the input is longer than the blob).
    #[error("the quilt's files end at byte {data_end} but the blob is {blob_len} bytes long")]
    LengthMismatch {
        /// Where the data ends (or the input's length).
        data_end: u64,
        /// The blob's length.
        blob_len: u64,
    },
    /// A built quilt larger than the blob size allowed.
    #[error(
        "the quilt is {len} bytes, {over} bytes over the maximum blob size of {max}; split the files into several quilts"
    )]
    TooLarge {
        /// The quilt's length.
        len: u64,
        /// The maximum blob size.
        max: u64,
        /// `len − max`.
        over: u64,
    },
    /// File bytes of the wrong length.
    #[error("file {identifier:?} should be {expected} bytes, got {got}")]
    FileLengthMismatch {
        /// The file.
        identifier: String,
        /// Its length in the index.
        expected: u64,
        /// The bytes given.
        got: u64,
    },
    /// File bytes whose SHA-256 differs from the index.
    #[error("file {identifier:?} does not match its SHA-256 in the quilt index")]
    HashMismatch {
        /// The file.
        identifier: String,
    },
}

/// One file of a quilt: where it lies in the blob, its hash and its tags.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct QuiltEntry {
    identifier: String,
    offset: u64,
    len: u64,
    sha256: [u8; 32],
    tags: Vec<(String, String)>,
}

/// A quilt's parsed index: its entries sorted by identifier, and the blob's layout.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuiltIndex {
    entries: Vec<QuiltEntry>,
    header_len: u64,
    blob_len: u64,
}

/// Collects files and writes the quilt blob (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct QuiltBuilder {
    files: BTreeMap<String, (Vec<u8>, Tags)>,
    data_len: u64,
    index_len: usize,
    max_blob_size: Option<u64>,
}

/// Checks that `identifier` is a clean relative path: 1..=[`MAX_ID_LEN`] bytes, no control
/// characters or backslashes, no leading `/`, no empty, `.` or `..` segments.
pub fn check_identifier(identifier: &str) -> Result<(), IdentifierError> {
    if identifier.is_empty() {
        return Err(IdentifierError::Empty);
    }
    if identifier.len() > MAX_ID_LEN {
        return Err(IdentifierError::TooLong {
            len: identifier.len(),
            max: MAX_ID_LEN,
        });
    }
    if let Some(c) = identifier.chars().find(|c| c.is_control()) {
        return Err(IdentifierError::ControlChar(c));
    }
    if identifier.contains('\\') {
        return Err(IdentifierError::Backslash);
    }
    if identifier.starts_with('/') {
        return Err(IdentifierError::LeadingSlash);
    }
    for segment in identifier.split('/') {
        match segment {
            "" => return Err(IdentifierError::EmptySegment),
            "." => return Err(IdentifierError::DotSegment(".")),
            ".." => return Err(IdentifierError::DotSegment("..")),
            _ => {}
        }
    }
    Ok(())
}

fn check_tag(key: &str, value: &str) -> Result<(), TagError> {
    if key.is_empty() {
        return Err(TagError::EmptyKey);
    }
    if key.len() > MAX_TAG_KEY_LEN {
        return Err(TagError::KeyTooLong {
            len: key.len(),
            max: MAX_TAG_KEY_LEN,
        });
    }
    if value.len() > MAX_TAG_VALUE_LEN {
        return Err(TagError::ValueTooLong {
            len: value.len(),
            max: MAX_TAG_VALUE_LEN,
        });
    }
    if let Some(c) = key.chars().chain(value.chars()).find(|c| c.is_control()) {
        return Err(TagError::ControlChar(c));
    }
    Ok(())
}

/// `true` if `bytes` start with [`QUILT_MAGIC`]: a cheap hint, not a parse.
pub fn is_quilt(bytes: &[u8]) -> bool {
    bytes.starts_with(QUILT_MAGIC)
}

/// A `Content-Type` for `identifier` from its extension (case-insensitive), or
/// `application/octet-stream` when the extension is unknown or missing.
pub fn guess_content_type(identifier: &str) -> &'static str {
    let name = identifier.rsplit('/').next().unwrap_or(identifier);
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return "application/octet-stream";
    };
    if stem.is_empty() && !name[1..].contains('.') {
        // A dot file such as `.nojekyll` has no extension.
        return "application/octet-stream";
    }
    match ext.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "txt" => "text/plain; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "xml" => "application/xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "wasm" => "application/wasm",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "wav" => "audio/wav",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        _ => "application/octet-stream",
    }
}

fn entry_len(identifier: &str, tags: &[(String, String)]) -> usize {
    2 + identifier.len()
        + 8
        + 8
        + 32
        + 1
        + tags
            .iter()
            .map(|(k, v)| 1 + k.len() + 2 + v.len())
            .sum::<usize>()
}

impl QuiltBuilder {
    /// An empty builder with no size limit but the format's own.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty builder whose [`QuiltBuilder::build`] refuses quilts over `max_blob_size` bytes
    /// (the network's largest blob).
    pub fn with_max_blob_size(max_blob_size: u64) -> Self {
        Self {
            max_blob_size: Some(max_blob_size),
            ..Self::default()
        }
    }

    /// Adds the file `identifier` with its `bytes` and `tags` (key → value, e.g.
    /// `("content-type", "text/html")`). Refuses a bad or duplicate identifier, bad tags and a
    /// file beyond [`MAX_FILES`]; leaves the builder unchanged on error.
    pub fn add<K, V>(
        &mut self,
        identifier: impl Into<String>,
        bytes: impl Into<Vec<u8>>,
        tags: impl IntoIterator<Item = (K, V)>,
    ) -> Result<&mut Self, QuiltError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let identifier = identifier.into();
        if let Err(reason) = check_identifier(&identifier) {
            return Err(QuiltError::BadIdentifier { identifier, reason });
        }
        if self.files.contains_key(&identifier) {
            return Err(QuiltError::DuplicateIdentifier(identifier));
        }
        if self.files.len() >= MAX_FILES {
            return Err(QuiltError::TooManyFiles {
                count: self.files.len() as u64 + 1,
                max: MAX_FILES,
            });
        }
        let mut sorted: Vec<(String, String)> = Vec::new();
        for (k, v) in tags {
            let (key, value) = (k.into(), v.into());
            let bad = |reason| QuiltError::BadTag {
                identifier: identifier.clone(),
                key: key.clone(),
                reason,
            };
            check_tag(&key, &value).map_err(bad)?;
            match sorted.binary_search_by(|(k, _)| k.cmp(&key)) {
                Ok(_) => return Err(bad(TagError::DuplicateKey)),
                Err(at) => {
                    if sorted.len() == MAX_TAGS {
                        return Err(QuiltError::TooManyTags {
                            identifier,
                            count: MAX_TAGS + 1,
                            max: MAX_TAGS,
                        });
                    }
                    sorted.insert(at, (key, value));
                }
            }
        }
        let bytes = bytes.into();
        self.data_len += bytes.len() as u64;
        self.index_len += entry_len(&identifier, &sorted);
        self.files.insert(identifier, (bytes, sorted));
        Ok(self)
    }

    /// Files added so far.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// `true` before the first file is added.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The length the quilt blob would have now: prefix, index and data. Lets a caller pack
    /// files into several quilts under a size limit.
    pub fn blob_len(&self) -> u64 {
        (PREFIX_LEN + 4 + self.index_len) as u64 + self.data_len
    }

    /// Writes the quilt blob: deterministic (entries sorted by identifier, tags by key).
    /// Refuses an empty quilt, an index over [`MAX_INDEX_LEN`] and a blob over the maximum
    /// size given to [`QuiltBuilder::with_max_blob_size`].
    pub fn build(&self) -> Result<Vec<u8>, QuiltError> {
        if self.files.is_empty() {
            return Err(QuiltError::Empty);
        }
        let index_len = 4 + self.index_len;
        if index_len > MAX_INDEX_LEN {
            return Err(QuiltError::IndexTooLarge {
                len: index_len as u64,
                max: MAX_INDEX_LEN,
            });
        }
        let len = self.blob_len();
        if let Some(max) = self.max_blob_size
            && len > max
        {
            return Err(QuiltError::TooLarge {
                len,
                max,
                over: len - max,
            });
        }
        let len = usize::try_from(len).map_err(|_| QuiltError::TooLarge {
            len,
            max: usize::MAX as u64,
            over: len - usize::MAX as u64,
        })?;
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(QUILT_MAGIC);
        out.push(QUILT_VERSION);
        // index_len <= 16 MiB fits in a u32; the file count <= MAX_FILES too.
        out.extend_from_slice(&(index_len as u32).to_be_bytes());
        out.extend_from_slice(&(self.files.len() as u32).to_be_bytes());
        let mut offset = (PREFIX_LEN + index_len) as u64;
        for (identifier, (bytes, tags)) in &self.files {
            let entry = QuiltEntry {
                identifier: identifier.clone(),
                offset,
                len: bytes.len() as u64,
                sha256: Sha256::digest(bytes).into(),
                tags: tags.clone(),
            };
            entry.write(&mut out);
            offset += entry.len;
        }
        for (bytes, _) in self.files.values() {
            out.extend_from_slice(bytes);
        }
        debug_assert_eq!(out.len(), len);
        Ok(out)
    }
}

impl QuiltEntry {
    /// The file's identifier (a relative path).
    pub fn identifier(&self) -> &str {
        &self.identifier
    }

    /// Where the file starts in the blob.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The file's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// `true` for a zero-length file.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The file's byte range in the blob: what to range-read.
    pub fn range(&self) -> Range<u64> {
        // from_bytes checked offset + len <= blob_len; the builder writes it.
        self.offset..self.offset.saturating_add(self.len)
    }

    /// The SHA-256 of the file.
    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }

    /// The file's tags, sorted by key.
    pub fn tags(&self) -> &[(String, String)] {
        &self.tags
    }

    /// The value of tag `key`.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|i| self.tags[i].1.as_str())
    }

    /// The `Content-Type` to serve: the [`CONTENT_TYPE_TAG`] tag if set, else
    /// [`guess_content_type`] of the identifier.
    pub fn content_type(&self) -> &str {
        self.tag(CONTENT_TYPE_TAG)
            .unwrap_or_else(|| guess_content_type(&self.identifier))
    }

    /// Checks that `bytes` are this file: its length and SHA-256.
    pub fn verify(&self, bytes: &[u8]) -> Result<(), QuiltError> {
        if bytes.len() as u64 != self.len {
            return Err(QuiltError::FileLengthMismatch {
                identifier: self.identifier.clone(),
                expected: self.len,
                got: bytes.len() as u64,
            });
        }
        if <[u8; 32]>::from(Sha256::digest(bytes)) != self.sha256 {
            return Err(QuiltError::HashMismatch {
                identifier: self.identifier.clone(),
            });
        }
        Ok(())
    }

    fn write(&self, out: &mut Vec<u8>) {
        // Lengths were checked: identifier <= 1024, key <= 64, value <= 1024, tags <= 16.
        out.extend_from_slice(&(self.identifier.len() as u16).to_be_bytes());
        out.extend_from_slice(self.identifier.as_bytes());
        out.extend_from_slice(&self.offset.to_be_bytes());
        out.extend_from_slice(&self.len.to_be_bytes());
        out.extend_from_slice(&self.sha256);
        out.push(self.tags.len() as u8);
        for (k, v) in &self.tags {
            out.push(k.len() as u8);
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(&(v.len() as u16).to_be_bytes());
            out.extend_from_slice(v.as_bytes());
        }
    }
}

impl fmt::Debug for QuiltEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QuiltEntry")
            .field("identifier", &self.identifier)
            .field("range", &self.range())
            .field("sha256", &hex::encode(self.sha256))
            .field("tags", &self.tags)
            .finish()
    }
}

/// A cursor over the index bytes.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], QuiltError> {
        let rest = &self.buf[self.pos..];
        if rest.len() < n {
            return Err(QuiltError::IndexOverrun {
                at: self.pos + n,
                header_len: self.buf.len(),
            });
        }
        self.pos += n;
        Ok(&rest[..n])
    }

    fn u8(&mut self) -> Result<u8, QuiltError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, QuiltError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, QuiltError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, QuiltError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(a))
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
}

impl QuiltIndex {
    /// Reads the fixed prefix (the first [`PREFIX_LEN`] bytes of the blob; more is fine) and
    /// returns the header length `h`: fetch the blob's bytes `0..h` and pass them to
    /// [`QuiltIndex::from_bytes`].
    pub fn parse_prefix(bytes: &[u8]) -> Result<u64, QuiltError> {
        let magic_len = QUILT_MAGIC.len().min(bytes.len());
        if bytes[..magic_len] != QUILT_MAGIC[..magic_len] {
            return Err(QuiltError::BadMagic);
        }
        if let Some(&version) = bytes.get(7)
            && version != QUILT_VERSION
        {
            return Err(QuiltError::UnsupportedVersion {
                got: version,
                supported: QUILT_VERSION,
            });
        }
        if bytes.len() < PREFIX_LEN {
            return Err(QuiltError::Truncated {
                len: bytes.len(),
                needed: PREFIX_LEN,
            });
        }
        let index_len = u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        if index_len as usize > MAX_INDEX_LEN {
            return Err(QuiltError::IndexTooLarge {
                len: u64::from(index_len),
                max: MAX_INDEX_LEN,
            });
        }
        Ok((PREFIX_LEN as u64) + u64::from(index_len))
    }

    /// Parses and checks the index of a quilt blob of `blob_len` bytes (its length as
    /// registered). `bytes` are the blob's first bytes: at least the header
    /// ([`QuiltIndex::parse_prefix`]); any bytes after it are file data and ignored.
    ///
    /// Checks: magic, version, index length, 1..=[`MAX_FILES`] entries that fill the index
    /// exactly, clean identifiers in strictly increasing order, at most [`MAX_TAGS`] valid
    /// tags per file in strictly increasing key order, files contiguous from the end of the
    /// header to exactly `blob_len`. Never allocates more than about twice the header's length.
    pub fn from_bytes(bytes: &[u8], blob_len: u64) -> Result<Self, QuiltError> {
        let header_len = Self::parse_prefix(bytes)?;
        // header_len <= 12 + 16 MiB fits in usize.
        let h = header_len as usize;
        if bytes.len() < h {
            return Err(QuiltError::Truncated {
                len: bytes.len(),
                needed: h,
            });
        }
        if bytes.len() as u64 > blob_len {
            return Err(QuiltError::LengthMismatch {
                data_end: bytes.len() as u64,
                blob_len,
            });
        }
        let mut r = Reader {
            buf: &bytes[..h],
            pos: PREFIX_LEN,
        };
        let count = r.u32()? as usize;
        if count == 0 {
            return Err(QuiltError::Empty);
        }
        if count > MAX_FILES {
            return Err(QuiltError::TooManyFiles {
                count: count as u64,
                max: MAX_FILES,
            });
        }
        if count * MIN_ENTRY_LEN > r.remaining() {
            return Err(QuiltError::IndexOverrun {
                at: h - r.remaining() + count * MIN_ENTRY_LEN,
                header_len: header_len as usize,
            });
        }
        // At most one entry per MIN_ENTRY_LEN bytes of input.
        let mut entries: Vec<QuiltEntry> = Vec::with_capacity(count);
        let mut expected = header_len;
        for _ in 0..count {
            let entry = read_entry(&mut r)?;
            if let Some(previous) = entries.last() {
                if previous.identifier == entry.identifier {
                    return Err(QuiltError::DuplicateIdentifier(entry.identifier));
                }
                if previous.identifier > entry.identifier {
                    return Err(QuiltError::Unsorted {
                        previous: previous.identifier.clone(),
                        identifier: entry.identifier,
                    });
                }
            }
            if entry.offset != expected {
                return Err(QuiltError::BadOffset {
                    identifier: entry.identifier,
                    offset: entry.offset,
                    expected,
                });
            }
            let Some(end) = entry
                .offset
                .checked_add(entry.len)
                .filter(|&e| e <= blob_len)
            else {
                return Err(QuiltError::OutOfBounds {
                    identifier: entry.identifier,
                    end: entry.offset.saturating_add(entry.len),
                    blob_len,
                });
            };
            expected = end;
            entries.push(entry);
        }
        if r.remaining() > 0 {
            return Err(QuiltError::TrailingBytes {
                extra: r.remaining(),
            });
        }
        if expected != blob_len {
            return Err(QuiltError::LengthMismatch {
                data_end: expected,
                blob_len,
            });
        }
        Ok(Self {
            entries,
            header_len,
            blob_len,
        })
    }

    /// [`QuiltIndex::from_bytes`] of a whole quilt blob in memory.
    pub fn from_blob(blob: &[u8]) -> Result<Self, QuiltError> {
        Self::from_bytes(blob, blob.len() as u64)
    }

    /// The entries, sorted by identifier.
    pub fn entries(&self) -> &[QuiltEntry] {
        &self.entries
    }

    /// The entry of `identifier` (a binary search).
    pub fn get(&self, identifier: &str) -> Option<&QuiltEntry> {
        self.entries
            .binary_search_by(|e| e.identifier.as_str().cmp(identifier))
            .ok()
            .map(|i| &self.entries[i])
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Always `false`: a quilt holds at least one file.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes of the prefix and index: where the first file starts.
    pub fn header_len(&self) -> u64 {
        self.header_len
    }

    /// The blob's length.
    pub fn blob_len(&self) -> u64 {
        self.blob_len
    }

    /// The header (prefix and index) re-encoded: equal to the blob's first
    /// [`QuiltIndex::header_len`] bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        // header_len <= 12 + 16 MiB.
        let mut out = Vec::with_capacity(self.header_len as usize);
        out.extend_from_slice(QUILT_MAGIC);
        out.push(QUILT_VERSION);
        out.extend_from_slice(&((self.header_len as usize - PREFIX_LEN) as u32).to_be_bytes());
        out.extend_from_slice(&(self.entries.len() as u32).to_be_bytes());
        for e in &self.entries {
            e.write(&mut out);
        }
        out
    }
}

fn read_str<'a>(r: &mut Reader<'a>, n: usize) -> Result<Result<&'a str, &'a [u8]>, QuiltError> {
    let b = r.take(n)?;
    Ok(std::str::from_utf8(b).map_err(|_| b))
}

fn read_entry(r: &mut Reader<'_>) -> Result<QuiltEntry, QuiltError> {
    let id_len = usize::from(r.u16()?);
    if id_len > MAX_ID_LEN {
        return Err(QuiltError::BadIdentifier {
            identifier: String::from_utf8_lossy(&r.buf[r.pos..r.buf.len().min(r.pos + 64)])
                .into_owned(),
            reason: IdentifierError::TooLong {
                len: id_len,
                max: MAX_ID_LEN,
            },
        });
    }
    let identifier = match read_str(r, id_len)? {
        Ok(s) => s,
        Err(raw) => {
            return Err(QuiltError::BadIdentifier {
                identifier: String::from_utf8_lossy(raw).into_owned(),
                reason: IdentifierError::NotUtf8,
            });
        }
    };
    if let Err(reason) = check_identifier(identifier) {
        return Err(QuiltError::BadIdentifier {
            identifier: identifier.to_owned(),
            reason,
        });
    }
    let offset = r.u64()?;
    let len = r.u64()?;
    let mut sha256 = [0u8; 32];
    sha256.copy_from_slice(r.take(32)?);
    let tag_count = usize::from(r.u8()?);
    if tag_count > MAX_TAGS {
        return Err(QuiltError::TooManyTags {
            identifier: identifier.to_owned(),
            count: tag_count,
            max: MAX_TAGS,
        });
    }
    let mut tags: Vec<(String, String)> = Vec::new();
    for _ in 0..tag_count {
        let key_len = usize::from(r.u8()?);
        let key = read_str(r, key_len)?;
        let value_len = usize::from(r.u16()?);
        let value = read_str(r, value_len)?;
        let lossy = |k: Result<&str, &[u8]>| match k {
            Ok(s) => s.to_owned(),
            Err(b) => String::from_utf8_lossy(b).into_owned(),
        };
        let bad = |reason| QuiltError::BadTag {
            identifier: identifier.to_owned(),
            key: lossy(key),
            reason,
        };
        let (Ok(k), Ok(v)) = (key, value) else {
            return Err(bad(TagError::NotUtf8));
        };
        check_tag(k, v).map_err(bad)?;
        if let Some((prev, _)) = tags.last() {
            if prev.as_str() == k {
                return Err(bad(TagError::DuplicateKey));
            }
            if prev.as_str() > k {
                return Err(bad(TagError::Unsorted));
            }
        }
        tags.push((k.to_owned(), v.to_owned()));
    }
    Ok(QuiltEntry {
        identifier: identifier.to_owned(),
        offset,
        len,
        sha256,
        tags,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::{EncodingConfig, manifest::alloc_probe};

    const NO_TAGS: [(&str, &str); 0] = [];

    fn two_files() -> Vec<u8> {
        let mut b = QuiltBuilder::new();
        b.add("b.txt", b"bee".to_vec(), NO_TAGS)
            .expect("add")
            .add(
                "a/index.html",
                b"<p>".to_vec(),
                [("content-type", "text/html")],
            )
            .expect("add");
        b.build().expect("build")
    }

    /// A raw entry for hand-made indexes.
    struct Raw<'a> {
        id: &'a [u8],
        offset: u64,
        len: u64,
        tags: Vec<(&'a [u8], &'a [u8])>,
    }

    fn raw(id: &[u8], offset: u64, len: u64) -> Raw<'_> {
        Raw {
            id,
            offset,
            len,
            tags: vec![],
        }
    }

    /// Prefix and index of `entries` with the count `count`.
    fn header(count: u32, entries: &[Raw<'_>]) -> Vec<u8> {
        let mut index = count.to_be_bytes().to_vec();
        for e in entries {
            index.extend_from_slice(&(e.id.len() as u16).to_be_bytes());
            index.extend_from_slice(e.id);
            index.extend_from_slice(&e.offset.to_be_bytes());
            index.extend_from_slice(&e.len.to_be_bytes());
            index.extend_from_slice(&[0; 32]);
            index.push(e.tags.len() as u8);
            for (k, v) in &e.tags {
                index.push(k.len() as u8);
                index.extend_from_slice(k);
                index.extend_from_slice(&(v.len() as u16).to_be_bytes());
                index.extend_from_slice(v);
            }
        }
        let mut out = b"FLOEQLT\x01".to_vec();
        out.extend_from_slice(&(index.len() as u32).to_be_bytes());
        out.extend_from_slice(&index);
        out
    }

    fn entry_at(n: usize) -> u64 {
        (PREFIX_LEN + 4 + n) as u64
    }

    #[test]
    fn writes_the_documented_layout() {
        let blob = two_files();
        // Sorted: "a/index.html" before "b.txt".
        let e1 = 2 + 12 + 8 + 8 + 32 + 1 + (1 + 12 + 2 + 9);
        let e2 = 2 + 5 + 8 + 8 + 32 + 1;
        let index_len = 4 + e1 + e2;
        let h = PREFIX_LEN + index_len;
        let mut expected = b"FLOEQLT\x01".to_vec();
        expected.extend_from_slice(&(index_len as u32).to_be_bytes());
        expected.extend_from_slice(&2u32.to_be_bytes());
        expected.extend_from_slice(&12u16.to_be_bytes());
        expected.extend_from_slice(b"a/index.html");
        expected.extend_from_slice(&(h as u64).to_be_bytes());
        expected.extend_from_slice(&3u64.to_be_bytes());
        expected.extend_from_slice(&Sha256::digest(b"<p>"));
        expected.push(1);
        expected.push(12);
        expected.extend_from_slice(b"content-type");
        expected.extend_from_slice(&9u16.to_be_bytes());
        expected.extend_from_slice(b"text/html");
        expected.extend_from_slice(&5u16.to_be_bytes());
        expected.extend_from_slice(b"b.txt");
        expected.extend_from_slice(&(h as u64 + 3).to_be_bytes());
        expected.extend_from_slice(&3u64.to_be_bytes());
        expected.extend_from_slice(&Sha256::digest(b"bee"));
        expected.push(0);
        expected.extend_from_slice(b"<p>bee");
        assert_eq!(blob, expected);
        assert!(is_quilt(&blob));
        assert!(!is_quilt(b"FLOEMAN\x01"));
    }

    #[test]
    fn reads_back_what_was_built() {
        let blob = two_files();
        let h = QuiltIndex::parse_prefix(&blob[..PREFIX_LEN]).expect("prefix");
        let index = QuiltIndex::from_bytes(&blob[..h as usize], blob.len() as u64).expect("index");
        assert_eq!(index, QuiltIndex::from_blob(&blob).expect("blob"));
        assert_eq!(index.header_len(), h);
        assert_eq!(index.blob_len(), blob.len() as u64);
        assert_eq!(index.len(), 2);
        assert!(!index.is_empty());
        assert_eq!(index.to_bytes(), blob[..h as usize]);
        let ids: Vec<_> = index.entries().iter().map(QuiltEntry::identifier).collect();
        assert_eq!(ids, ["a/index.html", "b.txt"]);
        let html = index.get("a/index.html").expect("html");
        assert_eq!(html.range(), h..h + 3);
        assert_eq!(html.offset(), h);
        assert_eq!(html.len(), 3);
        assert_eq!(html.sha256(), &<[u8; 32]>::from(Sha256::digest(b"<p>")));
        assert_eq!(html.tag("content-type"), Some("text/html"));
        assert_eq!(html.tag("other"), None);
        assert_eq!(html.content_type(), "text/html");
        let bee = index.get("b.txt").expect("txt");
        assert_eq!(bee.content_type(), "text/plain; charset=utf-8");
        assert!(bee.tags().is_empty());
        for e in index.entries() {
            let r = e.range();
            e.verify(&blob[r.start as usize..r.end as usize])
                .expect("verifies");
        }
        assert_eq!(index.get("c"), None);
        assert_eq!(
            bee.verify(b"be"),
            Err(QuiltError::FileLengthMismatch {
                identifier: "b.txt".into(),
                expected: 3,
                got: 2
            })
        );
        assert_eq!(
            bee.verify(b"bed"),
            Err(QuiltError::HashMismatch {
                identifier: "b.txt".into()
            })
        );
    }

    #[test]
    fn output_is_deterministic_and_allows_empty_files() {
        let files = [("z", &b""[..]), ("m/n", b"12"), ("a", b"x")];
        let build = |order: &[usize]| {
            let mut b = QuiltBuilder::new();
            for &i in order {
                b.add(files[i].0, files[i].1, [("k2", "v"), ("k1", "w")])
                    .expect("add");
            }
            b.build().expect("build")
        };
        let one = build(&[0, 1, 2]);
        assert_eq!(one, build(&[2, 0, 1]));
        assert_eq!(one, build(&[1, 2, 0]));
        let index = QuiltIndex::from_blob(&one).expect("parses");
        let z = index.get("z").expect("z");
        assert!(z.is_empty());
        assert_eq!(z.range().end, one.len() as u64);
        assert_eq!(
            z.tags(),
            [("k1".into(), "w".into()), ("k2".into(), "v".into())]
        );
    }

    fn bad_id(id: &str) -> Option<IdentifierError> {
        match QuiltBuilder::new().add(id, vec![], NO_TAGS) {
            Err(QuiltError::BadIdentifier { identifier, reason }) => {
                assert_eq!(identifier, id);
                Some(reason)
            }
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => None,
        }
    }

    #[test]
    fn identifier_rules() {
        use IdentifierError::*;
        assert_eq!(bad_id(""), Some(Empty));
        assert_eq!(
            bad_id(&"a".repeat(1025)),
            Some(TooLong {
                len: 1025,
                max: 1024
            })
        );
        assert_eq!(bad_id(&"a".repeat(1024)), None);
        assert_eq!(bad_id("a\nb"), Some(ControlChar('\n')));
        assert_eq!(bad_id("a\u{7f}"), Some(ControlChar('\u{7f}')));
        assert_eq!(bad_id("a\u{85}"), Some(ControlChar('\u{85}')));
        assert_eq!(bad_id("a\\b"), Some(Backslash));
        assert_eq!(bad_id("/a"), Some(LeadingSlash));
        assert_eq!(bad_id("a//b"), Some(EmptySegment));
        assert_eq!(bad_id("a/"), Some(EmptySegment));
        assert_eq!(bad_id("a/../b"), Some(DotSegment("..")));
        assert_eq!(bad_id(".."), Some(DotSegment("..")));
        assert_eq!(bad_id("./a"), Some(DotSegment(".")));
        for ok in [
            "a",
            "a/b/c.html",
            ".well-known/x",
            "a..b",
            "é/日本.txt",
            "a b",
        ] {
            assert_eq!(bad_id(ok), None, "{ok}");
        }
    }

    #[test]
    fn builder_errors() {
        let mut b = QuiltBuilder::new();
        assert_eq!(b.build(), Err(QuiltError::Empty));
        b.add("a", vec![1], NO_TAGS).expect("add");
        assert_eq!(
            b.add("a", vec![2], NO_TAGS).err(),
            Some(QuiltError::DuplicateIdentifier("a".into()))
        );
        let tag_err =
            |tags: Vec<(String, String)>| QuiltBuilder::new().add("f", vec![], tags).err();
        let bad = |key: &str, reason| {
            Some(QuiltError::BadTag {
                identifier: "f".into(),
                key: key.into(),
                reason,
            })
        };
        let t = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(tag_err(vec![t("", "v")]), bad("", TagError::EmptyKey));
        let long_key = "k".repeat(65);
        assert_eq!(
            tag_err(vec![t(&long_key, "v")]),
            bad(&long_key, TagError::KeyTooLong { len: 65, max: 64 })
        );
        assert_eq!(
            tag_err(vec![t("k", &"v".repeat(1025))]),
            bad(
                "k",
                TagError::ValueTooLong {
                    len: 1025,
                    max: 1024
                }
            )
        );
        assert_eq!(
            tag_err(vec![t("k", "a\r\nb")]),
            bad("k", TagError::ControlChar('\r'))
        );
        assert_eq!(
            tag_err(vec![t("k", "1"), t("k", "2")]),
            bad("k", TagError::DuplicateKey)
        );
        let many: Vec<_> = (0..17).map(|i| t(&format!("k{i:02}"), "")).collect();
        assert_eq!(
            tag_err(many.clone()),
            Some(QuiltError::TooManyTags {
                identifier: "f".into(),
                count: 17,
                max: 16
            })
        );
        assert_eq!(tag_err(many[..16].to_vec()), None);
        // An error leaves the builder as it was.
        assert_eq!(b.len(), 1);
        assert_eq!(b.build().map(|q| q.len()), Ok(b.blob_len() as usize));
    }

    #[test]
    fn too_large_says_by_how_much() {
        let mut b = QuiltBuilder::new();
        b.add("f", vec![0; 100], NO_TAGS).expect("add");
        let len = b.blob_len();
        assert_eq!(len, (PREFIX_LEN + 4 + 2 + 1 + 8 + 8 + 32 + 1 + 100) as u64);
        let mut limited = QuiltBuilder::with_max_blob_size(len - 7);
        limited.add("f", vec![0; 100], NO_TAGS).expect("add");
        let err = limited.build().expect_err("too large");
        assert_eq!(
            err,
            QuiltError::TooLarge {
                len,
                max: len - 7,
                over: 7
            }
        );
        assert!(
            err.to_string()
                .contains("split the files into several quilts")
        );
        let mut exact = QuiltBuilder::with_max_blob_size(len);
        exact.add("f", vec![0; 100], NO_TAGS).expect("add");
        assert_eq!(exact.build().map(|q| q.len() as u64), Ok(len));
    }

    #[test]
    fn at_most_max_files() {
        let mut b = QuiltBuilder::new();
        for i in 0..MAX_FILES {
            b.add(format!("{i:x}"), vec![], NO_TAGS).expect("add");
        }
        assert_eq!(
            b.add("x", vec![], NO_TAGS).err(),
            Some(QuiltError::TooManyFiles {
                count: MAX_FILES as u64 + 1,
                max: MAX_FILES
            })
        );
        let blob = b.build().expect("100k files build");
        assert_eq!(QuiltIndex::from_blob(&blob).map(|i| i.len()), Ok(MAX_FILES));
    }

    #[test]
    fn index_at_most_16_mib() {
        // 1024-byte identifiers: 1,079 index bytes per file.
        let mut b = QuiltBuilder::new();
        let files = MAX_INDEX_LEN / (2 + 1024 + 49) + 1;
        for i in 0..files {
            b.add(format!("{i:01024}"), vec![], NO_TAGS).expect("add");
        }
        let len = 4 + files * (2 + 1024 + 49);
        assert_eq!(
            b.build(),
            Err(QuiltError::IndexTooLarge {
                len: len as u64,
                max: MAX_INDEX_LEN
            })
        );
    }

    #[test]
    fn prefix_errors() {
        let p = QuiltIndex::parse_prefix;
        assert_eq!(p(b""), Err(QuiltError::Truncated { len: 0, needed: 12 }));
        assert_eq!(
            p(b"FLOEQLT\x01\0\0"),
            Err(QuiltError::Truncated {
                len: 10,
                needed: 12
            })
        );
        assert_eq!(p(b"FLOEMAN\x01\0\0\0\0"), Err(QuiltError::BadMagic));
        assert_eq!(
            p(b"FLOEQLT\x02"),
            Err(QuiltError::UnsupportedVersion {
                got: 2,
                supported: 1
            })
        );
        let mut big = b"FLOEQLT\x01".to_vec();
        big.extend_from_slice(&(MAX_INDEX_LEN as u32 + 1).to_be_bytes());
        assert_eq!(
            p(&big),
            Err(QuiltError::IndexTooLarge {
                len: MAX_INDEX_LEN as u64 + 1,
                max: MAX_INDEX_LEN
            })
        );
        big[8..12].copy_from_slice(&(MAX_INDEX_LEN as u32).to_be_bytes());
        assert_eq!(p(&big), Ok(12 + MAX_INDEX_LEN as u64));
        // The index must be there in full.
        assert_eq!(
            QuiltIndex::from_bytes(&big, u64::MAX),
            Err(QuiltError::Truncated {
                len: 12,
                needed: 12 + MAX_INDEX_LEN
            })
        );
    }

    #[test]
    fn index_errors() {
        let parse = |h: &[u8], blob_len: u64| QuiltIndex::from_bytes(h, blob_len);
        let e1 = entry_at(2 + 1 + 49);
        // A valid one-file header, for reference.
        let ok = header(1, &[raw(b"a", e1, 5)]);
        assert_eq!(parse(&ok, e1 + 5).map(|i| i.len()), Ok(1));
        assert_eq!(parse(&header(0, &[]), 16), Err(QuiltError::Empty));
        assert_eq!(
            parse(&header(MAX_FILES as u32 + 1, &[]), 1 << 30),
            Err(QuiltError::TooManyFiles {
                count: MAX_FILES as u64 + 1,
                max: MAX_FILES
            })
        );
        // Two entries claimed, one present.
        assert_eq!(
            parse(&header(2, &[raw(b"a", e1, 5)]), 1 << 30),
            Err(QuiltError::IndexOverrun {
                at: ok.len() + 52,
                header_len: ok.len()
            })
        );
        // An identifier length that runs past the index.
        let mut overrun = ok.clone();
        overrun[16..18].copy_from_slice(&60u16.to_be_bytes());
        assert_eq!(
            parse(&overrun, 1 << 30),
            Err(QuiltError::IndexOverrun {
                at: 18 + 60,
                header_len: ok.len()
            })
        );
        let mut trailing = header(1, &[raw(b"a", e1 + 3, 5)]);
        trailing.extend_from_slice(&[0; 3]);
        let l = (trailing.len() - PREFIX_LEN) as u32;
        trailing[8..12].copy_from_slice(&l.to_be_bytes());
        assert_eq!(
            parse(&trailing, 1 << 30),
            Err(QuiltError::TrailingBytes { extra: 3 })
        );
        let bad_id = |id: &[u8], identifier: &str, reason| {
            let n = id.len();
            assert_eq!(
                parse(&header(1, &[raw(id, entry_at(2 + n + 49), 0)]), 1 << 30),
                Err(QuiltError::BadIdentifier {
                    identifier: identifier.into(),
                    reason
                })
            );
        };
        bad_id(b"\xff", "\u{fffd}", IdentifierError::NotUtf8);
        bad_id(b"/x", "/x", IdentifierError::LeadingSlash);
        // An empty identifier (with a tag, so the entry is as long as the smallest valid one).
        let mut empty = raw(b"", 0, 0);
        empty.tags.push((b"k", b""));
        assert_eq!(
            parse(&header(1, &[empty]), 1 << 30),
            Err(QuiltError::BadIdentifier {
                identifier: String::new(),
                reason: IdentifierError::Empty
            })
        );
        bad_id(b"a/./b", "a/./b", IdentifierError::DotSegment("."));
        let long = vec![b'a'; 1025];
        let mut too_long = header(1, &[raw(&long, 0, 0)]);
        too_long.truncate(16 + 2 + 70);
        let l = (too_long.len() - PREFIX_LEN) as u32;
        too_long[8..12].copy_from_slice(&l.to_be_bytes());
        assert_eq!(
            parse(&too_long, 1 << 30),
            Err(QuiltError::BadIdentifier {
                identifier: "a".repeat(64),
                reason: IdentifierError::TooLong {
                    len: 1025,
                    max: 1024
                }
            })
        );
        let two = |a: &'static [u8], b: &'static [u8]| {
            let e = entry_at(2 * (2 + 1 + 49));
            header(2, &[raw(a, e, 1), raw(b, e + 1, 1)])
        };
        let e2 = entry_at(2 * (2 + 1 + 49));
        assert_eq!(parse(&two(b"a", b"b"), e2 + 2).map(|i| i.len()), Ok(2));
        assert_eq!(
            parse(&two(b"a", b"a"), e2 + 2),
            Err(QuiltError::DuplicateIdentifier("a".into()))
        );
        assert_eq!(
            parse(&two(b"b", b"a"), e2 + 2),
            Err(QuiltError::Unsorted {
                previous: "b".into(),
                identifier: "a".into()
            })
        );
        assert_eq!(
            parse(&header(1, &[raw(b"a", e1 + 1, 5)]), 1 << 30),
            Err(QuiltError::BadOffset {
                identifier: "a".into(),
                offset: e1 + 1,
                expected: e1
            })
        );
        assert_eq!(
            parse(&ok, e1 + 4),
            Err(QuiltError::OutOfBounds {
                identifier: "a".into(),
                end: e1 + 5,
                blob_len: e1 + 4
            })
        );
        assert_eq!(
            parse(&header(1, &[raw(b"a", e1, u64::MAX)]), u64::MAX),
            Err(QuiltError::OutOfBounds {
                identifier: "a".into(),
                end: u64::MAX,
                blob_len: u64::MAX
            })
        );
        assert_eq!(
            parse(&ok, e1 + 6),
            Err(QuiltError::LengthMismatch {
                data_end: e1 + 5,
                blob_len: e1 + 6
            })
        );
        // More input than the blob has.
        assert_eq!(
            parse(&ok, 10),
            Err(QuiltError::LengthMismatch {
                data_end: ok.len() as u64,
                blob_len: 10
            })
        );
    }

    #[test]
    fn tag_parse_errors() {
        let with_tags = |tags: Vec<(&'static [u8], &'static [u8])>| {
            let n: usize = tags.iter().map(|(k, v)| 3 + k.len() + v.len()).sum();
            let h = header(
                1,
                &[Raw {
                    id: b"f",
                    offset: entry_at(2 + 1 + 49 + n),
                    len: 0,
                    tags,
                }],
            );
            let len = h.len() as u64;
            QuiltIndex::from_bytes(&h, len)
        };
        let bad = |key: &str, reason| {
            Err(QuiltError::BadTag {
                identifier: "f".into(),
                key: key.into(),
                reason,
            })
        };
        assert_eq!(
            with_tags(vec![(b"a", b"1"), (b"b", b"2")]).map(|i| i.entries()[0].tags().len()),
            Ok(2)
        );
        assert_eq!(
            with_tags(vec![(b"b", b""), (b"a", b"")]),
            bad("a", TagError::Unsorted)
        );
        assert_eq!(
            with_tags(vec![(b"a", b""), (b"a", b"")]),
            bad("a", TagError::DuplicateKey)
        );
        assert_eq!(
            with_tags(vec![(b"\xff", b"")]),
            bad("\u{fffd}", TagError::NotUtf8)
        );
        assert_eq!(
            with_tags(vec![(b"k", b"\xfe")]),
            bad("k", TagError::NotUtf8)
        );
        assert_eq!(with_tags(vec![(b"", b"")]), bad("", TagError::EmptyKey));
        assert_eq!(
            with_tags(vec![(b"k", b"\x00")]),
            bad("k", TagError::ControlChar('\0'))
        );
        let mut many = header(1, &[raw(b"f", 0, 0)]);
        *many.last_mut().expect("tag count") = 17;
        assert_eq!(
            QuiltIndex::from_bytes(&many, 1 << 30),
            Err(QuiltError::TooManyTags {
                identifier: "f".into(),
                count: 17,
                max: 16
            })
        );
    }

    #[test]
    fn content_types() {
        for (id, ct) in [
            ("index.html", "text/html; charset=utf-8"),
            ("a/B.HTM", "text/html; charset=utf-8"),
            ("s.css", "text/css; charset=utf-8"),
            ("app.min.js", "text/javascript; charset=utf-8"),
            ("d.json", "application/json"),
            ("i.png", "image/png"),
            ("i.jpg", "image/jpeg"),
            ("i.JPEG", "image/jpeg"),
            ("i.gif", "image/gif"),
            ("i.svg", "image/svg+xml"),
            ("i.webp", "image/webp"),
            ("r.txt", "text/plain; charset=utf-8"),
            ("m.wasm", "application/wasm"),
            ("d.pdf", "application/pdf"),
            ("v.mp4", "video/mp4"),
            ("f.woff2", "font/woff2"),
            ("Makefile", "application/octet-stream"),
            (".nojekyll", "application/octet-stream"),
            (".config.json", "application/json"),
            ("dir.html/file", "application/octet-stream"),
            ("x.unknown", "application/octet-stream"),
        ] {
            assert_eq!(guess_content_type(id), ct, "{id}");
        }
    }

    #[test]
    fn a_small_file_spans_at_most_two_rows() {
        let mut b = QuiltBuilder::new();
        for i in 0..600u32 {
            let bytes: Vec<u8> = (0..10 * 1024u32).map(|j| (i * 7 + j) as u8).collect();
            b.add(format!("assets/file-{i:03}.bin"), bytes, NO_TAGS)
                .expect("add");
        }
        let blob = b.build().expect("build");
        let cfg = EncodingConfig::new(100).expect("n");
        let len = blob.len() as u64;
        let row = u64::from(cfg.symbol_size(len).expect("fits")) * u64::from(cfg.primary_len());
        let rows = len.div_ceil(row);
        let index = QuiltIndex::from_blob(&blob).expect("parses");
        assert_eq!(index.len(), 600);
        // The header fits in the first row: one row read finds every file.
        assert!(index.header_len() <= row);
        assert!(
            row > 10 * 1024,
            "a 10 KiB file is smaller than a row ({row})"
        );
        let mut spans = [0usize; 3];
        for e in index.entries() {
            let r = e.range();
            let (first, last) = (r.start / row, (r.end - 1) / row);
            assert!(last < rows);
            let n = (last - first + 1) as usize;
            assert!(n <= 2, "{} spans {n} rows", e.identifier());
            spans[n] += 1;
            e.verify(&blob[r.start as usize..r.end as usize])
                .expect("verifies");
        }
        // Most files sit in one row: ~6 MB over rows of ~180 KB crosses ~35 boundaries.
        assert_eq!(spans[1] + spans[2], 600);
        assert!(spans[2] < rows as usize, "{spans:?} with {rows} rows");
    }

    fn arb_files() -> impl Strategy<Value = BTreeMap<String, (Vec<u8>, BTreeMap<String, String>)>> {
        let id = "[a-z0-9_.-]{1,8}(/[a-z0-9_-]{1,8}){0,2}".prop_filter("no dot segments", |s| {
            s.split('/').all(|p| p != "." && p != "..")
        });
        let tags = proptest::collection::btree_map("[a-z-]{1,12}", "[ -~]{0,20}", 0..4);
        let file = (proptest::collection::vec(any::<u8>(), 0..300), tags);
        proptest::collection::btree_map(id, file, 1..20)
    }

    fn arb_quilt() -> impl Strategy<Value = Vec<u8>> {
        arb_files().prop_map(|files| {
            let mut b = QuiltBuilder::new();
            for (id, (bytes, tags)) in files {
                b.add(id, bytes, tags).expect("valid");
            }
            b.build().expect("build")
        })
    }

    proptest! {
        #[test]
        fn random_file_sets_round_trip(files in arb_files()) {
            let mut b = QuiltBuilder::new();
            // Added in reverse: the output is sorted anyway.
            for (id, (bytes, tags)) in files.iter().rev() {
                b.add(id.clone(), bytes.clone(), tags.clone()).expect("valid");
            }
            let blob = b.build().expect("build");
            prop_assert_eq!(blob.len() as u64, b.blob_len());
            let h = QuiltIndex::parse_prefix(&blob).expect("prefix");
            let index = QuiltIndex::from_bytes(&blob[..h as usize], blob.len() as u64).expect("parses");
            prop_assert_eq!(index.to_bytes(), &blob[..h as usize]);
            prop_assert_eq!(index.len(), files.len());
            for (entry, (id, (bytes, tags))) in index.entries().iter().zip(&files) {
                prop_assert_eq!(entry.identifier(), id);
                prop_assert_eq!(index.get(id), Some(entry));
                let r = entry.range();
                prop_assert_eq!(&blob[r.start as usize..r.end as usize], &bytes[..]);
                prop_assert!(entry.verify(bytes).is_ok());
                let got: BTreeMap<String, String> = entry.tags().iter().cloned().collect();
                prop_assert_eq!(&got, tags);
            }
        }

        #[test]
        fn parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600), extra in 0u64..1000) {
            let (result, peak) = alloc_probe::peak(|| QuiltIndex::from_bytes(&bytes, bytes.len() as u64 + extra));
            prop_assert!(peak <= 2 * bytes.len() + 256, "{peak} for {}", bytes.len());
            if let Ok(index) = result {
                prop_assert_eq!(index.to_bytes(), &bytes[..index.header_len() as usize]);
            }
        }

        #[test]
        fn mutated_quilts_never_panic(blob in arb_quilt(), at in any::<usize>(), byte in any::<u8>(), cut in 0usize..4) {
            let mut bytes = blob;
            let i = at % bytes.len();
            bytes[i] = byte;
            bytes.truncate(bytes.len() - cut.min(bytes.len()));
            let (result, peak) = alloc_probe::peak(|| QuiltIndex::from_blob(&bytes));
            prop_assert!(peak <= 2 * bytes.len() + 256, "{peak} for {}", bytes.len());
            if let Ok(index) = result {
                prop_assert_eq!(index.to_bytes(), &bytes[..index.header_len() as usize]);
                for e in index.entries() {
                    let r = e.range();
                    let _ = e.verify(&bytes[r.start as usize..r.end as usize]);
                }
            }
        }
    }
}
