#!/usr/bin/env bash
# Prefill/decode interference end to end (issue 15's aim): a real cluster (Debian's etcd, nats-server -js, 1 frontend
# + 2 CPU workers, each an `arbor node` JVM, each worker pinned to its own core with taskset) serving
# models/tiny-qwen2, once with 2 aggregated workers (--worker-mode both) and once with 1 prefill + 1 decode worker.
# Two `arbor bench` runs at once drive it: long prompts with short outputs, and short prompts with long outputs (the
# decode streams whose inter-token latency prefills disturb). Reported: the decode streams' ITL p50/p99 and both
# runs' throughput, per mode.
#
# Usage: tools/bench_disagg_interference.sh       (results in target/bench-disagg/)
# Env (defaults in brackets): LONG_INPUT [1536], LONG_OUTPUT [4], LONG_CONCURRENCY [2], LONG_PROMPTS [48],
#   LONG_RATE [inf: --request-rate of the long prompts, Poisson arrivals],
#   SHORT_INPUT [32], SHORT_OUTPUT [256], SHORT_CONCURRENCY [4], SHORT_PROMPTS [24], KV_CACHE [64MiB per worker],
#   MIN_PREFILL [256: --disagg-min-prefill-tokens], BASE_PORT [18300], OUT [target/bench-disagg], MODES
#   ["aggregated disaggregated"].
set -euo pipefail
cd "$(dirname "$0")/.."

LONG_INPUT=${LONG_INPUT:-1536}
LONG_OUTPUT=${LONG_OUTPUT:-4}
LONG_CONCURRENCY=${LONG_CONCURRENCY:-2}
LONG_PROMPTS=${LONG_PROMPTS:-48}
LONG_RATE=${LONG_RATE:-inf}
SHORT_INPUT=${SHORT_INPUT:-32}
SHORT_OUTPUT=${SHORT_OUTPUT:-256}
SHORT_CONCURRENCY=${SHORT_CONCURRENCY:-4}
SHORT_PROMPTS=${SHORT_PROMPTS:-24}
KV_CACHE=${KV_CACHE:-64MiB}
MIN_PREFILL=${MIN_PREFILL:-256}
BASE_PORT=${BASE_PORT:-18300}
OUT=${OUT:-target/bench-disagg}
MODES=${MODES:-"aggregated disaggregated"}

ETCD_PORT=$BASE_PORT
ETCD_PEER_PORT=$((BASE_PORT + 1))
NATS_PORT=$((BASE_PORT + 2))
HTTP_PORT=$((BASE_PORT + 10))
MODEL=models/tiny-qwen2
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
source tools/bench_cluster_lib.sh # run from the repository root (cd above)

# /health counts the workers that decode: 2 aggregated, 1 (the decode worker) disaggregated
frontend_sees_workers() { curl -sf "http://127.0.0.1:$HTTP_PORT/health" | grep -q "\"workers\":$1"; }
worker_ready() { curl -sf "http://127.0.0.1:$((BASE_PORT + 20 + $1))/ready"; }

start_cluster() { # start_cluster MODE
  local mode=$1 dir="$OUT/$1"
  rm -rf "$dir" && mkdir -p "$dir"
  start_etcd_nats "$dir"
  local common=(--etcd "http://127.0.0.1:$ETCD_PORT" --nats "nats://127.0.0.1:$NATS_PORT" --cluster-name "disagg-$mode"
                --model "$MODEL" --host 127.0.0.1 --drain-timeout 2s)
  local roles=(both both)
  [ "$mode" = disaggregated ] && roles=(prefill decode)
  local i
  for i in 1 2; do
    ARBOR_JAVA_OPTS="-Xmx512m" taskset -c $((i - 1)) bin/arbor node --roles worker "${common[@]}" \
      --worker-mode "${roles[$((i - 1))]}" --port $((HTTP_PORT + i)) --management-port $((BASE_PORT + 20 + i)) \
      --remoting-port $((BASE_PORT + 40 + i)) --threads 1 --kv-cache-memory "$KV_CACHE" >"$dir/worker$i.log" 2>&1 &
    PIDS+=($!)
  done
  ARBOR_JAVA_OPTS="-Xmx512m" bin/arbor node --roles frontend "${common[@]}" --port "$HTTP_PORT" \
    --management-port $((BASE_PORT + 20)) --remoting-port $((BASE_PORT + 40)) \
    --disagg-min-prefill-tokens "$MIN_PREFILL" >"$dir/frontend.log" 2>&1 &
  PIDS+=($!)
  local decoding=2
  [ "$mode" = disaggregated ] && decoding=1
  wait_for 240 "a frontend seeing $decoding decoding worker(s)" frontend_sees_workers $decoding
  wait_for 60 "worker 1" worker_ready 1
  wait_for 60 "worker 2" worker_ready 2
}

