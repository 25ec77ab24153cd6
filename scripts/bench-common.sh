# Sourced by the benchmark scripts (stor-cpu.sh, s3-vs-local.sh) after they set TMP: the processes they
# start (PIDS) are killed and TMP removed at exit; cpu_ms PID prints a process's utime+stime in ms.
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
TICK=$(getconf CLK_TCK)
cpu_ms() { awk -v t="$TICK" '{ sub(/^.*\) /, ""); print int(($12 + $13) * 1000 / t) }' "/proc/$1/stat"; }
