//! A minimal reader of DER tag-length-value elements (ITU-T X.690), for the places where the
//! exact bytes matter more than a decoded value: the `TBSCertificate` a signature covers, the
//! same structure without its SCT extension (RFC 6962), and the signed attributes of a CMS
//! `SignerInfo` (RFC 5652), which are signed with a different outer tag than they are stored
//! with.
//!
//! Only single-byte tags and definite lengths are accepted; every structure read here uses
//! nothing else.

/// One element: its tag byte, its value, and the whole encoding.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    /// The identifier octet, such as `0x30` for SEQUENCE or `0xa0` for `[0]` constructed.
    pub(crate) tag: u8,
    /// The contents octets.
    pub(crate) value: &'a [u8],
    /// The identifier, length and contents octets together.
    pub(crate) raw: &'a [u8],
}

/// SEQUENCE, constructed.
pub(crate) const SEQUENCE: u8 = 0x30;
/// SET, constructed.
pub(crate) const SET: u8 = 0x31;
/// INTEGER.
pub(crate) const INTEGER: u8 = 0x02;
/// OCTET STRING, primitive.
pub(crate) const OCTET_STRING: u8 = 0x04;
/// OBJECT IDENTIFIER.
pub(crate) const OBJECT_IDENTIFIER: u8 = 0x06;
/// `GeneralizedTime`.
pub(crate) const GENERALIZED_TIME: u8 = 0x18;

/// Context-specific constructed tag `[number]`.
pub(crate) const fn context(number: u8) -> u8 {
    0xa0 | number
}

/// Context-specific primitive tag `[number]`.
pub(crate) const fn context_primitive(number: u8) -> u8 {
    0x80 | number
}

/// Reads the first element of `input` and returns it with the bytes after it.
pub(crate) fn read(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), String> {
    let (&tag, after_tag) = input.split_first().ok_or("truncated DER: missing tag")?;
    if tag & 0x1f == 0x1f {
        return Err(format!("unsupported multi-byte DER tag {tag:#04x}"));
    }
    let (&first, after_length_byte) = after_tag
        .split_first()
        .ok_or("truncated DER: missing length")?;
    let (length, after_length) = if first < 0x80 {
        (usize::from(first), after_length_byte)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 {
            return Err("indefinite DER length".to_owned());
        }
        if count > 4 || after_length_byte.len() < count {
            return Err("truncated or oversized DER length".to_owned());
        }
        let length = after_length_byte[..count]
            .iter()
            .fold(0usize, |length, byte| (length << 8) | usize::from(*byte));
        (length, &after_length_byte[count..])
    };
    if after_length.len() < length {
        return Err(format!(
            "truncated DER: element of {length} bytes, {} left",
            after_length.len()
        ));
    }
    let header_length = input.len() - after_length.len();
    let element = Tlv {
        tag,
        value: &after_length[..length],
        raw: &input[..header_length + length],
    };
    Ok((element, &after_length[length..]))
}

/// Reads `input` as exactly one element with tag `tag`.
pub(crate) fn read_exact(input: &[u8], tag: u8) -> Result<Tlv<'_>, String> {
    let (element, rest) = read(input)?;
    if element.tag != tag {
        return Err(format!(
            "expected DER tag {tag:#04x}, found {:#04x}",
            element.tag
        ));
    }
    if !rest.is_empty() {
        return Err(format!("{} trailing bytes after a DER element", rest.len()));
    }
    Ok(element)
}

/// Reads every element of `input`, such as the members of a SEQUENCE's value.
pub(crate) fn read_all(mut input: &[u8]) -> Result<Vec<Tlv<'_>>, String> {
    let mut elements = Vec::new();
    while !input.is_empty() {
        let (element, rest) = read(input)?;
        elements.push(element);
        input = rest;
    }
    Ok(elements)
}

/// Encodes `value` under `tag` with a definite, minimal length.
pub(crate) fn encode(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    out.push(tag);
    let length = value.len();
    if length < 0x80 {
        // Checked by the comparison.
        out.push(length as u8);
    } else {
        let bytes = length.to_be_bytes();
        let skip = bytes.iter().take_while(|byte| **byte == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(value);
    out
}

/// The DER encoding of an OBJECT IDENTIFIER, for comparing against raw elements.
pub(crate) fn oid(oid: &x509_cert::der::asn1::ObjectIdentifier) -> Vec<u8> {
    encode(OBJECT_IDENTIFIER, oid.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_lengths_read() {
        let (short, rest) = read(&[0x04, 0x02, 0xaa, 0xbb, 0xff]).unwrap();
        assert_eq!(short.value, [0xaa, 0xbb]);
        assert_eq!(short.raw, [0x04, 0x02, 0xaa, 0xbb]);
        assert_eq!(rest, [0xff]);

        let long = encode(OCTET_STRING, &[7; 300]);
        assert_eq!(&long[..4], [0x04, 0x82, 0x01, 0x2c]);
        let element = read_exact(&long, OCTET_STRING).unwrap();
        assert_eq!(element.value.len(), 300);
    }

    #[test]
    fn truncated_and_indefinite_rejected() {
        assert!(read(&[0x30, 0x05, 0x01]).is_err());
        assert!(read(&[0x30, 0x80, 0x00, 0x00]).is_err());
        assert!(read(&[0x30]).is_err());
        assert!(read(&[0x1f, 0x01, 0x00]).is_err());
    }

    #[test]
    fn read_exact_checks_tag_and_trailing_bytes() {
        assert!(read_exact(&[0x02, 0x01, 0x05], SEQUENCE).is_err());
        assert!(read_exact(&[0x02, 0x01, 0x05, 0x00], INTEGER).is_err());
    }

    #[test]
    fn read_all_splits_members() {
        let members = read_all(&[0x02, 0x01, 0x01, 0x05, 0x00]).unwrap();
        assert_eq!(members.len(), 2);
        assert_eq!(members[1].tag, 0x05);
    }
}
