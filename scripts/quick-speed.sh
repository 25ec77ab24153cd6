#!/usr/bin/env bash
# Quick data-path speed check (not part of npm test; the full comparison is `npm run bench`).
#
# Builds this checkout (npm run build, into dist/) and starts `ftpkit serve` from it and vsftpd on random high loopback ports over a temp
# folder holding one page-cached 1 GiB file, then, interleaved, REPS times each:
#   server: curl RETR and STOR (curl -T), plain and explicit TLS (--ssl-reqd -k), against both servers,
#           with the server's CPU (utime+stime, plus reaped children for vsftpd's per-session processes)
#           read from /proc/PID/stat before and after;
#   client: `ftpkit get` from vsftpd to /dev/null, to stdout (redirected to /dev/null) and to a file, and
#           `ftpkit put`, against curl doing the same.
# Prints medians (min-max) in MB/s (10^6 bytes/s) and CPU ms per GiB, with `uptime` before and after.
# Usage: scripts/quick-speed.sh [REPS=3] [SIZE_MIB=1024]      Needs root for vsftpd (like the interop tests).
# BASE_DIST=/path/to/other/checkout/dist adds that build's server as "base", interleaved (a before/after
# comparison in one run: single figures on a shared machine vary by 2x between runs).
set -euo pipefail
REPS=${1:-3}
SIZE_MIB=${2:-1024}
REPO=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d /tmp/ftpkit-quick-speed.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
BYTES=$((SIZE_MIB * 1024 * 1024))
TICK=$(getconf CLK_TCK)

rand_port() { echo $((20000 + RANDOM % 20000)); }
cpu_ms() { # utime+stime+cutime+cstime of PID, in ms
  awk -v t="$TICK" '{ sub(/^.*\) /, ""); print int(($12 + $13 + $14 + $15) * 1000 / t) }' "/proc/$1/stat"
}
median() { sort -n | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.0f (%.0f-%.0f)", m, a[1], a[NR] }'; }
# Wait until the server answers on its control port (the process may need a moment to start).
wait_port() { for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }

echo "== quick-speed $(date -u +%FT%TZ), $SIZE_MIB MiB x $REPS reps, node $(node --version), $(nproc) cores"
echo "uptime before: $(uptime)"
(cd "$REPO" && npm run -s build)

mkdir -p "$TMP/ftpkit" "$TMP/vsftpd/upload" "$TMP/local"
dd if=/dev/zero of="$TMP/ftpkit/big" bs=1M count="$SIZE_MIB" status=none
cp "$TMP/ftpkit/big" "$TMP/vsftpd/big"
cat "$TMP/ftpkit/big" "$TMP/vsftpd/big" >/dev/null
cp "$TMP/ftpkit/big" "$TMP/local/up"
chown ftp "$TMP/vsftpd/upload"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null

# ftpkit serve: anonymous, writable, explicit TLS offered.
FP=$(rand_port); FPASV=$(rand_port)
node "$REPO/dist/cli/main.js" serve "$TMP/ftpkit" --write --host 127.0.0.1 --port "$FP" \
  --pasv-ports "$FPASV-$((FPASV + 20))" --max-sessions 20 --tls explicit --cert "$TMP/cert.pem" --key "$TMP/key.pem" \
  --log-level warn >"$TMP/ftpkit.log" 2>&1 &
FPID=$!; PIDS+=("$FPID")
if [ -n "${BASE_DIST:-}" ]; then
  mkdir -p "$TMP/base"; ln "$TMP/ftpkit/big" "$TMP/base/big"
  BP=$(rand_port); BPASV=$(rand_port)
  node "$BASE_DIST/cli/main.js" serve "$TMP/base" --write --host 127.0.0.1 --port "$BP" \
    --pasv-ports "$BPASV-$((BPASV + 20))" --max-sessions 20 --tls explicit --cert "$TMP/cert.pem" --key "$TMP/key.pem" \
    --log-level warn >"$TMP/base.log" 2>&1 &
  BPID=$!; PIDS+=("$BPID")
fi

# vsftpd (as test/support/peers-servers.ts starts it).
VP=$(rand_port); VPASV=$(rand_port)
VSFTPD=${FTPKIT_VSFTPD:-/opt/ftpkit-peers/vsftpd/usr/sbin/vsftpd}
[ -x "$VSFTPD" ] || VSFTPD=/usr/sbin/vsftpd
cat >"$TMP/vsftpd.conf" <<EOF
background=NO
listen=YES
listen_address=127.0.0.1
listen_port=$VP
anonymous_enable=YES
local_enable=NO
anon_root=$TMP/vsftpd
ftp_username=ftp
write_enable=YES
anon_upload_enable=YES
anon_other_write_enable=YES
anon_umask=022
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
pasv_enable=YES
pasv_min_port=$VPASV
pasv_max_port=$((VPASV + 20))
ssl_enable=YES
rsa_cert_file=$TMP/cert.pem
rsa_private_key_file=$TMP/key.pem
ssl_ciphers=HIGH
allow_anon_ssl=YES
force_anon_logins_ssl=NO
force_anon_data_ssl=NO
require_ssl_reuse=NO
EOF
# vsftpd's transfers run in per-session grandchildren that outlive their parents: run it under a child
# subreaper (prctl PR_SET_CHILD_SUBREAPER) that reaps every descendant, so their CPU lands in its cutime/cstime.
python3 -c '
import ctypes, os, signal, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGTERM))
while True:
    try:
        if os.wait()[0] == pid: break
    except ChildProcessError: break
    except InterruptedError: pass
