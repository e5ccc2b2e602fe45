//! The progress bar on standard error while many files are checked.
//!
//! Drawn only for a person watching: standard error is a terminal, `CI` is not set, and more
//! than [`MIN_FILES`] files are to be checked. Pipes, files and CI logs never get one (a bar
//! there is only noise: carriage returns and cursor codes in a log).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Fewer files than this are checked before a bar would be worth drawing.
pub const MIN_FILES: usize = 200;

/// Whether this process may draw a bar at all: standard error is a terminal and `CI` is unset.
pub fn allowed() -> bool {
    allowed_for(
        std::io::stderr().is_terminal(),
        std::env::var_os("CI").is_some(),
    )
}

fn allowed_for(stderr_is_terminal: bool, ci: bool) -> bool {
    stderr_is_terminal && !ci
}

/// A bar over the files being checked, or nothing. Shared by the threads that check files
/// (`indicatif`'s bar is `Sync`); each calls [`Progress::inc`] once per file.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// A bar over `files` files if `allowed` (see [`allowed`]) and there are more than
    /// [`MIN_FILES`]; otherwise nothing is ever drawn.
    pub fn new(files: usize, allowed: bool) -> Progress {
        if !allowed || files <= MIN_FILES {
            return Progress(None);
        }
        let bar = ProgressBar::with_draw_target(
            Some(u64::try_from(files).unwrap_or(u64::MAX)),
            ProgressDrawTarget::stderr(),
        );
        if let Ok(style) =
            ProgressStyle::with_template("{bar:40} {pos}/{len} files checked ({elapsed})")
        {
            bar.set_style(style);
        }
        Progress(Some(bar))
    }

    #[cfg(test)]
    fn is_shown(&self) -> bool {
        self.0.is_some()
    }

    /// One more file checked.
    pub fn inc(&self) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
        }
    }

    /// Runs `print` with the bar hidden, so lines printed meanwhile do not break it.
    pub fn suspend<T>(&self, print: impl FnOnce() -> T) -> T {
        match &self.0 {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    /// Removes the bar before the report is printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_on_a_terminal_outside_ci() {
        assert!(allowed_for(true, false));
        assert!(!allowed_for(false, false));
        assert!(!allowed_for(true, true));
        assert!(!allowed_for(false, true));
    }

    #[test]
    fn only_for_many_files() {
        assert!(!Progress::new(MIN_FILES, true).is_shown());
        let many = Progress::new(MIN_FILES + 1, true);
        assert!(many.is_shown());
        many.finish();
        assert!(!Progress::new(10_000, false).is_shown());
    }
}
