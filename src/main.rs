//! The `unroot` binary: parse the arguments, run the library, map the outcome to an exit status.

use std::process::ExitCode;

use clap::Parser;
use unroot::cli::{self, Args};

// Parsing and fixing thousands of files on every core allocates many small strings: mimalloc's
// per-thread heaps cut the time glibc's allocator took (over a quarter of a bulk run). Its
// `no_thp` feature (Cargo.toml) keeps it from asking for huge pages, which made each heap
// resident 2 MiB at a time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match Args::try_parse() {
        Ok(args) => cli::run(&args).into(),
        Err(err) => {
            // `--help` and `--version` go to stdout with status 0, usage errors to stderr with
            // status 2; text that could not be written is status 2 too.
            let printed = err
                .print()
                .and_then(|()| std::io::Write::flush(&mut std::io::stdout()));
            match printed {
                Ok(()) => ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2)),
                Err(_) => ExitCode::from(2),
            }
        }
    }
}
