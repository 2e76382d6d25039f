#!/usr/bin/env bash
# Builds the example AI image, loads the demonstration advisories, and writes the evidence
# package for the image to target/evidence (replacing an earlier one).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

./scripts/build-example-image.sh
cargo build --release --quiet
db=target/demo-advisories.db
rm -f "$db"
./target/release/clearbox db import examples/advisories --db "$db"
./target/release/clearbox evidence oci:target/example-image:latest \
  --db "$db" --output target/evidence --force
./target/release/clearbox evidence verify target/evidence
