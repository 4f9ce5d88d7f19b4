//! Whether a page's Content-Security-Policy lets its comment form post to the inbox:
//! the policy's `form-action` directive, matched against the form's action by CSP
//! Level 3's rules ("Does url match source list") where Chromium follows them, and as
//! Chromium does where it does not (`tests/browser.rs` compares the two).

use url::Url;

/// The `form-action` sources of a policy (a `<meta http-equiv>`'s content) that turn
/// away a form posting from `page` to `action`, as written; `None` when the policy lets
/// it through (it has no `form-action`, or one of its sources matches).
pub fn blocking_form_action(policy: &str, page: &Url, action: &Url) -> Option<String> {
    // The first directive of a name counts; later ones are ignored.
    let sources = policy
        .split(';')
        .map(|directive| directive.trim_matches(is_space))
        .find_map(|directive| {
            let (name, value) = directive.split_once(is_space).unwrap_or((directive, ""));
            name.eq_ignore_ascii_case("form-action").then_some(value)
        })?;
    let mut list = sources.split(is_space).filter(|s| !s.is_empty());
    if list.any(|source| matches(source, page, action)) {
        return None;
    }
    Some(sources.trim_matches(is_space).to_string())
}

fn is_space(c: char) -> bool {
    c.is_ascii_whitespace()
}

/// Whether `url` matches the source expression `source` on a page at `page`, as
/// Chromium matches it.
fn matches(source: &str, page: &Url, url: &Url) -> bool {
    let lower = source.to_ascii_lowercase();
    if lower == "*" {
        return matches!(url.scheme(), "http" | "https" | "ws" | "wss")
            || url.scheme() == page.scheme();
    }
    if lower == "'self'" {
        let host = page.host_str().unwrap_or_default().to_ascii_lowercase();
        let port = page.port().map(|p| p.to_string());
        return host_source_matches(page.scheme(), &host, port.as_deref(), "", url);
    }
    if lower.starts_with('\'') {
        // 'none', 'unsafe-inline', nonces and hashes match no URL.
        return false;
    }
    if let Some(scheme) = lower.strip_suffix(':') {
        return is_scheme(scheme) && scheme_match(scheme, url.scheme()) != Match::No;
    }
    // `[scheme://]host[:port][/path]`, the scheme taken from the page when left out.
    let (scheme, at) = match lower.split_once("://") {
        Some((scheme, _)) if is_scheme(scheme) => (scheme, scheme.len() + 3),
        Some(_) => return false,
        None => (page.scheme(), 0),
    };
    let rest = &lower[at..];
    let host_end = rest.find([':', '/']).unwrap_or(rest.len());
    let (port, path_at) = match rest[host_end..].strip_prefix(':') {
        Some(after) => {
            let end = after.find('/').unwrap_or(after.len());
            (Some(&after[..end]), at + host_end + 1 + end)
        }
        None => (None, at + host_end),
    };
    // The path as written: it is told apart by case.
    host_source_matches(scheme, &rest[..host_end], port, &source[path_at..], url)
}

/// How a source's scheme or port matches a URL's: as it is, as its secure form
/// (`https` for `http`, 443 for 80), or by taking any (a port left out or `*`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Match {
    No,
    Exact,
    Upgrade,
    Any,
}

fn host_source_matches(
    scheme: &str,
    host: &str,
    port: Option<&str>,
    path: &str,
    url: &Url,
) -> bool {
    let schemes = scheme_match(scheme, url.scheme());
    let ports = port_match(scheme, port, url);
    // An upgrade takes the secure scheme and port together.
    if (schemes == Match::Upgrade && !matches!(ports, Match::Upgrade | Match::Any))
        || (ports == Match::Upgrade && schemes != Match::Upgrade)
    {
        return false;
    }
    schemes != Match::No
        && ports != Match::No
        && host_matches(host, url)
        && path_matches(path, url.path())
}

