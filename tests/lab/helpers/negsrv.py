#!/usr/bin/env python3
"""Loopback web servers for the hard-negatives lab (Python standard library only).

  negsrv.py --listen SPEC [--listen SPEC ...]

SPEC is  IP:PORT                               plain HTTP/1.1
    or   IP:PORT|CHAIN.pem|KEY.pem|ALPN|TLSMAX  HTTPS
         ALPN   = comma-separated protocols the server selects from, or "-" (no ALPN support)
         TLSMAX = "1.2" or "1.3"

Every listener serves the same small "site" (HTTP/1.1, keep-alive):
  GET  /, /index.html   an HTML page of 6-14 kB naming the site (Host header)
  GET  /blob/N          N bytes of random data (incompressible, like media)
  GET  /poll?seq=I      long-poll: holds 0.15-0.5 s, then a small JSON event list
  POST /api/send        small JSON acknowledgement
  GET  /ws              WebSocket (RFC 6455) echo service: text/binary echoed, ping -> pong, close -> close
Runs until SIGTERM/SIGINT.  Listens only on the addresses it is given.
"""
import argparse
import base64
import hashlib
import http.server
import json
import os
import random
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import urllib.parse

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
WORDS = ("market garden river sunshine dragon orbit harbor meadow signal lantern copper violet "
         "summit canyon forest ember willow breeze marble falcon").split()


def log(msg):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def page(host, rnd):
    title = host.split(":")[0]
    paras = "\n".join("<p>%s</p>" % " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(30, 60)))
                      for _ in range(rnd.randint(15, 35)))
    return ("<!doctype html><html lang=en><head><meta charset=utf-8><title>%s</title>"
            "<link rel=stylesheet href=/static/site.css></head><body><header><h1>%s</h1></header>"
            "<main>%s</main><footer>&copy; %s</footer></body></html>\n" % (title, title, paras, title)).encode()


def ws_recv_frame(rfile):
    hdr = rfile.read(2)
    if len(hdr) < 2:
        return None, None
    op = hdr[0] & 0x0F
    masked = hdr[1] & 0x80
    n = hdr[1] & 0x7F
    if n == 126:
        n = struct.unpack("!H", rfile.read(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", rfile.read(8))[0]
    mask = rfile.read(4) if masked else b"\0\0\0\0"
    data = bytearray(rfile.read(n))
    for i in range(len(data)):
        data[i] ^= mask[i % 4]
    return op, bytes(data)


def ws_frame(op, data):
    n = len(data)
    if n < 126:
        hdr = struct.pack("!BB", 0x80 | op, n)
    elif n < 65536:
        hdr = struct.pack("!BBH", 0x80 | op, 126, n)
    else:
        hdr = struct.pack("!BBQ", 0x80 | op, 127, n)
    return hdr + data


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx/1.24.0"
    sys_version = ""

    def log_message(self, fmt, *args):
        log("%s %s %s" % (self.server.label, self.address_string(), fmt % args))

    def _send(self, code, body, ctype, extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=60")
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        host = self.headers.get("Host", "localhost")
        rnd = random.Random(hash((host, u.path)) & 0xFFFFFFFF)
        if u.path in ("/", "/index.html"):
            self._send(200, page(host, rnd), "text/html; charset=utf-8")
        elif u.path.startswith("/blob/"):
            n = min(int(u.path.split("/")[2] or 0), 20 * 1024 * 1024)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(n))
            self.end_headers()
            left = n
            while left > 0:
                chunk = os.urandom(min(left, 16384))
                self.wfile.write(chunk)
                left -= len(chunk)
        elif u.path == "/poll":
            time.sleep(random.uniform(0.15, 0.5))
            q = urllib.parse.parse_qs(u.query)
            ev = [{"id": random.getrandbits(40), "type": "message", "text": "x" * random.randint(10, 300)}
                  for _ in range(random.choice([0, 1, 1, 2, 4]))]
            body = json.dumps({"seq": int(q.get("seq", ["0"])[0]), "events": ev,
                               "cursor": random.getrandbits(32)}).encode()
            self._send(200, body, "application/json", [("Cache-Control", "no-store")])
        elif u.path == "/ws" and self.headers.get("Upgrade", "").lower() == "websocket":
            self.websocket()
        else:
            self._send(404, b"<html><body><h1>404 Not Found</h1></body></html>\n", "text/html")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        self._send(200, json.dumps({"ok": True, "received": len(body)}).encode(), "application/json")

    def websocket(self):
        key = self.headers.get("Sec-WebSocket-Key", "").encode()
        accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest()).decode()
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        while True:
            op, data = ws_recv_frame(self.rfile)
            if op is None:
                break
            if op == 0x8:                                    # close
                self.wfile.write(ws_frame(0x8, data[:2]))
                self.wfile.flush()
                break
            if op == 0x9:                                    # ping
                self.wfile.write(ws_frame(0xA, data))
            elif op in (0x1, 0x2):
                reply = json.dumps({"ack": len(data), "t": round(time.time(), 3),
                                    "pad": "p" * random.randint(0, 200)}).encode()
                self.wfile.write(ws_frame(0x1, reply))
            self.wfile.flush()
        self.close_connection = True


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    ctx = None
    label = ""

    def process_request_thread(self, request, client_address):
        # TLS handshake in the per-connection thread, so one slow client blocks nobody.
        if self.ctx is not None:
            try:
                request.settimeout(30)
                request = self.ctx.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError) as e:
                log("%s %s TLS handshake failed: %r" % (self.label, client_address, e))
                try:
                    request.close()
                except OSError:
                    pass
                return
        super().process_request_thread(request, client_address)

    def shutdown_request(self, request):
        # Like nginx: send a TLS close_notify before closing (OpenSSL s_client and gnutls-cli
        # report an error and exit 1 on a bare FIN).
        if isinstance(request, ssl.SSLSocket):
            try:
                request.settimeout(1.0)
                request = request.unwrap()
            except (OSError, ValueError, ssl.SSLError):
                pass
        super().shutdown_request(request)


def make_server(spec):
    parts = spec.split("|")
    host, port = parts[0].rsplit(":", 1)
    srv = Server((host, int(port)), Handler)
    srv.label = parts[0]
    if len(parts) > 1:
        chain, key, alpn, tlsmax = parts[1:5]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(chain, key)
        if alpn != "-":
            ctx.set_alpn_protocols(alpn.split(","))
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2 if tlsmax == "1.2" else ssl.TLSVersion.TLSv1_3
        srv.ctx = ctx
        srv.label = "https://%s" % parts[0]
    else:
        srv.label = "http://%s" % parts[0]
    return srv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", action="append", required=True)
    args = ap.parse_args()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    servers = [make_server(s) for s in args.listen]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
        log("listening %s" % s.label)
    print("ready", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    for s in servers:
        s.server_close()


if __name__ == "__main__":
    main()
