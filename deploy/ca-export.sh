#!/bin/sh
# Copies the public part of a CA folder made by `cordon ca` (and the hub's own TLS
# certificate and key) to where the hub container reads them, owned by the hub's user
# and read-only for it; never the CA's private key (ca.key), never other credentials.
#
#   ca-export.sh SRC CA_OUT TLS_OUT      (root: the host's CA folder is 0700, its user's)
#
#   SRC       the CA folder (read-only is enough): ca.pem, crl.pem, index.json, issued/,
#             out/server.pem, out/server.key
#   CA_OUT    gets ca.pem, crl.pem, index.json (0444) and issued/*.pem (0444)
#   TLS_OUT   gets server.pem (0444) and server.key (0400)
#
# Every file is replaced atomically (written beside, then renamed), so the hub reads the
# old file or the new one. Runs once with CORDON_EXPORT_ONCE=1, else every
# CORDON_EXPORT_EVERY seconds (default 5): a certificate issued or revoked on the host,
# or a new CRL, reaches the hub within that time plus its registry_poll_s.
# The owner is CORDON_UID:CORDON_GID (default 10001:10001, the image's cordon user).
set -eu
SRC=${1:?usage: ca-export.sh SRC CA_OUT TLS_OUT}
CA_OUT=${2:?usage: ca-export.sh SRC CA_OUT TLS_OUT}
TLS_OUT=${3:?usage: ca-export.sh SRC CA_OUT TLS_OUT}
OWNER=${CORDON_UID:-10001}:${CORDON_GID:-10001}
EVERY=${CORDON_EXPORT_EVERY:-5}

copy() {  # copy SRC_FILE DEST_FILE MODE: only when it changed, atomically
    if [ -f "$1" ] && ! cmp -s "$1" "$2" 2>/dev/null; then
        cp "$1" "$2.tmp.$$"
        chown "$OWNER" "$2.tmp.$$"
        chmod "$3" "$2.tmp.$$"
        mv -f "$2.tmp.$$" "$2"
    fi
}

export_once() {
    for f in ca.pem crl.pem index.json out/server.pem out/server.key; do
        if [ ! -f "$SRC/$f" ]; then
            echo "ca-export: $SRC/$f is missing (run 'cordon ca init' and 'cordon ca issue-server' first)" >&2
            return 1
        fi
    done
    mkdir -p "$CA_OUT/issued" "$TLS_OUT"
    chown "$OWNER" "$CA_OUT" "$CA_OUT/issued" "$TLS_OUT"
    chmod 0755 "$CA_OUT" "$CA_OUT/issued"
    chmod 0700 "$TLS_OUT"
    for f in "$SRC"/issued/*.pem; do
        [ -f "$f" ] && copy "$f" "$CA_OUT/issued/$(basename "$f")" 0444
    done
    # certificates first, then the index that names them, then the CRL
    copy "$SRC/ca.pem" "$CA_OUT/ca.pem" 0444
    copy "$SRC/index.json" "$CA_OUT/index.json" 0444
    copy "$SRC/crl.pem" "$CA_OUT/crl.pem" 0444
    copy "$SRC/out/server.pem" "$TLS_OUT/server.pem" 0444
    copy "$SRC/out/server.key" "$TLS_OUT/server.key" 0400
    touch "$CA_OUT/.exported"
}

if [ "${CORDON_EXPORT_ONCE:-0}" = 1 ]; then
    export_once
    exit
fi
until export_once; do sleep "$EVERY"; done
echo "ca-export: exported $SRC to $CA_OUT and $TLS_OUT; checking every ${EVERY}s"
while sleep "$EVERY"; do
    export_once || echo "ca-export: export failed; keeping the previous files" >&2
done
