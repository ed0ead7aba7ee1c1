//! Fuzzes the quilt index parser on the input as a whole blob: whatever parses re-encodes to
//! exactly the blob's header, every entry lies inside the blob and is found by its identifier,
//! and verifying it does not panic.
#![no_main]

use floe_core::quilt::QuiltIndex;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let prefix = QuiltIndex::parse_prefix(data);
    let Ok(index) = QuiltIndex::from_blob(data) else {
        return;
    };
    let header_len = index.header_len() as usize;
    assert_eq!(prefix, Ok(index.header_len()));
    assert_eq!(
        index.to_bytes(),
        &data[..header_len],
        "a parsed index must re-encode to the header"
    );
    let mut pos = index.header_len();
    for entry in index.entries() {
        let range = entry.range();
        assert_eq!(range.start, pos, "files are contiguous");
        pos = range.end;
        assert_eq!(index.get(entry.identifier()), Some(entry));
        let _ = entry.content_type();
        let _ = entry.verify(&data[range.start as usize..range.end as usize]);
    }
    assert_eq!(pos, data.len() as u64);
});
