//! What the station knows about its readers, built only from reader events.
//!
//! The PC/SC monitor and the demo reader both produce [`ReaderEvent`]s; the
//! window and `readers --watch` apply them to a [`ReaderBoard`].

use std::collections::BTreeMap;

use super::card::{Atr, CardId, CardIdLocation, CardIdentity, CardKind, ChipInfo};

/// Something that happened to a reader or the smart card service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReaderEvent {
    /// A reader appeared (or was there when the station started).
    ReaderAdded {
        /// The reader's name.
        reader: String,
    },
    /// A reader disappeared.
    ReaderRemoved {
        /// The reader's name.
        reader: String,
    },
    /// A card was inserted (or was present when the reader appeared).
    CardInserted {
        /// The reader's name.
        reader: String,
        /// The card's ATR.
        atr: Atr,
        /// Counts insertions in this reader, so a late identity read of an
        /// earlier card is never attributed to the card now present.
        insertion: u64,
        /// Whether the station saw the card go in, or found it already there.
        arrival: Arrival,
    },
    /// The card was removed.
    CardRemoved {
        /// The reader's name.
        reader: String,
    },
    /// The card's identity was read (or could not be).
    CardIdentified {
        /// The reader's name.
        reader: String,
        /// Which insertion this read belongs to.
        insertion: u64,
        /// The identity, or why there is none.
        result: Result<CardIdentity, Unidentified>,
    },
    /// A reader is present but cannot be used (e.g. the card is mute or held).
    ReaderUnavailable {
        /// The reader's name.
        reader: String,
        /// Why, in words.
        reason: String,
    },
    /// The smart card service went away.
    ServiceDown {
        /// Why, in words.
        reason: String,
    },
    /// The smart card service is reachable again.
    ServiceUp,
}

impl ReaderEvent {
    /// The reader the event is about, if it is about one.
    pub fn reader(&self) -> Option<&str> {
        match self {
            ReaderEvent::ReaderAdded { reader }
            | ReaderEvent::ReaderRemoved { reader }
            | ReaderEvent::CardInserted { reader, .. }
            | ReaderEvent::CardRemoved { reader }
            | ReaderEvent::CardIdentified { reader, .. }
            | ReaderEvent::ReaderUnavailable { reader, .. } => Some(reader),
            ReaderEvent::ServiceDown { .. } | ReaderEvent::ServiceUp => None,
        }
    }
}

/// How a card came to be in a reader, as far as the station can tell.
///
/// Only a card seen going in can be told apart from a card someone left
/// behind earlier: a card found in a reader when the station (or the smart
/// card service) started may have been there for hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// The reader was seen empty, then with this card.
    Inserted,
    /// The card was in the reader when the station first looked at it.
    AlreadyPresent,
}

/// A point in the board's own order of insertions: "after the intent
/// began" is a comparison of ticks, which a wall clock set back or forward
/// cannot fool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tick(u64);

/// The state of the card slot of one reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlotState {
    /// No card.
    Empty,
    /// A card is present.
    Present {
        /// Its ATR.
        atr: Atr,
        /// Which insertion it is.
        insertion: u64,
        /// What is known about its identity.
        identity: IdentityState,
    },
    /// The reader cannot be used now.
    Unavailable {
        /// Why, in words.
        reason: String,
    },
}

/// How far identifying the present card has come.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdentityState {
    /// The ID is being read.
    Reading,
    /// The card ID was read.
    Known {
        /// The card ID.
        card_id: CardId,
        /// Which application gave it.
        kind: CardKind,
        /// The chip's CPLC, when the card answered it.
        chip: Option<ChipInfo>,
        /// Where a GIDS card keeps its card ID.
        location: Option<CardIdLocation>,
        /// A YubiKey's serial (never bound).
        yubikey_serial: Option<u32>,
    },
    /// The card has no usable ID, or reading it failed.
    Failed(Unidentified),
}

/// A card the station cannot bind: why, in words, and what its chip said
/// about itself (shown, never bound).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unidentified {
    /// Why, and what to do.
    pub reason: String,
    /// The chip's CPLC, when the card answered it.
    pub chip: Option<ChipInfo>,
}

impl std::fmt::Display for Unidentified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl From<String> for Unidentified {
    fn from(reason: String) -> Self {
        Self { reason, chip: None }
    }
}

impl From<&str> for Unidentified {
    fn from(reason: &str) -> Self {
        reason.to_owned().into()
    }
}

