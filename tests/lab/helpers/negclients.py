#!/usr/bin/env python3
"""Python TLS clients for the hard-negatives lab (standard library only).

  negclients.py urllib    URL --cafile CA
        urllib.request.urlopen with an explicit ssl context: NO ALPN (Python only adds
        ALPN "http/1.1" when http.client builds its own default context).
  negclients.py rawssl    --connect IP:PORT --sni NAME --cafile CA [--tls-max 1.2] [--alpn P,..] [--path /]
        socket + ssl.SSLContext.wrap_socket, one GET, read to EOF (no ALPN unless --alpn).
  negclients.py keepalive --connect IP:PORT --sni NAME --cafile CA --count N --size BYTES [--alpn P,..]
        N GET /blob/BYTES on ONE keep-alive TLS connection, with short think times.
  negclients.py longpoll  --connect IP:PORT --sni NAME --cafile CA --count N [--alpn P,..]
        chat-app style long polling: GET /poll (server holds it), sometimes POST /api/send.
  negclients.py ws        --connect IP:PORT --sni NAME --cafile CA --count N [--alpn P,..]
        WebSocket over TLS: upgrade, N small JSON messages + pings, then a clean close.

--connect gives the address, so no name is ever resolved (the SNI and Host header carry the name).
"""
import argparse
import base64
import http.client
import json
import os
import random
import socket
import ssl
import struct
import sys
import time
import urllib.request

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def log(msg):
    sys.stderr.write("  [py] %s\n" % msg)
    sys.stderr.flush()


def context(args):
    ctx = ssl.create_default_context(cafile=args.cafile)
    if getattr(args, "tls_max", None) == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if getattr(args, "alpn", None):
        ctx.set_alpn_protocols(args.alpn.split(","))
    return ctx


def tls_socket(args):
    ip, port = args.connect.rsplit(":", 1)
    raw = socket.create_connection((ip, int(port)), timeout=30)
    s = context(args).wrap_socket(raw, server_hostname=args.sni)
    return s, int(port)


def http_conn(args):
    s, port = tls_socket(args)
    host = args.sni if port == 443 else "%s:%d" % (args.sni, port)
    c = http.client.HTTPConnection(host, timeout=30)
    c.sock = s                       # already connected + TLS: http.client uses it as is
    return c, s


def cmd_urllib(args):
    ctx = ssl.create_default_context(cafile=args.cafile)
    req = urllib.request.Request(args.url, headers={"User-Agent": "Python-urllib/3.11"})
    with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
        data = r.read()
    log("urllib %s -> %d bytes" % (args.url, len(data)))


def cmd_rawssl(args):
    s, port = tls_socket(args)
    host = args.sni if port == 443 else "%s:%d" % (args.sni, port)
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: python-ssl\r\nAccept: */*\r\n"
               "Connection: close\r\n\r\n" % (args.path, host)).encode())
    n = 0
    while True:
        b = s.recv(65536)
        if not b:
            break
        n += len(b)
    log("rawssl %s (%s, alpn=%s) -> %d bytes" % (host, s.version(), s.selected_alpn_protocol(), n))
    s.close()


def cmd_keepalive(args):
    c, s = http_conn(args)
    total = 0
    for i in range(args.count):
        c.request("GET", "/blob/%d" % args.size, headers={"User-Agent": UA, "Accept": "*/*"})
        total += len(c.getresponse().read())
        time.sleep(random.uniform(0.05, 0.3))
    c.close()
    log("keepalive %s x%d -> %d bytes" % (args.sni, args.count, total))


def cmd_longpoll(args):
    c, s = http_conn(args)
    hdr = {"User-Agent": UA, "Accept": "application/json",
           "X-Client-Session": "%032x" % random.getrandbits(128)}
    for i in range(args.count):
        c.request("GET", "/poll?seq=%d" % i, headers=hdr)
        json.loads(c.getresponse().read() or b"{}")
        if i % 3 == 1:
            body = json.dumps({"text": "m" * random.randint(5, 400), "ts": time.time()})
            c.request("POST", "/api/send", body=body, headers=dict(hdr, **{"Content-Type": "application/json"}))
            c.getresponse().read()
        time.sleep(random.uniform(0.05, 0.25))
    c.close()
    log("longpoll %s: %d polls" % (args.sni, args.count))


def ws_send(s, op, data):
    mask = os.urandom(4)
    n = len(data)
    if n < 126:
        hdr = struct.pack("!BB", 0x80 | op, 0x80 | n)
    elif n < 65536:
        hdr = struct.pack("!BBH", 0x80 | op, 0x80 | 126, n)
    else:
        hdr = struct.pack("!BBQ", 0x80 | op, 0x80 | 127, n)
    s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def recv_exact(f, n):
    b = f.read(n)
    if len(b) < n:
        raise EOFError
    return b


def ws_recv(f):
    b0, b1 = recv_exact(f, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", recv_exact(f, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", recv_exact(f, 8))[0]
    return b0 & 0x0F, recv_exact(f, n)


def cmd_ws(args):
    s, port = tls_socket(args)
    host = args.sni if port == 443 else "%s:%d" % (args.sni, port)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /ws HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
               "Origin: https://%s\r\n\r\n" % (host, UA, key, args.sni)).encode())
    f = s.makefile("rb")
    status = f.readline()
    while f.readline() not in (b"\r\n", b""):
        pass
    if b" 101 " not in status:
        raise SystemExit("websocket upgrade failed: %r" % status)
    for i in range(args.count):
        if i % 4 == 3:
            ws_send(s, 0x9, b"ping-%d" % i)
        else:
            ws_send(s, 0x1, json.dumps({"type": random.choice(["typing", "msg"]),
                                        "body": "w" * random.randint(1, 400)}).encode())
        ws_recv(f)
        time.sleep(random.uniform(0.05, 0.3))
    ws_send(s, 0x8, struct.pack("!H", 1000))
    ws_recv(f)
    s.close()
    log("ws %s: %d messages" % (args.sni, args.count))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("urllib")
    p.add_argument("url")
    p.add_argument("--cafile", required=True)
    for name in ("rawssl", "keepalive", "longpoll", "ws"):
        p = sub.add_parser(name)
        p.add_argument("--connect", required=True)
        p.add_argument("--sni", required=True)
        p.add_argument("--cafile", required=True)
        p.add_argument("--alpn")
        p.add_argument("--tls-max", choices=["1.2", "1.3"])
        p.add_argument("--path", default="/")
        p.add_argument("--count", type=int, default=10)
        p.add_argument("--size", type=int, default=50000)
    args = ap.parse_args()
    {"urllib": cmd_urllib, "rawssl": cmd_rawssl, "keepalive": cmd_keepalive,
     "longpoll": cmd_longpoll, "ws": cmd_ws}[args.cmd](args)


if __name__ == "__main__":
    main()
