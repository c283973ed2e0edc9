#!/usr/bin/env python3
"""A small userspace WireGuard peer pair for the hard-negatives lab.

The kernel here has no WireGuard module and Debian 12 ships no userspace
implementation (wireguard-go / boringtun), so this implements the WireGuard
wire protocol itself (whitepaper section 5, Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s):
handshake initiation (148 bytes), handshake response (92 bytes), transport data
(type 4, 64-bit counters, inner packets padded to 16 bytes) and keepalives
(32 bytes).  The inner packets are real IPv4 packets (ICMP echo, TCP-sized
segments) that the responder answers.  It does not drive a tun device.
Correctness is checked by the lab with tshark's WireGuard dissector, which
decrypts the handshake and the inner packets from the keylog this writes.

Needs python3-cryptography (X25519, ChaCha20-Poly1305); BLAKE2s/HMAC are stdlib.

  wgpy.py genkey OUT_PREFIX                     -> OUT_PREFIX.key (base64 private), OUT_PREFIX.pub
  wgpy.py responder --listen IP:PORT --key K --peer PUB --duration S
  wgpy.py initiator --bind IP --connect IP:PORT --key K --peer PUB --pings N --bulk N [--keylog FILE]
"""
import argparse
import base64
import hashlib
import hmac
import os
import random
import socket
import struct
import sys
import time

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization

CONSTRUCTION = b"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
IDENTIFIER = b"WireGuard v1 zx2c4 Jason@zx2c4.com"
LABEL_MAC1 = b"mac1----"
RAW = dict(encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw)


def log(msg):
    sys.stderr.write("  [wg] %s\n" % msg)
    sys.stderr.flush()


def HASH(b):
    return hashlib.blake2s(b).digest()


def HMAC(k, b):
    return hmac.new(k, b, hashlib.blake2s).digest()


def MAC(k, b):
    return hashlib.blake2s(b, digest_size=16, key=k).digest()


def KDF(n, key, inp):
    t0 = HMAC(key, inp)
    out, prev = [], b""
    for i in range(1, n + 1):
        prev = HMAC(t0, prev + bytes([i]))
        out.append(prev)
    return out


def AEAD(key, counter, plain, ad):
    return ChaCha20Poly1305(key).encrypt(b"\0\0\0\0" + struct.pack("<Q", counter), plain, ad)


def UNAEAD(key, counter, ct, ad):
    return ChaCha20Poly1305(key).decrypt(b"\0\0\0\0" + struct.pack("<Q", counter), ct, ad)


def pub(priv):
    return priv.public_key().public_bytes(**RAW)


def priv_bytes(priv):
    return priv.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                              serialization.NoEncryption())


def DH(priv, pub_bytes):
    return priv.exchange(X25519PublicKey.from_public_bytes(pub_bytes))


def tai64n():
    t = time.time()
    return struct.pack(">QI", 0x400000000000000A + int(t), int((t % 1) * 1e9))


def load_priv(path):
    return X25519PrivateKey.from_private_bytes(base64.b64decode(open(path).read().strip()))


def load_pub(path):
    return base64.b64decode(open(path).read().strip())


# ---------------------------------------------------------------- inner IPv4 packets
def ip_checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return (~s) & 0xFFFF


def ipv4(src, dst, proto, payload, ident):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0x4000, 64, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    hdr = hdr[:10] + struct.pack("!H", ip_checksum(hdr)) + hdr[12:]
    return hdr + payload


def icmp_echo(kind, ident, seq, data):
    h = struct.pack("!BBHHH", kind, 0, 0, ident, seq) + data
    return h[:2] + struct.pack("!H", ip_checksum(h)) + h[4:]


def tcp_seg(sport, dport, seq, ack, flags, data):
    # checksum left 0: only the size/shape matters inside the encrypted tunnel
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + data


def pad16(p):
    return p + b"\0" * (-len(p) % 16)


# ---------------------------------------------------------------- session
class Session:
    def __init__(self, sock, peer_addr, send_key, recv_key, my_index, peer_index):
        self.sock, self.addr = sock, peer_addr
        self.send_key, self.recv_key = send_key, recv_key
        self.my_index, self.peer_index = my_index, peer_index
        self.counter = 0

    def send(self, packet):
        msg = struct.pack("<BxxxIQ", 4, self.peer_index, self.counter) + \
            AEAD(self.send_key, self.counter, pad16(packet), b"")
        self.counter += 1
        self.sock.sendto(msg, self.addr)

    def open(self, msg):
        typ, idx, ctr = struct.unpack("<BxxxIQ", msg[:16])
        if typ != 4 or idx != self.my_index:
            return None
        return UNAEAD(self.recv_key, ctr, msg[16:], b"")


