//! The gRPC health check (`grpc.health.v1.Health/Check`), for services that declare
//! `run.health = "grpc"` or `"grpc:<service>"`: one unary call over HTTP/2 without TLS (prior
//! knowledge, as gRPC servers speak it), on hyper's HTTP/2 client.
//!
//! The two messages are encoded by hand: `HealthCheckRequest` is one string field and
//! `HealthCheckResponse` one enum field, a few lines of protobuf wire format (tested below),
//! where prost or tonic would add a code generator and a dozen crates for two fields.

use std::fmt;
use std::time::Duration;

use bytes::{Buf, Bytes};
use http::{HeaderMap, Request, Version};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::{TokioExecutor, TokioIo};

use super::error_chain as describe;
use super::http::Client;
use super::target::Url;

/// The method called.
pub const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";
/// Largest answer read (a health answer is a few bytes).
const MAX_ANSWER: usize = 64 * 1024;

/// `HealthCheckResponse.ServingStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serving {
    Unknown,
    Serving,
    NotServing,
    /// The server knows no such service (an answer of `Watch`; `Check` fails with NOT_FOUND).
    ServiceUnknown,
    /// A value this version of the protocol does not define.
    Other(u64),
}

impl Serving {
    fn from_wire(v: u64) -> Serving {
        match v {
            0 => Serving::Unknown,
            1 => Serving::Serving,
            2 => Serving::NotServing,
            3 => Serving::ServiceUnknown,
            n => Serving::Other(n),
        }
    }
}

impl fmt::Display for Serving {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Serving::Unknown => f.write_str("UNKNOWN"),
            Serving::Serving => f.write_str("SERVING"),
            Serving::NotServing => f.write_str("NOT_SERVING"),
            Serving::ServiceUnknown => f.write_str("SERVICE_UNKNOWN"),
            Serving::Other(n) => write!(f, "status {n}"),
        }
    }
}

/// Why the health check got no serving status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrpcError {
    /// The policy refused the host, or the URL is not one the probes reach: nothing was sent.
    Refused(String),
    /// Nothing listened on the port.
    ConnectionRefused,
    /// No answer in time.
    Timeout(Duration),
    /// The connection or the HTTP/2 exchange failed (a server that does not speak HTTP/2).
    Transport(String),
    /// An HTTP status other than 200 (gRPC answers 200 and puts its status in `grpc-status`).
    HttpStatus(u16),
    /// A gRPC status other than OK, with its message.
    Status { code: u32, message: String },
    /// The answer is not a health answer.
    Malformed(String),
}

impl fmt::Display for GrpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GrpcError::Refused(why) => f.write_str(why),
            GrpcError::ConnectionRefused => f.write_str("connection refused"),
            GrpcError::Timeout(d) => write!(f, "no answer within {} ms", d.as_millis()),
            GrpcError::Transport(why) => {
                write!(f, "no HTTP/2 exchange without TLS (as gRPC speaks it): {why}")
            }
            GrpcError::HttpStatus(s) => write!(f, "answered HTTP {s} instead of a gRPC answer (HTTP 200)"),
            GrpcError::Status { code, message } => {
                write!(f, "answered gRPC status {code} {}", code_name(*code))?;
                if !message.is_empty() {
                    write!(f, " ({message})")?;
                }
                Ok(())
            }
            GrpcError::Malformed(why) => write!(f, "the answer is not a health answer: {why}"),
        }
    }
}

/// The name of a gRPC status code.
pub fn code_name(code: u32) -> &'static str {
    const NAMES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    NAMES.get(code as usize).copied().unwrap_or("(not a gRPC status)")
}

/// Asks the server at `base_url` (`http://host:port`) for the serving status of `service`
/// (empty: the server as a whole). The host must pass the client's policy; the credentials of
/// `[service.run.auth]` for that origin go along as metadata.
pub fn check_health(client: &Client, base_url: &str, service: &str, timeout: Duration) -> Result<Serving, GrpcError> {
    let url = Url::parse(base_url).map_err(GrpcError::Refused)?;
    let addresses = client.policy.addresses(&url).map_err(GrpcError::Refused)?;
    let mut req = Request::post(format!("http://{}{HEALTH_CHECK}", url.host_header()))
        .version(Version::HTTP_2)
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("user-agent", client.user_agent.as_str())
        .header("grpc-timeout", format!("{}m", timeout.as_millis().max(1)));
    if let Some((name, value)) = client.credentials_for(base_url) {
        req = req.header(name.to_ascii_lowercase(), value);
    }
    let req = req
        .body(Full::new(Bytes::from(frame(&encode_request(service)))))
        .map_err(|e| GrpcError::Refused(format!("cannot build the request: {e}")))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| GrpcError::Transport(format!("cannot start a runtime: {e}")))?;
    runtime.block_on(async {
        match tokio::time::timeout(timeout, call(&addresses, req)).await {
            Ok(r) => r,
            Err(_) => Err(GrpcError::Timeout(timeout)),
        }
    })
}

