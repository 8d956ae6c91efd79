#!/usr/bin/env bash
# A self-signed TLS certificate for the site, until the company's own replaces it.
#
#   deploy/make-certificate.sh DIR [NAME ...]
#
# Writes DIR/wavefloor.crt and DIR/wavefloor.key (mode 0600). The certificate names this
# machine as the devices reach it: its full and short host names, every address it has, and
# each NAME given (e.g. wavefloor.lan). Browsers match only those subject alternative names;
# Chrome ignores the common name, so a certificate without them is refused even once a device
# trusts it. It may sign itself (CA:TRUE), so that a handheld can install it as a trusted
# authority. deploy/install.sh calls this when DIR holds no certificate.
set -euo pipefail

die() { printf 'make-certificate.sh: %s\n' "$*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: make-certificate.sh DIR [NAME ...]"
dir=$1
shift
[ -d "$dir" ] || die "no folder $dir"

full=$(hostname -f 2>/dev/null || hostname)
names=("$full" "$(hostname -s 2>/dev/null || hostname)" localhost "$@")
san=""
for name in "${names[@]}"; do
    case ",$san," in *",DNS:$name,"*) continue ;; esac
    san+="${san:+,}DNS:$name"
done
addresses=$(hostname -I 2>/dev/null || true)
for address in 127.0.0.1 $addresses; do
    case ",$san," in *",IP:$address,"*) continue ;; esac
    san+=",IP:$address"
done

openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$full" \
    -addext "subjectAltName=$san" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign" \
    -addext "extendedKeyUsage=serverAuth" \
    -keyout "$dir/wavefloor.key" -out "$dir/wavefloor.crt" 2>/dev/null
chmod 0600 "$dir/wavefloor.key"  # nginx reads it as root
printf '%s\n' "$san"
