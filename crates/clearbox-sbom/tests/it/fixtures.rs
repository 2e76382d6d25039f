//! A realistic catalog of an AI image: Debian packages with source packages and licences (some
//! not SPDX), Python packages (one installed twice), Go modules and the standard library, a
//! model with every fact and a model whose weights have problems.

use std::collections::BTreeMap;

use clearbox_catalog::{
    Catalog, Distro, FileHash, Location, ModelCardFacts, ModelConfig, ModelFacts, ModelFile,
    Package, PackageKind, PickleScan, PickleVerdict, Purl, SourcePackage, TokenizerFacts,
};
use clearbox_sbom::Subject;

pub(crate) const BASE_LAYER: &str =
    "sha256:1a5d7b7e0f9c4b3e8d2a6f1c0b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e";
pub(crate) const APP_LAYER: &str =
    "sha256:2b6e8c8f1a0d5c4f9e3b7a2d1c0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f";
pub(crate) const MODEL_SHA256: &str =
    "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";
pub(crate) const BROKEN_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

pub(crate) fn subject() -> Subject {
    Subject {
        reference: "oci:target/example-image:latest".to_owned(),
        name: "clearbox-example-ai".to_owned(),
        manifest_digest: Some(
            "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".to_owned(),
        ),
        config_digest: Some(
            "sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752".to_owned(),
        ),
        created: "2025-01-01T00:00:00Z".to_owned(),
        tool_version: "0.1.0".to_owned(),
    }
}

fn location(path: &str, layer: &str) -> Location {
    Location {
        path: path.to_owned(),
        layer: Some(layer.to_owned()),
    }
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|s| (*s).to_owned()).collect()
}

fn base(name: &str, version: &str, kind: PackageKind, purl: Purl) -> Package {
    Package {
        name: name.to_owned(),
        version: version.to_owned(),
        kind,
        purl,
        licenses: Vec::new(),
        supplier: None,
        description: None,
        homepage: None,
        source: None,
        arch: None,
        found_by: "",
        locations: Vec::new(),
        hashes: Vec::new(),
        model: None,
        properties: BTreeMap::new(),
    }
}

struct Deb<'a> {
    name: &'a str,
    version: &'a str,
    arch: &'a str,
    source: (&'a str, &'a str),
    licenses: &'a [&'a str],
    maintainer: &'a str,
    description: &'a str,
}

fn deb(d: &Deb<'_>) -> Package {
    let mut purl = Purl::new("deb", Some("debian"), d.name, Some(d.version))
        .with_qualifier("arch", d.arch)
        .with_qualifier("distro", "debian-12");
    if d.source.0 != d.name {
        purl = purl.with_qualifier("upstream", &format!("{}@{}", d.source.0, d.source.1));
    }
    Package {
        licenses: strings(d.licenses),
        supplier: Some(d.maintainer.to_owned()),
        description: Some(d.description.to_owned()),
        source: Some(SourcePackage {
            name: d.source.0.to_owned(),
            version: d.source.1.to_owned(),
        }),
        arch: Some(d.arch.to_owned()),
        found_by: "dpkg-db-cataloger",
        properties: BTreeMap::from([("dpkg:installed-size-kib".to_owned(), "1024".to_owned())]),
        locations: vec![
            location("/var/lib/dpkg/status", BASE_LAYER),
            location(&format!("/usr/share/doc/{}/copyright", d.name), BASE_LAYER),
        ],
        ..base(d.name, d.version, PackageKind::Deb, purl)
    }
}

fn debs() -> Vec<Package> {
    vec![
        deb(&Deb {
            name: "gcc-12-base",
            version: "12.2.0-14",
            arch: "amd64",
            source: ("gcc-12", "12.2.0-14"),
            licenses: &[
                "GPL-3+",
                "GFDL-1.2+",
                "Artistic",
                "GPL-2+ with GCC exception",
            ],
            maintainer: "Debian GCC Maintainers <debian-gcc@lists.debian.org>",
            description: "GCC, the GNU Compiler Collection (base package)",
        }),
        deb(&Deb {
            name: "libc6",
            version: "2.36-9+deb12u10",
            arch: "amd64",
            source: ("glibc", "2.36-9+deb12u10"),
            licenses: &["GPL-2+", "LGPL-2.1+", "public-domain"],
            maintainer: "GNU Libc Maintainers <debian-glibc@lists.debian.org>",
            description: "GNU C Library: Shared libraries",
        }),
        deb(&Deb {
            name: "libexpat1",
            version: "2.5.0-1+deb12u1",
            arch: "amd64",
            source: ("expat", "2.5.0-1+deb12u1"),
            licenses: &["Expat"],
            maintainer: "Laszlo Boszormenyi (GCS) <gcs@debian.org>",
            description: "XML parsing C library - runtime library",
        }),
        deb(&Deb {
            name: "tzdata",
            version: "2024a-0+deb12u1",
            arch: "all",
            source: ("tzdata", "2024a-0+deb12u1"),
            licenses: &["public-domain"],
            maintainer: "GNU Libc Maintainers <debian-glibc@lists.debian.org>",
            description: "time zone and daylight-saving time data",
        }),
        deb(&Deb {
            name: "zlib1g",
            version: "1:1.2.13.dfsg-1",
            arch: "amd64",
            source: ("zlib", "1:1.2.13.dfsg-1"),
            licenses: &["Zlib"],
            maintainer: "Mark Brown <broonie@debian.org>",
            description: "compression library - runtime",
        }),
    ]
}

