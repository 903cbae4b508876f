# shellcheck shell=bash
#
# rsyslog for the test command: a throwaway syslog receiver, one per state
# directory, reused while it runs. Source this file, then:
#
#   rsyslog_start STATE_DIR   start (or reuse) the rsyslogd whose files live
#                             under STATE_DIR and export SLUICE_TEST_RSYSLOG
#   rsyslog_stop STATE_DIR    stop it (by the pid in STATE_DIR/rsyslogd.pid)
#
# rsyslog_start installs the Debian packages rsyslog and rsyslog-gnutls
# (apt-get, as root) when rsyslogd or its gtls driver is missing, and openssl
# when it is missing. Once per state directory it makes a CA, a server
# certificate for 127.0.0.1 and a client certificate (STATE_DIR/tls). It runs
# rsyslogd with its own configuration (STATE_DIR/rsyslog.conf), nothing of
# the system's, listening on 127.0.0.1 only, on three free ports from 56514
# up: plain TCP (octet-counted or newline framing), UDP, and TLS with mutual
# certificate authentication (gtls, x509/certvalid). Every message received
# becomes one JSON line in STATE_DIR/out.log, written as it arrives:
#
#   {"input":"tcp","fac":"16","sev":"6","host":"h","app":"a","procid":"-",
#    "msgid":"m","sd":"[...]","msg":"..."}
#
# where msg is the message as rsyslog parsed it (MSG of RFC 5424; for
# RFC 3164 the text after "TAG:", with its leading space), JSON-escaped, no
# control characters escaped on receipt and messages up to 256 KiB.
#
# SLUICE_TEST_RSYSLOG is a comma-separated list of key=value:
#
#   tcp=127.0.0.1:P1,udp=127.0.0.1:P2,tls=127.0.0.1:P3,out=STATE_DIR/out.log,
#   ca=STATE_DIR/tls/ca.pem,cert=STATE_DIR/tls/client.pem,
#   key=STATE_DIR/tls/client-key.pem
#
# Both functions print one line saying what they did, are idempotent, and
# work under `set -euo pipefail`. A second rsyslog_start reuses the running
# receiver if all its ports answer, and otherwise stops it and starts anew.

SLUICE_RSYSLOG_FIRST_PORT=${SLUICE_RSYSLOG_FIRST_PORT:-56514}
SLUICE_RSYSLOG_PORT_TRIES=${SLUICE_RSYSLOG_PORT_TRIES:-50}

_rsyslog_log() {
	printf 'rsyslog.sh: %s\n' "$*" >&2
}

# _rsyslog_bin prints the path of rsyslogd.
_rsyslog_bin() {
	if command -v rsyslogd 2>/dev/null; then
		return 0
	fi
	if [ -x /usr/sbin/rsyslogd ]; then
		echo /usr/sbin/rsyslogd
		return 0
	fi
	return 1
}

# _rsyslog_gtls succeeds when rsyslog's gtls network stream driver is
# installed.
_rsyslog_gtls() {
	find /usr/lib -name lmnsd_gtls.so -print -quit 2>/dev/null | grep -q .
}

