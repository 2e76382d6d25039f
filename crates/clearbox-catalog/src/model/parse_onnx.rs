//! Parser for ONNX models: the top-level fields of `ModelProto` and of its main `GraphProto`,
//! walked field by field on the protobuf wire format. Schema: `onnx/onnx.proto`
//! (<https://github.com/onnx/onnx/blob/main/onnx/onnx.proto>).
//!
//! Reads `ir_version`, `opset_import`, `producer_name`, `producer_version`, `domain`,
//! `model_version`, `metadata_props`, and from the graph its name, node count, initializers
//! (count, element count from their dims, data types, external data files) and its inputs and
//! outputs with element types and shapes. Tensor data, node attributes, subgraphs and functions
//! are skipped unread, so memory does not grow with the file.

use std::collections::{BTreeSet, HashSet};
use std::io::BufRead;

use crate::model::protobuf::{Wire, field, skip, text, varint, varint_field, varints};
use crate::model::stream::{ParseError, Source, invalid, shown};
use crate::model::{MAX_LISTED, push_problem};
use crate::package::ModelFacts;

/// Bytes kept of a name or string value.
const MAX_TEXT: usize = 256;
/// Metadata properties kept.
const MAX_METADATA: usize = 64;
/// Initializer names remembered to tell graph inputs from initializers.
const MAX_INITIALIZER_NAMES: usize = 1 << 20;
/// External data files named.
const MAX_EXTERNAL_FILES: usize = 16;

/// `ModelProto` field numbers.
mod model {
    pub(super) const IR_VERSION: u64 = 1;
    pub(super) const PRODUCER_NAME: u64 = 2;
    pub(super) const PRODUCER_VERSION: u64 = 3;
    pub(super) const DOMAIN: u64 = 4;
    pub(super) const MODEL_VERSION: u64 = 5;
    pub(super) const GRAPH: u64 = 7;
    pub(super) const OPSET_IMPORT: u64 = 8;
    pub(super) const METADATA_PROPS: u64 = 14;
}

/// `GraphProto` field numbers.
mod graph {
    pub(super) const NODE: u64 = 1;
    pub(super) const NAME: u64 = 2;
    pub(super) const INITIALIZER: u64 = 5;
    pub(super) const INPUT: u64 = 11;
    pub(super) const OUTPUT: u64 = 12;
    pub(super) const SPARSE_INITIALIZER: u64 = 15;
}

/// Parses an ONNX model from its first byte, filling `facts` as it goes.
pub(crate) fn parse_onnx<R: BufRead>(
    src: &mut Source<R>,
    facts: &mut ModelFacts,
) -> Result<(), ParseError> {
    let mut producer_name = None;
    let mut producer_version = None;
    let mut seen_ir_version = false;
    while let Some((number, wire)) = field(src)? {
        match (number, wire) {
            (model::IR_VERSION, Wire::Varint) => {
                seen_ir_version = true;
                facts.format_version = Some(varint(src)?.to_string());
            }
            (model::PRODUCER_NAME, Wire::Len) => producer_name = Some(text(src, MAX_TEXT)?),
            (model::PRODUCER_VERSION, Wire::Len) => producer_version = Some(text(src, MAX_TEXT)?),
            (model::DOMAIN, Wire::Len) => {
                let domain = text(src, MAX_TEXT)?;
                facts.metadata.insert("onnx.domain".to_owned(), domain);
            }
            (model::MODEL_VERSION, Wire::Varint) => {
                let version = varint(src)?;
                facts
                    .metadata
                    .insert("onnx.model_version".to_owned(), version.to_string());
            }
            (model::OPSET_IMPORT, Wire::Len) => {
                let len = varint(src)?;
                let (domain, version) = src.nested(len, opset)?;
                let domain = if domain.is_empty() {
                    "ai.onnx".to_owned()
                } else {
                    domain
                };
                facts.opsets.insert(domain, version);
            }
            (model::METADATA_PROPS, Wire::Len) => {
                let len = varint(src)?;
                let (key, value) = src.nested(len, string_pair)?;
                if facts.metadata.len() < MAX_METADATA {
                    facts.metadata.insert(key, value);
                }
            }
            (model::GRAPH, Wire::Len) => {
                let len = varint(src)?;
                src.nested(len, |g| parse_graph(g, facts))?;
            }
            (_, wire) => skip(src, wire)?,
        }
    }
    if !seen_ir_version {
        // Every ModelProto must state it, and any bytes parse as some protobuf, so its absence
        // is the sign of a file that is not ONNX.
        return invalid("not an ONNX model: `ir_version` is missing");
    }
    facts.producer = match (producer_name, producer_version) {
        (Some(name), Some(version)) if !version.is_empty() => Some(format!("{name} {version}")),
        (Some(name), _) if !name.is_empty() => Some(name),
        _ => None,
    };
    Ok(())
}

