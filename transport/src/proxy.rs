//! The proxies the environment names (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, as curl
//! reads them): reqwest sends through them; the address policy lets their hosts be (a
//! company's proxy has a private address, and the machine's administrator chose it).

/// The hosts of the proxies the environment names (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`,
/// either case; a value without a scheme is a host and port, as reqwest reads it).
pub(crate) fn env_proxy_hosts() -> Vec<String> {
    let names = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"];
    names
        .iter()
        .flat_map(|n| [n.to_string(), n.to_ascii_lowercase()])
        .filter_map(|n| std::env::var(n).ok())
        .filter_map(|v| proxy_host(&v))
        .collect()
}

/// The host of a proxy variable's value, lower-case and without a trailing dot.
fn proxy_host(value: &str) -> Option<String> {
    let value = value.trim();
    let url = match value.contains("://") {
        true => reqwest::Url::parse(value).ok()?,
        false => reqwest::Url::parse(&format!("http://{value}")).ok()?,
    };
    let host = url.host_str()?.trim_end_matches('.').to_ascii_lowercase();
    Some(host.trim_matches(['[', ']']).to_string())
}

#[cfg(test)]
mod tests {
    use super::proxy_host;

    #[test]
    fn a_proxy_variable_names_its_host() {
        for (value, host) in [
            ("http://proxy.corp:3128", "proxy.corp"),
            ("http://user:pw@Proxy.Corp.:3128/", "proxy.corp"),
            ("proxy.corp:3128", "proxy.corp"),
            ("socks5://10.0.0.5:1080", "10.0.0.5"),
            ("http://[fd00::5]:3128", "fd00::5"),
        ] {
            assert_eq!(proxy_host(value).as_deref(), Some(host), "{value}");
        }
        assert_eq!(proxy_host(""), None);
    }
}
