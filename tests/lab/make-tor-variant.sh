#!/usr/bin/env bash
# make-tor-variant.sh -- make a variant of the shared Tor capture lab with our own profile.
#
#   usage: tests/lab/make-tor-variant.sh OUT_DIR [PROFILE]
#     OUT_DIR  where the captures + labels.json go (created; old captures in it are replaced)
#     PROFILE  a lab profile (default: tests/lab/profiles/moved-ports.conf)
#   env:
#     TORSIFT_SHARED     the shared data directory (default: <repo>/../shared); may also
#                        point straight at a lab directory holding make-tor-captures.sh
#     TORLAB_WORK        scratch directory of the lab (default: a fresh mktemp dir, removed after)
#     TORSIFT_KEEP_WORK  1 = keep the scratch directory (tor logs, keys) after the run
#
# Must run as root (the lab uses unshare --net, tcpdump and ports < 1024). Needs:
#   apt-get install -y tor obfs4proxy tcpdump tshark ethtool curl openssl gcc
#
# The shared script writes only to OUT_DIR and its scratch directory (TORLAB_WORK;
# bindshim.so is compiled there too), never into the lab directory, so it is run in
# place: a read-only ../shared is fine.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
die() { echo "make-tor-variant: $*" >&2; exit 1; }

out="${1:-}"
[[ -n "$out" ]] || die "usage: $0 OUT_DIR [PROFILE]"
profile="${2:-$here/profiles/moved-ports.conf}"

shared="${TORSIFT_SHARED:-$repo/../shared}"
if [[ -f "$shared/make-tor-captures.sh" ]]; then lab="$shared"; else lab="$shared/lab"; fi
script="$lab/make-tor-captures.sh"
[[ -f "$script" ]] || die "shared lab script not found: $script (set TORSIFT_SHARED)"
[[ -f "$profile" ]] || die "profile not found: $profile"
[[ "$(id -u)" -eq 0 ]] || die "must run as root (unshare --net, tcpdump, ports < 1024)"
missing=()
for t in tor obfs4proxy tcpdump tshark editcap ethtool curl openssl gcc envsubst unshare python3; do
  command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
((${#missing[@]} == 0)) || die "missing tools: ${missing[*]} (apt-get install -y tor obfs4proxy tcpdump tshark ethtool curl openssl gcc)"

# absolute paths: the lab script re-executes itself inside a new network namespace
mkdir -p "$out"
out="$(cd "$out" && pwd)"
profile="$(cd "$(dirname "$profile")" && pwd)/$(basename "$profile")"

own_work=0
if [[ -z "${TORLAB_WORK:-}" ]]; then
  TORLAB_WORK="$(mktemp -d "${TMPDIR:-/tmp}/torsift-torlab.XXXXXX")"
  own_work=1
fi
export TORLAB_WORK
unset TORLAB_IN_NETNS   # the lab script must do its own unshare --net

echo "make-tor-variant: lab=$lab profile=$profile out=$out work=$TORLAB_WORK" >&2
start=$(date +%s)
rc=0
bash "$script" "$profile" "$out" || rc=$?
elapsed=$(( $(date +%s) - start ))
echo "make-tor-variant: lab run finished rc=$rc in ${elapsed}s" >&2

if (( own_work )) && [[ "${TORSIFT_KEEP_WORK:-0}" != 1 ]]; then
  rm -rf -- "$TORLAB_WORK"
else
  echo "make-tor-variant: scratch kept in $TORLAB_WORK" >&2
fi
[[ -s "$out/labels.json" ]] || { echo "make-tor-variant: no labels.json in $out" >&2; (( rc )) || rc=1; }
exit "$rc"
