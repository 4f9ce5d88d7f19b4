//! Templates specialised once per run, so a million comments do not each run a
//! template.
//!
//! The built-in comment and section templates use what changes from one comment (or
//! thread) to the next in two ways only: they print it, escaped or marked safe, or they
//! test whether it is there. Everything else they print (interface strings, form limits,
//! the inbox URL) is the same for the whole run. So each is rendered once per *shape*
//! (which optional values are there, how the comment sits in the nested lists) with a
//! marker in place of each changing value, and the output is cut at the markers into
//! fixed text and slots. Writing a comment is then filling its shape's slots: byte for
//! byte what the template prints for it (a test holds the two to that).
//!
//! A template that did more with such a value (compare it, filter it) would not be
//! captured by its markers, so this is used only while the site overrides none of these
//! templates; overrides are rendered by the template engine for every comment.

use crate::render::{html_entity, write_escaped};

/// First and last character of a marker: private-use code points, which no template
/// prints by itself and no escaping changes.
const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';

/// The stand-in printed for slot `index`. Its `<` tells whether the template escaped
/// it; its letters would show a filter that changed it.
pub fn marker(index: usize) -> String {
    format!("{OPEN}{index}aZ<{CLOSE}")
}

/// A template's output for one shape: fixed text and the slots between.
#[derive(Debug, PartialEq)]
pub struct Stencil {
    parts: Vec<Part>,
    /// Bytes of fixed text, to size the output.
    fixed: usize,
}

#[derive(Debug, PartialEq)]
enum Part {
    Text(Box<str>),
    Slot { index: usize, escaped: bool },
}

impl Stencil {
    /// Cuts a template's output, rendered with [`marker`]s for slots `0..slots`, into a
    /// stencil. Fails when a marker came out changed, or a slot number is unknown.
    pub fn parse(output: &str, slots: usize) -> Result<Stencil, String> {
        let mut parts = Vec::new();
        let mut fixed = 0;
        let mut rest = output;
        while let Some(start) = rest.find(OPEN) {
            if start > 0 {
                parts.push(Part::Text(rest[..start].into()));
                fixed += start;
            }
            let inner = &rest[start + OPEN.len_utf8()..];
            let end = inner
                .find(CLOSE)
                .ok_or_else(|| "a value marker has no end".to_string())?;
            let (digits, tail) = inner[..end].split_at(
                inner[..end]
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(end),
            );
            let index: usize = digits
                .parse()
                .map_err(|_| format!("a value marker came out as `{}`", &inner[..end]))?;
            let escaped = match tail {
                "aZ<" => false,
                "aZ&lt;" => true,
                other => return Err(format!("value {index} came out changed (`{other}`)")),
            };
            if index >= slots {
                return Err(format!("value {index} is not one of the {slots} values"));
            }
            parts.push(Part::Slot { index, escaped });
            rest = &inner[end + CLOSE.len_utf8()..];
        }
        if rest.contains(CLOSE) {
            return Err("a value marker has no start".into());
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.into()));
            fixed += rest.len();
        }
        Ok(Stencil { parts, fixed })
    }

    /// Writes the template's output with `value(i)` in slot `i`, escaped where the
    /// template escaped it.
    pub fn write<'v>(&self, out: &mut String, value: impl Fn(usize) -> &'v str) {
        out.reserve(self.fixed);
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Slot { index, escaped } => {
                    let v = value(*index);
                    if *escaped {
                        let _ = write_escaped(out, v, html_entity);
                    } else {
                        out.push_str(v);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_keep_the_escaping_the_template_gave_them() {
        let output = format!(
            "<p title=\"{}\">{}</p>",
            crate::render::escape_html(&marker(1)),
            marker(0)
        );
        let stencil = Stencil::parse(&output, 2).unwrap();
        let mut out = String::new();
        stencil.write(&mut out, |i| ["<b>safe</b>", "a \"quote\" & <tag>"][i]);
        assert_eq!(
            out,
            "<p title=\"a &quot;quote&quot; &amp; &lt;tag&gt;\"><b>safe</b></p>"
        );
    }

    #[test]
    fn a_changed_marker_is_refused() {
        let upper = marker(0).to_uppercase();
        assert!(Stencil::parse(&upper, 1).unwrap_err().contains("changed"));
        let cut: String = marker(0).chars().take(3).collect();
        assert!(Stencil::parse(&cut, 1).unwrap_err().contains("no end"));
        assert!(Stencil::parse(&marker(3), 2)
            .unwrap_err()
            .contains("not one of"));
        assert!(Stencil::parse("x\u{E001}", 1).is_err());
        assert_eq!(
            Stencil::parse("plain", 0).unwrap().parts,
            vec![Part::Text("plain".into())]
        );
    }
}
