use super::*;
use chrono::TimeZone;

fn item(key: &str, parent: Option<&str>, minute: u32, status: Status) -> Item {
    Item {
        key: key.into(),
        thread: Some("https://old.example.org/posts/a/".into()),
        parent: parent.map(Into::into),
        date: Utc.with_ymd_and_hms(2020, 1, 1, 0, minute, 0).unwrap(),
        author: Some(format!("Author {key}")),
        email: Some(format!("{key}@example.org")),
        website: None,
        body: Body::Markdown(format!("Body of {key}")),
        status,
        owner: false,
        location: format!("comment {key}"),
    }
}

fn source(items: Vec<Item>) -> Source {
    Source {
        items,
        ..Source::default()
    }
}

fn options() -> Options {
    Options {
        secret: Some(Secret::new(b"0123456789abcdef").unwrap()),
        base_path: "/".into(),
        ..Options::default()
    }
}

fn by_origin<'a>(plan: &'a Plan, origin: &str) -> &'a Comment {
    plan.new
        .iter()
        .map(|p| &p.comment)
        .find(|c| c.origin.as_deref() == Some(origin))
        .unwrap_or_else(|| panic!("{origin} not planned: {plan:#?}"))
}

#[test]
fn replies_keep_their_parent_and_deleted_parents_with_replies_become_stubs() {
    let plan = plan(
        Kind::Isso,
        source(vec![
            item("1", None, 0, Status::Deleted),
            item("2", Some("1"), 1, Status::Published),
            item("3", Some("2"), 2, Status::Published),
            item("4", None, 3, Status::Deleted),
            item("5", None, 4, Status::Spam),
        ]),
        &options(),
        &Existing::default(),
    );
    assert_eq!(plan.new.len(), 3, "{plan:#?}");
    let stub = by_origin(&plan, "isso:1");
    assert_eq!(stub.body, DELETED_BODY);
    assert_eq!((stub.author.as_ref(), stub.avatar.as_ref()), (None, None));
    let reply = by_origin(&plan, "isso:2");
    assert_eq!(reply.parent, Some(stub.id));
    assert_eq!(by_origin(&plan, "isso:3").parent, Some(reply.id));
    assert_eq!(reply.thread, "/posts/a/");
    let reasons: Vec<&str> = plan.skipped.iter().map(|n| n.message.as_str()).collect();
    assert_eq!(
        reasons,
        ["deleted in the source", "marked as spam in the source"]
    );
}

#[test]
fn pending_comments_are_skipped_unless_asked_for() {
    let items = || source(vec![item("1", None, 0, Status::Pending)]);
    let skipped = plan(Kind::Isso, items(), &options(), &Existing::default());
    assert!(skipped.new.is_empty());
    assert!(skipped.skipped[0].message.contains("--include-pending"));
    let included = plan(
        Kind::Isso,
        items(),
        &Options {
            include_pending: true,
            ..options()
        },
        &Existing::default(),
    );
    assert_eq!(included.new.len(), 1);
}

#[test]
fn comments_beyond_the_sites_limits_are_imported_with_a_note() {
    let mut long = item("1", None, 0, Status::Published);
    long.body = Body::Markdown("x".repeat(10_001));
    let mut ahead = item("2", None, 1, Status::Published);
    ahead.date = Utc::now() + chrono::Duration::days(30);
    let plan = plan(
        Kind::Disqus,
        source(vec![long, ahead, item("3", None, 2, Status::Published)]),
        &options(),
        &Existing::default(),
    );
    assert_eq!(plan.new.len(), 3, "{plan:#?}");
    assert_eq!(by_origin(&plan, "disqus:1").body.len(), 10_001);
    let notes: Vec<String> = plan.adjusted.iter().map(ToString::to_string).collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes[0].starts_with(
            "comment 1: imported as it is, but its body has 10001 characters, more than \
             form.max_body (10000): `cairn check` and `cairn render` warn about it"
        ),
        "{notes:?}"
    );
    assert!(
        notes[1].starts_with("comment 2: imported as it is, but its date ")
            && notes[1].contains(" is in the future"),
        "{notes:?}"
    );
}

#[test]
fn ids_are_stable_sorted_by_date_and_distinct_per_origin() {
    let date = Utc.with_ymd_and_hms(2013, 10, 10, 19, 20, 29).unwrap();
    assert_eq!(stable_id(date, "disqus:4"), stable_id(date, "disqus:4"));
    assert_ne!(stable_id(date, "disqus:4"), stable_id(date, "disqus:5"));
    assert!(stable_id(date, "z") < stable_id(date + chrono::Duration::milliseconds(1), "a"));
    assert_eq!(
        stable_id(date, "x").timestamp_ms() as i64,
        date.timestamp_millis()
    );
}

