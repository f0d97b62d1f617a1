//! Egress by address: every hostname a request (or a redirect hop) connects to is resolved
//! here, and an address in a loopback, private, link-local, metadata or otherwise special
//! range is refused unless the config names that address itself (an IP `base_url`; or
//! `localhost`, for loopback) or `--allow-private-network` is given. The allow-list checks
//! names; this checks where a name leads (a public-looking hostname pointing at
//! `169.254.169.254` or `10.0.0.1`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Which addresses requests may connect to.
#[derive(Clone, Debug, Default)]
pub struct NetworkPolicy {
    /// Connect to any address (`--allow-private-network`).
    pub allow_private: bool,
    /// Addresses the config names literally (an IP `base_url`, token URL or allowed host).
    pub named: Vec<IpAddr>,
    /// Loopback addresses are allowed (the config names `localhost`).
    pub loopback: bool,
    /// Fixed addresses for hostnames, used instead of DNS (like curl's `--resolve`); checked
    /// like resolved ones.
    pub overrides: HashMap<String, Vec<IpAddr>>,
    /// Hostnames whose addresses are not checked: the proxies the environment names (the
    /// machine's administrator chose them, and a company's proxy has a private address).
    pub proxies: Vec<String>,
}

/// A hostname that resolves to an address the policy refuses.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "host \"{host}\" resolves to {addr}, a {kind} address the config does not name; refused (--allow-private-network allows it)"
)]
pub struct PrivateAddress {
    pub host: String,
    pub addr: IpAddr,
    pub kind: &'static str,
}

impl NetworkPolicy {
    /// Checks the addresses `host` resolved to: all must be allowed.
    pub fn check(&self, host: &str, addrs: &[IpAddr]) -> Result<(), PrivateAddress> {
        if self.allow_private || self.proxies.iter().any(|p| p == host) {
            return Ok(());
        }
        for &addr in addrs {
            let Some(kind) = special_range(addr) else {
                continue;
            };
            let named = self.named.contains(&addr) || (self.loopback && kind == "loopback");
            if !named {
                return Err(PrivateAddress {
                    host: host.to_string(),
                    addr,
                    kind,
                });
            }
        }
        Ok(())
    }
}

/// Why `ip` is not a public address, or `None` for a public one. Unit-tested on parsed
/// addresses: tests never connect outside 127.0.0.0/8.
pub fn special_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            Some(match o {
                [127, ..] => "loopback",
                [169, 254, 169, 254] => "metadata",
                [169, 254, ..] => "link-local",
                [10, ..] | [192, 168, ..] => "private",
                [172, b, ..] if (16..32).contains(&b) => "private",
                [100, b, ..] if (64..128).contains(&b) => "shared (carrier-grade NAT)",
                [0, ..] => "unspecified",
                [a, ..] if a >= 224 => "multicast or reserved",
                _ => return None,
            })
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return special_range(IpAddr::V4(v4));
            }
            let s = v6.segments();
            Some(match s {
                _ if v6.is_loopback() => "loopback",
                _ if v6.is_unspecified() => "unspecified",
                [0xfd00, 0xec2, ..] => "metadata",
                [a, ..] if a & 0xfe00 == 0xfc00 => "private (unique local)",
                [a, ..] if a & 0xffc0 == 0xfe80 => "link-local",
                [a, ..] if a & 0xff00 == 0xff00 => "multicast",
                _ => return None,
            })
        }
    }
}

/// The resolver the HTTP client connects through.
#[derive(Debug)]
pub(crate) struct CheckedResolver {
    pub(crate) policy: Arc<NetworkPolicy>,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        Box::pin(async move {
            let addrs: Vec<IpAddr> = match policy.overrides.get(&host) {
                Some(fixed) => fixed.clone(),
                None => {
                    let lookup = host.clone();
                    tokio::task::spawn_blocking(move || {
                        (lookup.as_str(), 0)
                            .to_socket_addrs()
                            .map(|it| it.map(|a| a.ip()).collect::<Vec<_>>())
                    })
                    .await
                    .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)??
                }
            };
            policy.check(&host, &addrs)?;
            let addrs: Addrs = Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn special_ranges_are_named() {
        for (addr, kind) in [
            ("127.0.0.2", Some("loopback")),
            ("10.1.2.3", Some("private")),
            ("172.16.0.1", Some("private")),
            ("172.32.0.1", None),
            ("192.168.1.1", Some("private")),
            ("169.254.169.254", Some("metadata")),
            ("169.254.1.1", Some("link-local")),
            ("100.64.0.1", Some("shared (carrier-grade NAT)")),
            ("0.0.0.0", Some("unspecified")),
            ("8.8.8.8", None),
            ("::1", Some("loopback")),
            ("::ffff:10.0.0.1", Some("private")),
            ("fd00:ec2::254", Some("metadata")),
            ("fc00::1", Some("private (unique local)")),
            ("fe80::1", Some("link-local")),
            ("2001:db8::1", None),
        ] {
            assert_eq!(special_range(ip(addr)), kind, "{addr}");
        }
    }

    #[test]
    fn the_policy_allows_what_the_config_names() {
        let p = NetworkPolicy {
            named: vec![ip("127.0.0.1")],
            ..NetworkPolicy::default()
        };
        assert!(p.check("a", &[ip("127.0.0.1")]).is_ok());
        assert!(p.check("a", &[ip("93.184.216.34")]).is_ok());
        let err = p.check("evil.test", &[ip("127.0.0.2")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "host \"evil.test\" resolves to 127.0.0.2, a loopback address the config does not name; refused (--allow-private-network allows it)"
        );
        // One bad address among good ones is enough (DNS rebinding picks any of them).
        assert!(
            p.check("m", &[ip("93.184.216.34"), ip("169.254.169.254")])
                .is_err()
        );
        let localhost = NetworkPolicy {
            loopback: true,
            ..NetworkPolicy::default()
        };
        assert!(
            localhost
                .check("localhost", &[ip("127.0.0.1"), ip("::1")])
                .is_ok()
        );
        assert!(localhost.check("x", &[ip("10.0.0.1")]).is_err());
        let open = NetworkPolicy {
            allow_private: true,
            ..NetworkPolicy::default()
        };
        assert!(open.check("x", &[ip("10.0.0.1")]).is_ok());
        let proxied = NetworkPolicy {
            proxies: vec!["proxy.corp".into()],
            ..NetworkPolicy::default()
        };
        assert!(proxied.check("proxy.corp", &[ip("10.0.0.5")]).is_ok());
        assert!(proxied.check("api.corp", &[ip("10.0.0.5")]).is_err());
    }
}
