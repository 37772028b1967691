#!/usr/bin/env bash
# The GPU serving benchmark, device half (tools/gpu_serving_bench.sh built the bundle beside this script as run.sh):
# unpacks the bundle, makes a model in Qwen2.5-1.5B's shape with random BF16 weights and the real Qwen tokenizer,
# runs the engine-level benchmark (CudaBenchmark) and the CUDA self-check, then starts `bin/arbor serve --device cuda`
# as the README says and drives it with `arbor bench` at concurrency 1, 16, 64 and 256, greedy and sampled
# (temperature 0.7, top_p 0.9). Results go to $OUT (the device tool's) or ./gpu-results: summary.md first.
# Env: CONCURRENCIES [1 16 64 256], MODES [greedy sampled], ENGINE [1] (0 skips CudaBenchmark), SELFCHECK [1] (0 skips
# the self-check), STRUCTURED [1] (0 skips the constrained-step benchmark, structured.txt), ENGINE_ONLY [0] (1 stops
# before serve), TMA [1] (0 leaves the TMA-fed GEMM out of CudaBenchmark and CudaSelfCheck: when the gemm lab shows it
# failing or hanging),
# DEVICE [cuda] (serve's --device: DEVICE=cuda:0,cuda:1 serves with one worker per GPU, issue 19).
# variant.tar.xz beside this script: an A/B against a second build in the same session (see the end).
# With BUDGETS="2048 8192" (values of --max-num-batched-tokens) it runs only a sweep instead: per value, serve
# restarted with that budget and greedy and sampled runs at concurrency 64 and 256 (budgets.md).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(pwd)
[ "${TMA:-1}" = 0 ] && export ARBOR_JAVA_OPTS="${ARBOR_JAVA_OPTS:-} -Darbor.cuda.tmaChecks=false"
res=${OUT:-$repo/gpu-results}
mkdir -p "$res"
B=/tmp/arbor-gpu
MODEL=/tmp/qwen2.5-1.5b-random
mkdir -p "$B"
tar -xJf "$here/arbor-gpu.tar.xz" -C "$B"
# an optional patch.tar.xz beside the bundle replaces whole lib/ folders (rebuilt modules, without a new bundle)
if [ -f "$here/patch.tar.xz" ]; then
  for d in $(tar -tJf "$here/patch.tar.xz" | grep -oE '^lib/[^/]+' | sort -u); do rm -rf "${B:?}/$d"; done
  tar -xJf "$here/patch.tar.xz" -C "$B"
