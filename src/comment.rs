//! The comment model and file format v1: one comment per file, read from YAML, TOML
//! or JSON, written as YAML that reads back to the same comment and writes back to the
//! same bytes.
//!
//! Files are parsed strictly (unknown fields, malformed ids, dates and URLs are errors
//! that name the line) and then validated into a [`Comment`], whose fields are already
//! normalized: the thread by [`crate::thread::normalize`], the date in UTC.

use std::borrow::Cow;
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use ulid::Ulid;

use crate::thread;

/// A comment as cairn stores it. Bodies are Markdown source, never HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: Ulid,
    pub thread: String,
    pub parent: Option<Ulid>,
    pub date: DateTime<Utc>,
    pub author: Option<String>,
    pub website: Option<String>,
    /// Keyed hash of the commenter's e-mail; never the e-mail itself.
    pub avatar: Option<String>,
    /// Where an imported comment came from, e.g. `disqus:12345`.
    pub origin: Option<String>,
    pub body: String,
}

/// File extensions of comment files, the default (written) one first.
pub const EXTENSIONS: [&str; 4] = ["yml", "yaml", "toml", "json"];

/// The years a comment's date can fall in: RFC 3339 writes a year in four digits.
pub const YEARS: std::ops::RangeInclusive<i32> = 0..=9999;

/// The file formats a comment may be stored in, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Toml,
    Json,
}