#[test]
fn emails_become_avatar_keys_and_never_reach_the_file() {
    let plan = plan(
        Kind::Disqus,
        source(vec![item("1", None, 0, Status::Published)]),
        &options(),
        &Existing::default(),
    );
    let comment = &plan.new[0].comment;
    let key = options().secret.unwrap().avatar_key("1@example.org");
    assert_eq!(comment.avatar.as_deref(), Some(key.as_str()));
    assert!(!comment.to_yaml().contains("example.org"));
    let without = plan_without_secret();
    assert_eq!(without.new[0].comment.avatar, None);
}

/// For the WordPress comments with these ids, in order: a field of each, and its avatar key.
fn with_avatars<'a, const N: usize>(
    plan: &'a Plan,
    ids: [&str; N],
    field: impl Fn(&Comment) -> &Option<String>,
) -> Vec<(Option<&'a str>, Option<String>)> {
    ids.iter()
        .map(|k| {
            let c = by_origin(plan, &format!("wordpress:{k}"));
            (field(c).as_deref(), c.avatar.clone())
        })
        .collect()
}

#[test]
fn addresses_in_author_names_are_left_out_and_become_the_avatar_key() {
    let named = |key: &str, author: &str, email: Option<&str>| Item {
        author: Some(author.into()),
        email: email.map(Into::into),
        ..item(key, None, 0, Status::Published)
    };
    let plan = plan(
        Kind::Wordpress,
        source(vec![
            named("1", "ann@example.org", None),
            named("2", "Ann Lee <ann@example.org>", None),
            named(
                "3",
                "Bob (mailto:bob@example.net)",
                Some("bob@work.example"),
            ),
            named("5", "cy@example.org (Cy Young)", None),
            named("6", "dee@example.org (Dee Sm", None),
            named("4", "  Zoë <3  ", None),
        ]),
        &options(),
        &Existing::default(),
    );
    assert_eq!(plan.new.len(), 6, "{plan:#?}");
    let secret = options().secret.unwrap();
    let authors = with_avatars(&plan, ["1", "2", "3", "4", "5", "6"], |c| &c.author);
    assert_eq!(
        authors,
        [
            (None, Some(secret.avatar_key("ann@example.org"))),
            (Some("Ann Lee"), Some(secret.avatar_key("ann@example.org"))),
            // The e-mail field, when there is one, stays the key.
            (Some("Bob"), Some(secret.avatar_key("bob@work.example"))),
            // A name without an address is kept as it was written.
            (Some("Zoë <3"), None),
            (Some("Cy Young"), Some(secret.avatar_key("cy@example.org"))),
            // Cut short by the source.
            (Some("Dee Sm"), Some(secret.avatar_key("dee@example.org"))),
        ]
    );
    for planned in &plan.new {
        let file = planned.comment.to_yaml();
        assert!(
            !file.contains("example.org") && !file.contains("example.net"),
            "{file}"
        );
    }
    let notes: Vec<String> = plan.adjusted.iter().map(ToString::to_string).collect();
    assert_eq!(
        notes,
        [
            "comment 1: its author's name was an e-mail address, which is never published: \
             imported without a name",
            "comment 2: its author's name held an e-mail address, which is never published: \
             imported as \"Ann Lee\"",
            "comment 3: its author's name held an e-mail address, which is never published: \
             imported as \"Bob\"",
            "comment 5: its author's name held an e-mail address, which is never published: \
             imported as \"Cy Young\"",
            "comment 6: its author's name held an e-mail address, which is never published: \
             imported as \"Dee Sm\"",
        ]
    );
}

