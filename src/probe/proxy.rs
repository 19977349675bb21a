//! Grader-owned HTTP proxies on the dependency edges of the running system.
//!
//! For each edge A -> B between started services, A's dependency URL points at an
//! [`EdgeProxy`] listening on 127.0.0.1 in front of B. The proxy forwards every request to B,
//! records what crossed the edge (method, path, headers, answer, timing) and, on demand,
//! injects a [`Fault`]: added latency, an HTTP error status, a connection reset, or a blackhole
//! (the connection is accepted and never answered). Proxies on edges that the manifest does not
//! declare catch undeclared calls.
//!
//! Built on hyper: each proxy runs one thread with a single-threaded tokio runtime, serving
//! HTTP/1.1 and HTTP/2 (prior knowledge, as gRPC speaks it) on the same port, and forwarding
//! in the caller's protocol version with bodies and trailers streamed through untouched.
//! gRPC calls are recorded like any request (`POST /package.Service/Method`, content type
//! `application/grpc`); the faults apply to them unchanged: a gRPC client reads the HTTP 503
//! of [`Fault::Status`] as `UNAVAILABLE`, and [`Fault::Reset`] resets the call's HTTP/2
//! stream (tests/probe.rs and the `*-grpc` cases of PRB005 and PRB010 run a Node gRPC system
//! through them).
//! Shutting a proxy down drops its runtime, which closes every connection it still holds.

use std::convert::Infallible;
use std::io;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::error_chain as describe;
use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Request, Response, StatusCode, Uri, Version};
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as Upstream;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::watch;

/// Records kept per proxy (the oldest half is dropped when full).
const MAX_RECORDS: usize = 20_000;
/// How long the proxy waits for the upstream service to answer one request (its head).
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);

