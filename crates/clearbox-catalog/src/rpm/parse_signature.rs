//! Parser for the PGP signature packets that an rpm header stores (`DSAHEADER`,
//! `RSAHEADER`, `SIGGPG`, `SIGPGP`), read as far as `rpm -qi` shows them: the public-key and
//! hash algorithms, the creation time and the issuer's key ID, in rpm's `pgpsig` format:
//! `RSA/SHA256, Mon Apr  3 18:10:39 2023, Key ID 199e2f91fd431d51`.
//!
//! The signature is not verified and the key is not looked up, so the text names the key that
//! the package claims signed it, nothing more. Times are in UTC, where rpm uses the local time zone.
//! Packet format: RFC 4880 sections 4.2 (packet headers) and 5.2 (version 3 and 4 signature
//! packets). Version 5 and 6 signatures are reported as unsupported.

/// Packet tag of a signature (RFC 4880 section 4.3).
const TAG_SIGNATURE: u8 = 2;
/// Signature subpacket types (RFC 4880 section 5.2.3.1; the issuer fingerprint is from RFC 9580).
const SUBPACKET_CREATION_TIME: u8 = 2;
const SUBPACKET_ISSUER: u8 = 16;
const SUBPACKET_ISSUER_FINGERPRINT: u8 = 33;

/// Describes a signature packet as `PUBKEY/HASH, DATE, Key ID KEYID`.
pub(crate) fn describe_signature(packet: &[u8]) -> Result<String, String> {
    let body = packet_body(packet)?;
    let facts = match body.first() {
        Some(3) => version3(body)?,
        Some(4) => version4(body)?,
        Some(version) => {
            return Err(format!(
                "signature packet version {version} is not supported"
            ));
        }
        None => return Err("signature packet has no body".into()),
    };
    let created = facts.created.ok_or("signature has no creation time")?;
    let key_id = facts.key_id.ok_or("signature names no issuer key")?;
    Ok(format!(
        "{}/{}, {}, Key ID {}",
        public_key_name(facts.public_key),
        hash_name(facts.hash),
        format_time(created),
        hex::encode(key_id)
    ))
}

/// The parts of a signature that `describe_signature` shows.
struct SignatureFacts {
    public_key: u8,
    hash: u8,
    created: Option<u32>,
    key_id: Option<[u8; 8]>,
}

/// Checks the packet header (old or new format) and returns the packet's body.
fn packet_body(packet: &[u8]) -> Result<&[u8], String> {
    let (&first, rest) = packet.split_first().ok_or("signature is empty")?;
    if first & 0x80 == 0 {
        return Err("signature is not an OpenPGP packet".into());
    }
    let (tag, length, rest) = if first & 0x40 != 0 {
        let (length, rest) = match rest {
            [a @ 0..=191, rest @ ..] => (usize::from(*a), rest),
            [a @ 192..=223, b, rest @ ..] => {
                (((usize::from(*a) - 192) << 8) + usize::from(*b) + 192, rest)
            }
            [255, a, b, c, d, rest @ ..] => (u32::from_be_bytes([*a, *b, *c, *d]) as usize, rest),
            [224..=254, ..] => return Err("signature packet has a partial body length".into()),
            _ => return Err("signature packet header is truncated".into()),
        };
        (first & 0x3f, length, rest)
    } else {
        let (length, rest) = match (first & 0x03, rest) {
            (0, [a, rest @ ..]) => (usize::from(*a), rest),
            (1, [a, b, rest @ ..]) => (usize::from(u16::from_be_bytes([*a, *b])), rest),
            (2, [a, b, c, d, rest @ ..]) => (u32::from_be_bytes([*a, *b, *c, *d]) as usize, rest),
            // Indeterminate length: the packet runs to the end of the data.
            (3, rest) => (rest.len(), rest),
            _ => return Err("signature packet header is truncated".into()),
        };
        ((first >> 2) & 0x0f, length, rest)
    };
    if tag != TAG_SIGNATURE {
        return Err(format!("OpenPGP packet of tag {tag} is not a signature"));
    }
    rest.get(..length).ok_or_else(|| {
        format!(
            "signature packet is truncated: {length} bytes declared, {} present",
            rest.len()
        )
    })
}

