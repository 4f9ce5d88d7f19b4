//! HTML comment bodies (Disqus, WordPress, some Staticman themes) turned into the
//! Markdown that format v1 stores, so every body is edited and rendered one way.

use std::borrow::Cow;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::sync::{Mutex, PoisonError};

use htmd::element_handler::{ElementHandler, HandlerResult, Handlers};
use htmd::options::{BrStyle, BulletListMarker, Options, TranslationMode};
use htmd::{Element, HtmlToMarkdown};
use markup5ever_rcdom::{Node, NodeData};

/// Converts an HTML fragment to Markdown. What Markdown cannot say stays as inline
/// HTML, which render sanitizes like any other body; scripts and styles are dropped.
/// A fragment nesting deeper than render shows
/// ([`MAX_NESTING`](crate::render::markdown::MAX_NESTING)) is kept as it is: render
/// shows it as text, and parsing it would take time growing with the square of its
/// depth.
pub fn to_markdown(html: &str) -> String {
    use crate::render::markdown::{nests_deeper, MAX_NESTING};
    if nests_deeper(html, MAX_NESTING) {
        return html.trim().to_string();
    }
    let converter = HtmlToMarkdown::builder()
        .options(Options {
            br_style: BrStyle::Backslash,
            bullet_list_marker: BulletListMarker::Dash,
            ul_bullet_spacing: 1,
            ol_number_spacing: 1,
            translation_mode: TranslationMode::Faithful,
            ..Options::default()
        })
        .skip_tags(vec!["script", "style", "head", "iframe", "object", "embed"])
        .add_handler(vec!["em", "i", "strong", "b"], Emphasis::default())
        .add_handler(vec!["table"], table)
        .build();
    // Attributes Markdown cannot carry (rel, class, style, ...) would keep a link or an
    // image as raw HTML; ammonia removes them first, and scripts with them.
    let mut cleaned = ammonia::Builder::default()
        .link_rel(None)
        .attribute_filter(|_, attribute, value| match attribute {
            "href" => Some(without_disqus_redirect(url_for_markdown(value))),
            "src" => Some(url_for_markdown(value)),
            _ => Some(value.into()),
        })
        .clean(html)
        .to_string();
    cleaned = with_current_names(&cleaned);
    cleaned = plain_code(&cleaned);
    // Highlighted code (Remark42's and many blogs' `<pre><code><span class="k">`) is
    // code: its spans only coloured it, and would keep the block as raw HTML.
    cleaned = without_spans_in_pre(&cleaned);
    cleaned = breaks_outside_inline(&cleaned);
    let escaped = with_text_escaped(&cleaned);
    match converter.convert(escaped.as_deref().unwrap_or(&cleaned)) {
        Ok(markdown) if escaped.is_some() => {
            without_dangling_breaks(markdown.replace(ESCAPE, "\\").trim()).replace(KEEP, "")
        }
        Ok(markdown) => without_dangling_breaks(markdown.trim()),
        // The parser reads from memory; an I/O error cannot happen, but losing a body
        // must not either: keep the source, which render sanitizes.
        Err(_) => html.trim().to_string(),
    }
}

/// `html` (as ammonia writes it: tags well formed) with its breaks where Markdown can
/// write them. A break that starts or ends an inline element's text goes out of it,
/// before or after it: the backslash of one at the end of a link's text
/// (`<a>text<br></a>`) would escape the `]` and leave the link as text. One that
/// starts or ends a block goes, as one ending a paragraph shows nothing, and a line
/// break cannot start a Markdown paragraph or item. One in a heading, which Markdown
/// writes on one line, is a space. Inline elements holding nothing but space go (their
/// space stays): emphasis of nothing is two stars. Space after a break goes with it:
/// it would start a line, where it does not show. Code blocks keep their breaks.
fn breaks_outside_inline(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    // The open inline elements: where each one's start tag begins and ends in `out`.
    let mut open: Vec<(usize, usize)> = Vec::new();
    // Where the last block's tag ends in `out`; open code blocks and headings.
    let (mut block, mut pre, mut heading) = (0, 0usize, 0usize);
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        let mut text = &rest[..at];
        // Space first in elements that hold nothing else yet goes before them: htmd
        // drops it from a link's text, joining its first word to the one before.
        let spaced = text.len()
            - text
                .trim_start_matches(|c: char| c.is_ascii_whitespace())
                .len();
        if spaced > 0 && pre == 0 {
            let (to, moved) = before_empty(&out, &open, str::is_empty);
            insert_before(&mut out, &mut open, moved, to, &text[..spaced]);
            text = &text[spaced..];
        }
        out.push_str(text);
        let end = at + tag_end(&rest[at..]);
        let tag = &rest[at..end];
        rest = &rest[end..];
        let (name, closing) = tag_name(tag);
        if pre > 0 && name != "pre" {
            out.push_str(tag);
            continue;
        }
        if name == "br" && heading > 0 {
            out.push(' ');
        } else if name == "br" {
            // Before the open elements that hold no text yet, without the space after
            // them; gone if nothing comes before it in its block.
            let (at, moved) = before_empty(&out, &open, is_space);
            if moved > 0 {
                out.truncate(open[open.len() - 1].1);
            }
            if is_space(&out[block..at]) {
                continue;
            }
            insert_before(&mut out, &mut open, moved, at, tag);
        } else if BLOCKS.contains(&name) {
            // Breaks that end the block before it go.
            let (held, breaks) = without_end_breaks(&out[block..]);
            if breaks > 0 {
                out.truncate(block + held.len());
            }
            open.clear();
            out.push_str(tag);
            block = out.len();
            pre = if name == "pre" {
                nested(pre, closing)
            } else {
                pre
            };
            if HEADINGS.contains(&name) {
                heading = nested(heading, closing);
            }
        } else if !inline(name) {
            out.push_str(tag);
        } else if !closing {
            open.push((out.len(), out.len() + tag.len()));
            out.push_str(tag);
        } else if let Some((start, inner)) = open.pop() {
            let (held, breaks) = without_end_breaks(&out[inner..]);
            let kept = held.len();
            if is_space(&out[inner..inner + kept]) {
                // Nothing but space (and breaks): the element goes, its space stays.
                let held = out[inner..].replace(BREAK, "");
                out.truncate(start);
                out.push_str(&held);
            } else {
                // Space last in it goes after it too.
                let space = out[inner + kept..].replace(BREAK, "");
                out.truncate(inner + kept);
                out.push_str(tag);
                if breaks == 0 {
                    out.push_str(&space);
                }
            }
            out.push_str(&BREAK.repeat(breaks));
        } else {
            out.push_str(tag);
        }
    }
    out.push_str(rest);
    out
}

/// A line break as ammonia writes it.
const BREAK: &str = "<br>";

/// Where in `out` the open inline elements that hold nothing yet (as `empty` tells of
/// what follows each start tag) start, the outermost of them, and how many they are.
fn before_empty(out: &str, open: &[(usize, usize)], empty: fn(&str) -> bool) -> (usize, usize) {
    let (mut at, mut moved) = (out.len(), 0);
    for &(start, inner) in open.iter().rev() {
        if !empty(&out[inner..at]) {
            break;
        }
        (at, moved) = (start, moved + 1);
    }
    (at, moved)
}

/// Inserts `what` into `out` at `at`, before the last `moved` open elements, whose
/// places move with it.
fn insert_before(
    out: &mut String,
    open: &mut [(usize, usize)],
    moved: usize,
    at: usize,
    what: &str,
) {
    out.insert_str(at, what);
    let held = open.len() - moved;
    for (start, inner) in &mut open[held..] {
        (*start, *inner) = (*start + what.len(), *inner + what.len());
    }
}

/// `html` without the breaks (and space) it ends with, and how many they were.
fn without_end_breaks(html: &str) -> (&str, usize) {
    let (mut held, mut breaks) = (trim_end_space(html), 0);
    while let Some(before) = held.strip_suffix(BREAK) {
        (held, breaks) = (trim_end_space(before), breaks + 1);
    }
    (held, breaks)
}

