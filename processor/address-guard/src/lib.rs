//! The SSRF guard: which addresses a webhook may be delivered to.
//!
//! Refused unless allowed by configuration: loopback, private (10/8, 172.16/12, 192.168/16),
//! link-local (169.254/16, fe80::/10), unique-local (fc00::/7), CGNAT (100.64/10), unspecified,
//! "this network" (0/8), multicast, broadcast, reserved (240/4), benchmarking (198.18/15), IETF
//! protocol assignments (192.0.0/24), site-local (fec0::/10) and cloud metadata (169.254.169.254,
//! fd00:ec2::254). IPv4 inside IPv6 (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64
//! `64:ff9b::/96`, 6to4 `2002::/16`) is judged by the IPv4 address.
//!
//! A pure policy without I/O: the webhook dispatcher applies it to the addresses it actually
//! connects to (its resolver drops refused ones, so DNS rebinding is refused too) and to literal
//! IP hosts ([`AddressGuard::check_literal_host`]); the query API applies it when an endpoint is
//! registered.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// A CIDR in the configuration that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a CIDR like 10.0.0.0/8")]
pub struct BadCidr(pub String);

/// A network: address and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for Cidr {
    type Err = BadCidr;

    /// `10.0.0.0/8`, `fd00::/8` or a single address.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadCidr(s.to_owned());
        let (ip, prefix) = match s.trim().split_once('/') {
            Some((ip, p)) => (ip, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = ip.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(
                u128::from(u32::from(net)) << 96,
                u128::from(u32::from(ip)) << 96,
                self.prefix,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(u128::from(net), u128::from(ip), self.prefix)
            }
            _ => false,
        }
    }
}

fn prefix_eq(a: u128, b: u128, prefix: u8) -> bool {
    if prefix == 0 {
        return true;
    }
    let shift = 128 - u32::from(prefix.min(128));
    (a >> shift) == (b >> shift)
}

/// IPv4 carried in IPv6 (mapped, compatible, NAT64, 6to4) as IPv4; everything else unchanged.
fn canonical(ip: IpAddr) -> IpAddr {
    let IpAddr::V6(v6) = ip else { return ip };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return IpAddr::V4(v4);
    }
    let s = v6.segments();
    let low32 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    // IPv4-compatible ::a.b.c.d (but not :: and ::1 themselves).
    if s[..6].iter().all(|x| *x == 0) && u32::from(low32) > 1 {
        return IpAddr::V4(low32);
    }
    // NAT64 well-known prefix 64:ff9b::/96.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6].iter().all(|x| *x == 0) {
        return IpAddr::V4(low32);
    }
    // 6to4 2002:AABB:CCDD::/48.
    if s[0] == 0x2002 {
        return IpAddr::V4(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    ip
}

fn in4(ip: Ipv4Addr, net: [u8; 4], prefix: u8) -> bool {
    prefix_eq(
        u128::from(u32::from(ip)) << 96,
        u128::from(u32::from(Ipv4Addr::from(net))) << 96,
        prefix,
    )
}

/// Why an address is internal, or `None` for a public one.
pub fn internal_class(ip: IpAddr) -> Option<&'static str> {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let table: &[([u8; 4], u8, &'static str)] = &[
                ([169, 254, 169, 254], 32, "cloud metadata"),
                ([0, 0, 0, 0], 8, "unspecified"),
                ([127, 0, 0, 0], 8, "loopback"),
                ([10, 0, 0, 0], 8, "private"),
                ([172, 16, 0, 0], 12, "private"),
                ([192, 168, 0, 0], 16, "private"),
                ([169, 254, 0, 0], 16, "link-local"),
                ([100, 64, 0, 0], 10, "shared address space (CGNAT)"),
                ([192, 0, 0, 0], 24, "IETF protocol assignments"),
                ([198, 18, 0, 0], 15, "benchmarking"),
                ([255, 255, 255, 255], 32, "broadcast"),
                ([224, 0, 0, 0], 4, "multicast"),
                ([240, 0, 0, 0], 4, "reserved"),
            ];
            table
                .iter()
                .find(|(net, p, _)| in4(v4, *net, *p))
                .map(|(_, _, why)| *why)
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let metadata = u128::from(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254));
            let table: &[(u128, u8, &'static str)] = &[
                (metadata, 128, "cloud metadata"),
                (0, 128, "unspecified"),
                (1, 128, "loopback"),
                (0xfe80 << 112, 10, "link-local"),
                (0xfec0 << 112, 10, "site-local"),
                (0xfc00 << 112, 7, "unique-local"),
                (0xff00 << 112, 8, "multicast"),
            ];
            table
                .iter()
                .find(|(net, p, _)| prefix_eq(bits, *net, *p))
                .map(|(_, _, why)| *why)
        }
    }
}

/// The delivery policy for addresses.
#[derive(Debug, Clone, Default)]
pub struct AddressGuard {
    allow_private: bool,
    allow: Vec<Cidr>,
}

