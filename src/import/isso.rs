//! Reads an Isso SQLite database (`threads` + `comments`), read-only.
//!
//! Isso stores Markdown, the page URI per thread, the parent id, the creation time as
//! Unix seconds with a fraction, and a mode: 1 published, 2 pending, 4 deleted (a
//! deleted comment that has replies stays as an empty row). Votes are not imported:
//! cairn has none. The Markdown is written so that it shows as the version of Isso
//! that last opened the database showed it.

use std::ops::Range;
use std::path::Path;

use anyhow::Result;
use chrono::{DateTime, Utc};
use rusqlite::types::ValueRef;

use super::sqlite::{self, described};
use super::{Body, Item, Note, Source, Status};
use crate::render::markdown::{escape_punctuation, OPTIONS};

/// Reads every comment of the database at `path`.
pub fn read(path: &Path) -> Result<Source> {
    let db = sqlite::open(path, "an Isso", &["comments", "threads"])?;
    // Isso 0.14 (which leaves its databases at version 5) shows comments through
    // mistune, escaping raw HTML; earlier versions through misaka, keeping the tags of
    // an allow-list much like cairn's.
    let escapes_html = db
        .query_row("PRAGMA user_version", [], |row| row.get::<_, i64>(0))
        .is_ok_and(|version| version >= 5);
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
        let mut text = |at: usize, column: &str| {
            sqlite::text(row, at, column, &location, &mut source.adjusted)
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
            body: Body::Markdown(if escapes_html {
                as_isso_showed_it(&body)
            } else {
                body
            }),
            status,
            owner: false,
            location,
        });
    }
    Ok(source)
}

/// Isso's Markdown, written so that cairn shows it as Isso 0.14 did. Its default
/// renderer, mistune, escapes raw HTML and character references, so `<div>`
/// and `&amp;` show as typed, where cairn would take them as HTML (and drop the `<div>`
/// its allow-list lacks); and it reads `~x~` as subscript and `^x^` as superscript,
/// where cairn reads `~x~` as struck text and `^` as text; and it has no tables. Those
/// are escaped or written as `<sub>` and `<sup>`; everything else stays as it is, byte
/// for byte.
pub fn as_isso_showed_it(text: &str) -> String {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    // What is changed starts with one of these; most bodies hold none, and are not
    // parsed at all.
    if !text.contains(['<', '&', '^', '~', '|']) {
        return text.to_string();
    }
    let text = &tables_as_text(text);
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    // Text as the parser gives it, in pieces (it cuts at each `~`) joined up again.
    let mut runs: Vec<Range<usize>> = Vec::new();
    let mut in_code = false;
    for (event, range) in Parser::new_ext(text, OPTIONS).into_offset_iter() {
        let source = &text[range.clone()];
        match event {
            Event::Start(Tag::CodeBlock(_)) => in_code = true,
            Event::End(TagEnd::CodeBlock) => in_code = false,
            Event::Text(t) if !in_code => {
                // A character reference, which the parser reads as the character.
                if source.starts_with('&') && *t != *source {
                    edits.push((range.start..range.start, "\\".into()));
                }
                match runs.last_mut() {
                    Some(run) if run.end == range.start => run.end = range.end,
                    _ => runs.push(range),
                }
            }
            Event::Html(_) | Event::InlineHtml(_) => {
                edits.push((range, escape_punctuation(source)))
            }
            Event::Start(Tag::Strikethrough) if !source.starts_with("~~") => {
                // `~x~`: subscript when nothing in it is space, else two tildes.
                let spaced = source[1..source.len() - 1].contains(char::is_whitespace);
                let (open, close) = if spaced {
                    ("\\~", "\\~")
                } else {
                    ("<sub>", "</sub>")
                };
                edits.push((range.start..range.start + 1, open.into()));
                edits.push((range.end - 1..range.end, close.into()));
            }
            _ => {}
        }
    }
    for run in runs {
        for (mark, open, close) in [('^', "<sup>", "</sup>"), ('~', "<sub>", "</sub>")] {
            for found in marked(text, run.clone(), mark) {
                edits.push((found.start..found.start + 1, open.into()));
                edits.push((found.end - 1..found.end, close.into()));
            }
        }
    }
    edited(text, edits)
}

/// `text` with each range of `edits` replaced, in order; of two that overlap, the first.
pub(super) fn edited(text: &str, mut edits: Vec<(Range<usize>, String)>) -> String {
    edits.sort_by_key(|(range, _)| (range.start, range.end));
    let mut out = String::with_capacity(text.len() + edits.len() * 4);
    let mut at = 0;
    for (range, with) in edits {
        if range.start < at {
            continue;
        }
        out.push_str(&text[at..range.start]);
        out.push_str(&with);
        at = range.end;
    }
    out.push_str(&text[at..]);
    out
}

