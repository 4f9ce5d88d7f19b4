//! The one safe Markdown renderer: comment source → HTML that can go into a page.
//!
//! pulldown-cmark turns the source into HTML (headings moved below the section's own,
//! images turned into plain links so no third-party request leaves the page), then an
//! ammonia allow-list removes every tag, attribute and URL scheme not on it: raw HTML
//! a commenter typed survives only as far as the allow-list lets it, links get
//! `rel="nofollow ugc noopener"`, and `javascript:` URLs are gone.
//!
//! A body whose HTML would nest more than [`MAX_NESTING`] elements deep is shown as the
//! text it is: no comment needs that, it would squeeze the page's layout to nothing,
//! and parsing it costs time that grows with the square of its depth.
//!
//! Most comments hold no raw HTML. Their events can only make tags from the allow-list,
//! so they are written straight out with the escaping, URL check and `rel` the
//! sanitizer would apply, byte for byte the same as the sanitizer's output (a property
//! test holds the two paths to that); only sources with raw HTML go through ammonia.

use std::sync::LazyLock;

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};

/// The URL schemes links may have; relative URLs are kept as they are.
const URL_SCHEMES: [&str; 3] = ["http", "https", "mailto"];

/// What every kept link gets.
const LINK_REL: &str = "nofollow ugc noopener";

/// The allow-list: what Markdown writes, and the text-level elements people type as
/// HTML for what Markdown has no syntax for (`H<sub>2</sub>O`, `<q>` for quotation
/// marks, `<abbr title>`), as GitHub's comment sanitizer allows them.
static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::empty();
    b.add_tags([
        "p",
        "br",
        "hr",
        "a",
        "em",
        "strong",
        "del",
        "s",
        "ins",
        "sub",
        "sup",
        "q",
        "cite",
        "abbr",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    ])
    .add_tag_attributes("a", ["href", "title"])
    .add_tag_attributes("ol", ["start"])
    // A quotation's source URL, which no reader sees or follows.
    .rm_tag_attributes("q", &["cite"])
    .url_schemes(URL_SCHEMES.into())
    .url_relative(ammonia::UrlRelative::PassThrough)
    .link_rel(Some(LINK_REL))
    .clean_content_tags(["script", "style"].into())
    .strip_comments(true);
    b
});

/// How deep a body's HTML may nest elements; deeper, it is shown as text.
pub const MAX_NESTING: usize = 100;

/// A comment body as a page shows it.
pub struct Body {
    pub html: String,
    /// Whether it is shown as text, its HTML nesting more than [`MAX_NESTING`] deep.
    pub as_text: bool,
}

/// Renders a comment body to sanitized HTML, without the characters that [cannot be
/// shown](crate::comment::is_showable).
pub fn to_html(source: &str) -> String {
    render(source).html
}

/// [`to_html`], saying whether the body is shown as text.
pub fn render(source: &str) -> Body {
    let source = crate::comment::showable(source);
    if let Some(html) = structural(&source) {
        return Body {
            html,
            as_text: false,
        };
    }
    let html = raw_html(&source);
    if nests_deeper(&html, MAX_NESTING) {
        return Body {
            html: as_text(&source),
            as_text: true,
        };
    }
    Body {
        html: sanitize(&html),
        as_text: false,
    }
}

/// The text a reader sees of a body, from its [HTML](to_html): without tags, and with
/// the few escapes the HTML writers use (both write every other character as it is)
/// turned back into characters.
pub fn visible_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        text.push_str(&rest[..lt]);
        rest = rest[lt..].find('>').map_or("", |gt| &rest[lt + gt + 1..]);
    }
    text.push_str(rest);
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

/// Markdown → HTML, raw HTML and all.
fn raw_html(source: &str) -> String {
    let mut html = String::with_capacity(source.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events(source));
    html
}

/// HTML → the ammonia allow-list.
fn sanitize(html: &str) -> String {
    unwrap_dead_links(SANITIZER.clean(html).to_string())
}

/// Elements that hold nothing, so never nest.
const VOID: [&str; 14] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// Elements that a sibling of the same name closes (`<li>a<li>b`).
const SIBLING_CLOSED: [&str; 9] = [
    "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup",
];

