use super::*;
use proptest::prelude::*;

const SAMPLE: &str = "\
id: 01JD3K8Z6Q9W2F4T7Y5M1N0ABC
thread: /posts/hello-world/
parent: 01JD3K2AAAAAAAAAAAAAAAAAAA
date: 2026-11-21T23:10:43Z
author: Ann
website: https://ann.example
avatar: 9f2c4e1a77b0c3d2
body: |
  Markdown source, exactly as typed.
";

#[test]
fn design_sample_parses_and_writes_back_byte_for_byte() {
    let c = Comment::parse(SAMPLE, Format::Yaml).unwrap();
    assert_eq!(c.thread, "/posts/hello-world/");
    assert_eq!(c.author.as_deref(), Some("Ann"));
    assert_eq!(c.body, "Markdown source, exactly as typed.\n");
    assert_eq!(c.parent.unwrap().to_string(), "01JD3K2AAAAAAAAAAAAAAAAAAA");
    assert_eq!(c.to_yaml(), SAMPLE);
}

#[test]
fn toml_and_json_carry_the_same_comment() {
    let yaml = Comment::parse(SAMPLE, Format::Yaml).unwrap();
    let toml = r#"
id = "01JD3K8Z6Q9W2F4T7Y5M1N0ABC"
thread = "/posts/hello-world/"
parent = "01JD3K2AAAAAAAAAAAAAAAAAAA"
date = 2026-11-21T23:10:43Z
author = "Ann"
website = "https://ann.example"
avatar = "9f2c4e1a77b0c3d2"
body = """
Markdown source, exactly as typed.
"""
"#;
    assert_eq!(Comment::parse(toml, Format::Toml).unwrap(), yaml);
    let json = r#"{"id": "01JD3K8Z6Q9W2F4T7Y5M1N0ABC", "thread": "/posts/hello-world",
        "parent": "01JD3K2AAAAAAAAAAAAAAAAAAA", "date": "2026-11-22T00:10:43+01:00",
        "author": "Ann", "website": "https://ann.example", "avatar": "9f2c4e1a77b0c3d2",
        "body": "Markdown source, exactly as typed.\n"}"#;
    assert_eq!(Comment::parse(json, Format::Json).unwrap(), yaml);
}

#[test]
fn a_byte_order_mark_in_front_is_not_part_of_the_file() {
    let yaml = Comment::parse(SAMPLE, Format::Yaml).unwrap();
    let toml = "id = \"01JD3K8Z6Q9W2F4T7Y5M1N0ABC\"\nthread = \"/posts/hello-world/\"\nparent = \"01JD3K2AAAAAAAAAAAAAAAAAAA\"\ndate = 2026-11-21T23:10:43Z\nauthor = \"Ann\"\nwebsite = \"https://ann.example\"\navatar = \"9f2c4e1a77b0c3d2\"\nbody = \"Markdown source, exactly as typed.\\n\"\n";
    let json = serde_json::to_string(&serde_json::json!({
        "id": "01JD3K8Z6Q9W2F4T7Y5M1N0ABC", "thread": "/posts/hello-world/",
        "parent": "01JD3K2AAAAAAAAAAAAAAAAAAA", "date": "2026-11-21T23:10:43Z",
        "author": "Ann", "website": "https://ann.example", "avatar": "9f2c4e1a77b0c3d2",
        "body": "Markdown source, exactly as typed.\n"}))
    .unwrap();
    for (text, format) in [
        (SAMPLE, Format::Yaml),
        (toml, Format::Toml),
        (&json, Format::Json),
    ] {
        let marked = format!("\u{feff}{text}");
        assert_eq!(
            Comment::parse(&marked, format),
            Ok(yaml.clone()),
            "{format:?}"
        );
    }
    // Line numbers still count from the file's first line.
    let err = Comment::parse(
        "\u{feff}id: 01JD3K8Z6Q9W2F4T7Y5M1N0ABC\nthread: /a/\ndate: nope\nbody: x\n",
        Format::Yaml,
    )
    .unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
}

