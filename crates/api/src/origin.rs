//! The server's public address, and which forwarded headers to believe.
//!
//! Every absolute URL Plenum emits (OParl ids and links, iCalendar feed URLs and their links into
//! the web app) starts with the request's [`Origin`]. The rule, safest first:
//!
//! 1. `public_url` is configured: it is the origin, whatever the request says.
//! 2. The TCP peer is a trusted proxy (`trusted_proxies`, IPs or CIDRs): its `Forwarded`
//!    header (RFC 7239; `host` and `proto` of the element added by the proxy facing the client),
//!    else `X-Forwarded-Host`/`X-Forwarded-Proto` (their last value, set by the nearest proxy),
//!    else its `Host` header.
//! 3. Anyone else: `http://` and the local address the connection arrived at (e.g.
//!    `http://192.0.2.10:8080`). A client's `Host` or forwarded headers never change an id.
//!
//! The client address used for rate limits follows the same trust: a trusted proxy's
//! `Forwarded: for=` (or `X-Forwarded-For`) names the client, anyone else is the TCP peer.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::serve::{IncomingStream, Listener};
use ipnet::IpNet;
use tokio::net::{TcpListener, TcpStream};

/// Both ends of an HTTP connection (axum's `ConnectInfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// The client (or the proxy in front of Plenum).
    pub remote: SocketAddr,
    /// The address the connection arrived at.
    pub local: Option<SocketAddr>,
}

/// The server's TCP listener, telling each connection both its ends (and with `TCP_NODELAY`:
/// without it a small write that follows another small write waits for the peer's delayed
/// ACK, about 40 ms on Linux, on every live command).
pub struct PeerListener(pub TcpListener);

impl Listener for PeerListener {
    type Io = TcpStream;
    type Addr = Peer;

    async fn accept(&mut self) -> (TcpStream, Peer) {
        let (io, remote) = Listener::accept(&mut self.0).await;
        if let Err(err) = io.set_nodelay(true) {
            tracing::trace!(error = %err, "could not set TCP_NODELAY");
        }
        let local = io.local_addr().ok();
        (io, Peer { remote, local })
    }

    fn local_addr(&self) -> std::io::Result<Peer> {
        let local = self.0.local_addr()?;
        Ok(Peer {
            remote: local,
            local: Some(local),
        })
    }
}

impl axum::extract::connect_info::Connected<IncomingStream<'_, PeerListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, PeerListener>) -> Self {
        *stream.remote_addr()
    }
}

/// Why a `public_url` or a `trusted_proxies` entry is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginConfigError {
    #[error(
        "public_url must be an absolute http(s) URL such as https://ris.example.org or \
         https://ris.example.org/ris (no user, query or fragment), not {0:?}"
    )]
    PublicUrl(String),
    #[error("trusted_proxies entries must be IP addresses or CIDR ranges (10.0.0.0/8), not {0:?}")]
    Proxy(String),
}

/// The configured public base URL, normalised: `https://ris.example.org/ris` (no trailing
/// slash; the path prefix may be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    pub fn parse(text: &str) -> Result<PublicUrl, OriginConfigError> {
        let bad = || OriginConfigError::PublicUrl(text.to_owned());
        let url = url::Url::parse(text.trim()).map_err(|_| bad())?;
        let ok = matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some_and(|h| !h.is_empty())
            && url.username().is_empty()
            && url.password().is_none()
            && url.query().is_none()
            && url.fragment().is_none();
        if !ok {
            return Err(bad());
        }
        let mut origin = url.origin().ascii_serialization();
        let path = url.path().trim_end_matches('/');
        origin.push_str(path);
        Ok(PublicUrl(origin))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The proxies whose forwarded headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses IPs (`10.0.0.1`, `::1`) and CIDR ranges (`10.0.0.0/8`).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<TrustedProxies, OriginConfigError> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.as_ref().trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| OriginConfigError::Proxy(entry.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `::ffff:10.0.0.1` is `10.0.0.1`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// What a trusted proxy says about the original request.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Forwarded {
    client: Option<IpAddr>,
    host: Option<String>,
    proto: Option<String>,
}

/// One `Forwarded` element's pairs (`for=…;host=…;proto=…`), names lower-cased, quotes removed.
fn forwarded_pairs(element: &str) -> Vec<(String, String)> {
    element
        .split(';')
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            Some((name.trim().to_ascii_lowercase(), value.to_owned()))
        })
        .collect()
}

/// `for=` values: `192.0.2.1`, `"[2001:db8::1]:4711"`, `192.0.2.1:80`; `unknown` or an
/// obfuscated name is no address.
fn node_ip(node: &str) -> Option<IpAddr> {
    let node = node.trim();
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    node.parse()
        .ok()
        .or_else(|| node.rsplit_once(':')?.0.parse().ok())
}

