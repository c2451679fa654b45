//! The host's routing table as the fake tunnel sees it, kept in the world (`host/routes`,
//! `cidr gateway profile pid` per line: the profile and pid stand for the kernel knowing who
//! added a route; nothing prints them).
//!
//! How minikube decides (pkg/minikube/tunnel/route.go, `routingTable.Check`, and tunnel.go,
//! `setupRoute`, in kubernetes/minikube):
//! - the same destination CIDR via the same gateway *exists* (nothing to add);
//! - the same destination CIDR via another gateway is a *conflict*: the route is not added,
//!   `router: conflicting route: <the `ip r` line>` shows in the status block, the check is
//!   repeated on every update, and the load balancer emulator patches nothing meanwhile;
//! - a CIDR that only *overlaps* (one contains the other's address, not equal) is merely logged
//!   (klog, not the status block) and the route is added: the kernel keeps both, the longer
//!   prefix wins.
//!
//! minikube reads the table with `ip r` on Linux (route_linux.go, `Inspect`); the line it quotes
//! is that command's: `10.96.0.0/12 via 192.168.49.2 dev br-<docker network id[:12]>`. The
//! interface is named after the docker network's id, not the profile, so nothing in the line
//! names the other cluster.

use std::path::PathBuf;

pub(super) struct Routes {
    pub(super) path: PathBuf,
}

/// A parsed IPv4 CIDR, normalized (host bits cleared), as Go's `net.ParseCIDR` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Net {
    addr: u32,
    bits: u32,
}

impl Net {
    pub(super) fn parse(cidr: &str) -> Option<Net> {
        let (ip, bits) = cidr.split_once('/')?;
        let ip: std::net::Ipv4Addr = ip.parse().ok()?;
        let bits: u32 = bits.parse().ok().filter(|b| *b <= 32)?;
        let mask = Self::mask(bits);
        Some(Net {
            addr: u32::from(ip) & mask,
            bits,
        })
    }

    fn mask(bits: u32) -> u32 {
        if bits == 0 {
            0
        } else {
            u32::MAX << (32 - bits)
        }
    }
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", std::net::Ipv4Addr::from(self.addr), self.bits)
    }
}

/// What the table says about adding `cidr via gateway`.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Check {
    Exists,
    /// The `ip r` line of the route in the way.
    Conflict(String),
    /// Nothing in the way (overlapping routes do not count).
    Free,
}

impl Routes {
    pub(super) fn lines(&self) -> Vec<Vec<String>> {
        std::fs::read_to_string(&self.path)
            .unwrap_or_default()
            .lines()
            .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
            .filter(|f| f.len() == 4)
            .collect()
    }

    pub(super) fn save(&self, lines: &[Vec<String>]) {
        let text: String = lines.iter().map(|l| format!("{}\n", l.join(" "))).collect();
        let _ = crate::fakes::common::write_atomically(&self.path, text.as_bytes());
    }

    pub(super) fn alive(pid: &str) -> bool {
        pid.parse::<i32>()
            .is_ok_and(|p| nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), None).is_ok())
    }

    /// Changes the table as one step: the kernel's table has no lost updates, so two tunnels
    /// adding or removing routes at once must not either (an exclusive lock on a file next to
    /// it, held across the read and the write).
    fn update<T>(&self, change: impl FnOnce(&mut Vec<Vec<String>>) -> T) -> T {
        use nix::fcntl::{Flock, FlockArg};
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.path.with_extension("lock"))
            .ok()
            .and_then(|f| Flock::lock(f, FlockArg::LockExclusive).ok());
        let mut lines = self.lines();
        let out = change(&mut lines);
        self.save(&lines);
        drop(lock);
        out
    }

    /// `--cleanup`: drop routes whose tunnel died.
    pub(super) fn cleanup(&self) {
        self.update(|t| t.retain(|l| Self::alive(&l[3])));
    }

    /// `ip route add`, checked again under the lock: a route for the same CIDR via another
    /// gateway added since the first check is route.go's race, "conflicting rule in routing
    /// table".
    pub(super) fn add(&self, net: &Net, entry: [String; 4]) -> Result<(), String> {
        self.update(|t| {
            let same = |l: &Vec<String>| Net::parse(&l[0]).as_ref() == Some(net);
            if t.iter().any(|l| same(l) && l[1] == entry[1]) {
                return Ok(());
            }
            if let Some(l) = t.iter().find(|l| same(l)) {
                return Err(format!(
                    "conflicting rule in routing table: {}",
                    Self::ip_r_line(l)
                ));
            }
            t.push(entry.to_vec());
            Ok(())
        })
    }

    /// `ip route delete` of the routes this tunnel (`pid`) added.
    pub(super) fn remove_by(&self, pid: u32) {
        let pid = pid.to_string();
        self.update(|t| t.retain(|l| l[3] != pid));
    }

    /// route.go's `Check` for `net via gateway` (first conflict wins, as there).
    pub(super) fn check(&self, net: &Net, gateway: &str) -> Check {
        let mut conflict = None;
        for l in self.lines() {
            if Net::parse(&l[0]).as_ref() != Some(net) {
                continue;
            }
            if l[1] == gateway {
                return Check::Exists;
            }
            conflict.get_or_insert_with(|| Self::ip_r_line(&l));
        }
        conflict.map_or(Check::Free, Check::Conflict)
    }

    /// The line `ip r` prints for a table entry.
    pub(super) fn ip_r_line(l: &[String]) -> String {
        let dest = Net::parse(&l[0]).map_or_else(|| l[0].clone(), |n| n.to_string());
        format!("{dest} via {} dev br-{}", l[1], network_id(&l[2]))
    }
}

/// A stable stand-in for the first 12 hex digits of the profile's docker network id.
fn network_id(profile: &str) -> String {
    // FNV-1a: stable across runs and builds (std's hasher is not).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in profile.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012x}", h & 0xffff_ffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(lines: &str) -> (tempfile::TempDir, Routes) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("routes");
        std::fs::write(&path, lines).unwrap();
        (dir, Routes { path })
    }

    #[test]
    fn equal_is_exists_or_conflict_and_overlap_is_neither() {
        let (_d, r) = table("10.96.0.0/12 192.168.49.2 a 1\n");
        let n = |c| Net::parse(c).unwrap();
        assert_eq!(r.check(&n("10.96.0.0/12"), "192.168.49.2"), Check::Exists);
        // Host bits are cleared, as net.ParseCIDR does.
        assert_eq!(r.check(&n("10.100.0.1/12"), "192.168.49.2"), Check::Exists);
        let Check::Conflict(line) = r.check(&n("10.96.0.0/12"), "192.168.58.2") else {
            panic!()
        };
        assert!(
            line.starts_with("10.96.0.0/12 via 192.168.49.2 dev br-"),
            "{line}"
        );
        assert_eq!(
            line.len(),
            "10.96.0.0/12 via 192.168.49.2 dev br-".len() + 12
        );
        assert!(
            !line.contains(" a"),
            "the line does not name the profile: {line}"
        );
        // Contained in, or containing, 10.96.0.0/12: an overlap, added anyway.
        assert_eq!(r.check(&n("10.96.0.0/16"), "192.168.58.2"), Check::Free);
        assert_eq!(r.check(&n("10.0.0.0/8"), "192.168.58.2"), Check::Free);
        assert_eq!(r.check(&n("10.112.0.0/16"), "192.168.58.2"), Check::Free);
    }
}
