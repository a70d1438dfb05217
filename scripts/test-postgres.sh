#!/usr/bin/env bash
# Sourced by scripts/test.sh: a throwaway PostgreSQL cluster for the tests that need one. Debian's postgresql package
# (installed when missing), initdb into a temporary folder as a non-root user, a free loopback port, torn down on exit.
# Sets DRWEB_TEST_POSTGRES (a connection string to the maintenance database) or DRWEB_POSTGRES_UNAVAILABLE (why not).

drweb_pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return 0; }; done
  return 1
}

drweb_pg_start() {
  local bin
  if ! bin="$(drweb_pg_bin)"; then
    echo "Installing Debian's postgresql for the multi-node tests..."
    if [ "$(id -u)" -ne 0 ]; then
      export DRWEB_POSTGRES_UNAVAILABLE="PostgreSQL is not installed and scripts/test.sh is not running as root, so it could not install it (sudo apt-get install postgresql)."
      return 0
    fi
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; } || ! bin="$(drweb_pg_bin)"; then
      export DRWEB_POSTGRES_UNAVAILABLE="PostgreSQL is not installed and apt-get could not install it (is the Debian mirror reachable?)."
      return 0
    fi
  fi
  # PostgreSQL refuses to run as root: run it as the package's postgres user (or ourselves when not root).
  local as=()
  DRWEB_PG_DIR="$(mktemp -d /tmp/drweb-pg.XXXXXX)"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$DRWEB_PG_DIR"
    as=(runuser -u postgres --)
  fi
  if ! "${as[@]}" "$bin/initdb" -D "$DRWEB_PG_DIR/data" -U drweb --auth=trust --no-sync -E UTF8 >"$DRWEB_PG_DIR/initdb.log" 2>&1; then
    export DRWEB_POSTGRES_UNAVAILABLE="initdb failed: $(tail -1 "$DRWEB_PG_DIR/initdb.log")"
    return 0
  fi
  local port tries=0
  while :; do
    port=$(( 20000 + RANDOM % 20000 ))
    # Throwaway data: durability off for speed (DRWEB_PG_DURABLE=1, as benchmarks use, keeps PostgreSQL's defaults);
    # enough connections for several server processes.
    local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [ "${DRWEB_PG_DURABLE:-0}" = "1" ] && durability=""
    if "${as[@]}" "$bin/pg_ctl" -D "$DRWEB_PG_DIR/data" -l "$DRWEB_PG_DIR/server.log" -w -t 60 \
         -o "-p $port -k $DRWEB_PG_DIR -c listen_addresses=127.0.0.1 $durability -c max_connections=400" \
         start >/dev/null 2>&1; then
      break
    fi
    tries=$((tries + 1))
    if [ "$tries" -ge 5 ]; then
      export DRWEB_POSTGRES_UNAVAILABLE="PostgreSQL did not start: $(tail -2 "$DRWEB_PG_DIR/server.log" | tr '\n' ' ')"
      return 0
    fi
  done
  DRWEB_PG_STOP=("${as[@]}" "$bin/pg_ctl" -D "$DRWEB_PG_DIR/data" -m immediate stop)
  export DRWEB_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=drweb;Database=postgres"
  echo "Test PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $DRWEB_PG_DIR)."
}

drweb_pg_stop() {
  if [ -n "${DRWEB_PG_DIR:-}" ]; then
    [ "${#DRWEB_PG_STOP[@]}" -gt 0 ] && "${DRWEB_PG_STOP[@]}" >/dev/null 2>&1 || true
    rm -rf "$DRWEB_PG_DIR"
  fi
}
