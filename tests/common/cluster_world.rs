//! The live `meshup start` in a simulated world (meshup_sim): the seed's knobs, running the
//! meshup binary inside the world, and reading what a user (and the fakes' call log) would see.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use meshup_sim::calllog::Call;
use meshup_sim::{Knobs, World};
use serde_json::Value;

pub const MESHUP: &str = env!("CARGO_BIN_EXE_meshup");
/// `meshup start`'s stages, in the order the plan lists them.
pub const START_STAGES: [&str; 7] = [
    "preflight",
    "tools",
    "cluster",
    "tunnel",
    "mesh",
    "smoke",
    "verify",
];
pub const SEED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scenarios/seed-istio-1.5-k8s-1.15.yaml"
);

/// The seed's host: minikube v1.24.0 (the last that starts v1.15.10), istioctl 1.5.0, a kubectl
/// within one minor of 1.15, and Docker on cgroup v1 (Kubernetes 1.15 cannot run on v2).
pub fn seed_knobs() -> Knobs {
    let mut k = Knobs::default();
    k.minikube.version = "v1.24.0".into();
    k.istioctl.version = "1.5.0".into();
    k.kubectl.version = "v1.15.12".into();
    k.docker.cgroup_version = "1".into();
    k
}

pub fn seed_world() -> World {
    World::start(seed_knobs())
}

/// The seed's knobs with `change` made to them.
pub fn seed_knobs_with(change: impl FnOnce(&mut Knobs)) -> Knobs {
    let mut k = seed_knobs();
    change(&mut k);
    k
}

/// A world on the seed's host with `change` made to its knobs.
pub fn seed_world_with(change: impl FnOnce(&mut Knobs)) -> World {
    World::start(seed_knobs_with(change))
}

