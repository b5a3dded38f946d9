#!/usr/bin/python3
"""Independent reference forward pass for the checkpoints gen.py writes.

Written from the upstream modeling code, not from the engine:
  - transformers models/llama (LlamaConfig defaults, LlamaRMSNorm, rotate-half
    RoPE, eager attention with repeat_kv), models/bitnet (BitNetConfig
    defaults, attn_sub_norm / ffn_sub_norm, relu2), modeling_rope_utils
    (default and llama3 inv_freq), integrations/bitnet (BitLinear: packed
    uint8, y = Wq xq / (s_x * weight_scale); AutoBitLinear offline: y =
    linear(ActQuant(x), W) * weight_scale, online: linear(ActQuant(x),
    WeightQuant(W)); use_rms_norm: a LlamaRMSNorm on the input first);
  - 1bitLLM's modeling_bitnet.py / utils_quant.py (latent weights,
    weight_quant / activation_quant, inner_attn_ln and ffn_layernorm);
  - OLMo's model.py as NousResearch/OLMo-Bitnet-1B modifies it (fused
    att_proj, SwiGLU `x, gate = chunk(2)`, BitLinear158 = weightless RMSNorm,
    then the same quantizers, weight tying).

Everything runs in float32 on the CPU, as those models do when loaded with
torch_dtype=float32: stored fp16/bf16 values are widened exactly, the
quantizers compute in float32 and torch.round rounds half to even.

    /usr/bin/python3 ref.py            # every directory named in gen.FAMILIES
    /usr/bin/python3 ref.py NAME...

writes NAME/expected.json in the format `bitrepl logits` prints and
`/assert logits` reads: {"model", "ids", "logits": [len(ids)][vocab_size]},
and index.json (machine-readable INDEX.md).
"""

import json
import math
import os
import sys

import numpy as np
import torch

from stio import read_dir_weights, unpack_rows

HERE = os.path.dirname(os.path.abspath(__file__))
F32 = torch.float32

# Class defaults of the configs (a key absent from config.json takes these).
LLAMA_DEFAULTS = dict(vocab_size=32000, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                      num_attention_heads=32, num_key_value_heads=None, hidden_act="silu",
                      max_position_embeddings=2048, rms_norm_eps=1e-6, tie_word_embeddings=False,
                      rope_theta=10000.0, rope_scaling=None, attention_bias=False, mlp_bias=False, head_dim=None)
BITNET_DEFAULTS = dict(vocab_size=128256, hidden_size=2560, intermediate_size=6912, num_hidden_layers=30,
                       num_attention_heads=20, num_key_value_heads=5, hidden_act="relu2",
                       max_position_embeddings=2048, rms_norm_eps=1e-5, tie_word_embeddings=False,
                       rope_theta=500000.0, rope_scaling=None, attention_bias=False, head_dim=None)
# BitNetQuantConfig defaults
QUANT_DEFAULTS = dict(linear_class="bitlinear", quantization_mode="offline", use_rms_norm=False, rms_norm_eps=1e-6)


# ---------------------------------------------------------------- building blocks


def rms_norm(x, weight, eps):
    """LlamaRMSNorm / OLMo RMSLayerNorm: x * rsqrt(mean(x^2) + eps) * weight."""
    x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return x if weight is None else weight * x


# Robustness probe (see robust()): when set, every quantizer input is
# multiplied by (1 + PERTURB * N(0,1)) and the integer codes are recorded.
PERTURB = None
TRACE = None


def _probe(x):
    if PERTURB is not None:
        x = x * (1 + PERTURB * torch.randn(x.shape, dtype=x.dtype))
    return x


def act_quant(x):
    """Per-token absmax int8: s = 127 / max(max|x|, 1e-5); q = clamp(round(x*s), -128, 127)."""
    x = _probe(x)
    s = 127.0 / x.abs().amax(dim=-1, keepdim=True).clamp(min=1e-5)
    q = (x * s).round().clamp(-128, 127)
    if TRACE is not None:
        TRACE.append(q)
    return q, s