/// Reads the forwarded headers a trusted proxy sent. Elements are walked from the right (the
/// one added by the peer) to the left as long as the client each names is a trusted proxy too;
/// the element reached was added by the proxy facing the real client.
fn forwarded(headers: &HeaderMap, trusted: &TrustedProxies) -> Forwarded {
    let elements: Vec<Vec<(String, String)>> = headers
        .get_all(header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(forwarded_pairs)
        .collect();
    if !elements.is_empty() {
        let get = |element: &Vec<(String, String)>, name: &str| {
            element
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let mut index = elements.len() - 1;
        while index > 0
            && get(&elements[index], "for")
                .and_then(|f| node_ip(&f))
                .is_some_and(|ip| trusted.contains(ip))
        {
            index -= 1;
        }
        let element = &elements[index];
        return Forwarded {
            client: get(element, "for").and_then(|f| node_ip(&f)),
            host: get(element, "host"),
            proto: get(element, "proto"),
        };
    }
    let last = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_owned())
            .rfind(|v| !v.is_empty())
    };
    let clients: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(node_ip)
        .collect();
    let client = clients
        .iter()
        .rev()
        .find(|ip| !trusted.contains(**ip))
        .or(clients.first())
        .copied();
    Forwarded {
        client,
        host: last("x-forwarded-host"),
        proto: last("x-forwarded-proto"),
    }
}

/// A host (and port) fit for a URL: letters, digits, `.-:[]`, at most 255 characters.
fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

/// What the API needs to resolve origins (part of `ApiConfig`).
#[derive(Debug, Clone, Default)]
pub struct OriginConfig {
    pub public_url: Option<PublicUrl>,
    pub trusted_proxies: TrustedProxies,
}

impl OriginConfig {
    fn peer(parts: &Parts) -> Option<Peer> {
        parts
            .extensions
            .get::<ConnectInfo<Peer>>()
            .map(|ConnectInfo(peer)| *peer)
    }

    fn trusted_peer(&self, parts: &Parts) -> bool {
        Self::peer(parts).is_some_and(|peer| self.trusted_proxies.contains(peer.remote.ip()))
    }

    /// The origin (scheme, host, path prefix; no trailing slash) for absolute URLs.
    pub fn origin(&self, parts: &Parts) -> Result<String, String> {
        if let Some(url) = &self.public_url {
            return Ok(url.as_str().to_owned());
        }
        let peer = Self::peer(parts);
        if self.trusted_peer(parts) {
            let fwd = forwarded(&parts.headers, &self.trusted_proxies);
            let host = match fwd.host {
                Some(host) => host,
                None => parts
                    .headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or_default()
                    .to_owned(),
            };
            if !valid_host(&host) {
                return Err("the forwarded host is missing or malformed".into());
            }
            let scheme = match fwd.proto.as_deref() {
                Some(p) if p.eq_ignore_ascii_case("https") => "https",
                Some(p) if p.eq_ignore_ascii_case("http") => "http",
                None => "http",
                Some(_) => return Err("the forwarded protocol must be http or https".into()),
            };
            return Ok(format!("{scheme}://{}", host.to_ascii_lowercase()));
        }
        let local = peer
            .and_then(|p| p.local)
            .map(|local| SocketAddr::new(canonical(local.ip()), local.port()));
        Ok(match local {
            Some(local) => format!("http://{local}"),
            None => "http://localhost".to_owned(),
        })
    }

    /// The client's address: a trusted proxy's forwarded client, else the TCP peer.
    pub fn client_ip(&self, parts: &Parts) -> Option<IpAddr> {
        let peer = Self::peer(parts)?;
        if self.trusted_proxies.contains(peer.remote.ip()) {
            let fwd = forwarded(&parts.headers, &self.trusted_proxies);
            if let Some(client) = fwd.client {
                return Some(canonical(client));
            }
        }
        Some(canonical(peer.remote.ip()))
    }
}

/// The server's origin for this request (`https://ris.example.org/ris`), by the rule above.
#[derive(Debug, Clone)]
pub struct Origin(pub String);

