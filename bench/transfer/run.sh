#!/usr/bin/env bash
# Transfer and keystroke benchmarks of issue #4 ("Speed"), with raw baselines in the same run.
# Relay, agent and console all run on this machine over 127.0.0.1. Prints a Markdown report to
# stdout (docs/benchmarks.md keeps the figures); progress goes to stderr.
#
#   bench/transfer/run.sh [--runs N] [--disk-runs N] [--size-mib N] [--keystrokes N]
#                         [--echo-kinds "shell exec"] [--build-dir DIR] [--no-build]
#                         [--skip-get] [--skip-baselines] [--keep] [--idle-wait S]
#                         [--sockopt SPEC] [--sockopt-relay SPEC] [--sockopt-agent SPEC]
#                         [--agent BIN] [--relay BIN]
#
#   --runs N          gets (and baseline runs) per configuration; medians reported (default 5)
#   --disk-runs N     more gets with LOCAL on the disk instead of tmpfs (default 3; 0: none)
#   --size-mib N      size of the file (default 1024 = 1 GiB)
#   --keystrokes N    echo round trips per latency measurement (default 2000)
#   --echo-kinds K    channels to echo through: shell (a PTY), exec (`cat`) (default both)
#   --build-dir DIR   release build to use or make (default /work/build-bench when /work
#                     exists, else build-release)
#   --no-build        use the binaries already in --build-dir
#   --skip-get        only what needs no `tether get` (context, baselines, echo idle)
#   --skip-baselines  no openssl speed and no tls_two_hop (quick experiments)
#   --keep            keep the temporary directory (relay data, logs) for inspection
#   --idle-wait S     before each measurement wait up to S s (default 600; 0: never) for a
#                     second in which the machine is ≥ 90 % idle; the CPU other programs used
#                     during each measurement is reported either way
#   --sockopt SPEC    experiment: relay, agent and console run with sockopt_preload (see
#                     sockopt_preload.cpp), e.g. "NOTSENT_LOWAT=131072,RCVBUF=262144";
#                     --sockopt-relay / --sockopt-agent: for that process only
#   --agent BIN, --relay BIN  experiment: these binaries instead of the build's
#
# What it does, from a clean state every time (nothing outside its temp dirs is touched):
#  1. builds the `release` preset (RelWithDebInfo, -O2) with -DTETHER_BUILD_BENCH=ON:
#     tether, tether-agent, tether-relay, tls_two_hop, echo_latency, sockopt_preload;
#  2. writes a random file into the agent's --files-root (page cache warm); starts a relay
#     (`init` in a temp dir, `serve` on 127.0.0.1:0), an agent with --consent auto, `tether
#     login`, ticket T-1, `session join` → S-1; asks the relay which TLS version and cipher
#     suite it negotiates with OpenSSL's defaults (`openssl s_client`), as Tether's clients do;
#  3. context: `openssl speed` of that AEAD and of SHA-256 on one core;
#  4. baselines with that cipher suite (tls_two_hop: sender -TLS-> middle -TLS-> receiver, 3
#     processes, 64 KiB writes): bare; with a transfer's file work (read, SHA-256 at both ends,
#     write); plain TCP; Beast WebSockets as Tether uses them; a 1-byte ping-pong, idle and
#     while the file-work baseline runs in a loop;
#  5. `tether get S-1 big.bin LOCAL`: wall time of the whole command; CPU seconds of console,
#     relay and agent. LOCAL is on tmpfs (/dev/shm) for the main series so that the figure is
#     the transfer's, not this machine's disk (the console fsyncs before renaming), and on the
#     disk for --disk-runs more;
#  6. keystroke echo (echo_latency, 2 ms between keys), idle, then while `tether get`s of the
#     file run back to back in the same session;
#  7. memory: a get whose console is stopped (SIGSTOP) after ~100 MB; relay and agent VmRSS
#     every 100 ms for 5 s; SIGCONT; the transfer must still complete intact.
# Every process it starts is stopped by its PID on exit; the temp dirs are removed.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

