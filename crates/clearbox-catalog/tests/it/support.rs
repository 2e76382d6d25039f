//! Cataloging a directory tree, and locating the shared corpus.

use std::path::Path;

use clearbox_catalog::{Catalog, catalog_image};
use clearbox_oci::{Image, ImageReference, NoProgress, ReadOptions};

/// Catalogs `root` as `dir:ROOT`.
pub(crate) fn catalog_dir(root: &Path) -> Catalog {
    let reference: ImageReference = format!("dir:{}", root.display()).parse().unwrap();
    let image = Image::open(&reference, &ReadOptions::default()).unwrap();
    catalog_image(&image, &ReadOptions::default(), &NoProgress)
        .unwrap()
        .catalog
}

/// Copies `from` to `root/relative`, creating parent directories.
pub(crate) fn place(root: &Path, relative: &str, from: &Path) {
    let to = root.join(relative);
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(from, &to).unwrap();
}

/// Writes `text` to `root/relative`.
pub(crate) fn write(root: &Path, relative: &str, text: &str) {
    let to = root.join(relative);
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::write(to, text).unwrap();
}

/// Unpacks a txtar archive into `root` and returns the paths it contained. Each file starts at
/// a `-- PATH --` line and runs to the next one. Text before the first such line is the
/// archive's comment. A file's last line gets a newline if it lacks one, as Go's `txtar`
/// package does.
pub(crate) fn unpack_txtar(archive: &str, root: &Path) -> Vec<String> {
    let mut files: Vec<(String, String)> = Vec::new();
    for line in archive.split_inclusive('\n') {
        let header = line
            .trim_end_matches('\n')
            .strip_prefix("-- ")
            .and_then(|rest| rest.strip_suffix(" --"))
            .map(str::trim)
            .filter(|name| !name.is_empty());
        match (header, files.last_mut()) {
            (Some(name), _) => files.push((name.to_owned(), String::new())),
            (None, Some((_, content))) => content.push_str(line),
            (None, None) => {}
        }
    }
    for (name, content) in &mut files {
        assert!(
            !name.starts_with('/') && !name.split('/').any(|part| part == ".."),
            "txtar path `{name}` leaves the root"
        );
        if !content.is_empty() && !content.ends_with('\n') {
            content.push('\n');
        }
        write(root, name, content);
    }
    files.into_iter().map(|(name, _)| name).collect()
}

pub(crate) use clearbox_testdata::corpus;
