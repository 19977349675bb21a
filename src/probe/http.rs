//! A small blocking HTTP/1.1 client for probes: GET/POST with headers, `Content-Length`,
//! chunked and read-to-close bodies, one total deadline per request and a cap on the response
//! size. Every request goes through [`super::target::Policy`] first, so a host that is not
//! loopback (or explicitly allowed) is refused before any packet is sent.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

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
}

impl Client {
    /// A client reading answers of at most the default `max_response` size.
    pub fn new(policy: Policy) -> Client {
        Client {
            policy,
            max_response: crate::artifact::document::Limits::default().max_response,
            user_agent: format!("grade-probe/{}", crate::VERSION),
        }
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
        let url = Url::parse(url).map_err(HttpError::Refused)?;
        let addrs = self.policy.addresses(&url).map_err(HttpError::Refused)?;
        let deadline = Instant::now() + timeout;
        let stream = connect(&addrs, deadline, timeout)?;
        let mut conn = Deadlined {
            stream,
            deadline,
            timeout,
        };
        let mut head = format!(
            "{method} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\nConnection: close\r\n",
            url.path_and_query,
            url.host_header(),
            self.user_agent
        );
        let mut has_accept = false;
        for (k, v) in headers {
            if k.contains(['\r', '\n']) || v.contains(['\r', '\n']) {
                return Err(HttpError::Refused(format!("header `{k}` contains a line break")));
            }
            has_accept |= k.eq_ignore_ascii_case("accept");
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if !has_accept {
            head.push_str("Accept: */*\r\n");
        }
        if let Some(b) = body {
            head.push_str(&format!("Content-Length: {}\r\n", b.len()));
        }
        head.push_str("\r\n");
        conn.write_all(head.as_bytes()).map_err(|e| conn.map(e))?;
        if let Some(b) = body {
            conn.write_all(b).map_err(|e| conn.map(e))?;
        }
        conn.flush().map_err(|e| conn.map(e))?;
        read_response(&mut conn, method == "HEAD", self.max_response)
    }
}

fn connect(addrs: &[SocketAddr], deadline: Instant, timeout: Duration) -> Result<TcpStream, HttpError> {
    let mut last = None;
    for addr in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(HttpError::Timeout(timeout.as_millis()));
        }
        match TcpStream::connect_timeout(addr, left) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) if e.kind() == io::ErrorKind::ConnectionRefused => HttpError::ConnectionRefused,
        Some(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => {
            HttpError::Timeout(timeout.as_millis())
        }
        Some(e) => HttpError::Connect(e),
        None => HttpError::Connect(io::Error::other("no address to connect to")),
    })
}

/// A stream whose every read and write ends by the request's deadline.
struct Deadlined {
    stream: TcpStream,
    deadline: Instant,
    timeout: Duration,
}

impl Deadlined {
    fn left(&self) -> io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(io::Error::new(io::ErrorKind::TimedOut, "deadline"))
        } else {
            Ok(left)
        }
    }

    fn map(&self, e: io::Error) -> HttpError {
        match e.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => HttpError::Timeout(self.timeout.as_millis()),
            _ => HttpError::Io(e),
        }
    }
}

impl Read for Deadlined {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}

impl Write for Deadlined {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.stream.set_write_timeout(Some(left))?;
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

/// Buffered reading over [`Deadlined`] that counts every byte against the cap.
struct Reader<'a> {
    conn: &'a mut Deadlined,
    buf: Vec<u8>,
    pos: usize,
    total: usize,
    cap: usize,
    eof: bool,
}

