#!/usr/bin/env bash
# Runs every test: builds the example image (from the download cache after the first run),
# then every test binary of the workspace in one build.
#
# Tests that need the shared corpus (CLEARBOX_CORPUS, default ../shared/corpus), the example
# image (CLEARBOX_EXAMPLE_IMAGE, default target/example-image) or the validator environment
# (CLEARBOX_VENV, default .venv) skip with a notice when they are missing, and fail instead when
# CI=true.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

printf '==> %s\n' "building the example image" >&2
./scripts/build-example-image.sh >/dev/null

# Data the tests keep for a whole test process; nextest never removes it, so empty it here.
rm -rf target/test-tmp

printf '==> %s\n' "running the tests" >&2
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi
