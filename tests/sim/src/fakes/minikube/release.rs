//! What differs between minikube releases: the Kubernetes range (compat.yaml, from
//! minikube's constants.go at each tag), message shapes, runtimes, the tunnel's lock.
//! These tables copy the facts rather than import meshup's `compat`: the fake is the real
//! tool's stand-in, so a mistake in meshup's tables must make a test fail, not agree with it.

use crate::fakes::common::version_key;

/// release -> (oldest, default/stable, newest); between two rows the earlier one holds.
const RANGES: &[(&str, &str, &str, &str)] = &[
    ("v1.9.0", "v1.11.10", "v1.18.0", "v1.18.0"),
    ("v1.12.0", "v1.13.0", "v1.18.3", "v1.18.4-rc.0"),
    ("v1.15.0", "v1.13.0", "v1.19.4", "v1.20.0-beta.1"),
    ("v1.18.0", "v1.14.0", "v1.20.2", "v1.20.5-rc.0"),
    ("v1.20.0", "v1.14.0", "v1.20.2", "v1.22.0-alpha.1"),
    ("v1.24.0", "v1.14.0", "v1.22.3", "v1.22.4-rc.0"),
    ("v1.25.0", "v1.16.0", "v1.23.1", "v1.23.2-rc.0"),
    ("v1.28.0", "v1.16.0", "v1.25.3", "v1.25.3"),
    ("v1.30.0", "v1.16.0", "v1.26.3", "v1.27.0-rc.0"),
    ("v1.32.0", "v1.16.0", "v1.28.3", "v1.28.3"),
    ("v1.33.0", "v1.20.0", "v1.30.0", "v1.30.0"),
    ("v1.35.0", "v1.20.0", "v1.32.0", "v1.32.0"),
    ("v1.36.0", "v1.20.0", "v1.33.1", "v1.33.1"),
    ("v1.37.0", "v1.28.0", "v1.34.0", "v1.34.0"),
    ("v1.38.0", "v1.28.0", "v1.35.0", "v1.35.0"),
    ("v1.38.1", "v1.28.0", "v1.35.1", "v1.35.1"),
];

/// The newest patch of each minor in upstream's release history, for `--kubernetes-version=1.15`.
const LAST_PATCH: &[(u64, u64)] = &[
    (11, 10),
    (12, 10),
    (13, 12),
    (14, 10),
    (15, 12),
    (16, 15),
    (17, 17),
    (18, 20),
    (19, 16),
    (20, 15),
    (21, 14),
    (22, 17),
    (23, 17),
    (24, 17),
    (25, 16),
    (26, 15),
    (27, 16),
    (28, 15),
    (29, 15),
    (30, 14),
    (31, 13),
    (32, 9),
    (33, 5),
    (34, 1),
    (35, 1),
];

pub const START_STEPS: &[&str] = &[
    "Initial Minikube Setup",
    "Selecting Driver",
    "Downloading Artifacts",
    "Starting Node",
    "Updating Driver",
    "Pulling Base Image",
    "Running on Localhost",
    "Local OS Release",
    "Creating Container",
    "Creating VM",
    "Running Remotely",
    "Preparing Kubernetes",
    "Generating certificates",
    "Booting control plane",
    "Configuring RBAC rules",
    "Configuring CNI",
    "Configuring Localhost Environment",
    "Verifying Kubernetes",
    "Enabling Addons",
    "Done",
];

const START_STEPS_OLD: &[&str] = &[
    "Initial Minikube Setup",
    "Selecting Driver",
    "Downloading Artifacts",
    "Starting Node",
    "Running on Localhost",
    "Local OS Release",
    "Creating Container",
    "Creating VM",
    "Preparing Kubernetes",
    "Configuring Localhost Environment",
    "Verifying Kubernetes",
    "Enabling Addons",
    "Done",
];

#[derive(Debug, Clone)]
pub struct Release {
    /// `v1.38.1`
    pub version: String,
    pub oldest: String,
    pub stable: String,
    pub newest: String,
}

impl Release {
    pub fn new(version: &str) -> Release {
        let version = if version.starts_with('v') {
            version.to_string()
        } else {
            format!("v{version}")
        };
        let key = version_key(&version);
        let row = RANGES
            .iter()
            .rev()
            .find(|r| version_key(r.0) <= key)
            .unwrap_or(&RANGES[0]);
        Release {
            version,
            oldest: row.1.into(),
            stable: row.2.into(),
            newest: row.3.into(),
        }
    }

    pub fn at_least(&self, v: &str) -> bool {
        version_key(&self.version) >= version_key(v)
    }

