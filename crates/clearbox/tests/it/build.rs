//! `clearbox build`. The same inputs give the same digest whatever the umask, the directory and
//! the order files were created in. A changed byte, mode or mtime below the source date gives
//! another digest. skopeo reads every output, and the SBOM lists the Debian packages.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use clearbox_testdata::registry::{RegistryConfig, RegistryServer, skopeo};
use clearbox_testdata::skip;
use serde_json::Value;

use crate::support::{
    assert_exit, clearbox, key_pair, read_json, stderr, stdout, validate_spdx, venv,
};

/// The source date of the specs here: 2025-01-01T00:00:00Z.
const SOURCE_DATE: u64 = 1_735_689_600;

/// Lists the `.deb` files that scripts/build-example-image.sh caches: `$CLEARBOX_CACHE/debs`, default
/// `~/.cache/clearbox/example-image/debs`.
fn cached_debs() -> Option<Vec<PathBuf>> {
    let cache = std::env::var_os("CLEARBOX_CACHE").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/clearbox/example-image")
        },
        PathBuf::from,
    );
    let mut debs: Vec<PathBuf> = std::fs::read_dir(cache.join("debs"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "deb"))
                .collect()
        })
        .unwrap_or_default();
    if debs.is_empty() {
        return skip(&format!(
            "no .deb files in `{}`; run scripts/build-example-image.sh or set CLEARBOX_CACHE",
            cache.join("debs").display()
        ));
    }
    debs.sort();
    Some(debs)
}

/// Runs `clearbox ARGS` under `umask`, through `sh` so that the umask applies to clearbox
/// itself.
fn clearbox_with_umask(umask: &str, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_clearbox"))
        .args(args)
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

/// Runs a shell script in `dir` under `umask`.
fn shell(dir: &Path, umask: &str, script: &str) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask} && set -e && {script}"))
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds `spec` to `output`, checks the exit code and returns the record.
fn build(umask: &str, spec: &Path, output: &str) -> Value {
    let out = clearbox_with_umask(
        umask,
        &["build", spec.to_str().unwrap(), "--output", output],
    );
    assert_exit(&out, 0);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("record is not JSON: {e}"))
}

fn digest_of(record: &Value) -> String {
    record["digest"].as_str().unwrap().to_owned()
}

/// Writes the inputs of a root filesystem like the example image's first layer, plus an
/// application directory written in the order `names` gives, and returns the spec's path.
fn write_rootfs_inputs(dir: &Path, debs: &[PathBuf], umask: &str, names: &[&str]) -> PathBuf {
    std::fs::create_dir_all(dir.join("debs")).unwrap();
    let mut script = String::from("mkdir -p app/lib");
    for name in names {
        write!(script, " && printf '%s\\n' '{name}' > app/lib/{name}.py").unwrap();
    }
    script.push_str(" && printf '#!/usr/bin/python3.11\\n' > app/run && chmod +x app/run");
    write!(
        script,
        " && cp {} passwd",
        clearbox_testdata::workspace_root()
            .join("scripts/example-image/passwd")
            .display()
    )
    .unwrap();
    shell(dir, umask, &script);

    // The packages are copied in the order given.
    for deb in debs {
        std::fs::copy(deb, dir.join("debs").join(deb.file_name().unwrap())).unwrap();
    }
    let mut names: Vec<String> = debs
        .iter()
        .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut spec = format!(
        "base: scratch\nsource_date_epoch: {SOURCE_DATE}\nlayers:\n  - comment: Debian packages\n    debs:\n"
    );
    for name in &names {
        writeln!(spec, "      - debs/{name}").unwrap();
    }
    spec.push_str(
        "    files:\n\
         \x20     - {path: /etc/passwd, source: passwd, mode: \"0644\"}\n\
         \x20     - {path: /home/nonroot, directory: true, mode: \"0700\", owner: \"65532:65532\"}\n\
         \x20 - directory: {path: app, destination: /opt/app, modes: normalize}\n\
         config:\n\
         \x20 entrypoint: [/usr/bin/python3.11]\n\
         \x20 workdir: /home/nonroot\n",
    );
    let path = dir.join("spec.yaml");
    std::fs::write(&path, spec).unwrap();
    path
}