def weight_quant(w):
    """Per-tensor absmean ternary, dequantized: round(w*s).clamp(-1,1)/s, s = 1/max(mean|w|, 1e-5)."""
    w = _probe(w)
    s = 1.0 / w.abs().mean().clamp(min=1e-5)
    q = (w * s).round().clamp(-1, 1)
    if TRACE is not None:
        TRACE.append(q)
    return q / s


class Linear:
    """One projection as its upstream module computes it.

    kind: "packed-inv" (transformers BitLinear), "mul" (AutoBitLinear offline),
    "online" (AutoBitLinear online, 1bitLLM BitLinear, OLMo BitLinear158),
    "float" (nn.Linear). norm: (weight or None, eps) of an RMSNorm applied to
    the input first (use_rms_norm, or OLMo's weightless one), or None."""

    def __init__(self, kind, weight, scale=None, norm=None):
        self.kind, self.norm = kind, norm
        if weight.dtype == torch.uint8:
            if kind not in ("packed-inv", "mul"):
                raise ValueError(f"uint8 weight for a {kind} linear")
            weight = unpack_rows(weight)
        self.w = weight.to(F32)
        self.scale = None if scale is None else scale.to(F32).reshape(())
        if kind == "online":
            self.w = weight_quant(self.w)
        if kind in ("packed-inv", "mul") and self.scale is None:
            raise ValueError("missing weight_scale")

    def __call__(self, x):
        if self.norm is not None:
            x = rms_norm(x, self.norm[0], self.norm[1])
        if self.kind == "float":
            return x @ self.w.T
        q, s = act_quant(x)
        if self.kind == "packed-inv":
            return (q @ self.w.T) / (s * self.scale)
        xd = q / s
        y = xd @ self.w.T
        return y * self.scale if self.kind == "mul" else y


def default_inv_freq(theta, dim):
    return 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).to(F32) / dim))


