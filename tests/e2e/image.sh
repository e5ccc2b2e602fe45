#!/usr/bin/env bash
# Builds unroot's own container image from the repository's Dockerfile and runs it, as a user
# would (`docker build -t unroot .`, `docker run --rm -v "$PWD:/work" unroot`). Run by .ci/run
# after tests/e2e/setup.sh, with run-image's podman and store (RUN_IMAGE_HOME); as root, with the
# Debian mirror and crates.io reachable (the build stage installs libssl-dev and fetches crates).
#
#   bash tests/e2e/image.sh
#
# Nothing is pulled: the Dockerfile's two bases are local stand-ins. `gcr.io/distroless/cc-*`
# comes from run-image; `rust:<version>-slim-bookworm` is made here, once per store, from
# run-image's Debian bookworm slim stand-in and this machine's Rust toolchain of the same version
# (the real image: Debian slim, gcc and libc6-dev, the toolchain under /usr/local/rustup with
# cargo and rustc on PATH from /usr/local/cargo/bin).
#
# The build context is exactly the files the Dockerfile copies (plus the Dockerfile), so a file
# the build needs but the Dockerfile leaves out fails here. The image is then run: it prints its
# version, its process runs as uid 65532, and on a fixture it reports the findings with exit 1
# and fixes them with --write. Last, the release's way of building the same Dockerfile (BuildKit,
# the binary given as a named context) is run and its image checked the same way.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export RUN_IMAGE_HOME=${RUN_IMAGE_HOME:-/var/lib/run-image}
TOOLS=../shared/tools/run-image
if [ ! -f "$RUN_IMAGE_HOME/conf/containers.conf" ]; then
    echo "image.sh: run-image is not set up under $RUN_IMAGE_HOME (run tests/e2e/setup.sh)" >&2
    exit 1
fi
# shellcheck source=/dev/null
. "$TOOLS/lib.sh"

fail() {
    echo "image.sh: $*" >&2
    exit 1
}

rust_image=$(sed -n 's/^FROM \(rust:[^ ]*\) AS build$/\1/p' Dockerfile)
rust_version=$(printf '%s\n' "$rust_image" | sed -n 's/^rust:\([0-9][0-9.]*\)-slim-bookworm$/\1/p')
[ -n "$rust_version" ] || fail "the Dockerfile's build stage is not FROM rust:X.Y.Z-slim-bookworm (got '$rust_image')"
runtime_image=$(sed -n 's/^FROM \(gcr\.io\/distroless\/[^ ]*\)$/\1/p' Dockerfile)
[ -n "$runtime_image" ] || fail "the Dockerfile's last stage is not FROM gcr.io/distroless/..."

scratch=$(mktemp -d "${TMPDIR:-/tmp}/unroot-image-XXXXXX")
trap 'rm -rf "$scratch"' EXIT

echo "== stand-in for $runtime_image"
if podman image exists "$runtime_image"; then
    echo "already in the store"
else
    # run-image resolves the name to its distroless rootfs and the tag's user (`:nonroot`).
    resolved=$(python3 "$TOOLS/run_image.py" resolve-ref "$runtime_image")
    standin=$(printf '%s' "$resolved" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("standin") or "")')
    standin_user=$(printf '%s' "$resolved" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("user") or "")')
    if [ -z "$standin" ] || ! podman image exists "$standin"; then
        fail "run-image has no stand-in for $runtime_image"
    fi
    mkdir "$scratch/runtime"
    { echo "FROM $standin"; [ -z "$standin_user" ] || echo "USER $standin_user"; } > "$scratch/runtime/Containerfile"
    podman build --quiet --pull=never --network none -t "$runtime_image" "$scratch/runtime" > /dev/null
    echo "made from $standin${standin_user:+ with USER $standin_user}"
fi

echo "== stand-in for $rust_image"
if podman image exists "docker.io/library/$rust_image"; then
    echo "already in the store"
else
    host_version=$(rustc --version | awk '{print $2}')
    [ "$host_version" = "$rust_version" ] \
        || fail "the Dockerfile pins Rust $rust_version; this machine's toolchain is $host_version"
    sysroot=$(rustc --print sysroot)
    triple=$(rustc -vV | sed -n 's/^host: //p')
    mkdir -p "$scratch/rust/toolchain"
    # The machine's CA bundle, as run-image gives its node stand-ins: where TLS to the package
    # registries is intercepted, cargo in the build stage must trust what the host trusts.
    cp /etc/ssl/certs/ca-certificates.crt "$scratch/rust/host-ca-bundle.crt"
    # The toolchain without its documentation (share/doc is most of its size).
    for part in bin lib libexec etc; do
        if [ -e "$sysroot/$part" ]; then cp -a "$sysroot/$part" "$scratch/rust/toolchain/"; fi
    done
    cat > "$scratch/rust/Containerfile" <<EOF
