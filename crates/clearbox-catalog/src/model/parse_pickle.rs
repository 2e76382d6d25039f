//! Reads Python pickles (protocols 0 to 5) opcode by opcode without executing anything, to list
//! what unpickling would import and to count the tensors a PyTorch checkpoint rebuilds.
//! Opcode reference: Python's `pickletools` module
//! (<https://docs.python.org/3/library/pickletools.html>) and `Lib/pickletools.py`.
//!
//! A small stack machine tracks strings, integers, tuples and imported names, so that
//! `STACK_GLOBAL` operands and the arguments of `torch._utils._rebuild_tensor_v2` (storage,
//! offset, shape) are known; every other value is opaque. Nothing is called and no object is
//! built.
//!
//! # Allowlist
//! Unpickling calls every imported name it reduces, so an import is what can run code. These
//! imports only rebuild tensors, arrays and containers, and are the only ones called safe:
//! - `collections.OrderedDict`;
//! - `torch._utils._rebuild_tensor`, `_rebuild_tensor_v2`, `_rebuild_tensor_v3`,
//!   `_rebuild_parameter`, `_rebuild_parameter_with_state`;
//! - the typed storage classes `torch.FloatStorage` … `torch.QUInt2x4Storage` (see
//!   [`storage_dtype`]), `torch.Size`, `torch.device`, and the dtypes `torch.float32` …
//!   (see [`TORCH_DTYPES`]);
//! - `numpy.core.multiarray._reconstruct`, `numpy.core.multiarray.scalar`, `numpy.ndarray`,
//!   `numpy.dtype`, and the same under `numpy._core` (NumPy 2);
//! - `_codecs.encode` (protocol 2 writes `bytes` with it);
//! - `builtins.set`, `frozenset`, `bytearray`, `complex`, and their Python 2 spellings under
//!   `__builtin__`;
//! - in TorchScript archives only, `__torch__.*`: classes compiled from the archive's own
//!   TorchScript `code/`, which this scan does not read.
//!
//! Any other import (`os.system`, `builtins.eval`, `subprocess.Popen`, `builtins.getattr` …) makes
//! the pickle unsafe, as do `EXT1`/`EXT2`/`EXT4` (imports through the copyreg extension
//! registry, which the file does not name) and `STACK_GLOBAL` operands that are not known
//! strings.

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::rc::Rc;

use crate::model::stream::{ParseError, Source, invalid, shown};
use crate::package::{PickleScan, PickleVerdict};

/// Distinct imports kept.
const MAX_IMPORTS: usize = 256;
/// Maximum length of a string kept on the simulated stack; longer ones are opaque.
const MAX_STRING: u64 = 256;
/// Deepest simulated stack and largest memo; beyond them the scan stops as unverified.
const MAX_STACK: usize = 1 << 20;
const MAX_MEMO: usize = 1 << 20;
/// Items kept of a tuple; larger tuples are opaque.
const MAX_TUPLE: usize = 64;

/// `torch` dtype names a pickle may import (they are pickled by name).
pub(crate) const TORCH_DTYPES: [&str; 17] = [
    "float32",
    "float64",
    "float16",
    "bfloat16",
    "complex64",
    "complex128",
    "int64",
    "int32",
    "int16",
    "int8",
    "uint8",
    "bool",
    "float8_e4m3fn",
    "float8_e5m2",
    "qint8",
    "quint8",
    "qint32",
];

/// Returns the safetensors-style dtype of a typed storage class name, such as `F32` for
/// `FloatStorage`; `None` for a name that is not a storage class.
pub(crate) fn storage_dtype(class: &str) -> Option<&'static str> {
    Some(match class {
        "FloatStorage" => "F32",
        "DoubleStorage" => "F64",
        "HalfStorage" => "F16",
        "BFloat16Storage" => "BF16",
        "LongStorage" => "I64",
        "IntStorage" => "I32",
        "ShortStorage" => "I16",
        "CharStorage" => "I8",
        "ByteStorage" => "U8",
        "BoolStorage" => "BOOL",
        "ComplexFloatStorage" => "C64",
        "ComplexDoubleStorage" => "C128",
        "QInt8Storage" => "QINT8",
        "QUInt8Storage" => "QUINT8",
        "QInt32Storage" => "QINT32",
        "QUInt4x2Storage" => "QUINT4X2",
        "QUInt2x4Storage" => "QUINT2X4",
        _ => return None,
    })
}

