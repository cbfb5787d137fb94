#!/usr/bin/env bash
# Managed fleet scale benchmark of issue #6 ("Scale"): N enrolled agents held by one relay on
# this machine, and the same number of TLS clients held by plain_tls_server for comparison.
# Prints a Markdown report to stdout (docs/benchmarks.md keeps the figures); progress to stderr.
#
#   bench/fleet/run.sh [--count N] [--build-dir DIR] [--no-build] [--cpu-seconds S]
#                      [--settle S] [--load-threads T] [--skip-plain] [--skip-relay] [--keep]
#                      [--work DIR]
#                      [--plain-args "ARGS"]
#
#   --count N         devices (default 10000; at most 10000, one token's --uses limit)
#   --build-dir DIR   release build to use or make (default $TETHER_BENCH_BUILD_DIR, else
#                     /work/build-bench6 when /work exists, else build-release)
#   --no-build        use the binaries already in --build-dir
#   --cpu-seconds S   how long the idle CPU of the server is measured while it holds N (60)
#   --settle S        wait after all N are connected before reading RSS (default 10)
#   --load-threads T  threads of fleet_load (default 1)
#   --skip-plain      only the relay
#   --skip-relay      only plain_tls_server (the relay still enrolls the devices)
#   --keep            keep the temporary directory (relay data, logs, JSON lines)
#   --work DIR        work in DIR (kept) instead of a temporary directory; when DIR already
#                     holds a relay data directory and devices.jsonl with N devices from an
#                     earlier run, init and enrollment are skipped. Where DIR is decides where
#                     the relay's SQLite database lives (the default, /tmp, is on the disk)
#   --plain-args A    extra plain_tls_server arguments, e.g. "--raw --release-buffers"
#
# What it does (nothing outside its temp dir is touched; every process it starts is stopped
# by its PID on exit):
#  1. builds the `release` preset with -DTETHER_BUILD_BENCH=ON: tether-relay, fleet_load,
#     plain_tls_server;
#  2. `tether-relay init`, relay.json's max_connections raised to 2N + 100 (the default is
#     10 000, which N agents plus a REST call would hit), one token (`token create --uses N
#     --ttl 2h --json`); `serve` on 127.0.0.1:0; fleet_load enrolls N devices (keys and
#     certificates kept in the temp dir) and exits; the relay is stopped;
#  3. relay: started again on the same port (a fresh process); idle VmRSS after 5 s; fleet_load
#     connects the N devices (first connections spread over N/1000 s); once all are connected
#     and --settle s have passed, VmRSS again → KB per agent; relay CPU (utime + stime from
#     /proc/PID/stat) over --cpu-seconds while holding; then SIGKILL, `serve` again on the same
#     port, SIGUSR1 to fleet_load when it listens ("mark"), and fleet_load reports the time
#     until all N are back and the arrivals per second; one REST check
#     (GET /api/v1/devices?online=1) counts the online devices as the relay sees them;
#  4. plain_tls_server (same server certificate, client certificates verified against the
#     same CA): the same figures with `fleet_load --plain`.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

count=10000
build_dir="${TETHER_BENCH_BUILD_DIR:-}"
build=1
cpu_seconds=60
settle=10
load_threads=1
skip_plain=0
skip_relay=0
keep=0
work=""
plain_args=""
while [ $# -gt 0 ]; do
  case "$1" in
    --count) count="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --cpu-seconds) cpu_seconds="$2"; shift 2 ;;
    --settle) settle="$2"; shift 2 ;;
    --load-threads) load_threads="$2"; shift 2 ;;
    --skip-plain) skip_plain=1; shift ;;
    --skip-relay) skip_relay=1; shift ;;
    --keep) keep=1; shift ;;
    --work) work="$2"; keep=1; shift 2 ;;
    --plain-args) plain_args="$2"; shift 2 ;;
    *) sed -n '2,20p' "$0" >&2; exit 2 ;;
  esac
done
if [ -z "$build_dir" ]; then
  if [ -d /work ]; then build_dir=/work/build-bench6; else build_dir="$repo/build-release"; fi
