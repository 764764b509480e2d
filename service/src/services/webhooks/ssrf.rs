//! Where deliveries may go. Only `https`, and never to loopback, private, link-local,
//! shared (CGNAT), multicast or unspecified addresses, nor cloud metadata endpoints,
//! unless `PARINDEX_WEBHOOK_ALLOW_PRIVATE=true`. Checked when a subscription is saved and
//! again at every delivery, on the addresses the connection actually uses (the HTTP
//! client resolves through `GuardedResolver`), so a name re-pointed after the check (DNS
//! rebinding) is refused too.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// How long saving a subscription waits for its host to resolve.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

/// Whether deliveries may reach `ip`.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
                || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) // AWS metadata (IPv6)
                || (v6.segments()[0] == 0x64 && v6.segments()[1] == 0xff9b) // NAT64 64:ff9b::/96
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, _, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16, the metadata endpoints included
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

/// Resolves through the system, then drops forbidden addresses; no address left is an
/// error, so the request never connects.
#[derive(Clone, Copy, Debug)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow_private || !is_forbidden(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!(
                    "{host} resolves to no address deliveries may reach (loopback, private, \
                     link-local or metadata addresses are refused)"
                )
                .into());
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// Checks a subscription's URL: its scheme, and every address its host resolves to now.
/// `Err` says why in plain words.
pub async fn check_url(url: &str, allow_private: bool) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    match parsed.scheme() {
        "https" => {}
        "http" if allow_private => {}
        other => return Err(format!("{other}:// is not allowed: use https://")),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("credentials in the URL are not allowed".to_string());
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| "the URL names no host".to_string())?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    if allow_private {
        return Ok(parsed);
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::time::timeout(
            LOOKUP_TIMEOUT,
            tokio::net::lookup_host((host.as_str(), port)),
        )
        .await
        .map_err(|_| {
            format!(
                "{host} did not resolve within {} s",
                LOOKUP_TIMEOUT.as_secs()
            )
        })?
        .map_err(|e| format!("{host} does not resolve: {e}"))?
        .collect(),
    };
    if addrs.is_empty() {
        return Err(format!("{host} does not resolve"));
    }
    if let Some(bad) = addrs.iter().find(|a| is_forbidden(a.ip())) {
        return Err(format!(
            "{host} resolves to {}, a loopback, private, link-local or metadata address",
            bad.ip()
        ));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_metadata_addresses_are_forbidden() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "fd00:ec2::254",
        ] {
            assert!(is_forbidden(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "203.113.131.1",
            "8.8.8.8",
            "2001:4860:4860::8888",
            "14.225.0.1",
        ] {
            assert!(!is_forbidden(ip.parse().unwrap()), "{ip}");
        }
    }

    /// The check at connect time: a name that resolves to loopback (as a rebinding DNS
    /// would answer after the check at save time) gets no address to connect to.
    #[tokio::test]
    async fn the_resolver_refuses_private_answers_at_connect_time() {
        let name: Name = "localhost".parse().unwrap();
        assert!(
            GuardedResolver {
                allow_private: false
            }
            .resolve(name)
            .await
            .is_err()
        );
        let name: Name = "localhost".parse().unwrap();
        let found: Vec<SocketAddr> = GuardedResolver {
            allow_private: true,
        }
        .resolve(name)
        .await
        .unwrap()
        .collect();
        assert!(found.iter().all(|a| a.ip().is_loopback()) && !found.is_empty());
    }

    #[tokio::test]
    async fn urls_are_checked_before_saving() {
        assert!(check_url("http://example.vn/hook", false).await.is_err());
        assert!(check_url("https://127.0.0.1/hook", false).await.is_err());
        assert!(check_url("https://[::1]:8443/hook", false).await.is_err());
        assert!(
            check_url("https://169.254.169.254/latest", false)
                .await
                .is_err()
        );
        assert!(check_url("https://localhost/hook", false).await.is_err());
        assert!(
            check_url("https://user:pw@203.113.131.1/", false)
                .await
                .is_err()
        );
        assert!(check_url("ftp://203.113.131.1/", false).await.is_err());
        assert!(check_url("https://203.113.131.1/hook", false).await.is_ok());
        assert!(check_url("http://127.0.0.1:9000/hook", true).await.is_ok());
    }
}
