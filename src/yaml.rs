//! A guard in front of the general YAML parser: how deep a text nests flow collections
//! (`[…]`, `{…}`), found in one pass. libyaml's scanner takes time growing with the
//! square of that depth, and serde refuses more than 128 levels only once the scanner
//! is through: a hand-made file of 100,000 `[` held a render for 47 s.

/// The deepest nesting the YAML parser accepts.
pub const MAX_FLOW_DEPTH: usize = 128;

/// Parses YAML text with serde, unless it nests flow collections deeper than
/// [`MAX_FLOW_DEPTH`]: then the error names the line where it does.
pub fn from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Error> {
    if let Some(line) = flow_too_deep(text, MAX_FLOW_DEPTH) {
        return Err(Error::TooDeep { line });
    }
    serde_norway::from_str(text).map_err(Error::Yaml)
}

/// What [`from_str`] found wrong; shown as serde's errors are, with "at line N".
#[derive(Debug)]
pub enum Error {
    /// Flow collections nested deeper than [`MAX_FLOW_DEPTH`], from this line.
    TooDeep {
        line: usize,
    },
    Yaml(serde_norway::Error),
}

impl Error {
    /// The line the error is at, 1-based, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            Error::TooDeep { line } => Some(*line),
            Error::Yaml(e) => e.location().map(|l| l.line()),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::TooDeep { line } => write!(
                f,
                "flow collections (`[`, `{{`) nested more than {MAX_FLOW_DEPTH} deep at line {line}"
            ),
            Error::Yaml(e) => e.fmt(f),
        }
    }
}

/// The line (1-based) where `text` nests flow collections more than `max` deep, if it
/// does. A bracket counts where YAML reads it as one: where a node starts (or anywhere
/// inside a flow collection), not inside a quoted scalar, a block scalar (`|`, `>`), a
/// plain scalar or a comment.
pub fn flow_too_deep(text: &str, max: usize) -> Option<usize> {
    // Fewer openers than the limit cannot nest that deep: most texts stop here.
    let openers = text.bytes().filter(|b| matches!(b, b'[' | b'{')).count();
    if openers <= max {
        return None;
    }
    let mut depth = 0usize;
    // The indentation of the line that opened a block scalar, while in one.
    let mut block_scalar: Option<usize> = None;
    // The quote of a quoted scalar, which may go on over lines.
    let mut quote: Option<u8> = None;
    for (n, line) in text.lines().enumerate() {
        let bytes = line.as_bytes();
        let indent = bytes.iter().take_while(|&&b| b == b' ').count();
        if let Some(parent) = block_scalar {
            if indent > parent || line.trim().is_empty() {
                continue;
            }
            block_scalar = None;
        }
        // Whether a node may start here.
        let mut node_start = quote.is_none();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            let next_is_blank = bytes.get(i + 1).is_none_or(|c| matches!(c, b' ' | b'\t'));
            if let Some(q) = quote {
                if q == b'"' && b == b'\\' {
                    i += 2;
                    continue;
                }
                if b == q {
                    if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    quote = None;
                }
                i += 1;
                continue;
            }
            match b {
                b' ' | b'\t' => {}
                b'#' if i == 0 || matches!(bytes[i - 1], b' ' | b'\t') => break,
                b'[' | b'{' if node_start || depth > 0 => {
                    depth += 1;
                    if depth > max {
                        return Some(n + 1);
                    }
                    node_start = true;
                }
                b']' | b'}' if depth > 0 => {
                    depth -= 1;
                    node_start = false;
                }
                b',' if depth > 0 => node_start = true,
                b':' if depth > 0 || next_is_blank => node_start = true,
                b'-' | b'?' if node_start && depth == 0 && next_is_blank => {}
                b'"' | b'\'' if node_start => {
                    quote = Some(b);
                    node_start = false;
                }
                b'|' | b'>' if node_start && depth == 0 => {
                    block_scalar = Some(indent);
                    break;
                }
                // An anchor, alias or tag before a node: the node may still start.
                b'&' | b'*' | b'!' if node_start => {
                    while i < bytes.len() && !matches!(bytes[i], b' ' | b'\t') {
                        i += 1;
                    }
                    continue;
                }
                _ => node_start = false,
            }
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_flow_collections_are_found_where_they_start() {
        let deep = |open: &str| format!("id: x\nbody: {}\n", open.repeat(MAX_FLOW_DEPTH + 1));
        for open in ["[", "{", "[a, ", "{a: ", "[[]"] {
            assert_eq!(
                flow_too_deep(&deep(open), MAX_FLOW_DEPTH),
                Some(2),
                "{open}"
            );
        }
        // Before a node's anchor or tag, at a sequence's entries, over lines.
        for text in [
            format!("body: &a !!seq {}", "[".repeat(200)),
            format!("list:\n  - - {}", "[".repeat(200)),
            format!("body:\n{}", "[\n".repeat(200)),
        ] {
            assert!(flow_too_deep(&text, MAX_FLOW_DEPTH).is_some(), "{text}");
        }
        let exact = format!("body: {}", "[".repeat(MAX_FLOW_DEPTH));
        assert_eq!(flow_too_deep(&exact, MAX_FLOW_DEPTH), None);
        let closed = format!("body: {}", "[a]".repeat(1000));
        assert_eq!(flow_too_deep(&closed, MAX_FLOW_DEPTH), None);
    }

    /// Brackets that are text are not counted: in quoted, block and plain scalars,
    /// and in comments.
    #[test]
    fn brackets_in_text_do_not_count() {
        let many = "[{".repeat(500);
        for text in [
            format!("body: \"{many}\"\n"),
            format!("body: \"a \\\" {many}\"\n"),
            format!("body: 'it''s {many}'\n"),
            format!("body: \"line\n  {many}\"\n"),
            format!("body: |-\n  {many}\n\n  {many}\nauthor: Ann\n"),
            format!("body: >\n    {many}\n"),
            format!("body: see {many}\n"),
            format!("body: a - {many}\n"),
            format!("body: x # {many}\n"),
            format!("# {many}\nbody: x\n"),
        ] {
            assert_eq!(flow_too_deep(&text, MAX_FLOW_DEPTH), None, "{text}");
            let parsed: Result<serde_json::Value, _> = from_str(&text);
            assert!(parsed.is_ok(), "{text}: {parsed:?}");
        }
    }

    #[test]
    fn too_deep_is_an_error_with_its_line_before_the_parser_runs() {
        let text = format!("id: x\nthread: /a/\nbody: {}\n", "[".repeat(100_000));
        let e = from_str::<serde_json::Value>(&text).unwrap_err();
        assert_eq!(e.line(), Some(3));
        assert_eq!(
            e.to_string(),
            "flow collections (`[`, `{`) nested more than 128 deep at line 3"
        );
        // Up to the limit, the parser's own verdict.
        let e = from_str::<serde_json::Value>("body: [a\n").unwrap_err();
        assert!(matches!(e, Error::Yaml(_)), "{e}");
    }
}
