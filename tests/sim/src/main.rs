//! One binary, busybox style: called as `minikube`, `istioctl`, `kubectl` or `docker` it is that
//! fake; called as `meshup-sim` it runs the world (`meshup-sim serve --dir DIR`).

use std::path::Path;

fn main() {
    let mut args: Vec<String> = std::env::args().collect();
    let called_as = Path::new(&args[0])
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let code = match meshup_sim::fakes::Tool::from_name(&called_as) {
        Some(tool) => meshup_sim::fakes::run(tool, args.split_off(1)),
        None => meshup_sim::server::main(args),
    };
    std::process::exit(code);
}
