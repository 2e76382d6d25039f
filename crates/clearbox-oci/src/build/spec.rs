//! The build specification: a YAML file that names the base image, the layers, the config and
//! the outputs' annotations. `docs/build.md` describes every field and `docs/build.schema.json`
//! is its JSON schema.
//!
//! The file is read into raw serde types that reject unknown fields, then checked and turned
//! into [`BuildSpec`], whose relative paths are resolved against the spec file's directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::build::error::BuildError;
use crate::fs::normalize_entry_name;
use crate::reference::ImageReference;
use crate::spec::Platform;

/// The largest spec file read: 1 MiB, far more than any list of layers and files needs.
const MAX_SPEC_BYTES: u64 = 1 << 20;

/// The image user when the spec names none: the `nonroot` user of distroless images.
pub const DEFAULT_USER: &str = "65532:65532";

/// A checked build specification.
#[derive(Debug, Clone)]
pub struct BuildSpec {
    /// The image the layers go on top of.
    pub base: Base,
    /// The creation time and the latest file mtime, in seconds since the Unix epoch. `None`
    /// when the spec does not set it, and the caller then takes `SOURCE_DATE_EPOCH`.
    pub source_date_epoch: Option<u64>,
    /// The platform recorded in the config. Default `linux/amd64`.
    pub platform: Platform,
    /// The layers, base first. Top-level `files` form one more layer at the end.
    pub layers: Vec<LayerSpec>,
    /// The runtime config.
    pub config: ConfigSpec,
    /// Annotations on the image manifest.
    pub annotations: BTreeMap<String, String>,
    /// Which hardened defaults the spec relaxes.
    pub hardening: Hardening,
}

/// The base image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// No base: the image contains only the spec's layers.
    Scratch,
    /// An image pinned by digest: `docker://REPO@sha256:…`, `oci:DIR:@sha256:…` or
    /// `oci-archive:FILE:@sha256:…`.
    Image {
        /// The reference as written.
        reference: ImageReference,
        /// The pinned manifest (or index) digest.
        digest: crate::Digest,
    },
}

/// One layer and where its contents come from. Sources are applied in this order, later ones
/// replacing earlier entries of the same path: `tarball`, `debs`, `directory`, `files`.
#[derive(Debug, Clone, Default)]
pub struct LayerSpec {
    /// A tar file, plain, gzip or zstd.
    pub tarball: Option<PathBuf>,
    /// Debian packages, unpacked as `dpkg-deb --extract` does, each with a dpkg status file.
    pub debs: Vec<PathBuf>,
    /// A directory tree.
    pub directory: Option<DirectorySpec>,
    /// Single files, directories and symlinks.
    pub files: Vec<FileSpec>,
    /// The history entry's `created_by`, by default a description of the sources.
    pub created_by: Option<String>,
    /// The history entry's `comment`.
    pub comment: Option<String>,
}

/// A directory copied into a layer.
#[derive(Debug, Clone)]
pub struct DirectorySpec {
    /// The directory on the build machine.
    pub path: PathBuf,
    /// Where its contents go in the image, relative to `/`, or empty for the root.
    pub destination: String,
    /// The owner every entry gets: the build machine's owners mean nothing in the image.
    pub owner: Owner,
    /// How entry modes are taken from the filesystem.
    pub modes: ModePolicy,
}

/// How a directory source's modes are taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModePolicy {
    /// The permission bits as the filesystem has them, so the umask that created the files
    /// shows in the image.
    #[default]
    Keep,
    /// Directories and files with any execute bit `0755`, other files `0644`, whatever the
    /// umask was. Setuid, setgid and sticky bits are dropped.
    Normalize,
}

/// A numeric owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Owner {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.uid, self.gid)
    }
}

/// One entry of `files`.
#[derive(Debug, Clone)]
pub struct FileSpec {
    /// The path in the image, relative to `/`.
    pub path: String,
    /// What the entry is.
    pub kind: FileKind,
    /// The permission bits, which win over any source's and the umask's. Default `0644` for
    /// files with `content` or `sources`, `0755` for directories, the source's bits for
    /// `source`.
    pub mode: Option<u32>,
    /// The owner. Default `0:0`.
    pub owner: Owner,
}

