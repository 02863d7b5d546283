#!/usr/bin/env python3
"""Writes tests/golden/operations.txt: canonical encodings and SHA-256 hashes of
a few fixed operations, computed by this independent encoder of the rules in
bundle_format/README.md ("Canonical encoding", operation format 1) and
bundle_format/format4.md (section 3, operation format 2). The C++ tests must
produce the same bytes. Run from the repository root: python3 tools/golden_vectors.py"""
import hashlib
import struct


def uint(n):
    if n < 0x80: return bytes([n])
    if n < 0x100: return b"\xcc" + struct.pack(">B", n)
    if n < 0x10000: return b"\xcd" + struct.pack(">H", n)
    if n < 0x100000000: return b"\xce" + struct.pack(">I", n)
    return b"\xcf" + struct.pack(">Q", n)


def integer(n):
    if n >= 0: return uint(n)
    if n >= -32: return struct.pack(">b", n)
    if n >= -0x80: return b"\xd0" + struct.pack(">b", n)
    if n >= -0x8000: return b"\xd1" + struct.pack(">h", n)
    if n >= -0x80000000: return b"\xd2" + struct.pack(">i", n)
    return b"\xd3" + struct.pack(">q", n)


def array(items):
    n = len(items)
    head = bytes([0x90 | n]) if n < 16 else (b"\xdc" + struct.pack(">H", n) if n < 0x10000 else b"\xdd" + struct.pack(">I", n))
    return head + b"".join(items)


def text(s):
    b = s.encode("utf-8") if isinstance(s, str) else s
    n = len(b)
    if n < 32: return bytes([0xa0 | n]) + b
    if n < 0x100: return b"\xd9" + struct.pack(">B", n) + b
    if n < 0x10000: return b"\xda" + struct.pack(">H", n) + b
    return b"\xdb" + struct.pack(">I", n) + b


def blob(b):
    n = len(b)
    if n < 0x100: return b"\xc4" + struct.pack(">B", n) + b
    if n < 0x10000: return b"\xc5" + struct.pack(">H", n) + b
    return b"\xc6" + struct.pack(">I", n) + b


def real(x):
    return b"\xcb" + struct.pack(">d", x)


def value(v):
    kind, x = v
    return {"null": lambda _: b"\xc0", "int": integer, "real": real, "text": text, "blob": blob}[kind](x)


def operation(op):
    clock = sorted(op["clock"].items())
    columns = sorted(op["columns"], key=lambda c: c[0].encode("utf-8"))
    return array([
        uint(1), blob(op["id"]), blob(op["origin"]), uint(op["seq"]), uint(op["lamport"]),
        array([array([blob(d), uint(s)]) for d, s in clock]),
        text(op["table"]), array([value(v) for v in op["key"]]), uint(op["kind"]),
        array([array([text(n), value(v)]) for n, v in columns]), blob(op["prev_hash"]),
    ])


def operation_id(time_ms, origin, seq):
    """Format 2 carries no id: it is the origin's id with seq XORed into its last
    8 bytes, the 48-bit time first, then version 7 and the RFC 4122 variant."""
    b = bytearray(origin)
    for i in range(8):
        b[8 + i] ^= (seq >> (56 - 8 * i)) & 0xff
    b[0:6] = time_ms.to_bytes(6, "big")
    b[6] = 0x70 | (b[6] & 0x0f)
    b[8] = 0x80 | (b[8] & 0x3f)
    return bytes(b)


def chain_id(device, scope):
    """format4.md §12.9: a device's chain of the shared scope is named by the
    device's id; one of another scope by SHA-256 over a tag, the device and the
    scope, cut to 16 bytes, with version 8 and the RFC 9562 variant."""
    if scope == "":
        return device
    b = bytearray(hashlib.sha256(b"ferry-chain\0" + device + scope.encode("utf-8")).digest()[:16])
    b[6] = 0x80 | (b[6] & 0x0f)
    b[8] = 0x80 | (b[8] & 0x3f)
    return bytes(b)


def head_message(device, scope, seq, op_hash):
    """§12.6: what a chain's owner signs for its head; v1 in the shared scope."""
    if scope == "":
        return b"ferry-head-v1\0" + device + seq.to_bytes(8, "big") + op_hash
    name = scope.encode("utf-8")
    return b"ferry-head-v2\0" + device + bytes([len(name)]) + name + seq.to_bytes(8, "big") + op_hash


def operation2(op):
    """deps: {(device, scope): seq}, written sorted by device bytes, then scope bytes."""
    scope = op.get("scope", "")
    deps = sorted(((d, ""), s) if isinstance(d, bytes) else (d, s) for d, s in op["deps"].items())
    deps = sorted(deps, key=lambda e: (e[0][0], e[0][1].encode("utf-8")))
    columns = sorted(op["columns"], key=lambda c: c[0].encode("utf-8"))
    return array([
        uint(2), blob(op["origin"]), text(scope), uint(op["seq"]), uint(op["lamport"]), uint(op["time_ms"]),
        array([array([blob(d), text(sc), uint(s)]) for (d, sc), s in deps]),
        text(op["table"]), array([value(v) for v in op["key"]]), uint(op["kind"]),
        array([array([text(n), value(v)]) for n, v in columns]), blob(op["prev_hash"]),
    ])


