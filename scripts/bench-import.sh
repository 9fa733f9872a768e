#!/usr/bin/env bash
# Compares `rabbitpay product import` with `psql \copy` of the same CSV into an
# equivalent empty table on the same (embedded, durable) cluster, and prints
# rates, their ratio and rabbitpay's peak memory (max RSS) for each size:
# a first load into an empty catalogue, the same file again (nothing changes),
# the file with 1% of the rows changed, and with every row changed.
#   scripts/bench-import.sh [ROWS ...]      (default 1000000)
set -euo pipefail
[ $# -gt 0 ] || set -- 1000000
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/rpimport.XXXXXX)
trap 'rm -rf "$work"' EXIT
bin="$work/rabbitpay"
go build -o "$bin" .
export RABBITPAY_DATA_DIR="$work/data" RABBITPAY_DATABASE_URL=
trap '"$bin" db stop >/dev/null 2>&1; rm -rf "$work"' EXIT
"$bin" db start >/dev/null
url=$("$bin" db url)

rate() { awk -v r="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", r / (b - a) }'; }
# run NAME FILE: time one import, print its rate, peak RSS and summary.
run() {
	local t0 t1
	t0=$(date +%s.%N)
	/usr/bin/time -f "%M" -o "$work/rss" "$bin" product import "$2" -o json > "$work/out.json"
	t1=$(date +%s.%N)
	last_rate=$(rate "$rows" "$t0" "$t1")
	printf "  %-26s %8s rows/s   %5.2f x psql   peak RSS %3d MiB   %s\n" "$1" "$last_rate" \
		"$(awk -v x="$last_rate" -v y="$psql_rate" 'BEGIN { print x / y }')" "$(( $(cat "$work/rss") / 1024 ))" "$(tr -d ' \n' < "$work/out.json")"
}

for rows in "$@"; do
	csv="$work/catalogue.csv"
	awk -v n="$rows" 'BEGIN { print "sku,name,price,stock"; for (i = 1; i <= n; i++) printf "SKU-%07d,\"상품 %d, 토끼\",%d,%d\n", i, i, 1000 + i % 90000, i % 500 }' > "$csv"
	awk -F, 'NR > 1 && NR % 100 == 0 { $NF = 7 } { print }' OFS=, "$csv" > "$work/one-percent.csv"
	sed 's/,\([0-9]*\),\([0-9]*\)$/,\1,7/' "$csv" > "$work/changed.csv"
	echo "file: $rows rows, $(du -h "$csv" | cut -f1)"

	psql -X -q "$url" -c "SET client_min_messages = warning" -c "TRUNCATE product RESTART IDENTITY CASCADE" \
		-c "DROP TABLE IF EXISTS copy_target" -c "CREATE TABLE copy_target (LIKE product INCLUDING ALL)" -c "CHECKPOINT"
	t0=$(date +%s.%N)
	psql -X -q "$url" -c "\\copy copy_target (sku, name, price, stock_quantity) FROM '$csv' WITH (FORMAT csv, HEADER)"
	t1=$(date +%s.%N)
	psql_rate=$(rate "$rows" "$t0" "$t1")
	psql -X -q "$url" -c "DROP TABLE copy_target" -c "CHECKPOINT"
	echo "  psql \\copy                 $psql_rate rows/s"
	run "import (new)" "$csv"
	run "import again (unchanged)" "$csv"
	run "import, 1% changed" "$work/one-percent.csv"
	run "import, every row changed" "$work/changed.csv"
done