    /// "v1.15" -> newest patch this release knows; `None` for an unknown minor.
    pub fn newest_patch(&self, major: u64, minor: u64) -> Option<String> {
        let (nmaj, nmin, npatch, npre) = crate::fakes::common::parse_version(&self.newest)?;
        if major != 1 || (major, minor) > (nmaj, nmin) {
            return None;
        }
        if minor == nmin {
            return Some(if npre {
                self.stable.clone()
            } else {
                format!("v1.{minor}.{npatch}")
            });
        }
        LAST_PATCH
            .iter()
            .find(|(m, _)| *m == minor)
            .map(|(_, p)| format!("v1.{minor}.{p}"))
    }

    /// The kicbase image version pulled (`Pulling base image v0.0.48 ...`).
    pub fn kic_version(&self) -> &'static str {
        if self.at_least("v1.38.0") {
            "v0.0.48"
        } else if self.at_least("v1.37.0") {
            "v0.0.47"
        } else if self.at_least("v1.33.0") {
            "v0.0.44"
        } else if self.at_least("v1.28.0") {
            "v0.0.36"
        } else {
            "v0.0.28"
        }
    }

    /// The Docker engine inside kicbase (`Preparing Kubernetes v1.15.10 on Docker 20.10.8 ...`).
    pub fn docker_in_node(&self) -> &'static str {
        if self.at_least("v1.37.0") {
            "28.4.0"
        } else if self.at_least("v1.33.0") {
            "26.0.1"
        } else if self.at_least("v1.28.0") {
            "20.10.20"
        } else {
            "20.10.8"
        }
    }

    /// start's step registry (register.go): 20 steps on v1.28+, 13 in the 2020-21 releases.
    pub fn start_registry(&self) -> &'static [&'static str] {
        if self.at_least("v1.28.0") {
            START_STEPS
        } else {
            START_STEPS_OLD
        }
    }

    pub fn stop_registry(&self) -> &'static [&'static str] {
        if self.at_least("v1.28.0") {
            &["Stopping", "PowerOff", "Done"]
        } else {
            &["Stopping", "Done"]
        }
    }

    pub fn delete_registry(&self) -> &'static [&'static str] {
        if self.at_least("v1.28.0") {
            &["Deleting", "Stopping", "Done", "Puring home dir"]
        } else {
            &["Deleting", "Stopping", "Deleting", "Done"]
        }
    }

    /// The CloudEvents key order changed with the SDK (data first, alphabetical, before v1.28).
    pub fn legacy_event_order(&self) -> bool {
        !self.at_least("v1.28.0")
    }

    /// Since v1.37 the spinner steps are not printed at all when stdout is not a terminal.
    pub fn hides_spinner_steps_without_tty(&self) -> bool {
        self.at_least("v1.37.0")
    }

    /// v1.33 changed the node line to `Starting "p" primary control-plane node in "p" cluster`.
    pub fn starting_node_line(&self, profile: &str) -> String {
        if self.at_least("v1.33.0") {
            format!("Starting \"{profile}\" primary control-plane node in \"{profile}\" cluster")
        } else {
            format!("Starting control plane node {profile} in cluster {profile}")
        }
    }

    /// The "Use `minikube config defaults kubernetes-version` for details." suffix (~v1.26+).
    pub fn defaults_hint(&self) -> &'static str {
        if self.at_least("v1.26.0") {
            " Use `minikube config defaults kubernetes-version` for details."
        } else {
            ""
        }
    }

    /// Too-new versions fail from v1.32 (before, they only warned).
    pub fn refuses_too_new(&self) -> bool {
        self.at_least("v1.32.0")
    }

    /// Single-instance rule of `minikube tunnel`.
    pub fn tunnel_lock(&self) -> TunnelLock {
        if self.at_least("v1.31.0") {
            TunnelLock::PerProfile
        } else if self.at_least("v1.30.0") {
            TunnelLock::Global
        } else {
            TunnelLock::None
        }
    }

    pub fn commit(&self) -> &'static str {
        match self.version.as_str() {
            "v1.24.0" => "76b94fb3c4e8ac5062daf70d60cf03ddcc0a741b",
            "v1.38.1" => "c93a4cb9311efc66b90d33ea03f75f2c4120e9b0",
            _ => "1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TunnelLock {
    None,
    Global,
    PerProfile,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_compat_yaml() {
        let r = Release::new("v1.24.0");
        assert_eq!(
            (r.oldest.as_str(), r.stable.as_str()),
            ("v1.14.0", "v1.22.3")
        );
        assert_eq!(Release::new("v1.26.1").oldest, "v1.16.0");
        assert_eq!(Release::new("1.38.1").stable, "v1.35.1");
        assert_eq!(r.newest_patch(1, 15).as_deref(), Some("v1.15.12"));
        assert_eq!(r.newest_patch(1, 22).as_deref(), Some("v1.22.3"));
        assert_eq!(r.newest_patch(1, 30), None);
        assert_eq!(Release::new("v1.30.1").tunnel_lock(), TunnelLock::Global);
        assert_eq!(Release::new("v1.24.0").tunnel_lock(), TunnelLock::None);
    }
}
