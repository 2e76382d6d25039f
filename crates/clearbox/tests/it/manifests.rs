//! `sign-manifest` and `verify-manifest`: signing Kubernetes objects in place, verifying after a
//! reformat by `PyYAML`, and naming the field that changed.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use clearbox_testdata::softhsm::SoftHsm;

use crate::support::{assert_exit, clearbox, clearbox_env, stderr, stdout, venv};

const MANIFEST: &str = "\
# The web tier. Comments and layout survive signing.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: \"registry.example/web:1.4.2\"   # pinned release
        ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: web-config
    namespace: prod
  data:
    mode: 'on'
    retries: \"3\"
";

/// A temporary directory with the manifest and a P-256 key pair in PEM files.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.yaml"), MANIFEST).unwrap();
        generate_key(&dir.path().join("signer"));
        generate_key(&dir.path().join("other"));
        Setup { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn arg(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_owned()
    }

    fn sign(&self) {
        let output = clearbox(&[
            "sign-manifest",
            &self.arg("app.yaml"),
            "--key",
            &self.arg("signer.pem"),
            "--claim",
            "approver=alice",
            "--claim",
            "ticket=CHG-1234",
        ]);
        assert_exit(&output, 0);
    }

    fn verify(&self, file: &str, key: &str) -> std::process::Output {
        clearbox(&["verify-manifest", &self.arg(file), "--key", &self.arg(key)])
    }

    /// Writes the signed manifest with `edit` applied as `name`.
    fn edited(&self, name: &str, edit: impl FnOnce(&str) -> String) {
        let text = std::fs::read_to_string(self.path("app.yaml")).unwrap();
        let changed = edit(&text);
        assert_ne!(changed, text, "the edit changes the text");
        std::fs::write(self.path(name), changed).unwrap();
    }
}

