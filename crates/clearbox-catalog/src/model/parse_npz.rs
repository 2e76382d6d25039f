//! Parser for NumPy `.npz` archives: a zip of `.npy` arrays, each read only as far as its
//! header (name, dtype, shape). Specification: NumPy's `numpy.lib.format` documentation
//! (<https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html>).
//!
//! The `.npy` header is a Python dict literal (`{'descr': '<f4', 'fortran_order': False,
//! 'shape': (2, 3), }`), read here by a parser for that subset only. An array of Python objects
//! (`descr` `|O`) stores a pickle after its header, which [`PickleScanner`] reads.

use std::collections::BTreeMap;
use std::io::{BufReader, Read};

use crate::model::parse_pickle::PickleScanner;
use crate::model::stream::{ParseError, Source, invalid, shown};
use crate::model::zip_window::{Archive, Member};
use crate::model::{MAX_TENSORS_LISTED, push_problem, set_pickle};
use crate::package::ModelFacts;

/// Largest `.npy` header read; NumPy writes a few hundred bytes.
const MAX_HEADER: u64 = 1 << 20;

/// The header of one `.npy` array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NpyHeader {
    pub(crate) version: (u8, u8),
    /// `descr`, such as `<f8`, or the text of a structured dtype's field list.
    pub(crate) descr: String,
    pub(crate) fortran_order: bool,
    pub(crate) shape: Vec<u64>,
}

impl NpyHeader {
    /// Number of elements; `None` when it overflows.
    pub(crate) fn elements(&self) -> Option<u64> {
        self.shape
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
    }

    fn is_object(&self) -> bool {
        self.descr.contains('O')
    }
}

/// Reads an `.npy` header from the start of `src`.
pub(crate) fn read_npy_header<R: std::io::BufRead>(
    src: &mut Source<R>,
) -> Result<NpyHeader, ParseError> {
    if &src.bytes::<6>()? != b"\x93NUMPY" {
        return invalid("not a NumPy array: the magic is not `\\x93NUMPY`");
    }
    let major = src.u8()?;
    let minor = src.u8()?;
    let len = match major {
        1 => u64::from(src.u16()?),
        2 | 3 => u64::from(src.u32()?),
        other => return invalid(format!("unknown .npy format version {other}.{minor}")),
    };
    if len > MAX_HEADER {
        return invalid(format!(
            "`.npy` header of {len} bytes is larger than {MAX_HEADER}"
        ));
    }
    let text = src.prefix(len, MAX_HEADER as usize)?;
    let mut header = parse_header_dict(&String::from_utf8_lossy(&text))?;
    header.version = (major, minor);
    Ok(header)
}

/// Parses the dict literal of a `.npy` header.
fn parse_header_dict(text: &str) -> Result<NpyHeader, ParseError> {
    let mut header = NpyHeader {
        version: (0, 0),
        descr: String::new(),
        fortran_order: false,
        shape: Vec::new(),
    };
    let mut seen = (false, false, false);
    let mut literal = Literal {
        text: text.trim().as_bytes(),
        at: 0,
    };
    literal.expect(b'{')?;
    loop {
        literal.blank();
        if literal.eat(b'}') {
            break;
        }
        let key = literal.string()?;
        literal.expect(b':')?;
        match key.as_str() {
            "descr" => {
                header.descr = literal.value_text()?;
                seen.0 = true;
            }
            "fortran_order" => {
                header.fortran_order = literal.value_text()? == "True";
                seen.1 = true;
            }
            "shape" => {
                header.shape = literal.int_tuple()?;
                seen.2 = true;
            }
            other => {
                return invalid(format!(
                    "`.npy` header has the unknown key `{}`",
                    shown(other)
                ));
            }
        }
        literal.blank();
        if !literal.eat(b',') {
            literal.expect(b'}')?;
            break;
        }
    }
    if seen != (true, true, true) {
        return invalid("`.npy` header lacks `descr`, `fortran_order` or `shape`");
    }
    Ok(header)
}

/// A cursor over the Python literal subset of `.npy` headers.
struct Literal<'a> {
    text: &'a [u8],
    at: usize,
}

