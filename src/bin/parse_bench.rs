//! Parse every Dockerfile under a directory many times and print the throughput.
//!
//! ```text
//! cargo run --release --bin parse-bench                    # ../shared/corpus, 20 passes
//! cargo run --release --bin parse-bench -- DIR --passes 50
//! ```
//!
//! The files are read once, before timing; each pass parses all of them from memory.
//! Files the parser rejects (the corpus has negative cases on purpose) are timed too and
//! counted apart.

use std::fs;
use std::hint::black_box;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

/// Parse every Dockerfile under a directory PASSES times and print the throughput.
#[derive(Debug, Parser)]
#[command(name = "parse-bench")]
struct Args {
    /// Directory to search for files named `Dockerfile`, `Dockerfile.*` or `*.Dockerfile`
    /// [default: ../shared/corpus beside the crate]
    #[arg(value_name = "DIR")]
    dir: Option<PathBuf>,
    /// How many times to parse every file
    #[arg(short = 'n', long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    passes: u32,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let dir = args
        .dir
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    match bench(&dir, args.passes) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("parse-bench: {err}");
            ExitCode::from(2)
        }
    }
}

struct Report {
    dir: PathBuf,
    files: usize,
    rejected: usize,
    bytes: usize,
    passes: u32,
    total: Duration,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.total.as_secs_f64();
        let parsed_bytes = self.bytes as f64 * f64::from(self.passes);
        let mb_per_s = if secs > 0.0 {
            parsed_bytes / secs / 1e6
        } else {
            f64::INFINITY
        };
        writeln!(f, "dir:        {}", self.dir.display())?;
        writeln!(
            f,
            "files:      {} ({} rejected by the parser)",
            self.files, self.rejected
        )?;
        writeln!(f, "bytes:      {}", self.bytes)?;
        writeln!(f, "passes:     {}", self.passes)?;
        writeln!(f, "total:      {:.3} ms", secs * 1e3)?;
        writeln!(
            f,
            "per pass:   {:.3} ms",
            secs * 1e3 / f64::from(self.passes)
        )?;
        write!(f, "throughput: {mb_per_s:.1} MB/s")
    }
}

fn bench(dir: &Path, passes: u32) -> Result<Report, String> {
    let mut paths = Vec::new();
    find_dockerfiles(dir, &mut paths)
        .map_err(|(path, err)| format!("{}: {err}", path.display()))?;
    if paths.is_empty() {
        return Err(format!("{}: no Dockerfile found", dir.display()));
    }
    paths.sort();
    let files = paths
        .iter()
        .map(|path| fs::read(path).map_err(|err| format!("{}: {err}", path.display())))
        .collect::<Result<Vec<_>, _>>()?;

    // One untimed pass to count the rejected files (and warm the caches).
    let rejected = files
        .iter()
        .filter(|bytes| unroot::syntax::parse_bytes(bytes).is_err())
        .count();

    let start = Instant::now();
    for _ in 0..passes {
        for bytes in &files {
            let _ = black_box(unroot::syntax::parse_bytes(black_box(bytes)));
        }
    }
    let total = start.elapsed();

    Ok(Report {
        dir: fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()),
        files: files.len(),
        rejected,
        bytes: files.iter().map(Vec::len).sum(),
        passes,
        total,
    })
}

/// Collect the Dockerfiles under `dir`, without following symbolic links.
fn find_dockerfiles(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), (PathBuf, io::Error)> {
    let entries = fs::read_dir(dir).map_err(|err| (dir.to_path_buf(), err))?;
    for entry in entries {
        let entry = entry.map_err(|err| (dir.to_path_buf(), err))?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(|err| (path.clone(), err))?;
        if file_type.is_dir() {
            find_dockerfiles(&path, out)?;
        } else if file_type.is_file() && is_dockerfile_name(&entry.file_name().to_string_lossy()) {
            out.push(path);
        }
    }
    Ok(())
}

fn is_dockerfile_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "dockerfile" || name.starts_with("dockerfile.") || name.ends_with(".dockerfile")
}
