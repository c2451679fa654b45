//! meshup: one command from nothing to a local Kubernetes cluster with a verified Istio mesh.
//! The module map is in `docs/architecture.md`.

// Output goes through the report module (`report::Printer`, the reporter, prompts): one
// output policy. `#[allow]` only inside `src/report/`; CI's `-D warnings` makes these errors.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod cli;
pub mod cluster;
pub mod commands;
pub mod compat;
pub mod engine;
pub mod error;
pub mod exec;
pub mod host;
pub mod k8s;
pub mod mesh;
pub mod plan;
pub mod report;
pub mod scenario;
pub mod stages;
pub mod state;
pub mod tools;
pub mod tunnel;
pub mod verify;
