//! Failures against the real registry: each error names the registry, the repository and
//! reference, and what to do.

use clearbox_oci::registry::{
    Credentials, RegistryClient, RegistryOptions, RegistryProblem, RetryPolicy,
};
use clearbox_oci::{Image, ImageReference, OciError, ReadOptions, RegistryReference};
use clearbox_testdata::registry::RegistryServer;

use super::proxy::{Fault, FlakyProxy};
use super::{
    USER, chain, htpasswd, no_docker_config, options_for, plain, push_small_image, quick_retries,
    reference, tls, token,
};

fn problem(error: &OciError) -> &RegistryProblem {
    match error {
        OciError::Registry(e) => &e.problem,
        other => panic!("expected a registry error, got {other:?}"),
    }
}

fn client_with(options: RegistryOptions) -> RegistryClient {
    RegistryClient::new(options).unwrap()
}

fn get_manifest_error(server: &RegistryServer, options: RegistryOptions, name: &str) -> OciError {
    client_with(options)
        .get_manifest(&reference(server, name))
        .unwrap_err()
}

#[test]
fn wrong_password_with_basic_auth() {
    let Some(server) = RegistryServer::start(htpasswd()) else {
        return;
    };
    let options = RegistryOptions {
        credentials: Some(Credentials::new(USER, "wrong")),
        ..options_for(&server)
    };
    let error = get_manifest_error(&server, options, "clearbox/example:latest");
    let text = chain(&error);
    assert!(
        matches!(problem(&error), RegistryProblem::CredentialsRejected { .. }),
        "{text}"
    );
    let head = format!(
        "failed to get manifest `clearbox/example:latest` at registry `{}`",
        server.host_port()
    );
    assert!(text.starts_with(&head), "{text}");
    assert!(
        text.contains("the registry rejected the credentials of user `alice` (HTTP 401)"),
        "{text}"
    );
    assert!(!text.contains("wrong"), "the password leaked: {text}");
}

#[test]
fn wrong_password_at_token_server() {
    let Some(server) = RegistryServer::start(token()) else {
        return;
    };
    let options = RegistryOptions {
        credentials: Some(Credentials::new(USER, "wrong")),
        ..options_for(&server)
    };
    let error = get_manifest_error(&server, options, "clearbox/example:latest");
    let text = chain(&error);
    let realm = server.token_realm().unwrap();
    assert!(
        text.contains(&format!(
            "the token server `{realm}` rejected the credentials of user `alice` (HTTP 401)"
        )),
        "{text}"
    );
}

#[test]
fn plain_http_realm_unlisted_port_rejected() {
    let Some(server) = RegistryServer::start(token()) else {
        return;
    };
    // Only the registry's own port is listed; its token server is on another port.
    let options = RegistryOptions {
        insecure: vec![server.host_port()],
        credentials: Some(Credentials::new(USER, "s3cret")),
        ..options_for(&server)
    };
    let error = get_manifest_error(&server, options, "clearbox/example:latest");
    let text = chain(&error);
    let realm = server.token_realm().unwrap();
    let authority = realm
        .trim_start_matches("http://")
        .trim_end_matches("/token")
        .to_owned();
    assert!(
        matches!(problem(&error), RegistryProblem::InsecureTokenServer { .. }),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "the token server `{realm}` named by registry `{}` uses plain HTTP and `{authority}` \
             is not listed as insecure; pass `--insecure-registry {authority}`",
            server.host_port()
        )),
        "{text}"
    );
    assert_eq!(server.tokens_issued(), 0);
}

#[test]
fn plain_http_realm_listed_port_used() {
    let Some(server) = RegistryServer::start(token()) else {
        return;
    };
    let realm = server.token_realm().unwrap();
    let authority = realm
        .trim_start_matches("http://")
        .trim_end_matches("/token")
        .to_owned();
    let options = RegistryOptions {
        insecure: vec![server.host_port(), authority],
        credentials: Some(Credentials::new(USER, super::PASSWORD)),
        ..options_for(&server)
    };
    let error = get_manifest_error(&server, options, "clearbox/absent:latest");
    assert!(
        matches!(problem(&error), RegistryProblem::NotFound { .. }),
        "{}",
        chain(&error)
    );
    assert_eq!(server.tokens_issued(), 1);
}