/// A refused target (the error the resolver returns; found again in the HTTP error's sources).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refused by the webhook address guard: {host} resolves to {detail}")]
pub struct Refused {
    pub host: String,
    pub detail: String,
}

impl AddressGuard {
    /// `allow_private` lets every address through; `allow_cidrs` only those networks.
    pub fn new(allow_private: bool, allow_cidrs: &[String]) -> Result<Self, BadCidr> {
        Ok(Self {
            allow_private,
            allow: allow_cidrs
                .iter()
                .map(|c| c.parse())
                .collect::<Result<_, _>>()?,
        })
    }

    /// `Err(class)` for an address that may not be delivered to.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), &'static str> {
        if self.allow_private || self.allow.iter().any(|c| c.contains(ip)) {
            return Ok(());
        }
        internal_class(ip).map_or(Ok(()), Err)
    }

    /// Checks a URL's host when it is a literal IP address (names are checked when resolved).
    /// Pass the host as a URL parser normalized it (`2130706433` is `127.0.0.1`); IPv6 may be in
    /// brackets.
    pub fn check_literal_host(&self, host: &str) -> Result<(), Refused> {
        let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        else {
            return Ok(());
        };
        self.check_ip(ip).map_err(|class| Refused {
            host: host.to_owned(),
            detail: format!("{ip} ({class})"),
        })
    }

    /// Keeps the allowed addresses; refuses when none is left.
    pub fn filter(&self, host: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, Refused> {
        let mut refused = Vec::new();
        let ok: Vec<SocketAddr> = addrs
            .into_iter()
            .filter(|a| match self.check_ip(a.ip()) {
                Ok(()) => true,
                Err(class) => {
                    refused.push(format!("{} ({class})", a.ip()));
                    false
                }
            })
            .collect();
        if ok.is_empty() {
            return Err(Refused {
                host: host.to_owned(),
                detail: if refused.is_empty() {
                    "no address".into()
                } else {
                    refused.join(", ")
                },
            });
        }
        Ok(ok)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn class(s: &str) -> Option<&'static str> {
        internal_class(s.parse().unwrap())
    }

    #[test]
    fn classifies_internal_addresses() {
        for (ip, want) in [
            ("127.0.0.1", Some("loopback")),
            ("10.1.2.3", Some("private")),
            ("172.31.255.255", Some("private")),
            ("172.32.0.1", None),
            ("192.168.1.1", Some("private")),
            ("169.254.169.254", Some("cloud metadata")),
            ("169.254.1.1", Some("link-local")),
            ("100.64.0.1", Some("shared address space (CGNAT)")),
            ("100.128.0.1", None),
            ("0.0.0.0", Some("unspecified")),
            ("255.255.255.255", Some("broadcast")),
            ("224.0.0.1", Some("multicast")),
            ("8.8.8.8", None),
            ("::1", Some("loopback")),
            ("::", Some("unspecified")),
            ("fe80::1", Some("link-local")),
            ("fc00::1", Some("unique-local")),
            ("fd12:3456::1", Some("unique-local")),
            ("fd00:ec2::254", Some("cloud metadata")),
            ("ff02::1", Some("multicast")),
            ("::ffff:127.0.0.1", Some("loopback")),
            ("::ffff:10.0.0.1", Some("private")),
            ("64:ff9b::a9fe:a9fe", Some("cloud metadata")),
            ("2002:c0a8:0101::1", Some("private")),
            ("2606:4700::1111", None),
        ] {
            assert_eq!(class(ip), want, "{ip}");
        }
    }

    #[test]
    fn allow_list_and_allow_private() {
        let g = AddressGuard::new(false, &["127.0.0.1/32".into(), "10.0.0.0/8".into()]).unwrap();
        assert!(g.check_ip("127.0.0.1".parse().unwrap()).is_ok());
        assert!(g.check_ip("::ffff:127.0.0.1".parse().unwrap()).is_ok());
        assert!(g.check_ip("127.0.0.2".parse().unwrap()).is_err());
        assert!(g.check_ip("10.9.9.9".parse().unwrap()).is_ok());
        assert!(g.check_ip("192.168.0.1".parse().unwrap()).is_err());
        let open = AddressGuard::new(true, &[]).unwrap();
        assert!(open.check_ip("169.254.169.254".parse().unwrap()).is_ok());
        assert!(AddressGuard::new(false, &["10.0.0.0/33".into()]).is_err());
        assert!(AddressGuard::default().check_literal_host("[::1]").is_err());
        assert!(
            AddressGuard::default()
                .check_literal_host("127.0.0.1")
                .is_err()
        );
        assert!(
            AddressGuard::default()
                .check_literal_host("example.com")
                .is_ok()
        );
        let mixed = vec![
            "10.0.0.1:0".parse().unwrap(),
            "93.184.216.34:0".parse().unwrap(),
        ];
        assert_eq!(AddressGuard::default().filter("h", mixed).unwrap().len(), 1);
        let err = AddressGuard::default()
            .filter("h", vec!["127.0.0.1:0".parse().unwrap()])
            .unwrap_err();
        assert!(err.to_string().contains("127.0.0.1 (loopback)"));
    }
}