runs=5
disk_runs=3
size_mib=1024
keystrokes=2000
echo_kinds="shell exec"
build_dir=""
build=1
skip_get=0
skip_baselines=0
keep=0
idle_wait=600
sockopt=""
sockopt_relay=""
sockopt_agent=""
agent_override=""
relay_override=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --disk-runs) disk_runs="$2"; shift 2 ;;
    --size-mib) size_mib="$2"; shift 2 ;;
    --keystrokes) keystrokes="$2"; shift 2 ;;
    --echo-kinds) echo_kinds="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --skip-get) skip_get=1; shift ;;
    --skip-baselines) skip_baselines=1; shift ;;
    --keep) keep=1; shift ;;
    --idle-wait) idle_wait="$2"; shift 2 ;;
    --sockopt) sockopt="$2"; shift 2 ;;
    --sockopt-relay) sockopt_relay="$2"; shift 2 ;;
    --sockopt-agent) sockopt_agent="$2"; shift 2 ;;
    --agent) agent_override="$2"; shift 2 ;;
    --relay) relay_override="$2"; shift 2 ;;
    *) sed -n '2,30p' "$0" >&2; exit 2 ;;
  esac
done
if [ -z "$build_dir" ]; then
  if [ -d /work ]; then build_dir=/work/build-bench; else build_dir="$repo/build-release"; fi
fi
size_bytes=$((size_mib * 1024 * 1024))

log() { echo "[$(date +%T)] $*" >&2; }

if [ "$build" = 1 ]; then
  log "building the release preset in $build_dir"
  CCACHE_NOHASHDIR=1 cmake --preset release -B "$build_dir" -DTETHER_BUILD_BENCH=ON >/dev/null
  CCACHE_NOHASHDIR=1 cmake --build "$build_dir" --target tether tether-agent tether-relay \
    tls_two_hop echo_latency sockopt_preload >/dev/null
fi
tether="$build_dir/console/tether"
agent_bin="${agent_override:-$build_dir/agent/tether-agent}"
relay_bin="${relay_override:-$build_dir/relay/tether-relay}"
two_hop="$build_dir/bench/transfer/tls_two_hop"
echo_latency="$build_dir/bench/transfer/echo_latency"
preload="$build_dir/bench/transfer/libsockopt_preload.so"
for b in "$tether" "$agent_bin" "$relay_bin" "$two_hop" "$echo_latency"; do
  [ -x "$b" ] || { echo "missing $b (build it or drop --no-build)" >&2; exit 1; }
done

# Environments of the Tether processes: nothing special unless --sockopt*. `env` execs the
# program, so for one started in the background $! is the program's PID.
sockopt_env() {  # SPEC → one NAME=VALUE per line
  if [ -z "$1" ]; then echo TETHER_BENCH=1; return; fi
  [ -f "$preload" ] || { echo "missing $preload" >&2; exit 1; }
  echo "LD_PRELOAD=$preload"
  tr ',' '\n' <<<"$1" | sed 's/^/TETHER_BENCH_/'
}
mapfile -t console_env < <(sockopt_env "$sockopt")
mapfile -t relay_env < <(sockopt_env "${sockopt_relay:-$sockopt}")
mapfile -t agent_env < <(sockopt_env "${sockopt_agent:-$sockopt}")
tx() { env "${console_env[@]}" "$@"; }

work=$(mktemp -d /tmp/tether-bench.XXXXXX)
# The console's files go to tmpfs when there is one (see step 5).
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
  out=$(mktemp -d /dev/shm/tether-bench.XXXXXX)
  out_fs="tmpfs"
else
  out="$work/out"
  out_fs="$(findmnt -no FSTYPE --target "$work")"
