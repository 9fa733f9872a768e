#!/usr/bin/env bash
# Moves a rabbitpay database to a UTF-8 character classification (LC_CTYPE
# C.UTF-8, collation still C) so that a Korean --search can use the trigram
# indexes. PostgreSQL 15 cannot change a database's LC_CTYPE in place, so the
# database is dumped, renamed aside, created again with the new LC_CTYPE and
# restored (in one transaction); its database-level settings are copied.
#
#   rabbitpay db start && scripts/move-ctype.sh "$(rabbitpay db url)"   # the embedded cluster
#   scripts/move-ctype.sh postgres://shop@db.internal/shop
#
# A database that has the LC_CTYPE already is left alone. Stop every
# rabbitpay process using the database first (the rename needs a
# database nobody is connected to). Needs psql, pg_dump and pg_restore (on the
# embedded cluster's machine: /usr/lib/postgresql/15/bin) and a role that owns
# the database and may create databases. The old database stays as
# NAME_c_ctype until you drop it. The maintenance database the script connects
# to for the rename is $MAINTENANCE_DB (default postgres).
set -euo pipefail
url=${1:?usage: scripts/move-ctype.sh DATABASE_URL [LC_CTYPE]}
ctype=${2:-C.UTF-8}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

db=$(psql -X -At -d "$url" -c "SELECT current_database()")
have=$(psql -X -At -d "$url" -c "SELECT datctype FROM pg_database WHERE datname = current_database()")
if [ "$have" = "$ctype" ]; then
	echo "$db already has LC_CTYPE $ctype: nothing to move."
	exit 0
fi
old="${db}_c_ctype"
pg_dump -Fc -f "$work/db.dump" -d "$url"

psql -X -q -v ON_ERROR_STOP=1 -v db="$db" -v old="$old" -v ctype="$ctype" -v maint="${MAINTENANCE_DB:-postgres}" -d "$url" <<'SQL'
\c :maint
SELECT format('ALTER DATABASE %I RENAME TO %I', :'db', :'old') \gexec
SELECT format('CREATE DATABASE %I OWNER %I TEMPLATE template0 ENCODING UTF8 LC_COLLATE %L LC_CTYPE %L',
              :'db', pg_get_userbyid(datdba), 'C', :'ctype') FROM pg_database WHERE datname = :'old' \gexec
SELECT format('ALTER DATABASE %I SET %I TO %L', :'db', split_part(c, '=', 1), substr(c, strpos(c, '=') + 1))
  FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase, unnest(s.setconfig) AS c
 WHERE d.datname = :'old' AND s.setrole = 0 \gexec
SQL

if ! pg_restore --single-transaction --exit-on-error -d "$url" "$work/db.dump"; then
	echo "move-ctype: the restore failed; the new database $db is empty and the old one is $old." >&2
	echo "move-ctype: to go back: DROP DATABASE \"$db\"; ALTER DATABASE \"$old\" RENAME TO \"$db\";" >&2
	exit 1
fi
psql -X -At -d "$url" -c "SELECT 'moved ' || current_database() || ' to LC_CTYPE ' || datctype || '; Hangul trigrams: ' ||
  CASE WHEN cardinality(show_trgm('한글')) > 0 THEN 'yes' ELSE 'NO' END FROM pg_database WHERE datname = current_database()"
echo "the old database is kept as $old: check the shop, then DROP DATABASE \"$old\";"
