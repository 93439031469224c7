#!/usr/bin/env bash
# Regenerate every README figure that a command reproduces (the blocks between
# `<!-- figure NAME: ... -->` and `<!-- end figure NAME -->`): runs tests/readme_figures.rs,
# which runs the `chatctx` commands behind each figure, with CHATCTX_WRITE_README=1 so that it
# rewrites the blocks instead of failing on a difference. Without the variable (as in CI) the
# same test fails when a figure is stale.
#
#   scripts/readme_figures.sh [--release]
set -euo pipefail
cd "$(dirname "$0")/.."
CHATCTX_WRITE_README=1 cargo test "$@" --test readme_figures -- --nocapture
git --no-pager diff --stat -- README.md
