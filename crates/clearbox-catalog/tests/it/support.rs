//! Cataloging a directory tree, and locating the shared corpus.

use std::path::{Path, PathBuf};

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

/// The shared test corpus: `$CLEARBOX_CORPUS`, default `../shared/corpus` beside the
/// workspace. `None` (after a notice) when absent, unless `CI=true`, where absence fails.
pub(crate) fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("CLEARBOX_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    );
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "test corpus not found at {}; set CLEARBOX_CORPUS",
        dir.display()
    );
    eprintln!(
        "notice: test corpus not found at {}; set CLEARBOX_CORPUS to run this test",
        dir.display()
    );
    None
}