/// `text` with the pipes of its tables escaped: Isso's mistune has no tables, and shows
/// their rows as text. Once escaped, what they held is read as the paragraph it then
/// is (a cell past the header's count, which a table leaves out, too).
fn tables_as_text(text: &str) -> String {
    use pulldown_cmark::{Event, Parser, Tag};
    let mut text = text.to_string();
    if !text.contains('|') {
        return text;
    }
    loop {
        let mut edits = Vec::new();
        for (event, range) in Parser::new_ext(&text, OPTIONS).into_offset_iter() {
            if let Event::Start(Tag::Table(_)) = event {
                for (at, _) in text[range.clone()].match_indices('|') {
                    let at = range.start + at;
                    if !text[..at].ends_with('\\') {
                        edits.push((at..at + 1, "\\|".to_string()));
                    }
                }
            }
        }
        if edits.is_empty() {
            return text;
        }
        text = edited(&text, edits);
    }
}

/// Where `text` has `^x^` (or `~x~`) in the range `run`, as mistune finds them: from a
/// `mark` that is neither escaped nor doubled to the next, with at least one
/// character and no space between.
fn marked(text: &str, run: Range<usize>, mark: char) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut at = run.start;
    while let Some(open) = text[at..run.end].find(mark).map(|i| at + i) {
        at = open + 1;
        if text[..open].ends_with(['\\', mark]) {
            continue;
        }
        let inside = text[at..run.end]
            .find(|c: char| c == mark || c.is_whitespace())
            .unwrap_or(run.end - at);
        let close = at + inside;
        if inside > 0 && text[close..run.end].starts_with(mark) {
            found.push(open..close + 1);
            at = close + 1;
        }
    }
    found
}

/// Isso's `created` (Unix seconds as a float) to the microsecond, as Isso's API shows it.
fn date_of(created: f64) -> Option<DateTime<Utc>> {
    if !created.is_finite() {
        return None;
    }
    DateTime::from_timestamp_micros((created * 1e6).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::markdown::to_html;

    /// What Isso 0.14 (mistune) writes for each source, and so what the page shows.
    #[test]
    fn isso_markdown_shows_as_isso_showed_it() {
        for (isso, page) in [
            (
                "Use <b>bold</b> and <script>alert(1)</script>",
                "<p>Use &lt;b&gt;bold&lt;/b&gt; and &lt;script&gt;alert(1)&lt;/script&gt;</p>\n",
            ),
            (
                "<div>\n*x*\n---\n</div>\n\n<!-- note -->",
                "<p>&lt;div&gt;<br>\n*x*<br>\n---<br>\n&lt;/div&gt;</p>\n<p>&lt;!-- note --&gt;</p>\n",
            ),
            (
                "a < b & c &amp; &#169;",
                "<p>a &lt; b &amp; c &amp;amp; &amp;#169;</p>\n",
            ),
            // No tables in Isso: rows, and a cell a table would leave out, are text.
            (
                "| a | <b> |\n|---|---|\n| c | d | <i> |",
                "<p>| a | &lt;b&gt; |<br>\n|---|---|<br>\n| c | d | &lt;i&gt; |</p>\n",
            ),
            // Code blocks are code.
            ("```\nH~2~O <b>\n```", "<pre><code>H~2~O &lt;b&gt;\n</code></pre>\n"),
            (
                "H~2~O, 2^10^, ~x~, ~~gone~~, ~a b~, x^y, 2^^3, a\\^b^",
                "<p>H<sub>2</sub>O, 2<sup>10</sup>, <sub>x</sub>, <del>gone</del>, ~a b~, x^y, 2^^3, a^b^</p>\n",
            ),
        ] {
            assert_eq!(to_html(&as_isso_showed_it(isso)), page, "{isso}");
        }
        // Markdown without those stays byte for byte, code and autolinks too.
        for same in [
            "A reply\n\n    <pre>code</pre>\n\n`<b>` *em* <https://x.example/?a=1&b=2>",
            "[a](https://x.example/?a=1&amp;b=2) ~~struck~~",
        ] {
            assert_eq!(as_isso_showed_it(same), same);
        }
    }

    proptest::proptest! {
        /// Any source goes through, and one without `<`, `&`, `^` and `~` as it is.
        #[test]
        fn isso_markdown_without_html_or_marks_stays_as_it_is(
            source in "([a-z ~^&<>*_`\\\\#>\n-]|é|&amp;|<b>|</b>|<div>\n){0,40}"
        ) {
            let written = as_isso_showed_it(&source);
            if !source.contains(['<', '&', '^', '~']) {
                proptest::prop_assert_eq!(written, source);
            }
        }
    }
}
