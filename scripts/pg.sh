#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, under .tools/pg, on loopback only.
#
#   bash scripts/pg.sh start    initialises (once) and starts it; prints its URL
#   bash scripts/pg.sh stop
#   bash scripts/pg.sh url
#   bash scripts/pg.sh ca       prints the test CA certificate the server's TLS chains to
#
# TLS is on, with a server certificate for `localhost` from a throwaway CA made here, so the
# store's sslmode handling is tested against the real server. The role `iom_tls_only` may
# log in over TLS only (pg_hba rejects it on a plain connection): a test that gets in as
# that role has proven its connection was encrypted.
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

tls_dir="$dir/tls"

make_tls() { # a CA and a server certificate for localhost, once
  [ -f "$tls_dir/server.key" ] && return 0
  mkdir -p "$tls_dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=iom test CA" -keyout "$tls_dir/ca.key" -out "$tls_dir/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=localhost" -keyout "$tls_dir/server.key.new" -out "$tls_dir/server.csr" 2>/dev/null
  # Only the name localhost: a client that checks names must refuse 127.0.0.1.
  printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$tls_dir/ext.cnf"
  openssl x509 -req -in "$tls_dir/server.csr" -CA "$tls_dir/ca.crt" -CAkey "$tls_dir/ca.key" \
    -CAcreateserial -days 3650 -extfile "$tls_dir/ext.cnf" -out "$tls_dir/server.crt" 2>/dev/null
  chmod 600 "$tls_dir/server.key.new"
  [ "$(id -u)" = 0 ] && chown postgres "$tls_dir/server.key.new" "$tls_dir/server.crt"
  mv "$tls_dir/server.key.new" "$tls_dir/server.key"
}

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
    make_tls
    hba="$dir/data/pg_hba.conf"
    if ! grep -q iom_tls_only "$hba"; then
      { echo "hostnossl all iom_tls_only 0.0.0.0/0 reject"; echo "hostnossl all iom_tls_only ::/0 reject"; cat "$hba"; } >"$hba.new"
      [ "$(id -u)" = 0 ] && chown postgres "$hba.new"
      mv "$hba.new" "$hba"
    fi
    if ! as_server_user "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      # Another server (another checkout's, say) may hold the port: take a free one.
      [ -n "${IOM_PG_PORT:-}" ] || port="$(free_port "$port")"
      echo "$port" >"$port_file"
      if ! as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-h 127.0.0.1 -p $port -k $dir -c max_connections=200 -c ssl=on -c ssl_cert_file=$tls_dir/server.crt -c ssl_key_file=$tls_dir/server.key" start >/dev/null; then
        echo "pg.sh: the server did not start (is port $port taken? IOM_PG_PORT picks another):" >&2
        tail -n 20 "$dir/server.log" >&2 || true
        exit 1
      fi
    fi
    as_server_user "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 \
      -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'iom_tls_only') THEN CREATE ROLE iom_tls_only LOGIN SUPERUSER; END IF; END \$\$" >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  ca)
    echo "$tls_dir/ca.crt"
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
    echo "usage: bash scripts/pg.sh start|stop|url|ca" >&2
    exit 2
    ;;
esac
