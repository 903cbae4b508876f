# shellcheck shell=bash
#
# SeaweedFS for the test command: a real S3-compatible object store for the
# storage sink, one per state directory, reused while it runs. Source this
# file, then:
#
#   seaweedfs_start STATE_DIR   build weed (once), start (or reuse) the
#                               server whose files live under STATE_DIR and
#                               export SLUICE_TEST_S3 and its credentials
#   seaweedfs_stop STATE_DIR    stop it (by the pid in STATE_DIR/weed.pid)
#
# seaweedfs_start builds the weed binary from the Go module proxy, at the
# pinned SLUICE_SEAWEEDFS_VERSION, into STATE_DIR/bin/weed: `go mod
# download` of github.com/seaweedfs/seaweedfs and `go build ./weed` in that
# module's own directory, so nothing of it enters Sluice's go.mod (its go.mod
# has a replace directive, which `go install mod@version` refuses). A binary
# built from the same version is reused. The first build takes about six
# minutes on two cores.
#
# It runs `weed mini` (master, volume server, filer and S3 gateway in one
# process; WebDAV, the admin UI, Iceberg and Lance off) listening on
# 127.0.0.1 only, on ten consecutive free ports from 28300 up, with its data
# in STATE_DIR/data (emptied at every start) and one static S3 identity
# (STATE_DIR/s3.json) allowed everything. The bucket SLUICE_TEST_S3_BUCKET
# is created at start. It exports:
#
#   SLUICE_TEST_S3             the S3 endpoint, http://127.0.0.1:PORT
#   SLUICE_TEST_S3_ACCESS_KEY  the identity's access key id
#   SLUICE_TEST_S3_SECRET_KEY  its secret key
#   SLUICE_TEST_S3_BUCKET      a bucket tests may write to
#
# Both functions print one line saying what they did, are idempotent, and
# work under `set -euo pipefail`. A second seaweedfs_start reuses the
# running server if its S3 port answers, and otherwise stops it and starts
# anew.

SLUICE_SEAWEEDFS_VERSION=${SLUICE_SEAWEEDFS_VERSION:-v0.0.0-20261109003541-7506e5f91cd6}
# Below Linux's ephemeral range (32768-60999), so that no outgoing
# connection holds a port weed is to listen on.
SLUICE_SEAWEEDFS_FIRST_PORT=${SLUICE_SEAWEEDFS_FIRST_PORT:-28300}
SLUICE_SEAWEEDFS_PORT_TRIES=${SLUICE_SEAWEEDFS_PORT_TRIES:-30}

_seaweedfs_access_key=sluice-test
_seaweedfs_secret_key=sluice-test-secret
_seaweedfs_bucket=sluice-test

_seaweedfs_log() {
	printf 'seaweedfs.sh: %s\n' "$*" >&2
}

