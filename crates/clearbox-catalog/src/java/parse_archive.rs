//! Walks a Java archive (a zip file) and the archives nested in it, collecting Maven
//! coordinates.
//!
//! Per archive, in order of authority:
//! 1. every `pom.properties`, wherever it sits (shaded archives carry one per bundled
//!    artifact, sometimes outside `META-INF/maven`);
//! 2. `META-INF/maven/GROUP/ARTIFACT/pom.xml` where no `pom.properties` sits beside it;
//! 3. when none of those describes the archive itself (same artifact and version as its file
//!    name or its manifest), the manifest's coordinates (see [`Manifest::coordinates`]);
//! 4. when the archive yields nothing at all, the artifact and version in the file name
//!    (`NAME-VERSION.jar`), marked as guessed and without a group.
//!
//! Bounds keep what a zip bomb can cost in disk and time known. The central directory may list
//! at most [`MAX_ENTRIES`] entries, and descriptor files are read up to [`MAX_TEXT`] bytes.
//! Nested archives are followed [`MAX_DEPTH`] levels deep and at most [`MAX_NESTED`] of them per
//! outer archive, and all of them together may expand to at most [`MAX_EXPANDED`] bytes. Nested
//! archives are copied to unnamed temporary files.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use zip::ZipArchive;

use super::parse_manifest::{Manifest, parse_manifest};
use super::parse_pom::{Gav, parse_pom_properties, parse_pom_xml};

/// Most central-directory entries read from one archive; large application archives hold
/// some tens of thousands of classes.
pub(crate) const MAX_ENTRIES: u64 = 200_000;
/// Largest descriptor (`pom.properties`, `pom.xml`, `MANIFEST.MF`) read.
pub(crate) const MAX_TEXT: u64 = 4 << 20;
/// Deepest nesting followed: an application archive in an `.ear`, its libraries, and the
/// libraries those shade.
pub(crate) const MAX_DEPTH: usize = 4;
/// Most nested archives opened inside one outer archive.
pub(crate) const MAX_NESTED: usize = 5_000;
/// Most bytes all nested archives of one outer archive may expand to.
pub(crate) const MAX_EXPANDED: u64 = 4 << 30;

/// The file that gave an artifact's coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GavSource {
    PomProperties,
    PomXml,
    Manifest,
    /// Artifact and version from the file name; no group.
    FileName,
}

impl GavSource {
    pub(crate) fn name(self) -> &'static str {
        match self {
            GavSource::PomProperties => "pom.properties",
            GavSource::PomXml => "pom.xml",
            GavSource::Manifest => "manifest",
            GavSource::FileName => "file-name",
        }
    }
}

/// One artifact found in an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JavaArtifact {
    /// Empty when only the file name was available.
    pub(crate) group_id: String,
    pub(crate) artifact_id: String,
    pub(crate) version: String,
    pub(crate) source: GavSource,
    /// The entry that gave the coordinates (`META-INF/maven/g/a/pom.properties`).
    pub(crate) evidence: Option<String>,
    /// Path of the nested archive holding it, `a.war!/WEB-INF/lib/b.jar`; `None` for the
    /// outer archive.
    pub(crate) nested_in: Option<String>,
    pub(crate) licenses: Vec<String>,
    pub(crate) vendor: Option<String>,
    pub(crate) url: Option<String>,
}

/// The artifacts and problems of one outer archive.
#[derive(Debug, Default)]
pub(crate) struct ArchiveScan {
    pub(crate) artifacts: Vec<JavaArtifact>,
    pub(crate) problems: Vec<String>,
}

struct Budget {
    expanded: u64,
    nested: usize,
}

/// Scans an archive file and the archives nested in it; `file_name` is its base name.
pub(crate) fn parse_archive(file: File, file_name: &str) -> ArchiveScan {
    let mut scan = ArchiveScan::default();
    let mut budget = Budget {
        expanded: 0,
        nested: 0,
    };
    if let Err(reason) = scan_archive(file, file_name, None, 0, &mut budget, &mut scan) {
        scan.problems.push(reason);
    }
    scan
}

