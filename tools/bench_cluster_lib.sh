# Shared by the tools/bench_*.sh scripts that start a real cluster: sourced, not run. The caller sets OUT (a logs
# folder), ETCD_PORT, ETCD_PEER_PORT and NATS_PORT; processes it starts go in PIDS, etcd and NATS first.
PIDS=()

stop() { # stop PID...: SIGTERM (nodes leave the cluster), SIGKILL what is left after 20 s
  local pid
  for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for _ in $(seq 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

cleanup() {
  # nodes first (started last), then NATS and etcd, which they talk to while leaving
  local n=${#PIDS[@]}
  if [ "$n" -gt 2 ]; then stop "${PIDS[@]:2}"; fi
  if [ "$n" -gt 0 ]; then stop "${PIDS[@]:0:2}"; fi
  PIDS=()
}
trap cleanup EXIT INT TERM

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2
  shift 2
  for _ in $(seq $((limit * 4))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  echo "$(basename "$0" .sh): $what not ready after ${limit}s; logs in $OUT" >&2
  exit 1
}

start_etcd_nats() { # start_etcd_nats DIR: a fresh etcd and nats-server -js with their data and logs in DIR
  local dir=$1
  etcd --name bench --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "bench=http://127.0.0.1:$ETCD_PEER_PORT" >"$dir/etcd.log" 2>&1 &
  PIDS+=($!)
  nats-server -js -sd "$dir/nats" -a 127.0.0.1 -p "$NATS_PORT" >"$dir/nats.log" 2>&1 &
  PIDS+=($!)
  wait_for 30 etcd curl -sf "http://127.0.0.1:$ETCD_PORT/health"
  wait_for 30 nats bash -c "exec 3<>/dev/tcp/127.0.0.1/$NATS_PORT"
}