impl Reader<'_> {
    fn fill(&mut self) -> Result<bool, HttpError> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let mut chunk = [0u8; 8192];
        let n = self.conn.read(&mut chunk).map_err(|e| self.conn.map(e))?;
        if n == 0 {
            self.eof = true;
            return Ok(false);
        }
        self.total += n;
        if self.total > self.cap {
            return Err(HttpError::TooLarge(self.cap));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(true)
    }

    /// A line without its CRLF (or LF); `None` at end of stream.
    fn line(&mut self) -> Result<Option<Vec<u8>>, HttpError> {
        loop {
            if let Some(i) = self.buf[self.pos..].iter().position(|&b| b == b'\n') {
                let mut line = self.buf[self.pos..self.pos + i].to_vec();
                self.pos += i + 1;
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Some(line));
            }
            if self.buf.len() - self.pos > 64 * 1024 {
                return Err(HttpError::Malformed("a line longer than 64 KiB".into()));
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    fn exact(&mut self, n: usize, out: &mut Vec<u8>) -> Result<(), HttpError> {
        let mut need = n;
        while need > 0 {
            if self.pos == self.buf.len() && !self.fill()? {
                return Err(HttpError::Malformed(format!(
                    "the body ended after {} of {n} bytes",
                    n - need
                )));
            }
            let take = need.min(self.buf.len() - self.pos);
            out.extend_from_slice(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
            need -= take;
        }
        Ok(())
    }

    fn read_to_end(&mut self, out: &mut Vec<u8>) -> Result<(), HttpError> {
        loop {
            out.extend_from_slice(&self.buf[self.pos..]);
            self.pos = self.buf.len();
            if !self.fill()? {
                return Ok(());
            }
        }
    }
}

/// Shows the start of bytes that were not what was expected.
fn preview(bytes: &[u8]) -> String {
    let s: String = String::from_utf8_lossy(&bytes[..bytes.len().min(60)])
        .chars()
        .map(|c| if c.is_control() { '.' } else { c })
        .collect();
    format!("`{s}`")
}

fn read_response(conn: &mut Deadlined, head_only: bool, cap: usize) -> Result<HttpResponse, HttpError> {
    let mut r = Reader {
        conn,
        buf: Vec::new(),
        pos: 0,
        total: 0,
        cap,
        eof: false,
    };
    // Skip interim 1xx responses.
    let (status, reason, headers) = loop {
        let Some(line) = r.line()? else {
            return Err(HttpError::Malformed("the connection closed without an answer".into()));
        };
        let text = std::str::from_utf8(&line).map_err(|_| HttpError::Malformed(preview(&line)))?;
        let mut parts = text.splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        let code = parts.next().unwrap_or("");
        if !version.starts_with("HTTP/1.") || code.len() != 3 {
            return Err(HttpError::Malformed(preview(&line)));
        }
        let status: u16 = code.parse().map_err(|_| HttpError::Malformed(preview(&line)))?;
        let reason = parts.next().unwrap_or("").trim().to_string();
        let mut headers = Vec::new();
        loop {
            let Some(h) = r.line()? else {
                return Err(HttpError::Malformed("the connection closed inside the headers".into()));
            };
            if h.is_empty() {
                break;
            }
            if headers.len() >= 256 {
                return Err(HttpError::Malformed("more than 256 headers".into()));
            }
            let h = String::from_utf8_lossy(&h).into_owned();
            let Some((k, v)) = h.split_once(':') else {
                return Err(HttpError::Malformed(format!(
                    "a header line without `:`: {}",
                    preview(h.as_bytes())
                )));
            };
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        break (status, reason, headers);
    };
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let mut body = Vec::new();
    let no_body = head_only || status == 204 || status == 304 || (100..200).contains(&status);
    if !no_body {
        let chunked = header("transfer-encoding")
            .map(|v| v.to_ascii_lowercase().contains("chunked"))
            .unwrap_or(false);
        if chunked {
            loop {
                let Some(line) = r.line()? else {
                    return Err(HttpError::Malformed(
                        "the chunked body ended without a last chunk".into(),
                    ));
                };
                let text = String::from_utf8_lossy(&line);
                let size_text = text.split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(size_text, 16)
                    .map_err(|_| HttpError::Malformed(format!("a bad chunk size {}", preview(&line))))?;
                if size == 0 {
                    // Trailers, up to the empty line.
                    while let Some(t) = r.line()? {
                        if t.is_empty() {
                            break;
                        }
                    }
                    break;
                }
                if body.len().saturating_add(size) > cap {
                    return Err(HttpError::TooLarge(cap));
                }
                r.exact(size, &mut body)?;
                match r.line()? {
                    Some(l) if l.is_empty() => {}
                    _ => return Err(HttpError::Malformed("a chunk is not followed by CRLF".into())),
                }
            }
        } else if let Some(len) = header("content-length") {
            let len: usize = len
                .trim()
                .parse()
                .map_err(|_| HttpError::Malformed(format!("a bad Content-Length `{len}`")))?;
            if len > cap {
                return Err(HttpError::TooLarge(cap));
            }
            r.exact(len, &mut body)?;
        } else {
            r.read_to_end(&mut body)?;
        }
    }
    Ok(HttpResponse {
        status,
        reason,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

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
