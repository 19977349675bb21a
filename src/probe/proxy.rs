//! Grader-owned HTTP proxies on the dependency edges of the running system.
//!
//! For each edge A -> B between started services, A's dependency URL points at an
//! [`EdgeProxy`] listening on 127.0.0.1 in front of B. The proxy forwards every request to B,
//! records what crossed the edge (method, path, headers, answer, timing) and, on demand,
//! injects a [`Fault`]: added latency, an HTTP error status, a connection reset, or a blackhole
//! (the connection is accepted and never answered). Proxies on edges that the manifest does not
//! declare catch undeclared calls.
//!
//! Plain threads: one accept loop per proxy and one thread per connection (HTTP/1.1
//! keep-alive). Every blocking read has a timeout so teardown never waits on a silent peer.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::http::{Client, HttpError};

/// Largest request head and body the proxy accepts from a service.
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 4 * 1024 * 1024;
/// Records kept per proxy (the oldest half is dropped when full).
const MAX_RECORDS: usize = 20_000;
/// How long the proxy waits for the upstream service to answer one request.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);
/// How often blocked loops look at the stop flag.
const TICK: Duration = Duration::from_millis(50);

/// A fault injected on an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    #[default]
    None,
    /// Forward after this delay.
    Latency(Duration),
    /// Answer with this status (and a small problem+json body) without forwarding.
    Status(u16),
    /// Close the connection with a TCP reset without answering.
    Reset,
    /// Accept the request and never answer it.
    Blackhole,
}

impl Fault {
    pub fn describe(&self) -> String {
        match self {
            Fault::None => "no fault".into(),
            Fault::Latency(d) => format!("{} ms added latency", d.as_millis()),
            Fault::Status(s) => format!("HTTP {s} answers"),
            Fault::Reset => "connection resets".into(),
            Fault::Blackhole => "a blackhole (requests never answered)".into(),
        }
    }
}

/// One request that crossed the edge.
#[derive(Debug, Clone)]
pub struct Record {
    /// Arrival time.
    pub at: Instant,
    pub method: String,
    /// Path and query as sent.
    pub target: String,
    /// Header names as sent (case kept) and values.
    pub headers: Vec<(String, String)>,
    /// The status returned to the caller (`None`: reset, blackholed, or the caller left).
    pub status: Option<u16>,
    /// The fault applied to this request.
    pub fault: Fault,
    /// Time from arrival to the answer sent back.
    pub elapsed: Option<Duration>,
}

impl Record {
    /// The first header named `name` (compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Shared {
    /// `None` until the service behind the edge has started.
    upstream: Mutex<Option<String>>,
    client: Client,
    fault: Mutex<Fault>,
    records: Mutex<Records>,
    seen: AtomicU64,
    stop: AtomicBool,
    /// A clone of each open connection (to close it at shutdown), by connection number.
    conns: Mutex<HashMap<u64, TcpStream>>,
    next_conn: AtomicU64,
}

/// The most recent records; positions are absolute (they survive dropping old records).
#[derive(Default)]
struct Records {
    kept: Vec<Record>,
    /// How many records were dropped from the front.
    dropped: usize,
}

impl Records {
    fn push(&mut self, r: Record) -> usize {
        if self.kept.len() >= MAX_RECORDS {
            let half = MAX_RECORDS / 2;
            self.kept.drain(..half);
            self.dropped += half;
        }
        self.kept.push(r);
        self.dropped + self.kept.len() - 1
    }

    fn get_mut(&mut self, at: usize) -> Option<&mut Record> {
        at.checked_sub(self.dropped).and_then(|i| self.kept.get_mut(i))
    }

    fn end(&self) -> usize {
        self.dropped + self.kept.len()
    }

    fn since(&self, from: usize) -> Vec<Record> {
        let i = from.saturating_sub(self.dropped).min(self.kept.len());
        self.kept[i..].to_vec()
    }
}

/// A proxy in front of `callee` for calls made by `caller`.
pub struct EdgeProxy {
    pub caller: String,
    pub callee: String,
    /// Whether the manifest declares `caller` calls `callee`.
    pub declared: bool,
    /// `http://127.0.0.1:PORT`, given to the caller.
    pub url: String,
    shared: Arc<Shared>,
    port: u16,
}

impl std::fmt::Debug for EdgeProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeProxy")
            .field("caller", &self.caller)
            .field("callee", &self.callee)
            .field("declared", &self.declared)
            .field("url", &self.url)
            .finish()
    }
}