#[test]
fn errors_name_the_problem_and_line() {
    let cases: &[(&str, Format, Option<usize>, &str)] = &[
        ("id: 01JD3K8Z6Q9W2F4T7Y5M1N0ABC\nthread: /a/\ndate: 2026-01-01T00:00:00Z\nbody: x\ncolour: red\n", Format::Yaml, Some(5), "unknown field `colour`"),
        ("id: nope\nthread: /a/\ndate: 2026-01-01T00:00:00Z\nbody: x\n", Format::Yaml, Some(1), "id: `nope` is not a ULID"),
        ("id: 01jd3k8z6q9w2f4t7y5m1n0abc\nthread: /a/\ndate: 2026-01-01T00:00:00Z\nbody: x\n", Format::Yaml, Some(1), "not in canonical form"),
        ("id: 01JD3K8Z6Q9W2F4T7Y5M1N0ABC\nthread: /a/../b/\ndate: 2026-01-01T00:00:00Z\nbody: x\n", Format::Yaml, Some(2), "thread: thread path contains a `.` or `..` segment"),
        ("id: 01JD3K8Z6Q9W2F4T7Y5M1N0ABC\nthread: /a/\ndate: yesterday\nbody: x\n", Format::Yaml, Some(3), "date: \"yesterday\" is not a date and time in RFC 3339 form"),
        ("id: 01JD3K8Z6Q9W2F4T7Y5M1N0ABC\nthread: /a/\ndate: 2026-01-01T00:00:00Z\nwebsite: javascript:alert(1)\nbody: x\n", Format::Yaml, Some(4), "`javascript` links are not allowed"),
        ("id: 01JD3K8Z6Q9W2F4T7Y5M1N0ABC\nthread: /a/\ndate: 2026-01-01T00:00:00Z\nbody: \"  \"\n", Format::Yaml, Some(4), "body: is empty"),
        ("id: 01JD3K8Z6Q9W2F4T7Y5M1N0ABC\nthread: /a/\ndate: 2026-01-01T00:00:00Z\n", Format::Yaml, Some(1), "missing field `body`"),
        ("id: [1\nthread: /a/\n", Format::Yaml, Some(2), "invalid YAML: did not find expected ',' or ']'"),
        ("id: \"01JD3K8Z6Q9W2F4T7Y5M1N0ABC\nthread: /a/\n", Format::Yaml, Some(3), "invalid YAML: found unexpected end of stream"),
        ("id = \"01JD3K8Z6Q9W2F4T7Y5M1N0ABC\"\nthread = \n", Format::Toml, Some(2), "invalid TOML: invalid string"),
        ("{\n\"id\": 1\n}", Format::Json, Some(2), "invalid type: integer `1`, expected a string"),
        ("{\n\"id\": \"01JD3K8Z6Q9W2F4T7Y5M1N0ABC\",\n}", Format::Json, Some(3), "invalid JSON: trailing comma"),
        ("id = \"01JD3K8Z6Q9W2F4T7Y5M1N0ABC\"\nthread = \"/a/\"\ndate = 2026-01-01T00:00:00Z\nbody = \"x\"\nmood = 1\n", Format::Toml, Some(5), "unknown field `mood`"),
        ("id: 01JD3K8Z6Q9W2F4T7Y5M1N0ABC\nthread: /a/\ndate: [1, 2]\nbody: x\n", Format::Yaml, Some(3), "date: invalid type: sequence, expected a string"),
    ];
    // Nested too deep for the YAML parser, which would take seconds to say so.
    let deep = format!(
        "id: 01JD3K8Z6Q9W2F4T7Y5M1N0ABC\nthread: /a/\nbody: {}\n",
        "[".repeat(100_000)
    );
    let deep = (
        deep.as_str(),
        Format::Yaml,
        Some(3),
        "invalid YAML: flow collections (`[`, `{`) nested more than 128 deep",
    );
    for (text, format, line, needle) in cases.iter().chain([&deep]) {
        let err = Comment::parse(text, *format).unwrap_err();
        assert!(err.message.contains(needle), "{text:?}: {err}");
        // "invalid YAML" (or TOML, JSON) is said of syntax, not of a well-formed
        // file's fields.
        let said = |m: &str| {
            ["YAML:", "TOML:", "JSON:"]
                .iter()
                .any(|l| m.starts_with(&format!("invalid {l}")))
        };
        assert_eq!(said(&err.message), said(needle), "{text:?}: {err}");
        assert_eq!(err.line, *line, "{text:?}: {err}");
    }
}

