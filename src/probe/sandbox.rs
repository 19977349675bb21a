//! The sandbox of a live run: what learner code may reach. The network ([`isolate_network`])
//! and the files around the submission ([`hide_siblings`]); resource limits are in
//! [`super::limits`].
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
//! When neither works, or the run is told not to (`--unsandboxed`), the network is not
//! isolated and [`NetSandbox::statement`] says so plainly: the report carries it.
//!
//! A `--target` service on this machine's loopback lives outside the namespace. It is reached
//! through a [`Forwarders`] exit: inside, a listener on the target's own address and port;
//! each connection to it is passed on, byte for byte, over a connection made by a thread that
//! stayed outside. The probes and the services use the target's URL unchanged (TLS included),
//! and only the declared addresses lead out. A target on another host (`--allow-host`) cannot
//! be reached this way: such a run is not isolated, and says so.
//!
//! A namespace belongs to the thread that made it and the threads and processes it starts;
//! the rest of the grader is not affected. At teardown the thread goes back to the namespace
//! it came from ([`Home`]), so a program that grades several submissions in one thread gives
//! each its own; the namespace ends with its last member.

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

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

/// The exits of an isolated run to `--target` services on this machine's loopback.
#[derive(Debug)]
pub struct Forwarders {
    stop: Arc<AtomicBool>,
    /// The listeners' addresses inside, to wake their threads at shutdown.
    inside: Vec<SocketAddr>,
}

impl Forwarders {
    /// Stops accepting; connections being forwarded end with their ends.
    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::SeqCst);
        for a in &self.inside {
            let _ = TcpStream::connect_timeout(a, Duration::from_millis(200));
        }
    }
}

