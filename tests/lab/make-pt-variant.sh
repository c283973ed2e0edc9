#!/usr/bin/env bash
# make-pt-variant.sh -- make a variant of the shared pluggable-transport capture lab
# (meek_lite, Snowflake, non-Tor look-alikes) with our own profile.
#
#   usage: tests/lab/make-pt-variant.sh OUT_DIR [PROFILE]
#     OUT_DIR  where the captures, labels.json, FINDINGS.md, logs/ go (created; old captures replaced)
#     PROFILE  a transport-lab profile (default: tests/lab/profiles/pt-variant.conf)
#   env:
#     TORSIFT_SHARED     the shared data directory (default: <repo>/../shared); may also point
#                        straight at a directory holding make-transport-captures.sh
#     PTLAB_WORK         scratch directory of the lab (default: a fresh mktemp dir, removed after)
#     TORSIFT_KEEP_WORK  1 = keep the scratch directory after the run
#     PTLAB_VENV         python venv with aiortc + websockets for the negatives
#                        (default: <repo>/target/lab/ptlab-venv; created from PyPI when missing)
#     PTLAB_SFSERVER     a snowflake-server 2.5.1 binary (default: <repo>/target/lab/ptlab-bin/snowflake-server,
#                        used only if present). Without it Snowflake gets as far as the data channel and
#                        the proxy->relay WebSocket, and tor does not bootstrap over Snowflake.
#
# Must run as root (the lab uses unshare --net, veth pairs, tcpdump). Needs:
#   apt-get install -y tor obfs4proxy snowflake-client snowflake-proxy coturn tcpdump tshark ethtool \
#                      iproute2 gettext-base curl openssl gcc python3 python3-venv
# (coturn/tor must not run as system services: install them with a policy-rc.d that exits 101.)
#
# The shared script writes only to OUT_DIR and its scratch directory (PTLAB_WORK: PKI, tor data
# directories, bindshim.so, coturn pid/userdb, captures, logs); /etc/resolv.conf is only bind-mounted
# inside its private mount namespace. So it is run in place: a read-only ../shared is fine.
# PYTHONDONTWRITEBYTECODE keeps Python from ever writing next to the shared helpers.
#
# Exits non-zero if the lab fails, if labels.json is missing, if tor did not bootstrap through meek,
# or if a label the evaluation needs is missing (see "required" below).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
die() { echo "make-pt-variant: $*" >&2; exit 1; }

out="${1:-}"
[[ -n "$out" ]] || die "usage: $0 OUT_DIR [PROFILE]"
profile="${2:-$here/profiles/pt-variant.conf}"

shared="${TORSIFT_SHARED:-$repo/../shared}"
if [[ -f "$shared/make-transport-captures.sh" ]]; then lab="$shared"; else lab="$shared/lab/transports"; fi
script="$lab/make-transport-captures.sh"
[[ -f "$script" ]] || die "shared lab script not found: $script (set TORSIFT_SHARED)"
[[ -f "$profile" ]] || die "profile not found: $profile"
[[ "$(id -u)" -eq 0 ]] || die "must run as root (unshare --net, veth, tcpdump)"
missing=()
for t in tor tor-gencert obfs4proxy snowflake-client snowflake-proxy turnserver tcpdump tshark ethtool \
         ip nsenter unshare sysctl curl openssl gcc envsubst python3; do
  command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