#[test]
fn self_reply_is_rejected() {
    let text = "id: 01JD3K8Z6Q9W2F4T7Y5M1N0ABC\nparent: 01JD3K8Z6Q9W2F4T7Y5M1N0ABC\nthread: /a/\ndate: 2026-01-01T00:00:00Z\nbody: x\n";
    assert!(Comment::parse(text, Format::Yaml)
        .unwrap_err()
        .message
        .contains("itself"));
}

#[test]
fn awkward_values_are_quoted_so_they_stay_strings() {
    let mut c = Comment::parse(SAMPLE, Format::Yaml).unwrap();
    for author in [
        ":)",
        "12e45",
        "1_000",
        "2026-01-01",
        ".inf",
        "no",
        "NULL",
        "~",
        "123",
        "1e3",
        "- dash",
        "a: b",
        "x #y",
        "\"quoted\"",
        "tab\there",
        "  spaced  ",
        "#tag",
        "0x1F",
        "Ünïcødé 名前",
    ] {
        c.author = Some(author.to_string());
        let yaml = c.to_yaml();
        let back = Comment::parse(&yaml, Format::Yaml).unwrap();
        assert_eq!(back.author.as_deref(), Some(author), "{yaml}");
        assert_eq!(back.to_yaml(), yaml);
    }
}

#[test]
fn bodies_keep_exact_whitespace() {
    let mut c = Comment::parse(SAMPLE, Format::Yaml).unwrap();
    for body in [
        "no newline",
        "one newline\n",
        "two newlines\n\n",
        "    indented code first\n\nthen text\n",
        "\n\nleading blank lines\n",
        "trailing spaces   \nline\n",
        "line with\u{2028}separator",
        "windows\r\nline ends\r\n",
        "a\n  \nb",
        "# heading\n- list\n---\n...\n",
    ] {
        c.body = body.to_string();
        let yaml = c.to_yaml();
        let back = Comment::parse(&yaml, Format::Yaml).unwrap();
        assert_eq!(back.body, body, "{yaml}");
        assert_eq!(back.to_yaml(), yaml);
    }
}

fn arb_text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("(?s).{1,60}").unwrap()
}

proptest! {
    #[test]
    fn written_files_read_back_and_rewrite_identically(
        author in proptest::option::of(arb_text()),
        origin in proptest::option::of(arb_text()),
        body in arb_text(),
        secs in 0i64..4_000_000_000,
    ) {
        prop_assume!(!body.trim().is_empty());
        let mut c = Comment::parse(SAMPLE, Format::Yaml).unwrap();
        c.author = author.filter(|a| !a.trim().is_empty());
        c.origin = origin.filter(|o| !o.trim().is_empty());
        c.body = body;
        c.date = DateTime::from_timestamp(secs, 0).unwrap();
        let yaml = c.to_yaml();
        let back = Comment::parse(&yaml, Format::Yaml).map_err(|e| TestCaseError::fail(format!("{e}\n{yaml}")))?;
        prop_assert_eq!(&back, &c);
        prop_assert_eq!(back.to_yaml(), yaml);
    }
}

