# Shared by scripts/test, scripts/faults, scripts/load and scripts/backup-restore-check: start throwaway
# PostgreSQL and Redis servers on free loopback ports inside a work dir, and stop them again.
# Source it after setting ROOT; it defines functions and never starts anything by itself.
#   services_install              apt-get the Debian packages that are missing (as root)
#   pg_start DIR                  initdb + start; exports PGPORT PGBIN PGDATA DATABASE_URL. Speed over
#                                 durability (fsync off; synchronous_commit off unless PG_SYNCHRONOUS_COMMIT=on,
#                                 which a crash test needs: a commit must not be lost with the server's memory)
#   pg_stop [-m fast|immediate]   stop it (immediate = a crash, for fault tests)
#   pg_restart                    stop (fast) and start the same cluster on the same port
#   redis_start DIR               start; exports REDIS_PORT REDIS_URL
#   redis_stop / redis_restart    stop (kill) / stop and start on the same port, empty
#   free_port                     a free TCP port on 127.0.0.1

services_install() {
  local need=()
  ls -d /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  [ -x /usr/bin/chromium ] || need+=(chromium)
  if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "Missing Debian packages: ${need[*]}. Install them (sudo apt-get install ${need[*]}) or run as root." >&2
      return 1
    fi
    echo "apt-get install ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
  export PGBIN
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_start() {
  local dir="$1"
  [ -n "${PGBIN:-}" ] || PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
  mkdir -p "$dir/pg"
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir/pg"
  PGDATA="$dir/pg/data"
  PGSOCKDIR="$dir/pg"
  PGPORT="$(free_port)"
  as_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  _pg_ctl_start || return 1
  "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres harvester
  export PGBIN PGDATA PGPORT PGSOCKDIR
  export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/harvester"
}

_pg_ctl_start() {
  as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGSOCKDIR/log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGSOCKDIR -c fsync=off -c synchronous_commit=${PG_SYNCHRONOUS_COMMIT:-off} -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || { cat "$PGSOCKDIR/log" >&2; return 1; }
}

pg_stop() {
  local mode="${2:-fast}"
  [ "${1:-}" = "-m" ] || mode=fast
  [ -n "${PGDATA:-}" ] && [ -f "$PGDATA/postmaster.pid" ] \
    && as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m "$mode" -w stop >/dev/null 2>&1
  return 0
}

pg_restart() { pg_stop -m fast && _pg_ctl_start; }

redis_start() {
  local dir="$1"
  REDIS_DIR="$dir"
  REDIS_PORT="$(free_port)"
  _redis_run
  export REDIS_PORT REDIS_DIR
  export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
}

_redis_run() {
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" --dir "$REDIS_DIR"
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  redis-cli -p "$REDIS_PORT" ping >/dev/null
}

redis_stop() {
  if [ -n "${REDIS_DIR:-}" ] && [ -f "$REDIS_DIR/redis.pid" ]; then
    local pid
    pid="$(cat "$REDIS_DIR/redis.pid")"
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$REDIS_DIR/redis.pid"
  fi
  return 0
}

redis_restart() { redis_stop && _redis_run; }
