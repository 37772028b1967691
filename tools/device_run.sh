#!/bin/sh
# On the GPU machine (the device tool, with .bundle carried): runs a main class from the bundle that
# tools/device_bundle.sh built, e.g. ai.arbor.gpu.tools.GpuTools (gpu-tools help lists its subcommands) or a tool by
# its class name:
#   tools/device_run.sh ai.arbor.gpu.backend.cuda.CudaSelfCheck models/tiny-qwen2 gpu/model/src/test/resources/reference/tiny-qwen2.json
#   tools/device_run.sh ai.arbor.gpu.backend.cuda.CudaBenchmark 64 1,8,32,64 2048
here=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$here/.bundle/run.sh" ] || { echo "no .bundle: run tools/device_bundle.sh first and carry .bundle" >&2; exit 1; }
exec "$here/.bundle/run.sh" "$@"
