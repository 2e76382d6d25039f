//! Pushing blobs and manifests, reading them back, listing tags and repositories, mounting
//! across repositories, and referrers, on a plain and on a token-authenticated registry.

use std::io::Read;

use clearbox_oci::registry::{Credentials, RegistryClient, RegistryOptions, referrers_tag};
use clearbox_oci::spec::{MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_OCI_MANIFEST};
use clearbox_oci::{Digest, Image, ImageReference, ReadOptions, RegistryReference};
use clearbox_testdata::registry::RegistryServer;

use super::{
    Nothing, PASSWORD, USER, linux_amd64, noise, options_for, plain, push_small_image, reference,
    token,
};
use crate::support::{KeepAll, contents};

const CHUNK: usize = 64 << 10;

fn client(server: &RegistryServer, credentials: bool) -> RegistryClient {
    let options = RegistryOptions {
        chunk_size: CHUNK,
        credentials: credentials.then(|| Credentials::new(USER, PASSWORD)),
        ..options_for(server)
    };
    RegistryClient::new(options).unwrap()
}

/// Counts requests of `method` to URIs containing `uri` in the registry's log.
fn requests(server: &RegistryServer, method: &str, uri: &str) -> usize {
    let method = format!("http.request.method={method}");
    server
        .log()
        .lines()
        .filter(|l| l.contains("response completed") && l.contains(&method) && l.contains(uri))
        .count()
}

fn read_all(mut reader: impl Read) -> Vec<u8> {
    let mut data = Vec::new();
    reader.read_to_end(&mut data).unwrap();
    data
}

/// Pushes a monolithic blob, a chunked blob and a manifest, and reads each back.
fn blobs_and_manifest_round_trip(server: &RegistryServer, credentials: bool) {
    let client = client(server, credentials);
    let repo = reference(server, "clearbox/pushed:v1");

    // A blob smaller than a chunk goes in one PUT.
    let small = noise(1000, 1);
    let small_digest = client.push_blob_bytes(&repo, &small).unwrap();
    assert_eq!(client.head_blob(&repo, &small_digest).unwrap(), Some(1000));
    assert_eq!(requests(server, "PATCH", "/blobs/uploads/"), 0);

    // A blob of two and a half chunks goes in three PATCHes.
    let large = noise(CHUNK * 5 / 2, 2);
    let large_digest = Digest::of(&large);
    client
        .push_blob(&repo, &large_digest, &mut &large[..])
        .unwrap();
    assert_eq!(requests(server, "PATCH", "/blobs/uploads/"), 3);
    let reader = client.get_blob(&repo, &large_digest).unwrap();
    assert_eq!(reader.size(), Some(large.len() as u64));
    assert_eq!(read_all(reader), large);
    let whole = client.read_blob(&repo, &small_digest, 1 << 20).unwrap();
    assert_eq!(whole, small);

    // A manifest by tag, read back by tag, by digest and with HEAD.
    let pushed = push_small_image(&client, &repo, CHUNK * 3);
    let by_tag = client.get_manifest(&repo).unwrap();
    assert_eq!(by_tag.digest, pushed.manifest);
    assert_eq!(by_tag.bytes, pushed.manifest_bytes);
    assert_eq!(by_tag.media_type, MEDIA_TYPE_OCI_MANIFEST);
    let by_digest = RegistryReference {
        tag: None,
        digest: Some(pushed.manifest.clone()),
        ..repo.clone()
    };
    assert_eq!(client.get_manifest(&by_digest).unwrap().bytes, by_tag.bytes);
    let head = client.head_manifest(&repo).unwrap().unwrap();
    assert_eq!(head.digest, pushed.manifest);
    assert_eq!(head.size, pushed.manifest_bytes.len() as u64);
    assert_eq!(head.media_type, MEDIA_TYPE_OCI_MANIFEST);
    let missing = RegistryReference {
        tag: Some("absent".into()),
        ..repo.clone()
    };
    assert_eq!(client.head_manifest(&missing).unwrap(), None);
    assert_eq!(
        client
            .head_blob(&repo, &Digest::of(b"never pushed"))
            .unwrap(),
        None
    );
    assert_eq!(
        client.get_blob(&repo, &pushed.layer).map(read_all).unwrap(),
        pushed.layer_bytes
    );
}

