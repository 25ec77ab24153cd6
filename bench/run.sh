#!/usr/bin/env bash
# npm run bench [-- --full | --smoke ...]: builds ftpkit (the bench measures dist/, as users run it), raises
# the descriptor limit for the idle-sessions test (10,000 sessions held), then runs bench/main.ts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
npm run --silent build
exec node --import tsx bench/main.ts "$@"