/// Whenever the fast reader accepts a text, serde must read the same fields from it.
fn assert_fast_agrees(text: &str) -> Result<(), TestCaseError> {
    if let Some(fast) = fast_yaml(text) {
        let serde: RawComment<'_> = serde_norway::from_str(text).map_err(|e| {
            TestCaseError::fail(format!("fast read {text:?} but serde failed: {e}"))
        })?;
        prop_assert_eq!(fast, serde, "text: {:?}", text);
    }
    Ok(())
}

#[test]
fn fast_reader_takes_what_the_writer_writes() {
    assert!(fast_yaml(SAMPLE).is_some());
    let mut c = Comment::parse(SAMPLE, Format::Yaml).unwrap();
    for body in [
        "x",
        "x\n",
        "x\n\n\n",
        "    code\n",
        "\n\na\n",
        "a\u{2028}b",
        "\"q\"",
        "tab\tin",
        "nonchar \u{fffe}\u{ffff}",
    ] {
        c.body = body.into();
        let yaml = c.to_yaml();
        assert!(fast_yaml(&yaml).is_some(), "{yaml:?}");
        assert_fast_agrees(&yaml).unwrap();
    }
}

#[test]
fn fast_reader_declines_what_it_does_not_know() {
    for text in [
        "id: 01JD3K8Z6Q9W2F4T7Y5M1N0ABC # comment\nthread: /a/\ndate: 2026-01-01T00:00:00Z\nbody: x\n",
        "id: 01JD3K8Z6Q9W2F4T7Y5M1N0ABC\nthread: /a/\ndate: 2026-01-01T00:00:00Z\nauthor: 'single'\nbody: x\n",
        "id: 01JD3K8Z6Q9W2F4T7Y5M1N0ABC\nthread: /a/\ndate: 2026-01-01T00:00:00Z\ncolour: red\nbody: x\n",
        "id: 01JD3K8Z6Q9W2F4T7Y5M1N0ABC\nthread: /a/\ndate: 2026-01-01T00:00:00Z\nauthor: null\nbody: x\n",
        "id: 01JD3K8Z6Q9W2F4T7Y5M1N0ABC\nthread: /a/\ndate: 2026-01-01T00:00:00Z\nbody: >\n  folded\n",
        "---\nid: 01JD3K8Z6Q9W2F4T7Y5M1N0ABC\nthread: /a/\ndate: 2026-01-01T00:00:00Z\nbody: x\n",
        "id: 01JD3K8Z6Q9W2F4T7Y5M1N0ABC\nthread: /a/\ndate: 2026-01-01T00:00:00Z\nbody: |\n    deeper first line\n",
        // Regression: a sign is not a hex digit, though from_str_radix takes it.
        "id: 01JD3K8Z6Q9W2F4T7Y5M1N0ABC\nthread: /a/\ndate: 2026-01-01T00:00:00Z\nbody: \"\\u+041\"\n",
    ] {
        assert!(fast_yaml(text).is_none(), "{text:?}");
    }
}

proptest! {
    #[test]
    fn fast_reader_agrees_with_serde_on_mangled_files(
        body in arb_text(),
        cut in 0usize..400,
        insert in proptest::string::string_regex("(?s).{0,6}").unwrap(),
    ) {
        prop_assume!(!body.trim().is_empty());
        let mut c = Comment::parse(SAMPLE, Format::Yaml).unwrap();
        c.body = body;
        let mut yaml = c.to_yaml();
        assert_fast_agrees(&yaml)?;
        let mut at = cut.min(yaml.len());
        while !yaml.is_char_boundary(at) {
            at -= 1;
        }
        yaml.insert_str(at, &insert);
        assert_fast_agrees(&yaml)?;
    }
}

proptest! {
    /// Dates are written as chrono writes RFC 3339, whichever way they are written.
    #[test]
    fn dates_are_written_as_rfc3339(
        secs in -70_000_000_000i64..=260_000_000_000,
        nanos in prop_oneof![Just(0u32), 0u32..1_000_000_000],
    ) {
        let date = chrono::DateTime::from_timestamp(secs, nanos).unwrap();
        let comment = Comment { date, ..Comment::parse(SAMPLE, Format::Yaml).unwrap() };
        prop_assert_eq!(
            comment.date_string(),
            date.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        );
    }
}

