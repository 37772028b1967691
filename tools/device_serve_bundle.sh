#!/usr/bin/env bash
# Builds what the serving-path overhead benchmark needs on the GPU machine's CPUs (no Java there) into
# .bundle/serve.tar.xz, small enough to travel with the device tool (64 MiB with the working tree): a jlinked Java 17
# and the jars the benchmark loads (found with -Xlog:class+load), each unpacked into its own folder so that xz
# compresses the classes as one stream. Then on the GPU machine: tools/device_serve_run.sh [benchmark args].
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
ARBOR_MODULE=cluster/overhead bin/arbor --version >/dev/null 2>&1 || true # builds cluster/overhead/target and its classpath file when stale
cp_file=cluster/overhead/target/arbor.classpath
[ -f "$cp_file" ] || { echo "no $cp_file: bin/arbor did not build" >&2; exit 1; }
# the jars a run of the benchmark loads classes from, and a few whose reference.conf the configuration reads
keep=" api arbor-actors arbor-cluster-app arbor-cluster-bench arbor-cluster-overhead arbor-config arbor-gpu-protocol
  arbor-gpu-model arbor-gpu-engine arbor-gpu-cuda arbor-http commons-lang3 config guava hash4j
  immutables-exceptions jackson-annotations jackson-core jackson-databind jackson-dataformat-cbor jackson-dataformat-yaml
  jackson-datatype-jdk8 jackson-datatype-jsr310 jackson-module-parameter-names jackson-module-scala_2.13 jinjava jna
  jnats kamon-core_2.13 kamon-prometheus_2.13 logback-classic logback-core parboiled_2.13 pekko-actor-typed_2.13
  pekko-actor_2.13 pekko-cluster-sharding_2.13 pekko-cluster-tools_2.13 pekko-cluster-typed_2.13 pekko-cluster_2.13
  pekko-coordination_2.13 pekko-discovery_2.13 pekko-distributed-data_2.13 pekko-http-core_2.13 pekko-http_2.13
  pekko-management-cluster-bootstrap_2.13 pekko-management-cluster-http_2.13 pekko-management_2.13
  pekko-persistence_2.13 pekko-pki_2.13 pekko-protobuf-v3_2.13 pekko-remote_2.13 pekko-serialization-jackson_2.13
  pekko-slf4j_2.13 pekko-stream_2.13 pekko-testkit_2.13 protobuf-java re2j reactive-streams scala-library slf4j-api
  ssl-config-core_2.13 tokenizers "
keep=" $(echo $keep) "
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lib"
for jar in $(tr ':' '\n' <"$cp_file") cluster/overhead/target/arbor-cluster-overhead-*.jar; do
  jar=$(realpath "$jar")
  name=$(basename "$jar" .jar)
  stem=$(echo "$name" | sed -E 's/-[0-9][^-]*(-SNAPSHOT)?(-jre|-GA)?$//')
  case "$keep" in *" $stem "*) ;; *) continue ;; esac
  mkdir -p "$work/lib/$name"
  (cd "$work/lib/$name" && unzip -q "$jar")
done
# DJL's tokenizers jar carries natives for every platform: the GPU machine needs Linux x86-64's only
find "$work/lib" -path '*/native/lib/*' -mindepth 1 -maxdepth 6 -type d \
  \( -name 'win-*' -o -name 'osx-*' -o -name 'linux-aarch64' \) -prune -exec rm -rf {} +
jlink --add-modules java.base,java.logging,java.management,jdk.management,jdk.unsupported,jdk.incubator.vector,java.naming,java.xml,java.desktop,java.sql,java.net.http \
  --compress=0 --strip-debug --no-header-files --no-man-pages --output "$work/jre" 2>/dev/null
mkdir -p .bundle
(cd "$work" && tar -cf - jre lib) | xz -6 -T2 >.bundle/serve.tar.xz
ls -la .bundle/serve.tar.xz
