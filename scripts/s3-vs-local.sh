#!/usr/bin/env bash
# Throughput of an S3-backed node vs a local-disk node, in the same run (issue 13's closing figure;
# docs/scale-out.md): STOR then RETR of SIZE_MIB (default 1 GiB) with curl, through `ftpkit serve` with an
# anonymous writable root `s3://ftpkit-tests/bench/` on a private Ceph radosgw (test/support/services/
# radosgw.ts, its memstore OSD raised to MEMSTORE_GIB, default 3 GiB: objects live in RAM) and through one
# with a local folder. Reads the server's utime+stime from /proc/PID/stat around each transfer.
# Prints MB/s and server CPU ms per GiB per node and direction, with `uptime`. As root (Ceph's daemons).
# Not part of npm test. Usage: scripts/s3-vs-local.sh [SIZE_MIB=1024] [MEMSTORE_GIB=3]
set -euo pipefail
SIZE_MIB=${1:-1024}
MEMSTORE_GIB=${2:-3}
REPO=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d /tmp/ftpkit-s3-vs-local.XXXXXX)
# shellcheck source=scripts/bench-common.sh
. "$REPO/scripts/bench-common.sh"
BYTES=$((SIZE_MIB * 1024 * 1024))
wait_for() { for _ in $(seq 1 1200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "timed out waiting for $2 in $1" >&2; cat "$1" >&2; exit 1; }

echo "== s3-vs-local $(date -u +%FT%TZ), $SIZE_MIB MiB, memstore ${MEMSTORE_GIB} GiB"
echo "uptime before: $(uptime)"

# A private radosgw (started like the test service, stopped by SIGTERM to its runner at exit).
cat >"$TMP/rgw.mts" <<EOF
import { radosgw } from '$REPO/test/support/services/radosgw.ts';
const running = await radosgw.start('$TMP/rgw');
console.log('RGW ' + JSON.stringify(running.details));
const stop = async () => { await running.stop(); process.exit(0); };
process.on('SIGTERM', stop);
setInterval(() => {}, 1 << 30);
EOF
mkdir -p "$TMP/rgw"
(cd "$REPO" && FTPKIT_RADOSGW_MEMSTORE_BYTES=$((MEMSTORE_GIB * 1024 * 1024 * 1024)) exec node --import tsx "$TMP/rgw.mts") >"$TMP/rgw.log" 2>&1 &
PIDS+=("$!")
wait_for "$TMP/rgw.log" '^RGW '
RGW=$(sed -n 's/^RGW //p' "$TMP/rgw.log")
field() { node -e "process.stdout.write(JSON.parse(process.argv[1])[process.argv[2]])" "$RGW" "$1"; }

mkdir -p "$TMP/local/root"
printf 'anonymous: { enabled: true, root: %s, write: true }\n' "$TMP/local/root" >"$TMP/local/ftpkit.yaml"
mkdir -p "$TMP/s3"
cat >"$TMP/s3/ftpkit.yaml" <<EOF
s3:
  endpoint: $(field endpoint)
  region: $(field region)
  accessKeyId: $(field accessKeyId)
  secretAccessKey: $(field secretAccessKey)
  forcePathStyle: true
anonymous: { enabled: true, root: "s3://$(field bucket)/bench/", write: true }
EOF
declare -A PORT PID
for n in local s3; do
  (cd "$REPO" && FTPKIT_ALLOW_ROOT=1 exec node --import tsx src/cli/main.ts serve --config "$TMP/$n/ftpkit.yaml" \
    --host 127.0.0.1 --port 0 --log-level warn) >"$TMP/$n/log" 2>&1 &
  PID[$n]=$!; PIDS+=("$!")
  wait_for "$TMP/$n/log" 'ftp://'
  PORT[$n]=$(grep -o 'ftp://[^ /]*:[0-9]*' "$TMP/$n/log" | head -1 | sed 's/.*://')
done

dd if=/dev/urandom of="$TMP/up" bs=1M count="$SIZE_MIB" status=none
for n in local s3; do
  for dir in STOR RETR; do
    c0=$(cpu_ms "${PID[$n]}"); t0=$(date +%s%N)
    if [ $dir = STOR ]; then curl -sS -T "$TMP/up" "ftp://127.0.0.1:${PORT[$n]}/big.bin"
    else curl -sS -o "$TMP/down" "ftp://127.0.0.1:${PORT[$n]}/big.bin"; fi
    t1=$(date +%s%N); c1=$(cpu_ms "${PID[$n]}")
    [ $dir = RETR ] && { cmp -s "$TMP/up" "$TMP/down" || { echo "$n: download differs" >&2; exit 1; }; rm -f "$TMP/down"; }
    printf '%-6s %s  %7.1f MB/s  server CPU %6d ms/GiB\n' "$n" "$dir" "$(awk -v b="$BYTES" -v ns="$((t1 - t0))" 'BEGIN { print b * 1000 / ns }')" \
      "$(( (c1 - c0) * 1024 / SIZE_MIB ))"
  done
  curl -sS -Q '-DELE big.bin' "ftp://127.0.0.1:${PORT[$n]}/" >/dev/null
done
echo "uptime after: $(uptime)"
