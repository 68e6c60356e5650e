//! The runner's pure parts: how a bind's end is read, the journal's words
//! read back for a resume, and the readers' rows.

use uuid::Uuid;

use super::ended::classify;
use super::history::{RETRIED, member_word};
use super::slots::Slots;
use super::{EndWord, SlotWord};
use crate::domain::batch::{BatchEvent, BindResult, RecordedOutcome};
use crate::domain::bind::{AttemptId, BindReceipt, BindState, BindTarget, Failure, RefusalCause};
use crate::domain::card::{Atr, CardId, CardIdentity, CardKind};
use crate::domain::readers::{Arrival, ReaderEvent};

fn identity(n: u8) -> CardIdentity {
    CardIdentity {
        atr: Atr::from_bytes(vec![0x3b, n]),
        card_id: CardId::from_raw([n; 16]),
        kind: CardKind::Gids,
        chip: None,
        location: None,
        yubikey_serial: None,
    }
}

fn target() -> BindTarget {
    BindTarget {
        request_id: Uuid::from_u128(7),
        person: String::new(),
        reader: "Reader 0".into(),
        expected: identity(1),
        supervisor: None,
    }
}

fn refused(cause: RefusalCause) -> BindState {
    BindState::Refused {
        target: target(),
        reason: Failure::new("why"),
        cause,
    }
}

#[test]
fn only_a_refused_card_gives_its_request_the_next_card() {
    let card = classify(&refused(RefusalCause::Card));
    assert!(matches!(card.0, BindResult::CardRefused(_)));
    assert_eq!(card.1.outcome, EndWord::CardRefused);
    let changed = classify(&refused(RefusalCause::CardChanged));
    assert_eq!(changed.0, BindResult::CardPulled, "nothing was sent");
    for cause in [
        RefusalCause::Request,
        RefusalCause::CardLookup,
        RefusalCause::Journal,
    ] {
        let (result, line) = classify(&refused(cause));
        assert!(matches!(result, BindResult::Failed(_)), "{cause:?}");
        assert_eq!(line.outcome, EndWord::Failed);
    }
}

#[test]
fn an_unknown_result_is_a_lost_answer_and_a_confirmed_one_is_bound() {
    let unknown = BindState::Unknown {
        target: target(),
        attempt: AttemptId::new(),
        failure: Failure::new("timed out"),
    };
    assert_eq!(classify(&unknown).0, BindResult::AnswerLost);
    let confirmed = BindState::Bound {
        target: target(),
        receipt: BindReceipt {
            smartcard_uuid: Some(Uuid::from_u128(9)),
            ..BindReceipt::default()
        },
        confirmed_after_loss: true,
    };
    let (result, line) = classify(&confirmed);
    assert_eq!(result, BindResult::Bound);
    assert_eq!(line.outcome, EndWord::ReconciledBound);
    assert_eq!(line.smartcard_uuid, Some(Uuid::from_u128(9)));
    // A bind still running when its task ended: CM is asked, nothing re-sent.
    let posting = BindState::Posting {
        target: target(),
        attempt: AttemptId::new(),
    };
    assert_eq!(classify(&posting).0, BindResult::AnswerLost);
}

#[test]
fn every_word_the_batch_journals_reads_back_for_a_resume() {
    let expected = [
        (EndWord::Bound, Some(RecordedOutcome::Bound)),
        (EndWord::ReconciledBound, Some(RecordedOutcome::Bound)),
        (EndWord::CardRefused, Some(RecordedOutcome::CardRefused)),
        (EndWord::CardPulled, Some(RecordedOutcome::CardPulled)),
        (EndWord::Failed, Some(RecordedOutcome::Failed("why".into()))),
        (
            EndWord::WrongCard,
            Some(RecordedOutcome::Failed("why".into())),
        ),
        (EndWord::AnswerLost, Some(RecordedOutcome::Unfinished)),
        (EndWord::Skipped, Some(RecordedOutcome::Skipped)),
    ];
    for (word, outcome) in expected {
        let message = format!("{}: why", word.as_str());
        assert_eq!(member_word(&message), outcome, "{message}");
    }
    assert_eq!(member_word(RETRIED), Some(RecordedOutcome::Retried));
    assert_eq!(member_word("something_newer: words"), None);
}

#[test]
fn a_late_read_of_a_card_gone_since_is_not_taken_for_the_card_now_in() {
    let mut slots = Slots::default();
    let reader = "Reader 0".to_owned();
    slots.apply(&ReaderEvent::ReaderAdded {
        reader: reader.clone(),
    });
    let inserted = |insertion| ReaderEvent::CardInserted {
        reader: reader.clone(),
        atr: Atr::from_bytes(vec![0x3b]),
        insertion,
        arrival: Arrival::Inserted,
    };
    let identified = |insertion, n| ReaderEvent::CardIdentified {
        reader: reader.clone(),
        insertion,
        result: Ok(identity(n)),
    };
    slots.apply(&inserted(1));
    slots.apply(&inserted(2));
    assert!(
        slots.apply(&identified(1, 1)).is_empty(),
        "the first card's read came after the second card went in"
    );
    assert_eq!(
        slots.apply(&identified(2, 2)),
        vec![BatchEvent::CardSeen {
            reader: reader.clone(),
            card_id: CardId::from_raw([2; 16]),
        }]
    );
    assert!(
        slots
            .identity(&reader, &CardId::from_raw([2; 16]))
            .is_some()
    );
    assert_eq!(
        slots.apply(&ReaderEvent::CardRemoved {
            reader: reader.clone()
        }),
        vec![BatchEvent::CardRemoved {
            reader: reader.clone()
        }]
    );
    assert!(
        slots
            .identity(&reader, &CardId::from_raw([2; 16]))
            .is_none()
    );
}

#[test]
fn a_row_says_done_after_a_bind_and_problem_after_a_refusal() {
    let mut slots = Slots::default();
    slots.apply(&ReaderEvent::CardInserted {
        reader: "R".into(),
        atr: Atr::from_bytes(vec![0x3b]),
        insertion: 1,
        arrival: Arrival::AlreadyPresent,
    });
    slots.apply(&ReaderEvent::CardIdentified {
        reader: "R".into(),
        insertion: 1,
        result: Ok(identity(3)),
    });
    let batch = crate::domain::batch::Batch::new([Uuid::from_u128(1)], Default::default())
        .expect("a batch");
    slots.assigned("R", Uuid::from_u128(1));
    slots.ended("R", EndWord::Bound, None);
    let row = &slots.view(&batch)[0];
    assert_eq!(row.word, SlotWord::Done);
    assert!(
        row.message
            .as_deref()
            .is_some_and(|m| m.contains("Take the card out"))
    );
    slots.ended("R", EndWord::CardRefused, Some("in use".into()));
    let row = &slots.view(&batch)[0];
    assert_eq!(
        (row.word, row.message.as_deref()),
        (SlotWord::Problem, Some("in use"))
    );
}
