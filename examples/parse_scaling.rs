//! Does the parser scale linearly with its input? For each input shape, parse generated
//! files of N, 2N, 4N and 8N units and print the time per size and the ratio between
//! successive doublings: about 2 is linear, about 4 quadratic.
//!
//! ```text
//! cargo run --release --example parse_scaling                  # N = 2000
//! cargo run --release --example parse_scaling -- 5000 expose   # N = 5000, shapes matching "expose"
//! ```
//!
//! Each time is the fastest of several runs, to keep other work on the machine out of it.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use unroot::syntax::{parse, MAX_FILE_SIZE};

/// A shape: its name and how to write a file with `n` units of it.
struct Shape {
    name: &'static str,
    generate: fn(usize) -> String,
}

const SHAPES: &[Shape] = &[
    Shape {
        name: "env-lines",
        generate: |n| lines(n, "FROM node:22\n", |i| format!("ENV P_{i}_PORT=80\n")),
    },
    Shape {
        name: "env-lines-then-expose",
        generate: |n| {
            lines(n, "FROM node:22\n", |i| format!("ENV P_{i}_PORT=80\n"))
                + "EXPOSE 80 443 $P_1_PORT\n"
        },
    },
    Shape {
        name: "env-pairs-one-line",
        generate: |n| lines(n, "FROM node:22\nENV", |i| format!(" K{i}=\"v {i}\"")) + "\n",
    },
    Shape {
        name: "expose-ports-one-line",
        generate: |n| lines(n, "FROM node:22\nEXPOSE", |i| format!(" {}/tcp", i % 60000)) + "\n",
    },
    Shape {
        name: "expose-lines",
        generate: |n| {
            lines(n, "FROM node:22\n", |i| {
                format!("EXPOSE {} 443\n", i % 60000)
            })
        },
    },
    Shape {
        name: "continuation-lines",
        generate: |n| {
            lines(n, "FROM node:22\nRUN true", |i| {
                format!(" \\\n  && echo {i}")
            }) + "\n"
        },
    },
    Shape {
        name: "continuation-comments",
        generate: |n| {
            lines(n, "FROM node:22\nRUN true \\\n", |i| {
                format!("  # note {i}\n")
            }) + "  done\n"
        },
    },
    Shape {
        name: "continuation-blank-lines",
        generate: |n| lines(n, "FROM node:22\nRUN true \\\n", |_| "   \n".to_string()) + "  done\n",
    },
    Shape {
        name: "heredoc-many",
        generate: |n| {
            lines(n, "FROM node:22\n", |i| {
                format!("RUN <<EOF\necho {i}\nEOF\n")
            })
        },
    },
    Shape {
        name: "heredoc-long-body",
        generate: |n| lines(n, "FROM node:22\nRUN <<-EOF\n", |i| format!("\techo {i}\n")) + "EOF\n",
    },
    Shape {
        name: "heredoc-many-on-one-line",
        generate: |n| {
            let openers = lines(n, "FROM node:22\nCOPY", |i| format!(" <<F{i}"));
            lines(n, &(openers + " /dst/\n"), |i| format!("body {i}\nF{i}\n"))
        },
    },
    Shape {
        name: "stages",
        generate: |n| lines(n, "", |i| format!("FROM node:22 AS s{i}\nRUN echo {i}\n")),
    },
    Shape {
        name: "long-run-line",
        generate: |n| lines(n, "FROM node:22\nRUN true", |i| format!(" && echo {i}")) + "\n",
    },
    Shape {
        name: "long-cmd-shell-line",
        generate: |n| lines(n, "FROM node:22\nCMD node", |i| format!(" 'arg {i}'")) + "\n",
    },
    Shape {
        name: "long-json-array",
        generate: |n| {
            lines(n, "FROM node:22\nCMD [\"node\"", |i| {
                format!(", \"arg{i}\"")
            }) + "]\n"
        },
    },
    Shape {
        name: "long-flags",
        generate: |n| {
            lines(n, "FROM node:22\nRUN", |i| {
                format!(" --mount=type=cache,id=c{i}")
            }) + " npm ci\n"
        },
    },
    Shape {
        name: "comments",
        generate: |n| lines(n, "", |i| format!("# comment {i}\n")) + "FROM node:22\n",
    },
    Shape {
        name: "blank-lines",
        generate: |n| lines(n, "FROM node:22\n", |_| "\n".to_string()) + "USER node\n",
    },
    Shape {
        name: "directive-like-comments",
        generate: |n| {
            lines(n, "# syntax=docker/dockerfile:1\n", |i| {
                format!("# key{i}=value\n")
            }) + "FROM node:22\n"
        },
    },
];

/// `head` followed by `unit(i)` for each `i` below `n`.
fn lines(n: usize, head: &str, unit: impl Fn(usize) -> String) -> String {
    let mut text = head.to_string();
    for i in 0..n {
        text.push_str(&unit(i));
    }
    text
}

/// The fastest parse of `text` over at least 5 runs and 100 ms.
fn time_parse(text: &str) -> Duration {
    let mut best = Duration::MAX;
    let mut spent = Duration::ZERO;
    let mut runs = 0;
    while runs < 5 || (spent < Duration::from_millis(100) && runs < 1000) {
        let start = Instant::now();
        let parsed = black_box(parse(black_box(text)));
        let elapsed = start.elapsed();
        drop(parsed);
        best = best.min(elapsed);
        spent += elapsed;
        runs += 1;
    }
    best
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let n = match args.next().map(|arg| arg.parse::<usize>()) {
        None => 2000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: parse_scaling [N] [SHAPE-SUBSTRING]");
            return ExitCode::from(2);
        }
    };
    let filter = args.next().unwrap_or_default();
    let sizes = [n, 2 * n, 4 * n, 8 * n];
    println!(
        "{:<26} {:>8} {:>10} {:>12} {:>7}",
        "shape", "units", "bytes", "time", "ratio"
    );
    for shape in SHAPES.iter().filter(|shape| shape.name.contains(&filter)) {
        let mut previous: Option<Duration> = None;
        for units in sizes {
            let text = (shape.generate)(units);
            if text.len() > MAX_FILE_SIZE {
                println!(
                    "{:<26} {units:>8} {:>10} over MAX_FILE_SIZE",
                    shape.name,
                    text.len()
                );
                break;
            }
            if let Err(err) = parse(&text) {
                eprintln!("{}: {units} units do not parse: {err}", shape.name);
                return ExitCode::FAILURE;
            }
            let time = time_parse(&text);
            let ratio = previous.map_or(String::new(), |previous| {
                format!("{:.2}", time.as_secs_f64() / previous.as_secs_f64())
            });
            println!(
                "{:<26} {units:>8} {:>10} {:>9.3} ms {ratio:>7}",
                shape.name,
                text.len(),
                time.as_secs_f64() * 1e3
            );
            previous = Some(time);
        }
    }
    ExitCode::SUCCESS
}
