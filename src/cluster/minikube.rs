//! minikube, driven through `exec`. Every call names the profile and turns off the update nag;
//! machine-readable output (`-o json`) is used wherever minikube offers it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{ExitKind, Failure};
use crate::exec::{Cmd, ExecError, Stream};

use super::advice;
use super::events::{MinikubeError, MinikubeEvent, parse_line};
use super::status::{ClusterState, ProfileInfo, parse_profile_list, parse_status};

const QUERY_TIMEOUT: Duration = Duration::from_secs(60);
/// minikube waits up to 6 minutes per component itself (`--wait-timeout`); pulling images on a
/// slow line comes on top.
const START_TIMEOUT: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, Clone)]
pub struct Minikube {
    bin: PathBuf,
    profile: String,
    kubeconfig: Option<PathBuf>,
    path: Option<std::ffi::OsString>,
}

/// What `minikube start` is asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct StartArgs {
    pub kubernetes: String,
    /// `4` or `max`.
    pub cpus: String,
    /// `8192mb` or `max`.
    pub memory: String,
    pub driver: Option<String>,
    pub extra: Vec<String>,
}

impl StartArgs {
    pub fn to_args(&self, profile: &str) -> Vec<String> {
        let mut args = vec![
            "start".to_owned(),
            "-p".to_owned(),
            profile.to_owned(),
            format!("--kubernetes-version={}", self.kubernetes),
            format!("--cpus={}", self.cpus),
            format!("--memory={}", self.memory),
        ];
        if let Some(driver) = &self.driver {
            args.push(format!("--driver={driver}"));
        }
        args.extend(self.extra.iter().cloned());
        args.extend(["-o".to_owned(), "json".to_owned()]);
        args
    }
}

impl Minikube {
    pub fn new(bin: impl Into<PathBuf>, profile: impl Into<String>) -> Minikube {
        Minikube {
            bin: bin.into(),
            profile: profile.into(),
            kubeconfig: None,
            path: None,
        }
    }

    /// PATH for minikube and what it runs (the tools meshup brought come first).
    pub fn with_path(mut self, path: std::ffi::OsString) -> Minikube {
        self.path = Some(path);
        self
    }

    /// Keep this profile's kube context in its own file instead of the user's kubeconfig.
    pub fn with_kubeconfig(mut self, path: impl Into<PathBuf>) -> Minikube {
        self.kubeconfig = Some(path.into());
        self
    }

    pub fn bin(&self) -> &Path {
        &self.bin
    }

    pub fn profile(&self) -> &str {
        &self.profile
    }

    pub fn command<I, S>(&self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = base_command(&self.bin).args(args);
        if let Some(path) = &self.kubeconfig {
            cmd = cmd.env("KUBECONFIG", path);
        }
        if let Some(path) = &self.path {
            cmd = cmd.env("PATH", path);
        }
        cmd
    }

    /// `minikube version -o json` → `v1.38.1`.
    pub async fn version(bin: &Path) -> Result<String, ExecError> {
        let out = base_command(bin)
            .args(["version", "-o", "json"])
            .run()
            .await?;
        Ok(parse_version(&out.stdout).unwrap_or_default())
    }

    pub async fn status(&self) -> Result<ClusterState, ExecError> {
        let out = self
            .command(["status", "-p", &self.profile, "-o", "json"])
            .run_unchecked()
            .await?;
        Ok(parse_status(&out.stdout, out.status.code))
    }

    /// This profile as `profile list` describes it (None when minikube does not list it).
    pub async fn profile_info(&self) -> Result<Option<ProfileInfo>, ExecError> {
        Ok(self
            .profiles()
            .await?
            .into_iter()
            .find(|p| p.name == self.profile))
    }

    pub async fn profiles(&self) -> Result<Vec<ProfileInfo>, ExecError> {
        let cmd = self.command(["profile", "list", "-o", "json"]);
        let out = cmd.run_unchecked().await?;
        // With no profiles at all some releases exit non-zero; the JSON is still there.
        match parse_profile_list(&out.stdout) {
            Ok(list) => Ok(list),
            Err(_) if out.status.success() => Ok(Vec::new()),
            Err(_)
                if out.stdout.trim().is_empty() && out.stderr.contains("No minikube profile") =>
            {
                Ok(Vec::new())
            }
            Err(_) => Err(ExecError::failed(&cmd, out)),
        }
    }

