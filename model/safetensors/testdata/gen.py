#!/usr/bin/env python3
"""Writes the tiny fixtures in this directory with nothing but the standard library
(independently of the Go writer). Run from this directory: python3 gen.py"""
import json, struct

def f32(*v): return struct.pack('<%df' % len(v), *v)
def u16(*v): return struct.pack('<%dH' % len(v), *v)

tensors = [  # name, dtype, shape, bytes; written in this order
    ("d.f64", "F64", [], struct.pack('<d', 3.25)),
    ("a.f32", "F32", [2, 2], f32(1.0, -2.0, 0.5, float('inf'))),
    ("b.f16", "F16", [3], u16(0x3c00, 0x0001, 0xfc00)),
    ("c.bf16", "BF16", [2], u16(0x3f80, 0x7fc0)),
    ("e.i8", "I8", [0], b""),
    ("f.u8", "U8", [3], bytes([1, 2, 3])),
]

def write(path, keyorder, pad):
    off, hdr, data = 0, {}, b""
    info = {}
    for name, dt, shape, b in tensors:
        info[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(b)]}
        off += len(b)
        data += b
    hdr["__metadata__"] = {"format": "pt", "note": "tiny <&> \u00e9"}
    for k in keyorder:
        hdr[k] = info[k]
    h = json.dumps(hdr, separators=(",", ":"), ensure_ascii=False).encode()
    if pad:
        h += b" " * ((8 - len(h) % 8) % 8)
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + data)

write("tiny.safetensors", [t[0] for t in tensors], True)
write("unsorted.safetensors", sorted(t[0] for t in tensors)[::-1], False)