/// Bytes per element of a storage dtype from [`storage_dtype`].
pub(crate) fn storage_item_bytes(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "F64" | "I64" | "C64" => 8,
        "F32" | "I32" | "QINT32" => 4,
        "F16" | "BF16" | "I16" => 2,
        "I8" | "U8" | "BOOL" | "QINT8" | "QUINT8" | "QUINT4X2" | "QUINT2X4" => 1,
        "C128" => 16,
        _ => return None,
    })
}

/// Returns whether unpickling may import `name` (`module.qualname`); see the module docs.
pub(crate) fn is_allowed(name: &str, torchscript: bool) -> bool {
    const EXACT: [&str; 19] = [
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
        "torch.Size",
        "torch.device",
        "numpy.core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar",
        "numpy._core.multiarray._reconstruct",
        "numpy._core.multiarray.scalar",
        "numpy.ndarray",
        "numpy.dtype",
        "_codecs.encode",
        "builtins.set",
        "builtins.frozenset",
        "builtins.bytearray",
        "builtins.complex",
    ];
    if EXACT.contains(&name) {
        return true;
    }
    if let Some(builtin) = name.strip_prefix("__builtin__.") {
        return matches!(builtin, "set" | "frozenset" | "bytearray" | "complex");
    }
    if let Some(member) = name.strip_prefix("torch.") {
        return storage_dtype(member).is_some() || TORCH_DTYPES.contains(&member);
    }
    torchscript && name.starts_with("__torch__.")
}

/// One value on the simulated stack.
#[derive(Clone, Debug)]
enum Item {
    Mark,
    Text(Rc<str>),
    Int(i64),
    Global(Rc<str>),
    Tuple(Rc<[Item]>),
    /// A PyTorch storage from a persistent id: its dtype.
    Storage(Rc<str>),
    Other,
}

/// A storage a checkpoint refers to by persistent id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StorageRef {
    pub(crate) dtype: String,
    pub(crate) elements: u64,
}

/// What every pickle of one file imports and rebuilds; one scanner may read several pickles.
#[derive(Debug, Default)]
pub(crate) struct PickleScanner {
    /// Allow `__torch__.*` imports: the pickles come from a TorchScript archive.
    pub(crate) torchscript: bool,
    protocol: Option<u8>,
    imports: Vec<String>,
    unsafe_imports: Vec<String>,
    incomplete: Option<String>,
    /// Calls of a tensor-rebuilding function.
    pub(crate) tensors: u64,
    /// Sum of the element counts of their shapes.
    pub(crate) elements: u64,
    /// Tensors per storage dtype.
    pub(crate) dtypes: BTreeMap<String, u64>,
    /// Storages by key, from persistent ids.
    pub(crate) storages: BTreeMap<String, StorageRef>,
    /// The first pickle was the magic number of PyTorch's legacy (pre-1.6) format.
    pub(crate) legacy_torch_magic: bool,
}

/// The magic number PyTorch's legacy format pickles first, as `LONG1` little-endian bytes.
const LEGACY_MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

impl PickleScanner {
    /// A scanner that allows `__torch__.*` imports when `torchscript` is set.
    pub(crate) fn new(torchscript: bool) -> Self {
        PickleScanner {
            torchscript,
            ..PickleScanner::default()
        }
    }

