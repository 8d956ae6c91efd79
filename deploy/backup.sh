#!/usr/bin/env bash
# Back up the Wavefloor database while the servers run.
#
#   wavefloor-backup [OUT_DIR]        (default /var/lib/wavefloor/backups)
#
# SQLite: an online copy through SQLite's backup API (consistent, writers keep going).
# PostgreSQL: pg_dump in its custom format (restore with pg_restore, see restore.sh).
# The database is WAVEFLOOR_DATABASE_URL, from the environment or /etc/wavefloor/wavefloor.env.
# Prints the path of the backup file. Keeps the newest KEEP (default 14) backups in OUT_DIR.
set -euo pipefail

CONF=${WAVEFLOOR_ENV_FILE:-/etc/wavefloor/wavefloor.env}
if [ -z "${WAVEFLOOR_DATABASE_URL:-}" ] && [ -r "$CONF" ]; then
    WAVEFLOOR_DATABASE_URL=$(sed -n 's/^WAVEFLOOR_DATABASE_URL=//p' "$CONF" | tail -n 1)
fi
url=${WAVEFLOOR_DATABASE_URL:?WAVEFLOOR_DATABASE_URL is not set}
out_dir=${1:-/var/lib/wavefloor/backups}
keep=${KEEP:-14}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out_dir"

case "$url" in
    sqlite://*)
        db_file=${url#sqlite://}
        db_file=${db_file#/}  # sqlite:////abs/file -> /abs/file; sqlite:///rel/file -> rel/file
        [ -f "$db_file" ] || { echo "backup.sh: no database file $db_file" >&2; exit 1; }
        target="$out_dir/wavefloor-$stamp.sqlite"
        python3 - "$db_file" "$target.part" <<'PY'
import sqlite3, sys
source = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
copy = sqlite3.connect(sys.argv[2])
with copy:
    source.backup(copy)
bad = copy.execute("PRAGMA integrity_check").fetchone()[0]
copy.close()
source.close()
if bad != "ok":
    sys.exit(f"backup.sh: integrity check of the copy failed: {bad}")
PY
        pattern="wavefloor-*.sqlite"
        ;;
    postgres://*|postgresql://*)
        target="$out_dir/wavefloor-$stamp.pgdump"
        pg_dump --format=custom --no-owner --no-privileges --file="$target.part" "${url/#postgres:/postgresql:}"
        pattern="wavefloor-*.pgdump"
        ;;
    *)
        echo "backup.sh: unsupported database URL $url" >&2
        exit 2
        ;;
esac
mv "$target.part" "$target"
chmod 0640 "$target"

# keep the newest $keep backups of this kind
find "$out_dir" -maxdepth 1 -name "$pattern" -type f | sort -r | tail -n +"$((keep + 1))" | while read -r old; do
    rm -f -- "$old"
done
echo "$target"
