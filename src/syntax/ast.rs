//! The lossless syntax tree.
//!
//! A [`Dockerfile`] keeps its source text and a list of [`Piece`]s whose spans tile the
//! whole input: concatenating `piece.span.text(source)` for every piece reproduces the
//! file byte for byte. Instructions additionally carry what BuildKit's parser makes of
//! them (keyword, flags, argument values, heredocs) with exact spans for each part.

use compact_str::CompactString;

use super::span::Span;

/// A parsed Dockerfile.
#[derive(Clone, Debug)]
pub struct Dockerfile {
    /// The original text, unchanged (including a UTF-8 BOM if there was one).
    pub source: String,
    /// The escape character in effect (`\` or `` ` ``).
    pub escape: char,
    /// Parser directives from the leading comment block.
    pub directives: Vec<Directive>,
    /// Every byte of the file belongs to exactly one piece, in order.
    pub pieces: Vec<Piece>,
    /// The instructions in file order (pieces refer to them by index).
    pub instructions: Vec<Instruction>,
    /// Non-fatal findings of the parser, as BuildKit reports them.
    pub warnings: Vec<Warning>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PieceKind {
    /// The UTF-8 byte order mark at the start of the file.
    Bom,
    /// A parser directive line (`# syntax=…`, `# escape=…`, `# check=…`).
    Directive,
    /// A comment line outside any instruction.
    Comment,
    /// An empty or whitespace-only line outside any instruction.
    Blank,
    /// An instruction: index into [`Dockerfile::instructions`].
    Instruction(usize),
}

/// A top-level piece of the file: its span includes the line ending(s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    pub kind: PieceKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    /// Lowercased name: `syntax`, `escape` or `check`.
    pub name: String,
    pub value: String,
    /// 1-based line.
    pub line: usize,
    /// The whole line, without its line ending.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub message: String,
    /// 1-based line BuildKit attaches the warning to.
    pub line: usize,
}

/// A value with the exact bytes it came from.
///
/// `value` is what BuildKit's parser makes of the text (for flags, quotes are removed;
/// for JSON arrays, escapes are decoded); `span` is the raw text in the source. Values of up
/// to 24 bytes (most words of a Dockerfile) are stored inline, without an allocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub value: CompactString,
    pub span: Span,
}

/// Known instruction keywords (matched case-insensitively).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Keyword {
    Add,
    Arg,
    Cmd,
    Copy,
    Entrypoint,
    Env,
    Expose,
    From,
    Healthcheck,
    Label,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    StopSignal,
    User,
    Volume,
    Workdir,
    /// A word BuildKit does not know; its arguments are ignored.
    Unknown,
}

impl Keyword {
    pub fn from_word(word: &str) -> Keyword {
        let bytes = word.as_bytes();
        let is = |keyword: &[u8]| bytes.eq_ignore_ascii_case(keyword);
        // `| 0x20` lowercases an ASCII letter and maps no other byte to one.
        match (bytes.len(), bytes.first().map_or(0, |first| first | 0x20)) {
            (3, b'a') if is(b"add") => Keyword::Add,
            (3, b'a') if is(b"arg") => Keyword::Arg,
            (3, b'c') if is(b"cmd") => Keyword::Cmd,
            (4, b'c') if is(b"copy") => Keyword::Copy,
            (10, b'e') if is(b"entrypoint") => Keyword::Entrypoint,
            (3, b'e') if is(b"env") => Keyword::Env,
            (6, b'e') if is(b"expose") => Keyword::Expose,
            (4, b'f') if is(b"from") => Keyword::From,
            (11, b'h') if is(b"healthcheck") => Keyword::Healthcheck,
            (5, b'l') if is(b"label") => Keyword::Label,
            (10, b'm') if is(b"maintainer") => Keyword::Maintainer,
            (7, b'o') if is(b"onbuild") => Keyword::Onbuild,
            (3, b'r') if is(b"run") => Keyword::Run,
            (5, b's') if is(b"shell") => Keyword::Shell,
            (10, b's') if is(b"stopsignal") => Keyword::StopSignal,
            (4, b'u') if is(b"user") => Keyword::User,
            (6, b'v') if is(b"volume") => Keyword::Volume,
            (7, b'w') if is(b"workdir") => Keyword::Workdir,
            _ => Keyword::Unknown,
        }
    }
}

