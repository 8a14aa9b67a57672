#!/usr/bin/env bash
# With/without comparisons for the closing notes, through ../shared/bench/peers.sh (gateway only,
# pinned to core 0). Runs each pair interleaved ROUNDS times, because one run on a shared
# machine says little; read the ratios, not the absolute numbers.
#
#   bench/variants.sh observe|jwt|mirror [ROUNDS]
#
# observe: metrics (always on) alone vs metrics + tracing (OTEL_DENO, ratio 1.0, exported to
#          bench/otlp_sink.ts) + access log to a file.
# jwt:     a bearer token set by a `headers` policy, without and with `jwt` verifying it.
# mirror:  fixed offered load (--rate), mirroring off vs to a 2 s shadow vs to a down shadow.
set -euo pipefail
cd "$(dirname "$0")/.."
peers=${PEERS:-../shared/bench/peers.sh}
what=${1:?observe, jwt or mirror}
rounds=${2:-3}
DENO=${DENO:-deno}
base="exec $DENO run --allow-net --allow-read=. --allow-write=/tmp --allow-env mod.ts start --no-watch --config bench/peers.config.ts"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

run() { # label, extra environment for the gateway, peers.sh options...
  local label=$1 env=$2; shift 2
  echo "== $label"
  GATEWAY_CMD="cd $PWD && $env $base" bash "$peers" --only gateway "$@"
}

case $what in
  observe)
    taskset -c 1 "$DENO" run --allow-net bench/otlp_sink.ts 4318 & pids+=($!)
    for _ in $(seq "$rounds"); do
      run "all off (metrics only)" "" --duration 10
      run "metrics + tracing + access log" "OTEL_DENO=true OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 OTEL_TRACES_SAMPLER=always_on FERRY_ACCESS_LOG=/tmp/ferry-bench-access.log" --duration 10
    done
    echo "spans exports received: $(curl -s http://127.0.0.1:4318/)"
    rm -f /tmp/ferry-bench-access.log ;;
  jwt)
    for _ in $(seq "$rounds"); do
      run "header only" "FERRY_BENCH_AUTH=header" --duration 10
      run "header + jwt (RS256)" "FERRY_BENCH_AUTH=jwt" --duration 10
    done ;;
  mirror)
    taskset -c 1 "$DENO" run --allow-net bench/shadow.ts 28200 2000 & pids+=($!)
    for _ in $(seq "$rounds"); do
      run "mirroring off" "" --rate 2000 --duration 10
      run "mirror to a 2 s shadow" "FERRY_BENCH_MIRROR=28200" --rate 2000 --duration 10
      run "mirror to a down shadow" "FERRY_BENCH_MIRROR=28201" --rate 2000 --duration 10
    done ;;
  *) echo "unknown comparison $what" >&2; exit 2 ;;
esac