def llama3_inv_freq(theta, dim, rs):
    """transformers' _compute_llama3_parameters."""
    inv_freq = default_inv_freq(theta, dim)
    factor = rs["factor"]
    low, high = rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    low_wl, high_wl = old / low, old / high
    wavelen = 2 * math.pi / inv_freq
    f = torch.where(wavelen > low_wl, inv_freq / factor, inv_freq)
    smooth = (old / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * f / factor + smooth * f
    medium = ~(wavelen < high_wl) * ~(wavelen > low_wl)
    return torch.where(medium, smoothed, f)


def rope_tables(inv_freq, n):
    pos = torch.arange(n, dtype=F32)
    freqs = pos[:, None] * inv_freq[None, :]
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos(), emb.sin()


def apply_rope(x, cos, sin):
    """Rotate-half (NEOX) RoPE on (heads, T, head_dim)."""
    h = x.shape[-1] // 2
    rot = torch.cat([-x[..., h:], x[..., :h]], dim=-1)
    return x * cos + rot * sin


def attention(q, k, v, heads, kv_heads, hd, cos, sin):
    """q (T, heads*hd), k/v (T, kv*hd) -> (T, heads*hd); causal, eager softmax in float32."""
    t = q.shape[0]
    q = apply_rope(q.view(t, heads, hd).transpose(0, 1), cos, sin)
    k = apply_rope(k.view(t, kv_heads, hd).transpose(0, 1), cos, sin)
    v = v.view(t, kv_heads, hd).transpose(0, 1)
    rep = heads // kv_heads
    k, v = k.repeat_interleave(rep, dim=0), v.repeat_interleave(rep, dim=0)  # repeat_kv
    scores = (q @ k.transpose(1, 2)) * hd ** -0.5
    mask = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
    scores = scores.masked_fill(mask, float("-inf"))
    p = torch.softmax(scores, dim=-1, dtype=F32)
    return (p @ v).transpose(0, 1).reshape(t, heads * hd)


ACTS = {"silu": torch.nn.functional.silu, "swish": torch.nn.functional.silu,
        "relu2": lambda x: torch.relu(x).pow(2)}


# ---------------------------------------------------------------- transformers-style decoders


def resolve(cfg):
    """The settings transformers (or the repo's own code) would run with."""
    mt = cfg.get("model_type")
    arch = (cfg.get("architectures") or [""])[0]
    if mt == "bitnet":
        base, sub = BITNET_DEFAULTS, ("self_attn.attn_sub_norm", "mlp.ffn_sub_norm")
    elif mt == "llama":
        base, sub = LLAMA_DEFAULTS, None
        if arch == "BitnetForCausalLM":  # 1bitLLM's own modeling_bitnet.py (LlamaConfig-based)
            sub = ("self_attn.inner_attn_ln", "mlp.ffn_layernorm")
    else:
        raise ValueError(f"model_type {mt!r}")
    r = dict(base)
    r.update({k: cfg[k] for k in base if cfg.get(k) is not None})
    if r["num_key_value_heads"] is None:
        r["num_key_value_heads"] = r["num_attention_heads"]
    if r["head_dim"] is None:
        r["head_dim"] = r["hidden_size"] // r["num_attention_heads"]
    # RoPE: transformers v5 keeps everything in rope_parameters; v4 has rope_theta + rope_scaling
    rp = cfg.get("rope_parameters")
    if rp is not None:
        r["rope_theta"] = rp.get("rope_theta", base["rope_theta"])
        rope = dict(rp)
    else:
        rope = dict(r["rope_scaling"] or {})
    rope_type = rope.get("rope_type", rope.get("type", "default"))
    if rope_type not in ("default", "llama3"):
        raise ValueError(f"rope_type {rope_type!r}")
    r["rope_type"], r["rope"] = rope_type, rope
    r["subnorms"] = sub
    # linear layers
    q = cfg.get("quantization_config")
    if arch == "BitnetForCausalLM":
        r["linear"], r["lin_norm"] = "online", None
    elif q is None:
        # bitnet model_type without quantization_config: microsoft's -bf16
        # master weights. transformers would run them as plain float
        # linears; BitNet b1.58 semantics (what the packed model computes)
        # ternarise them: that is the reference. A llama without a
        # quantization_config is a plain float Llama (Falcon-E's bfloat16 and
        # prequantized revisions) and runs as transformers runs it.
        r["linear"], r["lin_norm"] = ("online" if mt == "bitnet" else "float"), None
    else:
        if q.get("quant_method") != "bitnet":
            raise ValueError(f"quant_method {q.get('quant_method')!r}")
        qq = dict(QUANT_DEFAULTS)
        qq.update({k: v for k, v in q.items() if v is not None})
        if qq["linear_class"] == "bitlinear":
            r["linear"] = "packed-inv"
        elif qq["linear_class"] == "autobitlinear":
            r["linear"] = "online" if qq["quantization_mode"] == "online" else "mul"
        else:
            raise ValueError(f"linear_class {qq['linear_class']!r}")
        r["lin_norm"] = qq["rms_norm_eps"] if qq["use_rms_norm"] else None
    return r


class Decoder:
    def __init__(self, cfg, W):
        r = self.r = resolve(cfg)
        used = set()

        def get(name):
            if name not in W:
                raise KeyError(f"tensor {name} missing")
            used.add(name)
            return W[name]

        def vec(name):
            return get(name).to(F32)

        def lin(name):
            scale = get(name + ".weight_scale") if name + ".weight_scale" in W else None
            norm = (vec(name + ".rms_norm.weight"), r["lin_norm"]) if r["lin_norm"] is not None else None
            return Linear(r["linear"], get(name + ".weight"), scale, norm)

        eps = r["rms_norm_eps"]
        self.embed = vec("model.embed_tokens.weight")
        self.norm = vec("model.norm.weight")
        if r["tie_word_embeddings"]:
            self.head = self.embed
        else:
            self.head = vec("lm_head.weight")
        self.layers = []
        for i in range(r["num_hidden_layers"]):
            p = f"model.layers.{i}."
            L = {n: lin(p + n) for n in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                         "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")}
            L["in_norm"] = vec(p + "input_layernorm.weight")
            L["post_norm"] = vec(p + "post_attention_layernorm.weight")
            if r["subnorms"]:
                L["attn_sub"] = vec(p + r["subnorms"][0] + ".weight")
                L["ffn_sub"] = vec(p + r["subnorms"][1] + ".weight")
            self.layers.append(L)
        extra = set(W) - used
        if extra:
            raise ValueError(f"tensors the model does not use: {sorted(extra)}")
        hd = r["head_dim"]
        if r["rope_type"] == "llama3":
            self.inv_freq = llama3_inv_freq(r["rope_theta"], hd, r["rope"])
        else:
            self.inv_freq = default_inv_freq(r["rope_theta"], hd)
        self.eps = eps

    def forward(self, ids):
        r = self.r
        act = ACTS[r["hidden_act"]]
        x = self.embed[torch.tensor(ids)]
        cos, sin = rope_tables(self.inv_freq, len(ids))
        for L in self.layers:
            h = rms_norm(x, L["in_norm"], self.eps)
            a = attention(L["self_attn.q_proj"](h), L["self_attn.k_proj"](h), L["self_attn.v_proj"](h),
                          r["num_attention_heads"], r["num_key_value_heads"], r["head_dim"], cos, sin)
            if r["subnorms"]:
                a = rms_norm(a, L["attn_sub"], self.eps)
            x = x + L["self_attn.o_proj"](a)
            h = rms_norm(x, L["post_norm"], self.eps)
            m = act(L["mlp.gate_proj"](h)) * L["mlp.up_proj"](h)
            if r["subnorms"]:
                m = rms_norm(m, L["ffn_sub"], self.eps)
            x = x + L["mlp.down_proj"](m)
        x = rms_norm(x, self.norm, self.eps)
        return (x @ self.head.T)[:, :r["vocab_size"]]


