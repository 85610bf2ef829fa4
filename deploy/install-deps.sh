#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages mpcd needs to build and test, only when one
# is missing, so `make test` and `make demo` work on a fresh Debian machine.
set -euo pipefail

# iproute2: ip netns and tc for tests/daemon/test_netns.sh; groff-base and
# man-db: the manual pages rendered by tests/daemon/test_install.sh;
# python3-onnx and python3-numpy: ONNX's backend node tests
# (tests/onnx_node/run.sh).
pkgs=(gcc make pkg-config libsodium-dev libuv1-dev libprotobuf-c-dev
      protobuf-c-compiler libjansson-dev iproute2 groff-base man-db
      python3-onnx python3-numpy)
# prometheus (with promtool), curl, jq: tests/daemon/test_metrics.sh scrapes the daemons.
pkgs+=(prometheus curl jq)
[ "${MPC_WITH_FUZZ:-0}" = 1 ] && pkgs+=(clang libclang-rt-14-dev)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
