#!/bin/sh
# `wavefloor` for the site's administrator: runs the command as the service user with the
# site's settings. Installed as /usr/local/bin/wavefloor by deploy/install.sh.
#   sudo wavefloor user add boss --role admin --prompt
#   sudo wavefloor stock audit
set -eu
CONF=${WAVEFLOOR_ENV_FILE:-/etc/wavefloor/wavefloor.env}
set -a
# shellcheck source=/dev/null
. "$CONF"
set +a
cd /opt/wavefloor/app
exec runuser -u wavefloor -- /opt/wavefloor/venv/bin/wavefloor "$@"
