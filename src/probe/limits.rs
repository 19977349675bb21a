//! Resource limits of the learner's processes: each started service (with everything it
//! starts) gets a control group of its own that bounds how many processes it may have at once
//! and how much memory they may use, so that a fork bomb or an unbounded allocation in one
//! service cannot take the machine, or the other gradings of a batch, down with it. When a
//! limit was hit, [`Cgroup::hits`] says which, in the learner's terms.
//!
//! Control groups v2 (one tree, `memory.max`, `pids.max`) are used where the grader may create
//! groups there, else v1 (the `pids` and `memory` controllers, as on this project's CI
//! machine). Where neither can be written (not root, a read-only `/sys/fs/cgroup`), the
//! services run without these limits and [`Cgroup::create`] says why; the report says so.
//!
//! Each process joins its group between `fork` and `exec` (the group's `cgroup.procs` files are
//! opened beforehand), so even its first child is counted.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The limits of one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Processes (and threads) at once.
    pub pids: u64,
    /// Bytes of memory.
    pub memory: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            pids: 512,
            memory: 2 << 30,
        }
    }
}

const ROOT: &str = "/sys/fs/cgroup";

/// One service's control group (in one tree for v2, in the `pids` and `memory` trees for v1).
#[derive(Debug)]
pub struct Cgroup {
    /// The group's folders: one (v2) or one per controller (v1: pids, memory).
    dirs: Vec<PathBuf>,
    v2: bool,
    limits: Limits,
}

static NEXT: AtomicU64 = AtomicU64::new(0);

impl Cgroup {
    /// Creates a group for service `name` with `limits`, or says why it cannot.
    pub fn create(name: &str, limits: Limits) -> Result<Cgroup, String> {
        let clean: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(40)
            .collect();
        let leaf = format!(
            "grade-{}-{}-{clean}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let root = Path::new(ROOT);
        let v2 = root.join("cgroup.controllers").is_file();
        let dirs: Vec<PathBuf> = if v2 {
            vec![root.join(&leaf)]
        } else {
            vec![root.join("pids").join(&leaf), root.join("memory").join(&leaf)]
        };
        let group = Cgroup { dirs, v2, limits };
        let made = (|| -> io::Result<()> {
            for d in &group.dirs {
                fs::create_dir(d)?;
            }
            if v2 {
                fs::write(group.dirs[0].join("pids.max"), limits.pids.to_string())?;
                fs::write(group.dirs[0].join("memory.max"), limits.memory.to_string())?;
                // Without swap the limit is a limit.
                let _ = fs::write(group.dirs[0].join("memory.swap.max"), "0");
            } else {
                fs::write(group.dirs[0].join("pids.max"), limits.pids.to_string())?;
                fs::write(group.dirs[1].join("memory.limit_in_bytes"), limits.memory.to_string())?;
            }
            Ok(())
        })();
        match made {
            Ok(()) => Ok(group),
            Err(e) => {
                group.remove();
                Err(format!("the grader could not make a control group in {ROOT} ({e})"))
            }
        }
    }

    /// The group's `cgroup.procs` files, opened for a process to join between fork and exec.
    pub fn joiners(&self) -> io::Result<Vec<File>> {
        self.dirs
            .iter()
            .map(|d| OpenOptions::new().write(true).open(d.join("cgroup.procs")))
            .collect()
    }

    /// The limits the group hit, for the learner: `the process limit (512 at once) stopped
    /// 40 process starts`, `the memory limit (2 GiB) killed 1 process`.
    pub fn hits(&self) -> Vec<String> {
        let mut out = Vec::new();
        let count = |file: PathBuf, key: &str| -> u64 {
            fs::read_to_string(file)
                .ok()
                .and_then(|t| t.lines().find_map(|l| l.strip_prefix(key)?.trim().parse::<u64>().ok()))
                .unwrap_or(0)
        };
        let pids = count(self.dirs[0].join("pids.events"), "max ");
        if pids > 0 {
            out.push(format!(
                "the process limit ({} processes and threads at once) refused {pids} new {}",
                self.limits.pids,
                if pids == 1 {
                    "process or thread"
                } else {
                    "processes or threads"
                }
            ));
        }
        let killed = if self.v2 {
            count(self.dirs[0].join("memory.events"), "oom_kill ")
        } else {
            count(self.dirs[1].join("memory.oom_control"), "oom_kill ")
        };
        if killed > 0 {
            out.push(format!(
                "the memory limit ({}) was reached and {killed} {} killed",
                size(self.limits.memory),
                if killed == 1 { "process was" } else { "processes were" }
            ));
        }
        out
    }

    /// Whether no process is in the group any more.
    pub fn is_empty(&self) -> bool {
        self.dirs
            .iter()
            .all(|d| fs::read_to_string(d.join("cgroup.procs")).map_or(true, |t| t.trim().is_empty()))
    }

    /// Removes the group (it must be empty: after teardown). Best effort.
    pub fn remove(&self) {
        for d in &self.dirs {
            let _ = fs::remove_dir(d);
        }
    }
}

impl Drop for Cgroup {
    /// Removes the group once its processes are gone (a group that still has some stays).
    fn drop(&mut self) {
        self.remove();
    }
}

/// `2 GiB`, `512 MiB`.
pub fn size(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes % (1 << 30) == 0 {
        format!("{} GiB", bytes >> 30)
    } else {
        format!("{} MiB", bytes >> 20)
    }
}

/// Between fork and exec: writes the calling process's pid to each of `fds` (a group's
/// `cgroup.procs` files). Only async-signal-safe calls: no allocation.
pub fn join(fds: &[RawFd]) -> io::Result<()> {
    // SAFETY: getpid and write are async-signal-safe; the buffer is on the stack.
    let pid = unsafe { libc::getpid() } as u64;
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = pid;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &fd in fds {
        let text = &buf[i..];
        if unsafe { libc::write(fd, text.as_ptr().cast(), text.len()) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The raw descriptors of `files`, for [`join`].
pub fn raw(files: &[File]) -> Vec<RawFd> {
    files.iter().map(|f| f.as_raw_fd()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(2 << 30), "2 GiB");
        assert_eq!(size(512 << 20), "512 MiB");
    }

    /// A process that joins a group with a limit of 4 processes cannot start a fifth, and the
    /// group says so; as root (CI), where groups can be made.
    #[test]
    fn a_group_bounds_the_processes_of_its_members() {
        let group = match Cgroup::create(
            "limits-test",
            Limits {
                pids: 4,
                memory: 256 << 20,
            },
        ) {
            Ok(g) => g,
            Err(why) if unsafe { libc::getuid() } == 0 => panic!("{why}"),
            Err(why) => return eprintln!("not checked: {why}"),
        };
        let files = group.joiners().unwrap();
        let fds = raw(&files);
        let mut cmd = std::process::Command::new("sh");
        // Eight background sleeps: the shell and three of them fit, the rest are refused.
        cmd.args(["-c", "for i in 1 2 3 4 5 6 7 8; do sleep 1 & done 2>/dev/null; wait"]);
        use std::os::unix::process::CommandExt;
        unsafe {
            cmd.pre_exec(move || join(&fds));
        }
        let status = cmd.status().unwrap();
        drop(files);
        let hits = group.hits();
        // The sleeps that did start end within a second.
        let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !group.is_empty() && std::time::Instant::now() < until {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        group.remove();
        assert!(
            hits.iter()
                .any(|h| h.starts_with("the process limit (4 processes and threads at once) refused")),
            "{hits:?} (exit {status})"
        );
    }
}
