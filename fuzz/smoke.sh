#!/usr/bin/env bash
# Build every fuzz target with coverage instrumentation and run each for a short time: what CI
# runs (.ci/run). Longer runs: fuzz/run.sh (cargo-fuzz, AddressSanitizer).
#
#   fuzz/smoke.sh [SECONDS] [TARGET...]     (default: 10 seconds, all targets)
#
# Needs no cargo-fuzz: it passes the instrumentation flags cargo-fuzz passes (SanitizerCoverage
# with inline 8-bit counters, PC table and compare tracing, `--cfg fuzzing`, debug assertions
# and overflow checks), without AddressSanitizer, so a stable toolchain builds it as it is
# (RUSTC_BOOTSTRAP is not needed). Built for the host triple, so build scripts and proc
# macros are not instrumented. The committed seeds in fuzz/corpus/TARGET are only read; new
# inputs go to a temporary directory. A crash stops the run with a failure and leaves the
# input in fuzz/artifacts/TARGET.
set -euo pipefail

seconds="${1:-10}"
shift || true
cd "$(dirname "$0")"
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    targets=(request tokens template policy)
fi

host=$(rustc -vV | sed -n 's/^host: //p')
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
-Cdebug-assertions -Coverflow-checks"
echo "== fuzz: build ${targets[*]} ($host, instrumented)"
bins=()
for target in "${targets[@]}"; do
    bins+=(--bin "$target")
done
cargo build --release --target "$host" --target-dir target/smoke "${bins[@]}"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/chatctx-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
for target in "${targets[@]}"; do
    echo "== fuzz: $target for ${seconds}s"
    mkdir -p "$scratch/$target" "artifacts/$target"
    status=0
    "target/smoke/$host/release/$target" "$scratch/$target" "corpus/$target" \
        -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="artifacts/$target/" -print_final_stats=1 >"$scratch/$target.log" 2>&1 ||
        status=$?
    grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::number_of_executed_units|stat::new_units_added)' \
        "$scratch/$target.log" || true
    if [ "$status" != 0 ]; then
        tail -n 40 "$scratch/$target.log" >&2
        echo "fuzz: $target failed (exit $status); the input is in fuzz/artifacts/$target" >&2
        exit 1
    fi
done