impl Drop for Forwarders {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A request to the thread outside: connect to this address, answer on that channel.
type Exit = (SocketAddr, mpsc::Sender<io::Result<TcpStream>>);

/// Like [`isolate_network`], with an exit to each of `exits` (loopback addresses outside): a
/// listener inside on the same address forwards each connection to it. When an exit cannot
/// be opened inside, the thread goes back and the run is not isolated (and says why).
pub fn isolate_network_with_exits(exits: &[SocketAddr]) -> (NetSandbox, Option<Home>, Option<Forwarders>) {
    if exits.is_empty() {
        let (net, home) = isolate_network();
        return (net, home, None);
    }
    if let Some(a) = exits.iter().find(|a| !a.ip().is_loopback()) {
        return (
            NetSandbox::Open(format!(
                "a `--target` service at {a} is on another host, which a namespace with only loopback cannot reach"
            )),
            None,
            None,
        );
    }
    // Made before the namespace, so it stays outside: it connects for the forwarders.
    let (ask, asked) = mpsc::channel::<Exit>();
    let outside = std::thread::Builder::new().name("sandbox-exit".into()).spawn(move || {
        for (addr, answer) in asked {
            let _ = answer.send(TcpStream::connect_timeout(&addr, Duration::from_secs(10)));
        }
    });
    if let Err(e) = outside {
        return (
            NetSandbox::Open(format!("the grader could not start its exit thread: {e}")),
            None,
            None,
        );
    }
    let (net, home) = isolate_network();
    if !net.is_isolated() {
        return (net, home, None);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mut inside = Vec::new();
    for &addr in exits {
        let listener = match TcpListener::bind(addr) {
            Ok(l) => l,
            // `localhost` stands for ::1 too, which may not exist here: one address suffices.
            Err(_) if addr.is_ipv6() && exits.iter().any(|a| a.is_ipv4() && a.port() == addr.port()) => continue,
            Err(e) => {
                if let Some(h) = home {
                    h.go_back();
                }
                return (
                    NetSandbox::Open(format!(
                        "the exit to the `--target` service at {addr} could not be opened: {e}"
                    )),
                    None,
                    None,
                );
            }
        };
        inside.push(addr);
        let (stop, ask) = (stop.clone(), ask.clone());
        let _ = std::thread::Builder::new()
            .name("sandbox-forward".into())
            .spawn(move || accept_loop(listener, addr, stop, ask));
    }
    (net, home, Some(Forwarders { stop, inside }))
}

fn accept_loop(listener: TcpListener, addr: SocketAddr, stop: Arc<AtomicBool>, ask: mpsc::Sender<Exit>) {
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(conn) = conn else { continue };
        let (answer, answered) = mpsc::channel();
        if ask.send((addr, answer)).is_err() {
            return;
        }
        // Connected outside, or closed: the client sees the target refuse as it would.
        let Ok(Ok(out)) = answered.recv() else { continue };
        let _ = conn.set_nodelay(true);
        let _ = out.set_nodelay(true);
        splice(conn, out);
    }
}

/// Copies both ways until each side has finished sending, then closes.
fn splice(a: TcpStream, b: TcpStream) {
    let pair = |from: &TcpStream, to: &TcpStream| Some((from.try_clone().ok()?, to.try_clone().ok()?));
    let (Some(ab), Some(ba)) = (pair(&a, &b), pair(&b, &a)) else {
        return;
    };
    for (mut from, mut to) in [ab, ba] {
        let _ = std::thread::Builder::new()
            .name("sandbox-splice".into())
            .spawn(move || {
                let _ = io::copy(&mut from, &mut to);
                let _ = to.shutdown(Shutdown::Write);
            });
    }
}

/// The mount namespace made by [`hide_siblings`], held open: learner processes enter it
/// between fork and exec ([`MountNs::raw`] with `setns`); no thread of the grader is in it.
#[derive(Debug)]
pub struct MountNs(std::fs::File);

impl MountNs {
    pub fn raw(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.0.as_raw_fd()
    }
}

/// Other learners' folders out of sight: makes a mount namespace (in a thread of its own,
/// which ends when it is made, so the grader's threads stay where they are) where the folder
/// holding the submission folder `root` (in a cohort, the folder of all submissions) is
/// covered by an empty private folder (a small tmpfs) in which only `root` itself and the
/// entries that hold a path in `keep` (the programs and toolchains the services
/// are given: `PATH` entries, `SHOPFLOW_BIN`, `CARGO_TARGET_DIR`, ...) are mounted back, as they
/// are. What the services write beside the submission (as in a `TMPDIR` that is that folder)
/// stays in the private folder, and is gone after the run. Mounts do not propagate back.
/// Says how many entries were hidden, or why nothing was.
pub fn hide_siblings(root: &std::path::Path, keep: &[std::path::PathBuf]) -> Result<(usize, MountNs), String> {
    let (root, keep) = (root.to_path_buf(), keep.to_vec());
    std::thread::Builder::new()
        .name("sandbox-files".into())
        .spawn(move || make_mount_ns(&root, &keep))
        .map_err(|e| format!("the grader could not start a thread: {e}"))?
        .join()
        .map_err(|_| "the thread that hides the folders failed".to_string())?
}

#[cfg(target_os = "linux")]
fn make_mount_ns(root: &std::path::Path, keep: &[std::path::PathBuf]) -> Result<(usize, MountNs), String> {
    use std::ffi::CString;
    use std::os::fd::{AsRawFd, FromRawFd};
    use std::os::unix::ffi::OsStrExt;
    use std::path::{Path, PathBuf};
    let root = root
        .canonicalize()
        .map_err(|e| format!("the submission folder cannot be resolved: {e}"))?;
    let Some(parent) = root.parent().filter(|p| *p != Path::new("/")).map(Path::to_path_buf) else {
        return Err("the submission folder is at the top of the file system".into());
    };
    let keep: Vec<PathBuf> = keep.iter().filter_map(|k| k.canonicalize().ok()).collect();
    let mut back: Vec<PathBuf> = Vec::new();
    let mut hidden = 0;
    for entry in std::fs::read_dir(&parent).map_err(|e| format!("{}: {e}", parent.display()))? {
        let Ok(entry) = entry else { continue };
        let p = entry.path();
        if p == root || keep.iter().any(|k| k.starts_with(&p)) {
            back.push(p);
        } else {
            hidden += 1;
        }
    }
    // SAFETY: unshare changes only this thread's namespaces (its own copy of the fs struct).
    if unsafe { libc::unshare(libc::CLONE_NEWNS) } != 0 {
        return Err(format!(
            "the grader could not make a mount namespace: {}",
            io::Error::last_os_error()
        ));
    }
    let mount = |src: &Path, target: &Path, fstype: &str, flags: libc::c_ulong, data: &str| {
        let cs = |b: &[u8]| CString::new(b).unwrap_or_default();
        let (src, target, fstype, data) = (
            cs(src.as_os_str().as_bytes()),
            cs(target.as_os_str().as_bytes()),
            cs(fstype.as_bytes()),
            cs(data.as_bytes()),
        );
        // SAFETY: NUL-terminated strings that live across the call.
        let r = unsafe {
            libc::mount(
                src.as_ptr(),
                target.as_ptr(),
                if fstype.is_empty() {
                    std::ptr::null()
                } else {
                    fstype.as_ptr()
                },
                flags,
                if data.is_empty() {
                    std::ptr::null()
                } else {
                    data.as_ptr().cast()
                },
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    };
    // The thread ends here either way: nothing to undo.
    let fail = Err::<(usize, MountNs), String>;
    // Nothing done here reaches the rest of the machine.
    if let Err(e) = mount(Path::new("none"), Path::new("/"), "", libc::MS_REC | libc::MS_SLAVE, "") {
        return fail(format!("the grader could not make its mounts private: {e}"));
    }
    // What comes back, held open so that it can be mounted again once its path is covered
    // (opened here, in the new namespace: a mount is bound only from its own namespace).
    let mut held = Vec::new();
    for p in back {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            held.push((p.clone(), None, std::fs::read_link(&p).ok(), false));
            continue;
        }
        let c = CString::new(p.as_os_str().as_bytes()).unwrap_or_default();
        // SAFETY: a NUL-terminated path; the descriptor is closed when `held` is dropped.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
        if fd < 0 {
            return fail(format!("{}: {}", p.display(), io::Error::last_os_error()));
        }
        // SAFETY: a descriptor just opened, owned from here.
        let owned = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
        held.push((p, Some(owned), None, meta.is_dir()));
    }
    if let Err(e) = mount(
        Path::new("tmpfs"),
        &parent,
        "tmpfs",
        libc::MS_NOSUID | libc::MS_NODEV,
        "size=64m,mode=1777",
    ) {
        return fail(format!("the grader could not cover {}: {e}", parent.display()));
    }
    for (p, fd, link, is_dir) in &held {
        let made = match (fd, link) {
            (None, Some(target)) => std::os::unix::fs::symlink(target, p),
            (Some(fd), _) => {
                let spot = if *is_dir {
                    std::fs::create_dir(p)
                } else {
                    std::fs::File::create(p).map(drop)
                };
                spot.and_then(|()| {
                    let from = PathBuf::from(format!("/proc/thread-self/fd/{}", fd.as_raw_fd()));
                    mount(&from, p, "", libc::MS_BIND | libc::MS_REC, "")
                })
            }
            _ => Ok(()),
        };
        if let Err(e) = made {
            return fail(format!("the grader could not mount {} back: {e}", p.display()));
        }
    }
    let ns = std::fs::File::open("/proc/thread-self/ns/mnt").map_err(|e| format!("/proc/thread-self/ns/mnt: {e}"))?;
    Ok((hidden, MountNs(ns)))
}

#[cfg(not(target_os = "linux"))]
fn make_mount_ns(_: &std::path::Path, _: &[std::path::PathBuf]) -> Result<(usize, MountNs), String> {
    Err("mount namespaces exist only on Linux".into())
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
    /// A server of this machine's loopback is reached from inside through the exit on its
    /// own address; another port of this machine is not.
    #[test]
    fn an_exit_leads_to_its_target_only() {
        use std::io::{Read, Write};
        let target = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = target.local_addr().unwrap();
        // Another program of this machine, listening: not an exit.
        let other_listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let other = other_listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for mut c in target.incoming().flatten() {
                let mut buf = [0u8; 5];
                if c.read_exact(&mut buf).is_ok() {
                    let _ = c.write_all(&buf.map(|b| b.to_ascii_uppercase()));
                }
            }
        });
        let seen = std::thread::spawn(move || {
            let (net, home, exits) = isolate_network_with_exits(&[addr]);
            if !net.is_isolated() {
                return Err(net.statement());
            }
            let mut c = TcpStream::connect(addr).unwrap();
            c.write_all(b"hello").unwrap();
            let mut got = String::new();
            c.read_to_string(&mut got).ok();
            let refused = TcpStream::connect(other).is_err();
            drop(exits);
            home.unwrap().go_back();
            Ok((got, refused))
        })
        .join()
        .unwrap();
        match seen {
            Ok((got, refused)) => {
                assert_eq!(got, "HELLO");
                assert!(refused, "a port outside that is not an exit was reached");
            }
            Err(why) if unsafe { libc::getuid() } == 0 => panic!("{why}"),
            Err(why) => eprintln!("not checked: {why}"),
        }
        drop(other_listener);
    }

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
