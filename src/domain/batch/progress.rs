//! How far a batch is, and how long the rest should take.

use std::time::Duration;

/// Counts of the batch's requests, for the window and the CLI.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Requests bound.
    pub bound: usize,
    /// Cards CM refused (each left its request in the queue).
    pub refused: usize,
    /// Requests failed, waiting for a retry or a skip.
    pub failed: usize,
    /// Requests skipped.
    pub skipped: usize,
    /// Requests not settled: queued, binding or awaiting reconciliation.
    pub remaining: usize,
    /// Of `remaining`, binds running now.
    pub in_flight: usize,
    /// Of `remaining`, lost answers waiting for reconciliation.
    pub awaiting_reconcile: usize,
    /// Binds that ended because the card was taken out.
    pub pulled: usize,
}

/// The time the `remaining` requests should take, from the observed time
/// per card (the time between one card bound and the next, which counts the
/// card swaps and the readers working side by side).
///
/// The median, not the mean: one card left on a desk over lunch must not
/// make the estimate useless for the rest of the day. `None` until one card
/// has been timed.
pub fn eta(per_card_times: &[Duration], remaining: usize) -> Option<Duration> {
    if per_card_times.is_empty() {
        return None;
    }
    let mut sorted = per_card_times.to_vec();
    sorted.sort_unstable();
    let middle = sorted.len() / 2;
    let median = if sorted.len().is_multiple_of(2) {
        (sorted[middle - 1] + sorted[middle]) / 2
    } else {
        sorted[middle]
    };
    // Saturate rather than overflow: a silly estimate beats a panic.
    let count = u32::try_from(remaining).unwrap_or(u32::MAX);
    Some(median.saturating_mul(count))
}
