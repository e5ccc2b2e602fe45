# syntax=docker/dockerfile:1
# unroot in a container: `docker build -t unroot .`, then
# `docker run --rm -v "$PWD:/work" unroot` checks the Dockerfiles of the current directory.

# Build: the Rust toolchain pinned to a release, on the Debian release of the runtime image.
FROM rust:1.95.0-slim-bookworm AS build
# libgit2's HTTPS transport links OpenSSL; pkg-config finds it. The build stage is thrown
# away, so its packages are not pinned: Debian replaces old versions on security updates.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends pkg-config libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY templates ./templates
RUN cargo build --release --locked --bin unroot

# Run: distroless with glibc, OpenSSL and CA certificates, no shell, no package manager.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/unroot /usr/local/bin/unroot
# The image's `nonroot` user, by number: Kubernetes `runAsNonRoot` can verify it.
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["unroot"]
