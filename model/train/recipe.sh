#!/bin/sh
# recipe.sh [WORKDIR]: the whole recipe of bitrepl's shipped model, from registry packages to
# model/embedded/bitrepl-tiny.gguf: corpus, tokenizer, the ternary model and its full-precision baseline (trained
# side by side, one core each), export, validation table and samples. Run it from anywhere inside the repository.
# Interrupted? Run it again: finished steps are skipped and the training runs resume from their checkpoints.
set -eu
W=${1:-/tmp/bitrepl-train}
STEPS=${STEPS:-1000}
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$W"
cd "$root"
go build -o "$W/bitrepl" ./cmd/bitrepl
sh model/train/corpus/fetch.sh "$W/src"
[ -f "$W/corpus/val.txt" ] || "$W/bitrepl" train corpus -src "$W/src" -out "$W/corpus"
[ -f "$W/corpus/tokenizer.json" ] || "$W/bitrepl" train bpe -data "$W/corpus" -vocab 4096
for run in ternary fp; do
	flag=""
	[ "$run" = fp ] && flag=-full-precision
	if [ ! -f "$W/$run/eval.json" ]; then
		mkdir -p "$W/$run"
		nice "$W/bitrepl" train -data "$W/corpus" -dir "$W/$run" -workers 1 -steps "$STEPS" -warmup 80 $flag >>"$W/$run/train.log" 2>&1 &
	fi
done
wait
tail -n 2 "$W/ternary/train.log" "$W/fp/train.log"
"$W/bitrepl" train export -dir "$W/ternary" -data "$W/corpus" -out model/embedded/bitrepl-tiny.gguf
"$W/bitrepl" train report "$W/ternary" "$W/fp"
"$W/bitrepl" train sample -model model/embedded/bitrepl-tiny.gguf
