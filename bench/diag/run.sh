#!/usr/bin/env bash
# Diagnostics benchmark: wall time and peak memory of a full `tether-agent diag --format json`
# beside the inventory tools people compare it with, measured in the same run on the same
# machine. Prints a Markdown report to stdout (docs/benchmarks.md keeps the figures).
#
#   bench/diag/run.sh [--runs N] [--agent PATH]
#
# Builds the `release` preset's tether-agent unless --agent is given. Installs hyperfine,
# GNU time and the peers (fusioninventory-agent, inxi) from Debian when missing. Run it on an
# otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/../.."

runs=30
agent=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --agent) agent="$2"; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--agent PATH]" >&2; exit 2 ;;
  esac
done

need=()
for p in hyperfine time fusioninventory-agent inxi; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ -z "$agent" ]; then
  scripts/install-deps.sh
  cmake --preset release >/dev/null
  cmake --build build-release --target tether-agent >/dev/null
  agent=build-release/agent/tether-agent
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# name|command (each writes its full report and discards it)
commands=(
  "tether-agent diag --format json|$agent diag --format json --out $work/tether.json"
  "tether-agent inventory --format glpi|$agent inventory --format glpi --out $work/tether-glpi.json"
  "fusioninventory-inventory|fusioninventory-inventory > $work/fusion.xml 2>/dev/null"
  "inxi -Fxxxz|inxi -Fxxxz -c0 > $work/inxi.txt 2>&1"
)

hyperfine_args=()
for entry in "${commands[@]}"; do
  hyperfine_args+=(--command-name "${entry%%|*}" "${entry#*|}")
done
hyperfine --style none --warmup 3 --runs "$runs" --export-json "$work/times.json" \
  "${hyperfine_args[@]}" >/dev/null 2>&1

# Peak RSS: median of 5 runs of GNU time's maximum resident set size.
peak_rss_kib() {
  local samples=()
  for _ in 1 2 3 4 5; do
    samples+=("$(/usr/bin/time -f '%M' sh -c "$1" 2>&1 >/dev/null | tail -1)")
  done
  printf '%s\n' "${samples[@]}" | sort -n | sed -n 3p
}

echo "| tool | median wall | mean ± σ | min | peak RSS (median of 5) | vs tether |"
echo "|---|---|---|---|---|---|"
tether_median=""
for entry in "${commands[@]}"; do
  name="${entry%%|*}"
  rss=$(peak_rss_kib "${entry#*|}")
  python3 - "$work/times.json" "$name" "$rss" "${tether_median:-}" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
name, rss, base = sys.argv[2], int(sys.argv[3]), sys.argv[4]
r = next(x for x in data["results"] if x["command"] == name)
med = r["median"]
ratio = "1×" if not base else f"{med / float(base):.0f}× slower"
print(f"| `{name}` | {med*1000:.1f} ms | {r['mean']*1000:.1f} ± {r['stddev']*1000:.1f} ms | "
      f"{r['min']*1000:.1f} ms | {rss/1024:.1f} MiB | {ratio} |")
PY
  if [ -z "$tether_median" ]; then
    tether_median=$(python3 -c "import json,sys; d=json.load(open('$work/times.json')); print(next(x for x in d['results'] if x['command']=='$name')['median'])")
  fi
done

echo
echo "Report sizes: tether json $(stat -c %s "$work/tether.json") B, " \
  "glpi $(stat -c %s "$work/tether-glpi.json" 2>/dev/null || echo 0) B, " \
  "fusioninventory $(stat -c %s "$work/fusion.xml") B, inxi $(stat -c %s "$work/inxi.txt") B"
echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r)"
echo "Sections unavailable in the tether report: $(python3 -c "
import json; d=json.load(open('$work/tether.json'))
print(', '.join(k+' ('+v['unavailable']+')' for k,v in d.items() if isinstance(v,dict) and 'unavailable' in v) or 'none')")"