/// Version 3: fixed fields after the version and the hashed length 5.
fn version3(body: &[u8]) -> Result<SignatureFacts, String> {
    let [3, 5, _kind, t0, t1, t2, t3, rest @ ..] = body else {
        return Err("version 3 signature is truncated or malformed".into());
    };
    let [k0, k1, k2, k3, k4, k5, k6, k7, public_key, hash, ..] = *rest else {
        return Err("version 3 signature is truncated".into());
    };
    Ok(SignatureFacts {
        public_key,
        hash,
        created: Some(u32::from_be_bytes([*t0, *t1, *t2, *t3])),
        key_id: Some([k0, k1, k2, k3, k4, k5, k6, k7]),
    })
}

/// Version 4: algorithms, then the hashed and unhashed subpacket areas.
fn version4(body: &[u8]) -> Result<SignatureFacts, String> {
    let [4, _kind, public_key, hash, rest @ ..] = body else {
        return Err("version 4 signature is truncated".into());
    };
    let mut facts = SignatureFacts {
        public_key: *public_key,
        hash: *hash,
        created: None,
        key_id: None,
    };
    let mut rest = rest;
    for area in ["hashed", "unhashed"] {
        let [h, l, tail @ ..] = rest else {
            return Err(format!(
                "{area} subpacket area of the signature is truncated"
            ));
        };
        let length = usize::from(u16::from_be_bytes([*h, *l]));
        let subpackets = tail
            .get(..length)
            .ok_or_else(|| format!("{area} subpacket area of the signature is truncated"))?;
        read_subpackets(subpackets, &mut facts)?;
        rest = &tail[length..];
    }
    Ok(facts)
}

/// Takes the creation time and the issuer from a subpacket area; the first of each wins.
fn read_subpackets(mut area: &[u8], facts: &mut SignatureFacts) -> Result<(), String> {
    while !area.is_empty() {
        let (length, rest) = match area {
            [a @ 0..=191, rest @ ..] => (usize::from(*a), rest),
            [a @ 192..=254, b, rest @ ..] => {
                (((usize::from(*a) - 192) << 8) + usize::from(*b) + 192, rest)
            }
            [255, a, b, c, d, rest @ ..] => (u32::from_be_bytes([*a, *b, *c, *d]) as usize, rest),
            _ => return Err("signature subpacket length is truncated".into()),
        };
        let Some(([kind, data @ ..], tail)) = rest.split_at_checked(length).filter(|_| length > 0)
        else {
            return Err("signature subpacket is truncated".into());
        };
        // The high bit marks a subpacket as critical; it does not change the type.
        match (kind & 0x7f, data) {
            (SUBPACKET_CREATION_TIME, [a, b, c, d]) if facts.created.is_none() => {
                facts.created = Some(u32::from_be_bytes([*a, *b, *c, *d]));
            }
            (SUBPACKET_ISSUER, id) if facts.key_id.is_none() => {
                facts.key_id = id.try_into().ok();
            }
            // A version 4 key's ID is the last 8 bytes of its 20-byte fingerprint.
            (SUBPACKET_ISSUER_FINGERPRINT, [4, fingerprint @ ..])
                if facts.key_id.is_none() && fingerprint.len() == 20 =>
            {
                facts.key_id = fingerprint[12..].try_into().ok();
            }
            _ => {}
        }
        area = tail;
    }
    Ok(())
}

/// Public-key algorithm names as rpm prints them.
fn public_key_name(id: u8) -> String {
    match id {
        1 => "RSA".into(),
        17 => "DSA".into(),
        19 => "ECDSA".into(),
        22 => "EdDSA".into(),
        other => format!("public-key algorithm {other}"),
    }
}

/// Hash algorithm names as rpm prints them (RFC 4880 section 9.4).
pub(crate) fn hash_name(id: u8) -> String {
    match id {
        1 => "MD5".into(),
        2 => "SHA1".into(),
        3 => "RIPEMD160".into(),
        8 => "SHA256".into(),
        9 => "SHA384".into(),
        10 => "SHA512".into(),
        11 => "SHA224".into(),
        other => format!("hash algorithm {other}"),
    }
}