#[test]
fn build_rootfs_reproducible_across_umask_and_order() {
    let Some(debs) = cached_debs() else {
        return;
    };
    let names = ["alpha", "beta", "gamma", "delta"];
    let mut reversed_names = names;
    reversed_names.reverse();
    let mut reversed_debs = debs.clone();
    reversed_debs.reverse();

    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let first_spec = write_rootfs_inputs(first.path(), &debs, "022", &names);
    let second_spec = write_rootfs_inputs(second.path(), &reversed_debs, "077", &reversed_names);
    let first_out = format!("oci:{}:v1", first.path().join("image").display());
    let second_out = format!("oci:{}:v1", second.path().join("image").display());
    let first_record = build("022", &first_spec, &first_out);
    let second_record = build("077", &second_spec, &second_out);

    // Same digest, layers and config from both machines' points of view.
    assert_eq!(digest_of(&first_record), digest_of(&second_record));
    assert_eq!(first_record["layers"], second_record["layers"]);
    assert_eq!(first_record["config"], second_record["config"]);
    assert_eq!(first_record["layers"].as_array().unwrap().len(), 2);

    // The SBOM beside the image lists every package with the version of its control file.
    let sbom_path = first.path().join("image.spdx.json");
    let sbom = read_json(&sbom_path);
    let listed: Vec<(String, String)> = sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default().to_owned(),
                p["versionInfo"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let packages = first_record["debianPackages"].as_array().unwrap();
    assert_eq!(packages.len(), debs.len());
    for package in packages {
        let name = package["name"].as_str().unwrap().to_owned();
        let version = package["version"].as_str().unwrap().to_owned();
        assert!(
            listed.contains(&(name.clone(), version.clone())),
            "the SBOM does not list {name} {version}"
        );
    }
    let libc = packages
        .iter()
        .find(|p| p["name"] == "libc6")
        .expect("libc6 is among the example image's packages");
    let file = debs
        .iter()
        .find(|d| {
            d.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("libc6_")
        })
        .unwrap();
    assert!(
        file.to_string_lossy()
            .contains(libc["version"].as_str().unwrap()),
        "{libc} vs {}",
        file.display()
    );
    if let Some(venv) = venv() {
        validate_spdx(&venv, &sbom_path);
    }

    // The provenance names the manifest digest and each package file by its hash.
    let provenance = read_json(&first.path().join("image.provenance.json"));
    assert_eq!(
        provenance["subject"][0]["digest"]["sha256"],
        digest_of(&first_record).trim_start_matches("sha256:")
    );
    assert_eq!(
        provenance["predicate"]["buildDefinition"]["buildType"],
        "https://example.invalid/clearbox/blob/main/docs/build.md#build-type-clearbox-build-v1"
    );
    let dependencies = provenance["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap();
    let deb_count = dependencies.iter().filter(|d| d["name"] == "deb").count();
    assert_eq!(deb_count, debs.len());
    let second_provenance = read_json(&second.path().join("image.provenance.json"));
    assert_eq!(provenance, second_provenance);

    // skopeo reads the layout and agrees on the digest.
    if let Some(skopeo) = skopeo() {
        let inspected = run_skopeo(&skopeo, &["inspect", &first_out]);
        assert_eq!(inspected["Digest"], digest_of(&first_record).as_str());
        assert_eq!(inspected["Created"], "2025-01-01T00:00:00Z");
    }
}

/// A small tree for the perturbation tests: a directory source with explicit modes and a
/// file with an explicit mtime.
struct SmallTree {
    dir: tempfile::TempDir,
}

impl SmallTree {
    fn new() -> SmallTree {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::create_dir_all(root.join("usr/bin")).unwrap();
        std::fs::write(root.join("etc/app.conf"), "level = 1\n").unwrap();
        std::fs::write(root.join("usr/bin/app"), "#!/usr/bin/python3.11\n").unwrap();
        let tree = SmallTree { dir };
        for (path, mode) in [
            ("", 0o755),
            ("etc", 0o755),
            ("usr", 0o755),
            ("usr/bin", 0o755),
            ("etc/app.conf", 0o644),
            ("usr/bin/app", 0o755),
        ] {
            tree.chmod(path, mode);
        }
        tree.set_mtime("etc/app.conf", SOURCE_DATE - 86_400);
        let spec = format!(
            "base: scratch\nsource_date_epoch: {SOURCE_DATE}\nlayers:\n  - directory: {{path: root}}\nconfig:\n  entrypoint: [/usr/bin/app]\n"
        );
        std::fs::write(tree.dir.path().join("spec.yaml"), spec).unwrap();
        tree
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join("root").join(relative)
    }

    fn chmod(&self, relative: &str, mode: u32) {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(self.path(relative), std::fs::Permissions::from_mode(mode))
            .unwrap();
    }

    fn set_mtime(&self, relative: &str, seconds: u64) {
        let file = std::fs::File::options()
            .write(true)
            .open(self.path(relative))
            .unwrap();
        file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds))
            .unwrap();
    }

    fn build(&self, output: &str) -> Value {
        build("022", &self.dir.path().join("spec.yaml"), output)
    }

    fn digest(&self) -> String {
        let out = format!("oci:{}", self.dir.path().join("out").display());
        digest_of(&self.build(&out))
    }
}

