//! A node's network address as registered on-chain: `host:port`, nothing else.
//!
//! Anyone can register any string, so it is parsed strictly before it goes near a URL:
//! the host is an IPv4 address, a bracketed IPv6 address or a DNS name (letters, digits,
//! hyphens and dots, labels of 1–63 characters not starting or ending with a hyphen, 253
//! characters at most); the port is `1..=65535` in canonical decimal. Schemes, paths,
//! queries, userinfo, spaces and anything else are refused.

use std::{
    fmt,
    net::{Ipv4Addr, Ipv6Addr},
};

/// Longest address accepted (a 253-character name, a colon and five digits, with margin).
pub const MAX_ADDRESS_LEN: usize = 261;

/// A validated `host:port`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeAddress {
    host: String,
    port: u16,
}

/// Why an address is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid node network address {address:?}: {reason}; register it as host:port (e.g. node.example.com:9100)"
)]
pub struct AddressError {
    /// The start of the address (at most 64 characters).
    pub address: String,
    /// What is wrong.
    pub reason: &'static str,
}

fn is_dns_name(host: &str) -> bool {
    host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        // An all-numeric dotted name that is not a valid IPv4 address (e.g. 1.2.3.999).
        && !host.split('.').all(|l| l.bytes().all(|b| b.is_ascii_digit()))
}

impl NodeAddress {
    /// Parses `host:port`.
    pub fn parse(s: &str) -> Result<Self, AddressError> {
        let err = |reason| AddressError {
            address: s.chars().take(64).collect(),
            reason,
        };
        if s.is_empty() {
            return Err(err("it is empty"));
        }
        if s.len() > MAX_ADDRESS_LEN {
            return Err(err("it is too long"));
        }
        if s.contains("://") {
            return Err(err("it has a scheme"));
        }
        if let Some(b) = s
            .bytes()
            .find(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')))
        {
            return Err(err(match b {
                b'/' => "it has a path",
                b'@' => "it has userinfo",
                b'?' | b'#' => "it has a query or fragment",
                b' ' | b'\t' | b'\r' | b'\n' => "it has whitespace",
                _ => "it has a character not allowed in host:port",
            }));
        }
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (v6, port) = rest
                .split_once("]:")
                .ok_or_else(|| err("a bracketed IPv6 host must be followed by :port"))?;
            v6.parse::<Ipv6Addr>()
                .map_err(|_| err("the bracketed host is not an IPv6 address"))?;
            (format!("[{v6}]"), port)
        } else {
            let (host, port) = s.rsplit_once(':').ok_or_else(|| err("it has no :port"))?;
            if host.contains(':') || host.contains('[') || host.contains(']') {
                return Err(err("an IPv6 host must be in brackets"));
            }
            if host.parse::<Ipv4Addr>().is_err() && !is_dns_name(host) {
                return Err(err("the host is neither an IP address nor a DNS name"));
            }
            (host.to_ascii_lowercase(), port)
        };
        let canonical = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && !port.starts_with('0');
        let port = match port.parse::<u16>() {
            Ok(p) if canonical && p > 0 => p,
            _ => return Err(err("the port is not a number in 1..=65535")),
        };
        Ok(NodeAddress { host, port })
    }

    /// The host (IPv6 in brackets, names lower-cased).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://host:port`, without a trailing slash: append a [`super::routes`] path.
    pub fn base_url(&self) -> String {
        format!("http://{self}")
    }

    /// The URL of `path` (which starts with `/`) on this node.
    pub fn url(&self, path: &str) -> String {
        format!("http://{self}{path}")
    }
}

impl fmt::Display for NodeAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

impl std::str::FromStr for NodeAddress {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_addresses_become_base_urls() {
        for (s, url) in [
            ("127.0.0.1:9100", "http://127.0.0.1:9100"),
            ("Node-1.Example.com:80", "http://node-1.example.com:80"),
            ("localhost:65535", "http://localhost:65535"),
            ("[::1]:9100", "http://[::1]:9100"),
        ] {
            assert_eq!(
                NodeAddress::parse(s).map(|a| a.base_url()),
                Ok(url.to_owned()),
                "{s}"
            );
        }
    }

    #[test]
    fn everything_else_is_refused_with_a_reason() {
        for (s, why) in [
            ("", "empty"),
            ("http://1.2.3.4:80", "scheme"),
            ("1.2.3.4:80/x", "path"),
            ("user@1.2.3.4:80", "userinfo"),
            ("1.2.3.4:80?a", "query"),
            ("1.2.3.4 :80", "whitespace"),
            ("1.2.3.4", "no :port"),
            ("1.2.3.4:", "port"),
            ("1.2.3.4:0", "port"),
            ("1.2.3.4:65536", "port"),
            ("1.2.3.4:080", "port"),
            ("1.2.3.999:80", "neither"),
            ("::1:80", "brackets"),
            ("[::1]", "followed by :port"),
            ("[zz]:80", "IPv6"),
            ("-a.com:80", "neither"),
            ("a..com:80", "neither"),
            ("évil.com:80", "not allowed"),
        ] {
            let e = NodeAddress::parse(s).err();
            assert!(
                e.as_ref().is_some_and(|e| e.reason.contains(why)),
                "{s:?}: {e:?}"
            );
        }
        assert!(NodeAddress::parse(&"a".repeat(300)).is_err());
    }
}
