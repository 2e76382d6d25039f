//! Command-line syntax. Names and flags are the public interface; keep them stable.
//!
//! Doc comments here are the help text users read, so they are written as prose, not as
//! rustdoc with backticks.
#![allow(
    clippy::doc_markdown,
    reason = "doc comments are --help text, not rustdoc"
)]

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

/// Compliance evidence for container images: SBOM, vulnerabilities, signatures and checks,
/// offline, in one binary.
///
/// Images are named with skopeo's transports: oci:DIR[:TAG|:@DIGEST], oci-archive:FILE[:TAG],
/// docker-archive:FILE[:REPO:TAG|:@INDEX], docker://REGISTRY/REPO[:TAG|@DIGEST] (or the same
/// without docker://), and dir:ROOTFS for an unpacked root filesystem.
///
/// Exit codes: 0 success, 1 a policy or vulnerability gate failed, 2 usage or runtime error.
#[derive(Debug, Parser)]
#[command(
    name = "clearbox",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    /// More log output on stderr: -v info, -vv debug, -vvv trace. RUST_LOG overrides it.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub(crate) verbose: u8,

    /// Only errors on stderr, and no progress bars.
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,

    /// The audit store that sign, attest and evidence append to: sqlite://PATH or a path,
    /// postgres://USER@HOST:PORT/DATABASE, or `none` for no record [default:
    /// $XDG_STATE_HOME/clearbox/audit.db].
    #[arg(long, global = true, env = "CLEARBOX_AUDIT_STORE", value_name = "URL")]
    pub(crate) audit_store: Option<String>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Write the audit-ready evidence package for an image, or check one.
    Evidence(EvidenceArgs),
    /// Write the SBOM of an image: OS packages, language packages, Go binaries, model weights.
    Sbom(SbomArgs),
    /// Match an image or SBOM against the advisory database.
    Scan(ScanArgs),
    /// Manage the local advisory database.
    #[command(subcommand)]
    Db(DbCommand),
    /// Show how clearbox orders versions.
    #[command(subcommand)]
    Version(VersionCommand),
    /// Manage the Sigstore trusted root that keyless verification uses by default.
    #[command(subcommand)]
    Trust(TrustCommand),
    /// Create cosign-compatible signing keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Sign an image as cosign does (a simple-signing payload under sha256-<hex>.sig or as an
    /// OCI 1.1 referrer).
    Sign(SignArgs),
    /// Verify an image's cosign signatures with a public key, or with a certificate identity
    /// against a trusted root (keyless); print the verified payloads.
    ///
    /// Keyless verification (--certificate-identity or --certificate-identity-regexp, with
    /// --certificate-oidc-issuer or --certificate-oidc-issuer-regexp) checks each signature's
    /// Fulcio certificate against the trusted root, its SAN and issuer, the signature over the
    /// payload, and the Rekor signed entry timestamp or RFC 3161 timestamp that proves when the
    /// certificate was used, offline. The trusted root is --trusted-root, else the one installed
    /// with trust import.
    Verify(VerifyArgs),
    /// Attach a signed in-toto attestation (DSSE) to an image, as cosign attest does.
    Attest(AttestArgs),
    /// Verify an image's attestations with a public key or a certificate identity and print the
    /// verified statements, or verify a Sigstore bundle offline against an artifact and a
    /// trusted root.
    ///
    /// With IMAGE, verifies the image's attestations with --key, or keyless with a certificate
    /// identity and issuer against the trusted root, as verify does. With --bundle instead, verifies
    /// a Sigstore bundle (v0.1 to v0.3) offline. The signature or DSSE envelope is checked
    /// against the artifact, and the certificate against the trusted root and the expected
    /// identity (or the signature against --key). The transparency log entries and RFC 3161
    /// timestamps are checked against the trusted root. Each check is listed on stderr as
    /// passed, failed or not checked, and the verified result is printed on stdout as JSON. Exit codes with --bundle: 0 verified; 1 rejected, a check
    /// could not be made, or the bundle or trusted root is malformed; 2 a file cannot be read
    /// or an argument is invalid.
    VerifyAttestation(VerifyAttestationArgs),
    /// Write SLSA provenance v1 for an image from its git checkout and build facts, and with
    /// --attest sign it and store it beside the image.
    ///
    /// The statement's subject is the image's digest. The source repository, ref and commit
    /// come from the checkout in --source (read without running git; a dirty tree is refused
    /// unless --allow-dirty). The invocation ID and start time come from the arguments, else
    /// from GitHub Actions or GitLab CI variables. Fields are listed in docs/provenance.md.
    Provenance(ProvenanceArgs),
    /// Build an image from a YAML spec, reproducibly: the same inputs give the same digest.
    ///
    /// The layers come from Debian packages, tar files, directories and single files
    /// (docs/build.md describes the spec). Entries are sorted, mtimes clamped to the source date,
    /// owners numeric, and layers gzipped at a fixed level. Hardened defaults: user 65532:65532,
    /// no shell, setuid and setgid bits cleared, /tmp the only world-writable path; each one the
    /// spec overrides is reported on stderr. The SBOM and an SLSA provenance statement are
    /// written beside the image, and a JSON record of the build is printed on stdout.
    Build(BuildArgs),
    /// Rebuild an image from its spec and compare: print whether the digests are identical or
    /// the first layer and file that differ.
    ///
    /// The result is printed on stdout as JSON and, with --statement, written as an in-toto
    /// statement about the image (docs/build.md). Exit codes: 0 identical, 1 different, 2 the
    /// image or the spec cannot be read or built.
    Rebuild(RebuildArgs),
    /// Attach artifacts to an image in a registry or layout.
    #[command(subcommand)]
    Attach(AttachCommand),
    /// Download what is attached to an image.
    #[command(subcommand)]
    Download(DownloadCommand),
    /// Check images and Kubernetes manifests against security benchmarks.
    #[command(subcommand)]
    Check(CheckCommand),
    /// Write a starter policy file: the one format that verify, check and evidence read.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Run the Kubernetes validating admission webhook that applies the policy file to the
    /// images of every workload the API server admits (docs/webhook.md).
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Write the compliance matrix of an image: each control of the EU AI Act, NIST AI RMF,
    /// Singapore IM8 and the CIS Docker and Kubernetes benchmarks with its status, the checks
    /// behind it and the evidence files that hold their results.
    ///
    /// The image is read, cataloged, scanned, verified and checked as evidence does. A control
    /// is satisfied when every check behind it passed, not satisfied when one failed, and not
    /// evidenced when no check can evidence it or one of them did not run: without --key the
    /// signature and provenance checks do not run, and without --k8s the Kubernetes checks do
    /// not. The mapping is in docs/compliance.md. The exit code is 0 whatever the statuses, and
    /// 2 when an image or a manifest cannot be read.
    Report(ReportArgs),
    /// Record a model card as annotations on an image manifest, and print the new manifest
    /// digest.
    ///
    /// The card (YAML, or JSON for a .json file) is validated first; every invalid field is
    /// named. The manifest gets the annotations (the image config's creation time as the
    /// created key), is stored under its new digest, and the tag is moved to it: index.json of
    /// an oci: layout is replaced atomically, a registry tag is pushed again. The old manifest
    /// stays. Signatures and attestations of the old digest do not apply to the new one.
    Annotate(AnnotateArgs),
    /// Attest the model files in an image: build the predicate from the image's layers, sign it
    /// and store it beside the image, as attest does.
    ///
    /// --format clearbox (https://clearbox.dev/model/v1) lists every weight file with its path,
    /// layer, SHA-256, size, format and format facts, and the governance annotations that
    /// annotate wrote. --format model-signing (https://model_signing/signature/v1.0, OpenSSF
    /// Model Signing) lists every file of one model directory. Check either with
    /// verify-attestation --type model or --type model-signing.
    ModelAttest(ModelAttestArgs),
    /// Sign every object of a Kubernetes manifest file, so that admission or an auditor can prove
    /// who approved it.
    ///
    /// Each object (each item of a List) gets the annotation signature.clearbox.dev/dsse: a DSSE
    /// envelope over the object's canonical JSON form, without that annotation and without the
    /// fields the API server sets (status, metadata.uid, ...). The payload carries the object,
    /// its SHA-256 digest and the --claim pairs. The rest of the file is kept byte for byte, and
    /// it is replaced atomically. Fields and limits are in docs/signed-manifests.md.
    SignManifest(SignManifestArgs),
    /// Verify the signature of every object of a Kubernetes manifest file with a public key.
    ///
    /// Prints one line per object on stdout: OK with the signed claims, or FAILED with the
    /// reason: unsigned, a signature that does not verify, or the first field changed since
    /// signing. Reformatting (key order, indentation, style, comments, quoting) is no change.
    /// Exit codes: 0 every object verified, 1 any object failed, 2 the file or key cannot be
    /// read.
    VerifyManifest(VerifyManifestArgs),
    /// Check, seal or export the audit store: a hash chain of every sign, attest and evidence
    /// run, in which a changed, removed or reordered record is found.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Match every SBOM kept in the audit store (by scan and evidence) against the current
    /// advisory database, and print the findings no earlier rescan reported, as JSON lines.
    ///
    /// The first rescan of an image reports all its findings. Exit codes: 0 success, 1 a new
    /// finding meets --fail-on, 2 error.
    Rescan(RescanArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AnnotateArgs {
    #[command(flatten)]
    pub(crate) target: TargetArgs,

    /// The model card: YAML, or JSON when the name ends in .json. Fields are listed in
    /// docs/model-governance.md.
    #[arg(long, value_name = "FILE")]
    pub(crate) model_card: PathBuf,

    #[command(flatten)]
    pub(crate) keys: AnnotationPrefixArgs,
}

/// The prefixes of the governance annotation keys.
#[derive(Debug, Args)]
pub(crate) struct AnnotationPrefixArgs {
    /// Prefix of the standard keys: title, version, description, licenses, created.
    #[arg(
        long,
        value_name = "PREFIX",
        default_value = "org.opencontainers.image."
    )]
    pub(crate) prefix: String,

    /// Prefix of the model keys: trained-date, training-data-version, bias-scan.status,
    /// bias-scan.date, baseline-accuracy, drift-threshold, patch-sla-days, approvers.
    #[arg(long, value_name = "PREFIX", default_value = "dev.clearbox.model.")]
    pub(crate) model_prefix: String,
}

