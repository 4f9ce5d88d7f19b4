use super::*;
use crate::store::Store;
use std::path::Path;

fn example() -> (Config, Store) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("example-site");
    let config = Config::from_file(&root.join("cairn.toml")).unwrap();
    let store = Store::load(&config.comments_dir(), &config.form).unwrap();
    assert!(store.problems.is_empty(), "{:?}", store.problems);
    (config, store)
}

#[test]
fn example_thread_section_snapshot() {
    let (config, store) = example();
    let renderer = Renderer::new(&config).unwrap();
    let thread = "/posts/markdown-in-comments/";
    let section = renderer
        .section(
            thread,
            store.threads.get(thread),
            Some("https://blog.example.org/posts/markdown-in-comments/comments.xml"),
        )
        .unwrap();
    insta::assert_snapshot!(section.html);
}

#[test]
fn the_site_owners_comments_are_marked_by_their_avatar_key() {
    let (mut config, store) = example();
    let thread = "/posts/hello-world/";
    // Each comment's own markup (up to the next comment's): whether it is marked, by
    // whom, and its badge.
    let marked = |config: &Config| {
        let html = Renderer::new(config)
            .unwrap()
            .section(thread, store.threads.get(thread), None)
            .unwrap()
            .html;
        let mut marked = Vec::new();
        let mut badges = 0;
        for li in html.split("<li class=\"cairn-comment").skip(1) {
            let badge = li
                .split_once("<span class=\"cairn-badge\">")
                .map(|(_, rest)| rest.split('<').next().unwrap().to_string());
            badges += usize::from(badge.is_some());
            if li.starts_with(" cairn-owner\"") {
                let author = li.split_once("class=\"cairn-author\"").unwrap().1;
                let by = author.split_once('>').unwrap().1.split('<').next().unwrap();
                marked.push((by.to_string(), badge.unwrap_or_default()));
            }
        }
        (marked, badges)
    };
    // Blogger's key is in the example's comments.owners; Ann's and Grace's are not.
    let (owned, badges) = marked(&config);
    assert_eq!(
        owned,
        [("Blogger", "Author"), ("Blogger", "Author")].map(|(a, b)| (a.into(), b.into()))
    );
    assert_eq!(badges, 2, "only the owner's comments have a badge");
    config.site.language = "de".into();
    assert_eq!(marked(&config).0[0].1, "Autor");
    // A name alone marks nothing: anyone may type it.
    config.comments.owners.clear();
    assert_eq!(marked(&config), (Vec::new(), 0));
}

#[test]
fn empty_thread_has_form_and_invitation() {
    let (config, _) = example();
    let renderer = Renderer::new(&config).unwrap();
    let html = renderer
        .section("/posts/a-quiet-post/", None, None)
        .unwrap()
        .html;
    insta::assert_snapshot!(html);
}

#[test]
fn the_form_says_whether_comments_are_reviewed_first() {
    let (mut config, _) = example();
    let note = |config: &Config| {
        let html = Renderer::new(config)
            .unwrap()
            .section("/posts/a-quiet-post/", None, None)
            .unwrap()
            .html;
        let at = html.find("<p class=\"cairn-note\">").expect(&html);
        html[at..].lines().next().unwrap().to_string()
    };
    assert_eq!(
        note(&config),
        "<p class=\"cairn-note\">Comments are reviewed before they appear.</p>"
    );
    config.inbox.delivery.mode = crate::config::Mode::Direct;
    assert_eq!(
        note(&config),
        "<p class=\"cairn-note\">Comments appear once the site is next built.</p>"
    );
    config.site.language = "de".into();
    assert_eq!(
        note(&config),
        "<p class=\"cairn-note\">Kommentare erscheinen, sobald die Seite das nächste Mal erstellt wird.</p>"
    );
}

