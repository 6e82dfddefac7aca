#!/usr/bin/env bash
# The evidence ledger at scale, on SQLite and on the real PostgreSQL server of the tests:
#   1. seed N check records (default 1,000,000) as the store writes them, the append-only
#      triggers checking every row, in one transaction (a million separate commits would
#      time the disk, not the ledger);
#   2. WRITERS connections (default 32) append EACH records (default 50) at once through the
#      store's own API, one transaction a record: none may be lost and the chain must verify;
#   3. time the whole ledger read and chain check, in-process and as
#      `plan-guard evidence verify`, with its peak memory.
#   bash bench/ledger.sh [N]          WRITERS=… EACH=… in the environment
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
n="${1:-1000000}"
writers="${WRITERS:-32}"
each="${EACH:-50}"
for v in "$n" "$writers" "$each"; do
  [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "bench/ledger.sh: '$v' is not a count" >&2; exit 1; }
done
cargo build --quiet --release -p plan-guard --bins -p iom-store --examples --manifest-path "$repo/Cargo.toml"
target="$(cargo metadata --format-version 1 --no-deps --manifest-path "$repo/Cargo.toml" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
bench="$target/release/examples/ledger_bench"
plan_guard="$target/release/plan-guard"
out="$repo/bench/out/ledger"
rm -rf "$out"
mkdir -p "$out"

timed_verify() { # URL: `plan-guard evidence verify` wall time and peak RSS
  /usr/bin/time -f '%e %M' -o "$out/time" "$plan_guard" evidence verify --store "$1" >/dev/null
  read -r secs kb <"$out/time"
  echo "plan-guard evidence verify: $secs s, peak RSS $((kb / 1024)) MB"
}

run_on() { # NAME URL
  echo "== $1"
  "$bench" "$2" seed "$n"
  "$bench" "$2" append "$writers" "$each"
  "$bench" "$2" verify
  timed_verify "$2"
}

run_on SQLite "sqlite://$out/ledger.db"
echo "   (database file: $(du -m "$out/ledger.db" | cut -f1) MB)"

# The tests' own throwaway server (loopback, under .tools/pg), a database of the bench's own.
bash "$repo/scripts/install-postgres.sh" >/dev/null
server="$(bash "$repo/scripts/pg.sh" start)"
psql "$server" -qAt -c 'DROP DATABASE IF EXISTS iom_ledger_bench' -c 'CREATE DATABASE iom_ledger_bench' >/dev/null
run_on PostgreSQL "${server%/*}/iom_ledger_bench"