/// The descriptors of one archive, read before its nested archives are opened.
#[derive(Default)]
struct Descriptors {
    pom_properties: Vec<(String, Gav)>,
    pom_xml: Vec<(String, super::parse_pom::PomXml)>,
    manifest: Option<Manifest>,
    nested: Vec<usize>,
}

fn scan_archive<R: Read + Seek>(
    mut reader: R,
    file_name: &str,
    nested_in: Option<&str>,
    depth: usize,
    budget: &mut Budget,
    scan: &mut ArchiveScan,
) -> Result<(), String> {
    let archive_path = nested_in.unwrap_or(file_name);
    let entries = central_directory_entries(&mut reader)
        .map_err(|e| format!("`{archive_path}`: failed to read the archive: {e}"))?;
    if entries > MAX_ENTRIES {
        return Err(format!(
            "`{archive_path}`: the archive lists {entries} entries, more than the {MAX_ENTRIES} read"
        ));
    }
    let mut archive = ZipArchive::new(reader)
        .map_err(|e| format!("`{archive_path}`: not a valid zip archive: {e}"))?;

    let descriptors = read_descriptors(&mut archive, archive_path, scan);
    let own = artifacts(&descriptors, file_name, nested_in);
    scan.artifacts.extend(own);

    for index in descriptors.nested {
        if let Err(reason) = scan_nested(&mut archive, index, archive_path, depth, budget, scan) {
            scan.problems.push(reason);
        }
    }
    Ok(())
}

/// Reads the descriptors and lists the nested archives.
fn read_descriptors<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    archive_path: &str,
    scan: &mut ArchiveScan,
) -> Descriptors {
    let mut found = Descriptors::default();
    for index in 0..archive.len() {
        let Ok(entry) = archive.by_index_raw(index) else {
            continue;
        };
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        let base = name.rsplit('/').next().unwrap_or(&name);
        let is_descriptor = base == "pom.properties"
            || (base == "pom.xml" && maven_descriptor_dir(&name).is_some())
            || name == "META-INF/MANIFEST.MF";
        if is_java_archive(base) && !entry.is_dir() {
            found.nested.push(index);
        }
        drop(entry);
        if !is_descriptor {
            continue;
        }
        let text = match read_text(archive, index) {
            Ok(text) => text,
            Err(reason) => {
                scan.problems
                    .push(format!("`{archive_path}!/{name}`: {reason}"));
                continue;
            }
        };
        if base == "pom.properties" {
            match parse_pom_properties(&text) {
                Some(gav) => found.pom_properties.push((name, gav)),
                None => scan.problems.push(format!(
                    "`{archive_path}!/{name}`: no groupId, artifactId and version"
                )),
            }
        } else if base == "pom.xml" {
            match parse_pom_xml(&text) {
                Ok(pom) => found.pom_xml.push((name, pom)),
                Err(reason) => scan
                    .problems
                    .push(format!("`{archive_path}!/{name}`: {reason}")),
            }
        } else {
            found.manifest = Some(parse_manifest(&text));
        }
    }
    found
}

