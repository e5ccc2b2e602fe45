//! What the `ignore` crate says about the paths its walk leaves out. It tells no caller why
//! it skips a path; it logs it (`log::debug!`, target `ignore::walk`: "ignoring PATH:
//! MATCH", MATCH the `Debug` of the rule that matched), and `rg --debug` prints that line.
//! [`listen`] hears those lines on the calling thread while a walk runs there and reads them
//! back into [`SkipReason`]s.
//!
//! The listener is installed as the process's logger the first time it is needed; where
//! another logger is installed already, nothing is heard and the walk goes on unexplained.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock, PoisonError};

use super::SkipReason;

thread_local! {
    /// The lines heard on this thread while [`listen`] runs.
    static HEARD: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// How many [`listen`]s run (on any thread): while any does, debug records are made.
static LISTENING: Mutex<usize> = Mutex::new(0);

struct Listener;

static LISTENER: Listener = Listener;

impl log::Log for Listener {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.target().starts_with("ignore::walk")
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        HEARD.with(|heard| {
            if let Some(heard) = heard.borrow_mut().as_mut() {
                heard.push(record.args().to_string());
            }
        });
    }

    fn flush(&self) {}
}

/// Runs `walk` (a walk on this thread) and returns the paths it left out and why.
pub(super) fn listen(walk: impl FnOnce()) -> Vec<(PathBuf, SkipReason)> {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    let installed = *INSTALLED.get_or_init(|| log::set_logger(&LISTENER).is_ok());
    if !installed {
        walk();
        return Vec::new();
    }
    HEARD.with(|heard| *heard.borrow_mut() = Some(Vec::new()));
    {
        let mut listening = LISTENING.lock().unwrap_or_else(PoisonError::into_inner);
        *listening += 1;
        log::set_max_level(log::LevelFilter::Debug);
    }
    walk();
    {
        let mut listening = LISTENING.lock().unwrap_or_else(PoisonError::into_inner);
        *listening -= 1;
        if *listening == 0 {
            log::set_max_level(log::LevelFilter::Off);
        }
    }
    let heard = HEARD
        .with(|heard| heard.borrow_mut().take())
        .unwrap_or_default();
    heard.iter().filter_map(|line| parse(line)).collect()
}

/// "ignoring PATH: MATCH" as the path and why; `None` for the walker's other lines.
fn parse(line: &str) -> Option<(PathBuf, SkipReason)> {
    let rest = line.strip_prefix("ignoring ")?;
    let (path, why) = match rest.find(": Ignore(IgnoreMatch(") {
        Some(at) => (&rest[..at], &rest[at + 2..]),
        None => rest.rsplit_once(": ")?,
    };
    let reason = if why == "Ignore(IgnoreMatch(Hidden))" {
        SkipReason::Hidden
    } else if let Some(glob) = why.strip_prefix("Ignore(IgnoreMatch(Gitignore(Glob {") {
        ignored(glob).unwrap_or_else(|| SkipReason::Other(why.to_string()))
    } else {
        SkipReason::Other(why.to_string())
    };
    Some((PathBuf::from(path), reason))
}

/// The fields of a gitignore `Glob`'s `Debug`: `from: Some("…/.gitignore"), original: "…", …`.
fn ignored(fields: &str) -> Option<SkipReason> {
    let from = fields.trim_start().strip_prefix("from: ")?;
    let (file, rest) = match from.strip_prefix("None") {
        Some(rest) => (None, rest),
        None => {
            let (file, rest) = quoted(from.strip_prefix("Some(\"")?)?;
            (Some(PathBuf::from(file)), rest)
        }
    };
    let at = rest.find("original: \"")?;
    let (pattern, _) = quoted(&rest[at + "original: \"".len()..])?;
    Some(SkipReason::Ignored { file, pattern })
}

/// The string a `Debug` quote starts (after its opening `"`), unescaped, and the text after
/// its closing `"`.
fn quoted(text: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Some((out, &text[at + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                '0' => out.push('\0'),
                'u' => {
                    let mut hex = String::new();
                    for (_, c) in chars.by_ref() {
                        match c {
                            '{' => {}
                            '}' => break,
                            c => hex.push(c),
                        }
                    }
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_walkers_lines() {
        assert_eq!(
            parse("ignoring ./.git: Ignore(IgnoreMatch(Hidden))"),
            Some((PathBuf::from("./.git"), SkipReason::Hidden))
        );
        assert_eq!(
            parse(
                "ignoring ./dist: Ignore(IgnoreMatch(Gitignore(Glob { from: \
                 Some(\"./a \\\"b\\\"/.gitignore\"), original: \"di\\u{e9}st/\", actual: \
                 \"**/dist\", is_whitelist: false, is_only_dir: true })))"
            ),
            Some((
                PathBuf::from("./dist"),
                SkipReason::Ignored {
                    file: Some(PathBuf::from("./a \"b\"/.gitignore")),
                    pattern: "diést/".to_string()
                }
            ))
        );
        assert_eq!(
            parse("ignoring big: 100 bytes"),
            Some((PathBuf::from("big"), SkipReason::Other("100 bytes".into())))
        );
        assert_eq!(parse("whitelisting ./x: Whitelist(..)"), None);
    }

    #[test]
    fn hears_the_walk_on_its_own_thread() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".cache")).unwrap();
        std::fs::write(dir.path().join(".ignore"), "out/\n").unwrap();
        std::fs::create_dir(dir.path().join("out")).unwrap();
        let heard = listen(|| for _ in ignore::WalkBuilder::new(dir.path()).build() {});
        let mut heard: Vec<_> = heard
            .into_iter()
            .map(|(path, reason)| (path.strip_prefix(dir.path()).unwrap().to_owned(), reason))
            .collect();
        heard.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            heard,
            vec![
                (PathBuf::from(".cache"), SkipReason::Hidden),
                (PathBuf::from(".ignore"), SkipReason::Hidden),
                (
                    PathBuf::from("out"),
                    SkipReason::Ignored {
                        file: Some(dir.path().join(".ignore")),
                        pattern: "out/".into()
                    }
                ),
            ]
        );
        // Nothing is heard outside `listen`.
        assert!(HEARD.with(|heard| heard.borrow().is_none()));
    }
}
