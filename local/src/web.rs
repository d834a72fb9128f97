//! The web app, embedded so `chat-local` runs standalone: `local/web/` at
//! `/` (index.html, the entry module app.js, ui/*.js, app.css, and whatever
//! else is there) and the SDK's compiled ESM (`sdk/ts/dist/`, committed and
//! drift-checked) at `/sdk/`. The modules import each other by relative
//! URLs, so the same two folders deploy as they are to any static host.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use include_dir::{include_dir, Dir};

static WEB: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/web");
static SDK: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../sdk/ts/dist");

/// The embedded file served at `path` (e.g. `/`, `/ui/sidebar.js`, `/sdk/index.js`).
pub fn asset(path: &str) -> Option<(&'static str, &'static [u8])> {
    let rel = path.trim_start_matches('/');
    let rel = if rel.is_empty() { "index.html" } else { rel };
    if rel
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return None;
    }
    let file = match rel.strip_prefix("sdk/") {
        Some(sdk) => SDK.get_file(sdk)?,
        None => WEB.get_file(rel)?,
    };
    Some((content_type(rel)?, file.contents()))
}

/// Every path [`asset`] answers: the routes to register.
pub fn paths() -> Vec<String> {
    let mut out = vec!["/".to_owned()];
    collect(&WEB, "", &mut out);
    collect(&SDK, "sdk/", &mut out);
    out
}

fn collect(dir: &'static Dir<'static>, prefix: &str, out: &mut Vec<String>) {
    for f in dir.files() {
        let rel = format!("{prefix}{}", f.path().display());
        if content_type(&rel).is_some() {
            out.push(format!("/{rel}"));
        }
    }
    for d in dir.dirs() {
        collect(d, prefix, out);
    }
}

/// Only what the app is made of is served (not `.d.ts` files or notes).
fn content_type(rel: &str) -> Option<&'static str> {
    if rel.ends_with(".d.ts") {
        return None;
    }
    match rel.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => Some("text/html; charset=utf-8"),
        Some("js") => Some("text/javascript; charset=utf-8"),
        Some("css") => Some("text/css; charset=utf-8"),
        _ => None,
    }
}

/// The response for `path`: the file with its type, no-cache and the CSP, or 404.
pub fn serve(path: &str) -> Response {
    let Some((content_type, body)) = asset(path) else {
        let mut r = Response::new(Body::from("not found"));
        *r.status_mut() = StatusCode::NOT_FOUND;
        return r;
    };
    let mut r = Response::new(Body::from(body));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // The service worker controls the whole app (its scope is `/`).
    if path == "/sw.js" {
        h.insert("service-worker-allowed", HeaderValue::from_static("/"));
    }
    // The page loads nothing from elsewhere; say so to the browser.
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' http: https: data: blob:; style-src 'self'; script-src 'self'"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_its_modules_and_the_sdk_are_served_and_nothing_else() {
        assert!(asset("/").is_some_and(|(t, _)| t.starts_with("text/html")));
        assert!(asset("/app.js").is_some_and(|(t, _)| t.starts_with("text/javascript")));
        assert!(asset("/ui/sidebar.js").is_some());
        assert!(asset("/sdk/index.js").is_some());
        assert!(asset("/sdk/client.js").is_some());
        assert_eq!(asset("/sdk/index.d.ts"), None, "types are not served");
        assert_eq!(asset("/../Cargo.toml"), None);
        assert_eq!(asset("/ui/../app.js"), None);
        assert_eq!(asset("/nope.js"), None);
        let paths = paths();
        assert!(
            paths.contains(&"/ui/conversation.js".to_owned()),
            "{paths:?}"
        );
        assert!(paths.contains(&"/sdk/timeline.js".to_owned()), "{paths:?}");
    }

    #[test]
    fn every_relative_import_of_a_served_module_is_served() {
        for p in paths().into_iter().filter(|p| p.ends_with(".js")) {
            let (_, body) = asset(&p).expect("listed");
            let text = std::str::from_utf8(body).expect("utf-8");
            let dir = &p[..p.rfind('/').map_or(0, |i| i + 1)];
            for from in text.split(" from '").skip(1) {
                let spec = from.split('\'').next().unwrap_or_default();
                if !spec.starts_with('.') {
                    continue;
                }
                let target = resolve(dir, spec);
                assert!(
                    asset(&target).is_some(),
                    "{p} imports {spec} ({target}), which is not served"
                );
            }
        }
    }

    fn resolve(dir: &str, spec: &str) -> String {
        let mut parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
        for seg in spec.split('/') {
            match seg {
                "." => {}
                ".." => {
                    parts.pop();
                }
                s => parts.push(s),
            }
        }
        format!("/{}", parts.join("/"))
    }
}