/// Writes `PREFIX.pem` (PKCS#8, mode 0600) and `PREFIX.pub` with openssl.
fn generate_key(prefix: &Path) {
    let private = prefix.with_extension("pem");
    let status = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .arg("-out")
        .arg(&private)
        .status()
        .expect("openssl runs");
    assert!(status.success());
    let status = Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(prefix.with_extension("pub"))
        .status()
        .expect("openssl runs");
    assert!(status.success());
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn lines(output: &std::process::Output) -> Vec<String> {
    stdout(output).lines().map(str::to_owned).collect()
}

#[test]
fn sign_then_verify() {
    let setup = Setup::new();
    setup.sign();
    let signed = std::fs::read_to_string(setup.path("app.yaml")).unwrap();

    // The file keeps its text and gains one annotation per object.
    assert!(signed.starts_with("# The web tier. Comments and layout survive signing.\n"));
    assert!(signed.contains("image: \"registry.example/web:1.4.2\"   # pinned release\n"));
    assert_eq!(signed.matches("signature.clearbox.dev/dsse:").count(), 2);
    assert_eq!(signed.lines().count(), MANIFEST.lines().count() + 4);

    let output = setup.verify("app.yaml", "signer.pub");
    assert_exit(&output, 0);
    let lines = lines(&output);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("OK      Deployment/prod/web ("),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].ends_with("; approver=alice, ticket=CHG-1234"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("OK      ConfigMap/prod/web-config ("),
        "{}",
        lines[1]
    );
    assert!(
        stderr(&output).contains("2 of 2 object(s)"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn signing_again_replaces_signature() {
    let setup = Setup::new();
    setup.sign();
    let once = std::fs::read_to_string(setup.path("app.yaml")).unwrap();
    setup.sign();
    let twice = std::fs::read_to_string(setup.path("app.yaml")).unwrap();
    // File keys sign deterministically (RFC 6979), so a second signature is the same text.
    assert_eq!(once, twice);
}

#[test]
fn output_option_leaves_input() {
    let setup = Setup::new();
    let output = clearbox(&[
        "sign-manifest",
        &setup.arg("app.yaml"),
        "--key",
        &setup.arg("signer.pem"),
        "--output",
        &setup.arg("signed.yaml"),
    ]);
    assert_exit(&output, 0);
    assert_eq!(
        std::fs::read_to_string(setup.path("app.yaml")).unwrap(),
        MANIFEST
    );
    let output = setup.verify("signed.yaml", "signer.pub");
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("; no claims"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn pyyaml_round_trip_still_verifies() {
    let Some(venv) = venv() else {
        return;
    };
    let setup = Setup::new();
    setup.sign();

    // Block style with sorted keys and other indentation, then flow style: PyYAML drops the
    // comments, requotes strings and folds the long annotation over lines.
    let script = "\
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
with open(sys.argv[2], 'w') as out:
    yaml.safe_dump_all(docs, out, default_flow_style=False, indent=4, sort_keys=True)
with open(sys.argv[3], 'w') as out:
    yaml.safe_dump_all(docs, out, default_flow_style=True, width=60)
";
    let status = Command::new(venv.join("bin/python"))
        .args(["-c", script])
        .arg(setup.path("app.yaml"))
        .arg(setup.path("block.yaml"))
        .arg(setup.path("flow.yaml"))
        .status()
        .unwrap();
    assert!(status.success());

    for file in ["block.yaml", "flow.yaml"] {
        let text = std::fs::read_to_string(setup.path(file)).unwrap();
        assert!(!text.contains("pinned release"), "{file} was rewritten");
        let output = setup.verify(file, "signer.pub");
        assert_exit(&output, 0);
        let lines = lines(&output);
        assert_eq!(lines.len(), 2, "{file}: {lines:?}");
        assert!(
            lines.iter().all(|l| l.starts_with("OK ")),
            "{file}: {lines:?}"
        );
    }
}

#[test]
fn image_tag_change_names_field() {
    let setup = Setup::new();
    setup.sign();
    setup.edited("tag.yaml", |text| text.replace("web:1.4.2", "web:1.4.3"));
    let output = setup.verify("tag.yaml", "signer.pub");
    assert_exit(&output, 1);
    let lines = lines(&output);
    assert_eq!(
        lines[0].split_once(": ").unwrap().1,
        "`spec.template.spec.containers[0].image` changed since signing"
    );
    assert!(lines[1].starts_with("OK "), "{}", lines[1]);
}

#[test]
fn added_container_names_field() {
    let setup = Setup::new();
    setup.sign();
    setup.edited("sidecar.yaml", |text| {
        text.replace(
            "        ports: [{containerPort: 8080}]\n",
            "        ports: [{containerPort: 8080}]\n      - name: sidecar\n        image: busybox\n",
        )
    });
    let output = setup.verify("sidecar.yaml", "signer.pub");
    assert_exit(&output, 1);
    assert!(
        stdout(&output).contains(": `spec.template.spec.containers[1]` added since signing\n"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn replicas_change_names_field() {
    let setup = Setup::new();
    setup.sign();
    setup.edited("replicas.yaml", |text| {
        text.replace("replicas: 2", "replicas: 20")
            .replace("mode: 'on'", "mode: on")
    });
    let output = setup.verify("replicas.yaml", "signer.pub");
    assert_exit(&output, 1);
    let lines = lines(&output);
    assert!(
        lines[0].ends_with(": `spec.replicas` changed since signing"),
        "{}",
        lines[0]
    );
    // An unquoted `on` is a boolean to Kubernetes, so unquoting the string changes the object.
    assert!(
        lines[1].ends_with(": `data.mode` changed since signing"),
        "{}",
        lines[1]
    );
}

#[test]
fn wrong_key_fails() {
    let setup = Setup::new();
    setup.sign();
    let output = setup.verify("app.yaml", "other.pub");
    assert_exit(&output, 1);
    for line in lines(&output) {
        assert!(line.starts_with("FAILED "), "{line}");
        assert!(
            line.contains("none of the envelope's 1 signature(s) verifies with the public key"),
            "{line}"
        );
    }
    assert!(
        stderr(&output).contains("0 of 2 object(s)"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn removed_annotation_fails() {
    let setup = Setup::new();
    setup.sign();
    setup.edited("stripped.yaml", |text| {
        let mut lines: Vec<&str> = text.lines().collect();
        let index = lines
            .iter()
            .position(|line| line.contains("signature.clearbox.dev/dsse:"))
            .unwrap();
        // The Deployment's annotation and its `annotations:` line, which signing added.
        lines.drain(index - 1..=index);
        lines.join("\n") + "\n"
    });
    let output = setup.verify("stripped.yaml", "signer.pub");
    assert_exit(&output, 1);
    let lines = lines(&output);
    assert_eq!(
        lines[0].split_once(": ").unwrap().1,
        "unsigned (no `signature.clearbox.dev/dsse` annotation); sign it with sign-manifest"
    );
    assert!(lines[1].starts_with("OK "), "{}", lines[1]);
}

#[test]
fn unsigned_file_fails() {
    let setup = Setup::new();
    let output = setup.verify("app.yaml", "signer.pub");
    assert_exit(&output, 1);
    assert_eq!(
        lines(&output)
            .iter()
            .filter(|l| l.contains(": unsigned"))
            .count(),
        2
    );
}

#[test]
fn duplicate_claim_rejected() {
    let setup = Setup::new();
    let output = clearbox(&[
        "sign-manifest",
        &setup.arg("app.yaml"),
        "--key",
        &setup.arg("signer.pem"),
        "--claim",
        "ticket=A",
        "--claim",
        "ticket=B",
    ]);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("claim `ticket` is given twice"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read_to_string(setup.path("app.yaml")).unwrap(),
        MANIFEST
    );
}

#[test]
fn softhsm_key_signs() {
    let Some(hsm) = SoftHsm::start("manifests") else {
        return;
    };
    let setup = Setup::new();
    hsm.import_key(&setup.path("signer.pem"), "release", "01")
        .unwrap();
    let conf = hsm.conf();
    let env = [("SOFTHSM2_CONF", conf.to_str().unwrap())];

    let output = clearbox_env(
        &[
            "sign-manifest",
            &setup.arg("app.yaml"),
            "--key",
            &hsm.uri("release"),
            "--claim",
            "approver=hsm",
        ],
        &env,
    );
    assert_exit(&output, 0);

    // The token's key verifies with the PEM public key it was imported from, and with the
    // token's public key object.
    let output = setup.verify("app.yaml", "signer.pub");
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("; approver=hsm"),
        "{}",
        stdout(&output)
    );
    let output = clearbox_env(
        &[
            "verify-manifest",
            &setup.arg("app.yaml"),
            "--key",
            &hsm.uri("release"),
        ],
        &env,
    );
    assert_exit(&output, 0);
}

/// Signs `text` written as `name` in the setup's directory and returns the command's output.
fn sign_text(setup: &Setup, name: &str, text: &str) -> std::process::Output {
    std::fs::write(setup.path(name), text).unwrap();
    clearbox(&[
        "sign-manifest",
        &setup.arg(name),
        "--key",
        &setup.arg("signer.pem"),
    ])
}

#[test]
fn unquoted_signed_strings_name_field() {
    let setup = Setup::new();
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: numbers\ndata:\n  \
                hex: \"0X1F\"\n  digits: \"1_0\"\n";
    assert_exit(&sign_text(&setup, "numbers.yaml", text), 0);
    let signed = std::fs::read_to_string(setup.path("numbers.yaml")).unwrap();

    // Kubernetes reads the unquoted `0X1F` as 31 and `1_0` as 10, so each edit changes a field.
    for (name, quoted, field) in [
        ("hex.yaml", "\"0X1F\"", "data.hex"),
        ("digits.yaml", "\"1_0\"", "data.digits"),
    ] {
        std::fs::write(
            setup.path(name),
            signed.replace(quoted, quoted.trim_matches('"')),
        )
        .unwrap();
        let output = setup.verify(name, "signer.pub");
        assert_exit(&output, 1);
        assert_eq!(
            lines(&output)[0].split_once(": ").unwrap().1,
            format!("`{field}` changed since signing"),
        );
    }
}

#[test]
fn local_tag_rejected_with_line() {
    let setup = Setup::new();
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tagged\ndata:\n  a: !foo 3\n";
    let output = sign_text(&setup, "tagged.yaml", text);
    assert_exit(&output, 2);
    let file = setup.arg("tagged.yaml");
    assert_eq!(
        stderr(&output),
        format!(
            "error: failed to sign `{file}`\n  caused by: `{file}` line 6: the tag `!foo` is not \
             accepted in a signed manifest, because what it means to Kubernetes is not \
             established; remove the tag (quote the value if it is meant as a string)\n"
        )
    );
    assert_eq!(
        std::fs::read_to_string(setup.path("tagged.yaml")).unwrap(),
        text
    );
}

#[test]
fn duplicate_key_message_names_key() {
    let setup = Setup::new();
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n";
    let output = sign_text(&setup, "dup.yaml", text);
    assert_exit(&output, 2);
    let file = setup.arg("dup.yaml");
    assert_eq!(
        stderr(&output),
        format!(
            "error: failed to sign `{file}`\n  caused by: invalid YAML in `{file}`: duplicate \
             mapping key `name` at line 5, column 3; a key may appear once in a mapping, so \
             remove one of them\n"
        )
    );
}

#[test]
fn node_limit_message() {
    use std::fmt::Write as _;

    let setup = Setup::new();
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n");
    for index in 0..125_000 {
        writeln!(text, "  k{index}: v").unwrap();
    }
    let output = sign_text(&setup, "big.yaml", &text);
    assert_exit(&output, 2);
    let file = setup.arg("big.yaml");
    assert_eq!(
        stderr(&output),
        format!(
            "error: failed to sign `{file}`\n  caused by: invalid YAML in `{file}`: the file has \
             more than 250000 YAML nodes (scalars, sequences and mappings), the most that is \
             read at line 125000, column 12; split the file into smaller files\n"
        )
    );
}

#[test]
fn object_without_metadata_verifies() {
    let setup = Setup::new();
    let text = "apiVersion: v1\nkind: ConfigMap\ndata:\n  mode: fast\n";
    let output = sign_text(&setup, "bare.yaml", text);
    assert_exit(&output, 0);
    let signed = std::fs::read_to_string(setup.path("bare.yaml")).unwrap();
    assert!(
        signed.starts_with("metadata:\n  annotations:\n    signature.clearbox.dev/dsse: \""),
        "{signed}"
    );
    let output = setup.verify("bare.yaml", "signer.pub");
    assert_exit(&output, 0);
    assert!(
        lines(&output)[0].starts_with("OK      ConfigMap/(unnamed) "),
        "{}",
        stdout(&output)
    );
}

#[test]
fn empty_claim_rejected() {
    let setup = Setup::new();
    for claim in ["approver=", "approver= "] {
        let output = clearbox(&[
            "sign-manifest",
            &setup.arg("app.yaml"),
            "--key",
            &setup.arg("signer.pem"),
            "--claim",
            claim,
        ]);
        assert_exit(&output, 2);
        assert!(
            stderr(&output).contains("claim `approver` has an empty value"),
            "{claim}: {}",
            stderr(&output)
        );
    }
    assert_eq!(
        std::fs::read_to_string(setup.path("app.yaml")).unwrap(),
        MANIFEST
    );
}

/// Signing in place through a symbolic link signs the target and keeps the link.
#[test]
fn signing_through_symlink_keeps_link() {
    let setup = Setup::new();
    let link = setup.path("link.yaml");
    std::os::unix::fs::symlink(setup.path("app.yaml"), &link).unwrap();
    let output = clearbox(&[
        "sign-manifest",
        link.to_str().unwrap(),
        "--key",
        &setup.arg("signer.pem"),
    ]);
    assert_exit(&output, 0);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_exit(&setup.verify("app.yaml", "signer.pub"), 0);
}
