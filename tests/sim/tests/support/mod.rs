//! The fakes' tests run in the harness's `meshup_sim::World`; this adds the few shortcuts
//! they share (knobs as YAML text, run-and-capture, a bounded wait).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use meshup_sim::{Knobs, World};

/// `minikube start` of the seed's cluster: profile `seed`, Kubernetes v1.15.10, 4 CPUs, 8 GB.
pub const SEED_START: &[&str] = &[
    "start",
    "-p",
    "seed",
    "--kubernetes-version=v1.15.10",
    "--cpus=4",
    "--memory=8gb",
];

pub struct Sim {
    pub world: World,
    pub id: String,
}

pub fn bin() -> PathBuf {
    meshup_sim::world::sim_bin()
}

fn knobs(yaml: &str) -> Knobs {
    if yaml.trim().is_empty() {
        return Knobs::default();
    }
    serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("bad test knobs: {e}\n{yaml}"))
}

impl Sim {
    pub fn start(yaml: &str) -> Sim {
        let world = World::start(knobs(yaml));
        let id = world.id().to_string();
        Sim { world, id }
    }

    pub fn path(&self) -> &Path {
        self.world.dir()
    }

    pub fn home(&self) -> PathBuf {
        self.world.home()
    }

    pub fn set_knobs(&self, yaml: &str) {
        self.world.set_knobs(&knobs(yaml));
    }

    /// A command run in the world, stdin closed.
    pub fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = self.world.command(program);
        c.stdin(Stdio::null());
        c
    }

    pub fn run(&self, program: &str, args: &[&str]) -> Output {
        self.cmd(program).args(args).output().expect("run")
    }

    pub fn calls(&self) -> Vec<meshup_sim::calllog::Call> {
        self.world.calls()
    }

    pub fn control(&self) -> meshup_sim::control_client::ControlClient {
        self.world.control()
    }

    /// Pids of live processes carrying this world's marker.
    pub fn processes(&self) -> Vec<i32> {
        self.world.processes()
    }
}

pub fn marked(id: &str) -> Vec<i32> {
    meshup_sim::world::processes_with_marker(id)
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