/// How many elements of a kind are open after a tag of one: its start or its end.
fn nested(open: usize, closing: bool) -> usize {
    match closing {
        true => open.saturating_sub(1),
        false => open + 1,
    }
}

/// `html`'s text without the space at its end: whitespace, and no-break space as
/// ammonia writes it (`&nbsp;`), which htmd trims as space too.
fn trim_end_space(html: &str) -> &str {
    let mut html = html;
    loop {
        let trimmed = html.trim_end_matches(|c: char| c.is_ascii_whitespace());
        let trimmed = trimmed.strip_suffix("&nbsp;").unwrap_or(trimmed);
        if trimmed.len() == html.len() {
            return html;
        }
        html = trimmed;
    }
}

/// Whether `html`'s text is all [space](trim_end_space).
fn is_space(html: &str) -> bool {
    trim_end_space(html).is_empty()
}

/// `html` (as ammonia writes it: every `<` of text escaped) with the elements HTML no
/// longer has, which pages do not show, named as it does now: `<strike>` is `<s>`,
/// `<acronym>` is `<abbr>`, and `<u>`, underlined as `<ins>` is.
fn with_current_names(html: &str) -> String {
    let mut html = html.to_string();
    for (old, new) in [("strike", "s"), ("u", "ins"), ("acronym", "abbr")] {
        for (from, to) in [
            (format!("<{old}>"), format!("<{new}>")),
            (format!("<{old} "), format!("<{new} ")),
            (format!("</{old}>"), format!("</{new}>")),
        ] {
            if html.contains(&from) {
                html = html.replace(&from, &to);
            }
        }
    }
    html
}

/// A link's or an image's URL as a browser follows it, written so that Markdown keeps
/// it whole: without the space around it, tabs and newlines (which browsers drop), and
/// with the space, `<` and `>` in it percent-encoded (which browsers do), so htmd never
/// writes it between `<…>`, where a `<` or `>` of the URL would end it.
fn url_for_markdown(url: &str) -> Cow<'_, str> {
    let url = url.trim_matches(|c: char| c.is_ascii_whitespace() || c.is_ascii_control());
    if !url.contains([' ', '<', '>', '\t', '\n', '\r']) {
        return url.into();
    }
    let mut out = String::with_capacity(url.len() + 8);
    for c in url.chars() {
        match c {
            '\t' | '\n' | '\r' => {}
            ' ' => out.push_str("%20"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            c => out.push(c),
        }
    }
    out.into()
}

/// The address a link through Disqus's redirector leads to. Disqus sent every link in a
/// comment through it (`https://disq.us/url?url=<address>%3A<signature>&cuid=<forum>`);
/// kept, the links would lead readers through Disqus, and nowhere once it stops
/// answering for the forum. Any other URL, and one whose address is no http(s) URL,
/// stays as it is.
fn without_disqus_redirect(href: Cow<'_, str>) -> Cow<'_, str> {
    // Most links are not Disqus's: they are not parsed.
    if !href
        .as_bytes()
        .windows(7)
        .any(|w| w.eq_ignore_ascii_case(b"disq.us"))
    {
        return href;
    }
    let Ok(url) = url::Url::parse(&href) else {
        return href;
    };
    let disqus = url
        .host_str()
        .is_some_and(|host| host == "disq.us" || host.ends_with(".disq.us"));
    if !disqus || !matches!(url.path(), "/url" | "/") {
        return href;
    }
    let Some((_, address)) = url.query_pairs().find(|(name, _)| name == "url") else {
        return href;
    };
    // The signature: a colon and 27 characters of URL-safe base64 (a SHA-1).
    let address = match address.rsplit_once(':') {
        Some((rest, signature))
            if signature.len() == 27
                && signature
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            rest
        }
        _ => &address,
    };
    match url::Url::parse(address) {
        Ok(to) if matches!(to.scheme(), "http" | "https") => Cow::Owned(address.to_string()),
        _ => href,
    }
}

/// Emphasis as htmd writes it (`*text*`, `**text**`), or as HTML (`<em>text</em>`)
/// where Markdown would not read it back. CommonMark opens emphasis at a `*` followed
/// by punctuation only if space or punctuation comes before it (`Aside*: note*` is
/// text), and closes it likewise (`**Page.**ViewState`); a `*` of emphasis inside next
/// to one of these (`<em>a<em>b</em></em>`, `*a*b**`), or of emphasis beside it, makes
/// a run of another meaning.
#[derive(Default)]
struct Emphasis {
    /// Where the last element handled sat among its parent's children, by parent:
    /// htmd handles children in order, so finding the next one takes a step or two.
    seen: Mutex<HashMap<usize, usize>>,
}

impl ElementHandler for Emphasis {
    fn handle(&self, handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
        let (node, strong) = (element.node, matches!(element.tag, "strong" | "b"));
        let result = handlers.fallback(element)?;
        let (marker, name) = if strong {
            ("**", "strong")
        } else {
            ("*", "em")
        };
        // htmd moves the space at either end of the text out of the markers (Unicode's,
        // no-break space too).
        let content = &result.content;
        let body = content.trim_start();
        let lead = &content[..content.len() - body.len()];
        let body = body.trim_end();
        let trail = &content[lead.len() + body.len()..];
        let Some(inner) = body
            .strip_prefix(marker)
            .and_then(|body| body.strip_suffix(marker))
        else {
            // Kept as HTML already (it has attributes).
            return Some(result);
        };
        // A `*` of emphasis inside at either end (a `\*` of text is not one).
        let starts = inner.len() - inner.trim_start_matches('*').len();
        let before = inner.trim_end_matches('*');
        let escaped = before.len() - before.trim_end_matches('\\').len();
        let ends = (inner.len() - before.len()).saturating_sub(escaped % 2);
        // Emphasis holding strong emphasis and nothing else, or the other way round, is
        // a run of three (`***a***`), which CommonMark reads as both.
        let both = starts + marker.len() == 3 && ends + marker.len() == 3;
        let core = &inner[starts..inner.len() - ends];
        let (prev, next) = self.siblings(node);
        let opens = reads(core.chars().next(), !lead.is_empty(), prev);
        let closes = reads(core.chars().next_back(), !trail.is_empty(), next);
        // A `*` of emphasis inside, not at an end, may close this one's opener early.
        let mut after_backslash = false;
        let inside = core.bytes().any(|b| {
            let delimiter = b == b'*' && !after_backslash;
            after_backslash = b == b'\\' && !after_backslash;
            delimiter
        });
        if opens && closes && !inside && (starts + ends == 0 || both) {
            return Some(result);
        }
        Some(format!("{lead}<{name}>{inner}</{name}>{trail}").into())
    }
}

impl Emphasis {
    /// What is next to `node` in its parent, before and after it.
    fn siblings(&self, node: &Rc<Node>) -> (Beside, Beside) {
        // The parent is kept in a `Cell`: taken to read it, and put back.
        let link = node.parent.take();
        let parent = link.as_ref().and_then(Weak::upgrade);
        node.parent.set(link);
        let Some(parent) = parent else {
            return (Beside::Markup, Beside::Markup);
        };
        let children = parent.children.borrow();
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let hint = seen.entry(Rc::as_ptr(&parent) as usize).or_default();
        let from = (*hint).min(children.len());
        let Some(at) = (from..children.len())
            .chain(0..from)
            .find(|at| Rc::ptr_eq(&children[*at], node))
        else {
            return (Beside::Markup, Beside::Markup);
        };
        *hint = at;
        let beside = |at: Option<usize>, after: bool| match at
            .and_then(|at| children.get(at))
            .map(|child| &child.data)
        {
            Some(NodeData::Text { contents }) => {
                let text = contents.borrow();
                let c = if after {
                    text.chars().next()
                } else {
                    text.chars().next_back()
                };
                c.map_or(Beside::Markup, Beside::Text)
            }
            Some(NodeData::Element { name, .. })
                if matches!(&*name.local, "em" | "i" | "strong" | "b") =>
            {
                Beside::Emphasis
            }
            _ => Beside::Markup,
        };
        (beside(at.checked_sub(1), false), beside(Some(at + 1), true))
    }
}

