//! The probes' HTTP client, on reqwest (hyper underneath): GET/POST/any method with headers
//! and a body, one total deadline per request (connect, send, answer and body) and a cap on
//! the response size. Every request goes through [`super::target::Policy`] first, so a host
//! that is not loopback (or explicitly allowed) is refused before any packet is sent, and the
//! connection goes to the addresses the policy approved (no second DNS lookup). No proxy from
//! the environment is ever used (probe traffic must not leave loopback through one) and no
//! redirect is followed (an undocumented 3xx is a finding). `https://` URLs are spoken over
//! TLS with the policy's [`super::tls::Trust`] (certificates always verified).

use std::collections::HashMap;
use std::io::{self, Read};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::target::{Policy, Url};

/// A response read from a live service, with header names as received. (`HttpResponse`, not
/// `Response`: the PRB checks compare it with `crate::api::Response`, a documented response.)
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The status line as a person reads it, e.g. `503 Service Unavailable`.
    pub fn status_line(&self) -> String {
        if self.reason.is_empty() {
            self.status.to_string()
        } else {
            format!("{} {}", self.status, self.reason)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The policy refused the host; nothing was sent.
    #[error("{0}")]
    Refused(String),
    #[error("connection refused")]
    ConnectionRefused,
    #[error("could not connect: {0}")]
    Connect(io::Error),
    /// The TLS handshake of an https URL failed (a certificate not trusted, not for this host,
    /// a service that does not speak TLS), explained with the fix.
    #[error("{0}")]
    Tls(String),
    #[error("no answer within {0} ms")]
    Timeout(u128),
    #[error("the answer is not HTTP/1.x: {0}")]
    Malformed(String),
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the connection failed: {0}")]
    Io(io::Error),
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct Client {
    pub policy: Policy,
    /// Largest response (head and body) read.
    pub max_response: usize,
    pub user_agent: String,
    /// One reqwest client per host and approved addresses, built on first use (each owns a
    /// connection pool and a runtime thread) and shared by clones (the edge proxies' threads).
    clients: Arc<Mutex<Pool>>,
    /// Credentials sent to a service with every request (`[service.run.auth]`), by the
    /// service's `host:port`; shared by clones.
    credentials: Arc<Mutex<HashMap<String, (String, String)>>>,
}

/// reqwest clients by host, the addresses the policy approved for it, and TLS or not.
type Pool = HashMap<(String, Vec<SocketAddr>, bool), reqwest::blocking::Client>;

impl Client {
    /// A client reading answers of at most the default `max_response` size.
    pub fn new(policy: Policy) -> Client {
        Client {
            policy,
            max_response: crate::artifact::document::Limits::default().max_response,
            user_agent: format!("grade-probe/{}", crate::VERSION),
            clients: Arc::default(),
            credentials: Arc::default(),
        }
    }

    /// Sends `header: value` with every request to `origin` (`host:port`) from now on, in place
    /// of a header of that name the request carries.
    pub fn add_credentials(&self, origin: &str, header: &str, value: &str) {
        self.credentials
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(origin.to_string(), (header.to_string(), value.to_string()));
    }

    /// The credentials sent to the origin of `url`, if any.
    pub fn credentials_for(&self, url: &str) -> Option<(String, String)> {
        let origin = Url::parse(url).ok()?.host_header();
        self.credentials
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&origin)
            .cloned()
    }

    pub fn get(&self, url: &str, timeout: Duration) -> Result<HttpResponse, HttpError> {
        self.send("GET", url, &[], None, timeout)
    }

    pub fn post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        timeout: Duration,
    ) -> Result<HttpResponse, HttpError> {
        self.send("POST", url, headers, Some(body), timeout)
    }

    /// Sends one request on a fresh connection (`Connection: close`) and reads the response,
    /// all within `timeout`.
    pub fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<HttpResponse, HttpError> {
        let parsed = Url::parse(url).map_err(HttpError::Refused)?;
        let addrs = self.policy.addresses(&parsed).map_err(HttpError::Refused)?;
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| HttpError::Refused(format!("`{method}` is not an HTTP method")))?;
        let mut request = self
            .client_for(&parsed, addrs)?
            .request(method, url.trim())
            .timeout(timeout)
            .header(reqwest::header::CONNECTION, "close");
        let mut has_accept = false;
        let credentials = self.credentials_for(url);
        let replaced = |k: &str| credentials.as_ref().is_some_and(|(h, _)| h.eq_ignore_ascii_case(k));
        let credentials_header = credentials.as_ref().map(|(h, v)| (h.as_str(), v.as_str()));
        for (k, v) in headers
            .iter()
            .copied()
            .filter(|(k, _)| !replaced(k))
            .chain(credentials_header)
        {
            if k.contains(['\r', '\n']) || v.contains(['\r', '\n']) {
                return Err(HttpError::Refused(format!("header `{k}` contains a line break")));
            }
            let name = reqwest::header::HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| HttpError::Refused(format!("`{k}` is not a valid header name")))?;
            let value = reqwest::header::HeaderValue::from_str(v)
                .map_err(|_| HttpError::Refused(format!("the value of header `{k}` is not valid in HTTP")))?;
            has_accept |= name == reqwest::header::ACCEPT;
            request = request.header(name, value);
        }
        if !has_accept {
            request = request.header(reqwest::header::ACCEPT, "*/*");
        }
        if let Some(b) = body {
            request = request.body(b.to_vec());
        }
        let response = request.send().map_err(|e| self.error(&e, &parsed, timeout))?;
        read(response, self.max_response, timeout)
    }

    /// The reqwest client for the host of `url`, connecting only to `addrs`.
    fn client_for(&self, url: &Url, addrs: Vec<SocketAddr>) -> Result<reqwest::blocking::Client, HttpError> {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        let key = (url.host.clone(), addrs, url.tls);
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        // reqwest wants a TLS configuration even for plain http (one that trusts nothing then).
        let tls = if url.tls {
            self.policy.trust.client_config()
        } else {
            super::tls::plain_config()
        };
        let client = reqwest::blocking::Client::builder()
            .tls_backend_preconfigured((*tls).clone())
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(self.user_agent.clone())
            .pool_max_idle_per_host(0)
            .tcp_nodelay(true)
            .resolve_to_addrs(&url.host, &key.1)
            // Deadlines are per request.
            .timeout(None)
            .build()
            .map_err(|e| HttpError::Connect(io::Error::other(e.to_string())))?;
        clients.insert(key, client.clone());
        Ok(client)
    }

    /// What went wrong with a request to `url`, in the probes' terms.
    fn error(&self, e: &reqwest::Error, url: &Url, timeout: Duration) -> HttpError {
        if let Some(t) = super::tls::tls_cause(e) {
            return HttpError::Tls(self.policy.trust.explain(t, &url.host));
        }
        error(e, timeout)
    }
}