#[test]
fn names_escaped_as_html_are_read_as_their_pages_showed_them() {
    let named = |key: &str, author: &str| Item {
        author: Some(author.into()),
        ..item(key, None, 0, Status::Published)
    };
    let items = || {
        source(vec![
            named("1", "Magnus M&#229;rtensson"),
            named(
                "2",
                "Dave &quot;The Ninja&quot; Law &amp; Co &#x2013; &#7;x",
            ),
            // A bare ampersand, a reference it does not know and one cut short stay.
            named("3", "AT&T Labs &#233;"),
            named("4", "Tom &bogus; Jones Tho&#225;&#"),
        ])
    };
    let authors = |kind: Kind| -> Vec<String> {
        let plan = plan(kind, items(), &options(), &Existing::default());
        (1..=4)
            .map(|k| {
                let origin = format!("{}:{k}", kind.name());
                by_origin(&plan, &origin).author.clone().unwrap()
            })
            .collect()
    };
    assert_eq!(
        authors(Kind::Disqus),
        [
            "Magnus Mårtensson",
            "Dave \"The Ninja\" Law & Co – x",
            "AT&T Labs é",
            "Tom &bogus; Jones Thoá&#"
        ]
    );
    assert_eq!(authors(Kind::Wordpress), authors(Kind::Staticman));
    assert_eq!(authors(Kind::Disqus), authors(Kind::Staticman));
    // Isso shows a name as it was typed.
    assert_eq!(authors(Kind::Isso)[0], "Magnus M&#229;rtensson");
}

fn plan_without_secret() -> Plan {
    plan(
        Kind::Disqus,
        source(vec![item("1", None, 0, Status::Published)]),
        &Options {
            secret: None,
            ..options()
        },
        &Existing::default(),
    )
}

#[test]
fn already_imported_and_forgotten_comments_are_not_written_again() {
    let first = plan(
        Kind::Isso,
        source(vec![
            item("1", None, 0, Status::Published),
            item("2", None, 1, Status::Published),
        ]),
        &options(),
        &Existing::default(),
    );
    let existing = Existing {
        origins: ["isso:1".to_string()].into(),
        forgotten: [by_origin(&first, "isso:2").id].into(),
    };
    let again = plan(
        Kind::Isso,
        source(vec![
            item("1", None, 0, Status::Published),
            item("2", None, 1, Status::Published),
        ]),
        &options(),
        &existing,
    );
    assert!(again.new.is_empty());
    assert_eq!(again.existing, 1);
    assert!(again.skipped[0].message.contains("cairn forget"));
}

#[test]
fn the_keys_of_the_comments_the_source_marks_as_the_sites_own_are_named_once() {
    let owned = |key: &str, minute: u32, email: Option<&str>, status: Status| Item {
        owner: true,
        email: email.map(Into::into),
        ..item(key, None, minute, status)
    };
    let items = || {
        vec![
            item("1", None, 0, Status::Published),
            owned("2", 1, Some("me@blog.example"), Status::Published),
            owned("3", 2, Some("Me@Blog.example "), Status::Published),
            owned("4", 3, Some("co@blog.example"), Status::Published),
            // Written with no address: nothing to key it by.
            owned("5", 4, None, Status::Published),
            // Not imported: neither a key nor a count.
            owned("6", 5, Some("spam@blog.example"), Status::Spam),
            owned("7", 6, Some("gone@blog.example"), Status::Published),
        ]
    };
    let secret = options().secret.unwrap();
    let first = plan(
        Kind::Wordpress,
        source(items()),
        &options(),
        &Existing::default(),
    );
    let keys =
        |emails: &[&str]| -> Vec<String> { emails.iter().map(|e| secret.avatar_key(e)).collect() };
    assert_eq!(
        first.owners,
        keys(&["me@blog.example", "co@blog.example", "gone@blog.example"])
    );
    assert_eq!(first.owners_without_key, 1);
    // Run again, with some imported and one erased by `cairn forget`: the imported
    // ones still count (the owner may not have listed them yet), the erased one not.
    let existing = Existing {
        origins: ["wordpress:2".to_string(), "wordpress:4".to_string()].into(),
        forgotten: [by_origin(&first, "wordpress:7").id].into(),
    };
    let again = plan(Kind::Wordpress, source(items()), &options(), &existing);
    assert_eq!(again.owners, keys(&["me@blog.example", "co@blog.example"]));
    // Without a secret there are no keys at all.
    let keyless = Options {
        secret: None,
        ..options()
    };
    let none = plan(
        Kind::Wordpress,
        source(items()),
        &keyless,
        &Existing::default(),
    );
    assert!(none.owners.is_empty());
    assert_eq!(none.owners_without_key, 5);
}

#[test]
fn a_missing_parent_makes_a_top_level_comment_with_a_note() {
    let plan = plan(
        Kind::Staticman,
        source(vec![item("2", Some("gone"), 1, Status::Published)]),
        &options(),
        &Existing::default(),
    );
    assert_eq!(plan.new[0].comment.parent, None);
    assert!(plan.adjusted[0]
        .message
        .contains("parent gone is not in the source"));
}