fi
# bin/arbor finds its jars through cluster/target, as after a build
ls -d "$B"/lib/* | tr '\n' ':' >"$B/cluster/app/target/arbor.classpath"
export PATH="$B/jre/bin:$PATH"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$res/gpu.txt"
date -u +%Y-%m-%dT%H:%MZ >>"$res/gpu.txt"
# the served model (and StructuredStepBench's); CudaBenchmark and CudaSelfCheck make their own weights
if [ "${ENGINE_ONLY:-0}" != 1 ] || [ "${STRUCTURED:-1}" = 1 ] || [ -n "${BUDGETS:-}" ]; then
  python3 "$B/tools/make_random_qwen.py" "$MODEL" "$B/qwen-tokenizer" 2>&1 | tail -1
fi

# `arbor serve --device cuda` with extra flags ($1), up when /v1/models answers; the log in $res/serve.log
start_serve() {
  "$B/bin/arbor" serve --device "${DEVICE:-cuda}" --model "$MODEL" $1 >"$res/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 1 300); do
    if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/v1/models', timeout=2)" 2>/dev/null; then
      grep -E "arbor: batching|engine\(s\) ready" "$res/serve.log"
      return 0
    fi
    kill -0 $server 2>/dev/null || break
    sleep 1
  done
  echo "serve did not come up"; tail -30 "$res/serve.log"; return 1
}

# one `arbor bench` run: mode (greedy or sampled), concurrency, prompts, output file stem
bench_one() {
  local flags
  case $1 in greedy) flags="--temperature 0" ;; *) flags="--temperature 0.7 --top-p 0.9" ;; esac
  timeout 120 "$B/bin/arbor" bench --url http://127.0.0.1:8000 --endpoint completions --dataset random \
    --input-len 128 --output-len 128 --concurrency $2 --num-prompts $3 --tokenizer "$MODEL" $flags --no-progress \
    --output "$4.json" >"$4.txt" 2>&1 || echo "bench $1 c=$2 failed"
  # the server's own view after each run (cumulative): step durations and batch sizes, TTFT, queueing
  python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8000/metrics').read().decode())" \
    2>/dev/null | grep -E "^arbor_(worker_step|worker_batch|frontend_time_to_first|frontend_queued|ttft)" >"$4.metrics" || true
}

if [ -n "${BUDGETS:-}" ]; then
  bench=$res/runs; mkdir -p "$bench" # in $res: what finished comes back even when the call times out
  for t in $BUDGETS; do
    start_serve "--max-num-batched-tokens $t" || exit 1
    bench_one greedy 256 512 "$bench/warm" # graph captures, not reported
    for mode in greedy sampled; do
      bench_one $mode 64 512 "$bench/$t-$mode-c64"
      bench_one $mode 256 1024 "$bench/$t-$mode-c256"
    done
    kill $server; wait $server 2>/dev/null
    grep -E "arbor: batching|engine\(s\) ready" "$res/serve.log" >>"$res/batching.txt"
  done
  tail -100 "$res/serve.log" >"$res/serve-tail.log"; rm "$res/serve.log"
  python3 - "$bench" "$BUDGETS" >"$res/budgets.md" <<'PY'
import json, os, sys
bench, budgets = sys.argv[1], sys.argv[2].split()
print("| max-num-batched-tokens | requests | concurrency | output tok/s | TPOT mean ms | TTFT mean ms | TTFT p99 ms | failed |")
print("|---|---|---|---|---|---|---|---|")
for t in budgets:
    for mode in ("greedy", "sampled"):
        for c in (64, 256):
            f = f"{bench}/{t}-{mode}-c{c}.json"
            if not os.path.exists(f):
                print(f"| {t} | {mode} | {c} | - | - | - | - | run failed |"); continue
            r = json.load(open(f))
            tt, tp = r["ttft_ms"], r["tpot_ms"]
            print(f"| {t} | {mode} | {c} | {r['output_throughput']:.0f} | {tp['mean']:.2f} | {tt['mean']:.1f} | {tt['p99']:.1f} | {r['failed']} |")
PY
  cat "$res/budgets.md"
  exit 0
fi

# engine alone, then the kernels' and the sampler's checks against the host on the repo's tiny models
if [ "${ENGINE:-1}" = 1 ]; then
  ARBOR_MAIN=ai.arbor.gpu.backend.cuda.CudaBenchmark timeout 300 "$B/bin/arbor" 64 1,64 2048 >"$res/engine.txt" 2>&1
  tail -6 "$res/engine.txt"
fi
[ "${SELFCHECK:-1}" = 1 ] && ARBOR_MAIN=ai.arbor.gpu.backend.cuda.CudaSelfCheck timeout 240 "$B/bin/arbor" models/tiny-qwen2 \
  gpu/model/src/test/resources/reference/tiny-qwen2.json models/tiny-llama \
  gpu/model/src/test/resources/reference/tiny-llama.json >"$res/selfcheck.txt" 2>&1
[ "${SELFCHECK:-1}" = 1 ] && grep -E "GPU sampling|PASS|FAIL|tiled prefill|wgmma GEMM from" "$res/selfcheck.txt" | tail -14
# what structured outputs add to a decode step of 64 rows on the device, at the real tokenizer's vocabulary
[ "${STRUCTURED:-1}" = 1 ] && ARBOR_MAIN=ai.arbor.gpu.bench.StructuredStepBench timeout 150 "$B/bin/arbor" --model "$MODEL" \
  --device cuda --rows 64 --steps 60 --repeats 1 >"$res/structured.txt" 2>&1
[ "${STRUCTURED:-1}" = 1 ] && tail -3 "$res/structured.txt"
[ "${ENGINE_ONLY:-0}" = 1 ] && exit 0 # the engine-level parts only: a short device call

# the product, started as the README says (no flags: the CUDA batching defaults)
start_serve "" || exit 1
echo "serve is up"
# what the API promises whatever the weights: structured output, a forced tool call, logprobs, n, seeds (api.txt)
name=$(python3 -c "import json, urllib.request; print(json.load(urllib.request.urlopen('http://127.0.0.1:8000/v1/models'))['data'][0]['id'])")
python3 "$repo/tools/gpu_api_checks.py" http://127.0.0.1:8000 "$name" >"$res/api.txt" 2>&1; cat "$res/api.txt"
bench=$res/runs; mkdir -p "$bench" # in $res: what finished comes back even when the call times out
# warm-up (not reported): decode graphs get captured for the batch sizes the runs pass through
warm_up() {
  for mode in ${MODES:-greedy sampled}; do
    case $mode in greedy) flags="--temperature 0" ;; sampled) flags="--temperature 0.7 --top-p 0.9" ;; esac
    timeout 120 "$B/bin/arbor" bench --url http://127.0.0.1:8000 --endpoint completions --dataset random --input-len 128 \
      --output-len 128 --concurrency 256 --num-prompts 512 --tokenizer "$MODEL" $flags --no-progress >/dev/null 2>&1
  done
}
warm_up
for mode in ${MODES:-greedy sampled}; do
  case $mode in greedy) flags="--temperature 0" ;; sampled) flags="--temperature 0.7 --top-p 0.9" ;; esac
  for c in ${CONCURRENCIES:-1 16 64 256}; do
    case $c in 1) n=32 ;; 16) n=256 ;; 64) n=512 ;; *) n=1024 ;; esac
    bench_one $mode $c $n "$bench/$mode-c$c"
  done
done
kill $server; wait $server 2>/dev/null
grep -E "arbor: batching|engine\(s\) ready" "$res/serve.log" >"$res/batching.txt"
tail -200 "$res/serve.log" >"$res/serve-tail.log"; rm "$res/serve.log"
python3 - "$bench" "$res/engine.txt" ${CONCURRENCIES:-1 16 64 256} >"$res/summary.md" <<'PY'
import glob, json, os, re, sys
bench, engine, concurrencies = sys.argv[1], sys.argv[2], [int(c) for c in sys.argv[3:]]
print("| requests | concurrency | output tok/s | TPOT mean ms | TTFT mean ms | TTFT p99 ms | failed |")
print("|---|---|---|---|---|---|---|")
for mode in ("greedy", "sampled"):
    for c in concurrencies:
        f = f"{bench}/{mode}-c{c}.json"
        if not os.path.exists(f):
            print(f"| {mode} | {c} | - | - | - | - | not run or failed |"); continue
        r = json.load(open(f))
        t, tp = r["ttft_ms"], r["tpot_ms"]
        print(f"| {mode} | {c} | {r['output_throughput']:.0f} | {tp['mean']:.2f} | {t['mean']:.1f} | {t['p99']:.1f} | {r['failed']} |")
print()
for line in (open(engine) if os.path.exists(engine) else []):
    if line.startswith("| decode, batch") or line.startswith("| LLMEngine") or "GPU sampling" in line or line.startswith("device"):
        print(line.rstrip()[:400])
PY
cat "$res/summary.md"

# An A/B of two builds in one device session: variant.tar.xz beside the bundle (lib/ folders, as patch.tar.xz) is
# applied after the runs above and serve is started again for concurrency 1, 64 and 256 (variant.md).
if [ -f "$here/variant.tar.xz" ]; then
  for d in $(tar -tJf "$here/variant.tar.xz" | grep -oE '^lib/[^/]+' | sort -u); do rm -rf "${B:?}/$d"; done
  tar -xJf "$here/variant.tar.xz" -C "$B"
  start_serve "" || exit 1
  warm_up
  for mode in ${MODES:-greedy sampled}; do
    bench_one $mode 1 32 "$bench/variant-$mode-c1"
    bench_one $mode 64 512 "$bench/variant-$mode-c64"
    bench_one $mode 256 1024 "$bench/variant-$mode-c256"
  done
  kill $server; wait $server 2>/dev/null
  tail -100 "$res/serve.log" >"$res/variant-serve-tail.log"; rm "$res/serve.log"
  python3 - "$bench" >"$res/variant.md" <<'PY'
import json, os, sys
bench = sys.argv[1]
print("| build | requests | concurrency | output tok/s | TPOT mean ms | TTFT mean ms | failed |")
print("|---|---|---|---|---|---|---|")
for mode in ("greedy", "sampled"):
    for c in (1, 64, 256):
        for build, stem in (("bundle", f"{mode}-c{c}"), ("variant", f"variant-{mode}-c{c}")):
            f = f"{bench}/{stem}.json"
            if not os.path.exists(f):
                print(f"| {build} | {mode} | {c} | - | - | - | not run or failed |"); continue
            r = json.load(open(f))
            print(f"| {build} | {mode} | {c} | {r['output_throughput']:.0f} | {r['tpot_ms']['mean']:.2f} | {r['ttft_ms']['mean']:.1f} | {r['failed']} |")
PY
  cat "$res/variant.md"
fi
