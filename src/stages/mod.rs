//! The stages of `meshup start`, one file each (kind's actions): each does one thing to the
//! world and reports what it did.

pub mod cluster;
pub mod cluster_progress;
pub mod preflight;
pub mod tools;
