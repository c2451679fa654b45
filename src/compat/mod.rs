//! Knowledge tables. Other tables (minikube and Istio support ranges) arrive from the foundation branch.

pub mod archives;
