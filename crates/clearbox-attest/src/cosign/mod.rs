//! cosign-compatible signatures, attestations and SBOMs stored beside an image in a registry or
//! an OCI image layout: signing, verifying, attaching, downloading and discovering them.
//!
//! # Operations
//!
//! Open an [`ArtifactStore`] for an image with [`open_store`], or with [`open_store_for_image`]
//! for an image already read (or with [`RegistryStore::open`], [`LayoutStore::open`]), then:
//!
//! | operation | cosign 2.5 equivalent |
//! |---|---|
//! | [`sign`] | `cosign sign --key K [-a k=v] [--registry-referrers-mode M]` |
//! | [`verify_signatures`] | `cosign verify --key P --insecure-ignore-tlog [-a k=v]` |
//! | [`attest`] | `cosign attest --key K --type T --predicate F` |
//! | [`verify_attestations`] | `cosign verify-attestation --key P --insecure-ignore-tlog --type T` |
//! | [`verify_signatures_keyless`] | `cosign verify --certificate-identity ID --certificate-oidc-issuer URL` (offline, with a trusted root) |
//! | [`verify_attestations_keyless`] | `cosign verify-attestation --certificate-identity ID --certificate-oidc-issuer URL` |
//! | [`attach_sbom`] | `cosign attach sbom --sbom F --type spdx\|cyclonedx\|syft` |
//! | [`download_sbom`], [`download_signatures`], [`download_attestations`] | `cosign download sbom\|signature\|attestation` |
//! | [`discover`] | `cosign tree`, `oras discover` |
//!
//! Verification returns only [`Verified`](crate::Verified) payloads and statements.
//!
//! # What cosign writes
//!
//! Observed with cosign 2.5.0-2+b5 from Debian trixie (its `cosign version` prints `devel`),
//! skopeo 1.18.0 and oras 1.2.0, against Debian's docker-registry 2.8.2, by dumping what each
//! command pushed with `oras manifest fetch` and `oras blob fetch`.
//!
//! **`cosign sign --key`** pushes an OCI image manifest under the tag `sha256-<hex>.sig`, where
//! `<hex>` is the signed manifest's digest. Its config has media type
//! `application/vnd.oci.image.config.v1+json` and the content
//! `{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["sha256:<layer>"]},"config":{}}`
//! (one `history` entry and `diff_id` per layer). Each layer has media type
//! `application/vnd.dev.cosign.simplesigning.v1+json`, is the payload
//! `{"critical":{"identity":{"docker-reference":"HOST/REPO"},"image":{"docker-manifest-digest":"sha256:…"},"type":"cosign container image signature"},"optional":null}`,
//! and carries one annotation, `dev.cosignproject.cosign/signature`, the base64 DER signature.
//! The manifest has no annotations. Descriptors are written `mediaType`, `size`, `digest`,
//! `annotations`. The identity is the repository without tag; `-a key=value` adds string
//! entries to `optional` (`{"build":"42","team":"ml"}`, sorted) and nothing to the layer.
//! Signing again appends a layer (the config lists both) and moves the tag to the new manifest.
//! Signing the same payload with the same key again adds nothing, because cosign's duplicate
//! check finds an existing layer whose signature verifies over the payload.
//!
//! **`cosign attest --key --type T --predicate F`** pushes the same shape under
//! `sha256-<hex>.att`, with layers of media type `application/vnd.dsse.envelope.v1+json`
//! annotated `dev.cosignproject.cosign/signature: ""` and `predicateType: <URI>`. The layer is
//! the envelope `{"payloadType":"application/vnd.in-toto+json","payload":…,"signatures":[{"keyid":"","sig":…}]}`;
//! the payload is an in-toto Statement **v0.1** with keys `_type`, `predicateType`, `subject`,
//! `predicate`, and subject `name` `HOST/REPO`. Attesting again, even with the same predicate,
//! appends a layer (cosign's signatures use random nonces, so the envelope differs);
//! `--replace` drops the layers of the same predicate type and puts the new one first. `attest`
//! has no `--registry-referrers-mode` flag.
//!
//! **`--registry-referrers-mode=oci-1-1`** (`sign` and `attach sbom`, accepted only with
//! `COSIGN_EXPERIMENTAL=1`) pushes one manifest per signature, by digest, with no tag: the same
//! config blob under the media type `application/vnd.dev.cosign.artifact.sig.v1+json` (`.sbom.`
//! for SBOMs), the layers as above, a `subject` descriptor of the image, and **no**
//! `artifactType` field. On distribution 2.8, which answers the referrers API with 404, cosign
//! also pushes the fallback index under the tag `sha256-<hex>` (no suffix): an image index whose
//! entries have `mediaType`, `size`, `digest` and `artifactType` (taken from the config media
//! type), sorted by digest. A second `sign` adds a second referrer. `cosign verify` reads these
//! only with `--experimental-oci11`, and then verifies the last referrer listed alone.
//!
//! **`cosign attach sbom`** prints a deprecation warning and pushes the SBOM as the only layer,
//! without annotations, of a manifest under `sha256-<hex>.sbom`, replacing the previous one. The
//! layer media type is `text/spdx+json`, `text/spdx`, `application/vnd.cyclonedx+json`,
//! `application/vnd.cyclonedx+xml` or `application/vnd.syft+json` (see
//! [`SbomFormat::from_cosign_flags`]).
//!
//! **`cosign download`**: `sbom` writes the layer bytes unchanged; `signature` writes one line per
//! signature, `{"Base64Signature":…,"Payload":<base64>,"Cert":null,"Chain":null,"Bundle":null,"RFC3161Timestamp":null}`;
//! `attestation` writes each envelope as stored followed by a newline, in an order that changes
//! from run to run.
//!
//! **`cosign save --dir D`** writes an OCI layout whose `index.json` is indented by three spaces
//! and whose entries carry no tags but a `kind` annotation: `dev.cosignproject.cosign/image` (or
//! `/imageIndex`), `/sigs` and `/atts`. The manifests are byte-identical to those in the
//! registry; `.sbom` is not saved. `cosign verify --local-image D` and `verify-attestation
//! --local-image` accept key-based signatures with `--insecure-ignore-tlog`; they read the first
//! entry of each kind.
//!
//! **skopeo 1.18** (`copy --sign-by-sigstore-private-key`) writes the same `.sig` layout, with
//! descriptors ordered `mediaType`, `digest`, `size`, a shorter config
//! `{"architecture":"","os":"","config":{},"rootfs":{…}}`, and a payload whose identity keeps the
//! tag (`HOST/REPO:TAG`) and whose `optional` holds `creator` and a numeric `timestamp`.
//! skopeo verifies cosign's signatures only with `signedIdentity` `matchRepository`, because its
//! default `matchRepoDigestOrExact` rejects an identity without tag.
//!
//! **oras 1.2** (`attach --artifact-type T`) pushes an OCI 1.1 manifest with `artifactType`, the
//! empty config `application/vnd.oci.empty.v1+json`, a `subject`, and an
//! `org.opencontainers.image.created` annotation, and adds it to the fallback index on
//! distribution 2.8. With `--oci-layout` it adds an untagged `index.json` entry with
//! `artifactType`.
//!
//! # What this module writes
//!
//! The same bytes as cosign for legacy manifests (see [`format`](mod@format)), with in-toto
//! Statement v1 for attestations. OCI 1.1 referrers follow cosign's `oci-1-1` form and add the
//! `artifactType` field. Layout writes follow [`LayoutStore`].
//!
//! # Not yet
//!
//! - Keyless signing and uploads to Rekor. Keyless *verification* is in [`keyless`]; key-based
//!   verification ignores certificates, Rekor entries and timestamps, lists them as not checked
//!   and never accepts a signature on their strength.
//! - `cosign attest --replace`, `cosign clean`, signing every platform of an index
//!   (`--recursive`), and cosign's `--attachment-tag-prefix`.

