#!/usr/bin/env bash
# Stops what `npm run up` started (the PIDs in .data/*.pid), gracefully first.
set -euo pipefail
cd "$(dirname "$0")/.."

for name in gateway auth-core; do
  pidfile=.data/$name.pid
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  # Only signal the PID if it is still our node process, not a recycled PID.
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "dist/apps/"; then
    echo "stopping $name (pid $pid)"
    kill -TERM "$pid"
    # auth-core drains NATS subscriptions on SIGTERM; give it time before forcing.
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "$name did not stop within 10 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
done
