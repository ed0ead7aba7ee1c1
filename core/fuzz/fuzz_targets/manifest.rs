//! Fuzzes the large-file manifest parser: whatever parses re-encodes to exactly the same bytes
//! (the format is canonical), and its chunks tile the file.
#![no_main]

use floe_core::manifest::Manifest;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(manifest) = Manifest::from_bytes(data) else {
        return;
    };
    assert_eq!(
        manifest.to_bytes(),
        data,
        "a parsed manifest must re-encode to its bytes"
    );
    let mut pos = 0;
    for span in manifest
        .chunks_for(0..manifest.total_len())
        .expect("the whole file is a valid range")
    {
        let chunk = manifest.chunk_range(span.index).expect("a listed chunk");
        assert_eq!(chunk.start + span.range.start, pos);
        assert_eq!(chunk.start + span.range.end, chunk.end);
        pos = chunk.end;
    }
    assert_eq!(pos, manifest.total_len());
});