fi
disk_fs="$(findmnt -no FSTYPE --target "$work")"
pids=()
cleanup() {
  local pid f
  for f in bulk.pid two_hop.pid; do
    if [ -f "$work/$f" ]; then pids+=("$(cat "$work/$f")"); fi
  done
  for pid in "${pids[@]}"; do
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  [ "$out" = "$work/out" ] || rm -rf "$out"
  if [ "$keep" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
mkdir -p "$work/files" "$work/out" "$work/console"
export TETHER_CONFIG_DIR="$work/console"

# Waits until FILE contains TEXT (up to 30 s).
wait_for_text() {
  for _ in $(seq 300); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timed out waiting for '$2' in $1:" >&2
  cat "$1" >&2
  return 1
}
# utime+stime of a process (all its threads), in seconds.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# Busy CPU seconds of the whole machine so far (all cores; user+nice+system+irq+softirq+steal).
machine_busy_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '/^cpu / { print ($2 + $3 + $4 + $7 + $8 + $9) / hz }' /proc/stat
}
calc() { python3 -c "import sys; print($1)" "${@:2}"; }
# Waits (up to --idle-wait s) for a second in which the machine is ≥ 90 % idle.
wait_idle() {
  [ "$idle_wait" -gt 0 ] || return 0
  local deadline=$((SECONDS + idle_wait)) a b
  while :; do
    a=$(machine_busy_seconds)
    sleep 1
    b=$(machine_busy_seconds)
    if [ "$(calc "int(float(sys.argv[2]) - float(sys.argv[1]) < 0.1 * $(nproc))" "$a" "$b")" = 1 ]; then
      return 0
    fi
    if [ $SECONDS -ge $deadline ]; then
      log "the machine is still busy after ${idle_wait} s; measuring anyway (see 'other CPU')"
      return 0
    fi
  done
}
json_field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

# ------------------------------------------------------------------ file, relay, session
log "creating a ${size_mib} MiB random file"
head -c "$size_bytes" /dev/urandom >"$work/files/big.bin"
cat "$work/files/big.bin" >/dev/null  # page cache warm
source_sha=$(sha256sum "$work/files/big.bin" | cut -d' ' -f1)

log "starting relay, agent and session S-1"
echo "bench password $(date +%s%N)" >"$work/admin-password"
"$relay_bin" init --data "$work/relay" --admin-password-file "$work/admin-password" >"$work/init.log"
fingerprint=$(sed -n 's/^fingerprint: //p' "$work/init.log")
env "${relay_env[@]}" "$relay_bin" serve --data "$work/relay" --listen 127.0.0.1:0 \
  >"$work/relay.log" 2>&1 &
relay_pid=$!
pids+=("$relay_pid")
wait_for_text "$work/relay.log" "listening on "
address=$(sed -n 's/.*listening on //p' "$work/relay.log" | head -1)
env "${agent_env[@]}" "$agent_bin" support --relay "wss://$address" --fingerprint "$fingerprint" \
  --consent auto --files-root "$work/files" </dev/null >"$work/agent.log" 2>&1 &
agent_pid=$!
pids+=("$agent_pid")
wait_for_text "$work/agent.log" "support code: "
code=$(sed -n 's/.*support code: //p' "$work/agent.log" | head -1 | tr -dc 0-9)
tx "$tether" login --relay "https://$address" --fingerprint "$fingerprint" --user admin \
  --password-file "$work/admin-password" >/dev/null
tx "$tether" ticket new --title "Transfer benchmark" --json >/dev/null
tx "$tether" session join "$code" --ticket T-1 --json >"$work/join.json" 2>/dev/null
wait_for_text "$work/agent.log" "Consent granted automatically"
relay_rss_idle=$(rss_kib "$relay_pid")
agent_rss_idle=$(rss_kib "$agent_pid")

# What the relay negotiates with a client using OpenSSL's defaults (Tether's clients do).
openssl s_client -connect "$address" -brief </dev/null >"$work/s_client.log" 2>&1 || true
tls_version=$(sed -n 's/^Protocol version: //p' "$work/s_client.log" | head -1)
tls_suite=$(sed -n 's/^Ciphersuite: //p' "$work/s_client.log" | head -1)
[ -n "$tls_suite" ] || { echo "cannot tell the relay's cipher suite:" >&2; cat "$work/s_client.log" >&2; exit 1; }
two_hop_tls=()
case "$tls_version" in
  TLSv1.3) two_hop_tls=(--ciphersuite "$tls_suite") ;;
  *) log "the relay negotiated $tls_version; tls_two_hop uses TLS 1.3 defaults" ;;
esac
case "$tls_suite" in
  *AES_128_GCM*) aead=aes-128-gcm ;;
  *AES_256_GCM*) aead=aes-256-gcm ;;
  *CHACHA20*) aead=chacha20-poly1305 ;;
  *) aead=aes-256-gcm ;;
esac

