//! Percent-encoding and URL building, without a URL crate.

/// Percent-encodes `s` for a query key or value: RFC 3986 unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`) are kept, every other UTF-8 byte becomes `%XX`.
pub fn percent_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0F)]));
        }
    }
    out
}

/// Joins `base` and `path` with exactly one slash between them. An absolute `path`
/// (`http://` or `https://`) is used as it is.
pub fn join(base: &str, path: &str) -> String {
    if path.starts_with("http://") || path.starts_with("https://") {
        return path.to_string();
    }
    let path = path.trim_start_matches('/');
    if path.is_empty() {
        return base.to_string();
    }
    format!("{}/{}", base.trim_end_matches('/'), path)
}

/// `base` + `path` + `?k=v&...`, keys and values percent-encoded. Appends with `&` when the
/// URL already has a query.
pub fn build(base: &str, path: &str, query: &[(String, String)]) -> String {
    let mut url = join(base, path);
    let mut sep = if url.contains('?') { '&' } else { '?' };
    for (k, v) in query {
        url.push(sep);
        url.push_str(&percent_encode(k));
        url.push('=');
        url.push_str(&percent_encode(v));
        sep = '&';
    }
    url
}

/// `scheme://authority` of an absolute URL, or `None`.
fn origin(url: &str) -> Option<&str> {
    let scheme_end = url.find("://")?;
    let rest = &url[scheme_end + 3..];
    let end = rest
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + 3 + i);
    Some(&url[..end])
}

/// Resolves `reference` (a next link) against the absolute `base` URL, as a browser does:
/// absolute URLs stay, `//host/x` takes the base scheme, `/x` the base origin, `?q` the base
/// path, and `x` the base's directory. Dot segments are left as they are.
pub fn resolve(base: &str, reference: &str) -> String {
    let reference = reference.trim();
    if reference.contains("://") && !reference.starts_with('/') && !reference.starts_with('?') {
        return reference.to_string();
    }
    let base = base.split('#').next().unwrap_or(base);
    let Some(origin) = origin(base) else {
        return reference.to_string();
    };
    if let Some(rest) = reference.strip_prefix("//") {
        let scheme = base.split("://").next().unwrap_or("https");
        return format!("{scheme}://{rest}");
    }
    if reference.starts_with('/') {
        return format!("{origin}{reference}");
    }
    let path_and_query = &base[origin.len()..];
    let path = path_and_query.split('?').next().unwrap_or("");
    if reference.starts_with('?') {
        return format!("{origin}{path}{reference}");
    }
    let dir = match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "/",
    };
    format!("{origin}{dir}{reference}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_next_links_like_a_browser() {
        let base = "https://a.io/v1/items?page=1";
        assert_eq!(resolve(base, "https://b.io/x?p=2"), "https://b.io/x?p=2");
        assert_eq!(
            resolve(base, "/v2/items?page=2"),
            "https://a.io/v2/items?page=2"
        );
        assert_eq!(resolve(base, "?page=2"), "https://a.io/v1/items?page=2");
        assert_eq!(
            resolve(base, "items?page=2"),
            "https://a.io/v1/items?page=2"
        );
        assert_eq!(resolve(base, "//c.io/y"), "https://c.io/y");
        assert_eq!(
            resolve("http://127.0.0.1:8080", "/x"),
            "http://127.0.0.1:8080/x"
        );
        assert_eq!(
            resolve("http://127.0.0.1:8080?a=1", "x"),
            "http://127.0.0.1:8080/x"
        );
    }

    #[test]
    fn keeps_unreserved_and_encodes_the_rest() {
        assert_eq!(percent_encode("aZ09-._~"), "aZ09-._~");
        assert_eq!(percent_encode("a b&c=d/e?"), "a%20b%26c%3Dd%2Fe%3F");
        assert_eq!(percent_encode("é"), "%C3%A9");
        assert_eq!(percent_encode("+%"), "%2B%25");
    }

    #[test]
    fn joins_without_double_slashes() {
        assert_eq!(join("https://a.io/", "/v1/x"), "https://a.io/v1/x");
        assert_eq!(join("https://a.io", "v1/x"), "https://a.io/v1/x");
        assert_eq!(join("https://a.io/api/", "items"), "https://a.io/api/items");
        assert_eq!(join("https://a.io/api", ""), "https://a.io/api");
        assert_eq!(join("https://a.io", "https://b.io/y"), "https://b.io/y");
    }

    #[test]
    fn builds_query_in_order() {
        let q = vec![
            ("status".to_string(), "in stock".to_string()),
            ("offset".into(), "0".into()),
        ];
        assert_eq!(
            build("https://a.io", "/v1", &q),
            "https://a.io/v1?status=in%20stock&offset=0"
        );
        assert_eq!(
            build("https://a.io/v1?k=1", "", &q[1..]),
            "https://a.io/v1?k=1&offset=0"
        );
        assert_eq!(build("https://a.io", "v1", &[]), "https://a.io/v1");
    }
}
