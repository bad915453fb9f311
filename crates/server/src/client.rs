//! Who is at the other end of a request: the client's address and the scheme it used.
//!
//! [`resolve`] runs once per request in [`crate::serve`], which stores the [`Client`] in the
//! request's extensions for the extractors ([`crate::extract::ClientAddress`], [`Scheme`]) and
//! the request log. The connection's peer is the client unless it is a trusted proxy
//! (`--trusted-proxy`): only then are `Forwarded` (RFC 7239, preferred when present) or
//! `X-Forwarded-For`, and `X-Forwarded-Proto`, read. The hops they list are walked from the
//! right (the one the peer added) while they are trusted proxies too; the first that is not is
//! the client. A hop that is no address (`unknown`, an obfuscated `_name`) ends the walk: the
//! last address known stands, so a client cannot hide behind one.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::error::ApiError;

/// How the client reached the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTPS: TLS here, or at a trusted proxy that says so.
    Https,
}

impl Scheme {
    fn parse(text: &str) -> Option<Scheme> {
        let text = text.trim().trim_matches('"');
        if text.eq_ignore_ascii_case("https") {
            Some(Scheme::Https)
        } else if text.eq_ignore_ascii_case("http") {
            Some(Scheme::Http)
        } else {
            None
        }
    }
}

/// The client of one request, as [`resolve`] found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Client {
    /// The client's address: the peer's, or the one a trusted proxy forwarded.
    pub address: IpAddr,
    /// The scheme the client used.
    pub scheme: Scheme,
}

/// The client of a request that came from `peer` (over TLS when `tls`) with `headers`,
/// believing forwarded headers only from a peer in `trusted`.
pub fn resolve(peer: SocketAddr, tls: bool, headers: &HeaderMap, trusted: &[IpNet]) -> Client {
    let peer = peer.ip().to_canonical();
    let mut client = Client {
        address: peer,
        scheme: if tls { Scheme::Https } else { Scheme::Http },
    };
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return client;
    }
    let hops = forwarded_hops(headers).unwrap_or_else(|| x_forwarded_hops(headers));
    if let Some(scheme) = right_most(headers, "x-forwarded-proto").and_then(|p| Scheme::parse(&p))
        && hops.iter().all(|hop| hop.proto.is_none())
    {
        client.scheme = scheme;
    }
    for hop in hops.iter().rev() {
        let Some(address) = hop.address else { break };
        client.address = address;
        if let Some(scheme) = hop.proto {
            client.scheme = scheme;
        }
        if !is_trusted(&address) {
            break;
        }
    }
    client
}

/// One hop of a forwarded chain: the address it names (none for `unknown` or an obfuscated
/// name) and the scheme of its connection, when the header says.
#[derive(Debug, PartialEq, Eq)]
struct Hop {
    address: Option<IpAddr>,
    proto: Option<Scheme>,
}

/// The hops of every `Forwarded` header, left to right; `None` when there is no such header.
fn forwarded_hops(headers: &HeaderMap) -> Option<Vec<Hop>> {
    let mut values = headers.get_all("forwarded").iter().peekable();
    values.peek()?;
    let mut hops = Vec::new();
    for value in values {
        let text = String::from_utf8_lossy(value.as_bytes());
        for element in split_outside_quotes(&text, ',') {
            if element.trim().is_empty() {
                continue;
            }
            let mut hop = Hop {
                address: None,
                proto: None,
            };
            for pair in split_outside_quotes(element, ';') {
                let Some((key, value)) = pair.split_once('=') else {
                    continue;
                };
                let value = unquote(value.trim());
                match key.trim().to_ascii_lowercase().as_str() {
                    "for" => hop.address = node(&value),
                    "proto" => hop.proto = Scheme::parse(&value),
                    _ => {}
                }
            }
            hops.push(hop);
        }
    }
    Some(hops)
}

/// The hops of every `X-Forwarded-For` header, left to right; the scheme of each from
/// `X-Forwarded-Proto` when it lists as many.
fn x_forwarded_hops(headers: &HeaderMap) -> Vec<Hop> {
    let list = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .flat_map(|value| {
                String::from_utf8_lossy(value.as_bytes())
                    .split(',')
                    .map(|s| s.trim().to_owned())
                    .collect::<Vec<_>>()
            })
            .filter(|s| !s.is_empty())
            .collect()
    };
    let addresses = list("x-forwarded-for");
    let protos = list("x-forwarded-proto");
    let aligned = protos.len() == addresses.len();
    addresses
        .iter()
        .enumerate()
        .map(|(i, address)| Hop {
            address: node(address),
            proto: if aligned {
                protos.get(i).and_then(|p| Scheme::parse(p))
            } else {
                None
            },
        })
        .collect()
}

