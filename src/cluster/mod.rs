//! The cluster: minikube driven through `exec`, its outputs parsed, and the change plan that
//! keeps re-runs idempotent.

pub mod advice;
pub mod change;
pub mod events;
pub mod minikube;
pub mod status;
