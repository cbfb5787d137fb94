#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build, and run the main job end to end on
# the embedded default — a relay on loopback with SQLite and its own CA, an attended agent,
# a ticket, a linked session, the diagnostics report — then stop everything it started.
# Exits 0 only if every step worked.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh >/dev/null

bin="$PWD/build"
work="$(mktemp -d -t tether-demo.XXXXXX)"
relay_pid="" agent_pid=""
cleanup() {
  [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null || true
  [ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null && wait "$relay_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# Waits (bounded) until FILE has a line matching PATTERN, then prints that line.
wait_for() {
  local file=$1 pattern=$2
  for _ in $(seq 1 200); do
    if grep -q "$pattern" "$file" 2>/dev/null; then grep -m1 "$pattern" "$file"; return 0; fi
    sleep 0.1
  done
  echo "timed out waiting for '$pattern' in $file" >&2; cat "$file" >&2; return 1
}

step "tether-relay init: data directory, SQLite database, CA and server certificate, admin"
head -c 24 /dev/urandom | base64 > "$work/admin-password"
"$bin/relay/tether-relay" init --data "$work/relay" --admin-password-file "$work/admin-password" \
  | tee "$work/init.txt"
fingerprint=$(sed -n 's/^fingerprint: //p' "$work/init.txt")

step "tether-relay serve on 127.0.0.1 (a free port)"
"$bin/relay/tether-relay" serve --data "$work/relay" --listen 127.0.0.1:0 \
  >"$work/relay.out" 2>"$work/relay.log" &
relay_pid=$!
address=$(wait_for "$work/relay.out" "listening on" | sed 's/^listening on //')
echo "relay listening on $address"

step "tether-agent support (consent granted automatically for this demo: --consent auto)"
"$bin/agent/tether-agent" support --relay "wss://$address" --fingerprint "$fingerprint" \
  --consent auto >"$work/agent.out" 2>"$work/agent.log" &
agent_pid=$!
code_line=$(wait_for "$work/agent.out" "support code:")
echo "agent says: $code_line"
code=$(echo "$code_line" | tr -cd '0-9')

export TETHER_CONFIG_DIR="$work/console"
tether() { "$bin/console/tether" "$@"; }

step "tether login"
tether login --relay "https://$address" --fingerprint "$fingerprint" --user admin \
  --password-file "$work/admin-password"

step "tether ticket new"
tether ticket new --title "Laptop is slow since this morning" --requester "Alice Martin" \
  --description "Demo ticket opened by scripts/demo.sh"

step "tether session join $code --ticket T-1"
tether session join "$code" --ticket T-1

step "tether diag S-1"
tether diag S-1

step "tether exec S-1 -- df -h / (a command on the PC, recorded on the ticket)"
tether exec S-1 --timeout 10s -- df -h /

step "tether session end S-1"
tether session end S-1 --note "Diagnostics reviewed; disk space checked"
wait "$agent_pid"
agent_pid=""
echo "--- what the user saw on the agent:"
cat "$work/agent.out"

step "tether ticket status T-1 resolved"
tether ticket status T-1 resolved --note "Nothing broken found; disk space checked with the user"

step "tether ticket show T-1"
tether ticket show T-1

step "tether report T-1 (the ticket's story as Markdown)"
tether report T-1 --format md

step "stopping the relay"
kill -TERM "$relay_pid"
wait "$relay_pid"
relay_pid=""
echo "demo finished: every step worked"
