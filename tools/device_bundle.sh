#!/usr/bin/env bash
# Builds what a GPU run needs into an ignored folder (default .bundle/ at the repository root) small enough to travel
# with the device tool (64 MiB with the working tree): a jlinked Java 17, the gpu/* jars (gpu/cuda's with its PTX
# kernels, gpu/tools' with the self-check and benchmarks), and only the runtime jars the engine needs (no DJL
# tokenizers, no Pekko; JCuda natives trimmed to the driver library).
# Then on the GPU machine: tools/device_run.sh <main class> [args]  (or .bundle/run.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$root/.bundle}")
cd "$root"
command -v nvcc >/dev/null || { echo "nvcc is not on PATH: the kernels cannot be compiled" >&2; exit 1; }
# one reactor invocation: the last module built (gpu/tools) writes the classpath file, with its sibling modules' jars
mvn -o -q -pl gpu/tools -am package -DskipTests \
  dependency:build-classpath -Dmdep.outputFile=/tmp/arbor-gpu-cp.txt -DincludeScope=runtime >/dev/null
jars=$(ls gpu/{protocol,model,engine,cuda,tools}/target/arbor-gpu-*.jar | grep -v -e sources -e tests)
cuda_jar=$(ls gpu/cuda/target/arbor-gpu-cuda-*.jar | grep -v -e sources -e tests | head -1)
unzip -l "$cuda_jar" | grep -q 'cuda/matmul.sm90.ptx' || { echo "$cuda_jar has no PTX kernels" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out/lib"
jlink --add-modules java.base,java.logging,jdk.unsupported,java.management,jdk.incubator.vector \
  --compress=2 --strip-debug --no-header-files --no-man-pages --output "$out/jre"
cp $jars "$out/lib/"
tr ':' '\n' </tmp/arbor-gpu-cp.txt | while read -r dep; do
  case "$(basename "$dep")" in
    jackson-core-*|jackson-databind-*|jackson-annotations-*|jcuda-12*|slf4j-api-*|hash4j-*|picocli-*) cp "$dep" "$out/lib/" ;;
    jcuda-natives-*linux-x86_64.jar)
      tmp=$(mktemp -d)
      (cd "$tmp" && unzip -q "$dep" 'lib/libJCudaDriver-*' 'lib/libJCudaRuntime-*' && jar cf "$out/lib/jcuda-natives-driver.jar" lib)
      rm -rf "$tmp" ;;
  esac
done
cat >"$out/run.sh" <<'RUN'
#!/bin/sh
# Runs a main class with the bundled JRE and jars: run.sh <main class> [args]
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/jre/bin/java" --add-modules jdk.incubator.vector -XX:+UseParallelGC -Xmx"${ARBOR_XMX:-8g}" \
  -cp "$here/lib/*" "$@"
RUN
chmod +x "$out/run.sh"
du -sh "$out"; ls "$out/lib"
