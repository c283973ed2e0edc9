#!/usr/bin/env bash
# The full test suite: native tests (core vs tshark, relay index, evidence evaluation, CLI),
# then the browser app built with trunk and driven in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh
export PATH="$PWD/tests/e2e/node_modules/.bin:$HOME/.cargo/bin:$PATH"

# The generated labs run as root in their own network namespaces (only lo) while the tests
# build; tests/evaluation.rs scores them. Where network namespaces cannot be made at all, the
# evaluation says so instead of scoring.
sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
make_lab() {  # name script
  local out="target/lab/$1" log="target/lab/$1.log"
  rm -rf "$out" "target/lab/$1.failed"
  if sudo_if_needed bash "$2" "$out" >"$log" 2>&1; then echo "lab $1: made in $out"; else
    echo "lab $1 FAILED (log: $log)"; tail -20 "$log"; cp "$log" "target/lab/$1.failed"; fi
}
mkdir -p target/lab
if sudo_if_needed unshare --net true 2>/dev/null; then
  rm -f target/lab/unavailable
  (make_lab negatives tests/lab/make-negatives.sh; make_lab moved-ports tests/lab/make-tor-variant.sh) &
  labs=$!
else
  echo "network namespaces are not available here: the generated labs cannot run" | tee target/lab/unavailable
  labs=
fi

echo "== native tests"
cargo test --release --all-targets --no-run
[ -n "$labs" ] && wait "$labs"
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
