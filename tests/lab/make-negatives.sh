#!/usr/bin/env bash
# make-negatives.sh -- hard-negatives capture lab for torsift.
#
#   usage: make-negatives.sh OUT_DIR
#   env:   NEGLAB_WORK   scratch dir (wiped first). Default: a fresh mktemp dir /tmp/neglab.XXXXXX,
#                        removed after a successful run and kept (for its logs) after a failed one,
#                        so concurrent runs never share files.
#
# Records real packet captures of ordinary (non-Tor) traffic that naive Tor
# detectors confuse with Tor -- TLS without ALPN to www.<word>.com names,
# Shadowsocks (AEAD), OpenVPN with tls-crypt (UDP and TCP/443), SSH, long-lived
# TLS, long polling, WebSocket over TLS, plain HTTP -- while the SAME client host
# also runs a real tor client linked to a real tor bridge.  Writes OUT_DIR/*.pcap
# and OUT_DIR/labels.json (truth from this script's configuration, never from
# torsift or the traffic).  See README.md beside this file.
#
# Needs the Debian packages in packages.txt (this script installs nothing).
#
# SAFETY: the script re-executes itself inside a NEW network namespace and a
# private mount namespace (unshare --net --mount) and refuses to run unless the
# only network interface it can see is `lo`: nothing it starts can reach any
# address outside 127.0.0.0/8.  /etc/hosts and /etc/resolv.conf are replaced by
# bind mounts visible only inside that mount namespace.  Every process it starts
# is recorded by PID and stopped by PID (with its descendants) on exit.
set -euo pipefail

