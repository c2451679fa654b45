//! Small release artifacts built in the test: fake executables and Istio-shaped archives,
//! including malicious ones (entries climbing out, links pointing out).
#![allow(dead_code)]

use sha2::{Digest, Sha256};

use super::mirror::{Mirror, Reply};

pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A tiny shell script standing in for a release binary.
pub fn fake_binary(name: &str, version: &str) -> Vec<u8> {
    format!("#!/bin/sh\necho \"{name} {version} (fixture)\"\n").into_bytes()
}

/// One entry of a fixture archive.
pub enum Entry {
    File {
        path: String,
        body: Vec<u8>,
        mode: u32,
    },
    Dir {
        path: String,
    },
    /// Written with raw header bytes, so paths the `tar` crate refuses (`../x`) get through.
    RawFile {
        path: String,
        body: Vec<u8>,
    },
    Symlink {
        path: String,
        target: String,
    },
}

/// An Istio release archive with `bin/istioctl` and two profiles in `profiles_dir`.
pub fn istio_archive(version: &str, profiles_dir: &str, extra: Vec<Entry>) -> Vec<u8> {
    istio_archive_with(
        version,
        profiles_dir,
        fake_binary("istioctl", version),
        extra,
    )
}

/// The same, with `istioctl` as given (e.g. the simulated world's wrapper, so the fetched
/// istioctl really installs into the emulated cluster).
pub fn istio_archive_with(
    version: &str,
    profiles_dir: &str,
    istioctl: Vec<u8>,
    extra: Vec<Entry>,
) -> Vec<u8> {
    let top = format!("istio-{version}");
    let mut entries = vec![
        Entry::Dir {
            path: format!("{top}/"),
        },
        Entry::File {
            path: format!("{top}/manifest.yaml"),
            body: b"version: x\n".to_vec(),
            mode: 0o644,
        },
        Entry::File {
            path: format!("{top}/bin/istioctl"),
            body: istioctl,
            mode: 0o755,
        },
        Entry::Dir {
            path: format!("{top}/{profiles_dir}/"),
        },
        Entry::File {
            path: format!("{top}/{profiles_dir}/default.yaml"),
            body: b"# default profile\n".to_vec(),
            mode: 0o644,
        },
        Entry::File {
            path: format!("{top}/{profiles_dir}/demo.yaml"),
            body: b"# demo profile\n".to_vec(),
            mode: 0o644,
        },
        Entry::File {
            path: format!("{top}/samples/README.md"),
            body: b"samples\n".to_vec(),
            mode: 0o644,
        },
    ];
    entries.extend(extra);
    tar_gz(entries)
}

pub fn tar_gz(entries: Vec<Entry>) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut builder = tar::Builder::new(gz);
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        match entry {
            Entry::File { path, body, mode } => {
                header.set_size(body.len() as u64);
                header.set_mode(mode);
                header.set_entry_type(tar::EntryType::Regular);
                builder
                    .append_data(&mut header, &path, body.as_slice())
                    .unwrap();
            }
            Entry::Dir { path } => {
                header.set_size(0);
                header.set_mode(0o755);
                header.set_entry_type(tar::EntryType::Directory);
                builder
                    .append_data(&mut header, &path, std::io::empty())
                    .unwrap();
            }
            Entry::RawFile { path, body } => {
                header.set_size(body.len() as u64);
                header.set_mode(0o644);
                header.set_entry_type(tar::EntryType::Regular);
                raw_name(&mut header, &path);
                header.set_cksum();
                builder.append(&header, body.as_slice()).unwrap();
            }
            Entry::Symlink { path, target } => {
                header.set_size(0);
                header.set_mode(0o777);
                header.set_entry_type(tar::EntryType::Symlink);
                raw_name(&mut header, &path);
                let gnu = header.as_gnu_mut().unwrap();
                gnu.linkname[..target.len()].copy_from_slice(target.as_bytes());
                header.set_cksum();
                builder.append(&header, std::io::empty()).unwrap();
            }
        }
    }
    builder.into_inner().unwrap().finish().unwrap()
}

fn raw_name(header: &mut tar::Header, path: &str) {
    let gnu = header.as_gnu_mut().unwrap();
    gnu.name = [0; 100];
    gnu.name[..path.len()].copy_from_slice(path.as_bytes());
}

/// Serves `body` at `path` and its checksum file as upstream does: `.sha256` in Istio's format
/// ("<hex> <name>"), except kubectl before v1.16, which has only a bare `.sha512`. Returns the
/// sha256 (what meshup records and locks).
pub fn publish(mirror: &Mirror, path: &str, body: Vec<u8>) -> String {
    let digest = sha256(&body);
    let name = path.rsplit('/').next().unwrap();
    if is_legacy_kubectl(path) {
        let d512 = hex::encode(sha2::Sha512::digest(&body));
        mirror.serve(
            &format!("{path}.sha512"),
            Reply::Body(format!("{d512}\n").into_bytes()),
        );
    } else {
        mirror.serve(
            &format!("{path}.sha256"),
            Reply::Body(format!("{digest} {name}\n").into_bytes()),
        );
    }
    mirror.serve(path, Reply::Body(body));
    digest
}

/// The seed's tools on the mirror: minikube v1.24.0, kubectl v1.15.10 and Istio 1.5.0 (whose
/// profiles are under `install/kubernetes/operator/profiles`), for linux-amd64.
pub fn publish_seed_tools(mirror: &Mirror) {
    publish(
        mirror,
        "minikube/v1.24.0/minikube-linux-amd64",
        fake_binary("minikube", "v1.24.0"),
    );
    publish(
        mirror,
        "kubectl/v1.15.10/bin/linux/amd64/kubectl",
        fake_binary("kubectl", "v1.15.10"),
    );
    let archive = istio_archive("1.5.0", "install/kubernetes/operator/profiles", vec![]);
    publish(mirror, "istio/1.5.0/istio-1.5.0-linux.tar.gz", archive);
}

/// Istio 1.5.0 on the mirror whose istioctl is `istioctl` (a world's wrapper).
pub fn publish_istio_1_5(mirror: &Mirror, istioctl: Vec<u8>) {
    let archive = istio_archive_with(
        "1.5.0",
        "install/kubernetes/operator/profiles",
        istioctl,
        vec![],
    );
    publish(mirror, "istio/1.5.0/istio-1.5.0-linux.tar.gz", archive);
}

/// `kubectl/v1.<16/...`: the releases without a `.sha256`.
pub fn is_legacy_kubectl(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("kubectl/v1.") else {
        return false;
    };
    rest.split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .is_some_and(|minor| minor < 16)
}

/// Every file under `dir` (recursively), relative; empty folders are not listed.
pub fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}