# ---------------------------------------------------------------- OLMo


class Olmo:
    """OLMo (hf_olmo) with NousResearch's BitLinear158 in att_proj, attn_out,
    ff_proj and ff_out."""

    def __init__(self, cfg, W):
        self.cfg = c = cfg
        if c.get("block_type", "sequential") != "sequential" or c.get("alibi") or not c.get("rope", False):
            raise ValueError("only the sequential block with RoPE")
        if c.get("activation_type") != "swiglu" or c.get("layer_norm_type") not in ("rms", "default"):
            raise ValueError("only swiglu with rms or default (LayerNorm) norms")
        if c.get("include_bias") or c.get("attention_layer_norm") or c.get("clip_qkv") or c.get("scale_logits"):
            raise ValueError("bias, qk norms, clip_qkv and scaled logits are not written by gen.py")
        self.d = c["d_model"]
        self.heads = c["n_heads"]
        self.kv = c.get("n_kv_heads") or (1 if c.get("multi_query_attention") else self.heads)
        self.hd = self.d // self.heads
        self.eps = 1e-5  # LayerNormBase default
        affine = c.get("layer_norm_with_affine", True)
        # the block norms: RMSLayerNorm, or OLMo's LayerNorm (F.layer_norm) for "default";
        # BitLinear158's own norm is always a weightless RMSLayerNorm
        if c["layer_norm_type"] == "rms":
            self.block_norm = lambda x, w: rms_norm(x, w, self.eps)
        else:
            self.block_norm = lambda x, w: torch.nn.functional.layer_norm(x, x.shape[-1:], w, None, self.eps)
        used = set()

        def get(name):
            used.add(name)
            return W[name].to(F32)

        def norm(name):
            return get(name) if affine else None

        def bit(name):  # BitLinear158: weightless RMSNorm, then the quantizers
            used.add(name)
            return Linear("online", W[name], norm=(None, self.eps))

        p = "model.transformer."
        self.wte = get(p + "wte.weight")
        self.ln_f = norm(p + "ln_f.weight")
        if not c.get("weight_tying", True):
            self.head = get(p + "ff_out.weight")
        else:
            self.head = self.wte
        self.blocks = []
        for i in range(c["n_layers"]):
            b = f"{p}blocks.{i}."
            self.blocks.append(dict(attn_norm=norm(b + "attn_norm.weight"), ff_norm=norm(b + "ff_norm.weight"),
                                    att_proj=bit(b + "att_proj.weight"), attn_out=bit(b + "attn_out.weight"),
                                    ff_proj=bit(b + "ff_proj.weight"), ff_out=bit(b + "ff_out.weight")))
        extra = set(W) - used
        if extra:
            raise ValueError(f"tensors the model does not use: {sorted(extra)}")
        self.inv_freq = default_inv_freq(float(c.get("rope_theta", 10000)), self.hd)

    def forward(self, ids):
        x = self.wte[torch.tensor(ids)]
        cos, sin = rope_tables(self.inv_freq, len(ids))
        kvd = self.kv * self.hd
        for B in self.blocks:
            qkv = B["att_proj"](self.block_norm(x, B["attn_norm"]))
            q, k, v = qkv.split([self.d, kvd, kvd], dim=-1)
            x = x + B["attn_out"](attention(q, k, v, self.heads, self.kv, self.hd, cos, sin))
            f = B["ff_proj"](self.block_norm(x, B["ff_norm"]))
            xv, gate = f.chunk(2, dim=-1)
            x = x + B["ff_out"](torch.nn.functional.silu(gate) * xv)
        x = self.block_norm(x, self.ln_f)
        # OLMo returns embedding_size columns; the rows past vocab_size are padding
        return (x @ self.head.T)[:, :self.cfg["vocab_size"]]