/// A table as htmd writes it, with a header row of empty cells when it has none: a
/// Markdown table starts with its header, and htmd writes the rows of a table without
/// one as lines of text, `| a | b |`.
fn table(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    let result = handlers.fallback(element)?;
    let lines: Vec<&str> = result.content.lines().collect();
    let Some(first) = lines.iter().position(|line| line.starts_with('|')) else {
        return Some(result);
    };
    let rule =
        |line: &&str| line.starts_with('|') && line.trim_matches(['|', '-', ':', ' ']).is_empty();
    if lines.get(first + 1).is_some_and(rule) {
        return Some(result);
    }
    let columns = lines[first].matches('|').count().saturating_sub(1).max(1);
    let mut content = String::with_capacity(result.content.len() + 8 * columns);
    for (at, line) in lines.iter().enumerate() {
        if at == first {
            content.push_str(&format!(
                "|{}\n|{}\n",
                "  |".repeat(columns),
                " --- |".repeat(columns)
            ));
        }
        content.push_str(line);
        content.push('\n');
    }
    Some(content.into())
}

/// What is next to an element in its parent, as far as Markdown's emphasis goes.
enum Beside {
    /// Text, starting or ending with this character.
    Text(char),
    /// Nothing, or an element whose Markdown starts and ends with punctuation or a line.
    Markup,
    /// Emphasis, whose `*` would run together with the element's.
    Emphasis,
}

/// Whether a `*` delimiter reads as one, given the text's character next to it inside
/// (`None`: no text), whether space was moved out there, and what is past it:
/// CommonMark's flanking rules, where punctuation inside needs space or punctuation
/// outside.
fn reads(inside: Option<char>, spaced: bool, beside: Beside) -> bool {
    match (inside, beside) {
        (_, Beside::Emphasis) if !spaced => false,
        (Some(c), _) if c.is_alphanumeric() => true,
        (Some(c), _) if c.is_whitespace() => false,
        (Some(_), Beside::Text(c)) => spaced || c.is_whitespace() || c.is_ascii_punctuation(),
        (Some(_), _) => true,
        (None, _) => false,
    }
}

/// Stands for a backslash in the HTML given to htmd, which writes it as it is (it
/// escapes a backslash of the text): a private-use character no body holds.
const ESCAPE: char = '\u{F8FF}';

/// Stands before the second of two breaks in a row inside an inline element (`<a>a<br>
/// <br>b</a>`), and goes after the Markdown is written: a line holding only the second
/// break's backslash becomes a paragraph break there, which would cut the link in two.
const KEEP: char = '\u{F8FE}';

/// Whether an element is inline: neither a block nor empty (`<br>`, `<img>`), nor code,
/// whose text is its own. Markdown writes some around their text (`**`, `[…](…)`),
/// htmd keeps the others as HTML, converting what they hold; a paragraph break cut
/// inside any of them would leave it open.
fn inline(name: &str) -> bool {
    let other = matches!(name, "" | "br" | "img" | "wbr" | "hr" | "pre" | "code");
    !(other || BLOCKS.contains(&name) || RAW_BLOCKS.contains(&name))
}

/// Elements Markdown writes on one line.
const HEADINGS: [&str; 6] = ["h1", "h2", "h3", "h4", "h5", "h6"];

/// Elements htmd keeps as HTML that CommonMark reads as an HTML block, whose text it
/// shows as it is: no escape goes in there.
const RAW_BLOCKS: [&str; 15] = [
    "article",
    "aside",
    "center",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "header",
    "hgroup",
    "nav",
    "summary",
];

/// Elements whose tags start a new line of Markdown.
const BLOCKS: [&str; 24] = [
    "p",
    "div",
    "br",
    "hr",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "td",
    "th",
];

/// `html` (as ammonia writes it) with an [`ESCAPE`] before the text that htmd would leave
/// to mean Markdown: a block marker at the start of a line when space comes before it
/// (htmd looks for markers before it trims space), `1)` and a rule of `-` (which it
/// does not know), every `~`, which strikes text through, and every `#` in a heading. Text in code, and in
/// the [`RAW_BLOCKS`] htmd keeps as HTML, is left as it is. `None` for a body that
/// holds an `ESCAPE` itself.
fn with_text_escaped(html: &str) -> Option<String> {
    if html.contains([ESCAPE, KEEP]) {
        return None;
    }
    let mut out = String::with_capacity(html.len() + 16);
    let mut rest = html;
    let mut line_start = true;
    // Open elements whose text stays as it is: code, and the raw blocks.
    let mut as_is = 0usize;
    // Open inline elements and headings, and whether a break came last.
    let (mut inline, mut heading, mut after_break) = (0usize, 0usize, false);
    while !rest.is_empty() {
        if rest.starts_with('<') {
            let end = tag_end(rest);
            let tag = &rest[..end];
            let (name, closing) = tag_name(tag);
            if name == "pre" || name == "code" || RAW_BLOCKS.contains(&name) {
                as_is = nested(as_is, closing);
            }
            if self::inline(name) {
                inline = nested(inline, closing);
            }
            if HEADINGS.contains(&name) {
                heading = nested(heading, closing);
            }
            if name == "br" && after_break && inline > 0 && as_is == 0 {
                out.push(KEEP);
            }
            after_break = name == "br" || after_break && self::inline(name);
            // A line starts after a block's tag; an inline element's tag leaves it where
            // it was, as an element with no text in it writes nothing (and an escape
            // after the `**` or `[` of one with text shows nothing); an image is text.
            line_start = (line_start && name != "img") || BLOCKS.contains(&name);
            out.push_str(tag);
            rest = &rest[end..];
            continue;
        }
        let end = rest.find('<').unwrap_or(rest.len());
        let mut text = &rest[..end];
        rest = &rest[end..];
        after_break &= is_space(text);
        if as_is > 0 {
            line_start &= is_space(text);
            out.push_str(text);
            continue;
        }
        let first = line_start;
        if line_start {
            // Space at the start of a line shows nothing in HTML.
            loop {
                let trimmed = text.trim_start_matches([' ', '\t', '\n', '\r']);
                text = trimmed.strip_prefix("&nbsp;").unwrap_or(trimmed);
                if text.len() == trimmed.len() {
                    break;
                }
            }
            if text.is_empty() {
                continue;
            }
            line_start = false;
            if text.starts_with("&gt;") {
                out.push(ESCAPE);
            } else if let Some(at) = block_start(text) {
                // htmd escapes `*`, `_` and `` ` `` wherever they are, and `~` is below.
                if !text[at..].starts_with(['*', '_', '`', '~']) {
                    out.push_str(&text[..at]);
                    out.push(ESCAPE);
                    text = &text[at..];
                }
            }
        }
        // `!` before a link makes it an image: `![text](url)`.
        let bang = text.ends_with('!') && tag_name(rest) == ("a", false);
        if bang {
            text = &text[..text.len() - 1];
        }
        // `~` strikes text through; `#` at the end of a heading would end it (htmd
        // escapes one that starts it); an `&` that starts a character reference
        // (`&amp;lt;`, the text `&lt;`) makes it one, as does one whose reference the
        // text after a tag may finish (htmd joins `<b>&amp;</b><b>lt;</b>` in one `**`).
        let marks: &[char] = if heading > 0 {
            &['~', '#', '&']
        } else {
            &['~', '&']
        };
        let mut from = 0;
        for (at, mark) in text.match_indices(marks) {
            let escaped = match mark {
                "#" => !(first && at == 0),
                "&" => text[at..].strip_prefix("&amp;").is_some_and(|after| {
                    starts_reference(after) || (!rest.is_empty() && may_start_reference(after))
                }),
                _ => true,
            };
            if escaped {
                out.push_str(&text[from..at]);
                out.push(ESCAPE);
                from = at;
            }
        }
        out.push_str(&text[from..]);
        if bang {
            out.push(ESCAPE);
            out.push('!');
        }
    }
    Some(out)
}

