#!/bin/bash
# Starts the source the way `toolkit up` does, with the agent's gateway on 3306 for every
# interface and the server on a private loopback port. The fault backend is iptables when the
# container may use it (--cap-add=NET_ADMIN: decided by trying), the gateway otherwise.
# SIGTERM (docker stop) runs `toolkit down`: faults restored, agent and server stopped cleanly.
set -euo pipefail
export TOOLKIT_HOME="${TOOLKIT_HOME:-/var/lib/toolkit}"

log() { echo "entrypoint: $*" >&2; }

backend=gateway
probe="TOOLKIT_PROBE_$$"
if iptables -w 5 -N "$probe" 2>/dev/null; then
  iptables -w 5 -X "$probe"
  backend=iptables
fi
log "fault backend: $backend"

stopping=0
stop() {
  stopping=1
  log "stopping: restoring faults, stopping the agent and the server"
  # --force: the container is going away, a run inside it or not.
  toolkit down --force || log "toolkit down failed"
  exit 0
}
trap stop TERM INT

first_start=1
[ -e "$TOOLKIT_HOME/.initdb-done" ] && first_start=0

# up prints the accounts (a default password included): keep them out of the container log.
toolkit up --listen 0.0.0.0 --port 3306 --backend "$backend" >/dev/null

if [ "$first_start" = 1 ]; then
  socket="$TOOLKIT_HOME/server/mysqld.sock"
  for f in /docker-entrypoint-initdb.d/*; do
    [ -e "$f" ] || continue
    case "$f" in
      *.sh)     log "running $f"; . "$f" ;;
      *.sql)    log "running $f"; MYSQL_PWD="${MYSQL_ROOT_PASSWORD:-rootpassword}" mariadb --socket="$socket" -uroot "${MYSQL_DATABASE:-testdb}" < "$f" ;;
      *.sql.gz) log "running $f"; gunzip -c "$f" | MYSQL_PWD="${MYSQL_ROOT_PASSWORD:-rootpassword}" mariadb --socket="$socket" -uroot "${MYSQL_DATABASE:-testdb}" ;;
      *)        log "ignoring $f" ;;
    esac
  done
  touch "$TOOLKIT_HOME/.initdb-done"
fi
log "ready: ETL tools connect to port 3306 (database ${MYSQL_DATABASE:-testdb}, user ${TOOLKIT_ETL_USER:-hevo})"

# Wait for a signal; `wait` returns when the trap fires.
while [ "$stopping" = 0 ]; do
  sleep 3600 &
  wait $! || true
done
