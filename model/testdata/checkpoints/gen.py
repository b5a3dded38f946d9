#!/usr/bin/python3
"""Writes tiny checkpoints in the exact layouts of the public BitNet b1.58
families (file names, sharding, tensor names, dtypes, config.json keys), with
the sizes shrunk. Deterministic: every family has its own seed.

    /usr/bin/python3 gen.py            # (re)writes every family directory
    /usr/bin/python3 gen.py NAME...    # only these
    /usr/bin/python3 ref.py            # then the expected logits

Needs Debian's python3-torch (1.13) and python3-numpy; nothing is downloaded.
INDEX.md says what each directory mimics and what the engine must do with it.
"""

import collections
import json
import os
import shutil
import sys

import torch

from stio import pack_rows, write_safetensors

HERE = os.path.dirname(os.path.abspath(__file__))
BF16, F16, F32 = torch.bfloat16, torch.float16, torch.float32


class Gen:
    """Random tensors from one seeded generator."""

    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)

    def normal(self, shape, std):
        return torch.randn(shape, generator=self.g, dtype=F32) * std

    def norm_weight(self, n):
        # around 1 but far enough from it that a skipped norm shows
        return 0.6 + 0.8 * torch.rand(n, generator=self.g, dtype=F32)


def absmean(w):
    """Per-tensor absmean ternarisation as 1bitLLM / transformers / onebitllms
    do it: s = 1 / max(mean|w|, 1e-5); codes = clamp(round(w*s), -1, 1)."""
    s = 1.0 / w.abs().mean().clamp(min=1e-5)
    return (w * s).round().clamp(-1, 1), s


def exact_latent(w):
    """Latent weights codes * c (c a power of two) whose absmean c*K/N is exact
    in f16: K, the number of nonzero codes, is cut to 11 significant bits by
    zeroing the smallest of them. Re-ternarising gives the same codes, and the
    f16 values a converter writes (codes * absmean) and the f16 block scales of
    TQ1_0/TQ2_0 hold the scale exactly, so GGUFs made by llama.cpp's own tool
    chain from these weights reproduce the reference."""
    codes, s = absmean(w)
    flat, mag = codes.reshape(-1).clone(), w.abs().reshape(-1)
    nz = int((flat != 0).sum())
    keep = nz >> max(0, nz.bit_length() - 11) << max(0, nz.bit_length() - 11)
    order = torch.argsort(torch.where(flat != 0, mag, torch.full_like(mag, float("inf"))))
    flat[order[:nz - keep]] = 0
    c = torch.exp2(torch.log2(1.0 / s).round())
    return flat.reshape(codes.shape) * c


# ---------------------------------------------------------------- LLaMA-like

PROJ = [("self_attn.q_proj", "q"), ("self_attn.k_proj", "kv"), ("self_attn.v_proj", "kv"),
        ("self_attn.o_proj", "o"), ("mlp.gate_proj", "up"), ("mlp.up_proj", "up"), ("mlp.down_proj", "down")]


