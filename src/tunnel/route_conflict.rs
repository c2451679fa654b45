//! Route mode's conflict: another route for the same service CIDR via another gateway is in
//! the host's table, typically the tunnel of a second cluster that kept the default
//! `10.96.0.0/12`. minikube then shows `router: conflicting route: <line>` (tunnel.go,
//! `setupRoute`; `conflicting rule in routing table: <line>` from route.go when it races) and
//! retries for ever while patching no Service (research/minikube.md §5). Waiting cannot help
//! while the other tunnel runs, so the supervisor fails at once with who is in the way and what
//! to do. Only an *equal* CIDR conflicts: minikube routes an overlapping one (it only logs it).
//!
//! The line is `ip r`'s on Linux (`10.96.0.0/12 via 192.168.49.2 dev br-<docker network id>`)
//! and `netstat -nr`'s on macOS (`10.96/12  192.168.64.194  UGSc  bridge100`): neither names a
//! profile, so the owner is the minikube profile whose node has the gateway's address (its
//! `config.json`), its tunnel found in the process table, its supervisor in meshup's state.

use std::path::Path;

use super::procs;
use crate::error::{ExitKind, Failure};

/// What minikube's router error says is in the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The destination as the line shows it (`10.96.0.0/12`; `10.96/12` from macOS).
    pub cidr: String,
    pub gateway: String,
    /// The routing table's line, as minikube quoted it.
    pub line: String,
}

/// The conflict in a status block's `router:` value, if that is what it reports.
pub fn parse(router_error: &str) -> Option<Conflict> {
    let line = ["conflicting route: ", "conflicting rule in routing table: "]
        .iter()
        .find_map(|p| router_error.trim().strip_prefix(p))?
        .trim();
    let f: Vec<&str> = line.split_whitespace().collect();
    let (cidr, gateway) = match f.as_slice() {
        // ip r: `<cidr> via <gateway> dev <if>`; without `via` it is on-link (gateway 0.0.0.0).
        [dest, "via", gw, ..] => (dest.to_string(), gw.to_string()),
        [dest, "dev", ..] => (dest.to_string(), "0.0.0.0".to_owned()),
        // netstat -rn on Linux: `<dest> <gateway> <genmask> ...`.
        [dest, gw, mask, ..]
            if !dest.contains('/') && mask.parse::<std::net::Ipv4Addr>().is_ok() =>
        {
            let bits = u32::from(mask.parse::<std::net::Ipv4Addr>().ok()?).count_ones();
            (format!("{dest}/{bits}"), gw.to_string())
        }
        // netstat -nr on macOS: `<dest> <gateway> <flags> <netif>`.
        [dest, gw, ..] => (dest.to_string(), gw.to_string()),
        _ => return None,
    };
    Some(Conflict {
        cidr,
        gateway,
        line: line.to_owned(),
    })
}

/// Whose route it is, as far as this host can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub profile: String,
    /// `minikube tunnel -p <profile>` running now.
    pub tunnel_pid: Option<u32>,
    /// meshup's supervisor of that profile's tunnel, if one runs.
    pub supervisor_pid: Option<u32>,
}

/// The minikube profile (not `me`) whose node has `gateway`, from the profiles' `config.json`
/// under minikube's home; `profiles_dir` is meshup's (`<state>/profiles`).
pub fn owner(gateway: &str, me: &str, mini_home: &Path, profiles_dir: &Path) -> Option<Owner> {
    let entries = std::fs::read_dir(mini_home.join("profiles")).ok()?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n != me)
        .collect();
    names.sort();
    let profile = names.into_iter().find(|name| {
        std::fs::read_to_string(mini_home.join("profiles").join(name).join("config.json"))
            .ok()
            .and_then(|t| crate::cluster::status::parse_profile_config(name, &t).ok())
            .is_some_and(|p| p.node_ip.as_deref() == Some(gateway))
    })?;
    Some(Owner {
        tunnel_pid: procs::tunnels(&profile, None).first().copied(),
        supervisor_pid: super::running(&profiles_dir.join(&profile), &profile),
        profile,
    })
}

/// The failure for profile `me` (state dir `dir`, `<state>/profiles/<me>`), its owner looked up
/// on this host.
pub fn on_host(me: &str, dir: &Path, my_route: &str, c: &Conflict) -> Failure {
    let owner = procs::our_mini_path()
        .and_then(|home| owner(&c.gateway, me, &home, dir.parent().unwrap_or(dir)));
    failure(me, my_route, c, owner.as_ref())
}

