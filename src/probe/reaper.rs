//! Process groups of started services, and teardown that leaves nothing behind: SIGTERM to the
//! group, a grace period, SIGKILL to the group, then a check that no member is left. A signal
//! handler for SIGINT/SIGTERM/SIGHUP kills every registered group before the grader dies, so
//! Ctrl-C leaves no service running.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

const SLOTS: usize = 256;
#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: AtomicI32 = AtomicI32::new(0);
static GROUPS: [AtomicI32; SLOTS] = [EMPTY; SLOTS];

/// Remembers a process group so the signal handler can kill it. False when every slot is used.
pub fn register(pgid: i32) -> bool {
    for slot in &GROUPS {
        if slot
            .compare_exchange(0, pgid, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return true;
        }
    }
    false
}

pub fn unregister(pgid: i32) {
    for slot in &GROUPS {
        let _ = slot.compare_exchange(pgid, 0, Ordering::SeqCst, Ordering::SeqCst);
    }
}

extern "C" fn on_fatal_signal(sig: libc::c_int) {
    // Only async-signal-safe calls here: kill, signal, raise.
    for slot in &GROUPS {
        let pgid = slot.load(Ordering::SeqCst);
        if pgid > 0 {
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// Installs the handler for SIGINT, SIGTERM and SIGHUP once, where the signal is not ignored.
pub fn install_signal_handlers() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, std::ptr::null(), &mut old) != 0 || old.sa_sigaction == libc::SIG_IGN {
                    continue;
                }
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = on_fatal_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
                libc::sigemptyset(&mut new.sa_mask);
                libc::sigaction(sig, &new, std::ptr::null_mut());
            }
        }
    });
}

/// Sends `sig` to every process of group `pgid`.
pub fn signal_group(pgid: i32, sig: libc::c_int) {
    if pgid > 0 {
        unsafe {
            libc::kill(-pgid, sig);
        }
    }
}

/// The live (not zombie) processes whose process group is `pgid`.
pub fn group_members(pgid: i32) -> Vec<i32> {
    #[cfg(target_os = "linux")]
    {
        let mut out = Vec::new();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return fallback_members(pgid);
        };
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses.
            let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
                continue;
            };
            let mut f = after.split_whitespace();
            let state = f.next().unwrap_or("");
            let _ppid = f.next();
            let pgrp = f.next().and_then(|s| s.parse::<i32>().ok());
            if pgrp == Some(pgid) && state != "Z" && state != "X" {
                out.push(pid);
            }
        }
        out.sort_unstable();
        out
    }
    #[cfg(not(target_os = "linux"))]
    {
        fallback_members(pgid)
    }
}

#[allow(dead_code)]
fn fallback_members(pgid: i32) -> Vec<i32> {
    let alive = unsafe { libc::kill(-pgid, 0) } == 0;
    if alive {
        vec![pgid]
    } else {
        Vec::new()
    }
}

/// True while process `pid` exists and is not a zombie.
pub fn pid_alive(pid: i32) -> bool {
    #[cfg(target_os = "linux")]
    {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => {
                let state = stat
                    .rfind(')')
                    .and_then(|i| stat[i + 1..].split_whitespace().next().map(str::to_string));
                !matches!(state.as_deref(), Some("Z") | Some("X"))
            }
            Err(_) => false,
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        unsafe { libc::kill(pid, 0) == 0 }
    }
}

