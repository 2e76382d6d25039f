//! The SLSA v1 provenance predicate (<https://slsa.dev/provenance/v1>) of a build, with the
//! build type [`BUILD_TYPE`] that `docs/build.md` documents. The caller wraps it in an in-toto
//! statement whose subject is the manifest digest.
//!
//! The predicate has no times and no absolute paths: two builds of the same inputs give the
//! same predicate, which is what a rebuilder compares.

use std::path::Path;

use serde_json::{Map, Value, json};

use crate::Digest;
use crate::build::BuiltImage;

/// The `buildType` of a `clearbox build`, described in `docs/build.md` under this anchor.
// NOTE: the prefix is the workspace's `repository` URL, as for the git provenance's type.
pub const BUILD_TYPE: &str =
    "https://example.invalid/clearbox/blob/main/docs/build.md#build-type-clearbox-build-v1";

/// Builds the predicate. `spec_path` and `spec_digest` name the spec file, and input paths are
/// recorded relative to the spec's directory.
#[must_use]
pub fn provenance_predicate(
    image: &BuiltImage,
    spec_path: &Path,
    spec_digest: &Digest,
    builder_id: &str,
    clearbox_version: &str,
) -> Value {
    let spec_dir = spec_path.parent().unwrap_or(Path::new(""));
    let spec_name = spec_path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());

    // The inputs: the base image, then each file in spec order.
    let mut dependencies = Vec::new();
    if let Some((name, digest)) = &image.base {
        dependencies.push(json!({
            "name": "base-image",
            "uri": name,
            "digest": {digest.algorithm(): digest.hex()},
        }));
    }
    for input in &image.inputs {
        let relative = input.path.strip_prefix(spec_dir).unwrap_or(&input.path);
        dependencies.push(json!({
            "name": input.kind,
            "uri": relative.to_string_lossy(),
            "digest": {input.digest.algorithm(): input.digest.hex()},
        }));
    }

    let mut packages = Map::new();
    for package in &image.packages {
        packages.insert(package.name.clone(), json!(package.version));
    }
    json!({
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": {
                "spec": {
                    "uri": spec_name,
                    "digest": {spec_digest.algorithm(): spec_digest.hex()},
                },
                "sourceDateEpoch": image.source_date_epoch,
            },
            "internalParameters": {
                "image": {
                    "config": image.config_digest.to_string(),
                    "layers": image.layers.iter().map(|l| l.digest.to_string()).collect::<Vec<_>>(),
                },
                "debianPackages": Value::Object(packages),
                "hardening": {
                    "overrides": image.overrides,
                    "setuidCleared": image.hardening.setuid_cleared,
                    "worldWritableCleared": image.hardening.world_writable_cleared,
                },
            },
            "resolvedDependencies": dependencies,
        },
        "runDetails": {
            "builder": {
                "id": builder_id,
                "version": {"clearbox": clearbox_version},
            },
        },
    })
}
