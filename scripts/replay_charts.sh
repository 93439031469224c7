#!/usr/bin/env bash
# Regenerates the replay charts shown in the README (docs/replay/*.svg) and the HTML report
# beside them, from the README's main-job command (offline, deterministic).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --quiet -- replay \
    --policy token-budget --policy compact:0.5 --policy rolling-summary \
    --model deepseek-v4-flash --window 4000 \
    --svg docs/replay --html docs/replay/report.html \
    fixtures/chitchat/long_session_1.json
