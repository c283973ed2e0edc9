#!/usr/bin/env bash
# The full test suite: native tests (core vs tshark, relay index, evidence evaluation, CLI),
# then the browser app built with trunk and driven in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh
export PATH="$PWD/tests/e2e/node_modules/.bin:$HOME/.cargo/bin:$PATH"

# The generated labs (tests/lab) run as root in their own network namespaces (only lo), before
# the build so that compiling does not slow tor down; tests/evaluation.rs scores them. A failed
# run is retried once, then its log goes to the test, which fails. Where network namespaces
# cannot be made at all, the evaluation says so instead of scoring.
sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
make_lab() {  # name script
  local out="target/lab/$1" log="target/lab/$1.log" try
  rm -f "target/lab/$1.failed"
  for try in 1 2; do
    rm -rf "$out"
    if sudo_if_needed bash "$2" "$out" >"$log" 2>&1; then echo "lab $1: made in $out"; return; fi
    echo "lab $1: attempt $try failed (log: $log)"; tail -20 "$log"
  done
  cp "$log" "target/lab/$1.failed"
}
echo "== generated labs"
mkdir -p target/lab
if sudo_if_needed unshare --net true 2>/dev/null; then
  rm -f target/lab/unavailable
  make_lab negatives tests/lab/make-negatives.sh
  make_lab moved-ports tests/lab/make-tor-variant.sh
  make_lab pt-variant tests/lab/make-pt-variant.sh
else
  echo "network namespaces are not available here: the generated labs cannot run" | tee target/lab/unavailable
fi

echo "== native tests"
cargo test --release --all-targets

echo "== relay history collector (the Pages workflow's CollecTor path, on local consensus files)"
python3 tests/history_collect_test.py

echo "== Python package: pip builds bindings/python's wheel (maturin from PyPI), checked against the CLI"
python3 -m venv target/pyvenv
target/pyvenv/bin/pip install --quiet ./bindings/python
target/pyvenv/bin/python bindings/python/tests/test_torsift.py
echo "== Spark job (bindings/python/examples/torsift_spark.py) in local mode: pyspark from PyPI, Debian's Java"
target/pyvenv/bin/pip install --quiet pyspark==4.3.0 pyarrow
target/pyvenv/bin/python bindings/python/tests/test_spark.py

echo "== lints"
cargo clippy --all-targets --quiet -- -D warnings
cargo clippy --target wasm32-unknown-unknown --bins --lib --quiet -- -D warnings

echo "== browser app build"
trunk build --release --offline

echo "== browser end-to-end tests (headless Chromium)"
node --test tests/e2e/

echo "== fuzz targets: build, and run each briefly (tests/fuzz/run.sh SECONDS for longer runs)"
bash tests/fuzz/run.sh "${FUZZ_SECONDS:-20}"
