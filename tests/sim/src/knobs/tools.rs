//! Knobs of the fake tools and of the simulated host (documented in `KNOBS.md`, "Tools").
//! Durations are milliseconds. Defaults make a quick, healthy, non-root Linux host with
//! minikube v1.38.1, Istio 1.5.0 and a running Docker on cgroup v2.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct MinikubeKnobs {
    /// The emulated release, e.g. `v1.38.1` (`MESHUP_SIM_VERSION` overrides it per wrapper).
    pub version: String,
    /// How long a fresh `start` takes in all, spread over its steps.
    pub start_ms: u64,
    /// How long starting a stopped or running profile again takes.
    pub restart_ms: u64,
    pub stop_ms: u64,
    pub delete_ms: u64,
    /// The preload tarball is not cached: `start` downloads it (`download.progress` events).
    pub download_preload: bool,
    /// Fail `start` with this reason id (e.g. `GUEST_START`, `K8S_APISERVER_MISSING`) after the
    /// container was created; the exit code is the reason's.
    pub fail_start: Option<String>,
    /// Kill `start` (SIGKILL, by itself) when it reaches this step index (0..=19), leaving a
    /// half-created profile, as a user's Ctrl-C or a crash would.
    pub interrupt_start_at_step: Option<u32>,
    /// `start` ignores SIGINT and SIGTERM (a tool stuck in a call that does not return): only
    /// SIGKILL ends it. For testing how meshup escalates a stop.
    pub start_ignores_stop_signals: bool,
    pub tunnel: TunnelKnobs,
}

impl Default for MinikubeKnobs {
    fn default() -> Self {
        MinikubeKnobs {
            version: "v1.38.1".into(),
            start_ms: 300,
            restart_ms: 100,
            stop_ms: 50,
            delete_ms: 50,
            download_preload: false,
            fail_start: None,
            interrupt_start_at_step: None,
            start_ignores_stop_signals: false,
            tunnel: TunnelKnobs::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum TunnelMode {
    /// Linux with the docker driver: `sudo ip route add`, the `Status:` block.
    Route,
    /// Docker Desktop, rootless docker, macOS: `ssh -L` per service, `sudo ssh` below 1024.
    Ssh,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct TunnelKnobs {
    pub mode: TunnelMode,
    /// Route mode: the first `Status:` block comes this long after start (real: about 5 s).
    pub status_delay_ms: u64,
    /// Route mode: how often a failed `sudo ip route add` is retried (real: 5 s).
    pub route_retry_ms: u64,
    /// How often services are listed (real: 5 s in route mode, 1 s in SSH mode).
    pub poll_ms: u64,
    /// The tunnel dies by itself (exit 1, no cleanup) this long after start: a crash.
    pub crash_after_ms: Option<u64>,
}

impl Default for TunnelKnobs {
    fn default() -> Self {
        TunnelKnobs {
            mode: TunnelMode::Route,
            status_delay_ms: 200,
            route_retry_ms: 500,
            poll_ms: 200,
            crash_after_ms: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct IstioctlKnobs {
    /// The emulated Istio release, e.g. `1.5.0` (`MESHUP_SIM_VERSION` overrides it).
    pub version: String,
    /// How often install/apply checks readiness while it waits.
    pub poll_ms: u64,
}

impl Default for IstioctlKnobs {
    fn default() -> Self {
        IstioctlKnobs {
            version: "1.5.0".into(),
            poll_ms: 100,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct KubectlKnobs {
    /// The client version `kubectl version` reports.
    pub version: String,
}

impl Default for KubectlKnobs {
    fn default() -> Self {
        KubectlKnobs {
            version: "v1.34.1".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct DockerKnobs {
    /// false: every command that needs the daemon says "Cannot connect to the Docker daemon".
    pub running: bool,
    pub server_version: String,
    pub client_version: String,
    /// `"1"` or `"2"`, as `docker info` reports `CgroupVersion`.
    pub cgroup_version: String,
    pub ncpu: u32,
    pub mem_total_mb: u64,
}

impl Default for DockerKnobs {
    fn default() -> Self {
        DockerKnobs {
            running: true,
            server_version: "28.4.0".into(),
            client_version: "28.4.0".into(),
            cgroup_version: "2".into(),
            ncpu: 8,
            mem_total_mb: 16_000,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Sudo {
    /// NOPASSWD, or a warm `sudo -v`: sudo never asks.
    Nopasswd,
    /// sudo asks for a password: without a terminal it fails, with one it waits.
    Password,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct HostKnobs {
    /// Is the user root? (Tests run as root here; the fakes believe this knob, not the uid.)
    pub root: bool,
    pub sudo: Sudo,
    /// `minikube start`'s platform line, e.g. `Ubuntu 22.04`.
    pub os: String,
    pub user: String,
    pub cpus: u32,
    pub memory_mb: u64,
}

impl Default for HostKnobs {
    fn default() -> Self {
        HostKnobs {
            root: false,
            sudo: Sudo::Nopasswd,
            os: "Ubuntu 22.04".into(),
            user: "dev".into(),
            cpus: 8,
            memory_mb: 16_000,
        }
    }
}