/// Turns one archive's descriptors into artifacts, in the order of authority the module
/// documentation gives.
fn artifacts(found: &Descriptors, file_name: &str, nested_in: Option<&str>) -> Vec<JavaArtifact> {
    let artifact = |gav: &Gav, source, evidence: Option<&str>| JavaArtifact {
        group_id: gav.group_id.clone(),
        artifact_id: gav.artifact_id.clone(),
        version: gav.version.clone(),
        source,
        evidence: evidence.map(str::to_owned),
        nested_in: nested_in.map(str::to_owned),
        licenses: Vec::new(),
        vendor: None,
        url: None,
    };
    let mut out: Vec<JavaArtifact> = Vec::new();
    let push = |candidate: JavaArtifact, out: &mut Vec<JavaArtifact>| {
        // The same coordinates twice in one archive are one artifact (shaded archives repeat
        // descriptors).
        if !out.iter().any(|a| {
            a.group_id == candidate.group_id
                && a.artifact_id == candidate.artifact_id
                && a.version == candidate.version
        }) {
            out.push(candidate);
        }
    };

    // 1. pom.properties.
    for (name, gav) in &found.pom_properties {
        push(
            artifact(gav, GavSource::PomProperties, Some(name)),
            &mut out,
        );
    }
    // 2. pom.xml without a pom.properties beside it.
    for (name, pom) in &found.pom_xml {
        let dir = maven_descriptor_dir(name).unwrap_or_default();
        let beside = found
            .pom_properties
            .iter()
            .any(|(p, _)| maven_descriptor_dir(p) == Some(dir));
        if let (false, Some(gav)) = (beside, &pom.gav) {
            push(artifact(gav, GavSource::PomXml, Some(name)), &mut out);
        }
    }
    // Licences named in a pom.xml belong to the artifact of the same directory.
    for a in &mut out {
        if let Some((_, pom)) = found.pom_xml.iter().find(|(name, pom)| {
            pom.gav
                .as_ref()
                .is_some_and(|g| g.group_id == a.group_id && g.artifact_id == a.artifact_id)
                || maven_descriptor_dir(name)
                    == Some(&format!("META-INF/maven/{}/{}", a.group_id, a.artifact_id))
        }) {
            a.licenses.clone_from(&pom.licenses);
        }
    }

    // 3 and 4. The archive itself, when nothing above describes it.
    let from_name = split_file_name(file_name);
    let from_manifest = found.manifest.as_ref().and_then(Manifest::coordinates);
    let is_itself = |a: &JavaArtifact| {
        from_name
            .as_ref()
            .is_some_and(|(artifact, version)| &a.artifact_id == artifact && &a.version == version)
            || from_manifest.as_ref().is_some_and(|m| {
                a.artifact_id.eq_ignore_ascii_case(&m.artifact_id) && a.version == m.version
            })
    };
    let mut own = out.iter().position(is_itself);
    if own.is_none() {
        if let Some(gav) = &from_manifest {
            push(
                artifact(gav, GavSource::Manifest, Some("META-INF/MANIFEST.MF")),
                &mut out,
            );
        } else if out.is_empty()
            && let Some((artifact_id, version)) = from_name.clone()
        {
            let guessed = Gav {
                group_id: String::new(),
                artifact_id,
                version,
            };
            push(artifact(&guessed, GavSource::FileName, None), &mut out);
        }
        own = out
            .iter()
            .position(is_itself)
            .or((out.len() == 1).then_some(0));
    }

    // The manifest describes the archive itself, so its vendor, URL and licences go to the
    // artifact that is the archive.
    if let (Some(own), Some(manifest)) = (own, &found.manifest) {
        let a = &mut out[own];
        if a.licenses.is_empty() {
            a.licenses = manifest.licenses();
        }
        a.vendor = manifest.vendor().map(str::to_owned);
        a.url = manifest.url().map(str::to_owned);
    }
    out
}

