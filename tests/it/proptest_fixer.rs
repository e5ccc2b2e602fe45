//! Property tests for the fixer, in every `cargo test`: on Dockerfile-like text made of the
//! constructs the rules act on, fixing converges, the fixed text parses, and a second run
//! changes nothing (safe fixes alone, and with the unsafe ones).

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::FileFailurePersistence;
use unroot::edit::Applicability;
use unroot::linter::{lint, LintOptions};
use unroot::syntax::parse;

const LINES: &[&str] = &[
    "FROM node:lts",
    "FROM node:22-alpine AS build",
    "FROM node AS base",
    "FROM node:latest",
    "FROM base",
    "FROM alpine:3.20",
    "FROM debian:bookworm-slim",
    "FROM gcr.io/distroless/nodejs22-debian12",
    "FROM --platform=$BUILDPLATFORM node:20 AS deps",
    "FROM \"node:lts\"",
    "ARG NODE=node:lts",
    "FROM ${NODE}",
    "ARG R=root",
    "USER ${R}",
    "USER root",
    "USER node",
    "USER 1000:1000",
    "USER 0",
    "WORKDIR /app",
    "COPY . .",
    "COPY --from=build /app ./",
    "COPY package*.json ./",
    "RUN npm ci",
    "RUN apk add --no-cache nodejs npm",
    "RUN apt-get update && apt-get install -y nodejs",
    "RUN mkdir -p /data && \\\n    chown node /data",
    "RUN <<EOF\nnpm ci\nEOF",
    "ENV PORT=80",
    "ENV PORT 443",
    "ENV NODE_ENV=production PORT=80",
    "ARG PORT=80",
    "EXPOSE 80",
    "EXPOSE 80 443/tcp",
    "EXPOSE ${PORT}",
    "EXPOSE 3000",
    "VOLUME /data",
    "HEALTHCHECK CMD curl -f http://localhost:80/ || exit 1",
    "HEALTHCHECK CMD wget -qO- http://127.0.0.1:${PORT}/health",
    "CMD [\"node\", \"server.js\"]",
    "CMD node server.js --port 80",
    "CMD [\"npm\", \"start\"]",
    "ENTRYPOINT [\"docker-entrypoint.sh\"]",
    "# a comment",
    "# unroot ignore=root-user",
    "# hadolint ignore=DL3002",
    "# unroot pin=none",
    "",
];

fn dockerfile() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(select(LINES), 1..16),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(lines, crlf, final_newline)| {
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut text = lines
                .iter()
                .map(|line| line.replace('\n', eol))
                .collect::<Vec<_>>()
                .join(eol);
            if final_newline {
                text.push_str(eol);
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..ProptestConfig::default()
    })]

    #[test]
    fn fixing_converges_parses_and_is_idempotent(source in dockerfile()) {
        if parse(&source).is_err() {
            return Ok(());
        }
        let options = LintOptions::default();
        for threshold in [Applicability::Safe, Applicability::Unsafe] {
            let once = lint(&source, &options, threshold)
                .map_err(|error| TestCaseError::fail(format!("{error}\n{source}")))?;
            prop_assert!(parse(&once.fixed).is_ok(), "the fixed text does not parse:\n{}", once.fixed);
            let twice = lint(&once.fixed, &options, threshold)
                .map_err(|error| TestCaseError::fail(format!("{error}\n{}", once.fixed)))?;
            prop_assert_eq!(&twice.fixed, &once.fixed, "a second run changed:\n{}", source);
        }
    }
}
