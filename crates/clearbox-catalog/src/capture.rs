//! What the catalogers keep of a file while its layer streams past.
//!
//! Each cataloger module names the files it needs and how to capture them; [`Collector`] asks
//! every module in turn and captures the first match. Captures are bounded: text files up to a
//! per-kind limit, binaries spooled to an unnamed temporary file, model weights hashed as they
//! stream with only their header kept.

use std::io::{self, Read, Write};
use std::path::Path;

use clearbox_oci::{ContentInspector, EntryInfo};

use crate::golang::ElfFacts;
use crate::model::{CardFrontMatter, SafetensorsFacts, WeightFormat, WeightsFacts};
use crate::package::TokenizerFacts;
use crate::{apk, dpkg, golang, java, model, npm, os_release, python, rpm, unowned};

/// How a cataloger wants a file captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Capture {
    /// Keep the whole file as bytes, refusing files larger than the limit.
    Text { max: u64 },
    /// Inspect an executable: if it is ELF, hash it and read its Go build information and its
    /// `cargo auditable` dependency list.
    Elf,
    /// Copy the file to a named temporary file, refusing files larger than the limit: for
    /// databases and archives that are read with random access (SQLite, Berkeley DB, zip).
    Spool { max: u64 },
    /// Hash safetensors weights and parse their header.
    Safetensors,
    /// Keep only the YAML front matter of a model card.
    ModelCard,
    /// Hash model weights of another format and parse what the format's parser reads.
    Weights(WeightFormat),
    /// Count a `tokenizer.json`'s vocabulary as it streams.
    Tokenizer,
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
    /// Model weights in a format other than safetensors.
    Weights(Box<WeightsFacts>),
    /// A `tokenizer.json`'s facts (with an empty path), or the reason it could not be read.
    Tokenizer(Result<TokenizerFacts, String>),
    /// A copy of the file on local disk.
    Spooled(SpooledFile),
}

/// A copy of an image file in a named temporary file, deleted when dropped.
#[derive(Debug)]
pub struct SpooledFile {
    file: tempfile::NamedTempFile,
    size: u64,
}

impl SpooledFile {
    /// Path of the copy on local disk.
    #[must_use]
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Size of the copy in bytes.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Opens the copy for reading from its start.
    pub fn open(&self) -> io::Result<std::fs::File> {
        self.file.reopen()
    }
}

/// Copies `content` to a named temporary file, at most `max` bytes.
fn spool(content: &mut dyn Read, max: u64) -> io::Result<SpooledFile> {
    let mut file = tempfile::NamedTempFile::new()?;
    let size = io::copy(&mut content.take(max), file.as_file_mut())?;
    file.as_file_mut().flush()?;
    Ok(SpooledFile { file, size })
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
            .or_else(|| apk::capture(entry))
            .or_else(|| rpm::capture(entry))
            .or_else(|| unowned::capture(entry))
            .or_else(|| python::capture(entry))
            .or_else(|| npm::capture(entry))
            .or_else(|| java::capture(entry))
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
            Capture::Weights(format) => model::inspect_weights(entry, format, content),
            Capture::Tokenizer => Ok(Some(Fact::Tokenizer(model::read_tokenizer(
                entry.size, content,
            )?))),
            Capture::Spool { max } => {
                if entry.size > max {
                    return Ok(Some(Fact::TooLarge {
                        size: entry.size,
                        limit: max,
                    }));
                }
                Ok(Some(Fact::Spooled(spool(content, max)?)))
            }
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