A = bytes(range(16))
B = bytes(range(16, 32))
OPS = {
    "insert": dict(id=bytes([0x01, 0x8f] + [0] * 4 + [0x70] + [0] * 9), origin=A, seq=1, lamport=1, clock={A: 1},
                   table="items", key=[("int", 1)], kind=0,
                   columns=[("name", ("text", "bolt")), ("price", ("real", 0.1)), ("qty", ("int", -5)),
                            ("note", ("null", None)), ("raw", ("blob", b"\x00\xff"))], prev_hash=bytes(32)),
    "update": dict(id=bytes([0x01, 0x8f] + [0] * 4 + [0x70] + [0] * 8 + [1]), origin=A, seq=2, lamport=7,
                   clock={A: 2, B: 300}, table="items", key=[("int", 1)], kind=1,
                   columns=[("price", ("real", -0.0)), ("qty", ("int", 1 << 40))], prev_hash=bytes([0xab] * 32)),
    "delete": dict(id=bytes([0x01, 0x8f] + [0] * 4 + [0x70] + [0] * 8 + [2]), origin=B, seq=70000, lamport=70001,
                   clock={B: 70000}, table="notes \"x\"", key=[("text", "k\u00e9"), ("blob", b"")], kind=2,
                   columns=[], prev_hash=bytes([0x01] * 32)),
}

C = bytes(range(32, 48))
OPS2 = {
    "insert2": dict(origin=A, seq=1, lamport=1, time_ms=1764806400000, deps={}, table="items", key=[("int", 1)],
                    kind=0, columns=[("name", ("text", "bolt")), ("price", ("real", 0.1)), ("qty", ("int", -5)),
                                     ("note", ("null", None)), ("raw", ("blob", b"\x00\xff"))],
                    prev_hash=bytes(32)),
    "update2": dict(origin=A, seq=2, lamport=301, time_ms=1764806400123, deps={C: 7, B: 300}, table="items",
                    key=[("int", 1)], kind=1, columns=[("qty", ("int", 1 << 40)), ("price", ("real", -0.0))],
                    prev_hash=bytes([0xab] * 32)),
    "delete2": dict(origin=B, seq=(1 << 62), lamport=(1 << 63) - 1, time_ms=(1 << 48) - 1, deps={A: 1 << 32},
                    table="notes \"x\"", key=[("text", "k\u00e9"), ("blob", b"")], kind=2, columns=[],
                    prev_hash=bytes([0x01] * 32)),
    # Scope "clinic-7" (§12.1): its deps name chains of its own scope and of the shared one, A's included.
    "update2s": dict(origin=A, scope="clinic-7", seq=2, lamport=301, time_ms=1764806400123,
                     deps={(C, ""): 7, (B, "clinic-7"): 300, (A, ""): 5}, table="items", key=[("int", 1)], kind=1,
                     columns=[("qty", ("int", 1 << 40)), ("price", ("real", -0.0))], prev_hash=bytes([0xab] * 32)),
}

# Chain ids (§12.9): (device, scope) and the id everything below the codec keys the chain by.
CHAINS = [(A, ""), (A, "clinic-7"), (B, "clinic-7"), (C, "\u00e9t\u00e9 2026"), (C, "x" * 128)]

if __name__ == "__main__":
    with open("tests/golden/operations.txt", "w") as out:
        out.write("# name canonical-bytes-hex sha256-hex (generated by tools/golden_vectors.py)\n")
        for name, op in OPS.items():
            enc = operation(op)
            out.write(f"{name} {enc.hex()} {hashlib.sha256(enc).hexdigest()}\n")
        for name, op in OPS2.items():
            enc = operation2(op)
            out.write(f"{name} {enc.hex()} {hashlib.sha256(enc).hexdigest()}\n")
    with open("tests/golden/chains.txt", "w") as out:
        out.write("# device-hex scope-utf8-hex (- for the shared scope) chain-id-hex (generated by tools/golden_vectors.py)\n")
        for device, scope in CHAINS:
            out.write(f"{device.hex()} {scope.encode('utf-8').hex() or '-'} {chain_id(device, scope).hex()}\n")
    with open("tests/golden/heads.txt", "w") as out:
        out.write("# device-hex scope-utf8-hex (- for the shared scope) seq hash-hex message-hex "
                  "(generated by tools/golden_vectors.py)\n")
        for (device, scope), seq in zip(CHAINS, [1, 2, 300, 1 << 62, 7]):
            op_hash = hashlib.sha256(device + scope.encode("utf-8")).digest()
            out.write(f"{device.hex()} {scope.encode('utf-8').hex() or '-'} {seq} {op_hash.hex()} "
                      f"{head_message(device, scope, seq, op_hash).hex()}\n")
