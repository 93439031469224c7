#!/usr/bin/env bash
# Checks that chatctx can be published: `cargo package` (which builds the packaged sources, the
# verification build) gives a .crate of at most 9 MB (crates.io refuses more than 10 MB), and
# the doctests (the README's included) pass when run from the packaged sources.
#
#   bash .ci/package.sh [--allow-dirty]
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo package"
cargo package "$@"
version=$(cargo pkgid | sed 's/.*[#@]//')
crate="target/package/chatctx-$version.crate"
bytes=$(stat -c %s "$crate")
limit=9000000
echo "$crate: $bytes bytes (limit $limit)"
if [ "$bytes" -gt "$limit" ]; then
    echo "the package is over 9 MB: $bytes bytes" >&2
    exit 1
fi

echo "== doctests from the packaged sources"
# The unpacked package, built in the main target directory (an absolute path: rustdoc runs the
# doctests from elsewhere) so dependencies are reused.
target="$(pwd)/target"
(cd "target/package/chatctx-$version" && CARGO_TARGET_DIR="$target" cargo test --doc --all-features)
