//! The command lines stages run, built in one place so the dry-run shows exactly what the
//! live run executes (stages call these builders too).

use std::fmt;

use serde::Serialize;

use crate::cluster::minikube::StartArgs;
use crate::compat::{Version, istio};
use crate::scenario::{JwtPolicy, Method, Scenario};

/// Placeholder for the JWT policy the mesh stage detects from the API server's discovery.
pub const JWT_DETECTED: &str = "<detected>";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandLine {
    pub program: String,
    pub args: Vec<String>,
    /// What happens around it (output saved to a file, runs in the background, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl CommandLine {
    pub fn new<I, S>(program: &str, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        CommandLine {
            program: program.to_string(),
            args: args.into_iter().map(Into::into).collect(),
            note: None,
        }
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

impl fmt::Display for CommandLine {
    /// Shell-quoted, so it can be pasted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.program)?;
        for a in &self.args {
            // `<detected>` is a placeholder, shown as is rather than quoted.
            if a.contains(JWT_DETECTED) {
                write!(f, " {a}")?;
            } else {
                write!(f, " {}", shell_escape::unix::escape(a.into()))?;
            }
        }
        Ok(())
    }
}

/// What the cluster stage passes to `minikube start` (cluster::minikube builds the argv, so
/// the dry-run and the live run cannot drift apart).
pub fn start_args(s: &Scenario, kubernetes: &Version) -> StartArgs {
    let c = &s.cluster;
    StartArgs {
        kubernetes: kubernetes.v(),
        cpus: c.cpus.to_string(),
        memory: c.memory.minikube_arg(),
        driver: c.driver.clone(),
        extra: c.extra_args.clone(),
    }
}

/// `minikube start -p P --kubernetes-version=V --cpus=N --memory=Mmb [--driver=D] [extra] -o json`
pub fn minikube_start(s: &Scenario, kubernetes: &Version) -> CommandLine {
    CommandLine::new(
        "minikube",
        start_args(s, kubernetes).to_args(&s.cluster.profile),
    )
}

pub fn minikube_tunnel(s: &Scenario) -> CommandLine {
    CommandLine::new("minikube", ["tunnel", "-p", &s.cluster.profile])
}

/// The `--set` arguments: the profile first, then the scenario's overrides in order, then the
/// JWT policy (explicit, or detected at install) where the Istio version still has it.
pub fn istio_sets(s: &Scenario, istio_version: &Version, jwt: Option<&str>) -> Vec<String> {
    let mut args = vec!["--set".to_string(), format!("profile={}", s.mesh.profile)];
    for (k, v) in &s.mesh.set {
        args.push("--set".to_string());
        args.push(format!("{k}={v}"));
    }
    if istio::shape(istio_version).jwt_policy_value {
        let policy = match (s.mesh.jwt_policy, jwt) {
            (JwtPolicy::Auto, Some(detected)) => detected.to_string(),
            (JwtPolicy::Auto, None) => JWT_DETECTED.to_string(),
            (explicit, _) => explicit.as_str().to_string(),
        };
        args.push("--set".to_string());
        args.push(format!("values.global.jwtPolicy={policy}"));
    }
    args
}

/// The mesh stage's commands: `istioctl manifest apply` (1.5) / `istioctl install` (1.6+),
/// always `-y` (without it istioctl reads stdin, gets EOF and exits 1 with "Cancelled."),
/// always naming the profile's context; or, for `method: manifest`, generate + kubectl apply.
pub fn mesh_install(s: &Scenario, istio_version: &Version, jwt: Option<&str>) -> Vec<CommandLine> {
    let context = s.cluster.profile.clone();
    let sets = istio_sets(s, istio_version, jwt);
    match s.mesh.method {
        Method::Istioctl => {
            let mut args: Vec<String> = istio::shape(istio_version)
                .install_argv
                .iter()
                .map(|a| a.to_string())
                .collect();
            args.push("-y".to_string());
            args.extend(sets);
            args.push("--context".to_string());
            args.push(context);
            vec![CommandLine::new("istioctl", args)]
        }
        Method::Manifest => {
            let mut gen_args = vec!["manifest".to_string(), "generate".to_string()];
            gen_args.extend(sets);
            vec![
                CommandLine::new("istioctl", gen_args)
                    .note("output saved as manifest.yaml in the profile's state dir"),
                CommandLine::new(
                    "kubectl",
                    ["--context", &context, "create", "namespace", "istio-system"],
                )
                .note("skipped when it exists"),
                CommandLine::new(
                    "kubectl",
                    ["--context", &context, "apply", "-f", "manifest.yaml"],
                ),
            ]
        }
    }
}

/// Read-only queries probing runs (and the only programs a dry-run runs).
pub fn version_queries() -> Vec<CommandLine> {
    vec![
        CommandLine::new("minikube", ["version", "-o", "json"]),
        CommandLine::new("istioctl", ["version", "--remote=false", "-o", "json"]),
        CommandLine::new("docker", ["info", "--format", "{{json .}}"]),
    ]
}