def cmd_genkey(args):
    k = X25519PrivateKey.generate()
    open(args.prefix + ".key", "w").write(base64.b64encode(priv_bytes(k)).decode() + "\n")
    open(args.prefix + ".pub", "w").write(base64.b64encode(pub(k)).decode() + "\n")


def cmd_initiator(args):
    s_i = load_priv(args.key)
    S_r = load_pub(args.peer)
    e_i = X25519PrivateKey.generate()
    ip, port = args.connect.rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((args.bind, 0))
    sock.settimeout(5)
    peer = (ip, int(port))
    if args.keylog:
        with open(args.keylog, "w") as f:
            f.write("LOCAL_STATIC_PRIVATE_KEY = %s\n" % base64.b64encode(priv_bytes(s_i)).decode())
            f.write("REMOTE_STATIC_PUBLIC_KEY = %s\n" % base64.b64encode(S_r).decode())
            f.write("LOCAL_EPHEMERAL_PRIVATE_KEY = %s\n" % base64.b64encode(priv_bytes(e_i)).decode())
            f.write("PRESHARED_KEY = %s\n" % base64.b64encode(b"\0" * 32).decode())
    # ---- handshake initiation
    C = HASH(CONSTRUCTION)
    H = HASH(HASH(C + IDENTIFIER) + S_r)
    E_i = pub(e_i)
    C = KDF(1, C, E_i)[0]
    H = HASH(H + E_i)
    C, k = KDF(2, C, DH(e_i, S_r))
    enc_static = AEAD(k, 0, pub(s_i), H)
    H = HASH(H + enc_static)
    C, k = KDF(2, C, DH(s_i, S_r))
    enc_ts = AEAD(k, 0, tai64n(), H)
    H = HASH(H + enc_ts)
    my_index = random.getrandbits(32)
    body = struct.pack("<BxxxI", 1, my_index) + E_i + enc_static + enc_ts
    msg = body + MAC(HASH(LABEL_MAC1 + S_r), body) + b"\0" * 16      # mac2 = 0: no cookie
    sock.sendto(msg, peer)
    # ---- handshake response
    resp, _ = sock.recvfrom(2048)
    typ, peer_index, rcv = struct.unpack("<BxxxII", resp[:12])
    assert typ == 2 and rcv == my_index and len(resp) == 92, "bad handshake response"
    E_r = resp[12:44]
    enc_nothing = resp[44:60]
    C = KDF(1, C, E_r)[0]
    H = HASH(H + E_r)
    C = KDF(1, C, DH(e_i, E_r))[0]
    C = KDF(1, C, DH(s_i, E_r))[0]
    C, tau, k = KDF(3, C, b"\0" * 32)
    H = HASH(H + tau)
    UNAEAD(k, 0, enc_nothing, H)                # authenticates the responder
    send_key, recv_key = KDF(2, C, b"")
    sess = Session(sock, peer, send_key, recv_key, my_index, peer_index)
    log("handshake complete with %s:%s" % peer)
    # ---- traffic: pings, then a TCP-like download (responder sends, we ACK), then a keepalive
    me, them = "10.10.0.2", "10.10.0.1"
    got = 0
    for i in range(args.pings):
        data = struct.pack("<QQ", int(time.time()), int(time.time() % 1 * 1e6)) + bytes(range(0x10, 0x38))
        sess.send(ipv4(me, them, 1, icmp_echo(8, 0x4242, i + 1, data), i))     # like `ping`: 64-byte ICMP
        r = sess.open(sock.recvfrom(4096)[0])
        got += r is not None
        time.sleep(0.1)
    # ask for the bulk transfer: a small "request" segment
    sess.send(ipv4(me, them, 6, tcp_seg(45000, 80, 1, 1, 0x18, b"GET /blob HTTP/1.1\r\nHost: 10.10.0.1\r\n\r\n"), 999))
    received, seq = 0, 1
    while received < args.bulk:
        r = sess.open(sock.recvfrom(4096)[0])
        if r is None:
            continue
        received += 1
        if received % 2 == 0:
            seq += 2 * 1380
            sess.send(ipv4(me, them, 6, tcp_seg(45000, 80, 40, seq, 0x10, b""), 1000 + received))
    time.sleep(0.3)
    sess.send(b"")                              # keepalive (empty inner packet)
    log("initiator: %d/%d ping replies, %d bulk packets" % (got, args.pings, received))