#[test]
fn a_closed_thread_shows_its_comments_without_form_or_reply_links() {
    let (mut config, store) = example();
    let thread = "/posts/markdown-in-comments/";
    let open = Renderer::new(&config)
        .unwrap()
        .section(thread, store.threads.get(thread), None)
        .unwrap()
        .html;
    assert!(open.contains("<form") && open.contains("class=\"cairn-reply\""));
    config.comments.closed = vec!["/posts/*".into()];
    let renderer = Renderer::new(&config).unwrap();
    let closed = renderer
        .section(thread, store.threads.get(thread), None)
        .unwrap()
        .html;
    let comments = |html: &str| html.matches("<li class=\"cairn-comment\"").count();
    assert_eq!(comments(&closed), comments(&open));
    assert!(comments(&closed) > 0);
    assert!(closed.contains("<p class=\"cairn-closed\">Comments are closed.</p>"));
    for gone in ["<form", "cairn-reply", "cairn-form-title"] {
        assert!(!closed.contains(gone), "{gone} in {closed}");
    }
    // No invitation to be the first where no one can be.
    let empty = renderer
        .section("/posts/a-quiet-post/", None, None)
        .unwrap()
        .html;
    assert!(
        empty.contains("cairn-closed") && !empty.contains("cairn-empty"),
        "{empty}"
    );
    // Threads outside the list keep their form.
    let other = renderer.section("/about/", None, None).unwrap().html;
    assert!(other.contains("<form") && !other.contains("cairn-closed"));
}

/// Links made on the old site to an imported comment (`#comment-7` on WordPress and
/// Disqus, `#c5678` on Blogger) still find it; an anchor two sources share is given
/// once, and an id that would not make a plain anchor makes none.
#[test]
fn imported_comments_keep_the_anchor_they_had_on_the_old_site() {
    let (config, mut store) = example();
    let renderer = Renderer::new(&config).unwrap();
    let t = store.threads.get_mut("/posts/hello-world/").unwrap();
    assert!(t.comments.len() >= 5);
    let origins = [
        "wordpress:7",
        "disqus:7",
        "blogger:5678",
        "isso:1\"><b>x</b>",
        "staticman:abc",
    ];
    for (c, origin) in t.comments.iter_mut().zip(origins) {
        c.origin = Some(origin.into());
    }
    let html = renderer
        .section("/posts/hello-world/", Some(t), None)
        .unwrap()
        .html;
    let ids = |html: &str| -> Vec<String> {
        html.match_indices("<span class=\"cairn-former\" id=\"")
            .map(|(at, m)| html[at + m.len()..].split('"').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&html), ["comment-7", "c5678"], "{html}");
    let first = format!("<li class=\"cairn-comment\" id=\"c-{}\"><span class=\"cairn-former\" id=\"comment-7\"></span>", t.comments[0].id);
    assert!(html.contains(&first), "{html}");
    assert!(!html.contains("<b>x</b>"), "{html}");
}

#[test]
fn replies_nest_down_to_max_depth_then_say_whom_they_answer() {
    let (mut config, store) = example();
    config.comments.max_depth = 2;
    let renderer = Renderer::new(&config).unwrap();
    let t = store.threads.get("/posts/hello-world/").unwrap();
    let html = renderer
        .section("/posts/hello-world/", Some(t), None)
        .unwrap()
        .html;
    // Ann → Blogger (depth 2) → Ann (3, flattened) → Blogger (4, flattened)
    assert_eq!(
        html.matches("<ol class=\"cairn-replies\">").count(),
        1,
        "{html}"
    );
    assert_eq!(html.matches("class=\"cairn-parent\"").count(), 2, "{html}");
    assert!(html.contains(">in reply to Blogger</a>"));
    assert_eq!(html.matches("<li ").count(), html.matches("</li>").count());
}

#[test]
fn dates_are_shown_in_the_sites_time_zone_and_stay_utc_for_machines() {
    let (mut config, store) = example();
    let t = store.threads.get("/posts/hello-world/").unwrap();
    let section = |config: &Config| {
        let renderer = Renderer::new(config).unwrap();
        renderer
            .section("/posts/hello-world/", Some(t), None)
            .unwrap()
            .html
    };
    // 12:02 UTC on November 1 is past midnight in Auckland (UTC+13 in its summer).
    config.site.timezone = crate::config::TimeZone(chrono_tz::Pacific::Auckland);
    let html = section(&config);
    assert!(
        html.contains("<time datetime=\"2026-11-01T12:02:30Z\">November 2, 2026</time>"),
        "{html}"
    );
    // Daylight saving time in Los Angeles ended at 09:00 UTC that day.
    config.site.timezone = crate::config::TimeZone(chrono_tz::America::Los_Angeles);
    config.comments.date_format = Some("%Y-%m-%d %H:%M %Z".into());
    let html = section(&config);
    for shown in [
        "<time datetime=\"2026-11-01T10:12:00Z\">2026-11-01 02:12 PST</time>",
        "<time datetime=\"2026-11-02T08:30:00Z\">2026-11-02 00:30 PST</time>",
    ] {
        assert!(html.contains(shown), "{shown} in {html}");
    }
    config.site.timezone = crate::config::TimeZone::default();
    assert!(section(&config).contains(">2026-11-02 08:30 UTC</time>"));
}