/// Whether `text`, after an `&`, would make it a character reference in Markdown: a
/// name (`lt;`, `nbsp;`) or a number (`#8217;`, `#x41;`) and a `;`.
fn starts_reference(text: &str) -> bool {
    let Some(end) = text.get(..40).unwrap_or(text).find(';') else {
        return false;
    };
    let name = &text[..end];
    let is = |s: &str, digit: fn(&u8) -> bool| !s.is_empty() && s.as_bytes().iter().all(digit);
    match name.strip_prefix('#') {
        Some(number) => match number.strip_prefix(['x', 'X']) {
            Some(hex) => is(hex, u8::is_ascii_hexdigit),
            None => is(number, u8::is_ascii_digit),
        },
        None => {
            name.starts_with(|c: char| c.is_ascii_alphabetic())
                && is(name, u8::is_ascii_alphanumeric)
        }
    }
}

/// Whether `text`, after an `&`, is all of it the start of a character reference
/// (`lt`, `#6`, or nothing yet), which text after it may finish.
fn may_start_reference(text: &str) -> bool {
    text.len() < 40 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'#')
}

/// The length of the tag `html` starts with, quoted attribute values and all.
fn tag_end(html: &str) -> usize {
    let mut quote = None;
    for (i, b) in html.bytes().enumerate() {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), _) if b == q => quote = None,
            (None, b'>') => return i + 1,
            _ => {}
        }
    }
    html.len()
}

/// The start tag and the content of the one link that is all of `held` (space aside),
/// if it is.
fn link_around(held: &str) -> Option<(&str, &str)> {
    let held = held.trim();
    if tag_name(held) != ("a", false) {
        return None;
    }
    let open = tag_end(held);
    let content = held.get(open..)?.strip_suffix("</a>")?;
    (!content.contains("<a") && !content.contains("</a")).then_some((&held[..open], content))
}

/// The name of a tag as ammonia writes it (`<pre>`, `</pre>`, `<a href="…">`: in lower
/// case), and whether it closes its element; no name for text that starts no tag.
fn tag_name(tag: &str) -> (&str, bool) {
    let closing = tag.starts_with("</");
    let Some(name) = tag.strip_prefix("</").or_else(|| tag.strip_prefix('<')) else {
        return ("", false);
    };
    let len = name.bytes().take_while(u8::is_ascii_alphanumeric).count();
    (&name[..len], closing)
}

/// `html` (as ammonia writes it) with each `<code>` outside a `<pre>` written plain: htmd
/// keeps a `<code>` holding tags as HTML but writes its text unescaped, so the `<T>` of
/// `List&lt;T&gt;` would be read as a tag, and lost. What formatted the code (a
/// `<strong>` in it) goes; its `<br>`s, as Disqus kept code of several lines, make it a
/// `<pre>` block of those lines; code holding no text goes; space at the ends of code
/// in a line goes outside it, where htmd's code span would lose it.
fn plain_code(html: &str) -> String {
    const CLOSE: &str = "</code>";
    let mut out = String::with_capacity(html.len() + 32);
    let mut rest = html;
    // Open elements that are not blocks (inline ones, headings).
    let mut inline = 0usize;
    // One walk from tag to tag: code in a `<pre>` is a block already.
    while let Some(at) = rest.find('<') {
        let inner = at + tag_end(&rest[at..]);
        let tag = tag_name(&rest[at..inner]);
        if tag == ("pre", false) {
            let end = rest[inner..]
                .find("</pre>")
                .map_or(rest.len(), |e| inner + e + "</pre>".len());
            out.push_str(&rest[..end]);
            rest = &rest[end..];
            continue;
        }
        if tag != ("code", false) {
            let (name, closing) = tag;
            if self::inline(name) || HEADINGS.contains(&name) {
                inline = nested(inline, closing);
            }
            out.push_str(&rest[..inner]);
            rest = &rest[inner..];
            continue;
        }
        let Some(close) = rest[inner..].find(CLOSE).map(|e| inner + e) else {
            break;
        };
        out.push_str(&rest[..at]);
        // Code that is all a link (`<code><a href="…">Regex.Replace</a></code>`, as
        // blogs link an API's name) becomes a link of code, which Markdown can say.
        let (link, held) = match link_around(&rest[inner..close]) {
            Some((open, text)) => (Some(open), text),
            None => (None, &rest[inner..close]),
        };
        // Its text, a line a `<br>` (a newline of the source is a space there).
        let mut text = String::with_capacity(held.len());
        let mut left = held;
        while let Some(open) = left.find('<') {
            text.push_str(&left[..open].replace('\n', " "));
            let end = open + tag_end(&left[open..]);
            if tag_name(&left[open..end]).0 == "br" {
                text.push('\n');
            }
            left = &left[end..];
        }
        text.push_str(&left.replace('\n', " "));
        // A break that starts or ends the code only spaced it from the text: a
        // block is apart, code in a line gets a space.
        let edges = (text.starts_with('\n'), text.ends_with('\n'));
        let mut text = text.trim_matches('\n');
        let lines;
        if inline > 0 || link.is_some() {
            // In a link, emphasis, heading, …, a block would cut it in two: one line.
            lines = text.replace('\n', " ");
            text = &lines;
        }
        let block = text.contains('\n');
        let (start_tag, end_tag) = match block {
            true => ("<pre><code>", "</code></pre>"),
            false => ("<code>", CLOSE),
        };
        // Space at the ends of code in a line goes outside, where htmd's code span
        // would lose it.
        let (lead, trail) = match block {
            true => (0, 0),
            false => (
                text.len() - text.trim_start().len(),
                text.len() - text.trim_end().len(),
            ),
        };
        if (edges.0 && !block) || lead > 0 {
            out.push(' ');
        }
        if text.trim().is_empty() {
            // Code of nothing shows nothing, where htmd would write two backticks.
            out.push_str(if text.is_empty() || edges.0 || lead > 0 {
                ""
            } else {
                " "
            });
        } else {
            out.push_str(link.unwrap_or_default());
            out.push_str(start_tag);
            out.push_str(&text[lead..text.len() - trail]);
            out.push_str(end_tag);
            if link.is_some() {
                out.push_str("</a>");
            }
            if (edges.1 && !block) || trail > 0 {
                out.push(' ');
            }
        }
        rest = &rest[close + CLOSE.len()..];
    }
    out.push_str(rest);
    out
}

