"""What each checkpoint directory mimics, its token ids, and what the engine
must do with it. ref.py copies this into index.json; INDEX.md is the prose."""

# tol: max |logit - expected| the engine should meet. "near" families do the
# same arithmetic as the engine (int8 per-token activations, ternary weights,
# float32): the only differences are float32 summation order and, rarely, an
# activation that rounds the other way. "float" families have no activation
# quantization at all.
NEAR = 5e-4

IDS = [1, 7, 23, 42, 5, 60, 11, 3, 17, 9, 50, 2]

FAMILIES = {
    "bitnet-b1.58-2B-4T": dict(
        upstream="microsoft/bitnet-b1.58-2B-4T", ids=IDS, tol=NEAR, expect="run",
        layout="model.safetensors; BitNetForCausalLM; BitLinear weights packed uint8 (out/4, in) + weight_scale bf16 [1]; "
               "bf16 embedding and norms; no lm_head (tied)",
        quirk="packed rows: bits 2i..2i+1 of byte [r, c] hold row i*out/4 + r; weight_scale is inverted (W = code / weight_scale); "
              "relu2 FFN; attn_sub_norm/ffn_sub_norm; GQA 4/1; every BitLinear in_features is 256 or a multiple (TQ1_0/TQ2_0/I2_S blocks fit)"),
    "bitnet-b1.58-2B-4T-bf16": dict(
        upstream="microsoft/bitnet-b1.58-2B-4T-bf16", ids=IDS, tol=NEAR, expect="run",
        layout="model.safetensors; same names as the packed repo, BitLinear weights are bf16 master weights (out, in); "
               "config.json without quantization_config",
        quirk="latent weights under model_type bitnet: ternarise per tensor at load (absmean, eps 1e-5) as the packed model "
              "was made; transformers itself would run them as float linears (training checkpoint), the expected logits use "
              "BitNet b1.58 semantics"),
    "bitnet_b1_58-large": dict(
        upstream="1bitLLM/bitnet_b1_58-large", ids=[1, 7, 256, 42, 257, 60, 11, 3, 17, 9, 200, 2], tol=NEAR, expect="run",
        layout="model.safetensors; BitnetForCausalLM (model_type llama, repo's own modeling_bitnet.py); fp16 latent weights; "
               "tied: no lm_head.weight (llama.cpp's bitnet arch, made for these repos, has no output tensor)",
        quirk="vocab = 256 + 2 added tokens (as 32000 + <pad> + 1), pad_token_id = vocab-2, ids include both added tokens; "
              "sub-norms self_attn.inner_attn_ln and mlp.ffn_layernorm; silu; rope_theta 10000; rope_scaling null"),
    "bitnet_b1_58-large-256": dict(
        upstream="1bitLLM/bitnet_b1_58-large", ids=[1, 7, 256, 42, 257, 60, 11, 3, 17, 9, 200, 2], tol=NEAR, expect="run",
        layout="as bitnet_b1_58-large, hidden and ffn 256 so that llama.cpp's TQ1_0/TQ2_0 and bitnet.cpp's I2_S blocks fit",
        quirk="latent weights codes * 2^k with the nonzero count cut to 11 significant bits: the absmean scale is exact "
              "in f16, so the peers' GGUFs (peers/) keep every weight"),
    "bitnet_b1_58-3B": dict(
        upstream="1bitLLM/bitnet_b1_58-3B", ids=[1, 7, 256, 42, 257, 60, 11, 3, 17, 9, 200, 2], tol=NEAR, expect="run",
        layout="model-00001-of-00002.safetensors + model-00002-of-00002.safetensors + model.safetensors.index.json; "
               "otherwise as -large",
        quirk="sharded; head_dim 10 (3B: 100, not a power of two)"),
    "OLMo-Bitnet-1B": dict(
        upstream="NousResearch/OLMo-Bitnet-1B", ids=[1, 7, 23, 42, 99, 60, 11, 3, 17, 9, 50, 2], tol=NEAR, expect="run",
        layout="pytorch_model.bin (torch.save zip: pytorch_model/data.pkl + data/N storages), fp32; model_type olmo; "
               "names model.transformer.{wte,ln_f}.weight, model.transformer.blocks.N.{attn_norm,ff_norm,att_proj,attn_out,"
               "ff_proj,ff_out}.weight",
        quirk="att_proj fuses Q,K,V rows (d_model each, n_kv_heads null = n_heads); ff_proj (2*h, d) with rows [0,h) = value "
              "(up) and [h,2h) = gate: OLMo's SwiGLU is `x, gate = chunk(2); silu(gate) * x`; every BitLinear158 first applies "
              "a weightless RMSNorm (eps 1e-5) then the 1bitLLM quantizers; attn_norm/ff_norm/ln_f are RMSNorm with weight "
              "(layer_norm_type rms, layer_norm_with_affine true); no sub-norms; weight_tying true (head = wte); "
              "embedding_size 128 > vocab_size 100 (padded rows): expected logits have vocab_size columns; mlp_ratio 4 (OLMo-1B: 8); no rope_theta "
              "key (OLMo default 10000)"),
    "OLMo-Bitnet-1B-layernorm": dict(
        upstream="NousResearch/OLMo-Bitnet-1B (if its config kept OLMo-1B's norms)", ids=[1, 7, 23, 42, 99, 60, 11, 3, 17, 9, 50, 2],
        tol=NEAR, expect="run",
        layout="as OLMo-Bitnet-1B without attn_norm/ff_norm/ln_f weights",
        quirk="layer_norm_type default + layer_norm_with_affine false (allenai/OLMo-1B's settings): the block norms are "
              "non-parametric LayerNorms (mean subtracted, eps 1e-5); BitLinear158's own norm stays a weightless RMSNorm. "
              "Which of the two OLMo directories matches the real file is unverified: a loader driven by the config runs both"),
    "Llama3-8B-1.58-100B-tokens": dict(
        upstream="HF1BitLLM/Llama3-8B-1.58-100B-tokens", ids=IDS, tol=NEAR, expect="run",
        layout="2 shards + index; LlamaForCausalLM + quantization_config {quant_method bitnet}; packed uint8 + weight_scale "
               "(bitlinear: divides); untied lm_head bf16",
        quirk="rope_scaling {rope_type llama3, factor 8, low 1, high 4, original_max_position_embeddings 8192} with "
              "head_dim 64 and theta 500000: the 32 frequencies fall in all three bands (kept, smoothed, divided by 8)"),
    "Falcon3-1B-Instruct-1.58bit": dict(
        upstream="tiiuae/Falcon3-1B-Instruct-1.58bit", ids=IDS, tol=NEAR, expect="run",
        layout="model.safetensors; model_type llama, LlamaForCausalLM, quantization_config {quant_method bitnet, "
               "modules_to_not_convert [lm_head]}; packed uint8 + weight_scale; untied lm_head bf16",
        quirk="explicit head_dim key (= hidden/heads as in the real 1B/3B/7B/10B); rope_theta 1000042 (an int in the "
              "JSON); rms_norm_eps 1e-6; GQA 4/2"),
    "Falcon-E-1B-Base": dict(
        upstream="tiiuae/Falcon-E-1B-Base (main)", ids=[1, 7, 23, 42, 5, 60, 11, 63, 17, 9, 50, 2], tol=NEAR, expect="run",
        layout="model.safetensors as onebitllms.quantize_to_1bit writes it: packed uint8 + weight_scale bf16 = "
               "1/mean|W| (inverted: linear_class absent = bitlinear); config gains is_bitnet_config, pretraining_tp and "
               "quantization_config {modules_to_not_convert, quant_method}",
        quirk="inverted scale with no linear_class key; GQA 8/1; rope_theta 1e6. Real Falcon-E shapes (24 layers, 2048, "
              "16/2 heads, vocab 32768) and tie_word_embeddings are from secondary sources: tie false is assumed"),
    "Falcon-E-1B-Base-bfloat16": dict(
        upstream="tiiuae/Falcon-E-1B-Base (revision bfloat16)", ids=[1, 7, 23, 42, 5, 60, 11, 63, 17, 9, 50, 2], tol=1e-4,
        expect="run as float llama, or refuse clearly",
        layout="model.safetensors; plain LlamaForCausalLM config (no quantization_config); BitLinear weights bf16 = codes / s "
               "(onebitllms.convert_to_bf16)",
        quirk="transformers runs it as a float Llama: no activation quantization; the weights are ternary times one scale "
              "per tensor but absmean re-ternarisation would get the scale wrong (mean|W| != 1/s). Expected logits are the "
              "float Llama's. An engine that only runs BitNet must refuse it (not a BitNet config), never ternarise it"),
    "Falcon-E-1B-Base-prequantized": dict(
        upstream="tiiuae/Falcon-E-1B-Base (revision prequantized)", ids=[1, 7, 23, 42, 5, 60, 11, 63, 17, 9, 50, 2], tol=1e-4,
        expect="run as float llama, or refuse clearly",
        layout="model.safetensors; plain LlamaForCausalLM config; bf16 latent weights meant for onebitllms fine-tuning",
        quirk="like -bfloat16: transformers runs a float Llama (onebitllms swaps in BitNetLinear only for training); "
              "expected logits are the float Llama's"),
    "bitnet-r1-autobitlinear-online": dict(
        upstream="codys12/bitnet-r1-llama-8b style (quantization_config use_rms_norm, autobitlinear, online)", ids=IDS,
        tol=NEAR, expect="run",
        layout="model.safetensors; llama + quantization_config {linear_class autobitlinear, quantization_mode online, "
               "use_rms_norm true, rms_norm_eps 1e-5}; bf16 latent weights; <proj>.rms_norm.weight (in_features) for all 7 "
               "projections; untied lm_head",
        quirk="an RMSNorm with its own weight (eps from quantization_config, default 1e-6) inside every BitLinear before the "
              "activation quantization, including o_proj and down_proj; weights ternarised online (absmean)"),
    "bitnet-r1-autobitlinear-offline": dict(
        upstream="autobitlinear offline + use_rms_norm", ids=IDS, tol=NEAR, expect="run",
        layout="as -online but packed uint8 + weight_scale bf16 = mean|W| (multiply)",
        quirk="AutoBitLinear offline: y = linear(ActQuant(x), W) * weight_scale: the scale MULTIPLIES (< 1 here); "
              "dividing gives garbage"),
    "autobitlinear-offline": dict(
        upstream="autobitlinear offline, no rms norm", ids=IDS, tol=NEAR, expect="run",
        layout="as bitnet-r1-autobitlinear-offline without rms_norm tensors or use_rms_norm",
        quirk="the multiply convention alone"),
    "bitlinear-rms-norm": dict(
        upstream="llama + quant_method bitnet with use_rms_norm (linear_class default bitlinear)", ids=IDS, tol=NEAR,
        expect="run",
        layout="model.safetensors; packed uint8 + weight_scale (divides) and <proj>.rms_norm.weight for all 7 projections",
        quirk="transformers' BitLinear applies the use_rms_norm RMSNorm (eps 1e-6 here) too, not only AutoBitLinear"),
    "trap-bitnet-no-rope-theta": dict(
        upstream="microsoft/bitnet-b1.58-2B-4T config without rope_theta", ids=IDS, tol=NEAR, expect="run",
        layout="as bitnet-b1.58-2B-4T (hidden 64)", quirk="rope_theta absent: BitNetConfig default 500000, not 10000"),
    "trap-bitnet-no-kv-heads": dict(
        upstream="model_type bitnet without num_key_value_heads", ids=IDS, tol=NEAR, expect="run",
        layout="as bitnet-b1.58-2B-4T (hidden 80, 10 heads of 8)",
        quirk="num_key_value_heads absent: BitNetConfig default 5 (GQA 10/5), not the head count; k/v_proj have 40 rows"),
    "trap-bitnet-untied-no-key": dict(
        upstream="model_type bitnet with lm_head.weight and no tie_word_embeddings key", ids=IDS, tol=NEAR, expect="run",
        layout="as bitnet-b1.58-2B-4T (hidden 64) plus lm_head.weight",
        quirk="tie_word_embeddings absent: BitNetConfig default False: the head is lm_head.weight"),
    "trap-llama-defaults": dict(
        upstream="llama + bitnet config omitting keys", ids=IDS, tol=NEAR, expect="run",
        layout="as Llama3-8B-1.58 (hidden 64, single file)",
        quirk="absent rms_norm_eps -> 1e-6, rope_theta -> 10000, num_key_value_heads -> num_attention_heads (4), "
              "tie_word_embeddings -> false, hidden_act -> silu, max_position_embeddings -> 2048"),
    "trap-v5-rope-parameters": dict(
        upstream="transformers v5 config.json", ids=IDS, tol=NEAR, expect="run",
        layout="as trap-llama-defaults but with every key present",
        quirk="rope_parameters {rope_theta 250000, rope_type default} and no top-level rope_theta; dtype instead of torch_dtype"),
    "trap-v5-llama3": dict(
        upstream="transformers v5 config.json of Llama3-8B-1.58", ids=IDS, tol=NEAR, expect="run",
        layout="as trap-v5-rope-parameters",
        quirk="rope_parameters holds rope_type llama3 with factor/low/high/original_max_position_embeddings and rope_theta "
              "500000 (head_dim 16: bands hit: kept, smoothed, divided)"),
    "trap-v5-bitnet": dict(
        upstream="transformers v5 config.json of model_type bitnet", ids=IDS, tol=NEAR, expect="run",
        layout="as trap-bitnet-no-rope-theta", quirk="rope_parameters {rope_theta 500000, rope_type default}, dtype key"),
    "trap-head-dim": dict(
        upstream="llama + bitnet with head_dim != hidden/heads", ids=IDS, tol=NEAR, expect="run",
        layout="Falcon3-style config, hidden 64, 4 heads of head_dim 32 (q_proj 128x64, o_proj 64x128), 2 kv heads",
        quirk="transformers honours an explicit head_dim even when it differs from hidden/heads"),
}
