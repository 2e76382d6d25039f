//! The starter policy `clearbox policy init` prints.

use std::fmt::Write as _;

use super::model::{API_VERSION, KIND, MaxSeverity};
use crate::k8s::RegistryPrefix;

/// The requirements of a starter policy.
#[derive(Debug, Clone, Default)]
pub struct StarterPolicy {
    /// Trusted registries; at least one.
    pub registries: Vec<RegistryPrefix>,
    /// Signer keys as the policy should name them: `pkcs11:` URIs, or PEM paths, which are read
    /// relative to the policy file's directory unless absolute.
    pub keys: Vec<String>,
    /// With a value, a vulnerability attestation must show nothing above this severity.
    pub max_severity: Option<MaxSeverity>,
}

/// Quotes `text` as a YAML double-quoted scalar (JSON string syntax is valid YAML).
fn quote(text: &str) -> String {
    serde_json::to_string(text).expect("strings always serialize")
}

/// A commented-out `signed_objects` entry: it needs a manifest key that `policy init` does not
/// know, so the starter policy shows the shape without setting the rule.
const SIGNED_OBJECTS_EXAMPLE: &str = "
# The admission webhook admits these objects only with a manifest signature by one of the
# keys (`clearbox sign-manifest FILE --key KEY --claim approver=NAME --claim ticket=ID`).
# `kinds` defaults to the six listed here.
# signed_objects:
#   - namespaces: [prod, \"team-*\"]
#     kinds: [Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod]
#     signers:
#       keys: [keys/manifests.pub]
#     required_claims: [approver, ticket]
";

impl StarterPolicy {
    /// Returns the policy as YAML text, with a comment on each rule.
    #[must_use]
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# clearbox policy; every field is described in docs/policy.md.\n\
             # Evaluate it with `clearbox verify IMAGE --policy FILE`.\n",
        );
        let _ = writeln!(out, "apiVersion: {API_VERSION}");
        let _ = writeln!(out, "kind: {KIND}");
        out.push_str("\n# Images may come only from these registries or repositories.\n");
        out.push_str("trusted_registries:\n");
        for registry in &self.registries {
            let _ = writeln!(out, "  - {}", quote(&registry.to_string()));
        }
        out.push_str(
            "\n# Every image must carry a signature that verifies with one of these keys.\n\
             # Key files are read relative to this file's directory unless absolute.\n",
        );
        out.push_str("signers:\n  require: any\n  keys:\n");
        for key in &self.keys {
            let _ = writeln!(out, "    - {}", quote(key));
        }
        if let Some(max) = self.max_severity {
            out.push_str(
                "\n# A vulnerability scan attestation (clearbox's JSON report in cosign's vuln\n\
                 # predicate), signed by one of the keys, must show nothing above this severity.\n",
            );
            let _ = writeln!(
                out,
                "attestations:\n  vulnerability:\n    max_severity: {}",
                max.name()
            );
        }
        out.push_str(SIGNED_OBJECTS_EXAMPLE);
        out.push_str(
            "\n# Set to true to reject images named by the tag `latest`, or not named by digest.\n\
             deny_latest_tag: false\n\
             require_digest: false\n\
             \n\
             # Waivers: rule, image or resource pattern, expires (YYYY-MM-DD) and reason.\n\
             exceptions: []\n",
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::policy::parse_policy;

    fn starter() -> String {
        StarterPolicy {
            registries: vec!["ghcr.io/acme".parse().unwrap()],
            keys: vec!["keys/release.pub".to_owned()],
            max_severity: None,
        }
        .to_yaml()
    }

    #[test]
    fn starter_leaves_signed_objects_unset() {
        let policy = parse_policy(Path::new("policy.yaml"), starter().as_bytes()).unwrap();
        assert!(policy.signed_objects.is_empty());
    }

    #[test]
    fn signed_objects_example_parses_uncommented() {
        let text = starter()
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest) if rest.starts_with("signed_objects:") || rest.starts_with("  ") => rest,
                _ => line,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let policy = parse_policy(Path::new("/p/policy.yaml"), text.as_bytes()).unwrap();
        let [rule] = policy.signed_objects.as_slice() else {
            panic!("expected one entry in {text}");
        };
        assert_eq!(rule.namespaces.len(), 2);
        assert!(rule.covers("team-ml", "CronJob"));
        assert_eq!(rule.keys[0].location, "/p/keys/manifests.pub");
        assert_eq!(rule.required_claims, ["approver", "ticket"]);
    }
}
