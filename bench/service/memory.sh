#!/usr/bin/env bash
# Does `tether-agent service` stay small over time? One enrolled service against a real relay
# that is SIGKILLed and restarted again and again, with offline stretches in between; the
# service's resident memory (VmRSS) after each reconnect. Prints a Markdown table to stdout
# (docs/benchmarks.md keeps the figures); progress to stderr.
#
#   bench/service/memory.sh [--cycles N] [--offline S] [--long-offline S] [--build-dir DIR]
#
#   --cycles N        relay kills and restarts (default 30)
#   --offline S       seconds the relay stays down each time (default 2)
#   --long-offline S  one longer outage in the middle (default 60)
#   --build-dir DIR   a configured build with tether-relay and tether-agent (default build/)
#
# Everything runs in a temporary directory on 127.0.0.1; every process started is stopped on
# exit.
set -euo pipefail
cd "$(dirname "$0")/../.."

cycles=30
offline=2
long_offline=60
build_dir=build
while [ $# -gt 0 ]; do
  case "$1" in
    --cycles) cycles=$2; shift 2 ;;
    --offline) offline=$2; shift 2 ;;
    --long-offline) long_offline=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
relay_bin="$build_dir/relay/tether-relay"
agent_bin="$build_dir/agent/tether-agent"
cmake --build "$build_dir" --target tether-relay tether-agent >&2

work=$(mktemp -d /tmp/tether-service-memory.XXXXXX)
relay_pid=""
service_pid=""
cleanup() {
  [ -n "$service_pid" ] && kill "$service_pid" 2>/dev/null || true
  [ -n "$relay_pid" ] && kill -9 "$relay_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
wait_for() {  # FILE TEXT COUNT: until FILE holds COUNT lines with TEXT (60 s at most)
  for _ in $(seq 600); do
    [ "$(grep -c -- "$2" "$1" 2>/dev/null || true)" -ge "$3" ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for '$2' x$3 in $1" >&2
  exit 1
}
start_relay() {  # LISTEN
  "$relay_bin" serve --data "$work/relay" --listen "$1" >"$work/relay.out" 2>>"$work/relay.err" &
  relay_pid=$!
  wait_for "$work/relay.out" "listening on" 1
}

head -c 24 /dev/urandom | base64 >"$work/admin-password"
"$relay_bin" init --data "$work/relay" --admin-password-file "$work/admin-password" >"$work/init.txt"
fingerprint=$(sed -n 's/^fingerprint: //p' "$work/init.txt")
start_relay 127.0.0.1:0
address=$(sed -n 's/^listening on //p' "$work/relay.out")
token=$("$relay_bin" token create --data "$work/relay" --json | sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')
"$agent_bin" enroll --relay "wss://$address" --fingerprint "$fingerprint" --token "$token" \
  --state-dir "$work/state" >&2

"$agent_bin" service --state-dir "$work/state" --max-retry-delay-ms 1000 >"$work/service.log" 2>&1 &
service_pid=$!
wait_for "$work/service.log" "connected to relay" 1
wait_for "$work/service.log" "inventory: sent" 1
sleep 2
first=$(rss_kb "$service_pid")
echo "| reconnect | offline (s) | service VmRSS (KiB) |"
echo "|---:|---:|---:|"
echo "| 0 (first connection and inventory) | – | $first |"
max=$first
for cycle in $(seq "$cycles"); do
  down=$offline
  [ "$cycle" -eq $((cycles / 2)) ] && down=$long_offline
  kill -9 "$relay_pid"
  wait "$relay_pid" 2>/dev/null || true
  sleep "$down"
  start_relay "$address"
  wait_for "$work/service.log" "connected to relay" $((cycle + 1))
  wait_for "$work/service.log" "inventory: sent" $((cycle + 1))
  sleep 1
  rss=$(rss_kb "$service_pid")
  [ "$rss" -gt "$max" ] && max=$rss
  echo "| $cycle | $down | $rss |"
  echo "cycle $cycle: ${rss} KiB" >&2
done
echo
echo "First: $first KiB; largest: $max KiB; last: $rss KiB after $cycles relay kills" \
  "(one outage of ${long_offline} s)."
