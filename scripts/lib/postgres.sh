# shellcheck shell=bash
#
# PostgreSQL for the test command: a throwaway local server, one per state
# directory, reused while it runs. Source this file, then:
#
#   pg_start STATE_DIR   start (or reuse) the server whose files live under
#                        STATE_DIR and export SLUICE_TEST_POSTGRES, a URL for
#                        the superuser "postgres" (trust auth, 127.0.0.1)
#   pg_stop STATE_DIR    stop that server (fast shutdown) if it runs
#
# pg_start installs the Debian package (apt-get, as root) when no PostgreSQL
# binaries are found, runs initdb once into STATE_DIR/pgdata, listens on
# 127.0.0.1 only, on the first free port from 55432 up, with its unix socket
# in STATE_DIR/pgrun. The server is tuned for tests, not durability
# (fsync=off). As root it runs everything as the "postgres" OS user, which
# the server requires. Both functions print one line saying what they did,
# and work under `set -euo pipefail`.
#
# If the postgres user cannot reach STATE_DIR (a parent such as /root is
# private), the cluster lives in /var/tmp/sluice-postgres-<checksum of
# STATE_DIR> instead, and STATE_DIR/pgdata is a symlink to its data
# directory.

# First port tried, and how many after it.
SLUICE_PG_FIRST_PORT=${SLUICE_PG_FIRST_PORT:-55432}
SLUICE_PG_PORT_TRIES=${SLUICE_PG_PORT_TRIES:-100}

# _pg_log prints a message on stderr, prefixed so it is clear who said it.
_pg_log() {
	printf 'postgres.sh: %s\n' "$*" >&2
}

# _pg_as_server_user runs a command as the OS user that owns the cluster:
# "postgres" when we are root, ourselves otherwise. cwd is / so the
# postgres user never trips over a private working directory.
_pg_as_server_user() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && "$@")
	fi
}

# _pg_write FILE writes stdin to FILE as the server user, who owns the
# data directory; _pg_append FILE appends.
_pg_write() {
	# shellcheck disable=SC2016 # $1 is expanded by the inner sh.
	_pg_as_server_user sh -c 'cat >"$1"' sh "$1"
}
_pg_append() {
	# shellcheck disable=SC2016 # $1 is expanded by the inner sh.
	_pg_as_server_user sh -c 'cat >>"$1"' sh "$1"
}

# _pg_find_bindir prints the directory holding initdb, pg_ctl and postgres:
# PATH first, then the newest /usr/lib/postgresql/*/bin.
_pg_find_bindir() {
	local dir candidate
	if dir=$(command -v pg_ctl 2>/dev/null) && [ -n "$dir" ]; then
		# Resolve symlinks such as /usr/local/bin/pg_ctl -> .../15/bin/pg_ctl.
		dir=$(dirname "$(readlink -f "$dir")")
		if [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ]; then
			printf '%s\n' "$dir"
			return 0
		fi
	fi
	candidate=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1)
	if [ -n "$candidate" ] && [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ] && [ -x "$candidate/postgres" ]; then
		printf '%s\n' "$candidate"
		return 0
	fi
	return 1
}

# _pg_bindir prints the binary directory, installing PostgreSQL if needed.
_pg_bindir() {
	local dir
	if dir=$(_pg_find_bindir); then
		printf '%s\n' "$dir"
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		_pg_log "PostgreSQL binaries not found and not root: install the postgresql package"
		return 1
	fi
	_pg_log "PostgreSQL binaries not found: installing the postgresql package"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
	if dir=$(_pg_find_bindir); then
		printf '%s\n' "$dir"
		return 0
	fi
	_pg_log "installed postgresql but still found no initdb/pg_ctl/postgres"
	return 1
}

# _pg_base STATE_DIR prints the directory that holds the cluster's files:
# STATE_DIR itself when the server user can reach it, else a directory
# under /var/tmp derived from STATE_DIR's path.
_pg_base() {
	local state=$1
	if _pg_as_server_user test -x "$state" 2>/dev/null; then
		printf '%s\n' "$state"
	else
		printf '/var/tmp/sluice-postgres-%s\n' "$(printf '%s' "$state" | cksum | cut -d ' ' -f 1)"
	fi
}

# _pg_port_free PORT succeeds when nothing accepts connections on
# 127.0.0.1:PORT.
_pg_port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# _pg_running BINDIR DATA succeeds when a server runs on DATA.
_pg_running() {
	[ -f "$2/postmaster.pid" ] && _pg_as_server_user "$1/pg_ctl" status -D "$2" >/dev/null 2>&1
}

# _pg_export PORT exports the URL tests use.
_pg_export() {
	export SLUICE_TEST_POSTGRES="postgres://postgres@127.0.0.1:$1/postgres?sslmode=disable"
}

