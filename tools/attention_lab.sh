#!/usr/bin/env bash
# Builds the attention lab (gpu/cuda/src/lab/attention_lab.cu: the tiled prefill attention against an fp32 reference
# and the per-token kernel) into .dev/attnlab/ with a run.sh beside it. Run there on an H100 / H200 (sm_90 machine
# code, static CUDA runtime; the device needs no nvcc): bash .dev/attnlab/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=.dev/attnlab
mkdir -p "$out"
nvcc -O3 -std=c++17 -arch=sm_90 -cudart static -Xptxas -v -o "$out/attention_lab" gpu/cuda/src/lab/attention_lab.cu \
    2> "$out/ptxas.txt"
grep -A2 "attention_prefill" "$out/ptxas.txt" | grep -E "Compiling|Used" | sed "s/ptxas info    : //" | paste - - || true
cat > "$out/run.sh" <<'RUN'
#!/usr/bin/env bash
cd "$(dirname "$0")"
nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null || true
./attention_lab "$@"
RUN
chmod +x "$out/run.sh"
echo "built $out/attention_lab; run: bash $out/run.sh"
