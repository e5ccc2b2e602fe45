//! Fuzz the fixer: on any input it parses, fixing never fails, never panics, gives text that
//! parses, and fixing that text again changes nothing.
//!
//! Run with `cargo +nightly fuzz run fix` (see the README).

#![no_main]

use libfuzzer_sys::fuzz_target;
use unroot::edit::Applicability;
use unroot::linter::{lint_parsed, LintOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(dockerfile) = unroot::syntax::parse_bytes(data) else {
        return;
    };
    let options = LintOptions::default();
    for threshold in [Applicability::Safe, Applicability::Unsafe] {
        let once = lint_parsed(&dockerfile, &options, threshold).expect("the fixes converge");
        let fixed = unroot::syntax::parse(&once.fixed).expect("the fixed text parses");
        let twice = lint_parsed(&fixed, &options, threshold).expect("the fixes converge");
        assert_eq!(twice.fixed, once.fixed, "a second run changed the fixed text");
    }
});
