#!/usr/bin/env python3
"""Write labels.json for the hard-negatives lab captures, and check them.

Adapted from shared/lab/helpers/label_captures.py.  The truth comes only from the
lab script's own configuration (rules.tsv: which address:port each service listens
on, and which client address uses it), never from the payloads:

  rules.tsv  proto server_ip server_port client_ip label category host_internal
             expect_sni expect_alpn min_count tool note
    client_ip    '*' = any client; a rule naming the client address wins over '*'
    expect_sni   '-' = not checked, else the SNI every ClientHello of the conversation must carry
    expect_alpn  '-' = not checked, 'none' = ClientHello must have NO ALPN extension,
                 'offered' = ClientHello must have one
    min_count    the main capture (--require-in) must hold at least this many conversations of the rule
  hosts.tsv  ip role description

Every TCP/UDP conversation is attributed to the listening endpoint it was opened to
(SYN without ACK; for UDP the side that is a known service) and gets that rule's
label.  Exits non-zero if any conversation is unlabeled, if tshark's own conversation
tables (-z conv,tcp / conv,udp) list one that is not labeled, if a TLS expectation
fails, or if a rule has fewer conversations than min_count.

usage: label_negatives.py --meta DIR --out labels.json [--require-in FILE.pcap]
                          [--extra key=value ...] CAPTURE...
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys

RULE_FIELDS = ["proto", "server_ip", "server_port", "client_ip", "label", "category", "host_internal",
               "expect_sni", "expect_alpn", "min_count", "tool", "note"]


def read_tsv(path, fields):
    rows = []
    if not os.path.exists(path):
        return rows
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            parts = line.split("\t")
            parts += [""] * (len(fields) - len(parts))
            rows.append(dict(zip(fields, parts)))
    return rows


def tshark(pcap, args):
    return subprocess.run(["tshark", "-n", "-r", pcap] + args, check=True,
                          capture_output=True, text=True).stdout


def tshark_convs(pcap, proto):
    convs = set()
    for line in tshark(pcap, ["-q", "-z", "conv,%s" % proto]).splitlines():
        m = re.match(r"^\s*(\S+):(\d+)\s+<->\s+(\S+):(\d+)\s", line)
        if m:
            convs.add(frozenset([(m.group(1), int(m.group(2))), (m.group(3), int(m.group(4)))]))
    return convs


def streams_of(pcap):
    out = tshark(pcap, ["-Y", "(tcp or udp) and not icmp", "-T", "fields", "-E", "separator=\t",
                        "-e", "frame.number", "-e", "frame.time_epoch", "-e", "ip.src", "-e", "ip.dst",
                        "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.flags.syn",
                        "-e", "tcp.flags.ack", "-e", "udp.srcport", "-e", "udp.dstport",
                        "-e", "tcp.stream", "-e", "udp.stream", "-e", "frame.len", "-e", "tcp.len",
                        "-e", "udp.length"])
    streams = collections.OrderedDict()
    for line in out.splitlines():
        (num, ts, src, dst, tsp, tdp, syn, ack, usp, udp_, tstream, ustream, flen,
         tlen, ulen) = (line.split("\t") + [""] * 15)[:15]
        if tstream:
            key, sp, dp, plen = ("tcp", int(tstream)), int(tsp), int(tdp), int(tlen or 0)
        elif ustream:
            key, sp, dp, plen = ("udp", int(ustream)), int(usp), int(udp_), max(int(ulen or 8) - 8, 0)
        else:
            continue
        st = streams.get(key)
        if st is None:
            st = streams[key] = {"proto": key[0], "a": (src, sp), "b": (dst, dp), "initiator": None,
                                 "first_frame": int(num), "first_time": float(ts), "last_time": float(ts),
                                 "packets": 0, "bytes": 0, "payload_bytes": 0}
        st["packets"] += 1
        st["bytes"] += int(flen)
        st["payload_bytes"] += plen
        st["last_time"] = float(ts)
        if key[0] == "tcp" and syn == "1" and ack == "0" and st["initiator"] is None:
            st["initiator"] = (src, sp)
    return streams


def tls_facts(pcap, tls_ports):
    """Per tcp.stream: ClientHello SNI/ALPN/versions and ServerHello choice."""
    dec = []
    for p in sorted(tls_ports):
        dec += ["-d", "tcp.port==%d,tls" % p]
    facts = collections.defaultdict(lambda: {"client_hellos": 0, "sni": [], "alpn_offered": [],
                                             "server_hellos": 0, "version": None, "alpn_selected": None})
    out = tshark(pcap, dec + ["-Y", "tls.handshake.type==1 || tls.handshake.type==2", "-T", "fields",
                              "-E", "separator=\t", "-E", "aggregator=,", "-e", "tcp.stream",
                              "-e", "tls.handshake.type", "-e", "tls.handshake.extensions_server_name",
                              "-e", "tls.handshake.extensions_alpn_str",
                              "-e", "tls.handshake.extensions.supported_version",
                              "-e", "tls.handshake.version"])
    for line in out.splitlines():
        stream, types, sni, alpn, sv, hv = (line.split("\t") + [""] * 6)[:6]
        if not stream:
            continue
        f = facts[int(stream)]
        types = types.split(",")
        if "1" in types:
            f["client_hellos"] += 1
            if sni:
                f["sni"].append(sni)
            f["alpn_offered"].append(alpn.split(",") if alpn else [])
        if "2" in types:
            f["server_hellos"] += 1
            v = (sv or hv).split(",")[-1]
            f["version"] = {"0x0304": "TLS 1.3", "0x0303": "TLS 1.2", "0x0302": "TLS 1.1"}.get(v, v)
            if "1" not in types and alpn:
                f["alpn_selected"] = alpn
    return facts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--meta", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--require-in", default="")
    ap.add_argument("--extra", action="append", default=[])
    ap.add_argument("captures", nargs="+")
    args = ap.parse_args()

    rules = read_tsv(os.path.join(args.meta, "rules.tsv"), RULE_FIELDS)
    hosts = read_tsv(os.path.join(args.meta, "hosts.tsv"), ["ip", "role", "description"])
    by_key = {}
    for r in rules:
        by_key[(r["proto"], r["server_ip"], int(r["server_port"]), r["client_ip"])] = r
    host_role = {h["ip"]: {"role": h["role"], "description": h["description"]} for h in hosts}
    tls_ports = {int(r["server_port"]) for r in rules                  # decode these as TLS
                 if r["proto"] == "tcp" and r["label"] in ("non-tor-tls", "tor-or")}

    def lookup(proto, server, client_ip):
        return (by_key.get((proto, server[0], server[1], client_ip))
                or by_key.get((proto, server[0], server[1], "*")))

    result = {
        "description": "Ground-truth labels for the hard-negatives lab (tests/lab/make-negatives.sh): ordinary "
                       "non-Tor traffic that naive Tor detectors confuse with Tor (TLS without ALPN and with "
                       "www.<word>.com names, Shadowsocks, OpenVPN tls-crypt, SSH, ...) plus one genuine Tor "
                       "link from the same client host. Labels come from the lab configuration (which "
                       "address:port each service listened on and which client used it), never from the traffic.",
        "label_meanings": {
            "tor-or": "Tor OR link (TLS) from the tor client to the bridge's ORPort",
            "non-tor-tls": "ordinary TLS (HTTPS, WebSocket over TLS, long polling) with nothing to do with Tor",
            "non-tor-other": "anything else that is not Tor: Shadowsocks, OpenVPN, SSH, plain HTTP, SOCKS5 to a "
                             "local proxy",
        },
        "wire_realistic_note": "Conversations with host_internal=true would never cross a real network (they are "
                               "local to the client host: application -> local ss-local SOCKS5 port); they appear "
                               "only because the whole lab shares one loopback interface.",
        "endpoints": {},
        "hosts": host_role,
        "captures": {},
    }
    for r in rules:
        k = "%s:%s/%s" % (r["server_ip"], r["server_port"], r["proto"])
        if r["client_ip"] != "*":
            k += " from %s" % r["client_ip"]
        result["endpoints"][k] = {x: r[x] for x in ("label", "category", "tool", "note") if r[x]}
        result["endpoints"][k]["host_internal"] = r["host_internal"] == "1"
    for kv in args.extra:
        k, v = kv.split("=", 1)
        result[k] = int(v) if v.isdigit() else v

    failed = []
    for pcap in args.captures:
        name = os.path.basename(pcap)
        streams = streams_of(pcap)
        facts = tls_facts(pcap, tls_ports)
        convs = []
        counts, cat_counts, rule_counts = collections.Counter(), collections.Counter(), collections.Counter()
        t0 = min((st["first_time"] for st in streams.values()), default=0.0)
        for (proto, sid), st in streams.items():
            a, b = st["a"], st["b"]
            cands = [b if st["initiator"] == a else a] if st["initiator"] else [b, a]
            match = None
            for srv in cands:
                cli = a if srv == b else b
                r = lookup(proto, srv, cli[0])
                if r:
                    match = (srv, cli, r)
                    break
            if match:
                server, client, r = match
            else:
                server = cands[0]
                client = a if server == b else b
                r = None
            e = {"proto": proto, "stream": sid,
                 "client": "%s:%d" % client, "server": "%s:%d" % server,
                 "label": r["label"] if r else "UNLABELED",
                 "category": r["category"] if r else None,
                 "host_internal": bool(r and r["host_internal"] == "1"),
                 "client_tool": r["tool"] if r else None,
                 "note": r["note"] if r else None,
                 "client_role": host_role.get(client[0], {}).get("role"),
                 "handshake_seen": bool(st["initiator"]) if proto == "tcp" else None,
                 "first_frame": st["first_frame"],
                 "start_offset_s": round(st["first_time"] - t0, 6),
                 "duration_s": round(st["last_time"] - st["first_time"], 6),
                 "packets": st["packets"], "bytes": st["bytes"], "payload_bytes": st["payload_bytes"]}
            if not r:
                failed.append("%s: unlabeled %s conversation %s -> %s" % (name, proto, e["client"], e["server"]))
            if proto == "tcp" and sid in facts and facts[sid]["client_hellos"]:
                f = facts[sid]
                e["tls_observed"] = {"sni": f["sni"][0] if f["sni"] else None,
                            "alpn_offered": f["alpn_offered"][0],
                            "version": f["version"], "alpn_selected": f["alpn_selected"]}
            if r and (r["expect_alpn"] != "-" or r["expect_sni"] != "-"):
                f = facts.get(sid) if proto == "tcp" else None
                if not f or not f["client_hellos"]:
                    failed.append("%s: %s %s: expected a TLS ClientHello, tshark saw none"
                                  % (name, r["category"], e["client"]))
                else:
                    if r["expect_alpn"] == "none" and any(f["alpn_offered"]):
                        failed.append("%s: %s %s: ClientHello has ALPN %s, expected none"
                                      % (name, r["category"], e["client"], f["alpn_offered"]))
                    if r["expect_alpn"] == "offered" and not all(f["alpn_offered"]):
                        failed.append("%s: %s %s: ClientHello has no ALPN, expected some"
                                      % (name, r["category"], e["client"]))
                    if r["expect_sni"] != "-" and any(s != r["expect_sni"] for s in f["sni"] or [None]):
                        failed.append("%s: %s %s: SNI %s, expected %s"
                                      % (name, r["category"], e["client"], f["sni"], r["expect_sni"]))
            convs.append(e)
            counts[e["label"]] += 1
            cat_counts[e["category"] or "UNLABELED"] += 1
            if r:
                rule_counts[(r["proto"], r["server_ip"], r["server_port"], r["client_ip"])] += 1

        labeled = {frozenset([(c["client"].rsplit(":", 1)[0], int(c["client"].rsplit(":", 1)[1])),
                              (c["server"].rsplit(":", 1)[0], int(c["server"].rsplit(":", 1)[1]))])
                   for c in convs}
        missing = []
        for proto in ("tcp", "udp"):
            for conv in tshark_convs(pcap, proto):
                if conv not in labeled:
                    missing.append(sorted("%s:%d" % x for x in conv))
        for m in missing:
            failed.append("%s: tshark conversation not labeled: %s" % (name, m))
        if args.require_in and os.path.basename(args.require_in) == name:
            for r in rules:
                k = (r["proto"], r["server_ip"], r["server_port"], r["client_ip"])
                need = int(r["min_count"] or 0)
                if rule_counts[k] < need:
                    failed.append("%s: %s (%s %s:%s from %s): %d conversations, expected >= %d"
                                  % (name, r["category"], r["proto"], r["server_ip"], r["server_port"],
                                     r["client_ip"], rule_counts[k], need))
        total = len(tshark(pcap, ["-T", "fields", "-e", "frame.number"]).split())
        non_tcpudp = len(tshark(pcap, ["-Y", "not ((tcp or udp) and not icmp)", "-T", "fields",
                                       "-e", "frame.number"]).split())
        result["captures"][name] = {
            "frames": total,
            "frames_not_tcp_udp": non_tcpudp,
            "contains_tor": any(c["label"] == "tor-or" for c in convs),
            "label_counts": dict(sorted(counts.items())),
            "category_counts": dict(sorted(cat_counts.items())),
            "tshark_conversations_not_covered": missing,
            "conversations": convs,
        }
        print("%s: frames=%d conversations=%d labels=%s" % (name, total, len(convs), dict(sorted(counts.items()))))
        print("  %-34s %5s %10s  %s" % ("category", "convs", "bytes", "label(s)"))
        cat_labels = collections.defaultdict(set)
        cat_bytes = collections.Counter()
        for c in convs:
            cat_labels[c["category"] or "UNLABELED"].add(c["label"])
            cat_bytes[c["category"] or "UNLABELED"] += c["bytes"]
        for cat, n in sorted(cat_counts.items()):
            print("  %-34s %5d %10d  %s" % (cat, n, cat_bytes[cat], ",".join(sorted(cat_labels[cat]))))

    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    if failed:
        for m in failed:
            print("ERROR: " + m, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
