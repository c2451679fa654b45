//! istioctl's command line per era (research/istio.md §0, §1.1, §9): 1.5 installs with
//! `manifest apply` (it has no `install`) and needs `--set profile=...`; 1.6+ with `install`.
//! Always `-y` (a prompt reading an empty stdin is `Cancelled.`, exit 1), always the profile's
//! context (`--context`, never current-context), the overrides in the scenario's order, and the
//! JWT policy meshup decided.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::compat::Version;
use crate::compat::istio::shape;
use crate::exec::Cmd;

/// Everything that decides what istioctl renders and installs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub istio: Version,
    pub profile: String,
    /// `--set path=value`, in order (never `profile` or `values.global.jwtPolicy`).
    pub set: Vec<(String, String)>,
    /// `values.global.jwtPolicy`, where the version has it.
    pub jwt_policy: Option<String>,
}

impl Request {
    /// `--set profile=P --set k=v ... --set values.global.jwtPolicy=J`.
    pub fn set_args(&self) -> Vec<String> {
        let mut out = vec!["--set".to_string(), format!("profile={}", self.profile)];
        for (k, v) in &self.set {
            out.extend(["--set".to_string(), format!("{k}={v}")]);
        }
        if let Some(j) = &self.jwt_policy {
            out.extend(["--set".to_string(), format!("values.global.jwtPolicy={j}")]);
        }
        out
    }
}

/// Where and how istioctl runs.
#[derive(Debug, Clone)]
pub struct Target {
    pub istioctl: PathBuf,
    pub context: String,
    pub kubeconfig: Option<PathBuf>,
    /// PATH for istioctl: the tools meshup brought first (1.5 runs `kubectl` from it).
    pub path: Option<OsString>,
    /// istioctl's `--readiness-timeout` per component (1.6+; 1.5 reads it only with `--wait`,
    /// research/istio.md §1.1): the scenario's check timeout.
    pub readiness_timeout: Option<Duration>,
}

/// A Go duration (`300s`, `1500ms`).
fn go_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// `install -y ...` / `manifest apply -y ...` without the program.
pub fn install_argv(r: &Request, t: &Target) -> Vec<String> {
    let mut argv: Vec<String> = shape(&r.istio)
        .install_argv
        .iter()
        .map(|s| s.to_string())
        .collect();
    argv.push("-y".into());
    argv.extend(r.set_args());
    if let Some(t) = t.readiness_timeout
        && r.istio.minor() >= crate::compat::Minor::new(1, 6)
    {
        argv.extend(["--readiness-timeout".into(), go_duration(t)]);
    }
    argv.extend(["--context".into(), t.context.clone()]);
    if let Some(kc) = &t.kubeconfig {
        argv.extend(["--kubeconfig".into(), kc.display().to_string()]);
    }
    argv
}

/// `manifest generate ...`: the same manifest, rendered without touching the cluster.
pub fn generate_argv(r: &Request) -> Vec<String> {
    let mut argv = vec!["manifest".to_string(), "generate".to_string()];
    argv.extend(r.set_args());
    argv
}

fn cmd(program: &Path, argv: &[String], path: Option<&OsString>) -> Cmd {
    let mut c = Cmd::new(program).args(argv);
    if let Some(p) = path {
        c = c.env("PATH", p);
    }
    c
}

pub fn install_cmd(r: &Request, t: &Target, timeout: Duration) -> Cmd {
    cmd(&t.istioctl, &install_argv(r, t), t.path.as_ref()).timeout(timeout)
}

pub fn generate_cmd(r: &Request, t: &Target) -> Cmd {
    cmd(&t.istioctl, &generate_argv(r), t.path.as_ref()).timeout(Duration::from_secs(120))
}

/// Istio 1.5's `manifest apply` runs `kubectl apply` from PATH: the first `kubectl` there.
pub fn kubectl_on(path: Option<&OsString>) -> Option<PathBuf> {
    let path = path.cloned().or_else(|| std::env::var_os("PATH"))?;
    std::env::split_paths(&path)
        .map(|d| d.join("kubectl"))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compat::version::v;

    fn req(istio: &str, jwt: Option<&str>) -> Request {
        Request {
            istio: v(istio),
            profile: "default".into(),
            set: vec![
                (
                    "values.global.proxy.accessLogEncoding".into(),
                    "JSON".into(),
                ),
                (
                    "values.global.proxy.accessLogFile".into(),
                    "/dev/stdout".into(),
                ),
            ],
            jwt_policy: jwt.map(String::from),
        }
    }

    fn target() -> Target {
        Target {
            istioctl: "/cache/istioctl".into(),
            context: "meshup".into(),
            kubeconfig: None,
            path: None,
            readiness_timeout: None,
        }
    }

    #[test]
    fn istio_1_5_applies_with_the_profile_and_policy() {
        assert_eq!(
            install_argv(&req("1.5.0", Some("first-party-jwt")), &target()).join(" "),
            "manifest apply -y --set profile=default --set values.global.proxy.accessLogEncoding=JSON \
             --set values.global.proxy.accessLogFile=/dev/stdout --set values.global.jwtPolicy=first-party-jwt --context meshup"
        );
    }

    #[test]
    fn newer_istio_installs() {
        let mut r = req("1.30.5", None);
        r.set.clear();
        let mut t = target();
        t.kubeconfig = Some("/state/kubeconfig".into());
        t.readiness_timeout = Some(Duration::from_millis(1500));
        assert_eq!(
            install_argv(&r, &t).join(" "),
            "install -y --set profile=default --readiness-timeout 1500ms --context meshup --kubeconfig /state/kubeconfig"
        );
        assert_eq!(
            generate_argv(&r).join(" "),
            "manifest generate --set profile=default"
        );
    }
}
