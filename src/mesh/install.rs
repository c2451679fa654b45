//! Make the cluster's mesh match the scenario, doing as little as possible: decide the JWT
//! policy, render the manifest (`manifest generate`, read-only — it also validates the
//! overrides), compare with the record, then install with the version's command (or apply the
//! rendered manifest, `method: manifest`), and record exactly what was applied.
//!
//! - nothing recorded → install;
//! - the same Istio, profile, overrides, policy and method recorded, istiod still there → skip;
//! - the same Istio, other profile/overrides → show the diff of recorded vs desired manifest,
//!   apply only with consent (`--yes` or a yes on the terminal);
//! - one Istio minor up → an in-place upgrade, shown as a plan, after consent;
//! - any other version change (downgrade, several minors) → refused with the way out
//!   (`meshup down --mesh-only` first): never a silent mixed-version mesh.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use tokio_util::sync::CancellationToken;

use super::command::{self, Request, Target};
use super::progress::{Event, Parser};
use super::{diff, jwt, record};
use crate::compat::Version;
use crate::error::{ExitKind, Failure};
use crate::exec::ExecError;
use crate::scenario::model::{Mesh, Method};
use crate::state::ProfileState;

/// How the stage reports (the engine's StageCx in production, a Vec in tests).
pub trait MeshProgress: Send {
    fn info(&mut self, message: &str);
    fn warn(&mut self, message: &str);
}

/// Everything the mesh needs from the run.
pub struct Setup<'a> {
    pub mesh: &'a Mesh,
    pub istio: Version,
    pub target: Target,
    pub state: &'a ProfileState,
    pub cancel: CancellationToken,
    /// How long istioctl may take for the whole install.
    pub timeout: Duration,
    /// `--yes`: a changed mesh is applied without asking.
    pub yes: bool,
    /// Asks the user (None when nobody can answer: no TTY, CI).
    pub ask: Option<&'a (dyn Fn(&str) -> bool + Sync)>,
    /// `--recreate-mesh`: a version change that cannot be an in-place upgrade removes what the
    /// record says was installed, then installs.
    pub recreate: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Outcome {
    /// "installed", "unchanged", "changed", "upgraded", "installed again".
    pub done: &'static str,
    pub istio: String,
    pub profile: String,
    pub jwt_policy: Option<String>,
    /// The istioctl command that ran (None when nothing ran).
    pub command: Option<String>,
}

fn method_name(m: Method) -> &'static str {
    match m {
        Method::Istioctl => "istioctl",
        Method::Manifest => "manifest",
    }
}

/// The request this scenario makes of this cluster (JWT policy decided from discovery).
pub async fn request(
    setup: &Setup<'_>,
    client: &kube::Client,
    progress: &mut dyn MeshProgress,
) -> anyhow::Result<(Request, jwt::Decision)> {
    let served = jwt::token_request_served(client).await?;
    let decision = jwt::decide(&setup.istio, setup.mesh.jwt_policy, served)?;
    if decision.why.contains("warning") {
        progress.warn(&decision.why);
    } else {
        progress.info(&decision.why);
    }
    let r = Request {
        istio: setup.istio.clone(),
        profile: setup.mesh.profile.clone(),
        set: setup
            .mesh
            .set
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        jwt_policy: decision.value.map(String::from),
    };
    Ok((r, decision))
}

/// `istioctl manifest generate` for the request: the manifest the record keeps. istioctl
/// rejecting an override here is bad input (exit 2): nothing was installed.
pub async fn render(r: &Request, t: &Target, cancel: &CancellationToken) -> anyhow::Result<String> {
    let cmd = command::generate_cmd(r, t).cancel_on(cancel.clone());
    match cmd.run().await {
        Ok(out) => Ok(out.stdout),
        Err(ExecError::Failed {
            output, command, ..
        }) => {
            let stderr = super::progress::strip_ansi(&output.stderr);
            let bad_input = stderr.contains("unknown field") || stderr.contains("unknown value");
            let msg = stderr
                .lines()
                .filter(|l| !l.trim().is_empty())
                .collect::<Vec<_>>()
                .join("\n");
            let kind = if bad_input {
                ExitKind::Usage
            } else {
                ExitKind::Mesh
            };
            Err(Failure::new(
                kind,
                format!("istioctl {} rejected the mesh settings: {msg}", r.istio),
            )
            .hint(format!("the command was: {command}"))
            .hint("check each `--set` path against `meshup istio profile dump` for this version")
            .into())
        }
        Err(e) => Err(e.into()),
    }
}

