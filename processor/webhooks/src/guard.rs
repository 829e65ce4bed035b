//! The webhook client's side of the SSRF guard ([`tcg_address_guard`]): the check happens at
//! delivery time against the addresses actually connected to. The HTTP client resolves names
//! through [`GuardedResolver`], which drops refused addresses (so a name that resolves to an
//! internal address when it is used, DNS rebinding, is refused), and literal IP hosts (which skip
//! resolution) are checked by [`check_url`].

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
pub use tcg_address_guard::{AddressGuard, BadCidr, Cidr, Refused, internal_class};

/// Checks a URL whose host is a literal IP address (names are checked when resolved). `Url`
/// normalizes literal hosts (`2130706433` is `127.0.0.1`); IPv6 is in brackets.
pub fn check_url(guard: &AddressGuard, url: &reqwest::Url) -> Result<(), Refused> {
    guard.check_literal_host(url.host_str().unwrap_or_default())
}

/// Looks a host name up (the system resolver unless replaced, e.g. by a test simulating DNS
/// rebinding). The guard judges whatever it returns.
pub type Lookup = Arc<dyn Fn(&str) -> std::io::Result<Vec<IpAddr>> + Send + Sync>;

/// The HTTP client's resolver: system DNS, then the guard, so the client only ever connects to
/// addresses that passed it.
#[derive(Clone)]
pub struct GuardedResolver {
    guard: Arc<AddressGuard>,
    lookup: Option<Lookup>,
}

impl std::fmt::Debug for GuardedResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedResolver")
            .field("guard", &self.guard)
            .field(
                "lookup",
                &self.lookup.as_ref().map_or("system", |_| "custom"),
            )
            .finish()
    }
}

impl GuardedResolver {
    pub fn new(guard: Arc<AddressGuard>) -> Self {
        Self {
            guard,
            lookup: None,
        }
    }

    /// Resolves names with `lookup` instead of the system resolver (the guard still judges
    /// every address it returns, at every connection).
    pub fn with_lookup(guard: Arc<AddressGuard>, lookup: Lookup) -> Self {
        Self {
            guard,
            lookup: Some(lookup),
        }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.guard.clone();
        let lookup = self.lookup.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = match lookup {
                Some(f) => f(&host)?
                    .into_iter()
                    .map(|ip| SocketAddr::new(ip, 0))
                    .collect(),
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            let ok = guard.filter(&host, addrs)?;
            Ok(Box::new(ok.into_iter()) as Addrs)
        })
    }
}

/// The guard's refusal inside an error's chain of sources, if that is what it is.
pub fn find_refusal(err: &(dyn std::error::Error + 'static)) -> Option<Refused> {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<Refused>() {
            return Some(r.clone());
        }
        cur = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn literal_ip_urls_are_checked_as_normalized() {
        let g = AddressGuard::default();
        let url: reqwest::Url = "http://[::1]:8080/x".parse().unwrap();
        assert!(check_url(&g, &url).is_err());
        let url: reqwest::Url = "http://2130706433/x".parse().unwrap();
        assert!(check_url(&g, &url).is_err());
        let url: reqwest::Url = "https://example.com/x".parse().unwrap();
        assert!(check_url(&g, &url).is_ok());
    }
}
