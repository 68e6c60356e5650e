//! Random event sequences: whatever readers, binds and the operator do, no
//! card is bound to two requests, no request is bound twice, no card is in
//! two binds at once, and the cap holds.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use uuid::Uuid;

use super::*;

const READERS: u8 = 3;
const CARDS: u8 = 6;
const REQUESTS: u128 = 5;
const CAP: usize = 2;

/// One thing that may happen, with small numbers picking the reader, card,
/// running bind or request it touches.
#[derive(Clone, Debug)]
enum Step {
    Seen(u8, u8),
    Removed(u8),
    /// Ends the n-th running bind (modulo how many run) with result k.
    Finish(usize, u8),
    /// Reconciles the n-th lost answer.
    Reconcile(usize, bool),
    Assign,
    Pause,
    Unpause,
    Skip(u128),
    Retry(u128),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..READERS, 0..CARDS).prop_map(|(r, c)| Step::Seen(r, c)),
        2 => (0..READERS).prop_map(Step::Removed),
        3 => (0..4usize, 0..5u8).prop_map(|(n, k)| Step::Finish(n, k)),
        1 => (0..4usize, any::<bool>()).prop_map(|(n, b)| Step::Reconcile(n, b)),
        4 => Just(Step::Assign),
        1 => Just(Step::Pause),
        1 => Just(Step::Unpause),
        1 => (1..=REQUESTS).prop_map(Step::Skip),
        1 => (1..=REQUESTS).prop_map(Step::Retry),
    ]
}

fn result(k: u8) -> BindResult {
    match k {
        0 => BindResult::Bound,
        1 => BindResult::CardRefused("known".into()),
        2 => BindResult::Failed("403".into()),
        3 => BindResult::AnswerLost,
        _ => BindResult::CardPulled,
    }
}

proptest! {
    #[test]
    fn no_card_or_request_is_ever_bound_twice(steps in prop::collection::vec(step(), 0..80)) {
        let config = BatchConfig { max_concurrent_posts: CAP };
        let mut b = Batch::new((1..=REQUESTS).map(Uuid::from_u128), config).expect("valid");
        let t0 = Instant::now();
        // Card → the request it is bound to (or may be, after a lost answer).
        let mut bound_cards: HashMap<CardId, Uuid> = HashMap::new();
        let mut bound_requests: HashSet<Uuid> = HashSet::new();
        for (i, step) in steps.into_iter().enumerate() {
            let now = t0 + Duration::from_secs(i as u64);
            match step {
                Step::Seen(r, c) => b.apply(BatchEvent::CardSeen {
                    reader: format!("R{r}"),
                    card_id: CardId::from_raw([c; 16]),
                }).expect("never fails"),
                Step::Removed(r) => b.apply(BatchEvent::CardRemoved { reader: format!("R{r}") })
                    .expect("never fails"),
                Step::Finish(n, k) => {
                    let running: Vec<(Uuid, CardId)> = b.members().iter().filter_map(|m| match m.state {
                        MemberState::InFlight { card_id, .. } => Some((m.request, card_id)),
                        _ => None,
                    }).collect();
                    if running.is_empty() {
                        continue;
                    }
                    let (request, card_id) = running[n % running.len()];
                    let result = result(k);
                    if matches!(result, BindResult::Bound | BindResult::AnswerLost) {
                        // CM holds (or may hold) this card for this request now.
                        prop_assert!(bound_cards.insert(card_id, request).is_none(),
                            "card {card_id} reached CM for a second request");
                    }
                    if result == BindResult::Bound {
                        prop_assert!(bound_requests.insert(request), "request {request} bound twice");
                    }
                    b.apply(BatchEvent::BindFinished { request, result, at: now }).expect("running");
                }
                Step::Reconcile(n, bound) => {
                    let open: Vec<_> = b.awaiting_reconcile().collect();
                    if open.is_empty() {
                        continue;
                    }
                    let (request, _) = open[n % open.len()];
                    if bound {
                        prop_assert!(bound_requests.insert(request), "request {request} bound twice");
                    }
                    b.apply(BatchEvent::Reconciled { request, bound, at: now }).expect("awaiting");
                }
                Step::Assign => {
                    let given = b.next_assignments(now);
                    let cards: HashSet<_> = given.iter().map(|a| a.card_id).collect();
                    prop_assert_eq!(cards.len(), given.len(), "one card in two assignments");
                    for a in &given {
                        prop_assert!(!bound_cards.contains_key(&a.card_id),
                            "card {} already reached CM in this batch", a.card_id);
                        prop_assert!(!bound_requests.contains(&a.request));
                    }
                }
                Step::Pause => b.pause(),
                Step::Unpause => b.unpause(),
                Step::Skip(r) => { let _ = b.skip(Uuid::from_u128(r)); }
                Step::Retry(r) => {
                    let request = Uuid::from_u128(r);
                    // A retry after a confirmed failure frees the card: it is
                    // known not bound, so the model forgets it too.
                    if let Some(Member { state: MemberState::Failed { card_id: Some(c), .. }, .. }) = b.member(request)
                        && bound_cards.get(c) == Some(&request)
                    {
                        bound_cards.remove(c);
                    }
                    let _ = b.retry(request);
                }
            }
            // After every step: binds in flight hold distinct cards and readers, within the cap.
            let mut cards = HashSet::new();
            let mut readers = HashSet::new();
            for m in b.members() {
                if let MemberState::InFlight { reader, card_id, .. } = &m.state {
                    prop_assert!(cards.insert(*card_id), "card {card_id} in two binds");
                    prop_assert!(readers.insert(reader.clone()), "reader {reader} in two binds");
                }
            }
            prop_assert!(cards.len() <= CAP);
            let totals = b.totals();
            prop_assert_eq!(
                totals.bound + totals.failed + totals.skipped + totals.remaining,
                REQUESTS as usize
            );
        }
    }
}
