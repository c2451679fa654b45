//! `meshup tunnel`: keep `minikube tunnel -p P` running in the background under meshup's
//! supervisor (the default), or attached with `--foreground` until Ctrl-C; `logs [-f]` shows
//! the supervisor's log, `stop` ends it; `supervise` is the detached supervisor itself.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use super::input::EnvSourced;
use super::profile::{self, Target};
use crate::cli::ProfileArgs;
use crate::cluster::minikube::Minikube;
use crate::error::{ExitKind, Failure};
use crate::report::Printer;
use crate::state::StateRoot;
use crate::tunnel::{self, Launch, Started, Status, TunnelState};

pub const SCHEMA: &str = "meshup.tunnel/v1";

/// How long `meshup tunnel` waits for the tunnel to run (the real one's first status comes
/// after ~5 s; sudo or a slow API server may add some).
const WAIT: Duration = Duration::from_secs(120);

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TunnelArgs {
    #[command(subcommand)]
    pub command: Option<TunnelCommand>,

    #[command(flatten)]
    pub profile: ProfileArgs,

    /// Keep the tunnel attached to this terminal until Ctrl-C (first: graceful, second:
    /// force) instead of a background supervisor; sudo may then ask here (`sudo -v` first).
    #[arg(long)]
    pub foreground: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum TunnelCommand {
    /// Show the supervisor's log.
    #[command(after_help = crate::cli::EXIT_POINTER)]
    Logs {
        /// The minikube profile (a DNS label; never `minikube`).
        #[arg(short = 'p', long, env = "MESHUP_CLUSTER_PROFILE")]
        cluster_profile: Option<String>,
        /// Keep printing what is appended (like `tail -f`).
        #[arg(short, long)]
        follow: bool,
    },
    /// Stop the tunnel (SIGINT: it removes its route) and clean what a dead one left (ssh
    /// forwards, ingress addresses).
    #[command(after_help = crate::cli::EXIT_POINTER)]
    Stop {
        #[command(flatten)]
        profile: ProfileArgs,
    },
    /// The detached supervisor (started by `meshup start` / `meshup tunnel`).
    #[command(hide = true, after_help = crate::cli::EXIT_POINTER)]
    Supervise(SuperviseArgs),
}

#[derive(Debug, clap::Args)]
pub struct SuperviseArgs {
    #[arg(short = 'p', long)]
    pub cluster_profile: String,
    #[arg(long)]
    pub minikube: PathBuf,
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

pub async fn run(
    args: &TunnelArgs,
    env: &EnvSourced,
    printer: &Printer,
) -> anyhow::Result<ExitKind> {
    match &args.command {
        Some(TunnelCommand::Supervise(a)) => supervise(a, printer).await,
        Some(TunnelCommand::Logs {
            cluster_profile,
            follow,
        }) => {
            let args = ProfileArgs {
                file: None,
                cluster_profile: cluster_profile.clone(),
            };
            let name = profile::name(&args, env)?;
            logs(
                &StateRoot::from_env().profile(&name).file(tunnel::LOG_FILE),
                *follow,
                printer,
            )
            .await
        }
        Some(TunnelCommand::Stop { profile }) => {
            let name = profile::name(profile, env)?;
            let target = Target::load(&StateRoot::from_env(), &name)?;
            let report = stop(&target).await;
            if printer.json() {
                printer.out_json(
                    &serde_json::json!({ "schema": SCHEMA, "profile": name, "stopped": report }),
                    false,
                );
            } else {
                printer.out(&format!(
                    "{} tunnel of profile {name} stopped{}",
                    printer.style().green("✓"),
                    describe_stop(&report)
                ));
            }
            Ok(ExitKind::Success)
        }
        None => {
            let name = profile::name(&args.profile, env)?;
            let target = Target::load(&StateRoot::from_env(), &name)?;
            if args.foreground {
                foreground(&target, printer).await
            } else {
                let (started, status) = tunnel::ensure_detached(&launch(&target), WAIT).await?;
                report_started(&name, started, status.as_ref(), printer);
                Ok(ExitKind::Success)
            }
        }
    }
}

pub fn launch(target: &Target) -> Launch {
    Launch {
        profile: target.name.clone(),
        dir: target.state.dir().to_owned(),
        minikube: target.minikube.bin().to_owned(),
        kubeconfig: target.kubeconfig.clone(),
    }
}

/// The profile's kube client for health and cleanup, if its context can be read.
pub async fn kube_client(profile: &str, kubeconfig: Option<&Path>) -> Option<kube::Client> {
    crate::k8s::client_for_context(profile, kubeconfig, ExitKind::Tunnel)
        .await
        .ok()
        .map(|c| c.client)
}

/// `stop`/`down`/`tunnel stop`: the tunnel and its leftovers, before the cluster goes.
pub async fn stop(target: &Target) -> tunnel::StopReport {
    let kube = kube_client(&target.name, target.kubeconfig.as_deref()).await;
    tunnel::stop(target.state.dir(), &target.name, kube.as_ref()).await
}

pub fn describe_stop(r: &tunnel::StopReport) -> String {
    let mut parts = Vec::new();
    if let Some(p) = r.supervisor {
        parts.push(format!("supervisor pid {p}"));
    }
    if !r.tunnels.is_empty() {
        parts.push(format!("{} tunnel process(es)", r.tunnels.len()));
    }
    if !r.forwards.is_empty() {
        parts.push(format!("{} orphaned ssh forward(s)", r.forwards.len()));
    }
    if !r.cleared_addresses.is_empty() {
        parts.push(format!("addresses of {}", r.cleared_addresses.join(", ")));
    }
    if parts.is_empty() {
        " (nothing was running)".into()
    } else {
        format!(" ({})", parts.join("; "))
    }
}

fn report_started(name: &str, started: Started, status: Option<&Status>, printer: &Printer) {
    let pid = match started {
        Started::Already(p) | Started::New(p) => p,
    };
    if printer.json() {
        printer.out_json(
            &serde_json::json!({ "schema": SCHEMA, "profile": name, "supervisorPid": pid,
                "alreadyRunning": matches!(started, Started::Already(_)), "status": status }),
            false,
        );
        return;
    }
    let state = status.map_or("starting", |s| s.state.name());
    let how = match started {
        Started::Already(_) => "already supervised",
        Started::New(_) => "supervised",
    };
    printer.out(&format!(
        "{} tunnel of profile {name} {how} in the background (pid {pid}, {state}); `meshup tunnel logs -p {name}` shows its log",
        printer.style().green("✓")
    ));
}

/// `meshup tunnel supervise`: the detached supervisor. Its pid file is written by whoever
/// started it; a second supervisor for the profile is refused by the lock.
async fn supervise(a: &SuperviseArgs, printer: &Printer) -> anyhow::Result<ExitKind> {
    let name = &a.cluster_profile;
    let state = StateRoot::from_env().profile(name);
    state.ensure()?;
    let lock_file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(state.file("tunnel.lock"))?;
    if !fs4::fs_std::FileExt::try_lock_exclusive(&lock_file)? {
        return Err(Failure::new(
            ExitKind::Tunnel,
            format!("another tunnel supervisor runs for profile `{name}`"),
        )
        .into());
    }
    let mut minikube = Minikube::new(&a.minikube, name);
    if let Some(k) = &a.kubeconfig {
        minikube = minikube.with_kubeconfig(k);
    }
    let kube = kube_client(name, a.kubeconfig.as_deref()).await;
    let sup = tunnel::supervisor::Supervisor::new(name, minikube, kube, state.dir().to_owned());
    let mut ready = crate::exec::ready_pipe().map(tokio::fs::File::from_std);
    printer.note(&format!(
        "supervisor pid {} for profile {name}",
        std::process::id()
    ));
    let (tx, mut rx) = tokio::sync::watch::channel(Status::new(name));
    let run = sup.run(crate::exec::shutdown_token(), tx);
    tokio::pin!(run);
    let mut last_state = String::new();
    let fin = loop {
        tokio::select! {
            s = &mut run => break s,
            Ok(()) = rx.changed() => {
                let s = rx.borrow_and_update().clone();
                let line = describe(&s);
                if line != last_state {
                    printer.note(&format!("{} {line}", tunnel::state::now()));
                    last_state = line;
                }
                if let Some(pipe) = ready.as_mut() {
                    let mut json = serde_json::to_vec(&s)?;
                    json.push(b'\n');
                    // The starter may be gone already: then nobody is waiting.
                    if pipe.write_all(&json).await.is_err() || s.state.settled() {
                        ready = None;
                    }
                }
            }
        }
    };
    if let Some(mut pipe) = ready.take() {
        let mut json = serde_json::to_vec(&fin)?;
        json.push(b'\n');
        let _ = pipe.write_all(&json).await;
    }
    printer.note(&format!("{} {}", tunnel::state::now(), describe(&fin)));
    tunnel::pidfile::remove(state.dir());
    match tunnel::failure_of(&fin) {
        Some(f) => Err(f.into()),
        None => Ok(ExitKind::Success),
    }
}

fn describe(s: &Status) -> String {
    let mut line = format!("tunnel {}", s.state.name());
    match &s.state {
        TunnelState::BackingOff { reason, until, .. } => {
            line.push_str(&format!(" ({reason}; restart at {until})"))
        }
        TunnelState::Failed { reason, .. } => line.push_str(&format!(": {reason}")),
        _ => {}
    }
    if let Some(p) = s.tunnel_pid {
        line.push_str(&format!(", minikube tunnel pid {p}"));
    }
    line.push_str(&format!(", restarts {}", s.restarts));
    let served: Vec<String> = s
        .services
        .iter()
        .map(|v| {
            format!(
                "{}/{}={}{}",
                v.namespace,
                v.name,
                v.address.as_deref().unwrap_or("<pending>"),
                if v.answers { "" } else { " (no answer)" }
            )
        })
        .collect();
    if !served.is_empty() {
        line.push_str(&format!(", services {}", served.join(" ")));
    }
    line
}

/// `meshup start --foreground`: the run's background supervisor hands the tunnel over to this
/// process, which keeps it until Ctrl-C (first: graceful; second: at once).
pub async fn attach(profile: &str, printer: &Printer) -> anyhow::Result<ExitKind> {
    let target = Target::load(&StateRoot::from_env(), profile)?;
    let kube = kube_client(&target.name, target.kubeconfig.as_deref()).await;
    tunnel::stop(target.state.dir(), &target.name, kube.as_ref()).await;
    foreground(&target, printer).await
}

/// `--foreground`: the supervisor in this process until Ctrl-C.
async fn foreground(target: &Target, printer: &Printer) -> anyhow::Result<ExitKind> {
    let dir = target.state.dir();
    target.state.ensure()?;
    if let Some(pid) = tunnel::running(dir, &target.name) {
        return Err(Failure::new(
            ExitKind::Tunnel,
            format!(
                "a background tunnel supervisor (pid {pid}) runs for profile `{}`",
                target.name
            ),
        )
        .hint(format!(
            "`meshup tunnel stop -p {}` first, then `meshup tunnel --foreground -p {}`",
            target.name, target.name
        ))
        .into());
    }
    let kube = kube_client(&target.name, target.kubeconfig.as_deref()).await;
    let mut sup = tunnel::supervisor::Supervisor::new(
        &target.name,
        target.minikube.clone(),
        kube,
        dir.to_owned(),
    );
    sup.terminal = std::io::stdin().is_terminal();
    let (tx, mut rx) = tokio::sync::watch::channel(Status::new(&target.name));
    printer.note(&format!("Running minikube tunnel -p {} in the foreground; Ctrl-C stops it (a second Ctrl-C: at once)", target.name));
    let run = sup.run(crate::exec::shutdown_token(), tx);
    tokio::pin!(run);
    let mut last = String::new();
    let fin = loop {
        tokio::select! {
            s = &mut run => break s,
            Ok(()) = rx.changed() => {
                let line = describe(&rx.borrow_and_update().clone());
                if line != last {
                    printer.note(&line);
                    last = line;
                }
            }
        }
    };
    match tunnel::failure_of(&fin) {
        Some(f) => Err(f.into()),
        None => Ok(ExitKind::Success),
    }
}

async fn logs(path: &Path, follow: bool, printer: &Printer) -> anyhow::Result<ExitKind> {
    use tokio::io::AsyncReadExt;
    let mut file = match tokio::fs::File::open(path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Failure::new(
                ExitKind::Tunnel,
                format!("no tunnel log yet ({})", path.display()),
            )
            .hint("`meshup start` or `meshup tunnel` starts the tunnel")
            .into());
        }
        Err(e) => return Err(e.into()),
    };
    let mut buf = String::new();
    file.read_to_string(&mut buf).await?;
    if !buf.is_empty() {
        printer.out(buf.trim_end_matches('\n'));
    }
    if !follow {
        return Ok(ExitKind::Success);
    }
    // Like `tail -f`: a file has no change notification in tokio; read what was appended a few
    // times a second until Ctrl-C.
    let token = crate::exec::shutdown_token();
    loop {
        tokio::select! {
            () = token.cancelled() => return Ok(ExitKind::Success),
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
        buf.clear();
        file.read_to_string(&mut buf).await?;
        if !buf.is_empty() {
            printer.out(buf.trim_end_matches('\n'));
        }
    }
}
