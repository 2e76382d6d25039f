//! Catalogers on real files: corpus fixtures read through `dir:`, and real binaries from the
//! machine's Debian packages.

mod apk;
mod dpkg;
mod elf;
mod golang;
mod java;
mod model;
mod npm;
mod python;
mod python_extras;
mod rpm;
mod rust;
mod support;
mod unowned;
