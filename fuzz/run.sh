#!/usr/bin/env bash
# Run every fuzz target, one after the other, for a fixed time each (CI runs the short
# fuzz/smoke.sh instead, which needs no cargo-fuzz).
#
#   fuzz/run.sh [SECONDS] [TARGET...]     (default: 60 seconds, all targets)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). On a stable toolchain, RUSTC_BOOTSTRAP=1
# unlocks the nightly flags cargo-fuzz passes (sanitizer, coverage instrumentation).
# New inputs go to fuzz/out/TARGET (ignored by git); the committed seeds in fuzz/corpus/TARGET
# are only read. Crashes land in fuzz/artifacts/TARGET and stop the run with a failure.
set -euo pipefail

seconds="${1:-60}"
shift || true
cd "$(dirname "$0")"
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    targets=(request tokens template policy)
fi

export RUSTC_BOOTSTRAP="${RUSTC_BOOTSTRAP:-1}"
for target in "${targets[@]}"; do
    mkdir -p "out/$target"
    echo "== $target: ${seconds}s"
    cargo fuzz run "$target" "out/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1
done
