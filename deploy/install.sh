#!/usr/bin/env bash
# Install or upgrade Wavefloor on a Debian 12 server of the warehouse LAN.
#
#   sudo ./deploy/install.sh                      # SQLite, two server processes (ports 5001 5002)
#   sudo WAVEFLOOR_DB=postgresql ./deploy/install.sh   # PostgreSQL on this machine
#   sudo WAVEFLOOR_PORTS="5001 5002 5003" ./deploy/install.sh
#   sudo WAVEFLOOR_TLS_NAMES="wavefloor.lan" ./deploy/install.sh   # names the devices use
#
# Run it from an unpacked copy of the project. Running it again upgrades: the code and the
# packages are replaced, the migrations run, the configuration and the data are kept.
set -euo pipefail

APP_USER=wavefloor
PREFIX=/opt/wavefloor
CONF_DIR=/etc/wavefloor
DATA_DIR=/var/lib/wavefloor
PORTS=${WAVEFLOOR_PORTS:-"5001 5002"}
DB=${WAVEFLOOR_DB:-sqlite}
TLS_NAMES=${WAVEFLOOR_TLS_NAMES:-}  # more names for the self-signed certificate, e.g. wavefloor.lan
SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { printf '\n== %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (sudo)"
[ -f "$SOURCE/pyproject.toml" ] || die "run from the unpacked project (no pyproject.toml in $SOURCE)"
case "$DB" in sqlite|postgresql) ;; *) die "WAVEFLOOR_DB must be sqlite or postgresql" ;; esac

say "Debian packages"
packages=(python3 python3-venv python3-dev build-essential nginx redis-server sqlite3 openssl rsync curl)
if [ "$DB" = postgresql ]; then
    packages+=(postgresql postgresql-client)
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"

say "system user $APP_USER"
if ! id "$APP_USER" >/dev/null 2>&1; then
    adduser --system --group --home "$DATA_DIR" --no-create-home "$APP_USER"
fi
install -d -o "$APP_USER" -g "$APP_USER" -m 0750 "$DATA_DIR" "$DATA_DIR/backups"
install -d -o root -g "$APP_USER" -m 0750 "$CONF_DIR" "$CONF_DIR/tls"
install -d -m 0755 "$PREFIX"

say "application in $PREFIX/app"
rsync -a --delete --exclude .git --exclude .venv --exclude node_modules --exclude instance \
    --exclude '__pycache__' "$SOURCE/" "$PREFIX/app/"
if [ ! -x "$PREFIX/venv/bin/python" ]; then
    python3 -m venv "$PREFIX/venv"
fi
"$PREFIX/venv/bin/pip" install --quiet --upgrade pip
# editable: the code runs from $PREFIX/app, where the migrations and the handheld app are too
# (a plain install copies only the Python packages, and `wavefloor migrate` found no migration)
"$PREFIX/venv/bin/pip" install --quiet -e "$PREFIX/app"
# the translation catalogs, compiled here: the service user may not write in $PREFIX/app
(cd "$PREFIX/app" && "$PREFIX/venv/bin/python" -c 'from server.web import compile_translations; compile_translations()')
# browser libraries are served from static/vendor; copy them along when they were built
if [ -d "$SOURCE/server/web/static/vendor" ]; then
    rsync -a "$SOURCE/server/web/static/vendor/" "$PREFIX/app/server/web/static/vendor/"
fi

say "database and configuration in $CONF_DIR/wavefloor.env"
if [ ! -f "$CONF_DIR/wavefloor.env" ]; then
    if [ "$DB" = postgresql ]; then
        db_password=$(openssl rand -hex 24)
        if ! runuser -u postgres -- psql -tAc "SELECT 1 FROM pg_roles WHERE rolname='$APP_USER'" | grep -q 1; then
            runuser -u postgres -- createuser "$APP_USER"
        fi
        runuser -u postgres -- psql -q -c "ALTER ROLE $APP_USER PASSWORD '$db_password'"
        if ! runuser -u postgres -- psql -tAc "SELECT 1 FROM pg_database WHERE datname='wavefloor'" | grep -q 1; then
            runuser -u postgres -- createdb -O "$APP_USER" -E UTF8 wavefloor
        fi
        database_url="postgresql://$APP_USER:$db_password@127.0.0.1:5432/wavefloor"
    else
        database_url="sqlite:///$DATA_DIR/wavefloor.db"
    fi
    umask 027
    cat > "$CONF_DIR/wavefloor.env" <<CONF
# Wavefloor settings (\`wavefloor config\` lists every one with its help).
WAVEFLOOR_INSTANCE_DIR=$DATA_DIR
WAVEFLOOR_DATABASE_URL=$database_url
WAVEFLOOR_REDIS_URL=redis://127.0.0.1:6379/0
WAVEFLOOR_REDIS_CHANNEL=wavefloor
WAVEFLOOR_SECRET_KEY=$(openssl rand -hex 32)
WAVEFLOOR_METRICS_TOKEN=
WAVEFLOOR_TIMEZONE=Asia/Shanghai
CONF
    chgrp "$APP_USER" "$CONF_DIR/wavefloor.env"
    umask 022
fi

say "migrations"
install -m 0755 "$PREFIX/app/deploy/wavefloor-admin.sh" /usr/local/bin/wavefloor
install -m 0755 "$PREFIX/app/deploy/backup.sh" /usr/local/sbin/wavefloor-backup
install -m 0755 "$PREFIX/app/deploy/restore.sh" /usr/local/sbin/wavefloor-restore
/usr/local/bin/wavefloor migrate

say "TLS certificate"
if [ ! -f "$CONF_DIR/tls/wavefloor.crt" ]; then
    # a self-signed certificate until the site's own is copied over these two files
    # shellcheck disable=SC2086  # the extra names are words
    "$PREFIX/app/deploy/make-certificate.sh" "$CONF_DIR/tls" $TLS_NAMES
fi

say "nginx"
upstreams=""
for port in $PORTS; do
    upstreams+="    server 127.0.0.1:$port max_fails=1 fail_timeout=5s;\n"
done
awk -v servers="$upstreams" '
    /^upstream wavefloor/ { print; in_upstream = 1; next }
    in_upstream && /server 127\.0\.0\.1/ { if (!done) { printf "%s", servers; done = 1 } next }
    in_upstream && /^}/ { in_upstream = 0 }
    { print }' "$PREFIX/app/deploy/nginx/wavefloor.conf" > /etc/nginx/sites-available/wavefloor
ln -sf /etc/nginx/sites-available/wavefloor /etc/nginx/sites-enabled/wavefloor
rm -f /etc/nginx/sites-enabled/default
nginx -t
systemctl reload-or-restart nginx

say "systemd units"
install -m 0644 "$PREFIX"/app/deploy/systemd/wavefloor@.service \
    "$PREFIX"/app/deploy/systemd/wavefloor-printworker.service \
    "$PREFIX"/app/deploy/systemd/wavefloor.target /etc/systemd/system/
systemctl daemon-reload
systemctl enable --now redis-server
units=(wavefloor.target wavefloor-printworker.service)
for port in $PORTS; do
    units+=("wavefloor@$port.service")
done
systemctl enable "${units[@]}"
systemctl restart "${units[@]}"

say "done"
for port in $PORTS; do
    printf '  wavefloor@%s: ' "$port"
    curl -fsS --retry 10 --retry-connrefused --retry-delay 1 "http://127.0.0.1:$port/healthz" || true
    printf '\n'
done
echo "Open https://$(hostname -f)/ on the LAN. Create the first user:"
echo "  sudo wavefloor user add boss --role admin --prompt"