fn python(name: &str, version: &str, licenses: &[&str], path: &str) -> Package {
    Package {
        licenses: strings(licenses),
        found_by: "python-installed-package-cataloger",
        locations: vec![location(path, APP_LAYER)],
        properties: BTreeMap::from([("python:installer".to_owned(), "pip".to_owned())]),
        ..base(
            name,
            version,
            PackageKind::Python,
            Purl::new("pypi", None, name, Some(version)),
        )
    }
}

fn pythons() -> Vec<Package> {
    let site = "/opt/venv/lib/python3.11/site-packages";
    vec![
        python(
            "certifi",
            "2024.2.2",
            &["MPL-2.0"],
            "/usr/lib/python3/dist-packages/certifi-2024.2.2.dist-info/METADATA",
        ),
        python(
            "certifi",
            "2024.2.2",
            &["MPL-2.0"],
            &format!("{site}/certifi-2024.2.2.dist-info/METADATA"),
        ),
        python(
            "cryptography",
            "42.0.5",
            &["Apache-2.0 OR BSD-3-Clause"],
            &format!("{site}/cryptography-42.0.5.dist-info/METADATA"),
        ),
        Package {
            supplier: Some("Armin Ronacher <armin.ronacher@active-4.com>".to_owned()),
            description: Some("Un moteur de gabarits — rapide, sûr ✓ (模板引擎)".to_owned()),
            homepage: Some("https://palletsprojects.com/p/jinja/".to_owned()),
            ..python(
                "Jinja2",
                "3.1.2",
                &["BSD-3-Clause"],
                &format!("{site}/Jinja2-3.1.2.dist-info/METADATA"),
            )
        },
        python(
            "naïve-ünïcode",
            "0.1",
            &["Licence Libre du Québec – Réciprocité forte (LiLiQ-R+)"],
            &format!("{site}/naïve_ünïcode-0.1.dist-info/METADATA"),
        ),
    ]
}

fn go(name: &str, version: &str, kind: PackageKind, purl: Purl) -> Package {
    Package {
        found_by: "go-module-binary-cataloger",
        locations: vec![location("/usr/local/bin/model-server", APP_LAYER)],
        ..base(name, version, kind, purl)
    }
}

fn gos() -> Vec<Package> {
    vec![
        go(
            "golang.org/x/crypto",
            "v0.21.0",
            PackageKind::GoModule,
            Purl::new("golang", Some("golang.org/x"), "crypto", Some("v0.21.0")),
        ),
        go(
            "github.com/prometheus/client_golang",
            "v1.19.0",
            PackageKind::GoModule,
            Purl::new(
                "golang",
                Some("github.com/prometheus"),
                "client_golang",
                Some("v1.19.0"),
            ),
        ),
        Package {
            licenses: strings(&["BSD-3-Clause"]),
            ..go(
                "stdlib",
                "go1.22.1",
                PackageKind::GoStdlib,
                Purl::new("golang", None, "stdlib", Some("1.22.1")),
            )
        },
    ]
}

pub(crate) fn full_model() -> ModelFacts {
    ModelFacts {
        format: "safetensors".to_owned(),
        file_size: 90_868_376,
        tensor_count: Some(101),
        parameter_count: Some(22_713_216),
        dtypes: BTreeMap::from([("F32".to_owned(), 101)]),
        metadata: BTreeMap::from([("format".to_owned(), "pt".to_owned())]),
        config: Some(ModelConfig {
            path: "/models/all-MiniLM-L6-v2/config.json".to_owned(),
            architectures: strings(&["BertModel"]),
            model_type: Some("bert".to_owned()),
            hidden_size: Some(384),
            num_hidden_layers: Some(6),
            num_attention_heads: Some(12),
            vocab_size: Some(30522),
            max_position_embeddings: Some(512),
            name_or_path: Some("nreimers/MiniLM-L6-H384-uncased".to_owned()),
        }),
        card: Some(ModelCardFacts {
            path: "/models/all-MiniLM-L6-v2/README.md".to_owned(),
            pipeline_tag: Some("sentence-similarity".to_owned()),
            license: Some("apache-2.0".to_owned()),
            datasets: strings(&[
                "s2orc",
                "flax-sentence-embeddings/stackexchange_xml",
                "ms_marco",
            ]),
            languages: strings(&["en"]),
            library_name: Some("sentence-transformers".to_owned()),
            base_models: Vec::new(),
        }),
        problems: Vec::new(),
        ..ModelFacts::default()
    }
}

