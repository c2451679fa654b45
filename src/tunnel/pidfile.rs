//! The supervisor's pid file, `tunnel.pid` in the profile's state dir: `<pid> <start time>`.
//! A pid file whose process is gone, or whose pid now belongs to another program (same pid,
//! other start time or command line — minikube's own registry is fooled by exactly that,
//! issue #9188), is stale: recognised and removed.

use std::path::{Path, PathBuf};

use super::procs;

pub const PID_FILE: &str = "tunnel.pid";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PidFile {
    pub pid: u32,
    pub start_time: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    None,
    /// A supervisor of this profile runs.
    Live(u32),
    /// The file named a process that is gone or is someone else now; it was removed.
    Stale {
        pid: u32,
        why: &'static str,
    },
}

pub fn path(dir: &Path) -> PathBuf {
    dir.join(PID_FILE)
}

pub fn write(dir: &Path, pid: u32) -> anyhow::Result<()> {
    let start = procs::start_time(pid).unwrap_or(0);
    crate::state::write_atomically(&path(dir), format!("{pid} {start}\n").as_bytes())
}

fn read(dir: &Path) -> Option<PidFile> {
    let text = std::fs::read_to_string(path(dir)).ok()?;
    let mut f = text.split_whitespace();
    Some(PidFile {
        pid: f.next()?.parse().ok()?,
        start_time: f.next().and_then(|t| t.parse().ok()).unwrap_or(0),
    })
}

/// Is `argv` a meshup tunnel supervisor for `profile`?
pub fn is_supervisor(argv: &[String], profile: &str) -> bool {
    argv.iter().any(|a| a == "supervise")
        && argv.iter().any(|a| a == "tunnel")
        && argv.windows(2).any(|w| w[0] == "-p" && w[1] == profile)
}

/// What the pid file says, after checking it against the process table.
pub fn find(dir: &Path, profile: &str) -> Found {
    let Some(pf) = read(dir) else {
        return Found::None;
    };
    let why = if !procs::alive(pf.pid) {
        Some("its process is gone")
    } else if pf.start_time != 0 && procs::start_time(pf.pid) != Some(pf.start_time) {
        Some("its pid now belongs to another process")
    } else if !procs::cmdline(pf.pid).is_some_and(|a| is_supervisor(&a, profile)) {
        Some("its pid now belongs to another program")
    } else {
        None
    };
    match why {
        None => Found::Live(pf.pid),
        Some(why) => {
            let _ = std::fs::remove_file(path(dir));
            Found::Stale { pid: pf.pid, why }
        }
    }
}

pub fn remove(dir: &Path) {
    let _ = std::fs::remove_file(path(dir));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_pid_files_are_recognised_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(find(dir.path(), "p"), Found::None);
        // A pid that does not exist (above the kernel's pid_max default range).
        std::fs::write(path(dir.path()), "4194303 1\n").unwrap();
        assert!(matches!(
            find(dir.path(), "p"),
            Found::Stale {
                why: "its process is gone",
                ..
            }
        ));
        assert!(!path(dir.path()).exists());
        // This test process: alive, but a reused pid (another start time) ...
        let me = std::process::id();
        std::fs::write(path(dir.path()), format!("{me} 1\n")).unwrap();
        assert!(matches!(
            find(dir.path(), "p"),
            Found::Stale {
                why: "its pid now belongs to another process",
                ..
            }
        ));
        // ... or the right start time but not a supervisor.
        write(dir.path(), me).unwrap();
        assert!(matches!(
            find(dir.path(), "p"),
            Found::Stale {
                why: "its pid now belongs to another program",
                ..
            }
        ));
    }
}