# pg_start STATE_DIR
pg_start() {
	if [ $# -ne 1 ] || [ -z "$1" ]; then
		_pg_log "usage: pg_start STATE_DIR"
		return 2
	fi
	local state bindir base data run logfile port tries waited
	mkdir -p "$1"
	state=$(cd "$1" && pwd -P)
	bindir=$(_pg_bindir) || return 1
	if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
		useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
	fi
	base=$(_pg_base "$state")
	data=$base/pgdata
	run=$base/pgrun
	logfile=$base/postgres.log
	mkdir -p "$base" "$run"
	chmod 0755 "$base"
	if [ "$base" != "$state" ]; then
		ln -sfn "$data" "$state/pgdata"
	fi

	# Reuse a server that answers. pg_ctl status only checks that the PID
	# in postmaster.pid exists, which is also true for a server still
	# starting, or a killed one not yet reaped by its parent: give either
	# a few seconds to settle.
	waited=0
	while _pg_running "$bindir" "$data"; do
		port=$(sed -n 4p "$data/postmaster.pid")
		if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1; then
			_pg_export "$port"
			echo "postgres: reusing server on 127.0.0.1:$port (data $data)"
			return 0
		fi
		if [ "$waited" -ge 30 ]; then
			_pg_log "a server is registered in $data/postmaster.pid but does not answer on 127.0.0.1:$port; see $logfile"
			return 1
		fi
		sleep 1
		waited=$((waited + 1))
	done

	if [ ! -s "$data/PG_VERSION" ]; then
		# No cluster, or a half-made one from an interrupted initdb.
		rm -rf "$data"
		mkdir -p "$data"
		if [ "$(id -u)" -eq 0 ]; then
			chown postgres:postgres "$data"
		fi
		chmod 0700 "$data"
		if ! _pg_as_server_user "$bindir/initdb" -D "$data" -U postgres --auth=trust \
			--encoding=UTF8 --locale=C --no-sync >"$base/initdb.log" 2>&1; then
			_pg_log "initdb failed; see $base/initdb.log"
			tail -n 20 "$base/initdb.log" >&2
			return 1
		fi
		# Trust, but only on the private socket and loopback.
		_pg_write "$data/pg_hba.conf" <<-'EOF'
			# TYPE  DATABASE  USER  ADDRESS       METHOD
			local   all       all                 trust
			host    all       all   127.0.0.1/32  trust
		EOF
		printf "include_if_exists = 'sluice.conf'\n" |
			_pg_append "$data/postgresql.conf"
	fi

	touch "$logfile"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres:postgres "$run" "$logfile"
	fi
	chmod 0700 "$run"

	port=$SLUICE_PG_FIRST_PORT
	tries=0
	while [ "$tries" -lt "$SLUICE_PG_PORT_TRIES" ]; do
		if _pg_port_free "$port"; then
			# Settings that change per start; initdb's postgresql.conf
			# includes this file.
			_pg_write "$data/sluice.conf" <<-EOF
				listen_addresses = '127.0.0.1'
				port = $port
				unix_socket_directories = '$run'
				max_connections = 200
				shared_buffers = 32MB
				fsync = off
				synchronous_commit = off
				full_page_writes = off
			EOF
			if _pg_as_server_user "$bindir/pg_ctl" start -w -t 60 -D "$data" -l "$logfile" >/dev/null 2>&1; then
				_pg_export "$port"
				echo "postgres: started server on 127.0.0.1:$port (data $data, log $logfile)"
				return 0
			fi
			if _pg_running "$bindir" "$data"; then
				_pg_log "pg_ctl failed but a server runs on $data; stop it with pg_stop $state"
				return 1
			fi
			# Most likely someone took the port in between: try the next.
			_pg_log "start on port $port failed (log: $logfile); trying the next port"
		fi
		port=$((port + 1))
		tries=$((tries + 1))
	done
	_pg_log "no free port in $SLUICE_PG_FIRST_PORT..$((SLUICE_PG_FIRST_PORT + SLUICE_PG_PORT_TRIES - 1)), or the server does not start; see $logfile"
	tail -n 20 "$logfile" >&2
	return 1
}

# pg_stop STATE_DIR
pg_stop() {
	if [ $# -ne 1 ] || [ -z "$1" ]; then
		_pg_log "usage: pg_stop STATE_DIR"
		return 2
	fi
	local state bindir data
	if [ ! -d "$1" ]; then
		echo "postgres: nothing to stop ($1 does not exist)"
		return 0
	fi
	state=$(cd "$1" && pwd -P)
	data=$(_pg_base "$state")/pgdata
	if ! bindir=$(_pg_find_bindir) || ! _pg_running "$bindir" "$data"; then
		echo "postgres: no server running on $data"
		return 0
	fi
	if ! _pg_as_server_user "$bindir/pg_ctl" stop -m fast -w -t 60 -D "$data" >/dev/null; then
		_pg_log "pg_ctl stop failed for $data"
		return 1
	fi
	echo "postgres: stopped server (data $data)"
}
