#!/usr/bin/env bash
# Builds the wgmma GEMM lab (gpu/cuda/src/lab/gemm_lab.cu) into .dev/gemmlab/ with a run.sh beside it. Run there on an
# H100 / H200 (the binary is sm_90a machine code with a static CUDA runtime; the device needs no nvcc):
#   bash .dev/gemmlab/run.sh            # rows 16..2048 x the Qwen2.5-1.5B shapes; PASS/FAIL per case
#   bash .dev/gemmlab/run.sh 2048,4096  # other row counts
set -euo pipefail
cd "$(dirname "$0")/.."
out=.dev/gemmlab
mkdir -p "$out"
nvcc -O3 -std=c++17 -gencode arch=compute_90a,code=sm_90a -cudart static -Xptxas -v \
    -o "$out/gemm_lab" gpu/cuda/src/lab/gemm_lab.cu 2> "$out/ptxas.txt"
# per hopper kernel: registers, spills, shared memory (ptxas -v), kept beside the binary
awk "/Compiling entry function/ {f=\$7} /spill stores/ {sp=\$0} /Used/ && f ~ /hopper/ {print f, \$0, sp}" "$out/ptxas.txt" \
    | sed "s/ptxas info    : //; s/  */ /g" > "$out/ptxas_hopper.txt"
cat "$out/ptxas_hopper.txt"
cat > "$out/run.sh" <<'RUN'
#!/usr/bin/env bash
# The lab's check and timing table; plus the SASS proof that the kernels issue HGMMA, where cuobjdump is installed.
cd "$(dirname "$0")"
nvidia-smi --query-gpu=name,clocks.max.sm,power.limit --format=csv,noheader 2>/dev/null || true
dump=$(command -v cuobjdump || ls /usr/local/cuda/bin/cuobjdump 2>/dev/null || true)
if [ -n "$dump" ]; then
    "$dump" -sass gemm_lab > sass.txt 2>/dev/null && awk '/Function :/ {f=$3} /HGMMA/ {c[f]++} END {for (k in c) if (k ~ /hopper/) print "HGMMA in SASS:", k, c[k]}' sass.txt | sort
fi
./gemm_lab "$@"
RUN
chmod +x "$out/run.sh"
echo "built $out/gemm_lab; run: bash $out/run.sh"