fi
if [ "$count" -gt 10000 ]; then echo "--count: at most 10000 (one token)" >&2; exit 2; fi

log() { echo "[$(date +%T)] $*" >&2; }

if [ "$build" = 1 ]; then
  log "building the release preset in $build_dir"
  CCACHE_NOHASHDIR=1 cmake --preset release -B "$build_dir" -DTETHER_BUILD_BENCH=ON >/dev/null
  CCACHE_NOHASHDIR=1 cmake --build "$build_dir" -j2 --target tether-relay fleet_load \
    plain_tls_server >/dev/null
fi
relay_bin="$build_dir/relay/tether-relay"
load_bin="$build_dir/bench/fleet/fleet_load"
plain_bin="$build_dir/bench/fleet/plain_tls_server"
for b in "$relay_bin" "$load_bin" "$plain_bin"; do
  [ -x "$b" ] || { echo "missing $b (build it or drop --no-build)" >&2; exit 1; }
done

# N client sockets and N server sockets on one machine: both processes need more descriptors
# than the usual 1024 (root may raise the hard limit too).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((count + 200)) ]; then
  echo "descriptor limit $(ulimit -n) is too low for $count connections" >&2; exit 1
fi

if [ -n "$work" ]; then mkdir -p "$work"; work=$(cd "$work" && pwd); else
  work="$(mktemp -d -t tether-fleet.XXXXXX)"; fi
