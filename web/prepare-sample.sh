#!/usr/bin/env bash
# The page's built-in sample: a lab capture of real Tor traffic mixed with ordinary HTTPS and DNS
# (../shared/captures/lab/tor-04-mixed.pcap, recorded from the real tor program; see its
# README). It is third-party test data, so it is copied at build time, never committed. Without
# ../shared, a synthetic capture from `torsift generate` stands in.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/web/assets/sample.pcap"
lab="$root/../shared/captures/lab/tor-04-mixed.pcap"
mkdir -p "$root/web/assets"
if [ -f "$lab" ]; then
  cmp -s "$lab" "$out" 2>/dev/null || cp "$lab" "$out"
elif [ ! -f "$out" ]; then
  cargo run --quiet --release --manifest-path "$root/Cargo.toml" --bin torsift -- generate --packets 2000 --flows 40 "$out"
fi
