//! The CLI tests' harness on the simulated world (meshup_sim): a `World` whose fake minikube,
//! istioctl, kubectl and docker are alone on PATH, with the host these tests assume, and a way
//! to run the meshup binary in it. It replaced recording shell-script fakes; the method names
//! stayed so the tests read as before.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use meshup_sim::{Knobs, World};

pub const TOOLS: &[&str] = &["minikube", "istioctl", "kubectl", "docker"];

pub struct Fakes {
    world: World,
    env: BTreeMap<String, String>,
}

/// Where the harness runs the fakes itself: calls made from here are not meshup's.
const HARNESS_DIR: &str = "harness";

/// minikube v1.38.1, istioctl 1.30.5, kubectl v1.35.1, docker 27.3.1 on cgroup v1 with 8 CPUs
/// and 16 GiB: a host where the defaults work.
fn host_knobs() -> Knobs {
    let mut k = Knobs::default();
    k.minikube.version = "v1.38.1".into();
    k.istioctl.version = "1.30.5".into();
    k.kubectl.version = "v1.35.1".into();
    k.docker.server_version = "27.3.1".into();
    k.docker.client_version = "27.3.1".into();
    k.docker.cgroup_version = "1".into();
    k.docker.ncpu = 8;
    k.docker.mem_total_mb = 16384;
    k
}

impl Fakes {
    pub fn new() -> Fakes {
        Fakes {
            world: World::start(host_knobs()),
            env: BTreeMap::new(),
        }
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    pub fn root(&self) -> &Path {
        self.world.dir()
    }

    pub fn bin(&self) -> PathBuf {
        self.world.bin_dir()
    }

    /// Removes a fake, as if the tool were not installed.
    pub fn without(self, tool: &str) -> Fakes {
        std::fs::remove_file(self.bin().join(tool)).unwrap();
        self
    }

    /// Changes the host: `minikube`, `istioctl`, `kubectl` versions, docker's cgroup version,
    /// CPUs, memory, or a stopped docker daemon (the world's knobs).
    pub fn host(self, change: impl FnOnce(&mut Knobs)) -> Fakes {
        let mut knobs = self.world.knobs();
        change(&mut knobs);
        self.world.set_knobs(&knobs);
        self
    }

    /// An environment variable for meshup (a mirror URL, ...).
    pub fn env(mut self, key: &str, value: &str) -> Fakes {
        self.env.insert(key.to_string(), value.to_string());
        self
    }

    /// Writes a file in the test's directory and returns its path.
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.world.dir().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// The meshup binary in the world (its environment, only the fakes on PATH, no CI, no
    /// MESHUP_* of the host), run in the world's directory.
    pub fn meshup(&self) -> Command {
        let mut cmd = Command::from_std(self.world.command(env!("CARGO_BIN_EXE_meshup")));
        cmd.env_remove("CI")
            .timeout(std::time::Duration::from_secs(120));
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// `meshup <args>` (as [`Fakes::meshup`] sets it up) to its end.
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        self.meshup().args(args).output().unwrap()
    }

    /// `meshup <args> <file>` to its end (a scenario or matrix file as the last argument).
    pub fn run_with_file(&self, args: &[&str], file: &Path) -> std::process::Output {
        self.meshup().args(args).arg(file).output().unwrap()
    }

    /// A minikube profile in `Running` or `Stopped` state (4 CPUs, 8192 MB, Kubernetes
    /// v1.15.10, docker), made by the fake minikube itself (as v1.24.0, the last release that
    /// starts 1.15). Its calls are not in [`Fakes::calls`].
    pub fn minikube_profile(&self, name: &str, state: &str) {
        let minikube = |args: &[&str], version: &str| {
            let out = self
                .harness_minikube()
                .env("MESHUP_SIM_VERSION", version)
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "minikube {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let start = [
            "start",
            "-p",
            name,
            "--kubernetes-version",
            "v1.15.10",
            "--cpus",
            "4",
            "--memory",
            "8192",
            "--driver",
            "docker",
        ];
        minikube(&start, "v1.24.0");
        match state {
            "Running" => {}
            "Stopped" => minikube(&["stop", "-p", name], "v1.24.0"),
            other => panic!("no way to make a {other} profile"),
        }
    }

    /// The fake minikube, run by the harness (not counted in [`Fakes::calls`]).
    fn harness_minikube(&self) -> std::process::Command {
        let dir = self.world.dir().join(HARNESS_DIR);
        std::fs::create_dir_all(&dir).unwrap();
        let mut cmd = self.world.command(self.bin().join("minikube"));
        cmd.current_dir(dir);
        cmd
    }

    /// The profile's host state as `minikube status` shows it (`Running`, `Stopped`), `None`
    /// once it is deleted.
    pub fn minikube_state(&self, name: &str) -> Option<String> {
        let out = self
            .harness_minikube()
            .args(["status", "-p", name, "-o", "json"])
            .output()
            .unwrap();
        let status: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        status["Host"].as_str().map(String::from)
    }

    /// The profile's node address, as minikube recorded it (each world has its own).
    pub fn minikube_ip(&self, name: &str) -> String {
        let out = self
            .harness_minikube()
            .args(["profile", "list", "-o", "json"])
            .output()
            .unwrap();
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        list["valid"]
            .as_array()
            .into_iter()
            .chain(list["invalid"].as_array())
            .flatten()
            .find(|p| p["Name"] == name)
            .and_then(|p| p["Config"]["Nodes"][0]["IP"].as_str())
            .unwrap_or_else(|| panic!("no IP for {name} in {list}"))
            .to_owned()
    }

    /// Every external program meshup ran, one `tool args...` line each.
    pub fn calls(&self) -> Vec<String> {
        let harness = self.world.dir().join(HARNESS_DIR);
        let harness = harness.canonicalize().unwrap_or(harness);
        self.world
            .calls()
            .into_iter()
            .filter(|c| Path::new(&c.cwd) != harness)
            .map(|c| c.command_line())
            .collect()
    }
}

/// stdout of a finished command.
pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
