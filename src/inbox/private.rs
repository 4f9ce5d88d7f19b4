//! The inbox's private store (`private.db` in the spool, SQLite): the e-mail addresses
//! of readers who asked to hear about replies (with the language of the page they
//! wrote on, which their mail is in), and the delivered comments whose
//! publication someone is waiting to hear about. Nothing here ever reaches the site
//! repository; deleted rows are overwritten on disk (`secure_delete`), so `cairn inbox
//! forget` leaves no trace of an address.

use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, Result};
use rusqlite::{params, Connection, OptionalExtension};
use ulid::Ulid;

use crate::comment::{Comment, Format};

pub struct Private {
    db: Mutex<Connection>,
}

/// A reader waiting for mail about comment `comment`.
#[derive(Debug, Clone)]
pub struct Subscriber {
    pub email: String,
    /// The secret part of their unsubscribe link.
    pub token: String,
    /// The language of the page they wrote on, when not the site's (see
    /// [`crate::render::Languages::other`]); empty: the site's.
    pub lang: String,
}

/// A delivered comment whose publication is to be announced.
#[derive(Debug, Clone)]
pub struct Watched {
    pub comment: Comment,
    /// Whether its author was told it is live, and its parent's author of the reply.
    pub author_told: bool,
    pub parent_told: bool,
}