mod attach;
mod attest;
mod download;
mod error;
pub mod format;
mod identity;
pub mod keyless;
mod referrers;
mod sbom;
mod sign;
mod store;
mod verify;
mod verify_attestation;

pub use attach::AttachOutcome;
pub use attest::{
    AttestOptions, PredicateError, attest, attest_with_subjects, predicate_from_file,
};
pub use download::{
    DownloadedAttestation, DownloadedSignature, download_attestations, download_signatures,
};
pub use error::{
    ArtifactLocation, AttestationCheckError, CosignError, Rejected, SignatureCheckError,
    with_causes,
};
pub use identity::{Identity, IdentityError};
pub use keyless::{
    KeylessAttestation, KeylessAttestationVerification, KeylessPolicy, KeylessSignature,
    KeylessSignatureVerification, SignedPayload, verify_attestations_keyless,
    verify_signatures_keyless,
};
pub use referrers::{Referrer, ReferrersMode, discover};
pub use sbom::{DownloadedSbom, SbomFormat, attach_sbom, download_sbom};
pub use sign::{SignOptions, SignOutcome, sign};
pub use store::{
    ArtifactStore, ArtifactWrite, FoundReferrer, LayoutStore, MAX_MANIFEST_BYTES,
    MAX_PAYLOAD_BYTES, MAX_SBOM_BYTES, Placement, ReferrerSource, RegistryStore, StoreError,
    StoredManifest, Subject, open as open_store, open_for_image as open_store_for_image,
    open_for_platform as open_store_for_platform,
};
pub use verify::{
    SIGNATURE_CHECKS_NOT_MADE, SignatureVerification, VerifiedSignature, VerifyOptions,
    verify_signatures,
};
pub use verify_attestation::{
    AttestationVerification, AttestationVerifyOptions, VerifiedAttestation, verify_attestations,
};
