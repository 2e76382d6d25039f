//! Catalogers on real files: corpus fixtures read through `dir:`, and real binaries from the
//! machine's Debian packages.

mod dpkg;
mod golang;
mod model;
mod python;
mod support;