/// The kind of a `files` entry.
#[derive(Debug, Clone)]
pub enum FileKind {
    /// A file copied from the build machine.
    Source(PathBuf),
    /// Files of the build machine concatenated byte for byte in the order given, such as the
    /// certificates of a CA bundle.
    Sources(Vec<PathBuf>),
    /// A file with the given text.
    Content(String),
    /// A directory.
    Directory,
    /// A symbolic link to the target.
    Symlink(String),
}

/// The runtime config. Unset fields come from the base image.
#[derive(Debug, Clone, Default)]
pub struct ConfigSpec {
    /// `User`, or [`DEFAULT_USER`] when neither the spec nor the base names one.
    pub user: Option<String>,
    /// `Entrypoint`.
    pub entrypoint: Option<Vec<String>>,
    /// `Cmd`.
    pub cmd: Option<Vec<String>>,
    /// `Env`, `KEY=value` each, replacing the base's value of the same key.
    pub env: Vec<String>,
    /// `WorkingDir`.
    pub workdir: Option<String>,
    /// `Labels`, merged over the base's.
    pub labels: BTreeMap<String, String>,
}

/// The hardened defaults a spec may relax. Every relaxed default is reported.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Hardening {
    /// Keep shells (`/bin/sh`, `bash`, `dash`, `busybox`) in the built layers. Default false:
    /// a shell in the built layers fails the build.
    #[serde(default)]
    pub allow_shell: bool,
    /// Keep setuid and setgid bits. Default false: they are cleared.
    #[serde(default)]
    pub keep_setuid: bool,
    /// World-writable paths besides `/tmp`. Default none: the world-write bit is cleared
    /// everywhere else.
    #[serde(default)]
    pub writable: Vec<String>,
}

impl Hardening {
    /// Returns true when the spec relaxes no default.
    #[must_use]
    pub fn is_default(&self) -> bool {
        *self == Hardening::default()
    }
}