/// One call on a new connection to the first address that accepts it.
async fn call(addresses: &[std::net::SocketAddr], req: Request<Full<Bytes>>) -> Result<Serving, GrpcError> {
    let mut last = GrpcError::ConnectionRefused;
    let mut stream = None;
    for a in addresses {
        match tokio::net::TcpStream::connect(a).await {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => last = GrpcError::ConnectionRefused,
            Err(e) => last = GrpcError::Transport(format!("could not connect: {e}")),
        }
    }
    let stream = stream.ok_or(last)?;
    let _ = stream.set_nodelay(true);
    let (mut send, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
        .await
        .map_err(|e| GrpcError::Transport(describe(&e)))?;
    // Dropped with the runtime once the answer is read: the connection closes.
    tokio::spawn(conn);
    let resp = send
        .send_request(req)
        .await
        .map_err(|e| GrpcError::Transport(describe(&e)))?;
    let (parts, body) = resp.into_parts();
    // A failure without a message is "trailers-only": the status is in the headers.
    if let Some(status) = grpc_status(&parts.headers) {
        status?;
    }
    if parts.status != 200 {
        return Err(GrpcError::HttpStatus(parts.status.as_u16()));
    }
    let got = Limited::new(body, MAX_ANSWER)
        .collect()
        .await
        .map_err(|e| GrpcError::Transport(format!("reading the answer: {e}")))?;
    let trailers = got.trailers().cloned().unwrap_or_default();
    match grpc_status(&trailers) {
        Some(status) => status?,
        None => return Err(GrpcError::Malformed("it ends without a `grpc-status`".into())),
    }
    decode_response(&unframe(got.to_bytes())?)
}

/// `Some(Ok)` for grpc-status 0, `Some(Err)` for another, `None` when absent.
fn grpc_status(headers: &HeaderMap) -> Option<Result<(), GrpcError>> {
    let raw = headers.get("grpc-status")?;
    let code = raw
        .to_str()
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(2);
    if code == 0 {
        return Some(Ok(()));
    }
    let message = headers
        .get("grpc-message")
        .map(|m| {
            // Percent-encoded on the wire (gRPC over HTTP/2, "Status-Message").
            percent_encoding::percent_decode(m.as_bytes())
                .decode_utf8_lossy()
                .into_owned()
        })
        .unwrap_or_default();
    Some(Err(GrpcError::Status { code, message }))
}

/// `HealthCheckRequest { string service = 1; }`: field 1, wire type 2 (length-delimited);
/// nothing for the empty string (proto3 leaves default values out).
fn encode_request(service: &str) -> Vec<u8> {
    let mut out = Vec::new();
    if !service.is_empty() {
        out.push(0x0a);
        put_varint(&mut out, service.len() as u64);
        out.extend_from_slice(service.as_bytes());
    }
    out
}

/// `HealthCheckResponse { ServingStatus status = 1; }`: field 1, wire type 0 (varint);
/// absent means 0 (UNKNOWN). Other fields are skipped, as protobuf readers do.
fn decode_response(mut msg: &[u8]) -> Result<Serving, GrpcError> {
    let bad = |why: &str| GrpcError::Malformed(why.to_string());
    let mut status = 0;
    while !msg.is_empty() {
        let key = get_varint(&mut msg).ok_or_else(|| bad("a field key is cut short"))?;
        let (field, wire) = (key >> 3, key & 7);
        match wire {
            0 => {
                let v = get_varint(&mut msg).ok_or_else(|| bad("a number is cut short"))?;
                if field == 1 {
                    status = v;
                }
            }
            1 | 5 => {
                let n = if wire == 1 { 8 } else { 4 };
                if msg.len() < n {
                    return Err(bad("a fixed-size field is cut short"));
                }
                msg = &msg[n..];
            }
            2 => {
                let n = get_varint(&mut msg).ok_or_else(|| bad("a length is cut short"))?;
                let n = usize::try_from(n).ok().filter(|n| *n <= msg.len());
                let n = n.ok_or_else(|| bad("a field is longer than the message"))?;
                msg = &msg[n..];
            }
            _ => {
                return Err(bad(&format!(
                    "field {field} has wire type {wire}, which protobuf 3 does not use"
                )))
            }
        }
    }
    Ok(Serving::from_wire(status))
}

/// A gRPC message frame: a compressed flag (0), the length (4 bytes, big-endian), the message.
fn frame(msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + msg.len());
    out.push(0);
    out.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    out.extend_from_slice(msg);
    out
}

