//! Request fingerprints, to notice two logs of the same traffic (nginx writing a combined
//! and a JSON log of the same requests is a common set-up, and doubles every count).
//!
//! Each external request is reduced to a 64-bit hash of what two logs of one request share:
//! its second, client, target, status and bytes. Each access source keeps a bounded,
//! hash-based sample of its distinct fingerprints: those with at least `level` leading zero
//! bits, `level` being the smallest that keeps at most [`CAP`] of them. The sample is a
//! function of the set of fingerprints alone (not of their order, nor of how they were
//! split among threads or chunks: samples merge by union), and two sources are sampled by
//! the same rule, so comparing their samples at the higher of their two levels estimates
//! the share of requests they have in common. The cost per external request is one hash and
//! a compare; memory is bounded per source.

use std::hash::BuildHasher;
use std::net::IpAddr;

use chrono::{DateTime, Utc};

use super::engine::canonical;

/// Distinct fingerprints a sample keeps at most.
pub const CAP: usize = 1024;

/// Fixed seed: the same request has the same fingerprint in every run (the estimates, and
/// so the outputs, are reproducible).
const SEED: u64 = 0x6c65_616b_6c69_6e65;

/// Sampled requests two sources must share before they are called duplicates: below that,
/// a coincidence (two probes of `/` in the same second) is too likely.
pub const MIN_SHARED: u64 = 3;
/// Share of the smaller source's sample that must be in the other's: "most of".
pub const MIN_SHARED_PERCENT: u64 = 50;

/// The fingerprint of a request: its second, client (canonical), target, status and bytes.
#[must_use]
pub fn fingerprint(
    time: DateTime<Utc>,
    client: IpAddr,
    target: &str,
    status: u16,
    bytes: u64,
) -> u64 {
    let client = match canonical(client) {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6) ^ (1 << 127),
    };
    foldhash::quality::FixedState::with_seed(SEED).hash_one((
        time.timestamp(),
        client,
        status,
        bytes,
        target,
    ))
}

/// A bounded sample of one source's distinct request fingerprints (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sample {
    /// Leading zero bits a fingerprint needs to be kept.
    level: u32,
    /// Kept fingerprints; sorted and distinct after [`Sample::settle`], which every change
    /// of `level` goes through.
    kept: Vec<u64>,
}

impl Sample {
    /// Offer one fingerprint.
    pub fn add(&mut self, fp: u64) {
        if fp.leading_zeros() < self.level {
            return;
        }
        self.kept.push(fp);
        if self.kept.len() > 2 * CAP {
            self.settle();
        }
    }

    /// Sort, drop repeats, and raise the level until at most [`CAP`] remain.
    pub fn settle(&mut self) {
        self.kept.sort_unstable();
        self.kept.dedup();
        while self.kept.len() > CAP {
            self.level += 1;
            let level = self.level;
            self.kept.retain(|fp| fp.leading_zeros() >= level);
        }
    }

    /// Fold another sample of the same source in (the union's sample). Settles only when
    /// the kept list outgrows twice the cap, as [`Sample::add`] does: a batch run merges one
    /// sample per chunk on its reading thread.
    pub fn merge(&mut self, other: &Sample) {
        let level = self.level.max(other.level);
        if level > self.level {
            self.level = level;
            self.kept.retain(|fp| fp.leading_zeros() >= level);
        }
        self.kept.extend(other.kept.iter().filter(|fp| fp.leading_zeros() >= level));
        if self.kept.len() > 2 * CAP {
            self.settle();
        }
    }