LAB_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# ---------------------------------------------------------------- netns guard
if [[ "${NEGLAB_IN_NETNS:-}" != "1" ]]; then
  if [[ $# -ne 1 || "$1" == -* ]]; then
    echo "usage: $0 OUT_DIR" >&2; exit 2
  fi
  if [[ "$(id -u)" != 0 ]]; then echo "must run as root (unshare --net, tcpdump, sshd)" >&2; exit 1; fi
  export NEGLAB_T0_NS; NEGLAB_T0_NS="$(date +%s%N)"
  exec unshare --net --mount --propagation private -- env NEGLAB_IN_NETNS=1 bash "$LAB_SRC/make-negatives.sh" "$@"
fi
if [[ "$(ip -o link show | wc -l)" -ne 1 ]] || ! ip -o link show | grep -q ': lo:'; then
  echo "refusing to run: not inside a private network namespace with only lo" >&2
  exit 1
fi

OUT="$(realpath -m "$1")"
if [[ -n "${NEGLAB_WORK:-}" ]]; then WORK=$NEGLAB_WORK AUTO_WORK=0; else WORK="$(mktemp -d /tmp/neglab.XXXXXX)" AUTO_WORK=1; fi
PY=/usr/bin/python3            # Debian's python3: standard library only
H="$LAB_SRC/helpers"
T0_NS="${NEGLAB_T0_NS:-$(date +%s%N)}"

# ---------------------------------------------------------------- addresses (all loopback)
CLIENT_IP=127.0.0.51            # the client host: every negative client AND the tor client
TOR_SOCKS=127.0.0.51:19876      # tor client SocksPort (non-default port; unused)
BRIDGE_IP=127.0.0.71 BRIDGE_PORT=7443
SS1_IP=127.0.0.81 SS1_PORT=8388 SS1_METHOD=chacha20-ietf-poly1305 SS1_LOCAL=1080
SS2_IP=127.0.0.82 SS2_PORT=443  SS2_METHOD=aes-256-gcm            SS2_LOCAL=1081
SSH_IP=127.0.0.84 SSH_PORT=2222
OVPN_UDP_IP=127.0.0.85 OVPN_UDP_PORT=1194
OVPN_TCP_IP=127.0.0.86 OVPN_TCP_PORT=443
WG_IP=127.0.0.87 WG_PORT=51820
declare -A SITE=(
  [www.google.com]=127.0.0.61    [www.amazon.com]=127.0.0.62   [www.github.com]=127.0.0.63
  [www.reddit.com]=127.0.0.64    [www.example.com]=127.0.0.65  [www.wikipedia.com]=127.0.0.66
  [www.stackoverflow.com]=127.0.0.67 [www.dragonfly.com]=127.0.0.68 [www.sunshine.com]=127.0.0.69
  [www.marketplace.com]=127.0.0.70   [www.bing.com]=127.0.0.72  [www.yahoo.com]=127.0.0.73
  [www.apple.com]=127.0.0.74
)
CAP_MAIN=negatives-01-tor-host.pcap
CAP_NOTOR=negatives-02-without-tor.pcap

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# ---------------------------------------------------------------- tools present?
missing=()
for t in tor ss-server ss-local openvpn /usr/sbin/sshd ssh ssh-keygen curl wget openssl gnutls-cli node \
         gcc tcpdump tshark ethtool ping nsenter ps $PY; do
  command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
$PY -c 'import cryptography.hazmat.primitives.ciphers.aead' 2>/dev/null || missing+=(python3-cryptography)
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "missing tools: ${missing[*]} -- install the packages in $LAB_SRC/packages.txt" >&2
  exit 1
fi

# ---------------------------------------------------------------- process bookkeeping
declare -a PIDS=()
declare -A PIDNAME=()
start_bg() {              # start_bg NAME LOGFILE cmd...
  local name=$1 logf=$2; shift 2
  "$@" >"$logf" 2>&1 &
  local pid=$!
  PIDS+=("$pid"); PIDNAME[$pid]=$name
  log "started $name (pid $pid)"
}
descendants() {           # all descendant PIDs of $1, deepest first
  local c
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do descendants "$c"; echo "$c"; done
}
stop_pid() {              # stop_pid PID [SIGNAL]: the process, then any descendants left over
  local pid=$1 sig=${2:-TERM} i kids k
  kids="$(descendants "$pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "-$sig" "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    log "stopped ${PIDNAME[$pid]:-?} (pid $pid)"
  fi
  for k in $kids; do
    if kill -0 "$k" 2>/dev/null; then kill -TERM "$k" 2>/dev/null || true; sleep 0.2; kill -KILL "$k" 2>/dev/null || true; fi
  done
  return 0
}
stop_name() { local pid; for pid in "${PIDS[@]}"; do [[ "${PIDNAME[$pid]}" == "$1" ]] && stop_pid "$pid" "${2:-TERM}"; done; return 0; }
cleanup() {
  local i
  for (( i=${#PIDS[@]}-1; i>=0; i-- )); do stop_pid "${PIDS[$i]}"; done
}
on_exit() {
  local rc=$?
  cleanup
  if [[ $AUTO_WORK == 1 && $rc == 0 ]]; then rm -rf "$WORK"; elif [[ $rc != 0 ]]; then log "logs kept in $WORK/logs"; fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

wait_for() {              # wait_for FILE REGEX TIMEOUT_DECISECONDS DESCRIPTION
  local f=$1 re=$2 t=$3 what=$4 i
  for (( i=0; i<t; i++ )); do
    if [[ -f "$f" ]] && grep -qE "$re" "$f"; then log "ok: $what ($((i/10)).$((i%10))s)"; return 0; fi
    sleep 0.1
  done
  log "TIMEOUT waiting for $what ($f: $re)"; return 1
}
fail_note() { echo "$*" >>"$WORK/failures"; log "FAILED: $*"; }
PACE=0.4                  # seconds between client runs: spreads the ~45 connections over ~20 s
try() { "$@" || fail_note "exit $?: $*"; sleep "$PACE"; }     # run a client; a failure fails the run at the end

# ---------------------------------------------------------------- prepare
log "work=$WORK out=$OUT"
rm -rf "$WORK"; mkdir -p "$WORK"/{pki,meta,logs,cap,tor/bridge,tor/client,ssh,ovpn,wg,etc}
: >"$WORK/failures"
ip link set lo up
ip link set lo mtu 1500
ethtool -K lo tso off gso off gro off >/dev/null 2>&1 || true
log "lo: mtu $(ip -o link show lo | grep -oE "mtu [0-9]+" | cut -d" " -f2), $(ethtool -k lo 2>/dev/null | awk -F': ' '/^(tcp-segmentation|generic-segmentation|generic-receive)-offload/{sub(/-offload/,"",$1); printf "%s=%s ", $1, $2}')"

# Names are never resolved through DNS: /etc/hosts (private bind mount) maps them, curl gets
# --resolve, python clients get the address, and resolv.conf points at 127.0.0.1:53 where nothing
# listens -- a DNS query would show up as an unlabeled UDP conversation and fail the run.
{
  echo "127.0.0.1 localhost"
  for n in "${!SITE[@]}"; do echo "${SITE[$n]} $n ${n#www.}"; done
} >"$WORK/etc/hosts"
echo "nameserver 127.0.0.1" >"$WORK/etc/resolv.conf"
mount --bind "$WORK/etc/hosts" /etc/hosts
mount --bind "$WORK/etc/resolv.conf" /etc/resolv.conf

gcc -shared -fPIC -O2 -o "$WORK/bindshim.so" "$H/bindshim.c" -ldl
SHIM="$WORK/bindshim.so"
asclient() { env LD_PRELOAD="$SHIM" TORLAB_BIND_ADDR="$CLIENT_IP" timeout 60 "$@"; }   # run as the client host

# ---------------------------------------------------------------- PKI (local CA; fresh every run)
PKI="$WORK/pki"
CA="$PKI/root.pem"
make_pki() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 3650 \
    -keyout "$PKI/root.key" -out "$PKI/root.pem" -subj "/C=US/O=Lab Negatives Trust/CN=Lab Negatives Root CA R1" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$PKI/inter.key" -out "$PKI/inter.csr" \
    -subj "/C=US/O=Lab Negatives Trust/CN=Lab Negatives TLS CA E2" 2>/dev/null
  printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n' >"$PKI/inter.ext"
  openssl x509 -req -in "$PKI/inter.csr" -CA "$PKI/root.pem" -CAkey "$PKI/root.key" -CAcreateserial \
    -days 1825 -sha256 -extfile "$PKI/inter.ext" -out "$PKI/inter.pem" 2>/dev/null
  local n org
  for n in "${!SITE[@]}"; do
    org="$(echo "$n" | awk -F. '{print toupper(substr($2,1,1)) substr($2,2)}') Inc."
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$PKI/$n.key" -out "$PKI/$n.csr" \
      -subj "/C=US/ST=California/O=$org/CN=$n" 2>/dev/null
    printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s,DNS:%s\n' \
      "$n" "${n#www.}" >"$PKI/$n.ext"
    openssl x509 -req -in "$PKI/$n.csr" -CA "$PKI/inter.pem" -CAkey "$PKI/inter.key" -CAcreateserial \
      -days 397 -sha256 -extfile "$PKI/$n.ext" -out "$PKI/$n.crt" 2>/dev/null
    cat "$PKI/$n.crt" "$PKI/inter.pem" >"$PKI/$n.chain.pem"
  done
  # OpenVPN: its own CA (as real deployments have), server + client certificates, tls-crypt key
  local d="$WORK/ovpn"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 3650 \
    -keyout "$d/ca.key" -out "$d/ca.pem" -subj "/CN=Sunshine VPN CA" 2>/dev/null
  local role eku
  for role in server client; do
    if [[ $role == server ]]; then eku=serverAuth; else eku=clientAuth; fi
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$d/$role.key" -out "$d/$role.csr" \
      -subj "/CN=vpn-$role.sunshine.com" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' "$eku" >"$d/$role.ext"
    openssl x509 -req -in "$d/$role.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 365 -sha256 \
      -extfile "$d/$role.ext" -out "$d/$role.crt" 2>/dev/null
  done
  openvpn --genkey tls-crypt "$d/tls-crypt.key" >/dev/null
}
make_pki
log "PKI ready (${#SITE[@]} site certificates, OpenVPN CA + tls-crypt key)"

# ---------------------------------------------------------------- truth table (rules.tsv)
META="$WORK/meta"
: >"$META/rules.tsv"; : >"$META/hosts.tsv"
# rule PROTO SERVER_IP SERVER_PORT CLIENT_IP|* LABEL CATEGORY HOST_INTERNAL(0/1) EXPECT_SNI|- EXPECT_ALPN(none/offered/-) MIN_COUNT TOOL NOTE
rule() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$META/rules.tsv"; }
hostrow() { printf '%s\t%s\t%s\n' "$@" >>"$META/hosts.tsv"; }
C=$CLIENT_IP
ip_of() { echo "${SITE[$1]}"; }
# direct TLS clients (each case has its own server endpoint, so its category is unambiguous)
rule tcp "$(ip_of www.google.com)" 443 "$C" non-tor-tls tls13-no-alpn-curl 0 www.google.com none 1 "curl --no-alpn" "curl 7.88/OpenSSL 3, TLS 1.3, no ALPN; python server"
rule tcp "$(ip_of www.amazon.com)" 443 "$C" non-tor-tls tls13-alpn-curl 0 www.amazon.com offered 1 "curl" "curl default: ALPN h2,http/1.1 offered; server picks http/1.1"
rule tcp "$(ip_of www.github.com)" 443 "$C" non-tor-tls tls12-no-alpn-curl 0 www.github.com none 1 "curl --no-alpn --tls-max 1.2" "TLS 1.2, no ALPN"
rule tcp "$(ip_of www.reddit.com)" 443 "$C" non-tor-tls tls12-alpn-curl 0 www.reddit.com offered 1 "curl --tls-max 1.2" "server capped at TLS 1.2"
rule tcp "$(ip_of www.example.com)" 443 "$C" non-tor-tls tls13-no-alpn-wget 0 www.example.com none 1 "wget (GnuTLS)" "wget 1.21 with GnuTLS sends no ALPN"
rule tcp "$(ip_of www.yahoo.com)" 443 "$C" non-tor-tls tls12-no-alpn-wget 0 www.yahoo.com none 1 "wget --secure-protocol=TLSv1_2" "server: openssl s_server -www -tls1_2"
rule tcp "$(ip_of www.wikipedia.com)" 443 "$C" non-tor-tls tls13-no-alpn-openssl 0 www.wikipedia.com none 1 "openssl s_client -servername" "OpenSSL 3.0 s_client, no -alpn"
rule tcp "$(ip_of www.stackoverflow.com)" 443 "$C" non-tor-tls tls12-alpn-openssl 0 www.stackoverflow.com offered 1 "openssl s_client -alpn http/1.1 -tls1_2" ""
rule tcp "$(ip_of www.dragonfly.com)" 443 "$C" non-tor-tls tls13-no-alpn-gnutls 0 www.dragonfly.com none 1 "gnutls-cli" "GnuTLS 3.7 default priority, no ALPN"
rule tcp "$(ip_of www.bing.com)" 443 "$C" non-tor-tls tls12-alpn-gnutls 0 www.bing.com offered 1 "gnutls-cli --alpn http/1.1 (no TLS 1.3)" "server: openssl s_server -www (ignores ALPN)"
rule tcp "$(ip_of www.sunshine.com)" 443 "$C" non-tor-tls tls13-no-alpn-python-urllib 0 www.sunshine.com none 1 "python3 urllib (explicit ssl context)" ""
rule tcp "$(ip_of www.apple.com)" 443 "$C" non-tor-tls tls12-no-alpn-python-ssl 0 www.apple.com none 1 "python3 ssl socket, TLS 1.2" "server capped at TLS 1.2, no server ALPN"
rule tcp "$(ip_of www.marketplace.com)" 443 "$C" non-tor-tls tls13-no-alpn-node 0 www.marketplace.com none 1 "node https.get" "Node 20 https: no ALPN by default"
rule tcp "$(ip_of www.apple.com)" 8443 "$C" non-tor-tls tls12-alpn-node 0 www.apple.com offered 1 "node https.get ALPNProtocols maxVersion TLSv1.2" ""
rule tcp "$(ip_of www.marketplace.com)" 8443 "$C" non-tor-tls tls13-no-alpn-curl-long 0 www.marketplace.com none 1 "curl --no-alpn --limit-rate 150k (300 kB download)" "long-lived bulk TLS (~2 s)"
rule tcp "$(ip_of www.dragonfly.com)" 9001 "$C" non-tor-tls tls13-no-alpn-curl-port9001 0 www.dragonfly.com none 1 "curl --no-alpn" "ordinary HTTPS on port 9001 (the most common Tor ORPort), no ALPN on either side"
rule tcp "$(ip_of www.wikipedia.com)" 8443 "$C" non-tor-tls tls13-no-alpn-python-keepalive 0 www.wikipedia.com none 1 "python3 http.client keep-alive" "6 x 40 kB on one TLS connection, think times"
rule tcp "$(ip_of www.example.com)" 8443 "$C" non-tor-tls tls13-longpoll-python 0 www.example.com offered 1 "python3 long polling" "~10 long-poll GETs + POSTs on one TLS connection (ALPN http/1.1)"
rule tcp "$(ip_of www.stackoverflow.com)" 8443 "$C" non-tor-tls tls13-websocket-python 0 www.stackoverflow.com offered 1 "python3 WebSocket over TLS" "RFC 6455 upgrade, small JSON messages + pings, clean close"
rule tcp "$(ip_of www.sunshine.com)" 80 "$C" non-tor-other http-plain-curl 0 - - 1 "curl" "plain HTTP/1.1"
rule tcp "$(ip_of www.dragonfly.com)" 80 "$C" non-tor-other http-plain-curl 0 - - 1 "curl" "plain HTTP/1.1, 150 kB"
# Shadowsocks: app -> ss-local (host-internal), ss-local -> ss-server (THE hard negative), ss-server -> site
rule tcp "$C" "$SS1_LOCAL" "$C" non-tor-other socks5-to-ss-local 1 - - 3 "curl --socks5" "host-internal: application -> ss-local SOCKS5 port on the client host"
rule tcp "$C" "$SS2_LOCAL" "$C" non-tor-other socks5-to-ss-local 1 - - 3 "curl --socks5" "host-internal: application -> ss-local SOCKS5 port on the client host"
rule tcp "$SS1_IP" "$SS1_PORT" "$C" non-tor-other shadowsocks 0 - - 3 "ss-local (shadowsocks-libev) $SS1_METHOD" "Shadowsocks AEAD $SS1_METHOD on port $SS1_PORT: fully random-looking stream"
rule tcp "$SS2_IP" "$SS2_PORT" "$C" non-tor-other shadowsocks 0 - - 3 "ss-local (shadowsocks-libev) $SS2_METHOD" "Shadowsocks AEAD $SS2_METHOD on port $SS2_PORT: fully random-looking stream"
for ssip in "$SS1_IP" "$SS2_IP"; do
  for n in www.marketplace.com www.github.com www.amazon.com www.reddit.com; do
    rule tcp "$(ip_of $n)" 443 "$ssip" non-tor-tls shadowsocks-egress 0 - - 0 "ss-server -> site" "the proxied HTTPS request leaving the Shadowsocks server"
  done
  rule tcp "$(ip_of www.marketplace.com)" 8443 "$ssip" non-tor-tls shadowsocks-egress 0 - - 0 "ss-server -> site" "the proxied HTTPS request (300 kB) leaving the Shadowsocks server"
  for n in www.marketplace.com www.sunshine.com; do
    rule tcp "$(ip_of $n)" 80 "$ssip" non-tor-other shadowsocks-egress 0 - - 0 "ss-server -> site" "the proxied plain-HTTP request leaving the Shadowsocks server"
  done
done
rule tcp "$SSH_IP" "$SSH_PORT" "$C" non-tor-other ssh 0 - - 2 "OpenSSH client" "OpenSSH 9.2 to sshd on port $SSH_PORT (ed25519 host key)"
rule udp "$OVPN_UDP_IP" "$OVPN_UDP_PORT" "$C" non-tor-other openvpn-tls-crypt-udp 0 - - 1 "openvpn 2.6 --tls-crypt (UDP)" "OpenVPN p2p TLS with tls-crypt, certificates from a private CA; ping + 100 kB HTTP inside"
rule tcp "$OVPN_TCP_IP" "$OVPN_TCP_PORT" "$C" non-tor-other openvpn-tls-crypt-tcp 0 - - 1 "openvpn 2.6 --tls-crypt (TCP 443)" "OpenVPN over TCP port 443 with tls-crypt; ping + 100 kB HTTP inside"
rule udp "$WG_IP" "$WG_PORT" "$C" non-tor-other wireguard 0 - - 1 "helpers/wgpy.py (WireGuard protocol in Python)" "WireGuard wire protocol (Noise_IKpsk2): handshake 148/92 B, transport data with pings + 110 kB download, keepalive; tshark's wg dissector decrypts it with wireguard-keylog.txt. Not the kernel/wireguard-go implementation (none available here)"
rule tcp "$BRIDGE_IP" "$BRIDGE_PORT" "$C" tor-or tor-link 0 - - 1 "tor $(tor --version | head -1 | awk '{print $3}' | sed 's/\.$//') client (UseBridges)" "genuine Tor OR link from the client host to a tor bridge ORPort"
hostrow "$CLIENT_IP" client-host "runs every negative client, ss-local, and a real tor client (SocksPort $TOR_SOCKS)"
for n in "${!SITE[@]}"; do hostrow "${SITE[$n]}" web-server "$n (HTTPS/HTTP)"; done
hostrow "$BRIDGE_IP" tor-bridge "tor bridge relay, ORPort $BRIDGE_PORT"
hostrow "$SS1_IP" shadowsocks-server "ss-server $SS1_METHOD :$SS1_PORT"
hostrow "$SS2_IP" shadowsocks-server "ss-server $SS2_METHOD :$SS2_PORT"
hostrow "$SSH_IP" ssh-server "sshd :$SSH_PORT"
hostrow "$OVPN_UDP_IP" openvpn-server "openvpn udp :$OVPN_UDP_PORT"
hostrow "$OVPN_TCP_IP" openvpn-server "openvpn tcp :$OVPN_TCP_PORT"
hostrow "$WG_IP" wireguard-peer "WireGuard responder (helpers/wgpy.py) udp :$WG_PORT"

# ---------------------------------------------------------------- servers (idle until used)
ip_port_cert() { echo "$(ip_of "$1"):$2|$PKI/$1.chain.pem|$PKI/$1.key|$3|$4"; }
listen=(
  --listen "$(ip_port_cert www.google.com 443 http/1.1 1.3)"
  --listen "$(ip_port_cert www.amazon.com 443 http/1.1 1.3)"
  --listen "$(ip_port_cert www.github.com 443 http/1.1 1.3)"
  --listen "$(ip_port_cert www.reddit.com 443 http/1.1 1.2)"
  --listen "$(ip_port_cert www.example.com 443 http/1.1 1.3)"
  --listen "$(ip_port_cert www.wikipedia.com 443 http/1.1 1.3)"
  --listen "$(ip_port_cert www.stackoverflow.com 443 http/1.1 1.3)"
  --listen "$(ip_port_cert www.dragonfly.com 443 http/1.1 1.3)"
  --listen "$(ip_port_cert www.sunshine.com 443 http/1.1 1.3)"
  --listen "$(ip_port_cert www.marketplace.com 443 - 1.3)"
  --listen "$(ip_port_cert www.apple.com 443 - 1.2)"
  --listen "$(ip_port_cert www.apple.com 8443 http/1.1 1.3)"
  --listen "$(ip_port_cert www.marketplace.com 8443 http/1.1 1.3)"
  --listen "$(ip_port_cert www.wikipedia.com 8443 http/1.1 1.3)"
  --listen "$(ip_port_cert www.example.com 8443 http/1.1 1.3)"
  --listen "$(ip_port_cert www.stackoverflow.com 8443 http/1.1 1.3)"
  --listen "$(ip_port_cert www.dragonfly.com 9001 - 1.3)"
  --listen "$(ip_of www.sunshine.com):80" --listen "$(ip_of www.dragonfly.com):80" --listen "$(ip_of www.marketplace.com):80"
  --listen "0.0.0.0:8090"      # reached only from inside the OpenVPN tunnels (10.8.0.1 / 10.9.0.1)
)
start_bg web "$WORK/logs/web.log" $PY "$H/negsrv.py" "${listen[@]}"
start_bg s_server-bing "$WORK/logs/s_server-bing.log" openssl s_server -quiet -www -naccept 50 \
  -accept "$(ip_of www.bing.com):443" -cert "$PKI/www.bing.com.crt" -cert_chain "$PKI/inter.pem" -key "$PKI/www.bing.com.key"
start_bg s_server-yahoo "$WORK/logs/s_server-yahoo.log" openssl s_server -quiet -www -naccept 50 -tls1_2 \
  -accept "$(ip_of www.yahoo.com):443" -cert "$PKI/www.yahoo.com.crt" -cert_chain "$PKI/inter.pem" -key "$PKI/www.yahoo.com.key"

# Shadowsocks: servers on their own addresses (egress from them too), ss-local on the client host
SS1_PW="$(openssl rand -base64 18)"; SS2_PW="$(openssl rand -base64 18)"
start_bg ss-server-1 "$WORK/logs/ss-server-1.log" env LD_PRELOAD="$SHIM" TORLAB_BIND_ADDR="$SS1_IP" \
  ss-server -s "$SS1_IP" -p "$SS1_PORT" -k "$SS1_PW" -m "$SS1_METHOD" -t 60 -v
start_bg ss-server-2 "$WORK/logs/ss-server-2.log" env LD_PRELOAD="$SHIM" TORLAB_BIND_ADDR="$SS2_IP" \
  ss-server -s "$SS2_IP" -p "$SS2_PORT" -k "$SS2_PW" -m "$SS2_METHOD" -t 60 -v
start_bg ss-local-1 "$WORK/logs/ss-local-1.log" env LD_PRELOAD="$SHIM" TORLAB_BIND_ADDR="$CLIENT_IP" \
  ss-local -s "$SS1_IP" -p "$SS1_PORT" -b "$CLIENT_IP" -l "$SS1_LOCAL" -k "$SS1_PW" -m "$SS1_METHOD" -t 60 -v
start_bg ss-local-2 "$WORK/logs/ss-local-2.log" env LD_PRELOAD="$SHIM" TORLAB_BIND_ADDR="$CLIENT_IP" \
  ss-local -s "$SS2_IP" -p "$SS2_PORT" -b "$CLIENT_IP" -l "$SS2_LOCAL" -k "$SS2_PW" -m "$SS2_METHOD" -t 60 -v

# SSH: our own sshd config and keys (nothing of the system's sshd is used or changed)
ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/host_ed25519" -C neglab-host
ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/id_ed25519" -C neglab-client
cp "$WORK/ssh/id_ed25519.pub" "$WORK/ssh/authorized_keys"
cat >"$WORK/ssh/sshd_config" <<EOF
ListenAddress $SSH_IP:$SSH_PORT
HostKey $WORK/ssh/host_ed25519
PidFile $WORK/ssh/sshd.pid
AuthorizedKeysFile $WORK/ssh/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
StrictModes no
PrintMotd no
PrintLastLog no
X11Forwarding no
AcceptEnv none
EOF
mkdir -p /run/sshd      # sshd's privilege-separation directory (what the Debian package creates too)
start_bg sshd "$WORK/logs/sshd.log" /usr/sbin/sshd -D -e -f "$WORK/ssh/sshd_config"
ssh_run() {
  asclient ssh -F /dev/null -i "$WORK/ssh/id_ed25519" -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR \
    -b "$CLIENT_IP" -p "$SSH_PORT" "root@$SSH_IP" "$@"
}

# OpenVPN servers (p2p TLS mode, tls-crypt); the server tun devices live in this namespace
D="$WORK/ovpn"
ovpn_common=(--dev-type tun --tls-crypt "$D/tls-crypt.key" --ca "$D/ca.pem" --verb 3 --ping 2 --ping-restart 30)
start_bg ovpn-server-udp "$WORK/logs/ovpn-server-udp.log" openvpn --dev ovs-udp "${ovpn_common[@]}" --proto udp \
  --local "$OVPN_UDP_IP" --lport "$OVPN_UDP_PORT" --ifconfig 10.8.0.1 10.8.0.2 --tls-server \
  --cert "$D/server.crt" --key "$D/server.key" --dh none
start_bg ovpn-server-tcp "$WORK/logs/ovpn-server-tcp.log" openvpn --dev ovs-tcp "${ovpn_common[@]}" --proto tcp-server \
  --local "$OVPN_TCP_IP" --lport "$OVPN_TCP_PORT" --ifconfig 10.9.0.1 10.9.0.2 --tls-server \
  --cert "$D/server.crt" --key "$D/server.key" --dh none
# The OpenVPN clients' tun devices are moved into a nested, empty network namespace: there the
# tunnel addresses are not local addresses of the servers' namespace, so pings and HTTP really
# go through the tunnel (client tun -> openvpn client -> lo -> openvpn server -> server tun).
start_bg tunnel-ns "$WORK/logs/tunnel-ns.log" unshare --net sleep 600
TUNNEL_NS=${PIDS[-1]}

# WireGuard: the kernel has no wireguard module here; helpers/wgpy.py speaks the protocol itself
$PY "$H/wgpy.py" genkey "$WORK/wg/responder"; $PY "$H/wgpy.py" genkey "$WORK/wg/initiator"
start_bg wg-responder "$WORK/logs/wg-responder.log" $PY "$H/wgpy.py" responder --listen "$WG_IP:$WG_PORT" \
  --key "$WORK/wg/responder.key" --peer "$WORK/wg/initiator.pub" --bulk 80 --duration 300

# Tor bridge (started before the capture: it makes no connections of its own here)
cat >"$WORK/tor/bridge/torrc" <<EOF
DataDirectory $WORK/tor/bridge
Nickname negbridge
RunAsDaemon 0
Log notice file $WORK/tor/bridge/notice.log
SafeLogging 0
ShutdownWaitLength 0
BridgeRelay 1
PublishServerDescriptor 0
BridgeDistribution none
AssumeReachable 1
ExitRelay 0
ExitPolicy reject *:*
SocksPort 0
ControlPort 0
ORPort $BRIDGE_IP:$BRIDGE_PORT
Address $BRIDGE_IP
OutboundBindAddress $BRIDGE_IP
AddressDisableIPv6 1
ContactInfo negbridge <negbridge@lab.invalid>
EOF
chmod 700 "$WORK/tor/bridge" "$WORK/tor/client"
start_bg tor-bridge "$WORK/logs/tor-bridge.log" env LD_PRELOAD="$SHIM" TORLAB_BIND_ADDR="$BRIDGE_IP" tor -f "$WORK/tor/bridge/torrc"
wait_for "$WORK/tor/bridge/notice.log" 'Opened OR listener' 300 "tor bridge ORPort open"
wait_for "$WORK/tor/bridge/fingerprint" '[0-9A-F]{40}' 300 "tor bridge fingerprint"
BRIDGE_FP="$(awk '{print $2}' "$WORK/tor/bridge/fingerprint")"
cat >"$WORK/tor/client/torrc" <<EOF
DataDirectory $WORK/tor/client
RunAsDaemon 0
Log notice file $WORK/tor/client/notice.log
SafeLogging 0
ShutdownWaitLength 0
ControlPort 0
UseBridges 1
Bridge $BRIDGE_IP:$BRIDGE_PORT $BRIDGE_FP
SocksPort $TOR_SOCKS
OutboundBindAddress $CLIENT_IP
ClientUseIPv6 0
EOF
wait_for "$WORK/logs/web.log" '^ready' 100 "web servers ready"
wait_for "$WORK/logs/sshd.log" 'Server listening' 100 "sshd listening"
wait_for "$WORK/logs/wg-responder.log" '^ready' 100 "wireguard responder ready"
wait_for "$WORK/logs/ovpn-server-udp.log" 'Initialization Sequence Completed|UDPv4 link local' 100 "openvpn udp server"
wait_for "$WORK/logs/ovpn-server-tcp.log" 'Listening for incoming TCP connection' 100 "openvpn tcp server"
sleep 0.5

# ---------------------------------------------------------------- capture
CAP_PID=""
cap_start() {
  CAP_FILE="$WORK/cap/$1"
  tcpdump -i lo -s 0 -U -n -Z root -w "$CAP_FILE" >"$WORK/logs/tcpdump-$1.log" 2>&1 &
  CAP_PID=$!; PIDS+=("$CAP_PID"); PIDNAME[$CAP_PID]="tcpdump:$1"
  wait_for "$WORK/logs/tcpdump-$1.log" 'listening on' 100 "tcpdump on lo -> $1"
  sleep 0.5
}
cap_stop() { sleep 1; stop_pid "$CAP_PID" INT; CAP_PID=""; }

# ---------------------------------------------------------------- client groups
curl_c() { asclient curl -sS --fail --max-time 30 --interface "$CLIENT_IP" --cacert "$CA" -o /dev/null "$@"; }
https_req() { printf 'GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: lab\r\nAccept: */*\r\nConnection: close\r\n\r\n' "$1"; }

group_tls() {             # direct TLS / HTTP clients, one after another
  local n p
  n=www.google.com;   try curl_c --no-alpn --resolve "$n:443:$(ip_of $n)" "https://$n/"
  n=www.amazon.com;   try curl_c --resolve "$n:443:$(ip_of $n)" "https://$n/"
  n=www.github.com;   try curl_c --no-alpn --tls-max 1.2 --resolve "$n:443:$(ip_of $n)" "https://$n/"
  n=www.reddit.com;   try curl_c --tls-max 1.2 --resolve "$n:443:$(ip_of $n)" "https://$n/"
  n=www.example.com;  try asclient wget -q -O /dev/null --bind-address="$CLIENT_IP" --ca-certificate="$CA" "https://$n/"
  n=www.yahoo.com;    try asclient wget -q -O /dev/null --bind-address="$CLIENT_IP" --ca-certificate="$CA" --secure-protocol=TLSv1_2 "https://$n/"
  n=www.wikipedia.com
  https_req "$n" | try asclient openssl s_client -quiet -ign_eof -verify_return_error -CAfile "$CA" \
    -connect "$(ip_of $n):443" -servername "$n" >/dev/null 2>>"$WORK/logs/clients.log"
  n=www.stackoverflow.com
  https_req "$n" | try asclient openssl s_client -quiet -ign_eof -verify_return_error -CAfile "$CA" -tls1_2 \
    -alpn http/1.1 -connect "$(ip_of $n):443" -servername "$n" >/dev/null 2>>"$WORK/logs/clients.log"
  n=www.dragonfly.com
  { https_req "$n"; sleep 1; } | try asclient gnutls-cli --x509cafile "$CA" -p 443 "$n" >/dev/null 2>>"$WORK/logs/clients.log"
  n=www.bing.com
  { printf 'GET / HTTP/1.0\r\n\r\n'; sleep 1; } | try asclient gnutls-cli --x509cafile "$CA" -p 443 --alpn http/1.1 \
    --priority NORMAL:-VERS-TLS1.3 "$n" >/dev/null 2>>"$WORK/logs/clients.log"
  try asclient $PY "$H/negclients.py" urllib "https://www.sunshine.com/" --cafile "$CA"
  try asclient $PY "$H/negclients.py" rawssl --connect "$(ip_of www.apple.com):443" --sni www.apple.com --cafile "$CA" --tls-max 1.2
  try asclient node "$H/nodeget.js" "https://www.marketplace.com/" "$CA"
  try asclient node "$H/nodeget.js" "https://www.apple.com:8443/" "$CA" --alpn http/1.1 --tls-max TLSv1.2
  n=www.marketplace.com; try curl_c --no-alpn --limit-rate 150k --resolve "$n:8443:$(ip_of $n)" "https://$n:8443/blob/300000"
  n=www.dragonfly.com;   try curl_c --no-alpn --resolve "$n:9001:$(ip_of $n)" "https://$n:9001/"
  try asclient $PY "$H/negclients.py" keepalive --connect "$(ip_of www.wikipedia.com):8443" --sni www.wikipedia.com \
    --cafile "$CA" --count 6 --size 40000
  try asclient $PY "$H/negclients.py" longpoll --connect "$(ip_of www.example.com):8443" --sni www.example.com \
    --cafile "$CA" --count 10 --alpn http/1.1
  try asclient $PY "$H/negclients.py" ws --connect "$(ip_of www.stackoverflow.com):8443" --sni www.stackoverflow.com \
    --cafile "$CA" --count 12 --alpn http/1.1
  n=www.sunshine.com;  try curl_c --resolve "$n:80:$(ip_of $n)" "http://$n/"
  n=www.dragonfly.com; try curl_c --resolve "$n:80:$(ip_of $n)" "http://$n/blob/150000"
  log "group tls: done"
}

group_ss_ssh() {          # Shadowsocks (curl -> ss-local SOCKS5 -> ss-server -> site), then SSH
  local n via1="$CLIENT_IP:$SS1_LOCAL" via2="$CLIENT_IP:$SS2_LOCAL"
  # --socks5 (not socks5h): curl resolves the name itself (--resolve) and sends the address
  n=www.marketplace.com; try curl_c --socks5 "$via1" --resolve "$n:80:$(ip_of $n)" "http://$n/"
  n=www.github.com;      try curl_c --socks5 "$via1" --resolve "$n:443:$(ip_of $n)" "https://$n/"
  n=www.marketplace.com; try curl_c --socks5 "$via1" --limit-rate 200k --resolve "$n:8443:$(ip_of $n)" "https://$n:8443/blob/300000"
  n=www.amazon.com;      try curl_c --socks5 "$via2" --resolve "$n:443:$(ip_of $n)" "https://$n/"
  n=www.sunshine.com;    try curl_c --socks5 "$via2" --resolve "$n:80:$(ip_of $n)" "http://$n/blob/120000"
  n=www.reddit.com;      try curl_c --socks5 "$via2" --no-alpn --resolve "$n:443:$(ip_of $n)" "https://$n/"
  log "group shadowsocks: done"
  try ssh_run 'head -c 150000 /dev/urandom' >/dev/null
  head -c 60000 /dev/urandom | try ssh_run 'cat >/dev/null; for i in 1 2 3 4 5 6 7 8; do uname -a; date; sleep 0.2; done' >/dev/null
  log "group ssh: done"
}

ovpn_client() {           # ovpn_client NAME TUNDEV LOCALNET REMOTENET openvpn-args...
  local name=$1 dev=$2 mine=$3 peer=$4 i; shift 4
  start_bg "ovpn-client-$name" "$WORK/logs/ovpn-client-$name.log" env LD_PRELOAD="$SHIM" TORLAB_BIND_ADDR="$CLIENT_IP" \
    openvpn --dev "$dev" "${ovpn_common[@]}" --tls-client --remote-cert-tls server \
    --cert "$D/client.crt" --key "$D/client.key" --ifconfig "$mine" "$peer" --ifconfig-noexec "$@"
  for i in $(seq 1 100); do ip link show "$dev" >/dev/null 2>&1 && break; sleep 0.1; done
  ip link set "$dev" netns "$TUNNEL_NS"
  nsenter -t "$TUNNEL_NS" -n sh -c "ip link set lo up; ip addr add $mine peer $peer dev $dev; ip link set $dev up"
  wait_for "$WORK/logs/ovpn-client-$name.log" 'Initialization Sequence Completed' 200 "openvpn $name tunnel up" \
    || { fail_note "openvpn $name tunnel"; return 0; }
  try nsenter -t "$TUNNEL_NS" -n ping -q -c 15 -i 0.1 -s 1000 -W 2 "$peer" >/dev/null
  try nsenter -t "$TUNNEL_NS" -n curl -sS --fail --max-time 30 -o /dev/null "http://$peer:8090/blob/100000"
  try nsenter -t "$TUNNEL_NS" -n curl -sS --fail --max-time 30 -o /dev/null "http://$peer:8090/"
  sleep 0.5
  stop_name "ovpn-client-$name"
}
group_ovpn() {
  ovpn_client udp ovc-udp 10.8.0.2 10.8.0.1 --proto udp --remote "$OVPN_UDP_IP" "$OVPN_UDP_PORT" \
    --local "$CLIENT_IP" --lport 0 --explicit-exit-notify 1
  ovpn_client tcp ovc-tcp 10.9.0.2 10.9.0.1 --proto tcp-client --remote "$OVPN_TCP_IP" "$OVPN_TCP_PORT"
  log "group openvpn: done"
  try asclient $PY "$H/wgpy.py" initiator --bind "$CLIENT_IP" --connect "$WG_IP:$WG_PORT" --key "$WORK/wg/initiator.key" \
    --peer "$WORK/wg/responder.pub" --pings 10 --bulk 80 --keylog "$WORK/wg/keylog"
  log "group wireguard: done"
}

# ================================================================ the capture: tor + negatives
cap_start "$CAP_MAIN"
start_bg tor-client "$WORK/logs/tor-client.log" env LD_PRELOAD="$SHIM" TORLAB_BIND_ADDR="$CLIENT_IP" tor -f "$WORK/tor/client/torrc"
wait_for "$WORK/tor/client/notice.log" 'Handshake with a relay done|handshake_done' 300 "tor client: link handshake with the bridge" \
  || fail_note "tor client link handshake"
( group_tls ) & G1=$!
( group_ss_ssh ) & G2=$!
( group_ovpn ) & G3=$!
PIDS+=("$G1" "$G2" "$G3"); PIDNAME[$G1]=group-tls; PIDNAME[$G2]=group-ss-ssh; PIDNAME[$G3]=group-ovpn
for g in "$G1" "$G2" "$G3"; do wait "$g" || fail_note "client group ${PIDNAME[$g]} exited non-zero"; done
grep -E 'new bridge descriptor|Bootstrapped' "$WORK/tor/client/notice.log" | tail -2 | sed 's/^/  tor client: /' >&2 || true
sleep 1
stop_name tor-client
cap_stop

# stop everything (reverse start order); the EXIT trap would do it too
cleanup
PIDS=()

# ---------------------------------------------------------------- outputs
mkdir -p "$OUT"
rm -f "$OUT"/*.pcap "$OUT/labels.json" "$OUT/README.txt"
cp "$WORK/cap/$CAP_MAIN" "$OUT/"
# the same traffic without the one genuine Tor link: must produce zero Tor detections
tshark -r "$OUT/$CAP_MAIN" -Y "not (ip.addr==$BRIDGE_IP && tcp.port==$BRIDGE_PORT)" -F pcap -w "$OUT/$CAP_NOTOR"
cp "$PKI/root.pem" "$OUT/lab-root-ca.pem"
cp "$WORK/wg/keylog" "$OUT/wireguard-keylog.txt" 2>/dev/null || true
# the WireGuard flow must be genuine protocol: tshark's own dissector must decrypt the inner pings
WG_ICMP=$(tshark -r "$OUT/$CAP_MAIN" -o "wg.keylog_file:$OUT/wireguard-keylog.txt" -Y 'wg && icmp' 2>/dev/null | wc -l)
[[ $WG_ICMP -ge 10 ]] || fail_note "tshark could not decrypt the WireGuard flow ($WG_ICMP inner ICMP packets)"
log "wireguard check: tshark decrypted $WG_ICMP inner ICMP packets"
ELAPSED=$(( ($(date +%s%N) - T0_NS) / 1000000000 ))
LABEL_RC=0
$PY "$H/label_negatives.py" --meta "$META" --out "$OUT/labels.json" --require-in "$OUT/$CAP_MAIN" \
  --extra "generator=tests/lab/make-negatives.sh" --extra "generated_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  --extra "tor_version=$(tor --version | head -1)" --extra "lo_mtu=1500" --extra "lo_offloads=off" \
  --extra "bridge_fingerprint=$BRIDGE_FP" --extra "runtime_before_labeling_s=$ELAPSED" \
  "$OUT/$CAP_MAIN" "$OUT/$CAP_NOTOR" || LABEL_RC=$?

echo "--- ClientHellos in $CAP_MAIN (tshark; an empty ALPN column = no ALPN extension):" >&2
{ echo "CLIENT SERVER PORT SNI ALPN"
  tshark -r "$OUT/$CAP_MAIN" -d "tcp.port==8443,tls" -d "tcp.port==9001,tls" -d "tcp.port==$BRIDGE_PORT,tls" \
    -Y 'tls.handshake.type==1' -T fields -E separator=' ' -e ip.src -e ip.dst -e tcp.dstport \
    -e tls.handshake.extensions_server_name -e tls.handshake.extensions_alpn_str 2>/dev/null | sort -k4
} | awk '{printf "  %-11s %-11s %-5s %-26s %s\n", $1, $2, $3, $4, $5}' >&2 || true
cat >"$OUT/README.txt" <<EOF
Hard-negatives captures made by tests/lab/make-negatives.sh on $(date -u +%Y-%m-%d) ($(tor --version | head -1)).
Loopback inside a private network namespace (lo MTU 1500, TSO/GSO/GRO off), tcpdump -i lo -s 0.
  $CAP_MAIN      ordinary non-Tor traffic (TLS w/o ALPN, Shadowsocks, OpenVPN tls-crypt,
                                     SSH, long polling, WebSocket, plain HTTP) from client host $CLIENT_IP,
                                     which at the same time runs a real tor client linked to a bridge ($BRIDGE_IP:$BRIDGE_PORT)
  $CAP_NOTOR  the same capture with the Tor link filtered out (tshark display filter)
labels.json: the truth label and category of every TCP/UDP conversation (see tests/lab/README.md).
lab-root-ca.pem: the CA that issued the HTTPS servers' certificates.
EOF
chmod -R a+rX "$OUT"
FAILS=$(wc -l <"$WORK/failures")
if [[ $FAILS -gt 0 ]]; then echo "client failures:" >&2; sed 's/^/  /' "$WORK/failures" >&2; fi
ELAPSED=$(( ($(date +%s%N) - T0_NS) / 1000000000 ))
ls -la "$OUT" >&2
log "done in ${ELAPSED}s (label rc=$LABEL_RC, client failures=$FAILS)"
[[ $LABEL_RC -eq 0 && $FAILS -eq 0 ]]
