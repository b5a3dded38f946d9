"""Small file helpers shared by gen.py and ref.py: safetensors read/write
(written from the format's description: u64 little-endian header length, JSON
header, raw little-endian data) and the 2-bit row-quarter packing of
transformers' BitNet integration.

Tensors are torch tensors on the CPU. Only torch and the standard library are
used, so the files are readable without the safetensors package.
"""

import json
import os
import struct

import torch

ST_DTYPES = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.uint8: "U8",
    torch.int8: "I8",
}
ST_TORCH = {v: k for k, v in ST_DTYPES.items()}
_INT_VIEW = {torch.float32: torch.int32, torch.float16: torch.int16, torch.bfloat16: torch.int16,
             torch.uint8: torch.uint8, torch.int8: torch.int8}


def tensor_bytes(t):
    t = t.detach().contiguous()
    # numpy has no bfloat16: go through a same-width integer view
    return t.view(_INT_VIEW[t.dtype]).numpy().tobytes()


def write_safetensors(path, tensors, metadata=None):
    """tensors: dict name -> tensor. Tensors are laid out in name order."""
    header = {}
    blobs = []
    off = 0
    for name in sorted(tensors):
        t = tensors[name]
        b = tensor_bytes(t)
        header[name] = {"dtype": ST_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata is not None:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)  # the safetensors writer pads the header to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    return off


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = ST_TORCH[info["dtype"]]
        a, b = info["data_offsets"]
        raw = bytearray(data[base + a:base + b])
        t = torch.frombuffer(raw, dtype=_INT_VIEW[dt]) if b > a else torch.empty(0, dtype=_INT_VIEW[dt])
        out[name] = t.view(dt).reshape(info["shape"])
    return out


def read_dir_weights(d):
    """All tensors of an HF checkpoint directory: model.safetensors, sharded
    safetensors with model.safetensors.index.json, or pytorch_model.bin."""
    idx = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(idx):
        with open(idx) as f:
            wm = json.load(f)["weight_map"]
        out = {}
        for shard in sorted(set(wm.values())):
            part = read_safetensors(os.path.join(d, shard))
            for k, v in part.items():
                if wm.get(k) != shard:
                    raise ValueError(f"{shard}: tensor {k} not mapped to this shard by the index")
                out[k] = v
        missing = set(wm) - set(out)
        if missing:
            raise ValueError(f"index names tensors that no shard holds: {sorted(missing)}")
        return out
    p = os.path.join(d, "model.safetensors")
    if os.path.exists(p):
        return read_safetensors(p)
    p = os.path.join(d, "pytorch_model.bin")
    if os.path.exists(p):
        return dict(torch.load(p, map_location="cpu", weights_only=True))
    raise FileNotFoundError(f"{d}: no weights")


def pack_rows(codes):
    """Ternary codes (out, in) in {-1,0,1} -> uint8 (out/4, in). Byte [r, c]
    holds rows r, R+r, 2R+r, 3R+r (R = out/4) in bits 0-1, 2-3, 4-5, 6-7, each
    as code+1: the quarters of the rows are concatenated, not interleaved."""
    out = codes.shape[0]
    assert out % 4 == 0, "packed rows need out % 4 == 0"
    r = out // 4
    u = (codes.to(torch.int32) + 1).to(torch.uint8)
    p = torch.zeros((r, codes.shape[1]), dtype=torch.uint8)
    for i in range(4):
        p |= u[i * r:(i + 1) * r] << (2 * i)
    return p


def unpack_rows(packed):
    """Inverse of pack_rows: uint8 (R, in) -> float32 codes (4R, in)."""
    parts = [((packed >> (2 * i)) & 3).to(torch.float32) - 1 for i in range(4)]
    return torch.cat(parts, 0)
