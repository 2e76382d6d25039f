//! The protobuf wire format, read field by field from a stream without a schema compiler:
//! varints, fixed-width values and length-delimited fields. Specification:
//! <https://protobuf.dev/programming-guides/encoding/>.
//!
//! Groups (wire types 3 and 4, deprecated since proto2) are rejected.

use std::io::BufRead;

use crate::model::stream::{ParseError, Source, invalid};

/// How a field's value is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wire {
    Varint,
    Fixed64,
    Len,
    Fixed32,
}

/// Reads a base-128 varint.
pub(crate) fn varint<R: BufRead>(src: &mut Source<R>) -> Result<u64, ParseError> {
    let mut value = 0u64;
    for shift in (0..70).step_by(7) {
        let byte = src.u8()?;
        value |= u64::from(byte & 0x7f).checked_shl(shift).unwrap_or(0);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    invalid("varint longer than 10 bytes")
}

/// Reads the next field's number and wire type; `None` at the end of the message.
pub(crate) fn field<R: BufRead>(src: &mut Source<R>) -> Result<Option<(u64, Wire)>, ParseError> {
    if src.at_end()? {
        return Ok(None);
    }
    let key = varint(src)?;
    let number = key >> 3;
    let wire = match key & 7 {
        0 => Wire::Varint,
        1 => Wire::Fixed64,
        2 => Wire::Len,
        5 => Wire::Fixed32,
        other => {
            return invalid(format!(
                "field {number} has the unsupported wire type {other}"
            ));
        }
    };
    if number == 0 {
        return invalid("field number 0");
    }
    Ok(Some((number, wire)))
}

/// Skips a field's value.
pub(crate) fn skip<R: BufRead>(src: &mut Source<R>, wire: Wire) -> Result<(), ParseError> {
    match wire {
        Wire::Varint => varint(src).map(drop),
        Wire::Fixed64 => src.skip(8),
        Wire::Fixed32 => src.skip(4),
        Wire::Len => {
            let len = varint(src)?;
            src.skip(len)
        }
    }
}

/// Reads a length-delimited field as text, keeping its first `keep` bytes.
pub(crate) fn text<R: BufRead>(src: &mut Source<R>, keep: usize) -> Result<String, ParseError> {
    let len = varint(src)?;
    let bytes = src.prefix(len, keep)?;
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if (bytes.len() as u64) < len {
        text.push('…');
    }
    Ok(text)
}

/// Reads a field expected to be a varint, or skips it and returns `None` for another encoding.
pub(crate) fn varint_field<R: BufRead>(
    src: &mut Source<R>,
    wire: Wire,
) -> Result<Option<u64>, ParseError> {
    if wire == Wire::Varint {
        return varint(src).map(Some);
    }
    skip(src, wire)?;
    Ok(None)
}

/// Calls `each` for every value of a repeated varint field, packed or not.
pub(crate) fn varints<R: BufRead>(
    src: &mut Source<R>,
    wire: Wire,
    mut each: impl FnMut(u64),
) -> Result<(), ParseError> {
    match wire {
        Wire::Varint => {
            each(varint(src)?);
            Ok(())
        }
        Wire::Len => {
            let len = varint(src)?;
            src.nested(len, |packed| {
                while !packed.at_end()? {
                    each(varint(packed)?);
                }
                Ok(())
            })
        }
        other => skip(src, other),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Encodes protobuf messages for tests.
    #[derive(Default, Clone)]
    pub(crate) struct Message(pub(crate) Vec<u8>);

    pub(crate) fn encode_varint(out: &mut Vec<u8>, mut value: u64) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    impl Message {
        pub(crate) fn varint(mut self, number: u64, value: u64) -> Self {
            encode_varint(&mut self.0, number << 3);
            encode_varint(&mut self.0, value);
            self
        }

        pub(crate) fn bytes(mut self, number: u64, value: &[u8]) -> Self {
            encode_varint(&mut self.0, (number << 3) | 2);
            encode_varint(&mut self.0, value.len() as u64);
            self.0.extend_from_slice(value);
            self
        }

        pub(crate) fn text(self, number: u64, value: &str) -> Self {
            self.bytes(number, value.as_bytes())
        }

        pub(crate) fn message(self, number: u64, value: &Message) -> Self {
            self.bytes(number, &value.0)
        }
    }

    #[test]
    fn varints_and_fields() {
        let message = Message::default().varint(1, 300).text(2, "hi");
        let mut src = Source::new(&message.0[..]);
        assert_eq!(field(&mut src).unwrap(), Some((1, Wire::Varint)));
        assert_eq!(varint(&mut src).unwrap(), 300);
        assert_eq!(field(&mut src).unwrap(), Some((2, Wire::Len)));
        assert_eq!(text(&mut src, 10).unwrap(), "hi");
        assert_eq!(field(&mut src).unwrap(), None);
    }

    #[test]
    fn packed_and_unpacked_repeated_varints() {
        let mut packed = Vec::new();
        for v in [1u64, 3, 224] {
            encode_varint(&mut packed, v);
        }
        let message = Message::default().bytes(1, &packed).varint(1, 7);
        let mut src = Source::new(&message.0[..]);
        let mut values = Vec::new();
        while let Some((_, wire)) = field(&mut src).unwrap() {
            varints(&mut src, wire, |v| values.push(v)).unwrap();
        }
        assert_eq!(values, [1, 3, 224, 7]);
    }

    #[test]
    fn malformed_input() {
        let mut src = Source::new(&[0xff_u8; 11][..]);
        assert!(matches!(varint(&mut src), Err(ParseError::Format(_))));
        let mut group = Source::new(&[0x0b_u8][..]);
        assert!(matches!(field(&mut group), Err(ParseError::Format(_))));
        // A length-delimited field claiming more bytes than there are.
        let mut cut = Source::new(&[0x12_u8, 0x7f, b'a'][..]);
        field(&mut cut).unwrap();
        assert!(matches!(text(&mut cut, 10), Err(ParseError::Format(_))));
    }
}