    /// Reads one pickle, up to and including its `STOP` opcode. A format problem stops the scan
    /// and makes the verdict unverified, unless an unsafe import was already found.
    pub(crate) fn scan<R: BufRead>(&mut self, src: &mut Source<R>) -> Result<(), ParseError> {
        let mut machine = Machine::default();
        let result = machine.run(src, self);
        if let Err(ParseError::Format(problem)) = &result
            && self.incomplete.is_none()
        {
            self.incomplete = Some(problem.clone());
        }
        result
    }

    /// Marks the scan incomplete for a reason found outside the pickle itself.
    pub(crate) fn stopped(&mut self, reason: String) {
        if self.incomplete.is_none() {
            self.incomplete = Some(reason);
        }
    }

    /// Whether no pickle has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.protocol.is_none() && self.imports.is_empty() && self.incomplete.is_none()
    }

    /// The verdict and imports.
    pub(crate) fn result(&self) -> PickleScan {
        let verdict = if !self.unsafe_imports.is_empty() {
            PickleVerdict::Unsafe
        } else if self.incomplete.is_some() {
            PickleVerdict::Unverified
        } else {
            PickleVerdict::Safe
        };
        PickleScan {
            verdict,
            protocol: self.protocol,
            imports: self.imports.clone(),
            unsafe_imports: self.unsafe_imports.clone(),
            incomplete: self.incomplete.clone(),
        }
    }

    fn import(&mut self, name: &str) {
        let name = shown(name);
        if !self.imports.contains(&name) && self.imports.len() < MAX_IMPORTS {
            self.imports.push(name.clone());
        }
        if !is_allowed(&name, self.torchscript) && !self.unsafe_imports.contains(&name) {
            self.unsafe_imports.push(name);
        }
    }

    fn unresolved(&mut self, what: String) {
        if !self.unsafe_imports.contains(&what) {
            self.unsafe_imports.push(what);
        }
    }
}

/// The stack and memo of one pickle.
#[derive(Default)]
struct Machine {
    stack: Vec<Item>,
    memo: HashMap<u64, Item>,
}

impl Machine {
    fn push(&mut self, item: Item) -> Result<(), ParseError> {
        if self.stack.len() >= MAX_STACK {
            return invalid(format!("pickle stack deeper than {MAX_STACK} items"));
        }
        self.stack.push(item);
        Ok(())
    }

    fn pop(&mut self) -> Result<Item, ParseError> {
        match self.stack.pop() {
            Some(Item::Mark) | None => invalid("pickle pops from an empty stack"),
            Some(item) => Ok(item),
        }
    }

    fn top(&self) -> Result<Item, ParseError> {
        match self.stack.last() {
            Some(Item::Mark) | None => invalid("pickle reads the top of an empty stack"),
            Some(item) => Ok(item.clone()),
        }
    }

    fn pop_mark(&mut self) -> Result<Vec<Item>, ParseError> {
        let Some(mark) = self.stack.iter().rposition(|i| matches!(i, Item::Mark)) else {
            return invalid("pickle pops to a mark that was never set");
        };
        let items = self.stack.split_off(mark + 1);
        self.stack.pop();
        Ok(items)
    }

    fn memoize(&mut self, index: u64) -> Result<(), ParseError> {
        if self.memo.len() >= MAX_MEMO && !self.memo.contains_key(&index) {
            return invalid(format!("pickle memo larger than {MAX_MEMO} entries"));
        }
        let top = self.top()?;
        self.memo.insert(index, top);
        Ok(())
    }

    fn get(&mut self, index: u64) -> Result<(), ParseError> {
        match self.memo.get(&index) {
            Some(item) => {
                let item = item.clone();
                self.push(item)
            }
            None => invalid(format!(
                "pickle reads memo entry {index}, which was never set"
            )),
        }
    }

    fn tuple(&mut self, items: Vec<Item>) -> Result<(), ParseError> {
        if items.len() > MAX_TUPLE {
            return self.push(Item::Other);
        }
        self.push(Item::Tuple(items.into()))
    }