impl Format {
    /// The format of a file by its extension, or `None` when it is not a comment file.
    pub fn of(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()? {
            "yml" | "yaml" => Some(Format::Yaml),
            "toml" => Some(Format::Toml),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// What is wrong with a comment file, and on which line when that is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Longest avatar key accepted.
const MAX_AVATAR_LEN: usize = 64;

/// Whether `key` has the form of an avatar key: at most [`MAX_AVATAR_LEN`] letters and
/// digits.
pub fn is_avatar_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_AVATAR_LEN && key.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The fields of a file exactly as written, before validation. The fast reader
/// borrows them from the file's text where it can; the body is always the comment's own.
#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComment<'a> {
    id: Cow<'a, str>,
    thread: Cow<'a, str>,
    parent: Option<Cow<'a, str>>,
    date: Cow<'a, str>,
    author: Option<Cow<'a, str>>,
    website: Option<Cow<'a, str>>,
    avatar: Option<Cow<'a, str>>,
    origin: Option<Cow<'a, str>>,
    body: String,
}

/// A text file's text without the byte order mark some Windows editors save in front.
pub fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

impl Comment {
    /// Parses and validates the text of a comment file (see [`without_bom`]).
    pub fn parse(text: &str, format: Format) -> Result<Comment, FileError> {
        let text = without_bom(text);
        let raw: RawComment = match format {
            Format::Yaml => match fast_yaml(text) {
                Some(raw) => raw,
                None => crate::yaml::from_str(text).map_err(|e| {
                    // Fields are read as the text is parsed: a wrong one can come before
                    // broken syntax further on, which is then what to report.
                    let (e, well_formed) = match &e {
                        crate::yaml::Error::TooDeep { .. } => (e, false),
                        crate::yaml::Error::Yaml(_) => {
                            match serde_norway::from_str::<serde_norway::Value>(text) {
                                Ok(_) => (e, true),
                                Err(syntax) => (crate::yaml::Error::Yaml(syntax), false),
                            }
                        }
                    };
                    FileError {
                        line: e.line(),
                        message: parse_message("YAML", strip_location(&e.to_string()), well_formed),
                    }
                })?,
            },
            Format::Json => serde_json::from_str(text).map_err(|e| FileError {
                line: (e.line() > 0).then_some(e.line()),
                message: parse_message(
                    "JSON",
                    strip_location(&e.to_string()),
                    e.classify() == serde_json::error::Category::Data,
                ),
            })?,
            Format::Toml => parse_toml(text)?,
        };
        let at = |key: &str, message: String| FileError {
            line: line_of_key(text, key, format),
            message,
        };
        let id = parse_id(&raw.id).map_err(|m| at("id", format!("id: {m}")))?;
        let parent = match raw.parent.as_deref().filter(|p| !p.is_empty()) {
            Some(p) => Some(parse_id(p).map_err(|m| at("parent", format!("parent: {m}")))?),
            None => None,
        };
        if parent == Some(id) {
            return Err(at(
                "parent",
                "parent: a comment cannot reply to itself".into(),
            ));
        }
        let thread =
            thread::normalize(&raw.thread).map_err(|e| at("thread", format!("thread: {e}")))?;
        let date = DateTime::parse_from_rfc3339(raw.date.trim())
            .map_err(|e| {
                at(
                    "date",
                    format!(
                        "date: {:?} is not a date and time in RFC 3339 form, \
                         e.g. 2026-11-21T23:10:43Z ({e})",
                        raw.date.trim()
                    ),
                )
            })?
            .with_timezone(&Utc);
        let website = non_empty(raw.website);
        if let Some(site) = &website {
            check_website(site).map_err(|m| at("website", format!("website: {m}")))?;
        }
        let avatar = non_empty(raw.avatar);
        if let Some(key) = &avatar {
            if !is_avatar_key(key) {
                return Err(at(
                    "avatar",
                    format!(
                        "avatar: expected a key of at most {MAX_AVATAR_LEN} letters and digits"
                    ),
                ));
            }
        }
        if raw.body.trim().is_empty() {
            return Err(at("body", "body: is empty".into()));
        }
        Ok(Comment {
            id,
            thread,
            parent,
            date,
            author: non_empty(raw.author),
            website,
            avatar,
            origin: non_empty(raw.origin),
            body: raw.body,
        })
    }

    /// The date as written to files: RFC 3339 in UTC, fractions only when present.
    pub fn date_string(&self) -> String {
        use chrono::{Datelike, Timelike};
        let d = self.date;
        // Whole seconds in years 0-9999, nearly every date, are written digit by digit:
        // what chrono writes, for a tenth of the work.
        if d.nanosecond() != 0 || !YEARS.contains(&d.year()) {
            return d.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        }
        let mut out = String::with_capacity(20);
        push_digits(&mut out, d.year() as u32, 4);
        out.push('-');
        push_digits(&mut out, d.month(), 2);
        out.push('-');
        push_digits(&mut out, d.day(), 2);
        out.push('T');
        push_digits(&mut out, d.hour(), 2);
        out.push(':');
        push_digits(&mut out, d.minute(), 2);
        out.push(':');
        push_digits(&mut out, d.second(), 2);
        out.push('Z');
        out
    }

    /// Serializes to format v1 YAML. Parsing the result gives back this comment, and
    /// writing that gives back the same bytes.
    pub fn to_yaml(&self) -> String {
        let mut out = String::with_capacity(self.body.len() + 200);
        let mut field = |key: &str, value: &str, plain: bool| {
            out.push_str(key);
            out.push_str(": ");
            if plain {
                out.push_str(value);
            } else {
                yaml_scalar(&mut out, value);
            }
            out.push('\n');
        };
        field("id", &self.id.to_string(), false);
        field("thread", &self.thread, false);
        if let Some(parent) = self.parent {
            field("parent", &parent.to_string(), false);
        }
        // Plain, as the timestamp it is to every YAML reader.
        field("date", &self.date_string(), true);
        for (key, value) in [
            ("author", &self.author),
            ("website", &self.website),
            ("avatar", &self.avatar),
            ("origin", &self.origin),
        ] {
            if let Some(value) = value {
                field(key, value, false);
            }
        }
        out.push_str("body: ");
        yaml_block(&mut out, &self.body);
        out
    }
}

/// `n` in decimal, zero-padded to `width` digits.
fn push_digits(out: &mut String, n: u32, width: u32) {
    for place in (0..width).rev() {
        out.push(char::from(b'0' + (n / 10u32.pow(place) % 10) as u8));
    }
}

/// Checks that a commenter's website is an absolute http(s) URL without a user name
/// or password in it.
pub fn check_website(site: &str) -> Result<(), String> {
    match url::Url::parse(site) {
        // `https://ann@example.org` is a link to example.org that shows ann's address,
        // and `https://bank.example@evil.example` one that hides where it goes.
        Ok(url) if !url.username().is_empty() || url.password().is_some() => Err(
            "a website cannot hold a user name or password (a part ending in `@` before the host)"
                .into(),
        ),
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(()),
        Ok(url) => Err(format!(
            "`{}` links are not allowed, only http and https",
            url.scheme()
        )),
        Err(e) => Err(format!("not a URL ({e})")),
    }
}

/// Whether a website field says nothing: it is empty, or holds only a scheme
/// (`http://`, which older WordPress themes put into the field for readers to type on
/// from, and which was stored as it stood when they did not).
pub fn is_no_website(raw: &str) -> bool {
    let raw = raw.trim().to_ascii_lowercase();
    let rest = raw
        .strip_prefix("https")
        .or_else(|| raw.strip_prefix("http"))
        .unwrap_or(&raw);
    raw.is_empty() || (rest.starts_with(':') && rest.bytes().all(|b| b == b':' || b == b'/'))
}

/// `raw` as a website format v1 takes: as it is when it is an http(s) URL, else, when
/// it is a bare host with a dot in it and maybe a path (`ann.example/blog`, as people
/// type their site), with `scheme` (`http`, `https`) in front. `None` for anything else
/// (another scheme, text that is no address).
pub fn complete_website(raw: &str, scheme: &str) -> Option<String> {
    if check_website(raw).is_ok() {
        return Some(raw.to_string());
    }
    if raw.contains("://") || raw.contains(char::is_whitespace) {
        return None;
    }
    let guessed = format!("{scheme}://{}", raw.trim_start_matches("//"));
    let host_has_dot = url::Url::parse(&guessed)
        .ok()
        .and_then(|url| url.host_str().map(|host| host.contains('.')))
        .unwrap_or(false);
    (host_has_dot && check_website(&guessed).is_ok()).then_some(guessed)
}

/// Whether a website may be shown as a link: it starts with `http://` or `https://`.
/// Comment files and new comments have their website checked in full by
/// [`check_website`]; this is the guard at render time, which keeps every other scheme
/// out of an `href` without parsing the URL once more for every page and feed.
pub fn is_web_link(site: &str) -> bool {
    let starts = |prefix: &str| {
        site.len() > prefix.len()
            && site.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    };
    starts("https://") || starts("http://")
}

fn parse_id(raw: &str) -> Result<Ulid, String> {
    let id = Ulid::from_string(raw.trim()).map_err(|e| format!("`{raw}` is not a ULID ({e})"))?;
    if id.array_to_str(&mut [0; ulid::ULID_LEN]) != raw.trim() {
        return Err(format!(
            "`{raw}` is not in canonical form (expected `{id}`)"
        ));
    }
    Ok(id)
}

fn non_empty(value: Option<Cow<'_, str>>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty()).map(Cow::into_owned)
}

/// TOML has a native datetime type; accept it for `date` as well as a string.
fn parse_toml(text: &str) -> Result<RawComment<'static>, FileError> {
    let line_of = |span: Option<std::ops::Range<usize>>| {
        span.map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
    };
    let mut table: toml::Table = toml::from_str(text).map_err(|e| FileError {
        line: line_of(e.span()),
        message: parse_message("TOML", e.message(), false),
    })?;
    if let Some(toml::Value::Datetime(dt)) = table.get("date") {
        let as_string = toml::Value::String(dt.to_string());
        table.insert("date".into(), as_string);
    }
    toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| FileError {
            // The table has no positions left: the line of the key the message names.
            line: e
                .message()
                .split('`')
                .nth(1)
                .and_then(|key| line_of_key(text, key, Format::Toml)),
            message: parse_message("TOML", e.message(), true),
        })
}

