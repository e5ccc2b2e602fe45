//! Files unroot reports but never edits.
//!
//! - A file BuildKit rejects is an error, as a parse error is: an unknown instruction
//!   (`FOO bar`) parses, but BuildKit's instruction stage fails on it (`unknown instruction:
//!   FOO`), so the file cannot be built and unroot does not guess what it meant.
//! - A template (a name such as `Dockerfile.tmpl`, `Dockerfile.j2`, `*.template`, or a
//!   `{{ }}` / `{% %}` placeholder outside RUN/CMD/ENTRYPOINT/HEALTHCHECK/SHELL) is not a
//!   Dockerfile yet: it is not checked, and a warning says so. Its placeholders would make
//!   the findings guesses; the Dockerfile it renders is the one to check.
//! - A generated file (a header comment with `DO NOT EDIT` or `@generated`, as Go's `Code
//!   generated … DO NOT EDIT.` convention and the docker-library images' `PLEASE DO NOT EDIT
//!   IT DIRECTLY` mark them) is checked, but its findings get no fix: the next generation
//!   would undo the edit. They remain, so the exit status is 1, as ruff's for findings it
//!   cannot fix.

use crate::syntax::{Dockerfile, ErrorKind, Keyword, ParseError, PieceKind};

/// Why a file is reported but not edited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Untouched {
    /// A template; `line` 0 when its name says so.
    Template {
        line: usize,
        what: String,
    },
    Generated {
        line: usize,
        marker: String,
    },
}

impl Untouched {
    /// The line the warning is about (0: the file as a whole).
    pub fn line(&self) -> usize {
        match self {
            Untouched::Template { line, .. } | Untouched::Generated { line, .. } => *line,
        }
    }

    /// The warning, without the `path:line: ` prefix.
    pub fn warning(&self) -> String {
        match self {
            Untouched::Template { what, .. } => format!(
                "warning: not checked, never edited: a template ({what}); check the Dockerfile it renders"
            ),
            Untouched::Generated { marker, .. } => format!(
                "warning: findings reported, never fixed: a generated file (`{marker}`); change what generates it"
            ),
        }
    }

    /// What a finding's help says about the fix it does not get.
    pub fn help(&self) -> String {
        match self {
            Untouched::Template { .. } => "not fixed: the file is a template".to_string(),
            Untouched::Generated { marker, .. } => {
                format!("not fixed: the file is generated (`{marker}`); change what generates it")
            }
        }
    }
}

/// The extensions template engines give a file (`Dockerfile.tmpl`, `app.Dockerfile.j2`).
const TEMPLATE_EXTENSIONS: &[&str] = &[
    "tmpl", "tpl", "template", "j2", "jinja", "jinja2", "gotmpl", "mustache", "hbs", "erb", "in",
];

/// True when the file name says the file is a template.
pub fn is_template_name(path: &str) -> bool {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    name.rsplit_once('.').is_some_and(|(stem, extension)| {
        !stem.is_empty()
            && TEMPLATE_EXTENSIONS
                .iter()
                .any(|known| extension.eq_ignore_ascii_case(known))
    })
}

/// A template placeholder where BuildKit would take it literally: a line that starts with
/// one (`{{ if … }}`, `{% for … %}`), or one in the value of an instruction that is not a
/// shell command (`FROM node:{{ .Version }}`); shell commands use `{{` themselves
/// (`docker inspect --format '{{.Id}}'`).
pub fn template_placeholder(file: &Dockerfile) -> Option<Untouched> {
    file.instructions.iter().find_map(|instruction| {
        let word = &instruction.keyword.value;
        let at_start = ["{{", "{%", "{#"].iter().any(|open| word.starts_with(open));
        let shell = matches!(
            instruction.kind,
            Keyword::Run
                | Keyword::Cmd
                | Keyword::Entrypoint
                | Keyword::Healthcheck
                | Keyword::Shell
        );
        let text = &instruction.original;
        let in_value = !shell
            && text.contains('{')
            && [("{{", "}}"), ("{%", "%}")].iter().any(|(open, close)| {
                text.find(open)
                    .is_some_and(|start| text[start..].contains(close))
            });
        (at_start || in_value).then(|| Untouched::Template {
            line: instruction.start_line,
            what: "a `{{ }}` placeholder".to_string(),
        })
    })
}

