#!/usr/bin/env bash
# Two plan-guard builds head to head on the plans bench/run.sh generated (bench/out), run
# alternately so both see the same machine:
#   bash bench/compare.sh OLD_PLAN_GUARD NEW_PLAN_GUARD [N ...]     (default: every plan there)
# Prints each build's median wall time, CPU time (user + system) and peak RSS over RUNS
# (default 7) and new/old. CPU time is the figure to trust on a busy machine: a build that
# waits for a core or the disk loses wall time, not CPU time. A build older than
# --init-store is given none (it created its store itself).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -ge 2 ] || { echo "usage: bash bench/compare.sh OLD_PLAN_GUARD NEW_PLAN_GUARD [N ...]" >&2; exit 2; }
old="$1" new="$2"
shift 2
out="$repo/bench/out"
runs="${RUNS:-7}"
sizes=("$@")
if [ ${#sizes[@]} -eq 0 ]; then
  for plan in "$out"/plan-*.json; do
    n="${plan##*/plan-}"
    sizes+=("${n%.json}")
  done
fi
run() { # BINARY PLAN LEDGER: "wall_s cpu_s rss_kb" of one check
  local init=()
  # Not `--help | grep -q`: under pipefail, grep leaving early fails the pipeline.
  case "$("$1" check --help)" in *--init-store*) init=(--init-store) ;; esac
  /usr/bin/time -f '%e %U %S %M' -o "$out/compare.time" "$1" check "$2" \
    --model "$repo/bench/governance" --store "sqlite://$3" "${init[@]}" \
    --workspace bench-estate --actor bench --format json --output /dev/null >/dev/null 2>&1 || true
  awk 'NF == 4 { print $1, $2 + $3, $4 }' "$out/compare.time"
}
median() { # COLUMN: the median of that column of stdin
  awk -v c="$1" '{ print $c }' | sort -g | sed -n "$(( (runs + 1) / 2 ))p"
}
printf '%-9s %9s %9s %7s %9s %9s %7s %8s %8s\n' instances "old wall" "new wall" ratio "old cpu" "new cpu" ratio "old MB" "new MB"
for n in "${sizes[@]}"; do
  plan="$out/plan-$n.json"
  [ -s "$plan" ] || { echo "bench/compare.sh: no $plan: run bench/run.sh $n first" >&2; exit 1; }
  rm -f "$out"/compare-*.db
  run "$old" "$plan" "$out/compare-old.db" >/dev/null # warm the page cache for both
  run "$new" "$plan" "$out/compare-new.db" >/dev/null
  : >"$out/compare-old.txt"
  : >"$out/compare-new.txt"
  for _ in $(seq "$runs"); do
    run "$old" "$plan" "$out/compare-old.db" >>"$out/compare-old.txt"
    run "$new" "$plan" "$out/compare-new.db" >>"$out/compare-new.txt"
  done
  ow=$(median 1 <"$out/compare-old.txt") nw=$(median 1 <"$out/compare-new.txt")
  oc=$(median 2 <"$out/compare-old.txt") nc=$(median 2 <"$out/compare-new.txt")
  om=$(median 3 <"$out/compare-old.txt") nm=$(median 3 <"$out/compare-new.txt")
  awk -v n="$n" -v ow="$ow" -v nw="$nw" -v oc="$oc" -v nc="$nc" -v om="$om" -v nm="$nm" 'BEGIN {
    printf "%-9s %9.3f %9.3f %7.2f %9.2f %9.2f %7.2f %8.1f %8.1f\n", n, ow, nw, nw / ow, oc, nc, nc / (oc > 0 ? oc : 1), om / 1024, nm / 1024 }'
done