/// Whether `html` nests elements more than `max` deep, counted as a browser builds
/// them, roughly: void elements hold nothing, an end tag closes what it names and
/// what is open inside it, and a `p`, `li`, … closes one of its name just before it.
/// In one pass, holding at most `max` names.
pub fn nests_deeper(html: &str, max: usize) -> bool {
    let mut open: Vec<&str> = Vec::new();
    let mut at = 0;
    while let Some(lt) = memchr::memchr(b'<', &html.as_bytes()[at..]) {
        let start = at + lt + 1;
        let closing = html.as_bytes().get(start) == Some(&b'/');
        let name_at = start + usize::from(closing);
        let len = html.as_bytes()[name_at..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        at = name_at + len;
        if len == 0 {
            continue;
        }
        let name = &html[name_at..at];
        let named = |other: &&str| other.eq_ignore_ascii_case(name);
        if closing {
            if let Some(i) = open.iter().rposition(named) {
                open.truncate(i);
            }
        } else if VOID.iter().any(named)
            || (SIBLING_CLOSED.iter().any(named) && open.last().is_some_and(named))
        {
            continue;
        } else {
            open.push(name);
            if open.len() > max {
                return true;
            }
        }
    }
    false
}

/// A body shown as the text it is: paragraphs at blank lines, its line breaks kept.
fn as_text(source: &str) -> String {
    let source = source.replace("\r\n", "\n");
    let mut out = String::with_capacity(source.len() * 9 / 8);
    for paragraph in source.split("\n\n").filter(|p| !p.trim().is_empty()) {
        out.push_str("<p>");
        for (i, line) in paragraph.trim_matches('\n').lines().enumerate() {
            if i > 0 {
                out.push_str("<br>\n");
            }
            escape_into(&mut out, line, false);
        }
        out.push_str("</p>\n");
    }
    out
}

/// The sanitizer's output for a source with no raw HTML, written from the events:
/// the layout of pulldown-cmark's HTML writer, with the serialization html5ever gives
/// it after parsing (void tags as `<br>`, its escaping), attributes off the allow-list
/// left out (code block languages, table alignments), links checked and given `rel`
/// as ammonia does, and links whose URL it removes reduced to their text.
/// `None` for what only the sanitizer handles: raw HTML, a link inside a link (an
/// image in a link), carriage returns and NULs (which HTML parsing changes); and for
/// elements nested more than [`MAX_NESTING`] deep.
fn structural(source: &str) -> Option<String> {
    if source.contains(['\r', '\0']) {
        return None;
    }
    let mut w = Writer {
        out: String::with_capacity(source.len() * 3 / 2),
        end_newline: true,
        table_head: false,
        link: None,
    };
    // Elements open; deeper than allowed, the body is for `render` to show as text.
    let mut depth = 0;
    for event in events(source) {
        match event {
            Event::Start(tag) => {
                depth += 1;
                if depth > MAX_NESTING {
                    return None;
                }
                w.start(tag)?;
            }
            Event::End(tag) => {
                depth -= 1;
                w.end(tag);
            }
            Event::Text(text) => {
                escape_into(&mut w.out, &text, false);
                w.end_newline = text.ends_with('\n');
            }
            Event::Code(text) => {
                w.write("<code>");
                escape_into(&mut w.out, &text, false);
                w.write("</code>");
            }
            Event::HardBreak => w.write("<br>\n"),
            Event::Rule => w.block("<hr>\n"),
            // Raw HTML, and extensions that are not enabled.
            _ => return None,
        }
    }
    Some(w.out)
}

struct Writer {
    out: String,
    /// Whether the output ends with a newline, which decides whether a block starts
    /// on a new line (as in pulldown-cmark's writer).
    end_newline: bool,
    /// Whether table cells are header cells.
    table_head: bool,
    /// The open link, if any: whether its tags were written (its URL was allowed).
    link: Option<bool>,
}

impl Writer {
    fn write(&mut self, s: &str) {
        self.out.push_str(s);
        self.end_newline = s.ends_with('\n');
    }

    /// A block's start tag, on a line of its own.
    fn block(&mut self, s: &str) {
        if !self.end_newline {
            self.out.push('\n');
        }
        self.write(s);
    }

    fn start(&mut self, tag: Tag<'_>) -> Option<()> {
        match tag {
            Tag::Paragraph => self.block("<p>"),
            Tag::Heading {
                level,
                id: None,
                classes,
                attrs,
            } if classes.is_empty() && attrs.is_empty() => {
                self.block(&format!("<{level}>"));
            }
            Tag::BlockQuote(None) => self.block("<blockquote>\n"),
            Tag::CodeBlock(CodeBlockKind::Fenced(_) | CodeBlockKind::Indented) => {
                self.block("<pre><code>")
            }
            Tag::List(Some(1)) => self.block("<ol>\n"),
            Tag::List(Some(start)) => self.block(&format!("<ol start=\"{start}\">\n")),
            Tag::List(None) => self.block("<ul>\n"),
            Tag::Item => self.block("<li>"),
            Tag::Table(_) => self.write("<table>"),
            Tag::TableHead => {
                self.table_head = true;
                self.write("<thead><tr>");
            }
            Tag::TableRow => self.write("<tr>"),
            Tag::TableCell => self.write(if self.table_head { "<th>" } else { "<td>" }),
            Tag::Emphasis => self.write("<em>"),
            Tag::Strong => self.write("<strong>"),
            Tag::Strikethrough => self.write("<del>"),
            Tag::Link {
                link_type,
                dest_url,
                title,
                ..
            } => {
                if self.link.is_some() {
                    return None;
                }
                let mut href = String::with_capacity(dest_url.len() + 8);
                if link_type == LinkType::Email {
                    href.push_str("mailto:");
                }
                pulldown_cmark_escape::escape_href(&mut href, &dest_url).ok()?;
                // As parsed from pulldown-cmark's HTML: `&#x27;` is a quote again; a
                // quote needs no escaping in an attribute, and `&amp;` stays as it is.
                let href = href.replace("&#x27;", "'");
                let allowed = url_allowed(&href.replace("&amp;", "&"));
                if allowed {
                    self.out.push_str("<a href=\"");
                    self.out.push_str(&href);
                    self.out.push('"');
                    if !title.is_empty() {
                        self.out.push_str(" title=\"");
                        escape_into(&mut self.out, &title, true);
                        self.out.push('"');
                    }
                    self.out.push_str(" rel=\"");
                    self.out.push_str(LINK_REL);
                    self.out.push_str("\">");
                }
                self.end_newline = false;
                self.link = Some(allowed);
            }
            _ => return None,
        }
        Some(())
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => self.write("</p>\n"),
            TagEnd::Heading(level) => self.write(&format!("</{level}>\n")),
            TagEnd::BlockQuote(_) => self.write("</blockquote>\n"),
            TagEnd::CodeBlock => self.write("</code></pre>\n"),
            TagEnd::List(true) => self.write("</ol>\n"),
            TagEnd::List(false) => self.write("</ul>\n"),
            TagEnd::Item => self.write("</li>\n"),
            TagEnd::Table => self.write("</tbody></table>\n"),
            TagEnd::TableHead => {
                self.table_head = false;
                self.write("</tr></thead><tbody>\n");
            }
            TagEnd::TableRow => self.write("</tr>\n"),
            TagEnd::TableCell => self.write(if self.table_head { "</th>" } else { "</td>" }),
            TagEnd::Emphasis => self.write("</em>"),
            TagEnd::Strong => self.write("</strong>"),
            TagEnd::Strikethrough => self.write("</del>"),
            TagEnd::Link => {
                if self.link.take() == Some(true) {
                    self.out.push_str("</a>");
                }
                self.end_newline = false;
            }
            // Every other start tag made `structural` give up before its end.
            _ => {}
        }
    }
}

