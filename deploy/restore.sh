#!/usr/bin/env bash
# Restore a Wavefloor database from a file made by backup.sh. Everything in the database is
# replaced by the backup's content.
#
#   sudo systemctl stop wavefloor.target
#   sudo wavefloor-restore /var/lib/wavefloor/backups/wavefloor-20260101T020000Z.sqlite --yes
#   sudo systemctl start wavefloor.target
#
# The database is WAVEFLOOR_DATABASE_URL, from the environment or /etc/wavefloor/wavefloor.env.
set -euo pipefail

usage() { echo "usage: restore.sh BACKUP_FILE --yes" >&2; exit 2; }
[ $# -ge 1 ] || usage
backup=$1
[ "${2:-}" = "--yes" ] || { echo "restore.sh: this replaces the whole database; add --yes" >&2; usage; }
[ -f "$backup" ] || { echo "restore.sh: no file $backup" >&2; exit 1; }

CONF=${WAVEFLOOR_ENV_FILE:-/etc/wavefloor/wavefloor.env}
if [ -z "${WAVEFLOOR_DATABASE_URL:-}" ] && [ -r "$CONF" ]; then
    WAVEFLOOR_DATABASE_URL=$(sed -n 's/^WAVEFLOOR_DATABASE_URL=//p' "$CONF" | tail -n 1)
fi
url=${WAVEFLOOR_DATABASE_URL:?WAVEFLOOR_DATABASE_URL is not set}

# servers writing while the database is replaced would mix old and new data
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet 'wavefloor@*' 2>/dev/null; then
    echo "restore.sh: Wavefloor is running; stop it first: systemctl stop wavefloor.target" >&2
    exit 1
fi

case "$url" in
    sqlite://*)
        db_file=${url#sqlite://}
        db_file=${db_file#/}  # sqlite:////abs/file -> /abs/file; sqlite:///rel/file -> rel/file
        python3 - "$backup" "$db_file" <<'PY'
import os, sqlite3, sys
backup, target = sys.argv[1], sys.argv[2]
source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
    sys.exit(f"restore.sh: {backup} is damaged")
os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
copy = sqlite3.connect(target)
with copy:
    source.backup(copy)  # page by page over the old content, WAL included
copy.close()
source.close()
PY
        ;;
    postgres://*|postgresql://*)
        pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
            --dbname="${url/#postgres:/postgresql:}" "$backup"
        ;;
    *)
        echo "restore.sh: unsupported database URL $url" >&2
        exit 2
        ;;
esac
echo "restored $backup into the database; run \`wavefloor stock audit\` before starting the servers"
