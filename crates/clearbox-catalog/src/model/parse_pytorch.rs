//! Parser for PyTorch checkpoints (`torch.save`): the zip archive format of PyTorch 1.6 and
//! later (`<name>/data.pkl`, `<name>/data/<key>` storages, `<name>/version`,
//! `<name>/byteorder`), TorchScript archives (`torch.jit.save`, which add `code/` and
//! `constants.pkl`), and the legacy format (five pickles in a row, then raw storages). Format
//! reference: `torch/serialization.py` in PyTorch.
//!
//! The pickles are read by [`PickleScanner`], never unpickled. Storage sizes declared in the
//! pickle are checked against the `data/<key>` members of the archive. TorchScript `code/` is
//! TorchScript source that this parser does not read.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};

use crate::model::parse_pickle::{PickleScanner, storage_item_bytes};
use crate::model::stream::{ParseError, Source, invalid, shown};
use crate::model::zip_window::{Archive, Member};
use crate::model::{push_problem, set_pickle};
use crate::package::ModelFacts;

/// Pickles in a legacy checkpoint: magic number, protocol version, system information, the
/// object, and the list of storage keys.
const LEGACY_PICKLES: usize = 5;

/// Whether a zip archive is a PyTorch checkpoint: it has a `data.pkl` at its top or one level
/// down.
pub(crate) fn data_pickle(members: &[Member]) -> Option<&Member> {
    members
        .iter()
        .filter(|m| m.name == "data.pkl" || m.name.ends_with("/data.pkl"))
        .min_by_key(|m| m.name.matches('/').count())
        .filter(|m| m.name.matches('/').count() <= 1)
}

/// Parses a PyTorch zip archive whose members are `members`.
pub(crate) fn parse_torch_zip(
    archive: &mut Archive,
    members: &[Member],
    facts: &mut ModelFacts,
) -> Result<(), ParseError> {
    let Some(data) = data_pickle(members) else {
        return invalid("zip archive without a `data.pkl`: not a PyTorch checkpoint");
    };
    let prefix = data.name.trim_end_matches("data.pkl").to_owned();
    let member = |name: &str| members.iter().find(|m| m.name == format!("{prefix}{name}"));
    let torchscript = members
        .iter()
        .any(|m| m.name.starts_with(&format!("{prefix}code/")))
        || member("constants.pkl").is_some();
    let format = if torchscript {
        "torchscript"
    } else {
        "pytorch"
    };
    format.clone_into(&mut facts.format);

    // 1. Small text members.
    for (name, key) in [
        ("version", None),
        (".data/version", None),
        ("byteorder", Some("pytorch.byteorder")),
    ] {
        if member(name).is_none() {
            continue;
        }
        match archive.read(&format!("{prefix}{name}"), 64) {
            Ok(text) => {
                let text = String::from_utf8_lossy(&text).trim().to_owned();
                match key {
                    Some(key) => {
                        facts.metadata.insert(key.to_owned(), text);
                    }
                    None if facts.format_version.is_none() => facts.format_version = Some(text),
                    None => {}
                }
            }
            Err(problem) => push_problem(facts, problem),
        }
    }

    // 2. The pickles.
    let mut scanner = PickleScanner::new(torchscript);
    let mut pickles = vec![data.name.clone()];
    if let Some(constants) = member("constants.pkl") {
        pickles.push(constants.name.clone());
    }
    for name in &pickles {
        let read = archive.with_member(name, |content| {
            let mut src = Source::new(BufReader::new(content));
            scanner.scan(&mut src)
        });
        match read {
            Ok(Ok(())) => {}
            Ok(Err(ParseError::Format(problem))) => {
                push_problem(facts, format!("`{}`: {problem}", shown(name)));
            }
            // Members are read from the kept copy, not the layer, so an I/O error is a problem
            // of this file only.
            Ok(Err(ParseError::Io(e))) => {
                scanner.stopped(format!("`{}` could not be read: {e}", shown(name)));
            }
            Err(problem) => scanner.stopped(problem),
        }
    }
    facts.tensor_count = Some(scanner.tensors);
    facts.parameter_count = Some(scanner.elements);
    facts.dtypes.clone_from(&scanner.dtypes);

    // 3. Storages against their members.
    check_storages(&scanner, members, &prefix, facts);
    set_pickle(facts, &scanner);
    Ok(())
}

