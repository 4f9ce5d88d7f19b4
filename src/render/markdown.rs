//! The one safe Markdown renderer: comment source → HTML that can go into a page.
//!
//! pulldown-cmark turns the source into HTML (headings moved below the section's own,
//! images turned into plain links so no third-party request leaves the page), then an
//! ammonia allow-list removes every tag, attribute and URL scheme not on it: raw HTML
//! a commenter typed survives only as far as the allow-list lets it, links get
//! `rel="nofollow ugc noopener"`, and `javascript:` URLs are gone.

use std::sync::LazyLock;

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

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
    .url_schemes(["http", "https", "mailto"].into())
    .url_relative(ammonia::UrlRelative::PassThrough)
    .link_rel(Some("nofollow ugc noopener"))
    .clean_content_tags(["script", "style"].into())
    .strip_comments(true);
    b
});

/// Renders a comment body to sanitized HTML.
pub fn to_html(source: &str) -> String {
    let mut html = String::with_capacity(source.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events(source));
    unwrap_dead_links(SANITIZER.clean(&html).to_string())
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

fn events(source: &str) -> impl Iterator<Item = Event<'_>> {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    Parser::new_ext(source, options).map(|event| match event {
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
}
