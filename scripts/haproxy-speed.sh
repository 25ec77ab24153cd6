#!/usr/bin/env bash
# What HAProxy with the PROXY protocol costs a transfer (not part of npm test; docs/server.md#behind-a-load-balancer).
#
# Builds this checkout (dist/), starts `ftpkit serve` from it on 127.0.0.11 over a temp folder holding one
# page-cached file, with `proxyProtocol: { from: [127.0.0.10], mode: optional }` (so a direct client is
# served too), and HAProxy (`haproxy -db`, the shape of deploy/haproxy.cfg: send-proxy-v2, source
# 127.0.0.10) on 127.0.0.10 forwarding the control port and the passive range. Then, interleaved, REPS
# times each: curl RETR (to /dev/null) and STOR (curl -T) of the file, EPSV, directly to the node and
# through the balancer. Prints medians (min-max) in MB/s (10^6 bytes/s), with `uptime` before and after.
# Usage: scripts/haproxy-speed.sh [REPS=3] [SIZE_MIB=512]      Needs haproxy (Debian package) and curl.
set -euo pipefail
REPS=${1:-3}
SIZE_MIB=${2:-512}
REPO=$(cd "$(dirname "$0")/.." && pwd)
HAPROXY=${HAPROXY:-$(command -v haproxy || echo /usr/sbin/haproxy)}
TMP=$(mktemp -d /tmp/ftpkit-haproxy-speed.XXXXXX)
SERVE_PID=
HAPROXY_PID=
# shellcheck disable=SC2086
trap 'kill $SERVE_PID $HAPROXY_PID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$TMP"' EXIT
BYTES=$((SIZE_MIB * 1024 * 1024))
BASE=$((20000 + RANDOM % 20000))
CONTROL=$BASE; MIN=$((BASE + 1)); MAX=$((BASE + 20))

(cd "$REPO" && npm run build >/dev/null)
mkdir -p "$TMP/root"
head -c "$BYTES" /dev/urandom > "$TMP/root/big.bin"
cat "$TMP/root/big.bin" > /dev/null
cat > "$TMP/ftpkit.yaml" <<YAML
host: 127.0.0.11
port: $CONTROL
anonymous: { enabled: true, root: $TMP/root, write: true }
passive: { ports: $MIN-$MAX }
uploads: { fsync: false }
log: { level: warn }
proxyProtocol: { from: [127.0.0.10], mode: optional }
YAML
cat > "$TMP/haproxy.cfg" <<CFG
defaults
    mode tcp
    source 127.0.0.10
    timeout connect 5s
    timeout client 10m
    timeout server 10m
frontend ftp_control
    bind 127.0.0.10:$CONTROL
    default_backend ftp_nodes
backend ftp_nodes
    balance leastconn
    server node1 127.0.0.11:$CONTROL send-proxy-v2
frontend ftp_data
    bind 127.0.0.10:$MIN-$MAX
    default_backend ftp_data
backend ftp_data
    server node1 127.0.0.11 send-proxy-v2
CFG
FTPKIT_ALLOW_ROOT=1 node "$REPO/dist/cli/main.js" serve --config "$TMP/ftpkit.yaml" > "$TMP/serve.log" 2>&1 &
SERVE_PID=$!
"$HAPROXY" -db -f "$TMP/haproxy.cfg" > "$TMP/haproxy.log" 2>&1 &
HAPROXY_PID=$!
for _ in $(seq 100); do
  curl -s -o /dev/null "ftp://127.0.0.11:$CONTROL/" && curl -s -o /dev/null "ftp://127.0.0.10:$CONTROL/" && break
  sleep 0.1
done

declare -A RESULTS
mbps() { awk -v b="$BYTES" -v s="$1" 'BEGIN { printf "%.0f", b / s / 1e6 }'; }
run() { # name host kind
  local t
  if [ "$3" = retr ]; then
    t=$(curl -sS -o /dev/null -w '%{time_total}' "ftp://$2:$CONTROL/big.bin")
  else
    t=$(curl -sS -o /dev/null -w '%{time_total}' -T "$TMP/root/big.bin" "ftp://$2:$CONTROL/up.bin")
  fi
  RESULTS[$1]+="$(mbps "$t") "
}
echo "uptime before: $(uptime)"
for _ in $(seq "$REPS"); do
  run "RETR direct" 127.0.0.11 retr; run "RETR via haproxy" 127.0.0.10 retr
  run "STOR direct" 127.0.0.11 stor; run "STOR via haproxy" 127.0.0.10 stor
done
echo "uptime after:  $(uptime)"
for name in "RETR direct" "RETR via haproxy" "STOR direct" "STOR via haproxy"; do
  # shellcheck disable=SC2086
  sorted=$(printf '%s\n' ${RESULTS[$name]} | sort -n)
  n=$(echo "$sorted" | wc -l)
  printf '%-18s %6s MB/s median (%s-%s), %s MiB x %s\n' "$name" "$(echo "$sorted" | sed -n "$(( (n + 1) / 2 ))p")" \
    "$(echo "$sorted" | head -1)" "$(echo "$sorted" | tail -1)" "$SIZE_MIB" "$n"
done