#[derive(Debug, Args)]
pub(crate) struct ModelAttestArgs {
    #[command(flatten)]
    pub(crate) target: TargetArgs,

    /// Private key, as for sign.
    #[arg(long)]
    pub(crate) key: String,

    /// The predicate to write.
    #[arg(long, value_enum, default_value_t = ModelAttestFormat::Clearbox)]
    pub(crate) format: ModelAttestFormat,

    /// For --format model-signing: the model directory, an absolute path in the image that
    /// contains at least one weight file. Default: the directory that contains every weight file.
    #[arg(long, value_name = "DIR")]
    pub(crate) model_dir: Option<String>,

    /// Subject name of the statement. Default: the image's repository; required for an oci:
    /// layout.
    #[arg(long, value_name = "REGISTRY/REPO")]
    pub(crate) identity: Option<String>,

    /// Where to store it: legacy, oci-1-1 or auto, as for sign.
    #[arg(long, default_value = "auto", value_name = "MODE")]
    pub(crate) registry_referrers_mode: String,

    /// For --format model-signing: write an OpenSSF Model Signing signature file (a Sigstore
    /// bundle whose statement names the model alone) to FILE instead of attaching the
    /// attestation to the image. The `model_signing verify key` tool checks it against the
    /// model directory.
    #[arg(long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) keys: AnnotationPrefixArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ModelAttestFormat {
    /// Every weight file of the image and the governance annotations.
    Clearbox,
    /// OpenSSF Model Signing v1.0 for one model directory.
    ModelSigning,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("report_target").required(true).args(["image", "compare"])))]
pub(crate) struct ReportArgs {
    /// The image to report on.
    pub(crate) image: Option<String>,

    /// Report on two images instead, control by control side by side, such as a standard build
    /// and its hardened rebuild.
    #[arg(long, num_args = 2, value_names = ["IMAGE_A", "IMAGE_B"], conflicts_with = "image")]
    pub(crate) compare: Option<Vec<String>>,

    /// Frameworks to include: eu-ai-act, nist-ai-rmf, im8, cis-docker, cis-k8s, cis (both CIS
    /// benchmarks) or all (repeatable or comma-separated) [default: all].
    #[arg(
        long,
        value_name = "FRAMEWORK",
        value_delimiter = ',',
        value_parser = ["eu-ai-act", "nist-ai-rmf", "im8", "cis-docker", "cis-k8s", "cis", "all"]
    )]
    pub(crate) framework: Vec<String>,

    /// Kubernetes manifest files (YAML or JSON) or directories to check for the CIS Kubernetes
    /// and IM8 workload controls, with the checks of check k8s and the Pod Security Standards
    /// at restricted. The registry allowlist check does not run.
    #[arg(long = "k8s", value_name = "FILE|DIR", num_args = 1..)]
    pub(crate) k8s: Vec<PathBuf>,

    /// Advisory database [default: $XDG_DATA_HOME/clearbox/advisories.db].
    #[arg(long, env = "CLEARBOX_DB")]
    pub(crate) db: Option<PathBuf>,

    /// Public key (PEM file or pkcs11: URI) to verify the image's signatures and SLSA
    /// provenance with. Without it those checks do not run.
    #[arg(long)]
    pub(crate) key: Option<String>,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = ReportFormat::Md)]
    pub(crate) format: ReportFormat,

    /// Write to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) read: ReadArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ReportFormat {
    /// The matrix as JSON (fields in docs/compliance.md).
    Json,
    /// Markdown tables: the summary, one table per framework, then the checks.
    Md,
    /// One self-contained HTML page: charts, tables and links to the evidence files, with no
    /// scripts and nothing fetched.
    Html,
}