((${#missing[@]} == 0)) || die "missing tools: ${missing[*]}
  apt-get install -y tor obfs4proxy snowflake-client snowflake-proxy coturn tcpdump tshark ethtool iproute2 gettext-base curl openssl gcc python3 python3-venv"

# ---- the negatives' venv (aiortc + websockets from PyPI), cached across runs
venv="${PTLAB_VENV:-$repo/target/lab/ptlab-venv}"
if ! "$venv/bin/python" -c 'import aiortc, websockets' >/dev/null 2>&1; then
  echo "make-pt-variant: creating the negatives' venv in $venv (pip install aiortc websockets)" >&2
  python3 -c 'import venv, ensurepip' 2>/dev/null || die "python3 venv/ensurepip missing (apt-get install -y python3-venv)"
  rm -rf -- "$venv"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv" || die "python3 -m venv $venv failed"
  "$venv/bin/pip" install --quiet --disable-pip-version-check aiortc websockets \
    || { rm -rf -- "$venv"; die "pip install aiortc websockets failed (needs PyPI)"; }
  "$venv/bin/python" -c 'import aiortc, websockets' || die "venv $venv: aiortc/websockets do not import"
fi
venv="$(cd "$venv" && pwd)"
echo "make-pt-variant: venv $venv: $("$venv/bin/pip" freeze 2>/dev/null | grep -iE '^(aiortc|websockets|aioice|pyopenssl)==' | tr '\n' ' ')" >&2

# absolute paths: the lab script re-executes itself inside a new network namespace
mkdir -p "$out"
out="$(cd "$out" && pwd)"
profile="$(cd "$(dirname "$profile")" && pwd)/$(basename "$profile")"

# never fall back to the shared script's machine-wide default (/tmp/ptlab-bin/snowflake-server)
export PTLAB_SFSERVER="${PTLAB_SFSERVER:-$repo/target/lab/ptlab-bin/snowflake-server}"
if [[ -x "$PTLAB_SFSERVER" ]]; then sfmode="snowflake-server $PTLAB_SFSERVER (full Snowflake bootstrap)"
else sfmode="no snowflake-server (Snowflake stops after the data channel and the proxy->relay WebSocket)"; fi
export PTLAB_VENV="$venv" PYTHONDONTWRITEBYTECODE=1

own_work=0
if [[ -z "${PTLAB_WORK:-}" ]]; then
  PTLAB_WORK="$(mktemp -d "${TMPDIR:-/tmp}/torsift-ptlab.XXXXXX")"
  own_work=1
fi
export PTLAB_WORK
unset PTLAB_IN_NETNS   # the lab script must do its own unshare --net

echo "make-pt-variant: lab=$lab profile=$profile out=$out work=$PTLAB_WORK; $sfmode" >&2
start=$(date +%s)
rc=0
bash "$script" "$profile" "$out" || rc=$?
elapsed=$(( $(date +%s) - start ))
echo "make-pt-variant: lab run finished rc=$rc in ${elapsed}s" >&2

if (( own_work )) && [[ "${TORSIFT_KEEP_WORK:-0}" != 1 ]]; then
  rm -rf -- "$PTLAB_WORK"
else
  echo "make-pt-variant: scratch kept in $PTLAB_WORK" >&2
fi
if [[ ! -s "$out/labels.json" ]]; then
  echo "make-pt-variant: no labels.json in $out" >&2; (( rc )) || rc=1
  exit "$rc"
fi
# The labels the captures must contain (with or without snowflake-server), and meek must bootstrap.
required="meek tor-or snowflake-rendezvous snowflake-stun snowflake-webrtc snowflake-proxy-broker
          snowflake-proxy-relay non-tor-dns non-tor-https non-tor-https-longpoll non-tor-websocket
          non-tor-webrtc non-tor-stun"
python3 - "$out/labels.json" $required <<'EOF' || { (( rc )) || rc=1; }
import collections, json, sys
d = json.load(open(sys.argv[1]))
have = collections.Counter()
for cap, c in sorted(d["captures"].items()):
    have.update(c["label_counts"])
    print("make-pt-variant: %-40s %s" % (cap, ", ".join("%s: %d" % kv for kv in sorted(c["label_counts"].items()))),
          file=sys.stderr)
bad = [l for l in sys.argv[2:] if not have[l]]
if have.get("UNLABELED"):
    bad.append("UNLABELED conversations")
run = d.get("run", {})
if run.get("MEEK_BOOTSTRAPPED") != "1":
    bad.append("tor did not bootstrap through meek")
print("make-pt-variant: meek bootstrapped=%s snowflake bootstrapped=%s" %
      (run.get("MEEK_BOOTSTRAPPED"), run.get("SNOWFLAKE_BOOTSTRAPPED")), file=sys.stderr)
if bad:
    print("make-pt-variant: FAILED: missing %s" % ", ".join(bad), file=sys.stderr)
    sys.exit(1)
EOF
exit "$rc"