/// Waits until no process of `groups` is left or `until` passes; returns the groups with members.
pub fn wait_groups_gone(groups: &[i32], until: Instant) -> Vec<(i32, Vec<i32>)> {
    loop {
        let left: Vec<(i32, Vec<i32>)> = groups
            .iter()
            .map(|&g| (g, group_members(g)))
            .filter(|(_, m)| !m.is_empty())
            .collect();
        if left.is_empty() || Instant::now() >= until {
            return left;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Who holds the listening TCP socket on a port of this host, as far as `/proc` tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortHolder {
    /// A process of the group, or a descendant of its leader.
    Group,
    /// Another process, which the group did not start: its pid and program name.
    Stranger { pid: i32, program: String },
    /// No listener found, or one held by a process this user cannot see (a container runtime's
    /// port forwarder, another user's program): nothing to conclude.
    Unknown,
}

/// Who listens on 127.0.0.1/`::` port `port`, seen from the group `pgid` (whose leader is
/// `pgid`). Used before a started service is called ready: two graders that drew the same free
/// port must not take each other's service for their own.
pub fn port_holder(port: u16, pgid: i32) -> PortHolder {
    #[cfg(target_os = "linux")]
    {
        let inodes = listening_inodes(port);
        if inodes.is_empty() {
            return PortHolder::Unknown;
        }
        if group_members(pgid).into_iter().any(|pid| holds(pid, &inodes)) {
            return PortHolder::Group;
        }
        match first_holder(&inodes) {
            Some(pid) if descends_from(pid, pgid) => PortHolder::Group,
            Some(pid) => PortHolder::Stranger {
                pid,
                program: program_name(pid),
            },
            None => PortHolder::Unknown,
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (port, pgid);
        PortHolder::Unknown
    }
}

/// Any process this user can see that listens on TCP port `port` (any address, IPv4 or IPv6):
/// its pid and program name. None when nobody listens, or when the listener belongs to a
/// process this user cannot see (another user's program, a container runtime's forwarder).
pub fn port_listener(port: u16) -> Option<(i32, String)> {
    #[cfg(target_os = "linux")]
    {
        let inodes = listening_inodes(port);
        if inodes.is_empty() {
            return None;
        }
        first_holder(&inodes).map(|pid| (pid, program_name(pid)))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = port;
        None
    }
}

/// True when process `pid` has one of the sockets `inodes` open.
#[cfg(target_os = "linux")]
fn holds(pid: i32, inodes: &[String]) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten().any(|fd| {
        std::fs::read_link(fd.path())
            .ok()
            .and_then(|t| t.to_str().map(str::to_string))
            .and_then(|t| t.strip_prefix("socket:[")?.strip_suffix(']').map(str::to_string))
            .is_some_and(|i| inodes.contains(&i))
    })
}

/// The first process (by /proc order) that has one of the sockets `inodes` open.
#[cfg(target_os = "linux")]
fn first_holder(inodes: &[String]) -> Option<i32> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()))
        .find(|&pid| holds(pid, inodes))
}

/// The program name of process `pid` (`/proc/PID/comm`), empty when it cannot be read.
#[cfg(target_os = "linux")]
fn program_name(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Inodes of the TCP sockets listening on `port` (IPv4 and IPv6), in the calling thread's
/// network namespace (`/proc/net` is the main thread's, which a sandboxed run is not in).
#[cfg(target_os = "linux")]
fn listening_inodes(port: u16) -> Vec<String> {
    let mut out = Vec::new();
    for table in ["/proc/thread-self/net/tcp", "/proc/thread-self/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            let (Some(local), Some(state), Some(inode)) = (f.get(1), f.get(3), f.get(9)) else {
                continue;
            };
            let local_port = local.rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok());
            if *state == "0A" && local_port == Some(port) && *inode != "0" {
                out.push(inode.to_string());
            }
        }
    }
    out
}

/// True when `ancestor` is `pid` or one of its parents (a program the group's leader started,
/// even one that left the group).
#[cfg(target_os = "linux")]
fn descends_from(mut pid: i32, ancestor: i32) -> bool {
    for _ in 0..64 {
        if pid == ancestor {
            return true;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        let Some(ppid) = stat
            .rfind(')')
            .and_then(|i| stat[i + 1..].split_whitespace().nth(1))
            .and_then(|s| s.parse::<i32>().ok())
        else {
            return false;
        };
        if ppid <= 1 {
            return false;
        }
        pid = ppid;
    }
    false
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_listener_of_this_process_belongs_to_its_group_and_is_a_stranger_to_another() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let me = std::process::id() as i32;
        let group = unsafe { libc::getpgrp() };
        assert_eq!(port_holder(port, group), PortHolder::Group);
        // Seen from a group this process does not descend from (pid 1's is never ours).
        match port_holder(port, i32::MAX) {
            PortHolder::Stranger { pid, program } => {
                assert_eq!(pid, me);
                assert!(!program.is_empty());
            }
            other => panic!("expected a stranger, got {other:?}"),
        }
        assert_eq!(
            port_listener(port).map(|(pid, _)| pid),
            Some(me),
            "named whatever the group"
        );
        drop(l);
        assert_eq!(port_holder(port, group), PortHolder::Unknown, "nobody listens any more");
        assert_eq!(port_listener(port), None);
    }
}
