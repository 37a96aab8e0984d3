#!/usr/bin/env bash
# Install (or upgrade) callrouter on an edge node. Idempotent: re-running upgrades the code and the unit file
# and never touches an existing /etc/callrouter/config.json or /etc/default/callrouter.
#
#   npm ci && npm run build && sudo scripts/install.sh [--enable]
#
# Options:
#   --root DIR    install under DIR instead of / (DESTDIR-style staging, used by the tests); implies
#                 --no-user and skips systemctl
#   --from DIR    checkout to install from (needs dist/, package.json, config/, systemd/); default: this repo
#   --no-user     do not create the callrouter system user/group and do not chown
#   --skip-deps   do not run `npm ci --omit=dev` in /opt/callrouter (staging, or node_modules shipped otherwise)
#   --enable      systemctl enable callrouter (with --root / only; it is never started by this script)
set -euo pipefail

ROOT=/
FROM="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MANAGE_USER=1
SKIP_DEPS=0
ENABLE=0
SVC_USER=callrouter

die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "install.sh: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --root) [ $# -ge 2 ] || die "--root needs a directory"; ROOT="$2"; shift 2 ;;
    --from) [ $# -ge 2 ] || die "--from needs a directory"; FROM="$2"; shift 2 ;;
    --no-user) MANAGE_USER=0; shift ;;
    --skip-deps) SKIP_DEPS=1; shift ;;
    --enable) ENABLE=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
done

ROOT="${ROOT%/}"
STAGING=0
if [ -n "$ROOT" ]; then
  mkdir -p "$ROOT"
  ROOT="$(cd "$ROOT" && pwd)"
  [ "$ROOT" = / ] && ROOT="" || STAGING=1
fi
[ "$STAGING" = 1 ] && MANAGE_USER=0

[ -f "$FROM/dist/main.js" ] || die "$FROM/dist/main.js not found: run 'npm ci && npm run build' first"
for f in package.json systemd/callrouter.service systemd/callrouter.env.example config/default.json config/example.json; do
  [ -f "$FROM/$f" ] || die "$FROM/$f not found"
done
if [ "$STAGING" = 0 ] && [ "$(id -u)" != 0 ]; then die "run as root (or use --root DIR to stage)"; fi

OPT="$ROOT/opt/callrouter"
ETC="$ROOT/etc/callrouter"
STATE="$ROOT/var/lib/callrouter"
UNIT_DIR="$ROOT/etc/systemd/system"
DEFAULTS="$ROOT/etc/default"

# 1. The system user: no login, no home of its own beyond the replica directory.
if [ "$MANAGE_USER" = 1 ]; then
  getent group "$SVC_USER" >/dev/null || groupadd --system "$SVC_USER"
  if ! getent passwd "$SVC_USER" >/dev/null; then
    useradd --system --gid "$SVC_USER" --home-dir /var/lib/callrouter --no-create-home \
      --shell /usr/sbin/nologin --comment "callrouter daemon" "$SVC_USER"
    say "created user $SVC_USER"
  fi
fi

# own PATH MODE: mode always; owner root:callrouter only when we manage the user.
own() {
  chmod "$2" "$1"
  if [ "$MANAGE_USER" = 1 ]; then chown "root:$SVC_USER" "$1"; fi
}

# 2. Directories. The replica directory belongs to the sync job that writes it: callrouter only reads it (the
#    unit mounts it ReadOnlyPaths) and never creates files there. Give the sync job's user write access, e.g.
#    `chown <sync-user> /var/lib/callrouter`; the callrouter group keeps read and search access.
mkdir -p "$OPT" "$ETC" "$ETC/keys" "$STATE" "$UNIT_DIR" "$DEFAULTS"
own "$ETC" 0750
own "$ETC/keys" 0750
own "$STATE" 2750

# 3. The build: replace dist/ as a whole so no stale module survives an upgrade.
rm -rf "$OPT/dist.new"
cp -R "$FROM/dist" "$OPT/dist.new"
rm -rf "$OPT/dist.old"
if [ -d "$OPT/dist" ]; then mv "$OPT/dist" "$OPT/dist.old"; fi
mv "$OPT/dist.new" "$OPT/dist"
rm -rf "$OPT/dist.old"
cp "$FROM/package.json" "$OPT/package.json"
if [ -f "$FROM/package-lock.json" ]; then cp "$FROM/package-lock.json" "$OPT/package-lock.json"; fi
if [ -f "$FROM/README.md" ]; then cp "$FROM/README.md" "$OPT/README.md"; fi
mkdir -p "$OPT/config"
cp "$FROM/config/default.json" "$FROM/config/example.json" "$OPT/config/"
if [ "$SKIP_DEPS" = 0 ]; then
  say "installing production dependencies in $OPT"
  (cd "$OPT" && npm ci --omit=dev --no-audit --no-fund)
fi

# 4. Unit file (always refreshed) and the examples; the operator's own files are never overwritten.
install -m 0644 "$FROM/systemd/callrouter.service" "$UNIT_DIR/callrouter.service"
install -m 0644 "$FROM/config/example.json" "$ETC/config.example.json"
if [ ! -e "$ETC/config.json" ]; then
  install -m 0640 "$FROM/config/default.json" "$ETC/config.json"
  own "$ETC/config.json" 0640
  say "wrote $ETC/config.json (defaults; see config.example.json)"
fi
if [ ! -e "$DEFAULTS/callrouter" ]; then
  install -m 0644 "$FROM/systemd/callrouter.env.example" "$DEFAULTS/callrouter"
fi

# 5. systemd (real installs only).
if [ "$STAGING" = 0 ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload
  if [ "$ENABLE" = 1 ]; then systemctl enable callrouter.service; fi
fi

say "installed into ${ROOT:-/}"
say "next: edit /etc/callrouter/config.json, then: systemctl restart callrouter && curl -s 127.0.0.1:9464/readyz"
