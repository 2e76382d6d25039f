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

pub(crate) use clearbox_testdata::corpus;