# _rsyslog_install installs what is missing: rsyslog, rsyslog-gnutls,
# openssl.
_rsyslog_install() {
	local pkgs=()
	_rsyslog_bin >/dev/null || pkgs+=(rsyslog)
	_rsyslog_gtls || pkgs+=(rsyslog-gnutls)
	command -v openssl >/dev/null 2>&1 || pkgs+=(openssl)
	if [ ${#pkgs[@]} -eq 0 ]; then
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		_rsyslog_log "missing ${pkgs[*]} and not root: install the Debian packages ${pkgs[*]}"
		return 1
	fi
	_rsyslog_log "installing ${pkgs[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
	# The packaged service is not needed (and in containers policy-rc.d
	# usually keeps it from starting); ours runs with its own config.
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2
	if ! _rsyslog_bin >/dev/null || ! _rsyslog_gtls; then
		_rsyslog_log "installed ${pkgs[*]} but still found no rsyslogd or gtls driver"
		return 1
	fi
}

# _rsyslog_certs DIR makes a CA, a server certificate (127.0.0.1,
# localhost) and a client certificate under DIR, once.
_rsyslog_certs() {
	local dir=$1
	if [ -s "$dir/ca.pem" ] && [ -s "$dir/server.pem" ] && [ -s "$dir/client.pem" ] &&
		[ -s "$dir/client-key.pem" ] && [ -s "$dir/server-key.pem" ]; then
		return 0
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	(
		cd "$dir"
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
			-subj "/CN=sluice test CA" -keyout ca-key.pem -out ca.pem \
			-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
		local who
		for who in server client; do
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
				-subj "/CN=sluice test $who" -keyout "$who-key.pem" -out "$who.csr"
			printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
				"extendedKeyUsage=serverAuth,clientAuth" \
				"keyUsage=critical,digitalSignature,keyEncipherment" >"$who.ext"
			openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
				-days 3650 -extfile "$who.ext" -out "$who.pem"
		done
		chmod 0600 ./*-key.pem
	) >"$dir/openssl.log" 2>&1 || {
		_rsyslog_log "making test certificates failed; see $dir/openssl.log"
		return 1
	}
}

# _rsyslog_listening PROTO PORT succeeds when something listens on
# 127.0.0.1:PORT (or any address) for tcp or udp.
_rsyslog_listening() {
	local hex
	hex=$(printf '%04X' "$2")
	if [ "$1" = tcp ]; then
		# Field 2 is the local address (hex IP:port), field 4 the state:
		# 0A is LISTEN.
		awk -v p=":$hex\$" '$2 ~ p && $4 == "0A" { found = 1 } END { exit !found }' \
			/proc/net/tcp /proc/net/tcp6 2>/dev/null
	else
		awk -v p=":$hex\$" '$2 ~ p { found = 1 } END { exit !found }' \
			/proc/net/udp /proc/net/udp6 2>/dev/null
	fi
}

# _rsyslog_alive STATE succeeds when the rsyslogd of STATE runs and all its
# ports listen.
_rsyslog_alive() {
	local state=$1 pid tcp udp tls
	[ -s "$state/rsyslogd.pid" ] && [ -s "$state/ports" ] || return 1
	pid=$(cat "$state/rsyslogd.pid")
	kill -0 "$pid" 2>/dev/null || return 1
	# Make sure the pid is an rsyslogd, not a recycled pid.
	grep -q rsyslogd "/proc/$pid/comm" 2>/dev/null || return 1
	read -r tcp udp tls <"$state/ports"
	_rsyslog_listening tcp "$tcp" && _rsyslog_listening udp "$udp" && _rsyslog_listening tcp "$tls"
}

_rsyslog_export() {
	local state=$1 tcp udp tls
	read -r tcp udp tls <"$state/ports"
	export SLUICE_TEST_RSYSLOG="tcp=127.0.0.1:$tcp,udp=127.0.0.1:$udp,tls=127.0.0.1:$tls,out=$state/out.log,ca=$state/tls/ca.pem,cert=$state/tls/client.pem,key=$state/tls/client-key.pem"
}

# _rsyslog_config STATE TCP UDP TLS writes STATE/rsyslog.conf.
_rsyslog_config() {
	local state=$1 tcp=$2 udp=$3 tls=$4
	cat >"$state/rsyslog.conf" <<-EOF
		# Written by scripts/lib/rsyslog.sh for the Sluice tests.
		global(
		  workDirectory="$state/work"
		  maxMessageSize="256k"
		  parser.escapeControlCharactersOnReceive="off"
		  defaultNetstreamDriverCAFile="$state/tls/ca.pem"
		  defaultNetstreamDriverCertFile="$state/tls/server.pem"
		  defaultNetstreamDriverKeyFile="$state/tls/server-key.pem"
		)
		module(load="imudp")
		module(load="imtcp" maxSessions="1000")
		input(type="imudp" address="127.0.0.1" port="$udp" rcvBufSize="16m" ruleset="out" name="udp")
		input(type="imtcp" address="127.0.0.1" port="$tcp" ruleset="out" name="tcp")
		input(type="imtcp" address="127.0.0.1" port="$tls" ruleset="out" name="tls"
		  streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="x509/certvalid")

		template(name="sluiceJSON" type="list") {
		  constant(value="{\"input\":\"")   property(name="inputname" format="json")
		  constant(value="\",\"fac\":\"")   property(name="syslogfacility" format="json")
		  constant(value="\",\"sev\":\"")   property(name="syslogseverity" format="json")
		  constant(value="\",\"host\":\"")  property(name="hostname" format="json")
		  constant(value="\",\"app\":\"")   property(name="app-name" format="json")
		  constant(value="\",\"procid\":\"") property(name="procid" format="json")
		  constant(value="\",\"msgid\":\"") property(name="msgid" format="json")
		  constant(value="\",\"sd\":\"")    property(name="structured-data" format="json")
		  constant(value="\",\"msg\":\"")   property(name="msg" format="json")
		  constant(value="\"}\n")
		}
		ruleset(name="out") {
		  action(type="omfile" file="$state/out.log" template="sluiceJSON")
		}
	EOF
}

# rsyslog_start STATE_DIR
rsyslog_start() {
	if [ $# -ne 1 ] || [ -z "$1" ]; then
		_rsyslog_log "usage: rsyslog_start STATE_DIR"
		return 2
	fi
	local state bin port tries tcp udp tls waited
	mkdir -p "$1"
	state=$(cd "$1" && pwd -P)
	if _rsyslog_alive "$state"; then
		_rsyslog_export "$state"
		echo "rsyslog: reusing rsyslogd $(cat "$state/rsyslogd.pid") ($SLUICE_TEST_RSYSLOG)"
		return 0
	fi
	# A stale or half-working one: stop it and start anew.
	rsyslog_stop "$state" >/dev/null || return 1
	_rsyslog_install || return 1
	bin=$(_rsyslog_bin)
	_rsyslog_certs "$state/tls" || return 1
	mkdir -p "$state/work"

	port=$SLUICE_RSYSLOG_FIRST_PORT
	tries=0
	while [ "$tries" -lt "$SLUICE_RSYSLOG_PORT_TRIES" ]; do
		tcp=$port udp=$((port + 1)) tls=$((port + 2))
		port=$((port + 3))
		tries=$((tries + 1))
		if _rsyslog_listening tcp "$tcp" || _rsyslog_listening udp "$udp" || _rsyslog_listening tcp "$tls"; then
			continue
		fi
		_rsyslog_config "$state" "$tcp" "$udp" "$tls"
		echo "$tcp $udp $tls" >"$state/ports"
		if ! "$bin" -N1 -f "$state/rsyslog.conf" >"$state/rsyslogd.log" 2>&1; then
			_rsyslog_log "rsyslogd rejects $state/rsyslog.conf; see $state/rsyslogd.log"
			tail -n 20 "$state/rsyslogd.log" >&2
			return 1
		fi
		rm -f "$state/rsyslogd.pid"
		# Without -n rsyslogd forks into the background and writes its pid
		# file once started.
		if ! "$bin" -f "$state/rsyslog.conf" -i "$state/rsyslogd.pid" >>"$state/rsyslogd.log" 2>&1; then
			_rsyslog_log "rsyslogd failed to start; see $state/rsyslogd.log"
			tail -n 20 "$state/rsyslogd.log" >&2
			return 1
		fi
		waited=0
		while [ "$waited" -lt 50 ] && ! _rsyslog_alive "$state"; do
			sleep 0.1
			waited=$((waited + 1))
		done
		if _rsyslog_alive "$state"; then
			_rsyslog_export "$state"
			echo "rsyslog: started rsyslogd $(cat "$state/rsyslogd.pid") ($SLUICE_TEST_RSYSLOG)"
			return 0
		fi
		# Most likely someone took a port in between: try the next ones.
		_rsyslog_log "rsyslogd on ports $tcp/$udp/$tls did not come up (log: $state/rsyslogd.log); trying the next ports"
		rsyslog_stop "$state" >/dev/null || return 1
	done
	_rsyslog_log "no free ports from $SLUICE_RSYSLOG_FIRST_PORT, or rsyslogd does not start; see $state/rsyslogd.log"
	tail -n 20 "$state/rsyslogd.log" >&2
	return 1
}

# rsyslog_stop STATE_DIR
rsyslog_stop() {
	if [ $# -ne 1 ] || [ -z "$1" ]; then
		_rsyslog_log "usage: rsyslog_stop STATE_DIR"
		return 2
	fi
	local state pid waited
	if [ ! -d "$1" ]; then
		echo "rsyslog: nothing to stop ($1 does not exist)"
		return 0
	fi
	state=$(cd "$1" && pwd -P)
	if [ ! -s "$state/rsyslogd.pid" ]; then
		echo "rsyslog: no rsyslogd running for $state"
		return 0
	fi
	pid=$(cat "$state/rsyslogd.pid")
	if ! kill -0 "$pid" 2>/dev/null || ! grep -q rsyslogd "/proc/$pid/comm" 2>/dev/null; then
		rm -f "$state/rsyslogd.pid"
		echo "rsyslog: no rsyslogd running for $state (stale pid file removed)"
		return 0
	fi
	kill -TERM "$pid"
	waited=0
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$waited" -ge 100 ]; then
			_rsyslog_log "rsyslogd $pid did not stop within 10s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
	rm -f "$state/rsyslogd.pid"
	echo "rsyslog: stopped rsyslogd $pid"
}
