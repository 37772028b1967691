#!/usr/bin/env bash
# Runs a main class of the gpu/tools module (benchmarks) on its runtime classpath, compiling it first.
# Usage: tools/run_gpu_main.sh <main class> [args...]; BENCH_HEAP sets -Xmx (default 6g).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CP_FILE="gpu/tools/target/bench.classpath"
mvn -o -B -q -pl gpu/tools -am compile dependency:build-classpath -Dmdep.outputFile="$ROOT/$CP_FILE" \
  -DincludeScope=runtime >/dev/null
MAIN="$1"
shift
exec java --add-modules jdk.incubator.vector -XX:+UseParallelGC -Xmx${BENCH_HEAP:-6g} \
  -cp "gpu/tools/target/classes:$(cat "$CP_FILE")" "$MAIN" "$@"