    fn tuple_of(&mut self, n: usize) -> Result<(), ParseError> {
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(self.pop()?);
        }
        items.reverse();
        self.tuple(items)
    }

    #[allow(clippy::too_many_lines)] // One arm per opcode reads best as one table.
    fn run<R: BufRead>(
        &mut self,
        src: &mut Source<R>,
        scan: &mut PickleScanner,
    ) -> Result<(), ParseError> {
        loop {
            let at = src.position();
            let Some(op) = src.next_byte()? else {
                return invalid("pickle ends without a STOP opcode");
            };
            match op {
                b'(' => self.push(Item::Mark)?,
                b'.' => return Ok(()),
                b'0' | b'a' | b'b' => drop(self.pop()?),
                b'1' | b'e' | b'u' | 0x90 => drop(self.pop_mark()?),
                b'2' => {
                    let top = self.top()?;
                    self.push(top)?;
                }
                b'F' | b'L' | b'P' => {
                    src.line(4096)?;
                    self.push(Item::Other)?;
                }
                b'I' => {
                    let line = src.line(4096)?;
                    let value = std::str::from_utf8(&line).ok().and_then(|s| s.parse().ok());
                    self.push(value.map_or(Item::Other, Item::Int))?;
                }
                b'J' => {
                    let value = src.i32()?;
                    self.push(Item::Int(value.into()))?;
                }
                b'K' => {
                    let value = src.u8()?;
                    self.push(Item::Int(value.into()))?;
                }
                b'M' => {
                    let value = src.u16()?;
                    self.push(Item::Int(value.into()))?;
                }
                b'N' | 0x88 | 0x89 | b'}' | b']' | 0x8f | 0x97 => self.push(Item::Other)?,
                b')' => self.push(Item::Tuple(Rc::from(Vec::new())))?,
                b'Q' => {
                    let pid = self.pop()?;
                    let storage = persistent(&pid, scan);
                    self.push(storage)?;
                }
                b'R' => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    reduce(&callable, &args, scan);
                    self.push(Item::Other)?;
                }
                b'S' => {
                    let line = src.line(1 << 16)?;
                    let text = String::from_utf8_lossy(&line);
                    let text = text.trim_matches(|c| c == '\'' || c == '"');
                    self.push(Item::Text(text.into()))?;
                }
                b'V' => {
                    let line = src.line(1 << 16)?;
                    self.push(Item::Text(String::from_utf8_lossy(&line).into()))?;
                }
                b'T' | b'X' => {
                    let len = src.u32()?.into();
                    let item = string(src, len)?;
                    self.push(item)?;
                }
                b'U' | 0x8c => {
                    let len = src.u8()?.into();
                    let item = string(src, len)?;
                    self.push(item)?;
                }
                0x8d => {
                    let len = src.u64()?;
                    let item = string(src, len)?;
                    self.push(item)?;
                }
                b'B' => {
                    let len = src.u32()?.into();
                    src.skip(len)?;
                    self.push(Item::Other)?;
                }
                b'C' => {
                    let len = src.u8()?.into();
                    src.skip(len)?;
                    self.push(Item::Other)?;
                }
                0x8e | 0x96 => {
                    let len = src.u64()?;
                    src.skip(len)?;
                    self.push(Item::Other)?;
                }
                b'c' => {
                    let name = global_name(src)?;
                    scan.import(&name);
                    self.push(Item::Global(name.into()))?;
                }
                b'i' => {
                    let name = global_name(src)?;
                    scan.import(&name);
                    self.pop_mark()?;
                    self.push(Item::Other)?;
                }
                b'd' | b'l' | b'o' | 0x91 => {
                    self.pop_mark()?;
                    self.push(Item::Other)?;
                }
                b'g' => {
                    let index = line_number(src)?;
                    self.get(index)?;
                }
                b'h' => {
                    let index = src.u8()?.into();
                    self.get(index)?;
                }
                b'j' => {
                    let index = src.u32()?.into();
                    self.get(index)?;
                }
                b'p' => {
                    let index = line_number(src)?;
                    self.memoize(index)?;
                }
                b'q' => {
                    let index = src.u8()?.into();
                    self.memoize(index)?;
                }
                b'r' => {
                    let index = src.u32()?.into();
                    self.memoize(index)?;
                }
                0x94 => {
                    let index = self.memo.len() as u64;
                    self.memoize(index)?;
                }
                b's' => {
                    self.pop()?;
                    self.pop()?;
                }
                b't' => {
                    let items = self.pop_mark()?;
                    self.tuple(items)?;
                }
                0x85 => self.tuple_of(1)?,
                0x86 => self.tuple_of(2)?,
                0x87 => self.tuple_of(3)?,
                b'G' => {
                    src.skip(8)?;
                    self.push(Item::Other)?;
                }
                0x80 => {
                    let protocol = src.u8()?;
                    scan.protocol = scan.protocol.max(Some(protocol));
                }
                0x81 => {
                    self.pop()?;
                    self.pop()?;
                    self.push(Item::Other)?;
                }
                0x92 => {
                    self.pop()?;
                    self.pop()?;
                    self.pop()?;
                    self.push(Item::Other)?;
                }
                0x82..=0x84 => {
                    let code: u32 = match op {
                        0x82 => src.u8()?.into(),
                        0x83 => src.u16()?.into(),
                        _ => src.u32()?,
                    };
                    scan.unresolved(format!("extension registry code {code}"));
                    self.push(Item::Other)?;
                }
                0x8a => {
                    let len = src.u8()?;
                    let bytes = src.prefix(len.into(), 16)?;
                    if at == 2 && bytes == LEGACY_MAGIC {
                        scan.legacy_torch_magic = true;
                    }
                    self.push(long(&bytes))?;
                }
                0x8b => {
                    let len = src.u32()?;
                    let bytes = src.prefix(len.into(), 16)?;
                    self.push(long(&bytes))?;
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    if let (Item::Text(module), Item::Text(name)) = (&module, &name) {
                        let full = format!("{module}.{name}");
                        scan.import(&full);
                        self.push(Item::Global(full.into()))?;
                    } else {
                        scan.unresolved(format!(
                            "STACK_GLOBAL at byte {at} with operands that are not known strings"
                        ));
                        self.push(Item::Other)?;
                    }
                }
                0x95 => drop(src.u64()?),
                0x98 => {}
                other => {
                    return invalid(format!("unknown pickle opcode 0x{other:02x} at byte {at}"));
                }
            }
        }
    }
}