#[test]
fn newest_first_reverses_top_level_only() {
    let (mut config, store) = example();
    config.comments.sort = Sort::Newest;
    let renderer = Renderer::new(&config).unwrap();
    let t = store.threads.get("/posts/markdown-in-comments/").unwrap();
    let html = renderer
        .section("/posts/markdown-in-comments/", Some(t), None)
        .unwrap()
        .html;
    let ada = html.find("Ada").unwrap();
    let grace = html.find("Grace").unwrap();
    let linus = html.find("Linus").unwrap();
    assert!(
        ada < grace && grace < linus,
        "top level newest first, replies after their parent"
    );
}

#[test]
fn site_templates_override_builtin_ones() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default_for_test(dir.path());
    std::fs::create_dir_all(config.templates_dir()).unwrap();
    // Saved with a byte order mark, which stays out of the page.
    std::fs::write(
        config.templates_dir().join("comments.html"),
        "\u{feff}<p>{{ title }} in {{ thread }} {{ s.reply }}</p>",
    )
    .unwrap();
    std::fs::write(config.templates_dir().join("cairn.css"), ".cairn{}").unwrap();
    config.site.language = "de".into();
    let renderer = Renderer::new(&config).unwrap();
    assert_eq!(
        renderer.section("/a/", None, None).unwrap().html,
        "<p>Noch keine Kommentare in /a/ Antworten</p>"
    );
    assert_eq!(renderer.asset("cairn.css").unwrap(), ".cairn{}");
    assert!(renderer.asset("cairn.js").unwrap().contains("localStorage"));
}

#[test]
fn the_inbox_frame_once_overridden_holds_every_inbox_page() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::default_for_test(dir.path());
    std::fs::create_dir_all(config.templates_dir()).unwrap();
    std::fs::write(
        config.templates_dir().join("inbox.html"),
        "<header>My blog</header><h1>{{ title }}</h1>{% block content %}{% endblock %}",
    )
    .unwrap();
    let renderer = Renderer::new(&config).unwrap();
    let comment: Comment = Comment::parse(
        "id: 01HQ3Z6V1X5E7Y4AYS8JK9W2MP\nthread: /a/\ndate: 2024-01-01T00:00:00Z\nbody: Hi\n",
        crate::comment::Format::Yaml,
    )
    .unwrap();
    let pages = [
        renderer
            .confirmation_page(&comment, "https://x.example/a/", "https://i.example/own")
            .unwrap(),
        renderer
            .reply_page(
                "/a/",
                &comment.id.to_string(),
                Some("<Ann>"),
                "https://x.example/a/",
            )
            .unwrap(),
        renderer
            .notice_page(&Notice {
                title: "Done",
                text: Some("All <done>."),
                ..Default::default()
            })
            .unwrap(),
    ];
    for page in &pages {
        assert!(page.starts_with("<header>My blog</header><h1>"), "{page}");
    }
    assert!(
        pages[0].contains("id=\"c-01HQ3Z6V1X5E7Y4AYS8JK9W2MP\""),
        "{}",
        pages[0]
    );
    assert!(
        pages[1].contains("name=\"parent\" value=\"01HQ3Z6V1X5E7Y4AYS8JK9W2MP\""),
        "{}",
        pages[1]
    );
    assert!(
        pages[1].contains("<h1>Reply to &lt;Ann&gt;</h1>"),
        "{}",
        pages[1]
    );
    assert!(
        pages[2].contains("<p class=\"cairn-note\" role=\"status\">All &lt;done&gt;.</p>"),
        "{}",
        pages[2]
    );
}

#[test]
fn broken_override_names_the_template() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::default_for_test(dir.path());
    std::fs::create_dir_all(config.templates_dir()).unwrap();
    std::fs::write(config.templates_dir().join("comment.html"), "{% if %}").unwrap();
    let err = format!("{:#}", Renderer::new(&config).err().unwrap());
    assert!(err.contains("comment.html"), "{err}");
}

