#!/bin/sh
# README command 2: install dependencies and run the whole test suite.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh engines cri vm
make check