/// Status, headers and body (at most `cap` bytes) of an answer.
fn read(response: reqwest::blocking::Response, cap: usize, timeout: Duration) -> Result<HttpResponse, HttpError> {
    let status = response.status();
    // The phrase the service sent: hyper keeps it when it is not the canonical one.
    let reason = match response.extensions().get::<hyper::ext::ReasonPhrase>() {
        Some(r) => String::from_utf8_lossy(r.as_bytes()).trim().to_string(),
        None => status.canonical_reason().unwrap_or("").to_string(),
    };
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let head: usize = headers.iter().map(|(k, v)| k.len() + v.len() + 4).sum();
    let cap_left = cap.saturating_sub(head);
    if response.content_length().is_some_and(|n| n > cap_left as u64) {
        return Err(HttpError::TooLarge(cap));
    }
    let mut body = Vec::new();
    response
        .take(cap_left as u64 + 1)
        .read_to_end(&mut body)
        .map_err(|e| match e.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => HttpError::Timeout(timeout.as_millis()),
            _ => HttpError::Malformed(format!("the body could not be read: {}", root_cause(&e))),
        })?;
    if body.len() > cap_left {
        return Err(HttpError::TooLarge(cap));
    }
    Ok(HttpResponse {
        status: status.as_u16(),
        reason,
        headers,
        body,
    })
}