async fn istiod_present(client: &kube::Client) -> bool {
    let api: Api<Deployment> = Api::namespaced(client.clone(), "istio-system");
    matches!(api.get_opt("istiod").await, Ok(Some(_)))
}

pub async fn ensure(
    setup: &Setup<'_>,
    client: &kube::Client,
    progress: &mut dyn MeshProgress,
) -> anyhow::Result<Outcome> {
    let method = method_name(setup.mesh.method);
    let (r, _decision) = request(setup, client, progress).await?;
    if setup.istio.minor() <= crate::compat::Minor::new(1, 5)
        && setup.mesh.method == Method::Istioctl
    {
        kubectl_for_1_5(setup, client).await?;
    }
    let manifest = render(&r, &setup.target, &setup.cancel).await?;
    let outcome = |done, command: Option<String>| Outcome {
        done,
        istio: r.istio.to_string(),
        profile: r.profile.clone(),
        jwt_policy: r.jwt_policy.clone(),
        command,
    };
    let mut done = "installed";
    if let Some((rec, recorded_manifest)) = record::load(setup.state)? {
        let present = istiod_present(client).await;
        if rec.matches(&r, method) && present {
            progress.info(&format!(
                "Istio {} (`{}` profile) is installed as recorded: nothing to do",
                rec.istio, rec.profile
            ));
            return Ok(outcome("unchanged", None));
        }
        if !present {
            progress.warn(
                "the recorded mesh is gone from the cluster (no istiod): installing it again",
            );
            done = "installed again";
        } else if rec.istio != r.istio.to_string() {
            let from = Version::parse(&rec.istio);
            let one_minor_up = from.as_ref().is_some_and(|f| {
                f.minor().major == r.istio.minor().major
                    && f.minor().minor + 1 == r.istio.minor().minor
            });
            if !one_minor_up && setup.recreate {
                progress.info(&format!(
                    "--recreate-mesh: removing Istio {} as recorded, then installing {}",
                    rec.istio, r.istio
                ));
                super::remove::remove(client, &recorded_manifest).await?;
                done = "recreated";
            } else if !one_minor_up {
                return Err(Failure::new(
                    ExitKind::Mesh,
                    format!(
                        "the cluster runs Istio {} (recorded); the scenario asks for {}: only one minor up can be upgraded in place (never a downgrade or a jump of several minors: no mixed-version mesh)",
                        rec.istio, r.istio
                    ),
                )
                .hint("`meshup start --recreate-mesh` removes the recorded mesh and installs the scenario's (or `meshup down --mesh-only`, then `meshup start`)")
                .into());
            } else {
                let question = format!(
                    "Upgrade Istio in place from {} to {} on profile `{}` (istioctl {} installs over the running control plane)?",
                    rec.istio,
                    r.istio,
                    setup.state.name(),
                    r.istio
                );
                progress.info(&format!(
                    "plan: upgrade Istio {} → {} in place with `{}`",
                    rec.istio,
                    r.istio,
                    command::install_argv(&r, &setup.target).join(" ")
                ));
                let agreed = setup.yes || setup.ask.is_some_and(|ask| ask(&question));
                if !agreed {
                    return Err(Failure::new(
                    ExitKind::Mesh,
                    format!(
                        "the cluster runs Istio {}; upgrading it to {} in place needs your consent",
                        rec.istio, r.istio
                    ),
                )
                .hint("run again with `--yes` to upgrade, or keep the scenario's Istio at the recorded version")
                .into());
                }
                done = "upgraded";
            }
        } else {
            let d = diff::diff(&recorded_manifest, &manifest)?;
            progress.info(&format!(
                "the mesh settings changed since the install:\n{}",
                diff::render_text(&d, false)
            ));
            let question = format!(
                "Apply the changed mesh settings to profile `{}`?",
                setup.state.name()
            );
            let agreed = setup.yes || setup.ask.is_some_and(|ask| ask(&question));
            if !agreed {
                return Err(Failure::new(
                    ExitKind::Mesh,
                    "the mesh settings differ from what is installed; not applied without consent",
                )
                .hint("run again with `--yes` to apply the diff above")
                .details(serde_json::to_value(&d)?)
                .into());
            }
            done = "changed";
        }
    }
    let command_line = match setup.mesh.method {
        Method::Istioctl => install(&r, setup, progress).await?,
        Method::Manifest => {
            super::apply::apply_within(
                client,
                &manifest,
                &setup.cancel,
                progress,
                // Like istioctl's per-component readiness timeout: the scenario's check timeout.
                setup.target.readiness_timeout.unwrap_or(setup.timeout),
            )
            .await?;
            command::generate_cmd(&r, &setup.target).display()
        }
    };
    let mut argv = vec![setup.target.istioctl.display().to_string()];
    argv.extend(match setup.mesh.method {
        Method::Istioctl => command::install_argv(&r, &setup.target),
        Method::Manifest => command::generate_argv(&r),
    });
    record::save(
        setup.state,
        &record::MeshRecord::new(&r, method, argv),
        &manifest,
    )?;
    Ok(outcome(done, Some(command_line)))
}

