#!/usr/bin/env bash
# Structured outputs' cost on the CPU path (tools/gpu_serving_device.sh runs the same with --device cuda): engine decode steps with N rows sampled freely vs every row under a regex
# or a JSON schema constraint (ai.arbor.gpu.bench.StructuredStepBench). Extra arguments go to it
# (e.g. --threads 2 --rows 64 --steps 60 --repeats 3).
exec "$(dirname "${BASH_SOURCE[0]}")/run_gpu_main.sh" ai.arbor.gpu.bench.StructuredStepBench --model models/tiny-qwen2 "$@"
