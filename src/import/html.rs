//! HTML comment bodies (Disqus, WordPress, some Staticman themes) turned into the
//! Markdown that format v1 stores, so every body is edited and rendered one way.

use htmd::options::{BrStyle, BulletListMarker, Options, TranslationMode};
use htmd::HtmlToMarkdown;

/// Converts an HTML fragment to Markdown. What Markdown cannot say stays as inline
/// HTML, which render sanitizes like any other body; scripts and styles are dropped.
pub fn to_markdown(html: &str) -> String {
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
        .build();
    // Attributes Markdown cannot carry (rel, class, style, ...) would keep a link or an
    // image as raw HTML; ammonia removes them first, and scripts with them.
    let cleaned = ammonia::Builder::default()
        .link_rel(None)
        .clean(html)
        .to_string();
    match converter.convert(&cleaned) {
        Ok(markdown) => markdown.trim().to_string(),
        // The parser reads from memory; an I/O error cannot happen, but losing a body
        // must not either: keep the source, which render sanitizes.
        Err(_) => html.trim().to_string(),
    }
}

/// WordPress stores comments with paragraphs as blank lines and line breaks as single
/// newlines (its `wpautop` adds the tags when showing them). This adds them the same
/// way, so the Markdown keeps the reader's paragraphs.
pub fn wordpress_paragraphs(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let mut html = String::with_capacity(text.len() + 32);
    for paragraph in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        html.push_str("<p>");
        html.push_str(&paragraph.replace('\n', "<br>"));
        html.push_str("</p>\n");
    }
    html
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
    fn markdown_characters_in_text_are_escaped() {
        let md = to_markdown("<p>2 * 3 = 6 and a_b_c; # not a heading</p>");
        let html = crate::render::markdown::to_html(&md);
        assert!(
            html.contains("2 * 3 = 6 and a_b_c; # not a heading"),
            "{md} → {html}"
        );
    }

    #[test]
    fn scripts_are_dropped_and_blockquotes_kept() {
        let md = to_markdown("<blockquote>quoted</blockquote><script>alert(1)</script><p>mine</p>");
        assert_eq!(md, "> quoted\n\nmine");
    }

    #[test]
    fn wordpress_blank_lines_are_paragraphs_and_newlines_breaks() {
        let md = to_markdown(&wordpress_paragraphs(
            "First line\nsecond line\r\n\r\nNext <b>bold</b>",
        ));
        assert_eq!(md, "First line\\\nsecond line\n\nNext **bold**");
    }
}