#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// Print a starter policy (YAML, on stdout) that requires a signature by one of the keys on
    /// every image, and images only from the given registries.
    ///
    /// Key files are checked to load and written as absolute paths; pkcs11: URIs as given.
    /// Save the output and pass it to verify, check or evidence with --policy.
    Init(PolicyInitArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum WebhookCommand {
    /// Serve admission.k8s.io/v1 AdmissionReviews over HTTPS at /validate, with /healthz,
    /// /readyz and /metrics.
    ///
    /// Every container, init container and ephemeral container image of a Pod or pod template
    /// is checked: the registry allowlist and the tag and digest rules first, without network
    /// access, then signatures and attestations from the image's registry, cached per digest.
    /// An image that cannot be verified in time is denied. Every decision is appended to the
    /// audit store, and a decision that cannot be recorded is a denial too. With --seal-key the
    /// store is sealed every --seal-every records and when the server stops. SIGHUP reloads the
    /// policy and the certificate, and SIGTERM stops the server.
    Serve(WebhookServeArgs),
}

#[derive(Debug, Args)]
pub(crate) struct WebhookServeArgs {
    /// The policy file (docs/policy.md).
    #[arg(long, value_name = "FILE")]
    pub(crate) policy: PathBuf,

    /// PEM certificate chain the server presents; its names must include the Service's DNS
    /// name.
    #[arg(long, value_name = "FILE")]
    pub(crate) tls_cert: PathBuf,

    /// PEM private key of the certificate.
    #[arg(long, value_name = "FILE")]
    pub(crate) tls_key: PathBuf,

    /// Address and port to listen on; port 0 picks a free port, printed on stderr.
    #[arg(long, value_name = "ADDRESS:PORT", default_value = "127.0.0.1:8443")]
    pub(crate) listen: std::net::SocketAddr,

    /// The audit store decisions are appended to: sqlite://PATH or a path, or
    /// postgres://USER@HOST:PORT/DATABASE [default: the
    /// --audit-store of the other commands, else $XDG_STATE_HOME/clearbox/audit.db].
    #[arg(long, value_name = "URL")]
    pub(crate) store: Option<String>,

    /// Seconds from a request's arrival by which every image must be verified; an image not
    /// verified by then is denied. Keep it below the webhook's timeoutSeconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 8, value_parser = parse_timeout_seconds)]
    pub(crate) timeout: u64,

    /// Seconds a verification result stays cached per image digest and policy.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub(crate) cache_ttl: u64,

    /// Largest request body accepted, in bytes; larger ones get HTTP 413. The API server sends
    /// at most 3 MiB objects.
    #[arg(long, value_name = "BYTES", default_value_t = 3 * 1024 * 1024)]
    pub(crate) max_request_bytes: usize,

    /// Seconds a client has for its TLS handshake, its first request's headers, and the headers
    /// of each later HTTP/1 request. Slower or silent clients are disconnected.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = parse_timeout_seconds)]
    pub(crate) header_read_timeout: u64,

    /// Most connections open at once; further ones wait in the kernel's listen queue until one
    /// closes.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub(crate) max_connections: u32,

    /// Private key to seal the audit store with, as for `audit seal`: a cosign key file, a
    /// PKCS#8 or SEC1 PEM file, or a pkcs11: URI. The password of an encrypted key comes from
    /// CLEARBOX_PASSWORD or COSIGN_PASSWORD. Without it the webhook appends no seals.
    #[arg(long, value_name = "KEY")]
    pub(crate) seal_key: Option<String>,

    /// Admission records between two seals; the store is also sealed when SIGTERM or SIGINT
    /// stops the server.
    #[arg(long, value_name = "N", default_value_t = 1000, requires = "seal_key", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) seal_every: u64,

    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub(crate) struct PolicyInitArgs {
    /// A trusted registry host or host/repository prefix, such as ghcr.io/acme (repeatable).
    #[arg(long = "registry", value_name = "HOST[/REPO]", required = true, value_parser = parse_registry)]
    pub(crate) registries: Vec<clearbox_policy::k8s::RegistryPrefix>,

    /// A public key that may sign the images: a PEM file or a pkcs11: URI (repeatable; any one
    /// signature suffices).
    #[arg(long = "key", value_name = "PUB", required = true)]
    pub(crate) keys: Vec<String>,

    /// Also require a signed vulnerability scan attestation with no finding above this severity:
    /// none, low, medium, high or critical.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_max_severity)]
    pub(crate) max_severity: Option<clearbox_policy::policy::MaxSeverity>,
}

fn parse_max_severity(text: &str) -> Result<clearbox_policy::policy::MaxSeverity, String> {
    clearbox_policy::policy::MaxSeverity::from_name(text).ok_or_else(|| {
        format!(
            "unknown severity `{text}`; expected one of {}",
            clearbox_policy::policy::MaxSeverity::NAMES.join(", ")
        )
    })
}

#[derive(Debug, Subcommand)]
pub(crate) enum CheckCommand {
    /// Check an image against CIS Docker Benchmark section 4 (non-root user, base image pinned,
    /// no shell, no package manager in a shell-less image, HEALTHCHECK, no setuid files, no ADD
    /// from URLs, no secrets) and least-privilege and traceability checks.
    ///
    /// Each check reports pass, fail, not applicable or could not check, with the file, layer
    /// or config field it rests on. Secret values are masked in every format: their first four
    /// characters, then ****. The exit code is 0 unless --fail-on-violation is given and a
    /// check fails (1); an image that cannot be read makes it 2.
    Image(CheckImageArgs),
    /// Check Kubernetes manifests: Pod Security Standards, CIS Kubernetes Benchmark section 5
    /// items, and least-privilege checks on pod specs and images.
    ///
    /// Reads Pods and the pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets,
    /// ReplicationControllers, Jobs and CronJobs, and checks Roles, ClusterRoles, RoleBindings,
    /// ClusterRoleBindings and ServiceAccounts against CIS 5.1; other kinds are skipped. Without --pss every
    /// check runs, with the Pod Security Standards at restricted, and the exit code is 0 unless
    /// --fail-on-violation is given. With --pss only that level is evaluated, and any violation
    /// makes the exit code 1. Invalid YAML makes it 2.
    K8s(CheckK8sArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CheckK8sArgs {
    /// Manifest files (YAML or JSON) and directories, which are read recursively for .yaml,
    /// .yml and .json files.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub(crate) paths: Vec<PathBuf>,

    /// Evaluate only this Pod Security Standards level, and exit 1 when any resource violates
    /// it.
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub(crate) pss: Option<PssLevel>,

    // NOTE: `v1.37` here must equal `Version::LATEST`; the `check` tests compare them.
    /// Pod Security Standards version: v1.0 to v1.37, or latest. A newer version is evaluated
    /// with the v1.37 rules.
    #[arg(long, value_name = "VERSION", default_value = "latest", value_parser = parse_pss_version)]
    pub(crate) pss_version: clearbox_policy::k8s::Version,

    /// Exit 1 when any check fails. Without it (and without --pss) failures only appear in the
    /// report.
    #[arg(long)]
    pub(crate) fail_on_violation: bool,

    /// Allow images from this registry host or host/repository prefix, such as ghcr.io/acme
    /// (repeatable). With at least one, an image from anywhere else fails
    /// k8s-registry-allowlist; without, that check does not run.
    #[arg(long = "allow-registry", value_name = "HOST[/REPO]", value_parser = parse_registry)]
    pub(crate) allowed_registries: Vec<clearbox_policy::k8s::RegistryPrefix>,

    /// Also evaluate the policy file (docs/policy.md) on every workload: trusted registries,
    /// the tag and digest rules for each container image, and required annotations in each
    /// object's metadata. Each result is listed on stderr, with the reason of any exception that
    /// waives it. The exit code is 1 when a rule fails or could not be checked.
    #[arg(long, value_name = "FILE")]
    pub(crate) policy: Option<PathBuf>,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = CheckFormat::Table)]
    pub(crate) format: CheckFormat,

    /// Write to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct CheckImageArgs {
    /// The image to check.
    pub(crate) image: String,

    /// Also run clearbox-known-binaries: fail for every executable ELF file that no package
    /// database, language manifest or build information accounts for, and exit 1 when any is
    /// found. The image is cataloged for it, which reads every layer a second time.
    #[arg(long)]
    pub(crate) require_known_binaries: bool,

    /// Also evaluate the policy file (docs/policy.md): trusted registries (before the image is
    /// read), the tag and digest rules, and required annotations (manifest annotations and
    /// config labels). Each result is listed on stderr, with the reason of any exception that
    /// waives it. The exit code is 1 when a rule fails or could not be checked.
    #[arg(long, value_name = "FILE")]
    pub(crate) policy: Option<PathBuf>,

    /// Exit 1 when any check fails. Without it failures only appear in the report.
    #[arg(long)]
    pub(crate) fail_on_violation: bool,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = CheckFormat::Table)]
    pub(crate) format: CheckFormat,

    /// Write to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) read: ReadArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum PssLevel {
    /// Prevents known privilege escalations.
    Baseline,
    /// Current pod hardening practice; includes baseline.
    Restricted,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum CheckFormat {
    /// A table for people: for k8s the failed results by resource, for an image every check
    /// with its evidence; then counts.
    Table,
    /// Every result, passed and failed (fields in docs/k8s-checks.md and
    /// docs/image-checks.md).
    Json,
    /// SARIF 2.1.0 with one result per failure.
    Sarif,
}

fn parse_pss_version(text: &str) -> Result<clearbox_policy::k8s::Version, String> {
    text.parse()
}

fn parse_registry(text: &str) -> Result<clearbox_policy::k8s::RegistryPrefix, String> {
    text.parse()
}

/// The image a signing command works on, and how to reach its registry.
#[derive(Debug, Args)]
pub(crate) struct TargetArgs {
    /// The image: docker://REGISTRY/REPO[:TAG|@DIGEST] or oci:DIR[:TAG].
    pub(crate) image: String,

    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    #[command(flatten)]
    pub(crate) target: TargetArgs,

    /// Private key: a cosign key file (password from CLEARBOX_PASSWORD or COSIGN_PASSWORD, else
    /// a prompt), a PKCS#8 or SEC1 PEM file, or a pkcs11: URI.
    #[arg(long)]
    pub(crate) key: String,

    /// Add KEY=VALUE to the payload's optional claims (repeatable).
    #[arg(short = 'a', long = "annotation", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub(crate) annotations: Vec<(String, String)>,

    /// Repository the signature names, a Docker reference with optional tag and no URL scheme.
    /// Default: the image's repository; required for an oci: layout, which names none.
    #[arg(long, value_name = "REGISTRY/REPO", value_parser = parse_identity)]
    pub(crate) identity: Option<String>,

    /// Where to store it: legacy (cosign's sha256-<hex>.sig tag), oci-1-1 (an OCI 1.1
    /// referrer), or auto (oci-1-1 when the registry serves the referrers API, else legacy).
    #[arg(long, default_value = "auto", value_name = "MODE")]
    pub(crate) registry_referrers_mode: String,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    pub(crate) target: TargetArgs,

    /// Public key: a PEM file or a pkcs11: URI. Without it, a certificate identity is required.
    #[arg(long, required_unless_present_any = ["certificate_identity", "certificate_identity_regexp", "policy"])]
    pub(crate) key: Option<String>,

    #[command(flatten)]
    pub(crate) keyless: KeylessArgs,

    /// Evaluate the policy file (docs/policy.md) instead: its trusted registries are checked
    /// before any registry is contacted, then the tag and digest rules, annotations, signers and
    /// attestations. The evaluation is printed as JSON on stdout and each rule on stderr. The
    /// exit code is 1 when a rule fails or could not be checked. --key is needed only when the
    /// policy names no signers.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["annotations", "identity", "certificate_identity", "certificate_identity_regexp"]
    )]
    pub(crate) policy: Option<PathBuf>,

    /// Require the payload's optional claim KEY to equal VALUE (repeatable).
    #[arg(short = 'a', long = "annotation", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub(crate) annotations: Vec<(String, String)>,

    /// Require the signature to name this repository (alpine, docker.io/alpine and
    /// docker.io/library/alpine are the same). With a tag, the signature must name that tag
    /// too. Without it, the repository a signature claims is not checked.
    #[arg(long, value_name = "REGISTRY/REPO[:TAG]", value_parser = parse_identity)]
    pub(crate) identity: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct AttestArgs {
    #[command(flatten)]
    pub(crate) target: TargetArgs,

    /// Private key, as for sign.
    #[arg(long)]
    pub(crate) key: String,

    /// The predicate: a JSON file, or for --type custom any file, which is wrapped as cosign
    /// wraps it: {"Data": "<file text>", "Timestamp": "<now, RFC 3339>"}.
    #[arg(long, value_name = "FILE")]
    pub(crate) predicate: PathBuf,

    /// Predicate type: slsaprovenance (SLSA v0.2, as cosign), slsaprovenance02,
    /// slsaprovenance1, spdx, spdxjson, cyclonedx, vuln, openvex, custom, link, or a URI.
    #[arg(long = "type", value_name = "TYPE", default_value = "custom")]
    pub(crate) predicate_type: String,

    /// Subject name of the statement. Default: the image's repository; required for an oci:
    /// layout.
    #[arg(long, value_name = "REGISTRY/REPO")]
    pub(crate) identity: Option<String>,

    /// Where to store it: legacy, oci-1-1 or auto, as for sign.
    #[arg(long, default_value = "auto", value_name = "MODE")]
    pub(crate) registry_referrers_mode: String,
}

