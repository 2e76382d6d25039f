//! Reading the example image over `docker://` gives the same filesystem and digests as reading
//! its OCI layout, over plain HTTP, TLS with a private CA, Basic and bearer authentication.

use std::sync::OnceLock;

use clearbox_oci::registry::{Credentials, RegistryOptions};
use clearbox_oci::{Image, ImageReference, NoProgress, ReadOptions};
use clearbox_testdata::example_image;
use clearbox_testdata::registry::RegistryServer;

use super::{
    Nothing, PASSWORD, USER, describe, htpasswd, linux_amd64, options_for, plain, tls, token,
};

/// What the example image looks like when read from its layout, computed once.
struct Expected {
    manifest_digest: String,
    config_digest: String,
    layers: Vec<(String, String)>,
    files: Vec<String>,
}

fn expected() -> Option<&'static Expected> {
    static EXPECTED: OnceLock<Expected> = OnceLock::new();
    let layout = example_image()?;
    Some(EXPECTED.get_or_init(|| {
        let reference: ImageReference = format!("oci:{}:latest", layout.display()).parse().unwrap();
        summarize(&reference, &ReadOptions::default())
    }))
}

fn summarize(reference: &ImageReference, options: &ReadOptions) -> Expected {
    let image = Image::open(reference, options).unwrap();
    let scan = image.scan(&Nothing, options, &NoProgress).unwrap();
    Expected {
        manifest_digest: image.manifest_digest.unwrap().to_string(),
        config_digest: image.config_digest.unwrap().to_string(),
        layers: scan
            .layers
            .iter()
            .map(|l| (l.digest.to_string(), l.diff_id.to_string()))
            .collect(),
        files: scan.tree.iter().map(|(p, n)| describe(p, n)).collect(),
    }
}

/// Pushes the example image with skopeo as `clearbox/example:latest`.
fn push_example(server: &RegistryServer, credentials: Option<(&str, &str)>) -> Option<()> {
    let layout = example_image()?;
    let source = format!("oci:{}:latest", layout.display());
    server.push_layout(&source, "clearbox/example:latest", credentials)
}

/// Reads the pushed example image with `registry` options and compares it with the layout.
/// Opens the image twice, so makes two clients.
fn assert_reads_like_layout(server: &RegistryServer, registry: RegistryOptions) {
    let expected = expected().unwrap();
    let options = ReadOptions {
        registry,
        platform: linux_amd64(),
        ..ReadOptions::default()
    };
    let reference: ImageReference =
        format!("docker://{}/clearbox/example:latest", server.host_port())
            .parse()
            .unwrap();
    let image = Image::open(&reference, &options).unwrap();
    let remote = image.registry_reference().unwrap();
    assert_eq!(remote.repository, "clearbox/example");
    assert_eq!(
        remote.digest.as_ref().unwrap().to_string(),
        expected.manifest_digest
    );
    assert!(image.registry_client().is_some());
    assert_eq!(image.tags, ["latest"]);

    let actual = summarize(&reference, &options);
    assert_eq!(actual.manifest_digest, expected.manifest_digest);
    assert_eq!(actual.config_digest, expected.config_digest);
    assert_eq!(actual.layers, expected.layers);
    assert_eq!(actual.files.len(), expected.files.len());
    assert_eq!(actual.files, expected.files);
}

#[test]
fn example_image_over_plain_http() {
    let Some(server) = RegistryServer::start(plain()) else {
        return;
    };
    let Some(()) = push_example(&server, None) else {
        return;
    };
    assert_reads_like_layout(&server, options_for(&server));
}

#[test]
fn example_image_over_tls_with_private_ca() {
    let Some(server) = RegistryServer::start(tls()) else {
        return;
    };
    let Some(()) = push_example(&server, None) else {
        return;
    };
    assert_reads_like_layout(&server, options_for(&server));
}

#[test]
fn example_image_with_basic_auth_from_docker_config() {
    let Some(server) = RegistryServer::start(htpasswd()) else {
        return;
    };
    // `docker login` writes base64 of `user:password` under the registry's host and port.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    let auth = base64_user_password();
    let json = format!(
        r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#,
        server.host_port()
    );
    std::fs::write(&config, json).unwrap();
    let options = RegistryOptions {
        docker_config: Some(config),
        ..options_for(&server)
    };
    let Some(()) = push_example(&server, Some((USER, PASSWORD))) else {
        return;
    };
    assert_reads_like_layout(&server, options);
}

#[test]
fn example_image_with_bearer_token() {
    let Some(server) = RegistryServer::start(token()) else {
        return;
    };
    let options = RegistryOptions {
        credentials: Some(Credentials::new(USER, PASSWORD)),
        ..options_for(&server)
    };
    let Some(()) = push_example(&server, Some((USER, PASSWORD))) else {
        return;
    };
    let before = server.tokens_issued();
    assert_reads_like_layout(&server, options);
    // One token per client: it is cached for the repository's pull scope and reused for the
    // manifest, the config and every layer.
    assert_eq!(server.tokens_issued() - before, 2);
}

/// base64 of `alice:correct horse`, as `docker login` stores it.
fn base64_user_password() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
}
