#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, under .tools/pg, on loopback only.
#
#   bash scripts/pg.sh start    initialises (once) and starts it; prints its URL
#   bash scripts/pg.sh stop
#   bash scripts/pg.sh url
#
# The server refuses to run as root, so as root it runs as the `postgres` user the Debian
# package creates. Port: $IOM_PG_PORT, else the first free one from 54329 (remembered in
# .tools/pg/port, so `url` answers with the port `start` chose).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$repo/.tools/pg"
port_file="$dir/port"

free_port() { # the first port from $1 nothing listens on
  python3 - "$1" <<'PY'
import socket, sys
port = int(sys.argv[1])
while True:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        print(port)
        break
    except OSError:
        port += 1
    finally:
        s.close()
PY
}

if [ -n "${IOM_PG_PORT:-}" ]; then
  port="$IOM_PG_PORT"
elif [ -f "$port_file" ]; then
  port="$(cat "$port_file")"
else
  port=54329
fi
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -n "$bin" ] || { echo "pg.sh: no PostgreSQL server: run bash scripts/install-postgres.sh" >&2; exit 1; }

as_server_user() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "${1:-}" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_server_user "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log"
    fi
    if ! as_server_user "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      # Another server (another checkout's, say) may hold the port: take a free one.
      [ -n "${IOM_PG_PORT:-}" ] || port="$(free_port "$port")"
      echo "$port" >"$port_file"
      if ! as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-h 127.0.0.1 -p $port -k $dir -c max_connections=200" start >/dev/null; then
        echo "pg.sh: the server did not start (is port $port taken? IOM_PG_PORT picks another):" >&2
        tail -n 20 "$dir/server.log" >&2 || true
        exit 1
      fi
    fi
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    if [ -f "$dir/data/PG_VERSION" ]; then
      as_server_user "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
  url)
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  *)
    echo "usage: bash scripts/pg.sh start|stop|url" >&2
    exit 2
    ;;
esac
