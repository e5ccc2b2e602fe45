#!/usr/bin/env bash
# Speed and memory check: a dry run of unroot over a tree of Dockerfiles mixed with other
# files, against `rg -c FROM` reading the same tree. The targets: unroot takes at most 1.5
# times as long as ripgrep, and its peak memory does not grow with the number of files (at
# most 100 MB at 40,000 Dockerfiles). Peak RSS is read with GNU time (`/usr/bin/time`).
#
#   scripts/bench-walk.sh [--dockerfiles N] [--others M] [--runs R] [--max-ratio X] [--keep]
#                         [--hyperfine]
#
# Builds unroot (release), writes a tree under a temporary folder: N Dockerfiles (default
# 10000: copies of the corpus files under ../shared/corpus, named Dockerfile, Containerfile,
# *.Dockerfile and Dockerfile.*) in nested folders, and M other files (default 20000: JS,
# JSON, Markdown, YAML), then times both commands R times each (default 5, after one warm-up
# run), taking turns, and prints the median times and the median of each pair's ratio; with
# --hyperfine, hyperfine's statistics of both as well. With --max-ratio, exits 1 when the
# ratio is larger; --keep leaves the tree in place.
# Needs ripgrep (`apt-get install -y ripgrep`) and python3 (to write the tree). Never run by
# the tests: timings belong here, not in `cargo test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

dockerfiles=10000
others=20000
runs=5
max_ratio=""
keep=false
hyperfine=false
while [ $# -gt 0 ]; do
    case "$1" in
        --dockerfiles) dockerfiles="$2"; shift 2 ;;
        --others) others="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --max-ratio) max_ratio="$2"; shift 2 ;;
        --keep) keep=true; shift ;;
        --hyperfine) hyperfine=true; shift ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-walk: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done

corpus=../shared/corpus
if [ ! -d "$corpus" ]; then
    echo "bench-walk: the shared corpus is missing: expected $corpus" >&2
    exit 2
fi
if ! command -v rg >/dev/null; then
    echo "bench-walk: ripgrep (rg) is not installed: apt-get install -y ripgrep" >&2
    exit 2
fi

echo "== building unroot (release)"
cargo build --release --quiet --bin unroot
unroot="$PWD/target/release/unroot"

tree_root="$(mktemp -d "${TMPDIR:-/tmp}/unroot-bench-XXXXXX")"
if [ "$keep" = false ]; then
    trap 'rm -rf "$tree_root"' EXIT
fi
tree="$tree_root/tree"

echo "== writing $dockerfiles Dockerfiles and $others other files under $tree"
# The corpus's invalid/negative folders are left out, so the dry run does real work on nearly
# every file; a few files of the other folders do not parse (`unknown instruction`), so it
# exits 2 with --exit-zero: that status is expected, an `error:` line (the run itself failed)
# is not.
python3 - "$corpus" "$tree" "$dockerfiles" "$others" <<'PY'
import os, sys
corpus, tree, count, others = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
groups = ["node-real", "general", "parser-edge/valid", "buildkit-parser/testfiles"]
sources = []
for group in groups:
    for dirpath, _, files in os.walk(os.path.join(corpus, group)):
        if "Dockerfile" in files:
            with open(os.path.join(dirpath, "Dockerfile"), "rb") as f:
                sources.append(f.read())
if not sources:
    sys.exit("no Dockerfiles found in the corpus")