# ------------------------------------------------------------------ context and baselines
if [ "$skip_baselines" = 0 ]; then
  # MB/s of `openssl speed -evp NAME -bytes SIZE` on one core.
  openssl_speed() {
    openssl speed -evp "$1" -bytes "$2" -seconds 3 2>/dev/null |
      awk -v a="$1" 'tolower($1) == a { v = $NF; sub(/k$/, "", v); printf "%.0f", v * 1000 / 1e6 }'
  }
  aeads=("$aead")
  [ "$aead" = aes-256-gcm ] || aeads+=(aes-256-gcm)
  log "openssl speed (${aeads[*]}, sha256)"
  wait_idle
  declare -A aead_speed
  for a in "${aeads[@]}"; do aead_speed[$a]=$(openssl_speed "$a" 16384); done
  sha256_speed=$(openssl_speed sha256 65536)

  # two_hop_runs NAME ARGS…: $runs runs; one JSON line each in two_hop.NAME.jsonl with the
  # CPU other programs used meanwhile; prints "MB/s MiB/s protocol cipher
  # sender/middle/receiver_(total CPU s) other_cpu_s" (medians).
  two_hop_runs() {
    local name="$1" busy0 busy1 line
    shift
    : >"$work/two_hop.$name.jsonl"
    for _ in $(seq "$runs"); do
      rm -f "$out/two_hop.bin"
      wait_idle
      busy0=$(machine_busy_seconds)
      line=$("$two_hop" --bytes "$size_bytes" --json "$@")
      busy1=$(machine_busy_seconds)
      python3 -c "
import json, sys
r = json.loads(sys.argv[1])
r['cpu_total_s'] = sum(sum(v) for v in r['cpu_s'].values())
r['other_cpu_s'] = max(0.0, float(sys.argv[3]) - float(sys.argv[2]) - r['cpu_total_s'])
print(json.dumps(r))" "$line" "$busy0" "$busy1" >>"$work/two_hop.$name.jsonl"
    done
    rm -f "$out/two_hop.bin"
    python3 -c "
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
m = lambda k: statistics.median(r[k] for r in rows)
role = lambda k: statistics.median(sum(r['cpu_s'][k]) for r in rows)
cpu = '%.2f/%.2f/%.2f_(%.2f)' % (role('sender'), role('middle'), role('receiver'), m('cpu_total_s'))
print('%.0f %.0f %s %s %s %.2f' % (m('mb_s'), m('mib_s'), rows[0]['protocol'],
      rows[0]['cipher'], cpu, m('other_cpu_s')))" "$work/two_hop.$name.jsonl"
  }
  log "baselines: tls_two_hop with $tls_suite, $runs runs each"
  file_work=(--file "$work/files/big.bin" --hash --out "$out/two_hop.bin")
  read -r base_mb base_mib base_proto base_cipher base_cpu base_other \
    < <(two_hop_runs bare "${two_hop_tls[@]}")
  read -r work_mb work_mib _ _ work_cpu work_other \
    < <(two_hop_runs file "${two_hop_tls[@]}" "${file_work[@]}")
  read -r plain_mb plain_mib _ _ plain_cpu plain_other < <(two_hop_runs plain --plain)
  read -r ws_mb ws_mib _ _ ws_cpu ws_other < <(two_hop_runs ws "${two_hop_tls[@]}" --websocket)
  read -r ws64_mb ws64_mib _ _ ws64_cpu ws64_other \
    < <(two_hop_runs ws64 "${two_hop_tls[@]}" --websocket --ws-write-buffer 65536)
  wait_idle
  ping_idle=$("$two_hop" "${two_hop_tls[@]}" --ping "$keystrokes" --json)
  # The same ping while the file-work baseline runs in a loop: what sharing two cores with a
  # bulk transfer costs a keystroke when nothing queues it behind the bulk data.
  rm -f "$work/stop-two-hop"
  (
    while [ ! -e "$work/stop-two-hop" ]; do
      "$two_hop" --bytes "$size_bytes" "${two_hop_tls[@]}" "${file_work[@]}" >/dev/null &
      echo $! >"$work/two_hop.pid"
      wait $! || true
    done
  ) &
  pids+=("$!")
  sleep 1
  ping_bulk=$("$two_hop" "${two_hop_tls[@]}" --ping "$keystrokes" --json)
  touch "$work/stop-two-hop"
  wait "${pids[-1]}" || true
  rm -f "$out/two_hop.bin"