/// `html` (as ammonia writes it: tags well formed, and every `<` of text escaped) without
/// the `<span>` tags inside its `<pre>` blocks, keeping their text.
fn without_spans_in_pre(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<pre") {
        let end = rest[start..]
            .find("</pre>")
            .map_or(rest.len(), |e| start + e);
        out.push_str(&rest[..start]);
        let mut block = &rest[start..end];
        while let Some(tag) = [block.find("<span"), block.find("</span>")]
            .into_iter()
            .flatten()
            .min()
        {
            let close = block[tag..].find('>').map_or(block.len(), |c| tag + c + 1);
            out.push_str(&block[..tag]);
            block = &block[close..];
        }
        out.push_str(block);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// A `<br>` that ends a paragraph shows nothing in HTML, but its Markdown, a backslash
/// at the end of the line, shows as a backslash when no line of the paragraph follows;
/// so does a backslash alone on a line, from breaks in a row. Those are dropped, and
/// breaks in a row become a blank line (outside code blocks, where a backslash is text).
fn without_dangling_breaks(markdown: &str) -> String {
    // Quote markers and indentation are not the line's text.
    fn text(line: &str) -> &str {
        line.trim_start_matches(['>', ' '])
    }
    let mut lines: Vec<String> = markdown.lines().map(str::to_string).collect();
    let blank = |lines: &[String], i: Option<usize>| {
        i.and_then(|i| lines.get(i))
            .is_none_or(|line| text(line).trim().is_empty())
    };
    let breaks = |line: &str| (line.len() - line.trim_end_matches('\\').len()) % 2 == 1;
    // A fence of backticks has none after them: "``` `a` ```" is code in a line. One
    // may open a list item (htmd escapes a marker that is text).
    let fence = |line: &str| {
        let line = text(line);
        let marker = line.bytes().take_while(u8::is_ascii_digit).count();
        let line = match line.as_bytes().get(marker) {
            Some(b'.' | b')') if marker > 0 => line[marker + 1..].trim_start(),
            Some(b'-' | b'*' | b'+') if marker == 0 => line[1..].trim_start(),
            _ => line,
        };
        let ticks = line.len() - line.trim_start_matches('`').len();
        (ticks >= 3 && !line[ticks..].contains('`')) || line.starts_with("~~~")
    };
    // Dropping one break can leave another dangling, as in `a<br><br>`.
    loop {
        let mut changed = false;
        let mut in_code = false;
        for i in 0..lines.len() {
            in_code ^= fence(&lines[i]);
            if in_code || !breaks(&lines[i]) {
                continue;
            }
            // A line of a break alone (`a<br><br>b`) is an empty line: a blank one in
            // Markdown, where a backslash alone on a line is text.
            if blank(&lines, Some(i + 1)) || text(&lines[i]) == "\\" {
                let line = &mut lines[i];
                line.pop();
                line.truncate(line.trim_end().len());
                changed = true;
            } else if let Some(at) = block_start(text(&lines[i + 1])) {
                // `a<br>1) b` is two lines of text in HTML, but `1)` would start a list
                // in Markdown, and end the paragraph with the backslash in it.
                let next = &mut lines[i + 1];
                let prefix = next.len() - text(next).len();
                next.insert(prefix + at, '\\');
                changed = true;
            }
        }
        if !changed {
            // Lines a dropped break leaves with nothing on them, first or last, go too.
            let kept = |i: &usize| !blank(&lines, Some(*i));
            let (Some(first), Some(last)) =
                ((0..lines.len()).find(kept), (0..lines.len()).rfind(kept))
            else {
                return String::new();
            };
            // Blank lines in a row are one paragraph break.
            let mut out: Vec<&str> = Vec::with_capacity(last + 1 - first);
            let mut in_code = false;
            for (i, line) in lines.iter().enumerate().take(last + 1).skip(first) {
                in_code ^= fence(line);
                if in_code || !blank(&lines, Some(i)) || !blank(&lines, i.checked_sub(1)) {
                    out.push(line);
                }
            }
            return out.join("\n");
        }
    }
}

/// Where a backslash keeps a line of text from starting a Markdown block that may
/// interrupt a paragraph (a list item, heading, fence, rule or heading underline), if
/// it would.
fn block_start(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    // A line of Markdown, or text of HTML, where a newline or tab is a space too, and
    // a no-break space, which htmd trims at the end of a line.
    let spaced = |at: usize| {
        bytes.get(at).is_none_or(u8::is_ascii_whitespace)
            || text
                .get(at..)
                .is_some_and(|t| t.starts_with(['\u{a0}']) || t.starts_with("&nbsp;"))
    };
    let run = |c: u8| bytes.iter().take_while(|b| **b == c).count();
    let first = *bytes.first()?;
    let rule = b"-*_=".contains(&first)
        && text
            .trim_end()
            .bytes()
            .all(|b| b == first || b.is_ascii_whitespace());
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    match first {
        _ if rule => Some(0),
        b'-' | b'+' | b'*' if spaced(1) => Some(0),
        b'#' if run(b'#') <= 6 && spaced(run(b'#')) => Some(0),
        b'`' | b'~' if run(first) >= 3 => Some(0),
        b'0'..=b'9' if digits <= 9 && matches!(bytes.get(digits), Some(b'.' | b')')) => {
            spaced(digits + 1).then_some(digits)
        }
        _ => None,
    }
}

/// The HTML WordPress shows for a comment's stored text. It stores paragraphs as blank
/// lines, line breaks as single newlines and addresses as typed; when showing a
/// comment, `make_clickable` links the addresses and `wpautop` adds the paragraphs and
/// breaks. This does the same, so the Markdown keeps the reader's links and
/// paragraphs. As `wpautop` does, a `<pre>` block is left as it is: its blank lines and
/// indentation are the code's.
pub fn wordpress_html(text: &str) -> String {
    let text = clickable(&text.replace("\r\n", "\n"));
    let lower = text.to_ascii_lowercase();
    let mut html = String::with_capacity(text.len() + 32);
    let mut at = 0;
    while at < text.len() {
        let (start, end) = match pre_block(&lower[at..]) {
            Some((start, end)) => (at + start, at + end),
            None => (text.len(), text.len()),
        };
        // Lines holding only space end a paragraph, as blank ones do.
        let mut in_paragraph = false;
        for line in text[at..start].split('\n').map(str::trim) {
            if line.is_empty() {
                if in_paragraph {
                    html.push_str("</p>\n");
                }
                in_paragraph = false;
                continue;
            }
            if !in_paragraph {
                html.push_str("<p>");
            } else if !ends_with_break(&html) {
                // A newline after a `<br>` the text holds is not a second break.
                html.push_str("<br>");
            }
            in_paragraph = true;
            html.push_str(line);
        }
        if in_paragraph {
            html.push_str("</p>\n");
        }
        if start < end {
            html.push_str(&text[start..end]);
            html.push('\n');
        }
        at = end;
    }
    html
}

/// `html` with its bare addresses linked, as WordPress's `make_clickable` links them
/// in comments: an `http(s)://` address after space, the start of the text or a tag,
/// or one of `(<.,;:!?`; a `www.` one after space or a tag. An address runs to the
/// first character it cannot hold, without punctuation at its end (a `)` stays when
/// it holds a `(`). Text in `<a>`, `<code>`, `<pre>`, `<script>` and `<style>` is left
/// alone.
fn clickable(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + 64);
    let mut left_alone = 0usize;
    let mut rest = html;
    while !rest.is_empty() {
        // A tag, as WordPress cuts them: `<`, then anything but `<` and `>`, then `>`.
        let tag_len = rest
            .strip_prefix('<')
            .and_then(|after| after.find(['<', '>']))
            .filter(|&i| rest.as_bytes()[i + 1] == b'>' && i > 0)
            .map(|i| i + 2);
        if let Some(len) = tag_len {
            let tag = rest[..len].to_ascii_lowercase();
            let (name, closing) = tag_name(&tag);
            if matches!(name, "a" | "code" | "pre" | "script" | "style") {
                if closing {
                    left_alone = left_alone.saturating_sub(1);
                } else {
                    left_alone += 1;
                }
            }
            out.push_str(&rest[..len]);
            rest = &rest[len..];
            continue;
        }
        let first = rest.chars().next().map_or(1, char::len_utf8);
        let end = rest[first..].find('<').map_or(rest.len(), |i| i + first);
        if left_alone > 0 {
            out.push_str(&rest[..end]);
        } else {
            link_addresses(&rest[..end], &mut out);
        }
        rest = &rest[end..];
    }
    out
}

/// Writes `text` (text between tags) to `out` with its addresses linked, as
/// [`clickable`] says.
fn link_addresses(text: &str, out: &mut String) {
    let lower = text.to_ascii_lowercase();
    let mut written = 0;
    let mut at = 0;
    while at < text.len() {
        let before = text[..at].chars().next_back();
        let web = lower[at..].starts_with("www.");
        let starts = if web {
            before.is_none_or(char::is_whitespace)
        } else {
            (lower[at..].starts_with("http://") || lower[at..].starts_with("https://"))
                && before.is_none_or(|c| c.is_whitespace() || "(<.,;:!?".contains(c))
        };
        let len = if starts {
            address_len(&text[at..], web)
        } else {
            0
        };
        if len == 0 {
            at += text[at..].chars().next().map_or(1, char::len_utf8);
            continue;
        }
        let address = &text[at..at + len];
        out.push_str(&text[written..at]);
        let scheme = if web { "http://" } else { "" };
        out.push_str(&format!("<a href=\"{scheme}{address}\">{address}</a>"));
        at += len;
        written = at;
    }
    out.push_str(&text[written..]);
}