#[test]
fn comments_dated_past_year_9999_are_skipped_and_their_replies_kept_top_level() {
    let far = DateTime::from_timestamp(1_588_505_111_361, 0).unwrap(); // ms read as s
    let plan = plan(
        Kind::Staticman,
        source(vec![
            Item {
                date: far,
                ..item("1", None, 0, Status::Published)
            },
            item("2", Some("1"), 1, Status::Published),
            Item {
                date: far,
                ..item("3", None, 2, Status::Deleted)
            },
            item("4", Some("3"), 3, Status::Published),
        ]),
        &options(),
        &Existing::default(),
    );
    let planned: Vec<_> = plan
        .new
        .iter()
        .map(|p| p.comment.origin.as_deref())
        .collect();
    assert_eq!(planned, [Some("staticman:2"), Some("staticman:4")]);
    for new in &plan.new {
        assert_eq!(new.comment.parent, None, "{new:#?}");
        Comment::parse(&new.comment.to_yaml(), Format::Yaml).unwrap();
    }
    let skipped: Vec<&str> = plan.skipped.iter().map(|n| n.message.as_str()).collect();
    let why =
        "its date +52307-09-22T19:49:21Z is outside the years 0 to 9999 a comment file can hold";
    assert_eq!(skipped, [why, why]);
    let adjusted: Vec<&str> = plan.adjusted.iter().map(|n| n.message.as_str()).collect();
    assert_eq!(
        adjusted,
        [
            "its parent 1 is not imported; imported as a top-level comment",
            "its parent 3 is not imported; imported as a top-level comment"
        ]
    );
}

#[test]
fn thread_maps_move_prefixes_or_match_whole_paths() {
    let mut map = ThreadMap::default();
    map.add("/blog/=/posts/").unwrap();
    map.add("/?p=4=/2014/hello/").unwrap();
    let options = Options { map, ..options() };
    let thread = |raw: &str| thread_path(Some(raw), &options);
    assert_eq!(
        thread("https://old.example/blog/2019/a.html").unwrap(),
        "/posts/2019/a.html"
    );
    assert_eq!(thread("http://x.example/?p=4").unwrap(), "/2014/hello/");
    let unmapped = thread("http://x.example/?p=42").unwrap_err();
    assert!(unmapped.contains("--map"), "{unmapped}");
    assert_eq!(thread("/other").unwrap(), "/other/");
    assert!(ThreadMap::default().add("no-equals").is_err());
    assert!(ThreadMap::default().add("/a/=/../").is_err());
}

#[test]
fn thread_maps_match_old_paths_however_they_are_encoded() {
    let mut map = ThreadMap::default();
    map.add("/wiki/Talk:Rust/=/talk/rust/").unwrap();
    map.add("/caf%C3%A9/=/cafe/").unwrap();
    map.add("/why%3f.html=/why/").unwrap();
    map.add("/con=/against/").unwrap();
    let options = Options { map, ..options() };
    let thread = |raw: &str| thread_path(Some(raw), &options);
    // Threads keep `:` and `?` encoded, and a Windows device's first letter, and have
    // other escapes decoded.
    assert_eq!(
        thread("https://old.example/wiki/Talk:Rust/2019/").unwrap(),
        "/talk/rust/2019/"
    );
    assert_eq!(
        thread("https://old.example/wiki/Talk%3ARust/").unwrap(),
        "/talk/rust/"
    );
    assert_eq!(
        thread("https://old.example/caf%C3%A9/menu/").unwrap(),
        "/cafe/menu/"
    );
    assert_eq!(thread("/why%3F.html").unwrap(), "/why/");
    assert_eq!(thread("https://old.example/con").unwrap(), "/against/");
    // A rule without a final slash is for that one page.
    assert_eq!(thread("/con/more/").unwrap(), "/%63on/more/");
}

#[test]
fn links_lose_fragments_and_tracking_parameters_but_keep_other_queries() {
    let mut map = ThreadMap::default();
    map.add("/?p=4=/2014/hello/").unwrap();
    let options = Options { map, ..options() };
    let thread = |raw: &str| thread_path(Some(raw), &options);
    for (link, page) in [
        // As Disqus recorded them: the page as first loaded from a shared link.
        (
            "https://blog.example.org/posts/one/?utm_source=twitter&UTM_Medium=social#comments",
            "/posts/one/",
        ),
        (
            "http://blog.example.org/posts/one/#disqus_thread",
            "/posts/one/",
        ),
        ("/posts/two.html?fbclid=IwAR0x&", "/posts/two.html"),
        ("http://x.example/?utm_campaign=a&p=4", "/2014/hello/"),
        // A hashbang names the page its script showed; an empty one names none.
        ("https://blog.example.org/#!/posts/three/", "/posts/three/"),
        (
            "http://blog.example.org/app/?utm_source=x#!posts/four",
            "/app/posts/four/",
        ),
        ("/posts/five/#!", "/posts/five/"),
    ] {
        assert_eq!(thread(link).as_deref(), Ok(page), "{link}");
    }
    let paged = thread("https://blog.example.org/posts/two.html?page=2&gclid=x").unwrap_err();
    assert!(paged.contains("\"/posts/two.html?page=2\""), "{paged}");
    assert!(paged.contains("--map /posts/two.html?page=2="), "{paged}");
}