/// Reads a counted string, keeping it on the stack only when short.
fn string<R: BufRead>(src: &mut Source<R>, len: u64) -> Result<Item, ParseError> {
    if len > MAX_STRING {
        src.skip(len)?;
        return Ok(Item::Other);
    }
    let bytes = src.prefix(len, MAX_STRING as usize)?;
    Ok(Item::Text(String::from_utf8_lossy(&bytes).into()))
}

/// Reads the `module\nname\n` argument of `GLOBAL` and `INST`.
fn global_name<R: BufRead>(src: &mut Source<R>) -> Result<String, ParseError> {
    let module = src.line(4096)?;
    let name = src.line(4096)?;
    Ok(format!(
        "{}.{}",
        String::from_utf8_lossy(&module),
        String::from_utf8_lossy(&name)
    ))
}

fn line_number<R: BufRead>(src: &mut Source<R>) -> Result<u64, ParseError> {
    let line = src.line(32)?;
    match std::str::from_utf8(&line).ok().and_then(|s| s.parse().ok()) {
        Some(index) => Ok(index),
        None => invalid("pickle memo index is not a number"),
    }
}

/// A two's-complement little-endian integer of at most 8 bytes; longer ones are opaque.
fn long(bytes: &[u8]) -> Item {
    if bytes.is_empty() {
        return Item::Int(0);
    }
    if bytes.len() > 8 {
        return Item::Other;
    }
    let fill = if bytes[bytes.len() - 1] & 0x80 == 0 {
        0
    } else {
        0xff
    };
    let mut buf = [fill; 8];
    buf[..bytes.len()].copy_from_slice(bytes);
    Item::Int(i64::from_le_bytes(buf))
}