server_pid="" load_pid=""
stop_pid() {  # PID: SIGTERM, then SIGKILL after 10 s
  local pid=$1
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$load_pid"
  stop_pid "$server_pid"
  if [ "$keep" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# Waits (bounded, S seconds) until FILE has a line matching PATTERN, prints that line.
wait_for() {
  local file=$1 pattern=$2 seconds=$3 pid=${4:-}
  local deadline=$((SECONDS + seconds))
  while [ $SECONDS -lt $deadline ]; do
    if grep -q -- "$pattern" "$file" 2>/dev/null; then grep -m1 -- "$pattern" "$file"; return 0; fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.05
  done
  echo "no '$pattern' in $file within $seconds s" >&2; tail -5 "$file" >&2; return 1
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime (comm has no spaces)
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }  # whole machine
clk_tck=$(getconf CLK_TCK)
now_ms() { date +%s%3N; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
data="$work/relay"
reuse=0
if [ -f "$data/relay.json" ] && [ -f "$work/devices.jsonl" ] &&
  [ "$(wc -l <"$work/devices.jsonl")" -ge "$count" ]; then
  reuse=1
else
  rm -rf "$data" "$work/devices.jsonl"
  head -c 24 /dev/urandom | base64 >"$work/admin-password"
  "$relay_bin" init --data "$data" --admin-password-file "$work/admin-password" >"$work/init.txt"
  token=$("$relay_bin" token create --data "$data" --uses "$count" --ttl 2h --json | jq -r .token)
fi
jq --argjson max $((2 * count + 100)) '.max_connections = $max' "$data/relay.json" \
  >"$work/relay.json" && cp "$work/relay.json" "$data/relay.json"

run_no=0
start_server() {  # KIND LISTEN: starts the relay or plain_tls_server, sets server_pid, address
  local kind=$1 listen=$2
  run_no=$((run_no + 1))
  local out="$work/$kind.$run_no.out"
  rm -f "$out"  # a file left by an earlier run (--work) must not be read as this one's
  if [ "$kind" = relay ]; then
    "$relay_bin" serve --data "$data" --listen "$listen" >"$out" 2>"$work/$kind.$run_no.log" &
  else
    # shellcheck disable=SC2086 # word splitting of --plain-args is intended
    "$plain_bin" $plain_args --listen "$listen" --cert "$data/server.pem" --key "$data/server.key" \
      --ca "$data/ca.pem" >"$out" 2>"$work/$kind.$run_no.log" &
  fi
  server_pid=$!
  address=$(wait_for "$out" "listening on" 30 "$server_pid" | sed 's/^listening on //')
}

start_server relay 127.0.0.1:0
port=${address##*:}
if [ "$reuse" = 1 ]; then
  log "reusing the relay data and $count enrolled devices in $work"
  enroll_line="(reused from an earlier run: $(grep -h '"event":"enrolled"' "$work/enroll.jsonl" || true))"
else
  log "relay: enrolling $count devices"
  "$load_bin" --relay "$address" --ca "$data/ca.pem" --token "$token" -n "$count" \
    --state "$work/devices.jsonl" --enroll-only >"$work/enroll.jsonl" 2>"$work/enroll.log"
  enroll_line=$(grep '"event":"enrolled"' "$work/enroll.jsonl")
  log "enrolled: $enroll_line"
fi
stop_pid "$server_pid"; server_pid=""

# KIND: measures idle RSS, RSS holding N, idle CPU, reconnect-all after SIGKILL; sets r_*.
measure() {
  local kind=$1 load_args
  if [ "$kind" = relay ]; then load_args=(--relay); else load_args=(--plain); fi
  log "$kind: starting on 127.0.0.1:$port"
  start_server "$kind" "127.0.0.1:$port"
  sleep 5
  r_idle=$(rss_kb "$server_pid")
  local events="$work/load.$kind.jsonl"
  rm -f "$events"
  "$load_bin" "${load_args[@]}" "$address" --ca "$data/ca.pem" -n "$count" \
    --state "$work/devices.jsonl" --threads "$load_threads" >"$events" 2>"$work/load.$kind.log" &
  load_pid=$!
  r_first=$(wait_for "$events" '"event":"all_connected"' 600 "$load_pid")
  log "$kind: $r_first"
  sleep "$settle"
  r_held=$(rss_kb "$server_pid")
  r_load_rss=$(rss_kb "$load_pid")
  log "$kind: RSS idle $r_idle KB, holding $count: $r_held KB; idle CPU over $cpu_seconds s"
  local c0 l0 c1 l1
  c0=$(cpu_ticks "$server_pid"); l0=$(cpu_ticks "$load_pid")
  sleep "$cpu_seconds"
  c1=$(cpu_ticks "$server_pid"); l1=$(cpu_ticks "$load_pid")
  r_cpu=$(awk -v t=$((c1 - c0)) -v hz="$clk_tck" -v s="$cpu_seconds" \
    'BEGIN {printf "%.2f", 100 * t / hz / s}')
  r_load_cpu=$(awk -v t=$((l1 - l0)) -v hz="$clk_tck" -v s="$cpu_seconds" \
    'BEGIN {printf "%.2f", 100 * t / hz / s}')
  r_connected_before=$(grep '"event":"status"' "$events" | tail -1 | jq .connected)

  log "$kind: SIGKILL, then serve again on port $port"
  r_kill_ms=$(now_ms)
  l0=$(cpu_ticks "$load_pid")
  local b0
  b0=$(busy_ticks)
  kill -KILL "$server_pid"; wait "$server_pid" 2>/dev/null || true
  start_server "$kind" "127.0.0.1:$port"
  kill -USR1 "$load_pid"
  r_restart_ms=$(( $(now_ms) - r_kill_ms ))
  local line
  line=$(wait_for "$events" '"event":"reconnected"' 600 "$load_pid")
  # CPU seconds the reconnect cost: the new server from its start, fleet_load from the kill,
  # and what everything else on the machine used meanwhile (other people's builds and tests).
  local s_new l_used
  s_new=$(cpu_ticks "$server_pid")
  l_used=$(($(cpu_ticks "$load_pid") - l0))
  r_reconnect_cpu=$(awk -v s="$s_new" -v l="$l_used" -v o=$(($(busy_ticks) - b0 - s_new - l_used)) \
    -v hz="$clk_tck" \
    'BEGIN {printf "server %.1f s, fleet_load %.1f s, other programs %.1f s", s / hz, l / hz, o / hz}')
  r_reconnect="$line"
  log "$kind: $(echo "$line" | jq -c 'del(.per_second)')"
  r_rss_after=$(rss_kb "$server_pid")
  r_online_rest="n/a"
  if [ "$kind" = relay ]; then
    local session
    session=$(curl -sS --cacert "$data/ca.pem" "https://$address/api/v1/login" \
      -H 'content-type: application/json' \
      -d "$(jq -n --arg p "$(cat "$work/admin-password")" '{user: "admin", password: $p}')" \
      | jq -r .token)
    r_online_rest=$(curl -sS --cacert "$data/ca.pem" -H "authorization: Bearer $session" \
      "https://$address/api/v1/devices?online=1" | jq '.devices | length')
    log "relay: GET /api/v1/devices?online=1 lists $r_online_rest online"
  fi
  stop_pid "$load_pid"; load_pid=""
  r_summary=$(grep '"event":"summary"' "$events" | tail -1)
  stop_pid "$server_pid"; server_pid=""
}

row() {  # KIND
  local kb_per
  kb_per=$(awk -v a="$r_idle" -v b="$r_held" -v n="$count" 'BEGIN {printf "%.1f", (b - a) / n}')
  local r=$r_reconnect
  printf '| %s | %s | %s | %s | %s | %s | %.1f | %.1f | %s / %s / %s | %s | %s | %s |\n' \
    "$1" "$((r_idle / 1024))" "$((r_held / 1024))" "$kb_per" "$r_cpu" "$r_restart_ms" \
    "$(echo "$r" | jq '.since_mark_ms / 1000')" "$(echo "$r" | jq '.since_first_drop_ms / 1000')" \
    "$(echo "$r" | jq .per_second_p50)" "$(echo "$r" | jq .per_second_p90)" \
    "$(echo "$r" | jq .per_second_max)" "$(echo "$r" | jq .per_100ms_max)" "$r_reconnect_cpu" \
    "$r_online_rest"
}

if [ "$skip_relay" = 0 ]; then
measure relay
relay_row=$(row "tether-relay (/agent/v1/managed, WebSocket)")
relay_detail=$(printf 'relay: first connect %s\nrelay: reconnect %s\nrelay: fleet_load RSS %s KB, CPU %s %% while held; RSS after the reconnect %s KB; %s\n' \
  "$r_first" "$r_reconnect" "$r_load_rss" "$r_load_cpu" "$r_rss_after" "$r_summary")
fi
if [ "$skip_plain" = 0 ]; then
  measure plain
  plain_row=$(row "plain_tls_server ${plain_args:-(Asio)} (TLS only)")
  plain_detail=$(printf 'plain: first connect %s\nplain: reconnect %s\nplain: fleet_load RSS %s KB, CPU %s %% while held; RSS after the reconnect %s KB; %s\n' \
    "$r_first" "$r_reconnect" "$r_load_rss" "$r_load_cpu" "$r_rss_after" "$r_summary")
fi

echo "## Managed fleet scale: $count devices"
echo
echo "- machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, Linux $(uname -r)"
if git -C "$repo" rev-parse --short HEAD >/dev/null 2>&1; then
  echo "- commit: $(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD -- relay protocol || echo ' (relay/ or protocol/ modified in the tree)')"
else
  echo "- source: $repo (not a git checkout)"
fi
echo "- enrollment: $enroll_line"
echo "- load average before the run: $load_before"
echo "- relay data directory on: $(df -T "$data" | awk 'NR == 2 {print $2 " (" $1 ")"}')"
[ -z "$plain_args" ] || echo "- plain_tls_server arguments: $plain_args"
echo
echo "| server | idle RSS MiB | RSS with N MiB | KB per connection | idle CPU % (1 core) | SIGKILL → listening ms | listening → all N s | SIGKILL → all N s | arrivals/s p50 / p90 / max | max per 100 ms | CPU during the reconnect | online per REST |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
[ "$skip_relay" = 1 ] || echo "$relay_row"
[ "$skip_plain" = 1 ] || echo "$plain_row"
echo
echo '```'
[ "$skip_relay" = 1 ] || echo "$relay_detail"
[ "$skip_plain" = 1 ] || echo "$plain_detail"
echo '```'
