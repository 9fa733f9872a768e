#!/usr/bin/env bash
# Compares `rabbitpay product import` with `psql \copy` of the same CSV into an
# equivalent empty table on the same (embedded, durable) cluster, and prints
# rates, their ratio and rabbitpay's peak memory.
#   scripts/bench-import.sh [ROWS]      (default 1000000)
set -euo pipefail
rows=${1:-1000000}
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/rpimport.XXXXXX)
trap 'rm -rf "$work"' EXIT
bin="$work/rabbitpay"
go build -o "$bin" .
export RABBITPAY_DATA_DIR="$work/data" RABBITPAY_DATABASE_URL=
trap '"$bin" db stop >/dev/null 2>&1; rm -rf "$work"' EXIT
"$bin" db start >/dev/null
url=$("$bin" db url)

csv="$work/catalogue.csv"
awk -v n="$rows" 'BEGIN { print "sku,name,price,stock"; for (i = 1; i <= n; i++) printf "SKU-%07d,\"상품 %d, 토끼\",%d,%d\n", i, i, 1000 + i % 90000, i % 500 }' > "$csv"
echo "file: $rows rows, $(du -h "$csv" | cut -f1)"

psql -X -q "$url" -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS copy_target" -c "CREATE TABLE copy_target (LIKE product INCLUDING ALL)" -c "CHECKPOINT"
t0=$(date +%s.%N)
psql -X -q "$url" -c "\\copy copy_target (sku, name, price, stock_quantity) FROM '$csv' WITH (FORMAT csv, HEADER)"
t1=$(date +%s.%N)
psql -X -q "$url" -c "CHECKPOINT"

/usr/bin/time -f "%M" -o "$work/rss" "$bin" product import "$csv" -o json > "$work/first.json"
t2=$(date +%s.%N)
"$bin" product import "$csv" -o json > "$work/second.json"
t3=$(date +%s.%N)
sed 's/,\([0-9]*\),\([0-9]*\)$/,\1,7/' "$csv" > "$work/changed.csv"
t4=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$work/rss2" "$bin" product import "$work/changed.csv" -o json > "$work/third.json"
t5=$(date +%s.%N)

psql_rate=$(awk -v r="$rows" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", r / (b - a) }')
rp_rate=$(awk -v r="$rows" -v a="$t1" -v b="$t2" 'BEGIN { printf "%.0f", r / (b - a) }')
echo "psql \\copy:              $psql_rate rows/s"
echo "rabbitpay import (new):  $rp_rate rows/s   ratio $(awk -v x="$rp_rate" -v y="$psql_rate" 'BEGIN { printf "%.2f", x / y }')   peak RSS $(( $(cat "$work/rss") / 1024 )) MiB"
echo "rabbitpay import again:  $(awk -v r="$rows" -v a="$t2" -v b="$t3" 'BEGIN { printf "%.0f", r / (b - a) }') rows/s   $(tr -d ' \n' < "$work/second.json")"
echo "rabbitpay import, every stock changed: $(awk -v r="$rows" -v a="$t4" -v b="$t5" 'BEGIN { printf "%.0f", r / (b - a) }') rows/s   peak RSS $(( $(cat "$work/rss2") / 1024 )) MiB   $(tr -d ' \n' < "$work/third.json")"