fn opset<R: BufRead>(src: &mut Source<R>) -> Result<(String, u64), ParseError> {
    let mut domain = String::new();
    let mut version = 0;
    while let Some((number, wire)) = field(src)? {
        match (number, wire) {
            (1, Wire::Len) => domain = text(src, MAX_TEXT)?,
            (2, Wire::Varint) => version = varint(src)?,
            (_, wire) => skip(src, wire)?,
        }
    }
    Ok((domain, version))
}

/// Reads a `StringStringEntryProto`.
fn string_pair<R: BufRead>(src: &mut Source<R>) -> Result<(String, String), ParseError> {
    let mut key = String::new();
    let mut value = String::new();
    while let Some((number, wire)) = field(src)? {
        match (number, wire) {
            (1, Wire::Len) => key = text(src, MAX_TEXT)?,
            (2, Wire::Len) => value = text(src, MAX_TEXT)?,
            (_, wire) => skip(src, wire)?,
        }
    }
    Ok((key, value))
}

/// What the graph walk keeps beyond `facts`.
#[derive(Default)]
struct GraphState {
    nodes: u64,
    initializers: u64,
    elements: u64,
    initializer_names: HashSet<u64>,
    inputs: Vec<(u64, String)>,
    outputs: Vec<String>,
    output_count: u64,
    external_files: BTreeSet<String>,
}

fn parse_graph<R: BufRead>(src: &mut Source<R>, facts: &mut ModelFacts) -> Result<(), ParseError> {
    let mut state = GraphState::default();
    let result = walk_graph(src, facts, &mut state);

    // Whatever was read before a problem still counts.
    facts.node_count = Some(state.nodes);
    facts.tensor_count = Some(state.initializers);
    facts.parameter_count = Some(state.elements);
    let real_inputs: Vec<&(u64, String)> = state
        .inputs
        .iter()
        .filter(|(hash, _)| !state.initializer_names.contains(hash))
        .collect();
    facts.metadata.insert(
        "onnx.graph_inputs".to_owned(),
        real_inputs.len().to_string(),
    );
    facts.inputs = real_inputs
        .into_iter()
        .take(MAX_LISTED)
        .map(|(_, shown)| shown.clone())
        .collect();
    facts.metadata.insert(
        "onnx.graph_outputs".to_owned(),
        state.output_count.to_string(),
    );
    facts.outputs = state.outputs;
    if !state.external_files.is_empty() {
        let files: Vec<String> = state.external_files.into_iter().collect();
        facts
            .metadata
            .insert("onnx.external_data".to_owned(), files.join(", "));
    }
    result
}

