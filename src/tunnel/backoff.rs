//! When to restart a tunnel that died, and when to stop trying. Capped exponential backoff;
//! the count resets when a run reached `running` (a tunnel killed after it worked is restarted
//! at once, however often that happens), and the same startup failure `max_same` times in a
//! row ends in `failed` with that reason instead of an endless restart loop.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Policy {
    pub base: Duration,
    pub cap: Duration,
    pub max_same: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(10),
            max_same: 3,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Restart(Duration),
    GiveUp,
}

#[derive(Debug, Clone, Default)]
pub struct Backoff {
    failures: u32,
    same: u32,
    last_reason: Option<String>,
}

impl Backoff {
    /// A run ended. `reached_running`: it had served before it died.
    pub fn next(&mut self, policy: &Policy, reason: &str, reached_running: bool) -> Verdict {
        if reached_running {
            self.failures = 0;
            self.same = 0;
            self.last_reason = None;
            return Verdict::Restart(policy.base);
        }
        if self.last_reason.as_deref() == Some(reason) {
            self.same += 1;
        } else {
            self.same = 1;
            self.last_reason = Some(reason.to_owned());
        }
        if self.same >= policy.max_same {
            return Verdict::GiveUp;
        }
        let factor = 2u32.saturating_pow(self.failures.min(16));
        self.failures += 1;
        Verdict::Restart(policy.base.saturating_mul(factor).min(policy.cap))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Verdict {
        Verdict::Restart(Duration::from_millis(n))
    }

    #[test]
    fn doubles_up_to_the_cap_and_gives_up_on_the_same_reason() {
        let p = Policy {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(300),
            max_same: 3,
        };
        let mut b = Backoff::default();
        assert_eq!(b.next(&p, "exit 1", false), ms(100));
        assert_eq!(b.next(&p, "exit 2", false), ms(200));
        assert_eq!(b.next(&p, "exit 2", false), ms(300));
        assert_eq!(b.next(&p, "exit 2", false), Verdict::GiveUp);
    }

    #[test]
    fn a_tunnel_that_worked_is_restarted_at_once_every_time() {
        let p = Policy::default();
        let mut b = Backoff::default();
        for _ in 0..20 {
            assert_eq!(
                b.next(&p, "killed by SIGKILL", true),
                Verdict::Restart(p.base)
            );
        }
        assert_eq!(b.next(&p, "exit 1", false), Verdict::Restart(p.base));
        assert_eq!(b.next(&p, "exit 1", false), Verdict::Restart(p.base * 2));
    }
}