' "$VSFTPD" "$TMP/vsftpd.conf" >"$TMP/vsftpd.out" 2>&1 &
VPID=$!; PIDS+=("$VPID")
wait_port "$FP"; wait_port "$VP"; [ -z "${BASE_DIST:-}" ] || wait_port "$BP"

# CPU of a server: the process, what it reaped, and for vsftpd (PID = the subreaper) its master process
# with the sessions the master reaped; the orphaned session processes land in the subreaper's own cutime.
tree_cpu_ms() {
  local total kid
  total=$(cpu_ms "$1")
  for kid in $(pgrep -P "$1"); do total=$((total + $(cpu_ms "$kid"))); done
  echo "$total"
}
# Wait (bounded) until a server's session processes have exited and been reaped.
settle() {
  local kid
  for _ in $(seq 1 60); do
    kid=$(pgrep -o -P "$1" || true)
    if [ "$(pgrep -P "$1" | wc -l)" -le 1 ] && { [ -z "$kid" ] || [ "$(pgrep -P "$kid" | wc -l)" = 0 ]; }; then return 0; fi
    sleep 0.05
  done
}
declare -A SPEED CPU
STARTUP=""
# One server transfer: $1 label, $2 server pid, $3 port, $4 get|put, $5 tls|plain, $6 remote path
server_run() {
  local label=$1 pid=$2 port=$3 op=$4 tls=$5 path=$6 before after out
  local -a flags=(-s --user anonymous:a@b)
  [ "$tls" = tls ] && flags+=(--ssl-reqd -k)
  settle "$pid"; before=$(tree_cpu_ms "$pid")
  if [ "$op" = get ]; then
    out=$(curl "${flags[@]}" -o /dev/null -w '%{speed_download} %{size_download}' "ftp://127.0.0.1:$port/$path")
  else
    out=$(curl "${flags[@]}" -T "$TMP/local/up" -w '%{speed_upload} %{size_upload}' "ftp://127.0.0.1:$port/$path")
  fi
  settle "$pid"; after=$(tree_cpu_ms "$pid")
  [ "${out#* }" = "$BYTES" ] || { echo "$label $op $tls: moved ${out#* } of $BYTES bytes" >&2; exit 1; }
  SPEED["$label $op $tls"]+="$(awk -v s="${out% *}" 'BEGIN { printf "%.0f", s / 1e6 }') "
  CPU["$label $op $tls"]+="$(( (after - before) * 1024 / SIZE_MIB )) "
  [ "$op" = put ] && rm -f "$TMP/ftpkit/up.bin" "$TMP/vsftpd/upload/up.bin" "$TMP/base/up.bin"
  return 0
}

