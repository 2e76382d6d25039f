//! Command-line syntax. Names and flags are the public interface; keep them stable.
//!
//! Doc comments here are the help text users read, so they are written as prose, not as
//! rustdoc with backticks.
#![allow(
    clippy::doc_markdown,
    reason = "doc comments are --help text, not rustdoc"
)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Compliance evidence for container images: SBOM, vulnerabilities, signatures and checks,
/// offline, in one binary.
///
/// Images are named with skopeo's transports: oci:DIR[:TAG], oci-archive:FILE[:TAG],
/// docker-archive:FILE[:REPO:TAG|:@INDEX], and dir:ROOTFS for an unpacked root filesystem.
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
}

#[derive(Debug, Subcommand)]
pub(crate) enum VersionCommand {
    /// Print `<`, `=` or `>` for two versions of a scheme, as `dpkg --compare-versions` does
    /// for Debian. With --batch, read tab-separated `A B` lines from stdin instead.
    Compare {
        /// Ordering scheme.
        #[arg(long, value_parser = ["deb", "rpm", "apk", "pep440", "semver", "go", "maven"])]
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

    #[command(flatten)]
    pub(crate) read: ReadArgs,

    #[command(subcommand)]
    pub(crate) command: Option<EvidenceCommand>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum EvidenceCommand {
    /// Check that every file of a package matches its manifest.json.
    Verify {
        /// The package directory.
        dir: PathBuf,
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
    /// threshold).
    #[arg(long, value_name = "SEVERITY", value_parser = ["low", "medium", "high", "critical"])]
    pub(crate) fail_on: Option<String>,

    /// Advisory database [default: $XDG_DATA_HOME/clearbox/advisories.db].
    #[arg(long, env = "CLEARBOX_DB")]
    pub(crate) db: Option<PathBuf>,

    /// Write to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) read: ReadArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ScanFormat {
    /// A table sorted by severity.
    Table,
    /// JSON with every finding.
    Json,
    /// SARIF 2.1.0.
    Sarif,
}

#[derive(Debug, Subcommand)]
pub(crate) enum DbCommand {
    /// Load OSV advisories: JSON or YAML files, directories of them, or osv.dev's all.zip.
    Import {
        /// Files, directories or zip archives.
        #[arg(required = true)]
        sources: Vec<PathBuf>,

        /// Advisory database [default: $XDG_DATA_HOME/clearbox/advisories.db].
        #[arg(long, env = "CLEARBOX_DB")]
        db: Option<PathBuf>,
    },
    /// Show record counts per ecosystem and the newest record's time.
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
    /// Platform to pick from a multi-platform image, OS/ARCH[/VARIANT].
    #[arg(long, default_value = "linux/amd64", value_name = "OS/ARCH")]
    pub(crate) platform: String,

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
    /// port of the host. Use it only for registries on a trusted network, such as loopback.
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
}
