//! The bind as a pure state machine: `apply(state, event) -> (state, effects)`.
//!
//! The worker performs the effects and feeds their results back as events; the
//! window and the command line only show the state and send [`BindEvent::Requested`].
//! Keeping it pure is what lets every transition be tested without a card or a server.

use std::fmt;

use uuid::Uuid;

use super::card::{Atr, CardId, CardIdentity};

/// What the operator asked for: this request, bound to the card they saw in this reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindTarget {
    /// The request to bind.
    pub request_id: Uuid,
    /// The reader the operator chose.
    pub reader: String,
    /// The card the operator saw in that reader; the card read right before the
    /// POST must be this one.
    pub expected: CardIdentity,
}

/// A failure reported by the server or the network, already in operator words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// What happened and what to do.
    pub message: String,
    /// The server's correlation ID, for the CM administrator.
    pub correlation_id: Option<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// What the server answered to a successful bind.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BindReceipt {
    /// The new smart card object's URI as the server sent it.
    pub smartcard_uri: Option<String>,
    /// The new smart card object's UUID, when the URI carried one.
    pub smartcard_uuid: Option<Uuid>,
}

/// Where a bind is.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum BindState {
    /// No bind is in progress.
    #[default]
    Idle,
    /// Reading the card again right before the POST.
    ReadingCard {
        /// What is being bound.
        target: BindTarget,
    },
    /// The POST is on its way; its answer is awaited.
    Posting {
        /// What is being bound.
        target: BindTarget,
    },
    /// The server bound the card.
    Bound {
        /// What was bound.
        target: BindTarget,
        /// What the server answered.
        receipt: BindReceipt,
    },
    /// The station refused before sending anything.
    Refused {
        /// What was asked.
        target: BindTarget,
        /// Why, in operator words.
        reason: String,
    },
    /// The server (or the network) answered with an error.
    Failed {
        /// What was asked.
        target: BindTarget,
        /// The error.
        failure: Failure,
    },
}

impl BindState {
    /// True while a bind is under way: a new request must wait.
    pub fn is_in_flight(&self) -> bool {
        matches!(
            self,
            BindState::ReadingCard { .. } | BindState::Posting { .. }
        )
    }

    /// The target of the current or last bind.
    pub fn target(&self) -> Option<&BindTarget> {
        match self {
            BindState::Idle => None,
            BindState::ReadingCard { target }
            | BindState::Posting { target }
            | BindState::Bound { target, .. }
            | BindState::Refused { target, .. }
            | BindState::Failed { target, .. } => Some(target),
        }
    }
}

/// Something that happened to a bind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BindEvent {
    /// The operator asked for a bind (a click, Enter, or the `bind` command).
    Requested(BindTarget),
    /// The card in the chosen reader was read again (or could not be): why in words.
    CardRead(Result<CardIdentity, String>),
    /// The server answered the POST.
    PostAnswered(Result<BindReceipt, Failure>),
    /// The operator acknowledged the result.
    Dismissed,
}

/// Work the worker must do for the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Read the identity of the card in this reader.
    ReadCard {
        /// The reader.
        reader: String,
    },
    /// Send `POST smartcards` once. Never repeat it blindly.
    PostBind {
        /// The request.
        request_id: Uuid,
        /// The card ID read right before.
        card_id: CardId,
        /// The ATR read right before.
        atr: Atr,
    },
}

/// Advances the machine by one event.
///
/// Events that do not fit the state (a second click while a bind is in flight,
/// a late answer after a dismissal) leave it unchanged and cause no effect:
/// that is what makes one click mean at most one POST.
pub fn apply(state: BindState, event: BindEvent) -> (BindState, Vec<Effect>) {
    match (state, event) {
        (state, BindEvent::Requested(target)) if !state.is_in_flight() => {
            let effect = Effect::ReadCard {
                reader: target.reader.clone(),
            };
            (BindState::ReadingCard { target }, vec![effect])
        }
        (BindState::ReadingCard { target }, BindEvent::CardRead(read)) => card_read(target, read),
        (BindState::Posting { target }, BindEvent::PostAnswered(answer)) => {
            let state = match answer {
                Ok(receipt) => BindState::Bound { target, receipt },
                Err(failure) => BindState::Failed { target, failure },
            };
            (state, vec![])
        }
        (state, BindEvent::Dismissed) if !state.is_in_flight() => (BindState::Idle, vec![]),
        (state, _) => (state, vec![]),
    }
}