/// A parser's message about a file: "invalid YAML: …" (or TOML, JSON) when its
/// syntax is broken; as it is when the file is well-formed and only its fields are
/// wrong, which serde's messages name by themselves ("unknown field `colour`, expected
/// one of …", "date: invalid type: sequence, expected a string").
fn parse_message(language: &str, message: &str, well_formed: bool) -> String {
    if well_formed {
        message.to_string()
    } else {
        format!("invalid {language}: {message}")
    }
}

/// Parser messages end with their own "at line X column Y"; the line is reported apart.
fn strip_location(message: &str) -> &str {
    match message.find(" at line ") {
        Some(i) => &message[..i],
        None => message,
    }
}

/// The line on which a top-level key is written, for error messages.
fn line_of_key(text: &str, key: &str, format: Format) -> Option<usize> {
    text.lines()
        .position(|line| match format {
            Format::Yaml => line
                .strip_prefix(key)
                .is_some_and(|rest| rest.starts_with(':')),
            Format::Toml => line
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('=')),
            Format::Json => line.trim_start().starts_with(&format!("\"{key}\"")),
        })
        .map(|i| i + 1)
}

/// Characters YAML cannot hold literally in a scalar, or that a YAML 1.1 reader would
/// take for a line break.
fn needs_escape(c: char) -> bool {
    // U+FFFE and U+FFFF are outside YAML's printable set: readers refuse them raw.
    matches!(
        c,
        '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
    ) || (c.is_control() && c != '\n' && c != '\t')
}

