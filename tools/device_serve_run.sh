#!/bin/sh
# On the GPU machine (the device tool, with .bundle carried): unpacks .bundle/serve.tar.xz (tools/device_serve_bundle.sh)
# and runs the serving-path overhead benchmark on the machine's CPUs, e.g.
#   tools/device_serve_run.sh 64 15 16              all cores
#   taskset -c 0,1 tools/device_serve_run.sh 64 15 16   two cores
# DJL would fetch a CUDA build of its tokenizer library where it sees a GPU: RUST_FLAVOR=cpu keeps the bundled one.
set -e
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${ARBOR_BUNDLE_DIR:-/tmp/arbor-serve}
if [ ! -x "$dir/jre/bin/java" ]; then
  mkdir -p "$dir"
  tar -xJf "$here/.bundle/serve.tar.xz" -C "$dir" 2>/dev/null \
    || python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" "$here/.bundle/serve.tar.xz" "$dir"
fi
cp=$(ls -d "$dir"/lib/* | tr '\n' ':')
cd "$here"
exec "$dir/jre/bin/java" --add-modules jdk.incubator.vector -XX:+UseParallelGC -Xmx2g -DRUST_FLAVOR=cpu \
  -Dai.djl.offline=true -Darbor.home="$here" -cp "$cp" ai.arbor.cluster.serve.overhead.OverheadBenchmark "$@"
