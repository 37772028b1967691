#!/usr/bin/env bash
# Router index micro-benchmark (JMH): events applied per second and find_matches latency (p50/p99) with
# 64 workers x 100k cached blocks. Usage: tools/bench_router.sh [extra JMH args, e.g. -p workers=16]
# Env: BENCH_HEAP (default 4g), BENCH_QUICK=1 for a short smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
# one reactor invocation, so arbor-gpu-*/arbor-config resolve to their target/classes (nothing is installed in ~/.m2)
mvn -o -q -pl actors -am test-compile dependency:build-classpath -DincludeScope=test -Dmdep.outputFile=target/bench.classpath
CP="actors/target/test-classes:actors/target/classes:$(cat actors/target/bench.classpath)"
if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
  RUN=(-f 1 -wi 1 -w 1s -i 2 -r 1s)
else
  RUN=(-f 1 -wi 3 -w 3s -i 5 -r 5s)
fi
exec java -Xmx"${BENCH_HEAP:-4g}" -cp "$CP" org.openjdk.jmh.Main ai.arbor.actors.router.bench.RadixIndexBench \
  "${RUN[@]}" -jvmArgs "-Xmx${BENCH_HEAP:-4g} -XX:+UseParallelGC" -rf text -rff actors/target/bench-router.txt "$@"