// The raw document, as serde reads it.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    base: String,
    #[serde(default)]
    source_date_epoch: Option<u64>,
    #[serde(default)]
    platform: Option<String>,
    #[serde(default)]
    layers: Vec<RawLayer>,
    #[serde(default)]
    files: Vec<RawFile>,
    #[serde(default)]
    config: RawConfig,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    hardening: Hardening,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayer {
    #[serde(default)]
    tarball: Option<String>,
    #[serde(default)]
    debs: Vec<String>,
    #[serde(default)]
    directory: Option<RawDirectory>,
    #[serde(default)]
    files: Vec<RawFile>,
    #[serde(default)]
    created_by: Option<String>,
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDirectory {
    path: String,
    #[serde(default)]
    destination: Option<String>,
    #[serde(default)]
    owner: Option<RawOwner>,
    #[serde(default)]
    modes: ModePolicy,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawOwner {
    Number(u32),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    path: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    sources: Option<Vec<String>>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    directory: bool,
    #[serde(default)]
    symlink: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    owner: Option<RawOwner>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    entrypoint: Option<Vec<String>>,
    #[serde(default)]
    cmd: Option<Vec<String>>,
    #[serde(default)]
    env: Vec<String>,
    #[serde(default)]
    workdir: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

impl BuildSpec {
    /// Reads and checks the spec file at `path`.
    pub fn load(path: &Path) -> Result<BuildSpec, BuildError> {
        let bytes = crate::file::read_regular_file(path, MAX_SPEC_BYTES).map_err(|source| {
            BuildError::Read {
                path: path.to_owned(),
                source,
            }
        })?;
        let text = String::from_utf8(bytes).map_err(|_| BuildError::Spec {
            path: path.to_owned(),
            reason: "it is not UTF-8 text".into(),
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        BuildSpec::parse(&text, dir).map_err(|reason| BuildError::Spec {
            path: path.to_owned(),
            reason,
        })
    }

    /// Parses spec text, resolving relative paths against `dir`.
    pub fn parse(text: &str, dir: &Path) -> Result<BuildSpec, String> {
        let raw: RawSpec = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        let base = parse_base(&raw.base)?;
        let platform = parse_platform(raw.platform.as_deref().unwrap_or("linux/amd64"))?;
        let mut layers = raw
            .layers
            .into_iter()
            .enumerate()
            .map(|(i, layer)| {
                convert_layer(layer, dir).map_err(|reason| format!("layers[{i}]: {reason}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if !raw.files.is_empty() {
            let files = raw
                .files
                .into_iter()
                .enumerate()
                .map(|(i, file)| {
                    convert_file(file, dir).map_err(|reason| format!("files[{i}]: {reason}"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            layers.push(LayerSpec {
                files,
                ..LayerSpec::default()
            });
        }
        if layers.is_empty() && base == Base::Scratch {
            return Err("the spec has no layers and no base image; add `layers` or `files`".into());
        }
        for entry in &raw.config.env {
            if entry.split_once('=').is_none_or(|(key, _)| key.is_empty()) {
                return Err(format!("config.env: `{entry}` is not KEY=value"));
            }
        }
        for path in &raw.hardening.writable {
            image_path(path).map_err(|reason| format!("hardening.writable: {reason}"))?;
        }
        Ok(BuildSpec {
            base,
            source_date_epoch: raw.source_date_epoch,
            platform,
            layers,
            config: ConfigSpec {
                user: raw.config.user,
                entrypoint: raw.config.entrypoint,
                cmd: raw.config.cmd,
                env: raw.config.env,
                workdir: raw.config.workdir,
                labels: raw.config.labels,
            },
            annotations: raw.annotations,
            hardening: raw.hardening,
        })
    }
}

fn parse_base(text: &str) -> Result<Base, String> {
    if text == "scratch" {
        return Ok(Base::Scratch);
    }
    let reference: ImageReference = text.parse().map_err(|e| format!("base: {e}"))?;
    let digest = match &reference {
        ImageReference::Registry(target) => target.digest.clone(),
        ImageReference::OciLayout { tag, .. } | ImageReference::OciArchive { tag, .. } => tag
            .as_deref()
            .and_then(|t| t.strip_prefix('@'))
            .and_then(|d| d.parse().ok()),
        _ => {
            return Err(format!(
                "base: `{text}` is not an image with a manifest digest; use scratch, \
                 docker://REPO@sha256:..., oci:DIR:@sha256:... or oci-archive:FILE:@sha256:..."
            ));
        }
    };
    let Some(digest) = digest else {
        return Err(format!(
            "base: `{text}` is not pinned by digest, so two builds could start from different \
             images; name it as docker://REPO@sha256:..., oci:DIR:@sha256:... or \
             oci-archive:FILE:@sha256:..."
        ));
    };
    Ok(Base::Image { reference, digest })
}

fn parse_platform(text: &str) -> Result<Platform, String> {
    let parts: Vec<&str> = text.split('/').collect();
    match parts.as_slice() {
        [os, architecture] if !os.is_empty() && !architecture.is_empty() => Ok(Platform {
            os: (*os).to_owned(),
            architecture: (*architecture).to_owned(),
            variant: None,
        }),
        [os, architecture, variant]
            if !os.is_empty() && !architecture.is_empty() && !variant.is_empty() =>
        {
            Ok(Platform {
                os: (*os).to_owned(),
                architecture: (*architecture).to_owned(),
                variant: Some((*variant).to_owned()),
            })
        }
        _ => Err(format!(
            "platform: `{text}` is not OS/ARCH or OS/ARCH/VARIANT, such as linux/amd64"
        )),
    }
}

fn convert_layer(raw: RawLayer, dir: &Path) -> Result<LayerSpec, String> {
    let directory = raw
        .directory
        .map(|d| -> Result<DirectorySpec, String> {
            Ok(DirectorySpec {
                path: dir.join(d.path),
                destination: match d.destination {
                    Some(destination) => image_path(&destination)
                        .map_err(|reason| format!("directory.destination: {reason}"))?,
                    None => String::new(),
                },
                owner: parse_owner(d.owner.as_ref()).map_err(|r| format!("directory.{r}"))?,
                modes: d.modes,
            })
        })
        .transpose()?;
    let files = raw
        .files
        .into_iter()
        .enumerate()
        .map(|(i, file)| convert_file(file, dir).map_err(|reason| format!("files[{i}]: {reason}")))
        .collect::<Result<Vec<_>, _>>()?;
    let layer = LayerSpec {
        tarball: raw.tarball.map(|t| dir.join(t)),
        debs: raw.debs.into_iter().map(|d| dir.join(d)).collect(),
        directory,
        files,
        created_by: raw.created_by,
        comment: raw.comment,
    };
    if layer.tarball.is_none()
        && layer.debs.is_empty()
        && layer.directory.is_none()
        && layer.files.is_empty()
    {
        return Err("the layer has no `tarball`, `debs`, `directory` or `files`".into());
    }
    Ok(layer)
}

fn convert_file(raw: RawFile, dir: &Path) -> Result<FileSpec, String> {
    let path = image_path(&raw.path)?;
    if path.is_empty() {
        return Err("`path` names the root directory".into());
    }
    let kinds = [
        raw.source.is_some(),
        raw.sources.is_some(),
        raw.content.is_some(),
        raw.directory,
        raw.symlink.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return Err(format!(
            "`{}` needs exactly one of `source`, `sources`, `content`, `directory: true` and \
             `symlink`",
            raw.path
        ));
    }
    let kind = if let Some(source) = raw.source {
        FileKind::Source(dir.join(source))
    } else if let Some(sources) = raw.sources {
        if sources.is_empty() {
            return Err(format!(
                "`{}` has an empty `sources` list; name at least one file, or use `content: \"\"` \
                 for an empty file",
                raw.path
            ));
        }
        FileKind::Sources(sources.into_iter().map(|s| dir.join(s)).collect())
    } else if let Some(content) = raw.content {
        FileKind::Content(content)
    } else if let Some(target) = raw.symlink {
        FileKind::Symlink(target)
    } else {
        FileKind::Directory
    };
    let mode = raw.mode.as_deref().map(parse_mode).transpose()?;
    Ok(FileSpec {
        path,
        kind,
        mode,
        owner: parse_owner(raw.owner.as_ref())?,
    })
}

/// Parses an octal mode string such as `"0644"` or `"4755"`. Strings only: YAML 1.2 reads an
/// unquoted `0644` as the decimal number 644.
fn parse_mode(text: &str) -> Result<u32, String> {
    let digits = text.strip_prefix("0o").unwrap_or(text);
    match u32::from_str_radix(digits, 8) {
        Ok(mode) if mode <= 0o7777 && !digits.is_empty() => Ok(mode),
        _ => Err(format!(
            "mode `{text}` is not an octal mode of at most 4 digits, such as \"0644\""
        )),
    }
}

fn parse_owner(raw: Option<&RawOwner>) -> Result<Owner, String> {
    match raw {
        None => Ok(Owner::default()),
        Some(RawOwner::Number(id)) => Ok(Owner { uid: *id, gid: *id }),
        Some(RawOwner::Text(text)) => {
            let parse = |s: &str| s.parse::<u32>().ok();
            match text.split_once(':') {
                Some((uid, gid)) => match (parse(uid), parse(gid)) {
                    (Some(uid), Some(gid)) => Ok(Owner { uid, gid }),
                    _ => Err(owner_error(text)),
                },
                None => parse(text)
                    .map(|id| Owner { uid: id, gid: id })
                    .ok_or_else(|| owner_error(text)),
            }
        }
    }
}

fn owner_error(text: &str) -> String {
    format!(
        "owner `{text}` is not UID:GID in numbers, such as \"65532:65532\"; names are not \
         accepted because the image's /etc/passwd, not the build machine's, decides them"
    )
}

/// Normalises a path inside the image to the form layer entries use: no leading `/`, no `.`
/// components. `..` is rejected.
pub(crate) fn image_path(text: &str) -> Result<String, String> {
    if text.contains('\0') {
        return Err(format!(
            "path `{}` contains a NUL byte, which no tar entry name can hold",
            text.escape_default()
        ));
    }
    if text.split('/').any(|c| c == "..") {
        return Err(format!("path `{text}` contains `..`"));
    }
    normalize_entry_name(text).ok_or_else(|| format!("path `{text}` leaves the root"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<BuildSpec, String> {
        BuildSpec::parse(text, Path::new("/specs"))
    }

    #[test]
    fn minimal_spec() {
        let spec = parse("base: scratch\nfiles:\n  - {path: /etc/motd, content: hi}\n").unwrap();
        assert_eq!(spec.base, Base::Scratch);
        assert_eq!(spec.layers.len(), 1);
        assert_eq!(spec.layers[0].files[0].path, "etc/motd");
        assert_eq!(spec.platform.architecture, "amd64");
    }

    #[test]
    fn relative_paths_resolve_against_spec_dir() {
        let spec = parse("base: scratch\nlayers:\n  - debs: [debs/a.deb]\n").unwrap();
        assert_eq!(spec.layers[0].debs[0], Path::new("/specs/debs/a.deb"));
    }

    #[test]
    fn unpinned_base_rejected() {
        let error = parse("base: docker://example.test/app:1\nfiles: []\n").unwrap_err();
        assert!(error.contains("not pinned by digest"), "{error}");
    }

    #[test]
    fn pinned_layout_base_accepted() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let spec = parse(&format!("base: oci:/img:@{digest}\n")).unwrap();
        assert!(matches!(spec.base, Base::Image { digest: d, .. } if d.to_string() == digest));
    }

    #[test]
    fn unknown_field_rejected() {
        let error = parse("base: scratch\nlayerz: []\n").unwrap_err();
        assert!(error.contains("layerz"), "{error}");
    }

    #[test]
    fn modes_and_owners() {
        assert_eq!(parse_mode("0644").unwrap(), 0o644);
        assert_eq!(parse_mode("4755").unwrap(), 0o4755);
        assert!(parse_mode("0999").is_err());
        assert!(parse_mode("17777").is_err());
        let owner = parse_owner(Some(&RawOwner::Text("65532:65532".into()))).unwrap();
        assert_eq!(
            owner,
            Owner {
                uid: 65532,
                gid: 65532
            }
        );
        assert!(parse_owner(Some(&RawOwner::Text("root:root".into()))).is_err());
    }

    #[test]
    fn file_needs_one_kind() {
        let error =
            parse("base: scratch\nfiles:\n  - {path: /a, content: x, symlink: /b}\n").unwrap_err();
        assert!(error.contains("exactly one"), "{error}");
    }

    #[test]
    fn documented_example_parses() {
        let doc = include_str!("../../../../docs/build.md");
        let start = doc.find("```yaml\nbase: scratch").unwrap() + "```yaml\n".len();
        let end = start + doc[start..].find("```").unwrap();
        let spec = parse(&doc[start..end]).unwrap();
        assert_eq!(spec.layers.len(), 4);
        assert_eq!(spec.layers[0].debs.len(), 2);
        assert_eq!(
            spec.layers[1].directory.as_ref().unwrap().modes,
            ModePolicy::Normalize
        );
        assert_eq!(spec.layers[3].files.len(), 2);
        assert_eq!(spec.config.cmd.as_deref().unwrap(), ["-m", "app"]);
        assert!(spec.hardening.is_default());
    }

    #[test]
    fn sources_list_parsed() {
        let spec =
            parse("base: scratch\nfiles:\n  - {path: /etc/bundle, sources: [certs/b, certs/a]}\n")
                .unwrap();
        let FileKind::Sources(paths) = &spec.layers[0].files[0].kind else {
            panic!("`sources` is not read as a concatenation");
        };
        assert_eq!(
            paths,
            &[
                PathBuf::from("/specs/certs/b"),
                PathBuf::from("/specs/certs/a")
            ]
        );

        let error =
            parse("base: scratch\nfiles:\n  - {path: /etc/bundle, sources: []}\n").unwrap_err();
        assert!(error.contains("empty `sources` list"), "{error}");
        let error =
            parse("base: scratch\nfiles:\n  - {path: /etc/bundle, source: a, sources: [b]}\n")
                .unwrap_err();
        assert!(error.contains("exactly one"), "{error}");
    }

    #[test]
    fn dotdot_rejected() {
        let error =
            parse("base: scratch\nfiles:\n  - {path: /a/../../b, content: x}\n").unwrap_err();
        assert!(error.contains("`..`"), "{error}");
    }
}
