//! `--format github`: one GitHub Actions workflow command per finding, which the runner turns
//! into an annotation on the file and line (in the job summary and the pull request's diff):
//! `::warning file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message`.

use super::FileReport;

/// Every finding as a `::warning` command, one per line. Empty when nothing was found.
pub fn render(reports: &[FileReport]) -> String {
    let mut out = String::new();
    for report in reports {
        let lines = report.lines();
        for finding in &report.findings {
            let (line, col) = lines.line_col(finding.span.start);
            let (end_line, end_column) = lines.line_col(finding.span.end);
            out.push_str(&format!(
                "::warning file={},line={line},col={col},endLine={end_line},endColumn={end_column},title={}::{}\n",
                escape_property(report.path.trim_start_matches("./")),
                escape_property(finding.rule),
                escape_data(&finding.message),
            ));
        }
    }
    out
}

/// A command's message, escaped as the runner unescapes it (`escapeData` in
/// `@actions/core`): `%`, carriage return and line feed.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value (`file=…`, `title=…`): as [`escape_data`], plus `:` and `,`, which
/// would end the value (`escapeProperty` in `@actions/core`).
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_the_runner_expects() {
        assert_eq!(escape_data("100% a\r\nb: c, d"), "100%25 a%0D%0Ab: c, d");
        assert_eq!(escape_property("a,b:c%d\ne"), "a%2Cb%3Ac%25d%0Ae");
    }
}