impl Literal<'_> {
    fn blank(&mut self) {
        while self.text.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.blank();
        if self.text.get(self.at) == Some(&byte) {
            self.at += 1;
            return true;
        }
        false
    }

    fn expect(&mut self, byte: u8) -> Result<(), ParseError> {
        if self.eat(byte) {
            return Ok(());
        }
        invalid(format!(
            "`.npy` header: expected `{}` at character {}",
            char::from(byte),
            self.at
        ))
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.blank();
        let Some(&quote) = self.text.get(self.at).filter(|q| matches!(q, b'\'' | b'"')) else {
            return invalid(format!(
                "`.npy` header: expected a string at character {}",
                self.at
            ));
        };
        let start = self.at + 1;
        let Some(len) = self.text[start..].iter().position(|&b| b == quote) else {
            return invalid("`.npy` header: unterminated string");
        };
        self.at = start + len + 1;
        Ok(String::from_utf8_lossy(&self.text[start..start + len]).into_owned())
    }

    /// A string value as its content; any other value (bool, list of fields) as its text,
    /// up to the comma or brace that ends it at nesting depth 0.
    fn value_text(&mut self) -> Result<String, ParseError> {
        self.blank();
        if matches!(self.text.get(self.at), Some(b'\'' | b'"')) {
            return self.string();
        }
        let start = self.at;
        let mut depth = 0i32;
        while let Some(&b) = self.text.get(self.at) {
            match b {
                b'[' | b'(' => depth += 1,
                b']' | b')' => depth -= 1,
                b',' | b'}' if depth == 0 => break,
                _ => {}
            }
            self.at += 1;
        }
        if depth != 0 {
            return invalid("`.npy` header: unbalanced brackets");
        }
        Ok(String::from_utf8_lossy(&self.text[start..self.at])
            .trim()
            .to_owned())
    }

    fn int_tuple(&mut self) -> Result<Vec<u64>, ParseError> {
        self.expect(b'(')?;
        let mut values = Vec::new();
        loop {
            self.blank();
            if self.eat(b')') {
                return Ok(values);
            }
            let start = self.at;
            while self.text.get(self.at).is_some_and(u8::is_ascii_digit) {
                self.at += 1;
            }
            let digits = std::str::from_utf8(&self.text[start..self.at]).unwrap_or("");
            let Ok(value) = digits.parse() else {
                return invalid(format!(
                    "`.npy` header: shape entry `{digits}` is not a count"
                ));
            };
            values.push(value);
            if values.len() > 64 {
                return invalid("`.npy` header: shape has more than 64 dimensions");
            }
            if !self.eat(b',') {
                self.expect(b')')?;
                return Ok(values);
            }
        }
    }
}

/// Parses a `.npz` archive whose members are `members`.
pub(crate) fn parse_npz(archive: &mut Archive, members: &[Member], facts: &mut ModelFacts) {
    let mut scanner = PickleScanner::default();
    let mut arrays = 0u64;
    let mut elements = 0u64;
    let mut dtypes: BTreeMap<String, u64> = BTreeMap::new();
    for member in members
        .iter()
        .filter(|m| m.name.to_ascii_lowercase().ends_with(".npy"))
    {
        let name = member.name.trim_end_matches(".npy");
        let read = archive.with_member(&member.name, |content| read_member(content, &mut scanner));
        let header = match read {
            Ok(Ok(header)) => header,
            Ok(Err(ParseError::Format(problem))) => {
                push_problem(facts, format!("array `{}`: {problem}", shown(name)));
                continue;
            }
            Ok(Err(ParseError::Io(e))) => {
                push_problem(
                    facts,
                    format!("array `{}` could not be read: {e}", shown(name)),
                );
                continue;
            }
            Err(problem) => {
                push_problem(facts, problem);
                continue;
            }
        };
        arrays += 1;
        let count = header.elements().unwrap_or_else(|| {
            push_problem(
                facts,
                format!("array `{}` has a shape that overflows", shown(name)),
            );
            0
        });
        elements = elements.saturating_add(count);
        *dtypes.entry(header.descr.clone()).or_default() += 1;
        if facts.tensors.len() < MAX_TENSORS_LISTED {
            let dims: Vec<String> = header.shape.iter().map(u64::to_string).collect();
            facts.tensors.push(format!(
                "{}: {}[{}]",
                shown(name),
                shown(&header.descr),
                dims.join(",")
            ));
        }
    }
    facts.tensor_count = Some(arrays);
    facts.parameter_count = Some(elements);
    facts.dtypes = dtypes;
    if !scanner.is_empty() {
        set_pickle(facts, &scanner);
    }
}

/// Reads one member's header, and the pickle after it for an object array.
fn read_member(
    content: &mut dyn Read,
    scanner: &mut PickleScanner,
) -> Result<NpyHeader, ParseError> {
    let mut src = Source::new(BufReader::new(content));
    let header = read_npy_header(&mut src)?;
    if header.is_object() {
        // A scan problem is kept in the scanner's verdict; the header still counts.
        let _ = scanner.scan(&mut src);
    }
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(dict: &str) -> Vec<u8> {
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        out.extend_from_slice(dict.as_bytes());
        out
    }

    fn header(dict: &str) -> Result<NpyHeader, ParseError> {
        read_npy_header(&mut Source::new(&npy(dict)[..]))
    }

    #[test]
    fn numpy_headers() {
        let h = header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }   \n").unwrap();
        assert_eq!(h.descr, "<f8");
        assert!(!h.fortran_order);
        assert_eq!(h.shape, [2, 3]);
        assert_eq!(h.elements(), Some(6));
        let scalar = header("{'descr': '|b1', 'fortran_order': True, 'shape': (), }").unwrap();
        assert_eq!(scalar.elements(), Some(1));
        let one = header("{'descr': '<i4', 'fortran_order': False, 'shape': (5,), }").unwrap();
        assert_eq!(one.shape, [5]);
        let structured = header(
            "{'descr': [('x', '<f4'), ('y', '<i8')], 'fortran_order': False, 'shape': (3,), }",
        )
        .unwrap();
        assert_eq!(structured.descr, "[('x', '<f4'), ('y', '<i8')]");
    }

    #[test]
    fn malformed_headers() {
        for dict in [
            "{'descr': '<f8', 'shape': (2,), }",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'evil': 1}",
            "['descr']",
            "{'descr: '<f8'",
        ] {
            assert!(matches!(header(dict), Err(ParseError::Format(_))), "{dict}");
        }
        let mut cut = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }");
        cut.truncate(20);
        assert!(matches!(
            read_npy_header(&mut Source::new(&cut[..])),
            Err(ParseError::Format(_))
        ));
    }
}
