//! `minikube status`: the node block or JSON, `--layout=cluster`, and the 1|2|4 exit bitmask.

use serde_json::{Value, json};

use crate::control::{ClusterInfo, ClusterState};
use crate::fakes::common::{Args, Env};

use super::cmds::{control_or_exit, not_found};
use super::profile;
use super::release::Release;

struct NodeStatus {
    host: &'static str,
    kubelet: &'static str,
    apiserver: &'static str,
    kubeconfig: &'static str,
}

/// The last step `start` logged (events.json), to tell how far an interrupted start got.
pub(super) fn last_step(profile: &str) -> Option<(u32, String)> {
    let text = std::fs::read_to_string(profile::profile_dir(profile).join("events.json")).ok()?;
    text.lines().rev().find_map(|l| {
        let v: Value = serde_json::from_str(l).ok()?;
        (v["type"] == "io.k8s.sigs.minikube.step").then(|| {
            (
                v["data"]["currentstep"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0),
                v["data"]["name"].as_str().unwrap_or("").to_string(),
            )
        })
    })
}

fn node_status(profile: &str, cluster: Option<&ClusterInfo>) -> NodeStatus {
    match cluster {
        Some(c) if c.state == ClusterState::Running => {
            let configured = c.server.is_some() && profile::kubeconfig_server(profile) == c.server;
            NodeStatus {
                host: "Running",
                kubelet: "Running",
                apiserver: "Running",
                kubeconfig: if configured {
                    "Configured"
                } else {
                    "Misconfigured"
                },
            }
        }
        Some(_) => NodeStatus {
            host: "Stopped",
            kubelet: "Stopped",
            apiserver: "Stopped",
            kubeconfig: "Stopped",
        },
        // A start that died after creating the container leaves it running without Kubernetes.
        None if last_step(profile).is_some_and(|(_, name)| {
            let registry = super::release::START_STEPS;
            let at = |n: &str| registry.iter().position(|s| *s == n);
            at(&name) >= at("Creating Container")
        }) =>
        {
            NodeStatus {
                host: "Running",
                kubelet: "Stopped",
                apiserver: "Stopped",
                kubeconfig: "Misconfigured",
            }
        }
        None => NodeStatus {
            host: "Nonexistent",
            kubelet: "Nonexistent",
            apiserver: "Nonexistent",
            kubeconfig: "Nonexistent",
        },
    }
}

fn exit_bits(s: &NodeStatus) -> i32 {
    let mut c = 0;
    if s.host != "Running" {
        c |= 1;
    }
    if s.apiserver != "Running" || s.kubelet != "Running" {
        c |= 2;
    }
    if s.kubeconfig != "Configured" {
        c |= 4;
    }
    c
}

/// `--layout=cluster` codes (cluster/status.go).
fn code_of(state: &str) -> (u16, &'static str) {
    match state {
        "Running" | "Configured" => (200, "OK"),
        "Stopped" => (405, "Stopped"),
        "Paused" => (418, "Paused"),
        "Nonexistent" => (404, "NotFound"),
        "Misconfigured" => (500, "Error"),
        _ => (520, "Unknown"),
    }
}

/// `status --layout=cluster -o json`: while a start is in flight (events.json ends in a
/// step that is not Done) the cluster reports 100 Starting with that step.
fn cluster_layout(rel: &Release, profile: &str, s: &NodeStatus, running_in_world: bool) -> Value {
    let comp = |name: &str, state: &str| {
        let (code, status) = code_of(state);
        json!({"Name": name, "StatusCode": code, "StatusName": status})
    };
    let (mut code, mut name) = code_of(s.apiserver);
    let (mut step, mut detail) = (String::new(), String::new());
    if !running_in_world && let Some((_, n)) = last_step(profile).filter(|(_, n)| n != "Done") {
        (code, name) = (100, "Starting");
        step = n;
        detail = "interrupted".into();
    }
    json!({
        "Name": profile,
        "StatusCode": code,
        "StatusName": name,
        "Step": step,
        "StepDetail": detail,
        "BinaryVersion": rel.version,
        "Components": {"kubeconfig": comp("kubeconfig", s.kubeconfig)},
        "Nodes": [{
            "Name": profile,
            "StatusCode": code_of(s.host).0,
            "StatusName": code_of(s.host).1,
            "Components": {"apiserver": comp("apiserver", s.apiserver), "kubelet": comp("kubelet", s.kubelet)}
        }]
    })
}

pub fn status(env: &Env, rel: &Release, profile: &str, args: &Args) -> i32 {
    if profile::load(profile).is_none() {
        return not_found(profile);
    }
    let control = match control_or_exit(env) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let cluster = control.cluster(profile).ok().flatten();
    let s = node_status(profile, cluster.as_ref());
    if let Some(f) = args.get(&["-f", "--format"]) {
        let out = f
            .replace("{{.Name}}", profile)
            .replace("{{.Host}}", s.host)
            .replace("{{.Kubelet}}", s.kubelet)
            .replace("{{.APIServer}}", s.apiserver)
            .replace("{{.Kubeconfig}}", s.kubeconfig);
        print!("{out}");
    } else if args.get(&["-o", "--output"]) == Some("json")
        && args.get(&["--layout"]) == Some("cluster")
    {
        let running = cluster
            .as_ref()
            .is_some_and(|c| c.state == ClusterState::Running);
        println!("{}", cluster_layout(rel, profile, &s, running));
    } else if args.get(&["-o", "--output"]) == Some("json") {
        println!(
            "{}",
            json!({"Name": profile, "Host": s.host, "Kubelet": s.kubelet, "APIServer": s.apiserver, "Kubeconfig": s.kubeconfig, "Worker": false})
        );
    } else {
        print!(
            "{profile}\ntype: Control Plane\nhost: {}\nkubelet: {}\napiserver: {}\nkubeconfig: {}\n\n",
            s.host, s.kubelet, s.apiserver, s.kubeconfig
        );
        if s.kubeconfig == "Misconfigured" {
            println!(
                "WARNING: Your kubectl is pointing to stale minikube-vm.\nTo fix the kubectl context, run `minikube update-context`"
            );
        }
    }
    exit_bits(&s)
}
