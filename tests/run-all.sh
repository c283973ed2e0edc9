#!/usr/bin/env bash
# The full test suite: native tests (core vs tshark, relay index, evidence evaluation, CLI),
# then the browser app built with trunk and driven in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh
export PATH="$PWD/tests/e2e/node_modules/.bin:$HOME/.cargo/bin:$PATH"

echo "== native tests"
cargo test --release --all-targets

echo "== lints"
cargo clippy --all-targets --quiet -- -D warnings
cargo clippy --target wasm32-unknown-unknown --bins --lib --quiet -- -D warnings

echo "== browser app build"
trunk build --release --offline

echo "== browser end-to-end tests (headless Chromium)"
node --test tests/e2e/

echo "== fuzz targets: build, and run each briefly (tests/fuzz/run.sh SECONDS for longer runs)"
bash tests/fuzz/run.sh "${FUZZ_SECONDS:-20}"