/// A GGUF model in two shards whose second shard is an unsafe pickle, to carry every kind of
/// model fact the encoders write.
fn sharded_gguf() -> Package {
    let shard = |n: u32, sha: &str| ModelFile {
        path: format!("/models/tiny/tiny-0000{n}-of-00002.gguf"),
        size: 4096,
        sha256: sha.to_owned(),
    };
    let facts = ModelFacts {
        format: "gguf".to_owned(),
        file_size: 8192,
        tensor_count: Some(3),
        parameter_count: Some(1280),
        dtypes: BTreeMap::from([("Q4_K".to_owned(), 2), ("F32".to_owned(), 1)]),
        metadata: BTreeMap::from([("general.license".to_owned(), "mit".to_owned())]),
        name: Some("Tiny".to_owned()),
        format_version: Some("3".to_owned()),
        architecture: Some("llama".to_owned()),
        quantization: Some("MOSTLY_Q4_K_M".to_owned()),
        context_length: Some(2048),
        producer: Some("llama.cpp".to_owned()),
        opsets: BTreeMap::from([("ai.onnx".to_owned(), 17)]),
        node_count: Some(12),
        inputs: strings(&["x: FLOAT[1,3]"]),
        outputs: strings(&["y: FLOAT[1,4]"]),
        tensors: strings(&["x: <i8[10]"]),
        pickle: Some(PickleScan {
            verdict: PickleVerdict::Unsafe,
            protocol: Some(2),
            imports: strings(&["os.system"]),
            unsafe_imports: strings(&["os.system"]),
            incomplete: None,
        }),
        tokenizer: Some(TokenizerFacts {
            path: "/models/tiny/tokenizer.json".to_owned(),
            model_type: Some("BPE".to_owned()),
            vocab_size: Some(32000),
            added_tokens: Some(3),
        }),
        files: vec![shard(1, MODEL_SHA256), shard(2, BROKEN_SHA256)],
        warnings: strings(&["unsafe pickle: it imports `os.system`"]),
        ..ModelFacts::default()
    };
    Package {
        licenses: strings(&["MIT"]),
        found_by: "model-file-cataloger",
        locations: facts
            .files
            .iter()
            .map(|f| location(&f.path, APP_LAYER))
            .collect(),
        hashes: facts
            .files
            .iter()
            .map(|f| FileHash {
                algorithm: "SHA256",
                value: f.sha256.clone(),
            })
            .collect(),
        model: Some(facts),
        ..base(
            "Tiny",
            "",
            PackageKind::Model,
            Purl::new("generic", None, "Tiny", None).with_qualifier(
                "checksum",
                &format!("sha256:{MODEL_SHA256},sha256:{BROKEN_SHA256}"),
            ),
        )
    }
}

fn models() -> Vec<Package> {
    let full = Package {
        licenses: strings(&["apache-2.0"]),
        found_by: "safetensors-model-cataloger",
        locations: vec![location(
            "/models/all-MiniLM-L6-v2/model.safetensors",
            APP_LAYER,
        )],
        hashes: vec![FileHash {
            algorithm: "SHA256",
            value: MODEL_SHA256.to_owned(),
        }],
        model: Some(full_model()),
        properties: BTreeMap::from([(
            "model:owned-by".to_owned(),
            "pkg:pypi/sentence-transformers@2.7.0".to_owned(),
        )]),
        ..base(
            "all-MiniLM-L6-v2",
            "8b3219a92973c328a8e22fadcfa821b5dc75636a",
            PackageKind::Model,
            Purl::new(
                "huggingface",
                Some("sentence-transformers"),
                "all-MiniLM-L6-v2",
                Some("8b3219a92973c328a8e22fadcfa821b5dc75636a"),
            ),
        )
    };
    let broken = Package {
        found_by: "safetensors-model-cataloger",
        locations: vec![location("/models/broken/model.safetensors", APP_LAYER)],
        hashes: vec![FileHash {
            algorithm: "SHA256",
            value: BROKEN_SHA256.to_owned(),
        }],
        model: Some(ModelFacts {
            format: "safetensors".to_owned(),
            file_size: 1024,
            problems: strings(&[
                "header length 4096 runs past the end of the 1024-byte file",
                "no tensors could be read",
            ]),
            ..ModelFacts::default()
        }),
        ..base(
            "broken",
            "",
            PackageKind::Model,
            Purl::new("generic", None, "broken", None)
                .with_qualifier("checksum", &format!("sha256:{BROKEN_SHA256}")),
        )
    };
    vec![full, broken, sharded_gguf()]
}

/// The whole catalog, sorted by kind, name, version and first location like a real one.
pub(crate) fn catalog() -> Catalog {
    let mut packages = debs();
    packages.extend(pythons());
    packages.extend(gos());
    packages.extend(models());
    packages.sort_by(|a, b| {
        let first = |p: &Package| p.locations.first().map(|l| l.path.clone());
        (a.kind, &a.name, &a.version, first(a)).cmp(&(b.kind, &b.name, &b.version, first(b)))
    });
    Catalog {
        distro: Some(Distro {
            id: "debian".to_owned(),
            version_id: Some("12".to_owned()),
            codename: Some("bookworm".to_owned()),
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".to_owned()),
        }),
        packages,
        unknowns: Vec::new(),
    }
}

/// Parses encoder output as JSON.
pub(crate) fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).expect("encoder output is JSON")
}
