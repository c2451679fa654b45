//! Each matrix cell's service range (`--service-cluster-ip-range`). Cells that run at once each
//! keep a tunnel, and route mode adds a host route for the cluster's service range: the same
//! range twice and the second tunnel cannot add its route (minikube's `conflicting route`, see
//! `tunnel::route_conflict`); overlapping ranges are both routed and the longer prefix takes
//! the overlap's traffic to the wrong cluster. So a cell that pins no range gets a /16 of its own
//! from 10.112.0.0–10.255.0.0 (past minikube's default 10.96.0.0/12), skipping every range a cell
//! pinned, and pinned ranges that collide are refused (exit 2) before anything starts.

use crate::error::{ExitKind, Failure};
use crate::scenario::matrix::Entry;

const FLAG: &str = "--service-cluster-ip-range";

/// An IPv4 CIDR, host bits cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Net {
    addr: u32,
    bits: u32,
}

impl Net {
    fn parse(text: &str) -> Option<Net> {
        let (ip, bits) = text.trim().split_once('/')?;
        let ip: std::net::Ipv4Addr = ip.parse().ok()?;
        let bits: u32 = bits.parse().ok().filter(|b| *b <= 32)?;
        Some(Net {
            addr: u32::from(ip) & Self::mask(bits),
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

    /// One contains the other (CIDR blocks either nest or are disjoint).
    fn overlaps(&self, o: &Net) -> bool {
        let bits = self.bits.min(o.bits);
        self.addr & Self::mask(bits) == o.addr & Self::mask(bits)
    }
}

/// The range a cell's `extraArgs` pins (`--service-cluster-ip-range=X`, or the flag and `X`
/// as two items).
fn pinned(args: &[String]) -> Option<String> {
    args.iter().enumerate().find_map(|(i, a)| {
        if let Some(v) = a.strip_prefix(FLAG).and_then(|r| r.strip_prefix('=')) {
            Some(v.to_owned())
        } else if a == FLAG {
            Some(args.get(i + 1).cloned().unwrap_or_default())
        } else {
            None
        }
    })
}

const ACCEPTED: &str = "leave `--service-cluster-ip-range` out of `cluster.extraArgs` and meshup gives each cell a /16 of its own (10.112.0.0/16, 10.113.0.0/16, ...), or pin ranges that do not overlap (e.g. 10.200.0.0/16 and 10.201.0.0/16)";

/// Checks pinned ranges and gives every other cell its own. `together`: why cells may run at
/// once (`--parallel` above 1, or `--keep`, which leaves each cell's cluster and tunnel up).
pub fn assign(entries: &mut [Entry], together: Option<&str>) -> anyhow::Result<()> {
    let mut pins: Vec<(String, String, Net)> = Vec::new();
    for e in entries.iter() {
        let Some(text) = pinned(&e.scenario.cluster.extra_args) else {
            continue;
        };
        let profile = e.scenario.cluster.profile.clone();
        let Some(net) = Net::parse(&text) else {
            return Err(Failure::new(
                ExitKind::Usage,
                format!(
                    "cell `{profile}`: cluster.extraArgs {FLAG}=`{}` is not an IPv4 range; accepted: a CIDR such as 10.200.0.0/16",
                    crate::scenario::text::escape_controls(&text)
                ),
            )
            .hint(ACCEPTED)
            .into());
        };
        pins.push((profile, text, net));
    }
    if let Some(why) = together {
        let clashes: Vec<String> = pins
            .iter()
            .enumerate()
            .flat_map(|(i, a)| pins[i + 1..].iter().map(move |b| (a, b)))
            .filter(|(a, b)| a.2.overlaps(&b.2))
            .map(|(a, b)| {
                let how = if a.2 == b.2 {
                    "the same range"
                } else {
                    "overlapping ranges"
                };
                format!("`{}` ({}) and `{}` ({}): {how}", a.0, a.1, b.0, b.1)
            })
            .collect();
        if !clashes.is_empty() {
            // A range pinned in `base:` is every cell's: name a few pairs, count the rest.
            let more = clashes.len().saturating_sub(4);
            let mut clashes: Vec<String> = clashes.into_iter().take(4).collect();
            if more > 0 {
                clashes.push(format!("... and {more} more pair(s)"));
            }
            return Err(Failure::new(
                ExitKind::Usage,
                format!(
                    "cells that may run at once ({why}) pin colliding service ranges ({FLAG} in cluster.extraArgs):\n  {}\nEach running cell's tunnel routes its range on this host: the same range twice cannot be routed (minikube's `conflicting route`), overlapping ones send the overlap to the wrong cluster",
                    clashes.join("\n  ")
                ),
            )
            .hint(ACCEPTED)
            .hint("or run the cells one at a time: `--parallel 1` (without `--keep`)")
            .into());
        }
    }
    let mut free = (112u32..=255)
        .map(|b| Net {
            addr: (10 << 24) | (b << 16),
            bits: 16,
        })
        .filter(|n| !pins.iter().any(|p| p.2.overlaps(n)));
    let mut short = 0;
    for e in entries.iter_mut() {
        let c = &mut e.scenario.cluster;
        if pinned(&c.extra_args).is_some() {
            continue;
        }
        match free.next() {
            Some(n) => c
                .extra_args
                .push(format!("{FLAG}={}/16", std::net::Ipv4Addr::from(n.addr))),
            None => short += 1,
        }
    }
    if short > 0 {
        return Err(Failure::new(
            ExitKind::Usage,
            format!(
                "{short} cell(s) get no service range of their own: 10.112.0.0/16–10.255.0.0/16 are all taken (by other cells or by pinned ranges)"
            ),
        )
        .hint("split the matrix (`exclude:`, fewer axis values), or pin ranges for some cells in cluster.extraArgs")
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(pins: &[Option<&str>]) -> Vec<Entry> {
        pins.iter()
            .enumerate()
            .map(|(i, p)| {
                let mut scenario =
                    crate::scenario::resolve(&[crate::scenario::Layer::default()]).expect("valid");
                scenario.cluster.profile = format!("cell-{i}");
                if let Some(p) = p {
                    scenario.cluster.extra_args = vec![format!("{FLAG}={p}")];
                }
                Entry {
                    values: Vec::new(),
                    scenario,
                }
            })
            .collect()
    }

    fn ranges(es: &[Entry]) -> Vec<String> {
        es.iter()
            .map(|e| pinned(&e.scenario.cluster.extra_args).unwrap())
            .collect()
    }

    #[test]
    fn unpinned_cells_get_their_own_16_skipping_pinned_ones() {
        let mut es = entries(&[
            None,
            Some("10.113.0.0/16"),
            None,
            Some("10.114.128.0/17"),
            None,
        ]);
        assign(&mut es, Some("--parallel 2")).unwrap();
        assert_eq!(
            ranges(&es),
            [
                "10.112.0.0/16",
                "10.113.0.0/16",
                "10.115.0.0/16",
                "10.114.128.0/17",
                "10.116.0.0/16"
            ]
        );
    }

    #[test]
    fn colliding_pins_are_refused_when_cells_run_together() {
        let mut es = entries(&[Some("10.96.0.0/12"), None, Some("10.100.0.0/16")]);
        let f = assign(&mut es, Some("--parallel 2"))
            .unwrap_err()
            .downcast::<Failure>()
            .unwrap();
        assert_eq!(f.kind, ExitKind::Usage);
        assert!(
            f.message.contains(
                "`cell-0` (10.96.0.0/12) and `cell-2` (10.100.0.0/16): overlapping ranges"
            ),
            "{}",
            f.message
        );
        assert!(f.hints[0].contains("meshup gives each cell a /16 of its own"));
        let mut same = entries(&[Some("10.200.0.0/16"), Some("10.200.0.1/16")]);
        let f = assign(&mut same, Some("--parallel 2"))
            .unwrap_err()
            .downcast::<Failure>()
            .unwrap();
        assert!(f.message.contains("the same range"), "{}", f.message);
        // One at a time, torn down after each: no two tunnels at once.
        assign(
            &mut entries(&[Some("10.96.0.0/12"), Some("10.96.0.0/12")]),
            None,
        )
        .unwrap();
        // Disjoint pins are fine.
        assign(
            &mut entries(&[Some("10.200.0.0/16"), Some("10.201.0.0/16")]),
            Some("--parallel 2"),
        )
        .unwrap();
    }

    #[test]
    fn a_pin_that_is_not_a_range_and_running_out_are_refused() {
        let f = assign(&mut entries(&[Some("ten")]), Some("--parallel 2"))
            .unwrap_err()
            .downcast::<Failure>()
            .unwrap();
        assert!(
            f.message.contains("`ten` is not an IPv4 range"),
            "{}",
            f.message
        );
        // Two-item form: the flag, then the value.
        let mut es = entries(&[None]);
        es[0].scenario.cluster.extra_args = vec![FLAG.into(), "10.250.0.0/16".into()];
        assert_eq!(
            pinned(&es[0].scenario.cluster.extra_args).as_deref(),
            Some("10.250.0.0/16")
        );
        let f = assign(
            &mut entries(&[Some("10.0.0.0/8"), None]),
            Some("--parallel 2"),
        )
        .unwrap_err()
        .downcast::<Failure>()
        .unwrap();
        assert!(
            f.message.contains("1 cell(s) get no service range"),
            "{}",
            f.message
        );
    }
}