/// A `DO NOT EDIT` / `@generated` mark in the comments above the first instruction.
pub fn generated_mark(file: &Dockerfile) -> Option<Untouched> {
    for piece in &file.pieces {
        match piece.kind {
            PieceKind::Comment | PieceKind::Directive => {
                let text = piece.span.text(&file.source);
                let lower = text.to_ascii_lowercase();
                let marker = if lower.contains("do not edit") {
                    "DO NOT EDIT"
                } else if lower.contains("@generated") {
                    "@generated"
                } else {
                    continue;
                };
                let line = file.source[..piece.span.start].matches('\n').count() + 1;
                return Some(Untouched::Generated {
                    line,
                    marker: marker.to_string(),
                });
            }
            PieceKind::Instruction(_) => return None,
            PieceKind::Bom | PieceKind::Blank => {}
        }
    }
    None
}

/// The first instruction BuildKit does not know: its instruction stage rejects the file with
/// this message.
pub fn unknown_instruction(file: &Dockerfile) -> Option<ParseError> {
    let instruction = file
        .instructions
        .iter()
        .find(|instruction| instruction.kind == Keyword::Unknown)?;
    Some(ParseError {
        line: instruction.start_line,
        end_line: instruction.end_line,
        kind: ErrorKind::Syntax,
        message: format!("unknown instruction: {}", instruction.keyword.value),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse;

    #[test]
    fn template_names() {
        for name in [
            "Dockerfile.tmpl",
            "a/Dockerfile.j2",
            "app.Dockerfile.template",
            "Dockerfile.in",
            "Dockerfile.TPL",
        ] {
            assert!(is_template_name(name), "{name}");
        }
        for name in [
            "Dockerfile",
            "Dockerfile.prod",
            "api.Dockerfile",
            ".tmpl",
            "x/Dockerfile",
        ] {
            assert!(!is_template_name(name), "{name}");
        }
    }

    #[test]
    fn placeholders_outside_shell_commands() {
        let found = |src: &str| template_placeholder(&parse(src).unwrap()).map(|t| t.line());
        assert_eq!(found("FROM node:{{ .Version }}\n"), Some(1));
        assert_eq!(
            found("FROM node\n{{ if .Dev }}\nUSER root\n{{ end }}\n"),
            Some(2)
        );
        assert_eq!(
            found("FROM node\n{% for x in y %}\nRUN x\n{% endfor %}\n"),
            Some(2)
        );
        assert_eq!(found("FROM node\nLABEL v=\"{{ .V }}\"\n"), Some(2));
        assert_eq!(
            found("FROM node\nRUN docker inspect --format '{{.Id}}' x\n"),
            None
        );
        assert_eq!(found("FROM node\nENV A={\n"), None);
    }

    #[test]
    fn generated_marks_in_the_header() {
        let found = |src: &str| generated_mark(&parse(src).unwrap());
        assert_eq!(
            found("# Code generated by gen.sh. DO NOT EDIT.\nFROM node\n"),
            Some(Untouched::Generated {
                line: 1,
                marker: "DO NOT EDIT".to_string()
            })
        );
        assert_eq!(
            found("#\n# NOTE: THIS DOCKERFILE IS GENERATED VIA \"apply-templates.sh\"\n#\n# PLEASE DO NOT EDIT IT DIRECTLY.\n#\n\nFROM node\n")
                .map(|u| u.line()),
            Some(4)
        );
        assert_eq!(
            found("# @generated\nFROM node\n").map(|u| u.line()),
            Some(1)
        );
        assert_eq!(found("FROM node\n# DO NOT EDIT below\nCMD x\n"), None);
        assert_eq!(found("# build the app\nFROM node\n"), None);
    }

    #[test]
    fn unknown_instructions_are_buildkit_errors() {
        let error = unknown_instruction(&parse("FROM node\nFOO bar\n").unwrap()).unwrap();
        assert_eq!(
            (error.line, error.message.as_str()),
            (2, "unknown instruction: FOO")
        );
        assert_eq!(
            unknown_instruction(&parse("from node\nuser node\n").unwrap()),
            None
        );
    }
}