    /// Runs `minikube start`, handing every event to `on_event`. A failure carries minikube's
    /// reason id, exit code and advice, plus meshup's, and exits 5.
    pub async fn start(
        &self,
        args: &StartArgs,
        mut on_event: impl FnMut(&MinikubeEvent) + Send,
    ) -> anyhow::Result<()> {
        let cmd = self
            .command(args.to_args(&self.profile))
            .timeout(START_TIMEOUT);
        let mut last_error: Option<MinikubeError> = None;
        let result = cmd
            .stream(|line| {
                if line.stream != Stream::Stdout {
                    return;
                }
                if let Some(event) = parse_line(line.text) {
                    if let MinikubeEvent::Error(e) = &event {
                        last_error = Some(e.clone());
                    }
                    on_event(&event);
                }
            })
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err @ ExecError::Failed { .. }) => {
                let code = err.output().and_then(|o| o.status.code);
                Err(start_failure(&self.profile, last_error, code, err).into())
            }
            Err(err @ ExecError::Cancelled { .. }) => Err(err.into()),
            Err(err) => Err(Failure::new(
                ExitKind::Cluster,
                format!("minikube could not start profile `{}`: {err}", self.profile),
            )
            .into()),
        }
    }

    pub async fn stop(&self) -> Result<(), ExecError> {
        self.command(["stop", "-p", &self.profile])
            .timeout(Duration::from_secs(10 * 60))
            .run()
            .await
            .map(drop)
    }

    pub async fn delete(&self) -> Result<(), ExecError> {
        self.command(["delete", "-p", &self.profile])
            .timeout(Duration::from_secs(10 * 60))
            .run()
            .await
            .map(drop)
    }

    pub async fn ip(&self) -> Result<String, ExecError> {
        let out = self.command(["ip", "-p", &self.profile]).run().await?;
        Ok(out.stdout.trim().to_owned())
    }
}

/// Every minikube call: no "minikube X is available" nag mixed into output meshup parses.
fn base_command(bin: &Path) -> Cmd {
    Cmd::new(bin)
        .env("MINIKUBE_WANTUPDATENOTIFICATION", "false")
        .timeout(QUERY_TIMEOUT)
}

pub fn parse_version(stdout: &str) -> Option<String> {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(stdout.trim()) {
        return v["minikubeVersion"].as_str().map(String::from);
    }
    // `minikube version: v1.38.1` (text) or `v1.38.1` (--short).
    stdout
        .lines()
        .map(|l| l.trim().trim_start_matches("minikube version:").trim())
        .find(|l| l.starts_with('v'))
        .map(String::from)
}

fn start_failure(
    profile: &str,
    event: Option<MinikubeError>,
    exit_code: Option<i32>,
    err: ExecError,
) -> Failure {
    let Some(event) = event else {
        return Failure::new(
            ExitKind::Cluster,
            format!("minikube could not start profile `{profile}`: {err}"),
        )
        .details(serde_json::json!({ "minikubeExitCode": exit_code }))
        .hint(
            advice::for_start_failure(None, exit_code)
                .unwrap_or(
                    "run `minikube logs -p <profile>` to see why, or `meshup start --recreate`",
                )
                .replace("<profile>", profile),
        );
    };
    let code = event.exit_code.or(exit_code);
    let reason = event.reason.clone();
    let mut failure = Failure::new(
        ExitKind::Cluster,
        format!(
            "minikube could not start profile `{profile}`: {} ({}, minikube exit code {})",
            event.message.trim(),
            reason.as_deref().unwrap_or("no reason id"),
            code.map_or("unknown".into(), |c| c.to_string()),
        ),
    )
    .details(serde_json::json!({
        "minikubeReason": reason,
        "minikubeExitCode": code,
        "minikubeAdvice": event.advice,
        "issues": event.issues,
    }));
    if let Some(advice) = event.advice.as_deref() {
        failure = failure.hint(format!("minikube says: {}", advice.trim()));
    }
    if let Some(advice) = advice::for_start_failure(reason.as_deref(), code) {
        failure = failure.hint(advice.replace("<profile>", profile));
    }
    failure
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_args_are_minikube_flags() {
        let args = StartArgs {
            kubernetes: "v1.15.10".into(),
            cpus: "4".into(),
            memory: "8192mb".into(),
            driver: Some("docker".into()),
            extra: vec!["--wait=all".into()],
        };
        assert_eq!(
            args.to_args("meshup").join(" "),
            "start -p meshup --kubernetes-version=v1.15.10 --cpus=4 --memory=8192mb --driver=docker --wait=all -o json"
        );
    }

    #[test]
    fn versions_in_every_format() {
        assert_eq!(
            parse_version(r#"{"commit":"abc","minikubeVersion":"v1.38.1"}"#).as_deref(),
            Some("v1.38.1")
        );
        assert_eq!(
            parse_version("minikube version: v1.24.0\ncommit: 76b94fb\n").as_deref(),
            Some("v1.24.0")
        );
        assert_eq!(parse_version("v1.24.0\n").as_deref(), Some("v1.24.0"));
    }
}
