#!/usr/bin/env bash
# Two Ferry gateways on the same core at the same time, each under its own wrk: the ratio of the
# requests they serve is the inverse ratio of their CPU cost per request. The scheduler gives
# both the same CPU time, so a noisy machine slows both alike; one-at-a-time runs (peers.sh,
# variants.sh) swing by 20-40% between runs here, this ratio by a few percent (an A/A run reads
# 0.99-1.01).
#
#   bench/side_by_side.sh "ENV_A" "ENV_B" [SECONDS] [ROUNDS]
#
# ENV_A/ENV_B: extra environment for each gateway, e.g. "X=1" (nothing) and
# "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 OTEL_TRACES_SAMPLER=always_on
# FERRY_ACCESS_LOG=/tmp/ferry-side.log". DIR_B=<checkout> runs B from another checkout (old
# against new code). SCRIPT_A/SCRIPT_B=<file.ts> runs that script instead of the gateway (it
# listens on $PROXY_PORT and forwards to $BACKEND_PORT), as the probes in bench/inbound/ do.
# Tracing needs a sink: `deno run --allow-net bench/otlp_sink.ts 4318`.
# Both run bench/peers.config.ts against one nginx backend (1 KiB responses) on core 1, with
# wrk -c32 each on core 1; the gateways are pinned to core 0. Prints one line per round and the
# median ratio B/A.
set -euo pipefail
cd "$(dirname "$0")/.."
env_a=${1:?ENV_A}
env_b=${2:?ENV_B}
seconds=${3:-8}
rounds=${4:-3}
dir_b=${DIR_B:-$PWD}
DENO=${DENO:-deno}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

head -c 1024 /dev/zero | tr '\0' 'x' >"$work/body.txt"
chmod 755 "$work"
chmod 644 "$work/body.txt"
cat >"$work/backend.conf" <<CONF
worker_processes 1; daemon off; pid $work/backend.pid; error_log /dev/null crit;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:28100; location / { root $work; try_files /body.txt =404; } } }
CONF
taskset -c 1 nginx -c "$work/backend.conf" -p "$work" &
pids+=($!)

wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on $1" >&2
  return 1
}

ratios=()
for round in $(seq "$rounds"); do
  gateways=()
  for side in a b; do
    if [ "$side" = a ]; then
      dir=$PWD port=28090 extra=$env_a script=${SCRIPT_A:-}
    else
      dir=$dir_b port=28092 extra=$env_b script=${SCRIPT_B:-}
    fi
    if [ -n "$script" ]; then
      run=(run -A "$script")
    else
      run=(run --allow-net --allow-read=. --allow-write=/tmp --allow-env mod.ts start --no-watch
        --config bench/peers.config.ts)
    fi
    # shellcheck disable=SC2086 # the extra environment is a list of NAME=value words
    (cd "$dir" && exec env BACKEND_PORT=28100 PROXY_PORT=$port $extra taskset -c 0 "$DENO" \
      "${run[@]}" >/dev/null 2>&1) &
    gateways+=($!)
    pids+=($!)
  done
  wait_port 28090
  wait_port 28092
  # Warm-up, then the measured run, both gateways loaded at once.
  taskset -c 1 wrk -t1 -c32 -d2s http://127.0.0.1:28090/ >/dev/null &
  taskset -c 1 wrk -t1 -c32 -d2s http://127.0.0.1:28092/ >/dev/null
  wait "$!" 2>/dev/null || true
  taskset -c 1 wrk -t1 -c32 -d"${seconds}s" http://127.0.0.1:28090/ >"$work/a.txt" &
  wrk_a=$!
  taskset -c 1 wrk -t1 -c32 -d"${seconds}s" http://127.0.0.1:28092/ >"$work/b.txt"
  wait "$wrk_a"
  a=$(awk '/requests in/ {print $1}' "$work/a.txt")
  b=$(awk '/requests in/ {print $1}' "$work/b.txt")
  errors=$(cat "$work/a.txt" "$work/b.txt" | grep -c "Non-2xx\|Socket errors" || true)
  ratio=$(python3 -c "print(round($b / $a, 3))")
  ratios+=("$ratio")
  echo "round $round: A $a requests, B $b requests, B/A $ratio, error lines $errors"
  for p in "${gateways[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
done
python3 -c "import statistics, sys; print('median B/A', statistics.median(float(x) for x in sys.argv[1:]))" "${ratios[@]}"
