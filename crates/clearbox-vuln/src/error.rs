//! The crate's error type.

use std::path::PathBuf;

/// Why an advisory database operation, an import or a report failed.
///
/// Malformed advisory records are not errors: an import lists them in
/// [`ImportReport::rejected`](crate::ImportReport::rejected) and goes on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VulnError {
    /// The database file could not be opened or created.
    #[error("cannot open advisory database `{}`", path.display())]
    Open {
        /// Database path.
        path: PathBuf,
        /// What SQLite reported.
        #[source]
        source: rusqlite::Error,
    },
    /// The database was written by a newer clearbox with a schema this build does not know.
    #[error(
        "advisory database `{}` has schema version {found}, but this clearbox supports only \
         version {supported}; open it with a newer clearbox or import into a new database",
        path.display()
    )]
    NewerSchema {
        /// Database path.
        path: PathBuf,
        /// `PRAGMA user_version` of the file.
        found: i64,
        /// The schema version this build writes.
        supported: i64,
    },
    /// A database of an older schema version could not be migrated to the current one.
    #[error(
        "cannot migrate advisory database `{}` from schema version {found} to {supported}; \
         import the advisory sources into a new database",
        path.display()
    )]
    Migrate {
        /// Database path.
        path: PathBuf,
        /// `PRAGMA user_version` of the file.
        found: i64,
        /// The schema version this build writes.
        supported: i64,
        /// Why the migration failed; the file is left as it was.
        #[source]
        source: Box<VulnError>,
    },
    /// The file is an SQLite database, but not one clearbox created.
    #[error(
        "`{}` is an SQLite database without a clearbox schema; use another path for the \
         advisory database",
        path.display()
    )]
    ForeignDatabase {
        /// Database path.
        path: PathBuf,
    },
    /// A query or an update failed.
    #[error("advisory database query failed")]
    Sqlite(#[from] rusqlite::Error),
    /// A file or directory of an import source could not be read.
    #[error("cannot read `{}`", path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The operating system error.
        #[source]
        source: std::io::Error,
    },
    /// A zip archive could not be read.
    #[error("cannot read zip archive `{}`", path.display())]
    Zip {
        /// Archive path.
        path: PathBuf,
        /// What the zip reader reported.
        #[source]
        source: zip::result::ZipError,
    },
    /// An import source is neither a directory nor a file type the importer reads.
    #[error(
        "import source `{}` is not a directory or a `.json`, `.yaml`, `.yml` or `.zip` file",
        path.display()
    )]
    UnsupportedSource {
        /// The source as given.
        path: PathBuf,
    },
    /// A VEX file could not be read: missing, not a regular file, or too large.
    #[error("cannot read VEX document `{}`", path.display())]
    ReadVex {
        /// The path as given.
        path: PathBuf,
        /// The operating system error, or a [`clearbox_oci::FileProblem`] inside one.
        #[source]
        source: std::io::Error,
    },
    /// A VEX document is not valid OpenVEX or CycloneDX VEX.
    #[error("invalid VEX document `{document}`: {reason}")]
    InvalidVex {
        /// The document as named by the caller.
        document: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A record stored in the database no longer parses; the database file was changed by
    /// something other than clearbox.
    #[error("stored advisory `{id}` is not a valid OSV record; import its source again")]
    CorruptRecord {
        /// Advisory id.
        id: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A report could not be serialised.
    #[error("cannot encode the vulnerability report")]
    Encode(#[source] serde_json::Error),
    /// A report could not be written.
    #[error("cannot write the vulnerability report")]
    Write(#[source] std::io::Error),
}