/// Istio 1.5's `manifest apply` runs `kubectl apply` from its PATH: there must be one, within
/// kubectl's skew of the cluster (one minor), or the apply fails half-way.
async fn kubectl_for_1_5(setup: &Setup<'_>, client: &kube::Client) -> anyhow::Result<()> {
    let fix = "let meshup bring a matching kubectl (drop `--offline`, or `meshup tools install`), or put one within a minor of the cluster first on PATH";
    let Some(kubectl) = command::kubectl_on(setup.target.path.as_ref()) else {
        return Err(Failure::new(
            ExitKind::Mesh,
            "Istio 1.5's `istioctl manifest apply` runs `kubectl apply`, and there is no kubectl on the PATH it gets",
        )
        .hint(fix)
        .into());
    };
    let out = crate::exec::Cmd::new(&kubectl)
        .args(["version", "--client", "-o", "json"])
        .timeout(Duration::from_secs(30))
        .cancel_on(setup.cancel.clone())
        .run()
        .await?;
    let client_version = serde_json::from_str::<serde_json::Value>(&out.stdout)
        .ok()
        .and_then(|j| Version::parse(j["clientVersion"]["gitVersion"].as_str()?));
    let server = client
        .apiserver_version()
        .await
        .ok()
        .and_then(|v| Version::parse(&v.git_version));
    if let (Some(k), Some(s)) = (client_version, server)
        && (k.minor().major != s.minor().major || k.minor().minor.abs_diff(s.minor().minor) > 1)
    {
        return Err(Failure::new(
            ExitKind::Mesh,
            format!(
                "Istio 1.5's `manifest apply` would run {} ({}), which is more than one minor from the cluster's Kubernetes {}",
                kubectl.display(),
                k.v(),
                s.v()
            ),
        )
        .hint(fix)
        .into());
    }
    Ok(())
}

/// Runs the version's install command, turning its output into progress.
async fn install(
    r: &Request,
    setup: &Setup<'_>,
    progress: &mut dyn MeshProgress,
) -> anyhow::Result<String> {
    let cmd = command::install_cmd(r, &setup.target, setup.timeout).cancel_on(setup.cancel.clone());
    progress.info(&format!("running {cmd}"));
    let mut parser = Parser::default();
    let result = cmd
        .stream(|line| match parser.line(line.text) {
            Some(Event::Started { component, waiting }) => progress.info(&match waiting {
                Some(w) => format!("{component}: waiting for {w}"),
                None => format!("{component}: applying"),
            }),
            Some(Event::Done { component }) => progress.info(&format!("✔ {component} installed")),
            Some(Event::Failed { component, .. }) => {
                progress.warn(&format!("✘ {component} failed"))
            }
            Some(Event::Notice(n)) => progress.info(&format!("istioctl: {n}")),
            Some(Event::Complete) => progress.info("✔ installation complete"),
            None => {}
        })
        .await;
    match result {
        Ok(_) => Ok(cmd.display()),
        Err(ExecError::Failed { output, status, .. }) => {
            let what = parser
                .describe_failure()
                .unwrap_or_else(|| output.tail(3).join(" / "));
            Err(Failure::new(
                ExitKind::Mesh,
                format!("Istio {} install failed ({status}): {what}", r.istio),
            )
            .hint("see why in the namespace's events: `kubectl --context <profile> -n istio-system get events`")
            .details(serde_json::json!({
                "command": cmd.display(),
                "component": parser.failure.component,
                "resource": parser.failure.resource,
                "tail": output.tail(10),
            }))
            .into())
        }
        Err(e) => Err(e.into()),
    }
}
