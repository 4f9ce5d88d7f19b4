//! Helpers the tests of several modules share (the integration tests too, through
//! tests/common).

use std::path::Path;

/// How many files in `dir` end in `.ext`.
pub fn files_ending(dir: &Path, ext: &str) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == ext)
        })
        .count()
}

/// Writes each `(path, text)` of `files` under `dir`, with the directories they need.
pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// Writes a Cusdis database at `path`: the tables and columns of its SQLite schema
/// (since 2021), an owner, the projects "My blog" (`p-blog`), "Docs" (`p-docs`) and
/// "Empty" (`p-empty`), and the SQL `rows` (pages and comments).
pub fn cusdis_database(path: &Path, rows: &str) {
    let db = rusqlite::Connection::open(path).unwrap();
    db.execute_batch(&format!(
        r#"CREATE TABLE "users" ("id" TEXT NOT NULL PRIMARY KEY, "name" TEXT, "email" TEXT,
               "displayName" TEXT);
           CREATE TABLE "projects" ("id" TEXT NOT NULL PRIMARY KEY, "title" TEXT NOT NULL,
               "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
               "updated_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
               "deleted_at" DATETIME, "ownerId" TEXT NOT NULL, "token" TEXT,
               "fetch_latest_comments_at" DATETIME, "enable_notification" BOOLEAN DEFAULT true,
               "webhook" TEXT, "enableWebhook" BOOLEAN);
           CREATE TABLE "pages" ("id" TEXT NOT NULL PRIMARY KEY, "slug" TEXT NOT NULL,
               "url" TEXT, "title" TEXT,
               "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
               "updated_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
               "projectId" TEXT NOT NULL);
           CREATE TABLE "comments" ("id" TEXT NOT NULL PRIMARY KEY, "pageId" TEXT NOT NULL,
               "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
               "updated_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
               "deletedAt" DATETIME, "moderatorId" TEXT, "by_email" TEXT,
               "by_nickname" TEXT NOT NULL, "content" TEXT NOT NULL,
               "approved" BOOLEAN NOT NULL DEFAULT false, "parentId" TEXT);
           INSERT INTO users VALUES ('u1', 'Me', 'me@example.org', NULL);
           INSERT INTO projects (id, title, ownerId) VALUES ('p-blog', 'My blog', 'u1'),
               ('p-docs', 'Docs', 'u1'), ('p-empty', 'Empty', 'u1');
           {rows}"#
    ))
    .unwrap();
}

/// An SQL row of a Cusdis `comments` table, from its `id, pageId, created_at,
/// by_nickname, content, approved, parentId, deletedAt, by_email` as SQL literals.
pub fn cusdis_comment(values: &str) -> String {
    format!(
        "INSERT INTO comments (id, pageId, created_at, by_nickname, content, approved, \
         parentId, deletedAt, by_email) VALUES ({values});\n"
    )
}
