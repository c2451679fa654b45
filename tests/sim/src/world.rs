//! The test harness: `World::start(knobs)` builds a world directory (CONTRACT.md), starts the
//! world daemon and waits until it listens; `command(program)` runs anything inside the world;
//! dropping the `World` (also while a test panics) kills every process that carries the world's
//! `MESHUP_SIM_ID` and removes the directory.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::calllog::{self, Call};
use crate::control::{ClusterInfo, ClusterSpec, RequestCount, WorldInfo};
use crate::control_client::ControlClient;
use crate::knobs::Knobs;

/// The fakes a world's `bin/` holds.
pub const TOOLS: [&str; 5] = ["minikube", "istioctl", "kubectl", "docker", "sudo"];

pub struct World {
    dir: PathBuf,
    id: String,
    info: WorldInfo,
    daemon: Option<Child>,
    keep: bool,
}

/// The `meshup-sim` binary: `$MESHUP_SIM_BIN`; else next to the running test executable
/// (`target/debug/deps/..`), where `cargo test --workspace` puts it, unless it is older than
/// the sim's sources; else built once per test process with `cargo build -p meshup-sim`
/// (cargo does not hold the build lock while tests run). See README.md.
pub fn sim_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("MESHUP_SIM_BIN").filter(|p| !p.is_empty()) {
            return PathBuf::from(p);
        }
        let exe = std::env::current_exe().expect("current exe");
        let mut candidates = Vec::new();
        for dir in exe.ancestors().skip(1).take(2) {
            candidates.push(dir.join("meshup-sim"));
        }
        // A binary older than the sim's sources predates changes to it (as after `cargo test
        // -p meshup`, which does not build other packages' binaries): rebuild it.
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        match candidates.iter().find(|p| p.is_file()) {
            Some(found) if modified(found) >= newest_source() => found.clone(),
            _ => build_sim(&exe),
        }
    })
    .clone()
}

/// The newest modification time among the sim's sources (`src/`, `Cargo.toml`).
fn newest_source() -> Option<std::time::SystemTime> {
    fn walk(dir: &Path, newest: &mut Option<std::time::SystemTime>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, newest);
            } else if let Ok(t) = entry.metadata().and_then(|m| m.modified()) {
                *newest = (*newest).max(Some(t));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut newest = std::fs::metadata(root.join("Cargo.toml"))
        .and_then(|m| m.modified())
        .ok();
    walk(&root.join("src"), &mut newest);
    newest
}

fn build_sim(exe: &Path) -> PathBuf {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("meshup-sim: building the simulated world's binary (cargo build -p meshup-sim)");
    let profile_dir = exe.ancestors().nth(2).expect("target/<profile>");
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "-p", "meshup-sim", "--manifest-path", manifest]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    let status = cmd.status().expect("run cargo build -p meshup-sim");
    assert!(status.success(), "cargo build -p meshup-sim failed");
    let target = profile_dir.join("meshup-sim");
    assert!(
        target.is_file(),
        "built meshup-sim not found at {}",
        target.display()
    );
    target
}

fn random_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}

impl World {
    /// Start a world with these knobs; panics with the daemon's log if it cannot.
    pub fn start(knobs: Knobs) -> World {
        World::try_start(knobs)
            .unwrap_or_else(|e| panic!("cannot start the simulated world: {e:#}"))
    }

    pub fn try_start(knobs: Knobs) -> Result<World> {
        let tmp = tempfile::Builder::new().prefix("meshup-sim-").tempdir()?;
        let dir = tmp.keep();
        let mut world = World {
            dir: dir.clone(),
            id: random_id(),
            info: WorldInfo {
                control: String::new(),
                pid: 0,
                loopback_prefix: String::new(),
            },
            daemon: None,
            keep: std::env::var_os("MESHUP_SIM_KEEP").is_some(),
        };
        for sub in ["bin", "home", "cache", "state", "config"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        let bin = sim_bin();
        for tool in TOOLS {
            std::os::unix::fs::symlink(&bin, dir.join("bin").join(tool))?;
        }
        world.set_knobs(&knobs);
        let log = std::fs::File::create(dir.join("daemon.log"))?;
        let child = world
            .command(&bin)
            .args(["serve", "--exit-with-parent", "--dir"])
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("spawn {}", bin.display()))?;
        world.daemon = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        let info_path = dir.join("world.json");
        loop {
            if let Ok(text) = std::fs::read_to_string(&info_path)
                && let Ok(info) = serde_json::from_str::<WorldInfo>(&text)
            {
                world.info = info;
                break;
            }
            if let Some(status) = world
                .daemon
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                bail!("the daemon exited ({status}): {}", world.daemon_log());
            }
            if Instant::now() > deadline {
                bail!("no world.json after 20 s: {}", world.daemon_log());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(world)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn info(&self) -> &WorldInfo {
        &self.info
    }
    pub fn bin_dir(&self) -> PathBuf {
        self.dir.join("bin")
    }
    pub fn home(&self) -> PathBuf {
        self.dir.join("home")
    }
    pub fn daemon_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("daemon.log")).unwrap_or_default()
    }

