//! The batch's readers: which card each holds (from the readers' events),
//! what its bind is doing, and how its last bind ended, for the view's
//! one row per reader.

use std::collections::{BTreeMap, HashMap};

use uuid::Uuid;

use crate::domain::batch::{Batch, BatchEvent};
use crate::domain::bind::BindState;
use crate::domain::card::{CardId, CardIdentity, CardKind};
use crate::domain::readers::ReaderEvent;

use super::EndWord;

/// What a reader's row says, in a word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotWord {
    /// No card, or a card waiting for its turn.
    Waiting,
    /// Reading the card (its identity, or again before the POST).
    Reading,
    /// Checking the request and the card with CM.
    Checking,
    /// The POST is out, or its answer is being looked for.
    Binding,
    /// The card in it was bound: take it out.
    Done,
    /// The card cannot be used or its bind failed: see the message.
    Problem,
}

impl SlotWord {
    /// Where a running bind is, as a reader's row says it.
    pub fn of(state: &BindState) -> SlotWord {
        match state {
            BindState::Idle => SlotWord::Waiting,
            BindState::Recording { .. } | BindState::Checking { .. } => SlotWord::Checking,
            BindState::ReadingCard { .. } => SlotWord::Reading,
            BindState::Posting { .. } | BindState::Reconciling { .. } => SlotWord::Binding,
            BindState::Bound { .. } => SlotWord::Done,
            BindState::Refused { .. }
            | BindState::Failed { .. }
            | BindState::WrongCard { .. }
            | BindState::Unknown { .. } => SlotWord::Problem,
        }
    }

    /// The word for a log or a message.
    pub fn as_str(self) -> &'static str {
        match self {
            SlotWord::Waiting => "waiting for a card",
            SlotWord::Reading => "reading the card",
            SlotWord::Checking => "checking with CM",
            SlotWord::Binding => "binding",
            SlotWord::Done => "done",
            SlotWord::Problem => "problem",
        }
    }
}

/// One reader's row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotView {
    /// The reader's name.
    pub reader: String,
    /// Its state, in a word.
    pub word: SlotWord,
    /// The identified card in it.
    pub card_id: Option<CardId>,
    /// That card's family.
    pub card_kind: Option<CardKind>,
    /// The request being bound with it.
    pub request: Option<Uuid>,
    /// Why, for a problem; what to do, for a finished card.
    pub message: Option<String>,
}

#[derive(Clone, Debug, Default)]
struct Slot {
    /// The insertion the card now present belongs to.
    insertion: Option<u64>,
    identity: Option<CardIdentity>,
    word: Option<SlotWord>,
    request: Option<Uuid>,
    message: Option<String>,
}

/// The readers the batch sees.
#[derive(Debug, Default)]
pub(super) struct Slots {
    readers: BTreeMap<String, Slot>,
    /// The reader each running bind uses.
    by_request: HashMap<Uuid, String>,
}

impl Slots {
    /// Takes in a reader event; returns what the batch must learn from it.
    pub(super) fn apply(&mut self, event: &ReaderEvent) -> Vec<BatchEvent> {
        let removed = |reader: &str| BatchEvent::CardRemoved {
            reader: reader.to_owned(),
        };
        match event {
            ReaderEvent::ReaderAdded { reader } => {
                self.readers.entry(reader.clone()).or_default();
                vec![]
            }
            ReaderEvent::ReaderRemoved { reader } => {
                self.readers.remove(reader);
                vec![removed(reader)]
            }
            ReaderEvent::CardInserted {
                reader, insertion, ..
            } => {
                let slot = self.readers.entry(reader.clone()).or_default();
                *slot = Slot {
                    insertion: Some(*insertion),
                    word: Some(SlotWord::Reading),
                    request: slot.request,
                    ..Slot::default()
                };
                // A card that changed without a removal seen is a removal.
                vec![removed(reader)]
            }
            ReaderEvent::CardRemoved { reader } => {
                let slot = self.readers.entry(reader.clone()).or_default();
                *slot = Slot {
                    request: slot.request,
                    ..Slot::default()
                };
                vec![removed(reader)]
            }
            ReaderEvent::CardIdentified {
                reader,
                insertion,
                result,
            } => {
                let Some(slot) = self.readers.get_mut(reader) else {
                    return vec![];
                };
                if slot.insertion != Some(*insertion) {
                    // A late read of a card that has left since.
                    return vec![];
                }
                match result {
                    Ok(identity) => {
                        let card_id = identity.card_id;
                        slot.identity = Some(identity.clone());
                        slot.word = None;
                        slot.message = None;
                        vec![BatchEvent::CardSeen {
                            reader: reader.clone(),
                            card_id,
                        }]
                    }
                    Err(why) => {
                        slot.word = Some(SlotWord::Problem);
                        slot.message = Some(format!(
                            "This card cannot be used: {why}. Take it out and insert another."
                        ));
                        vec![]
                    }
                }
            }
            ReaderEvent::ReaderUnavailable { reader, reason } => {
                let slot = self.readers.entry(reader.clone()).or_default();
                *slot = Slot {
                    word: Some(SlotWord::Problem),
                    message: Some(format!("The reader cannot be used now: {reason}.")),
                    request: slot.request,
                    ..Slot::default()
                };
                vec![removed(reader)]
            }
            ReaderEvent::ServiceDown { reason } => {
                let names: Vec<String> = self.readers.keys().cloned().collect();
                for slot in self.readers.values_mut() {
                    *slot = Slot {
                        word: Some(SlotWord::Problem),
                        message: Some(format!("The smart card service is down: {reason}.")),
                        request: slot.request,
                        ..Slot::default()
                    };
                }
                names.iter().map(|r| removed(r)).collect()
            }
            ReaderEvent::ServiceUp => vec![],
        }
    }