/// An address as it is compared: trimmed and lower-cased.
pub fn normalize(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Private {
    pub fn open(path: &Path) -> Result<Private> {
        let db =
            Connection::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        db.execute_batch(
            "PRAGMA secure_delete = ON;
             CREATE TABLE IF NOT EXISTS subscriptions (
                 comment TEXT PRIMARY KEY,
                 email TEXT NOT NULL,
                 token TEXT NOT NULL,
                 lang TEXT NOT NULL DEFAULT ''
             );
             CREATE INDEX IF NOT EXISTS subscriptions_email ON subscriptions (email);
             CREATE TABLE IF NOT EXISTS watched (
                 comment TEXT PRIMARY KEY,
                 yaml TEXT NOT NULL,
                 author_told INTEGER NOT NULL DEFAULT 0,
                 parent_told INTEGER NOT NULL DEFAULT 0
             );",
        )
        .with_context(|| format!("cannot set up {}", path.display()))?;
        // Stores from before readers' languages were kept: theirs is the site's.
        let has_lang: bool = db
            .query_row(
                "SELECT count(*) FROM pragma_table_info('subscriptions') WHERE name = 'lang'",
                [],
                |row| row.get(0),
            )
            .with_context(|| format!("cannot read {}", path.display()))?;
        if !has_lang {
            db.execute_batch("ALTER TABLE subscriptions ADD COLUMN lang TEXT NOT NULL DEFAULT ''")
                .with_context(|| format!("cannot add readers' languages to {}", path.display()))?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(Private { db: Mutex::new(db) })
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records that the author of `comment` wants mail about it (and its replies), in
    /// `lang` (empty: the site's language).
    pub fn subscribe(&self, comment: Ulid, email: &str, lang: &str) -> Result<()> {
        let token = format!("{}{}", Ulid::new(), Ulid::new());
        self.db().execute(
            "INSERT OR REPLACE INTO subscriptions (comment, email, token, lang) \
             VALUES (?1, ?2, ?3, ?4)",
            params![comment.to_string(), normalize(email), token, lang],
        )?;
        Ok(())
    }

    /// Who wants mail about `comment`.
    pub fn subscriber(&self, comment: Ulid) -> Result<Option<Subscriber>> {
        self.subscription("comment", &comment.to_string())
    }

    /// The subscription an unsubscribe token stops (with every other of its address).
    pub fn of_token(&self, token: &str) -> Result<Option<Subscriber>> {
        self.subscription("token", token)
    }

    /// The subscription whose `column` (`comment` or `token`) is `value`.
    fn subscription(&self, column: &str, value: &str) -> Result<Option<Subscriber>> {
        Ok(self
            .db()
            .query_row(
                &format!("SELECT email, token, lang FROM subscriptions WHERE {column} = ?1"),
                params![value],
                |row| {
                    Ok(Subscriber {
                        email: row.get(0)?,
                        token: row.get(1)?,
                        lang: row.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Erases an address: every subscription it has. Returns how many there were.
    pub fn forget(&self, email: &str) -> Result<usize> {
        Ok(self.db().execute(
            "DELETE FROM subscriptions WHERE email = ?1",
            params![normalize(email)],
        )?)
    }

    /// Remembers a delivered comment until its publication has been announced.
    pub fn watch(&self, comment: &Comment) -> Result<()> {
        self.db().execute(
            "INSERT OR IGNORE INTO watched (comment, yaml) VALUES (?1, ?2)",
            params![comment.id.to_string(), comment.to_yaml()],
        )?;
        Ok(())
    }

    pub fn watched(&self) -> Result<Vec<Watched>> {
        let db = self.db();
        let mut query =
            db.prepare("SELECT yaml, author_told, parent_told FROM watched ORDER BY comment")?;
        let rows = query.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, bool>(1)?,
                row.get::<_, bool>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (yaml, author_told, parent_told) = row?;
            match Comment::parse(&yaml, Format::Yaml) {
                Ok(comment) => out.push(Watched {
                    comment,
                    author_told,
                    parent_told,
                }),
                Err(e) => tracing::error!("a watched comment cannot be read: {}", e.message),
            }
        }
        Ok(out)
    }

    pub fn told(&self, comment: Ulid, author: bool, parent: bool) -> Result<()> {
        self.db().execute(
            "UPDATE watched SET author_told = ?2, parent_told = ?3 WHERE comment = ?1",
            params![comment.to_string(), author, parent],
        )?;
        Ok(())
    }

    pub fn unwatch(&self, comment: Ulid) -> Result<()> {
        self.db().execute(
            "DELETE FROM watched WHERE comment = ?1",
            params![comment.to_string()],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forget_erases_every_subscription_and_leaves_no_trace_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("private.db");
        let store = Private::open(&path).unwrap();
        let (a, b, c) = (Ulid::new(), Ulid::new(), Ulid::new());
        store.subscribe(a, " Ann@Example.org", "").unwrap();
        store.subscribe(b, "ann@example.org", "de").unwrap();
        store.subscribe(c, "bob@example.org", "").unwrap();
        assert_eq!(
            store.subscriber(a).unwrap().unwrap().email,
            "ann@example.org"
        );
        let token = store.subscriber(b).unwrap().unwrap().token;
        let by_token = store.of_token(&token).unwrap().unwrap();
        assert_eq!(
            (by_token.email.as_str(), by_token.lang.as_str()),
            ("ann@example.org", "de")
        );
        assert_eq!(store.forget("ANN@example.org").unwrap(), 2);
        assert!(store.subscriber(a).unwrap().is_none());
        assert!(store.subscriber(c).unwrap().is_some());
        drop(store);
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("ann@example.org"),
            "the address is gone from the file"
        );
        assert!(text.contains("bob@example.org"));
    }

    #[test]
    fn a_store_from_before_languages_keeps_its_readers_in_the_sites_language() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("private.db");
        let old = Connection::open(&path).unwrap();
        old.execute_batch(
            "CREATE TABLE subscriptions (comment TEXT PRIMARY KEY, email TEXT NOT NULL, \
             token TEXT NOT NULL);
             INSERT INTO subscriptions VALUES ('01JDZZZZZZZZZZZZZZZZZZZZZZ', 'ann@example.org', 't');",
        )
        .unwrap();
        drop(old);
        for _ in 0..2 {
            let store = Private::open(&path).unwrap();
            let ann = store.of_token("t").unwrap().unwrap();
            assert_eq!(
                (ann.email.as_str(), ann.lang.as_str()),
                ("ann@example.org", "")
            );
            let new = Ulid::new();
            store.subscribe(new, "bob@example.org", "fr").unwrap();
            assert_eq!(store.subscriber(new).unwrap().unwrap().lang, "fr");
        }
    }
}
