//! PEM blocks (RFC 7468) in key files that may hold more than one block, such as OpenSSL's
//! `EC PARAMETERS` block before an `EC PRIVATE KEY`.
//!
//! Decoding is as lax as Go's `encoding/pem`, which cosign uses: text around blocks is ignored
//! and base64 lines may have any length. RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`, OpenSSL's
//! legacy key encryption) are rejected with a clear message instead of being misread. Encoding
//! writes 64-column lines with LF endings, as cosign and OpenSSL do.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

/// One decoded PEM block.
pub(crate) struct PemBlock {
    /// The type label, such as `PUBLIC KEY`.
    pub(crate) label: String,
    /// The decoded body. Zeroized on drop because private keys pass through here.
    pub(crate) der: Zeroizing<Vec<u8>>,
}

const BEGIN: &str = "-----BEGIN ";
const DASHES: &str = "-----";

/// Decodes every PEM block in `text`.
pub(crate) fn decode_all(text: &str) -> Result<Vec<PemBlock>, String> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let after_begin = &rest[start + BEGIN.len()..];
        let label_end = after_begin
            .find(DASHES)
            .ok_or("a `-----BEGIN` line is not closed with `-----`")?;
        let label = &after_begin[..label_end];
        let body_and_rest = &after_begin[label_end + DASHES.len()..];
        let end_marker = format!("-----END {label}-----");
        let body_end = body_and_rest
            .find(&end_marker)
            .ok_or_else(|| format!("the `{label}` block has no `{end_marker}` line"))?;
        let der = decode_body(label, &body_and_rest[..body_end])?;
        blocks.push(PemBlock {
            label: label.to_owned(),
            der,
        });
        rest = &body_and_rest[body_end + end_marker.len()..];
    }
    Ok(blocks)
}

fn decode_body(label: &str, body: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    if body.contains(':') {
        return Err(format!(
            "the `{label}` block has RFC 1421 headers such as `Proc-Type`; keys encrypted with \
             OpenSSL's legacy PEM encryption are not supported"
        ));
    }
    let base64: Zeroizing<String> =
        Zeroizing::new(body.chars().filter(|c| !c.is_ascii_whitespace()).collect());
    STANDARD
        .decode(base64.as_bytes())
        .map(Zeroizing::new)
        .map_err(|error| format!("the `{label}` block is not valid base64: {error}"))
}

/// Encodes `der` as one PEM block.
pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    let base64 = STANDARD.encode(der);
    let mut text = format!("{BEGIN}{label}{DASHES}\n");
    // Base64 output is ASCII, so every 64-byte chunk is valid UTF-8.
    for line in base64.as_bytes().chunks(64) {
        text.push_str(std::str::from_utf8(line).unwrap_or_default());
        text.push('\n');
    }
    text.push_str("-----END ");
    text.push_str(label);
    text.push_str(DASHES);
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_blocks_with_text_between() {
        let text = format!(
            "leading text\n{}comment\n{}",
            encode("EC PARAMETERS", &[6, 8, 42]),
            encode("EC PRIVATE KEY", &[1, 2, 3])
        );
        let blocks = decode_all(&text).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].label, "EC PARAMETERS");
        assert_eq!(blocks[1].label, "EC PRIVATE KEY");
        assert_eq!(*blocks[1].der, [1, 2, 3]);
    }

    #[test]
    fn long_lines_and_crlf_accepted() {
        let text = format!(
            "-----BEGIN PUBLIC KEY-----\r\n{}\r\n-----END PUBLIC KEY-----\r\n",
            STANDARD.encode([7u8; 100])
        );
        assert_eq!(*decode_all(&text).unwrap()[0].der, [7u8; 100]);
    }

    #[test]
    fn no_block_is_empty() {
        assert!(decode_all("no pem here").unwrap().is_empty());
    }

    #[test]
    fn unterminated_block_rejected() {
        let error = decode_all("-----BEGIN PUBLIC KEY-----\nAAAA\n")
            .err()
            .unwrap();
        assert_eq!(
            error,
            "the `PUBLIC KEY` block has no `-----END PUBLIC KEY-----` line"
        );
    }

    #[test]
    fn unclosed_begin_line_rejected() {
        let error = decode_all("-----BEGIN PUBLIC KEY\n").err().unwrap();
        assert_eq!(error, "a `-----BEGIN` line is not closed with `-----`");
    }

    #[test]
    fn bad_base64_rejected() {
        let error = decode_all("-----BEGIN X-----\nA*AA\n-----END X-----\n")
            .err()
            .unwrap();
        assert!(
            error.starts_with("the `X` block is not valid base64"),
            "{error}"
        );
    }

    #[test]
    fn legacy_encrypted_header_rejected() {
        let text = "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
                    DEK-Info: AES-128-CBC,00\n\nAAAA\n-----END EC PRIVATE KEY-----\n";
        let error = decode_all(text).err().unwrap();
        assert!(error.contains("OpenSSL's legacy PEM encryption"), "{error}");
    }

    #[test]
    fn encode_wraps_at_64_columns() {
        let text = encode("PUBLIC KEY", &[0u8; 91]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "-----BEGIN PUBLIC KEY-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines[2].len(), 124 - 64);
        assert_eq!(lines[3], "-----END PUBLIC KEY-----");
        assert!(text.ends_with("-----\n"));
    }
}
