#!/usr/bin/env bash
# The speed and memory side of the Pareto picture: the same shape with its layer weights in every type bitrepl runs,
# ternary (TQ1_S, TQ1_0, TQ2_0, I2_S: BitLinear, int8 activations) and plain (Q4_0, Q8_0, F16: float activations,
# as llama.cpp runs them), each reporting file size, peak resident memory, pp and tg in one run of interleaved
# rounds (medians, with the range over the rounds).
#
#   bash examples/bench/pareto.sh [ROUNDS] [WORKDIR]
#
# Environment: SHAPE (a `random:` shape, default 2b4t; or SOURCE, a model file to convert from instead), TYPES (default "tq1_s tq1_0 tq2_0 i2_s q4_0 q8_0 f16"),
# EMBED (the embedding/LM head type of every file, default q6_k), P and N (prompt and generated tokens, default 128
# and 64, as llama-bench), THREADS (default 2), MEMORY (bitrepl --memory, default auto).
# LLAMA_BENCH=/path/to/llama-bench adds llama.cpp on the plain files (llama.cpp refuses files without a vocabulary:
# set TOKENIZER to a tokenizer.json, and SHAPE to one of llama.cpp's archs, e.g. 2b4t-bitnet; or SOURCE to a
# file of arch bitnet that has one, such as sidebyside.sh's tq2_0-q6k.gguf).
#
# Files are written once into WORKDIR by `bitrepl convert -m random:SHAPE --format TYPE,EMBED` (random ternary
# weights; the plain types hold the same weights, code × scale, in that type: speed does not depend on the values).
# Each round runs `bitrepl bench -r 1 --json` once per file, and `bitrepl logits` on 8 tokens under /usr/bin/time
# for the peak resident memory of loading and running the file (weights, KV cache, vocabulary, Go runtime; bench
# itself also reads a buffer as large as the weights, up to 1 GiB, to measure the bandwidth, which would hide it). tg is
# also given as the weight bandwidth it reaches (weight bytes per token x tg) against the read bandwidth bench measured
# between its tokens, and as bench's fraction: the median of the per-pair ratios, token by token (tg_bandwidth_fraction).
# Results go to WORKDIR/pareto.tsv (one line per run) and a table on
# stdout.
set -euo pipefail
rounds=${1:-5}
work=${2:-/tmp/bitrepl-pareto}
shape=${SHAPE:-2b4t}
src=${SOURCE:-random:$shape}
[ -n "${SOURCE:-}" ] && shape=$(basename "${SOURCE%.gguf}")
types=${TYPES:-tq1_s tq1_0 tq2_0 i2_s q4_0 q8_0 f16}
embed=${EMBED:-q6_k}
p=${P:-128} n=${N:-64} threads=${THREADS:-2} memory=${MEMORY:-auto}
# llama.cpp's OpenMP threads collapse when they spin on a busy machine (see sidebyside.sh): wait passively.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
cd "$(dirname "$0")/../.."
mkdir -p "$work"
go build -o "$work/bitrepl" ./cmd/bitrepl
br="$work/bitrepl"
tokflag=()
[ -n "${TOKENIZER:-}" ] && tokflag=(--tokenizer "$TOKENIZER")

for t in $types; do
	f="$work/$shape-$t-$embed.gguf"
	[ -f "$f" ] || "$br" convert -m "$src" "${tokflag[@]}" -o "$f" --format "$t,$embed" >&2
done

tsv="$work/pareto.tsv"
printf 'round\tengine\ttype\tfile_bytes\trss_kib\tpp\ttg\tweight_gbs\tread_gbs\ttg_fraction\n' >"$tsv"
for r in $(seq 1 "$rounds"); do
	for t in $types; do
		f="$work/$shape-$t-$embed.gguf"
		size=$(stat -c %s "$f")
		"$br" bench -m "$f" --memory "$memory" -p "$p" -n "$n" -r 1 -t "$threads" --json >"$work/out.json"
		/usr/bin/time -f '%M' -o "$work/rss" "$br" logits -m "$f" --memory "$memory" --ids "1 2 3 4 5 6 7 8" >/dev/null
		python3 - "$work/out.json" "$work/rss" "$r" "$t" "$size" >>"$tsv" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
rss = open(sys.argv[2]).read().split()[-1]
tg = b["gen_tok_per_s"]
print("\t".join([sys.argv[3], "bitrepl", sys.argv[4], sys.argv[5], rss, str(b["prompt_tok_per_s"]), str(tg),
                 str(b["weight_bytes_per_token"] * tg / 1e9), str(b["read_bandwidth_gb_per_s"]), str(b["tg_bandwidth_fraction"])]))
PY
		case "$t" in q4_0 | q8_0 | f16) ;; *) continue ;; esac
		[ -n "${LLAMA_BENCH:-}" ] || continue
		/usr/bin/time -f '%M' -o "$work/rss" "$LLAMA_BENCH" -m "$f" -p "$p" -n "$n" -r 1 -t "$threads" -o json >"$work/out.json" 2>/dev/null
		# (llama-bench's peak RSS: its process holds nothing else of size.)
		python3 - "$work/out.json" "$work/rss" "$r" "$t" "$size" >>"$tsv" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))
rss = open(sys.argv[2]).read().split()[-1]
pp = next(x["avg_ts"] for x in runs if x["n_prompt"] > 0)
tg = next(x["avg_ts"] for x in runs if x["n_gen"] > 0)
print("\t".join([sys.argv[3], "llama.cpp", sys.argv[4], sys.argv[5], rss, str(pp), str(tg), "", "", ""]))
PY
	done
	echo "round $r of $rounds done" >&2
done

python3 - "$tsv" "$shape" "$embed" "$p" "$n" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
shape, embed, p, n = sys.argv[2:6]
print(f"shape {shape}, embedding/head {embed}; medians over {max(int(r['round']) for r in rows)} interleaved rounds (min-max)")
print(f"| engine | layer weights | file MiB | peak RSS MiB | pp{p} tok/s | tg{n} tok/s | tg weight GB/s / read GB/s (paired fraction) |")
print("|---|---|---|---|---|---|---|")
seen = []
for r in rows:
    k = (r["engine"], r["type"])
    if k not in seen:
        seen.append(k)
def cell(v):
    return f"{statistics.median(v):.1f} ({min(v):.1f}-{max(v):.1f})"
for e, t in seen:
    g = [r for r in rows if (r["engine"], r["type"]) == (e, t)]
    mib = int(g[0]["file_bytes"]) / 2**20
    rss = statistics.median(float(r["rss_kib"]) / 1024 for r in g)
    bw = ""
    if g[0]["weight_gbs"]:
        bw = f"{statistics.median(float(r['weight_gbs']) for r in g):.1f} / {statistics.median(float(r['read_gbs']) for r in g):.1f}"
        bw += f" ({100 * statistics.median(float(r['tg_fraction']) for r in g):.0f}%)"
    print(f"| {e} | {t.upper()} | {mib:.1f} | {rss:.0f} | {cell([float(r['pp']) for r in g])} | {cell([float(r['tg']) for r in g])} | {bw} |")
PY