impl EdgeProxy {
    /// Starts a proxy on 127.0.0.1 (a free port) forwarding to `upstream` (`http://host:port`);
    /// without one (the callee starts later) it answers 502 until [`EdgeProxy::set_upstream`].
    pub fn start(
        caller: &str,
        callee: &str,
        declared: bool,
        upstream: Option<&str>,
        client: Client,
    ) -> io::Result<EdgeProxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            upstream: Mutex::new(upstream.map(|u| u.trim_end_matches('/').to_string())),
            client,
            fault: Mutex::new(Fault::None),
            records: Mutex::new(Records::default()),
            seen: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            conns: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(0),
        });
        let s = Arc::clone(&shared);
        thread::Builder::new()
            .name(format!("proxy {caller}->{callee}"))
            .spawn(move || accept_loop(listener, s))?;
        Ok(EdgeProxy {
            caller: caller.to_string(),
            callee: callee.to_string(),
            declared,
            url: format!("http://127.0.0.1:{port}"),
            shared,
            port,
        })
    }

    /// Sets the service behind the edge once it runs.
    pub fn set_upstream(&self, url: &str) {
        *lock(&self.shared.upstream) = Some(url.trim_end_matches('/').to_string());
    }

    pub fn has_upstream(&self) -> bool {
        lock(&self.shared.upstream).is_some()
    }

    /// Injects `fault` into every request from now on (`Fault::None` lifts it).
    pub fn set_fault(&self, fault: Fault) {
        *lock(&self.shared.fault) = fault;
    }

    pub fn fault(&self) -> Fault {
        *lock(&self.shared.fault)
    }

    /// How many requests have arrived so far (also those beyond the record cap).
    pub fn seen(&self) -> u64 {
        self.shared.seen.load(Ordering::SeqCst)
    }

    /// The requests recorded (the most recent ones kept), in arrival order.
    pub fn records(&self) -> Vec<Record> {
        lock(&self.shared.records).since(0)
    }

    /// The records from position `from` on (see [`EdgeProxy::mark`]).
    pub fn records_since(&self, from: usize) -> Vec<Record> {
        lock(&self.shared.records).since(from)
    }

    /// A position in the records, to read only what arrives after it.
    pub fn mark(&self) -> usize {
        lock(&self.shared.records).end()
    }

    /// Stops accepting, closes every open connection. Idempotent.
    pub fn shutdown(&self) {
        if self.shared.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&([127, 0, 0, 1], self.port).into(), Duration::from_millis(200));
        for (_, c) in lock(&self.shared.conns).drain() {
            let _ = c.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for EdgeProxy {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = conn else {
            // Out of descriptors or a transient error: do not spin.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let id = shared.next_conn.fetch_add(1, Ordering::SeqCst);
        if let Ok(c) = stream.try_clone() {
            lock(&shared.conns).insert(id, c);
        }
        let s = Arc::clone(&shared);
        let spawned = thread::Builder::new().name("proxy conn".into()).spawn(move || {
            let reset = serve(stream, &s);
            // Drop the clone kept for shutdown; on a reset no FIN is sent before it (the last
            // close of a socket with SO_LINGER 0 sends the RST).
            if let Some(c) = lock(&s.conns).remove(&id) {
                if !reset {
                    let _ = c.shutdown(Shutdown::Both);
                }
            }
        });
        if spawned.is_err() {
            lock(&shared.conns).remove(&id);
        }
    }
}

/// A request read from the caller.
struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    close: bool,
}

enum ReadOutcome {
    Request(Request),
    /// The caller closed the connection, or the proxy is stopping.
    Closed,
    /// Not HTTP, or too large: answer 400 and close.
    Bad(String),
}

