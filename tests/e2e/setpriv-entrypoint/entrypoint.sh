#!/bin/sh
# Starts as root, fixes the ownership of /data, then drops to `node` (as gosu/su-exec do).
set -e
chown -R node:node /data
exec setpriv --reuid=node --regid=node --init-groups "$@"