#[test]
fn blobs_and_manifest_on_plain_registry() {
    let Some(server) = RegistryServer::start(plain()) else {
        return;
    };
    blobs_and_manifest_round_trip(&server, false);
}

#[test]
fn blobs_and_manifest_with_bearer_token() {
    let Some(server) = RegistryServer::start(token()) else {
        return;
    };
    blobs_and_manifest_round_trip(&server, true);
}

#[test]
fn pushed_image_opens_and_scans() {
    let Some(server) = RegistryServer::start(plain()) else {
        return;
    };
    let client = client(&server, false);
    let repo = reference(&server, "clearbox/small:v2");
    let pushed = push_small_image(&client, &repo, 5000);
    let options = ReadOptions {
        registry: options_for(&server),
        platform: linux_amd64(),
        ..ReadOptions::default()
    };
    let image_ref: ImageReference = format!("docker://{}/clearbox/small:v2", server.host_port())
        .parse()
        .unwrap();
    let image = Image::open(&image_ref, &options).unwrap();
    assert_eq!(image.manifest_digest.as_ref(), Some(&pushed.manifest));
    let scan = image
        .scan(&KeepAll, &options, &clearbox_oci::NoProgress)
        .unwrap();
    assert_eq!(contents(&scan)["app/data.bin"], noise(5000, 5000));
    assert_eq!(scan.layers[0].digest, pushed.layer);
    let quiet = image
        .scan(&Nothing, &options, &clearbox_oci::NoProgress)
        .unwrap();
    assert_eq!(quiet.tree.len(), scan.tree.len());
}

#[test]
fn index_resolves_to_platform_manifest() {
    let Some(server) = RegistryServer::start(plain()) else {
        return;
    };
    let client = client(&server, false);
    let amd64 = push_small_image(&client, &reference(&server, "clearbox/multi:amd64"), 20);
    let arm64 = push_small_image(&client, &reference(&server, "clearbox/multi:arm64"), 30);
    let entry = |pushed: &super::Pushed, architecture: &str| {
        serde_json::json!({
            "mediaType": MEDIA_TYPE_OCI_MANIFEST, "digest": pushed.manifest.to_string(),
            "size": pushed.manifest_bytes.len(),
            "platform": {"architecture": architecture, "os": "linux"}
        })
    };
    let index = serde_json::json!({
        "schemaVersion": 2, "mediaType": MEDIA_TYPE_OCI_INDEX,
        "manifests": [entry(&arm64, "arm64"), entry(&amd64, "amd64")],
    });
    let index_digest = client
        .put_manifest(
            &reference(&server, "clearbox/multi:latest"),
            MEDIA_TYPE_OCI_INDEX,
            &serde_json::to_vec(&index).unwrap(),
        )
        .unwrap();

    // By tag, with the default platform: the amd64 manifest, and the index as top digest.
    let mut options = ReadOptions {
        registry: options_for(&server),
        platform: linux_amd64(),
        ..ReadOptions::default()
    };
    let by_tag: ImageReference = format!("docker://{}/clearbox/multi", server.host_port())
        .parse()
        .unwrap();
    let image = Image::open(&by_tag, &options).unwrap();
    assert_eq!(image.manifest_digest.as_ref(), Some(&amd64.manifest));
    let resolved = image.registry_reference().unwrap();
    assert_eq!(resolved.digest.as_ref(), Some(&index_digest));
    assert_eq!(resolved.tag.as_deref(), Some("latest"));

    // By digest, for arm64.
    options.platform.architecture = "arm64".into();
    let by_digest: ImageReference = format!(
        "docker://{}/clearbox/multi@{index_digest}",
        server.host_port()
    )
    .parse()
    .unwrap();
    let image = Image::open(&by_digest, &options).unwrap();
    assert_eq!(image.manifest_digest.as_ref(), Some(&arm64.manifest));
    assert!(image.tags.is_empty());
    assert_eq!(image.layers[0].digest.as_ref(), Some(&arm64.layer));
}

