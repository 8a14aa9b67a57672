#!/usr/bin/env bash
# With/without comparisons for the closing notes, through ../shared/bench/peers.sh (gateway only,
# pinned to core 0). Runs the variants interleaved ROUNDS times, in rotating order, because one
# run on a shared machine says little; read the median ratios, not the absolute numbers.
#
#   bench/variants.sh observe|jwt|mirror [ROUNDS]
#
# observe: metrics (always on) alone vs metrics + tracing (ratio 1.0, exported to
#          bench/otlp_sink.ts, through Ferry's own exporter, then through Deno's) + access log
#          to a file. After each run, the spans the sink received.
# jwt:     a bearer token set by a `headers` policy, without and with `jwt` verifying it.
# mirror:  fixed offered load (RATE, default 2000 req/s, for DURATION s, default 10): mirroring
#          off, off again (an A/A control for the p99 noise), to a 2 s shadow, to a down shadow.
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

run() { # label, extra environment for the gateway, peers.sh options... -> prints the gateway row
  local label=$1 env=$2; shift 2
  echo "== $label" >&2
  local row
  row=$(GATEWAY_CMD="cd $PWD && $env $base" bash "$peers" --only gateway "$@" | grep '^| gateway')
  # Not `tee /dev/stderr`: when stderr is a file, tee would reopen (and truncate) it.
  echo "$row" >&2
  echo "$row"
}

# compare ROUNDS "label|env" ... -- peers.sh options: each round runs every variant, in an order
# rotated from round to round (ABBA for two), so a drift of the machine during a round does not
# always hurt the same variant. Ends with each round's req/s and p99 ratios to the first variant,
# and their medians.
compare() {
  local n=$1; shift
  local variants=()
  while [[ $1 != -- ]]; do variants+=("$1"); shift; done
  shift
  local k=${#variants[@]} r i j
  declare -A rps p99
  for ((r = 0; r < n; r++)); do
    for ((j = 0; j < k; j++)); do
      if ((k == 2 && r % 2 == 1)); then i=$((k - 1 - j)); else i=$(((j + r) % k)); fi
      local row; row=$(run "${variants[i]%%|*}" "${variants[i]#*|}" "$@")
      if [[ -n ${AFTER_RUN:-} ]]; then eval "$AFTER_RUN" >&2; fi
      rps[$r,$i]=$(awk -F'|' '{gsub(/ /, "", $3); print $3}' <<<"$row")
      p99[$r,$i]=$(awk -F'|' '{gsub(/ /, "", $5); print $5}' <<<"$row")
    done
  done
  echo
  for ((i = 1; i < k; i++)); do
    echo "${variants[i]%%|*} vs ${variants[0]%%|*}:"
    local rr=() pr=()
    for ((r = 0; r < n; r++)); do
      rr+=("$(awk -v a="${rps[$r,$i]}" -v b="${rps[$r,0]}" 'BEGIN { printf "%.2f", a / b }')")
      pr+=("$(awk -v a="${p99[$r,$i]}" -v b="${p99[$r,0]}" 'BEGIN { printf "%.2f", a / b }')")
      echo "  round $((r + 1)): req/s ${rps[$r,0]} -> ${rps[$r,$i]} (${rr[-1]}), p99 ms ${p99[$r,0]} -> ${p99[$r,$i]} (${pr[-1]})"
    done
    echo "  median ratio: req/s $(median "${rr[@]}"), p99 $(median "${pr[@]}")"
  done
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

case $what in
  observe)
    taskset -c 1 "$DENO" run --allow-net bench/otlp_sink.ts 4318 & pids+=($!)
    otlp="OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 OTEL_TRACES_SAMPLER=always_on"
    log="FERRY_ACCESS_LOG=/tmp/ferry-bench-access.log"
    # After each run: what the sink received (DELETE resets it), then the log is emptied.
    AFTER_RUN='echo "   sink: $(curl -s -X DELETE http://127.0.0.1:4318/)"; rm -f /tmp/ferry-bench-access.log' \
      compare "$rounds" "all off (metrics only)|" \
      "metrics + tracing (Ferry's exporter) + access log|$otlp $log" \
      "metrics + tracing (Deno's exporter, OTEL_DENO) + access log|OTEL_DENO=true $otlp $log" \
      -- --duration 10
    rm -f /tmp/ferry-bench-access.log ;;
  jwt)
    compare "$rounds" "header only|FERRY_BENCH_AUTH=header" "header + jwt (RS256)|FERRY_BENCH_AUTH=jwt" \
      -- --duration 10 ;;
  mirror)
    taskset -c 1 "$DENO" run --allow-net bench/shadow.ts 28200 2000 & pids+=($!)
    # "mirroring off again" is an A/A control: how far p99 moves between two identical runs.
    compare "$rounds" "mirroring off|" "mirroring off again|" \
      "mirror to a 2 s shadow|FERRY_BENCH_MIRROR=28200" \
      "mirror to a down shadow|FERRY_BENCH_MIRROR=28201" \
      -- --rate "${RATE:-2000}" --duration "${DURATION:-10}" ;;
  *) echo "unknown comparison $what" >&2; exit 2 ;;
esac