#[derive(Debug, Args)]
pub(crate) struct ProvenanceArgs {
    /// The image the provenance is about: docker://REGISTRY/REPO[:TAG|@DIGEST], oci:DIR[:TAG]
    /// or oci-archive:FILE[:TAG].
    pub(crate) image: String,

    /// The git checkout the image was built from (a directory inside it).
    #[arg(long, value_name = "DIR")]
    pub(crate) source: PathBuf,

    /// The builder ID (runDetails.builder.id): a URI naming the build platform that ran the
    /// build, such as https://github.com/acme/infra/.github/workflows/build.yml@refs/tags/v1.
    #[arg(long, value_name = "URI")]
    pub(crate) builder_id: String,

    /// The build type (buildDefinition.buildType). Default: clearbox's container-image build
    /// type, described in docs/provenance.md.
    #[arg(long, value_name = "URI")]
    pub(crate) build_type: Option<String>,

    /// Record an approval: comma-separated KEY=VALUE pairs with at least reviewer=NAME, such as
    /// ticket=CHG-1234,reviewer=alice (repeatable). Values cannot contain commas.
    #[arg(long = "approval", value_name = "KEY=VALUE,...", value_parser = parse_approval)]
    pub(crate) approvals: Vec<clearbox_attest::slsa::Approval>,

