//! Throughput of download + verify + extract + install for a ~50 MB Istio-shaped archive served
//! on loopback. A benchmark, not a test: ignored by default, prints figures, asserts nothing
//! about time. Run it with `scripts/bench-tools.sh`.

#[path = "common/fixtures.rs"]
mod fixtures;
#[path = "common/mirror.rs"]
mod mirror;

use std::time::{Duration, Instant};

use fixtures::{Entry, publish, tar_gz};
use meshup::compat::archives::{Arch, Os, Platform};
use meshup::tools::cache::Cache;
use meshup::tools::{DownloadConfig, Installer, Quiet, Sources, Tool};

/// Incompressible bytes (xorshift), so the archive is as large as its contents.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        out.extend_from_slice(&seed.to_le_bytes());
    }
    out.truncate(len);
    out
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run scripts/bench-tools.sh"]
async fn download_verify_extract_throughput() {
    let mb: usize = std::env::var("BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let top = "istio-1.99.0";
    let mut entries = vec![
        Entry::File {
            path: format!("{top}/bin/istioctl"),
            body: noise(mb * 800 * 1024, 7),
            mode: 0o755,
        },
        Entry::File {
            path: format!("{top}/manifests/profiles/default.yaml"),
            body: b"# default\n".to_vec(),
            mode: 0o644,
        },
    ];
    for i in 0..20 {
        entries.push(Entry::File {
            path: format!("{top}/samples/s{i}.bin"),
            body: noise(mb * 1024 * 1024 / 100, i),
            mode: 0o644,
        });
    }
    let archive = tar_gz(entries);
    let size = archive.len();
    let mirror = mirror::Mirror::start();
    publish(
        &mirror,
        "istio/1.99.0/istio-1.99.0-linux-amd64.tar.gz",
        archive,
    );

    let runs = 3;
    let mut times = Vec::new();
    for _ in 0..runs {
        let tmp = tempfile::tempdir().unwrap();
        let platform = Platform {
            os: Os::Linux,
            arch: Arch::Amd64,
        };
        let cfg = DownloadConfig {
            read_timeout: Duration::from_secs(30),
            ..DownloadConfig::default()
        };
        let installer = Installer::new(
            Cache::at(tmp.path()),
            platform,
            Sources::single(&mirror.url("")),
            cfg,
        )
        .unwrap();
        let start = Instant::now();
        installer
            .ensure(
                Tool::Istioctl,
                &semver::Version::new(1, 99, 0),
                None,
                &Quiet,
            )
            .await
            .unwrap();
        times.push(start.elapsed());
    }
    times.sort();
    let median = times[runs / 2];
    let mib = size as f64 / (1024.0 * 1024.0);
    println!(
        "archive {mib:.1} MiB: download+verify+extract+install median {:.0} ms over {runs} runs ({:.0} MiB/s); all: {:?}",
        median.as_secs_f64() * 1000.0,
        mib / median.as_secs_f64(),
        times
    );
}