/// Serves one connection until it closes; true when it ended with an injected reset.
fn serve(stream: TcpStream, shared: &Shared) -> bool {
    let _ = stream.set_read_timeout(Some(TICK));
    let Ok(write_half) = stream.try_clone() else {
        return false;
    };
    let mut out = write_half;
    let mut reader = BufReader::new(stream);
    loop {
        let req = match read_request(&mut reader, shared, &mut out) {
            ReadOutcome::Request(r) => r,
            ReadOutcome::Closed => return false,
            ReadOutcome::Bad(why) => {
                let _ = write_answer(&mut out, 400, "text/plain", why.as_bytes(), true);
                return false;
            }
        };
        let arrived = Instant::now();
        shared.seen.fetch_add(1, Ordering::SeqCst);
        let fault = *lock(&shared.fault);
        let index = lock(&shared.records).push(Record {
            at: arrived,
            method: req.method.clone(),
            target: req.target.clone(),
            headers: req.headers.clone(),
            status: None,
            fault,
            elapsed: None,
        });
        let answer = match fault {
            Fault::Reset => {
                set_reset_on_close(&out);
                return true;
            }
            Fault::Blackhole => {
                // Hold the connection, never answer; end when the caller gives up or at stop.
                let mut buf = [0u8; 1024];
                loop {
                    if shared.stop.load(Ordering::SeqCst) {
                        return false;
                    }
                    match reader.get_mut().read(&mut buf) {
                        Ok(0) => return false,
                        Ok(_) => continue,
                        Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => continue,
                        Err(_) => return false,
                    }
                }
            }
            Fault::Status(code) => {
                let body = format!(
                    "{{\"type\":\"about:blank\",\"title\":\"fault injected by the grader\",\"status\":{code}}}"
                );
                (
                    code,
                    answer_bytes(code, "application/problem+json", body.as_bytes(), req.close),
                )
            }
            Fault::Latency(d) => {
                if !sleep_unless_stopped(shared, d) {
                    return false;
                }
                forward(shared, &req)
            }
            Fault::None => forward(shared, &req),
        };
        // Recorded before the caller gets the answer: whoever reads the records once it has
        // its answer finds them complete.
        let (status, bytes) = answer;
        if let Some(r) = lock(&shared.records).get_mut(index) {
            r.status = Some(status);
            r.elapsed = Some(arrived.elapsed());
        }
        let written = out.write_all(&bytes).and_then(|_| out.flush());
        if written.is_err() {
            // The caller is gone: nothing was answered.
            if let Some(r) = lock(&shared.records).get_mut(index) {
                r.status = None;
            }
        }
        if written.is_err() || req.close {
            return false;
        }
    }
}

fn sleep_unless_stopped(shared: &Shared, d: Duration) -> bool {
    let until = Instant::now() + d;
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return false;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        thread::sleep(left.min(TICK));
    }
}