    /// The identity of `card_id` in `reader`, if it is still there.
    pub(super) fn identity(&self, reader: &str, card_id: &CardId) -> Option<CardIdentity> {
        self.readers
            .get(reader)?
            .identity
            .clone()
            .filter(|identity| identity.card_id == *card_id)
    }

    /// `request`'s bind runs in `reader` from now.
    pub(super) fn assigned(&mut self, reader: &str, request: Uuid) {
        self.by_request.insert(request, reader.to_owned());
        let slot = self.readers.entry(reader.to_owned()).or_default();
        slot.request = Some(request);
        slot.word = Some(SlotWord::Reading);
        slot.message = None;
    }

    /// Where `request`'s bind is now.
    pub(super) fn progress(&mut self, request: Uuid, word: SlotWord) {
        let Some(reader) = self.by_request.get(&request) else {
            return;
        };
        if let Some(slot) = self.readers.get_mut(reader)
            && slot.request == Some(request)
        {
            slot.word = Some(word);
        }
    }

    /// The bind in `reader` ended with `outcome`.
    pub(super) fn ended(&mut self, reader: &str, outcome: EndWord, message: Option<String>) {
        let Some(slot) = self.readers.get_mut(reader) else {
            return;
        };
        if let Some(request) = slot.request.take() {
            self.by_request.remove(&request);
        }
        let present = slot.identity.is_some();
        let (word, message) = match outcome {
            EndWord::Bound | EndWord::ReconciledBound => (
                SlotWord::Done,
                Some("Bound. Take the card out and insert the next one.".to_owned()),
            ),
            // Nothing was sent; the request waits for the next card.
            EndWord::CardPulled if !present => (SlotWord::Waiting, None),
            _ => (SlotWord::Problem, message),
        };
        slot.word = Some(word);
        slot.message = message;
    }

    /// Forgets the card in `reader` until it is inserted again: a card
    /// whose re-read failed while it stayed in must not be handed the next
    /// request at once, again and again. True when there was one.
    pub(super) fn forget_card(&mut self, reader: &str) -> bool {
        let Some(slot) = self.readers.get_mut(reader) else {
            return false;
        };
        let had = slot.identity.take().is_some();
        if had {
            slot.word = Some(SlotWord::Problem);
            slot.message = Some(
                "The card could not be read again before binding. Take it out and insert it \
                 again, or use another card."
                    .to_owned(),
            );
        }
        had
    }

    /// One row per reader, in name order.
    pub(super) fn view(&self, batch: &Batch) -> Vec<SlotView> {
        self.readers
            .iter()
            .map(|(reader, slot)| {
                let running = slot
                    .request
                    .filter(|r| batch.member(*r).is_some_and(|m| m.state.is_in_flight()));
                let word = match (running, slot.word) {
                    (Some(_), Some(word)) => word,
                    (Some(_), None) => SlotWord::Reading,
                    (None, Some(word)) => word,
                    (None, None) => SlotWord::Waiting,
                };
                SlotView {
                    reader: reader.clone(),
                    word,
                    card_id: slot.identity.as_ref().map(|i| i.card_id),
                    card_kind: slot.identity.as_ref().map(|i| i.kind),
                    request: running,
                    message: slot.message.clone(),
                }
            })
            .collect()
    }
}
