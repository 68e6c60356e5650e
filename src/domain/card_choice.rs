//! Which card a bind would use: one rule for the desk, the kiosk and the CLI.
//!
//! A bind must only ever use a card that the person in front of the station
//! meant for it. So a card counts only when it is the one card present (or
//! in the reader the operator named), its ID has been read, and, where the
//! caller asks for it, it went into the reader after the intent began: a
//! card left behind by the person before is never taken for the next one.

use std::fmt;

use super::card::CardIdentity;
use super::readers::{IdentityState, ReaderBoard, SlotState, Tick};

/// What a caller accepts as "the card for this bind".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CardRule {
    /// The reader the operator named; `None`: the only reader holding a card.
    pub reader: Option<String>,
    /// Only a card seen going in after this point counts. `None` where the
    /// operator can see or named the card.
    pub inserted_after: Option<Tick>,
}

/// Why no card can be used, for the caller to say in its own words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoCard {
    /// No reader holds a card.
    NoneInserted,
    /// More than one reader holds a card and none was named.
    Several(Vec<String>),
    /// The named reader is not connected.
    ReaderGone(String),
    /// The named reader is empty or cannot be used now.
    Empty(String),
    /// The card's ID is still being read.
    Reading(String),
    /// The card cannot give a card ID: why, in words.
    Unreadable {
        /// The reader it is in.
        reader: String,
        /// Why, in words.
        why: String,
    },
    /// The card was in the reader before the intent began.
    InsertedBefore(String),
}

impl NoCard {
    /// True while waiting can end it without anyone choosing: a card still
    /// to come, still being read, or one to be taken out and put back.
    pub fn may_resolve_by_waiting(&self) -> bool {
        matches!(
            self,
            NoCard::NoneInserted
                | NoCard::Empty(_)
                | NoCard::Reading(_)
                | NoCard::InsertedBefore(_)
        )
    }
}

impl fmt::Display for NoCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoCard::NoneInserted => write!(f, "There is no card in any reader."),
            NoCard::Several(readers) => {
                write!(f, "Several readers hold a card ({}).", readers.join(", "))
            }
            NoCard::ReaderGone(reader) => write!(f, "Reader \"{reader}\" is not connected."),
            NoCard::Empty(reader) => write!(f, "There is no card in \"{reader}\"."),
            NoCard::Reading(reader) => write!(f, "The card in \"{reader}\" is still being read."),
            NoCard::Unreadable { reader, why } => {
                write!(f, "The card in \"{reader}\" cannot be bound: {why}")
            }
            NoCard::InsertedBefore(reader) => write!(
                f,
                "The card in \"{reader}\" was already there before this bind began: take it out \
                 and insert the card to bind."
            ),
        }
    }
}