fi

# ------------------------------------------------------------------ keystroke echo, idle
declare -A echo_idle echo_bulk
for kind in $echo_kinds; do
  log "keystroke echo through $kind, idle ($keystrokes round trips)"
  wait_idle
  echo_idle[$kind]=$(tx "$echo_latency" S-1 --kind "$kind" --count "$keystrokes" --json)
done

have_get=0
if [ "$skip_get" = 0 ] && "$tether" get --help >/dev/null 2>&1; then have_get=1; fi

if [ "$have_get" = 1 ]; then
  # ---------------------------------------------------------------- transfer
  # get_runs NAME DIR N: N gets into DIR; one line per run in get.NAME.tsv: wall s, MB/s,
  # MiB/s, CPU s of console, relay, agent, other programs.
  get_runs() {
    local name="$1" dir="$2" count="$3" i start end busy0 busy1
    local relay_cpu0 relay_cpu1 agent_cpu0 agent_cpu1 console_user console_sys
    : >"$work/get.$name.tsv"
    for i in $(seq "$count"); do
      rm -f "$dir/big.bin"
      wait_idle
      relay_cpu0=$(cpu_seconds "$relay_pid")
      agent_cpu0=$(cpu_seconds "$agent_pid")
      busy0=$(machine_busy_seconds)
      start=$(date +%s.%N)
      TIMEFORMAT='%3U %3S'
      { time tx "$tether" get S-1 big.bin "$dir/big.bin" >/dev/null 2>"$work/get.err"; } \
        2>"$work/get.time"
      end=$(date +%s.%N)
      busy1=$(machine_busy_seconds)
      relay_cpu1=$(cpu_seconds "$relay_pid")
      agent_cpu1=$(cpu_seconds "$agent_pid")
      read -r console_user console_sys <"$work/get.time"
      python3 -c "
import sys
a = [float(x) for x in sys.argv[1:]]
size, s = a[0], a[2] - a[1]
console, relay, agent = a[3] + a[4], a[6] - a[5], a[8] - a[7]
other = max(0.0, a[10] - a[9] - console - relay - agent)
print('%.3f\t%.1f\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f' % (s, size / s / 1e6, size / s / 1048576,
      console, relay, agent, other))" \
        "$size_bytes" "$start" "$end" "$console_user" "$console_sys" "$relay_cpu0" \
        "$relay_cpu1" "$agent_cpu0" "$agent_cpu1" "$busy0" "$busy1" >>"$work/get.$name.tsv"
      log "  $name run $i: $(tail -1 "$work/get.$name.tsv" |
        awk '{ print $1 " s, " $2 " MB/s, other programs " $7 " CPU s" }')"
    done
    [ "$(sha256sum "$dir/big.bin" | cut -d' ' -f1)" = "$source_sha" ] ||
      { echo "the downloaded file differs from the source" >&2; exit 1; }
    rm -f "$dir/big.bin"
  }
  log "tether get, $runs runs into $out_fs"
  get_runs tmpfs "$out" "$runs"
  if [ "$disk_runs" -gt 0 ]; then
    log "tether get, $disk_runs runs into $disk_fs ($work/out)"
    get_runs disk "$work/out" "$disk_runs"
  fi

  # ---------------------------------------------------------------- echo under bulk
  relay_port=${address##*:}
  # One line to queues.$kind.tsv: bytes unsent in the agent's socket to the relay (Send-Q),
  # bytes unread in the relay's socket from the agent (Recv-Q).
  agent_queues() {
    ss -tnpH state established "( dport = :$relay_port )" 2>/dev/null |
      awk -v pid="pid=$agent_pid," 'index($0, pid) { print $3 }' >"$work/agent.addr"
    local agent_addr send recv
    agent_addr=$(head -1 "$work/agent.addr")
    [ -n "$agent_addr" ] || return 0
    send=$(ss -tnH state established "( sport = :${agent_addr##*:} )" | awk '{ print $2; exit }')
    recv=$(ss -tnH state established "( dport = :${agent_addr##*:} )" | awk '{ print $1; exit }')
    printf '%s\t%s\n' "${send:-0}" "${recv:-0}" >>"$work/queues.$kind.tsv"
  }
  for kind in $echo_kinds; do
    log "keystroke echo through $kind while gets run back to back"
    rm -f "$work/stop-bulk" "$work/bulk.count"
    wait_idle
    (
      n=0
      while [ ! -e "$work/stop-bulk" ]; do
        env "${console_env[@]}" "$tether" get S-1 big.bin "$out/bulk.bin" >/dev/null \
          2>>"$work/bulk.err" &
        echo $! >"$work/bulk.pid"
        wait $! || true
        rm -f "$out/bulk.bin"
        n=$((n + 1))
        echo "$n" >"$work/bulk.count"
      done
    ) &
    bulk_pid=$!
    pids+=("$bulk_pid")
    for _ in $(seq 500); do  # until the first get's data flows
      [ "$(stat -c %s "$out/.bulk.bin.tether-part" 2>/dev/null || echo 0)" -gt 10000000 ] && break
      sleep 0.02
    done
    bulk_start=$(date +%s.%N)
    tx "$echo_latency" S-1 --kind "$kind" --count "$keystrokes" --json >"$work/echo.json" &
    echo_pid=$!
    pids+=("$echo_pid")
    # Meanwhile: what waits in the kernel on the agent's connection, ahead of any keystroke.
    : >"$work/queues.$kind.tsv"
    for _ in $(seq 10); do
      sleep 0.5
      kill -0 "$echo_pid" 2>/dev/null || break
      agent_queues
    done
    wait "$echo_pid"
    echo_bulk[$kind]=$(cat "$work/echo.json")
    bulk_end=$(date +%s.%N)
    touch "$work/stop-bulk"
    wait "$bulk_pid" || true
    echo_bulk[$kind]=$(python3 -c "
import json, statistics, sys
r = json.loads(sys.argv[1])
r['gets'] = int(sys.argv[2]); r['seconds'] = float(sys.argv[4]) - float(sys.argv[3])
q = [[int(x) for x in l.split()] for l in open(sys.argv[5]) if l.strip()]
r['agent_send_q'] = statistics.median(x[0] for x in q) if q else 0
r['relay_recv_q'] = statistics.median(x[1] for x in q) if q else 0
print(json.dumps(r))" "${echo_bulk[$kind]}" "$(cat "$work/bulk.count" 2>/dev/null || echo 0)" \
      "$bulk_start" "$bulk_end" "$work/queues.$kind.tsv")
  done

  # ---------------------------------------------------------------- stalled reader
  log "relay memory with a stopped console"
  rm -f "$out/big.bin"
  relay_rss_before=$(rss_kib "$relay_pid")
  agent_rss_before=$(rss_kib "$agent_pid")
  env "${console_env[@]}" "$tether" get S-1 big.bin "$out/big.bin" >/dev/null 2>"$work/stall.err" &
  console_pid=$!
  pids+=("$console_pid")
  part_size() { stat -c %s "$out/.big.bin.tether-part" 2>/dev/null || echo 0; }
  stall_at=$((size_bytes / 4 < 100000000 ? size_bytes / 4 : 100000000))
  for _ in $(seq 4000); do
    [ "$(part_size)" -ge "$stall_at" ] && break
    sleep 0.005
  done
  kill -STOP "$console_pid"
  stopped_at=$(part_size)
  : >"$work/stall.tsv"
  for i in $(seq 50); do
    printf '%s\t%s\t%s\n' "$i" "$(rss_kib "$relay_pid")" "$(rss_kib "$agent_pid")" >>"$work/stall.tsv"
    if [ "$i" = 25 ]; then
      ss -tnpH state established "( sport = :$relay_port or dport = :$relay_port )" \
        >"$work/stall.ss" 2>/dev/null || true
    fi
    sleep 0.1
  done
  still_at=$(part_size)
  relay_rss_peak=$(cut -f2 "$work/stall.tsv" | sort -n | tail -1)
  agent_rss_peak=$(cut -f3 "$work/stall.tsv" | sort -n | tail -1)
  relay_rss_first=$(head -1 "$work/stall.tsv" | cut -f2)
  relay_rss_last=$(tail -1 "$work/stall.tsv" | cut -f2)
  kill -CONT "$console_pid"
  stall_status=0
  wait "$console_pid" || stall_status=$?
  relay_rss_after=$(rss_kib "$relay_pid")
  agent_rss_after=$(rss_kib "$agent_pid")
  stall_ok=NO
  if [ "$stall_status" = 0 ] &&
    [ "$(sha256sum "$out/big.bin" 2>/dev/null | cut -d' ' -f1)" = "$source_sha" ]; then
    stall_ok=yes
  fi
  rm -f "$out/big.bin"
fi

# ------------------------------------------------------------------ report
us() { calc "'%.0f' % float(sys.argv[1])" "$(json_field "$1" "$2")"; }
mib() { echo $((($1 + 512) / 1024)); }
latency() { echo "$(us "$1" p50_us) / $(us "$1" p99_us) / $(us "$1" max_us) µs"; }
cpu_cell() {  # "1.5/1.4/1.7_(4.6)" → "1.5 / 1.4 / 1.7 (4.6)"
  local cell="${1//\// / }"
  echo "${cell//_/ }"
}

if [ "$skip_baselines" = 0 ]; then
  echo "### Raw baselines and context (same run)"
  echo
  echo "| measurement | result | CPU s: sender / middle / receiver (total) | other programs' CPU s |"
  echo "|---|---|---|---|"
  for a in "${aeads[@]}"; do
    echo "| \`openssl speed -evp $a -bytes 16384\`, one core | ${aead_speed[$a]} MB/s | | |"
  done
  echo "| \`openssl speed -evp sha256 -bytes 65536\`, one core | $sha256_speed MB/s | | |"
  echo "| tls_two_hop, $base_proto $base_cipher, 64 KiB writes | **$base_mb MB/s** ($base_mib MiB/s) | $(cpu_cell "$base_cpu") | $base_other |"
  echo "| tls_two_hop + file read, SHA-256 at both ends, file write to $out_fs | $work_mb MB/s ($work_mib MiB/s) | $(cpu_cell "$work_cpu") | $work_other |"
  echo "| two hops of plain TCP | $plain_mb MB/s ($plain_mib MiB/s) | $(cpu_cell "$plain_cpu") | $plain_other |"
  echo "| Beast WebSocket over the TLS hops, 64 KiB messages, Beast's default 4 KiB write buffer | $ws_mb MB/s ($ws_mib MiB/s) | $(cpu_cell "$ws_cpu") | $ws_other |"
  echo "| same, \`write_buffer_bytes(65536)\` | $ws64_mb MB/s ($ws64_mib MiB/s) | $(cpu_cell "$ws64_cpu") | $ws64_other |"
  echo "| tls_two_hop 1-byte ping-pong, p50 / p99 / max of $(json_field "$ping_idle" samples) | $(latency "$ping_idle") | | |"
  echo "| same, while the file-work baseline runs in a loop | $(latency "$ping_bulk") | | |"
  echo
fi
echo "### Tether${sockopt:+ (experiment: --sockopt $sockopt)}${sockopt_relay:+ (--sockopt-relay $sockopt_relay)}${sockopt_agent:+ (--sockopt-agent $sockopt_agent)}${agent_override:+ (--agent $agent_override)}${relay_override:+ (--relay $relay_override)}"
echo
echo "Relay negotiated $tls_version $tls_suite. Transfers of ${size_mib} MiB; MB/s = 10^6 bytes/s."
echo
echo "| measurement | result | target |"
echo "|---|---|---|"
if [ "$have_get" = 1 ]; then
  medians() {  # NAME → the 7 column medians of get.NAME.tsv
    python3 -c "
import statistics, sys
rows = [[float(x) for x in l.split()] for l in open(sys.argv[1]) if l.strip()]
print(*('%g' % statistics.median(r[i] for r in rows) for i in range(7)))" "$work/get.$1.tsv"
  }
  read -r get_s get_mb get_mib get_console get_relay get_agent get_other < <(medians tmpfs)
  verdict=$(calc "'met' if float(sys.argv[1]) >= 450 else 'not met'" "$get_mb")
  echo "| \`tether get\` agent → relay → console, LOCAL on $out_fs, median of $runs | **$get_mb MB/s** ($get_mib MiB/s, $get_s s): $verdict | ≥ 450 MB/s |"
  if [ "$disk_runs" -gt 0 ]; then
    read -r disk_s disk_mb disk_mib _ _ _ _ < <(medians disk)
    echo "| same, LOCAL on the disk ($disk_fs; the console fsyncs before the rename), median of $disk_runs | $disk_mb MB/s ($disk_mib MiB/s, $disk_s s) | |"
  fi
fi
for kind in $echo_kinds; do
  echo "| keystroke echo through $kind, idle: p50 / p99 / max of $(json_field "${echo_idle[$kind]}" samples) | $(latency "${echo_idle[$kind]}") | p99 ≤ 2000 µs |"
  if [ "$have_get" = 1 ]; then
    echo "| keystroke echo through $kind during bulk gets: p50 / p99 / max of $(json_field "${echo_bulk[$kind]}" samples) | $(latency "${echo_bulk[$kind]}") | p99 ≤ 20000 µs |"
  fi
done
if [ "$have_get" = 1 ]; then
  echo "| relay VmRSS: idle session / before the stall / peak while stalled / after | $(mib "$relay_rss_idle") / $(mib "$relay_rss_before") / **$(mib "$relay_rss_peak")** / $(mib "$relay_rss_after") MiB | bounded |"
  echo "| agent VmRSS: idle session / before the stall / peak while stalled / after | $(mib "$agent_rss_idle") / $(mib "$agent_rss_before") / $(mib "$agent_rss_peak") / $(mib "$agent_rss_after") MiB | |"
  echo
  echo "Median CPU seconds per get (LOCAL on $out_fs): console $get_console, relay $get_relay," \
    "agent $get_agent; other programs $get_other. Each run: where, wall s, MB/s, MiB/s, CPU s" \
    "of console, relay, agent, other programs:"
  echo
  echo '```'
  sed "s/^/$out_fs\t/" "$work/get.tmpfs.tsv"
  if [ "$disk_runs" -gt 0 ]; then sed "s/^/$disk_fs\t/" "$work/get.disk.tsv"; fi
  echo '```'
  echo
  for kind in $echo_kinds; do
    echo "Echo through $kind under bulk: $(json_field "${echo_bulk[$kind]}" gets) gets ran back to" \
      "back during the $(calc "'%.1f' % float(sys.argv[1])" "$(json_field "${echo_bulk[$kind]}" seconds)") s of the echo run;" \
      "ahead of a keystroke waited (medians of samples every 0.5 s)" \
      "$(calc "'%.0f' % (float(sys.argv[1]) / 1024)" "$(json_field "${echo_bulk[$kind]}" agent_send_q)") KiB" \
      "unsent in the agent's socket and" \
      "$(calc "'%.0f' % (float(sys.argv[1]) / 1024)" "$(json_field "${echo_bulk[$kind]}" relay_recv_q)") KiB" \
      "unread in the relay's."
  done
  # Kernel queues during the stall: the relay's sockets (Recv-Q, Send-Q) by who holds them.
  stall_queues=$(awk -v port=":$relay_port" -v cpid="pid=$console_pid," -v apid="pid=$agent_pid," '
    { who = index($0, cpid) ? "console" : index($0, apid) ? "agent" : ($3 ~ port "$") ? "relay" : "?" }
    who == "relay" { peer[$4] = $1 "/" $2 }
    who != "relay" { side[$3] = who " " $1 "/" $2 }
    END { for (a in side) if (a in peer) printf "%s; relay side %s. ", side[a], peer[a] }' \
    "$work/stall.ss" 2>/dev/null)
  echo "Stalled reader, kernel socket queues 2.5 s into the stall (Recv-Q/Send-Q bytes, each" \
    "connection's client side then the relay's): $stall_queues"
  echo "Stalled reader: console stopped with $((stopped_at / 1000000)) MB written" \
    "($((still_at / 1000000)) MB after the 5 s); relay VmRSS first/last sample" \
    "$(mib "$relay_rss_first")/$(mib "$relay_rss_last") MiB; after SIGCONT the transfer" \
    "completed with the right SHA-256: $stall_ok."
else
  echo
  echo "\`tether get\` is not in this build: transfer, echo under bulk and the stalled reader were skipped."
fi
echo
echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(. /etc/os-release && echo "$PRETTY_NAME")," \
  "kernel $(uname -r), $(openssl version | cut -d' ' -f1-2); load average at the end $(cut -d' ' -f1-3 /proc/loadavg)."