fn card_read(target: BindTarget, read: Result<CardIdentity, String>) -> (BindState, Vec<Effect>) {
    let found = match read {
        Ok(found) => found,
        Err(why) => {
            let reason = format!("{why} Nothing was sent to the server.");
            return (BindState::Refused { target, reason }, vec![]);
        }
    };
    if found.card_id != target.expected.card_id || found.atr != target.expected.atr {
        let reason = format!(
            "The card in reader \"{}\" is not the card you selected (expected card ID {}, found {}). \
             Nothing was sent to the server. Check which card is in the reader and select it again.",
            target.reader, target.expected.card_id, found.card_id
        );
        return (BindState::Refused { target, reason }, vec![]);
    }
    let effect = Effect::PostBind {
        request_id: target.request_id,
        card_id: found.card_id,
        atr: found.atr,
    };
    (BindState::Posting { target }, vec![effect])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::card::CardKind;

    fn card(byte: u8) -> CardIdentity {
        CardIdentity {
            atr: Atr::from_bytes(vec![0x3b, 0x8d, byte]),
            card_id: CardId::from_raw([byte; 16]),
            kind: CardKind::Gids,
        }
    }

    fn target() -> BindTarget {
        BindTarget {
            request_id: Uuid::from_u128(42),
            reader: "Reader 0".into(),
            expected: card(1),
        }
    }

    fn posting() -> BindState {
        BindState::Posting { target: target() }
    }

    #[test]
    fn a_request_reads_the_card_first() {
        let (state, effects) = apply(BindState::Idle, BindEvent::Requested(target()));
        assert_eq!(state, BindState::ReadingCard { target: target() });
        assert_eq!(
            effects,
            vec![Effect::ReadCard {
                reader: "Reader 0".into()
            }]
        );
    }

    #[test]
    fn the_same_card_leads_to_exactly_one_post() {
        let reading = BindState::ReadingCard { target: target() };
        let (state, effects) = apply(reading, BindEvent::CardRead(Ok(card(1))));
        assert_eq!(state, posting());
        assert_eq!(
            effects,
            vec![Effect::PostBind {
                request_id: Uuid::from_u128(42),
                card_id: CardId::from_raw([1; 16]),
                atr: card(1).atr,
            }]
        );
    }

    #[test]
    fn a_swapped_card_is_refused_and_nothing_is_sent() {
        let reading = BindState::ReadingCard { target: target() };
        let (state, effects) = apply(reading, BindEvent::CardRead(Ok(card(2))));
        assert!(effects.is_empty());
        match state {
            BindState::Refused { reason, .. } => {
                assert!(reason.contains("not the card you selected"), "{reason}");
                assert!(reason.contains(&CardId::from_raw([2; 16]).to_string()));
            }
            other => panic!("expected Refused, got {other:?}"),
        }
    }

    #[test]
    fn a_card_with_the_same_id_but_another_atr_is_refused() {
        let mut other = card(1);
        other.atr = Atr::from_bytes(vec![0x3b, 0x00]);
        let reading = BindState::ReadingCard { target: target() };
        let (state, effects) = apply(reading, BindEvent::CardRead(Ok(other)));
        assert!(effects.is_empty());
        assert!(matches!(state, BindState::Refused { .. }));
    }

    #[test]
    fn a_failed_reread_is_refused_with_the_reason() {
        let reading = BindState::ReadingCard { target: target() };
        let (state, effects) = apply(reading, BindEvent::CardRead(Err("No card.".into())));
        assert!(effects.is_empty());
        assert_eq!(
            state,
            BindState::Refused {
                target: target(),
                reason: "No card. Nothing was sent to the server.".into()
            }
        );
    }

    #[test]
    fn requests_while_in_flight_do_nothing() {
        for state in [BindState::ReadingCard { target: target() }, posting()] {
            let mut other = target();
            other.request_id = Uuid::from_u128(7);
            let (next, effects) = apply(state.clone(), BindEvent::Requested(other));
            assert_eq!(next, state);
            assert!(effects.is_empty());
            let (next, effects) = apply(state.clone(), BindEvent::Dismissed);
            assert_eq!(next, state);
            assert!(effects.is_empty());
        }
    }

    #[test]
    fn the_answer_ends_the_bind() {
        let receipt = BindReceipt {
            smartcard_uri: Some("api/v1.0/smartcards/x".into()),
            smartcard_uuid: None,
        };
        let (state, effects) = apply(posting(), BindEvent::PostAnswered(Ok(receipt.clone())));
        assert_eq!(
            state,
            BindState::Bound {
                target: target(),
                receipt
            }
        );
        assert!(effects.is_empty());

        let failure = Failure {
            message: "boom".into(),
            correlation_id: Some("c".into()),
        };
        let (state, _) = apply(posting(), BindEvent::PostAnswered(Err(failure.clone())));
        assert_eq!(
            state,
            BindState::Failed {
                target: target(),
                failure
            }
        );
    }

    #[test]
    fn events_out_of_place_are_ignored() {
        let (state, effects) = apply(BindState::Idle, BindEvent::CardRead(Ok(card(1))));
        assert_eq!((state, effects), (BindState::Idle, vec![]));
        let (state, effects) = apply(
            BindState::Idle,
            BindEvent::PostAnswered(Ok(BindReceipt::default())),
        );
        assert_eq!((state, effects), (BindState::Idle, vec![]));
        let reading = BindState::ReadingCard { target: target() };
        let (state, effects) = apply(
            reading.clone(),
            BindEvent::PostAnswered(Ok(BindReceipt::default())),
        );
        assert_eq!((state, effects), (reading, vec![]));
    }

    #[test]
    fn after_a_result_a_new_bind_may_start_or_be_dismissed() {
        let done = BindState::Failed {
            target: target(),
            failure: Failure {
                message: "x".into(),
                correlation_id: None,
            },
        };
        let (state, effects) = apply(done.clone(), BindEvent::Requested(target()));
        assert!(matches!(state, BindState::ReadingCard { .. }));
        assert_eq!(effects.len(), 1);
        assert_eq!(apply(done, BindEvent::Dismissed), (BindState::Idle, vec![]));
    }
}
