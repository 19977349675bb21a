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