names = ["Dockerfile", "Containerfile", "api.Dockerfile", "Dockerfile.prod", "worker.dockerfile"]
other_files = [
    ("index.js", b"const http = require('http');\nhttp.createServer((q, s) => s.end('FROM here')).listen(3000);\n" * 20),
    ("package.json", b'{\n  "name": "app",\n  "version": "1.0.0",\n  "scripts": { "start": "node index.js" }\n}\n'),
    ("README.md", b"# app\n\nBuilt FROM a Dockerfile. Run `npm start`.\n" * 40),
    ("src/lib.js", b"module.exports = function add(a, b) { return a + b; };\n" * 50),
    ("deploy.yaml", b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n" * 10),
]
def folder(i):
    # 10 services per repository, 100 repositories per organisation.
    return os.path.join(tree, "org%02d" % (i // 1000), "repo%03d" % (i // 10 % 100), "svc%d" % (i % 10))
for i in range(count):
    d = folder(i)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, names[i % len(names)]), "wb") as f:
        f.write(sources[i % len(sources)])
for j in range(others):
    # Spread over the same folders; a second round goes one level deeper.
    name, body = other_files[j % len(other_files)]
    rounds = j // max(count, 1)
    d = folder(j % max(count, 1))
    path = os.path.join(d, "more%d" % rounds, name) if rounds else os.path.join(d, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(body)
PY
echo "files: $(find "$tree" -type f | wc -l), bytes: $(du -sb "$tree" | cut -f1)"

unroot_cmd="$unroot --exit-zero $tree"
rg_cmd="rg -c FROM $tree"

# One untimed run each: warms the page cache and checks that both commands work.
unroot_status=0
$unroot_cmd >/dev/null 2>"$tree_root/unroot.err" || unroot_status=$?
if [ "$unroot_status" -gt 2 ] || grep -q '^error:' "$tree_root/unroot.err"; then
    echo "bench-walk: unroot failed on the tree (status $unroot_status):" >&2
    grep '^error:' "$tree_root/unroot.err" | head -20 >&2
    exit 2
fi
echo "unroot: status $unroot_status; files it could not check: $(grep -cv ': warning: ' "$tree_root/unroot.err" || true)"

$rg_cmd >/dev/null

echo "== timing ($runs runs each, interleaved)"
# The two commands take turns, each pair in the other order than the one before, and the ratio
# is the median of each pair's ratio: on a shared machine whose speed drifts, a block of runs of
# one command and then a block of the other measures the drift as much as the commands.
now() { date +%s%N; }
unroot_times=() rg_times=() ratios=()
for ((i = 0; i < runs; i++)); do
    if (( i % 2 == 0 )); then
        start=$(now); $unroot_cmd >/dev/null 2>&1 || true; middle=$(now)
        $rg_cmd >/dev/null 2>&1 || true; end=$(now)
        unroot_ns=$(( middle - start )) rg_ns=$(( end - middle ))
    else
        start=$(now); $rg_cmd >/dev/null 2>&1 || true; middle=$(now)
        $unroot_cmd >/dev/null 2>&1 || true; end=$(now)
        rg_ns=$(( middle - start )) unroot_ns=$(( end - middle ))
    fi
    unroot_times+=("$unroot_ns") rg_times+=("$rg_ns")
    ratios+=("$(awk -v u="$unroot_ns" -v r="$rg_ns" 'BEGIN { printf "%.4f", u / r }')")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
unroot_s=$(awk -v t="$(median "${unroot_times[@]}")" 'BEGIN { printf "%.6f", t / 1e9 }')
rg_s=$(awk -v t="$(median "${rg_times[@]}")" 'BEGIN { printf "%.6f", t / 1e9 }')
paired_ratio=$(median "${ratios[@]}")
if [ "$hyperfine" = true ]; then
    if command -v hyperfine >/dev/null; then
        hyperfine --style basic --ignore-failure --warmup 1 --runs "$runs" \
            -n unroot "$unroot_cmd" -n rg "$rg_cmd"
    else
        echo "bench-walk: --hyperfine: hyperfine is not installed" >&2
    fi
fi
ratio=$(awk -v r="$paired_ratio" 'BEGIN { printf "%.2f", r }')
printf 'unroot --exit-zero: %.3f s (median)\nrg -c FROM:         %.3f s (median)\nratio: %s (median of the pairs; target: at most 1.5)\n' \
    "$unroot_s" "$rg_s" "$ratio"
# Peak resident memory of one run each, with the report going to a file as a user's would.
peak_kb() {
    /usr/bin/time -f '%M' -o "$tree_root/rss" "$@" >"$tree_root/out" 2>/dev/null || true
    tail -1 "$tree_root/rss"
}
if [ -x /usr/bin/time ]; then
    unroot_kb=$(peak_kb $unroot_cmd)
    rg_kb=$(peak_kb $rg_cmd)
    printf 'peak RSS: unroot %d MB, rg %d MB (target for unroot: at most 100 MB at 40000 Dockerfiles)\n' \
        "$(( unroot_kb / 1024 ))" "$(( rg_kb / 1024 ))"
else
    echo "peak RSS: /usr/bin/time is missing (apt-get install -y time)"
fi
if [ "$keep" = true ]; then
    echo "tree kept at $tree"
fi
if [ -n "$max_ratio" ] && awk -v r="$ratio" -v m="$max_ratio" 'BEGIN { exit !(r > m) }'; then
    echo "bench-walk: ratio $ratio is above $max_ratio" >&2
    exit 1
fi
