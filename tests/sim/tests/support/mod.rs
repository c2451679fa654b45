//! A small world for the fakes' tests: a temp dir with `bin/` symlinks, `knobs.yaml`, the
//! daemon, and the world's environment. Drop kills every process carrying this world's
//! `MESHUP_SIM_ID` (found through /proc), then the daemon.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct Sim {
    pub dir: tempfile::TempDir,
    pub id: String,
    daemon: Child,
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_meshup-sim")
}

impl Sim {
    pub fn start(knobs: &str) -> Sim {
        let dir = tempfile::tempdir().expect("tempdir");
        let id = format!(
            "fakes-test-{}-{}",
            std::process::id(),
            dir.path().file_name().unwrap().to_string_lossy()
        );
        std::fs::create_dir_all(dir.path().join("bin")).unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        for t in ["minikube", "istioctl", "kubectl", "docker"] {
            std::os::unix::fs::symlink(bin(), dir.path().join("bin").join(t)).unwrap();
        }
        std::fs::write(dir.path().join("knobs.yaml"), knobs).unwrap();
        let log = std::fs::File::create(dir.path().join("daemon.log")).unwrap();
        let daemon = Command::new(bin())
            .args(["serve", "--dir"])
            .arg(dir.path())
            .env("MESHUP_SIM_ID", &id)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start the daemon");
        let sim = Sim { dir, id, daemon };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !sim.path().join("world.json").exists() {
            assert!(Instant::now() < deadline, "the daemon did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        sim
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.path().join("home")
    }

    pub fn set_knobs(&self, knobs: &str) {
        std::fs::write(self.path().join("knobs.yaml"), knobs).unwrap();
    }

    /// A command run in the world: its env only, `bin/` first on PATH (plus the system's,
    /// for `sh`), unless `path` is given.
    pub fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env("MESHUP_SIM_DIR", self.path())
            .env("MESHUP_SIM_ID", &self.id)
            .env("HOME", self.home())
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", self.path().join("bin").display()),
            )
            .env("NO_COLOR", "1")
            .current_dir(self.path())
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, program: &str, args: &[&str]) -> Output {
        self.cmd(program).args(args).output().expect("run")
    }

    pub fn calls(&self) -> Vec<meshup_sim::calllog::Call> {
        meshup_sim::calllog::read(self.path())
    }

    pub fn control(&self) -> meshup_sim::control_client::ControlClient {
        meshup_sim::control_client::ControlClient::from_world_dir(self.path()).unwrap()
    }

    /// Pids of live processes carrying this world's marker.
    pub fn processes(&self) -> Vec<i32> {
        marked(&self.id)
    }
}

pub fn marked(id: &str) -> Vec<i32> {
    let needle = format!("MESHUP_SIM_ID={id}");
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(env) = std::fs::read(e.path().join("environ")) else {
            continue;
        };
        let zombie = std::fs::read_to_string(e.path().join("stat"))
            .is_ok_and(|s| s.split_whitespace().nth(2) == Some("Z"));
        if !zombie && env.split(|b| *b == 0).any(|kv| kv == needle.as_bytes()) {
            pids.push(pid);
        }
    }
    pids
}

impl Drop for Sim {
    fn drop(&mut self) {
        for pid in marked(&self.id) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Waits for a condition (with a generous bound: this is not a timing assertion).
pub fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