# _seaweedfs_listening PORT succeeds when something listens on TCP PORT.
_seaweedfs_listening() {
	local hex
	hex=$(printf '%04X' "$1")
	# Field 2 is the local address (hex IP:port), field 4 the state: 0A
	# is LISTEN.
	awk -v p=":$hex\$" '$2 ~ p && $4 == "0A" { found = 1 } END { exit !found }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# _seaweedfs_build STATE builds STATE/bin/weed at the pinned version,
# unless it is there already.
_seaweedfs_build() {
	local state=$1 bin=$1/bin/weed moddir started
	if [ -x "$bin" ] && [ "$(cat "$bin.version" 2>/dev/null)" = "$SLUICE_SEAWEEDFS_VERSION" ]; then
		return 0
	fi
	mkdir -p "$state/bin"
	started=$(date +%s)
	_seaweedfs_log "building weed $SLUICE_SEAWEEDFS_VERSION from the Go module proxy (a few minutes, once)"
	# Outside any module, so that Sluice's go.mod is not touched.
	moddir=$(cd / && GOWORK=off GOFLAGS=-mod=mod go mod download -json \
		"github.com/seaweedfs/seaweedfs@$SLUICE_SEAWEEDFS_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
	if [ -z "$moddir" ] || [ ! -d "$moddir/weed" ]; then
		_seaweedfs_log "go mod download of github.com/seaweedfs/seaweedfs@$SLUICE_SEAWEEDFS_VERSION failed"
		return 1
	fi
	if ! (cd "$moddir" && GOWORK=off GOFLAGS=-buildvcs=false go build -trimpath -ldflags "-s -w" \
		-o "$bin.tmp" ./weed) >"$state/build.log" 2>&1; then
		_seaweedfs_log "building weed failed; see $state/build.log"
		tail -n 20 "$state/build.log" >&2
		return 1
	fi
	mv "$bin.tmp" "$bin"
	echo "$SLUICE_SEAWEEDFS_VERSION" >"$bin.version"
	_seaweedfs_log "built weed in $(($(date +%s) - started))s"
}

# _seaweedfs_alive STATE succeeds when the weed of STATE runs and its S3
# port listens.
_seaweedfs_alive() {
	local state=$1 pid base
	[ -s "$state/weed.pid" ] && [ -s "$state/ports" ] || return 1
	pid=$(cat "$state/weed.pid")
	kill -0 "$pid" 2>/dev/null || return 1
	# Make sure the pid is a weed, not a recycled pid.
	grep -q '^weed' "/proc/$pid/comm" 2>/dev/null || return 1
	read -r base <"$state/ports"
	_seaweedfs_listening $((base + 6))
}

_seaweedfs_export() {
	local base
	read -r base <"$1/ports"
	export SLUICE_TEST_S3="http://127.0.0.1:$((base + 6))"
	export SLUICE_TEST_S3_ACCESS_KEY=$_seaweedfs_access_key
	export SLUICE_TEST_S3_SECRET_KEY=$_seaweedfs_secret_key
	export SLUICE_TEST_S3_BUCKET=$_seaweedfs_bucket
}

# seaweedfs_start STATE_DIR
seaweedfs_start() {
	if [ $# -ne 1 ] || [ -z "$1" ]; then
		_seaweedfs_log "usage: seaweedfs_start STATE_DIR"
		return 2
	fi
	local state port tries i busy pid waited
	mkdir -p "$1"
	state=$(cd "$1" && pwd -P)
	if _seaweedfs_alive "$state" && [ "$(cat "$state/bin/weed.version" 2>/dev/null)" = "$SLUICE_SEAWEEDFS_VERSION" ]; then
		_seaweedfs_export "$state"
		echo "seaweedfs: reusing weed $(cat "$state/weed.pid") ($SLUICE_TEST_S3)"
		return 0
	fi
	seaweedfs_stop "$state" >/dev/null || return 1
	_seaweedfs_build "$state" || return 1
	cat >"$state/s3.json" <<-EOF
		{"identities": [{"name": "sluice-test",
		  "credentials": [{"accessKey": "$_seaweedfs_access_key", "secretKey": "$_seaweedfs_secret_key"}],
		  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
	EOF

	port=$SLUICE_SEAWEEDFS_FIRST_PORT
	tries=0
	while [ "$tries" -lt "$SLUICE_SEAWEEDFS_PORT_TRIES" ]; do
		tries=$((tries + 1))
		busy=0
		for i in 0 1 2 3 4 5 6 7 8 9; do
			if _seaweedfs_listening $((port + i)); then
				busy=1
			fi
		done
		if [ "$busy" -eq 1 ]; then
			port=$((port + 10))
			continue
		fi
		echo "$port" >"$state/ports"
		# A fresh data directory every start: the master's state is kept
		# per port, and a volume server that registered with another
		# master's topology is frozen ("volume growth frozen"). Tests keep
		# nothing in the store between runs.
		rm -rf "$state/data"
		mkdir -p "$state/data"
		# In its own session, and not our child (the subshell exits): the
		# test command's signals do not reach it, init reaps it, and
		# seaweedfs_stop ends it.
		(setsid "$state/bin/weed" mini -dir="$state/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
			-master.port="$port" -master.port.grpc=$((port + 1)) \
			-volume.port=$((port + 2)) -volume.port.grpc=$((port + 3)) \
			-filer.port=$((port + 4)) -filer.port.grpc=$((port + 5)) \
			-s3.port=$((port + 6)) -s3.port.grpc=$((port + 7)) \
			-admin.port=$((port + 8)) -admin.port.grpc=$((port + 9)) -admin.port.legacy=0 -admin.ui=false \
			-webdav=false -s3.port.iceberg=0 -s3.port.lance=0 -master.volumeSizeLimitMB=64 \
			-s3.config="$state/s3.json" -bucket="$_seaweedfs_bucket" \
			</dev/null >"$state/weed.log" 2>&1 &
			echo $! >"$state/weed.pid")
		pid=$(cat "$state/weed.pid")
		# Ready when it says so; failed when it exits or logs a fatal
		# error (glog's F lines), such as a port taken.
		waited=0
		while [ "$waited" -lt 600 ] && kill -0 "$pid" 2>/dev/null &&
			! grep -q 'All enabled components are running' "$state/weed.log" &&
			! grep -q '^F[0-9]' "$state/weed.log"; do
			sleep 0.1
			waited=$((waited + 1))
		done
		if _seaweedfs_alive "$state" && grep -q 'All enabled components are running' "$state/weed.log"; then
			_seaweedfs_export "$state"
			echo "seaweedfs: started weed $pid ($SLUICE_TEST_S3, bucket $SLUICE_TEST_S3_BUCKET)"
			return 0
		fi
		# Most likely someone took a port in between: try the next ones.
		_seaweedfs_log "weed on ports $port-$((port + 9)) did not come up within $((waited / 10))s" \
			"($(grep -m1 '^F[0-9]' "$state/weed.log" || echo "log: $state/weed.log.failed")); trying the next ports"
		seaweedfs_stop "$state" >/dev/null || return 1
		mv "$state/weed.log" "$state/weed.log.failed"
		port=$((port + 10))
	done
	_seaweedfs_log "no free ports from $SLUICE_SEAWEEDFS_FIRST_PORT, or weed does not start; see $state/weed.log"
	tail -n 20 "$state/weed.log" >&2
	return 1
}

# seaweedfs_stop STATE_DIR
seaweedfs_stop() {
	if [ $# -ne 1 ] || [ -z "$1" ]; then
		_seaweedfs_log "usage: seaweedfs_stop STATE_DIR"
		return 2
	fi
	local state pid waited
	if [ ! -d "$1" ]; then
		echo "seaweedfs: nothing to stop ($1 does not exist)"
		return 0
	fi
	state=$(cd "$1" && pwd -P)
	if [ ! -s "$state/weed.pid" ]; then
		echo "seaweedfs: no weed running for $state"
		return 0
	fi
	pid=$(cat "$state/weed.pid")
	if ! kill -0 "$pid" 2>/dev/null || ! grep -q '^weed' "/proc/$pid/comm" 2>/dev/null; then
		rm -f "$state/weed.pid"
		echo "seaweedfs: no weed running for $state (stale pid file removed)"
		return 0
	fi
	kill -TERM "$pid"
	waited=0
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$waited" -ge 150 ]; then
			_seaweedfs_log "weed $pid did not stop within 15s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
	rm -f "$state/weed.pid"
	echo "seaweedfs: stopped weed $pid"
}
