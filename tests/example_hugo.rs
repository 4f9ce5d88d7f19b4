//! The example site, and a site in three languages (tests/fixtures/hugo-multilingual), built
//! by the real Hugo, then rendered by the real `cairn` binary.

mod common;

use common::*;

#[test]
fn hugo_build_then_render_shows_every_comment_safely() {
    let Some(hugo) = tool("hugo") else { return };
    let site = example_site();
    let status = std::process::Command::new(hugo)
        .args(["--quiet", "-d", "public"])
        .current_dir(site.path())
        .status()
        .unwrap();
    assert!(status.success(), "hugo build failed");
    let public = site.path().join("public");

    // The committed prebuilt copy (used by the README's first command) must be what
    // Hugo makes of the example's sources today.
    assert_eq!(
        snapshot_tree(&public),
        snapshot_tree(&root().join("example-site/prebuilt")),
        "example-site/prebuilt is stale: rebuild it with `hugo -d prebuilt` in example-site/"
    );

    let out = cairn(site.path(), &["render"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = stdout(&out);
    assert!(
        summary.contains("10 comments rendered on 3 pages"),
        "{summary}"
    );
    assert!(summary.contains("0 problems"), "{summary}");

    // Nesting: Ann → Blogger → Ann → Blogger, four levels with max_depth 3.
    let hello = std::fs::read_to_string(public.join("posts/hello-world/index.html")).unwrap();
    let section = &hello[hello.find("<div id=\"cairn-comments\">").unwrap()..];
    assert!(section.contains("<h2 class=\"cairn-title\" id=\"cairn-title\">6 comments</h2>"));
    assert_eq!(section.matches("<ol class=\"cairn-replies\">").count(), 2);
    let ann = section.find("Congratulations on the new blog").unwrap();
    let blogger = section.find("Thank you, Ann!").unwrap();
    let nested = section[ann..blogger].contains("<ol class=\"cairn-replies\">");
    assert!(nested, "Blogger's reply is nested under Ann's comment");
    // Blogger is the site's own (comments.owners): both replies are marked, no one else's.
    assert_eq!(
        section
            .matches("<li class=\"cairn-comment cairn-owner\"")
            .count(),
        2
    );
    assert_eq!(
        section
            .matches(">Blogger</bdi> <span class=\"cairn-badge\">Author</span>")
            .count(),
        2
    );
    assert_eq!(section.matches("cairn-badge").count(), 2);
    assert!(
        section.contains("<a class=\"cairn-parent\""),
        "the fourth level says whom it answers"
    );
    assert!(
        section.contains("id=\"c-01M6B9GDC06C8JXRAEWHMW7TTJ\""),
        "permalink anchors"
    );
    assert!(section.contains("<form class=\"cairn-form\" id=\"cairn-form\" method=\"post\" action=\"https://comments.example.org/v1/comments\""));
    assert_eq!(section.matches("<form").count(), 1, "one form per page");
    assert!(
        section.contains(
            "href=\"https://comments.example.org/v1/reply?thread=%2Fposts%2Fhello-world%2F&amp;parent=01M6B9GDC06C8JXRAEWHMW7TTJ&amp;to=Ann\""
        ),
        "a reply link for a comment"
    );
    assert!(
        section.contains("Anonymous"),
        "the TOML comment without an author"
    );

    // The hostile comment is shown, but inert.
    let hostile = &section[section.find("Nice post!").unwrap()..];
    let hostile = &hostile[..hostile.find("</article>").unwrap()].to_lowercase();
    for bad in [
        "<script",
        "javascript:",
        "onerror",
        "onclick",
        "onmouseover",
        "<iframe",
        "<img",
        "style=",
    ] {
        assert!(
            !hostile.contains(bad),
            "hostile markup survived: {bad} in {hostile}"
        );
    }
    assert!(
        hostile.contains("totally safe link"),
        "text of a stripped tag is kept"
    );

    // Head links for the stylesheet, script and feed.
    assert!(hello.contains("<link rel=\"stylesheet\" href=\"../../cairn.css\" data-cairn>"));
    assert!(hello.contains("<link rel=\"alternate\" type=\"application/atom+xml\" title=\"Comments on Hello, world\" href=\"https://blog.example.org/posts/hello-world/comments.xml\" data-cairn>"));
    let css = std::fs::read_to_string(public.join("cairn.css")).unwrap();
    assert!(
        css.contains("--cairn-card: color-mix(in srgb, currentColor")
            && css.contains("--cairn-accent")
    );
    assert!(public.join("cairn.js").is_file());

    // Counts on the index.
    let index = std::fs::read_to_string(public.join("index.html")).unwrap();
    assert!(
        index.contains("<span data-cairn-count=\"/posts/hello-world/\">6 comments</span>"),
        "{index}"
    );
    assert!(
        index.contains("<span data-cairn-count=\"/posts/markdown-in-comments/\">4 comments</span>")
    );
    assert!(index.contains("<span data-cairn-count=\"/posts/a-quiet-post/\">No comments</span>"));
    // The five newest comments of the site, newest first, each linked on its page.
    let recent = &index[index.find("<ul class=\"cairn-recent\"").expect(&index)..];
    let recent = &recent[..recent.find("</ul>").unwrap()];
    assert_eq!(recent.matches("<li>").count(), 5, "{recent}");
    let first = recent
        .find("<a href=\"/posts/markdown-in-comments/#c-01M73EE9R04EBA29BARJRWD14W\">Ada on ");
    let last = recent.find("<a href=\"/posts/hello-world/#c-01M6H87AB0Z8VXX7D4P4XKM648\">Anonymous on Hello, world</a>");
    assert!(
        first.is_some() && last.is_some() && first < last,
        "{recent}"
    );

    // Feeds are well-formed Atom with the right entries.
    let site_feed = std::fs::read_to_string(public.join("comments.xml")).unwrap();
    let names = parse_xml(&site_feed);
    assert_eq!(names.iter().filter(|n| *n == "entry").count(), 10);
    assert!(site_feed.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">"));
    assert!(
        site_feed.contains("<title>Ada on Markdown in comments</title>"),
        "{site_feed}"
    );
    let thread_feed =
        std::fs::read_to_string(public.join("posts/hello-world/comments.xml")).unwrap();
    assert_eq!(
        parse_xml(&thread_feed)
            .iter()
            .filter(|n| *n == "entry")
            .count(),
        6
    );
    let lower = thread_feed.to_lowercase();
    assert!(
        !lower.contains("<script")
            && !lower.contains("&lt;script")
            && !lower.contains("onerror")
            && !lower.contains("javascript:"),
        "feed content is sanitized too"
    );
    let quiet_feed =
        std::fs::read_to_string(public.join("posts/a-quiet-post/comments.xml")).unwrap();
    assert_eq!(
        parse_xml(&quiet_feed)
            .iter()
            .filter(|n| *n == "entry")
            .count(),
        0
    );

    // Every feed keeps Atom's rules, the one without entries too (it names the site
    // as its author, as Atom wants of a feed whose entries name none).
    assert!(quiet_feed.contains(" <author>\n  <name>blog.example.org</name>\n </author>\n"));
    assert_valid_atom(&[
        public.join("comments.xml"),
        public.join("posts/hello-world/comments.xml"),
        public.join("posts/a-quiet-post/comments.xml"),
    ]);

    // A second run changes nothing, byte for byte.
    let before = snapshot_tree(&public);
    let again = cairn(site.path(), &["render"]);
    assert!(again.status.success());
    assert!(
        stdout(&again).contains("(0 written, 0 feeds updated)"),
        "{}",
        stdout(&again)
    );
    assert_eq!(before, snapshot_tree(&public));
}

/// The README's way to look at a site while writing it: `hugo --watch` rebuilds it,
/// `cairn render --serve` shows it with its comments, again after each rebuild.
#[test]
fn hugo_watch_and_render_serve_show_an_edited_post_with_its_comments() {
    let Some(hugo) = tool("hugo") else { return };
    let site = example_site();
    let mut watching = Stopped(
        std::process::Command::new(&hugo)
            .args(["--watch", "-d", "public"])
            .current_dir(site.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Its first build done, it watches (and says so); what it says after that is let go.
    let said = std::io::BufReader::new(watching.0.stdout.take().unwrap());
    let (watches, watching_said) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(said).map_while(Result::ok) {
            if line.starts_with("Press Ctrl+C to stop") {
                let _ = watches.send(());
            }
        }
    });
    watching_said
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("hugo --watch builds the site and watches it");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"));
    command
        .current_dir(site.path())
        .args(["render", "--serve=127.0.0.1:0"]);
    let server = InboxProcess::spawn(command);
    let page = || {
        http(&server.addr, "GET", "/posts/hello-world/", &[], b"")
            .expect("the site answers")
            .body
    };
    let log = || server.log.lock().unwrap().clone();
    wait_explained(
        "the post with its comments",
        30,
        || page().matches("class=\"cairn-card\"").count() == 6,
        log,
    );

    let post = site.path().join("content/posts/hello-world.md");
    let text = std::fs::read_to_string(&post).unwrap();
    std::fs::write(&post, text.replace("first post", "first (edited) post")).unwrap();
    wait_explained(
        "the edited post with its comments",
        30,
        || {
            let body = page();
            body.contains("first (edited) post")
                && body.matches("class=\"cairn-card\"").count() == 6
        },
        log,
    );
    assert!(server.stop().success());
}

#[test]
fn a_hugo_site_in_several_languages_gets_each_pages_language() {
    let Some(hugo) = tool("hugo") else { return };
    let (site, _) = init_fixture(
        "hugo-multilingual",
        &[],
        &[
            "site language: en (the Hugo configuration's defaultContentLanguage \"en\")",
            "The site is in several languages (ar, en, fr)",
            "<div id=\"cairn-comments\" data-cairn-lang=\"{{ .Language.Lang }}\"></div>",
        ],
    );
    let dir = site.path();
    write_comment(
        dir,
        "fr/posts/hello",
        "01KB00000000000000000000AA",
        "id: 01KB00000000000000000000AA\nthread: /fr/posts/hello/\ndate: 2026-01-02T10:00:00Z\nauthor: Zoé\nbody: Merci !\n",
    );
    for (id, author) in [
        ("01KB00000000000000000000AB", "ليلى"),
        ("01KB00000000000000000000AC", "Omar"),
    ] {
        write_comment(
            dir,
            "ar/posts/hello",
            id,
            &format!("id: {id}\nthread: /ar/posts/hello/\ndate: 2026-01-03T10:00:00Z\nauthor: {author}\nbody: شكرًا!\n"),
        );
    }
    let built = std::process::Command::new(hugo)
        .arg("--quiet")
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(built.status.success(), "hugo: {}", stderr(&built));
    let public = dir.join("public");
    render_twice(dir, &public, "3 comments rendered on 3 pages");

    // The French page and index are in French, the English ones in English.
    let page = std::fs::read_to_string(public.join("fr/posts/hello/index.html")).unwrap();
    let section = comments_section(&page);
    assert!(
        section.contains("1 commentaire") && section.contains("Laisser un commentaire"),
        "{section}"
    );
    // The section says which language its strings are in, for screen readers.
    assert!(
        page.contains("<section class=\"cairn\" lang=\"fr\" dir=\"ltr\""),
        "{page}"
    );
    let page = std::fs::read_to_string(public.join("posts/hello/index.html")).unwrap();
    assert!(
        comments_section(&page).contains("Leave a comment"),
        "{page}"
    );
    let index = std::fs::read_to_string(public.join("fr/index.html")).unwrap();
    assert!(
        index.contains("data-cairn-lang=\"fr\">1 commentaire</span>"),
        "{index}"
    );
    let index = std::fs::read_to_string(public.join("index.html")).unwrap();
    assert!(
        index.contains("data-cairn-lang=\"en\">No comments</span>"),
        "{index}"
    );

    // The Arabic page, which Hugo writes right to left, is in Arabic: two comments
    // take Arabic's dual, and the Reply links take readers to Arabic pages.
    let page = std::fs::read_to_string(public.join("ar/posts/hello/index.html")).unwrap();
    assert!(page.contains("<html lang=\"ar\" dir=\"rtl\">"), "{page}");
    assert!(
        page.contains("<section class=\"cairn\" lang=\"ar\" dir=\"rtl\""),
        "{page}"
    );
    let section = comments_section(&page);
    for expected in ["تعليقان", "اترك تعليقًا", "رد على ليلى", "lang=ar&amp;"]
    {
        assert!(section.contains(expected), "{expected}: {section}");
    }
    let feed = std::fs::read_to_string(public.join("ar/posts/hello/comments.xml")).unwrap();
    assert!(
        feed.contains("xml:lang=\"ar\"") && feed.contains("<title>التعليقات على «مرحبا»</title>"),
        "{feed}"
    );
    let index = std::fs::read_to_string(public.join("ar/index.html")).unwrap();
    assert!(
        index.contains("data-cairn-lang=\"ar\">تعليقان</span>"),
        "{index}"
    );
}

#[test]
fn cairn_inits_workflow_installs_the_hugo_the_site_is_built_with() {
    let Some(hugo) = tool("hugo") else { return };
    let (_site, printed) = init_fixture("hugo-multilingual", &[], &[]);
    let version = std::process::Command::new(hugo)
        .arg("version")
        .output()
        .unwrap();
    let version = stdout(&version);
    let start = printed.find("# .github/workflows/pages.yml").unwrap();
    let end = printed.find("Check that [site] url").unwrap();
    let workflow: serde_json::Value = serde_norway::from_str(&printed[start..end]).unwrap();
    let steps = workflow["jobs"]["build"]["steps"].as_array().unwrap();
    let pinned = steps
        .iter()
        .find_map(|step| step["env"]["HUGO_VERSION"].as_str())
        .unwrap();
    assert!(
        version.contains(&format!(" v{pinned}+")) || version.contains(&format!(" v{pinned}-")),
        "{pinned} in {version}"
    );
}

/// A theme laid out as PaperMod is: its single pages call an empty `comments.html`
/// partial, which the site fills, when the `comments` parameter is on.
const THEMED_SITE: &[(&str, &str)] = &[
    (
        "hugo.toml",
        "baseURL = \"https://notes.example.net/\"\ntitle = \"Notes\"\ntheme = \"paper\"\n",
    ),
    (
        "themes/paper/layouts/_default/baseof.html",
        "<!DOCTYPE html>\n<html lang=\"en\"><head><title>{{ .Title }}</title></head>\n<body>{{ block \"main\" . }}{{ end }}</body></html>\n",
    ),
    (
        "themes/paper/layouts/_default/single.html",
        "{{- define \"main\" }}\n<article class=\"post-single\">\n  <h1>{{ .Title }}</h1>\n  <div class=\"post-content\">{{ .Content }}</div>\n  {{- if (.Param \"comments\") }}\n  {{- partial \"comments.html\" . }}\n  {{- end }}\n</article>\n{{- end }}\n",
    ),
    (
        "themes/paper/layouts/_default/list.html",
        "{{- define \"main\" }}{{ range .Pages }}<a href=\"{{ .RelPermalink }}\">{{ .Title }}</a>{{ end }}{{ end }}\n",
    ),
    (
        "themes/paper/layouts/partials/comments.html",
        "{{- /* Comments area start */ -}}\n{{- /* to add comments read => https://gohugo.io/content-management/comments/ */ -}}\n{{- /* Comments area end */ -}}\n",
    ),
    ("content/posts/hello.md", "---\ntitle: Hello\n---\nHi.\n"),
];

#[test]
fn a_hugo_themes_comments_partial_gets_the_placeholder_from_init() {
    let Some(hugo) = tool("hugo") else { return };
    let site = tempfile::tempdir().unwrap();
    let dir = site.path();
    testing::write_files(dir, THEMED_SITE);
    let init = cairn(dir, &["init"]);
    assert!(init.status.success(), "{}", stderr(&init));
    let printed = stdout(&init);
    assert!(
        printed.contains(
            "wrote layouts/partials/comments.html with the comments placeholder: the theme paper \
             shows that partial where comments go (themes/paper/layouts/_default/single.html:6).\n\
             It does so when\n\n    {{- if (.Param \"comments\") }}\n\n\
             so turn that on (in hugo.toml: `comments = true` under `[params]`)."
        ),
        "{printed}"
    );
    assert!(
        !printed.contains("copy your theme's there first"),
        "no template to copy: {printed}"
    );
    assert!(printed.contains("<span data-cairn-count=\"{{ .RelPermalink }}\"></span>"));

    // Done as it says, the post shows its comments.
    let config = dir.join("hugo.toml");
    let text = std::fs::read_to_string(&config).unwrap() + "[params]\ncomments = true\n";
    std::fs::write(&config, text).unwrap();
    write_comment(
        dir,
        "posts/hello",
        "01KB00000000000000000000AA",
        "id: 01KB00000000000000000000AA\nthread: /posts/hello/\ndate: 2026-01-02T03:00:00Z\nauthor: Ann\nbody: Found through the theme.\n",
    );
    let status = std::process::Command::new(hugo)
        .arg("--quiet")
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success(), "hugo build failed");
    let out = cairn(dir, &["render"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = std::fs::read_to_string(dir.join("public/posts/hello/index.html")).unwrap();
    let article = &page[page.find("<article").unwrap()..page.rfind("</article>").unwrap()];
    assert!(article.contains("<section class=\"cairn\""), "{article}");
    assert!(article.contains("Found through the theme."), "{article}");
    assert!(article.contains("action=\"https://comments.example.org/v1/comments\""));
}

/// Hugo writes the page of a post whose slug (or title, in `:title` permalinks) holds a
/// `#` into a directory with that `#` in its name, which browsers ask for as `%23`, and
/// one whose slug starts with a dot (".NET 8") into a hidden directory; a post may
/// also be called `con`, which Windows takes for a device. Each page gets its
/// section and form, a reader's comment posted through the form to the real inbox goes
/// to that thread's directory, the next build shows it, and the site's repository can
/// still be checked out on Windows.
#[test]
fn posts_named_with_a_hash_a_dot_or_a_windows_device_take_comments_from_form_to_page() {
    let Some(hugo) = tool("hugo") else { return };
    let dir = tempfile::tempdir().unwrap();
    let remote = example_remote(dir.path());
    let src = dir.path().join("src");
    // (source file, front matter, where Hugo writes the page, its thread)
    let posts = [
        (
            "c-sharp.md",
            "title: \"C# tips\"\nslug: \"C# tips\"",
            "posts/c#-tips",
            "/posts/c%23-tips/",
        ),
        (
            "dotnet.md",
            "title: \".NET 8\"\nslug: \".NET 8\"",
            "posts/.net-8",
            "/posts/%2Enet-8/",
        ),
        (
            "the-case-against.md",
            "title: \"Con: the case against\"\nslug: \"con\"",
            "posts/con",
            "/posts/%63on/",
        ),
    ];
    for (file, front, _, _) in posts {
        std::fs::write(
            src.join("content/posts").join(file),
            format!("---\n{front}\ndate: 2026-11-16T09:00:00Z\n---\nA post.\n"),
        )
        .unwrap();
    }
    git(&src, &["add", "-A"]);
    git(&src, &["commit", "-q", "-m", "Three posts"]);
    git(&src, &["push", "-q", remote.to_str().unwrap(), "main"]);
    let config = dir.path().join("inbox.toml");
    std::fs::write(
        &config,
        "[site]\nurl = \"https://blog.example.org/\"\n[comments]\ndir = \"comments\"\n\
         [inbox]\nurl = \"http://127.0.0.1:9\"\nspool = \"spool\"\nrate_per_hour = 0\n\
         [inbox.delivery]\nremote = \"site.git\"\nmode = \"direct\"\n",
    )
    .unwrap();
    // What the site's CI does: check out, build with Hugo, render. Gives the checkout.
    let build = || {
        let checkout = tempfile::tempdir().unwrap();
        git(
            checkout.path(),
            &["clone", "-q", remote.to_str().unwrap(), "site"],
        );
        let site = checkout.path().join("site");
        let status = std::process::Command::new(&hugo)
            .args(["--quiet", "-d", "public"])
            .current_dir(&site)
            .status()
            .unwrap();
        assert!(status.success(), "hugo build failed");
        let out = cairn(&site, &["render"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).contains(" 0 problems"), "{}", stdout(&out));
        checkout
    };
    let page = |checkout: &tempfile::TempDir, at: &str| {
        let page = checkout
            .path()
            .join("site/public")
            .join(at)
            .join("index.html");
        std::fs::read_to_string(&page).unwrap_or_else(|_| panic!("Hugo writes {at}/"))
    };

    let before = build();
    let inbox = InboxProcess::start(&config);
    for (_, _, at, thread) in posts {
        let page = page(&before, at);
        let section = comments_section(&page);
        assert!(
            section.contains(&format!(
                "<input type=\"hidden\" name=\"thread\" value=\"{thread}\">"
            )),
            "{section}"
        );
        let fields = [
            ("thread", thread),
            ("parent", ""),
            ("author", "Ada"),
            ("email", ""),
            ("website", ""),
            ("body", &format!("A comment on {at}.")),
        ];
        let answer = post_form(&inbox.addr, "https://blog.example.org", &fields).unwrap();
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    inbox.wait_delivered(30);

    let after = build();
    for (_, _, at, thread) in posts {
        let page = page(&after, at);
        assert!(
            comments_section(&page).contains(&format!("A comment on {at}.")),
            "{page}"
        );
        let files = std::fs::read_dir(after.path().join("site/comments").join(&thread[1..]))
            .expect("the comment is in its thread's directory");
        assert_eq!(files.count(), 1);
        let feed = std::fs::read_to_string(
            after
                .path()
                .join("site/public")
                .join(at)
                .join("comments.xml"),
        );
        assert!(feed.unwrap().contains(&format!("A comment on {at}.")));
    }
    // Nothing cairn wrote to the repository is hidden or has a name Windows refuses.
    let tree = git(
        &remote,
        &["ls-tree", "-r", "--name-only", "main", "comments"],
    );
    for name in tree.lines().flat_map(|path| path.split('/')) {
        let stem = name
            .split('.')
            .next()
            .unwrap()
            .trim_end()
            .to_ascii_lowercase();
        let device = ["con", "prn", "aux", "nul"].contains(&stem.as_str())
            || (stem.len() == 4
                && (stem.starts_with("com") || stem.starts_with("lpt"))
                && stem.ends_with(|c: char| c.is_ascii_digit()));
        assert!(
            !device
                && !name.ends_with(['.', ' '])
                && !name.contains(['<', '>', ':', '"', '|', '?', '*']),
            "{name:?} in the repository"
        );
    }
}
