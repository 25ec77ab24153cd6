#!/usr/bin/env bash
# Server CPU per GiB of STOR, by upload mode (issue 10: <= 1.5 x vsftpd's): atomic with fsync
# (uploads.fsync: true), atomic without fsync (the default), direct. Starts the built `ftpkit serve` (dist/, or BUILD=DIR)
# three times on random high loopback ports, uploads a page-cached file with curl -T REPS times each,
# interleaved, and reads the server's utime+stime from /proc/PID/stat around each upload.
# Prints medians (min-max) of CPU ms per GiB and MB/s, with `uptime`. Not part of npm test.
# Usage: scripts/stor-cpu.sh [REPS=5] [SIZE_MIB=512]
set -euo pipefail
REPS=${1:-5}
SIZE_MIB=${2:-512}
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$REPO/dist}
TMP=$(mktemp -d /tmp/ftpkit-stor-cpu.XXXXXX)
# shellcheck source=scripts/bench-common.sh
. "$REPO/scripts/bench-common.sh"
BYTES=$((SIZE_MIB * 1024 * 1024))
median() { sort -n | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.0f (%.0f-%.0f)", m, a[1], a[NR] }'; }
wait_port() { for _ in $(seq 1 200); do grep -qo 'ftp://[^ /]*:[0-9]*' "$1" 2>/dev/null && return 0; sleep 0.05; done; echo "server never started: $1" >&2; cat "$1" >&2; exit 1; }

echo "== stor-cpu $(date -u +%FT%TZ), $SIZE_MIB MiB x $REPS reps, build $BUILD"
echo "uptime before: $(uptime)"
dd if=/dev/zero of="$TMP/up" bs=1M count="$SIZE_MIB" status=none
cat "$TMP/up" >/dev/null
MODES=(atomic-fsync atomic-nofsync direct)
declare -A PORT PID
for m in "${MODES[@]}"; do
  mkdir -p "$TMP/$m/root"
  case $m in
    atomic-fsync) printf 'uploads:\n  mode: atomic\n  fsync: true\n' ;;
    atomic-nofsync) printf 'uploads:\n  mode: atomic\n  fsync: false\n' ;;
    direct) printf 'uploads:\n  mode: direct\n' ;;
  esac >"$TMP/$m/ftpkit.yaml"
  FTPKIT_ALLOW_ROOT=1 node "$BUILD/cli/main.js" serve "$TMP/$m/root" --config "$TMP/$m/ftpkit.yaml" --write \
    --host 127.0.0.1 --port 0 --log-level warn >"$TMP/$m/log" 2>&1 &
  PID[$m]=$!; PIDS+=("$!")
  wait_port "$TMP/$m/log"
  PORT[$m]=$(grep -o 'ftp://[^ /]*:[0-9]*' "$TMP/$m/log" | head -1 | sed 's/.*://')
done
for i in $(seq 1 "$REPS"); do
  for m in "${MODES[@]}"; do
    c0=$(cpu_ms "${PID[$m]}"); t0=$(date +%s%N)
    curl -s -S -T "$TMP/up" "ftp://127.0.0.1:${PORT[$m]}/up$i"
    t1=$(date +%s%N); c1=$(cpu_ms "${PID[$m]}")
    echo "$(( (c1 - c0) * 1024 / SIZE_MIB ))" >>"$TMP/$m.cpu"
    echo "$(( BYTES * 1000 / (t1 - t0) ))" >>"$TMP/$m.mbs"
    rm -f "$TMP/$m/root/up$i"
  done
done
for m in "${MODES[@]}"; do
  printf '%-15s server CPU ms/GiB %s   MB/s %s\n' "$m" "$(median <"$TMP/$m.cpu")" "$(median <"$TMP/$m.mbs")"
done
echo "uptime after: $(uptime)"