type Body = BoxBody<Bytes, hyper::Error>;

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
    fault: Mutex<Fault>,
    records: Mutex<Records>,
    seen: AtomicU64,
    stop: AtomicBool,
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
    /// Tells the proxy's thread to stop; the thread is joined at shutdown.
    stop: watch::Sender<bool>,
    thread: Mutex<Option<thread::JoinHandle<()>>>,
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
    pub fn start(caller: &str, callee: &str, declared: bool, upstream: Option<&str>) -> io::Result<EdgeProxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            upstream: Mutex::new(upstream.map(|u| u.trim_end_matches('/').to_string())),
            fault: Mutex::new(Fault::None),
            records: Mutex::new(Records::default()),
            seen: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (stop, stopped) = watch::channel(false);
        let s = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name(format!("proxy {caller}->{callee}"))
            .spawn(move || {
                runtime.block_on(accept_loop(listener, s, stopped));
                // Dropping the runtime cancels every connection task: their sockets close.
                drop(runtime);
            })?;
        Ok(EdgeProxy {
            caller: caller.to_string(),
            callee: callee.to_string(),
            declared,
            url: format!("http://127.0.0.1:{port}"),
            shared,
            stop,
            thread: Mutex::new(Some(thread)),
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

    /// Stops accepting and closes every open connection (held requests end unanswered).
    /// Idempotent; returns once the proxy's thread has ended.
    pub fn shutdown(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = self.stop.send(true);
        if let Some(t) = lock(&self.thread).take() {
            let _ = t.join();
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

/// The two upstream clients: one per protocol version a caller may speak.
#[derive(Clone)]
struct Clients {
    http1: Upstream<HttpConnector, Incoming>,
    http2: Upstream<HttpConnector, Incoming>,
}

impl Clients {
    fn new() -> Clients {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        let http1 = Upstream::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(5))
            .build(connector.clone());
        let http2 = Upstream::builder(TokioExecutor::new())
            .http2_only(true)
            .pool_idle_timeout(Duration::from_secs(5))
            .build(connector);
        Clients { http1, http2 }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stopped: watch::Receiver<bool>) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let clients = Clients::new();
    loop {
        let accepted = tokio::select! {
            _ = stopped.wait_for(|s| *s) => return,
            a = listener.accept() => a,
        };
        let Ok((stream, _)) = accepted else {
            // Out of descriptors or a transient error: do not spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let fd = stream.as_raw_fd();
        let shared = Arc::clone(&shared);
        let clients = clients.clone();
        let stopped = stopped.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                handle(req, Arc::clone(&shared), clients.clone(), fd, stopped.clone())
            });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Why a request was not answered: the connection (HTTP/1) or the stream (HTTP/2) is dropped.
#[derive(Debug)]
struct Unanswered(&'static str);

impl std::fmt::Display for Unanswered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Unanswered {}

async fn handle(
    req: Request<Incoming>,
    shared: Arc<Shared>,
    clients: Clients,
    fd: RawFd,
    mut stopped: watch::Receiver<bool>,
) -> Result<Response<Body>, Unanswered> {
    let arrived = Instant::now();
    shared.seen.fetch_add(1, Ordering::SeqCst);
    let fault = *lock(&shared.fault);
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let index = lock(&shared.records).push(Record {
        at: arrived,
        method: req.method().as_str().to_string(),
        target: target.clone(),
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        status: None,
        fault,
        elapsed: None,
    });
    let response = match fault {
        Fault::Reset => {
            // The last close of the socket sends a RST (HTTP/2: the stream is reset).
            if req.version() != Version::HTTP_2 {
                set_reset_on_close(fd);
            }
            return Err(Unanswered("connection reset by the grader"));
        }
        Fault::Blackhole => {
            // Held, never answered, until the proxy stops (the caller's timeout ends it first).
            let _ = stopped.wait_for(|s| *s).await;
            return Err(Unanswered("the proxy stopped"));
        }
        Fault::Status(code) => {
            let body =
                format!("{{\"type\":\"about:blank\",\"title\":\"fault injected by the grader\",\"status\":{code}}}");
            own_answer(code, "application/problem+json", body)
        }
        Fault::Latency(d) => {
            tokio::select! {
                _ = stopped.wait_for(|s| *s) => return Err(Unanswered("the proxy stopped")),
                _ = tokio::time::sleep(d) => {}
            }
            forward(&shared, &clients, req, &target).await
        }
        Fault::None => forward(&shared, &clients, req, &target).await,
    };
    // Recorded before the caller gets the answer: whoever reads the records once it has its
    // answer finds them complete.
    if let Some(r) = lock(&shared.records).get_mut(index) {
        r.status = Some(response.status().as_u16());
        r.elapsed = Some(arrived.elapsed());
    }
    Ok(response)
}

/// Forwards to the upstream service in the caller's protocol version, streaming both bodies.
async fn forward(shared: &Shared, clients: &Clients, req: Request<Incoming>, target: &str) -> Response<Body> {
    let Some(upstream) = lock(&shared.upstream).clone() else {
        return own_answer(502, "text/plain", "the service behind this edge is not running".into());
    };
    let Ok(uri) = format!("{upstream}{target}").parse::<Uri>() else {
        return own_answer(502, "text/plain", format!("cannot forward to {upstream}{target}"));
    };
    let (mut parts, body) = req.into_parts();
    let http2 = parts.version == Version::HTTP_2;
    strip_hop_by_hop(&mut parts.headers);
    parts.headers.remove(header::HOST);
    parts.uri = uri;
    let client = if http2 { &clients.http2 } else { &clients.http1 };
    let sent = tokio::time::timeout(UPSTREAM_TIMEOUT, client.request(Request::from_parts(parts, body))).await;
    match sent {
        Ok(Ok(resp)) => {
            let (mut parts, body) = resp.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            Response::from_parts(parts, body.boxed())
        }
        Ok(Err(e)) => {
            let refused = e.is_connect()
                && std::error::Error::source(&e)
                    .and_then(|s| s.source().or(Some(s)))
                    .and_then(|s| s.downcast_ref::<io::Error>())
                    .is_some_and(|io| io.kind() == io::ErrorKind::ConnectionRefused);
            let msg = if refused || e.is_connect() {
                "the service behind this edge is not listening".to_string()
            } else {
                format!("the service behind this edge failed: {}", describe(&e))
            };
            own_answer(502, "text/plain", msg)
        }
        Err(_) => own_answer(
            504,
            "text/plain",
            format!(
                "the service behind this edge did not answer within {} s",
                UPSTREAM_TIMEOUT.as_secs()
            ),
        ),
    }
}

/// Removes the headers that belong to one connection, not to the message (RFC 9110 7.6.1);
/// `te: trailers` stays (gRPC needs it).
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|t| t.trim().to_ascii_lowercase()))
        .filter(|t| !t.is_empty())
        .collect();
    for name in named {
        headers.remove(name.as_str());
    }
    for name in [
        "connection",
        "keep-alive",
        "transfer-encoding",
        "trailer",
        "upgrade",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
    ] {
        headers.remove(name);
    }
    if headers
        .get(header::TE)
        .is_some_and(|v| !v.as_bytes().eq_ignore_ascii_case(b"trailers"))
    {
        headers.remove(header::TE);
    }
}

/// An answer of the proxy itself (a fault, a missing upstream).
fn own_answer(status: u16, content_type: &'static str, body: String) -> Response<Body> {
    let mut r = Response::new(
        Full::new(Bytes::from(body))
            .map_err(|never: Infallible| match never {})
            .boxed(),
    );
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// Makes the last close of the socket send a RST instead of a FIN (SO_LINGER with a zero
/// timeout).
fn set_reset_on_close(fd: RawFd) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: `fd` is the connection's socket, open while its request is handled; the option
    // value is correctly sized.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::http::{Client, HttpError};
    use crate::probe::target::Policy;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;

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
        let proxy = EdgeProxy::start("orders", "payments", true, Some(&up)).unwrap();
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
        let proxy = EdgeProxy::start("a", "b", false, Some(&format!("http://127.0.0.1:{port}"))).unwrap();
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

    /// HTTP/2 with prior knowledge (as gRPC speaks it) goes through in HTTP/2, with `te:
    /// trailers` kept and the answer's trailers (gRPC's status) passed back; the call is
    /// recorded like any other.
    #[test]
    fn http2_calls_pass_through_with_their_trailers() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let up = format!("http://{}", l.local_addr().unwrap());
            tokio::spawn(async move {
                while let Ok((s, _)) = l.accept().await {
                    let svc = hyper::service::service_fn(|req: Request<Incoming>| async move {
                        let line = format!(
                            "{:?} te={:?} ",
                            req.version(),
                            req.headers().get("te").and_then(|v| v.to_str().ok())
                        );
                        let body = req.into_body().collect().await?.to_bytes();
                        let mut trailers = HeaderMap::new();
                        trailers.insert("grpc-status", HeaderValue::from_static("0"));
                        let answer = Full::new(Bytes::from(format!("{line}{}", String::from_utf8_lossy(&body))))
                            .with_trailers(async { Some(Ok(trailers)) });
                        Ok::<_, hyper::Error>(Response::new(answer))
                    });
                    tokio::spawn(
                        hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                            .serve_connection(TokioIo::new(s), svc),
                    );
                }
            });
            let proxy = EdgeProxy::start("web", "health", true, Some(&up)).unwrap();
            let client = Upstream::builder(TokioExecutor::new())
                .http2_only(true)
                .build_http::<Full<Bytes>>();
            let req = Request::post(format!("{}/grpc.health.v1.Health/Check", proxy.url))
                .header("te", "trailers")
                .header("content-type", "application/grpc")
                .body(Full::new(Bytes::from_static(b"ping")))
                .unwrap();
            let resp = client.request(req).await.unwrap();
            assert_eq!(resp.version(), Version::HTTP_2);
            assert_eq!(resp.status(), 200);
            let got = resp.into_body().collect().await.unwrap();
            let trailers = got.trailers().cloned().expect("trailers passed back");
            assert_eq!(trailers.get("grpc-status").unwrap(), "0");
            assert_eq!(
                String::from_utf8_lossy(&got.to_bytes()),
                "HTTP/2.0 te=Some(\"trailers\") ping"
            );
            let recs = proxy.records();
            assert_eq!(recs.len(), 1);
            assert_eq!(recs[0].method, "POST");
            assert_eq!(recs[0].target, "/grpc.health.v1.Health/Check");
            assert_eq!(recs[0].header("content-type"), Some("application/grpc"));
            assert_eq!(recs[0].status, Some(200));

            proxy.set_fault(Fault::Reset);
            let req = Request::post(format!("{}/grpc.health.v1.Health/Check", proxy.url))
                .body(Full::new(Bytes::new()))
                .unwrap();
            assert!(client.request(req).await.is_err(), "the stream is reset");
            proxy.shutdown();
        });
    }
}
