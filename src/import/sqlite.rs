//! Reading another system's SQLite database: opened read-only with its tables checked,
//! and its values read whatever type a row gave them (SQLite keeps any value in any
//! column).

use std::borrow::Cow;
use std::path::Path;

use anyhow::{bail, Context, Result};
use rusqlite::{types::ValueRef, Connection, OpenFlags, Row};

use super::Note;

/// Opens the database at `path` read-only, as `system`'s, which has `tables`.
pub fn open(path: &Path, system: &str, tables: &[&str]) -> Result<Connection> {
    if !path.is_file() {
        bail!("{}: no such file", path.display());
    }
    let db = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("cannot open {} as an SQLite database", path.display()))?;
    let present: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .with_context(|| format!("{} is not an SQLite database", path.display()))?;
    if !tables.iter().all(|t| present.iter().any(|p| p == t)) {
        let names: Vec<String> = tables.iter().map(|t| format!("`{t}`")).collect();
        let (last, rest) = names.split_last().expect("tables to look for");
        let listed = match rest {
            [] => last.clone(),
            _ => format!("{} and {last}", rest.join(", ")),
        };
        bail!(
            "{} is not {system} database (it has no {listed} tables)",
            path.display()
        );
    }
    Ok(db)
}

/// Column `at` of `row` as text (numbers written out), `None` for NULL. Bytes that are
/// not UTF-8 are read as U+FFFD, with a note in `adjusted` naming the `column`.
pub fn text(
    row: &Row<'_>,
    at: usize,
    column: &str,
    location: &str,
    adjusted: &mut Vec<Note>,
) -> rusqlite::Result<Option<String>> {
    let bytes = match row.get_ref(at)? {
        ValueRef::Null => return Ok(None),
        ValueRef::Integer(n) => return Ok(Some(n.to_string())),
        ValueRef::Real(x) => return Ok(Some(x.to_string())),
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => bytes,
    };
    let value = String::from_utf8_lossy(bytes);
    if matches!(value, Cow::Owned(_)) {
        adjusted.push(Note {
            location: location.to_string(),
            message: format!(
                "its {column} is not UTF-8 text: read with U+FFFD in place of the bytes that are not"
            ),
        });
    }
    Ok(Some(value.into_owned()))
}

/// A value as a report shows it: numbers as they are, text quoted, and what else.
pub fn described(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(n) => n.to_string(),
        ValueRef::Real(x) => x.to_string(),
        ValueRef::Text(t) => format!("{:?}", String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => format!("(a blob of {} bytes)", b.len()),
    }
}
