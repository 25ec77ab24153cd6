#!/usr/bin/env bash
# Server CPU per GiB of STOR, by upload mode (issue 10: <= 1.5 x vsftpd's): atomic with fsync
# (uploads.fsync: true), atomic without fsync (the default), direct. Starts the built `ftpkit serve` (dist/,
# or BUILD=DIR; several builds to compare: BUILD="old=DIR1 new=DIR2") once per build and mode on random
# high loopback ports, uploads a page-cached file with curl -T REPS times each, interleaved (every build and
# mode in each repetition), and reads the server's utime+stime from /proc/PID/stat around each upload.
# Prints medians (min-max) of CPU ms per GiB and MB/s, with `uptime`. Not part of npm test.
# TLS=1: explicit FTPS with PROT P (curl --ssl-reqd -k; a throwaway self-signed certificate from openssl).
# Usage: [BUILD=...] [MODES="atomic-nofsync direct"] [TLS=1] scripts/stor-cpu.sh [REPS=5] [SIZE_MIB=512]
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

echo "== stor-cpu $(date -u +%FT%TZ), $SIZE_MIB MiB x $REPS reps, build(s) $BUILD${TLS:+, TLS=$TLS}"
echo "uptime before: $(uptime)"
dd if=/dev/zero of="$TMP/up" bs=1M count="$SIZE_MIB" status=none
cat "$TMP/up" >/dev/null
TLS_SERVE=() TLS_CURL=()
if [[ ${TLS:-0} == 1 ]]; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 2 -subj /CN=localhost 2>/dev/null
  TLS_SERVE=(--tls explicit --cert "$TMP/cert.pem" --key "$TMP/key.pem") TLS_CURL=(--ssl-reqd -k)
fi
read -r -a MODES <<<"${MODES:-atomic-fsync atomic-nofsync direct}"
declare -A DIR
RUNS=()
for b in $BUILD; do
  label=${b%%=*}; [[ $b == *=* ]] || label=$(basename "$(dirname "$b")")/$(basename "$b")
  DIR[$label]=${b#*=}
  for m in "${MODES[@]}"; do RUNS+=("$label:$m"); done
done
declare -A PORT PID
for run in "${RUNS[@]}"; do
  label=${run%%:*}; m=${run#*:}; d="$TMP/${run//[\/:]/_}"
  mkdir -p "$d/root"
  case $m in
    atomic-fsync) printf 'uploads:\n  mode: atomic\n  fsync: true\n' ;;
    atomic-nofsync) printf 'uploads:\n  mode: atomic\n  fsync: false\n' ;;
    direct) printf 'uploads:\n  mode: direct\n' ;;
    *) echo "unknown mode $m" >&2; exit 2 ;;
  esac >"$d/ftpkit.yaml"
  FTPKIT_ALLOW_ROOT=1 node "${DIR[$label]}/cli/main.js" serve "$d/root" --config "$d/ftpkit.yaml" --write \
    --host 127.0.0.1 --port 0 --log-level warn "${TLS_SERVE[@]}" >"$d/log" 2>&1 &
  PID[$run]=$!; PIDS+=("$!")
  wait_port "$d/log"
  PORT[$run]=$(grep -o 'ftp://[^ /]*:[0-9]*' "$d/log" | head -1 | sed 's/.*://')
done
for i in $(seq 1 "$REPS"); do
  for run in "${RUNS[@]}"; do
    d="$TMP/${run//[\/:]/_}"
    # Freshly freed page-cache pages for every run alike (bench/lib/page-cache.ts says why).
    dd if="$TMP/up" of="$TMP/recycle" bs=1M status=none; rm -f "$TMP/recycle"
    c0=$(cpu_ms "${PID[$run]}"); t0=$(date +%s%N)
    curl -s -S "${TLS_CURL[@]}" -T "$TMP/up" "ftp://127.0.0.1:${PORT[$run]}/up$i"
    t1=$(date +%s%N); c1=$(cpu_ms "${PID[$run]}")
    cmp -s "$TMP/up" "$d/root/up$i" || { echo "$run: the stored file differs from the upload" >&2; exit 1; }
    echo "$(( (c1 - c0) * 1024 / SIZE_MIB ))" >>"$d.cpu"
    echo "$(( BYTES * 1000 / (t1 - t0) ))" >>"$d.mbs"
    rm -f "$d/root/up$i"
  done
done
for run in "${RUNS[@]}"; do
  d="$TMP/${run//[\/:]/_}"
  printf '%-28s server CPU ms/GiB %s   MB/s %s\n' "$run" "$(median <"$d.cpu")" "$(median <"$d.mbs")"
done
echo "uptime after: $(uptime)"