/// Whether any character of `text` [needs an escape](needs_escape).
fn any_needs_escape(text: &str) -> bool {
    !is_plain_ascii(text) && text.chars().any(needs_escape)
}

/// Whether `text` is printable ASCII, tabs and newlines only, which neither YAML, HTML
/// nor XML treats specially: one pass over the bytes, which the compiler vectorizes,
/// says whether there is anything else to look at.
fn is_plain_ascii(text: &str) -> bool {
    !text.bytes().fold(false, |other, b| {
        other | !((0x20..0x7f).contains(&b) || b == b'\t' || b == b'\n')
    })
}

/// Whether a character can be shown in a page or a feed: it is not a control character
/// (tabs and line breaks aside) nor a Unicode noncharacter (U+FDD0 to U+FDEF, and the
/// last two code points of each plane, such as U+FFFF). HTML takes those for errors
/// and XML does not allow several of them at all: one in a comment would make a feed
/// unreadable. No one sees them, so leaving them out changes nothing a reader sees.
pub fn is_showable(c: char) -> bool {
    !(c.is_control() && !matches!(c, '\t' | '\n' | '\r')
        || ('\u{fdd0}'..='\u{fdef}').contains(&c)
        || (c as u32) & 0xfffe == 0xfffe)
}

/// Whether a character takes no room on the page: zero width spaces and joiners, word
/// joiners, direction marks, the byte order mark, soft hyphens, variation selectors,
/// Hangul fillers, the blank Braille pattern. Spam puts them inside words to get past
/// word lists, and fills fields with them to get past "required".
pub fn takes_no_room(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{034f}'
            | '\u{061c}'
            | '\u{115f}'
            | '\u{1160}'
            | '\u{17b4}'
            | '\u{17b5}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
            | '\u{ffa0}'
    )
}