fn walk_graph<R: BufRead>(
    src: &mut Source<R>,
    facts: &mut ModelFacts,
    state: &mut GraphState,
) -> Result<(), ParseError> {
    while let Some((number, wire)) = field(src)? {
        match (number, wire) {
            (graph::NODE, Wire::Len) => {
                state.nodes += 1;
                skip(src, wire)?;
            }
            (graph::NAME, Wire::Len) => {
                let name = text(src, MAX_TEXT)?;
                facts.metadata.insert("onnx.graph_name".to_owned(), name);
            }
            (graph::INITIALIZER, Wire::Len) => {
                let len = varint(src)?;
                let tensor = src.nested(len, tensor)?;
                add_initializer(facts, state, &tensor);
            }
            (graph::SPARSE_INITIALIZER, Wire::Len) => {
                let len = varint(src)?;
                let tensor = src.nested(len, sparse_tensor)?;
                add_initializer(facts, state, &tensor);
            }
            (graph::INPUT, Wire::Len) => {
                let len = varint(src)?;
                let (name, shown) = src.nested(len, value_info)?;
                // Inputs are kept in full until the end, when initializers are known; the cap
                // bounds memory for a hostile graph with millions of inputs.
                if state.inputs.len() < MAX_INITIALIZER_NAMES {
                    state.inputs.push((name_hash(&name), shown));
                }
            }
            (graph::OUTPUT, Wire::Len) => {
                let len = varint(src)?;
                let (_, shown) = src.nested(len, value_info)?;
                state.output_count += 1;
                if state.outputs.len() < MAX_LISTED {
                    state.outputs.push(shown);
                }
            }
            (_, wire) => skip(src, wire)?,
        }
    }
    Ok(())
}

fn add_initializer(facts: &mut ModelFacts, state: &mut GraphState, tensor: &Tensor) {
    state.initializers += 1;
    match tensor.elements {
        Some(elements) => state.elements = state.elements.saturating_add(elements),
        None => push_problem(
            facts,
            format!(
                "initializer `{}` has a shape whose element count overflows",
                shown(&tensor.name)
            ),
        ),
    }
    *facts
        .dtypes
        .entry(data_type_name(tensor.data_type))
        .or_default() += 1;
    if state.initializer_names.len() < MAX_INITIALIZER_NAMES {
        state.initializer_names.insert(name_hash(&tensor.name));
    }
    if let Some(location) = &tensor.external
        && state.external_files.len() < MAX_EXTERNAL_FILES
    {
        state.external_files.insert(location.clone());
    }
}

fn name_hash(name: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut hasher);
    hasher.finish()
}

/// The parts of a `TensorProto` kept.
#[derive(Default)]
struct Tensor {
    name: String,
    data_type: u64,
    /// Product of `dims`; `None` when it overflows.
    elements: Option<u64>,
    /// `external_data` `location`.
    external: Option<String>,
}

fn tensor<R: BufRead>(src: &mut Source<R>) -> Result<Tensor, ParseError> {
    let mut tensor = Tensor {
        elements: Some(1),
        ..Tensor::default()
    };
    while let Some((number, wire)) = field(src)? {
        match (number, wire) {
            (1, wire) => varints(src, wire, |d| {
                tensor.elements = tensor.elements.and_then(|e| e.checked_mul(d));
            })?,
            (2, wire) => tensor.data_type = varint_field(src, wire)?.unwrap_or(0),
            (8, Wire::Len) => tensor.name = text(src, MAX_TEXT)?,
            (13, Wire::Len) => {
                let len = varint(src)?;
                let (key, value) = src.nested(len, string_pair)?;
                if key == "location" {
                    tensor.external = Some(value);
                }
            }
            (_, wire) => skip(src, wire)?,
        }
    }
    Ok(tensor)
}

/// Reads a `SparseTensorProto`: its `values` tensor gives the name and type, its `dims` the
/// dense shape.
fn sparse_tensor<R: BufRead>(src: &mut Source<R>) -> Result<Tensor, ParseError> {
    let mut values = Tensor::default();
    let mut elements = Some(1u64);
    while let Some((number, wire)) = field(src)? {
        match (number, wire) {
            (1, Wire::Len) => {
                let len = varint(src)?;
                values = src.nested(len, tensor)?;
            }
            (3, wire) => varints(src, wire, |d| {
                elements = elements.and_then(|e| e.checked_mul(d));
            })?,
            (_, wire) => skip(src, wire)?,
        }
    }
    values.elements = elements;
    Ok(values)
}

/// Reads a `ValueInfoProto` as its name and `name: TYPE[dims]`.
fn value_info<R: BufRead>(src: &mut Source<R>) -> Result<(String, String), ParseError> {
    let mut name = String::new();
    let mut kind = String::new();
    while let Some((number, wire)) = field(src)? {
        match (number, wire) {
            (1, Wire::Len) => name = text(src, MAX_TEXT)?,
            (2, Wire::Len) => {
                let len = varint(src)?;
                kind = src.nested(len, type_proto)?;
            }
            (_, wire) => skip(src, wire)?,
        }
    }
    let shown = if kind.is_empty() {
        name.clone()
    } else {
        format!("{name}: {kind}")
    };
    Ok((name, shown))
}

