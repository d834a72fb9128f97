//! The HTTP API's CORS configuration (`CorsConfiguration` of an
//! `AWS::ApiGatewayV2::Api`), applied as API Gateway applies it: it answers
//! a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`)
//! itself, before any route, authorizer or throttle, whether or not an
//! `OPTIONS` route exists; it adds the configured headers to every other
//! response to a request with an allowed `Origin`, replacing any CORS
//! header the integration returned; a request without `Origin`, or from an
//! origin not allowed, gets no CORS header at all.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde_json::Value;

/// `CorsConfiguration`, as the template sets it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cors {
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age: Option<u64>,
    pub allow_credentials: bool,
}

const ALLOW_ORIGIN: &str = "access-control-allow-origin";
const ALLOW_METHODS: &str = "access-control-allow-methods";
const ALLOW_HEADERS: &str = "access-control-allow-headers";
const ALLOW_CREDENTIALS: &str = "access-control-allow-credentials";
const EXPOSE_HEADERS: &str = "access-control-expose-headers";
const MAX_AGE: &str = "access-control-max-age";

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

impl Cors {
    /// The API's `CorsConfiguration`, if it has one.
    pub fn from_api(properties: &Value) -> Option<Self> {
        let c = properties.get("CorsConfiguration")?;
        Some(Self {
            allow_origins: strings(&c["AllowOrigins"]),
            allow_methods: strings(&c["AllowMethods"]),
            allow_headers: strings(&c["AllowHeaders"]),
            expose_headers: strings(&c["ExposeHeaders"]),
            max_age: c["MaxAge"].as_u64(),
            allow_credentials: c["AllowCredentials"] == Value::Bool(true),
        })
    }

    /// The `Access-Control-Allow-Origin` for a request from `origin`, if
    /// that origin is allowed: `*` when every origin is (and credentials
    /// are not), else the origin itself.
    fn allow_origin(&self, origin: &str) -> Option<String> {
        let any = self.allow_origins.iter().any(|o| o == "*");
        if any && !self.allow_credentials {
            return Some("*".into());
        }
        (any || self
            .allow_origins
            .iter()
            .any(|o| o.eq_ignore_ascii_case(origin)))
        .then(|| origin.to_owned())
    }

    /// A preflight request: API Gateway answers it, not the routes.
    pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
        method == Method::OPTIONS
            && headers.contains_key("origin")
            && headers.contains_key("access-control-request-method")
    }

    /// The answer to a preflight: 204, with the configuration's headers
    /// when the origin is allowed.
    pub fn preflight(&self, headers: &HeaderMap) -> Response {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NO_CONTENT;
        let Some(origin) = origin(headers).and_then(|o| self.allow_origin(o)) else {
            return r;
        };
        let h = r.headers_mut();
        insert(h, ALLOW_ORIGIN, &origin);
        if self.allow_credentials {
            insert(h, ALLOW_CREDENTIALS, "true");
        }
        if !self.allow_methods.is_empty() {
            insert(h, ALLOW_METHODS, &self.allow_methods.join(","));
        }
        if !self.allow_headers.is_empty() {
            insert(h, ALLOW_HEADERS, &self.allow_headers.join(","));
        }
        if let Some(age) = self.max_age {
            insert(h, MAX_AGE, &age.to_string());
        }
        r
    }

    /// `resp` to a request with `request` headers, its CORS headers those
    /// of the configuration (none for an origin not allowed).
    pub fn apply(&self, request: &HeaderMap, resp: &mut Response) {
        let h = resp.headers_mut();
        for name in [
            ALLOW_ORIGIN,
            ALLOW_METHODS,
            ALLOW_HEADERS,
            ALLOW_CREDENTIALS,
            EXPOSE_HEADERS,
            MAX_AGE,
        ] {
            h.remove(name);
        }
        let Some(origin) = origin(request).and_then(|o| self.allow_origin(o)) else {
            return;
        };
        insert(h, ALLOW_ORIGIN, &origin);
        if self.allow_credentials {
            insert(h, ALLOW_CREDENTIALS, "true");
        }
        if !self.expose_headers.is_empty() {
            insert(h, EXPOSE_HEADERS, &self.expose_headers.join(","));
        }
    }
}

fn origin(headers: &HeaderMap) -> Option<&str> {
    headers.get("origin").and_then(|v| v.to_str().ok())
}

fn insert(h: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(name, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn listed() -> Cors {
        Cors::from_api(&json!({"CorsConfiguration": {
            "AllowOrigins": ["https://app.example.com"],
            "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["authorization"],
            "ExposeHeaders": ["x-request-id"],
            "AllowCredentials": true,
            "MaxAge": 600
        }}))
        .unwrap()
    }

    #[test]
    fn a_listed_origin_is_echoed_with_credentials_and_others_get_nothing() {
        let c = listed();
        let ok = headers(&[("origin", "https://app.example.com")]);
        let mut r = Response::new(Body::empty());
        r.headers_mut()
            .insert(ALLOW_ORIGIN, HeaderValue::from_static("*"));
        c.apply(&ok, &mut r);
        let h = r.headers();
        assert_eq!(h[ALLOW_ORIGIN], "https://app.example.com");
        assert_eq!(h[ALLOW_CREDENTIALS], "true");
        assert_eq!(h[EXPOSE_HEADERS], "x-request-id");
        assert!(!h.contains_key(MAX_AGE), "max-age is for preflights");
        let mut r = Response::new(Body::empty());
        r.headers_mut()
            .insert(ALLOW_ORIGIN, HeaderValue::from_static("*"));
        c.apply(&headers(&[("origin", "https://evil.example.com")]), &mut r);
        assert!(r.headers().is_empty(), "{:?}", r.headers());
        let p = c.preflight(&headers(&[
            ("origin", "https://evil.example.com"),
            ("access-control-request-method", "POST"),
        ]));
        assert_eq!(p.status(), 204);
        assert!(p.headers().is_empty(), "{:?}", p.headers());
    }

    #[test]
    fn a_wildcard_answers_star_and_a_preflight_gets_methods_headers_and_max_age() {
        let c = Cors {
            allow_origins: vec!["*".into()],
            ..listed()
        };
        let c = Cors {
            allow_credentials: false,
            ..c
        };
        let p = c.preflight(&headers(&[
            ("origin", "http://localhost:3000"),
            ("access-control-request-method", "POST"),
        ]));
        let h = p.headers();
        assert_eq!(h[ALLOW_ORIGIN], "*");
        assert_eq!(h[ALLOW_METHODS], "GET,POST");
        assert_eq!(h[ALLOW_HEADERS], "authorization");
        assert_eq!(h[MAX_AGE], "600");
        assert!(!h.contains_key(ALLOW_CREDENTIALS));
        assert!(Cors::is_preflight(
            &Method::OPTIONS,
            &headers(&[("origin", "x"), ("access-control-request-method", "GET")])
        ));
        assert!(!Cors::is_preflight(
            &Method::OPTIONS,
            &headers(&[("origin", "x")])
        ));
    }
}
