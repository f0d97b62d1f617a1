//! Injecting resolved credentials into one outgoing request.

use reqwest::header::{
    AUTHORIZATION, COOKIE, HeaderMap, HeaderName, HeaderValue, PROXY_AUTHORIZATION,
};

use crate::encode::{base64, percent_encode};
use crate::error::TransportError;

/// An auth with its credential values resolved.
#[derive(Clone, Copy)]
pub(crate) enum Injection<'a> {
    Query(&'a str, &'a str),
    Header(&'a str, &'a str),
    Cookie(&'a str, &'a str),
    Bearer(&'a str),
    Basic(&'a str, &'a str),
}

/// `url` with `name=<percent-encoded value>` appended to its query (before any fragment).
pub(crate) fn with_query(url: &str, name: &str, value: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let sep = match base.find('?') {
        None => "?",
        Some(_) if base.ends_with('?') || base.ends_with('&') => "",
        Some(_) => "&",
    };
    let mut out = format!(
        "{base}{sep}{}={}",
        percent_encode(name),
        percent_encode(value)
    );
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// The `Authorization: Basic` value for a user and password.
pub(crate) fn basic_value(username: &str, password: &str) -> String {
    base64(format!("{username}:{password}").as_bytes())
}

/// The headers of one hop: the planned headers plus the injected credential, or, when
/// `strip_auth` (a redirect to another host), without any credential-bearing header at all.
pub(crate) fn headers(
    planned: &[(String, String)],
    injection: Option<Injection<'_>>,
    strip_auth: bool,
    url: &str,
) -> Result<HeaderMap, TransportError> {
    let invalid = |name: &str| TransportError::InvalidHeader {
        url: url.to_string(),
        name: name.to_string(),
    };
    let auth_header = match injection {
        Some(Injection::Header(name, _)) => Some(name.to_ascii_lowercase()),
        _ => None,
    };
    let mut map = HeaderMap::new();
    for (name, value) in planned {
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid(name))?;
        let sensitive = header == AUTHORIZATION
            || header == COOKIE
            || header == PROXY_AUTHORIZATION
            || auth_header.as_deref() == Some(header.as_str());
        if strip_auth && sensitive {
            continue;
        }
        let mut value = HeaderValue::from_str(value).map_err(|_| invalid(name))?;
        value.set_sensitive(sensitive);
        map.append(header, value);
    }
    let Some(injection) = injection.filter(|_| !strip_auth) else {
        return Ok(map);
    };
    let (name, value) = match injection {
        Injection::Query(..) => return Ok(map),
        Injection::Header(name, value) => {
            let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid(name))?;
            let mut value = HeaderValue::from_str(value).map_err(|_| invalid(name))?;
            value.set_sensitive(true);
            map.insert(header, value);
            return Ok(map);
        }
        Injection::Cookie(name, value) => {
            let pair = format!("{name}={value}");
            let cookie = match map.remove(COOKIE) {
                Some(existing) => {
                    format!("{}; {pair}", String::from_utf8_lossy(existing.as_bytes()))
                }
                None => pair,
            };
            (COOKIE, cookie)
        }
        Injection::Bearer(token) => (AUTHORIZATION, format!("Bearer {token}")),
        Injection::Basic(user, password) => (
            AUTHORIZATION,
            format!("Basic {}", basic_value(user, password)),
        ),
    };
    let header_name = name.as_str().to_string();
    let mut value = HeaderValue::from_str(&value).map_err(|_| invalid(&header_name))?;
    value.set_sensitive(true);
    map.insert(name, value);
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_respects_existing_query_and_fragment() {
        assert_eq!(
            with_query("http://h/p", "key", "a b&c"),
            "http://h/p?key=a%20b%26c"
        );
        assert_eq!(
            with_query("http://h/p?x=1", "key", "v"),
            "http://h/p?x=1&key=v"
        );
        assert_eq!(with_query("http://h/p?", "key", "v"), "http://h/p?key=v");
        assert_eq!(
            with_query("http://h/p?x=1#top", "key", "v"),
            "http://h/p?x=1&key=v#top"
        );
    }

    #[test]
    fn cookie_is_appended_and_stripped_cross_host() {
        let planned = vec![
            ("Cookie".to_string(), "theme=dark".to_string()),
            ("Accept".to_string(), "x".to_string()),
        ];
        let map = headers(
            &planned,
            Some(Injection::Cookie("sid", "s3cr3t")),
            false,
            "u",
        )
        .unwrap();
        assert_eq!(map.get(COOKIE).unwrap(), "theme=dark; sid=s3cr3t");
        assert!(map.get(COOKIE).unwrap().is_sensitive());
        let map = headers(
            &planned,
            Some(Injection::Cookie("sid", "s3cr3t")),
            true,
            "u",
        )
        .unwrap();
        assert!(map.get(COOKIE).is_none());
        assert_eq!(map.get("accept").unwrap(), "x");
    }

    #[test]
    fn invalid_header_value_error_does_not_echo_it() {
        let err = headers(
            &[],
            Some(Injection::Header("X-Key", "bad\nvalue")),
            false,
            "http://h/",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("X-Key"), "{text}");
        assert!(!text.contains("bad"), "{text}");
    }
}
