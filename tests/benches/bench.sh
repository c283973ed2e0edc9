#!/usr/bin/env bash
# Throughput benchmark, whole processes on one generated capture, all measured in this run:
# torsift's CLI (`analyze --format json` and `--format ndjson` to a file), the minimal 5-tuple
# extractor (tests/benches/minimal_extractor.rs, the least a flow counter can do) and
# `tshark -q -z conv,tcp -z conv,udp`. Prints medians of RUNS runs in MB/s, the ratios the
# targets are stated in (CLI within 1.3x of the extractor, >= 25x tshark), and each one's peak
# RSS. Not a test: the machines are shared and noisy, so compare ratios from one run.
#
#   tests/benches/bench.sh [PACKETS] [FLOWS] [PAYLOAD]   (default: ~400 MB, 685 k packets, 60 k flows)
#   RUNS=5 tests/benches/bench.sh ...                    (more runs per tool; default 3)
set -euo pipefail
cd "$(dirname "$0")/../.."
packets=${1:-685000}
flows=${2:-60000}
payload=${3:-540}
runs=${RUNS:-3}
dir=${BENCH_DIR:-target/bench}
mkdir -p "$dir"
cargo build --release --quiet --bin torsift --example throughput --example minimal_extractor
cap="$dir/bench-$packets-$flows-$payload.pcap"
[ -f "$cap" ] || ./target/release/torsift generate --packets "$packets" --flows "$flows" --payload "$payload" "$cap"
size=$(stat -c %s "$cap")
echo "capture: $cap ($((size / 1000000)) MB, $packets packets, $flows flows)"

# measure NAME COMMAND...: RUNS whole-process runs, stdout to a file; prints and records the
# median seconds and the largest peak RSS.
declare -A median_s peak_kib
measure() {
  local name=$1; shift
  local times=() rss=0
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$@" > "$dir/out.txt" 2> "$dir/err.txt" || {
      echo "$name failed: $(tail -3 "$dir/err.txt")"; return 1; }
    read -r s kib < "$dir/time.txt"
    times+=("$s")
    (( kib > rss )) && rss=$kib
  done
  median_s[$name]=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  peak_kib[$name]=$rss
  python3 -c "s=${median_s[$name]}; print(f'{\"$name\":<22} {$size/1e6/max(s,1e-3):8.0f} MB/s  median {s:.2f} s of $runs  peak RSS {$rss/1024:.0f} MiB')"
}

measure "torsift json" ./target/release/torsift analyze --format json "$cap"
measure "torsift ndjson" ./target/release/torsift analyze --format ndjson "$cap"
measure "minimal extractor" ./target/release/examples/minimal_extractor "$cap"
if command -v tshark > /dev/null; then
  measure "tshark conv" tshark -r "$cap" -q -z conv,tcp -z conv,udp
fi
python3 - "${median_s[torsift json]}" "${median_s[minimal extractor]}" "${median_s[tshark conv]:-0}" <<'EOF'
import sys
cli, minimal, tshark = map(float, sys.argv[1:])
print(f"ratio torsift json / minimal extractor time: {cli / minimal:.2f}x  (target <= 1.3x)")
if tshark:
    print(f"ratio tshark / torsift json time:            {tshark / cli:.1f}x  (target >= 25x)")
EOF
echo "--- the core alone (no report output), and without the TCP stream observer (NO_STREAMS=1)"
./target/release/examples/throughput "$cap"
NO_STREAMS=1 ./target/release/examples/throughput "$cap"
