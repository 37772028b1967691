#!/usr/bin/env bash
# Structured outputs' cost on the CPU path: engine decode steps with N rows sampled freely vs every row under a regex
# or a JSON schema constraint (ai.arbor.gpu.bench.StructuredStepBench). Extra arguments go to it
# (e.g. --threads 2 --rows 64 --steps 60 --repeats 3).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CP_FILE="gpu/target/bench.classpath"
mvn -o -B -q -pl gpu -am compile dependency:build-classpath -Dmdep.outputFile="$ROOT/$CP_FILE" \
  -Dmdep.includeScope=runtime >/dev/null
exec java --add-modules jdk.incubator.vector -XX:+UseParallelGC -Xmx${BENCH_HEAP:-2g} \
  -cp "gpu/target/classes:$(cat "$CP_FILE")" ai.arbor.gpu.bench.StructuredStepBench --model models/tiny-qwen2 "$@"
