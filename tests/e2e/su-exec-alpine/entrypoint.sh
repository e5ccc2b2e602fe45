#!/bin/sh
set -e
chown -R node:node /data
if command -v su-exec >/dev/null 2>&1; then
  exec su-exec node "$@"
fi
exec su -s /bin/sh node -c 'exec "$0" "$@"' "$@"
