//! The test harness: starts a world, gives its environment, cleans up.