/// What a finished meshup run showed.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout and stderr together: where a line goes is not what these tests are about.
    pub fn text(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// `--output json`: every stdout line parsed (panics on a line that is not JSON).
    pub fn events(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}\n{self}"))
            })
            .collect()
    }

    /// The final `result` event of a `--output json` run.
    pub fn result(&self) -> Value {
        let events = self.events();
        let last = events.last().cloned().unwrap_or_default();
        assert_eq!(
            last["type"], "result",
            "the last event is not the result\n{self}"
        );
        last
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// `meshup <args>` in the world, to its end (bounded so a hang fails instead of blocking).
pub fn meshup(world: &World, args: &[&str]) -> Run {
    meshup_with(world, args, &[])
}

pub fn meshup_with(world: &World, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = world.command(MESHUP);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = assert_cmd::Command::from_std(cmd)
        .timeout(Duration::from_secs(120))
        .output()
        .expect("run meshup");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `meshup <args>` started in the background, its output in files of the world dir named
/// `<name>.out` / `<name>.err`.
pub fn spawn_meshup(world: &World, name: &str, args: &[&str]) -> Child {
    let out = std::fs::File::create(world.dir().join(format!("{name}.out"))).unwrap();
    let err = std::fs::File::create(world.dir().join(format!("{name}.err"))).unwrap();
    world
        .command(MESHUP)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("spawn meshup")
}

/// Waits for a background meshup and reads what it printed.
pub fn finish(world: &World, name: &str, mut child: Child) -> Run {
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("meshup ({name}) did not end");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    use std::os::unix::process::ExitStatusExt;
    Run {
        code: status.code().or_else(|| status.signal().map(|s| 128 + s)),
        stdout: std::fs::read_to_string(world.dir().join(format!("{name}.out"))).unwrap(),
        stderr: std::fs::read_to_string(world.dir().join(format!("{name}.err"))).unwrap(),
    }
}

/// Polls until `ready` holds (a bound, not an assertion on time: it only turns a hang into a
/// failure).
pub fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `minikube <sub> ...` calls so far, in order.
pub fn minikube(world: &World, sub: &str) -> Vec<Call> {
    world
        .calls()
        .into_iter()
        .filter(|c| c.tool == "minikube" && c.argv.first().is_some_and(|a| a == sub))
        .collect()
}

/// No `minikube <sub>` ran (the call log is the message).
pub fn assert_no_minikube(world: &World, sub: &str) {
    assert!(minikube(world, sub).is_empty(), "{}", calls_text(world));
}

/// meshup stopped at preflight: exit 3, and `minikube start` never ran.
pub fn assert_stopped_before_minikube_start(world: &World, run: &Run) {
    assert_eq!(run.code, Some(3), "{run}");
    assert_no_minikube(world, "start");
}

pub fn calls_text(world: &World) -> String {
    world
        .calls()
        .iter()
        .map(|c| format!("{} -> {:?}", c.command_line(), c.exit_code))
        .collect::<Vec<_>>()
        .join("\n")
}

/// meshup's state dir for a profile ($MESHUP_STATE_DIR/profiles/<p>).
pub fn state_dir(world: &World, profile: &str) -> PathBuf {
    world.dir().join("state/meshup/profiles").join(profile)
}

/// The profile's state.json.
pub fn state(world: &World, profile: &str) -> Value {
    let path = state_dir(world, profile).join("state.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// `minikube profile list -o json` as the fake on PATH answers it.
pub fn profile_list(world: &World) -> Value {
    let out = world
        .command(world.bin_dir().join("minikube"))
        .args(["profile", "list", "-o", "json"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The profile's `Config` in `minikube profile list -o json`.
pub fn profile_config(world: &World, profile: &str) -> Value {
    let list = profile_list(world);
    list["valid"]
        .as_array()
        .into_iter()
        .chain(list["invalid"].as_array())
        .flatten()
        .find(|p| p["Name"] == profile)
        .map(|p| p["Config"].clone())
        .unwrap_or_else(|| panic!("no profile {profile} in {list}"))
}

/// The tunnel supervisors a profile's pid file names (`meshup start` leaves one running on
/// purpose), with their `minikube tunnel` children and its `ssh` forwards.
pub fn tunnel_supervision(world: &World) -> Vec<i32> {
    let mut keep: Vec<i32> = Vec::new();
    let Ok(profiles) = std::fs::read_dir(world.dir().join("state/meshup/profiles")) else {
        return keep;
    };
    for p in profiles.flatten() {
        let Some(pid) = std::fs::read_to_string(p.path().join("tunnel.pid"))
            .ok()
            .and_then(|t| t.split_whitespace().next()?.parse::<i32>().ok())
        else {
            continue;
        };
        keep.push(pid);
    }
    // Their descendants (the tunnel, its forwards), found by parent pid.
    let all = world.processes();
    loop {
        let more: Vec<i32> = all
            .iter()
            .copied()
            .filter(|p| !keep.contains(p))
            .filter(|p| {
                std::fs::read_to_string(format!("/proc/{p}/stat"))
                    .ok()
                    .and_then(|s| {
                        let (_, rest) = s.rsplit_once(')')?;
                        rest.split_whitespace().nth(1)?.parse::<i32>().ok()
                    })
                    .is_some_and(|ppid| keep.contains(&ppid))
            })
            .collect();
        if more.is_empty() {
            return keep;
        }
        keep.extend(more);
    }
}

/// After meshup ended, nothing of the world but its daemon runs (and the tunnel supervisor a
/// successful start leaves on purpose, named by its pid file): no minikube left behind.
pub fn assert_only_the_daemon_runs(world: &World) {
    let daemon = world.info().pid as i32;
    // A process group killed just before meshup exited may take a moment to be reaped.
    let mut left = Vec::new();
    for _ in 0..30 {
        let supervised = tunnel_supervision(world);
        left = world
            .processes()
            .into_iter()
            .filter(|p| *p != daemon && !supervised.contains(p))
            .collect();
        if left.is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let cmdlines: Vec<String> = left
        .iter()
        .map(|p| {
            std::fs::read(format!("/proc/{p}/cmdline"))
                .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
                .unwrap_or_default()
        })
        .collect();
    panic!("processes left in the world: {left:?} {cmdlines:?}");
}
