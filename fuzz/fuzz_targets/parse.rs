//! Fuzz the parser: it must never panic, and whatever it accepts it keeps byte for byte.
//!
//! Run with `cargo +nightly fuzz run parse` (see the README).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(dockerfile) = unroot::syntax::parse_bytes(data) {
        let source = dockerfile.source.as_bytes();
        let mut joined = Vec::with_capacity(source.len());
        for piece in &dockerfile.pieces {
            joined.extend_from_slice(&source[piece.span.start..piece.span.end]);
        }
        assert_eq!(joined, data, "the pieces do not reproduce the input");
    }
});
