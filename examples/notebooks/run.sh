#!/usr/bin/env bash
# Runs bitrepl's GoNB notebooks headless and checks what they show, installing
# what they need on a Debian machine first.
#
#   examples/notebooks/run.sh                 execute every notebook into a scratch directory, check the outputs
#   examples/notebooks/run.sh --inplace       the same, writing the outputs back into the committed notebooks
#   examples/notebooks/run.sh --fresh         the same, failing when the committed outputs differ from this run's
#   examples/notebooks/run.sh tour weights    only these notebooks (with or without .ipynb)
#   examples/notebooks/run.sh --setup         only install (Jupyter from Debian, gonb, goimports, the kernel)
#   examples/notebooks/run.sh --open [ARGS]   install, then `jupyter notebook ARGS examples/notebooks` (Debian's
#                                             jupyter-notebook; e.g. --no-browser --ip=0.0.0.0 on a server)
#
# Options: --out DIR (where executed copies go; default a temporary directory, kept on failure),
# --timeout SECONDS (per cell, default 900). $BITREPL_NOTEBOOK_MODEL (a GGUF file or a Hugging Face directory) runs
# the notebooks on another model than the embedded default.
#
# What it installs, at pinned versions: Debian's jupyter-nbconvert, jupyter-client, python3-nbclient and
# jupyter-notebook; github.com/janpfeifer/gonb v0.11.4 and golang.org/x/tools/cmd/goimports v0.52.0 with go; the
# gonb kernel (`gonb --install`). Notebooks run with Debian's python (/usr/bin/python3), whatever python3 is first
# on PATH. A run fails on any cell error (printing the cell's stderr: a failed check panics) and checks every
# executed code cell: as many image/svg+xml outputs as the cell calls figure helpers, as many text/html outputs as
# it calls HTML helpers, one "✓" line per check.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
gonb_version=v0.11.4
goimports_version=v0.52.0
python=/usr/bin/python3
export PYDEVD_DISABLE_FILE_VALIDATION=1 # quiet debugpy's frozen-modules warning (Debian's python 3.11)

mode=run inplace=0 fresh=0 out="" timeout=900
names=() open_args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--inplace) inplace=1 ;;
	--fresh) fresh=1 ;;
	--setup) mode=setup ;;
	--open) mode=open; shift; open_args=("$@"); break ;;
	--out) out="$2"; shift ;;
	--timeout) timeout="$2"; shift ;;
	-h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) names+=("${1%.ipynb}") ;;
	esac
	shift
done

say() { printf '== %s\n' "$*"; }

# --- install ---------------------------------------------------------------

debs=(jupyter-nbconvert jupyter-client python3-nbclient jupyter-notebook)
missing=()
for d in "${debs[@]}"; do
	dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q 'install ok installed' || missing+=("$d")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]} (Debian)"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

command -v go >/dev/null || export PATH="/usr/local/go/bin:$PATH"
gobin="$(go env GOBIN)"
[ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
export PATH="$gobin:$PATH" # the kernel finds goimports (and go) through the PATH of whoever starts Jupyter

# has BINARY MODULE VERSION: the installed binary was built from that module version
has() { [ -x "$gobin/$1" ] && go version -m "$gobin/$1" 2>/dev/null | grep -Eq "^[[:space:]]+mod[[:space:]]+$2[[:space:]]+$3([[:space:]]|$)"; }

if ! has gonb github.com/janpfeifer/gonb "$gonb_version"; then
	say "installing gonb $gonb_version"
	# The module proxy refuses gonb's version list (which `go install pkg@version` asks for): resolve the exact
	# version in a scratch module and install from there.
	scratch="$(mktemp -d)"
	(cd "$scratch" && go mod init scratch >/dev/null 2>&1 &&
		go get "github.com/janpfeifer/gonb@$gonb_version" >/dev/null 2>&1 &&
		go install github.com/janpfeifer/gonb) || { rm -rf "$scratch"; echo "run.sh: cannot install gonb" >&2; exit 1; }
	rm -rf "$scratch"
fi
if ! has goimports golang.org/x/tools "$goimports_version"; then
	say "installing goimports $goimports_version"
	go install "golang.org/x/tools/cmd/goimports@$goimports_version"
fi
kernel="$("$python" -m jupyter --data-dir)/kernels/gonb/kernel.json"
if [ ! -f "$kernel" ] || ! grep -q "\"$gobin/gonb\"" "$kernel"; then
	say "registering the gonb kernel"
	# gopls (completion while editing) is optional: --force_deps installs without it.
	gonb --install --force_deps >/dev/null 2>&1 || { gonb --install --force_deps; exit 1; }
fi

case "$mode" in
setup) say "ready: $("$python" -m jupyter kernelspec list | grep gonb)"; exit 0 ;;
open)
	[ "$(id -u)" != 0 ] || open_args+=(--allow-root) # Jupyter refuses root without it
	cd "$here/../.." && exec "$python" -m jupyter notebook "${open_args[@]}" examples/notebooks ;;
esac

# --- execute ---------------------------------------------------------------