/// How long the address at the start of `text` is, in bytes: 0 when it holds nothing
/// past its `scheme://` or `www.`.
fn address_len(text: &str, web: bool) -> usize {
    let start = if web {
        4
    } else {
        text.find("://").map_or(0, |i| i + 3)
    };
    let holds = |c: char| {
        !c.is_ascii() || c.is_ascii_alphanumeric() || "_#%~/@[]*(+=&$-'.,;:!?)".contains(c)
    };
    let end = text[start..]
        .find(|c: char| !holds(c))
        .map_or(text.len(), |i| start + i);
    let address = &text[..end];
    let trimmed = address.trim_end_matches(|c: char| "'.,;:!?)".contains(c));
    let mut len = trimmed.len();
    // A `)` closing a `(` of the address is part of it.
    if address[len..].starts_with(')') && trimmed.contains('(') {
        len += 1;
    }
    if len <= start {
        0
    } else {
        len
    }
}

/// Whether `html` ends with a `<br>` tag (`<br/>`, `<BR />`), space after it aside.
fn ends_with_break(html: &str) -> bool {
    let Some(tag) = html.trim_end().as_bytes().strip_suffix(b">") else {
        return false;
    };
    let tag = tag.strip_suffix(b"/").unwrap_or(tag).trim_ascii_end();
    tag.len() >= 3 && tag[tag.len() - 3..].eq_ignore_ascii_case(b"<br")
}

