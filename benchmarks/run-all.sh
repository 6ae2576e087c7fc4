#!/bin/sh
# Run every hvd benchmark suite and keep the JSON next to this script:
#   benchmarks/run-all.sh [--quick]
# Uses the repository's venv when there is one. Guest images: $HVD_IMAGES or the default cache
# (hvd images fetch).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
py="$repo/.venv/bin/python"
[ -x "$py" ] || py=python3
mkdir -p "$here/results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$here/results/bench-$stamp.json"
cd "$repo"
"$py" -m hvd bench all --json "$out" "$@"
ln -sf "$(basename "$out")" "$here/results/latest.json"
echo "JSON: $out"
