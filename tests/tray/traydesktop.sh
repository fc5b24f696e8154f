#!/usr/bin/env bash
# The tray on a real desktop: Xvfb, trayer (an XEmbed system tray) and dunst (the notification
# daemon) under dbus-run-session. Checks that the icon is embedded, and that a failing patch sent
# to the tray's embedded server produces a desktop notification naming the patch id, read back
# with `dunstctl history`. Missing tools are a failure, not a skip.
# Usage: traydesktop.sh PATH/TO/ghost-runner-tray WORKDIR [--screenshots DIR]
set -uo pipefail
TRAY=${1:?ghost-runner-tray binary}
WORK=${2:?work directory}
SHOTS=""
[ "${3:-}" = --screenshots ] && SHOTS=${4:?screenshot directory}

fail() { echo "FAIL: $*" >&2; exit 1; }
for tool in Xvfb xdpyinfo xwininfo trayer dunst dunstctl dbus-run-session dbus-send curl xprop; do
    command -v "$tool" >/dev/null || fail "$tool is missing (./dev deps test installs it)"
done
[ -n "$SHOTS" ] && { command -v import >/dev/null && command -v xdotool >/dev/null || fail "import/xdotool missing"; }

# Under AddressSanitizer: libxcb calls strndup() on buffers that are not NUL-terminated, which is
# legal and only trips strict_string_checks; the later option wins.
[ -n "${ASAN_OPTIONS:-}" ] && export ASAN_OPTIONS="$ASAN_OPTIONS:strict_string_checks=0"

