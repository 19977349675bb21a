//! The sandbox of a live run: what learner code may reach.
//!
//! **Network.** Before the first learner process starts, the thread that starts them moves
//! into a network namespace of its own, where only the loopback interface exists (brought
//! up here). Everything the grader runs for the live run is started from that thread and so
//! shares the namespace: the learner's services, their helper programs, the edge proxies,
//! the probes' HTTP clients and the load generator. Nothing in it can reach another machine,
//! or a port on this machine's own loopback outside the namespace; and two gradings on one
//! machine can no longer meet on a port.
//!
//! As root the namespace is made with `unshare(CLONE_NEWNET)`; otherwise with an
//! unprivileged user namespace as well (`CLONE_NEWUSER`, the user mapped to itself), which the
//! kernel allows only to a single-threaded process and where user namespaces are enabled.
//! When neither works, or the run is told not to (`--unsandboxed`), or a `--target` service
//! lives outside (it could not be reached from inside), the network is not isolated and
//! [`NetSandbox::statement`] says so plainly: the report carries it.
//!
//! A namespace belongs to the thread that made it and the threads and processes it starts;
//! the rest of the grader is not affected. At teardown the thread goes back to the namespace
//! it came from ([`Home`]), so a program that grades several submissions in one thread gives
//! each its own; the namespace ends with its last member.

use std::io;

/// How the network of a live run is confined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetSandbox {
    /// Learner processes see only loopback; how the namespace was made.
    Isolated(&'static str),
    /// The network is not isolated, and why.
    Open(String),
}

impl NetSandbox {
    /// One line for the report.
    pub fn statement(&self) -> String {
        match self {
            NetSandbox::Isolated(how) => format!(
                "sandbox: the services and the probes ran in a network namespace of their own ({how}): only \
                 loopback, no other machine and no port outside the grading"
            ),
            NetSandbox::Open(why) => format!(
                "sandbox: the network was NOT isolated ({why}): the services could reach whatever this machine \
                 reaches"
            ),
        }
    }

    pub fn is_isolated(&self) -> bool {
        matches!(self, NetSandbox::Isolated(_))
    }
}

/// The network namespace a thread came from, to go back to.
#[derive(Debug)]
pub struct Home(std::fs::File);

impl Home {
    /// Moves the calling thread back (best effort: from an unprivileged user namespace there
    /// is no way back, and the thread stays where it is).
    pub fn go_back(self) {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: setns on a namespace file this struct owns; it changes only this thread.
            unsafe { libc::setns(self.0.as_raw_fd(), libc::CLONE_NEWNET) };
        }
    }
}

/// Moves the calling thread into a new network namespace with loopback up, so that what it
/// starts from now on sees only loopback; with the way back. Errors say why not, in the
/// user's terms (and leave the thread where it was).
pub fn isolate_network() -> (NetSandbox, Option<Home>) {
    let home = std::fs::File::open("/proc/thread-self/ns/net").ok().map(Home);
    match enter() {
        Ok(how) => match loopback_up() {
            Ok(()) => (NetSandbox::Isolated(how), home),
            Err(e) => {
                // Nothing answers in a namespace without `lo`: go back rather than fail every
                // probe, and say so.
                if let Some(h) = home {
                    h.go_back();
                }
                (
                    NetSandbox::Open(format!(
                        "a network namespace was made, but its loopback interface could not be brought up: {e}"
                    )),
                    None,
                )
            }
        },
        Err(why) => (NetSandbox::Open(why), None),
    }
}

/// Whether a live run here can be sandboxed: a network namespace can be made (tried in a
/// thread of its own, which goes back at once) and a control group with limits
/// ([`super::limits`]). The reason when not.
pub fn available() -> Result<(), String> {
    let net = std::thread::spawn(|| {
        let (net, home) = isolate_network();
        if let Some(h) = home {
            h.go_back();
        }
        net
    })
    .join()
    .map_err(|_| "the sandbox check failed".to_string())?;
    if let NetSandbox::Open(why) = net {
        return Err(why);
    }
    super::limits::Cgroup::create("sandbox-check", super::limits::Limits::default()).map(drop)
}

