//! Reader for the SQLite rpm database (`rpmdb.sqlite`, rpm 4.16 and later): table
//! `Packages(hnum INTEGER PRIMARY KEY, blob BLOB)`, one stored header per row. Schema from
//! `lib/backend/sqlite.c` in rpm's source.
//!
//! The database is opened read-only and immutable, so SQLite neither takes locks nor looks for
//! a write-ahead log beside the copy. Because the file comes from the image, it is treated as
//! hostile. `Packages` must be a plain table without generated columns, so that reading it runs
//! no view, virtual table or expression the file defines. Values are capped at rpm's header size
//! limit and the number of rows read is capped too. NOTE: changes still in an `rpmdb.sqlite-wal` file of the
//! image are not seen. rpm checkpoints the log when a transaction ends, so an image built with
//! rpm has none.

use std::fmt::Write as _;
use std::path::Path;

use rusqlite::limits::Limit;
use rusqlite::{Connection, ErrorCode, OpenFlags};

/// Longest value SQLite may build: rpm's header size limit and some room.
const MAX_VALUE_LEN: i32 = (256 << 20) + 4096;
/// Most rows read; a full distribution installs a few thousand packages.
const MAX_ROWS: u64 = 1_000_000;

/// Reads every header blob; `on_blob` gets a blob or the reason one row could not be read.
/// Errors mean the database could not be read at all.
pub(crate) fn read_sqlite(
    path: &Path,
    on_blob: &mut dyn FnMut(u64, Result<Vec<u8>, String>),
) -> Result<(), String> {
    let uri = format!("file:{}?immutable=1", uri_path(path));
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let not_sqlite = |e: rusqlite::Error| format!("not a readable SQLite database: {e}");
    let connection = Connection::open_with_flags(&uri, flags).map_err(not_sqlite)?;
    connection
        .set_limit(Limit::SQLITE_LIMIT_LENGTH, MAX_VALUE_LEN)
        .map_err(|e| format!("failed to limit value lengths: {e}"))?;
    connection
        .execute_batch("PRAGMA trusted_schema = OFF")
        .map_err(not_sqlite)?;
    check_schema(&connection).map_err(|e| match e {
        Schema::Sqlite(e) if e.sqlite_error_code() == Some(ErrorCode::NotADatabase) => {
            not_sqlite(e)
        }
        Schema::Sqlite(e) => format!("no readable `Packages` table: {e}"),
        Schema::Unexpected(reason) => reason,
    })?;
    let mut statement = connection
        .prepare("SELECT hnum, blob FROM Packages")
        .map_err(|e| format!("no readable `Packages` table: {e}"))?;
    let mut rows = statement
        .query([])
        .map_err(|e| format!("failed to query the `Packages` table: {e}"))?;
    let mut count = 0u64;
    loop {
        count += 1;
        if count > MAX_ROWS {
            return Err(format!(
                "more than {MAX_ROWS} rows in the `Packages` table; the rest are not read"
            ));
        }
        let row = match rows.next() {
            Ok(Some(row)) => row,
            Ok(None) => return Ok(()),
            Err(e) => return Err(format!("failed to read the `Packages` table: {e}")),
        };
        let hnum: i64 = row.get(0).unwrap_or(-1);
        let record = u64::try_from(hnum).unwrap_or(0);
        match row.get::<_, Vec<u8>>(1) {
            Ok(blob) => on_blob(record, Ok(blob)),
            Err(e) => on_blob(record, Err(format!("blob column is not a blob: {e}"))),
        }
    }
}

/// Why the `Packages` table is not the one rpm creates.
enum Schema {
    Sqlite(rusqlite::Error),
    Unexpected(String),
}

/// Checks that `Packages` is a plain table without generated columns, as rpm creates it.
fn check_schema(connection: &Connection) -> Result<(), Schema> {
    // SQLite reads the file only when the first statement is prepared.
    let (kind, sql): (String, Option<String>) = connection
        .query_row(
            "SELECT type, sql FROM sqlite_master WHERE name = 'Packages' COLLATE NOCASE",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => {
                Schema::Unexpected("no readable `Packages` table: it does not exist".to_owned())
            }
            e => Schema::Sqlite(e),
        })?;
    let virtual_table = sql.as_deref().is_some_and(|sql| {
        sql.trim_start()
            .to_ascii_uppercase()
            .starts_with("CREATE VIRTUAL")
    });
    if kind != "table" || virtual_table {
        return Err(Schema::Unexpected(format!(
            "`Packages` is a {kind}{}, not the table rpm creates; not read",
            if virtual_table { " (virtual)" } else { "" }
        )));
    }
    // `table_xinfo` marks generated columns as hidden (2 or 3); rpm's table has none.
    let mut columns = connection
        .prepare("SELECT hidden FROM pragma_table_xinfo('Packages')")
        .map_err(Schema::Sqlite)?;
    let generated = columns
        .query_map([], |row| row.get::<_, i64>(0))
        .map_err(Schema::Sqlite)?
        .any(|hidden| hidden != Ok(0));
    if generated {
        return Err(Schema::Unexpected(
            "`Packages` has generated or hidden columns, which rpm's table has not; not read"
                .to_owned(),
        ));
    }
    Ok(())
}

/// Percent-encodes a local path for an SQLite `file:` URI.
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for &b in path.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_paths_are_encoded() {
        assert_eq!(uri_path(Path::new("/tmp/a b?#%")), "/tmp/a%20b%3F%23%25");
    }

    fn database(schema: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let connection = Connection::open(file.path()).unwrap();
        connection.execute_batch(schema).unwrap();
        drop(connection);
        file
    }

    fn read(file: &tempfile::NamedTempFile) -> Result<Vec<Result<Vec<u8>, String>>, String> {
        let mut got = Vec::new();
        read_sqlite(file.path(), &mut |_, blob| got.push(blob))?;
        Ok(got)
    }

    #[test]
    fn rpm_schema_is_read() {
        let file = database(
            "CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);
             INSERT INTO Packages (blob) VALUES (x'0102');",
        );
        assert_eq!(read(&file).unwrap(), [Ok(vec![1, 2])]);
    }

    /// A view or a generated column would make SQLite run code the file defines, such as an
    /// endless recursive query or a gigabyte `zeroblob`.
    #[test]
    fn hostile_schemas_are_rejected() {
        let view = database(
            "CREATE VIEW Packages AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)
             SELECT x AS hnum, zeroblob(1000) AS blob FROM c;",
        );
        assert!(read(&view).unwrap_err().contains("is a view"));
        let generated = database(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY,
             blob BLOB GENERATED ALWAYS AS (zeroblob(1000000000)));
             INSERT INTO Packages (hnum) VALUES (1);",
        );
        assert!(read(&generated).unwrap_err().contains("generated"));
        let missing = database("CREATE TABLE Other (x);");
        assert!(read(&missing).unwrap_err().contains("does not exist"));
    }

    #[test]
    fn not_sqlite_is_an_error() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), b"bogus").unwrap();
        let err = read_sqlite(file.path(), &mut |_, _| {}).unwrap_err();
        assert!(err.contains("SQLite") || err.contains("Packages"), "{err}");
    }
}