    /// The environment of everything run in the world (CONTRACT.md).
    pub fn env(&self) -> Vec<(String, String)> {
        let d = |p: &str| self.dir.join(p).display().to_string();
        vec![
            ("MESHUP_SIM_DIR".into(), self.dir.display().to_string()),
            ("MESHUP_SIM_ID".into(), self.id.clone()),
            ("HOME".into(), d("home")),
            ("PATH".into(), d("bin")),
            ("MESHUP_STATE_DIR".into(), d("state/meshup")),
            ("XDG_CACHE_HOME".into(), d("cache")),
            ("XDG_STATE_HOME".into(), d("state")),
            ("XDG_CONFIG_HOME".into(), d("config")),
            ("NO_COLOR".into(), "1".into()),
        ]
    }

    /// A command that runs in the world: its environment, with the host's `MESHUP_*`,
    /// `KUBECONFIG` and `MINIKUBE_HOME` removed.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            if k.starts_with("MESHUP_") || k == "KUBECONFIG" || k == "MINIKUBE_HOME" {
                cmd.env_remove(k.as_ref());
            }
        }
        cmd.envs(self.env()).current_dir(&self.dir);
        cmd
    }

    pub fn set_knobs(&self, knobs: &Knobs) {
        let text = serde_yaml::to_string(knobs).expect("knobs to YAML");
        let tmp = self.dir.join("knobs.yaml.tmp");
        std::fs::write(&tmp, text).expect("write knobs.yaml");
        std::fs::rename(&tmp, self.dir.join("knobs.yaml")).expect("write knobs.yaml");
    }

    pub fn knobs(&self) -> Knobs {
        let text = std::fs::read_to_string(self.dir.join("knobs.yaml")).unwrap_or_default();
        serde_yaml::from_str(&text).unwrap_or_default()
    }

    /// Every invocation of a fake so far (calls.jsonl, start merged with exit).
    pub fn calls(&self) -> Vec<Call> {
        calllog::read(&self.dir)
    }

    pub fn control(&self) -> ControlClient {
        ControlClient::new(&self.info.control)
    }

    /// Create (or start again) a cluster straight through the control API, without the fake
    /// minikube: for tests of the emulator and of code that only needs an API server.
    pub fn start_cluster(&self, profile: &str, kubernetes_version: &str) -> ClusterInfo {
        let spec = ClusterSpec {
            kubernetes_version: kubernetes_version.into(),
            cpus: 2,
            memory_mb: 4096,
            driver: "docker".into(),
            service_cidr: "10.96.0.0/12".into(),
        };
        self.control()
            .put_cluster(profile, &spec)
            .expect("control API: PUT cluster")
    }

    pub fn cluster(&self, profile: &str) -> Option<ClusterInfo> {
        self.control().cluster(profile).expect("control API")
    }

    /// What the profile's API server was asked, by verb and resource.
    pub fn requests(&self, profile: &str) -> Vec<RequestCount> {
        let resp = self
            .control()
            .request("GET", &format!("/clusters/{profile}/requests"), None)
            .expect("control API");
        serde_json::from_slice(&resp.body).unwrap_or_default()
    }

    /// Total count of requests with this verb on this resource (any namespace).
    pub fn request_count(&self, profile: &str, verb: &str, resource: &str) -> u64 {
        self.requests(profile)
            .iter()
            .filter(|r| r.verb == verb && r.resource == resource)
            .map(|r| r.count)
            .sum()
    }

    /// A kube client for the profile: from the kubeconfig the fake minikube wrote (context =
    /// profile) when there is one, else straight from the daemon's `ClusterInfo`.
    pub async fn kube_client(&self, profile: &str) -> Result<kube::Client> {
        Ok(kube::Client::try_from(self.kube_config(profile).await?)?)
    }

    /// The client configuration `kube_client` uses, to adjust before building a client (for
    /// example `default_retry = false`: kube retries 503s up to 15 times by default).
    pub async fn kube_config(&self, profile: &str) -> Result<kube::Config> {
        use kube::config::{KubeConfigOptions, Kubeconfig};
        let path = self.home().join(".kube/config");
        let options = KubeConfigOptions {
            context: Some(profile.to_string()),
            ..Default::default()
        };
        if let Ok(kc) = Kubeconfig::read_from(&path)
            && kc.contexts.iter().any(|c| c.name == profile)
        {
            return Ok(kube::Config::from_custom_kubeconfig(kc, &options).await?);
        }
        let info = self
            .cluster(profile)
            .with_context(|| format!("no cluster {profile}"))?;
        let kc = Kubeconfig::from_yaml(&kubeconfig_yaml(&info))?;
        Ok(kube::Config::from_custom_kubeconfig(kc, &options).await?)
    }

    /// A `#!/bin/sh` script that runs the fake `tool` emulating `version` (CONTRACT.md).
    pub fn tool_wrapper(&self, tool: &str, version: &str) -> String {
        format!(
            "#!/bin/sh\nMESHUP_SIM_AS='{tool}' MESHUP_SIM_VERSION='{version}' exec '{}' \"$@\"\n",
            sim_bin().display()
        )
    }

    /// pids of live processes carrying this world's marker.
    pub fn processes(&self) -> Vec<i32> {
        processes_with_marker(&self.id)
    }
}

