//! The cluster stage's glue to the run: what the scenario asks of the cluster, and its progress
//! as the run's events.

use crate::cluster::change::{Change, Desired};
use crate::cluster::events::MinikubeEvent;
use crate::plan::Plan;
use crate::report::events::Reporter;
use crate::scenario::Scenario;
use crate::scenario::quantity::{Cpus, Memory};

use super::cluster::ClusterProgress;

/// The cluster the scenario asks for, as the change plan compares it: `max` and an unset
/// driver leave the choice to minikube, so they are not compared.
pub fn desired(scenario: &Scenario, plan: &Plan) -> Desired {
    let c = &scenario.cluster;
    Desired {
        kubernetes: plan.kubernetes.v(),
        cpus: match c.cpus {
            Cpus::Count(n) => Some(n),
            Cpus::Max => None,
        },
        memory_mb: match c.memory {
            Memory::Mb(mb) => Some(mb),
            Memory::Max => None,
        },
        driver: c.driver.clone(),
    }
}

/// The stage's progress as the run's events; remembers the planned change (whether meshup
/// created the profile decides what `down --all` may delete).
pub struct ReporterProgress<'a> {
    pub reporter: &'a Reporter,
    pub planned: Option<Change>,
}

impl ClusterProgress for ReporterProgress<'_> {
    fn planned(&mut self, change: &Change) {
        self.planned = Some(change.clone());
        let text = match change {
            Change::Create => "creating the cluster".to_owned(),
            Change::Nothing => "running with the same settings: nothing to do".to_owned(),
            Change::Resume { state } => format!("starting it again ({state})"),
            Change::Upgrade { from, to } => format!("upgrading Kubernetes {from} → {to}"),
            Change::Recreate { differences } => format!(
                "differs from the scenario: {}",
                differences
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        };
        self.reporter.info("cluster", &text);
    }

    fn minikube(&mut self, event: &MinikubeEvent) {
        match event {
            MinikubeEvent::Step {
                current,
                total,
                message,
                name,
            } => self.reporter.step(
                "cluster",
                *current,
                *total,
                if message.is_empty() { name } else { message },
            ),
            MinikubeEvent::Download {
                artifact, progress, ..
            } => self.reporter.download("cluster", artifact, *progress, None),
            MinikubeEvent::Info(m) => self.reporter.info("cluster", m),
            MinikubeEvent::Warning(m) => self.reporter.warn("cluster", m),
            // A fatal error (with an exit code) becomes the stage's failure, shown once; the
            // non-fatal ones (`--force` turns refusals into them) are warnings.
            MinikubeEvent::Error(e) if e.exit_code.is_none() => {
                self.reporter.warn("cluster", &e.message)
            }
            MinikubeEvent::Error(_) => {}
        }
    }
}