impl SlotState {
    /// The short state name used in JSON output.
    pub fn name(&self) -> &'static str {
        match self {
            SlotState::Empty => "empty",
            SlotState::Present { .. } => "present",
            SlotState::Unavailable { .. } => "unavailable",
        }
    }

    /// The ATR of the present card.
    pub fn atr(&self) -> Option<&Atr> {
        match self {
            SlotState::Present { atr, .. } => Some(atr),
            _ => None,
        }
    }

    /// The identity of the present card, when it was read.
    pub fn identity(&self) -> Option<CardIdentity> {
        match self {
            SlotState::Present {
                atr,
                identity:
                    IdentityState::Known {
                        card_id,
                        kind,
                        chip,
                        location,
                        yubikey_serial,
                    },
                ..
            } => Some(CardIdentity {
                atr: atr.clone(),
                card_id: *card_id,
                kind: *kind,
                chip: *chip,
                location: *location,
                yubikey_serial: *yubikey_serial,
            }),
            _ => None,
        }
    }
}

/// Every reader the station sees, by name, and whether the service is up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReaderBoard {
    readers: BTreeMap<String, SlotState>,
    service_down: Option<String>,
    /// Counts the card insertions the board has seen.
    clock: u64,
    /// When each present card was seen going in; a card found already
    /// present has no entry, so it is never newer than any intent.
    inserted_at: BTreeMap<String, u64>,
}

impl ReaderBoard {
    /// Applies one event. Events for unknown readers add them: a monitor that
    /// started late must not lose a card.
    pub fn apply(&mut self, event: &ReaderEvent) {
        match event {
            ReaderEvent::ReaderAdded { reader } => {
                self.readers
                    .entry(reader.clone())
                    .or_insert(SlotState::Empty);
            }
            ReaderEvent::ReaderRemoved { reader } => {
                self.readers.remove(reader);
                self.inserted_at.remove(reader);
            }
            ReaderEvent::CardInserted {
                reader,
                atr,
                insertion,
                arrival,
            } => {
                self.clock += 1;
                match arrival {
                    Arrival::Inserted => self.inserted_at.insert(reader.clone(), self.clock),
                    Arrival::AlreadyPresent => self.inserted_at.remove(reader),
                };
                self.readers.insert(
                    reader.clone(),
                    SlotState::Present {
                        atr: atr.clone(),
                        insertion: *insertion,
                        identity: IdentityState::Reading,
                    },
                );
            }
            ReaderEvent::CardRemoved { reader } => {
                self.readers.insert(reader.clone(), SlotState::Empty);
                self.inserted_at.remove(reader);
            }
            ReaderEvent::CardIdentified {
                reader,
                insertion,
                result,
            } => {
                if let Some(SlotState::Present {
                    insertion: current,
                    identity,
                    ..
                }) = self.readers.get_mut(reader)
                    && current == insertion
                {
                    *identity = match result {
                        Ok(found) => IdentityState::Known {
                            card_id: found.card_id,
                            kind: found.kind,
                            chip: found.chip,
                            location: found.location,
                            yubikey_serial: found.yubikey_serial,
                        },
                        Err(why) => IdentityState::Failed(why.clone()),
                    };
                }
            }
            ReaderEvent::ReaderUnavailable { reader, reason } => {
                self.inserted_at.remove(reader);
                self.readers.insert(
                    reader.clone(),
                    SlotState::Unavailable {
                        reason: reason.clone(),
                    },
                );
            }
            ReaderEvent::ServiceDown { reason } => {
                self.service_down = Some(reason.clone());
            }
            ReaderEvent::ServiceUp => {
                self.service_down = None;
            }
        }
    }

    /// Readers in name order.
    pub fn readers(&self) -> impl Iterator<Item = (&str, &SlotState)> {
        self.readers
            .iter()
            .map(|(name, state)| (name.as_str(), state))
    }

    /// One reader's state.
    pub fn get(&self, reader: &str) -> Option<&SlotState> {
        self.readers.get(reader)
    }

    /// Why the smart card service is down, when it is.
    pub fn service_down(&self) -> Option<&str> {
        self.service_down.as_deref()
    }

    /// Keeps only the readers for which `keep` is true.
    pub fn retain_readers(&mut self, keep: impl Fn(&str) -> bool) {
        self.readers.retain(|name, _| keep(name));
    }

    /// Now, in the board's order of insertions: an intent that starts here
    /// accepts only cards inserted after it ([`ReaderBoard::inserted_after`]).
    pub fn now(&self) -> Tick {
        Tick(self.clock)
    }

    /// True when the card now in `reader` was seen going in after `since`.
    /// A card found already present never is.
    pub fn inserted_after(&self, reader: &str, since: Tick) -> bool {
        self.inserted_at.get(reader).is_some_and(|&at| at > since.0)
    }