#[test]
fn build_digest_follows_perturbations() {
    let tree = SmallTree::new();
    let original = tree.digest();
    assert_eq!(tree.digest(), original, "a second build of the same tree");

    // An mtime after the source date is clamped to it, so it changes nothing.
    tree.set_mtime("usr/bin/app", SOURCE_DATE + 3600);
    assert_eq!(tree.digest(), original, "mtime above the source date");

    // One before the source date is kept, so it changes the digest.
    tree.set_mtime("usr/bin/app", SOURCE_DATE - 3600);
    let older = tree.digest();
    assert_ne!(older, original, "mtime below the source date");
    tree.set_mtime("usr/bin/app", SOURCE_DATE + 3600);
    assert_eq!(tree.digest(), original);

    // One mode bit.
    tree.chmod("etc/app.conf", 0o600);
    assert_ne!(tree.digest(), original, "mode 0600 instead of 0644");
    tree.chmod("etc/app.conf", 0o644);
    assert_eq!(tree.digest(), original);

    // One byte of content, same size.
    std::fs::write(tree.path("etc/app.conf"), "level = 2\n").unwrap();
    tree.set_mtime("etc/app.conf", SOURCE_DATE - 86_400);
    assert_ne!(tree.digest(), original, "one byte changed");
}

#[test]
fn build_outputs_read_by_skopeo() {
    let Some(skopeo) = skopeo() else {
        return;
    };
    let tree = SmallTree::new();
    let dir = tree.dir.path();
    let layout = format!("oci:{}:v2", dir.join("layout").display());
    let expected = digest_of(&tree.build(&layout));

    // oci: and oci-archive: hold the same manifest.
    assert_eq!(
        run_skopeo(&skopeo, &["inspect", &layout])["Digest"],
        expected.as_str()
    );
    let oci_archive = format!("oci-archive:{}", dir.join("image.oci.tar").display());
    assert_eq!(digest_of(&tree.build(&oci_archive)), expected);
    assert_eq!(
        run_skopeo(&skopeo, &["inspect", &oci_archive])["Digest"],
        expected.as_str()
    );

    // docker-archive: loads with skopeo copy, with the name and the same config.
    let docker = dir.join("image.docker.tar");
    let docker_ref = format!("docker-archive:{}:example/app:1.0", docker.display());
    assert_eq!(digest_of(&tree.build(&docker_ref)), expected);
    let copied = format!("oci:{}:copied", dir.join("copied").display());
    // skopeo picks the image by the name in the archive's RepoTags.
    let out = Command::new(&skopeo)
        .args(["copy", "--insecure-policy", &docker_ref, &copied])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "skopeo copy: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let raw = run_skopeo(&skopeo, &["inspect", "--raw", &copied]);
    let original = run_skopeo(&skopeo, &["inspect", "--raw", &layout]);
    assert_eq!(raw["config"]["digest"], original["config"]["digest"]);
    let archived = run_skopeo(&skopeo, &["inspect", &docker_ref]);
    assert_eq!(archived["Layers"], original_layers(&skopeo, &layout));

    // Both archives are as reproducible as the image.
    let first = std::fs::read(&docker).unwrap();
    tree.build(&docker_ref);
    assert_eq!(std::fs::read(&docker).unwrap(), first);
}

