//! The batch's rules, one scenario each.

use std::time::{Duration, Instant};

use uuid::Uuid;

use super::*;

fn req(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn card(n: u8) -> CardId {
    CardId::from_raw([n; 16])
}

fn reader(n: u8) -> String {
    format!("Reader {n}")
}

fn batch(requests: u128, cap: usize) -> Batch {
    let config = BatchConfig {
        max_concurrent_posts: cap,
    };
    Batch::new((1..=requests).map(req), config).expect("a valid batch")
}

fn seen(b: &mut Batch, r: u8, c: u8) {
    b.apply(BatchEvent::CardSeen {
        reader: reader(r),
        card_id: card(c),
    })
    .expect("reader events never fail");
}

fn removed(b: &mut Batch, r: u8) {
    b.apply(BatchEvent::CardRemoved { reader: reader(r) })
        .expect("reader events never fail");
}

fn finish(b: &mut Batch, request: Uuid, result: BindResult, at: Instant) {
    b.apply(BatchEvent::BindFinished {
        request,
        result,
        at,
    })
    .expect("the bind was running");
}

fn assignment(r: u8, request: u128, c: u8) -> Assignment {
    Assignment {
        reader: reader(r),
        request: req(request),
        card_id: card(c),
    }
}

#[test]
fn two_readers_four_requests_fed_in_turn_bind_each_request_and_card_once() {
    let t0 = Instant::now();
    let mut b = batch(4, 4);
    seen(&mut b, 0, 10);
    seen(&mut b, 1, 11);
    assert_eq!(
        b.next_assignments(t0),
        vec![assignment(0, 1, 10), assignment(1, 2, 11)]
    );
    assert!(b.next_assignments(t0).is_empty(), "both readers are busy");
    finish(&mut b, req(1), BindResult::Bound, t0);
    assert!(
        b.next_assignments(t0).is_empty(),
        "the bound card is still in reader 0"
    );
    removed(&mut b, 0);
    seen(&mut b, 0, 12);
    assert_eq!(b.next_assignments(t0), vec![assignment(0, 3, 12)]);
    finish(&mut b, req(2), BindResult::Bound, t0);
    removed(&mut b, 1);
    seen(&mut b, 1, 13);
    assert_eq!(b.next_assignments(t0), vec![assignment(1, 4, 13)]);
    finish(&mut b, req(3), BindResult::Bound, t0);
    finish(&mut b, req(4), BindResult::Bound, t0);
    let bound: Vec<_> = b
        .members()
        .iter()
        .map(|m| (m.request, m.state.clone()))
        .collect();
    assert_eq!(
        bound,
        vec![
            (req(1), MemberState::Bound { card_id: card(10) }),
            (req(2), MemberState::Bound { card_id: card(11) }),
            (req(3), MemberState::Bound { card_id: card(12) }),
            (req(4), MemberState::Bound { card_id: card(13) }),
        ]
    );
    assert!(b.is_finished());
    assert_eq!(b.totals().bound, 4);
    assert_eq!(b.totals().remaining, 0);
}

#[test]
fn a_refused_card_does_not_use_up_the_request_which_takes_the_next_card() {
    let t0 = Instant::now();
    let mut b = batch(2, 4);
    seen(&mut b, 0, 10);
    assert_eq!(b.next_assignments(t0), vec![assignment(0, 1, 10)]);
    finish(
        &mut b,
        req(1),
        BindResult::CardRefused("CM already knows card".into()),
        t0,
    );
    assert_eq!(b.current(), Some(req(1)), "request 1 is back at the front");
    assert!(
        b.next_assignments(t0).is_empty(),
        "the refused card is never offered again"
    );
    seen(&mut b, 1, 11);
    assert_eq!(b.next_assignments(t0), vec![assignment(1, 1, 11)]);
    let member = b.member(req(1)).expect("in the batch");
    assert_eq!(member.refused_cards, vec![card(10)]);
    assert_eq!(b.totals().refused, 1);
}

#[test]
fn a_card_pulled_mid_bind_is_recorded_and_the_request_waits_for_a_card() {
    let t0 = Instant::now();
    let mut b = batch(2, 4);
    seen(&mut b, 0, 10);
    b.next_assignments(t0);
    removed(&mut b, 0);
    let Some(Member {
        state: MemberState::InFlight { card_pulled, .. },
        ..
    }) = b.member(req(1))
    else {
        panic!("still binding until the bind says how it ended");
    };
    assert!(card_pulled);
    finish(&mut b, req(1), BindResult::CardPulled, t0);
    let member = b.member(req(1)).expect("in the batch");
    assert_eq!((member.pulls, &member.state), (1, &MemberState::Queued));
    assert_eq!(b.totals().pulled, 1);
    // Nothing was sent for it, so the same card put back serves the request.
    seen(&mut b, 0, 10);
    assert_eq!(b.next_assignments(t0), vec![assignment(0, 1, 10)]);
}

#[test]
fn a_card_pulled_after_the_post_keeps_the_binds_own_outcome() {
    let t0 = Instant::now();
    let mut b = batch(1, 4);
    seen(&mut b, 0, 10);
    b.next_assignments(t0);
    removed(&mut b, 0);
    finish(&mut b, req(1), BindResult::Bound, t0);
    assert_eq!(
        b.member(req(1)).map(|m| &m.state),
        Some(&MemberState::Bound { card_id: card(10) })
    );
}

#[test]
fn the_cap_limits_binds_running_at_once() {
    let t0 = Instant::now();
    let mut b = batch(10, 4);
    for r in 0..6 {
        seen(&mut b, r, 10 + r);
    }
    let first = b.next_assignments(t0);
    assert_eq!(first.len(), 4);
    assert!(b.next_assignments(t0).is_empty());
    finish(&mut b, first[0].request, BindResult::Bound, t0);
    let more = b.next_assignments(t0);
    assert_eq!(more.len(), 1);
    assert_eq!(b.totals().in_flight, 4);
    assert_eq!(BatchConfig::default().max_concurrent_posts, 4);
}

#[test]
fn a_failed_request_is_retried_and_its_card_is_free_again() {
    let t0 = Instant::now();
    let mut b = batch(2, 4);
    seen(&mut b, 0, 10);
    b.next_assignments(t0);
    finish(&mut b, req(1), BindResult::Failed("403".into()), t0);
    assert_eq!(b.totals().failed, 1);
    assert!(b.next_assignments(t0).is_empty(), "card 10 is spent");
    assert_eq!(
        b.retry(req(2)),
        Err(BatchError::WrongState {
            request: req(2),
            state: "queued",
            wanted: "retried"
        })
    );
    b.retry(req(1)).expect("failed requests can be retried");
    assert_eq!(b.current(), Some(req(1)));
    assert_eq!(b.next_assignments(t0), vec![assignment(0, 1, 10)]);
}

#[test]
fn skip_passes_over_the_current_request_but_never_a_running_bind() {
    let t0 = Instant::now();
    let mut b = batch(3, 4);
    assert_eq!(b.skip_current(), Ok(req(1)));
    seen(&mut b, 0, 10);
    assert_eq!(b.next_assignments(t0), vec![assignment(0, 2, 10)]);
    assert!(matches!(
        b.skip(req(2)),
        Err(BatchError::WrongState {
            state: "binding",
            ..
        })
    ));
    b.skip(req(3)).expect("queued");
    assert_eq!(b.skip_current(), Err(BatchError::NothingQueued));
    assert_eq!(b.totals().skipped, 2);
    finish(&mut b, req(2), BindResult::Failed("x".into()), t0);
    b.skip(req(2)).expect("a failed request may be skipped");
    assert!(b.is_finished());
}

#[test]
fn pause_stops_new_binds_but_running_ones_finish() {
    let t0 = Instant::now();
    let mut b = batch(3, 4);
    seen(&mut b, 0, 10);
    b.next_assignments(t0);
    b.pause();
    assert_eq!(b.phase(), Phase::Paused);
    seen(&mut b, 1, 11);
    assert!(b.next_assignments(t0).is_empty());
    finish(&mut b, req(1), BindResult::Bound, t0);
    assert_eq!(b.totals().bound, 1);
    b.unpause();
    assert_eq!(b.next_assignments(t0), vec![assignment(1, 2, 11)]);
}

#[test]
fn stop_ends_the_batch_once_running_binds_are_done() {
    let t0 = Instant::now();
    let mut b = batch(3, 4);
    seen(&mut b, 0, 10);
    b.next_assignments(t0);
    b.stop();
    b.unpause();
    assert_eq!(b.phase(), Phase::Stopped, "a stopped batch stays stopped");
    seen(&mut b, 1, 11);
    assert!(b.next_assignments(t0).is_empty());
    assert!(!b.is_finished(), "a bind still runs");
    finish(&mut b, req(1), BindResult::Bound, t0);
    assert!(b.is_finished());
    assert_eq!(b.totals().remaining, 2);
}

#[test]
fn resume_reconciles_the_unfinished_bind_before_the_rest_of_the_queue() {
    let t0 = Instant::now();
    let records = [
        MemberRecord {
            request: req(1),
            card_id: Some(card(10)),
            outcome: RecordedOutcome::Bound,
        },
        MemberRecord {
            request: req(2),
            card_id: Some(card(11)),
            outcome: RecordedOutcome::CardRefused,
        },
        MemberRecord {
            request: req(2),
            card_id: Some(card(12)),
            outcome: RecordedOutcome::Unfinished,
        },
    ];
    let mut b =
        Batch::resume((1..=4).map(req), &records, BatchConfig::default()).expect("a valid journal");
    assert_eq!(
        b.awaiting_reconcile().collect::<Vec<_>>(),
        vec![(req(2), card(12))]
    );
    seen(&mut b, 0, 13);
    assert!(
        b.next_assignments(t0).is_empty(),
        "nothing new before the unfinished bind is known"
    );
    b.apply(BatchEvent::Reconciled {
        request: req(2),
        bound: true,
        at: t0,
    })
    .expect("awaiting reconciliation");
    assert_eq!(b.next_assignments(t0), vec![assignment(0, 3, 13)]);
    // Every card the journal names stays used.
    for c in [10, 11, 12] {
        removed(&mut b, 1);
        seen(&mut b, 1, c);
        assert!(b.next_assignments(t0).is_empty(), "card {c} was used");
    }
    assert_eq!(b.totals().bound, 2);
    assert_eq!(b.totals().refused, 1);
}

#[test]
fn resume_refuses_a_journal_it_cannot_read() {
    let unknown = MemberRecord {
        request: req(9),
        card_id: None,
        outcome: RecordedOutcome::Skipped,
    };
    assert_eq!(
        Batch::resume([req(1)], &[unknown], BatchConfig::default()).err(),
        Some(BatchError::UnknownRequest(req(9)))
    );
    let cardless = MemberRecord {
        request: req(1),
        card_id: None,
        outcome: RecordedOutcome::Unfinished,
    };
    assert_eq!(
        Batch::resume([req(1)], &[cardless], BatchConfig::default()).err(),
        Some(BatchError::RecordWithoutCard(req(1)))
    );
}

#[test]
fn a_lost_answer_mid_batch_waits_for_reconciliation_while_others_go_on() {
    let t0 = Instant::now();
    let mut b = batch(3, 4);
    seen(&mut b, 0, 10);
    seen(&mut b, 1, 11);
    b.next_assignments(t0);
    finish(&mut b, req(1), BindResult::AnswerLost, t0);
    assert_eq!(b.totals().awaiting_reconcile, 1);
    removed(&mut b, 0);
    seen(&mut b, 0, 12);
    assert_eq!(b.next_assignments(t0), vec![assignment(0, 3, 12)]);
    b.apply(BatchEvent::Reconciled {
        request: req(1),
        bound: false,
        at: t0,
    })
    .expect("awaiting");
    assert!(matches!(
        b.member(req(1)).map(|m| &m.state),
        Some(MemberState::Failed { .. })
    ));
}

#[test]
fn the_same_card_reinserted_is_not_used_twice() {
    let t0 = Instant::now();
    let mut b = batch(3, 4);
    seen(&mut b, 0, 10);
    b.next_assignments(t0);
    finish(&mut b, req(1), BindResult::Bound, t0);
    for r in [0, 0, 1] {
        removed(&mut b, 0);
        seen(&mut b, r, 10);
        assert!(b.next_assignments(t0).is_empty());
    }
    assert_eq!(b.current(), Some(req(2)));
}

#[test]
fn a_card_in_flight_is_never_assigned_again_even_in_another_reader() {
    let t0 = Instant::now();
    let mut b = batch(3, 4);
    seen(&mut b, 0, 10);
    b.next_assignments(t0);
    seen(&mut b, 1, 10);
    assert!(b.next_assignments(t0).is_empty());
}

#[test]
fn one_reader_failing_does_not_stop_the_other() {
    let t0 = Instant::now();
    let mut b = batch(4, 4);
    seen(&mut b, 0, 10);
    seen(&mut b, 1, 11);
    b.next_assignments(t0);
    finish(&mut b, req(1), BindResult::Failed("500".into()), t0);
    finish(&mut b, req(2), BindResult::Bound, t0);
    removed(&mut b, 1);
    seen(&mut b, 1, 12);
    assert_eq!(b.next_assignments(t0), vec![assignment(1, 3, 12)]);
    assert_eq!(b.phase(), Phase::Running);
}

#[test]
fn a_reader_busy_with_a_bind_gets_nothing_new_even_with_a_new_card() {
    let t0 = Instant::now();
    let mut b = batch(3, 4);
    seen(&mut b, 0, 10);
    b.next_assignments(t0);
    removed(&mut b, 0);
    seen(&mut b, 0, 11);
    assert!(b.next_assignments(t0).is_empty());
}

#[test]
fn events_out_of_place_are_typed_errors_that_change_nothing() {
    let t0 = Instant::now();
    let mut b = batch(2, 4);
    let before = b.totals();
    assert_eq!(
        b.apply(BatchEvent::BindFinished {
            request: req(1),
            result: BindResult::Bound,
            at: t0
        }),
        Err(BatchError::WrongState {
            request: req(1),
            state: "queued",
            wanted: "finished"
        })
    );
    assert_eq!(
        b.apply(BatchEvent::BindStarted {
            request: req(7),
            at: t0
        }),
        Err(BatchError::UnknownRequest(req(7)))
    );
    assert!(
        b.apply(BatchEvent::Reconciled {
            request: req(2),
            bound: true,
            at: t0
        })
        .is_err()
    );
    assert_eq!(b.totals(), before);
    assert_eq!(
        Batch::new([req(1), req(1)], BatchConfig::default()).err(),
        Some(BatchError::Duplicate(req(1)))
    );
    assert_eq!(
        Batch::new(
            [req(1)],
            BatchConfig {
                max_concurrent_posts: 0
            }
        )
        .err(),
        Some(BatchError::ZeroCap)
    );
}

#[test]
fn per_card_times_count_from_the_first_assignment_and_give_an_eta() {
    let t0 = Instant::now();
    let mut b = batch(5, 4);
    assert_eq!(b.eta(), None);
    seen(&mut b, 0, 10);
    b.next_assignments(t0);
    b.apply(BatchEvent::BindStarted {
        request: req(1),
        at: t0 + Duration::from_secs(1),
    })
    .expect("running");
    finish(
        &mut b,
        req(1),
        BindResult::Bound,
        t0 + Duration::from_secs(10),
    );
    removed(&mut b, 0);
    seen(&mut b, 0, 11);
    b.next_assignments(t0 + Duration::from_secs(12));
    finish(
        &mut b,
        req(2),
        BindResult::Bound,
        t0 + Duration::from_secs(30),
    );
    assert_eq!(
        b.per_card_times(),
        &[Duration::from_secs(10), Duration::from_secs(20)]
    );
    // Median of 10 s and 20 s, times three requests left.
    assert_eq!(b.eta(), Some(Duration::from_secs(45)));
}

#[test]
fn eta_uses_the_median_and_never_overflows() {
    let s = Duration::from_secs;
    assert_eq!(eta(&[], 3), None);
    assert_eq!(eta(&[s(5), s(500), s(7)], 2), Some(s(14)));
    assert_eq!(eta(&[s(5)], 0), Some(s(0)));
    assert_eq!(eta(&[Duration::MAX], usize::MAX), Some(Duration::MAX));
}