bin/arbor --help >/dev/null # build once, before three nodes start
echo "bench_disagg_interference: long ${LONG_INPUT}->${LONG_OUTPUT} tokens x$LONG_CONCURRENCY, short" \
  "${SHORT_INPUT}->${SHORT_OUTPUT} x$SHORT_CONCURRENCY; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for mode in $MODES; do
  echo "== $mode"
  start_cluster "$mode"
  common=(--url "http://127.0.0.1:$HTTP_PORT" --endpoint completions --dataset random --no-progress --warmup 2)
  bin/arbor bench "${common[@]}" --input-len "$LONG_INPUT" --output-len "$LONG_OUTPUT" \
    --concurrency "$LONG_CONCURRENCY" --num-prompts "$LONG_PROMPTS" --request-rate "$LONG_RATE" --seed 11 --output "$OUT/$mode-long.json" \
    >"$OUT/$mode-long.txt" 2>&1 &
  long=$!
  sleep 2 # the long prompts are flowing when the decode streams start
  bin/arbor bench "${common[@]}" --input-len "$SHORT_INPUT" --output-len "$SHORT_OUTPUT" \
    --concurrency "$SHORT_CONCURRENCY" --num-prompts "$SHORT_PROMPTS" --seed 12 --output "$OUT/$mode-short.json" \
    >"$OUT/$mode-short.txt" 2>&1
  short_done=$(date +%s)
  wait $long
  grep -h "disaggregated\|kv_transfer" "$OUT/$mode-long.txt" "$OUT/$mode-short.txt" | head -4 || true
  echo "load average after $mode: $(cut -d' ' -f1-3 /proc/loadavg)"
  cleanup
done

python3 - "$OUT" $MODES <<'PY'
import json, sys
from datetime import datetime
out, modes = sys.argv[1], sys.argv[2:]

def span(runs):
    """Seconds from the first run's start to the last one's end: the whole mix's makespan."""
    starts = [datetime.fromisoformat(r["started_at"][:26].rstrip("Z")).timestamp() for r in runs]
    return max(s + r["duration_seconds"] for s, r in zip(starts, runs)) - min(starts)

print("| mode | decode streams ITL p50 / p99 ms | decode streams output tok/s | long prompts req/s | long TTFT p50 ms "
      "| whole mix: tokens (in + out) / makespan | failed |")
print("|---|---|---|---|---|---|---|")
rows = {}
for m in modes:
    s = json.load(open(f"{out}/{m}-short.json")); l = json.load(open(f"{out}/{m}-long.json"))
    itl = s["itl_ms"]
    tokens = sum(r["total_input_tokens"] + r["total_output_tokens"] for r in (s, l))
    whole = tokens / span([s, l])
    rows[m] = (itl["p99"], s["output_throughput"], l["request_throughput"], whole)
    print(f"| {m} | {itl['p50']:.2f} / {itl['p99']:.2f} | {s['output_throughput']:.0f} | {l['request_throughput']:.2f} "
          f"| {l['ttft_ms']['p50']:.0f} | {whole:.0f} tok/s over {span([s, l]):.1f} s | {s['failed'] + l['failed']} |")
if "aggregated" in rows and "disaggregated" in rows:
    a, d = rows["aggregated"], rows["disaggregated"]
    print(f"\nITL p99 aggregated / disaggregated: {a[0] / d[0]:.2f}x; decode tok/s {d[1] / a[1] * 100:.0f}%, "
          f"long req/s {d[2] / a[2] * 100:.0f}%, whole mix {d[3] / a[3] * 100:.0f}% of aggregated")
PY
