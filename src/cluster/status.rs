//! What minikube says about existing clusters: `status -o json` (exit code = a 1|2|4 bitmask,
//! 85 for a missing profile) and `profile list -o json` (research/minikube.md §4).

use serde::Deserialize;

/// `minikube status -p P -o json`'s exit code for a profile that does not exist.
pub const EXIT_PROFILE_NOT_FOUND: i32 = 85;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum ClusterState {
    /// No such profile.
    Missing,
    /// Host, kubelet and API server running.
    Running,
    Stopped,
    Paused,
    /// Anything partial: a half-created profile, a host up with the API server down, ...
    Degraded(String),
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct NodeStatus {
    #[serde(default)]
    name: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    kubelet: String,
    #[serde(rename = "APIServer", default)]
    apiserver: String,
    #[serde(default)]
    worker: bool,
}

/// Reads `status -o json` output and its exit code. A single node is a bare object; several are
/// an array (the control plane decides).
pub fn parse_status(stdout: &str, exit_code: Option<i32>) -> ClusterState {
    if exit_code == Some(EXIT_PROFILE_NOT_FOUND) {
        return ClusterState::Missing;
    }
    let nodes: Vec<NodeStatus> = match serde_json::from_str::<serde_json::Value>(stdout.trim()) {
        Ok(v @ serde_json::Value::Array(_)) => serde_json::from_value(v).unwrap_or_default(),
        Ok(v) => serde_json::from_value(v)
            .map(|n| vec![n])
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let Some(control) = nodes.iter().find(|n| !n.worker).or(nodes.first()) else {
        return ClusterState::Degraded(format!(
            "minikube status printed no node (exit code {})",
            exit_code.map_or("none".into(), |c| c.to_string())
        ));
    };
    match (
        control.host.as_str(),
        control.kubelet.as_str(),
        control.apiserver.as_str(),
    ) {
        ("Running", "Running", "Running") => ClusterState::Running,
        // The profile exists (a missing one exits 85, above) but its machine does not: a
        // start interrupted before the container was created. Not missing: `start` must
        // compare its settings, and `down` must delete it.
        ("Nonexistent", ..) => {
            ClusterState::Degraded("half-created: its machine does not exist yet".into())
        }
        ("Stopped", _, _) => ClusterState::Stopped,
        (_, _, "Paused") => ClusterState::Paused,
        (host, kubelet, api) => ClusterState::Degraded(format!(
            "{}: host {host}, kubelet {kubelet}, apiserver {api}",
            if control.name.is_empty() {
                "node"
            } else {
                &control.name
            }
        )),
    }
}

/// A profile as `profile list -o json` describes it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProfileInfo {
    pub name: String,
    pub status: String,
    pub driver: String,
    pub cpus: u32,
    pub memory_mb: u64,
    pub kubernetes_version: String,
    pub service_cidr: String,
    pub node_ip: Option<String>,
}

#[derive(Deserialize)]
struct ProfileList {
    #[serde(default)]
    valid: Vec<RawProfile>,
    #[serde(default)]
    invalid: Vec<RawProfile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawProfile {
    name: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    config: Option<RawConfig>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct RawConfig {
    memory: u64,
    #[serde(rename = "CPUs")]
    cpus: u32,
    driver: String,
    kubernetes_config: RawKubernetesConfig,
    nodes: Vec<RawNode>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct RawKubernetesConfig {
    kubernetes_version: String,
    #[serde(rename = "ServiceCIDR")]
    service_cidr: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct RawNode {
    #[serde(rename = "IP")]
    ip: String,
    control_plane: bool,
}

/// Valid and invalid profiles alike: an invalid one (a half-created cluster) still needs a
/// recreate rather than a fresh `start`.
pub fn parse_profile_list(stdout: &str) -> Result<Vec<ProfileInfo>, serde_json::Error> {
    let list: ProfileList = serde_json::from_str(stdout.trim())?;
    Ok(list
        .valid
        .into_iter()
        .chain(list.invalid)
        .map(|p| info(p.name, p.status, p.config.unwrap_or_default()))
        .collect())
}

/// A profile from its own `config.json` (`$MINIKUBE_HOME/profiles/<name>/config.json`, which
/// `profile list` reads): no status, but no minikube run either.
pub fn parse_profile_config(name: &str, json: &str) -> Result<ProfileInfo, serde_json::Error> {
    Ok(info(
        name.to_owned(),
        String::new(),
        serde_json::from_str(json)?,
    ))
}

fn info(name: String, status: String, c: RawConfig) -> ProfileInfo {
    let node_ip = c
        .nodes
        .iter()
        .find(|n| n.control_plane)
        .or(c.nodes.first())
        .map(|n| n.ip.clone())
        .filter(|ip| !ip.is_empty());
    ProfileInfo {
        name,
        status,
        driver: c.driver,
        cpus: c.cpus,
        memory_mb: c.memory,
        kubernetes_version: c.kubernetes_config.kubernetes_version,
        service_cidr: c.kubernetes_config.service_cidr,
        node_ip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_states() {
        let running = r#"{"Name":"meshup","Host":"Running","Kubelet":"Running","APIServer":"Running","Kubeconfig":"Configured","Worker":false}"#;
        assert_eq!(parse_status(running, Some(0)), ClusterState::Running);
        let stopped = r#"{"Name":"meshup","Host":"Stopped","Kubelet":"Stopped","APIServer":"Stopped","Kubeconfig":"Stopped","Worker":false}"#;
        assert_eq!(parse_status(stopped, Some(7)), ClusterState::Stopped);
        // v1.7-era shape without Name/Worker.
        let paused = r#"{"Host":"Running","Kubelet":"Stopped","APIServer":"Paused","Kubeconfig":"Configured"}"#;
        assert_eq!(parse_status(paused, Some(2)), ClusterState::Paused);
        let half = r#"{"Name":"meshup","Host":"Running","Kubelet":"Stopped","APIServer":"Stopped","Kubeconfig":"Misconfigured","Worker":false}"#;
        assert!(matches!(
            parse_status(half, Some(6)),
            ClusterState::Degraded(_)
        ));
        assert_eq!(parse_status("", Some(85)), ClusterState::Missing);
        let half = r#"{"Name":"meshup","Host":"Nonexistent","Kubelet":"Nonexistent","APIServer":"Nonexistent","Kubeconfig":"Nonexistent","Worker":false}"#;
        assert!(matches!(
            parse_status(half, Some(7)),
            ClusterState::Degraded(_)
        ));
        assert_eq!(parse_status(half, Some(85)), ClusterState::Missing);
    }

    #[test]
    fn multi_node_status_follows_the_control_plane() {
        let nodes = r#"[{"Name":"m","Host":"Running","Kubelet":"Running","APIServer":"Running","Kubeconfig":"Configured","Worker":false},{"Name":"m-m02","Host":"Stopped","Kubelet":"Stopped","APIServer":"Irrelevant","Kubeconfig":"Irrelevant","Worker":true}]"#;
        assert_eq!(parse_status(nodes, Some(3)), ClusterState::Running);
    }

    #[test]
    fn profile_list_reads_the_config() {
        let json = r#"{"invalid":[{"Name":"broken","Status":"Unknown","Config":null}],"valid":[{"Name":"meshup","Status":"OK","Config":{"Name":"meshup","KeepContext":false,"Memory":8192,"CPUs":4,"DiskSize":20000,"Driver":"docker","KubernetesConfig":{"KubernetesVersion":"v1.15.10","ClusterName":"meshup","ServiceCIDR":"10.96.0.0/12"},"Nodes":[{"Name":"","IP":"192.168.49.2","Port":8443,"KubernetesVersion":"v1.15.10","ControlPlane":true,"Worker":true}]},"Active":false,"ActiveKubeContext":true}]}"#;
        let profiles = parse_profile_list(json).unwrap();
        assert_eq!(profiles.len(), 2);
        let p = &profiles[0];
        assert_eq!(
            (p.name.as_str(), p.cpus, p.memory_mb, p.driver.as_str()),
            ("meshup", 4, 8192, "docker")
        );
        assert_eq!(p.kubernetes_version, "v1.15.10");
        assert_eq!(p.node_ip.as_deref(), Some("192.168.49.2"));
        assert_eq!(profiles[1].name, "broken");
    }
}
