#!/usr/bin/env bash
# Builds the fuzz targets and runs each for SECONDS (default 30), seeding the corpora from the
# shared captures and relay documents (copied at run time, never committed). A crash fails the
# run; libFuzzer writes the input to tests/fuzz/artifacts/<target>/, which then becomes a named
# regression test in tests/fuzz_regressions.rs.
#   tests/fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(capture_chunks gzip_input decode_frame tls_stream udp_datagrams relay_list history_shard page_report)
cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
cargo +nightly fuzz build -O --fuzz-dir tests/fuzz
shared=../shared
seed() { # seed TARGET PREFIX_BYTE FILE...
  local dir="tests/fuzz/corpus/$1" prefix=$2; shift 2
  mkdir -p "$dir"
  for f in "$@"; do
    out="$dir/seed-$(basename "$f")"
    [ -f "$out" ] && continue
    { printf "\\x$prefix"; head -c 65536 "$f"; } > "$out"
  done
}
small=$(find "$shared/captures/public" -type f -size -64k \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.bin' \) | sort)
seed capture_chunks 07 $small
seed decode_frame 01 $small
seed tls_stream 16 $small
mkdir -p tests/fuzz/corpus/gzip_input
for f in $(find "$shared/captures" -name '*.gz'); do tail -c +11 "$f" | head -c 65536 > "tests/fuzz/corpus/gzip_input/seed-$(basename "$f")"; done
seed relay_list 03 $(find "$shared/relays" "$shared/captures/lab/directory-docs" -type f -name '*consensus*' -o -type f -name '*.lst' -o -type f -name '*exit*' | sort)
# STUN and DTLS datagrams of the transport lab (one per seed, whole: the first byte, 255, is the
# datagram size the target cuts at).
mkdir -p tests/fuzz/corpus/udp_datagrams
if command -v tshark >/dev/null && [ -f "$shared/captures/lab-pt/pt-02-snowflake-client.pcap" ]; then
  tshark -r "$shared/captures/lab-pt/pt-02-snowflake-client.pcap" -Y 'stun || dtls.handshake' -T fields -e udp.payload 2>/dev/null \
    | head -40 | while read -r hex; do
      python3 -c 'import sys; sys.stdout.buffer.write(b"\xff" + bytes.fromhex(sys.argv[1]))' "$hex" \
        > "tests/fuzz/corpus/udp_datagrams/seed-${hex:0:24}"
    done || true  # head closing the pipe early is fine
fi
# The relay history: the first rows of each input file (mode 1), and the start of a year's shard
# as the page fetches it (mode 0).
mkdir -p tests/fuzz/corpus/history_shard
if [ -f "$shared/relays/history/relay-history-ip.tsv.gz" ]; then
  { printf '\x01'; zcat "$shared/relays/history/relay-history-ip.tsv.gz" | sed -n '2,40p'; printf '\n'
    zcat "$shared/relays/history/relay-history-orport.tsv.gz" | sed -n '2,20p'; printf '\n'
    zcat "$shared/relays/history/coverage.tsv.gz" | sed -n '2,30p'; } > tests/fuzz/corpus/history_shard/seed-tsv || true
fi
for f in web/assets/history/history-2016.idx.gz web/assets/history/history-2017.idx.gz; do
  [ -f "$f" ] && { printf '\x00'; zcat "$f" | head -c 65000; } > "tests/fuzz/corpus/history_shard/seed-$(basename "$f" .gz)" || true
done
# The page's report reader: the CLI's report (the same document the worker writes) of a small
# capture (IPv6 endpoints, 28 KB of JSON), pretty and compact.
mkdir -p tests/fuzz/corpus/page_report
if [ -f "$shared/captures/public/formats/ndpi_http_ipv6.pcap" ] && [ ! -f tests/fuzz/corpus/page_report/seed-pretty.json ]; then
  cargo run --release --quiet --bin torsift -- analyze --format json "$shared/captures/public/formats/ndpi_http_ipv6.pcap" \
    > tests/fuzz/corpus/page_report/seed-pretty.json || true
  python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))))' \
    tests/fuzz/corpus/page_report/seed-pretty.json > tests/fuzz/corpus/page_report/seed-compact.json || true
fi
for t in "${targets[@]}"; do
  echo "== fuzzing $t for ${seconds}s"
  cargo +nightly fuzz run -O --fuzz-dir tests/fuzz "$t" -- -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 2>&1 | grep -E "^#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss|SUMMARY|ERROR|panicked" || true
  if [ -n "$(find "tests/fuzz/artifacts/$t" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' \) 2>/dev/null)" ]; then
    echo "fuzz target $t found a failing input: tests/fuzz/artifacts/$t/"; exit 1
  fi
done
