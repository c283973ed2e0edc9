#!/usr/bin/env bash
# Installs everything torsift's build and tests need on a fresh Debian 12 machine, skipping what
# is already there: the wasm target, tshark (the test oracle), Chromium (browser tests), trunk,
# wasm-bindgen-cli (pinned to Cargo.lock), and the npm tools (binaryen's wasm-opt,
# playwright-core). Never installs tools that download their own binaries.
#
#   tests/setup.sh          everything (build + tests)
#   tests/setup.sh build    only what building and serving the page needs
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
mode=${1:-all}

sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
if [ "$mode" = all ]; then
command -v tshark >/dev/null || missing+=(tshark)
command -v capinfos >/dev/null || missing+=(wireshark-common)
# The printed report is checked page by page (pdftotext, pdftoppm).
command -v pdftotext >/dev/null || missing+=(poppler-utils)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
[ -x /usr/bin/time ] || missing+=(time)
# The Spark job's local-mode test (pyspark 4 needs Java 17).
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
# The generated labs (tests/lab): real tor, obfs4proxy and the hard negatives' tools.
for pkg in obfs4proxy gettext-base $(cat tests/lab/packages.txt); do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
fi
command -v python3 >/dev/null || missing+=(python3)
# The SNI label model is trained at build time on Debian's English word list.
[ -f /usr/share/dict/words ] || missing+=(wamerican)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: apt-get install ${missing[*]}"
  echo "wireshark-common wireshark-common/install-setuid boolean false" | sudo_if_needed debconf-set-selections
  sudo_if_needed apt-get update -qq
  # Install only: no service (tor, sshd, openvpn, shadowsocks) may start on this machine; the
  # labs start their own, inside network namespaces.
  echo 'exit 101' | sudo_if_needed tee /usr/sbin/policy-rc.d >/dev/null
  sudo_if_needed chmod +x /usr/sbin/policy-rc.d
  sudo_if_needed apt-get install -y -qq "${missing[@]}" >/dev/null
  sudo_if_needed rm -f /usr/sbin/policy-rc.d
fi

rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

# trunk 0.21.x: 0.22 needs a newer rustc than this machine's 1.95.
trunk --version 2>/dev/null | grep -q '^trunk 0\.21\.' || cargo install trunk --version '~0.21' --locked

# wasm-bindgen-cli must equal the wasm-bindgen in Cargo.lock exactly. No --locked: its lockfile
# wants a webpki-roots release this registry mirror lacks (see shared/docs/toolchain.md).
wbg=$(awk '$0=="name = \"wasm-bindgen\""{getline; gsub(/"/,"",$3); print $3}' Cargo.lock)
wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $wbg" || cargo install wasm-bindgen-cli --version "$wbg"

# Fuzzing: cargo-fuzz on the nightly toolchain (preinstalled here; rustup cannot fetch others).
if [ "$mode" = all ]; then
  cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
fi

# npm tools, pinned in package-lock.json: wasm-opt (binaryen 132; Debian's 108 cannot read
# wasm-bindgen's output), playwright-core (drives the system Chromium; downloads nothing) and
# axe-core (the accessibility checks).
if [ ! -x tests/e2e/node_modules/.bin/wasm-opt ] || [ ! -d tests/e2e/node_modules/playwright-core ] \
   || [ ! -d tests/e2e/node_modules/axe-core ]; then
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi
cargo fetch --quiet
# The built-in relay index is compiled from relays/sources (filled from ../shared/relays).
bash relays/fetch