#[test]
fn an_override_that_prints_a_name_that_is_not_there_fails_before_any_page() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::default_for_test(dir.path());
    std::fs::create_dir_all(config.templates_dir()).unwrap();
    // Copies of every built-in template, as a site starts its own: they all render.
    for (name, text) in TEMPLATES {
        std::fs::write(config.templates_dir().join(name), text).unwrap();
    }
    Renderer::new(&config).unwrap();
    // A misspelt name, in a branch only comments with a website take.
    let typo = TEMPLATES
        .iter()
        .find(|(name, _)| *name == "comment.html")
        .unwrap()
        .1
        .replacen("{{ c.author }}</a>", "{{ c.autor }}</a>", 1);
    assert!(typo.contains("c.autor"));
    std::fs::write(config.templates_dir().join("comment.html"), &typo).unwrap();
    let err = format!("{:#}", Renderer::new(&config).err().unwrap());
    assert!(err.contains("does not render"), "{err}");
    assert!(
        err.contains("template comment.html: undefined value (in comment.html:"),
        "{err}"
    );
    // Asking whether a value is there is how templates test for one.
    std::fs::write(
        config.templates_dir().join("comment.html"),
        "<li>{% if c.nickname %}{{ c.nickname }}{% else %}{{ c.author }}{% endif %}</li>",
    )
    .unwrap();
    Renderer::new(&config).unwrap();
    // A branch only the site's own people's comments take is tried where it names any.
    std::fs::write(
        config.templates_dir().join("comment.html"),
        "<li>{{ c.author }}{% if c.owner %} ({{ s.onwer }}){% endif %}</li>",
    )
    .unwrap();
    Renderer::new(&config).unwrap();
    let mut owned = config.clone();
    owned.comments.owners = vec!["9f2c4e1a77b0c3d2".into()];
    let err = format!("{:#}", Renderer::new(&owned).err().unwrap());
    assert!(
        err.contains("template comment.html: undefined value (in comment.html:1)"),
        "{err}"
    );
    // The inbox's pages are tried too.
    std::fs::remove_file(config.templates_dir().join("comment.html")).unwrap();
    std::fs::write(
        config.templates_dir().join("notice.html"),
        "<p>{{ txt }}</p>",
    )
    .unwrap();
    let err = format!("{:#}", Renderer::new(&config).err().unwrap());
    assert!(
        err.contains("template notice.html: undefined value"),
        "{err}"
    );
}

#[test]
fn escaping_keeps_urls_readable_and_markup_inert() {
    assert_eq!(
        escape_html("<a href=\"/x/\">'&'</a>"),
        "&lt;a href=&quot;/x/&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
    );
}

/// One generated comment: author, website, avatar, body, and which earlier comment
/// (by position) it answers.
type ArbComment = (
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<prop::sample::Index>,
);

fn arb_comment() -> impl Strategy<Value = ArbComment> {
    (
        proptest::option::of("[A-Za-z<>&\"' {}é]{1,12}"),
        proptest::option::of("https://[a-z]{1,8}\\.example/[a-z&<\"']{0,6}"),
        proptest::option::of("[0-9a-f]{16}"),
        "[a-z*`<>&\\[\\]()\n#>-]{1,60}",
        proptest::option::of(any::<prop::sample::Index>()),
    )
}