FROM docker.io/library/debian:bookworm-slim
RUN apt-get update \\
    && apt-get install -y --no-install-recommends ca-certificates gcc libc6-dev \\
    && rm -rf /var/lib/apt/lists/*
ENV RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo RUST_VERSION=$rust_version \\
    PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY host-ca-bundle.crt /usr/local/share/ca-certificates/host-ca-bundle.crt
RUN update-ca-certificates > /dev/null 2>&1
COPY toolchain /usr/local/rustup/toolchains/$rust_version-$triple
RUN mkdir -p /usr/local/cargo/bin \\
    && for tool in cargo rustc rustdoc; do \\
        ln -s /usr/local/rustup/toolchains/$rust_version-$triple/bin/\$tool /usr/local/cargo/bin/\$tool; \\
    done \\
    && cargo --version && rustc --version
EOF
    podman build --quiet --pull=never --network host -t "docker.io/library/$rust_image" "$scratch/rust"
    rm -rf "$scratch/rust"
fi

echo "== podman build (context: the files the Dockerfile copies)"
context="$scratch/context"
mkdir "$context"
cp -R Dockerfile Cargo.toml Cargo.lock src templates "$context/"
tag=localhost/unroot-ci/unroot:test
start=$(date +%s)
podman build --pull=never --network host -t "$tag" "$context" > "$scratch/build.log" 2>&1 \
    || { tail -n 30 "$scratch/build.log" >&2; fail "the image did not build"; }
echo "built $tag in $(( $(date +%s) - start )) s ($(podman image inspect --format '{{.Size}}' "$tag") bytes)"
user=$(podman image inspect --format '{{.Config.User}}' "$tag")
[ "$user" = "65532:65532" ] || fail "the image's USER is '$user', expected 65532:65532"

echo "== podman run"
version=$(podman run --rm --network none "$tag" --version)
expected_version="unroot $(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
[ "$version" = "$expected_version" ] || fail "--version printed '$version', expected '$expected_version'"
echo "$version"

# The process's own uid, read from the host while it waits on standard input (`unroot -`).
cid=$(podman run -d -i --network none "$tag" -)
pid=$(podman inspect --format '{{.State.Pid}}' "$cid")
uid=$(awk '/^Uid:/ {print $3}' "/proc/$pid/status" 2>/dev/null || true)
podman rm --force --time 0 "$cid" > /dev/null
[ "$uid" = "65532" ] || fail "the container's process runs as uid '$uid', expected 65532"
echo "uid of the running process: $uid"

# A directory the container's user may write, as `docker run -u` or a chown would give it.
work="$scratch/work"
mkdir "$work"
printf 'FROM node:22\nWORKDIR /app\nCOPY . .\nEXPOSE 80\nCMD ["node", "server.js"]\n' > "$work/Dockerfile"
chown -R 65532:65532 "$work"
status=0
podman run --rm --network none -v "$work:/work" "$tag" > "$scratch/check.out" 2>&1 || status=$?
[ "$status" -eq 1 ] || { cat "$scratch/check.out" >&2; fail "the check exited $status, expected 1 (findings)"; }
findings=$(grep -c '^Dockerfile:[0-9]' "$scratch/check.out" || true)
[ "$findings" -gt 0 ] || { cat "$scratch/check.out" >&2; fail "the check named no finding in Dockerfile"; }
echo "check: exit 1, $findings findings"

podman run --rm --network none -v "$work:/work" "$tag" --write --unsafe-fixes > "$scratch/write.out" 2>&1 || true
grep -q '^USER ' "$work/Dockerfile" || { cat "$scratch/write.out" >&2; fail "--write added no USER"; }
echo "write: the fixed Dockerfile has '$(grep '^USER ' "$work/Dockerfile")'"

echo "== the release's build: BuildKit with the binaries as the named context \`binary\`"
# .github/workflows/release.yml runs `docker buildx build --build-context binary=DIR`, which
# replaces the Dockerfile's `binary` stage with DIR/<arch>/unroot and so skips the compile. Run
# here with BuildKit (dockerd 26.1 from run-image's docker-engine.sh), the binary taken from the
# image just built. The `# syntax=` line is dropped: its frontend image would be pulled, and the
# engine's own Dockerfile frontend reads the rest.
bash "$TOOLS/docker-engine.sh" setup
bash "$TOOLS/docker-engine.sh" start
trap 'bash "$TOOLS/docker-engine.sh" stop > /dev/null 2>&1 || true; rm -rf "$scratch"' EXIT
eval "$(bash "$TOOLS/docker-engine.sh" env)"
# BuildKit resolves every stage's base, the skipped one's too.
for base in "$runtime_image" "docker.io/library/$rust_image"; do
    docker image inspect "$base" > /dev/null 2>&1 || podman save "$base" | docker load > /dev/null
done
arch=$(podman image inspect --format '{{.Architecture}}' "$tag")
mkdir -p "$scratch/binary/$arch"
container=$(podman create "$tag")
podman cp "$container:/usr/local/bin/unroot" "$scratch/binary/$arch/unroot"
podman rm "$container" > /dev/null
sed -i '1{/^# syntax=/d}' "$context/Dockerfile"
release_tag=unroot-ci/unroot:release
docker buildx build --builder default --load --platform "linux/$arch" --progress plain \
    --build-context "binary=$scratch/binary" -t "$release_tag" "$context" > "$scratch/release.log" 2>&1 \
    || { tail -n 30 "$scratch/release.log" >&2; fail "the release's build failed"; }
if grep -q 'cargo build' "$scratch/release.log"; then
    fail "the release's build compiled unroot: the named context did not replace the \`binary\` stage"
fi
release_version=$(docker run --rm --network none "$release_tag" --version)
[ "$release_version" = "$expected_version" ] || fail "the release image printed '$release_version'"
release_user=$(docker image inspect --format '{{.Config.User}}' "$release_tag")
[ "$release_user" = "65532:65532" ] || fail "the release image's USER is '$release_user'"
echo "release image: $release_version, USER $release_user, nothing compiled"
docker rmi --force "$release_tag" > /dev/null
bash "$TOOLS/docker-engine.sh" stop

podman rmi --force "$tag" > /dev/null
echo "image.sh: the container image builds and runs"
