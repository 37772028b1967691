#!/usr/bin/env bash
# A second build of the gpu/cuda module for an A/B in one device session: CudaTuning.defaults() with FROM replaced by
# TO (a piece of its one-line argument list), built from HEAD in a scratch worktree and packed as variant.tar.xz
# beside the bundle; tools/gpu_serving_device.sh serves it after the main runs (variant.md).
# Usage: tools/gpu_variant.sh FROM TO [bundle dir, default .dev/gpuserve]
#   e.g. tools/gpu_variant.sh '2048, true, 32, 0, 0,' '3, true, 32, 0, 256,'   (hopperGemmRows 3, flashPrefillRows 256)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
from=$1 to=$2
out=$(realpath -m "${3:-$root/.dev/gpuserve}")
tree=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$tree" >/dev/null 2>&1 || true; rm -rf "$tree"' EXIT
git -C "$root" worktree add --detach "$tree" HEAD >/dev/null
tuning="$tree/gpu/cuda/src/main/java/ai/arbor/gpu/backend/cuda/CudaTuning.java"
python3 - "$tuning" "$from" "$to" <<'PY'
import sys
path, old, new = sys.argv[1:]
src = open(path).read()
line = next(l for l in src.splitlines() if l.strip().startswith('return new CudaTuning("gemm"'))
if line.count(old) != 1:
    sys.exit(f"'{old}' is not once in the defaults: {line.strip()}")
open(path, "w").write(src.replace(line, line.replace(old, new)))
print("variant defaults:", line.replace(old, new).strip())
PY
(cd "$tree" && mvn -o -q -B -pl gpu/cuda -am package -DskipTests)
jar=$(ls "$tree"/gpu/cuda/target/arbor-gpu-cuda-*.jar | grep -v -e sources -e tests | head -1)
name=$(basename "$jar" .jar)
pack=$(mktemp -d)
mkdir -p "$pack/lib/$name"
(cd "$pack/lib/$name" && unzip -q "$jar" && rm -f cuda/*.sm80.ptx) # the device is a Hopper: its PTX only
tar -C "$pack" -cf - lib | xz -9 >"$out/variant.tar.xz"
rm -rf "$pack"
ls -la "$out/variant.tar.xz"