    /// A base image the build started from, resolved to its digest (repeatable). Without it,
    /// the image's org.opencontainers.image.base.digest and base.name annotations are used.
    #[arg(long = "base", value_name = "IMAGE")]
    pub(crate) bases: Vec<String>,

    /// Write provenance for a working tree that differs from its commit, recording
    /// dirty: true. Without it a dirty tree is an error.
    #[arg(long)]
    pub(crate) allow_dirty: bool,

    /// When the build started (RFC 3339). Default: CI_JOB_STARTED_AT in GitLab CI.
    #[arg(long, value_name = "RFC3339")]
    pub(crate) started_on: Option<String>,

    /// When the build finished (RFC 3339). Default: not recorded.
    #[arg(long, value_name = "RFC3339")]
    pub(crate) finished_on: Option<String>,

    /// The invocation ID (runDetails.metadata.invocationId). Default: the GitHub Actions run
    /// attempt URL, or GitLab's CI_JOB_URL.
    #[arg(long, value_name = "ID")]
    pub(crate) invocation_id: Option<String>,

    /// Write the statement to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    /// Also sign the statement with --key and store it beside the image, as attest --type
    /// slsaprovenance1 does.
    #[arg(long, requires = "key")]
    pub(crate) attest: bool,

    /// Private key for --attest, as for sign.
    #[arg(long, requires = "attest")]
    pub(crate) key: Option<String>,

    /// Subject name of the statement. Default: the image's repository; required for an oci:
    /// layout whose tag names none.
    #[arg(long, value_name = "REGISTRY/REPO")]
    pub(crate) identity: Option<String>,

    #[command(flatten)]
    pub(crate) read: ReadArgs,
}

#[derive(Debug, Args)]
pub(crate) struct BuildArgs {
    /// The build spec (YAML); relative paths in it are taken from its directory.
    pub(crate) spec: PathBuf,

    /// Where to write the image: oci:DIR[:TAG], oci-archive:FILE[:TAG],
    /// docker-archive:FILE[:NAME:TAG] or docker://REGISTRY/REPO[:TAG]. The tag defaults to
    /// latest.
    #[arg(long, value_name = "IMAGE")]
    pub(crate) output: String,

    /// The source date in seconds since the Unix epoch: the image's creation time and the
    /// latest file mtime. The spec's source_date_epoch wins over it.
    #[arg(long, env = "SOURCE_DATE_EPOCH", value_name = "SECONDS")]
    pub(crate) source_date_epoch: Option<u64>,

    /// Write the SBOM here. Default: beside a local output, as DIR.spdx.json or
    /// FILE.spdx.json (.cdx.json for CycloneDX); not written for docker:// without it.
    #[arg(long, value_name = "FILE")]
    pub(crate) sbom: Option<PathBuf>,

    /// Format of the SBOM.
    #[arg(long, value_enum, default_value = "spdx-json")]
    pub(crate) sbom_format: SbomFormat,

    /// Write the SLSA provenance statement here. Default: beside a local output, as
    /// DIR.provenance.json or FILE.provenance.json; not written for docker:// without it.
    #[arg(long, value_name = "FILE")]
    pub(crate) provenance: Option<PathBuf>,

    /// The builder ID (runDetails.builder.id) recorded in the provenance.
    #[arg(
        long,
        value_name = "URI",
        default_value = "https://example.invalid/clearbox/build"
    )]
    pub(crate) builder_id: String,

    /// Also sign the provenance and the SBOM with --key and store them beside the image (oci:
    /// and docker:// outputs), as attest does.
    #[arg(long, requires = "key")]
    pub(crate) attest: bool,

    /// Private key for --attest, as for sign.
    #[arg(long, requires = "attest")]
    pub(crate) key: Option<String>,

    #[command(flatten)]
    pub(crate) read: ReadArgs,
}

#[derive(Debug, Args)]
pub(crate) struct RebuildArgs {
    /// The image to reproduce: oci:DIR[:TAG], oci-archive:FILE[:TAG] or
    /// docker://REGISTRY/REPO[:TAG|@DIGEST].
    pub(crate) image: String,

    /// The build spec the image was built from.
    #[arg(long, value_name = "FILE")]
    pub(crate) spec: PathBuf,

    /// The source date, when the spec sets none, as for build.
    #[arg(long, env = "SOURCE_DATE_EPOCH", value_name = "SECONDS")]
    pub(crate) source_date_epoch: Option<u64>,

    /// Also write the result as an in-toto statement whose subject is the image.
    #[arg(long, value_name = "FILE")]
    pub(crate) statement: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) read: ReadArgs,
}

fn parse_approval(text: &str) -> Result<clearbox_attest::slsa::Approval, String> {
    text.parse().map_err(|e| format!("{e}"))
}

#[derive(Debug, Args)]
pub(crate) struct VerifyAttestationArgs {
    /// The image: docker://REGISTRY/REPO[:TAG|@DIGEST] or oci:DIR[:TAG]. Omit it with --bundle.
    #[arg(required_unless_present = "bundle", conflicts_with = "bundle")]
    pub(crate) image: Option<String>,

    #[command(flatten)]
    pub(crate) registry: RegistryArgs,

    /// Public key: a PEM file or a pkcs11: URI. With --bundle, the key of a bundle signed with
    /// a key instead of a certificate (ECDSA P-256 or P-384, Ed25519, or RSA). Without it, a
    /// certificate identity is required.
    #[arg(
        long,
        required_unless_present_any = ["bundle", "certificate_identity", "certificate_identity_regexp"]
    )]
    pub(crate) key: Option<String>,

    #[command(flatten)]
    pub(crate) keyless: KeylessArgs,

    /// Require this predicate type (names as for attest, or a URI). Default: any. With
    /// --bundle, it applies to a DSSE bundle's statement. model and model-signing (or their
    /// URIs) also compare every listed model file with the image's layers, and exit 1 on any
    /// mismatch or unlisted weight file.
    #[arg(long = "type", value_name = "TYPE")]
    pub(crate) predicate_type: Option<String>,

    /// Check the verified SLSA provenance against this policy (YAML or JSON: builders, source
    /// repository, ref pattern and commit, approvals; see docs/provenance.md). Every check is
    /// listed on stderr; the exit code is 1 unless a provenance statement passes them all.
    /// With it, --type slsaprovenance accepts SLSA v0.2 and v1, as slsa-verifier does.
    #[arg(long, value_name = "FILE", conflicts_with = "bundle")]
    pub(crate) policy: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) bundle: BundleArgs,
}

/// Inputs of Sigstore bundle verification besides the bundle.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("artifact_source").args(["artifact", "artifact_digest"])))]
#[command(group(
    ArgGroup::new("bundle_signer").args(["key", "certificate_identity", "certificate_identity_regexp"])
))]
pub(crate) struct BundleArgs {
    /// Sigstore bundle file (JSON, such as FILE.sigstore.json) to verify instead of an image's
    /// attestations. Needs the artifact, --key or a certificate identity, and a trusted root
    /// (--trusted-root, else the one installed with trust import).
    #[arg(
        long,
        value_name = "FILE",
        requires_all = ["artifact_source", "bundle_signer"]
    )]
    pub(crate) bundle: Option<PathBuf>,

    /// The signed artifact; for a DSSE bundle, the file an in-toto subject must name.
    #[arg(long, value_name = "FILE", requires = "bundle")]
    pub(crate) artifact: Option<PathBuf>,

    /// The artifact's SHA-256 digest instead of the file. Ed25519 signatures over the artifact
    /// need the file itself.
    #[arg(long, value_name = "sha256:HEX", requires = "bundle", value_parser = parse_sha256_digest)]
    pub(crate) artifact_digest: Option<[u8; 32]>,
}

