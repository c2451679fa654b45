//! The simulated world meshup is tested in. See `CONTRACT.md` for how its parts talk.

pub mod calllog;
pub mod control;
pub mod control_client;
pub mod fakes;
pub mod knobs;
pub mod server;
pub mod world;

pub use knobs::Knobs;
pub use world::World;