#[test]
fn only_http_and_https_websites_become_links_at_render_time() {
    for site in [
        "https://ann.example",
        "http://ann.example/x",
        "HTTPS://ANN.EXAMPLE",
    ] {
        assert!(is_web_link(site), "{site}");
    }
    for site in [
        "javascript:alert(1)",
        " https://ann.example",
        "data:text/html,<b>x</b>",
        "ftp://ann.example",
        "https://",
        "//ann.example",
        "héllo",
    ] {
        assert!(!is_web_link(site), "{site}");
    }
}

#[test]
fn a_website_field_with_only_a_scheme_says_nothing() {
    for blank in [
        "",
        "  ",
        "http://",
        "https://",
        "HTTP://",
        " https:// ",
        "http:",
        "https:/",
    ] {
        assert!(is_no_website(blank), "{blank:?}");
    }
    for given in [
        "http",
        "ann.example",
        "https://a.example",
        "http:ann.example",
        "ftp://",
    ] {
        assert!(!is_no_website(given), "{given:?}");
    }
}

#[test]
fn only_characters_no_one_can_see_are_left_out_for_showing() {
    for c in [
        '\u{0}',
        '\u{7}',
        '\u{b}',
        '\u{1b}',
        '\u{7f}',
        '\u{85}',
        '\u{9f}',
        '\u{fdd0}',
        '\u{fdef}',
        '\u{fffe}',
        '\u{ffff}',
        '\u{1fffe}',
        '\u{10ffff}',
    ] {
        assert!(!is_showable(c), "{c:?}");
    }
    for c in [
        '\t',
        '\n',
        '\r',
        ' ',
        'é',
        '\u{a0}',
        '\u{200d}',
        '\u{fdcf}',
        '\u{fdf0}',
        '\u{fffd}',
        '\u{1f600}',
    ] {
        assert!(is_showable(c), "{c:?}");
    }
    assert!(matches!(showable("plain\ttext\n"), Cow::Borrowed(_)));
    assert!(matches!(showable("Zoë 👋\r\n"), Cow::Borrowed(_)));
    assert_eq!(showable("a\u{7}b\u{ffff}c\u{1b}[0m"), "abc[0m");
}

#[test]
fn addresses_are_found_in_names_however_they_are_set_off() {
    fn found(text: &str) -> Vec<&str> {
        email_addresses(text)
            .into_iter()
            .map(|r| &text[r])
            .collect()
    }
    assert_eq!(found("ann@example.org"), ["ann@example.org"]);
    assert_eq!(
        found("Ann <ann.lee+blog@mail.example.co.uk>"),
        ["ann.lee+blog@mail.example.co.uk"]
    );
    assert_eq!(
        found("Ann (mailto:ann@example.org), Bob"),
        ["ann@example.org"]
    );
    assert_eq!(found("write to zoë@bücher.de."), ["zoë@bücher.de"]);
    assert_eq!(found("a@b.org and c@d.net"), ["a@b.org", "c@d.net"]);
    assert_eq!(found("http://ann@example.org/"), ["ann@example.org"]);
    assert_eq!(
        found("https://ann.example/contact?to=ann@example.org&x=1"),
        ["ann@example.org"]
    );
    for name in [
        "Ann",
        "@ann",
        "ann@",
        "Ann @ home",
        "ann@localhost",
        "ann@192.168.0.1",
        "ann@example.",
        "ann@@example.org",
        "ann@exa_mple.org",
        "https://medium.com/@ann",
        "https://ann.example/@ann/posts",
        "",
    ] {
        assert_eq!(found(name), Vec::<&str>::new(), "{name:?}");
    }
}
