//! Streams an XML export (Disqus, WordPress) and hands over one record at a time as a
//! small element tree, so a large export is never held in memory whole.

use std::io::BufRead;
use std::path::Path;

use anyhow::{Context, Result};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// One element with its attributes, text and children. Names are local names: the
/// namespace prefix (`wp:`, `dsq:`) is dropped.
#[derive(Debug, Default, Clone)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The first child with this name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The children with this name.
    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of the descendant at a `/`-separated path, if not empty.
    pub fn text_at(&self, path: &str) -> Option<String> {
        let mut at = self;
        for name in path.split('/') {
            at = at.child(name)?;
        }
        Some(at.text.trim().to_string()).filter(|t| !t.is_empty())
    }

    /// An attribute's value by local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Calls `each` with every element at `depth` (the root is at depth 0) whose name is in
/// `names`, built with all its descendants.
pub fn for_each(
    path: &Path,
    depth: usize,
    names: &[&str],
    mut each: impl FnMut(Element) -> Result<()>,
) -> Result<()> {
    let mut reader = Reader::from_reader(super::open(path)?);
    walk(&mut reader, depth, names, &mut each)
        .with_context(|| format!("{}: not a well-formed XML export", path.display()))
}

fn walk<R: BufRead>(
    reader: &mut Reader<R>,
    depth: usize,
    names: &[&str],
    each: &mut dyn FnMut(Element) -> Result<()>,
) -> Result<()> {
    let mut buf = Vec::new();
    let mut level = 0usize;
    // The record being built, and its open descendants.
    let mut open: Vec<Element> = Vec::new();
    loop {
        // The error's own words, once: its source would repeat them.
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| anyhow::anyhow!("at byte {}: {e}", reader.error_position()))?;
        match event {
            Event::Start(start) => {
                let element = element_of(&start, reader);
                if !open.is_empty() || (level == depth && names.contains(&element.name.as_str())) {
                    open.push(element);
                }
                level += 1;
            }
            Event::Empty(start) => {
                let element = element_of(&start, reader);
                if let Some(parent) = open.last_mut() {
                    parent.children.push(element);
                } else if level == depth && names.contains(&element.name.as_str()) {
                    each(element)?;
                }
            }
            Event::End(_) => {
                level = level.saturating_sub(1);
                if let Some(done) = open.pop() {
                    match open.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => each(done)?,
                    }
                }
            }
            Event::Text(text) => {
                if let Some(current) = open.last_mut() {
                    match text.unescape() {
                        Ok(s) => current.text.push_str(&s),
                        // HTML entities such as `&nbsp;` are not XML's: keep them as
                        // they are; the body is HTML and they mean the same there.
                        Err(_) => current.text.push_str(&decode(reader, &text)),
                    }
                }
            }
            Event::CData(data) => {
                if let Some(current) = open.last_mut() {
                    current.text.push_str(&decode(reader, &data));
                }
            }
            Event::Eof if level == 0 => return Ok(()),
            // A download that stopped early reads well up to its last byte: what it
            // holds would be imported as if it were all.
            Event::Eof => anyhow::bail!(
                "the file ends at byte {} with {level} element{} still open: it was cut \
                 short (an interrupted download?); nothing was imported",
                reader.buffer_position(),
                if level == 1 { "" } else { "s" }
            ),
            _ => {}
        }
        buf.clear();
    }
}

fn element_of<R>(start: &BytesStart, reader: &Reader<R>) -> Element {
    Element {
        name: decode(reader, start.local_name().as_ref()),
        attrs: start
            .attributes()
            .flatten()
            .map(|a| {
                let value = a
                    .decode_and_unescape_value(reader.decoder())
                    .map(|v| v.into_owned())
                    .unwrap_or_else(|_| decode(reader, &a.value));
                (decode(reader, a.key.local_name().as_ref()), value)
            })
            .collect(),
        ..Element::default()
    }
}

/// Raw bytes of the document as text, in the encoding its declaration names (UTF-8
/// when it names none); what that encoding cannot read becomes U+FFFD.
fn decode<R>(reader: &Reader<R>, bytes: &[u8]) -> String {
    reader
        .decoder()
        .decode(bytes)
        .map(|s| s.into_owned())
        .unwrap_or_else(|_| String::from_utf8_lossy(bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(bytes: &[u8]) -> Result<Vec<Element>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.xml");
        std::fs::write(&path, bytes).unwrap();
        let mut out = Vec::new();
        for_each(&path, 1, &["r"], |r| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }

    /// WordPress writes its export in the blog's character set and says which in the
    /// XML declaration; blogs older than WordPress's switch to UTF-8 still use Latin-1.
    #[test]
    fn text_is_read_in_the_encoding_the_declaration_names() {
        for declared in ["ISO-8859-1", "windows-1252", "iso-8859-15"] {
            let mut doc = format!("<?xml version=\"1.0\" encoding=\"{declared}\"?>\n").into_bytes();
            doc.extend_from_slice(
                b"<rss><r who=\"Zo\xeb\"><t>Caf\xe9 cr\xe8me</t><c><![CDATA[<p>D\xe9j\xe0 vu</p>]]></c>\
                  <e>\xe9t\xe9&nbsp;&amp; hiver</e></r></rss>",
            );
            let r = &records(&doc).unwrap()[0];
            assert_eq!(r.attr("who"), Some("Zoë"), "{declared}");
            assert_eq!(r.text_at("t").as_deref(), Some("Café crème"), "{declared}");
            assert_eq!(
                r.text_at("c").as_deref(),
                Some("<p>Déjà vu</p>"),
                "{declared}"
            );
            // An HTML entity XML does not know stays as it is, the rest decoded.
            assert_eq!(
                r.text_at("e").as_deref(),
                Some("été&nbsp;&amp; hiver"),
                "{declared}"
            );
        }
        let utf8 =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss><r who=\"Zoë\"><t>Café</t></r></rss>";
        let r = &records(utf8.as_bytes()).unwrap()[0];
        assert_eq!(
            (r.attr("who"), r.text_at("t").as_deref()),
            (Some("Zoë"), Some("Café"))
        );
    }

    /// Disqus sends its export as `.xml.gz`; WordPress.com its export as a zip.
    #[test]
    fn a_gzipped_export_is_read_and_a_zip_archive_is_refused_saying_what_to_do() {
        use std::io::Write;
        let doc = b"<?xml version=\"1.0\"?><disqus><r who=\"Ann\"><t>Hi</t></r><r/></disqus>";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(doc).unwrap();
        let gz = gz.finish().unwrap();
        let read = records(&gz).unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(
            (read[0].attr("who"), read[0].text_at("t").as_deref()),
            (Some("Ann"), Some("Hi"))
        );

        let cut = format!("{:#}", records(&gz[..gz.len() - 12]).unwrap_err());
        assert!(cut.contains("not a whole gzip file"), "{cut}");
        let zip = format!("{:#}", records(b"PK\x03\x04\x14\x00\x00\x00").unwrap_err());
        assert!(
            zip.contains("a zip archive, not an export: unzip it and import the file"),
            "{zip}"
        );
    }
}
