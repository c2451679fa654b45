//! `meshup stop`: `minikube stop -p`, under the profile's lock. The cluster keeps its disk, so
//! `meshup start` brings it back with the same settings.

use super::input::EnvSourced;
use super::profile::{self, Target};
use crate::cli::ProfileArgs;
use crate::cluster::status::ClusterState;
use crate::error::ExitKind;
use crate::report::Printer;
use crate::state::StateRoot;

pub const SCHEMA: &str = "meshup.stop/v1";

pub async fn run(
    args: &ProfileArgs,
    env: &EnvSourced,
    printer: &Printer,
) -> anyhow::Result<ExitKind> {
    let name = profile::name(args, env)?;
    let target = Target::load(&StateRoot::from_env(), &name)?;
    let _held = profile::hold(&target.state, "meshup stop")?;
    let mk = &target.minikube;
    let what = format!("stop profile `{name}`");
    let before = mk
        .status()
        .await
        .map_err(|e| profile::minikube_failure(&what, e))?;
    if before == ClusterState::Missing {
        return Err(profile::missing(&target));
    }
    // The tunnel first, while the API server still answers: its addresses go with it.
    let tunnel = super::tunnel::stop(&target).await;
    if tunnel.supervisor.is_some() || !tunnel.tunnels.is_empty() || !tunnel.forwards.is_empty() {
        printer.note(&format!(
            "Stopped the tunnel{}",
            super::tunnel::describe_stop(&tunnel)
        ));
    }
    let action = match before {
        ClusterState::Missing => unreachable!("handled above"),
        ClusterState::Stopped => "already stopped",
        _ => {
            printer.note(&format!("Stopping profile {name} (minikube stop)..."));
            mk.stop()
                .await
                .map_err(|e| profile::minikube_failure(&what, e))?;
            "stopped"
        }
    };
    if printer.json() {
        printer.out_json(
            &serde_json::json!({ "schema": SCHEMA, "profile": name, "action": action, "tunnel": tunnel }),
            false,
        );
    } else {
        let st = printer.style();
        // What is true of `meshup start -p NAME` alone: it resumes a profile meshup recorded.
        let again = if super::input::recorded_layer(&target.state).is_some() {
            format!(
                "`meshup start -p {name}` starts it again with the settings it was created with"
            )
        } else {
            format!(
                "`meshup start -p {name} -f SCENARIO` starts it again (meshup has no record of its settings)"
            )
        };
        printer.out(&format!(
            "{} profile {name} {action}; {again}",
            st.green("✓")
        ));
    }
    Ok(ExitKind::Success)
}