def load(d):
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    W = read_dir_weights(d)
    if cfg.get("model_type") == "olmo":
        return Olmo(cfg, W)
    return Decoder(cfg, W)


# ---------------------------------------------------------------- expected logits


def f32(v):
    """The shortest decimal that reads back as the same float32."""
    return str(np.float32(v))


def write_expected(path, model_id, ids, logits):
    rows = [",".join(f32(v) for v in row) for row in logits.tolist()]
    with open(path, "w") as f:
        f.write('{"model": %s,\n"ids": [%s],\n"logits": [\n' % (json.dumps(model_id), ", ".join(map(str, ids))))
        f.write(",\n".join("[" + r + "]" for r in rows))
        f.write("\n]}\n")


def robust(d, ids, runs=8, rel=1e-6):
    """How the codes and logits move when every quantizer input carries
    float32-sized noise (rel * N(0,1), a few ulp) or when the whole pass runs
    in float64: the number of runs whose int8/ternary codes differ from the
    clean float32 pass, and the largest logit change. A checkpoint whose codes
    never move is one any float32 implementation reproduces to ~1e-5."""
    global PERTURB, TRACE, F32
    TRACE = []
    clean = load(d).forward(ids)
    base, flips, dev = TRACE, 0, 0.0
    torch.manual_seed(0)
    for i in range(runs + 1):
        TRACE = []
        if i == runs:
            F32 = torch.float64
        else:
            PERTURB = rel
        try:
            got = load(d).forward(ids).to(torch.float32)
        finally:
            PERTURB, F32 = None, torch.float32
        flips += any(not torch.equal(a.to(torch.float32), b.to(torch.float32)) for a, b in zip(base, TRACE))
        dev = max(dev, (got - clean).abs().max().item())
    TRACE = None
    return flips, dev


def main(names):
    sys.path.insert(0, HERE)
    from index import FAMILIES as META
    only = set(names)
    index = []
    for name, meta in META.items():
        d = os.path.join(HERE, name)
        m = load(d)
        with torch.no_grad():
            logits = m.forward(meta["ids"])
            again = load(d).forward(meta["ids"])
        if not torch.equal(logits, again):
            raise SystemExit(f"{name}: the reference is not deterministic")
        if not torch.isfinite(logits).all():
            raise SystemExit(f"{name}: non-finite logits")
        if not only or name in only:
            write_expected(os.path.join(d, "expected.json"), meta["upstream"], meta["ids"], logits)
            print(f"{name}: {tuple(logits.shape)} logits, |max| {logits.abs().max():.3f}")
        files = sorted(f for f in os.listdir(d) if f != "expected.json")
        index.append(dict(dir=name, files=files, **meta))
    with open(os.path.join(HERE, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
