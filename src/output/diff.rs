//! Unified diffs that `git apply` and `patch -p1` accept.

use similar::TextDiff;

use super::FileReport;

/// `--format diff`: the unified diffs of every file's fixes at the run's threshold, one after
/// the other, and nothing else: what `--write` applies, as a patch for `git apply` or
/// `patch -p1`. Empty when there is nothing to fix.
pub fn render(reports: &[FileReport]) -> String {
    reports
        .iter()
        .map(|report| unified_diff(&report.path, &report.source, &report.fixed))
        .collect()
}

/// The unified diff from `old` to `new` for `path` (`--- a/path` / `+++ b/path`, three
/// lines of context). Empty when the texts are equal.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let path = path.trim_start_matches("./").trim_start_matches('/');
    let (old_lines, new_lines) = (lines(old), lines(new));
    let diff = TextDiff::configure().diff_slices(&old_lines, &new_lines);
    let mut out = String::new();
    out.push_str(&format!("--- a/{path}\n+++ b/{path}\n"));
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        out.push_str(&hunk.header().to_string());
        out.push('\n');
        for change in hunk.iter_changes() {
            let sign = match change.tag() {
                similar::ChangeTag::Delete => '-',
                similar::ChangeTag::Insert => '+',
                similar::ChangeTag::Equal => ' ',
            };
            out.push(sign);
            let value = change.value();
            out.push_str(value);
            if !value.ends_with('\n') {
                out.push_str("\n\\ No newline at end of file\n");
            }
        }
    }
    out
}

/// `text`'s lines, each with its line end (`\n`, `\r\n` or a lone `\r`): the lines
/// `TextDiff::from_lines` diffs, found with a SIMD search rather than character by character.
fn lines(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let mut start = 0;
    let mut ends = memchr::memchr2_iter(b'\r', b'\n', bytes);
    while let Some(at) = ends.next() {
        let end = if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') {
            ends.next();
            at + 2
        } else {
            at + 1
        };
        lines.push(&text[start..end]);
        start = end;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn lines_are_the_lines_similar_finds(text in "[a\r\n\u{e9}]{0,24}") {
            use similar::DiffableStr;
            proptest::prop_assert_eq!(lines(&text), text.as_str().tokenize_lines());
        }
    }

    #[test]
    fn diff_has_git_headers_and_marks_missing_newline() {
        let diff = unified_diff(
            "Dockerfile",
            "FROM node\nCMD x",
            "FROM node\nUSER node\nCMD x",
        );
        assert_eq!(
            diff,
            "--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1,2 +1,3 @@\n FROM node\n+USER node\n CMD x\n\\ No newline at end of file\n"
        );
        assert_eq!(unified_diff("x", "a\n", "a\n"), "");
    }
}
