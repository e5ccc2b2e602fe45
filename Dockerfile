# syntax=docker/dockerfile:1
# unroot in a container: `docker build -t unroot .`, then
# `docker run --rm -v "$PWD:/work" unroot` checks the Dockerfiles of the current directory.
# The release workflow builds the same file with the release binaries instead of compiling:
# `docker buildx build --build-context binary=DIR .`, where DIR holds amd64/unroot and
# arm64/unroot, replaces the `binary` stage (and so skips `build`).

# Build: the Rust toolchain pinned to a release, on the Debian release of the runtime image.
FROM rust:1.95.0-slim-bookworm AS build
# libgit2's HTTPS transport links OpenSSL; pkg-config finds it. The runtime image has the same
# Debian release's libssl. The build stage is thrown away, so its packages are not pinned:
# Debian replaces old versions on security updates.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends pkg-config libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY templates ./templates
# Cache mounts keep the crates and the build directory between builds of one machine, so a
# rebuild compiles only what changed; the binary is copied out of the cached directory.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --bin unroot \
    && install -D target/release/unroot /out/unroot

# The binary, by Docker architecture (what the release's named context `binary` holds).
FROM scratch AS binary
ARG TARGETARCH
COPY --from=build /out/unroot /${TARGETARCH}/unroot

# Run: distroless with glibc, OpenSSL and CA certificates, no shell, no package manager.
FROM gcr.io/distroless/cc-debian12:nonroot
ARG TARGETARCH
COPY --from=binary /${TARGETARCH}/unroot /usr/local/bin/unroot
# The image's `nonroot` user, by number: Kubernetes `runAsNonRoot` can verify it.
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["unroot"]