    /// `true` when nothing was kept.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// The kept fingerprints at `level` (sorted, distinct: call on a settled sample).
    fn at(&self, level: u32) -> impl Iterator<Item = u64> + '_ {
        self.kept.iter().copied().filter(move |fp| fp.leading_zeros() >= level)
    }

    /// `(shared, smaller)`: sampled fingerprints common to both (settled) samples, and the
    /// size of the smaller sample, both at the higher of the two levels.
    #[must_use]
    pub fn overlap(&self, other: &Sample) -> (u64, u64) {
        let level = self.level.max(other.level);
        let (mut a, mut b) = (self.at(level).peekable(), other.at(level).peekable());
        let (na, nb) = (self.at(level).count() as u64, other.at(level).count() as u64);
        let mut shared = 0;
        while let (Some(&x), Some(&y)) = (a.peek(), b.peek()) {
            match x.cmp(&y) {
                std::cmp::Ordering::Less => {
                    a.next();
                }
                std::cmp::Ordering::Greater => {
                    b.next();
                }
                std::cmp::Ordering::Equal => {
                    shared += 1;
                    a.next();
                    b.next();
                }
            }
        }
        (shared, na.min(nb))
    }

    /// The share (percent) of the smaller sample found in the other, when the two look like
    /// logs of the same traffic (see [`MIN_SHARED`], [`MIN_SHARED_PERCENT`]).
    #[must_use]
    pub fn duplicate_percent(&self, other: &Sample) -> Option<u8> {
        let (shared, smaller) = self.overlap(other);
        (shared >= MIN_SHARED && shared * 100 >= MIN_SHARED_PERCENT * smaller)
            .then(|| (shared * 100 / smaller.max(1)).min(100) as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fps(range: std::ops::Range<u64>) -> Vec<u64> {
        let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let ip: IpAddr = "203.0.113.9".parse().unwrap();
        range.map(|i| fingerprint(t, ip, &format!("/p/{i}"), 200, i)).collect()
    }

    fn sample(fps: &[u64]) -> Sample {
        let mut s = Sample::default();
        for &f in fps {
            s.add(f);
        }
        s.settle();
        s
    }

    #[test]
    fn the_sample_does_not_depend_on_order_or_splitting() {
        let all = fps(0..20_000);
        let whole = sample(&all);
        assert!(whole.kept.len() <= CAP && whole.kept.len() > CAP / 4, "{}", whole.kept.len());
        let mut reversed = all.clone();
        reversed.reverse();
        assert_eq!(sample(&reversed), whole);
        let mut merged = Sample::default();
        for part in all.chunks(777).rev() {
            merged.merge(&sample(part));
        }
        merged.settle();
        assert_eq!(merged, whole);
        // Unsettled parts (as batch workers hand them over) merge to the same sample.
        let mut raw = Sample::default();
        for part in all.chunks(3000) {
            let mut s = Sample::default();
            for &f in part {
                s.add(f);
            }
            raw.merge(&s);
        }
        raw.settle();
        assert_eq!(raw, whole);
        // Repeats change nothing.
        let mut twice = all.clone();
        twice.extend_from_slice(&all[..5000]);
        assert_eq!(sample(&twice), whole);
    }

    #[test]
    fn overlap_estimates_the_shared_share() {
        let a = sample(&fps(0..20_000));
        let same = sample(&fps(0..20_000));
        assert_eq!(a.duplicate_percent(&same), Some(100));
        // Half of the smaller one's requests are in the other: about 50 %.
        let half = sample(&fps(10_000..30_000));
        let (shared, smaller) = a.overlap(&half);
        let pct = shared * 100 / smaller;
        assert!((40..=60).contains(&pct), "{pct}");
        let apart = sample(&fps(50_000..70_000));
        assert_eq!(a.duplicate_percent(&apart), None);
        // A small source wholly inside a large one is a duplicate of it.
        let small = sample(&fps(100..130));
        assert_eq!(small.duplicate_percent(&a).is_some(), small.overlap(&a).1 >= MIN_SHARED);
        // Two requests in common are not enough to say anything.
        assert_eq!(sample(&fps(0..2)).duplicate_percent(&sample(&fps(0..2))), None);
    }

    #[test]
    fn fingerprints_differ_in_every_field_and_map_v4_with_v4() {
        let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let ip: IpAddr = "203.0.113.9".parse().unwrap();
        let mapped: IpAddr = "::ffff:203.0.113.9".parse().unwrap();
        let base = fingerprint(t, ip, "/", 200, 10);
        assert_eq!(base, fingerprint(t, mapped, "/", 200, 10));
        let later = t + chrono::TimeDelta::milliseconds(400);
        assert_eq!(base, fingerprint(later, ip, "/", 200, 10), "same second");
        let next = t + chrono::TimeDelta::seconds(1);
        for other in [
            fingerprint(next, ip, "/", 200, 10),
            fingerprint(t, "203.0.113.8".parse().unwrap(), "/", 200, 10),
            fingerprint(t, ip, "/x", 200, 10),
            fingerprint(t, ip, "/", 404, 10),
            fingerprint(t, ip, "/", 200, 11),
        ] {
            assert_ne!(base, other);
        }
    }
}
