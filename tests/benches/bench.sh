#!/usr/bin/env bash
# Throughput benchmark: torsift's core vs tshark's conversation tables on the same generated
# capture. Prints MB/s, packets/s and peak memory. Not a test: the machines are shared and noisy.
#
#   tests/benches/bench.sh [PACKETS] [FLOWS] [PAYLOAD]     (default: ~800 MB, 1.4 M packets, 120 k flows)
set -euo pipefail
cd "$(dirname "$0")/../.."
packets=${1:-1400000}
flows=${2:-120000}
payload=${3:-500}
dir=${BENCH_DIR:-target/bench}
mkdir -p "$dir"
cargo build --release --quiet --bin torsift --example throughput --example minimal_extractor
cap="$dir/bench-$packets-$flows-$payload.pcap"
[ -f "$cap" ] || ./target/release/torsift generate --packets "$packets" --flows "$flows" --payload "$payload" "$cap"
size=$(stat -c %s "$cap")
echo "capture: $cap ($((size / 1000000)) MB, $packets packets, $flows flows)"
echo "--- torsift core (3 runs)"
for _ in 1 2 3; do ./target/release/examples/throughput "$cap"; done
echo "--- torsift core without the TCP stream observer (NO_STREAMS=1)"
NO_STREAMS=1 ./target/release/examples/throughput "$cap"
echo "--- minimal 5-tuple extractor, same file (3 runs): the bar is torsift within 1.5x of it"
for _ in 1 2 3; do ./target/release/examples/minimal_extractor "$cap"; done
echo "--- torsift analyze --format json (whole CLI incl. report output), peak memory from /usr/bin/time"
/usr/bin/time -f "%e s, peak RSS %M KiB" ./target/release/torsift analyze --format json "$cap" > /dev/null
echo "--- torsift analyze --format ndjson (the report streamed line by line), peak memory"
/usr/bin/time -f "%e s, peak RSS %M KiB" ./target/release/torsift analyze --format ndjson "$cap" > /dev/null
if command -v tshark > /dev/null; then
  echo "--- tshark -q -z conv,tcp -z conv,udp (same file)"
  start=$(date +%s.%N)
  /usr/bin/time -f "%e s, peak RSS %M KiB" tshark -r "$cap" -q -z conv,tcp -z conv,udp > /dev/null 2> "$dir/tshark.err" || true
  tail -1 "$dir/tshark.err"
  end=$(date +%s.%N)
  python3 -c "s=$end-$start; print(f'tshark: {$size/1e6/s:.0f} MB/s, {$packets/1e6/s:.2f} M packets/s')"
fi