#[cfg(target_os = "linux")]
fn enter() -> Result<&'static str, String> {
    // SAFETY: unshare only changes the calling thread's namespaces.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } == 0 {
        return Ok("made as root");
    }
    let as_root = io::Error::last_os_error();
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    // SAFETY: as above; the kernel refuses CLONE_NEWUSER in a multi-threaded process.
    if unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET) } != 0 {
        let e = io::Error::last_os_error();
        return Err(match e.raw_os_error() {
            Some(libc::EINVAL) => "the grader could not make a network namespace: not root, and an unprivileged \
                                   user namespace needs a single-threaded process"
                .to_string(),
            Some(libc::EPERM) | Some(libc::ENOSPC) | Some(libc::EACCES) => format!(
                "the grader could not make a network namespace: not root ({as_root}), and this machine does not \
                 allow unprivileged user namespaces ({e})"
            ),
            _ => format!("the grader could not make a network namespace: {as_root}; {e}"),
        });
    }
    // Map the user to itself, so that files keep their owner inside.
    let maps = [
        ("/proc/thread-self/setgroups", "deny".to_string()),
        ("/proc/thread-self/uid_map", format!("{uid} {uid} 1")),
        ("/proc/thread-self/gid_map", format!("{gid} {gid} 1")),
    ];
    for (file, text) in maps {
        std::fs::write(file, text).map_err(|e| format!("a user namespace was made, but {file}: {e}"))?;
    }
    Ok("made in an unprivileged user namespace")
}

#[cfg(not(target_os = "linux"))]
fn enter() -> Result<&'static str, String> {
    Err("network namespaces exist only on Linux".into())
}

/// Brings `lo` up in the calling thread's network namespace (a new one has it down).
#[cfg(target_os = "linux")]
fn loopback_up() -> io::Result<()> {
    // SAFETY: a plain socket for the interface ioctls, closed below; `ifreq` is plain data.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut req: libc::ifreq = std::mem::zeroed();
        for (i, b) in b"lo".iter().enumerate() {
            req.ifr_name[i] = *b as libc::c_char;
        }
        let result = if libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut req) < 0 {
            Err(io::Error::last_os_error())
        } else {
            req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
            if libc::ioctl(fd, libc::SIOCSIFFLAGS, &req) < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(())
            }
        };
        libc::close(fd);
        result
    }
}

#[cfg(not(target_os = "linux"))]
fn loopback_up() -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In a thread of its own (the namespace stays with the thread): afterwards the thread sees
    /// only `lo`, up, and a listener there answers; the test's thread is not affected.
    #[test]
    fn an_isolated_thread_sees_only_loopback() {
        let outside = interfaces();
        let inside = std::thread::spawn(|| {
            let (s, home) = isolate_network();
            if !s.is_isolated() {
                return Err(s.statement());
            }
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = l.local_addr().unwrap();
            std::net::TcpStream::connect(addr).unwrap();
            let seen = interfaces();
            // And back: the thread sees what the test's thread sees again.
            home.expect("the way back").go_back();
            Ok((seen, interfaces()))
        })
        .join()
        .unwrap();
        match inside {
            Ok((names, back)) => {
                assert_eq!(names, ["lo"]);
                assert_eq!(back, outside);
            }
            // As root the namespace can always be made (CI runs as root).
            Err(why) if unsafe { libc::getuid() } == 0 => panic!("{why}"),
            // Not root and no user namespaces here: nothing to check, but say so.
            Err(why) => eprintln!("not checked: {why}"),
        }
        assert_eq!(interfaces(), outside);
    }

    /// Interface names as the calling thread sees them.
    fn interfaces() -> Vec<String> {
        let text = std::fs::read_to_string("/proc/thread-self/net/dev").unwrap_or_default();
        let mut names: Vec<String> = text
            .lines()
            .skip(2)
            .filter_map(|l| l.split(':').next())
            .map(|n| n.trim().to_string())
            .collect();
        names.sort();
        names
    }
}
