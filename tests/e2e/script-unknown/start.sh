#!/bin/sh
# Prepares a state directory, then starts the server.
set -e
mkdir -p /var/lib/app-state
date > /var/lib/app-state/started
exec node server.js
