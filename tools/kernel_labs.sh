#!/usr/bin/env bash
# Builds both kernel labs (tools/gemm_lab.sh, tools/attention_lab.sh) and packs them, xz-compressed, into .dev/labsx/
# with one run.sh: what a device call carries (the device tool's carry limit counts every byte). There:
#   bash .dev/labsx/run.sh [gemm rows, e.g. 16,64,256,1024,2048]   # outputs in $OUT (or .dev/labsx/): gemmlab.txt,
#   attnlab.txt, gemmlab-tma.txt (the TMA kernels' pass: TMA_ROWS, TMA_TIMEOUT)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/gemm_lab.sh
bash tools/attention_lab.sh
out=.dev/labsx
rm -rf "$out" && mkdir -p "$out"
xz -9 -c .dev/gemmlab/gemm_lab > "$out/gemm_lab.xz"
xz -9 -c .dev/attnlab/attention_lab > "$out/attention_lab.xz"
cp .dev/gemmlab/run.sh "$out/gemm_run.sh"
cat > "$out/run.sh" <<'RUN'
#!/usr/bin/env bash
cd "$(dirname "$0")"
res=${OUT:-.}
for f in gemm_lab attention_lab; do [ -x $f ] || { xz -dkc $f.xz > $f && chmod +x $f; }; done
timeout 150 bash gemm_run.sh ${1:-16,64,256,1024,2048} > "$res/gemmlab.txt" 2>&1
grep -E "best|FAIL|PASS: all|HGMMA" "$res/gemmlab.txt" | tail -50
timeout 120 ./attention_lab > "$res/attnlab.txt" 2>&1
tail -52 "$res/attnlab.txt"
# the TMA-fed kernels last, on their own: one that hangs on its mbarriers costs only this pass
GEMM_LAB_TMA=1 timeout ${TMA_TIMEOUT:-60} ./gemm_lab ${TMA_ROWS:-64,2048} > "$res/gemmlab-tma.txt" 2>&1
echo "TMA pass exit $?"; grep -E "tma|FAIL|PASS: all" "$res/gemmlab-tma.txt" | grep -vE "^[0-9]+ +[a-z_]+ +[0-9]+ +[0-9]+  hopper_gemm_(n|m)" | tail -30
RUN
chmod +x "$out/run.sh"
ls -la "$out"
