#!/usr/bin/env bash
# Times `rabbitpay product list` over a 1,000,000-product catalogue against
# `psql -c` running the same query on the same embedded cluster: the first page,
# and a --search (trigram index). Needs hyperfine (apt install hyperfine).
#   scripts/bench-lists.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
work=$(mktemp -d /tmp/rplists.XXXXXX)
chmod 755 "$work"
bin="$work/rabbitpay"
go build -o "$bin" .
export RABBITPAY_DATA_DIR="$work/data" RABBITPAY_DATABASE_URL=
trap '"$bin" db stop >/dev/null 2>&1; rm -rf "$work"' EXIT
awk -v n="$rows" 'BEGIN { print "sku,name,price,stock"; for (i = 1; i <= n; i++) printf "SKU-%07d,상품 %d 토끼%d,%d,%d\n", i, i, i % 9973, 1000 + i % 50000, i % 100 }' > "$work/catalogue.csv"
"$bin" product import "$work/catalogue.csv" >/dev/null
url=$("$bin" db url)
psql -X -q "$url" -c "VACUUM ANALYZE product" >/dev/null
cols="id, sku, name, price, stock_quantity, created_at, updated_at, retired_at"
page="SELECT $cols FROM product WHERE retired_at IS NULL AND id > 0 ORDER BY id LIMIT 51"
search="SELECT $cols FROM product WHERE (sku || ' ' || name) ILIKE '%토끼4242%' AND retired_at IS NULL AND id > 0 ORDER BY id LIMIT 51"
hyperfine -N -w 3 -r 30 --export-markdown "$work/page.md" \
  "$bin product list --limit 50" "psql -X $url -c \"$page\""
hyperfine -N -w 3 -r 30 --export-markdown "$work/search.md" \
  "$bin product list --search 토끼4242 --limit 50" "psql -X $url -c \"$search\""
cat "$work/page.md" "$work/search.md"