/// Formats seconds since the Unix epoch as C's `%c` in the C locale, in UTC:
/// `Mon Apr  3 18:10:39 2023`.
fn format_time(seconds: u32) -> String {
    chrono::DateTime::from_timestamp(i64::from(seconds), 0)
        .expect("every u32 number of seconds is a valid time")
        .format("%a %b %e %H:%M:%S %Y")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version 4 signature packet in the old format with the given subpacket areas.
    fn v4_packet(hashed: &[u8], unhashed: &[u8]) -> Vec<u8> {
        let mut body = vec![4, 0, 1, 8];
        body.extend_from_slice(&(hashed.len() as u16).to_be_bytes());
        body.extend_from_slice(hashed);
        body.extend_from_slice(&(unhashed.len() as u16).to_be_bytes());
        body.extend_from_slice(unhashed);
        // The left 16 bits of the hash and one MPI, which are not read.
        body.extend_from_slice(&[0xab, 0xcd, 0, 8, 0xff]);
        let mut packet = vec![0x89];
        packet.extend_from_slice(&(body.len() as u16).to_be_bytes());
        packet.extend_from_slice(&body);
        packet
    }

    #[test]
    fn version4_with_issuer_in_unhashed_area() {
        let hashed = [5, SUBPACKET_CREATION_TIME, 0x64, 0x2b, 0x16, 0x9f];
        let unhashed = [
            9,
            SUBPACKET_ISSUER,
            0x19,
            0x9e,
            0x2f,
            0x91,
            0xfd,
            0x43,
            0x1d,
            0x51,
        ];
        assert_eq!(
            describe_signature(&v4_packet(&hashed, &unhashed)).unwrap(),
            "RSA/SHA256, Mon Apr  3 18:10:39 2023, Key ID 199e2f91fd431d51"
        );
    }

    #[test]
    fn version4_issuer_from_fingerprint() {
        let mut hashed = vec![5, SUBPACKET_CREATION_TIME | 0x80, 0, 0, 0, 0];
        hashed.extend_from_slice(&[22, SUBPACKET_ISSUER_FINGERPRINT, 4]);
        hashed.extend((1..=20).collect::<Vec<u8>>());
        assert_eq!(
            describe_signature(&v4_packet(&hashed, &[])).unwrap(),
            "RSA/SHA256, Thu Jan  1 00:00:00 1970, Key ID 0d0e0f1011121314"
        );
    }

    #[test]
    fn version3_in_new_format() {
        let mut body = vec![3, 5, 0, 0x38, 0x6d, 0x43, 0x80];
        body.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8, 17, 2, 0, 0]);
        let mut packet = vec![0xc2, body.len() as u8];
        packet.extend_from_slice(&body);
        assert_eq!(
            describe_signature(&packet).unwrap(),
            "DSA/SHA1, Sat Jan  1 00:00:00 2000, Key ID 0102030405060708"
        );
    }

    #[test]
    fn damaged_packets_are_errors() {
        let good = v4_packet(&[5, SUBPACKET_CREATION_TIME, 0, 0, 0, 1], &[]);
        let cases: [(&[u8], &str); 6] = [
            (&[], "empty"),
            (&[0x01, 0x02], "not an OpenPGP packet"),
            (&[0x99, 0, 1, 4], "not a signature"),
            (&good[..good.len() - 3], "truncated"),
            (&[0x88, 2, 5, 0], "version 5"),
            (&good, "no issuer key"),
        ];
        for (packet, expected) in cases {
            let error = describe_signature(packet).unwrap_err();
            assert!(error.contains(expected), "{packet:?}: {error}");
        }
    }

    #[test]
    fn dates() {
        assert_eq!(format_time(0), "Thu Jan  1 00:00:00 1970");
        assert_eq!(format_time(951_782_400), "Tue Feb 29 00:00:00 2000");
        assert_eq!(format_time(u32::MAX), "Sun Feb  7 06:28:15 2106");
    }
}
