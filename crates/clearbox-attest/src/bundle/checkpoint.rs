//! Log checkpoints: a tree size and root hash in a signed note, the format of C2SP
//! `signed-note` and `tlog-checkpoint` (<https://github.com/C2SP/C2SP>), which Rekor v1 and v2
//! both use.
//!
//! ```text
//! rekor.sigstore.dev - 2605736670972794746     origin
//! 75408393                                     tree size
//! Fnnj13Uu1jdksPc4HZLapKX329dVlD5+MGNsiqBq1XM= root hash, base64
//! [extension lines]
//!
//! — rekor.sigstore.dev wNI9ajBFAiBTy…          signature lines: name, base64(key hint ‖ signature)
//! ```
//!
//! A checkpoint is accepted when one signature line names the log (its base URL without the
//! scheme), carries the first four bytes of the log ID as key hint, and verifies over the note
//! text with the log's key. Other lines, such as witness cosignatures, are ignored: their keys
//! are not in the trusted root, so they can neither confirm nor refute the checkpoint.

use super::trusted_root::LogInstance;
use crate::dsse::decode_base64;

/// The signed statement of a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Checkpoint {
    pub(crate) origin: String,
    pub(crate) tree_size: u64,
    pub(crate) root_hash: Vec<u8>,
}

/// A checkpoint whose log signature verified.
#[derive(Debug, Clone)]
pub(crate) struct VerifiedCheckpoint {
    pub(crate) checkpoint: Checkpoint,
    /// Signature lines that were not the log's and were skipped.
    pub(crate) other_signatures: usize,
}

const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Parses the note `envelope` and verifies its signature by `log`.
pub(crate) fn verify(envelope: &str, log: &LogInstance) -> Result<VerifiedCheckpoint, String> {
    // Split the note into the signed text (ending in a newline) and the signature lines.
    let Some(split) = envelope.find("\n\n") else {
        return Err("the checkpoint has no blank line before its signatures".to_owned());
    };
    let text = &envelope[..=split];
    let signatures = &envelope[split + 2..];
    let checkpoint = parse_body(text)?;

    // The origin must name this log: Rekor v1 appends ` - <tree ID>` to the name.
    let name = log.checkpoint_name();
    let origin_names_log = checkpoint.origin == name
        || checkpoint
            .origin
            .strip_prefix(name)
            .is_some_and(|rest| rest.starts_with(" - "));
    if !origin_names_log {
        return Err(format!(
            "the checkpoint's origin `{}` is not the log `{name}`",
            checkpoint.origin
        ));
    }

    // One signature by the log must verify.
    let key = log
        .key()
        .map_err(|error| format!("the log key of `{name}` is unusable: {error}"))?;
    let hash = log.hash(&key);
    let key_hint = log
        .log_id
        .get(..4)
        .ok_or("the log ID is shorter than 4 bytes")?;
    let mut candidates = 0;
    let mut other_signatures = 0;
    for line in signatures.split_terminator('\n') {
        let Some(rest) = line.strip_prefix(SIGNATURE_PREFIX) else {
            return Err(format!("`{line}` is not a signature line"));
        };
        let Some((signer, encoded)) = rest.rsplit_once(' ') else {
            return Err(format!("`{line}` is not a signature line"));
        };
        if signer != name {
            other_signatures += 1;
            continue;
        }
        let decoded = decode_base64(encoded).map_err(|reason| {
            format!("the signature by `{signer}` is not valid base64: {reason}")
        })?;
        if decoded.get(..4) != Some(key_hint) {
            other_signatures += 1;
            continue;
        }
        candidates += 1;
        if key.verify(text.as_bytes(), &decoded[4..], hash).is_ok() {
            return Ok(VerifiedCheckpoint {
                checkpoint,
                other_signatures,
            });
        }
    }
    Err(if candidates == 0 {
        format!(
            "no signature line by `{name}` with key hint {}",
            hex::encode(key_hint)
        )
    } else {
        format!("the signature by `{name}` does not verify with the log key")
    })
}

/// Parses the origin, tree size and root hash lines.
fn parse_body(text: &str) -> Result<Checkpoint, String> {
    let mut lines = text.split_terminator('\n');
    let origin = lines.next().filter(|line| !line.is_empty());
    let size = lines.next();
    let root = lines.next();
    let (Some(origin), Some(size), Some(root)) = (origin, size, root) else {
        return Err("the checkpoint needs an origin, a tree size and a root hash line".to_owned());
    };
    let tree_size = size
        .parse::<u64>()
        .ok()
        .filter(|_| !size.starts_with('+') && (size == "0" || !size.starts_with('0')))
        .ok_or_else(|| format!("the checkpoint tree size `{size}` is not a decimal number"))?;
    let root_hash = decode_base64(root)
        .map_err(|reason| format!("the checkpoint root hash is not valid base64: {reason}"))?;
    if let Some(empty) = lines.position(str::is_empty) {
        return Err(format!(
            "extension line {} of the checkpoint is empty",
            empty + 1
        ));
    }
    Ok(Checkpoint {
        origin: origin.to_owned(),
        tree_size,
        root_hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_with_extension_lines() {
        let checkpoint = parse_body(
            "localhost:8000 - 1\n1\npc42iecujVMfPva3JcoWyQU9W6llYb+A2LsgE2O5pg0=\nTimestamp: 1\n",
        )
        .unwrap();
        assert_eq!(checkpoint.origin, "localhost:8000 - 1");
        assert_eq!(checkpoint.tree_size, 1);
        assert_eq!(checkpoint.root_hash.len(), 32);
    }

    #[test]
    fn body_missing_lines_rejected() {
        // Origin removed: the size line is read as the origin and the hash as the size.
        assert!(parse_body("736\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n").is_err());
        // Size removed.
        assert!(parse_body("log\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n").is_err());
        // Root hash removed.
        assert!(parse_body("log\n736\n").is_err());
    }

    #[test]
    fn size_with_leading_zero_rejected() {
        assert!(parse_body("log\n0736\nAAAA\n").is_err());
        assert!(parse_body("log\n+736\nAAAA\n").is_err());
    }
}