#[test]
fn urls_and_paths_lose_the_sites_base_path_and_folders_are_below_it() {
    let options = Options {
        base_path: "/blog/".into(),
        ..options()
    };
    assert_eq!(
        thread_path(Some("https://example.org/blog/a/"), &options).unwrap(),
        "/a/"
    );
    assert_eq!(
        thread_path(Some("https://example.org/other/"), &options).unwrap(),
        "/other/"
    );
    assert_eq!(
        thread_path(Some("https://example.org/blog"), &options).unwrap(),
        "/"
    );
    // Isso's `uri` is the page's path as the browser had it, base path included.
    assert_eq!(thread_path(Some("/blog/a/"), &options).unwrap(), "/a/");
    // A Staticman data folder names a page below the base, even one called `blog`.
    assert_eq!(thread_path(Some("blog/"), &options).unwrap(), "/blog/");
    assert_eq!(thread_path(Some("a/"), &options).unwrap(), "/a/");
}

#[test]
fn websites_are_made_absolute_or_dropped_with_a_note() {
    let mut notes = Vec::new();
    let mut note = |m: String| notes.push(m);
    assert_eq!(
        website(Some("ann.example"), &mut note).as_deref(),
        Some("http://ann.example")
    );
    assert_eq!(
        website(Some("https://b.example/x"), &mut note).as_deref(),
        Some("https://b.example/x")
    );
    assert_eq!(website(Some("javascript:alert(1)"), &mut note), None);
    assert_eq!(website(Some("  "), &mut note), None);
    // Only a scheme is no website, as an empty field is: WordPress kept the `http://` of
    // forms that offered it when the reader typed nothing after it.
    for blank in ["http://", "HTTPS://", " https:// ", "http:"] {
        assert_eq!(website(Some(blank), &mut note), None, "{blank}");
    }
    assert_eq!(
        notes,
        ["website \"javascript:alert(1)\" is not an http(s) URL; dropped"]
    );
}

#[test]
fn html_bodies_are_stored_as_markdown() {
    let mut html = item("1", None, 0, Status::Published);
    html.body = Body::Html("<p>Hello <strong>there</strong></p><script>x()</script>".into());
    let plan = plan(
        Kind::Disqus,
        source(vec![html]),
        &options(),
        &Existing::default(),
    );
    assert_eq!(plan.new[0].comment.body, "Hello **there**");
}

#[test]
fn empty_comments_and_duplicate_source_ids_are_reported() {
    let mut empty = item("1", None, 0, Status::Published);
    empty.body = Body::Markdown("  ".into());
    let plan = plan(
        Kind::Isso,
        source(vec![
            empty,
            item("2", None, 1, Status::Published),
            item("2", None, 2, Status::Published),
        ]),
        &options(),
        &Existing::default(),
    );
    assert_eq!(plan.new.len(), 1);
    let reasons: Vec<&str> = plan.skipped.iter().map(|n| n.message.as_str()).collect();
    assert_eq!(
        reasons,
        ["the comment is empty", "id 2 appears twice in the source"]
    );
}

#[test]
fn staticman_dates_come_in_every_common_shape() {
    let expect = Utc.with_ymd_and_hms(2020, 9, 30, 23, 7, 15).unwrap();
    for raw in [
        "1601507235",
        "1601507235000",
        "2020-09-30T23:07:15Z",
        "2020-09-30T16:07:15.0000000-07:00",
        "2020-09-30 23:07:15 +0000",
        "2020-09-30 23:07:15",
    ] {
        assert_eq!(parse_date(raw), Some(expect), "{raw}");
    }
    assert_eq!(
        parse_date("2020-09-30"),
        Some(Utc.with_ymd_and_hms(2020, 9, 30, 0, 0, 0).unwrap())
    );
    assert_eq!(parse_date("yesterday"), None);
}

