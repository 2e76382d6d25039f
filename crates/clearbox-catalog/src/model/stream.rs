//! Reading helpers shared by the model parsers: a reader that hashes and counts every byte it
//! passes on, a bounded little-endian reader over it, and the error type that keeps I/O
//! failures of the layer apart from format problems of the file.

use std::io::{self, BufRead, BufReader, Read};

use sha2::{Digest as _, Sha256};

/// Why a parser stopped.
#[derive(Debug)]
pub(crate) enum ParseError {
    /// The layer could not be read; the whole scan fails.
    Io(io::Error),
    /// The file is not what its format requires, so the model is reported as a partial result.
    Format(String),
}

impl From<io::Error> for ParseError {
    fn from(e: io::Error) -> Self {
        // The reader yields exactly the bytes of the file, so running out of them means the file
        // is shorter than the structure it declares.
        if e.kind() == io::ErrorKind::UnexpectedEof {
            let message = e.to_string();
            if message == "failed to fill whole buffer" {
                return ParseError::Format("file ends before the structure it declares".into());
            }
            return ParseError::Format(message);
        }
        ParseError::Io(e)
    }
}

/// A format problem as an error value.
pub(crate) fn invalid<T>(message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError::Format(message.into()))
}

/// Splits a parse result into the facts kept and the problem that stopped the parser; layer
/// I/O errors are passed on.
pub(crate) fn split_problem(result: Result<(), ParseError>) -> io::Result<Option<String>> {
    match result {
        Ok(()) => Ok(None),
        Err(ParseError::Format(problem)) => Ok(Some(problem)),
        Err(ParseError::Io(e)) => Err(e),
    }
}

/// Passes bytes on while hashing and counting them.
pub(crate) struct HashingReader<'a> {
    inner: &'a mut dyn Read,
    hasher: Sha256,
    count: u64,
}

impl<'a> HashingReader<'a> {
    pub(crate) fn new(inner: &'a mut dyn Read) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    /// Reads the rest of the file and returns its size and lowercase hexadecimal SHA-256.
    pub(crate) fn finish(mut self) -> io::Result<(u64, String)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok((self.count, hex::encode(self.hasher.finalize())))
    }
}

impl Read for HashingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// A buffered reader that knows its position and reads little-endian values.
pub(crate) struct Source<R> {
    inner: R,
    position: u64,
}

impl<R: BufRead> Source<R> {
    pub(crate) fn new(inner: R) -> Self {
        Source { inner, position: 0 }
    }

    /// Bytes consumed so far.
    pub(crate) fn position(&self) -> u64 {
        self.position
    }

    pub(crate) fn bytes<const N: usize>(&mut self) -> Result<[u8; N], ParseError> {
        let mut buf = [0u8; N];
        self.inner.read_exact(&mut buf)?;
        self.position += N as u64;
        Ok(buf)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, ParseError> {
        Ok(self.bytes::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, ParseError> {
        Ok(u16::from_le_bytes(self.bytes()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, ParseError> {
        Ok(u32::from_le_bytes(self.bytes()?))
    }

    pub(crate) fn i32(&mut self) -> Result<i32, ParseError> {
        Ok(i32::from_le_bytes(self.bytes()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, ParseError> {
        Ok(u64::from_le_bytes(self.bytes()?))
    }

    /// Reads `len` bytes, keeping at most `keep` of them; the rest are read and dropped.
    pub(crate) fn prefix(&mut self, len: u64, keep: usize) -> Result<Vec<u8>, ParseError> {
        let kept = len.min(keep as u64);
        let mut buf = Vec::with_capacity(kept as usize);
        (&mut self.inner).take(kept).read_to_end(&mut buf)?;
        self.position += buf.len() as u64;
        if (buf.len() as u64) < kept {
            return invalid("file ends before the structure it declares");
        }
        self.skip(len - kept)?;
        Ok(buf)
    }

    /// Reads and drops `len` bytes.
    pub(crate) fn skip(&mut self, len: u64) -> Result<(), ParseError> {
        let copied = io::copy(&mut (&mut self.inner).take(len), &mut io::sink())?;
        self.position += copied;
        if copied < len {
            return invalid(format!("file ends {copied} bytes into a {len}-byte field"));
        }
        Ok(())
    }

    /// Runs `parse` on the next `len` bytes as a source of their own, then skips what it left
    /// unread. Protobuf messages nest this way.
    pub(crate) fn nested<'a, T>(
        &'a mut self,
        len: u64,
        parse: impl FnOnce(&mut Source<io::Take<&'a mut R>>) -> Result<T, ParseError>,
    ) -> Result<T, ParseError> {
        let Source { inner, position } = self;
        let mut sub = Source::new(inner.take(len));
        let result = parse(&mut sub);
        let rest = len - sub.position;
        let skipped = sub.skip(rest);
        *position += sub.position;
        let value = result?;
        skipped?;
        Ok(value)
    }

    /// Whether the input is exhausted.
    pub(crate) fn at_end(&mut self) -> Result<bool, ParseError> {
        Ok(self.inner.fill_buf()?.is_empty())
    }

    /// Reads one byte if any is left.
    pub(crate) fn next_byte(&mut self) -> Result<Option<u8>, ParseError> {
        let byte = self.inner.fill_buf()?.first().copied();
        if byte.is_some() {
            self.inner.consume(1);
            self.position += 1;
        }
        Ok(byte)
    }

    /// Reads a line ending in `\n`, without it; longer lines than `max` are a format problem.
    pub(crate) fn line(&mut self, max: usize) -> Result<Vec<u8>, ParseError> {
        let mut line = Vec::new();
        loop {
            let Some(byte) = self.next_byte()? else {
                return invalid("file ends inside a text line");
            };
            if byte == b'\n' {
                return Ok(line);
            }
            if line.len() == max {
                return invalid(format!("text line longer than {max} bytes"));
            }
            line.push(byte);
        }
    }
}

/// A buffered [`Source`] over a hashing reader, the usual way parsers read a capture.
pub(crate) fn source<'r, 'a>(
    reader: &'r mut HashingReader<'a>,
) -> Source<BufReader<&'r mut HashingReader<'a>>> {
    Source::new(BufReader::with_capacity(64 << 10, reader))
}

/// A name or value from a file, cut short and stripped of control characters for messages.
pub(crate) fn shown(text: &str) -> String {
    crate::text::printable(text, 120)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_reads_are_format_problems() {
        let mut source = Source::new(&b"\x01\x02"[..]);
        assert!(matches!(source.u32(), Err(ParseError::Format(_))));
    }

    #[test]
    fn prefix_keeps_only_the_cap() {
        let mut source = Source::new(&b"abcdefgh"[..]);
        assert_eq!(source.prefix(6, 2).unwrap(), b"ab");
        assert_eq!(source.position(), 6);
        assert_eq!(source.u8().unwrap(), b'g');
    }

    #[test]
    fn skip_past_the_end_is_a_problem() {
        let mut source = Source::new(&b"abc"[..]);
        let Err(ParseError::Format(message)) = source.skip(10) else {
            panic!("expected a format problem");
        };
        assert_eq!(message, "file ends 3 bytes into a 10-byte field");
    }

    #[test]
    fn hashing_reader_hashes_everything() {
        let mut data = &b"abc"[..];
        let mut reader = HashingReader::new(&mut data);
        let mut first = [0u8; 1];
        reader.read_exact(&mut first).unwrap();
        let (size, sha256) = reader.finish().unwrap();
        assert_eq!(size, 3);
        assert_eq!(
            sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
