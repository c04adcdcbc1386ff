#!/usr/bin/env bash
# The prepared GPU run, made by `cargo xtask gpu-bundle` (see xtask/src/gpu/mod.rs).
# From the repository root, on a machine without a Rust toolchain:
#     bash target/gpu-bundle/run.sh [--backends cuda,wgpu] [--deadline 540] [--benches cnn,train,io|none]
# Results (summary.md, logs, benchmark figures) go to $OUT, else target/gpu-out.
set -euo pipefail
bundle=$(cd "$(dirname "$0")" && pwd)
repo=$(pwd)
out=${OUT:-$repo/target/gpu-out}
work=$(mktemp -d "${TMPDIR:-/tmp}/d2l-gpu.XXXXXX")
trap 'rm -rf "$work"' EXIT
# tar + xz where installed, else Python's tarfile (lzma is in its standard library).
if ! { command -v xz >/dev/null && tar -xJf "$bundle/payload.tar.xz" -C "$work"; }; then
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' \
        "$bundle/payload.tar.xz" "$work"
fi
chmod +x "$work/xtask" "$work"/bin/*
"$work/xtask" gpu-run --bundle "$work" --repo "$repo" --out "$out" "$@"