#[test]
fn tags_and_repositories_listed_with_page_size() {
    let Some(server) = RegistryServer::start(token()) else {
        return;
    };
    let client = client(&server, true);
    let mut expected_tags = Vec::new();
    for tag in ["t1", "t2", "t3", "t4", "t5"] {
        push_small_image(
            &client,
            &reference(&server, &format!("clearbox/tags:{tag}")),
            10,
        );
        expected_tags.push(tag.to_owned());
    }
    push_small_image(&client, &reference(&server, "clearbox/other:x"), 10);
    push_small_image(&client, &reference(&server, "clearbox/third:x"), 10);

    // distribution 2.8 ignores `n` on tag lists, so all tags come in one page.
    let mut tags = client
        .list_tags(&reference(&server, "clearbox/tags"), Some(2))
        .unwrap();
    tags.sort();
    assert_eq!(tags, expected_tags);

    // It paginates the catalog with `Link` headers: three repositories, one per page.
    let repositories = client
        .list_repositories(&server.host_port(), Some(1))
        .unwrap();
    assert_eq!(
        repositories,
        ["clearbox/other", "clearbox/tags", "clearbox/third"]
    );
    assert_eq!(requests(&server, "GET", "/v2/_catalog"), 3);
}

#[test]
fn blob_mounted_from_another_repository() {
    let Some(server) = RegistryServer::start(token()) else {
        return;
    };
    let client = client(&server, true);
    let source = reference(&server, "clearbox/source");
    let target = reference(&server, "clearbox/target");
    let digest = client.push_blob_bytes(&source, &noise(3000, 3)).unwrap();
    assert_eq!(client.head_blob(&target, &digest).unwrap(), None);
    assert!(
        client
            .mount_blob(&target, "clearbox/source", &digest)
            .unwrap()
    );
    assert_eq!(client.head_blob(&target, &digest).unwrap(), Some(3000));
    let unknown = Digest::of(b"not in any repository");
    assert!(
        !client
            .mount_blob(&target, "clearbox/source", &unknown)
            .unwrap()
    );
}

#[test]
fn referrers_fall_back_to_tag_schema() {
    let Some(server) = RegistryServer::start(plain()) else {
        return;
    };
    let client = client(&server, false);
    let repo = reference(&server, "clearbox/signed:v1");
    let subject = push_small_image(&client, &repo, 100);

    // distribution 2.8 has no referrers API.
    assert_eq!(
        client.referrers(&repo, &subject.manifest, None).unwrap(),
        None
    );
    let none = client
        .referrers_from_tag(&repo, &subject.manifest, None)
        .unwrap();
    assert!(none.is_empty());

    // Push an artifact whose subject is the image, and the tag-schema index listing it.
    let artifact_type = "application/vnd.clearbox.test+json";
    let empty = client.push_blob_bytes(&repo, b"{}").unwrap();
    let payload = client.push_blob_bytes(&repo, b"{\"note\":1}").unwrap();
    let artifact = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MEDIA_TYPE_OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                   "digest": empty.to_string(), "size": 2},
        "layers": [{"mediaType": "application/json", "digest": payload.to_string(), "size": 10}],
        "subject": {"mediaType": MEDIA_TYPE_OCI_MANIFEST,
                    "digest": subject.manifest.to_string(),
                    "size": subject.manifest_bytes.len()},
    });
    let artifact = serde_json::to_vec(&artifact).unwrap();
    let artifact_digest = client
        .put_manifest(
            &RegistryReference {
                tag: None,
                digest: Some(Digest::of(&artifact)),
                ..repo.clone()
            },
            MEDIA_TYPE_OCI_MANIFEST,
            &artifact,
        )
        .unwrap();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MEDIA_TYPE_OCI_INDEX,
        "manifests": [{"mediaType": MEDIA_TYPE_OCI_MANIFEST,
                       "digest": artifact_digest.to_string(), "size": artifact.len(),
                       "artifactType": artifact_type}],
    });
    let fallback = RegistryReference {
        tag: Some(referrers_tag(&subject.manifest)),
        ..repo.clone()
    };
    client
        .put_manifest(
            &fallback,
            MEDIA_TYPE_OCI_INDEX,
            &serde_json::to_vec(&index).unwrap(),
        )
        .unwrap();

    // Read it back, filtered by artifact type or not.
    let found = client
        .referrers_from_tag(&repo, &subject.manifest, Some(artifact_type))
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].digest, artifact_digest);
    assert_eq!(found[0].artifact_type.as_deref(), Some(artifact_type));
    let other = client
        .referrers_from_tag(&repo, &subject.manifest, Some("application/other"))
        .unwrap();
    assert!(other.is_empty());
    let listed = client
        .list_referrers(&repo, &subject.manifest, None)
        .unwrap();
    assert_eq!(listed, found);
}
