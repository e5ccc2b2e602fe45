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
    let diff = TextDiff::from_lines(old, new);
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

#[cfg(test)]
mod tests {
    use super::*;

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