fn is_scheme(scheme: &str) -> bool {
    scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// CSP Level 3 would also let `ws:` and `wss:` sources match `http:` and `https:`
/// URLs; Chromium stops a form sent there.
fn scheme_match(source: &str, scheme: &str) -> Match {
    if source == scheme {
        Match::Exact
    } else if matches!((source, scheme), ("http", "https") | ("ws", "wss")) {
        Match::Upgrade
    } else {
        Match::No
    }
}

fn port_match(scheme: &str, port: Option<&str>, url: &Url) -> Match {
    let Some(actual) = url.port_or_known_default() else {
        return Match::No;
    };
    let port = match port {
        Some("*") => return Match::Any,
        None if url.port().is_none() => return Match::Any,
        None => url::Url::parse(&format!("{scheme}://h/"))
            .ok()
            .and_then(|u| u.port_or_known_default()),
        Some(port) => match port.parse::<u16>() {
            Ok(port) if port == actual => return Match::Exact,
            Ok(port) => Some(port),
            Err(_) => return Match::No,
        },
    };
    if port == Some(80) && actual == 443 {
        Match::Upgrade
    } else {
        Match::No
    }
}

/// `*` alone matches every host, `*.example.org` those below example.org.
fn host_matches(pattern: &str, url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    match pattern.strip_prefix('*') {
        Some("") => true,
        Some(suffix) => suffix.starts_with('.') && host.ends_with(suffix),
        None => host == pattern,
    }
}

/// An empty path matches any; one ending in `/` every path below it; another only
/// itself, each as it reads percent-decoded.
fn path_matches(pattern: &str, path: &str) -> bool {
    if pattern.is_empty() {
        return true;
    }
    let decode = |p: &str| {
        percent_encoding::percent_decode_str(p)
            .decode_utf8_lossy()
            .into_owned()
    };
    let (pattern, path) = (decode(pattern), decode(path));
    if pattern.ends_with('/') {
        path.starts_with(&pattern)
    } else {
        path == pattern
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_action_sources_match_as_browsers_match_them() {
        let page = Url::parse("https://blog.example.org/posts/a/").unwrap();
        let action = Url::parse("https://comments.example.org/v1/comments").unwrap();
        for (policy, blocked) in [
            ("default-src 'self'; script-src 'self'", false),
            ("form-action 'self'", true),
            ("form-action 'none'", true),
            ("FORM-ACTION 'self' https://comments.example.org", false),
            ("form-action 'self' comments.example.org", false),
            ("form-action *.example.org", false),
            ("form-action *.other.org", true),
            ("form-action *", false),
            ("form-action https:", false),
            ("form-action http:", false),
            ("form-action http://comments.example.org", false),
            ("form-action wss://comments.example.org", true),
            ("form-action ftp://comments.example.org", true),
            ("form-action https://comments.example.org:443", false),
            ("form-action https://comments.example.org:8443", true),
            ("form-action https://comments.example.org:*", false),
            // The secure port goes with the secure scheme, and only with it.
            ("form-action http://comments.example.org:80", false),
            ("form-action https://comments.example.org:80", true),
            ("form-action http://comments.example.org:443", true),
            ("form-action https://comments.example.org.", true),
            ("form-action https://comments.example.org/v1/", false),
            (
                "form-action https://comments.example.org/v1/comments",
                false,
            ),
            ("form-action https://comments.example.org/v1", true),
            ("form-action https://comments.example.org/v2/", true),
            (
                "form-action https://comments.example.org/v1/%63omments",
                false,
            ),
            ("form-action example.org", true),
            ("form-action 'unsafe-inline' 'nonce-abc'", true),
            ("form-action; form-action *", true),
            (
                "script-src *;form-action\t'self'  https://comments.example.org ;",
                false,
            ),
            (
                "form-action https://comments.example.org; form-action 'none'",
                false,
            ),
        ] {
            let got = blocking_form_action(policy, &page, &action);
            assert_eq!(got.is_some(), blocked, "{policy}: {got:?}");
        }
        assert_eq!(
            blocking_form_action("default-src *; form-action  'self' ; ", &page, &action),
            Some("'self'".into())
        );
        // 'self' takes the page's own origin, and its secure form.
        let own = Url::parse("https://blog.example.org/v1/comments").unwrap();
        assert!(blocking_form_action("form-action 'self'", &page, &own).is_none());
        let plain = Url::parse("http://blog.example.org/").unwrap();
        assert!(blocking_form_action("form-action 'self'", &plain, &own).is_none());
        assert!(blocking_form_action("form-action 'self'", &own, &plain).is_some());
        // A source without a scheme takes the page's.
        let insecure = Url::parse("http://comments.example.org/v1/comments").unwrap();
        assert!(
            blocking_form_action("form-action comments.example.org", &page, &insecure).is_some()
        );
        assert!(
            blocking_form_action("form-action comments.example.org", &plain, &action).is_none()
        );
        // Ports: none means the scheme's default.
        let local = Url::parse("http://127.0.0.1:8080/v1/comments").unwrap();
        assert!(
            blocking_form_action("form-action http://127.0.0.1:8080", &plain, &local).is_none()
        );
        assert!(blocking_form_action("form-action http://127.0.0.1", &plain, &local).is_some());
    }
}
