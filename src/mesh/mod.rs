//! The mesh: Istio installed with the istioctl of its version — command shapes per era, the JWT
//! policy detected from discovery, install output turned into per-component progress, a record
//! of what was applied (rendered manifest + exact command) in the profile's state dir, and the
//! resource-aware manifest diff.

pub mod apply;
pub mod command;
pub mod diff;
pub mod input;
pub mod install;
pub mod jwt;
pub mod locate;
pub mod progress;
pub mod record;
pub mod remove;
