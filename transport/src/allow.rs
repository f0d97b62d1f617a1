//! The host allow-list: `host:port` entries match exactly, bare `host` entries match any port.

use reqwest::Url;

/// `host:port` of an absolute http(s) URL (e.g. a `base_url`), the key the allow-list matches.
pub fn host_of(url: &str) -> Option<String> {
    Url::parse(url).ok().as_ref().and_then(url_host)
}

pub(crate) fn url_host(url: &Url) -> Option<String> {
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    Some(format!("{host}:{}", url.port_or_known_default()?))
}

/// A parsed allow-list.
#[derive(Clone, Debug, Default)]
pub(crate) struct AllowList {
    entries: Vec<(String, Option<u16>)>,
    display: String,
}

impl AllowList {
    pub(crate) fn new(entries: &[String]) -> Self {
        let parsed: Vec<(String, Option<u16>)> =
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

    /// Whether `host_port` (as from [`host_of`]) is allowed.
    pub(crate) fn allows(&self, host_port: &str) -> bool {
        let Some((host, port)) = split_host_port(host_port) else {
            return false;
        };
        self.entries
            .iter()
            .any(|(h, p)| *h == host && p.is_none_or(|p| Some(p) == port))
    }

    pub(crate) fn display(&self) -> &str {
        &self.display
    }
}

fn parse_entry(entry: &str) -> Option<(String, Option<u16>)> {
    let entry = entry.trim();
    if entry.contains("://") {
        return split_host_port(&host_of(entry)?);
    }
    split_host_port(entry)
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
