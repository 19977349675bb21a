//! Where probes may go. Only loopback (`127.0.0.0/8`, `::1`, `localhost`) is contacted unless
//! the user allows a host with `--allow-host`; everything else is refused before any packet is
//! sent (no connection attempt and no DNS lookup). The policy also carries the certificate
//! authorities an `https://` target's certificate may chain to ([`Trust`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

pub use super::tls::Trust;

/// An `http://` or `https://` URL, split for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// True for `https://` (TLS).
    pub tls: bool,
    /// Host as written (IPv6 without brackets), lower-cased.
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path_and_query: String,
}

impl Url {
    /// Parses `http://host[:port][/path][?query]` (port 80 by default) and the same with
    /// `https://` (port 443 by default).
    pub fn parse(s: &str) -> Result<Url, String> {
        let s = s.trim();
        let (tls, rest) = match s.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => (false, rest),
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => (true, rest),
            Some((scheme, _)) => {
                return Err(format!(
                    "`{s}`: only http:// and https:// URLs can be probed (not {scheme}://)"
                ))
            }
            None => return Err(format!("`{s}` is not a URL: write it as http://127.0.0.1:8080")),
        };
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let path = path.split('#').next().unwrap_or("");
        let path = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        if authority.contains('@') {
            return Err(format!("`{s}`: credentials in URLs are not supported"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("`{s}`: an IPv6 address needs its closing `]`"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err(format!("`{s}`: unexpected `{after}` after the address")),
            };
            (h.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (authority.to_string(), None),
            }
        };
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(format!("`{s}` has no host"));
        }
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("`{s}`: `{p}` is not a port"))?,
            None if tls => 443,
            None => 80,
        };
        Ok(Url {
            tls,
            host: host.to_ascii_lowercase(),
            port,
            path_and_query: path,
        })
    }

    /// The `Host` header value.
    pub fn host_header(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        if self.tls {
            "https"
        } else {
            "http"
        }
    }

    /// Scheme, host and port, without a path: `https://127.0.0.1:8443`.
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme(), self.host_header())
    }

    /// The URL with another path.
    pub fn with_path(&self, path: &str) -> String {
        format!("{}{}", self.origin(), path)
    }
}

/// True for `localhost` and loopback addresses.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    h.parse::<IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false)
}

/// Which hosts probes may contact, and which certificates they trust over https.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Hosts allowed besides loopback (`--allow-host`), lower-cased.
    pub allow_hosts: Vec<String>,
    /// The certificate authorities of https targets: the system's and `--ca-cert`.
    pub trust: Trust,
}

impl Policy {
    pub fn new(allow_hosts: &[String]) -> Policy {
        Policy {
            allow_hosts: allow_hosts
                .iter()
                .map(|h| {
                    h.trim()
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .to_ascii_lowercase()
                })
                .collect(),
            trust: Trust::default(),
        }
    }

    /// The same policy trusting `trust` for https.
    pub fn with_trust(mut self, trust: Trust) -> Policy {
        self.trust = trust;
        self
    }

    /// Refuses a URL whose host is neither loopback nor allowed.
    pub fn check(&self, url: &Url) -> Result<(), String> {
        if is_loopback_host(&url.host) || self.allow_hosts.contains(&url.host) {
            Ok(())
        } else {
            Err(format!(
                "refusing to contact {}: probes only go to loopback (127.0.0.0/8, ::1, localhost) unless \
                 the host is allowed with `--allow-host {}`",
                url.host, url.host
            ))
        }
    }

    /// The socket addresses to connect to, after the policy check. Loopback names are not
    /// looked up; only an allowed host name is resolved.
    pub fn addresses(&self, url: &Url) -> Result<Vec<SocketAddr>, String> {
        self.check(url)?;
        if url.host == "localhost" {
            return Ok(vec![
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), url.port),
                SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), url.port),
            ]);
        }
        if let Ok(ip) = url.host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, url.port)]);
        }
        (url.host.as_str(), url.port)
            .to_socket_addrs()
            .map(|a| a.collect())
            .map_err(|e| format!("cannot resolve {}: {e}", url.host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let u = Url::parse("http://127.0.0.1:8080/health?x=1").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path_and_query.as_str()),
            ("127.0.0.1", 8080, "/health?x=1")
        );
        let u = Url::parse("http://[::1]:81").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.path_and_query.as_str()), ("::1", 81, "/"));
        assert_eq!(u.host_header(), "[::1]:81");
        assert!(!u.tls && u.origin() == "http://[::1]:81");
        assert!(Url::parse("ftp://127.0.0.1/").is_err());
        assert!(Url::parse("127.0.0.1:80").is_err());
        assert!(Url::parse("http://:80/").is_err());
        assert!(Url::parse("http://127.0.0.1:0/").is_err());
        assert!(Url::parse("http://user@127.0.0.1/").is_err());
    }

    #[test]
    fn parses_https_urls_with_their_default_port() {
        let u = Url::parse("https://127.0.0.1:8443/health").unwrap();
        assert_eq!((u.tls, u.port, u.path_and_query.as_str()), (true, 8443, "/health"));
        assert_eq!(u.origin(), "https://127.0.0.1:8443");
        assert_eq!(u.with_path("/ready"), "https://127.0.0.1:8443/ready");
        let u = Url::parse("HTTPS://LocalHost").unwrap();
        assert_eq!(
            (u.tls, u.host.as_str(), u.port, u.path_and_query.as_str()),
            (true, "localhost", 443, "/")
        );
        assert_eq!(Url::parse("http://localhost").unwrap().port, 80);
        assert!(Url::parse("https://[::1]:8443/x").is_ok_and(|u| u.tls && u.host == "::1"));
        assert!(Url::parse("https://127.0.0.1:0/").is_err());
        assert!(Url::parse("https://user@127.0.0.1/").is_err());
        // The same host policy for https: refused before any lookup unless allowed.
        let p = Policy::default();
        assert!(p.addresses(&Url::parse("https://example.com/").unwrap()).is_err());
        assert!(p.addresses(&Url::parse("https://127.0.0.1/").unwrap()).is_ok());
        let allowed = Policy::new(&["10.0.0.1".into()]);
        assert_eq!(
            allowed.addresses(&Url::parse("https://10.0.0.1/").unwrap()),
            Ok(vec!["10.0.0.1:443".parse().unwrap()])
        );
    }

    #[test]
    fn only_loopback_unless_allowed() {
        let p = Policy::default();
        for ok in ["127.0.0.1", "127.8.9.10", "::1", "localhost", "LOCALHOST"] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "10.0.0.1",
            "0.0.0.0",
            "example.com",
            "::ffff:10.0.0.1",
            "169.254.169.254",
        ] {
            let u = Url::parse(&format!(
                "http://{}/",
                if bad.contains(':') {
                    format!("[{bad}]")
                } else {
                    bad.into()
                }
            ))
            .unwrap();
            assert!(p.addresses(&u).is_err(), "{bad}");
        }
        let allowed = Policy::new(&["10.0.0.1".into()]);
        assert!(allowed.addresses(&Url::parse("http://10.0.0.1:9/").unwrap()).is_ok());
    }
}
