#!/usr/bin/env bash
# Builds the example AI image, signs a copy of it with a fresh key, loads the demonstration
# advisories, and writes the evidence package for the signed copy to target/evidence
# (replacing an earlier one), verifying the signature with the public key.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

./scripts/build-example-image.sh
cargo build --release --quiet
clearbox=./target/release/clearbox

# The demonstration key has an empty password. Keys for real images need a strong one.
export CLEARBOX_PASSWORD=
rm -rf target/demo-image target/demo-key.key target/demo-key.pub
cp -a target/example-image target/demo-image
"$clearbox" key generate --output-prefix target/demo-key
"$clearbox" sign oci:target/demo-image:latest --key target/demo-key.key \
  --identity registry.example/clearbox/example-ai-image

db=target/demo-advisories.db
rm -f "$db"
"$clearbox" db import examples/advisories --db "$db"
"$clearbox" evidence oci:target/demo-image:latest --key target/demo-key.pub \
  --db "$db" --output target/evidence --force
"$clearbox" evidence verify target/evidence