/// A thread of generated comments, a minute apart, replies after what they answer,
/// imported from a source whose pages had anchors (two with the same one, after a
/// dozen) or from one without.
fn thread_of(thread: &str, arb: &[ArbComment]) -> Thread {
    let start = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let mut t = Thread::default();
    for (i, (author, website, avatar, body, parent)) in arb.iter().enumerate() {
        let date = start + chrono::Duration::minutes(i as i64);
        let parent = parent.as_ref().filter(|_| i > 0).map(|p| p.index(i));
        t.comments.push(Comment {
            id: ulid::Ulid::from_parts(date.timestamp_millis() as u64, i as u128),
            thread: thread.to_string(),
            parent: parent.map(|p| t.comments[p].id),
            date,
            author: author.clone(),
            website: website.clone(),
            avatar: avatar.clone(),
            origin: Some(format!(
                "{}:{}",
                ["wordpress", "blogger", "staticman"][i % 3],
                i % 4
            )),
            body: body.clone(),
        });
        t.parents.push(parent);
    }
    t
}

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The stencils stand in for the built-in templates: what they write is what
    /// running the templates for every comment writes.
    #[test]
    fn stencils_write_what_the_templates_do(
        comments in proptest::collection::vec(arb_comment(), 0..14),
        max_depth in 1usize..6,
        newest in any::<bool>(),
        language in prop::sample::select(i18n::LANGUAGES.to_vec()),
        page_language in proptest::option::of(prop::sample::select(i18n::LANGUAGES.to_vec())),
        required in proptest::sample::subsequence(FORM_FIELDS.to_vec(), 0..=4),
        feed in proptest::option::of("https://blog.example.org/[a-z<&\"]{0,8}/comments.xml"),
        thread in "/[a-z&<\"' ]{1,10}/",
        closed in any::<bool>(),
        owners in any::<u16>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::default_for_test(dir.path());
        config.comments.max_depth = max_depth;
        // Some of the comments' avatar keys are the site's own people's.
        config.comments.owners = comments
            .iter()
            .enumerate()
            .filter(|(i, _)| owners & (1 << i) != 0)
            .filter_map(|(_, c)| c.2.clone())
            .collect();
        config.comments.sort = if newest { Sort::Newest } else { Sort::Oldest };
        config.site.language = language.to_string();
        config.form.required = required.iter().map(|f| f.to_string()).collect();
        // The site's renderer, or a page's in its own language (`data-cairn-lang`).
        let languages = Languages::new(&config).unwrap();
        let renderer = match page_language {
            Some(tag) => languages.get(tag).unwrap(),
            None => languages.site(),
        };
        let t = thread_of(&thread, &comments);
        let bodies: Vec<String> = t.comments.iter().map(|c| markdown::to_html(&c.body)).collect();
        let views = renderer.tree(&thread, &t, &bodies);
        let title = renderer.strings.count("title", views.len());
        let stencils = renderer.stencils().expect("the built-in templates are cut into stencils");
        let by_templates = renderer
            .section_by_templates(&thread, &views, &title, feed.as_deref(), closed)
            .unwrap();
        prop_assert_eq!(
            stencils.section(&thread, &views, &title, feed.as_deref(), closed),
            by_templates
        );
    }
}

#[test]
fn overridden_section_templates_run_for_every_comment() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::default_for_test(dir.path());
    std::fs::create_dir_all(config.templates_dir()).unwrap();
    std::fs::write(
        config.templates_dir().join("comment.html"),
        "<li>{{ c.author | upper }}{% if c.author == \"Ann\" %}!{% endif %}</li>",
    )
    .unwrap();
    let renderer = Renderer::new(&config).unwrap();
    assert!(renderer.stencils().is_none());
    let t = thread_of(
        "/a/",
        &[
            (Some("Ann".into()), None, None, "hi".into(), None),
            (Some("Bob".into()), None, None, "yo".into(), None),
        ],
    );
    let html = renderer.section("/a/", Some(&t), None).unwrap().html;
    assert!(html.contains("<li>ANN!</li><li>BOB</li>"), "{html}");
}

proptest! {
    /// Escaping finds every byte that needs it, however the text is made.
    #[test]
    fn escaping_matches_a_character_by_character_escape(text in "[a-z<>&\"' \u{a0}é\n]{0,80}") {
        let naive: String = text
            .chars()
            .map(|c| match c {
                '&' => "&amp;".to_string(),
                '<' => "&lt;".to_string(),
                '>' => "&gt;".to_string(),
                '"' => "&quot;".to_string(),
                '\'' => "&#39;".to_string(),
                c => c.to_string(),
            })
            .collect();
        prop_assert_eq!(escape_html(&text), naive);
    }
}

/// Every colour the stylesheet mixes has a plain one for browsers without
/// `color-mix()`, or their sections would lose their borders and cards.
#[test]
fn every_mixed_colour_has_a_fallback() {
    let css = include_str!("../../templates/cairn.css");
    let (_, fallback) = css
        .split_once("@supports not (color: color-mix(")
        .expect("a block for browsers without color-mix()");
    let fallback = &fallback[..fallback.find("\n}\n").expect("the block's end")];
    let mixed: Vec<&str> = css
        .lines()
        .filter(|l| l.trim_start().starts_with("--") && l.contains("color-mix("))
        .map(|l| l.trim().split(':').next().unwrap())
        .collect();
    assert!(mixed.len() >= 5, "{mixed:?}");
    for property in mixed {
        let plain = fallback
            .lines()
            .find(|l| l.trim().starts_with(&format!("{property}:")))
            .unwrap_or_else(|| panic!("no fallback for {property}"));
        assert!(!plain.contains("color-mix("), "{plain}");
    }
}
