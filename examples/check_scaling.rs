//! How checking time grows with the size of a file, for shapes of Dockerfile that could make
//! a rule super-linear: each shape is generated at N, 2N, 4N and 8N lines, then timed twice:
//! `check`, every rule on the parsed file (`unroot::rules::check`), and `lint`, the whole
//! pipeline (parse, check, fixes applied until stable, unsafe ones included:
//! `unroot::lint::lint`). A doubling ratio near 2 is linear; near 4 is quadratic.
//!
//! ```text
//! cargo run --release --example check_scaling                 # N = 1000, every shape
//! cargo run --release --example check_scaling -- 2000 env-port
//! ```
//!
//! Times are the best of three runs. Never run by the tests: timings belong here.

use std::fmt::Write as _;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use unroot::edit::Applicability;
use unroot::linter::{lint, LintOptions};
use unroot::rules;
use unroot::syntax::parse;

/// A shape: its name, what it is, and the file it makes for a size.
struct Shape {
    name: &'static str,
    what: &'static str,
    make: fn(usize) -> String,
}

const SHAPES: &[Shape] = &[
    Shape {
        name: "env-expose",
        what: "N `ENV V_i=i` lines, then `EXPOSE 80`",
        make: |n| {
            let mut file = String::from("FROM node:22\n");
            for i in 0..n {
                writeln!(file, "ENV V_{i}={i}").unwrap();
            }
            file + "EXPOSE 80\nCMD [\"node\", \"server.js\"]\n"
        },
    },
    Shape {
        name: "env-port",
        what: "N `ENV P_i_PORT=80` lines, then `EXPOSE 80`",
        make: |n| {
            let mut file = String::from("FROM node:22\n");
            for i in 0..n {
                writeln!(file, "ENV P_{i}_PORT=80").unwrap();
            }
            file + "EXPOSE 80\nCMD [\"node\", \"server.js\"]\n"
        },
    },
    Shape {
        name: "port-vars",
        what: "N port variables on distinct ports from 8080 up (the new port must skip them)",
        make: |n| {
            let mut file = String::from("FROM node:22\n");
            for i in 0..n {
                writeln!(file, "ENV P_{i}_PORT={}", 8080 + i % 50000).unwrap();
            }
            file + "EXPOSE 80\nCMD [\"node\", \"server.js\"]\n"
        },
    },
    Shape {
        name: "expose-ports",
        what: "N `EXPOSE p` lines, every port a different one (privileged ones first)",
        make: |n| {
            let mut file = String::from("FROM node:22\n");
            for i in 0..n {
                writeln!(file, "EXPOSE {}", 1 + i % 65535).unwrap();
            }
            file + "CMD [\"node\", \"server.js\"]\n"
        },
    },
    Shape {
        name: "expose-vars",
        what: "N `ARG V_i=80` + `EXPOSE $V_i` pairs",
        make: |n| {
            let mut file = String::from("FROM node:22\n");
            for i in 0..n / 2 {
                writeln!(file, "ARG V_{i}=80\nEXPOSE $V_{i}").unwrap();
            }
            file + "CMD [\"node\", \"server.js\"]\n"
        },
    },
    Shape {
        name: "ranges",
        what: "N different privileged ranges `EXPOSE 1-k`",
        make: |n| {
            let mut file = String::from("FROM node:22\n");
            for i in 0..n {
                writeln!(file, "EXPOSE 1-{}", 2 + i % 65000).unwrap();
            }
            file + "CMD [\"node\", \"server.js\"]\n"
        },
    },
    Shape {
        name: "continuations",
        what: "one RUN of N lines joined by `\\` continuations",
        make: |n| {
            let mut file = String::from("FROM node:22\nRUN echo start \\\n");
            for i in 0..n {
                writeln!(file, "  && echo {i} \\").unwrap();
            }
            file + "  && echo end\nEXPOSE 80\nCMD [\"node\", \"server.js\"]\n"
        },
    },
    Shape {
        name: "heredocs",
        what: "one `RUN <<EOF` heredoc of N lines, and N/8 heredocs of 7 lines",
        make: |n| {
            let mut file = String::from("FROM node:22\nRUN <<EOF\n");
            for i in 0..n {
                writeln!(file, "echo {i}").unwrap();
            }
            file.push_str("EOF\n");
            for i in 0..n / 8 {
                writeln!(
                    file,
                    "RUN <<SCRIPT_{i}\nset -e\ncd /app\nnpm ci\necho {i}\nls\nSCRIPT_{i}"
                )
                .unwrap();
            }
            file + "EXPOSE 80\nCMD [\"node\", \"server.js\"]\n"
        },
    },
    Shape {
        name: "stages",
        what: "N stages `FROM node:lts AS s_i`, each with a RUN",
        make: |n| {
            let mut file = String::new();
            for i in 0..n / 2 {
                writeln!(file, "FROM node:lts AS s_{i}\nRUN npm ci").unwrap();
            }
            file + "CMD [\"node\", \"server.js\"]\n"
        },
    },
    Shape {
        name: "stage-chain",
        what: "N stages, each built FROM the one before, with an ENV and an EXPOSE",
        make: |n| {
            let mut file = String::from("FROM node:22 AS s_0\n");
            for i in 1..n / 3 {
                writeln!(file, "FROM s_{} AS s_{i}\nENV V_{i}={i}\nEXPOSE 80", i - 1).unwrap();
            }
            file + "CMD [\"node\", \"server.js\"]\n"
        },
    },
    Shape {
        name: "global-args",
        what: "N global `ARG A_i=lts` and N/8 stages `FROM node:${A_i}`",
        make: |n| {
            let mut file = String::new();
            for i in 0..n {
                writeln!(file, "ARG A_{i}=lts").unwrap();
            }
            for i in 0..n / 8 {
                writeln!(file, "FROM node:${{A_{i}}}\nRUN npm ci").unwrap();
            }
            file + "CMD [\"node\", \"server.js\"]\n"
        },
    },
    Shape {
        name: "args-user",
        what: "N `ARG A_i=x` lines in the stage, then `USER ${A_0}`",
        make: |n| {
            let mut file = String::from("FROM node:22\n");
            for i in 0..n {
                writeln!(file, "ARG A_{i}=u{i}").unwrap();
            }
            file + "USER ${A_0}\nCMD [\"node\", \"server.js\"]\n"
        },
    },
    Shape {
        name: "users",
        what: "N `USER u_i` + `RUN true` pairs, the last one root",
        make: |n| {
            let mut file = String::from("FROM node:22\n");
            for i in 0..n / 2 {
                writeln!(file, "USER u_{i}\nRUN true").unwrap();
            }
            file + "USER root\nCMD [\"node\", \"server.js\"]\n"
        },
    },
    Shape {
        name: "commands",
        what: "N `HEALTHCHECK`/`CMD` lines naming `localhost:80` and `--port 80`",
        make: |n| {
            let mut file = String::from("FROM node:22\nEXPOSE 80\n");
            for _ in 0..n / 2 {
                file.push_str("HEALTHCHECK CMD curl -f http://localhost:80/\n");
                file.push_str("CMD [\"node\", \"server.js\", \"--port\", \"80\"]\n");
            }
            file
        },
    },
];

