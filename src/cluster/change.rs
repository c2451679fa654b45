//! What `meshup start` must do to an existing profile: the change plan. Pure, so every case is a
//! unit test. minikube itself only warns about a changed `--memory`/`--cpus` on an existing
//! cluster and refuses downgrades (exit 106): meshup names the difference instead.

use std::fmt;

use super::status::{ClusterState, ProfileInfo};

/// The cluster the scenario asks for. `None` where the scenario leaves the choice to minikube
/// (`max`, no driver given): those are not compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub kubernetes: String,
    pub cpus: Option<u32>,
    pub memory_mb: Option<u64>,
    pub driver: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Difference {
    /// The scenario field, e.g. `cluster.memory`.
    pub field: &'static str,
    pub existing: String,
    pub wanted: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: the cluster has {}, the scenario wants {}",
            self.field, self.existing, self.wanted
        )
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Change {
    /// No such profile: `minikube start` creates it.
    Create,
    /// Running with the same settings: nothing to do.
    Nothing,
    /// Stopped, paused or half-started with the same settings: `minikube start` again resumes it.
    Resume { state: String },
    /// A newer Kubernetes version: minikube upgrades in place, after confirmation.
    Upgrade { from: String, to: String },
    /// Only deleting and creating again gets what the scenario asks for.
    Recreate { differences: Vec<Difference> },
}

pub fn plan(existing: &ClusterState, profile: Option<&ProfileInfo>, want: &Desired) -> Change {
    let Some(profile) = profile.filter(|_| *existing != ClusterState::Missing) else {
        return Change::Create;
    };
    let mut differences = Vec::new();
    let mut upgrade = None;
    match compare_versions(&profile.kubernetes_version, &want.kubernetes) {
        Some(std::cmp::Ordering::Less) => {
            upgrade = Some((profile.kubernetes_version.clone(), want.kubernetes.clone()))
        }
        Some(std::cmp::Ordering::Greater) => differences.push(Difference {
            field: "cluster.kubernetes",
            existing: format!("{} (minikube cannot downgrade)", profile.kubernetes_version),
            wanted: want.kubernetes.clone(),
        }),
        Some(std::cmp::Ordering::Equal) => {}
        None => differences.push(Difference {
            field: "cluster.kubernetes",
            existing: display_or_unknown(&profile.kubernetes_version),
            wanted: want.kubernetes.clone(),
        }),
    }
    if let Some(cpus) = want.cpus.filter(|c| *c != profile.cpus) {
        differences.push(Difference {
            field: "cluster.cpus",
            existing: profile.cpus.to_string(),
            wanted: cpus.to_string(),
        });
    }
    if let Some(mb) = want.memory_mb.filter(|m| *m != profile.memory_mb) {
        differences.push(Difference {
            field: "cluster.memory",
            existing: format!("{}mb", profile.memory_mb),
            wanted: format!("{mb}mb"),
        });
    }
    if let Some(driver) = want.driver.as_ref().filter(|d| **d != profile.driver) {
        differences.push(Difference {
            field: "cluster.driver",
            existing: display_or_unknown(&profile.driver),
            wanted: driver.clone(),
        });
    }
    if !differences.is_empty() {
        return Change::Recreate { differences };
    }
    if let Some((from, to)) = upgrade {
        return Change::Upgrade { from, to };
    }
    match existing {
        ClusterState::Running => Change::Nothing,
        ClusterState::Stopped => Change::Resume {
            state: "stopped".into(),
        },
        ClusterState::Paused => Change::Resume {
            state: "paused".into(),
        },
        ClusterState::Degraded(why) => Change::Resume { state: why.clone() },
        ClusterState::Missing => Change::Create,
    }
}

fn display_or_unknown(s: &str) -> String {
    if s.is_empty() {
        "an unknown value".into()
    } else {
        s.to_owned()
    }
}

fn compare_versions(a: &str, b: &str) -> Option<std::cmp::Ordering> {
    let parse = |s: &str| semver::Version::parse(s.trim().trim_start_matches('v')).ok();
    Some(parse(a)?.cmp(&parse(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(version: &str, cpus: u32, memory_mb: u64) -> ProfileInfo {
        ProfileInfo {
            name: "meshup".into(),
            status: "OK".into(),
            driver: "docker".into(),
            cpus,
            memory_mb,
            kubernetes_version: version.into(),
            service_cidr: "10.96.0.0/12".into(),
            node_ip: None,
        }
    }

    fn want(version: &str, cpus: u32, memory_mb: u64) -> Desired {
        Desired {
            kubernetes: version.into(),
            cpus: Some(cpus),
            memory_mb: Some(memory_mb),
            driver: Some("docker".into()),
        }
    }

    #[test]
    fn missing_is_created() {
        let w = want("v1.15.10", 4, 8192);
        assert_eq!(plan(&ClusterState::Missing, None, &w), Change::Create);
        let p = profile("v1.15.10", 4, 8192);
        assert_eq!(plan(&ClusterState::Missing, Some(&p), &w), Change::Create);
    }

    #[test]
    fn the_same_running_cluster_needs_nothing() {
        let p = profile("v1.15.10", 4, 8192);
        let w = want("v1.15.10", 4, 8192);
        assert_eq!(plan(&ClusterState::Running, Some(&p), &w), Change::Nothing);
    }

    #[test]
    fn stopped_or_half_started_is_resumed() {
        let p = profile("v1.15.10", 4, 8192);
        let w = want("v1.15.10", 4, 8192);
        assert!(matches!(
            plan(&ClusterState::Stopped, Some(&p), &w),
            Change::Resume { .. }
        ));
        assert!(matches!(
            plan(
                &ClusterState::Degraded("apiserver Stopped".into()),
                Some(&p),
                &w
            ),
            Change::Resume { .. }
        ));
    }

    #[test]
    fn a_newer_version_is_an_upgrade() {
        let p = profile("v1.15.10", 4, 8192);
        let w = want("v1.16.15", 4, 8192);
        assert_eq!(
            plan(&ClusterState::Running, Some(&p), &w),
            Change::Upgrade {
                from: "v1.15.10".into(),
                to: "v1.16.15".into()
            }
        );
    }

    #[test]
    fn a_downgrade_or_other_size_needs_a_recreate() {
        let p = profile("v1.16.15", 4, 8192);
        let w = want("v1.15.10", 4, 6144);
        let Change::Recreate { differences } = plan(&ClusterState::Running, Some(&p), &w) else {
            panic!()
        };
        let fields: Vec<_> = differences.iter().map(|d| d.field).collect();
        assert_eq!(fields, ["cluster.kubernetes", "cluster.memory"]);
        assert_eq!(
            differences[1].to_string(),
            "cluster.memory: the cluster has 8192mb, the scenario wants 6144mb"
        );
    }

    #[test]
    fn unknown_wishes_are_not_compared() {
        let p = profile("v1.15.10", 16, 30000);
        let w = Desired {
            kubernetes: "v1.15.10".into(),
            cpus: None,
            memory_mb: None,
            driver: None,
        };
        assert_eq!(plan(&ClusterState::Running, Some(&p), &w), Change::Nothing);
    }
}