    /// Readers that hold a card, for "the only card present" choices.
    pub fn readers_with_card(&self) -> Vec<&str> {
        self.readers
            .iter()
            .filter(|(_, s)| matches!(s, SlotState::Present { .. }))
            .map(|(n, _)| n.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(byte: u8) -> CardIdentity {
        CardIdentity {
            atr: Atr::from_bytes(vec![0x3b, 0x00]),
            card_id: CardId::from_raw([byte; 16]),
            kind: CardKind::Gids,
            chip: None,
            location: None,
            yubikey_serial: None,
        }
    }

    fn inserted(reader: &str, insertion: u64) -> ReaderEvent {
        ReaderEvent::CardInserted {
            reader: reader.into(),
            atr: Atr::from_bytes(vec![0x3b, 0x00]),
            insertion,
            arrival: Arrival::Inserted,
        }
    }

    #[test]
    fn only_a_card_seen_going_in_after_a_tick_is_newer_than_it() {
        let mut board = ReaderBoard::default();
        board.apply(&ReaderEvent::CardInserted {
            reader: "Left".into(),
            atr: Atr::from_bytes(vec![0x3b, 0x00]),
            insertion: 1,
            arrival: Arrival::AlreadyPresent,
        });
        assert!(
            !board.inserted_after("Left", Tick::default()),
            "a card found in the reader is older than any intent"
        );
        board.apply(&inserted("R", 1));
        let intent = board.now();
        assert!(
            !board.inserted_after("R", intent),
            "a card in before the intent is not after it"
        );
        board.apply(&ReaderEvent::CardRemoved { reader: "R".into() });
        assert!(
            !board.inserted_after("R", intent),
            "an empty slot has no card"
        );
        board.apply(&inserted("R", 2));
        assert!(board.inserted_after("R", intent));
        board.apply(&ReaderEvent::ReaderUnavailable {
            reader: "R".into(),
            reason: "held by another program".into(),
        });
        board.apply(&ReaderEvent::CardInserted {
            reader: "R".into(),
            atr: Atr::from_bytes(vec![0x3b, 0x00]),
            insertion: 3,
            arrival: Arrival::AlreadyPresent,
        });
        assert!(
            !board.inserted_after("R", intent),
            "a card found again after the reader was unavailable is not taken as new"
        );
    }

    #[test]
    fn insertion_then_identity_makes_the_card_known() {
        let mut board = ReaderBoard::default();
        board.apply(&ReaderEvent::ReaderAdded { reader: "R".into() });
        assert_eq!(board.get("R"), Some(&SlotState::Empty));
        board.apply(&inserted("R", 1));
        assert_eq!(board.get("R").and_then(SlotState::identity), None);
        board.apply(&ReaderEvent::CardIdentified {
            reader: "R".into(),
            insertion: 1,
            result: Ok(identity(5)),
        });
        assert_eq!(
            board.get("R").and_then(SlotState::identity),
            Some(identity(5))
        );
        assert_eq!(board.readers_with_card(), vec!["R"]);
    }

    #[test]
    fn a_late_identity_of_an_earlier_card_is_ignored() {
        let mut board = ReaderBoard::default();
        board.apply(&inserted("R", 1));
        board.apply(&ReaderEvent::CardRemoved { reader: "R".into() });
        board.apply(&inserted("R", 2));
        board.apply(&ReaderEvent::CardIdentified {
            reader: "R".into(),
            insertion: 1,
            result: Ok(identity(1)),
        });
        assert!(matches!(
            board.get("R"),
            Some(SlotState::Present {
                identity: IdentityState::Reading,
                ..
            })
        ));
        board.apply(&ReaderEvent::CardRemoved { reader: "R".into() });
        board.apply(&ReaderEvent::CardIdentified {
            reader: "R".into(),
            insertion: 2,
            result: Ok(identity(2)),
        });
        assert_eq!(board.get("R"), Some(&SlotState::Empty));
    }

    #[test]
    fn failures_removal_and_service_state_are_tracked() {
        let mut board = ReaderBoard::default();
        board.apply(&inserted("R", 1));
        board.apply(&ReaderEvent::CardIdentified {
            reader: "R".into(),
            insertion: 1,
            result: Err("unknown card application".into()),
        });
        assert!(matches!(
            board.get("R"),
            Some(SlotState::Present { identity: IdentityState::Failed(m), .. }) if m.reason == "unknown card application"
        ));
        board.apply(&ReaderEvent::ServiceDown {
            reason: "stopped".into(),
        });
        assert_eq!(board.service_down(), Some("stopped"));
        board.apply(&ReaderEvent::ServiceUp);
        assert_eq!(board.service_down(), None);
        board.apply(&ReaderEvent::ReaderRemoved { reader: "R".into() });
        assert_eq!(board.get("R"), None);
    }
}
