//! One binary, busybox style: called as `minikube`, `istioctl`, `kubectl` or `docker` it is that
//! fake; called as `meshup-sim` it runs the world (`meshup-sim serve --dir DIR`).
//! A wrapper script may choose the fake and its emulated release with `MESHUP_SIM_AS` and
//! `MESHUP_SIM_VERSION` (how a "downloaded" minikube v1.24.0 differs from the one on PATH).

use std::path::Path;

fn main() {
    let mut args: Vec<String> = std::env::args().collect();
    let called_as = match std::env::var("MESHUP_SIM_AS") {
        Ok(name) => name,
        Err(_) => Path::new(&args[0])
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let version = std::env::var("MESHUP_SIM_VERSION").ok();
    // SAFETY: still single-threaded; the children this fake runs must not inherit its identity.
    unsafe {
        std::env::remove_var("MESHUP_SIM_AS");
        std::env::remove_var("MESHUP_SIM_VERSION");
    }
    let code = match meshup_sim::fakes::Tool::from_name(&called_as) {
        Some(tool) => meshup_sim::fakes::run(tool, version, args.split_off(1)),
        None => meshup_sim::server::main(args),
    };
    std::process::exit(code);
}