#[test]
fn build_hardened_defaults() {
    let tree = SmallTree::new();
    let dir = tree.dir.path();
    std::fs::create_dir_all(tree.path("bin")).unwrap();
    std::fs::write(tree.path("bin/sh"), "#!shell\n").unwrap();
    tree.chmod("bin/sh", 0o4755);
    tree.chmod("bin", 0o777);
    let output = format!("oci:{}", dir.join("out").display());

    // A shell fails the build.
    let out = clearbox_with_umask(
        "022",
        &[
            "build",
            dir.join("spec.yaml").to_str().unwrap(),
            "--output",
            &output,
        ],
    );
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("/bin/sh"), "{}", stderr(&out));
    assert!(stderr(&out).contains("allow_shell"), "{}", stderr(&out));

    // Allowed, it is reported; setuid and world-write bits are cleared; root is reported.
    let spec = format!(
        "base: scratch\nsource_date_epoch: {SOURCE_DATE}\nlayers:\n  - directory: {{path: root}}\nconfig:\n  user: \"0:0\"\nhardening:\n  allow_shell: true\n"
    );
    std::fs::write(dir.join("spec.yaml"), spec).unwrap();
    let out = clearbox_with_umask(
        "022",
        &[
            "build",
            dir.join("spec.yaml").to_str().unwrap(),
            "--output",
            &output,
        ],
    );
    assert_exit(&out, 0);
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = stderr(&out);
    assert!(
        text.contains("hardening.allow_shell keeps shells: /bin/sh"),
        "{text}"
    );
    assert!(text.contains("runs the image as root"), "{text}");
    assert_eq!(
        record["hardening"]["setuidCleared"],
        serde_json::json!(["/bin/sh"])
    );
    assert_eq!(
        record["hardening"]["worldWritableCleared"],
        serde_json::json!(["/bin"])
    );
    assert_eq!(
        record["hardening"]["writablePaths"],
        serde_json::json!(["/tmp"])
    );
    assert_eq!(
        record["hardening"]["overrides"].as_array().unwrap().len(),
        2
    );

    // The layer contains /tmp as 1777, /bin/sh as 0755 and /bin as 0775.
    let layout = dir.join("out");
    let manifest = read_json(
        &layout.join("blobs/sha256").join(
            record["digest"]
                .as_str()
                .unwrap()
                .trim_start_matches("sha256:"),
        ),
    );
    let layer = layout.join("blobs/sha256").join(
        manifest["layers"][0]["digest"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:"),
    );
    let modes = layer_modes(&layer);
    assert!(modes.contains(&("tmp/".to_owned(), 0o1777)), "{modes:?}");
    assert!(modes.contains(&("bin/sh".to_owned(), 0o755)), "{modes:?}");
    assert!(modes.contains(&("bin/".to_owned(), 0o775)), "{modes:?}");
    let config = read_json(
        &layout.join("blobs/sha256").join(
            manifest["config"]["digest"]
                .as_str()
                .unwrap()
                .trim_start_matches("sha256:"),
        ),
    );
    assert_eq!(config["config"]["User"], "0:0");
}