/// The right-most value of a comma-separated header (the one the nearest proxy added).
fn right_most(headers: &HeaderMap, name: &str) -> Option<String> {
    let last = headers.get_all(name).iter().next_back()?;
    let text = String::from_utf8_lossy(last.as_bytes());
    text.rsplit(',')
        .map(str::trim)
        .find(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The address of a node: `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]`, `[2001:db8::1]:4711`
/// or a bare IPv6 address; `None` for anything else (`unknown`, `_hidden`).
fn node(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix('[') {
        let (inside, _) = rest.split_once(']')?;
        return inside
            .parse::<Ipv6Addr>()
            .ok()
            .map(|ip| IpAddr::V6(ip).to_canonical());
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    let (host, port) = text.rsplit_once(':')?;
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    host.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

/// Splits on `separator` where it is not inside a quoted string.
fn split_outside_quotes(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == separator && !quoted => {
                parts.push(text.get(start..i).unwrap_or_default());
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(text.get(start..).unwrap_or_default());
    parts
}

/// A token or an RFC 7230 quoted string, unquoted.
fn unquote(text: &str) -> String {
    let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) else {
        return text.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut escaped = false;
    for c in inner.chars() {
        if escaped || c != '\\' {
            out.push(c);
            escaped = false;
        } else {
            escaped = true;
        }
    }
    out
}

/// The scheme the client used (plain HTTP when served without [`crate::serve`], as in a
/// test calling the router directly).
impl<S: Send + Sync> FromRequestParts<S> for Scheme {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(parts
            .extensions
            .get::<Client>()
            .map_or(Scheme::Http, |client| client.scheme))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter()
            .map(|n| crate::config::parse_cidr(n).unwrap())
            .collect()
    }

    fn peer(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 50_000)
    }

    fn address(client: Client) -> String {
        client.address.to_string()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_sends() {
        let sent = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-proto", "https"),
            ("forwarded", "for=203.0.113.8;proto=https"),
        ]);
        let client = resolve(peer("198.51.100.2"), false, &sent, &nets(&["10.0.0.0/8"]));
        assert_eq!(address(client), "198.51.100.2");
        assert_eq!(client.scheme, Scheme::Http);
        let client = resolve(peer("198.51.100.2"), true, &sent, &[]);
        assert_eq!(client.scheme, Scheme::Https);
    }

    #[test]
    fn from_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client() {
        let trusted = nets(&["10.0.0.0/8", "127.0.0.1"]);
        // The client put a spoofed hop first; the proxies appended the real ones.
        let sent = headers(&[
            ("x-forwarded-for", "1.2.3.4, 203.0.113.9"),
            ("x-forwarded-for", "10.0.0.7"),
        ]);
        assert_eq!(
            address(resolve(peer("127.0.0.1"), false, &sent, &trusted)),
            "203.0.113.9"
        );
        // Every hop trusted: the left-most is the client.
        let sent = headers(&[("x-forwarded-for", "10.0.0.9, 10.0.0.7")]);
        assert_eq!(
            address(resolve(peer("10.0.0.1"), false, &sent, &trusted)),
            "10.0.0.9"
        );
        // No header: the proxy itself.
        assert_eq!(
            address(resolve(
                peer("10.0.0.1"),
                false,
                &HeaderMap::new(),
                &trusted
            )),
            "10.0.0.1"
        );
        // An IPv4-mapped IPv6 peer is its IPv4 address.
        let sent = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(
            address(resolve(peer("::ffff:127.0.0.1"), false, &sent, &trusted)),
            "203.0.113.9"
        );
    }

    #[test]
    fn forwarded_is_preferred_and_read_per_rfc_7239() {
        let trusted = nets(&["10.0.0.0/8"]);
        let sent = headers(&[
            ("x-forwarded-for", "198.51.100.1"),
            (
                "forwarded",
                r#"for=192.0.2.60;proto=http, For="[2001:db8:cafe::17]:4711";proto=https"#,
            ),
            ("forwarded", "for=10.0.0.3:8080;by=10.0.0.1"),
        ]);
        let client = resolve(peer("10.0.0.2"), false, &sent, &trusted);
        assert_eq!(address(client), "2001:db8:cafe::17");
        assert_eq!(client.scheme, Scheme::Https);
        // An unknown or hidden hop ends the walk at the last address known.
        let sent = headers(&[("forwarded", "for=192.0.2.60, for=_hidden, for=10.0.0.3")]);
        assert_eq!(
            address(resolve(peer("10.0.0.2"), false, &sent, &trusted)),
            "10.0.0.3"
        );
        let sent = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(
            address(resolve(peer("10.0.0.2"), false, &sent, &trusted)),
            "10.0.0.2"
        );
    }

    #[test]
    fn the_scheme_comes_from_x_forwarded_proto_of_a_trusted_proxy() {
        let trusted = nets(&["127.0.0.0/8"]);
        let sent = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-proto", "https"),
        ]);
        let client = resolve(peer("127.0.0.1"), false, &sent, &trusted);
        assert_eq!(client.scheme, Scheme::Https);
        // Not as many schemes as hops: the nearest proxy's (right-most) says.
        let sent = headers(&[
            ("x-forwarded-for", "203.0.113.9, 127.0.0.2"),
            ("x-forwarded-proto", "http, HTTPS"),
            ("x-forwarded-proto", "https"),
        ]);
        let client = resolve(peer("127.0.0.1"), false, &sent, &trusted);
        assert_eq!(
            (address(client).as_str(), client.scheme),
            ("203.0.113.9", Scheme::Https)
        );
        // A scheme that is neither leaves the connection's.
        let sent = headers(&[("x-forwarded-proto", "gopher")]);
        assert_eq!(
            resolve(peer("127.0.0.1"), true, &sent, &trusted).scheme,
            Scheme::Https
        );
    }

    #[test]
    fn nodes_and_quoted_strings() {
        assert_eq!(node("192.0.2.1:80"), Some("192.0.2.1".parse().unwrap()));
        assert_eq!(node("2001:db8::1"), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(node("[2001:db8::1]"), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(node("192.0.2.1:"), None);
        assert_eq!(node("unknown"), None);
        assert_eq!(node("[oops"), None);
        assert_eq!(unquote(r#""a\"b""#), r#"a"b"#);
        assert_eq!(
            split_outside_quotes(r#"for="a,b";proto=http, for=c"#, ','),
            vec![r#"for="a,b";proto=http"#, " for=c"]
        );
    }
}