/// ammonia's URL rule: an allowed scheme, or relative.
fn url_allowed(href: &str) -> bool {
    match url::Url::parse(href) {
        Ok(url) => URL_SCHEMES.contains(&url.scheme()),
        Err(e) => e == url::ParseError::RelativeUrlWithoutBase,
    }
}

/// Escapes text as html5ever serializes it: `&`, no-break space, `<`, `>`, and in
/// attributes `"`.
fn escape_into(out: &mut String, text: &str, attribute: bool) {
    let _ = super::write_escaped(out, text, |bytes, at| match bytes[at] {
        b'&' => Some(("&amp;", 1)),
        b'<' => Some(("&lt;", 1)),
        b'>' => Some(("&gt;", 1)),
        b'"' if attribute => Some(("&quot;", 1)),
        0xC2 if bytes.get(at + 1) == Some(&0xA0) => Some(("&nbsp;", 2)),
        _ => None,
    });
}

/// A link whose URL the allow-list removed (`javascript:`, `data:`) is left as an `<a>`
/// with a `rel` and no `href`, which is not valid HTML: keep only its text.
fn unwrap_dead_links(html: String) -> String {
    let dead = html
        .match_indices("<a ")
        .any(|(at, _)| !html[at + 3..].starts_with("href="));
    if !dead {
        return html;
    }
    let unwrap = lol_html::element!("a:not([href])", |el| {
        el.remove_and_keep_content();
        Ok(())
    });
    lol_html::rewrite_str(
        &html,
        lol_html::RewriteStrSettings {
            element_content_handlers: vec![unwrap],
            ..lol_html::RewriteStrSettings::new()
        },
    )
    .unwrap_or(html)
}

