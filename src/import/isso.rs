//! Reads an Isso SQLite database (`threads` + `comments`), read-only.
//!
//! Isso stores Markdown, the page URI per thread, the parent id, the creation time as
//! Unix seconds with a fraction, and a mode: 1 published, 2 pending, 4 deleted (a
//! deleted comment that has replies stays as an empty row). Votes are not imported:
//! cairn has none.

use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags};

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
        let uri: Option<String> = row.get(1)?;
        let created: f64 = row.get(3)?;
        let Some(date) = date_of(created) else {
            source.skipped.push(Note {
                location,
                message: format!("its creation time {created} is not a date"),
            });
            continue;
        };
        let mode: i64 = row.get(4)?;
        let status = match mode {
            1 => Status::Published,
            2 => Status::Pending,
            4 => Status::Deleted,
            other => {
                source.skipped.push(Note {
                    location,
                    message: format!("unknown Isso mode {other}"),
                });
                continue;
            }
        };
        source.items.push(Item {
            key: id.to_string(),
            thread: uri,
            parent: row.get::<_, Option<i64>>(2)?.map(|p| p.to_string()),
            date,
            author: row.get(5)?,
            email: row.get(6)?,
            website: row.get(7)?,
            body: Body::Markdown(row.get::<_, Option<String>>(8)?.unwrap_or_default()),
            status,
            location,
        });
    }
    Ok(source)
}

/// Isso's `created` (Unix seconds as a float) to the microsecond, as Isso's API shows it.
fn date_of(created: f64) -> Option<DateTime<Utc>> {
    if !created.is_finite() {
        return None;
    }
    DateTime::from_timestamp_micros((created * 1e6).round() as i64)
}