/// Forwards to the upstream service: the status and the bytes of the answer to send back.
fn forward(shared: &Shared, req: &Request) -> (u16, Vec<u8>) {
    let headers: Vec<(&str, &str)> = req
        .headers
        .iter()
        .filter(|(k, _)| !is_hop_by_hop(k) && !k.eq_ignore_ascii_case("host") && !k.eq_ignore_ascii_case("user-agent"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let Some(upstream) = lock(&shared.upstream).clone() else {
        let msg = b"the service behind this edge is not running";
        return (502, answer_bytes(502, "text/plain", msg, req.close));
    };
    let url = format!("{upstream}{}", req.target);
    let body = (!req.body.is_empty() || !matches!(req.method.as_str(), "GET" | "HEAD" | "DELETE" | "OPTIONS"))
        .then_some(req.body.as_slice());
    match shared.client.send(&req.method, &url, &headers, body, UPSTREAM_TIMEOUT) {
        Ok(resp) => {
            let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, resp.reason);
            for (k, v) in &resp.headers {
                if is_hop_by_hop(k) || k.eq_ignore_ascii_case("content-length") {
                    continue;
                }
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            let body: &[u8] = if req.method == "HEAD" { &[] } else { &resp.body };
            let length = match (req.method.as_str(), resp.header("content-length")) {
                // A HEAD answer announces the length of the body a GET would get.
                ("HEAD", Some(l)) => l.trim().to_string(),
                _ => resp.body.len().to_string(),
            };
            head.push_str(&format!("Content-Length: {length}\r\n"));
            if req.close {
                head.push_str("Connection: close\r\n");
            }
            head.push_str("\r\n");
            let mut bytes = head.into_bytes();
            bytes.extend_from_slice(body);
            (resp.status, bytes)
        }
        Err(e) => {
            let msg = match e {
                HttpError::ConnectionRefused => "the service behind this edge is not listening".to_string(),
                other => format!("the service behind this edge failed: {other}"),
            };
            (502, answer_bytes(502, "text/plain", msg.as_bytes(), req.close))
        }
    }
}

fn is_hop_by_hop(name: &str) -> bool {
    [
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "proxy-connection",
        "content-length",
        "expect",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

fn write_answer(out: &mut TcpStream, status: u16, content_type: &str, body: &[u8], close: bool) -> io::Result<()> {
    out.write_all(&answer_bytes(status, content_type, body, close))?;
    out.flush()
}

/// An answer of the proxy itself (a fault, a missing upstream), as bytes.
fn answer_bytes(status: u16, content_type: &str, body: &[u8], close: bool) -> Vec<u8> {
    let reason = match status {
        400 => "Bad Request",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Fault",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{}\r\n",
        body.len(),
        if close { "Connection: close\r\n" } else { "" }
    );
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Makes the last close of the socket send a RST instead of a FIN (SO_LINGER with a zero
/// timeout); the caller then drops every handle without `shutdown`.
fn set_reset_on_close(stream: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor and a correctly sized option value.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

/// Reads one line (CRLF or LF), waiting through read timeouts unless the proxy stops.
fn read_line(reader: &mut BufReader<TcpStream>, shared: &Shared, buf: &mut Vec<u8>, limit: usize) -> io::Result<usize> {
    let start = buf.len();
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return Err(io::Error::other("stopping"));
        }
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(buf.len() - start);
        }
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        buf.extend_from_slice(&available[..take]);
        reader.consume(take);
        if buf.len() - start > limit {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
        }
        if done {
            return Ok(buf.len() - start);
        }
    }
}

fn read_exact(reader: &mut BufReader<TcpStream>, shared: &Shared, n: usize, out: &mut Vec<u8>) -> io::Result<()> {
    let mut left = n;
    let mut chunk = [0u8; 16 * 1024];
    while left > 0 {
        if shared.stop.load(Ordering::SeqCst) {
            return Err(io::Error::other("stopping"));
        }
        let want = left.min(chunk.len());
        match reader.read(&mut chunk[..want]) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(k) => {
                out.extend_from_slice(&chunk[..k]);
                left -= k;
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn read_request(reader: &mut BufReader<TcpStream>, shared: &Shared, out: &mut TcpStream) -> ReadOutcome {
    let mut line = Vec::new();
    // Skip empty lines between requests.
    loop {
        line.clear();
        match read_line(reader, shared, &mut line, MAX_HEAD) {
            Ok(0) => return ReadOutcome::Closed,
            Ok(_) if line.iter().all(|b| b.is_ascii_whitespace()) => continue,
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                return ReadOutcome::Bad("request line too long".into())
            }
            Err(_) => return ReadOutcome::Closed,
        }
    }
    let request_line = String::from_utf8_lossy(&line).trim_end().to_string();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next()) else {
        return ReadOutcome::Bad(format!("not an HTTP request line: {request_line:.80}"));
    };
    if !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return ReadOutcome::Bad(format!("not an HTTP/1.x origin-form request: {request_line:.80}"));
    }
    let mut headers = Vec::new();
    let mut head_size = line.len();
    loop {
        let mut h = Vec::new();
        match read_line(reader, shared, &mut h, MAX_HEAD) {
            Ok(0) => return ReadOutcome::Closed,
            Ok(n) => head_size += n,
            Err(_) => return ReadOutcome::Closed,
        }
        if head_size > MAX_HEAD {
            return ReadOutcome::Bad("request head too large".into());
        }
        let text = String::from_utf8_lossy(&h);
        let text = text.trim_end();
        if text.is_empty() {
            break;
        }
        if let Some((k, v)) = text.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let close = version == "HTTP/1.0" || get("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
    if get("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        // The caller waits for this before sending the body.
        let _ = out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    let mut body = Vec::new();
    if get("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        loop {
            let mut size_line = Vec::new();
            if read_line(reader, shared, &mut size_line, 1024).is_err() {
                return ReadOutcome::Closed;
            }
            let text = String::from_utf8_lossy(&size_line);
            let hex = text.trim().split(';').next().unwrap_or("");
            let Ok(size) = usize::from_str_radix(hex, 16) else {
                return ReadOutcome::Bad("bad chunk size".into());
            };
            if size == 0 {
                // Trailers up to the empty line.
                loop {
                    let mut t = Vec::new();
                    match read_line(reader, shared, &mut t, MAX_HEAD) {
                        Ok(n) if n > 0 && !t.iter().all(|b| b.is_ascii_whitespace()) => continue,
                        Ok(_) => break,
                        Err(_) => return ReadOutcome::Closed,
                    }
                }
                break;
            }
            if size > MAX_BODY - body.len() {
                return ReadOutcome::Bad("request body too large".into());
            }
            if read_exact(reader, shared, size, &mut body).is_err() {
                return ReadOutcome::Closed;
            }
            let mut crlf = Vec::new();
            if read_line(reader, shared, &mut crlf, 16).is_err() {
                return ReadOutcome::Closed;
            }
        }
    } else if let Some(len) = get("content-length") {
        let Ok(n) = len.parse::<usize>() else {
            return ReadOutcome::Bad("bad Content-Length".into());
        };
        if n > MAX_BODY {
            return ReadOutcome::Bad("request body too large".into());
        }
        if read_exact(reader, shared, n, &mut body).is_err() {
            return ReadOutcome::Closed;
        }
    }
    ReadOutcome::Request(Request {
        method: method.to_string(),
        target: target.to_string(),
        headers,
        body,
        close,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::target::Policy;

    /// A tiny upstream: answers every request with 200 and echoes the request line as body.
    fn upstream() -> (String, thread::JoinHandle<()>, Arc<AtomicBool>) {
        let l = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        l.set_nonblocking(true).unwrap();
        let h = thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match l.accept() {
                    Ok((mut c, _)) => {
                        c.set_nonblocking(false).unwrap();
                        let mut r = BufReader::new(c.try_clone().unwrap());
                        let mut first = String::new();
                        r.read_line(&mut first).unwrap();
                        let mut line = String::new();
                        while r.read_line(&mut line).is_ok() && line.trim() != "" {
                            line.clear();
                        }
                        let body = first.trim().to_string();
                        let _ = write!(
                            c,
                            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        (url, h, stop)
    }

    fn client() -> Client {
        Client::new(Policy::new(&[]))
    }

    #[test]
    fn forwards_records_and_injects_faults() {
        let (up, handle, stop) = upstream();
        let proxy = EdgeProxy::start("orders", "payments", true, Some(&up), client()).unwrap();
        let c = client();
        let url = format!("{}/v1/payments/7?x=1", proxy.url);
        let r = c
            .send(
                "GET",
                &url,
                &[("traceparent", "00-abc-def-01")],
                None,
                Duration::from_secs(5),
            )
            .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(String::from_utf8_lossy(&r.body), "GET /v1/payments/7?x=1 HTTP/1.1");
        let recs = proxy.records();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].target, "/v1/payments/7?x=1");
        assert_eq!(recs[0].header("TraceParent"), Some("00-abc-def-01"));
        assert_eq!(recs[0].status, Some(200));

        proxy.set_fault(Fault::Status(503));
        let r = c.get(&url, Duration::from_secs(5)).unwrap();
        assert_eq!(r.status, 503);

        proxy.set_fault(Fault::Reset);
        assert!(c.get(&url, Duration::from_secs(5)).is_err());

        proxy.set_fault(Fault::Blackhole);
        let t = Instant::now();
        let e = c.get(&url, Duration::from_millis(300)).unwrap_err();
        assert!(matches!(e, HttpError::Timeout(_)), "{e}");
        assert!(t.elapsed() >= Duration::from_millis(300));

        proxy.set_fault(Fault::Latency(Duration::from_millis(200)));
        let t = Instant::now();
        assert_eq!(c.get(&url, Duration::from_secs(5)).unwrap().status, 200);
        assert!(t.elapsed() >= Duration::from_millis(200));

        proxy.set_fault(Fault::None);
        assert_eq!(c.get(&url, Duration::from_secs(5)).unwrap().status, 200);
        assert_eq!(proxy.seen(), 6);
        proxy.shutdown();
        assert!(c.get(&url, Duration::from_millis(500)).is_err());
        stop.store(true, Ordering::SeqCst);
        handle.join().unwrap();
    }

    #[test]
    fn a_dead_upstream_is_a_502_and_garbage_is_a_400() {
        let port = TcpListener::bind(("127.0.0.1", 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let proxy = EdgeProxy::start("a", "b", false, Some(&format!("http://127.0.0.1:{port}")), client()).unwrap();
        let r = client()
            .get(&format!("{}/x", proxy.url), Duration::from_secs(5))
            .unwrap();
        assert_eq!(r.status, 502);
        let mut s = TcpStream::connect(proxy.url.trim_start_matches("http://")).unwrap();
        s.write_all(b"\x16\x03\x01garbage\r\n\r\n").unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    }
}