/// Where the first `<pre>` element of `lower` (lowercase HTML) starts and ends: after
/// its `</pre>`, or at the end of the text when it is not closed.
fn pre_block(lower: &str) -> Option<(usize, usize)> {
    let start = memchr::memmem::find_iter(lower.as_bytes(), b"<pre").find(|&i| {
        matches!(
            lower.as_bytes().get(i + 4),
            Some(b'>' | b'/' | b' ' | b'\t' | b'\n')
        )
    })?;
    let end = memchr::memmem::find(&lower.as_bytes()[start..], b"</pre")
        .and_then(|close| {
            lower[start + close..]
                .find('>')
                .map(|gt| start + close + gt + 1)
        })
        .unwrap_or(lower.len());
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_links_and_emphasis_become_markdown() {
        let md = to_markdown(
            "<p>One <em>two</em> <a href=\"https://example.org/x\" rel=\"nofollow\">three</a></p><p>Four<br>five</p>",
        );
        assert_eq!(
            md,
            "One *two* [three](https://example.org/x)\n\nFour\\\nfive"
        );
    }

    #[test]
    fn links_through_disqus_redirector_lead_where_they_went() {
        let link = |href: &str| to_markdown(&format!("<p><a href=\"{href}\">x</a></p>"));
        for (href, to) in [
            (
                "https://disq.us/url?url=https%3A%2F%2Fgithub.com%2Flotabout%2Fwrite-a-C-interpreter\
                 %3AZVUO1v-fpg4Id2pxKHnbjUN-7_I&amp;cuid=2272845",
                "https://github.com/lotabout/write-a-C-interpreter",
            ),
            (
                "http://disq.us/?url=http%3A%2F%2Fx.org%2Fa%3Fb%3D1%26c%3D2%3AzjHJ9CS7YTS6D6-FWtZRTF8swk4",
                "http://x.org/a?b=1&c=2",
            ),
            // No signature: the address as it is; one with a port keeps it.
            ("https://disq.us/url?url=https%3A%2F%2Fx.org%3A8080%2F", "https://x.org:8080/"),
            // Not a redirect, or not to a web address: left alone.
            ("https://disq.us/p/1x2y3z4", "https://disq.us/p/1x2y3z4"),
            (
                "https://disq.us/url?url=javascript%3Aalert%601%60",
                "https://disq.us/url?url=javascript%3Aalert%601%60",
            ),
            (
                "https://x.org/url?url=https%3A%2F%2Fy.org%2F",
                "https://x.org/url?url=https%3A%2F%2Fy.org%2F",
            ),
        ] {
            assert_eq!(link(href), format!("[x]({to})"), "{href}");
        }
    }

    #[test]
    fn markdown_characters_in_text_are_escaped() {
        let md = to_markdown("<p>2 * 3 = 6 and a_b_c; # not a heading</p>");
        let html = crate::render::markdown::to_html(&md);
        assert!(
            html.contains("2 * 3 = 6 and a_b_c; # not a heading"),
            "{md} → {html}"
        );
    }

    /// Text split between elements the Markdown joins (`**&**` and `**lt;**` become
    /// `**&lt;**`) still shows its `&`: a reference is never made of two pieces.
    #[test]
    fn an_ampersand_before_a_tag_never_starts_a_reference() {
        for (html, shown) in [
            ("<p><strong>&amp;</strong><strong>lt;</strong></p>", "&lt;"),
            ("<p><em>&amp;lt</em><em>;</em> x</p>", "&lt; x"),
            ("<p><b>&amp;#</b><b>60;</b></p>", "&#60;"),
        ] {
            let md = to_markdown(html);
            let page = crate::render::markdown::to_html(&md);
            assert_eq!(
                crate::render::markdown::visible_text(&page).trim(),
                shown,
                "{html} → {md} → {page}"
            );
        }
    }

    /// An imported body nested deeper than pages show is kept as it came, and shown
    /// as text, where converting it would take time growing with the square of its
    /// depth.
    #[test]
    fn a_body_nested_too_deep_is_kept_as_it_came() {
        let html = format!("{}<b>x</b>", "<div>".repeat(30_000));
        assert_eq!(to_markdown(&html), html);
        assert!(crate::render::markdown::render(&html).as_text);
        let shallow = format!("{}x", "<blockquote>".repeat(3));
        assert_eq!(to_markdown(&shallow), "> > > x");
    }

    #[test]
    fn scripts_are_dropped_and_blockquotes_kept() {
        let md = to_markdown("<blockquote>quoted</blockquote><script>alert(1)</script><p>mine</p>");
        assert_eq!(md, "> quoted\n\nmine");
    }

    #[test]
    fn line_breaks_that_end_or_start_a_paragraph_leave_no_backslash() {
        for (html, markdown) in [
            ("<p>Stefan:<br></p><p>next</p>", "Stefan:\n\nnext"),
            ("<p>GO SPACEBAR!<br></p>", "GO SPACEBAR!"),
            ("<p>a<br><br></p>", "a"),
            ("<p>a<br><br>b</p>", "a\n\nb"),
            ("<p>a<br><br><br>b<br></p>", "a\n\nb"),
            ("<blockquote><br>quoted<br></blockquote>", "> quoted"),
            ("<p>one<br>two</p>", "one\\\ntwo"),
            (
                "<p>In brief:<br>1) this<br>2) that<br>- and<br># not a heading<br>---</p>",
                "In brief:\\\n1\\) this\\\n2\\) that\\\n\\- and\\\n\\# not a heading\\\n\\---",
            ),
            (
                "<p>see <a href=\"https://example.org/\">this<br></a><br>and <em>that<br></em></p>",
                "see [this](https://example.org/)\n\nand *that*",
            ),
            (
                "<p><a href=\"https://example.org/\"><em>too<br></em></a>and more</p>",
                "[*too*](https://example.org/)\\\nand more",
            ),
            // Text that starts no block is left alone.
            (
                "<p>a<br><em>b</em><br>-c<br>2024 was<br>#hashtag</p>",
                "a\\\n*b*\\\n-c\\\n2024 was\\\n#hashtag",
            ),
            (
                "<pre><code>make \\\n  all\\\n</code></pre>",
                "```\nmake \\\n  all\\\n```",
            ),
        ] {
            let md = to_markdown(html);
            assert_eq!(md, markdown, "{html}");
            let shown = crate::render::markdown::to_html(&md);
            let outside_code = shown.split("<pre>").next().unwrap_or_default();
            assert!(!outside_code.contains('\\'), "{html} → {md} → {shown}");
        }
    }

    #[test]
    fn highlighted_code_is_a_code_block_and_spans_elsewhere_stay() {
        let html = "<p>Try <span title=\"x\">this</span>:</p>\n<pre class=\"chroma\"><code class=\"language-go\">\
                    <span class=\"kd\">func</span> <span class=\"nf\">f</span>() <span class=\"p\">{<span class=\"s\">\"&lt;/pre&gt;\"</span>}</span>\n\
                    </code></pre>\n<p>and <span>after</span></p><pre><code>x</code></pre>";
        assert_eq!(
            to_markdown(html),
            "Try <span title=\"x\">this</span>:\n\n```\nfunc f() {\"</pre>\"}\n```\n\nand <span>after</span>\n\n```\nx\n```"
        );
    }

    /// What a reader saw of an imported comment is what the page shows of its
    /// Markdown: text that reads as Markdown syntax is escaped, in every element.
    #[test]
    fn imported_text_shows_as_it_did_in_every_element() {
        use crate::render::markdown::{to_html, visible_text};
        // Blocks and breaks part words in one and run together in the other.
        let shown = |html: &str| visible_text(html).replace(char::is_whitespace, "");
        let texts = [
            "\n# not a heading",
            " - not a list",
            "\u{a0}+ not a list",
            "\n1. not a list",
            "1) not a list",
            "2020. A year",
            "&gt; not a quote",
            "---",
            "===",
            "~~~",
            "***",
            "it costs ~5, not ~10~ as said",
            "~~not struck~~",
            "a * b _ c ` d [e] \\ f",
            // Character references as text (`&lt;` typed to show `<`), and a plain `&`.
            "use &amp;lt;b&amp;gt; or &amp;nbsp; &amp;#8217; &amp;#x41; Tom &amp; Jerry &amp;c",
        ];
        let tags = [
            "p",
            "div",
            "li",
            "blockquote",
            "h2",
            "dd",
            "dt",
            "span",
            "b",
            "em",
            "a",
            "del",
            "s",
            "u",
            "strike",
            "sub",
            "small",
            "center",
            "article",
            "aside",
            "details",
            "figure",
            "footer",
            "header",
            "nav",
            "section",
            "summary",
            "figcaption",
            "code",
            "pre",
        ];
        for tag in tags {
            for text in texts {
                let html = match tag {
                    "li" => format!("<p>a</p><ul><li>{text}</li></ul>"),
                    "dd" | "dt" => format!("<p>a</p><dl><{tag}>{text}</{tag}></dl>"),
                    "a" => format!("<p>a</p><p><a href=\"https://example.org/\">{text}</a></p>"),
                    _ => format!("<p>a</p><{tag}>{text}</{tag}>"),
                };
                let md = to_markdown(&html);
                let page = to_html(&md);
                assert_eq!(shown(&page), shown(&html), "{html} → {md:?} → {page}");
            }
        }
    }

    /// Markup that Markdown would read otherwise, or not at all, shows as it did: a `!`
    /// before a link, URLs holding space or `<`, emphasis where CommonMark's `*` would
    /// not open or close, code of nothing, breaks in a row or at an edge of a link, a
    /// block or a heading, `#` ending a heading, a table without a header, and the
    /// underlined and struck text of elements HTML no longer has.
    #[test]
    fn imported_markup_shows_as_it_did() {
        let rel = "rel=\"nofollow ugc noopener\"";
        for (html, page) in [
            (
                "<p>Congratulations!<a href=\"https://x.org/\">paxil</a></p>",
                format!("<p>Congratulations!<a href=\"https://x.org/\" {rel}>paxil</a></p>"),
            ),
            (
                "<p><a href=\"/Detail/<%=ID %>\">&lt;%=Name %&gt;</a> \
                 <a href=\" https://x.org/a b\n\">space</a></p>",
                format!(
                    "<p><a href=\"/Detail/%3C%=ID%20%%3E\" {rel}>&lt;%=Name %&gt;</a> \
                     <a href=\"https://x.org/a%20b\" {rel}>space</a></p>"
                ),
            ),
            (
                "<p>Aside<em>: a note.</em> <strong>Page.</strong>ViewState \
                 <strong>Aside</strong><em>: b</em> <em>a</em> <em>b</em></p>",
                "<p>Aside<em>: a note.</em> <strong>Page.</strong>ViewState \
                 <strong>Aside</strong><em>: b</em> <em>a</em> <em>b</em></p>"
                    .to_string(),
            ),
            (
                "<p>a <em>b <em>c</em></em> <strong><em>d</em></strong> \
                 <strong>*e*</strong> f<strong><em>.g</em></strong></p>",
                "<p>a <em>b <em>c</em></em> <em><strong>d</strong></em> \
                 <strong>*e*</strong> f<strong><em>.g</em></strong></p>"
                    .to_string(),
            ),
            (
                "<p>see <code></code>and <code><br></code>here</p>",
                "<p>see and here</p>".to_string(),
            ),
            (
                "<p>a <b>x<br><br>y</b> <a href=\"https://x.org/\">x<br>\n<br>y</a></p>",
                format!(
                    "<p>a <strong>x<br>\n<br>\ny</strong> \
                     <a href=\"https://x.org/\" {rel}>x<br>\n<br>\ny</a></p>"
                ),
            ),
            ("Wow!", "<p>Wow!</p>".to_string()),
            (
                "<p><code>Attribute</code> seems <code> a </code>.<a href=\"https://x.org/\"> b </a>c</p>",
                format!(
                    "<p><code>Attribute</code> seems <code>a</code> . \
                     <a href=\"https://x.org/\" {rel}>b</a> c</p>"
                ),
            ),
            (
                "<table><tr><td>a</td><td>b|c</td></tr></table>",
                "<table><thead><tr><th></th><th></th></tr></thead><tbody>\n\
                 <tr><td>a</td><td>b|c</td></tr>\n</tbody></table>"
                    .to_string(),
            ),
            (
                "<p>H<sub>2</sub>O x<sup>2</sup> <u>under</u> <strike>struck</strike></p>",
                "<p>H<sub>2</sub>O x<sup>2</sup> <ins>under</ins> <s>struck</s></p>".to_string(),
            ),
            (
                "<p><q>Hi</q> from <cite>Dune</cite> by <acronym title=\"x\">NASA</acronym></p>",
                "<p><q>Hi</q> from <cite>Dune</cite> by <abbr title=\"x\">NASA</abbr></p>".to_string(),
            ),
            (
                "<p>see <a href=\"https://x.org/\"><br> text <br>\n </a>after</p>",
                format!("<p>see <br>\n<a href=\"https://x.org/\" {rel}>text</a><br>\nafter</p>"),
            ),
            (
                "<p><br>lead <b>x </b>y<br></p><h2>a<br>b #</h2><ul><li><br></li><li>c</li></ul>",
                "<p>lead <strong>x</strong> y</p>\n<h4>a b #</h4>\n<ul>\n<li></li>\n<li>c</li>\n</ul>"
                    .to_string(),
            ),
        ] {
            let md = to_markdown(html);
            assert_eq!(
                crate::render::markdown::to_html(&md).trim(),
                page,
                "{html} → {md}"
            );
        }
    }

    /// Inline HTML as comments hold it: text of letters, space and Markdown's
    /// punctuation, in emphasis, links, quotations, struck, underlined and sub- or
    /// superscript text nested three deep, with breaks and code of text, in paragraphs,
    /// quotes, headings and list items.
    fn comment_html() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        const TEXT: [&str; 32] = [
            "a", "word", " ", ".", ",", ":", "!", "?", "*", "_", "~", "[", "]", "(", ")", "&lt;",
            "&gt;", "&amp;", "#", "-", "+", "1.", "1)", "\\", "'", "\"", "é", "x y", "&nbsp;",
            "lt;", "x41;", "39;",
        ];
        const TAGS: [&str; 11] = [
            "em", "strong", "b", "i", "a", "u", "strike", "del", "sub", "q", "span",
        ];
        let text = prop::collection::vec(prop::sample::select(&TEXT[..]), 1..4);
        // Code text without `]`: a link whose text starts with code holding `]:`, first
        // in a paragraph, reads as a link reference definition (not handled).
        let code_text = prop::sample::select(&TEXT[..]).prop_filter("no ]", |t| *t != "]");
        let code = prop::collection::vec(
            prop_oneof![3 => code_text.prop_map(str::to_string), 1 => Just("<br>".to_string())],
            1..6,
        )
        .prop_map(|items| format!("<code>{}</code>", items.concat()));
        let leaf = prop_oneof![
            6 => text.prop_map(|t| t.concat()),
            1 => Just("<br>".to_string()),
            1 => code,
        ];
        let inline = leaf.prop_recursive(3, 24, 4, |inner| {
            (
                prop::sample::select(&TAGS[..]),
                prop::collection::vec(inner, 1..4),
            )
                .prop_map(|(tag, items)| match tag {
                    "a" => format!("<a href=\"https://x.org/p\">{}</a>", items.concat()),
                    _ => format!("<{tag}>{}</{tag}>", items.concat()),
                })
        });
        let block = (0..5u8, prop::collection::vec(inline, 1..5)).prop_map(|(kind, items)| {
            let text = items.concat();
            match kind {
                0 => format!("<blockquote>{text}</blockquote>"),
                1 => format!("<h2>{text}</h2>"),
                2 => format!("<ul><li>{text}</li><li>x</li></ul>"),
                _ => format!("<p>{text}</p>"),
            }
        });
        prop::collection::vec(block, 1..4).prop_map(|blocks| blocks.concat())
    }

    proptest::proptest! {
        /// What a reader saw of an imported comment is what its page shows, whatever
        /// its inline markup: no character lost, none added (space aside).
        #[test]
        fn imported_text_shows_as_its_source_did(html in comment_html()) {
            use crate::render::markdown::{to_html, visible_text};
            // Blocks and breaks part words in one and run together in the other; code
            // holding breaks becomes a block.
            let shown = |html: &str| visible_text(html).replace(char::is_whitespace, "");
            let md = to_markdown(&html);
            proptest::prop_assert_eq!(shown(&to_html(&md)), shown(&html), "{} → {:?}", html, md);
        }
    }

    #[test]
    fn code_keeps_its_text_and_its_lines() {
        let md = to_markdown(
            "<p>Consider:<br><code><br>&lt;httpHandlers&gt;<br>&lt;remove verb=\"*\"/&gt;<br>\
             &lt;/httpHandlers&gt;<br></code>and <code>List&lt;T&gt;</code> or \
             <code><strong>&lt;Folder /&gt;</strong></code></p><pre><code>a<br>b</code></pre>",
        );
        assert_eq!(
            md,
            "Consider:\n\n```\n<httpHandlers>\n<remove verb=\"*\"/>\n</httpHandlers>\n```\n\n\
             and `List<T>` or `<Folder />`\n\n<pre><code>a<br>b</code></pre>"
        );
    }

    /// Code that is all a link (an API's name linked to its documentation) keeps its
    /// link, as a link of code; a link among other code keeps its text.
    #[test]
    fn code_that_is_a_link_stays_a_link() {
        let md = to_markdown(
            "<p>Use <code><a href=\"https://x.org/r\" title=\"R\">Regex.Replace</a> </code>, \
             not <code><a href=\"https://x.org/n\">new<br>Regex</a></code> or \
             <code>url: <a href=\"https://x.org/d\">https://x.org/d</a></code></p>",
        );
        assert_eq!(
            md,
            "Use [`Regex.Replace`](https://x.org/r \"R\"), not [`new Regex`](https://x.org/n) \
             or `url: https://x.org/d`"
        );
        assert!(crate::render::markdown::to_html(&md).contains(
            "<a href=\"https://x.org/r\" title=\"R\" rel=\"nofollow ugc noopener\"><code>Regex.Replace</code></a>"
        ));
    }

    /// Breaks and code show as WordPress's `wpautop` showed them: it leaves `<pre>`
    /// blocks alone and adds no break after a `<br>`.
    #[test]
    fn wordpress_pre_blocks_and_breaks_show_as_wordpress_showed_them() {
        let page = |text| crate::render::markdown::to_html(&to_markdown(&wordpress_html(text)));
        assert_eq!(
            page("Try this:\r\n\r\n<PRE class=\"x\">fn main() {\n\n    go();\n}</PRE>\nWorks."),
            "<p>Try this:</p>\n<pre>fn main() {\n\n    go();\n}</pre>\n<p>Works.</p>\n"
        );
        assert_eq!(
            page("<pre><code>let a;\n\n  let b;</code></pre>"),
            "<pre><code>let a;\n\n  let b;\n</code></pre>\n"
        );
        // A newline after a break the text holds adds none; a line of spaces is blank.
        assert_eq!(
            page("a<br />\nb<BR>  \nc<br>\n\nd\n \t\ne"),
            "<p>a<br>\nb<br>\nc</p>\n<p>d</p>\n<p>e</p>\n"
        );
        // Not closed: to the end, as a browser reads it.
        assert_eq!(page("<pre>a\n\n  b"), "<pre>a\n\n  b\n</pre>");
        assert_eq!(page("<preface>a\n\nb</preface>"), "<p>a</p>\n<p>b</p>\n");
    }

    proptest::proptest! {
        /// Text with addresses shows every character it held, links or not.
        #[test]
        fn wordpress_text_with_addresses_shows_every_character(
            text in "(é|\\(|\\)|[.,!?'_*]|http://|https://|www\\.|x|/|-|&|=| ){0,30}"
        ) {
            let html = crate::render::markdown::to_html(&to_markdown(&wordpress_html(&text)));
            let shown = crate::render::markdown::visible_text(&html);
            let words = |t: &str| t.split_whitespace().collect::<String>();
            proptest::prop_assert_eq!(words(&shown), words(&text), "{}", html);
        }
    }

    /// WordPress links the addresses in a comment when it shows it (`make_clickable`).
    #[test]
    fn wordpress_addresses_are_links_as_wordpress_showed_them() {
        let rel = "rel=\"nofollow ugc noopener\"";
        let page = crate::render::markdown::to_html(&to_markdown(&wordpress_html(
            "See https://x.org/a_(b) and (http://x.org/y). Also www.x.org, ok?\n\
             <a href=\"https://z.org\">https://z.org</a> <CODE>http://no.org</CODE> \
             nohttp://x.org http:// <b>https://b.org/?q=1&amp;r=2</b>!",
        )));
        assert_eq!(
            page,
            format!(
                "<p>See <a href=\"https://x.org/a_(b)\" {rel}>https://x.org/a_(b)</a> and \
                 (<a href=\"http://x.org/y\" {rel}>http://x.org/y</a>). \
                 Also <a href=\"http://www.x.org\" {rel}>www.x.org</a>, ok?<br>\n\
                 <a href=\"https://z.org\" {rel}>https://z.org</a> <code>http://no.org</code> \
                 nohttp://x.org http:// <strong><a href=\"https://b.org/?q=1&amp;r=2\" {rel}>\
                 https://b.org/?q=1&amp;r=2</a></strong>!</p>\n"
            )
        );
    }

    #[test]
    fn wordpress_blank_lines_are_paragraphs_and_newlines_breaks() {
        let md = to_markdown(&wordpress_html(
            "First line\nsecond line\r\n\r\nNext <b>bold</b>",
        ));
        assert_eq!(md, "First line\\\nsecond line\n\nNext **bold**");
    }
}