#[test]
fn build_default_user_nonroot() {
    let tree = SmallTree::new();
    let layout = tree.dir.path().join("out");
    let record = tree.build(&format!("oci:{}", layout.display()));
    let manifest = read_json(
        &layout.join("blobs/sha256").join(
            record["digest"]
                .as_str()
                .unwrap()
                .trim_start_matches("sha256:"),
        ),
    );
    let config = read_json(
        &layout.join("blobs/sha256").join(
            manifest["config"]["digest"]
                .as_str()
                .unwrap()
                .trim_start_matches("sha256:"),
        ),
    );
    assert_eq!(config["config"]["User"], "65532:65532");
    assert_eq!(config["created"], "2025-01-01T00:00:00Z");
    assert_eq!(config["history"][0]["created"], "2025-01-01T00:00:00Z");
    assert!(
        record["hardening"]["overrides"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn build_rejects_unpinned_base() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(&spec, "base: docker://registry.example/app:1\nfiles: []\n").unwrap();
    let output = format!("oci:{}", dir.path().join("out").display());
    let out = clearbox_with_umask(
        "022",
        &["build", spec.to_str().unwrap(), "--output", &output],
    );
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("not pinned by digest"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("out").exists());
}

#[test]
fn build_failure_removes_new_outputs() {
    let tree = SmallTree::new();
    let dir = tree.dir.path();
    let spec = dir.join("spec.yaml");
    let missing_sbom = dir.join("no-such-dir/image.spdx.json");

    // Each output is written before the SBOM, whose directory does not exist.
    for (output, path) in [
        (format!("oci:{}:v1", dir.join("layout").display()), "layout"),
        (
            format!("oci-archive:{}", dir.join("image.oci.tar").display()),
            "image.oci.tar",
        ),
        (
            format!(
                "docker-archive:{}:example/app:v1",
                dir.join("image.docker.tar").display()
            ),
            "image.docker.tar",
        ),
    ] {
        let out = clearbox_with_umask(
            "022",
            &[
                "build",
                spec.to_str().unwrap(),
                "--output",
                &output,
                "--sbom",
                missing_sbom.to_str().unwrap(),
            ],
        );
        assert_exit(&out, 2);
        let text = stderr(&out);
        assert!(text.contains("no-such-dir"), "{text}");
        assert!(
            text.contains(&format!("removed `{}`", dir.join(path).display())),
            "{text}"
        );
        assert!(!dir.join(path).exists(), "{output} was left behind");
        assert!(
            !dir.join(format!("{path}.provenance.json")).exists(),
            "the provenance of {output} was left behind"
        );
    }

    // An existing layout stays, with the index it had: the tag of the failed build is gone.
    let layout = dir.join("layout");
    let first = digest_of(&tree.build(&format!("oci:{}:v1", layout.display())));
    let before = std::fs::read(layout.join("index.json")).unwrap();
    let out = clearbox_with_umask(
        "022",
        &[
            "build",
            spec.to_str().unwrap(),
            "--output",
            &format!("oci:{}:v2", layout.display()),
            "--sbom",
            missing_sbom.to_str().unwrap(),
        ],
    );
    assert_exit(&out, 2);
    let text = stderr(&out);
    assert!(text.contains("restored"), "{text}");
    assert_eq!(std::fs::read(layout.join("index.json")).unwrap(), before);
    let index = read_json(&layout.join("index.json"));
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
    assert_eq!(index["manifests"][0]["digest"], first.as_str());
    assert_eq!(
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
        "v1"
    );
}

/// Returns the bytes of the file at `path` in a gzip layer.
fn layer_file(blob: &Path, path: &str) -> Vec<u8> {
    use std::io::Read as _;
    let file = std::fs::File::open(blob).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().to_string_lossy() == path {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            return bytes;
        }
    }
    panic!("`{path}` is not in the layer");
}

#[test]
fn build_concatenates_sources() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("certs")).unwrap();
    std::fs::write(dir.path().join("certs/b.crt"), "-----B-----\n").unwrap();
    std::fs::write(dir.path().join("certs/a.crt"), "-----A-----\n").unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(
        &spec,
        format!(
            "base: scratch\nsource_date_epoch: {SOURCE_DATE}\nfiles:\n  - path: /etc/ssl/certs/ca-certificates.crt\n    sources: [certs/b.crt, certs/a.crt]\n"
        ),
    )
    .unwrap();
    let layout = dir.path().join("out");
    let record = build("022", &spec, &format!("oci:{}", layout.display()));
    let layer = layout.join("blobs/sha256").join(
        record["layers"][0]["digest"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:"),
    );
    assert_eq!(
        layer_file(&layer, "etc/ssl/certs/ca-certificates.crt"),
        b"-----B-----\n-----A-----\n"
    );
    let modes = layer_modes(&layer);
    assert!(
        modes.contains(&("etc/ssl/certs/ca-certificates.crt".to_owned(), 0o644)),
        "{modes:?}"
    );

    // Each source is an input of the provenance.
    let provenance = read_json(&dir.path().join("out.provenance.json"));
    let uris: Vec<&str> = provenance["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["uri"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(uris, ["certs/b.crt", "certs/a.crt"]);
}

#[test]
fn build_rejects_empty_tarball() {
    let dir = tempfile::tempdir().unwrap();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut encoder, &[0u8; 1024]).unwrap();
    std::fs::write(dir.path().join("empty.tar.gz"), encoder.finish().unwrap()).unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(
        &spec,
        format!(
            "base: scratch\nsource_date_epoch: {SOURCE_DATE}\nlayers:\n  - tarball: empty.tar.gz\n"
        ),
    )
    .unwrap();
    let output = format!("oci:{}", dir.path().join("out").display());
    let out = clearbox_with_umask(
        "022",
        &["build", spec.to_str().unwrap(), "--output", &output],
    );
    assert_exit(&out, 2);
    let text = stderr(&out);
    assert!(text.contains("empty.tar.gz"), "{text}");
    assert!(text.contains("has no entries"), "{text}");
    assert!(!dir.path().join("out").exists());
}