/// A kubeconfig with inline credentials, its cluster, context and user named after the profile.
pub fn kubeconfig_yaml(info: &ClusterInfo) -> String {
    use base64::Engine;
    let b = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let p = &info.profile;
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {p}\n  cluster:\n    server: {}\n    certificate-authority-data: {}\ncontexts:\n- name: {p}\n  context:\n    cluster: {p}\n    user: {p}\n    namespace: default\ncurrent-context: {p}\nusers:\n- name: {p}\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
        info.server.as_deref().unwrap_or("https://127.0.0.1:1"),
        b(&info.ca_pem),
        b(&info.client_cert_pem),
        b(&info.client_key_pem)
    )
}

/// Processes whose environment carries `MESHUP_SIM_ID=<id>` (zombies have none: they are gone).
pub fn processes_with_marker(id: &str) -> Vec<i32> {
    let needle = format!("MESHUP_SIM_ID={id}");
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|b| *b == 0).any(|kv| kv == needle.as_bytes()))
        })
        .collect()
}

fn kill_world(id: &str, daemon: Option<&mut Child>) {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let signal_all = |sig: Signal| {
        for pid in processes_with_marker(id) {
            let _ = kill(Pid::from_raw(pid), sig);
        }
    };
    signal_all(Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_millis(1500);
    let mut daemon = daemon;
    loop {
        if let Some(c) = daemon.as_deref_mut() {
            let _ = c.try_wait();
        }
        if processes_with_marker(id).is_empty() {
            break;
        }
        if Instant::now() > deadline {
            signal_all(Signal::SIGKILL);
            if let Some(c) = daemon.as_deref_mut() {
                let _ = c.kill();
                let _ = c.wait();
            }
            // SIGKILL is not instant death on a loaded machine: wait (bounded) until nothing
            // of the world is left, killing whatever was started meanwhile. A killed child of
            // the test that is not reaped yet is a zombie with an empty environ: not counted.
            let gone_by = Instant::now() + Duration::from_secs(3);
            while !processes_with_marker(id).is_empty() && Instant::now() < gone_by {
                std::thread::sleep(Duration::from_millis(10));
                signal_all(Signal::SIGKILL);
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl Drop for World {
    fn drop(&mut self) {
        kill_world(&self.id, self.daemon.as_mut());
        if let Some(mut c) = self.daemon.take() {
            let _ = c.wait();
        }
        if self.keep
            || (std::thread::panicking() && std::env::var_os("MESHUP_SIM_KEEP_FAILED").is_some())
        {
            eprintln!("meshup-sim: kept the world at {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
