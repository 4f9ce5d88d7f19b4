//! A static host's `_headers` file in the built site's root (Netlify's format, which
//! Cloudflare Pages reads too): the headers the host sends with a page, for the
//! policies that decide whether the page's comment form reaches the inbox.

use std::path::Path;

/// The rules of a `_headers` file, in its order.
#[derive(Debug, Default)]
pub struct Headers {
    rules: Vec<Rule>,
}

#[derive(Debug)]
struct Rule {
    pattern: Vec<Token>,
    /// A rule for a full URL (Cloudflare Pages) holds only on that host.
    host: Option<String>,
    /// Header names in lower case, with their values (a name given twice in one rule
    /// has its values joined by `, `).
    values: Vec<(String, String)>,
}

/// A piece of a rule's path, as Netlify's engine reads it: letters compared in any
/// case, `:name` for one segment, `*` for anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Char(char),
    /// A `/` that may be left out: before a `*` that stands alone, and at the end.
    OptionalSlash,
    Segment,
    Any,
}

impl Headers {
    /// The file `_headers` in `site_dir`, if there is one.
    pub fn read(site_dir: &Path) -> std::io::Result<Option<Headers>> {
        match std::fs::read(site_dir.join("_headers")) {
            Ok(bytes) => Ok(Some(Headers::parse(&String::from_utf8_lossy(&bytes)))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reads the rules: a line starting with `/` (or a full URL) starts one, and each
    /// `Name: value` line after it adds a header; blank lines and `#` comments are
    /// passed over, as is a header before any rule.
    pub fn parse(text: &str) -> Headers {
        let mut rules: Vec<Rule> = Vec::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let full = ["https://", "http://"]
                .iter()
                .find_map(|scheme| line.strip_prefix(scheme));
            if line.starts_with('/') || full.is_some() {
                let (host, path) = match full {
                    Some(rest) => {
                        let at = rest.find('/').unwrap_or(rest.len());
                        (Some(rest[..at].to_ascii_lowercase()), &rest[at..])
                    }
                    None => (None, line),
                };
                rules.push(Rule {
                    pattern: pattern(path),
                    host,
                    values: Vec::new(),
                });
                continue;
            }
            let (Some(rule), Some((name, value))) = (rules.last_mut(), line.split_once(':')) else {
                continue;
            };
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            if name.is_empty() || value.is_empty() {
                continue;
            }
            match rule.values.iter_mut().find(|(n, _)| *n == name) {
                Some((_, values)) => {
                    values.push_str(", ");
                    values.push_str(value);
                }
                None => rule.values.push((name, value.to_string())),
            }
        }
        Headers { rules }
    }

    /// The value of the header `name` (in lower case) sent with the page at `path` on
    /// `host`: the last rule that matches the page and gives it decides, as Netlify's
    /// engine has it.
    pub fn value(&self, host: &str, path: &str, name: &str) -> Option<&str> {
        self.rules
            .iter()
            .rev()
            .filter(|rule| rule.host.as_deref().is_none_or(|h| h == host))
            .filter(|rule| matches(&rule.pattern, path))
            .find_map(|rule| rule.values.iter().find(|(n, _)| n == name))
            .map(|(_, value)| value.as_str())
    }
}

/// A rule's path as tokens: its segments (trailing spaces and empty ones dropped)
/// joined by `/`, after a leading `/`, and an optional `/` at the end.
fn pattern(path: &str) -> Vec<Token> {
    let mut tokens = vec![Token::Char('/')];
    let parts = path.split('/').map(str::trim_end).filter(|p| !p.is_empty());
    for (i, part) in parts.enumerate() {
        if i > 0 {
            tokens.push(Token::Char('/'));
        }
        if part.starts_with(':') {
            tokens.push(Token::Segment);
        } else if part == "*" {
            if let Some(slash) = tokens.last_mut() {
                *slash = Token::OptionalSlash;
            }
            tokens.push(Token::Any);
        } else {
            tokens.extend(part.chars().map(|c| match c {
                '*' => Token::Any,
                c => Token::Char(c.to_ascii_lowercase()),
            }));
        }
    }
    tokens.push(Token::OptionalSlash);
    tokens
}

/// Whether the whole of `path` matches the tokens.
fn matches(tokens: &[Token], path: &str) -> bool {
    let path: Vec<char> = path.chars().map(|c| c.to_ascii_lowercase()).collect();
    match_from(tokens, &path)
}

fn match_from(tokens: &[Token], path: &[char]) -> bool {
    let Some((token, rest)) = tokens.split_first() else {
        return path.is_empty();
    };
    match token {
        Token::Char(c) => path.first() == Some(c) && match_from(rest, &path[1..]),
        Token::OptionalSlash => {
            (path.first() == Some(&'/') && match_from(rest, &path[1..])) || match_from(rest, path)
        }
        Token::Segment => (1..=path.len())
            .take_while(|&n| path[n - 1] != '/')
            .any(|n| match_from(rest, &path[n..])),
        Token::Any => (0..=path.len()).any(|n| match_from(rest, &path[n..])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_paths_as_netlify_matches_them() {
        for (rule, path, matched) in [
            ("/*", "/", true),
            ("/*", "/posts/a/", true),
            ("/", "/", true),
            ("/", "/posts/", false),
            ("/posts/*", "/posts/a/", true),
            ("/posts/*", "/posts", true),
            // The `/` before a `*` that stands alone may be left out, so this matches.
            ("/posts/*", "/postscript/", true),
            ("/posts/*", "/about/", false),
            ("/posts/:slug/", "/posts/a/", true),
            ("/posts/:slug", "/posts/a/b/", false),
            ("/POSTS/A", "/posts/a/", true),
            ("/posts/a/", "/posts/a", true),
            ("/p*s/", "/posts/", true),
            ("/posts/*/comments", "/posts/a/b/comments/", true),
            ("//posts//a ", "/posts/a/", true),
        ] {
            assert_eq!(matches(&pattern(rule), path), matched, "{rule} {path}");
        }
    }

    #[test]
    fn the_last_rule_that_gives_a_header_decides() {
        let headers = Headers::parse(
            "# security\n/*\n  Referrer-Policy: no-referrer\n  Content-Security-Policy: form-action 'self'\n\
             \n/posts/*\n  referrer-policy: origin\n  X-Frame-Options: DENY\n  x-frame-options: SAMEORIGIN\n\
             https://preview.pages.dev/*\n  Referrer-Policy: unsafe-url\nstray: header\n",
        );
        let value = |path, name| headers.value("blog.example.org", path, name);
        assert_eq!(value("/posts/a/", "referrer-policy"), Some("origin"));
        assert_eq!(value("/about/", "referrer-policy"), Some("no-referrer"));
        assert_eq!(
            value("/posts/a/", "content-security-policy"),
            Some("form-action 'self'")
        );
        assert_eq!(
            value("/posts/a/", "x-frame-options"),
            Some("DENY, SAMEORIGIN")
        );
        assert_eq!(
            headers.value("preview.pages.dev", "/about/", "referrer-policy"),
            Some("unsafe-url")
        );
        assert_eq!(value("/about/", "stray"), None);
        assert!(Headers::parse("Referrer-Policy: no-referrer\n")
            .rules
            .is_empty());
    }
}
