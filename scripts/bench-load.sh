#!/usr/bin/env bash
# Times rabbitpay's import and export beside psql doing the same work on the
# same (embedded, durable) cluster, in one run, and prints each pair with its
# ratio (psql's time / rabbitpay's: 1.00 means as fast as psql, higher is faster):
#   first load      `product import` into an empty catalogue, against the best
#                   manual load: `\copy` into a twin of product without its
#                   non-constraint indexes (the trigram search index), then
#                   CREATE INDEX (with the 256MB maintenance_work_mem rabbitpay sets)
#   changed         a re-import that changes every row, against psql's staged
#                   upsert of the same file on the same catalogue (COPY into a temp
#                   table, UPDATE … FROM, INSERT … WHERE NOT EXISTS): an update
#                   against an update
#   unchanged       the same file again, against the same staged upsert
#   export          `product export FILE` against `\copy (SELECT …) TO FILE`
#                   (median of three each), with write(2) counts when strace is there
#   scripts/bench-load.sh [ROWS]      (default 1000000)
set -euo pipefail
rows=${1:-1000000}
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/rpload.XXXXXX)
chmod 755 "$work"
bin="$work/rabbitpay"
go build -o "$bin" .
export RABBITPAY_DATA_DIR="$work/data" RABBITPAY_DATABASE_URL=
trap '"$bin" db stop >/dev/null 2>&1; rm -rf "$work"' EXIT
"$bin" db start >/dev/null
url=$("$bin" db url)
q() { psql -X -q -v ON_ERROR_STOP=1 "$url" "$@"; }

csv="$work/catalogue.csv"
awk -v n="$rows" 'BEGIN { print "sku,name,price,stock"; for (i = 1; i <= n; i++) printf "SKU-%07d,\"상품 %d, 토끼\",%d,%d\n", i, i, 1000 + i % 90000, i % 500 }' > "$csv"
sed 's/,\([0-9]*\),\([0-9]*\)$/,\1,7/' "$csv" > "$work/changed.csv"
echo "file: $rows rows, $(du -h "$csv" | cut -f1); load average $(cut -d' ' -f1-3 /proc/loadavg)"

# secs CMD...: run CMD, print its wall time in seconds.
secs() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
line() { # NAME PSQL_SECS RABBITPAY_SECS
	printf "  %-12s psql %6.2f s   rabbitpay %6.2f s   ratio %.2f\n" "$1" "$2" "$3" "$(awk -v p="$2" -v r="$3" 'BEGIN { print p / r }')"
}
settle() { q -c "CHECKPOINT" >/dev/null; }
# twin WITHOUT_INDEXES: an empty copy of product; with an argument, without its
# non-constraint indexes, whose definitions (renamed onto the twin) go to twin_index.
twin() {
	q -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS copy_target, twin_index" \
		-c "CREATE TABLE copy_target (LIKE product INCLUDING ALL)" >/dev/null
	if [ $# -gt 0 ]; then
		q -c "CREATE TABLE twin_index AS SELECT pg_get_indexdef(indexrelid) AS def, indexrelid::regclass::text AS name
			FROM pg_index i WHERE indrelid = 'copy_target'::regclass
			AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid)" \
			-c "SELECT format('DROP INDEX %s', name) FROM twin_index" -c '\gexec' >/dev/null
	fi
}
cols="sku, name, price, stock_quantity AS stock, CASE WHEN retired_at IS NULL THEN 'false' ELSE 'true' END AS retired"

q -c "SET client_min_messages = warning" -c "TRUNCATE product RESTART IDENTITY CASCADE" >/dev/null
twin without-indexes
settle
p=$(secs q -c "\\copy copy_target (sku, name, price, stock_quantity) FROM '$csv' WITH (FORMAT csv, HEADER)" \
	-c "SET maintenance_work_mem = '256MB'" -c "SELECT def FROM twin_index" -c '\gexec')
q -c "DROP TABLE copy_target, twin_index" >/dev/null
settle
r=$(secs "$bin" product import "$csv")
line "first load" "$p" "$r"

# psql's staged upsert of FILE: COPY into a temp table, UPDATE … FROM, INSERT … WHERE NOT EXISTS.
staged() {
	cat > "$work/staged.sql" <<EOF
BEGIN;
CREATE TEMP TABLE stage (sku text, name text, price bigint, stock bigint) ON COMMIT DROP;
\\copy stage FROM '$1' WITH (FORMAT csv, HEADER)
UPDATE product p SET name = s.name, price = s.price, stock_quantity = s.stock, updated_at = now()
	FROM stage s WHERE p.sku = s.sku AND (p.name, p.price, p.stock_quantity) IS DISTINCT FROM (s.name, s.price, s.stock);
INSERT INTO product (sku, name, price, stock_quantity)
	SELECT sku, name, price, stock FROM stage s WHERE NOT EXISTS (SELECT FROM product p WHERE p.sku = s.sku);
COMMIT;
EOF
	q -f "$work/staged.sql"
}
# Like with like: each side updates every row of the same catalogue, put
# back to the first file (untimed) before each.
reset() { "$bin" product import "$csv" >/dev/null; q -c "VACUUM ANALYZE product" >/dev/null; settle; }
reset
p=$(secs staged "$work/changed.csv")
reset
r=$(secs "$bin" product import "$work/changed.csv")
line "changed" "$p" "$r"

# The same file again: nothing to change.
q -c "VACUUM ANALYZE product" >/dev/null
settle
p=$(secs staged "$work/changed.csv")
settle
r=$(secs "$bin" product import "$work/changed.csv")
line "unchanged" "$p" "$r"

ps=() rs=()
for _ in 1 2 3; do
	ps+=("$(secs q -c "\\copy (SELECT $cols FROM product ORDER BY id) TO '$work/psql.csv' WITH (FORMAT csv, HEADER)")")
	rs+=("$(secs "$bin" product export "$work/rabbitpay.csv" 2>/dev/null)")
done
line "export" "$(median3 "${ps[@]}")" "$(median3 "${rs[@]}")"
cmp -s "$work/psql.csv" "$work/rabbitpay.csv" || echo "  (the two exports differ!)"
if command -v strace >/dev/null; then
	w() { strace -f -c -e trace=write -o "$work/strace" "$@" >/dev/null 2>&1; awk '$NF == "write" { print $4 }' "$work/strace"; }
	echo "  export write(2) calls: psql $(w psql -X -q "$url" -c "\\copy (SELECT $cols FROM product ORDER BY id) TO '$work/psql.csv' WITH (FORMAT csv, HEADER)")," \
		"rabbitpay $(w "$bin" product export "$work/rabbitpay.csv")"
fi