#[test]
fn missing_credentials_ask_to_log_in() {
    let Some(server) = RegistryServer::start(htpasswd()) else {
        return;
    };
    let error = get_manifest_error(&server, options_for(&server), "clearbox/example:latest");
    let text = chain(&error);
    assert!(
        text.contains("authentication required (HTTP 401)"),
        "{text}"
    );
    assert!(
        text.contains("`--username` and `--password-stdin`"),
        "{text}"
    );
    assert!(
        text.contains(&format!("`docker login {}`", server.host_port())),
        "{text}"
    );
}

#[test]
fn credential_helper_is_named_in_the_error() {
    let Some(server) = RegistryServer::start(htpasswd()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, r#"{"auths":{},"credsStore":"desktop"}"#).unwrap();
    let options = RegistryOptions {
        docker_config: Some(config),
        ..options_for(&server)
    };
    let error = get_manifest_error(&server, options, "clearbox/example:latest");
    let text = chain(&error);
    assert!(text.contains("docker-credential-desktop"), "{text}");
    assert!(text.contains("does not run"), "{text}");
}

#[test]
fn missing_repository_and_tag() {
    let Some(server) = RegistryServer::start(plain()) else {
        return;
    };
    let options = options_for(&server);
    let error = get_manifest_error(&server, options.clone(), "clearbox/absent:v1");
    let text = chain(&error);
    assert!(
        matches!(problem(&error), RegistryProblem::NotFound { .. }),
        "{text}"
    );
    assert!(text.contains("`clearbox/absent:v1`"), "{text}");
    // distribution 2.8 reports a missing repository as an unknown manifest here.
    assert!(
        text.contains("not found (HTTP 404, MANIFEST_UNKNOWN)"),
        "{text}"
    );
    assert!(
        text.contains("check the repository name and the tag or digest"),
        "{text}"
    );
    let error = client_with(options.clone())
        .list_tags(&reference(&server, "clearbox/absent"), None)
        .unwrap_err();
    let text = chain(&error);
    assert!(
        text.contains("not found (HTTP 404, NAME_UNKNOWN)"),
        "{text}"
    );

    // The repository exists; the tag does not. Through `Image::open`, as the CLI calls it.
    let client = client_with(options.clone());
    push_small_image(&client, &reference(&server, "clearbox/present:v1"), 10);
    let image: ImageReference = format!("docker://{}/clearbox/present:v2", server.host_port())
        .parse()
        .unwrap();
    let read = ReadOptions {
        registry: options,
        ..ReadOptions::default()
    };
    let error = Image::open(&image, &read).unwrap_err();
    let text = chain(&error);
    assert!(text.contains("`clearbox/present:v2`"), "{text}");
    assert!(text.contains(&server.host_port()), "{text}");
    assert!(
        text.contains("not found (HTTP 404, MANIFEST_UNKNOWN)"),
        "{text}"
    );
}

#[test]
fn plain_http_to_tls_registry() {
    let Some(server) = RegistryServer::start(tls()) else {
        return;
    };
    let options = RegistryOptions {
        insecure: vec![server.host_port()],
        ..options_for(&server)
    };
    let error = get_manifest_error(&server, options, "clearbox/example:latest");
    let text = chain(&error);
    assert!(
        matches!(problem(&error), RegistryProblem::HttpToHttpsServer),
        "{text}"
    );
    assert!(
        text.contains("remove it from `--insecure-registry`"),
        "{text}"
    );
}

#[test]
fn https_to_plain_registry_never_falls_back() {
    let Some(server) = RegistryServer::start(plain()) else {
        return;
    };
    let options = RegistryOptions {
        insecure: Vec::new(),
        ..options_for(&server)
    };
    let error = get_manifest_error(&server, options, "clearbox/example:latest");
    let text = chain(&error);
    assert!(
        matches!(problem(&error), RegistryProblem::NotTls { .. }),
        "{text}"
    );
    assert!(
        text.contains("pass `--insecure-registry HOST:PORT`"),
        "{text}"
    );
    assert!(
        !server.log().contains("/v2/clearbox/example/manifests"),
        "a request got through"
    );
}

#[test]
fn unknown_ca_asks_for_ca_file() {
    let Some(server) = RegistryServer::start(tls()) else {
        return;
    };
    let options = RegistryOptions {
        ca_file: None,
        ..options_for(&server)
    };
    let error = get_manifest_error(&server, options, "clearbox/example:latest");
    let text = chain(&error);
    assert!(
        matches!(
            problem(&error),
            RegistryProblem::UntrustedCertificate { .. }
        ),
        "{text}"
    );
    assert!(text.contains("UnknownIssuer"), "{text}");
    assert!(
        text.contains("pass its certificate with `--ca-file`"),
        "{text}"
    );
}

#[test]
fn corrupted_manifest_is_a_digest_mismatch() {
    let Some(server) = RegistryServer::start(plain()) else {
        return;
    };
    let client = client_with(options_for(&server));
    let tagged = reference(&server, "clearbox/tampered:v1");
    let pushed = push_small_image(&client, &tagged, 10);

    // Change the stored manifest behind the registry's back: it still serves it under the
    // tag and the digest.
    let hex = pushed.manifest.hex();
    let data = server
        .storage_dir()
        .join("docker/registry/v2/blobs/sha256")
        .join(&hex[..2])
        .join(hex)
        .join("data");
    let mut bytes = std::fs::read(&data).unwrap();
    bytes.push(b' ');
    std::fs::write(&data, &bytes).unwrap();

    let by_digest = RegistryReference {
        tag: None,
        digest: Some(pushed.manifest.clone()),
        ..tagged.clone()
    };
    for target in [&by_digest, &tagged] {
        match client.get_manifest(target).unwrap_err() {
            OciError::DigestMismatch {
                expected, actual, ..
            } => {
                assert_eq!(expected, pushed.manifest);
                assert_eq!(actual, clearbox_oci::Digest::of(&bytes));
            }
            other => panic!("expected a digest mismatch, got {}", chain(&other)),
        }
    }
}

#[test]
fn service_unavailable_is_retried() {
    let Some(server) = RegistryServer::start(plain()) else {
        return;
    };
    let port: u16 = server
        .host_port()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let direct = client_with(options_for(&server));
    let pushed = push_small_image(&direct, &reference(&server, "clearbox/flaky:v1"), 10);

    for fault in [Fault::ServiceUnavailable, Fault::Drop] {
        let proxy = FlakyProxy::start(port, fault, 2);
        let client = client_with(options_for(&server));
        let through: RegistryReference = format!("{}/clearbox/flaky:v1", proxy.host_port())
            .parse()
            .unwrap();
        let manifest = client.get_manifest(&through).unwrap();
        assert_eq!(manifest.digest, pushed.manifest, "{fault:?}");
        assert_eq!(proxy.failed(), 2, "{fault:?}");
    }
}

#[test]
fn retries_are_bounded() {
    let Some(server) = RegistryServer::start(plain()) else {
        return;
    };
    let port: u16 = server
        .host_port()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let proxy = FlakyProxy::start(port, Fault::ServiceUnavailable, usize::MAX);
    let options = RegistryOptions {
        retry: RetryPolicy {
            max_retries: 2,
            ..quick_retries()
        },
        docker_config: Some(no_docker_config()),
        ..options_for(&server)
    };
    let through: RegistryReference = format!("{}/clearbox/flaky:v1", proxy.host_port())
        .parse()
        .unwrap();
    let error = client_with(options).get_manifest(&through).unwrap_err();
    let text = chain(&error);
    assert!(text.contains("HTTP 503 after 3 attempt(s)"), "{text}");
    assert_eq!(proxy.failed(), 3);
}
