#!/usr/bin/env bash
# What the embedded vocabularies cost a program that depends on chatctx: builds four minimal
# release programs in target/footprint/ (an empty `fn main() {}`, and chatctx with no
# vocabulary, with `vocab-o200k` only and with `all-vocabularies`; each counts a sentence with
# every vocabulary it has), then prints
#   - each binary's size and how much larger than the empty program it is
#     (targets: o200k only <= 16 MB larger, all five <= 35 MB larger);
#   - the wall time of building chatctx (library and build script; its dependencies already
#     built) for each feature set;
#   - the first build of an o200k_base counter in a fresh process (median of 5 runs;
#     target <= 20 ms), as the o200k program measures it.
#
#   scripts/footprint.sh
#
# Dependencies are pinned by copying this repository's Cargo.lock. Uses its own target
# directory (target/footprint/target), so it never invalidates the main build.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
base="$repo/target/footprint"
export CARGO_TARGET_DIR="$base/target"
mkdir -p "$base"

# make_program NAME FEATURES-TOML-ARRAY|none
make_program() {
    local name="$1" features="$2" dir="$base/$1"
    mkdir -p "$dir/src"
    if [ "$features" = none ]; then
        cat >"$dir/Cargo.toml" <<EOF
[package]
name = "$name"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]
EOF
        echo 'fn main() {}' >"$dir/src/main.rs"
    else
        cat >"$dir/Cargo.toml" <<EOF
[package]
name = "$name"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
chatctx = { path = "$repo", default-features = false, features = $features }

[workspace]
EOF
        cat >"$dir/src/main.rs" <<'EOF'
use chatctx::tokens::{TokenCounter, Vocabulary};

fn main() {
    // The first counter of the process: construction time, fresh process.
    let start = std::time::Instant::now();
    let first = Vocabulary::compiled().first().map(|v| v.build());
    let build_ms = start.elapsed().as_secs_f64() * 1e3;
    if let Some(counter) = first {
        println!("first-build {} {build_ms:.2}", counter.name());
    }
    for v in Vocabulary::compiled() {
        println!("count {} {}", v.name(), v.counter().count("Hello, world: 你好，世界"));
    }
}
EOF
    fi
    cp "$repo/Cargo.lock" "$dir/Cargo.lock"
}

make_program fp_empty none
make_program fp_none '[]'
make_program fp_o200k '["vocab-o200k"]'
make_program fp_all '["all-vocabularies"]'

declare -A seconds
for name in fp_empty fp_none fp_o200k fp_all; do
    start=$(date +%s.%N)
    cargo build --release --quiet --manifest-path "$base/$name/Cargo.toml"
    end=$(date +%s.%N)
    seconds[$name]=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.0f", b - a}')
done

size() { stat -c %s "$CARGO_TARGET_DIR/release/$1"; }
empty=$(size fp_empty)
echo "| program | binary | larger than empty | chatctx build (s) |"
echo "|---|---|---|---|"
for name in fp_empty fp_none fp_o200k fp_all; do
    bytes=$(size "$name")
    awk -v n="$name" -v b="$bytes" -v e="$empty" -v s="${seconds[$name]}" \
        'BEGIN {printf "| %s | %.1f MB | %.1f MB | %s |\n", n, b / 1e6, (b - e) / 1e6, (n == "fp_empty" ? "-" : s)}'
done
echo "(chatctx build: wall seconds of cargo build --release for the program; on a first run fp_none's includes chatctx's dependencies)"

for _ in 1 2 3 4 5; do
    "$CARGO_TARGET_DIR/release/fp_o200k" | awk '/^first-build/ {print $3}'
done | sort -n | awk '{a[NR] = $1} END {printf "first o200k_base counter build, median of 5 fresh processes: %s ms\n", a[3]}'
"$CARGO_TARGET_DIR/release/fp_all" | grep '^count'