/// The reader and card a bind under `rule` would use now.
pub fn choose_card(board: &ReaderBoard, rule: &CardRule) -> Result<(String, CardIdentity), NoCard> {
    let reader = match &rule.reader {
        Some(named) => named.clone(),
        None => match board.readers_with_card().as_slice() {
            [] => return Err(NoCard::NoneInserted),
            [only] => (*only).to_owned(),
            several => {
                return Err(NoCard::Several(
                    several.iter().map(|r| (*r).to_owned()).collect(),
                ));
            }
        },
    };
    // Before anything about the card itself: a card left behind is not this
    // bind's card, whatever it is, and the person must hear "take it out".
    if let Some(since) = rule.inserted_after
        && matches!(board.get(&reader), Some(SlotState::Present { .. }))
        && !board.inserted_after(&reader, since)
    {
        return Err(NoCard::InsertedBefore(reader));
    }
    let identity = match board.get(&reader) {
        None => return Err(NoCard::ReaderGone(reader)),
        Some(SlotState::Empty | SlotState::Unavailable { .. }) => {
            return Err(NoCard::Empty(reader));
        }
        Some(SlotState::Present {
            identity: IdentityState::Reading,
            ..
        }) => return Err(NoCard::Reading(reader)),
        Some(SlotState::Present {
            identity: IdentityState::Failed(why),
            ..
        }) => {
            return Err(NoCard::Unreadable {
                why: why.reason.clone(),
                reader,
            });
        }
        Some(slot) => slot
            .identity()
            .ok_or_else(|| NoCard::Empty(reader.clone()))?,
    };
    Ok((reader, identity))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::card::{Atr, CardKind};
    use crate::domain::readers::{Arrival, ReaderEvent};

    fn identity(byte: u8) -> CardIdentity {
        crate::domain::card::example_identity(byte, CardKind::Gids)
    }

    fn insert(board: &mut ReaderBoard, reader: &str, byte: u8, arrival: Arrival) {
        board.apply(&ReaderEvent::CardInserted {
            reader: reader.into(),
            atr: identity(byte).atr,
            insertion: u64::from(byte),
            arrival,
        });
        board.apply(&ReaderEvent::CardIdentified {
            reader: reader.into(),
            insertion: u64::from(byte),
            result: Ok(identity(byte)),
        });
    }

    #[test]
    fn the_only_card_is_chosen_and_two_are_never_guessed_between() {
        let mut board = ReaderBoard::default();
        let any = CardRule::default();
        assert_eq!(choose_card(&board, &any), Err(NoCard::NoneInserted));
        insert(&mut board, "A", 1, Arrival::Inserted);
        assert_eq!(choose_card(&board, &any), Ok(("A".into(), identity(1))));
        insert(&mut board, "B", 2, Arrival::Inserted);
        assert_eq!(
            choose_card(&board, &any),
            Err(NoCard::Several(vec!["A".into(), "B".into()]))
        );
        let named = CardRule {
            reader: Some("B".into()),
            ..CardRule::default()
        };
        assert_eq!(choose_card(&board, &named), Ok(("B".into(), identity(2))));
        let gone = CardRule {
            reader: Some("C".into()),
            ..CardRule::default()
        };
        assert_eq!(
            choose_card(&board, &gone),
            Err(NoCard::ReaderGone("C".into()))
        );
    }

    #[test]
    fn a_card_in_before_the_intent_is_refused_until_it_goes_in_again() {
        let mut board = ReaderBoard::default();
        insert(&mut board, "R", 1, Arrival::Inserted);
        let rule = CardRule {
            reader: None,
            inserted_after: Some(board.now()),
        };
        let refused = choose_card(&board, &rule);
        assert_eq!(refused, Err(NoCard::InsertedBefore("R".into())));
        assert!(refused.is_err_and(|e| e.may_resolve_by_waiting()));
        board.apply(&ReaderEvent::CardRemoved { reader: "R".into() });
        assert_eq!(choose_card(&board, &rule), Err(NoCard::NoneInserted));
        insert(&mut board, "R", 2, Arrival::Inserted);
        assert_eq!(choose_card(&board, &rule), Ok(("R".into(), identity(2))));
    }

    #[test]
    fn a_card_found_already_present_is_never_newer_than_an_intent() {
        let mut board = ReaderBoard::default();
        let rule = CardRule {
            reader: None,
            inserted_after: Some(board.now()),
        };
        insert(&mut board, "R", 1, Arrival::AlreadyPresent);
        assert_eq!(
            choose_card(&board, &rule),
            Err(NoCard::InsertedBefore("R".into()))
        );
    }

    #[test]
    fn a_left_card_next_to_a_new_one_is_still_two_cards() {
        let mut board = ReaderBoard::default();
        insert(&mut board, "Left", 1, Arrival::Inserted);
        let rule = CardRule {
            reader: None,
            inserted_after: Some(board.now()),
        };
        insert(&mut board, "New", 2, Arrival::Inserted);
        assert!(matches!(
            choose_card(&board, &rule),
            Err(NoCard::Several(_))
        ));
    }

    #[test]
    fn reading_and_unreadable_cards_say_so() {
        let mut board = ReaderBoard::default();
        board.apply(&ReaderEvent::CardInserted {
            reader: "R".into(),
            atr: Atr::from_bytes(vec![0x3b]),
            insertion: 1,
            arrival: Arrival::Inserted,
        });
        let any = CardRule::default();
        assert_eq!(choose_card(&board, &any), Err(NoCard::Reading("R".into())));
        board.apply(&ReaderEvent::CardIdentified {
            reader: "R".into(),
            insertion: 1,
            result: Err("no card ID".into()),
        });
        let refused = choose_card(&board, &any);
        assert!(
            matches!(&refused, Err(NoCard::Unreadable { why, .. }) if why == "no card ID"),
            "{refused:?}"
        );
        assert!(refused.is_err_and(|e| !e.may_resolve_by_waiting()));
    }
}