FTPKIT=(node "$REPO/dist/cli/main.js")
# One client transfer from vsftpd, timed around the whole command ($1 label, rest: the command).
client_run() {
  local label=$1; shift
  local t0 t1
  t0=$(date +%s%N)
  "$@" 2>>"$TMP/client.log"
  t1=$(date +%s%N)
  SPEED["$label"]+="$(awk -v b="$BYTES" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", b / (ns / 1e9) / 1e6 }') "
  rm -f "$TMP/local/down" "$TMP/vsftpd/upload/up.bin"
}

for rep in $(seq 1 "$REPS"); do
  for tls in plain tls; do
    server_run ftpkit "$FPID" "$FP" get "$tls" big
    [ -z "${BASE_DIST:-}" ] || server_run base "$BPID" "$BP" get "$tls" big
    server_run vsftpd "$VPID" "$VP" get "$tls" big
    server_run ftpkit "$FPID" "$FP" put "$tls" up.bin
    [ -z "${BASE_DIST:-}" ] || server_run base "$BPID" "$BP" put "$tls" up.bin
    server_run vsftpd "$VPID" "$VP" put "$tls" upload/up.bin
  done
  V="ftp://anonymous:a%40b@127.0.0.1:$VP"
  client_run "client ftpkit get >/dev/null" "${FTPKIT[@]}" get "$V/big" /dev/null
  client_run "client curl   get >/dev/null" curl -s -o /dev/null "$V/big"
  client_run "client ftpkit get - (stdout)" sh -c '"$@" >/dev/null' _ "${FTPKIT[@]}" get "$V/big" -
  client_run "client ftpkit get file" "${FTPKIT[@]}" get "$V/big" "$TMP/local/down"
  client_run "client curl   get file" curl -s -o "$TMP/local/down" "$V/big"
  client_run "client ftpkit put" "${FTPKIT[@]}" put "$TMP/local/up" "$V/upload/up.bin"
  client_run "client curl   put" curl -s -T "$TMP/local/up" "$V/upload/up.bin"
  t0=$(date +%s%N); "${FTPKIT[@]}" --version >/dev/null; t1=$(date +%s%N)
  STARTUP+="$(( (t1 - t0) / 1000000 )) "
done

echo
printf '%-36s %-22s %s\n' "figure" "MB/s median (min-max)" "server CPU ms/GiB median (min-max)"
for key in "ftpkit get plain" "base get plain" "vsftpd get plain" "ftpkit put plain" "base put plain" "vsftpd put plain" \
           "ftpkit get tls" "base get tls" "vsftpd get tls" "ftpkit put tls" "base put tls" "vsftpd put tls"; do
  [ -n "${SPEED[$key]:-}" ] || continue
  printf '%-36s %-22s %s\n' "server $key" "$(tr ' ' '\n' <<<"${SPEED[$key]}" | grep . | median)" \
    "$(tr ' ' '\n' <<<"${CPU[$key]}" | grep . | median)"
done
for key in "client ftpkit get >/dev/null" "client curl   get >/dev/null" "client ftpkit get - (stdout)" \
           "client ftpkit get file" "client curl   get file" "client ftpkit put" "client curl   put"; do
  printf '%-36s %s\n' "$key" "$(tr ' ' '\n' <<<"${SPEED[$key]}" | grep . | median)"
done
echo "(client figures: the whole command, start-up included: \`ftpkit --version\` through tsx takes $(tr ' ' '\n' <<<"$STARTUP" | grep . | median) ms)"
echo "uptime after: $(uptime)"
