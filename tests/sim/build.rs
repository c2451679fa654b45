//! Finds a real kubectl for tests/kubectl.rs at build time, so a machine without one reports
//! those tests as ignored (counted as skipped in CI's summary line) instead of letting them
//! pass without running. `MESHUP_SIM_REAL_KUBECTL` names one; otherwise the first `kubectl`
//! on PATH.

use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(real_kubectl)");
    println!("cargo::rerun-if-env-changed=MESHUP_SIM_REAL_KUBECTL");
    println!("cargo::rerun-if-env-changed=PATH");
    let named = std::env::var_os("MESHUP_SIM_REAL_KUBECTL").map(PathBuf::from);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    // A kubectl installed later into a PATH directory changes that directory.
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        println!("cargo::rerun-if-changed={}", dir.display());
    }
    let found = match named {
        Some(p) => p.is_file().then_some(p),
        None => dirs.iter().map(|d| d.join("kubectl")).find(|p| p.is_file()),
    };
    if let Some(kubectl) = found {
        println!("cargo::rustc-cfg=real_kubectl");
        println!(
            "cargo::rustc-env=MESHUP_SIM_REAL_KUBECTL_AT_BUILD={}",
            kubectl.display()
        );
    }
}
