//! Where deliveries may go. Only `https`, and only to global unicast addresses: never to
//! loopback, private, link-local, shared (CGNAT), multicast, reserved or unspecified
//! addresses, nor cloud metadata endpoints, nor an IPv6 address that embeds one of those
//! IPv4 addresses (mapped, compatible, translated, 6to4) or hides one (Teredo, NAT64);
//! unless `PARINDEX_WEBHOOK_ALLOW_PRIVATE=true`. Checked when a subscription is saved and
//! again at every delivery: the URL itself (`check_at_delivery`: a subscription saved
//! while private addresses were allowed stops when they no longer are), and the addresses
//! the connection actually uses (the HTTP client resolves through `GuardedResolver`, and
//! ignores proxy variables, which would resolve names themselves), so a name re-pointed
//! after the check (DNS rebinding) is refused too.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// How long saving a subscription waits for its host to resolve.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

/// Whether deliveries may not reach `ip`: anything but a global unicast address.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v6(v6: Ipv6Addr) -> bool {
    let s = v6.segments();
    // IPv4 inside: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d, deprecated),
    // translated (::ffff:0:a.b.c.d), 6to4 (2002:AABB:CCDD::/48): the IPv4 address decides.
    let embedded =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if let Some(v4) = v6.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    if s[..6] == [0, 0, 0, 0, 0, 0] {
        // ::a.b.c.d, and :: and ::1 themselves.
        return true;
    }
    if s[..6] == [0, 0, 0, 0, 0xffff, 0] {
        return forbidden_v4(embedded(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return forbidden_v4(embedded(s[1], s[2]));
    }
    // Only the global unicast range 2000::/3, less what in it is not the open Internet:
    // Teredo 2001::/32 (an IPv4 address hidden inside), documentation 2001:db8::/32,
    // benchmarking 2001:2::/48, ORCHID 2001:10::/28 and 2001:20::/28, and NAT64
    // 64:ff9b::/96 (outside 2000::/3 anyway).
    let global = (s[0] & 0xe000) == 0x2000;
    let special = s[0] == 0x2001
        && (s[1] == 0
            || s[1] == 0x0db8
            || (s[1] == 0x0002 && s[2] == 0)
            || (s[1] & 0xfff0) == 0x0010
            || (s[1] & 0xfff0) == 0x0020);
    !global || special
}

/// The URL of a subscription, checked again before each delivery with the settings in
/// force now: the scheme (`https`, unless private addresses are allowed) and, for an IP
/// address written in it, that address (names are checked where they resolve,
/// `GuardedResolver`).
pub fn check_at_delivery(url: &str, allow_private: bool) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    if allow_private {
        return Ok(());
    }
    if parsed.scheme() != "https" {
        return Err(format!(
            "{}:// is not allowed (only https://, with PARINDEX_WEBHOOK_ALLOW_PRIVATE off)",
            parsed.scheme()
        ));
    }
    let ip = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        _ => None,
    };
    match ip {
        Some(ip) if is_forbidden(ip) => Err(format!(
            "{ip} is a loopback, private, link-local, reserved or metadata address"
        )),
        _ => Ok(()),
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
    check_at_delivery(url, allow_private)?;
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
            // IPv4 embedded in IPv6, as reported: compatible, translated, 6to4.
            "::127.0.0.1",
            "::ffff:0:7f00:1",
            "2002:7f00:1::",
            "::ffff:0:a9fe:a9fe",
            "2002:a9fe:a9fe::1",
            "2002:0a00:0001::",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2", // Teredo
            "64:ff9b::7f00:1",                      // NAT64
            "2001:db8::1",
            "100::1",
        ] {
            assert!(is_forbidden(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "203.113.131.1",
            "8.8.8.8",
            "2001:4860:4860::8888",
            "14.225.0.1",
            "2002:cb71:8301::1", // 6to4 of 203.113.131.1
            "2402:800:6314::1",
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
        for url in [
            "https://[::127.0.0.1]/",
            "https://[::ffff:0:7f00:1]/",
            "https://[2002:7f00:1::]/",
            "https://[::ffff:0:a9fe:a9fe]/",
        ] {
            assert!(check_url(url, false).await.is_err(), "{url}");
        }
    }

    #[test]
    fn every_delivery_checks_the_url_with_the_settings_of_now() {
        // Saved while private addresses were allowed; delivered after they no longer are.
        assert!(check_at_delivery("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(check_at_delivery("http://127.0.0.1:9000/hook", false).is_err());
        assert!(check_at_delivery("https://10.0.0.8/hook", false).is_err());
        assert!(check_at_delivery("https://[::ffff:0:7f00:1]/", false).is_err());
        assert!(check_at_delivery("https://203.113.131.1/hook", false).is_ok());
        assert!(check_at_delivery("https://hooks.example.vn/x", false).is_ok());
    }
}
