#!/bin/sh
# The restore drill (docs/deploy.md): the newest backup in FOLDER restored into the scratch
# database GVRS_DRILL_DATABASE_URL (dropped and made anew; never the live one), then checked:
# every migration applied, and the registry's rows counted. Exit status 0 only if all held.
#     GVRS_DRILL_DATABASE_URL=postgresql://gvrs@db/gvrs_drill deploy/restore-drill.sh /var/backups/gvrs
set -eu
folder=${1:?usage: restore-drill.sh BACKUP_FOLDER}
drill=${GVRS_DRILL_DATABASE_URL:?set GVRS_DRILL_DATABASE_URL to a scratch database}
gvrs=${GVRS_BIN:-/opt/gvrs/.venv/bin/gvrs}
if [ "$drill" = "${GVRS_DATABASE_URL:-}" ]; then
    echo "GVRS_DRILL_DATABASE_URL is the live database: refusing" >&2
    exit 2
fi
newest=$(ls -1t "$folder"/gvrs-*.dump 2>/dev/null | head -n 1)
[ -n "$newest" ] || { echo "no backup in $folder" >&2; exit 1; }
server=${drill%/*}
name=${drill##*/}
started=$(date +%s)
psql "$server/postgres" -q -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" -c "CREATE DATABASE \"$name\""
GVRS_DATABASE_URL=$drill "$gvrs" restore "$newest"
pending=$(GVRS_DATABASE_URL=$drill "$gvrs" django showmigrations --plan | grep -c '^\[ \]' || true)
incidents=$(psql "$drill" -tAc "SELECT count(*) FROM incidents_incident")
runs=$(psql "$drill" -tAc "SELECT count(*) FROM incidents_importrun")
users=$(psql "$drill" -tAc "SELECT count(*) FROM auth_user")
echo "restore drill: $newest restored in $(( $(date +%s) - started )) s:" \
    "$incidents incidents, $runs import runs, $users users, $pending migrations pending"
[ "$pending" -eq 0 ] && [ "$users" -gt 0 ]
