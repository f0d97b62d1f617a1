//! The host allow-list: `host:port` entries match exactly, bare `host` entries match any port.

use reqwest::Url;

/// `host:port` of an absolute http(s) URL (e.g. a `base_url`), the key the allow-list matches.
pub fn host_of(url: &str) -> Option<String> {
    Url::parse(url).ok().as_ref().and_then(url_host)
}

/// `host:port` of a parsed URL. The URL parser has already normalized the host (userinfo
/// split off, percent-decoding, IDNA to punycode, IPv4 in decimal, octal or hex forms to
/// dotted quads, IPv6 to its canonical form); a trailing dot is dropped here, so
/// `api.example.com.` is the host it names.
pub(crate) fn url_host(url: &Url) -> Option<String> {
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?.trim_end_matches('.').to_ascii_lowercase();
    Some(format!("{host}:{}", url.port_or_known_default()?))
}

/// Whether a request to `url` passes the allow-list `entries` (`host`, `host:port` or an
/// origin URL), after the URL's normalization.
pub fn url_allowed(entries: &[String], url: &str) -> bool {
    Url::parse(url).is_ok_and(|u| AllowList::new(entries).allows_url(&u))
}

/// A parsed allow-list.
#[derive(Clone, Debug, Default)]
pub(crate) struct AllowList {
    /// `(scheme, host, port)`: entries written as URLs match their scheme only.
    entries: Vec<(Option<String>, String, Option<u16>)>,
    display: String,
}

impl AllowList {
    pub(crate) fn new(entries: &[String]) -> Self {
        let parsed: Vec<(Option<String>, String, Option<u16>)> =
            entries.iter().filter_map(|e| parse_entry(e)).collect();
        let display = if entries.is_empty() {
            "none".to_string()
        } else {
            entries.join(", ")
        };
        AllowList {
            entries: parsed,
            display,
        }
    }

    /// Whether `host_port` (as from [`host_of`]) is allowed, for any scheme.
    #[cfg(test)]
    pub(crate) fn allows(&self, host_port: &str) -> bool {
        self.allows_scheme(None, host_port)
    }

    /// Whether `url` (scheme, host and port, normalized) is allowed.
    pub(crate) fn allows_url(&self, url: &Url) -> bool {
        url_host(url).is_some_and(|h| self.allows_scheme(Some(url.scheme()), &h))
    }

    fn allows_scheme(&self, scheme: Option<&str>, host_port: &str) -> bool {
        let Some((host, port)) = split_host_port(host_port) else {
            return false;
        };
        self.entries.iter().any(|(s, h, p)| {
            *h == host
                && p.is_none_or(|p| Some(p) == port)
                && s.as_deref().is_none_or(|s| scheme.is_none_or(|x| x == s))
        })
    }

    pub(crate) fn display(&self) -> &str {
        &self.display
    }
}

fn parse_entry(entry: &str) -> Option<(Option<String>, String, Option<u16>)> {
    let entry = entry.trim();
    if entry.contains("://") {
        let url = Url::parse(entry).ok()?;
        let (host, port) = split_host_port(&url_host(&url)?)?;
        return Some((Some(url.scheme().to_string()), host, port));
    }
    let (host, port) = split_host_port(entry)?;
    Some((None, host.trim_end_matches('.').to_string(), port))
}

/// `host[:port]` or `[v6][:port]`, host lowercased.
fn split_host_port(s: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, tail) = rest.split_once(']')?;
        (format!("[{h}]"), tail.strip_prefix(':'))
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (s.to_string(), None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok()?),
        None => None,
    };
    Some((host.to_ascii_lowercase(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_compared_after_normalization() {
        let list = AllowList::new(&["http://127.0.0.1:4000".into(), "api.example.com".into()]);
        let allowed = |u: &str| list.allows_url(&Url::parse(u).unwrap());
        for ok in [
            "http://127.0.0.1:4000/x",
            "http://2130706433:4000/decimal",
            "http://0x7f.0.0.1:4000/hex",
            "http://0177.0.0.1:4000/octal",
            "http://127.1:4000/short",
            "http://user:pw@127.0.0.1:4000/userinfo",
            "http://127.0.0.1.:4000/trailing-dot",
            "https://API.Example.COM./v1",
            "https://%61pi.example.com/percent",
        ] {
            assert!(allowed(ok), "{ok}");
        }
        for refused in [
            "https://127.0.0.1:4000/other-scheme",
            "http://127.0.0.1:4001/other-port",
            "http://127.0.0.1:4000@evil.example/",
            "http://evil.example#@127.0.0.1:4000",
            "http://evil.example\\@127.0.0.1:4000/",
            "http://[::ffff:127.0.0.1]:4000/mapped",
            "http://127.0.0.2:4000/",
            "http://api.example.com.evil.example/",
            "https://xn--pi-ida.example.com/idn-lookalike",
            "ftp://127.0.0.1:4000/",
        ] {
            assert!(!allowed(refused), "{refused}");
        }
    }

    #[test]
    fn host_of_adds_default_ports() {
        assert_eq!(
            host_of("https://api.example.com/v1").as_deref(),
            Some("api.example.com:443")
        );
        assert_eq!(
            host_of("http://API.example.com/v1").as_deref(),
            Some("api.example.com:80")
        );
        assert_eq!(
            host_of("http://127.0.0.1:4000/x?y=1").as_deref(),
            Some("127.0.0.1:4000")
        );
        assert_eq!(host_of("http://[::1]:8080/").as_deref(), Some("[::1]:8080"));
        assert_eq!(host_of("ftp://example.com/"), None);
        assert_eq!(host_of("not a url"), None);
    }

    #[test]
    fn entries_with_and_without_port() {
        let list = AllowList::new(&[
            "127.0.0.1:4000".into(),
            "Example.com".into(),
            "[::1]:9".into(),
        ]);
        assert!(list.allows("127.0.0.1:4000"));
        assert!(!list.allows("127.0.0.1:4001"));
        assert!(list.allows("example.com:443"));
        assert!(list.allows("example.com:8080"));
        assert!(!list.allows("evil.example:80"));
        assert!(!list.allows("sub.example.com:443"));
        assert!(list.allows("[::1]:9"));
        assert!(!list.allows("[::1]:10"));
        assert!(!AllowList::new(&[]).allows("127.0.0.1:4000"));
        assert_eq!(AllowList::new(&[]).display(), "none");
    }
}
