#!/usr/bin/env bash
# Assets the page serves next to its wasm, prepared before each trunk build:
#
# 1. The built-in relay index (relays.idx), exported by the CLI: the same blob the CLI embeds,
#    compiled from relays/sources (run relays/fetch first). The worker fetches it once; keeping it
#    out of the wasm keeps the app small.
#
# 2. The relay history by year (history/history-YYYY.idx.gz and history.json), exported by the
#    CLI from the same build: the worker fetches only the years a capture or a lookup needs, so
#    none of it counts towards the app's own transfer.
#
# 3. The page's built-in sample: a lab capture of real Tor traffic mixed with ordinary HTTPS and DNS
# (../shared/captures/lab/tor-04-mixed.pcap, recorded from the real tor program; see its
# README). It is third-party test data, so it is copied at build time, never committed. Without
# ../shared, a synthetic capture from `torsift generate` stands in.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/web/assets/sample.pcap"
lab="$root/../shared/captures/lab/tor-04-mixed.pcap"
mkdir -p "$root/web/assets"
[ -d "$root/relays/sources" ] || bash "$root/relays/fetch" || true
cargo run --quiet --release --manifest-path "$root/Cargo.toml" --bin torsift -- relays --export "$root/web/assets/relays.idx"
rm -rf "$root/web/assets/history"
cargo run --quiet --release --manifest-path "$root/Cargo.toml" --bin torsift -- history --export "$root/web/assets/history"
if [ -f "$lab" ]; then
  cmp -s "$lab" "$out" 2>/dev/null || cp "$lab" "$out"
elif [ ! -f "$out" ]; then
  cargo run --quiet --release --manifest-path "$root/Cargo.toml" --bin torsift -- generate --packets 2000 --flows 40 "$out"
fi
