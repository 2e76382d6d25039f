//! Comparing a rebuilt image with an existing one: the manifest digests, then the config, then
//! layer by layer the `diff_id`s, and in the first layer that differs the first tar entry whose
//! name, kind, mode, owner, mtime, link target or content differs.

use std::io::{self, Read};

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::Digest;
use crate::build::BuiltImage;
use crate::build::error::BuildError;
use crate::image::{Image, Source};
use crate::layer::Compression;
use crate::store::BlobStore;
use crate::tar::{TarHeader, TarLimits, TarReader};

const TAR_LIMITS: TarLimits = TarLimits {
    max_name_len: 64 << 10,
    max_extension_len: 1 << 20,
};

/// The result of comparing a rebuild with an image.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Comparison {
    /// True when the manifest digests are equal.
    pub identical: bool,
    /// The manifest digest of the existing image.
    pub expected: Digest,
    /// The manifest digest of the rebuild.
    pub rebuilt: Digest,
    /// True when the config blobs differ.
    pub config_differs: bool,
    /// The first layer that differs, when one does.
    pub first_difference: Option<LayerDifference>,
}

/// The first layer that differs and, when both layers could be read, its first differing entry.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LayerDifference {
    /// Zero-based position, base layer first.
    pub layer: usize,
    /// The existing layer's `diff_id`, or `None` when the rebuild has more layers.
    pub expected_diff_id: Option<Digest>,
    /// The rebuilt layer's `diff_id`, or `None` when the rebuild has fewer layers.
    pub rebuilt_diff_id: Option<Digest>,
    /// The first entry that differs.
    pub entry: Option<EntryDifference>,
}

/// The first tar entry that differs between two layers.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EntryDifference {
    /// The entry's path in the existing layer (or the rebuilt one when the existing has ended).
    pub path: String,
    /// What differs: `path`, `kind`, `mode`, `uid`, `gid`, `mtime`, `size`, `link`, `content`,
    /// or `missing` when one layer has no more entries.
    pub field: String,
    /// The existing layer's value.
    pub expected: String,
    /// The rebuilt layer's value.
    pub rebuilt: String,
}

/// Compares a rebuild with the image it should reproduce.
pub fn compare(image: &Image, built: &BuiltImage) -> Result<Comparison, BuildError> {
    let Some(expected) = image.manifest_digest.clone() else {
        return Err(BuildError::Oci(crate::OciError::InvalidImage(
            "the image has no manifest digest to compare with; name an oci:, oci-archive: or \
             docker:// image"
                .into(),
        )));
    };
    let identical = expected == built.manifest_digest;
    let config_differs = image.config_digest.as_ref() != Some(&built.config_digest);
    let first_difference = if identical {
        None
    } else {
        first_layer_difference(image, built)?
    };
    Ok(Comparison {
        identical,
        expected,
        rebuilt: built.manifest_digest.clone(),
        config_differs,
        first_difference,
    })
}

fn first_layer_difference(
    image: &Image,
    built: &BuiltImage,
) -> Result<Option<LayerDifference>, BuildError> {
    let count = image.layers.len().max(built.layers.len());
    for index in 0..count {
        let existing = image.layers.get(index);
        let rebuilt = built.layers.get(index);
        let expected_diff_id = existing.and_then(|l| l.diff_id.clone());
        let rebuilt_diff_id = rebuilt.map(|l| l.diff_id.clone());
        if expected_diff_id.is_some() && expected_diff_id == rebuilt_diff_id {
            continue;
        }
        let entry = match (existing, rebuilt, &image.source) {
            (Some(existing), Some(rebuilt), Source::Blobs(store)) => {
                let old = open_layer(store, &existing.location)?;
                let location = format!("blobs/sha256/{}", rebuilt.digest.hex());
                let new = open_layer(&BlobStore::Dir(built.layout().to_owned()), &location)?;
                first_entry_difference(old, new)?
            }
            _ => None,
        };
        return Ok(Some(LayerDifference {
            layer: index,
            expected_diff_id,
            rebuilt_diff_id,
            entry,
        }));
    }
    Ok(None)
}

