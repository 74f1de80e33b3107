#!/usr/bin/env bash
# `npm run up`: one command from a fresh clone to a running gateway + auth-core on this machine.
# Needs PostgreSQL and NATS (JetStream); says how to get them when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/portcullis}
export NATS_URL=${NATS_URL:-nats://127.0.0.1:4222}
export PORT=${PORT:-3000}
# The URL the gateway answers on here: discovery, the token endpoint and every token's `iss` name it.
export ISSUER=${ISSUER:-http://localhost:$PORT}
DATA=.data
LOGS=$DATA/logs
mkdir -p "$LOGS"

log() { printf '==> %s\n' "$*"; }
tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
# host and port of a URL (first server of a comma-separated NATS list), via node's URL parser.
host_port() {
  node -e 'const u=new URL(process.argv[1].split(",")[0]);console.log(u.hostname.replace(/^\[|\]$/g,""),u.port||process.argv[2])' "$1" "$2"
}

[ -d node_modules ] || { log "npm ci (node_modules missing)"; npm ci --no-audit --no-fund; }

read -r pg_host pg_port < <(host_port "$DATABASE_URL" 5432)
read -r nats_host nats_port < <(host_port "$NATS_URL" 4222)
missing=0
if ! tcp_open "$pg_host" "$pg_port"; then
  missing=1
  cat >&2 <<MSG
PostgreSQL is not reachable at $pg_host:$pg_port (DATABASE_URL=$DATABASE_URL).
  Debian/Ubuntu:  sudo apt-get install postgresql
                  sudo pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start
  or Docker:      cp .env.example .env  (set the secrets), docker compose up -d postgres nats, then
                  DATABASE_URL=postgres://portcullis:<POSTGRES_PASSWORD>@127.0.0.1:5432/portcullis npm run up
  or the whole stack in Docker instead of this script: docker compose up --build
  or point DATABASE_URL at an existing server.
MSG
fi
if ! tcp_open "$nats_host" "$nats_port"; then
  missing=1
  cat >&2 <<MSG
NATS is not reachable at $nats_host:$nats_port (NATS_URL=$NATS_URL).
  Debian/Ubuntu:  sudo apt-get install nats-server && sudo mkdir -p /var/lib/nats-server
                  sudo start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \\
                    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  or Docker:      docker compose up -d nats
  (JetStream must be on: -js)
MSG
fi
[ "$missing" = 0 ] || exit 1

log "ensuring the database exists"
{ read -r DB_NAME; read -r ADMIN_DB_URL; } < <(node -e '
  const u = new URL(process.argv[1]);
  const db = decodeURIComponent(u.pathname.slice(1)) || "postgres";
  u.pathname = "/postgres";
  console.log(db + "\n" + u);
' "$DATABASE_URL")
if command -v psql >/dev/null; then
  psql_admin() { psql "$ADMIN_DB_URL" -w -X -q -tA -v ON_ERROR_STOP=1 -v db="$DB_NAME"; }
  if [ "$(echo "SELECT 1 FROM pg_database WHERE datname = :'db'" | psql_admin)" != 1 ]; then
    echo 'CREATE DATABASE :"db"' | psql_admin && echo "created database $DB_NAME"
  fi
else
  # No psql client: do the same with the pg driver the app already depends on.
  node -e '
    const { Client } = require("pg");
    const [url, db] = process.argv.slice(1);
    (async () => {
      const c = new Client({ connectionString: url });
      await c.connect();
      const r = await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [db]);
      if (r.rowCount === 0) {
        await c.query(`CREATE DATABASE "${db.replace(/"/g, "\"\"")}"`);
        console.log(`created database ${db}`);
      }
      await c.end();
    })().catch((e) => { console.error(`cannot create database ${db}: ${e.message}`); process.exit(1); });
  ' "$ADMIN_DB_URL" "$DB_NAME"
fi

if [ ! -f "$DATA/dev.env" ]; then
  # Kept across runs on purpose: signing keys in the database are encrypted with MASTER_KEY,
  # and the admin password only applies when auth-core bootstraps an empty database.
  # Reuse the key auth-core may already have generated for itself without one.
  master_key=$(cat "$DATA/master.key" 2>/dev/null || node -e 'console.log(require("crypto").randomBytes(48).toString("base64"))')
  admin_password=$(node -e 'console.log(require("crypto").randomBytes(18).toString("base64url"))')
  (umask 077; printf 'MASTER_KEY=%s\nADMIN_USERNAME=admin\nADMIN_PASSWORD=%s\n' "$master_key" "$admin_password" >"$DATA/dev.env")
  echo "WARNING: generated $DATA/dev.env with a DEVELOPMENT master key and admin password." >&2
  echo "         Do not use them anywhere else; production needs its own MASTER_KEY." >&2
fi
# The shell environment wins over dev.env.
while IFS='=' read -r key value; do
  if [ -n "$key" ] && [ -z "${!key:-}" ]; then export "$key=$value"; fi
done <"$DATA/dev.env"

bash scripts/down.sh # a re-run replaces the processes of the previous one

log "npm run build"
npm run build
log "npm run migrate"
npm run migrate

# The runtime flags the image sets (Dockerfile `ENV NODE_OPTIONS`), so a local stack runs the same way.
NODE_OPTIONS="$(sed -n 's/^ENV NODE_OPTIONS="\(.*\)"$/\1/p' Dockerfile)"
export NODE_OPTIONS
start() { # name, entry file
  log "starting $1 (log: $LOGS/$1.log)"
  nohup node "$2" >>"$LOGS/$1.log" 2>&1 &
  echo $! >"$DATA/$1.pid"
}
start auth-core dist/apps/auth-core/apps/auth-core/src/main.js
start gateway dist/apps/gateway/apps/gateway/src/main.js

base=http://127.0.0.1:$PORT
log "waiting for $base/health/ready"
ready=0
for _ in $(seq 1 60); do
  if node -e 'fetch(process.argv[1],{signal:AbortSignal.timeout(2000)}).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))' "$base/health/ready"; then
    ready=1
    break
  fi
  for name in auth-core gateway; do
    kill -0 "$(cat "$DATA/$name.pid")" 2>/dev/null || { echo "$name exited" >&2; break 2; }
  done
  sleep 1
done
if [ "$ready" != 1 ]; then
  echo "Portcullis did not become ready within 60 s." >&2
  for name in auth-core gateway; do
    echo "--- tail of $LOGS/$name.log" >&2
    tail -n 40 "$LOGS/$name.log" >&2 || true
  done
  bash scripts/down.sh
  exit 1
fi

cat <<MSG

Portcullis is running.
  API:    $base/api/v1/status
  Docs:   $base/docs
  Admin:  username ${ADMIN_USERNAME}  password ${ADMIN_PASSWORD}
          (valid if this script's database was bootstrapped with .data/dev.env; otherwise see the
           password auth-core logged on its first start)
  Login:  curl -s -X POST $base/api/v1/auth/login -H 'content-type: application/json' \\
            -d '{"username":"${ADMIN_USERNAME}","password":"${ADMIN_PASSWORD}"}'
  Logs:   $LOGS/
  Stop:   npm run down
MSG
