//! Reads an Isso SQLite database (`threads` + `comments`), read-only.
//!
//! Isso stores Markdown, the page URI per thread, the parent id, the creation time as
//! Unix seconds with a fraction, and a mode: 1 published, 2 pending, 4 deleted (a
//! deleted comment that has replies stays as an empty row). Votes are not imported:
//! cairn has none.

use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use rusqlite::{types::ValueRef, Connection, OpenFlags};

use super::{Body, Item, Note, Source, Status};

/// Reads every comment of the database at `path`.
pub fn read(path: &Path) -> Result<Source> {
    if !path.is_file() {
        bail!("{}: no such file", path.display());
    }
    let db = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("cannot open {} as an SQLite database", path.display()))?;
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .with_context(|| format!("{} is not an SQLite database", path.display()))?;
    if !(tables.iter().any(|t| t == "comments") && tables.iter().any(|t| t == "threads")) {
        bail!(
            "{} is not an Isso database (it has no `comments` and `threads` tables)",
            path.display()
        );
    }
    let mut statement = db.prepare(
        "SELECT c.id, t.uri, c.parent, c.created, c.mode, c.author, c.email, c.website, c.text \
         FROM comments c LEFT JOIN threads t ON t.id = c.tid ORDER BY c.id",
    )?;
    let mut rows = statement.query([])?;
    let mut source = Source::default();
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let location = format!("comment {id}");
        // SQLite keeps whatever a row was given, whatever the column's type: a value of
        // another type skips that comment (or is read as text) with a note, never the
        // whole import.
        let note = |message: String| Note {
            location: location.clone(),
            message,
        };
        let created = match row.get_ref(3)? {
            ValueRef::Real(x) => Some(x),
            ValueRef::Integer(n) => Some(n as f64),
            ValueRef::Text(t) => std::str::from_utf8(t)
                .ok()
                .and_then(|t| t.trim().parse().ok()),
            _ => None,
        };
        let Some(date) = created.and_then(date_of) else {
            let raw = described(row.get_ref(3)?);
            source
                .skipped
                .push(note(format!("its creation time {raw} is not a date")));
            continue;
        };
        let status = match row.get_ref(4)? {
            ValueRef::Integer(1) => Status::Published,
            ValueRef::Integer(2) => Status::Pending,
            ValueRef::Integer(4) => Status::Deleted,
            other => {
                source
                    .skipped
                    .push(note(format!("unknown Isso mode {}", described(other))));
                continue;
            }
        };
        let mut text = |at: usize, column: &str| -> Result<Option<String>> {
            let (value, lossy) = match row.get_ref(at)? {
                ValueRef::Null => return Ok(None),
                ValueRef::Integer(n) => return Ok(Some(n.to_string())),
                ValueRef::Real(x) => return Ok(Some(x.to_string())),
                ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
                    let value = String::from_utf8_lossy(bytes);
                    let lossy = matches!(value, std::borrow::Cow::Owned(_));
                    (value.into_owned(), lossy)
                }
            };
            if lossy {
                source.adjusted.push(note(format!(
                    "its {column} is not UTF-8 text: read with U+FFFD in place of the bytes that are not"
                )));
            }
            Ok(Some(value))
        };
        let uri = text(1, "page URI")?;
        let parent = text(2, "parent")?;
        let author = text(5, "author")?;
        let email = text(6, "email")?;
        let website = text(7, "website")?;
        let body = text(8, "text")?.unwrap_or_default();
        source.items.push(Item {
            key: id.to_string(),
            thread: uri,
            parent,
            date,
            author,
            email,
            website,
            body: Body::Markdown(body),
            status,
            location,
        });
    }
    Ok(source)
}

/// A value as a report shows it: numbers as they are, text quoted, and what else.
fn described(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(n) => n.to_string(),
        ValueRef::Real(x) => x.to_string(),
        ValueRef::Text(t) => format!("{:?}", String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => format!("(a blob of {} bytes)", b.len()),
    }
}

/// Isso's `created` (Unix seconds as a float) to the microsecond, as Isso's API shows it.
fn date_of(created: f64) -> Option<DateTime<Utc>> {
    if !created.is_finite() {
        return None;
    }
    DateTime::from_timestamp_micros((created * 1e6).round() as i64)
}
