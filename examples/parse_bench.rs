//! Parse every Dockerfile under a directory many times and print the throughput, in all and
//! for each group (each folder directly under the directory).
//!
//! ```text
//! cargo run --release --example parse_bench                    # ../shared/corpus, 20 passes
//! cargo run --release --example parse_bench -- DIR --passes 50
//! ```
//!
//! The files are read once, before timing; each pass parses all of them from memory.
//! Files the parser rejects (the corpus has negative cases on purpose) are timed too and
//! counted apart.

use std::collections::BTreeMap;
use std::fs;
use std::hint::black_box;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

// The allocator of the `unroot` binary (src/main.rs), so the parser is timed as unroot runs it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Parse every Dockerfile under a directory PASSES times and print the throughput.
#[derive(Debug, Parser)]
#[command(name = "parse_bench")]
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
            eprintln!("parse_bench: {err}");
            ExitCode::from(2)
        }
    }
}

/// The figures of one group of files, or of all of them.
#[derive(Default)]
struct Figures {
    files: usize,
    rejected: usize,
    bytes: usize,
    time: Duration,
}

impl Figures {
    fn mb_per_s(&self, passes: u32) -> f64 {
        let secs = self.time.as_secs_f64();
        if secs > 0.0 {
            self.bytes as f64 * f64::from(passes) / secs / 1e6
        } else {
            f64::INFINITY
        }
    }
}

struct Report {
    dir: PathBuf,
    passes: u32,
    total: Figures,
    groups: BTreeMap<String, Figures>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.total.time.as_secs_f64();
        writeln!(f, "dir:        {}", self.dir.display())?;
        writeln!(
            f,
            "files:      {} ({} rejected by the parser)",
            self.total.files, self.total.rejected
        )?;
        writeln!(f, "bytes:      {}", self.total.bytes)?;
        writeln!(f, "passes:     {}", self.passes)?;
        writeln!(f, "total:      {:.3} ms", secs * 1e3)?;
        writeln!(
            f,
            "per pass:   {:.3} ms",
            secs * 1e3 / f64::from(self.passes)
        )?;
        writeln!(
            f,
            "throughput: {:.1} MB/s",
            self.total.mb_per_s(self.passes)
        )?;
        if self.groups.len() > 1 {
            writeln!(f, "by group:")?;
            for (name, group) in &self.groups {
                writeln!(
                    f,
                    "  {name:<20} {:>4} files {:>9} bytes {:>8.1} MB/s",
                    group.files,
                    group.bytes,
                    group.mb_per_s(self.passes)
                )?;
            }
        }
        Ok(())
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
    let mut files_by_group: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    for path in &paths {
        let bytes = fs::read(path).map_err(|err| format!("{}: {err}", path.display()))?;
        files_by_group
            .entry(group_of(dir, path))
            .or_default()
            .push(bytes);
    }

    let mut total = Figures::default();
    let mut groups = BTreeMap::new();
    for (name, files) in files_by_group {
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
        let group = Figures {
            files: files.len(),
            rejected,
            bytes: files.iter().map(Vec::len).sum(),
            time: start.elapsed(),
        };
        total.files += group.files;
        total.rejected += group.rejected;
        total.bytes += group.bytes;
        total.time += group.time;
        groups.insert(name, group);
    }

    Ok(Report {
        dir: fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()),
        passes,
        total,
        groups,
    })
}

/// The first folder of `path` below `dir` (`.` for files directly in `dir`).
fn group_of(dir: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(dir).unwrap_or(path);
    let mut components = relative.components();
    match (components.next(), components.next()) {
        (Some(first), Some(_)) => first.as_os_str().to_string_lossy().into_owned(),
        _ => ".".to_string(),
    }
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