/// An archive output that names a FIFO or device is rejected, not replaced by a rename: a build
/// to `docker-archive:/dev/null` must leave `/dev/null` a device.
#[test]
fn build_archive_output_keeps_special_files() {
    use std::os::unix::fs::FileTypeExt as _;

    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(
        &spec,
        format!(
            "base: scratch\nsource_date_epoch: {SOURCE_DATE}\nfiles:\n  - {{path: /a, content: a}}\n"
        ),
    )
    .unwrap();
    let fifo = dir.path().join("out.tar");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let output = format!("docker-archive:{}", fifo.display());
    let out = clearbox_with_umask(
        "022",
        &["build", spec.to_str().unwrap(), "--output", &output],
    );
    assert_exit(&out, 2);
    let text = stderr(&out);
    assert!(text.contains("is not a regular file"), "{text}");
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "{kind:?}");
}

/// Output files that would overwrite each other, the image, the spec or an input are rejected
/// before anything is written, and whiteout names cannot enter a layer.
#[test]
fn build_rejects_colliding_outputs_and_whiteouts() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    let spec_text = format!(
        "base: scratch\nsource_date_epoch: {SOURCE_DATE}\nfiles:\n  - {{path: /a, source: a.txt}}\n"
    );
    std::fs::write(&spec, &spec_text).unwrap();
    std::fs::write(dir.path().join("a.txt"), "input").unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let layout = format!("oci:{}", path("out"));
    let archive = format!("oci-archive:{}", path("spec.yaml"));
    let (same, index, input) = (path("same.json"), path("out/index.json"), path("a.txt"));
    let cases: [(Vec<&str>, &str); 4] = [
        (
            vec!["--output", &layout, "--sbom", &same, "--provenance", &same],
            "--provenance `",
        ),
        (
            vec!["--output", &layout, "--sbom", &index],
            "is inside the image layout",
        ),
        (vec!["--output", &archive], "would overwrite the spec"),
        (
            vec!["--output", &layout, "--sbom", &input],
            "would overwrite the input",
        ),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["build", spec.to_str().unwrap()];
        args.extend(extra.iter().copied());
        let out = clearbox_with_umask("022", &args);
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains(expected),
            "{extra:?}: {}",
            stderr(&out)
        );
        assert!(!dir.path().join("out").exists(), "{extra:?}");
        assert!(!dir.path().join("same.json").exists(), "{extra:?}");
    }
    assert_eq!(std::fs::read_to_string(&spec).unwrap(), spec_text);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("a.txt")).unwrap(),
        "input"
    );

    // An output inside a directory source would enter the next build's layer.
    std::fs::create_dir(dir.path().join("app")).unwrap();
    std::fs::write(dir.path().join("app/run"), "x").unwrap();
    std::fs::write(
        &spec,
        format!(
            "base: scratch\nsource_date_epoch: {SOURCE_DATE}\nlayers:\n  - directory: {{path: app, destination: /opt/app}}\n"
        ),
    )
    .unwrap();
    let inside = format!("oci:{}", path("app/out"));
    let out = clearbox_with_umask(
        "022",
        &["build", spec.to_str().unwrap(), "--output", &inside],
    );
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("is inside the directory source"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("app/out").exists());

    std::fs::write(
        &spec,
        format!("base: scratch\nsource_date_epoch: {SOURCE_DATE}\nfiles:\n  - {{path: /etc/.wh.passwd, content: \"\"}}\n"),
    )
    .unwrap();
    let out = clearbox_with_umask(
        "022",
        &["build", spec.to_str().unwrap(), "--output", &layout],
    );
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("whiteout"), "{}", stderr(&out));
    assert!(!dir.path().join("out").exists());
}

