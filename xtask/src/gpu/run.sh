#!/usr/bin/env bash
# The prepared GPU run, made by `cargo xtask gpu-bundle` (see xtask/src/gpu/mod.rs).
# From the repository root, on a machine without a Rust toolchain, with one or both payloads
# (tests.tar.xz, benches.tar.xz) beside this script:
#     bash target/gpu-bundle/run.sh [--backends cuda,wgpu] [--deadline 270] [--benches cnn,train,io|none]
# Results (summary.md, logs, benchmark figures) go to $OUT, else target/gpu-out.
set -euo pipefail
shopt -s nullglob
bundle=$(cd "$(dirname "$0")" && pwd)
repo=$(pwd)
out=${OUT:-$repo/target/gpu-out}
payloads=("$bundle"/*.tar.xz)
if [ ${#payloads[@]} -eq 0 ]; then
    echo "run.sh: no payload beside me: carry $bundle/tests.tar.xz or benches.tar.xz" >&2
    exit 2
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/d2l-gpu.XXXXXX")
trap 'rm -rf "$work"' EXIT
for payload in "${payloads[@]}"; do
    # tar + xz where installed, else Python's tarfile (lzma is in its standard library).
    if ! { command -v xz >/dev/null && tar -xJf "$payload" -C "$work"; }; then
        python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' \
            "$payload" "$work"
    fi
done
chmod +x "$work/xtask" "$work"/bin/*
"$work/xtask" gpu-run --bundle "$work" --repo "$repo" --out "$out" "$@"
