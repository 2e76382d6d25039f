//! What the catalogers keep of a file while its layer streams past.
//!
//! Each cataloger module names the files it needs and how to capture them; [`Collector`] asks
//! every module in turn and captures the first match. Captures are bounded: text files up to a
//! per-kind limit, binaries spooled to an unnamed temporary file, model weights hashed as they
//! stream with only their header kept.

use std::io::{self, Read};

use clearbox_oci::{ContentInspector, EntryInfo};

use crate::golang::ElfFacts;
use crate::model::{CardFrontMatter, SafetensorsFacts};
use crate::{dpkg, golang, model, os_release, python};

/// How a cataloger wants a file captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Capture {
    /// Keep the whole file as bytes, refusing files larger than the limit.
    Text { max: u64 },
    /// Inspect an executable: if it is ELF, read its Go build information.
    Elf,
    /// Hash safetensors weights and parse their header.
    Safetensors,
    /// Keep only the YAML front matter of a model card.
    ModelCard,
}

/// What was captured from one file.
#[derive(Debug)]
pub enum Fact {
    /// The whole file.
    Text(Vec<u8>),
    /// A file larger than its capture limit; only its size is known.
    TooLarge {
        /// Size of the file.
        size: u64,
        /// The limit it exceeded.
        limit: u64,
    },
    /// An ELF binary.
    Elf(ElfFacts),
    /// Safetensors weights.
    Safetensors(SafetensorsFacts),
    /// A model card's front matter, or the reason it could not be read.
    ModelCard(Result<CardFrontMatter, String>),
}

/// The content inspector that feeds every cataloger.
#[derive(Debug, Default)]
pub struct Collector {
    _private: (),
}

impl Collector {
    /// A collector for every built-in cataloger.
    #[must_use]
    pub fn new() -> Self {
        Collector { _private: () }
    }

    pub(crate) fn capture_for(entry: &EntryInfo<'_>) -> Option<Capture> {
        // The account databases are kept for checks that resolve user names.
        if matches!(entry.path, "etc/passwd" | "etc/group") {
            return Some(Capture::Text { max: 1 << 20 });
        }
        os_release::capture(entry)
            .or_else(|| dpkg::capture(entry))
            .or_else(|| python::capture(entry))
            .or_else(|| model::capture(entry))
            .or_else(|| golang::capture(entry))
    }
}

impl ContentInspector for Collector {
    type Fact = Fact;

    fn wants(&self, entry: &EntryInfo<'_>) -> bool {
        Self::capture_for(entry).is_some()
    }

    fn inspect(&self, entry: &EntryInfo<'_>, content: &mut dyn Read) -> io::Result<Option<Fact>> {
        let Some(capture) = Self::capture_for(entry) else {
            return Ok(None);
        };
        match capture {
            Capture::Text { max } => {
                if entry.size > max {
                    return Ok(Some(Fact::TooLarge {
                        size: entry.size,
                        limit: max,
                    }));
                }
                let mut data = Vec::with_capacity(entry.size as usize);
                content.take(max).read_to_end(&mut data)?;
                Ok(Some(Fact::Text(data)))
            }
            Capture::Elf => Ok(golang::inspect_elf(entry, content)?.map(Fact::Elf)),
            Capture::Safetensors => Ok(Some(Fact::Safetensors(model::inspect_safetensors(
                entry, content,
            )?))),
            Capture::ModelCard => Ok(Some(Fact::ModelCard(model::read_front_matter(content)?))),
        }
    }
}

/// Base name of a path.
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Parent directory of a path, `""` at the root.
pub(crate) fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}