/// The exit-6 failure: what is in the way, why both cannot be, what to do.
pub fn failure(me: &str, my_route: &str, c: &Conflict, owner: Option<&Owner>) -> Failure {
    let whose = match owner {
        Some(Owner {
            profile,
            tunnel_pid: Some(pid),
            ..
        }) => format!("the tunnel of profile `{profile}`, pid {pid}"),
        Some(Owner { profile, .. }) => {
            format!("the cluster of profile `{profile}`, whose tunnel no longer runs")
        }
        None => "no minikube profile on this host has that gateway".to_owned(),
    };
    let mine = if my_route.is_empty() {
        String::new()
    } else {
        format!(", so this cluster's route {my_route} cannot be added")
    };
    let mut f = Failure::new(
        ExitKind::Tunnel,
        format!(
            "the host already routes {} via {} ({whose}){mine}: two clusters with the same service CIDR cannot both be tunnelled (minikube tunnel -p {me}: `conflicting route: {}`)",
            c.cidr, c.gateway, c.line
        ),
    );
    f = match owner {
        Some(Owner {
            profile,
            supervisor_pid: Some(_),
            ..
        }) => f.hint(format!(
            "stop the other cluster's tunnel: `meshup tunnel stop -p {profile}` (or the whole cluster: `meshup down -p {profile}`), then run this again"
        )),
        Some(Owner {
            profile,
            tunnel_pid: Some(pid),
            ..
        }) => f.hint(format!(
            "stop the other cluster's tunnel (not started by meshup): Ctrl-C in its terminal, or `kill -INT {pid}` so it removes its route (`meshup tunnel stop -p {profile}` does that too), then run this again"
        )),
        _ => f.hint(format!(
            "nothing of meshup's holds that route: if nothing needs it, `sudo ip route delete {}` removes it, then run this again",
            c.cidr
        )),
    };
    f.hint(format!(
        "or give this cluster a service range of its own, e.g. `--service-cluster-ip-range=10.112.0.0/16` under `cluster.extraArgs` (set when the cluster is created: `meshup down -p {me}` first); `meshup matrix` gives each cell its own"
    ))
    .details(serde_json::json!({
        "reason": "ROUTE_CONFLICT",
        "route": c.cidr,
        "via": c.gateway,
        "line": c.line,
        "otherProfile": owner.map(|o| &o.profile),
        "otherTunnelPid": owner.and_then(|o| o.tunnel_pid),
        "otherSupervisorPid": owner.and_then(|o| o.supervisor_pid),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lines_minikube_quotes() {
        let ip_r =
            parse("conflicting route: 10.96.0.0/12 via 192.168.49.2 dev br-3f2a9c1b7e5d").unwrap();
        assert_eq!(
            (ip_r.cidr.as_str(), ip_r.gateway.as_str()),
            ("10.96.0.0/12", "192.168.49.2")
        );
        assert_eq!(
            ip_r.line,
            "10.96.0.0/12 via 192.168.49.2 dev br-3f2a9c1b7e5d"
        );
        let mac = parse("conflicting rule in routing table: 10.96/12           192.168.64.194     UGSc           bridge100").unwrap();
        assert_eq!(
            (mac.cidr.as_str(), mac.gateway.as_str()),
            ("10.96/12", "192.168.64.194")
        );
        let netstat = parse("conflicting rule in routing table: 10.96.0.0       192.168.49.2    255.240.0.0     UG        0 0          0 br-a").unwrap();
        assert_eq!(netstat.cidr, "10.96.0.0/12");
        assert_eq!(
            parse("conflicting route: 10.96.0.0/12 dev eth1")
                .unwrap()
                .gateway,
            "0.0.0.0"
        );
        for other in [
            "no errors",
            "error adding Route: sudo: a password is required\n, 2",
            "conflicting route: ",
        ] {
            assert_eq!(parse(other), None, "{other}");
        }
    }

    fn profile(home: &Path, name: &str, ip: &str) {
        let dir = home.join("profiles").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("config.json"),
            format!(r#"{{"Name":"{name}","KubernetesConfig":{{"ServiceCIDR":"10.96.0.0/12"}},"Nodes":[{{"IP":"{ip}","ControlPlane":true}}]}}"#),
        )
        .unwrap();
    }

    #[test]
    fn the_owner_is_the_profile_whose_node_is_the_gateway() {
        let home = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        profile(home.path(), "a", "192.168.49.2");
        profile(home.path(), "b", "192.168.58.2");
        let o = owner("192.168.49.2", "b", home.path(), state.path()).unwrap();
        assert_eq!(o.profile, "a");
        assert_eq!(o.supervisor_pid, None);
        // Never this profile itself, and nobody for an unknown gateway.
        assert_eq!(owner("192.168.58.2", "b", home.path(), state.path()), None);
        assert_eq!(owner("10.0.0.1", "b", home.path(), state.path()), None);
    }

    #[test]
    fn the_message_names_the_other_tunnel_and_both_ways_out() {
        let c =
            parse("conflicting route: 10.96.0.0/12 via 192.168.49.2 dev br-3f2a9c1b7e5d").unwrap();
        let o = Owner {
            profile: "a".into(),
            tunnel_pid: Some(4242),
            supervisor_pid: Some(4240),
        };
        let f = failure("b", "10.96.0.0/12 -> 192.168.58.2", &c, Some(&o));
        assert_eq!(f.kind, ExitKind::Tunnel);
        assert!(
            f.message.starts_with("the host already routes 10.96.0.0/12 via 192.168.49.2 (the tunnel of profile `a`, pid 4242), so this cluster's route 10.96.0.0/12 -> 192.168.58.2 cannot be added: two clusters with the same service CIDR cannot both be tunnelled"),
            "{}",
            f.message
        );
        assert!(
            f.hints[0].contains("`meshup tunnel stop -p a`"),
            "{:?}",
            f.hints
        );
        assert!(f.hints[0].contains("`meshup down -p a`"), "{:?}", f.hints);
        assert!(
            f.hints[1].contains("--service-cluster-ip-range"),
            "{:?}",
            f.hints
        );
        assert!(f.hints[1].contains("cluster.extraArgs"), "{:?}", f.hints);
        assert_eq!(f.details["otherProfile"], "a");
        let foreign = Owner {
            supervisor_pid: None,
            ..o
        };
        let f = failure("b", "", &c, Some(&foreign));
        assert!(f.hints[0].contains("kill -INT 4242"), "{:?}", f.hints);
        let f = failure("b", "", &c, None);
        assert!(
            f.message
                .contains("no minikube profile on this host has that gateway")
        );
        assert!(
            f.hints[0].contains("sudo ip route delete 10.96.0.0/12"),
            "{:?}",
            f.hints
        );
    }
}