impl FromRequestParts<crate::AppState> for Origin {
    type Rejection = crate::routes::oparl::OparlError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::AppState,
    ) -> Result<Self, Self::Rejection> {
        state
            .config
            .origin
            .origin(parts)
            .map(Origin)
            .map_err(crate::routes::oparl::OparlError::InvalidQuery)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(remote: &str, headers: &[(&str, &str)]) -> Parts {
        let mut request = Request::builder().uri("/oparl/v1");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let (mut parts, ()) = request.body(()).unwrap().into_parts();
        parts.extensions.insert(ConnectInfo(Peer {
            remote: remote.parse().unwrap(),
            local: Some("192.0.2.10:8080".parse().unwrap()),
        }));
        parts
    }

    fn config(public_url: Option<&str>, proxies: &[&str]) -> OriginConfig {
        OriginConfig {
            public_url: public_url.map(|u| PublicUrl::parse(u).unwrap()),
            trusted_proxies: TrustedProxies::parse(proxies).unwrap(),
        }
    }

    #[test]
    fn public_urls_are_normalised_and_checked() {
        let ok = |text: &str| PublicUrl::parse(text).unwrap().as_str().to_owned();
        assert_eq!(ok("https://ris.example.org"), "https://ris.example.org");
        assert_eq!(ok("https://ris.example.org/"), "https://ris.example.org");
        assert_eq!(
            ok("https://RIS.example.org:443/ris/"),
            "https://ris.example.org/ris"
        );
        assert_eq!(
            ok("http://ris.example.org:8080/a/b"),
            "http://ris.example.org:8080/a/b"
        );
        for bad in [
            "ris.example.org",
            "ftp://ris.example.org",
            "https://user:pw@ris.example.org",
            "https://ris.example.org/?x=1",
            "https://ris.example.org/#top",
            "",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn proxies_are_ips_or_ranges() {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8", "::1", "192.0.2.7"]).unwrap();
        assert!(proxies.contains("10.1.2.3".parse().unwrap()));
        assert!(proxies.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(proxies.contains("::1".parse().unwrap()));
        assert!(proxies.contains("192.0.2.7".parse().unwrap()));
        assert!(!proxies.contains("192.0.2.8".parse().unwrap()));
        assert!(TrustedProxies::parse(&["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::parse(&["proxy.local"]).is_err());
    }

    #[test]
    fn a_public_url_wins_over_every_header() {
        let config = config(Some("https://ris.example.org/ris"), &["127.0.0.1"]);
        let p = parts(
            "127.0.0.1:5000",
            &[
                ("host", "evil.example"),
                ("forwarded", "host=evil.example;proto=http"),
            ],
        );
        assert_eq!(config.origin(&p).unwrap(), "https://ris.example.org/ris");
    }

    #[test]
    fn untrusted_clients_cannot_choose_the_origin() {
        let config = config(None, &["10.0.0.1"]);
        let p = parts(
            "203.0.113.5:5000",
            &[
                ("host", "evil.example"),
                ("forwarded", "for=1.2.3.4;host=evil.example;proto=https"),
                ("x-forwarded-host", "evil.example"),
                ("x-forwarded-for", "1.2.3.4"),
            ],
        );
        assert_eq!(config.origin(&p).unwrap(), "http://192.0.2.10:8080");
        assert_eq!(config.client_ip(&p), Some("203.0.113.5".parse().unwrap()));
    }

    #[test]
    fn trusted_proxies_are_believed_hop_by_hop() {
        let config = config(None, &["10.0.0.0/8"]);
        // One proxy.
        let p = parts(
            "10.0.0.1:5000",
            &[
                ("host", "internal:8080"),
                (
                    "forwarded",
                    "for=198.51.100.7;host=ris.example.org;proto=https",
                ),
            ],
        );
        assert_eq!(config.origin(&p).unwrap(), "https://ris.example.org");
        assert_eq!(config.client_ip(&p), Some("198.51.100.7".parse().unwrap()));
        // A client's forged element before the proxies' ones is skipped.
        let p = parts(
            "10.0.0.1:5000",
            &[(
                "forwarded",
                "for=6.6.6.6;host=evil.example, for=198.51.100.7;host=ris.example.org;proto=https, \
                 for=10.0.0.2;host=inner;proto=http",
            )],
        );
        assert_eq!(config.origin(&p).unwrap(), "https://ris.example.org");
        assert_eq!(config.client_ip(&p), Some("198.51.100.7".parse().unwrap()));
        // X-Forwarded-*: the last value is the nearest proxy's.
        let p = parts(
            "10.0.0.1:5000",
            &[
                ("x-forwarded-host", "evil.example, ris.example.org"),
                ("x-forwarded-proto", "https"),
                ("x-forwarded-for", "6.6.6.6, 198.51.100.7"),
            ],
        );
        assert_eq!(config.origin(&p).unwrap(), "https://ris.example.org");
        assert_eq!(config.client_ip(&p), Some("198.51.100.7".parse().unwrap()));
        // No forwarded headers: the proxy's Host.
        let p = parts("10.0.0.1:5000", &[("host", "ris.example.org")]);
        assert_eq!(config.origin(&p).unwrap(), "http://ris.example.org");
        // Bad values are errors, not ids.
        let p = parts("10.0.0.1:5000", &[("forwarded", "host=\"a b\"")]);
        assert!(config.origin(&p).is_err());
        let p = parts("10.0.0.1:5000", &[("forwarded", "host=a;proto=gopher")]);
        assert!(config.origin(&p).is_err());
    }

    #[test]
    fn forwarded_nodes_parse() {
        assert_eq!(node_ip("192.0.2.1"), Some("192.0.2.1".parse().unwrap()));
        assert_eq!(node_ip("192.0.2.1:80"), Some("192.0.2.1".parse().unwrap()));
        assert_eq!(
            node_ip("[2001:db8::1]:4711"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(node_ip("unknown"), None);
        assert_eq!(node_ip("_hidden"), None);
    }
}
