#!/usr/bin/env bash
# Builds the page (release) and serves it on http://127.0.0.1:${PORT:-8080}/ ; the URL printed
# opens the built-in sample capture as the demo. Static files only: any web server will do.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh build
export PATH="$PWD/tests/e2e/node_modules/.bin:$HOME/.cargo/bin:$PATH"
trunk build --release --offline
port=${PORT:-8080}
echo "torsift is at http://127.0.0.1:$port/#sample  (the sample capture opens as the demo; Ctrl-C stops)"
exec python3 -m http.server "$port" --bind 127.0.0.1 --directory dist