/// What went wrong with a request, in the probes' terms.
fn error(e: &reqwest::Error, timeout: Duration) -> HttpError {
    if e.is_timeout() {
        return HttpError::Timeout(timeout.as_millis());
    }
    let io = io_cause(e);
    if e.is_connect() {
        return match io {
            Some(k) if k.kind() == io::ErrorKind::ConnectionRefused => HttpError::ConnectionRefused,
            Some(k) if matches!(k.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => {
                HttpError::Timeout(timeout.as_millis())
            }
            _ => HttpError::Connect(io::Error::other(root_cause(e))),
        };
    }
    match io {
        Some(k) if matches!(k.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => {
            HttpError::Timeout(timeout.as_millis())
        }
        Some(k) => HttpError::Io(io::Error::new(k.kind(), root_cause(e))),
        // hyper could not read an HTTP/1.x answer (garbage, a connection closed early).
        None => HttpError::Malformed(root_cause(e)),
    }
}

/// The I/O error at the bottom of an error's chain, if any.
fn io_cause<'e>(e: &'e (dyn std::error::Error + 'static)) -> Option<&'e io::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if let Some(io) = c.downcast_ref::<io::Error>() {
            return Some(io);
        }
        cur = c.source();
    }
    None
}

/// The innermost message of an error's chain (`invalid HTTP version parsed`), which says
/// more than reqwest's outer `error sending request`.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;
    use std::time::Instant;

    /// Serves one connection with `answer` (after reading the request head) and returns the URL.
    fn serve_once(answer: &'static [u8], pause: Duration) -> String {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = l.accept() {
                let mut head = Vec::new();
                let mut b = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && s.read(&mut b).unwrap_or(0) == 1 {
                    head.push(b[0]);
                }
                std::thread::sleep(pause);
                let _ = s.write_all(answer);
            }
        });
        format!("http://127.0.0.1:{port}/x")
    }

    fn client() -> Client {
        Client::new(Policy::default())
    }

    #[test]
    fn content_length_chunked_and_close_delimited_bodies() {
        let t = Duration::from_secs(5);
        let r = client()
            .get(
                &serve_once(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello",
                    Duration::ZERO,
                ),
                t,
            )
            .unwrap();
        assert_eq!(
            (r.status, r.body.as_slice(), r.header("x-a")),
            (200, &b"hello"[..], Some("b"))
        );
        let r = client()
            .get(
                &serve_once(
                    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n",
                    Duration::ZERO,
                ),
                t,
            )
            .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (201, &b"abcde"[..]));
        let r = client()
            .get(
                &serve_once(b"HTTP/1.0 503 Service Unavailable\r\n\r\nbusy", Duration::ZERO),
                t,
            )
            .unwrap();
        assert_eq!(
            (r.status_line().as_str(), r.body.as_slice()),
            ("503 Service Unavailable", &b"busy"[..])
        );
        let r = client()
            .get(&serve_once(b"HTTP/1.0 404 File not found\r\n\r\n", Duration::ZERO), t)
            .unwrap();
        assert_eq!(r.status_line(), "404 File not found", "the phrase the service sent");
        let r = client()
            .get(
                &serve_once(
                    b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/elsewhere\r\nContent-Length: 0\r\n\r\n",
                    Duration::ZERO,
                ),
                t,
            )
            .unwrap();
        assert_eq!(
            (r.status, r.header("location")),
            (302, Some("http://127.0.0.1:1/elsewhere")),
            "a redirect is reported, not followed"
        );
        let r = client()
            .post(
                &serve_once(b"HTTP/1.1 204 No Content\r\n\r\n", Duration::ZERO),
                &[("Content-Type", "application/json")],
                b"{}",
                t,
            )
            .unwrap();
        assert_eq!(r.status, 204);
    }

    #[test]
    fn an_https_url_to_a_plain_http_service_says_to_use_http() {
        // A plain HTTP server answers the TLS greeting (which is no HTTP request) with a 400.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = l.accept() {
                let _ = s.read(&mut [0u8; 4096]);
                let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            }
        });
        let url = format!("https://127.0.0.1:{port}/");
        match client().get(&url, Duration::from_secs(5)) {
            Err(HttpError::Tls(m)) => assert!(m.contains("did not answer in TLS") && m.contains("http://"), "{m}"),
            other => panic!("expected a TLS error, got {other:?}"),
        }
    }

    #[test]
    fn garbage_oversize_and_slow_answers_are_errors() {
        let t = Duration::from_secs(5);
        let e = client().get(&serve_once(b"\x00\x01garbage\r\n\r\n", Duration::ZERO), t);
        assert!(matches!(e, Err(HttpError::Malformed(_))), "{e:?}");
        let mut small = client();
        small.max_response = 64;
        let e = small.get(
            &serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", Duration::ZERO),
            t,
        );
        assert!(matches!(e, Err(HttpError::TooLarge(64))), "{e:?}");
        let e = client().get(
            &serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", Duration::ZERO),
            t,
        );
        assert!(matches!(e, Err(HttpError::Malformed(_))), "{e:?}");
        let start = Instant::now();
        let e = client().get(
            &serve_once(b"HTTP/1.1 200 OK\r\n\r\n", Duration::from_secs(3)),
            Duration::from_millis(200),
        );
        assert!(matches!(e, Err(HttpError::Timeout(200))), "{e:?}");
        assert!(start.elapsed() < Duration::from_secs(1));
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let e = client().get(&format!("http://127.0.0.1:{port}/"), t);
        assert!(matches!(e, Err(HttpError::ConnectionRefused)), "{e:?}");
    }
}
