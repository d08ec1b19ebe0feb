#!/usr/bin/env python3
"""Spray a relay with packets that must never be answered or must be refused.

Each kind is sent --count times from one UDP socket, paced to --rate packets per
second, and everything that comes back is counted. The relay must answer none of
them (none is authenticated), so the test asserts that each kind got 0 bytes
back -- and in any case never more bytes than were sent.

Kinds:
  garbage      random bytes, random lengths 0..1500
  truncated    valid-looking headers of every type, cut short
  version      well-formed sizes with version byte 2
  reserved     version 1, reserved byte not zero
  forged_data  DATA with a random receiver index and random ciphertext
  bad_mac1     HANDSHAKE_INIT of every legal size with random body and mac1
  oversize     DATA longer than the hop MTU
  replay       packets from --replay FILE (length-prefixed, as hop_peer --dump
               writes them), sent again verbatim

Bounded: at most --count packets per kind and --seconds in all; only to --target.
Prints one JSON object: per kind, packets and bytes sent and received.
"""
import argparse
import json
import os
import random
import socket
import struct
import sys
import time

HOP_MTU = 1452
INIT_MIN, INIT_MAX = 297, 869


def hdr(t, version=1, suite=0, reserved=0):
    return bytes([t, version, suite, reserved])


def gen_garbage(rng):
    return rng.randbytes(rng.randint(0, 1500))


def gen_truncated(rng):
    t = rng.choice([1, 2, 3, 4])
    suite = 1 if t in (1, 2, 3) else 0
    full = {1: INIT_MIN, 2: 92, 3: 64, 4: 32}[t]
    body = hdr(t, suite=suite) + rng.randbytes(full - 4)
    return body[: rng.randint(0, full - 1)]


def gen_version(rng):
    t = rng.choice([1, 2, 3, 4])
    n = {1: INIT_MIN, 2: 92, 3: 64, 4: 64}[t]
    return hdr(t, version=rng.choice([0, 2, 3, 255]), suite=1 if t != 4 else 0) + rng.randbytes(n - 4)


def gen_reserved(rng):
    return hdr(4, reserved=rng.randint(1, 255)) + rng.randbytes(60)


def gen_forged_data(rng):
    n = rng.randint(16, 1400)
    return hdr(4) + struct.pack("<IQ", rng.getrandbits(32), rng.getrandbits(64)) + rng.randbytes(n)


def gen_bad_mac1(rng):
    n = rng.randint(INIT_MIN, INIT_MAX)
    return hdr(1, suite=rng.choice([1, 2])) + rng.randbytes(n - 4)


def gen_oversize(rng):
    return hdr(4) + rng.randbytes(rng.randint(HOP_MTU - 3, 2000))


GENERATORS = {
    "garbage": gen_garbage,
    "truncated": gen_truncated,
    "version": gen_version,
    "reserved": gen_reserved,
    "forged_data": gen_forged_data,
    "bad_mac1": gen_bad_mac1,
    "oversize": gen_oversize,
}


def load_replay(path):
    pkts = []
    with open(path, "rb") as f:
        data = f.read()
    off = 0
    while off + 4 <= len(data):
        (n,) = struct.unpack_from("<I", data, off)
        off += 4
        if n > 65535 or off + n > len(data):
            raise SystemExit(f"spray: {path}: corrupt dump at byte {off - 4}")
        pkts.append(data[off : off + n])
        off += n
    return pkts


def parse_target(s):
    host, sep, port = s.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"target must be ADDR:PORT, got {s!r}")
    host = host.strip("[]")
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    return fam, (host, int(port))


def drain(sock, stats, kind):
    while True:
        try:
            data = sock.recv(65535)
        except (BlockingIOError, InterruptedError):
            return
        except ConnectionRefusedError:
            continue
        stats[kind]["recv_packets"] += 1
        stats[kind]["recv_bytes"] += len(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", required=True, type=parse_target, help="relay ADDR:PORT")
    ap.add_argument("--count", type=int, default=1000, help="packets per kind (1..100000)")
    ap.add_argument("--rate", type=int, default=20000, help="packets per second (1..200000)")
    ap.add_argument("--seconds", type=float, default=30, help="hard limit on the whole run")
    ap.add_argument("--kinds", default=",".join(GENERATORS), help="comma-separated kinds")
    ap.add_argument("--replay", help="dump file of real packets to replay (adds kind 'replay')")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if not 1 <= args.count <= 100000 or not 1 <= args.rate <= 200000 or not 0 < args.seconds <= 600:
        ap.error("--count, --rate or --seconds out of range")
    kinds = [k for k in args.kinds.split(",") if k]
    for k in kinds:
        if k not in GENERATORS:
            ap.error(f"unknown kind {k!r} (kinds: {', '.join(GENERATORS)})")
    replay = load_replay(args.replay) if args.replay else None
    if replay is not None:
        if not replay:
            ap.error(f"{args.replay}: no packets in dump")
        kinds.append("replay")

    fam, addr = args.target
    sock = socket.socket(fam, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    sock.connect(addr)
    sock.setblocking(False)
    rng = random.Random(args.seed)
    stats = {k: {"sent_packets": 0, "sent_bytes": 0, "recv_packets": 0, "recv_bytes": 0} for k in kinds}
    deadline = time.monotonic() + args.seconds
    gap = 1.0 / args.rate
    for kind in kinds:
        nxt = time.monotonic()
        for i in range(args.count):
            if time.monotonic() > deadline:
                break
            pkt = replay[i % len(replay)] if kind == "replay" else GENERATORS[kind](rng)
            try:
                sock.send(pkt)
            except (BlockingIOError, ConnectionRefusedError):
                continue
            stats[kind]["sent_packets"] += 1
            stats[kind]["sent_bytes"] += len(pkt)
            nxt += gap
            delay = nxt - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if i % 64 == 0:
                drain(sock, stats, kind)
        # Give late answers a moment to arrive before moving on.
        end = time.monotonic() + 0.2
        while time.monotonic() < end:
            drain(sock, stats, kind)
            time.sleep(0.01)
    json.dump(stats, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
