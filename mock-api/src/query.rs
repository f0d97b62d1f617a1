//! Splitting a request target into its path and decoded query pairs.

/// Splits `/path?a=1&b=2` into the path and the decoded `(name, value)` pairs, in order.
pub(crate) fn split_target(target: &str) -> (String, Vec<(String, String)>) {
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, query),
        None => (target, ""),
    };
    let pairs = query
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| match part.split_once('=') {
            Some((name, value)) => (decode(name), decode(value)),
            None => (decode(part), String::new()),
        })
        .collect();
    (path.to_string(), pairs)
}

/// Percent-decodes a query component (`+` is a space). Invalid escapes stay as they are;
/// invalid UTF-8 is replaced.
pub(crate) fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The first value of `name` in `pairs`.
pub(crate) fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_decodes() {
        let (path, pairs) = split_target("/v1/inventory?api_key=a%2Bb+c&offset=10&flag&&x=%zz%4");
        assert_eq!(path, "/v1/inventory");
        assert_eq!(
            pairs,
            vec![
                ("api_key".to_string(), "a+b c".to_string()),
                ("offset".to_string(), "10".to_string()),
                ("flag".to_string(), String::new()),
                ("x".to_string(), "%zz%4".to_string()),
            ]
        );
        assert_eq!(first(&pairs, "offset"), Some("10"));
        assert_eq!(first(&pairs, "limit"), None);
    }

    #[test]
    fn no_query() {
        let (path, pairs) = split_target("/v1/inventory");
        assert_eq!(path, "/v1/inventory");
        assert!(pairs.is_empty());
        assert_eq!(decode("caf%C3%A9"), "café");
    }
}