/// The best of three runs of `run`.
fn best(mut run: impl FnMut()) -> Duration {
    (0..3)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// The times of `check` and of `lint` on `source`.
fn time(source: &str) -> (Duration, Duration) {
    let options = LintOptions::default();
    let file = parse(source).expect("a generated file parses");
    let check = best(|| {
        black_box(rules::check(&file, &options.rules, &options.selection).len());
    });
    let lint = best(|| {
        let outcome = lint(source, &options, Applicability::Unsafe);
        black_box(outcome.map(|o| o.findings.len()).ok());
    });
    (check, lint)
}

/// `now / before`, when there is a before.
fn ratio(now: Duration, before: Option<Duration>) -> String {
    before
        .filter(|before| !before.is_zero())
        .map(|before| format!("{:.2}", now.as_secs_f64() / before.as_secs_f64()))
        .unwrap_or_default()
}

fn main() -> ExitCode {
    let mut base = 1000;
    let mut only = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.parse::<usize>() {
            Ok(n) if n > 0 => base = n,
            _ if SHAPES.iter().any(|s| s.name == arg) => only.push(arg),
            _ => {
                let names: Vec<&str> = SHAPES.iter().map(|s| s.name).collect();
                eprintln!(
                    "usage: check_scaling [N] [SHAPE…]; shapes: {}",
                    names.join(", ")
                );
                return ExitCode::from(2);
            }
        }
    }
    println!(
        "{:<14} {:>7} {:>10} {:>6} {:>10} {:>6}",
        "shape", "lines", "check s", "ratio", "lint s", "ratio"
    );
    for shape in SHAPES {
        if !only.is_empty() && !only.iter().any(|name| name == shape.name) {
            continue;
        }
        println!("# {}: {}", shape.name, shape.what);
        let mut previous: Option<(Duration, Duration)> = None;
        for factor in [1, 2, 4, 8] {
            let source = (shape.make)(base * factor);
            let (check, lint) = time(&source);
            println!(
                "{:<14} {:>7} {:>10.4} {:>6} {:>10.4} {:>6}",
                shape.name,
                source.lines().count(),
                check.as_secs_f64(),
                ratio(check, previous.map(|p| p.0)),
                lint.as_secs_f64(),
                ratio(lint, previous.map(|p| p.1)),
            );
            previous = Some((check, lint));
        }
    }
    ExitCode::SUCCESS
}
