//! Property tests for the parsers: round trips and no panics on arbitrary input.

use meshup::compat::Version;
use meshup::scenario::quantity::{
    Cpus, Memory, parse_cpus, parse_duration, parse_memory, parse_memory_mb,
};
use meshup::scenario::set::parse_set;
use meshup::scenario::validate::{parse_istio, parse_kubernetes};
use proptest::prelude::*;

proptest! {
    #[test]
    fn memory_in_mb_round_trips(mb in 1800u64..10_000_000) {
        prop_assert_eq!(parse_memory(&mb.to_string()), Ok(Memory::Mb(mb)));
        prop_assert_eq!(parse_memory(&format!("{mb}mb")), Ok(Memory::Mb(mb)));
        prop_assert_eq!(parse_memory(&format!("{mb}MiB")), Ok(Memory::Mb(mb)));
        // What meshup passes to minikube parses back to the same size.
        let arg = Memory::Mb(mb).minikube_arg();
        prop_assert_eq!(parse_memory(&arg), Ok(Memory::Mb(mb)));
    }

    #[test]
    fn gigabytes_are_binary(g in 2u64..4096, unit in prop::sample::select(vec!["g", "gb", "G", "GiB", " gb", "GB"])) {
        prop_assert_eq!(parse_memory(&format!("{g}{unit}")), Ok(Memory::Mb(g * 1024)));
    }

    #[test]
    fn memory_never_panics(s in "\\PC{0,24}") {
        let _ = parse_memory(&s);
        let _ = parse_memory_mb(&s);
    }

    #[test]
    fn cpus_round_trip(n in 2u32..100_000) {
        prop_assert_eq!(parse_cpus(&n.to_string()), Ok(Cpus::Count(n)));
        prop_assert_eq!(parse_cpus(&Cpus::Count(n).to_string()), Ok(Cpus::Count(n)));
    }

    #[test]
    fn cpus_and_durations_never_panic(s in "\\PC{0,24}") {
        let _ = parse_cpus(&s);
        let _ = parse_duration(&s);
    }

    #[test]
    fn versions_round_trip(minor in 0u64..200, patch in 0u64..200) {
        let v = Version::parse(&format!("1.{minor}.{patch}")).unwrap();
        prop_assert_eq!(Version::parse(&v.v()), Some(v.clone()));
        prop_assert_eq!(Version::parse(&v.to_string()), Some(v));
    }

    #[test]
    fn version_parsers_never_panic(s in "\\PC{0,24}") {
        let _ = Version::parse(&s);
        let _ = parse_kubernetes(&s);
        let _ = parse_istio(&s);
    }

    #[test]
    fn set_values_are_kept_exactly(
        path in "[a-zA-Z][a-zA-Z0-9_-]{0,8}(\\.[a-zA-Z][a-zA-Z0-9_-]{0,8}){0,4}",
        value in "\\PC{0,30}",
    ) {
        let (k, v) = parse_set(&format!("{path}={value}")).unwrap();
        prop_assert_eq!(k, path);
        prop_assert_eq!(v, value);
    }

    #[test]
    fn set_never_panics(s in "\\PC{0,40}") {
        let _ = parse_set(&s);
    }
}