/// The Staticman files under `dir`, read with the default fields.
fn read_staticman(dir: &Path) -> anyhow::Result<Source> {
    staticman::read(
        dir,
        &staticman::Fields::default(),
        staticman::BodyFormat::Auto,
    )
    .map(|(source, _)| source)
}

#[test]
fn staticman_files_saved_with_a_byte_order_mark_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("post-a");
    std::fs::create_dir(&page).unwrap();
    std::fs::write(
        page.join("1.yml"),
        "\u{feff}_id: one\nname: Ann\nmessage: Hello\ndate: 2020-09-30T23:07:15Z\n",
    )
    .unwrap();
    std::fs::write(
        page.join("2.json"),
        "\u{feff}{\"_id\": \"two\", \"name\": \"Bob\", \"message\": \"Hi\", \"date\": 1601507235}",
    )
    .unwrap();
    let source = read_staticman(dir.path()).unwrap();
    assert!(source.skipped.is_empty(), "{:?}", source.skipped);
    let keys: Vec<&str> = source.items.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(keys, ["one", "two"]);
}

/// A data file nested too deep for the YAML parser is skipped with the reason, at
/// once rather than after the seconds that parser would take; the rest import.
#[test]
fn a_staticman_file_nested_too_deep_is_skipped_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("1.yml"),
        "_id: one\nname: Ann\nmessage: Hello\ndate: 2020-09-30T23:07:15Z\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("2.yml"),
        format!("_id: two\nname: Bob\nmessage: {}\n", "{a: ".repeat(50_000)),
    )
    .unwrap();
    let source = read_staticman(dir.path()).unwrap();
    let keys: Vec<&str> = source.items.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(keys, ["one"]);
    assert_eq!(source.skipped.len(), 1, "{:?}", source.skipped);
    assert!(
        source.skipped[0].message.ends_with(
            "invalid YAML: flow collections (`[`, `{`) nested more than 128 deep at line 3"
        ),
        "{:?}",
        source.skipped
    );
}

#[test]
fn a_staticman_directory_without_a_comment_file_is_an_error_that_says_why() {
    let read = |dir: &Path| read_staticman(dir).map(|_| ()).unwrap_err().to_string();
    let dir = tempfile::tempdir().unwrap();
    assert!(read(dir.path()).ends_with("not a Staticman comments directory; it holds no files"));
    // The site's root, say: files, none of them a comment.
    std::fs::write(dir.path().join("_config.yml"), "title: My blog\n").unwrap();
    std::fs::write(dir.path().join("index.md"), "# Hello\n").unwrap();
    std::fs::create_dir(dir.path().join("_posts")).unwrap();
    std::fs::write(
        dir.path().join("_posts/2020-09-30-hi.md"),
        "---\ntitle: Hi\ndate: 2020-09-30\n---\nA post.\n",
    )
    .unwrap();
    let message = read(dir.path());
    assert!(message.contains("no comment files"), "{message}");
    assert!(message.contains("3 skipped, e.g.:"), "{message}");
    assert!(
        message.contains("\n  _config.yml: no date (looked for date)"),
        "{message}"
    );
    // A post has front matter with a date, as Staticman's Markdown comments do.
    assert!(
        message.contains(
            "\n  _posts/2020-09-30-hi.md: no id (looked for _id, id): a page, not a comment"
        ),
        "{message}"
    );
    assert!(
        message.contains("\n  index.md: no front matter"),
        "{message}"
    );
    // One comment among them is an import.
    std::fs::write(
        dir.path().join("c.yml"),
        "name: Ann\nmessage: Hi\ndate: 2020-09-30\n",
    )
    .unwrap();
    let source = read_staticman(dir.path()).unwrap();
    assert_eq!(source.items.len(), 1);
    assert_eq!(source.skipped.len(), 3);
}