/// Where `text` has e-mail addresses written in it, as byte ranges. An address is a
/// word with one `@`, something before it and a domain name with a dot after it; words
/// end at white space and at the brackets, quotes and punctuation that set addresses
/// off (`Ann <ann@example.org>`, `mailto:ann@example.org`, a full stop at the end) or
/// put them into URLs (`https://ann@example.org`, `?to=ann@example.org`). Names and
/// websites are shown to everyone: one holding an address would publish it.
pub fn email_addresses(text: &str) -> Vec<std::ops::Range<usize>> {
    if !text.contains('@') {
        return Vec::new();
    }
    let ends_word = |c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '<' | '>'
                    | '('
                    | ')'
                    | '['
                    | ']'
                    | '{'
                    | '}'
                    | '"'
                    | ','
                    | ';'
                    | ':'
                    | '/'
                    | '?'
                    | '='
                    | '&'
            )
    };
    let mut found = Vec::new();
    let mut start = 0;
    for (at, c) in text.char_indices().chain([(text.len(), ' ')]) {
        if ends_word(c) {
            let word = text[start..at].trim_end_matches(['.', '!', '?']);
            if is_email_address(word) {
                found.push(start..start + word.len());
            }
            start = at + c.len_utf8();
        }
    }
    found
}

fn is_email_address(word: &str) -> bool {
    let Some((local, domain)) = word.split_once('@') else {
        return false;
    };
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-');
    !local.is_empty()
        && labels.len() >= 2
        && labels.iter().all(label_ok)
        && labels
            .last()
            .is_some_and(|top| top.chars().count() >= 2 && !top.chars().all(|c| c.is_ascii_digit()))
}

/// `text` without the characters that [cannot be shown](is_showable): written as it is
/// when it has none, which is nearly always.
pub fn showable(text: &str) -> Cow<'_, str> {
    if is_plain_ascii(text) || text.chars().all(is_showable) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().filter(|&c| is_showable(c)).collect())
    }
}

/// Writes a one-line value: plain when no YAML reader could take it for anything but
/// this string, double-quoted otherwise.
fn yaml_scalar(out: &mut String, value: &str) {
    if is_plain_safe(value) {
        out.push_str(value);
    } else {
        yaml_quoted(out, value);
    }
}

/// Whether `value` may be written plain: every YAML reader takes it for this string.
fn is_plain_safe(value: &str) -> bool {
    is_plain_scalar(value) && !looks_numeric(value)
}

/// Whether `value`, written plain, reads back as this text to a reader that wants a
/// string where it is (as cairn wants the date): no quoting, comment, key, escape or
/// null in it.
fn is_plain_scalar(value: &str) -> bool {
    let Some(first) = value.chars().next() else {
        return false;
    };
    let reserved = [
        "null", "true", "false", "yes", "no", "on", "off", "y", "n", "~",
    ];
    let bytes = value.as_bytes();
    let comment_or_key = memchr::memchr2_iter(b':', b'#', bytes).any(|i| match bytes[i] {
        b':' => bytes.get(i + 1) == Some(&b' '),
        _ => i > 0 && bytes[i - 1] == b' ',
    });
    (first.is_alphanumeric() || first == '/' || first == '_')
        && !value.ends_with([' ', ':'])
        && !comment_or_key
        && !value.contains(['\n', '\t'])
        && !any_needs_escape(value)
        && !(value.len() <= 5 && reserved.iter().any(|r| value.eq_ignore_ascii_case(r)))
}

/// Whether a YAML 1.1 or 1.2 reader could take a plain scalar for a number (Ruby's
/// Psych reads `1,000` as 1000), a date or a time (`2026-01-02T03:04:05Z`, and with a
/// space before the time), or infinity: such values are quoted to stay strings.
fn looks_numeric(value: &str) -> bool {
    let date = value.as_bytes();
    if date.len() > 5
        && date[..4].iter().all(u8::is_ascii_digit)
        && date[4] == b'-'
        && date[5].is_ascii_digit()
    {
        return true;
    }
    let body = value.trim_start_matches(['+', '-']).as_bytes();
    let all = |s: &[u8], ok: &dyn Fn(u8) -> bool| {
        !s.is_empty() && s.iter().all(|&b| ok(b) || b == b'_' || b == b',')
    };
    let radix = |prefix: &[u8]| {
        (body.len() >= 2 && body[..2].eq_ignore_ascii_case(prefix)).then(|| &body[2..])
    };
    if let Some(hex) = radix(b"0x") {
        return all(hex, &|b| b.is_ascii_hexdigit());
    }
    if let Some(oct) = radix(b"0o") {
        return all(oct, &|b| (b'0'..=b'7').contains(&b));
    }
    if let Some(bin) = radix(b"0b") {
        return all(bin, &|b| b == b'0' || b == b'1');
    }
    [".inf", ".nan", "inf", "nan"]
        .iter()
        .any(|special| body.eq_ignore_ascii_case(special.as_bytes()))
        || (body.iter().any(u8::is_ascii_digit)
            && body
                .iter()
                .all(|b| b.is_ascii_digit() || b"_.,:e+-".contains(&b.to_ascii_lowercase())))
}