/// Reads a `TypeProto` as `FLOAT[1,3,224,224]`, `sequence`, `map` or `optional`.
fn type_proto<R: BufRead>(src: &mut Source<R>) -> Result<String, ParseError> {
    let mut kind = String::new();
    while let Some((number, wire)) = field(src)? {
        match (number, wire) {
            (1, Wire::Len) => {
                let len = varint(src)?;
                kind = src.nested(len, tensor_type)?;
            }
            (4, _) => {
                "sequence".clone_into(&mut kind);
                skip(src, wire)?;
            }
            (5, _) => {
                "map".clone_into(&mut kind);
                skip(src, wire)?;
            }
            (8, _) => {
                "sparse tensor".clone_into(&mut kind);
                skip(src, wire)?;
            }
            (9, _) => {
                "optional".clone_into(&mut kind);
                skip(src, wire)?;
            }
            (_, wire) => skip(src, wire)?,
        }
    }
    Ok(kind)
}

/// Reads `TypeProto.Tensor`: element type and shape.
fn tensor_type<R: BufRead>(src: &mut Source<R>) -> Result<String, ParseError> {
    let mut element = 0;
    let mut dims: Option<Vec<String>> = None;
    while let Some((number, wire)) = field(src)? {
        match (number, wire) {
            (1, wire) => element = varint_field(src, wire)?.unwrap_or(0),
            (2, Wire::Len) => {
                let len = varint(src)?;
                dims = Some(src.nested(len, shape)?);
            }
            (_, wire) => skip(src, wire)?,
        }
    }
    let element = data_type_name(element);
    Ok(match dims {
        Some(dims) => format!("{element}[{}]", dims.join(",")),
        None => element,
    })
}

/// Dimensions listed of a shape; further ones are shown as `…`.
const MAX_DIMS: usize = 16;

fn shape<R: BufRead>(src: &mut Source<R>) -> Result<Vec<String>, ParseError> {
    let mut dims = Vec::new();
    while let Some((number, wire)) = field(src)? {
        if (number, wire) != (1, Wire::Len) {
            skip(src, wire)?;
            continue;
        }
        let len = varint(src)?;
        let dim = src.nested(len, |d| {
            let mut dim = "?".to_owned();
            while let Some((number, wire)) = field(d)? {
                match (number, wire) {
                    (1, Wire::Varint) => dim = varint(d)?.to_string(),
                    (2, Wire::Len) => dim = text(d, 64)?,
                    (_, wire) => skip(d, wire)?,
                }
            }
            Ok(dim)
        })?;
        match dims.len() {
            n if n < MAX_DIMS => dims.push(dim),
            MAX_DIMS => dims.push("…".to_owned()),
            _ => {}
        }
    }
    Ok(dims)
}

