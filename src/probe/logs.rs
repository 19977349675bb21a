//! Size-capped capture of a service's stdout and stderr: a thread per stream drains the pipe
//! (so a chatty service never blocks on a full pipe) and keeps only the last bytes.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Arc, Mutex};

/// The last `cap` bytes written to one stream, and how many were written in all.
#[derive(Debug)]
pub struct LogBuf {
    cap: usize,
    inner: Mutex<(VecDeque<u8>, u64)>,
    closed: std::sync::atomic::AtomicBool,
}

impl LogBuf {
    pub fn new(cap: usize) -> Arc<LogBuf> {
        Arc::new(LogBuf {
            cap,
            inner: Mutex::new((VecDeque::new(), 0)),
            closed: std::sync::atomic::AtomicBool::new(false),
        })
    }

    pub fn push(&self, bytes: &[u8]) {
        let Ok(mut g) = self.inner.lock() else { return };
        g.1 += bytes.len() as u64;
        let keep = &bytes[bytes.len().saturating_sub(self.cap)..];
        g.0.extend(keep);
        let excess = g.0.len().saturating_sub(self.cap);
        g.0.drain(..excess);
    }

    /// Total bytes written to the stream.
    pub fn total(&self) -> u64 {
        self.inner.lock().map(|g| g.1).unwrap_or(0)
    }

    /// The last `lines` lines (at most `max_chars` characters each), printable only.
    pub fn tail(&self, lines: usize, max_chars: usize) -> Vec<String> {
        let (mut bytes, total): (Vec<u8>, u64) = match self.inner.lock() {
            Ok(g) => (g.0.iter().copied().collect(), g.1),
            Err(_) => return Vec::new(),
        };
        // When the start was dropped, the first line is a fragment: leave it out.
        if total > bytes.len() as u64 {
            let cut = bytes.iter().position(|&b| b == b'\n').map(|i| i + 1).unwrap_or(0);
            bytes.drain(..cut);
        }
        let text = String::from_utf8_lossy(&bytes);
        let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        all[all.len().saturating_sub(lines)..]
            .iter()
            .map(|l| {
                let clean: String = l
                    .chars()
                    .map(|c| if c.is_control() && c != '\t' { '\u{fffd}' } else { c })
                    .collect();
                if clean.chars().count() > max_chars {
                    let cut: String = clean.chars().take(max_chars).collect();
                    format!("{cut}...")
                } else {
                    clean
                }
            })
            .collect()
    }

    /// True once the stream reached its end (every writer closed it).
    pub fn closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Starts a thread that copies `stream` into this buffer until end of stream.
    pub fn drain_from(self: &Arc<Self>, mut stream: impl Read + Send + 'static, name: &str) {
        let buf = self.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("probe-log-{name}"))
            .spawn(move || {
                let mut chunk = vec![0u8; 16 * 1024];
                loop {
                    match stream.read(&mut chunk) {
                        Ok(0) => break,
                        Ok(n) => buf.push(&chunk[..n]),
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(_) => break,
                    }
                }
                buf.closed.store(true, std::sync::atomic::Ordering::SeqCst);
            });
        if spawned.is_err() {
            self.push(b"(grade could not start a thread to read this stream)\n");
            self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_last_bytes() {
        let b = LogBuf::new(16);
        b.push(b"first line\nsecond line\n");
        b.push(b"third\n");
        assert_eq!(b.total(), 29);
        assert_eq!(b.tail(5, 100), vec!["third"]);
        let b = LogBuf::new(64);
        b.push(b"first line\nsecond line\n");
        assert_eq!(b.tail(5, 100), vec!["first line", "second line"]);
        assert_eq!(b.tail(1, 3), vec!["sec..."]);
    }
}