fn yaml_quoted(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                use std::fmt::Write;
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes the body as a literal block scalar (`|`), which keeps Markdown readable in
/// the file, choosing the chomping and indentation indicators that give back the exact
/// text; text a block scalar cannot carry is double-quoted instead.
fn yaml_block(out: &mut String, body: &str) {
    let content = body.trim_end_matches('\n');
    let blockable = !content.is_empty()
        && !body.chars().any(|c| c == '\r' || needs_escape(c))
        && content
            .split('\n')
            .all(|line| line.is_empty() || !line.trim_start_matches([' ', '\t']).is_empty());
    if !blockable {
        yaml_quoted(out, body);
        out.push('\n');
        return;
    }
    out.push('|');
    let first = content.split('\n').find(|l| !l.is_empty()).unwrap_or("");
    if first.starts_with([' ', '\t']) {
        out.push('2');
    }
    match body.len() - content.len() {
        0 => out.push('-'),
        1 => {}
        _ => out.push('+'),
    }
    out.push('\n');
    for line in content.split('\n') {
        if !line.is_empty() {
            out.push_str("  ");
            out.push_str(line);
        }
        out.push('\n');
    }
    // Kept (`+`) trailing newlines beyond the first are written as empty lines.
    for _ in 1..body.len() - content.len() {
        out.push('\n');
    }
}

/// Reads the exact YAML that [`Comment::to_yaml`] writes, an order of magnitude
/// faster than a general YAML parser, which matters when a site has a million
/// comment files. Anything else (comments, other quoting, flow style, unknown keys)
/// returns `None`, and the caller parses the file with serde instead; tests check that
/// whenever this returns a value, serde returns the same one.
fn fast_yaml(text: &str) -> Option<RawComment<'_>> {
    let mut raw = RawComment::default();
    let (mut id, mut thread, mut date, mut body) = (None, None, None, None);
    let mut lines = Lines(Some(text));
    while let Some(line) = lines.next() {
        if line.is_empty() && body.is_some() {
            continue;
        }
        // A key the writer writes has no colon: a line whose first colon is not
        // followed by a space is none of them.
        let colon = memchr::memchr(b':', line.as_bytes())?;
        let (key, value) = (&line[..colon], line[colon + 1..].strip_prefix(' ')?);
        if key == "body" {
            if body.is_some() {
                return None;
            }
            body = Some(if value.starts_with('"') {
                let quoted = fast_quoted(value)?;
                if lines.clone().any(|l| !l.is_empty()) {
                    return None;
                }
                quoted
            } else {
                fast_block(value, &mut lines)?
            });
            continue;
        }
        if body.is_some() {
            return None;
        }
        let plain = if key == "date" {
            is_plain_scalar(value)
        } else {
            is_plain_safe(value)
        };
        let value = if value.starts_with('"') {
            Cow::Owned(fast_quoted(value)?)
        } else if plain {
            Cow::Borrowed(value)
        } else {
            return None;
        };
        let slot = match key {
            "id" => &mut id,
            "thread" => &mut thread,
            "date" => &mut date,
            "parent" => &mut raw.parent,
            "author" => &mut raw.author,
            "website" => &mut raw.website,
            "avatar" => &mut raw.avatar,
            "origin" => &mut raw.origin,
            _ => return None,
        };
        if slot.replace(value).is_some() {
            return None;
        }
    }
    raw.id = id?;
    raw.thread = thread?;
    raw.date = date?;
    raw.body = body?;
    Some(raw)
}