rm -rf "$WORK" && mkdir -p "$WORK/ws" "$WORK/state" "$WORK/runtime" "$WORK/home"
chmod 700 "$WORK/runtime"
printf 'Hello from the old pipeline.\n' >"$WORK/ws/hello.txt"
export TRAY WORK SHOTS
exec dbus-run-session -- bash -c '
set -uo pipefail
fail() { echo "FAIL: $*" >&2; [ -s "$WORK/tray.err" ] && { echo "--- tray stderr:" >&2; tail -n 40 "$WORK/tray.err" >&2; }; exit 1; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
export XDG_RUNTIME_DIR=$WORK/runtime NO_AT_BRIDGE=1 HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config
# Xvfb once failed to answer its first client here (CI, Qt 6.8 root; an empty log, and fine when
# run again): a second server is started before giving up, and the failure says what was seen.
xvfb_up() {
    : >"$WORK/display"
    exec 3>"$WORK/display"
    Xvfb -displayfd 3 -screen 0 1024x640x24 -nolisten tcp >>"$WORK/xvfb.log" 2>&1 &
    XVFB=$!
    pids+=($XVFB)
    exec 3>&-
    for i in $(seq 300); do [ -s "$WORK/display" ] && break; sleep 0.05; done
    export DISPLAY=:$(head -1 "$WORK/display") QT_QPA_PLATFORM=xcb
    for i in $(seq 300); do xdpyinfo >/dev/null 2>&1 && return 0; sleep 0.05; done
    xdpyinfo >"$WORK/xdpyinfo.log" 2>&1
}
if ! xvfb_up; then
    seen="display ${DISPLAY:-none}, Xvfb $(kill -0 $XVFB 2>/dev/null && echo running || echo gone), xdpyinfo: $(tail -n 2 "$WORK/xdpyinfo.log" | tr "\n" " ")"
    kill $XVFB 2>/dev/null
    echo "Xvfb did not answer in 15 s ($seen); starting another" >&2
    xvfb_up || fail "Xvfb did not start twice; the second time: display ${DISPLAY:-none}, Xvfb $(kill -0 $XVFB 2>/dev/null && echo running || echo gone), xdpyinfo: $(tail -n 2 "$WORK/xdpyinfo.log" | tr "\n" " ")(see $WORK/xvfb.log)"
fi

trayer --edge top --align right --widthtype request --height 24 --transparent false \
       --tint 0x303030 >"$WORK/trayer.log" 2>&1 &
pids+=($!)
# The tray host is ready once its panel window exists (it takes _NET_SYSTEM_TRAY_S0 then).
for i in $(seq 100); do xwininfo -root -tree 2>/dev/null | grep -qi "panel\|trayer" && break; sleep 0.05; done
xwininfo -root -tree 2>/dev/null | grep -qi "panel\|trayer" || fail "trayer did not start (see $WORK/trayer.log)"
sleep 0.3
mkdir -p "$XDG_CONFIG_HOME/dunst"
printf "[global]\n    font = DejaVu Sans 10\n    geometry = \"360x5-10+40\"\n    width = 360\n    offset = 10x40\n" >"$XDG_CONFIG_HOME/dunst/dunstrc"
dunst >"$WORK/dunst.log" 2>&1 &
pids+=($!)
for i in $(seq 100); do
    dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner \
        string:org.freedesktop.Notifications 2>/dev/null | grep -q "boolean true" && break
    sleep 0.05
done
dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner \
    string:org.freedesktop.Notifications 2>/dev/null | grep -q "boolean true" || fail "dunst did not take org.freedesktop.Notifications"

"$TRAY" --port 0 --workspace "$WORK/ws" --state-dir "$WORK/state" >"$WORK/tray.out" 2>"$WORK/tray.err" &
TRAY_PID=$!
pids+=($TRAY_PID)
for i in $(seq 200); do grep -q "^system tray:" "$WORK/tray.out" && break; sleep 0.05; done
cat "$WORK/tray.out"
grep -q "^system tray: available" "$WORK/tray.out" || fail "the tray icon is not embedded (isSystemTrayAvailable() is false)"
ADDR=$(sed -n "s#^listening on http://##p" "$WORK/tray.out")
[ -n "$ADDR" ] || fail "the tray did not report its listening address"
echo "$TRAY_PID" >"$WORK/tray.pid"

# One good patch, then a failing one.
curl -sS -o /dev/null -w "applied: HTTP %{http_code}\n" -H "Content-Type: application/json" "http://$ADDR/webhook?wait=5" \
    -d "{\"id\":\"hello-1\",\"target_file\":\"hello.txt\",\"patch\":{\"pattern\":\"old pipeline\",\"replacement\":\"Ghost Runner\"}}"
PATCH_ID="desktop-fail-$RANDOM"
code=$(curl -sS -o "$WORK/fail.json" -w "%{http_code}" -H "Content-Type: application/json" "http://$ADDR/webhook?wait=5" \
    -d "{\"id\":\"$PATCH_ID\",\"target_file\":\"hello.txt\",\"patch\":{\"pattern\":\"this text is not there\",\"replacement\":\"x\"}}")
[ "$code" = 422 ] || fail "the failing patch answered $code, expected 422"
DELIVERY=$(python3 -c "import json;print(json.load(open(\"$WORK/fail.json\"))[\"delivery\"])")

for i in $(seq 100); do
    [ "$(dunstctl count displayed 2>/dev/null || echo 0)" -ge 1 ] && break
    sleep 0.05
done
if [ -n "$SHOTS" ]; then
    mkdir -p "$SHOTS"
    # The tray menu with recent deliveries: click the icon in trayer (top right), like a user.
    sleep 0.5
    W=$(xdpyinfo | sed -n "s/ *dimensions: *\([0-9]*\)x.*/\1/p")
    xdotool mousemove $((W - 12)) 12 click 3
    sleep 0.8
    import -window root "$SHOTS/tray-menu.png"
    xdotool key Escape
    sleep 0.3
    dunstctl close-all
    "$TRAY" --port 0 --workspace "$WORK/ws" --state-dir "$WORK/state" --open-delivery "$DELIVERY" >/dev/null 2>&1
    sleep 1.2
    import -window root "$SHOTS/deliveries-window.png"
    "$TRAY" --port 0 --workspace "$WORK/ws" --state-dir "$WORK/state" --settings >/dev/null 2>&1
    sleep 1.2
    import -window root "$SHOTS/settings-dialog.png"
fi
dunstctl close-all
dunstctl history >"$WORK/history.json"
grep -q "$PATCH_ID" "$WORK/history.json" || { cat "$WORK/tray.err" >&2; fail "no notification names $PATCH_ID (dunstctl history: $(head -c 400 "$WORK/history.json"))"; }
python3 - "$WORK/history.json" "$PATCH_ID" <<PY || fail "the notification does not name the patch in its summary or body"
import json, sys
h = json.load(open(sys.argv[1]))
items = [n for group in h["data"] for n in group]
hits = [n for n in items if sys.argv[2] in n["summary"]["data"] + n["body"]["data"]]
print("notification:", hits[0]["summary"]["data"], "|", hits[0]["body"]["data"])
sys.exit(0 if hits else 1)
PY
kill -0 "$TRAY_PID" || fail "the tray exited"
echo "PASS: icon embedded; failing patch $PATCH_ID notified through dunst"
'
