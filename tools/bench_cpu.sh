#!/usr/bin/env bash
# CPU backend decode benchmark: memory bandwidth, then decode tokens/s at batch 1 and 8 for models/tiny-qwen2 and a
# random-weight Qwen2.5-0.5B-shaped model (generated once into gpu/tools/target/bench-models, ~1 GB, never committed).
# Extra arguments go to ai.arbor.gpu.bench.DecodeBench (e.g. --threads 2 --steps 64 --repeats 3).
exec "$(dirname "${BASH_SOURCE[0]}")/run_gpu_main.sh" ai.arbor.gpu.bench.DecodeBench \
  --tiny models/tiny-qwen2 --qwen05b gpu/tools/target/bench-models/qwen2.5-0.5b-random "$@"