def cmd_responder(args):
    s_r = load_priv(args.key)
    S_i_expected = load_pub(args.peer)
    S_r = pub(s_r)
    ip, port = args.listen.rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((ip, int(port)))
    sock.settimeout(1)
    deadline = time.time() + args.duration
    sess = None
    print("ready", flush=True)
    while time.time() < deadline:
        try:
            msg, addr = sock.recvfrom(4096)
        except socket.timeout:
            continue
        typ = msg[0]
        if typ == 1 and len(msg) == 148:
            if MAC(HASH(LABEL_MAC1 + S_r), msg[:116]) != msg[116:132]:
                log("bad mac1")
                continue
            peer_index = struct.unpack("<I", msg[4:8])[0]
            E_i, enc_static, enc_ts = msg[8:40], msg[40:88], msg[88:116]
            C = HASH(CONSTRUCTION)
            H = HASH(HASH(C + IDENTIFIER) + S_r)
            C = KDF(1, C, E_i)[0]
            H = HASH(H + E_i)
            C, k = KDF(2, C, DH(s_r, E_i))
            S_i = UNAEAD(k, 0, enc_static, H)
            H = HASH(H + enc_static)
            if S_i != S_i_expected:
                log("unknown peer")
                continue
            C, k = KDF(2, C, DH(s_r, S_i))
            UNAEAD(k, 0, enc_ts, H)
            H = HASH(H + enc_ts)
            e_r = X25519PrivateKey.generate()
            E_r = pub(e_r)
            C = KDF(1, C, E_r)[0]
            H = HASH(H + E_r)
            C = KDF(1, C, DH(e_r, E_i))[0]
            C = KDF(1, C, DH(e_r, S_i))[0]
            C, tau, k = KDF(3, C, b"\0" * 32)
            H = HASH(H + tau)
            enc_nothing = AEAD(k, 0, b"", H)
            my_index = random.getrandbits(32)
            body = struct.pack("<BxxxII", 2, my_index, peer_index) + E_r + enc_nothing
            sock.sendto(body + MAC(HASH(LABEL_MAC1 + S_i), body) + b"\0" * 16, addr)
            recv_key, send_key = KDF(2, C, b"")
            sess = Session(sock, addr, send_key, recv_key, my_index, peer_index)
            log("responder: handshake from %s:%d" % addr)
        elif typ == 4 and sess is not None:
            p = sess.open(msg)
            if not p:
                continue                        # keepalive
            proto = p[9]
            src, dst = p[12:16], p[16:20]
            ihl = (p[0] & 0x0F) * 4
            if proto == 1 and p[ihl] == 8:      # ICMP echo request -> reply
                tot = struct.unpack("!H", p[2:4])[0]
                icmp = p[ihl:tot]
                rep = icmp_echo(0, *struct.unpack("!HH", icmp[4:8]), icmp[8:])
                sess.send(ipv4(socket.inet_ntoa(dst), socket.inet_ntoa(src), 1, rep, random.getrandbits(16)))
            elif proto == 6 and len(p) > ihl + 20 and p[ihl + 13] & 0x08:   # a request: send the "download"
                for i in range(args.bulk):
                    sess.send(ipv4(socket.inet_ntoa(dst), socket.inet_ntoa(src), 6,
                                   tcp_seg(80, 45000, 1 + i * 1380, 80, 0x10, os.urandom(1380)), i))
                    if i % 16 == 15:
                        time.sleep(0.002)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("genkey")
    p.add_argument("prefix")
    p = sub.add_parser("initiator")
    p.add_argument("--bind", required=True)
    p.add_argument("--connect", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--peer", required=True)
    p.add_argument("--pings", type=int, default=10)
    p.add_argument("--bulk", type=int, default=80)
    p.add_argument("--keylog")
    p = sub.add_parser("responder")
    p.add_argument("--listen", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--peer", required=True)
    p.add_argument("--bulk", type=int, default=80)
    p.add_argument("--duration", type=float, default=120)
    args = ap.parse_args()
    {"genkey": cmd_genkey, "initiator": cmd_initiator, "responder": cmd_responder}[args.cmd](args)


if __name__ == "__main__":
    main()
