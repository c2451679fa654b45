//! Facts about the host that decide whether a scenario can run here.
//!
//! Sources: research/minikube.md §8 and shared/data/compat.yaml `host:`
//! - Kubernetes < 1.19 cannot run on cgroup v2 hosts (kind known issues,
//!   https://kind.sigs.k8s.io/docs/user/known-issues/; the docker driver shares the host's
//!   cgroup hierarchy, so minikube's KIC has the same limit).
//! - Kubernetes ≥ 1.35 on cgroup v1 needs `failCgroupV1: false`, which minikube sets itself
//!   when the cgroup driver is not systemd (minikube PR #22319): informational only.
//! - Docker ≥ 18.09 (20.10 recommended) for the docker driver (minikube docs/drivers/docker.md).
//! - minikube refuses more CPUs than the host has (RSRC_INSUFFICIENT_CORES, exit 29) and more
//!   memory than docker has (MK_USAGE).

use super::version::{Minor, Version, v};
use super::{Finding, Scope, Severity};

/// What meshup learned about the host (from `docker info` and the OS); None = unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostFacts {
    pub cgroup_version: Option<u8>,
    pub docker_version: Option<Version>,
    pub cpus: Option<u64>,
    pub memory_mb: Option<u64>,
    /// Whose figures `cpus` and `memory_mb` are.
    pub resources_from: ResourceSource,
}

/// Docker's `NCPU`/`MemTotal` are what minikube's docker driver can use (Docker Desktop's VM
/// may have less than the machine); without them, only this machine's own figures are known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ResourceSource {
    #[default]
    Docker,
    Machine,
}

impl ResourceSource {
    /// Who has the figure, as a finding names it.
    pub fn holder(self) -> &'static str {
        match self {
            ResourceSource::Docker => "this host",
            ResourceSource::Machine => "this machine",
        }
    }

    /// What a reader must know about the figure.
    pub fn caveat(self) -> &'static str {
        match self {
            ResourceSource::Docker => "",
            ResourceSource::Machine => " (docker gave no figures; this is the machine's own)",
        }
    }
}

/// What the scenario asks of the host.
#[derive(Debug, Clone)]
pub struct Demand<'a> {
    pub kubernetes: &'a Version,
    /// None for `max`.
    pub cpus: Option<u64>,
    pub memory_mb: Option<u64>,
    /// minikube's `--driver`, None for auto-detect.
    pub driver: Option<&'a str>,
}

pub const CGROUP_V2_MIN_K8S: Minor = Minor::new(1, 19);

pub fn check(demand: &Demand<'_>, host: &HostFacts) -> Vec<Finding> {
    let mut out = Vec::new();
    let k8s = demand.kubernetes.minor();
    let kic = matches!(demand.driver, None | Some("docker") | Some("podman"));
    if kic && host.cgroup_version == Some(2) && k8s < CGROUP_V2_MIN_K8S {
        out.push(
            Finding::new(
                Severity::Error,
                Scope::Host,
                "cgroup-v2-old-kubernetes",
                format!(
                    "Kubernetes {} cannot run on this cgroup v2 host: kubelets before 1.19 need cgroup v1",
                    demand.kubernetes.v()
                ),
            )
            .alternative(format!(
                "use Kubernetes {} or newer, or a host (or VM driver) with cgroup v1",
                CGROUP_V2_MIN_K8S.with_patch(0).v()
            )),
        );
    }
    if kic && host.cgroup_version == Some(1) && k8s >= Minor::new(1, 35) {
        out.push(Finding::new(
            Severity::Info,
            Scope::Host,
            "cgroup-v1-new-kubernetes",
            format!(
                "Kubernetes {} deprecates cgroup v1; minikube sets failCgroupV1: false for it",
                demand.kubernetes.v()
            ),
        ));
    }
    if demand.driver.is_none_or(|d| d == "docker")
        && let Some(docker) = &host.docker_version
        && *docker < v("18.9.0")
    {
        out.push(
                    Finding::new(
                        Severity::Error,
                        Scope::Host,
                        "docker-too-old",
                        format!("Docker {docker} is older than 18.09, the oldest minikube's docker driver supports"),
                    )
                    .alternative("upgrade Docker to 20.10 or newer"),
                );
    }
    if let (Some(want), Some(have)) = (demand.cpus, host.cpus)
        && want > have
    {
        out.push(
            Finding::new(
                Severity::Error,
                Scope::Host,
                "cpus-exceed-host",
                format!(
                    "{want} CPUs requested but {} has {have}{}",
                    host.resources_from.holder(),
                    host.resources_from.caveat()
                ),
            )
            .alternative(format!("use --cpus {have} (or `max`)")),
        );
    }
    if let (Some(want), Some(have)) = (demand.memory_mb, host.memory_mb)
        && want > have
    {
        out.push(
            Finding::new(
                Severity::Error,
                Scope::Host,
                "memory-exceeds-host",
                format!(
                    "{want} MB of memory requested but {} has {have} MB{}",
                    match host.resources_from {
                        ResourceSource::Docker => "this host (or docker)",
                        ResourceSource::Machine => "this machine",
                    },
                    host.resources_from.caveat()
                ),
            )
            .alternative(format!(
                "use --memory {}mb (or `max`)",
                have.saturating_sub(48)
            )),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demand(k8s: &Version) -> Demand<'_> {
        Demand {
            kubernetes: k8s,
            cpus: Some(4),
            memory_mb: Some(8192),
            driver: None,
        }
    }

    #[test]
    fn cgroup_v2_needs_1_19() {
        let host = HostFacts {
            cgroup_version: Some(2),
            ..Default::default()
        };
        let old = v("1.15.10");
        let f = check(&demand(&old), &host);
        assert_eq!(f[0].code, "cgroup-v2-old-kubernetes");
        assert!(f[0].is_error());
        assert!(check(&demand(&v("1.19.0")), &host).is_empty());
        let v1 = HostFacts {
            cgroup_version: Some(1),
            ..Default::default()
        };
        assert!(check(&demand(&old), &v1).is_empty());
    }

    #[test]
    fn resources_beyond_the_host_are_errors() {
        let host = HostFacts {
            cpus: Some(2),
            memory_mb: Some(4096),
            ..Default::default()
        };
        let k = v("1.30.0");
        let codes: Vec<_> = check(&demand(&k), &host).iter().map(|f| f.code).collect();
        assert_eq!(codes, ["cpus-exceed-host", "memory-exceeds-host"]);
        // Without docker's figures, the machine's are named as such.
        let machine = HostFacts {
            resources_from: ResourceSource::Machine,
            ..host
        };
        let found = check(&demand(&k), &machine);
        assert!(
            found[0]
                .message
                .starts_with("4 CPUs requested but this machine has 2 (docker gave no figures"),
            "{}",
            found[0].message
        );
        assert!(found[1].message.contains("this machine has 4096 MB"));
    }
}
