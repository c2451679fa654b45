//! The world daemon, `meshup-sim serve --dir DIR` (CONTRACT.md): the control API, one emulated
//! API server per cluster, the controllers and the loopback data plane.

mod admit;
mod api;
mod certs;
mod cluster;
mod controllers;
mod daemon;
mod dataplane;
mod listener;
mod ops;
mod patch;
mod podlog;
pub mod resources;
mod seed;
mod select;
mod sidecar;
mod status;
mod store;
pub(crate) mod table;
mod util;
mod workload;

use std::path::PathBuf;
use std::sync::Arc;

pub use util::minor_of;

pub fn main(args: Vec<String>) -> i32 {
    let dir = match args.get(1).map(String::as_str) {
        Some("serve") => match args
            .iter()
            .position(|a| a == "--dir")
            .and_then(|i| args.get(i + 1))
        {
            Some(d) => PathBuf::from(d),
            None => return usage(),
        },
        _ => return usage(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("meshup-sim: {e}");
            return 1;
        }
    };
    let exit_with_parent = args.iter().any(|a| a == "--exit-with-parent");
    match runtime.block_on(serve(dir, exit_with_parent)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("meshup-sim serve: {e:#}");
            1
        }
    }
}

fn usage() -> i32 {
    eprintln!("usage: meshup-sim serve [--exit-with-parent] --dir DIR");
    2
}

/// Resolves when the process that started the daemon is gone (we were re-parented).
async fn parent_gone() {
    let parent = std::os::unix::process::parent_id();
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        if std::os::unix::process::parent_id() != parent {
            return;
        }
    }
}

async fn serve(dir: PathBuf, exit_with_parent: bool) -> anyhow::Result<()> {
    use anyhow::Context;
    use tokio::signal::unix::{SignalKind, signal};

    std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
    let world = Arc::new(daemon::World::new(dir.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let info = daemon::world_info(&world, port);
    let tmp = dir.join("world.json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&info)?)?;
    std::fs::rename(&tmp, dir.join("world.json"))?;
    eprintln!(
        "meshup-sim: world {} listening on {}",
        info.loopback_prefix, info.control
    );
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let app = daemon::router(world);
    tokio::select! {
        r = axum::serve(listener, app) => r?,
        _ = term.recv() => eprintln!("meshup-sim: SIGTERM, exiting"),
        _ = int.recv() => eprintln!("meshup-sim: SIGINT, exiting"),
        _ = parent_gone(), if exit_with_parent => eprintln!("meshup-sim: the test that started this world is gone, exiting"),
    }
    Ok(())
}
