//! The fake `ssh -N -L [bind:]port:host:hostport ...` that the tunnel's SSH mode starts per
//! LoadBalancer Service (research/minikube.md §5, Mode B). Each `-L` binds its local address
//! and port in this process and carries every connection to where the cluster serves
//! `host:hostport` (the daemon's `GET /clusters/{p}/backends`), so reachability follows the
//! live forwards: an orphan still carries traffic, a killed forward stops it, and a port held
//! by an orphan is a bind failure for a new forward. Like OpenSSH without
//! `ExitOnForwardFailure`, a forward that cannot bind warns and keeps running.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};

use crate::control::Backend;
use crate::control_client::ControlClient;
use crate::fakes::common::Env;

struct Forward {
    bind: String,
    port: u16,
    host: String,
    host_port: u16,
}

/// `[bind_address:]port:host:hostport` (ssh(1), `-L`).
fn parse_forward(spec: &str) -> Option<Forward> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (bind, rest) = match parts.len() {
        3 => ("localhost", &parts[..]),
        4 => (parts[0], &parts[1..]),
        _ => return None,
    };
    Some(Forward {
        bind: if bind.is_empty() || bind == "*" {
            "0.0.0.0".into()
        } else {
            bind.replace("localhost", "127.0.0.1")
        },
        port: rest[0].parse().ok()?,
        host: rest[1].to_string(),
        host_port: rest[2].parse().ok()?,
    })
}

/// The profile from `-i ~/.minikube/machines/<profile>/id_rsa`.
fn profile_of(key: &str) -> Option<String> {
    let p = std::path::Path::new(key);
    p.parent()?
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
}

pub fn run(env: &Env, args: &[String]) -> i32 {
    let mut forwards = Vec::new();
    let mut key = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-L" => {
                let Some(f) = args.get(i + 1).and_then(|s| parse_forward(s)) else {
                    eprintln!(
                        "Bad local forwarding specification '{}'",
                        args.get(i + 1).map(String::as_str).unwrap_or("")
                    );
                    return 255;
                };
                forwards.push(f);
                i += 1;
            }
            "-i" => {
                key = args.get(i + 1).cloned();
                i += 1;
            }
            "-o" | "-p" | "-l" => i += 1,
            _ => {}
        }
        i += 1;
    }
    let control = env.control().ok();
    let profile = key.as_deref().and_then(profile_of);
    let mut bound = 0;
    for f in forwards {
        match TcpListener::bind((f.bind.as_str(), f.port)) {
            Ok(listener) => {
                bound += 1;
                let (control, profile) = (control.clone(), profile.clone());
                std::thread::spawn(move || accept(listener, control, profile, f.host, f.host_port));
            }
            Err(e) => {
                eprintln!("bind [{}]:{}: {}", f.bind, f.port, describe(&e));
                eprintln!(
                    "channel_setup_fwd_listener_tcpip: cannot listen to port: {}",
                    f.port
                );
            }
        }
    }
    if bound == 0 {
        eprintln!("Could not request local forwarding.");
    }
    // `-N`: no command, the forwards run until ssh is killed.
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}

fn describe(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => "Address already in use",
        std::io::ErrorKind::PermissionDenied => "Permission denied",
        _ => "Cannot assign requested address",
    }
}

fn accept(
    listener: TcpListener,
    control: Option<ControlClient>,
    profile: Option<String>,
    host: String,
    port: u16,
) {
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let backend = control
            .as_ref()
            .zip(profile.as_ref())
            .and_then(|(c, p)| c.backends(p).ok().flatten())
            .and_then(|bs: Vec<Backend>| {
                bs.into_iter()
                    .find(|b| b.cluster_ip == host && b.port == port)
            });
        let Some(upstream) = backend.and_then(|b| TcpStream::connect(&b.addr).ok()) else {
            // ssh: "channel 2: open failed: connect failed: Connection refused"; the client
            // sees its connection closed.
            let _ = conn.shutdown(Shutdown::Both);
            continue;
        };
        std::thread::spawn(move || pipe(conn, upstream));
    }
}

fn pipe(a: TcpStream, b: TcpStream) {
    let (Ok(a2), Ok(b2)) = (a.try_clone(), b.try_clone()) else {
        return;
    };
    let t = std::thread::spawn(move || copy(a2, b2));
    copy(b, a);
    let _ = t.join();
}

fn copy(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_specs_like_ssh() {
        let f = parse_forward("80:10.96.0.10:80").unwrap();
        assert_eq!(
            (f.bind.as_str(), f.port, f.host.as_str(), f.host_port),
            ("127.0.0.1", 80, "10.96.0.10", 80)
        );
        let f = parse_forward("127.3.4.100:15021:10.96.0.10:15021").unwrap();
        assert_eq!(f.bind, "127.3.4.100");
        assert!(parse_forward("80").is_none());
        assert_eq!(
            profile_of("/h/.minikube/machines/p1/id_rsa").as_deref(),
            Some("p1")
        );
    }
}