if [ ${#names[@]} -eq 0 ]; then
	for f in "$here"/*.ipynb; do names+=("$(basename "$f" .ipynb)"); done
fi
keep=0
if [ -z "$out" ]; then
	out="$(mktemp -d -t bitrepl-notebooks.XXXXXX)"
else
	mkdir -p "$out"
	keep=1
fi
failed=()
for name in "${names[@]}"; do
	src="$here/$name.ipynb"
	[ -f "$src" ] || { echo "run.sh: no notebook $src" >&2; exit 2; }
	say "executing $name.ipynb"
	start=$SECONDS
	# The kernel logs every step to stderr: keep it for when something fails. Cell errors stay in the executed
	# notebook (--allow-errors), where the check below reports them with the cell's stderr (the panic).
	if "$python" -m jupyter nbconvert --to notebook --execute --allow-errors "$src" --output-dir "$out" \
		--ExecutePreprocessor.timeout="$timeout" --ExecutePreprocessor.record_timing=False \
		>"$out/$name.log" 2>&1; then
		echo "   ran in $((SECONDS - start)) s"
	else
		grep -v '^[IW][0-9]\{4\} ' "$out/$name.log" | tail -n 40 >&2
		echo "run.sh: $name.ipynb failed (log: $out/$name.log)" >&2
		failed+=("$name")
	fi
done

say "checking the outputs"
if ! "$python" - "$here/../../notebook" "$out" "${names[@]}" <<'PY'; then
import glob, json, re, sys

pkg, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
# the notebook package's helpers that return a figure or an HTML fragment, read from its source
figures, fragments = [], []
for path in glob.glob(f"{pkg}/*.go"):
    if path.endswith("_test.go"):
        continue
    go = open(path).read()
    figures += re.findall(r"^func ([A-Z]\w*)\(.*\) \(\*Figure, error\) \{", go, re.M)
    fragments += re.findall(r"^func ([A-Z]\w*)\(.*\) \(?HTML\b", go, re.M)
if not figures or not fragments:
    sys.exit(f"run.sh: no figure or HTML helpers found in {pkg}")
svg = re.compile(r"notebook\.(" + "|".join(figures) + r")\(")
html = re.compile(r"notebook\.(" + "|".join(fragments) + r")\(")
problems = []
for name in names:
    try:
        nb = json.load(open(f"{out}/{name}.ipynb"))
    except FileNotFoundError:
        problems.append(f"{name}: not executed")
        continue
    images = 0
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        outs = cell.get("outputs", [])
        where = f"{name} cell {i}"
        if cell.get("execution_count") is None:
            problems.append(f"{where}: not executed")
        for o in outs:
            if o["output_type"] == "error":
                stderr = "".join("".join(s.get("text", "")) for s in outs if s.get("name") == "stderr")
                tail = "\n    ".join(stderr.strip().splitlines()[-12:])
                problems.append(f"{where}: {o['ename']}: {o['evalue']}\n    {tail}")
        got_svg = sum(1 for o in outs if "image/svg+xml" in o.get("data", {}) or "image/png" in o.get("data", {}))
        got_html = sum(1 for o in outs if "text/html" in o.get("data", {}))
        text = "".join("".join(o.get("text", "")) for o in outs if o["output_type"] == "stream")
        want_svg, want_html = len(svg.findall(src)), len(html.findall(src))
        checks = len(re.findall(r"^\s*(?:notebook\.)?[Cc]heck\(", src, re.M))
        if got_svg != want_svg:
            problems.append(f"{where}: {got_svg} images, the cell draws {want_svg}")
        if got_html != want_html:
            problems.append(f"{where}: {got_html} HTML outputs, the cell renders {want_html}")
        if text.count("✓") != checks:
            problems.append(f"{where}: {text.count('✓')} checks passed of {checks}")
        if any("gonb-err" in "".join(o.get("data", {}).get("text/html", "")) for o in outs):
            problems.append(f"{where}: GoNB reported an error")
        images += got_svg
    if images == 0:
        problems.append(f"{name}: no images")
    print(f"   {name}: {images} images")
for p in problems:
    print("run.sh:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
	failed+=("outputs")
fi

if [ "$fresh" = 1 ]; then
	for name in "${names[@]}"; do
		[ -f "$out/$name.ipynb" ] || continue
		cmp -s "$out/$name.ipynb" "$here/$name.ipynb" || {
			echo "run.sh: the committed outputs of $name.ipynb are stale: refresh them with run.sh --inplace" >&2
			failed+=("$name(stale)")
		}
	done
fi
if [ ${#failed[@]} -gt 0 ]; then
	echo "run.sh: FAILED: ${failed[*]} (executed notebooks in $out)" >&2
	exit 1
fi
if [ "$inplace" = 1 ]; then
	for name in "${names[@]}"; do cp "$out/$name.ipynb" "$here/$name.ipynb"; done
	say "wrote the outputs back to $here"
fi
[ "$keep" = 1 ] || rm -rf "$out"
say "notebooks passed: ${names[*]}"
