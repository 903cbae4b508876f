# shellcheck shell=bash
#
# Python for the interop tests: a virtual environment with the pinned
# packages of test/interop/requirements.txt. Source this file, then:
#
#   py_env STATE_DIR   create (or reuse) STATE_DIR/venv, install what is
#                      missing, and export SLUICE_TEST_PYTHON
#
# Idempotent: a venv whose installed set already matches the requirements
# file (recorded by checksum) is reused without touching the network.

py_env() {
	local dir=$1/venv req=test/interop/requirements.txt
	local sum
	sum=$(sha256sum "$req" | cut -d' ' -f1)
	if [[ ! -x "$dir/bin/python" ]]; then
		python3 -m venv "$dir"
	fi
	if [[ "$(cat "$dir/.requirements.sha256" 2>/dev/null)" != "$sum" ]]; then
		"$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
		echo "$sum" >"$dir/.requirements.sha256"
		echo "python: installed $(tr '\n' ' ' <"$req" | grep -o '[a-z_-]*==[0-9.]*' | tr '\n' ' ')into $dir" >&2
	else
		echo "python: reusing $dir" >&2
	fi
	export SLUICE_TEST_PYTHON=$dir/bin/python
}
