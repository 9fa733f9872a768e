#!/usr/bin/env bash
# Times `rabbitpay product show A-1` against `psql -c` running the same query on
# the same running embedded cluster (needs hyperfine: apt install hyperfine).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/rponeshot.XXXXXX)
bin="$work/rabbitpay"
go build -o "$bin" .
export RABBITPAY_DATA_DIR="$work/data" RABBITPAY_DATABASE_URL=
trap '"$bin" db stop >/dev/null 2>&1; rm -rf "$work"' EXIT
"$bin" product register --sku A-1 --name "토끼 인형" --price 12000 --stock 5 >/dev/null
url=$("$bin" db url)
hyperfine -N -w 5 -r 100 "$bin product show A-1" "psql -X $url -c \"select * from product where sku='A-1'\""
