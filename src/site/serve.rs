//! A built site served the way static hosts serve it, for `cairn render --serve` and
//! `cairn demo`: a directory's `index.html`, and `page.html` for `/page` (Jekyll's
//! permalinks without an extension, Astro's `build.format: "file"`, VitePress's
//! `cleanUrls` link to pages so).

use std::path::{Component, Path};

use axum::extract::Request;
use axum::http::Uri;

/// The files of the built site in `dir`.
pub fn files(dir: &Path) -> axum::Router {
    let root = dir.to_path_buf();
    axum::Router::new()
        .fallback_service(tower_http::services::ServeDir::new(dir))
        .layer(axum::middleware::map_request(move |request: Request| {
            let root = root.clone();
            async move { with_html_extension(&root, request) }
        }))
}

/// `request`, asking for `page.html` instead when it asks for `page`, which the site
/// does not have, and `page.html` is there (`/2020/rust-1.40` for `2020/rust-1.40.html`,
/// `/caf%C3%A9` for `café.html`).
fn with_html_extension(root: &Path, mut request: Request) -> Request {
    let path = request.uri().path();
    if path.ends_with('/') {
        return request;
    }
    let relative = crate::thread::page_file(path);
    if !relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return request;
    }
    let file = root.join(&relative);
    let mut page = file.clone().into_os_string();
    page.push(".html");
    if file.exists() || !Path::new(&page).is_file() {
        return request;
    }
    let query = request
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    if let Ok(uri) = format!("{path}.html{query}").parse::<Uri>() {
        *request.uri_mut() = uri;
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt;

    async fn get(dir: &Path, path: &str) -> (u16, String) {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = files(dir).oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn pages_are_served_as_hosts_serve_them() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("posts/dir")).unwrap();
        std::fs::write(d.join("index.html"), "home").unwrap();
        std::fs::write(d.join("about.html"), "about").unwrap();
        std::fs::write(d.join("posts/moss.html"), "moss").unwrap();
        std::fs::write(d.join("posts/dir/index.html"), "dir index").unwrap();
        std::fs::write(d.join("posts/dir.html"), "dir file").unwrap();
        std::fs::write(d.join("posts/rust-1.40.html"), "rust").unwrap();
        std::fs::write(d.join("posts/café.html"), "cafe").unwrap();
        std::fs::write(d.join("cairn.css"), "css").unwrap();
        for (path, status, body) in [
            ("/", 200, "home"),
            ("/about", 200, "about"),
            ("/about?x=1", 200, "about"),
            ("/about.html", 200, "about"),
            ("/posts/moss", 200, "moss"),
            // Jekyll links `rust-1.40.html` (permalink `/:year/:title`) without the
            // extension, and escapes what is not ASCII.
            ("/posts/rust-1.40", 200, "rust"),
            ("/posts/caf%C3%A9", 200, "cafe"),
            // A directory is its index, as hosts have it.
            ("/posts/dir/", 200, "dir index"),
            ("/cairn.css", 200, "css"),
            ("/missing", 404, ""),
            ("/posts/../about", 404, ""),
        ] {
            let (got, text) = get(d, path).await;
            assert_eq!(got, status, "{path}");
            if status == 200 {
                assert_eq!(text, body, "{path}");
            }
        }
    }
}