def llama_like(seed, d, linear, wdtype, subnorms=None, lin_norm=False, lm_head=False, embed_std=0.3):
    """Tensors of a transformers-style decoder (model.layers.N....).

    d: dims dict (vocab, hidden, ffn, layers, heads, kv, head_dim).
    linear: how a BitLinear weight is stored:
      "latent"      float master weights (dtype wdtype), ternarised by whoever runs them
      "packed-inv"  uint8 (out/4, in) + weight_scale [1] bf16 = 1/mean|W| (bitlinear: y = Wx / weight_scale)
      "packed-mul"  uint8 (out/4, in) + weight_scale [1] bf16 = mean|W| (autobitlinear offline: y = Wx * weight_scale)
      "dense-ternary" float codes/s (onebitllms convert_to_bf16: a plain float Llama)
    subnorms: None, ("self_attn.attn_sub_norm", "mlp.ffn_sub_norm") or the 1bitLLM names.
    lin_norm: quantization_config.use_rms_norm: a LlamaRMSNorm `<proj>.rms_norm.weight` of size in_features.
    """
    g = Gen(seed)
    h, f, hd = d["hidden"], d["ffn"], d["head_dim"]
    qo, kvo = d["heads"] * hd, d["kv"] * hd
    shapes = {"q": (qo, h), "kv": (kvo, h), "o": (h, qo), "up": (f, h), "down": (h, f)}
    t = {"model.embed_tokens.weight": g.normal((d["vocab"], h), embed_std).to(wdtype),
         "model.norm.weight": g.norm_weight(h).to(wdtype)}
    if lm_head:
        t["lm_head.weight"] = g.normal((d["vocab"], h), 0.1).to(wdtype)
    for i in range(d["layers"]):
        p = f"model.layers.{i}."
        t[p + "input_layernorm.weight"] = g.norm_weight(h).to(wdtype)
        t[p + "post_attention_layernorm.weight"] = g.norm_weight(h).to(wdtype)
        if subnorms:
            t[p + subnorms[0] + ".weight"] = g.norm_weight(qo).to(wdtype)
            t[p + subnorms[1] + ".weight"] = g.norm_weight(f).to(wdtype)
        for name, kind in PROJ:
            shape = shapes[kind]
            # q and k larger than the rest: attention that is far from
            # uniform, so that RoPE (theta, scaling) moves the logits
            w = g.normal(shape, 0.15 if name in ("self_attn.q_proj", "self_attn.k_proj") else 0.02)
            key = p + name + ".weight"
            if linear == "latent":
                t[key] = w.to(wdtype)
            elif linear == "latent-exact":
                t[key] = exact_latent(w).to(wdtype)
            elif linear in ("packed-inv", "packed-mul"):
                codes, s = absmean(w)
                # A power of two: weight_scale (bf16), its inverse as an f16
                # TQ1_0/TQ2_0 block scale and as I2_S's f32 are all exact, so
                # a GGUF converted from this directory must give the same
                # logits. (Real scales are arbitrary; the tests gain nothing
                # from the rounding.)
                s = torch.exp2(torch.log2(s).round())
                t[key] = pack_rows(codes)
                ws = s if linear == "packed-inv" else 1.0 / s
                t[p + name + ".weight_scale"] = ws.reshape(1).to(BF16)
            elif linear == "dense-ternary":
                codes, s = absmean(w)
                t[key] = (codes / s).to(wdtype)
            else:
                raise ValueError(linear)
            if lin_norm:
                t[p + name + ".rms_norm.weight"] = g.norm_weight(shape[1]).to(wdtype)
    return t


# ---------------------------------------------------------------- OLMo