/// Copies a nested archive to a temporary file and scans it.
fn scan_nested<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    index: usize,
    archive_path: &str,
    depth: usize,
    budget: &mut Budget,
    scan: &mut ArchiveScan,
) -> Result<(), String> {
    let mut entry = archive
        .by_index(index)
        .map_err(|e| format!("`{archive_path}`: failed to open entry {index}: {e}"))?;
    let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
    let path = format!("{archive_path}!/{name}");
    if depth + 1 > MAX_DEPTH {
        return Err(format!(
            "`{path}`: nested more than {MAX_DEPTH} archives deep; not read"
        ));
    }
    if budget.nested >= MAX_NESTED {
        return Err(format!(
            "`{path}`: more than {MAX_NESTED} nested archives; not read"
        ));
    }
    budget.nested += 1;
    let room = MAX_EXPANDED.saturating_sub(budget.expanded);
    let mut copy = tempfile::tempfile().map_err(|e| format!("`{path}`: {e}"))?;
    let copied = io::copy(&mut (&mut entry).take(room + 1), &mut copy)
        .map_err(|e| format!("`{path}`: failed to decompress: {e}"))?;
    budget.expanded += copied.min(room);
    if copied > room {
        return Err(format!(
            "`{path}`: nested archives expand to more than {MAX_EXPANDED} bytes; not read"
        ));
    }
    drop(entry);
    copy.seek(SeekFrom::Start(0))
        .map_err(|e| format!("`{path}`: {e}"))?;
    let base = name.rsplit('/').next().unwrap_or(&name).to_owned();
    scan_archive(copy, &base, Some(&path), depth + 1, budget, scan)
}