fn check_storages(
    scanner: &PickleScanner,
    members: &[Member],
    prefix: &str,
    facts: &mut ModelFacts,
) {
    let storage_dir = format!("{prefix}data/");
    let sizes: BTreeMap<&str, u64> = members
        .iter()
        .filter_map(|m| Some((m.name.strip_prefix(&storage_dir)?, m.size)))
        .collect();
    let total: u64 = sizes.values().sum();
    facts
        .metadata
        .insert("pytorch.storages".to_owned(), sizes.len().to_string());
    facts
        .metadata
        .insert("pytorch.storage_bytes".to_owned(), total.to_string());
    for (key, storage) in &scanner.storages {
        let Some(&size) = sizes.get(key.as_str()) else {
            push_problem(
                facts,
                format!("storage `{}` is missing from the archive", shown(key)),
            );
            continue;
        };
        let expected = storage_item_bytes(&storage.dtype)
            .and_then(|bytes| bytes.checked_mul(storage.elements));
        if let Some(expected) = expected
            && expected != size
        {
            push_problem(
                facts,
                format!(
                    "storage `{}` holds {size} bytes, its {} {} elements need {expected}",
                    shown(key),
                    storage.elements,
                    storage.dtype
                ),
            );
        }
    }
}

/// Parses a pickle file: a legacy PyTorch checkpoint when it starts with PyTorch's magic
/// number, else a single pickle (`.pkl`, or a `.pt`/`.bin` written with `pickle.dump`).
pub(crate) fn parse_pickle_file<R: BufRead>(
    src: &mut Source<R>,
    facts: &mut ModelFacts,
) -> Result<(), ParseError> {
    let mut scanner = PickleScanner::default();
    let result = scan_pickles(src, &mut scanner, facts);
    facts.tensor_count = Some(scanner.tensors);
    facts.parameter_count = Some(scanner.elements);
    facts.dtypes.clone_from(&scanner.dtypes);
    set_pickle(facts, &scanner);
    result
}

fn scan_pickles<R: BufRead>(
    src: &mut Source<R>,
    scanner: &mut PickleScanner,
    facts: &mut ModelFacts,
) -> Result<(), ParseError> {
    scanner.scan(src)?;
    if !scanner.legacy_torch_magic {
        return Ok(());
    }
    "pytorch".clone_into(&mut facts.format);
    facts.format_version = Some("legacy".to_owned());
    for _ in 1..LEGACY_PICKLES {
        scanner.scan(src)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_pickle::tests::os_system_pickle;
    use crate::package::PickleVerdict;

    #[test]
    fn plain_pickle_with_os_system() {
        let mut facts = ModelFacts::default();
        let bytes = os_system_pickle();
        parse_pickle_file(&mut Source::new(&bytes[..]), &mut facts).unwrap();
        let pickle = facts.pickle.unwrap();
        assert_eq!(pickle.verdict, PickleVerdict::Unsafe);
        assert_eq!(pickle.unsafe_imports, ["os.system"]);
        assert_eq!(facts.tensor_count, Some(0));
    }

    #[test]
    fn data_pickle_location() {
        let members = |names: &[&str]| -> Vec<Member> {
            names
                .iter()
                .map(|n| Member {
                    name: (*n).to_owned(),
                    size: 0,
                })
                .collect()
        };
        let found = members(&["archive/data/0", "archive/data.pkl"]);
        assert_eq!(data_pickle(&found).unwrap().name, "archive/data.pkl");
        assert!(data_pickle(&members(&["a/b/data.pkl"])).is_none());
        assert!(data_pickle(&members(&["x.npy"])).is_none());
    }
}