#[test]
fn websites_holding_an_email_address_are_dropped_and_the_address_keys_the_avatar() {
    let linked = |key: &str, website: &str, email: Option<&str>| Item {
        author: Some("Ann".into()),
        website: Some(website.into()),
        email: email.map(Into::into),
        ..item(key, None, 0, Status::Published)
    };
    let plan = plan(
        Kind::Wordpress,
        source(vec![
            linked("1", "ann@example.org", None),
            linked("2", "mailto:bob@example.net", Some("bob@work.example")),
            linked("3", "http://cy@example.org/", None),
            linked("4", "https://medium.com/@dee", None),
            linked("5", "dee.example", None),
        ]),
        &options(),
        &Existing::default(),
    );
    assert_eq!(plan.new.len(), 5, "{plan:#?}");
    let secret = options().secret.unwrap();
    let got = with_avatars(&plan, ["1", "2", "3", "4", "5"], |c| &c.website);
    assert_eq!(
        got,
        [
            (None, Some(secret.avatar_key("ann@example.org"))),
            // The e-mail field, when there is one, stays the key.
            (None, Some(secret.avatar_key("bob@work.example"))),
            (None, Some(secret.avatar_key("cy@example.org"))),
            (Some("https://medium.com/@dee"), None),
            (Some("http://dee.example"), None),
        ]
    );
    for planned in &plan.new {
        let file = planned.comment.to_yaml();
        assert!(
            !file.contains("example.org") && !file.contains("example.net"),
            "{file}"
        );
    }
    let notes: Vec<String> = plan.adjusted.iter().map(ToString::to_string).collect();
    let dropped = "its website held an e-mail address, which is never published: dropped";
    assert_eq!(notes, [1, 2, 3].map(|n| format!("comment {n}: {dropped}")));
}

#[test]
fn exports_are_read_gzipped_or_not_without_a_byte_order_mark() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let text = "\u{feff}{\"version\": 1}\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    for (name, bytes) in [
        ("plain.json", text.as_bytes().to_vec()),
        ("packed.json.gz", gz.finish().unwrap()),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(text_of(&path).unwrap(), "{\"version\": 1}\n", "{name}");
    }
}

#[test]
fn isso_rows_holding_values_of_other_types_are_skipped_or_read_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("comments.db");
    let db = rusqlite::Connection::open(&path).unwrap();
    // Isso's schema; SQLite keeps any value in any column.
    db.execute_batch(
        "CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
         CREATE TABLE comments (tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,
             created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR,
             text VARCHAR, author VARCHAR, email VARCHAR, website VARCHAR,
             likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL,
             notification INTEGER DEFAULT 0);
         INSERT INTO threads VALUES (1, '/posts/a/', 'A');
         INSERT INTO comments VALUES (1, 1, NULL, 1600000000.5, NULL, 1, '', 'good', 'Ann', NULL, NULL, 0, 0, x'', 0);
         INSERT INTO comments VALUES (1, 2, 1, '2020-09-13 12:00', NULL, 1, '', 'text date', 'Bob', NULL, NULL, 0, 0, x'', 0);
         INSERT INTO comments VALUES (1, 3, NULL, 1600000100, NULL, NULL, '', 'no mode', 'Cy', NULL, NULL, 0, 0, x'', 0);
         INSERT INTO comments VALUES (1, 4, 'x', '1600000200', NULL, 1, '', 'text parent', 'Di', NULL, NULL, 0, 0, x'', 0);
         INSERT INTO comments VALUES (1, 5, 1, 1600000300, NULL, 1, '', x'41ff42', 42, NULL, NULL, 0, 0, x'', 0);",
    )
    .unwrap();
    drop(db);

    let source = super::isso::read(&path).unwrap();
    let read: Vec<(&str, Option<&str>, String)> = source
        .items
        .iter()
        .map(|i| (i.key.as_str(), i.parent.as_deref(), i.body.to_markdown()))
        .collect();
    assert_eq!(
        read,
        [
            ("1", None, "good".to_string()),
            ("4", Some("x"), "text parent".to_string()),
            ("5", Some("1"), "A\u{FFFD}B".to_string()),
        ]
    );
    assert_eq!(source.items[1].date.timestamp(), 1_600_000_200);
    assert_eq!(source.items[2].author.as_deref(), Some("42"));
    let notes = |notes: &[Note]| notes.iter().map(ToString::to_string).collect::<Vec<_>>();
    assert_eq!(
        notes(&source.skipped),
        [
            "comment 2: its creation time \"2020-09-13 12:00\" is not a date",
            "comment 3: unknown Isso mode NULL"
        ]
    );
    assert_eq!(
        notes(&source.adjusted),
        ["comment 5: its text is not UTF-8 text: read with U+FFFD in place of the bytes that are not"]
    );
}