/// The certificate identity and trusted root of keyless verification.
#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("certificate_signer").args(["certificate_identity", "certificate_identity_regexp"])
))]
#[command(group(
    ArgGroup::new("certificate_issuer")
        .args(["certificate_oidc_issuer", "certificate_oidc_issuer_regexp"])
))]
pub(crate) struct KeylessArgs {
    /// Verify keyless: the exact subject alternative name the signing certificate must have, a
    /// URI (such as a GitHub Actions workflow ref) or an email address.
    #[arg(
        long,
        value_name = "ID",
        requires = "certificate_issuer",
        conflicts_with = "key"
    )]
    pub(crate) certificate_identity: Option<String>,

    /// Verify keyless: a regular expression (Rust regex syntax) the whole subject alternative
    /// name must match. Unlike cosign, which finds it anywhere in the name, it is anchored at
    /// both ends.
    #[arg(
        long,
        value_name = "RE",
        requires = "certificate_issuer",
        conflicts_with = "key"
    )]
    pub(crate) certificate_identity_regexp: Option<String>,

    /// The exact OIDC issuer URL the signing certificate must name, such as
    /// https://token.actions.githubusercontent.com.
    #[arg(long, value_name = "URL", requires = "certificate_signer")]
    pub(crate) certificate_oidc_issuer: Option<String>,

    /// A regular expression the whole OIDC issuer URL must match, instead of
    /// --certificate-oidc-issuer.
    #[arg(long, value_name = "RE", requires = "certificate_signer")]
    pub(crate) certificate_oidc_issuer_regexp: Option<String>,

    /// Sigstore trusted root file (trusted_root.json, media type
    /// application/vnd.dev.sigstore.trustedroot+json;version=0.1): the Fulcio CAs, Rekor logs,
    /// CT logs and timestamp authorities to trust. Default: the file installed with trust
    /// import.
    #[arg(long, value_name = "FILE")]
    pub(crate) trusted_root: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TrustCommand {
    /// Validate a Sigstore trusted_root.json and install it as the default for --trusted-root.
    ///
    /// The file is stored as clearbox/trusted_root.json under XDG_CONFIG_HOME (default
    /// ~/.config), replacing the previous one atomically. clearbox never downloads it; the
    /// public-good root is a target of the Sigstore TUF repository.
    Import {
        /// The trusted root file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AttachCommand {
    /// Attach an SBOM under sha256-<hex>.sbom, as cosign attach sbom does.
    Sbom {
        #[command(flatten)]
        target: TargetArgs,

        /// The SBOM file.
        #[arg(long, value_name = "FILE")]
        sbom: PathBuf,

        /// SBOM type: spdx, cyclonedx or syft.
        #[arg(long = "type", default_value = "spdx", value_name = "TYPE")]
        sbom_type: String,

        /// Input format: json, xml or text. Default: json for a .json file.
        #[arg(long, value_name = "FORMAT")]
        input_format: Option<String>,

        /// Where to store it: legacy, oci-1-1 or auto, as for sign.
        #[arg(long, default_value = "auto", value_name = "MODE")]
        registry_referrers_mode: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum DownloadCommand {
    /// Print the attached SBOMs.
    Sbom {
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Print each signature as a JSON line, in cosign's shape.
    Signature {
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Print each attestation envelope as a JSON line.
    Attestation {
        #[command(flatten)]
        target: TargetArgs,

        /// Only attestations of this predicate type.
        #[arg(long, value_name = "TYPE")]
        predicate_type: Option<String>,
    },
}

/// Parses `sha256:HEX` into the 32 digest bytes.
fn parse_sha256_digest(text: &str) -> Result<[u8; 32], String> {
    let hex_digits = text
        .strip_prefix("sha256:")
        .ok_or_else(|| format!("`{text}` does not start with `sha256:`"))?;
    let bytes = hex::decode(hex_digits)
        .map_err(|error| format!("`{text}` is not sha256: and hex digits: {error}"))?;
    bytes
        .try_into()
        .map_err(|bytes: Vec<u8>| format!("`{text}` has {} bytes, not 32", bytes.len()))
}

/// Checks that `--identity` is a Docker reference without a digest, and keeps it as given. A
/// signature names the image digest in a field of its own, which verification always checks,
/// so a digest in the identity could never match.
fn parse_identity(text: &str) -> Result<String, String> {
    if text.contains('@') {
        return Err(format!(
            "`{text}` names a digest; give REGISTRY/REPO[:TAG], since the image digest is checked on its own"
        ));
    }
    clearbox_attest::cosign::Identity::parse(text)
        .map(|_| text.to_owned())
        .map_err(|error| error.to_string())
}

/// Checks that `--output-prefix` ends in a file name, so that the keys are not written as the
/// hidden files `DIR/.key` and `DIR/.pub`.
fn parse_output_prefix(text: &str) -> Result<PathBuf, String> {
    let (directory, name) = match text.rfind('/') {
        Some(slash) => text.split_at(slash + 1),
        None => ("", text),
    };
    if name.is_empty() || name == "." || name == ".." {
        // `dd/` becomes `dd/cosign`; `dd/.` and `..` get `/cosign` appended.
        let example = if name.is_empty() {
            format!("{directory}cosign")
        } else {
            format!("{text}/cosign")
        };
        return Err(format!(
            "`{text}` does not end in a file name, so the keys would be the hidden files \
             `.key` and `.pub`; give a prefix such as `{example}`, which writes \
             `{example}.key` and `{example}.pub`"
        ));
    }
    Ok(PathBuf::from(text))
}

/// Parses `KEY=VALUE`.
fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeyCommand {
    /// Write an ECDSA P-256 key pair: PREFIX.key encrypted as cosign does (mode 0600) and
    /// PREFIX.pub. The password comes from CLEARBOX_PASSWORD, else COSIGN_PASSWORD, else a
    /// prompt on the terminal; an empty password is allowed, as in cosign.
    Generate {
        /// Path prefix of the two files; it must end in a file name, such as keys/release.
        #[arg(long, default_value = "cosign", value_name = "PREFIX", value_parser = parse_output_prefix)]
        output_prefix: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum VersionCommand {
    /// Print `<`, `=` or `>` for two versions of a scheme, as `dpkg --compare-versions` does
    /// for Debian. With --batch, read tab-separated `A B` lines from stdin instead.
    Compare {
        /// Ordering scheme.
        #[arg(
            long,
            value_parser = [
                "deb", "rpm", "apk", "pep440", "semver", "go", "maven", "rubygems", "nuget",
                "packagist",
            ]
        )]
        scheme: String,

        /// Read `A<TAB>B` lines from stdin and print one result per line; an invalid version
        /// prints `error: REASON` on that line and makes the exit code 2.
        #[arg(long, conflicts_with_all = ["left", "right"])]
        batch: bool,

        /// First version.
        #[arg(required_unless_present = "batch")]
        left: Option<String>,

        /// Second version.
        #[arg(required_unless_present = "batch")]
        right: Option<String>,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(crate) struct EvidenceArgs {
    /// The image to assess.
    #[arg(required = true)]
    pub(crate) image: Option<String>,

    /// Directory to create for the package.
    #[arg(short, long, required = true)]
    pub(crate) output: Option<PathBuf>,

    /// Replace the output directory if it exists and is not empty.
    #[arg(long)]
    pub(crate) force: bool,

    /// Advisory database [default: $XDG_DATA_HOME/clearbox/advisories.db].
    #[arg(long, env = "CLEARBOX_DB")]
    pub(crate) db: Option<PathBuf>,

    /// Public key (PEM file or pkcs11: URI) to verify the image's signatures and attestations
    /// with. Without it they are listed but reported as not verified. The exit code is 0 even
    /// when none verifies; the package records the result.
    #[arg(long)]
    pub(crate) key: Option<String>,

    /// Evaluate this policy file (docs/policy.md) and record every rule's result, with the
    /// policy's digest, in policy-evaluation.json. A file without apiVersion is read as a
    /// provenance policy (docs/provenance.md) instead, which needs --key and is recorded in
    /// slsa-provenance.json.
    #[arg(long, value_name = "FILE")]
    pub(crate) policy: Option<PathBuf>,

    /// Sign manifest.json with this private key (PEM file or pkcs11: URI) into
    /// manifest.json.sig, which `clearbox evidence verify --key` and `cosign verify-blob` check.
    /// An encrypted key's password comes from CLEARBOX_PASSWORD or COSIGN_PASSWORD, else the
    /// terminal.
    #[arg(long, value_name = "KEY")]
    pub(crate) sign_key: Option<String>,

    #[command(flatten)]
    pub(crate) read: ReadArgs,

    #[command(subcommand)]
    pub(crate) command: Option<EvidenceCommand>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum EvidenceCommand {
    /// Check that every file of a package matches its manifest.json, and with --key that
    /// manifest.json.sig is a signature over manifest.json by that key.
    Verify {
        /// The package directory.
        dir: PathBuf,

        /// Public key (PEM file or pkcs11: URI) that signed manifest.json. With it, a missing or
        /// failing manifest.json.sig fails the check; without it, a signature present is
        /// reported as not checked.
        #[arg(long)]
        key: Option<String>,
    },
}

#[derive(Debug, Args)]
pub(crate) struct SbomArgs {
    /// The image to catalog.
    pub(crate) image: String,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = SbomFormat::SpdxJson)]
    pub(crate) format: SbomFormat,

    /// Write to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) read: ReadArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum SbomFormat {
    /// SPDX 2.3 JSON.
    SpdxJson,
    /// CycloneDX 1.6 JSON.
    CyclonedxJson,
    /// A table for people.
    Table,
}

#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// An image reference, or an SPDX or CycloneDX JSON file.
    pub(crate) target: String,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = ScanFormat::Table)]
    pub(crate) format: ScanFormat,

    /// Exit 1 when a finding has this severity or higher, or has no known severity (many
    /// advisories carry no CVSS score, and nothing shows such a finding is below the
    /// threshold). Findings a distribution marks will-not-fix or not-affected, and findings a
    /// VEX statement suppresses, are reported but do not count.
    #[arg(long, value_name = "SEVERITY", value_parser = ["low", "medium", "high", "critical"])]
    pub(crate) fail_on: Option<String>,

    /// Advisory database [default: $XDG_DATA_HOME/clearbox/advisories.db].
    #[arg(long, env = "CLEARBOX_DB")]
    pub(crate) db: Option<PathBuf>,

    /// Write to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    /// OpenVEX or CycloneDX VEX JSON file of at most 16 MiB (repeatable). Findings that a
    /// statement marks `not_affected` or `fixed` for the package leave the findings and the
    /// gate, and every format lists them as suppressed with the statement.
    #[arg(long, value_name = "FILE")]
    pub(crate) vex: Vec<PathBuf>,

    /// Warn when the newest advisory in the database is older than this: a number with `d`
    /// (days), `h` (hours), `m` (minutes) or `s` (seconds), at most 36500d. Advisories dated
    /// more than a day in the future do not count.
    #[arg(long, value_name = "AGE", default_value = "7d", value_parser = parse_age)]
    pub(crate) max_db_age: std::time::Duration,

    /// Exit 1 when the database is older than --max-db-age instead of only warning.
    #[arg(long)]
    pub(crate) fail_on_stale: bool,

    #[command(flatten)]
    pub(crate) read: ReadArgs,
}

/// Maximum `--max-db-age`: 36,500 days (100 years), far beyond any useful age, and small enough
/// that subtracting it from the current time cannot overflow.
const MAX_AGE_DAYS: u64 = 36_500;

/// Parses `7d`, `24h`, `30m` or `90s` into a duration of at most [`MAX_AGE_DAYS`].
pub(crate) fn parse_age(text: &str) -> Result<std::time::Duration, String> {
    let invalid = || {
        format!("invalid age `{text}`: expected a number followed by d, h, m or s, such as `7d`")
    };
    let too_large = || format!("invalid age `{text}`: the maximum is {MAX_AGE_DAYS}d (100 years)");
    let unit = text.chars().last().ok_or_else(invalid)?;
    let digits = &text[..text.len() - unit.len_utf8()];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    // All digits, so a parse error is an overflow.
    let number: u64 = digits.parse().map_err(|_| too_large())?;
    let unit_seconds = match unit {
        'd' => 86_400,
        'h' => 3_600,
        'm' => 60,
        's' => 1,
        _ => return Err(invalid()),
    };
    let seconds = number.checked_mul(unit_seconds).ok_or_else(too_large)?;
    if seconds > MAX_AGE_DAYS * 86_400 {
        return Err(too_large());
    }
    Ok(std::time::Duration::from_secs(seconds))
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ScanFormat {
    /// A table sorted by severity.
    Table,
    /// JSON with every finding.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// OpenVEX 0.2.0: one statement per finding.
    Openvex,
    /// CycloneDX 1.6 VEX: one vulnerability per finding.
    CyclonedxVex,
}

#[derive(Debug, Subcommand)]
pub(crate) enum DbCommand {
    /// Load OSV advisories: JSON or YAML files, directories of them, or osv.dev's all.zip;
    /// Alpine secdb YAML files and Red Hat CSAF VEX JSON files are read too.
    ///
    /// Exits 1 when every record of a source is rejected.
    Import {
        /// Files, directories or zip archives.
        #[arg(required = true)]
        sources: Vec<PathBuf>,

        /// Advisory database [default: $XDG_DATA_HOME/clearbox/advisories.db].
        #[arg(long, env = "CLEARBOX_DB")]
        db: Option<PathBuf>,
    },
    /// Show record counts per ecosystem and per source, with the age of the newest record.
    Status {
        /// Advisory database [default: $XDG_DATA_HOME/clearbox/advisories.db].
        #[arg(long, env = "CLEARBOX_DB")]
        db: Option<PathBuf>,

        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Options for reading images.
#[derive(Debug, Clone, Args)]
pub(crate) struct ReadArgs {
    /// Platform to pick from a multi-platform image, OS/ARCH[/VARIANT] [default: linux/amd64].
    /// When given, a single-platform image built for another platform is an error.
    #[arg(long, value_name = "OS/ARCH")]
    pub(crate) platform: Option<String>,

    /// Reject a layer whose decompressed size exceeds this multiple of its compressed size
    /// (checked after the first 64 MiB), which stops decompression bombs.
    #[arg(long, default_value_t = 256, value_name = "RATIO")]
    pub(crate) max_layer_ratio: u64,

    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
}

/// How to reach registries for docker:// references.
#[derive(Debug, Clone, Args)]
pub(crate) struct RegistryArgs {
    /// Reach this registry over plain HTTP instead of HTTPS (repeatable). HOST matches every
    /// port of the host. Use it only for registries on a trusted network, such as loopback. A
    /// plain-HTTP token server gets credentials only when its own HOST:PORT is listed too.
    #[arg(
        long,
        value_name = "HOST[:PORT]",
        env = "CLEARBOX_INSECURE_REGISTRY",
        value_delimiter = ','
    )]
    pub(crate) insecure_registry: Vec<String>,

    /// PEM file of CA certificates to trust besides the system's, for a private registry.
    #[arg(long, value_name = "FILE")]
    pub(crate) ca_file: Option<PathBuf>,

    /// User name for registry logins; the password is read from stdin with --password-stdin.
    /// Without it, credentials come from the Docker config file ($DOCKER_CONFIG/config.json or
    /// ~/.docker/config.json).
    #[arg(long, requires = "password_stdin")]
    pub(crate) username: Option<String>,

    /// Read the registry password from stdin (one line).
    #[arg(long, requires = "username")]
    pub(crate) password_stdin: bool,

    /// Seconds to wait for a registry's response headers, and then for each read of a body; a
    /// request that times out is retried once. Connecting has its own limit of 10 s, or this
    /// value when smaller.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = parse_timeout_seconds)]
    pub(crate) registry_timeout: u64,
}

/// Parses `--registry-timeout`: whole seconds from 1 to 3600.
fn parse_timeout_seconds(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(seconds @ 1..=3600) => Ok(seconds),
        _ => Err(format!(
            "`{text}` is not a whole number of seconds from 1 to 3600"
        )),
    }
}

#[derive(Debug, Args)]
pub(crate) struct SignManifestArgs {
    /// The manifest file: YAML (one or more documents) or JSON.
    pub(crate) file: PathBuf,

    /// Private key, as for sign: a cosign key file, a PKCS#8 or SEC1 PEM file, or a pkcs11: URI.
    #[arg(long)]
    pub(crate) key: String,

    /// Add KEY=VALUE to the signed claims, such as approver=alice or ticket=CHG-1234
    /// (repeatable).
    #[arg(long = "claim", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub(crate) claims: Vec<(String, String)>,

    /// Write the signed manifest to FILE (- for stdout) instead of replacing the input.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyManifestArgs {
    /// The manifest file: YAML (one or more documents) or JSON.
    pub(crate) file: PathBuf,

    /// Public key: a PEM file or a pkcs11: URI.
    #[arg(long)]
    pub(crate) key: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Check every record's hash and place in the chain, and with --key every seal.
    ///
    /// Checks the audit store, or with --segment a file written by `audit export`. Exit codes:
    /// 0 the chain is intact, 1 a record does not fit (the first one is named), 2 the store, file or
    /// key cannot be read.
    Verify {
        /// A segment file written by `audit export`, instead of the store.
        #[arg(long, value_name = "FILE")]
        segment: Option<PathBuf>,

        /// Public key whose seals to check: a PEM file or a pkcs11: URI.
        #[arg(long)]
        key: Option<String>,

        /// Fail (exit 1) unless the last record is a seal by --key, as after a webhook that
        /// seals at shutdown has stopped. Records after the last seal can be rewritten by
        /// anyone who can write the store.
        #[arg(long, requires = "key")]
        require_sealed: bool,

        /// Print the result as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Append a seal: a signature over the last record, so that rewriting the log up to it is
    /// found by anyone with the public key.
    Seal {
        /// Private key, as for sign.
        #[arg(long)]
        key: String,
    },
    /// Show which stored images an advisory affects and the records about them, or the
    /// timeline of one image, as JSON.
    #[command(group(ArgGroup::new("query_target").required(true).args(["advisory", "image"])))]
    Query {
        /// An advisory id or alias (CVE-…, GHSA-…) reported by `rescan`.
        #[arg(long)]
        advisory: Option<String>,

        /// An image's manifest digest (sha256:…).
        #[arg(long)]
        image: Option<String>,
    },
    /// Write the records between two times, with the hash they follow and up to the next
    /// seal, for an evidence package.
    Export {
        /// Start of the range: RFC 3339 time or a date (YYYY-MM-DD, midnight UTC).
        #[arg(long, value_parser = parse_time)]
        from: chrono::DateTime<chrono::Utc>,

        /// End of the range, as --from; a date means the end of that day.
        #[arg(long, value_parser = parse_end_time)]
        to: chrono::DateTime<chrono::Utc>,

        /// The file to write the segment to.
        #[arg(short, long)]
        output: PathBuf,
    },
}

fn parse_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|date| date.and_time(chrono::NaiveTime::MIN).and_utc())
        .map_err(|_| {
            format!("`{text}` is neither an RFC 3339 time (2026-01-31T12:00:00Z) nor a date (2026-01-31)")
        })
}

fn parse_end_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    let time = parse_time(text)?;
    if chrono::DateTime::parse_from_rfc3339(text).is_ok() {
        return Ok(time);
    }
    Ok(time + chrono::TimeDelta::days(1) - chrono::TimeDelta::milliseconds(1))
}

#[derive(Debug, Args)]
pub(crate) struct RescanArgs {
    /// Advisory database [default: $XDG_DATA_HOME/clearbox/advisories.db].
    #[arg(long, env = "CLEARBOX_DB")]
    pub(crate) db: Option<PathBuf>,

    /// Exit 1 when a new finding has this severity or higher (low, medium, high, critical) or
    /// has no known severity. Will-not-fix and not-affected findings are not reported.
    #[arg(long, value_name = "SEVERITY")]
    pub(crate) fail_on: Option<String>,

    /// Rescan only shard I of N (from 0), so that N processes share the stored images.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub(crate) shard: Option<(u64, u64)>,

    /// The store whose SBOMs are rescanned: sqlite://PATH or a path, or
    /// postgres://USER@HOST:PORT/DATABASE [default: --audit-store].
    #[arg(long, value_name = "URL")]
    pub(crate) store: Option<String>,
}

fn parse_shard(text: &str) -> Result<(u64, u64), String> {
    let invalid = || format!("`{text}` is not a shard I/N with 0 <= I < N, such as `0/4`");
    let (index, count) = text.split_once('/').ok_or_else(invalid)?;
    let index: u64 = index.parse().map_err(|_| invalid())?;
    let count: u64 = count.parse().map_err(|_| invalid())?;
    if count == 0 || index >= count {
        return Err(invalid());
    }
    Ok((index, count))
}