/// The one message of a unary answer's body.
fn unframe(mut body: Bytes) -> Result<Vec<u8>, GrpcError> {
    let bad = |why: &str| GrpcError::Malformed(why.to_string());
    if body.len() < 5 {
        return Err(bad(if body.is_empty() {
            "it has no message"
        } else {
            "its message frame is cut short"
        }));
    }
    let compressed = body.get_u8();
    let len = body.get_u32() as usize;
    if compressed != 0 {
        return Err(bad(
            "its message is compressed, though the request offered no compression",
        ));
    }
    if body.len() != len {
        return Err(bad(&format!(
            "its message frame announces {len} bytes and holds {}",
            body.len()
        )));
    }
    Ok(body.to_vec())
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(buf: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for i in 0..10 {
        let (&b, rest) = buf.split_first()?;
        *buf = rest;
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::target::Policy;
    use http::{HeaderValue, Response};
    use hyper::body::Incoming;

    #[test]
    fn encodes_the_request_as_protobuf_does() {
        // protoc --encode=grpc.health.v1.HealthCheckRequest <<< 'service: "shop.Stock"'
        assert_eq!(encode_request("shop.Stock"), b"\x0a\x0ashop.Stock");
        assert_eq!(encode_request(""), b"");
        // A length past 127 takes two varint bytes.
        let long = "s".repeat(300);
        assert_eq!(&encode_request(&long)[..3], &[0x0a, 0xac, 0x02]);
        assert_eq!(frame(b"ab"), b"\x00\x00\x00\x00\x02ab");
    }

    #[test]
    fn decodes_the_response_and_skips_unknown_fields() {
        assert_eq!(decode_response(b"\x08\x01"), Ok(Serving::Serving));
        assert_eq!(decode_response(b"\x08\x02"), Ok(Serving::NotServing));
        assert_eq!(decode_response(b"\x08\x03"), Ok(Serving::ServiceUnknown));
        // proto3 leaves UNKNOWN (0) out: an empty message.
        assert_eq!(decode_response(b""), Ok(Serving::Unknown));
        assert_eq!(decode_response(b"\x08\x07"), Ok(Serving::Other(7)));
        // Unknown fields of every wire type before the status: field 2 (string), field 3
        // (fixed64), field 4 (fixed32), field 5 (varint).
        let msg = b"\x12\x02hi\x19\x01\x02\x03\x04\x05\x06\x07\x08\x25\x01\x02\x03\x04\x28\x96\x01\x08\x01";
        assert_eq!(decode_response(msg), Ok(Serving::Serving));
        assert!(matches!(decode_response(b"\x08"), Err(GrpcError::Malformed(_))));
        assert!(matches!(decode_response(b"\x12\x05hi"), Err(GrpcError::Malformed(_))));
        assert!(matches!(decode_response(b"\x0b"), Err(GrpcError::Malformed(_))));
        assert_eq!(
            unframe(Bytes::from_static(b"\x00\x00\x00\x00\x02\x08\x01")).unwrap(),
            b"\x08\x01"
        );
        assert!(unframe(Bytes::from_static(b"\x01\x00\x00\x00\x02\x08\x01")).is_err());
        assert!(unframe(Bytes::from_static(b"\x00\x00\x00\x00\x03\x08\x01")).is_err());
        assert!(unframe(Bytes::new()).is_err());
    }

    #[test]
    fn names_the_status_codes() {
        assert_eq!(code_name(5), "NOT_FOUND");
        assert_eq!(code_name(12), "UNIMPLEMENTED");
        assert_eq!(code_name(16), "UNAUTHENTICATED");
        let e = GrpcError::Status {
            code: 5,
            message: "unknown service shop.Nope".into(),
        };
        assert_eq!(
            e.to_string(),
            "answered gRPC status 5 NOT_FOUND (unknown service shop.Nope)"
        );
    }

    /// How a server answers: the status in the answer, or a gRPC error.
    #[derive(Clone, Copy)]
    enum Answer {
        Status(u8),
        /// Trailers-only: the error status in the headers.
        Error(&'static str, &'static str),
        /// HTTP 200 without any grpc-status.
        NoStatus,
    }

    /// An HTTP/2 server on 127.0.0.1 answering every health check with `answer`; it also
    /// checks what arrives (path, content type, te, the service asked for) and echoes the
    /// service name back in a header.
    fn server(answer: Answer) -> (String, tokio::runtime::Runtime) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let l = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        rt.spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| async move {
                    assert_eq!(req.uri().path(), HEALTH_CHECK);
                    assert_eq!(req.headers()["content-type"], "application/grpc");
                    assert_eq!(req.headers()["te"], "trailers");
                    let body = req.into_body().collect().await?.to_bytes();
                    let msg = unframe(body).unwrap();
                    // Field 1 is the service name (or absent).
                    let asked = if msg.is_empty() {
                        String::new()
                    } else {
                        String::from_utf8(msg[2..].to_vec()).unwrap()
                    };
                    let mut trailers = HeaderMap::new();
                    let payload = match answer {
                        Answer::Status(s) => {
                            trailers.insert("grpc-status", HeaderValue::from_static("0"));
                            frame(&[0x08, s])
                        }
                        Answer::Error(code, message) => {
                            let mut r = Response::new(Full::new(Bytes::new()).boxed());
                            r.headers_mut().insert("grpc-status", HeaderValue::from_static(code));
                            r.headers_mut()
                                .insert("grpc-message", HeaderValue::from_static(message));
                            r.headers_mut()
                                .insert("content-type", HeaderValue::from_static("application/grpc"));
                            return Ok::<_, hyper::Error>(r);
                        }
                        Answer::NoStatus => frame(&[0x08, 1]),
                    };
                    let mut r = Response::new(
                        Full::new(Bytes::from(payload))
                            .with_trailers(async move { Some(Ok(trailers)) })
                            .boxed(),
                    );
                    r.headers_mut()
                        .insert("content-type", HeaderValue::from_static("application/grpc"));
                    r.headers_mut()
                        .insert("x-asked", HeaderValue::from_str(&asked).unwrap());
                    Ok(r)
                });
                tokio::spawn(
                    hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(s), svc),
                );
            }
        });
        (url, rt)
    }

    fn client() -> Client {
        Client::new(Policy::new(&[]))
    }

    #[test]
    fn reads_the_serving_status_of_a_live_server() {
        let t = Duration::from_secs(5);
        let (url, _rt) = server(Answer::Status(1));
        assert_eq!(check_health(&client(), &url, "", t), Ok(Serving::Serving));
        assert_eq!(check_health(&client(), &url, "shop.Stock", t), Ok(Serving::Serving));
        let (url, _rt) = server(Answer::Status(2));
        assert_eq!(check_health(&client(), &url, "shop.Stock", t), Ok(Serving::NotServing));
        let (url, _rt) = server(Answer::Error("5", "unknown%20service"));
        assert_eq!(
            check_health(&client(), &url, "shop.Nope", t),
            Err(GrpcError::Status {
                code: 5,
                message: "unknown service".into()
            })
        );
        let (url, _rt) = server(Answer::NoStatus);
        assert!(matches!(
            check_health(&client(), &url, "", t),
            Err(GrpcError::Malformed(m)) if m.contains("grpc-status")
        ));
    }

    #[test]
    fn a_closed_port_an_http1_server_and_a_refused_host_are_told_apart() {
        let t = Duration::from_secs(5);
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert_eq!(
            check_health(&client(), &format!("http://127.0.0.1:{port}"), "", t),
            Err(GrpcError::ConnectionRefused)
        );
        // An HTTP/1.1-only server answers the HTTP/2 preface with an HTTP/1.1 error and closes.
        let l = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let h = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut c, _) = l.accept().unwrap();
            let mut buf = [0u8; 64];
            let _ = c.read(&mut buf);
            let _ = c.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        });
        assert!(matches!(
            check_health(&client(), &url, "", t),
            Err(GrpcError::Transport(_))
        ));
        h.join().unwrap();
        assert!(matches!(
            check_health(&client(), "http://10.0.0.1:50051", "", t),
            Err(GrpcError::Refused(_))
        ));
        // A server that accepts and never answers.
        let l = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let short = Duration::from_millis(300);
        assert_eq!(check_health(&client(), &url, "", short), Err(GrpcError::Timeout(short)));
        drop(l);
    }
}