/// Resolves a PyTorch persistent id `('storage', storage_type, key, location, numel, …)`.
fn persistent(pid: &Item, scan: &mut PickleScanner) -> Item {
    let Item::Tuple(items) = pid else {
        return Item::Other;
    };
    let [
        Item::Text(kind),
        Item::Global(class),
        Item::Text(key),
        _,
        Item::Int(numel),
        ..,
    ] = &items[..]
    else {
        return Item::Other;
    };
    if &**kind != "storage" {
        return Item::Other;
    }
    let class = class.rsplit('.').next().unwrap_or(class);
    let dtype = storage_dtype(class).map_or_else(|| class.to_owned(), str::to_owned);
    if scan.storages.len() < MAX_MEMO
        && let Ok(elements) = u64::try_from(*numel)
    {
        scan.storages.insert(
            key.to_string(),
            StorageRef {
                dtype: dtype.clone(),
                elements,
            },
        );
    }
    Item::Storage(dtype.into())
}

/// Counts a tensor when `callable` rebuilds one from `(storage, offset, shape, …)`.
fn reduce(callable: &Item, args: &Item, scan: &mut PickleScanner) {
    let Item::Global(name) = callable else {
        return;
    };
    if !matches!(
        &**name,
        "torch._utils._rebuild_tensor"
            | "torch._utils._rebuild_tensor_v2"
            | "torch._utils._rebuild_tensor_v3"
    ) {
        return;
    }
    scan.tensors += 1;
    let Item::Tuple(args) = args else { return };
    if let Some(Item::Storage(dtype)) = args.first() {
        *scan.dtypes.entry(dtype.to_string()).or_default() += 1;
    }
    if let Some(Item::Tuple(shape)) = args.get(2) {
        let elements = shape.iter().try_fold(1u64, |acc, dim| match dim {
            Item::Int(d) => u64::try_from(*d).ok().and_then(|d| acc.checked_mul(d)),
            _ => None,
        });
        if let Some(elements) = elements {
            scan.elements = scan.elements.saturating_add(elements);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A pickle (protocol 2) that calls `os.system("id")` when loaded, written opcode by opcode.
    pub(crate) fn os_system_pickle() -> Vec<u8> {
        let mut p = vec![0x80, 2];
        p.extend_from_slice(b"cos\nsystem\n");
        p.extend_from_slice(b"X\x02\x00\x00\x00id");
        p.extend_from_slice(&[0x85, b'R', b'.']);
        p
    }

    /// The same call through `STACK_GLOBAL` (protocol 4), with the strings memoized and read
    /// back, as `pickle.dumps` writes it.
    pub(crate) fn stack_global_pickle() -> Vec<u8> {
        let mut p = vec![0x80, 4, 0x95];
        p.extend_from_slice(&0u64.to_le_bytes());
        p.extend_from_slice(b"\x8c\x05posix\x94\x8c\x06system\x94\x93\x94");
        p.extend_from_slice(b"\x8c\x02id\x94\x85\x94R\x94.");
        p
    }

    pub(crate) fn scan(bytes: &[u8]) -> PickleScanner {
        let mut scanner = PickleScanner::default();
        let _ = scanner.scan(&mut Source::new(bytes));
        scanner
    }

    /// `test.pt`'s `data.pkl` from the corpus, as `pickletools.dis` lists it: an `OrderedDict`
    /// holding one `LongStorage` tensor of shape (2, 4).
    fn state_dict_pickle() -> Vec<u8> {
        let mut p = vec![0x80, 2];
        p.extend_from_slice(b"ccollections\nOrderedDict\nq\x00)Rq\x01");
        p.extend_from_slice(b"X\x04\x00\x00\x00testq\x02");
        p.extend_from_slice(b"ctorch._utils\n_rebuild_tensor_v2\nq\x03((");
        p.extend_from_slice(b"X\x07\x00\x00\x00storageq\x04ctorch\nLongStorage\nq\x05");
        p.extend_from_slice(b"X\x01\x00\x00\x000q\x06X\x03\x00\x00\x00cpuq\x07K\x08tq\x08Q");
        p.extend_from_slice(b"K\x00K\x02K\x04\x86q\tK\x04K\x01\x86q\n\x89h\x00)Rq\x0btq\x0cRq\rs.");
        p
    }

    #[test]
    fn state_dict_is_safe_and_counted() {
        let scanner = scan(&state_dict_pickle());
        let result = scanner.result();
        assert_eq!(result.verdict, PickleVerdict::Safe, "{result:?}");
        assert_eq!(result.protocol, Some(2));
        assert_eq!(
            result.imports,
            [
                "collections.OrderedDict",
                "torch._utils._rebuild_tensor_v2",
                "torch.LongStorage"
            ]
        );
        assert_eq!(scanner.tensors, 1);
        assert_eq!(scanner.elements, 8);
        assert_eq!(scanner.dtypes["I64"], 1);
        assert_eq!(
            scanner.storages["0"],
            StorageRef {
                dtype: "I64".into(),
                elements: 8
            }
        );
    }

    #[test]
    fn os_system_is_unsafe() {
        let result = scan(&os_system_pickle()).result();
        assert_eq!(result.verdict, PickleVerdict::Unsafe);
        assert_eq!(result.unsafe_imports, ["os.system"]);
    }

    #[test]
    fn stack_global_operands_are_resolved() {
        let result = scan(&stack_global_pickle()).result();
        assert_eq!(result.verdict, PickleVerdict::Unsafe);
        assert_eq!(result.imports, ["posix.system"]);
        assert_eq!(result.protocol, Some(4));
    }

    #[test]
    fn computed_stack_global_is_unsafe() {
        // The module name comes from a memo entry that contains a tuple, not a string.
        let p = b"\x80\x04)\x94\x8c\x06system\x93.";
        let result = scan(p).result();
        assert_eq!(result.verdict, PickleVerdict::Unsafe);
        assert!(result.unsafe_imports[0].starts_with("STACK_GLOBAL"));
    }

    #[test]
    fn truncated_pickle_is_unverified() {
        let full = state_dict_pickle();
        let result = scan(&full[..40]).result();
        assert_eq!(result.verdict, PickleVerdict::Unverified);
        assert!(result.incomplete.is_some());
        // An unsafe import found before the cut still decides.
        let bad = os_system_pickle();
        assert_eq!(
            scan(&bad[..bad.len() - 1]).result().verdict,
            PickleVerdict::Unsafe
        );
    }

    #[test]
    fn malformed_pickles_never_panic() {
        for p in [
            &b"R."[..],
            b"0",
            b"t.",
            b"h\x05.",
            b"\xff",
            b"c\xff\xff",
            b"\x8d\xff\xff\xff\xff\xff\xff\xff\xff",
        ] {
            assert_eq!(scan(p).result().verdict, PickleVerdict::Unverified, "{p:?}");
        }
    }

    #[test]
    fn allowlist() {
        assert!(is_allowed("torch.FloatStorage", false));
        assert!(is_allowed("torch.bfloat16", false));
        assert!(is_allowed("__builtin__.set", false));
        assert!(!is_allowed("torch.load", false));
        assert!(!is_allowed("builtins.eval", false));
        assert!(!is_allowed("__builtin__.getattr", false));
        assert!(!is_allowed("__torch__.Net", false));
        assert!(is_allowed("__torch__.Net", true));
    }
}
