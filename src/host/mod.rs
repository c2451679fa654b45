//! What this machine has: the tools on PATH and their versions, Docker, cgroups, CPUs and
//! memory. Read by the plan (through `plan::Probes`), doctor and the stages; nothing here
//! changes the machine.

pub mod probe;