/// Lists the mode of each entry of a gzip layer, by name.
fn layer_modes(blob: &Path) -> Vec<(String, u32)> {
    let file = std::fs::File::open(blob).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    archive
        .entries()
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let name = entry.path().unwrap().to_string_lossy().into_owned();
            (name, entry.header().mode().unwrap())
        })
        .collect()
}

/// Returns the uncompressed digests of an image's layers, which skopeo reports for a
/// docker-archive.
fn original_layers(skopeo: &Path, reference: &str) -> Value {
    let config = run_skopeo(skopeo, &["inspect", "--config", reference]);
    config["rootfs"]["diff_ids"].clone()
}

/// Runs skopeo and parses its JSON output.
fn run_skopeo(skopeo: &Path, args: &[&str]) -> Value {
    let out = Command::new(skopeo).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn build_pushes_and_builds_on_pinned_base() {
    let Some(server) = RegistryServer::start(RegistryConfig::default()) else {
        return;
    };
    let host = server.host_port();
    let tree = SmallTree::new();
    let dir = tree.dir.path();

    // The small tree pushed to the registry; the digest matches a local build.
    let local = digest_of(&tree.build(&format!("oci:{}", dir.join("local").display())));
    let pushed = clearbox_with_umask(
        "022",
        &[
            "build",
            dir.join("spec.yaml").to_str().unwrap(),
            "--output",
            &format!("docker://{host}/build/base:1"),
            "--insecure-registry",
            &host,
        ],
    );
    assert_exit(&pushed, 0);
    let record: Value = serde_json::from_slice(&pushed.stdout).unwrap();
    assert_eq!(digest_of(&record), local);
    assert_eq!(record["image"], format!("docker://{host}/build/base:1"));
    assert_eq!(record["sbom"], Value::Null);

    // A second image on top of it, pinned by digest, attested with a key.
    let spec = format!(
        "base: docker://{host}/build/base@{local}\nsource_date_epoch: {SOURCE_DATE}\nfiles:\n  - {{path: /etc/motd, content: \"hello\\n\"}}\n"
    );
    std::fs::write(dir.join("app.yaml"), spec).unwrap();
    let (key, public) = key_pair(dir, "cosign", ("CLEARBOX_PASSWORD", "pw"));
    let layout = dir.join("app");
    let out = Command::new(env!("CARGO_BIN_EXE_clearbox"))
        .args(["build", dir.join("app.yaml").to_str().unwrap(), "--output"])
        .arg(format!("oci:{}:1", layout.display()))
        .args(["--insecure-registry", &host, "--attest", "--key", &key])
        .env("CLEARBOX_PASSWORD", "pw")
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    let layers = record["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    assert_eq!(layers[0]["fromBase"], true);
    assert_eq!(layers[1]["fromBase"], false);
    assert_eq!(record["base"]["digest"], local.as_str());
    let manifest = read_json(
        &layout.join("blobs/sha256").join(
            record["digest"]
                .as_str()
                .unwrap()
                .trim_start_matches("sha256:"),
        ),
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.base.digest"],
        local.as_str()
    );

    // The provenance attestation verifies with the public key and names the base.
    let verified = clearbox(&[
        "verify-attestation",
        &format!("oci:{}:1", layout.display()),
        "--key",
        &public,
        "--type",
        "slsaprovenance1",
    ]);
    assert_exit(&verified, 0);
    let statement: Value = serde_json::from_str(stdout(&verified).lines().next().unwrap()).unwrap();
    assert_eq!(
        statement,
        read_json(&dir.join("app.provenance.json")),
        "the stored statement is the one written beside the image"
    );
    let base = &statement["predicate"]["buildDefinition"]["resolvedDependencies"][0];
    assert_eq!(base["name"], "base-image");
    assert_eq!(
        base["digest"]["sha256"],
        local.trim_start_matches("sha256:")
    );
}

#[test]
fn rebuild_names_first_difference() {
    let tree = SmallTree::new();
    let dir = tree.dir.path();
    let image = format!("oci:{}:1", dir.join("image").display());
    let digest = digest_of(&tree.build(&image));
    let spec = dir.join("spec.yaml");
    let statement_path = dir.join("rebuild.json");
    let rebuild = || {
        clearbox_with_umask(
            "022",
            &[
                "rebuild",
                &image,
                "--spec",
                spec.to_str().unwrap(),
                "--statement",
                statement_path.to_str().unwrap(),
            ],
        )
    };

    // The same inputs: identical, exit 0.
    let out = rebuild();
    assert_exit(&out, 0);
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["identical"], true);
    assert_eq!(result["expected"], digest.as_str());
    assert_eq!(result["firstDifference"], Value::Null);

    // One mode changed: exit 1, naming the layer, the file and the field.
    tree.chmod("etc/app.conf", 0o600);
    let out = rebuild();
    assert_exit(&out, 1);
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["identical"], false);
    let difference = &result["firstDifference"];
    assert_eq!(difference["layer"], 0);
    assert_eq!(difference["entry"]["path"], "etc/app.conf");
    assert_eq!(difference["entry"]["field"], "mode");
    assert_eq!(difference["entry"]["expected"], "0644");
    assert_eq!(difference["entry"]["rebuilt"], "0600");
    assert!(stderr(&out).contains("`etc/app.conf`"), "{}", stderr(&out));

    // The statement is about the existing image and carries the result.
    let statement = read_json(&statement_path);
    assert_eq!(
        statement["subject"][0]["digest"]["sha256"],
        digest.trim_start_matches("sha256:")
    );
    assert_eq!(
        statement["predicateType"],
        "https://example.invalid/clearbox/blob/main/docs/build.md#rebuild-statement-v1"
    );
    assert_eq!(statement["predicate"]["firstDifference"], *difference);
}
