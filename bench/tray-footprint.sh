#!/usr/bin/env bash
# Idle footprint of ghost-runner-tray on a real (virtual) desktop: resident memory after start
# and CPU time used over an idle minute (which should be ~0: the tray has no polling timers).
# Usage: bench/tray-footprint.sh [BUILD_DIR] [IDLE_SECONDS]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build}
IDLE=${2:-60}
TRAY=$BUILD/tray/ghost-runner-tray
[ -x "$TRAY" ] || { echo "build first: $TRAY is missing" >&2; exit 1; }
WORK=$(mktemp -d)
export TRAY WORK IDLE
dbus-run-session -- bash -c '
set -euo pipefail
pids=()
trap "for p in \${pids[@]}; do kill \$p 2>/dev/null; done" EXIT
mkdir -p "$WORK/ws" "$WORK/state" "$WORK/rt"; chmod 700 "$WORK/rt"
export XDG_RUNTIME_DIR=$WORK/rt HOME=$WORK NO_AT_BRIDGE=1
exec 3>"$WORK/display"
Xvfb -displayfd 3 -screen 0 1024x640x24 -nolisten tcp >/dev/null 2>&1 & pids+=($!)
for i in $(seq 100); do [ -s "$WORK/display" ] && break; sleep 0.05; done
export DISPLAY=:$(head -1 "$WORK/display") QT_QPA_PLATFORM=xcb
trayer --edge top --align right --widthtype request --height 24 >/dev/null 2>&1 & pids+=($!)
dunst >/dev/null 2>&1 & pids+=($!)
sleep 1
"$TRAY" --port 0 --workspace "$WORK/ws" --state-dir "$WORK/state" >"$WORK/out" 2>/dev/null & TP=$!; pids+=($TP)
for i in $(seq 100); do grep -q "^system tray:" "$WORK/out" && break; sleep 0.05; done
sleep 3 # settle: first paint, icon embedded
tick=$(getconf CLK_TCK)
cpu() { awk "{print \$14 + \$15}" /proc/$TP/stat; }
rss() { awk "/VmRSS/ {print \$2}" /proc/$TP/status; }
c0=$(cpu); r0=$(rss)
sleep "$IDLE"
c1=$(cpu); r1=$(rss)
wakeups=$(awk "/voluntary_ctxt_switches/ && !/non/ {print \$2}" /proc/$TP/status)
echo "ghost-runner-tray $(grep "^system tray" "$WORK/out")"
echo "RSS after start: $((r0 / 1024)) MiB ($r0 kB); after ${IDLE} s idle: $((r1 / 1024)) MiB ($r1 kB)"
echo "CPU over ${IDLE} s idle: $(( (c1 - c0) * 1000 / tick )) ms ($(awk "BEGIN {printf \"%.3f\", ($c1 - $c0) * 100 / $tick / $IDLE}")% of one core)"
echo "voluntary context switches since start: $wakeups"
'
rm -rf "$WORK"