/// The Markdown comments are written in: CommonMark with tables and struck text
/// (`~a~`, `~~a~~`).
pub(crate) const OPTIONS: Options = Options::ENABLE_TABLES.union(Options::ENABLE_STRIKETHROUGH);

/// `text` with a backslash before each ASCII punctuation character, so that Markdown
/// shows every character as it is.
pub(crate) fn escape_punctuation(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The source's Markdown events as a comment shows them: headings demoted, images as
/// links, and a line break the commenter typed kept as one (as in GitHub's comments and
/// WordPress's), not joined into the line before as Markdown does in documents.
fn events(source: &str) -> impl Iterator<Item = Event<'_>> {
    Parser::new_ext(source, OPTIONS).map(|event| match event {
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Event::Start(Tag::Heading {
            level: demote(level),
            id,
            classes,
            attrs,
        }),
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(demote(level))),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        Event::SoftBreak => Event::HardBreak,
        other => other,
    })
}

/// The section's title is an `h2`; headings inside comments start at `h3`.
fn demote(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H3,
        HeadingLevel::H2 => HeadingLevel::H4,
        HeadingLevel::H3 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Pieces that make Markdown do things, to build sources from.
    const PIECES: &[&str] = &[
        "text",
        " ",
        "\n",
        "\n\n",
        "    ",
        "*",
        "**",
        "_",
        "`",
        "```rust\n",
        "```\n",
        "~~",
        "# ",
        "## ",
        "#### ",
        "> ",
        "- ",
        "* ",
        "1. ",
        "7) ",
        "---\n",
        "***",
        "[",
        "]",
        "(",
        ")",
        "![",
        "\\",
        "\"t & 'q'\"",
        "https://example.org/a?b=1&c='2'#x",
        "/rel/path",
        "é ü 字",
        "javascript:alert(1)",
        "JaVaScRiPt:x",
        "data:text/html,x",
        "mailto:a@example.org",
        "<https://example.org/x>",
        "<reader@example.org>",
        "http://[::1",
        "//host/x",
        "&",
        "&amp;",
        "&nbsp;",
        "&#39;",
        "\u{a0}",
        "<",
        ">",
        "\"",
        "'",
        "|",
        "| a | b |\n|---|:-:|\n| 1 | 2 |\n",
        "[x]: https://example.org/ref \"T\"\n",
        "[x]",
        "  \n",
        "%20",
        "\t",
        "\u{0}",
        "\u{1}",
        "\u{b}",
        "\u{c}",
        "\u{7f}",
        "\u{85}",
        "\u{feff}",
        "\u{fffe}",
        "\u{2028}",
        "\r\n",
    ];

    /// The sanitizer's path, for any source.
    fn sanitized(source: &str) -> String {
        sanitize(&raw_html(source))
    }

    fn source() -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(PIECES), 0..40)
            .prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        /// The direct path writes exactly what the sanitizer makes of the same source.
        #[test]
        fn direct_output_is_the_sanitizers(source in source()) {
            if let Some(direct) = structural(&source) {
                prop_assert_eq!(direct, sanitized(&source));
            }
        }
    }

    #[test]
    fn sources_without_raw_html_take_the_direct_path() {
        let source = "# T\n\n*a* **b** ~~c~~ `d` [e](https://e.example \"t\") ![f](/f.png) <https://g.example>\n\n\
                      > q\n\n```rust\nx < y && z\n```\n\n3. one\n4. two\n\n- x\n\n---\n\n| a | b |\n|:-|-:|\n| 1 | 2 |\n\n[bad](javascript:x)";
        let direct = structural(source).expect("no raw HTML, so the direct path");
        assert_eq!(direct, sanitized(source));
        assert!(structural("hi <b>there</b>").is_none());
        assert!(structural("[![img](/i.png)](/x)").is_none());
    }

    #[test]
    fn markdown_features_render() {
        let html = to_html("# Title\n\nSome *em* and **strong** and `code`.\n\n> quoted\n\n```\nfn main() {}\n```\n\n- [x](https://example.org)\n");
        insta::assert_snapshot!(html, @r###"
        <h3>Title</h3>
        <p>Some <em>em</em> and <strong>strong</strong> and <code>code</code>.</p>
        <blockquote>
        <p>quoted</p>
        </blockquote>
        <pre><code>fn main() {}
        </code></pre>
        <ul>
        <li><a href="https://example.org" rel="nofollow ugc noopener">x</a></li>
        </ul>
        "###);
    }

    #[test]
    fn hostile_input_is_inert() {
        let cases = [
            "<script>alert(1)</script>",
            "[click](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<img src=x onerror=alert(1)>",
            "<p onclick=\"alert(1)\">hi</p>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<style>body{display:none}</style>",
            "[x](JaVaScRiPt:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "<svg onload=alert(1)>",
            "<a href=\"https://ok.example\" onmouseover=\"x()\">ok</a>",
            // Mutation XSS: markup that a browser reparses into something else once
            // it is serialized (SVG, MathML and raw-text elements mixed).
            "<svg><foreignObject><math><iframe><!--</iframe><img src onerror=alert(1)>-->",
            "<math><mi><svg><iframe><!--</iframe><img src onerror=alert(1)>-->",
            "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
            "<svg></p><style><a id=\"</style><img src=1 onerror=alert(1)>\">",
            "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
            "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
        ];
        for case in cases {
            let html = to_html(case).to_lowercase();
            for bad in [
                "<script",
                "javascript:",
                "onerror",
                "onclick",
                "onload",
                "onmouseover",
                "<iframe",
                "<img",
                "<style",
                "data:",
                "<svg",
            ] {
                assert!(!html.contains(bad), "{case:?} → {html}");
            }
        }
    }

    /// What Markdown cannot write but a comment may need: struck, inserted, sub- and
    /// superscript text, without attributes that could style or script it.
    #[test]
    fn text_level_elements_markdown_lacks_are_kept() {
        assert_eq!(
            to_html("H<sub>2</sub>O, x<sup onclick=\"f()\">2</sup>, <del>a</del><s>b</s><ins style=\"x\">c</ins>"),
            "<p>H<sub>2</sub>O, x<sup>2</sup>, <del>a</del><s>b</s><ins>c</ins></p>\n"
        );
        // A browser puts quotation marks around `<q>`: without it they would be gone.
        assert_eq!(
            to_html("<q cite=\"https://x.example\">Hi</q> <q cite=\"javascript:f()\">yo</q>, <cite>Dune</cite>, <abbr title=\"World Health Organization\" onclick=\"f()\">WHO</abbr>"),
            "<p><q>Hi</q> <q>yo</q>, <cite>Dune</cite>, <abbr title=\"World Health Organization\">WHO</abbr></p>\n"
        );
    }

    #[test]
    fn links_whose_url_is_removed_keep_only_their_text() {
        assert_eq!(
            to_html("[click](javascript:alert(1)) and <a title=\"t\" href=\"data:x\">raw</a>"),
            "<p>click and raw</p>\n"
        );
    }

    #[test]
    fn images_become_links_and_links_get_rel() {
        assert_eq!(
            to_html("![cat](https://img.example/cat.png)"),
            "<p><a href=\"https://img.example/cat.png\" rel=\"nofollow ugc noopener\">cat</a></p>\n"
        );
    }

    #[test]
    fn a_line_break_the_commenter_typed_is_kept() {
        // As a reader types a signature or an address into the form; a blank line is
        // still a new paragraph. With raw HTML in it, the sanitizer's path does the same.
        assert_eq!(
            to_html("Thanks,\nAnn\n\nP.S. see\nyou"),
            "<p>Thanks,<br>\nAnn</p>\n<p>P.S. see<br>\nyou</p>\n"
        );
        assert_eq!(to_html("<u>Thanks</u>,\nAnn"), "<p>Thanks,<br>\nAnn</p>\n");
    }

    /// Nesting a few levels deeper than allowed, by Markdown or by raw HTML (which
    /// took seconds to parse at some thousands of levels), shows the body as text;
    /// as deep as allowed, it renders.
    #[test]
    fn bodies_nested_too_deep_are_shown_as_text() {
        let quotes = |n: usize| format!("{} deep\n\nand <em>so</em>", "> ".repeat(n));
        let shown = render(&quotes(MAX_NESTING - 1));
        assert!(!shown.as_text);
        assert_eq!(shown.html.matches("<blockquote>").count(), MAX_NESTING - 1);
        assert!(
            shown.html.contains("<p>and <em>so</em></p>"),
            "{}",
            shown.html
        );
        // Without raw HTML too (the direct path).
        assert!(!render(&"> ".repeat(MAX_NESTING - 1)).as_text);
        assert!(render(&"> ".repeat(MAX_NESTING + 1)).as_text);
        let deep = render(&quotes(MAX_NESTING));
        assert!(deep.as_text);
        assert_eq!(
            deep.html,
            format!(
                "<p>{} deep</p>\n<p>and &lt;em&gt;so&lt;/em&gt;</p>\n",
                "&gt; ".repeat(MAX_NESTING)
            )
        );
        let divs = |n: usize| format!("{}hi\r\nthere", "<div>".repeat(n));
        assert!(!render(&divs(MAX_NESTING)).as_text);
        // Thirty thousand levels (150 kB) are not given to the HTML parser at all.
        let deep = render(&divs(30_000));
        assert!(deep.as_text);
        assert!(deep.html.starts_with("<p>&lt;div&gt;&lt;div&gt;"));
        assert!(deep.html.ends_with("hi<br>\nthere</p>\n"));
        assert_eq!(to_html(&divs(30_000)), deep.html);
    }

    /// What does not nest is not counted: void elements, end tags, and a `p` or `li`
    /// that closes the one before it.
    #[test]
    fn nesting_is_counted_as_browsers_build_it() {
        let many = |piece: &str| piece.repeat(MAX_NESTING * 3);
        for flat in [
            "<br>",
            "<hr/>",
            "<p>x",
            "<li>x",
            "<div></div>",
            "<b>x</b>",
            "a < b ",
            "</div>",
        ] {
            assert!(!nests_deeper(&many(flat), MAX_NESTING), "{flat}");
        }
        for deep in ["<div>", "<b>", "<blockquote><p>x", "<ul><li>"] {
            assert!(nests_deeper(&many(deep), MAX_NESTING), "{deep}");
        }
        let exact = "<div>".repeat(MAX_NESTING);
        assert!(!nests_deeper(&exact, MAX_NESTING));
        assert!(nests_deeper(&format!("{exact}<i>"), MAX_NESTING));
        assert!(!nests_deeper(&format!("{exact}</DIV><i>"), MAX_NESTING));
    }
}