/// Opens a layer blob as a decompressed tar stream.
fn open_layer(store: &BlobStore, location: &str) -> Result<Box<dyn Read + Send>, BuildError> {
    let (mut reader, _) = store.open(location)?;
    let mut head = [0u8; 4];
    let mut filled = 0;
    while filled < head.len() {
        let n = reader
            .read(&mut head[filled..])
            .map_err(|e| BuildError::read(location, e))?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    let compression = Compression::sniff(&head[..filled]);
    let stream = io::Cursor::new(head[..filled].to_vec()).chain(reader);
    let decoder = compression
        .decoder(stream)
        .map_err(|e| BuildError::read(location, e))?;
    Ok(Box::new(decoder))
}

/// One tar entry's comparable fields, with its content hashed.
struct Summary {
    header: TarHeader,
    content: Digest,
}

fn next_summary<R: Read>(reader: &mut TarReader<R>) -> Result<Option<Summary>, BuildError> {
    let invalid = |problem| BuildError::InvalidTar {
        path: "layer".into(),
        source: problem,
    };
    let Some(header) = reader.next_entry().map_err(invalid)? else {
        return Ok(None);
    };
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 << 10];
    let mut content = reader.content();
    loop {
        let n = content
            .read(&mut buffer)
            .map_err(|e| BuildError::read("layer", e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(Some(Summary {
        header,
        content: Digest::from_sha256(hasher.finalize().as_slice()),
    }))
}

/// Walks two tar streams in step and returns the first entry that differs.
fn first_entry_difference(
    old: impl Read,
    new: impl Read,
) -> Result<Option<EntryDifference>, BuildError> {
    let mut old = TarReader::new(old, TAR_LIMITS);
    let mut new = TarReader::new(new, TAR_LIMITS);
    loop {
        match (next_summary(&mut old)?, next_summary(&mut new)?) {
            (None, None) => return Ok(None),
            (Some(a), None) => return Ok(Some(missing(&a.header.name, true))),
            (None, Some(b)) => return Ok(Some(missing(&b.header.name, false))),
            (Some(a), Some(b)) => {
                if let Some(difference) = entry_difference(&a, &b) {
                    return Ok(Some(difference));
                }
            }
        }
    }
}

fn missing(path: &str, in_rebuild: bool) -> EntryDifference {
    let (expected, rebuilt) = if in_rebuild {
        ("present", "absent")
    } else {
        ("absent", "present")
    };
    EntryDifference {
        path: path.to_owned(),
        field: "missing".to_owned(),
        expected: expected.to_owned(),
        rebuilt: rebuilt.to_owned(),
    }
}

fn entry_difference(a: &Summary, b: &Summary) -> Option<EntryDifference> {
    let (x, y) = (&a.header, &b.header);
    let fields = [
        ("path", x.name.clone(), y.name.clone()),
        (
            "kind",
            x.kind.describe().to_owned(),
            y.kind.describe().to_owned(),
        ),
        ("mode", format!("{:04o}", x.mode), format!("{:04o}", y.mode)),
        ("uid", x.uid.to_string(), y.uid.to_string()),
        ("gid", x.gid.to_string(), y.gid.to_string()),
        ("mtime", x.mtime.to_string(), y.mtime.to_string()),
        ("size", x.size.to_string(), y.size.to_string()),
        (
            "link",
            x.link_name.clone().unwrap_or_default(),
            y.link_name.clone().unwrap_or_default(),
        ),
        ("content", a.content.to_string(), b.content.to_string()),
    ];
    fields
        .into_iter()
        .find(|(_, expected, rebuilt)| expected != rebuilt)
        .map(|(field, expected, rebuilt)| EntryDifference {
            path: x.name.clone(),
            field: field.to_owned(),
            expected,
            rebuilt,
        })
}
