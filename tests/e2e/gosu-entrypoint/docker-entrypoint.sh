#!/bin/sh
set -e
chown -R node:node /data
if command -v gosu >/dev/null 2>&1; then
  exec gosu node "$@"
fi
exec setpriv --reuid=node --regid=node --init-groups "$@"