/// Raw HTML shows as typed when Isso 0.14 or later (mistune) last opened the database,
/// and as HTML (sanitized at render) when an earlier one (misaka) did.
#[test]
fn isso_bodies_are_taken_as_the_isso_that_kept_them_showed_them() {
    let dir = tempfile::tempdir().unwrap();
    for (version, body) in [
        (3, "Use <b>b</b> &amp; 2^10^"),
        (5, "Use \\<b\\>b\\<\\/b\\> \\&amp; 2<sup>10</sup>"),
    ] {
        let path = dir.path().join(format!("comments-{version}.db"));
        let db = rusqlite::Connection::open(&path).unwrap();
        db.execute_batch(&format!(
            "PRAGMA user_version = {version};
             CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
             CREATE TABLE comments (tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,
                 created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR,
                 text VARCHAR, author VARCHAR, email VARCHAR, website VARCHAR);
             INSERT INTO threads VALUES (1, '/posts/a/', 'A');
             INSERT INTO comments VALUES (1, 1, NULL, 1600000000, NULL, 1, '', 'Use <b>b</b> &amp; 2^10^', 'Ann', NULL, NULL);"
        ))
        .unwrap();
        drop(db);
        let source = super::isso::read(&path).unwrap();
        assert_eq!(
            source.items[0].body.to_markdown(),
            body,
            "version {version}"
        );
    }
}

#[test]
fn an_xml_export_cut_short_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.xml");
    let export = r#"<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
  <thread dsq:id="1"><link>https://blog.example.org/posts/a/</link></thread>
  <post dsq:id="2"><message><![CDATA[<p>First</p>]]></message><createdAt>2020-01-01T00:00:00Z</createdAt>
    <isDeleted>false</isDeleted><isSpam>false</isSpam><author><name>Ann</name></author><thread dsq:id="1"/></post>
  <post dsq:id="3"><message><![CDATA[<p>Second</p>]]></message><createdAt>2020-01-02T00:00:00Z</createdAt>
    <isDeleted>false</isDeleted><isSpam>false</isSpam><author><name>Bob</name></author><thread dsq:id="1"/></post>
</disqus>
"#;
    std::fs::write(&path, export).unwrap();
    assert_eq!(super::disqus::read(&path).unwrap().items.len(), 2);
    let end = export.find("</disqus>").unwrap() + "</disqus>".len();
    // The whole first post and part of the second, as an interrupted download leaves it.
    let cut = export.find("<createdAt>2020-01-02").unwrap();
    std::fs::write(&path, &export[..cut]).unwrap();
    let err = format!("{:#}", super::disqus::read(&path).unwrap_err());
    assert!(
        err.contains(&format!(
            "not a well-formed XML export: the file ends at byte {cut} with 2 elements still \
             open: it was cut short"
        )),
        "{err}"
    );
    for cut in (0..end).filter(|&at| export.is_char_boundary(at)) {
        std::fs::write(&path, &export[..cut]).unwrap();
        assert!(super::disqus::read(&path).is_err(), "{cut} bytes read");
    }
}

#[test]
fn a_star_in_a_thread_map_stands_for_any_part_of_the_path() {
    let mut map = ThreadMap::default();
    // Blogger's post addresses, on a site that serves each post as a folder.
    map.add("/*.html=/*/").unwrap();
    map.add("/caf%C3%A9/*=/cafe/*").unwrap();
    map.add("/tag/*/=/tags/").unwrap();
    map.add("/2011/10/kept.html=/kept/").unwrap();
    map.add("/v*/=/version-*/").unwrap();
    let options = Options { map, ..options() };
    let thread = |raw: &str| thread_path(Some(raw), &options).unwrap();
    assert_eq!(
        thread("http://ann.blogspot.com/2011/10/nach-suzhou.html"),
        "/2011/10/nach-suzhou/"
    );
    assert_eq!(thread("/p/about.html"), "/p/about/");
    // Matched as a thread writes it, and the longer rule wins.
    assert_eq!(thread("/caf%C3%A9/menu/"), "/cafe/menu/");
    assert_eq!(thread("/café/menu.html"), "/cafe/menu.html");
    assert_eq!(thread("/2011/10/kept.html"), "/kept/");
    // No `*` on the new side: every match goes to the one path.
    assert_eq!(thread("/tag/rust/"), "/tags/");
    assert_eq!(thread("/v2/"), "/version-2/");
    // `*` stands for something: a path that is all the rest stays.
    assert_eq!(thread("/v/"), "/v/");
    assert_eq!(thread("/posts/a/"), "/posts/a/");
    for (rule, expected) in [
        ("/*/*.html=/*/", "one `*` on a side at most"),
        ("/old/=/new/*/", "has none"),
        ("/*.html=/../*/", "--map \"/*.html=/../*/\""),
    ] {
        let err = ThreadMap::default().add(rule).unwrap_err().to_string();
        assert!(err.contains(expected), "{rule}: {err}");
    }
}