/// The lines of a text, as `str::split('\n')` gives them, found with memchr (the
/// standard searcher costs more than the search on lines this short).
#[derive(Clone)]
struct Lines<'a>(Option<&'a str>);

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.0?;
        Some(match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(end) => {
                self.0 = Some(&rest[end + 1..]);
                &rest[..end]
            }
            None => {
                self.0 = None;
                rest
            }
        })
    }
}

/// A double-quoted scalar with exactly the escapes [`yaml_quoted`] writes.
fn fast_quoted(value: &str) -> Option<String> {
    let inner = value.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return None,
            '\\' => match chars.next()? {
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    // from_str_radix alone would also take a sign (`+000`).
                    if hex.len() != 4 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return None;
                    }
                    let code = u32::from_str_radix(&hex, 16).ok()?;
                    out.push(char::from_u32(code)?);
                }
                _ => return None,
            },
            c if needs_escape(c) || c == '\t' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// A literal block scalar as [`yaml_block`] writes it: the header, then lines indented
/// by two spaces, empty lines, and nothing after.
fn fast_block<'a>(header: &str, lines: &mut impl Iterator<Item = &'a str>) -> Option<String> {
    let rest = header.strip_prefix('|')?;
    let (explicit, chomp) = match rest.strip_prefix('2') {
        Some(c) => (true, c),
        None => (false, rest),
    };
    if !matches!(chomp, "" | "-" | "+") {
        return None;
    }
    let mut content: Vec<&str> = Vec::new();
    for line in lines {
        if line.is_empty() {
            content.push("");
            continue;
        }
        let text = line.strip_prefix("  ")?;
        // A carriage return needs an escape too.
        if text.trim_start_matches([' ', '\t']).is_empty() || any_needs_escape(text) {
            return None;
        }
        content.push(text);
    }
    // The file's final newline ends the last line; it is not an empty line.
    if content.last() == Some(&"") {
        content.pop();
    }
    let first = content.iter().find(|l| !l.is_empty())?;
    if !explicit && first.starts_with([' ', '\t']) {
        return None;
    }
    let trailing = content.iter().rev().take_while(|l| l.is_empty()).count();
    let kept = content.len() - trailing;
    let newlines = match chomp {
        "-" if trailing == 0 => 0,
        "" if trailing == 0 => 1,
        "+" => trailing + 1,
        _ => return None,
    };
    // Sized exactly: a million bodies with doubled capacity would waste hundreds of MB.
    let len = content[..kept]
        .iter()
        .map(|l| l.len() + 1)
        .sum::<usize>()
        .saturating_sub(1)
        + newlines;
    let mut body = String::with_capacity(len);
    for (i, line) in content[..kept].iter().enumerate() {
        if i > 0 {
            body.push('\n');
        }
        body.push_str(line);
    }
    body.extend(std::iter::repeat_n('\n', newlines));
    Some(body)
}

/// A comment by Ann on `thread`, written at the start of 2026 (`id` and `parent` are
/// ULIDs), for the tests of the modules that handle comments.
#[cfg(test)]
pub(crate) fn sample(id: &str, thread: &str, parent: Option<&str>) -> Comment {
    use chrono::TimeZone;
    Comment {
        id: id.parse().unwrap(),
        thread: thread.into(),
        parent: parent.map(|p| p.parse().unwrap()),
        date: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        author: Some("Ann".into()),
        website: None,
        avatar: None,
        origin: None,
        body: "Hello".into(),
    }
}

/// Ids for [`sample`] comments.
#[cfg(test)]
pub(crate) const SAMPLE_IDS: [&str; 4] = [
    "01KB00000000000000000000AA",
    "01KB00000000000000000000BB",
    "01KB00000000000000000000CC",
    "01KB00000000000000000000DD",
];

#[cfg(test)]
mod tests;