/// A `key=value` (or old-style `KEY value`) pair of ENV, LABEL or ARG.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    pub key: Token,
    /// `None` for `ARG NAME` without a default.
    pub value: Option<Token>,
    /// True for the `key=value` form, false for the old `KEY value` form.
    pub equals: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter with quotes removed.
    pub name: String,
    /// The file descriptor before `<<` (0 when absent).
    pub fd: u32,
    /// False when any part of the delimiter was quoted.
    pub expand: bool,
    /// True for `<<-` (leading tabs are stripped when the content is used).
    pub chomp: bool,
    /// The body exactly as written, line endings included (BuildKit's raw content).
    pub content: String,
    /// The body's bytes (from the line after the instruction to the terminator line).
    pub body: Span,
    /// The terminator line, including its line ending.
    pub terminator: Span,
}

/// One instruction, with continuation lines and heredoc bodies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instruction {
    /// From the first byte of its first line (leading whitespace included) to the end of its
    /// last line, line ending included; heredoc bodies and terminators are inside.
    pub span: Span,
    /// 1-based, inclusive (BuildKit's `StartLine`/`EndLine`; 0 for the inner ONBUILD node).
    pub start_line: usize,
    pub end_line: usize,
    /// The keyword as written.
    pub keyword: Token,
    pub kind: Keyword,
    /// Leading `--flag[=value]` words; `value` has BuildKit's quote handling applied.
    pub flags: Vec<Token>,
    /// BuildKit's argument nodes (the `Next` chain), see `line_parsers.rs`.
    pub args: Vec<Token>,
    /// The arguments were a JSON array.
    pub json: bool,
    pub heredocs: Vec<Heredoc>,
    /// The logical line: continuation lines joined as BuildKit joins them.
    pub original: CompactString,
    /// Comment lines directly above the instruction (BuildKit's `PrevComment`).
    pub comments: Vec<String>,
    /// Comment lines inside the instruction's continuation lines.
    pub inner_comments: Vec<Span>,
    /// Pairs of ENV, LABEL and ARG with spans for keys and values.
    pub pairs: Vec<KeyValue>,
    /// Shell-form CMD/ENTRYPOINT/SHELL (and HEALTHCHECK CMD) split into words, quotes kept. A
    /// shell-form RUN is a script: its one argument spans it whole.
    pub shell_words: Vec<Token>,
    /// The instruction an ONBUILD wraps.
    pub onbuild: Option<Box<Instruction>>,
}

impl Instruction {
    /// The image reference of a FROM.
    pub fn from_image(&self) -> Option<&Token> {
        (self.kind == Keyword::From)
            .then(|| self.args.first())
            .flatten()
    }

    /// The stage name of `FROM image AS name`.
    pub fn from_alias(&self) -> Option<&Token> {
        if self.kind == Keyword::From
            && self.args.len() >= 3
            && self.args[1].value.eq_ignore_ascii_case("as")
        {
            Some(&self.args[2])
        } else {
            None
        }
    }

    /// A flag's value by name (`--platform=linux/amd64` → `linux/amd64`).
    pub fn flag(&self, name: &str) -> Option<&str> {
        self.flags.iter().find_map(|flag| {
            let rest = flag.value.strip_prefix("--")?;
            match rest.split_once('=') {
                Some((key, value)) if key == name => Some(value),
                None if rest == name => Some(""),
                _ => None,
            }
        })
    }

    /// The ports of an EXPOSE.
    pub fn expose_ports(&self) -> &[Token] {
        if self.kind == Keyword::Expose {
            &self.args
        } else {
            &[]
        }
    }

    /// The value of a USER (the whole rest of the line, trimmed).
    pub fn user(&self) -> Option<&Token> {
        (self.kind == Keyword::User)
            .then(|| self.args.first())
            .flatten()
    }

    /// True when this is RUN/CMD/ENTRYPOINT/SHELL in shell form.
    pub fn is_shell_form(&self) -> bool {
        !self.json && !self.args.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_match_case_insensitively_and_nothing_else() {
        assert_eq!(Keyword::from_word("HealthCheck"), Keyword::Healthcheck);
        assert_eq!(Keyword::from_word("stopSIGNAL"), Keyword::StopSignal);
        assert_eq!(Keyword::from_word("run"), Keyword::Run);
        for word in ["", "ru", "runs", "r\u{fc}n", "@dd", "Add!", "healthchecks"] {
            assert_eq!(Keyword::from_word(word), Keyword::Unknown, "{word:?}");
        }
    }
}