def olmo_tensors(seed, d, wdtype, affine=True):
    """NousResearch/OLMo-Bitnet-1B: hf_olmo's OLMoForCausalLM wraps OLMo as
    `model`, so names are model.transformer.*; att_proj fuses Q,K,V along its
    rows; ff_proj holds both SwiGLU halves (OLMo's SwiGLU: x, gate =
    chunk(2); silu(gate) * x, so rows [0, hidden) are the up/value half and
    rows [hidden, 2*hidden) the gate); weight_tying: no separate head."""
    g = Gen(seed)
    h, hid = d["hidden"], d["mlp_hidden"]
    t = {"model.transformer.wte.weight": g.normal((d["embedding_size"], h), 0.3).to(wdtype),
         "model.transformer.ln_f.weight": g.norm_weight(h).to(wdtype)}
    for i in range(d["layers"]):
        p = f"model.transformer.blocks.{i}."
        t[p + "attn_norm.weight"] = g.norm_weight(h).to(wdtype)
        t[p + "ff_norm.weight"] = g.norm_weight(h).to(wdtype)
        if not affine:  # layer_norm_with_affine false: the norms have no weights
            del t[p + "attn_norm.weight"], t[p + "ff_norm.weight"]
        att = g.normal((3 * h, h), 0.02)
        att[:2 * h] *= 7.5  # q and k rows larger, as in llama_like
        t[p + "att_proj.weight"] = att.to(wdtype)
        t[p + "attn_out.weight"] = g.normal((h, h), 0.02).to(wdtype)
        t[p + "ff_proj.weight"] = g.normal((hid, h), 0.02).to(wdtype)
        t[p + "ff_out.weight"] = g.normal((h, hid // 2), 0.02).to(wdtype)
    if not affine:
        del t["model.transformer.ln_f.weight"]
    return t


# ---------------------------------------------------------------- writing


def write_dir(name, config, tensors, shards=1, extra=None, torch_bin=False):
    out = os.path.join(HERE, name)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    if torch_bin:
        # torch.save of a module's state_dict(): a zip of data.pkl + data/N
        # storages; the pickle is a collections.OrderedDict whose _metadata
        # attribute (per-module versions) is restored with a BUILD opcode
        sd = collections.OrderedDict(sorted(tensors.items()))
        mods = sorted({n.rsplit(".", 1)[0] for n in tensors} | {""})
        sd._metadata = collections.OrderedDict((m, {"version": 1}) for m in mods)
        torch.save(sd, os.path.join(out, "pytorch_model.bin"))
    elif shards == 1:
        write_safetensors(os.path.join(out, "model.safetensors"), tensors, {"format": "pt"})
    else:
        names = sorted(tensors)
        per = -(-len(names) // shards)
        wm, total = {}, 0
        for s in range(shards):
            fn = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
            part = {n: tensors[n] for n in names[s * per:(s + 1) * per]}
            total += write_safetensors(os.path.join(out, fn), part, {"format": "pt"})
            wm.update({n: fn for n in part})
        with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": wm}, f, indent=2)
            f.write("\n")
    for fn, obj in (extra or {}).items():
        with open(os.path.join(out, fn), "w") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")


def dims(vocab, hidden, ffn, layers, heads, kv, head_dim=None):
    return dict(vocab=vocab, hidden=hidden, ffn=ffn, layers=layers, heads=heads, kv=kv,
                head_dim=head_dim or hidden // heads)


# ---------------------------------------------------------------- families
# Each returns (config, tensors, write options). Config keys and their order
# follow the published config.json of the repo named in INDEX.md; sizes and
# token ids are shrunk.


def bitnet_2b4t_config(d, **over):
    c = {
        "architectures": ["BitNetForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "auto_map": {"AutoConfig": "configuration_bitnet.BitNetConfig",
                     "AutoModelForCausalLM": "modeling_bitnet.BitNetForCausalLM"},
        "bos_token_id": 1,
        "eos_token_id": 2,
        "hidden_act": "relu2",
        "hidden_size": d["hidden"],
        "initializer_range": 0.02,
        "intermediate_size": d["ffn"],
        "max_position_embeddings": 4096,
        "model_type": "bitnet",
        "rms_norm_eps": 1e-05,
        "num_attention_heads": d["heads"],
        "num_hidden_layers": d["layers"],
        "num_key_value_heads": d["kv"],
        "rope_theta": 500000.0,
        "tie_word_embeddings": True,
        "torch_dtype": "bfloat16",
        "use_cache": True,
        "vocab_size": d["vocab"],
        "quantization_config": {"quant_method": "bitnet", "linear_class": "bitlinear",
                                "quantization_mode": "offline"},
    }
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


BITNET_SUB = ("self_attn.attn_sub_norm", "mlp.ffn_sub_norm")
ONEBIT_SUB = ("self_attn.inner_attn_ln", "mlp.ffn_layernorm")


def fam_2b4t(seed):
    d = dims(64, 256, 256, 2, 4, 1)
    return bitnet_2b4t_config(d), llama_like(seed, d, "packed-inv", BF16, BITNET_SUB), {}


def fam_2b4t_bf16(seed):
    d = dims(96, 64, 160, 1, 4, 1)
    return (bitnet_2b4t_config(d, quantization_config=None),
            llama_like(seed, d, "latent", BF16, BITNET_SUB), {})


def onebit_config(d, dtype="float16"):
    return {
        "architectures": ["BitnetForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "hidden_act": "silu",
        "hidden_size": d["hidden"],
        "initializer_range": 0.02,
        "input_bits": 8,
        "intermediate_size": d["ffn"],
        "max_position_embeddings": 2048,
        "model_type": "llama",
        "num_attention_heads": d["heads"],
        "num_hidden_layers": d["layers"],
        "num_key_value_heads": d["kv"],
        "pad_token_id": d["vocab"] - 2,
        "pretraining_tp": 1,
        "rms_norm_eps": 1e-05,
        "rope_scaling": None,
        "rope_theta": 10000.0,
        "tie_word_embeddings": True,
        "torch_dtype": dtype,
        "transformers_version": "4.39.0.dev0",
        "use_cache": True,
        "vocab_size": d["vocab"],
        "weight_bits": 1,
    }


# Tied: llama.cpp's convert_hf_to_gguf.py converts these repos to arch bitnet,
# which has no output tensor (an lm_head.weight would fail to map), so the
# published files hold no lm_head.weight.
def fam_1bit_large(seed):
    d = dims(258, 64, 128, 2, 4, 4)  # 256 + <pad> + one more added token, as 32000 + 2
    return onebit_config(d), llama_like(seed, d, "latent", F16, ONEBIT_SUB), {}


def fam_1bit_large_256(seed):
    # widths of whole 256-blocks, latent weights exact through f16 (exact_latent):
    # llama.cpp's convert_hf_to_gguf.py + llama-quantize TQ1_0/TQ2_0 and
    # bitnet.cpp's I2_S keep every weight (peers/PEERS.md)
    d = dims(258, 256, 256, 2, 4, 4)
    return onebit_config(d), llama_like(seed, d, "latent-exact", F16, ONEBIT_SUB), {}


def fam_1bit_3b(seed):
    d = dims(258, 40, 108, 2, 4, 4)  # head_dim 10 (3B: 3200/32 = 100), sharded
    return onebit_config(d), llama_like(seed, d, "latent", F16, ONEBIT_SUB), {"shards": 2}


def fam_olmo_layernorm(seed):
    # OLMo-1B's own norm settings (non-parametric LayerNorm blocks), in case
    # the Bitnet run kept them: only BitLinear158's norm is then an RMSNorm
    c, _, opt = fam_olmo(seed)
    c.update(layer_norm_type="default", layer_norm_with_affine=False)
    d = dict(vocab=100, embedding_size=128, hidden=32, mlp_hidden=128, layers=2, heads=4)
    return c, olmo_tensors(seed, d, F32, affine=False), opt


def fam_olmo(seed):
    d = dict(vocab=100, embedding_size=128, hidden=32, mlp_hidden=128, layers=2, heads=4)
    c = {
        "activation_type": "swiglu",
        "alibi": False,
        "alibi_bias_max": 8.0,
        "architectures": ["OLMoForCausalLM"],
        "attention_dropout": 0.0,
        "attention_layer_norm": False,
        "attention_layer_norm_with_affine": False,
        "auto_map": {"AutoConfig": "configuration_olmo.OLMoConfig",
                     "AutoModelForCausalLM": "modeling_olmo.OLMoForCausalLM"},
        "bias_for_layer_norm": False,
        "block_group_size": 1,
        "block_type": "sequential",
        "clip_qkv": None,
        "d_model": d["hidden"],
        "embedding_dropout": 0.0,
        "embedding_size": d["embedding_size"],
        "eos_token_id": d["vocab"] - 1,
        "flash_attention": False,
        "include_bias": False,
        "init_cutoff_factor": None,
        "init_device": "meta",
        "init_fn": "mitchell",
        "init_std": 0.02,
        "layer_norm_type": "rms",
        "layer_norm_with_affine": True,
        "max_sequence_length": 2048,
        "mlp_hidden_size": None,
        "mlp_ratio": d["mlp_hidden"] // d["hidden"],
        "model_type": "olmo",
        "multi_query_attention": False,
        "n_heads": d["heads"],
        "n_kv_heads": None,
        "n_layers": d["layers"],
        "pad_token_id": 1,
        "precision": "amp_bf16",
        "residual_dropout": 0.0,
        "rope": True,
        "rope_full_precision": True,
        "scale_logits": False,
        "torch_dtype": "float32",
        "transformers_version": "4.38.2",
        "use_cache": True,
        "vocab_size": d["vocab"],
        "weight_tying": True,
    }
    return c, olmo_tensors(seed, d, F32), {"torch_bin": True}


def llama_bitnet_config(d, **over):
    """HF1BitLLM/Llama3-8B-1.58-100B-tokens (LlamaForCausalLM + quant_method bitnet)."""
    c = {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "hidden_act": "silu",
        "hidden_size": d["hidden"],
        "initializer_range": 0.02,
        "intermediate_size": d["ffn"],
        "max_position_embeddings": 131072,
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": d["heads"],
        "num_hidden_layers": d["layers"],
        "num_key_value_heads": d["kv"],
        "pretraining_tp": 1,
        "quantization_config": {"modules_to_not_convert": None, "quant_method": "bitnet"},
        "rms_norm_eps": 1e-05,
        "rope_scaling": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                         "original_max_position_embeddings": 8192, "rope_type": "llama3"},
        "rope_theta": 500000.0,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.44.0.dev0",
        "use_cache": True,
        "vocab_size": d["vocab"],
    }
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


# llama3 rope_scaling with the context shrunk like every other size
# (original_max_position_embeddings 8192 -> 32): with head_dim 64 and theta
# 500000 the frequencies then fall in all three bands (kept, smoothed,
# divided by factor) and the scaling changes the logits within 12 tokens.
LLAMA3_SCALING = {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                  "original_max_position_embeddings": 32, "rope_type": "llama3"}


def fam_llama3(seed):
    d = dims(64, 256, 256, 1, 4, 1)  # 8B: 32 heads / 8 kv, head_dim 128 -> 4 / 1, head_dim 64
    c = llama_bitnet_config(d, rope_scaling=LLAMA3_SCALING, max_position_embeddings=512)
    return c, llama_like(seed, d, "packed-inv", BF16, lm_head=True), {"shards": 2}


def falcon3_config(d, **over):
    c = {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "head_dim": d["head_dim"],
        "hidden_act": "silu",
        "hidden_size": d["hidden"],
        "initializer_range": 0.02,
        "intermediate_size": d["ffn"],
        "max_position_embeddings": 8192,
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": d["heads"],
        "num_hidden_layers": d["layers"],
        "num_key_value_heads": d["kv"],
        "pretraining_tp": 1,
        "quantization_config": {"modules_to_not_convert": ["lm_head"], "quant_method": "bitnet"},
        "rms_norm_eps": 1e-06,
        "rope_scaling": None,
        "rope_theta": 1000042,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.46.1",
        "use_cache": True,
        "vocab_size": d["vocab"],
    }
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def fam_falcon3(seed):
    d = dims(64, 256, 256, 1, 4, 2)  # 1B: 8 heads / 4 kv of 256 -> 4 / 2 of 64
    return falcon3_config(d), llama_like(seed, d, "packed-inv", BF16, lm_head=True), {}


def falcon_e_config(d, quant=True):
    c = {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "head_dim": d["head_dim"],
        "hidden_act": "silu",
        "hidden_size": d["hidden"],
        "initializer_range": 0.02,
        "intermediate_size": d["ffn"],
        "is_bitnet_config": True,
        "max_position_embeddings": 32768,
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": d["heads"],
        "num_hidden_layers": d["layers"],
        "num_key_value_heads": d["kv"],
        "pretraining_tp": 1,
        # onebitllms.quantize_to_1bit writes exactly these two keys (linear_class
        # absent = bitlinear: weight_scale divides)
        "quantization_config": {"modules_to_not_convert": ["lm_head"], "quant_method": "bitnet"},
        "rms_norm_eps": 1e-05,
        "rope_scaling": None,
        "rope_theta": 1000000.0,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.51.3",
        "use_cache": True,
        "vocab_size": d["vocab"],
    }
    if not quant:
        del c["quantization_config"], c["is_bitnet_config"]
    return c


def fam_falcon_e(seed):
    d = dims(64, 256, 256, 1, 8, 1)  # 16 heads / 2 kv of 128 -> 8 / 1 of 32
    return falcon_e_config(d), llama_like(seed, d, "packed-inv", BF16, lm_head=True), {}


def fam_falcon_e_bf16(seed):
    d = dims(64, 64, 160, 1, 4, 1)
    return falcon_e_config(d, quant=False), llama_like(seed, d, "dense-ternary", BF16, lm_head=True), {}


def fam_falcon_e_prequant(seed):
    d = dims(64, 64, 160, 1, 4, 1)
    return falcon_e_config(d, quant=False), llama_like(seed, d, "latent", BF16, lm_head=True), {}


def r1_config(d, mode):
    c = llama_bitnet_config(d, rope_scaling=None, rope_theta=500000.0, max_position_embeddings=131072,
                            tie_word_embeddings=False)
    c["quantization_config"] = {"linear_class": "autobitlinear", "modules_to_not_convert": None,
                                "quant_method": "bitnet", "quantization_mode": mode,
                                "rms_norm_eps": 1e-05, "use_rms_norm": True}
    return c


def fam_r1_online(seed):
    d = dims(96, 64, 160, 1, 4, 2)
    return r1_config(d, "online"), llama_like(seed, d, "latent", BF16, lin_norm=True, lm_head=True), {}


def fam_r1_offline(seed):
    d = dims(96, 64, 160, 2, 4, 2)
    return r1_config(d, "offline"), llama_like(seed, d, "packed-mul", BF16, lin_norm=True, lm_head=True), {}


def fam_autobit_offline_plain(seed):
    # autobitlinear offline without use_rms_norm: the multiply convention alone
    d = dims(96, 64, 160, 2, 4, 2)
    c = r1_config(d, "offline")
    del c["quantization_config"]["use_rms_norm"], c["quantization_config"]["rms_norm_eps"]
    return c, llama_like(seed, d, "packed-mul", BF16, lm_head=True), {}


def fam_bitlinear_rms_norm(seed):
    # transformers' BitLinear (packed, weight_scale divides) also takes use_rms_norm
    d = dims(96, 64, 160, 2, 4, 2)
    c = llama_bitnet_config(d, rope_scaling=None)
    c["quantization_config"] = {"modules_to_not_convert": None, "quant_method": "bitnet", "rms_norm_eps": 1e-06,
                                "use_rms_norm": True}
    return c, llama_like(seed, d, "packed-inv", BF16, lin_norm=True, lm_head=True), {}


# ---- config traps: each differs from a sane config in one way

TRAP = dims(64, 64, 160, 2, 4, 1)


def trap_bitnet_no_rope_theta(seed):
    return bitnet_2b4t_config(TRAP, rope_theta=None), llama_like(seed, TRAP, "packed-inv", BF16, BITNET_SUB), {}


def trap_bitnet_no_kv_heads(seed):
    d = dims(64, 80, 160, 2, 10, 5)  # BitNetConfig's num_key_value_heads default is 5, not the head count
    c = bitnet_2b4t_config(d)
    del c["num_key_value_heads"]
    return c, llama_like(seed, d, "packed-inv", BF16, BITNET_SUB), {}


def trap_bitnet_untied_no_key(seed):
    c = bitnet_2b4t_config(TRAP, tie_word_embeddings=None)  # BitNetConfig default: untied
    return c, llama_like(seed, TRAP, "packed-inv", BF16, BITNET_SUB, lm_head=True), {}


def trap_llama_defaults(seed):
    c = llama_bitnet_config(TRAP, rope_scaling=None, rope_theta=None, rms_norm_eps=None,
                            tie_word_embeddings=None, max_position_embeddings=None, hidden_act=None,
                            num_key_value_heads=None)
    d = dict(TRAP, kv=TRAP["heads"])  # LlamaConfig: num_key_value_heads defaults to the head count
    # embeddings as small as trained ones (std 0.02): rms_norm_eps 1e-6 vs 1e-5 then shows
    return c, llama_like(seed, d, "packed-inv", BF16, lm_head=True, embed_std=0.02), {}


def trap_v5_rope_parameters(seed):
    c = llama_bitnet_config(TRAP, rope_scaling=None, rope_theta=None, torch_dtype=None,
                            transformers_version="5.0.0")
    c["rope_parameters"] = {"rope_theta": 250000.0, "rope_type": "default"}
    c["dtype"] = "bfloat16"
    return c, llama_like(seed, TRAP, "packed-inv", BF16, lm_head=True), {}


def trap_v5_llama3(seed):
    c = llama_bitnet_config(TRAP, rope_scaling=None, rope_theta=None, torch_dtype=None,
                            transformers_version="5.0.0")
    c["rope_parameters"] = dict(LLAMA3_SCALING, rope_theta=500000.0)
    c["dtype"] = "bfloat16"
    return c, llama_like(seed, TRAP, "packed-inv", BF16, lm_head=True), {}


def trap_v5_bitnet(seed):
    c = bitnet_2b4t_config(TRAP, rope_theta=None, torch_dtype=None)
    c["rope_parameters"] = {"rope_theta": 500000.0, "rope_type": "default"}
    c["dtype"] = "bfloat16"
    c["transformers_version"] = "5.0.0"
    return c, llama_like(seed, TRAP, "packed-inv", BF16, BITNET_SUB), {}


def trap_head_dim(seed):
    d = dims(64, 64, 160, 2, 4, 2, head_dim=32)  # q_proj is (128, 64): head_dim != hidden/heads
    return falcon3_config(d), llama_like(seed, d, "packed-inv", BF16, lm_head=True), {}


FAMILIES = {
    "bitnet-b1.58-2B-4T": fam_2b4t,
    "bitnet-b1.58-2B-4T-bf16": fam_2b4t_bf16,
    "bitnet_b1_58-large": fam_1bit_large,
    "bitnet_b1_58-3B": fam_1bit_3b,
    "bitnet_b1_58-large-256": fam_1bit_large_256,
    "OLMo-Bitnet-1B": fam_olmo,
    "OLMo-Bitnet-1B-layernorm": fam_olmo_layernorm,
    "Llama3-8B-1.58-100B-tokens": fam_llama3,
    "Falcon3-1B-Instruct-1.58bit": fam_falcon3,
    "Falcon-E-1B-Base": fam_falcon_e,
    "Falcon-E-1B-Base-bfloat16": fam_falcon_e_bf16,
    "Falcon-E-1B-Base-prequantized": fam_falcon_e_prequant,
    "bitnet-r1-autobitlinear-online": fam_r1_online,
    "bitnet-r1-autobitlinear-offline": fam_r1_offline,
    "autobitlinear-offline": fam_autobit_offline_plain,
    "bitlinear-rms-norm": fam_bitlinear_rms_norm,
    "trap-bitnet-no-rope-theta": trap_bitnet_no_rope_theta,
    "trap-bitnet-no-kv-heads": trap_bitnet_no_kv_heads,
    "trap-bitnet-untied-no-key": trap_bitnet_untied_no_key,
    "trap-llama-defaults": trap_llama_defaults,
    "trap-v5-rope-parameters": trap_v5_rope_parameters,
    "trap-v5-llama3": trap_v5_llama3,
    "trap-v5-bitnet": trap_v5_bitnet,
    "trap-head-dim": trap_head_dim,
}


# Seeds chosen (seeds.py) so that no int8 activation or ternary weight code
# moves under float32-sized noise or in float64: any float32 implementation
# then reproduces the expected logits to ~1e-5.
SEEDS = {
    'bitnet-b1.58-2B-4T': 44,
    'bitnet-b1.58-2B-4T-bf16': 1,
    'bitnet_b1_58-large': 2,
    'bitnet_b1_58-3B': 2,
    'bitnet_b1_58-large-256': 26,
    'OLMo-Bitnet-1B': 1,
    'OLMo-Bitnet-1B-layernorm': 1,
    'Llama3-8B-1.58-100B-tokens': 3,
    'Falcon3-1B-Instruct-1.58bit': 11,
    'Falcon-E-1B-Base': 3,
    'Falcon-E-1B-Base-bfloat16': 1,
    'Falcon-E-1B-Base-prequantized': 1,
    'bitnet-r1-autobitlinear-online': 3,
    'bitnet-r1-autobitlinear-offline': 2,
    'autobitlinear-offline': 6,
    'bitlinear-rms-norm': 3,
    'trap-bitnet-no-rope-theta': 3,
    'trap-bitnet-no-kv-heads': 9,
    'trap-bitnet-untied-no-key': 2,
    'trap-llama-defaults': 7,
    'trap-v5-rope-parameters': 2,
    'trap-v5-llama3': 1,
    'trap-v5-bitnet': 3,
    'trap-head-dim': 1,
}


def build(name, seed=None):
    return FAMILIES[name](SEEDS.get(name, 1) if seed is None else seed)


def main(names):
    for name in names or FAMILIES:
        config, tensors, opt = build(name)
        write_dir(name, config, tensors, **opt)
        print("wrote", name)


if __name__ == "__main__":
    main(sys.argv[1:])
