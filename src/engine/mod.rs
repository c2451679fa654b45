//! The run engine: `meshup start` as a DAG of stages (DESIGN.md "Architecture"). The plan says
//! which stages there are and what each needs; the engine runs each as soon as its needs are
//! done, with one context, enforced timeouts and cancellation that never leaves a child behind.

mod context;
mod run;
pub mod signals;
mod stage;

pub use context::{ClusterReady, Outputs, Preflight, RunCx, RunOptions, StopReason, bug};
pub use run::{RunEnd, StageEnd, run, stop_grace};
pub use stage::{Done, NotNeeded, Stage, StageCx};