/// Returns the `TensorProto.DataType` name of a data type number.
fn data_type_name(id: u64) -> String {
    let name = match id {
        0 => "UNDEFINED",
        1 => "FLOAT",
        2 => "UINT8",
        3 => "INT8",
        4 => "UINT16",
        5 => "INT16",
        6 => "INT32",
        7 => "INT64",
        8 => "STRING",
        9 => "BOOL",
        10 => "FLOAT16",
        11 => "DOUBLE",
        12 => "UINT32",
        13 => "UINT64",
        14 => "COMPLEX64",
        15 => "COMPLEX128",
        16 => "BFLOAT16",
        17 => "FLOAT8E4M3FN",
        18 => "FLOAT8E4M3FNUZ",
        19 => "FLOAT8E5M2",
        20 => "FLOAT8E5M2FNUZ",
        21 => "UINT4",
        22 => "INT4",
        23 => "FLOAT4E2M1",
        other => return format!("type {other}"),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn opsets_shown(opsets: &BTreeMap<String, u64>) -> String {
        opsets
            .iter()
            .map(|(domain, version)| format!("{domain}={version}"))
            .collect::<Vec<_>>()
            .join(",")
    }
    use crate::model::protobuf::tests::{Message, encode_varint};

    fn parse(bytes: &[u8]) -> (ModelFacts, Option<String>) {
        let mut facts = ModelFacts::default();
        let problem = match parse_onnx(&mut Source::new(bytes), &mut facts) {
            Ok(()) => None,
            Err(ParseError::Format(p)) => Some(p),
            Err(ParseError::Io(e)) => panic!("{e}"),
        };
        (facts, problem)
    }

    fn value_info(name: &str, elem_type: u64, dims: &[u64]) -> Message {
        let mut shape = Message::default();
        for d in dims {
            shape = shape.message(1, &Message::default().varint(1, *d));
        }
        let tensor_type = Message::default().varint(1, elem_type).message(2, &shape);
        Message::default()
            .text(1, name)
            .message(2, &Message::default().message(1, &tensor_type))
    }

    fn model() -> Message {
        let weight = Message::default()
            .varint(1, 4)
            .varint(1, 3)
            .varint(2, 1)
            .text(8, "w")
            .bytes(9, &[0; 48]);
        let mut packed = Vec::new();
        encode_varint(&mut packed, 4);
        let bias = Message::default()
            .bytes(1, &packed)
            .varint(2, 1)
            .text(8, "b");
        let node = Message::default().text(1, "x").text(2, "y").text(4, "Gemm");
        let graph = Message::default()
            .message(1, &node)
            .text(2, "tiny")
            .message(5, &weight)
            .message(5, &bias)
            .message(11, &value_info("x", 1, &[1, 3]))
            .message(11, &value_info("w", 1, &[4, 3]))
            .message(12, &value_info("y", 1, &[1, 4]));
        Message::default()
            .varint(1, 8)
            .text(2, "pytorch")
            .text(3, "2.1.0")
            .message(7, &graph)
            .message(8, &Message::default().text(1, "").varint(2, 17))
            .message(8, &Message::default().text(1, "com.microsoft").varint(2, 1))
            .message(14, &Message::default().text(1, "author").text(2, "me"))
    }

    #[test]
    fn model_and_graph_facts() {
        let (facts, problem) = parse(&model().0);
        assert_eq!(problem, None);
        assert_eq!(facts.format_version.as_deref(), Some("8"));
        assert_eq!(facts.producer.as_deref(), Some("pytorch 2.1.0"));
        assert_eq!(opsets_shown(&facts.opsets), "ai.onnx=17,com.microsoft=1");
        assert_eq!(facts.metadata["author"], "me");
        assert_eq!(facts.metadata["onnx.graph_name"], "tiny");
        assert_eq!(facts.node_count, Some(1));
        assert_eq!(facts.tensor_count, Some(2));
        assert_eq!(facts.parameter_count, Some(16));
        assert_eq!(facts.dtypes["FLOAT"], 2);
        // `w` is an initializer, so only `x` is a real input.
        assert_eq!(facts.inputs, ["x: FLOAT[1,3]"]);
        assert_eq!(facts.outputs, ["y: FLOAT[1,4]"]);
    }

    #[test]
    fn cut_model_keeps_what_came_before() {
        let bytes = model().0;
        let (facts, problem) = parse(&bytes[..bytes.len() - 40]);
        assert!(problem.unwrap().starts_with("file ends"));
        assert_eq!(facts.format_version.as_deref(), Some("8"));
        assert_eq!(facts.tensor_count, Some(2));
    }

    #[test]
    fn text_is_not_onnx() {
        let (_, problem) = parse(b"not a model at all");
        assert!(problem.is_some());
        let (_, problem) = parse(b"");
        assert_eq!(
            problem.as_deref(),
            Some("not an ONNX model: `ir_version` is missing")
        );
    }

    #[test]
    fn huge_length_claim_is_bounded() {
        // A graph field that claims 2^62 bytes.
        let mut bytes = Message::default().varint(1, 7).0;
        bytes.push(0x3a);
        encode_varint(&mut bytes, 1 << 62);
        let (_, problem) = parse(&bytes);
        assert!(problem.unwrap().starts_with("file ends"));
    }
}
