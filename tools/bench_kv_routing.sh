#!/usr/bin/env bash
# KV-aware routing end to end: a real cluster (Debian's etcd, nats-server -js, 1 frontend + N CPU workers, each an
# `arbor node` JVM) serving models/tiny-qwen2, driven by `arbor bench --dataset shared-prefix`, once per router mode
# on a fresh cluster (fresh etcd, NATS and worker caches), then a comparison: cached-token ratio, the ratio against
# the best possible (every group's prefix computed once), TTFT p50/p99.
#
# Usage: tools/bench_kv_routing.sh            (modes "kv round-robin"; results in target/bench-kv-routing/)
# Env (defaults in brackets): MODES, WORKERS [4], THREADS [1], KV_CACHE [10MiB per worker], NUM_GROUPS [16],
#   PROMPTS_PER_GROUP [8], PREFIX_LEN [512], INPUT_LEN [64], OUTPUT_LEN [16], CONCURRENCY [4], SEED [7],
#   BASE_PORT [18100], OUT [target/bench-kv-routing], WORKER_HEAP [384m], FRONTEND_HEAP [512m],
#   OVERLAP_WEIGHT [unset: arbor.router.overlap-weight's default] for the kv router;
#   START_ONLY=1 starts the first mode's cluster and waits (for poking at it by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

MODES=${MODES:-"kv round-robin"}
WORKERS=${WORKERS:-4}
THREADS=${THREADS:-1}
KV_CACHE=${KV_CACHE:-10MiB}
NUM_GROUPS=${NUM_GROUPS:-16}
PROMPTS_PER_GROUP=${PROMPTS_PER_GROUP:-8}
PREFIX_LEN=${PREFIX_LEN:-512}
INPUT_LEN=${INPUT_LEN:-64}
OUTPUT_LEN=${OUTPUT_LEN:-16}
CONCURRENCY=${CONCURRENCY:-4}
SEED=${SEED:-7}
BASE_PORT=${BASE_PORT:-18100}
OUT=${OUT:-target/bench-kv-routing}
WORKER_HEAP=${WORKER_HEAP:-384m}
FRONTEND_HEAP=${FRONTEND_HEAP:-512m}
OVERLAP_WEIGHT=${OVERLAP_WEIGHT:-}

ETCD_PORT=$BASE_PORT
ETCD_PEER_PORT=$((BASE_PORT + 1))
NATS_PORT=$((BASE_PORT + 2))
HTTP_PORT=$((BASE_PORT + 10))
MODEL=models/tiny-qwen2

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
source tools/bench_cluster_lib.sh # run from the repository root (cd above)

frontend_sees_workers() {
  curl -sf "http://127.0.0.1:$HTTP_PORT/health" | grep -q "\"workers\":$WORKERS"
}

start_cluster() { # start_cluster MODE
  local mode=$1 dir="$OUT/$1"
  rm -rf "$dir" && mkdir -p "$dir"
  start_etcd_nats "$dir"
  local common=(--etcd "http://127.0.0.1:$ETCD_PORT" --nats "nats://127.0.0.1:$NATS_PORT" --cluster-name "bench-$mode"
                --model "$MODEL" --host 127.0.0.1 --drain-timeout 2s)
  local i
  for i in $(seq 1 "$WORKERS"); do
    ARBOR_JAVA_OPTS="-Xmx$WORKER_HEAP" bin/arbor node --roles worker "${common[@]}" --port $((HTTP_PORT + i)) \
      --management-port $((BASE_PORT + 20 + i)) --remoting-port $((BASE_PORT + 40 + i)) \
      --threads "$THREADS" --kv-cache-memory "$KV_CACHE" >"$dir/worker$i.log" 2>&1 &
    PIDS+=($!)
  done
  env ${OVERLAP_WEIGHT:+ARBOR_ROUTER_OVERLAP_WEIGHT=$OVERLAP_WEIGHT} ARBOR_JAVA_OPTS="-Xmx$FRONTEND_HEAP" bin/arbor node --roles frontend "${common[@]}" --port "$HTTP_PORT" \
    --management-port $((BASE_PORT + 20)) --remoting-port $((BASE_PORT + 40)) --router-mode "$mode" >"$dir/frontend.log" 2>&1 &
  PIDS+=($!)
  wait_for 240 "a frontend seeing $WORKERS workers" frontend_sees_workers
}

# Build once up front, so that five nodes do not race to build the project.
bin/arbor --help >/dev/null

echo "bench_kv_routing: $WORKERS workers (--threads $THREADS, --kv-cache-memory $KV_CACHE), overlap weight ${OVERLAP_WEIGHT:-default}, $NUM_GROUPS groups x" \
  "$PROMPTS_PER_GROUP prompts, prefix $PREFIX_LEN + suffix $INPUT_LEN tokens, output $OUTPUT_LEN, concurrency $CONCURRENCY;" \
  "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for mode in $MODES; do
  echo "== mode $mode: starting a fresh cluster"
  start_cluster "$mode"
  if [ "${START_ONLY:-0}" = 1 ]; then
    echo "cluster up: http://127.0.0.1:$HTTP_PORT (logs in $OUT/$mode); Ctrl-C or SIGTERM stops it"
    wait "${PIDS[-1]}"
  fi
  # completions endpoint: the prompt is exactly prefix + suffix (no chat template), so the best possible is exact
  bin/arbor bench --url "http://127.0.0.1:$HTTP_PORT" --endpoint completions --dataset shared-prefix \
    --num-groups "$NUM_GROUPS" --prompts-per-group "$PROMPTS_PER_GROUP" --prefix-len "$PREFIX_LEN" \
    --input-len "$INPUT_LEN" --output-len "$OUTPUT_LEN" --concurrency "$CONCURRENCY" --seed "$SEED" --warmup "$WORKERS" \
    --no-progress --output "$OUT/$mode.json" | tee "$OUT/$mode.txt"
  echo "load average after mode $mode: $(cut -d' ' -f1-3 /proc/loadavg)"
  cleanup
done

python3 "$ROOT/tools/kv_routing_report.py" --groups "$NUM_GROUPS" --prefix-len "$PREFIX_LEN" \
  $(for mode in $MODES; do echo "$mode=$OUT/$mode.json"; done)