/// Reads one entry as text, at most [`MAX_TEXT`] bytes.
fn read_text<R: Read + Seek>(archive: &mut ZipArchive<R>, index: usize) -> Result<String, String> {
    let entry = archive
        .by_index(index)
        .map_err(|e| format!("failed to open: {e}"))?;
    let mut bytes = Vec::new();
    entry
        .take(MAX_TEXT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("failed to decompress: {e}"))?;
    if bytes.len() as u64 > MAX_TEXT {
        return Err(format!("larger than {MAX_TEXT} bytes; not read"));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `META-INF/maven/GROUP/ARTIFACT` for a descriptor directly in such a directory.
fn maven_descriptor_dir(name: &str) -> Option<&str> {
    let dir = name.rsplit_once('/')?.0;
    let rest = dir.strip_prefix("META-INF/maven/")?;
    let (group, artifact) = rest.split_once('/')?;
    (!group.is_empty() && !artifact.is_empty() && !artifact.contains('/')).then_some(dir)
}

/// Java archive file extensions: jar, web, enterprise and Hadoop archives, Jenkins plugins.
pub(crate) fn is_java_archive(file_name: &str) -> bool {
    let Some((stem, extension)) = file_name.rsplit_once('.') else {
        return false;
    };
    !stem.is_empty()
        && ["jar", "war", "ear", "par", "jpi", "hpi"]
            .iter()
            .any(|e| extension.eq_ignore_ascii_case(e))
}

/// Splits `NAME-VERSION.jar` at the last `-` that a digit follows: `log4j-1.2-api-2.17.1`
/// gives `log4j-1.2-api` and `2.17.1`.
pub(crate) fn split_file_name(file_name: &str) -> Option<(String, String)> {
    let (stem, _) = file_name.rsplit_once('.')?;
    let at = stem
        .char_indices()
        .rev()
        .filter(|&(i, c)| c == '-' && stem[i + 1..].starts_with(|d: char| d.is_ascii_digit()))
        .map(|(i, _)| i)
        .next()?;
    let (artifact, version) = (&stem[..at], &stem[at + 1..]);
    let valid_artifact = !artifact.is_empty()
        && artifact
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    (valid_artifact && !version.chars().any(char::is_whitespace))
        .then(|| (artifact.to_owned(), version.to_owned()))
}

/// Reads the end-of-central-directory record (and the ZIP64 one when the count overflows 16
/// bits) to learn how many entries the archive lists before the zip reader allocates them.
fn central_directory_entries<R: Read + Seek>(reader: &mut R) -> io::Result<u64> {
    let len = reader.seek(SeekFrom::End(0))?;
    // The record is 22 bytes plus a comment of at most 65535 bytes.
    let tail_len = len.min(22 + 65535);
    reader.seek(SeekFrom::Start(len - tail_len))?;
    let mut tail = vec![0u8; tail_len as usize];
    reader.read_exact(&mut tail)?;
    let Some(at) = tail
        .windows(4)
        .rposition(|w| w == b"PK\x05\x06")
        .filter(|&at| at + 22 <= tail.len())
    else {
        // The zip reader reports the missing record with its own message.
        return Ok(0);
    };
    let count = u64::from(u16::from_le_bytes([tail[at + 10], tail[at + 11]]));
    if count != 0xffff {
        return Ok(count);
    }
    // ZIP64: a 20-byte locator precedes the record and contains the ZIP64 record's offset.
    let locator = at.checked_sub(20).map(|l| &tail[l..at]);
    let Some(locator) = locator.filter(|l| l.starts_with(b"PK\x06\x07")) else {
        return Ok(count);
    };
    let offset = u64::from_le_bytes(locator[8..16].try_into().unwrap_or_default());
    let mut record = [0u8; 56];
    reader.seek(SeekFrom::Start(offset))?;
    reader.read_exact(&mut record)?;
    if !record.starts_with(b"PK\x06\x06") {
        return Ok(count);
    }
    Ok(u64::from_le_bytes(
        record[32..40].try_into().unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        let split = |s| split_file_name(s).unwrap();
        assert_eq!(
            split("commons-lang3-3.11.jar"),
            ("commons-lang3".into(), "3.11".into())
        );
        assert_eq!(
            split("heuristic-1.0.0-SNAPSHOT.jar"),
            ("heuristic".into(), "1.0.0-SNAPSHOT".into())
        );
        assert_eq!(
            split("log4j-1.2-api-2.17.1.jar"),
            ("log4j-1.2-api".into(), "2.17.1".into())
        );
        assert_eq!(split_file_name("nested.jar"), None);
        assert_eq!(split_file_name("-1.0.jar"), None);
    }

    /// A forged ZIP64 end record claims a billion entries; the archive is refused before the
    /// zip reader allocates them.
    #[test]
    fn forged_entry_count_is_refused() {
        let mut bytes = Vec::new();
        // ZIP64 end of central directory record: signature, size, versions, disk numbers,
        // entries on this disk, total entries, directory size and offset.
        bytes.extend_from_slice(b"PK\x06\x06");
        bytes.extend_from_slice(&44u64.to_le_bytes());
        bytes.extend_from_slice(&[0; 12]);
        bytes.extend_from_slice(&1_000_000_000u64.to_le_bytes());
        bytes.extend_from_slice(&1_000_000_000u64.to_le_bytes());
        bytes.extend_from_slice(&[0; 16]);
        // Locator pointing at offset 0.
        bytes.extend_from_slice(b"PK\x06\x07");
        bytes.extend_from_slice(&[0; 4]);
        bytes.extend_from_slice(&0u64.to_le_bytes());
        bytes.extend_from_slice(&1u32.to_le_bytes());
        // End of central directory record with the 16-bit count saturated.
        bytes.extend_from_slice(b"PK\x05\x06");
        bytes.extend_from_slice(&[0; 4]);
        bytes.extend_from_slice(&[0xff; 4]);
        bytes.extend_from_slice(&[0xff; 8]);
        bytes.extend_from_slice(&[0; 2]);
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, &bytes).unwrap();
        let scan = parse_archive(file, "forged.jar");
        assert!(scan.artifacts.is_empty());
        assert_eq!(
            scan.problems,
            ["`forged.jar`: the archive lists 1000000000 entries, more than the 200000 read"]
        );
    }

    #[test]
    fn archive_extensions() {
        assert!(is_java_archive("a.jar"));
        assert!(is_java_archive("plugin.HPI"));
        assert!(!is_java_archive(".jar"));
        assert!(!is_java_archive("a.zip"));
    }

    #[test]
    fn descriptor_dirs() {
        assert_eq!(
            maven_descriptor_dir("META-INF/maven/g/a/pom.xml"),
            Some("META-INF/maven/g/a")
        );
        assert_eq!(maven_descriptor_dir("META-INF/maven/g/pom.xml"), None);
        assert_eq!(maven_descriptor_dir("bar/foo/pom.properties"), None);
    }
}
