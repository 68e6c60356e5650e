//! The demo reader: a reader that exists only in the station, holding a virtual
//! card the operator inserts and removes from the window.
//!
//! It reports through the same [`ReaderEvent`]s and is read through the same
//! [`IdentityReader`] path (real APDUs against the virtual card) as a PC/SC
//! reader, so the demo exercises the station's real code.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::family::FamilyTable;
use super::virtual_card::VirtualCard;
use super::{CardChannel, CardError, IdentityReader, ReadOptions, identity};
use crate::domain::card::CardIdentity;
use crate::domain::readers::ReaderEvent;

/// The demo reader's name; distinct from any real reader's.
pub const DEMO_READER: &str = "Enroll Station Demo Reader";

/// Receives the demo reader's events.
pub type EventSink = Arc<dyn Fn(ReaderEvent) + Send + Sync>;

/// A virtual card the operator can pick in demo mode.
#[derive(Clone, Debug)]
pub struct DemoCard {
    /// What the menu shows.
    pub label: &'static str,
    /// The card.
    pub card: VirtualCard,
}

/// A plausible CPLC for the demo GIDS card: an Infineon chip, serial 0x12345678, batch 0x0042.
const DEMO_CPLC: [u8; 42] = [
    0x40, 0x90, 0x7A, 0x77, 0x47, 0x91, 0x12, 0x34, 0x00, 0x01, 0x52, 0x41, 0x12, 0x34, 0x56, 0x78,
    0x00, 0x42, 0x40, 0x90, 0x52, 0x41, 0x40, 0x90, 0x52, 0x41, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];

/// The card ID of the real IDPrime 940 in OpenSC issue #2877 ("Serial
/// number"): an 8-byte value written twice.
const DEMO_IDPRIME_CARDID: [u8; 16] = [
    0xa7, 0xc0, 0x00, 0xcb, 0xf5, 0xa8, 0x38, 0x79, 0xa7, 0xc0, 0x00, 0xcb, 0xf5, 0xa8, 0x38, 0x79,
];

/// The cards offered in demo mode: a GIDS card, a PIV card, a Thales IDPrime
/// token, and one with no card ID, so an operator can see every outcome.
pub fn demo_cards() -> Vec<DemoCard> {
    demo_cards_of(0)
}

/// The demo cards of one generation: generation 0 has the documented IDs
/// (the README's and the tests'); each later one gives every card a card ID
/// no earlier generation had, so a trainer who bound a card gets a fresh
/// one at the next insert instead of "CM already knows this card".
fn demo_cards_of(generation: u32) -> Vec<DemoCard> {
    let mut idprime = DEMO_IDPRIME_CARDID;
    // The IDPrime's 8-byte value is written twice: keep the halves equal.
    let mut half = [0u8; 8];
    half.copy_from_slice(&idprime[..8]);
    let half = fresh_id(half, generation);
    idprime[..8].copy_from_slice(&half);
    idprime[8..].copy_from_slice(&half);
    vec![
        DemoCard {
            label: "GIDS card (Windows virtual smart card)",
            card: VirtualCard::gids(fresh_id(
                [
                    0x3f, 0xf1, 0x88, 0xbc, 0xba, 0x83, 0x37, 0x40, 0x82, 0x62, 0x46, 0xeb, 0xa1,
                    0x29, 0x1c, 0x6e,
                ],
                generation,
            ))
            .with_cplc(DEMO_CPLC),
        },
        DemoCard {
            label: "PIV card (YubiKey-like)",
            card: VirtualCard::piv(fresh_id(
                [
                    0x58, 0xc6, 0x8a, 0x1d, 0x65, 0xe0, 0xa0, 0x92, 0x85, 0xaf, 0x09, 0x0b, 0x07,
                    0x0b, 0x5d, 0x79,
                ],
                generation,
            )),
        },
        DemoCard {
            label: "Thales IDPrime 940 (SafeNet eToken 5110)",
            card: VirtualCard::idprime(idprime).with_cplc(DEMO_CPLC),
        },
        DemoCard {
            label: "Card without a known application",
            card: VirtualCard::blank(),
        },
    ]
}

/// `id` with its last four bytes changed for `generation` (none for 0).
/// Multiplying by an odd constant is a bijection modulo 2^32, so every
/// generation gets different bytes and none gets back the original.
fn fresh_id<const N: usize>(mut id: [u8; N], generation: u32) -> [u8; N] {
    if generation == 0 || N < 4 {
        return id;
    }
    let tail = N - 4;
    let mut last = [0u8; 4];
    last.copy_from_slice(&id[tail..]);
    let changed = u32::from_be_bytes(last) ^ generation.wrapping_mul(0x9E37_79B9);
    id[tail..].copy_from_slice(&changed.to_be_bytes());
    id
}

/// The demo reader. Cheap to share: clone the `Arc`.
pub struct DemoReader {
    card: Mutex<Option<VirtualCard>>,
    /// Card IDs the station bound in this reader: never offered again.
    spent: Mutex<Vec<crate::domain::card::CardId>>,
    insertions: AtomicU64,
    sink: EventSink,
    families: FamilyTable,
}

impl DemoReader {
    /// Creates the reader with the built-in card families and announces it.
    pub fn new(sink: EventSink) -> Arc<Self> {
        Self::with_families(sink, FamilyTable::default())
    }

    /// Creates the reader and announces it; its cards are identified by the
    /// same families as the station's real readers, site rows included.
    pub fn with_families(sink: EventSink, families: FamilyTable) -> Arc<Self> {
        sink(ReaderEvent::ReaderAdded {
            reader: DEMO_READER.into(),
        });
        Arc::new(Self {
            card: Mutex::new(None),
            spent: Mutex::new(Vec::new()),
            insertions: AtomicU64::new(0),
            sink,
            families,
        })
    }

    /// Inserts a card (replacing any card present) and reads its identity, as a
    /// real reader's monitor would.
    pub fn insert(&self, card: VirtualCard) {
        if self.slot().is_some() {
            self.remove();
        }
        let insertion = self.insertions.fetch_add(1, Ordering::Relaxed) + 1;
        let atr = card.atr();
        *self.slot() = Some(card);
        (self.sink)(ReaderEvent::CardInserted {
            reader: DEMO_READER.into(),
            atr,
            insertion,
            arrival: crate::domain::readers::Arrival::Inserted,
        });
        let result = self
            .read_with(DEMO_READER, ReadOptions::INSERTION)
            .map_err(Into::into);
        (self.sink)(ReaderEvent::CardIdentified {
            reader: DEMO_READER.into(),
            insertion,
            result,
        });
    }

    /// Inserts demo card `index` (of [`demo_cards`]), with a fresh card ID
    /// when the station already bound the one it had. False when there is
    /// no such card.
    pub fn insert_demo(&self, index: usize) -> bool {
        let spent = self
            .spent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        // Each generation changes every ID, so this ends after at most one
        // more generation than there were binds.
        for generation in 0..=u32::try_from(spent.len()).unwrap_or(u32::MAX) {
            let Some(card) = demo_cards_of(generation).into_iter().nth(index) else {
                return false;
            };
            if card.card.card_id().is_none_or(|id| !spent.contains(&id)) {
                self.insert(card.card);
                return true;
            }
        }
        false
    }

    /// Inserts a fresh GIDS virtual card whose card ID no card had before
    /// (random): the next blank card of a batch. The demo only feeds
    /// cards; the batch that binds them is the real one.
    pub fn insert_fresh(&self) {
        let card_id = *uuid::Uuid::new_v4().as_bytes();
        self.insert(VirtualCard::gids(card_id).with_cplc(DEMO_CPLC));
    }

    /// The station bound `card_id` in this reader: the next insert of that
    /// card gets a fresh ID.
    pub fn card_bound(&self, card_id: crate::domain::card::CardId) {
        let mut spent = self.spent.lock().unwrap_or_else(PoisonError::into_inner);
        if !spent.contains(&card_id) {
            spent.push(card_id);
        }
    }

    /// Removes the card, if any.
    pub fn remove(&self) {
        if self.slot().take().is_some() {
            (self.sink)(ReaderEvent::CardRemoved {
                reader: DEMO_READER.into(),
            });
        }
    }

    /// True when a card is inserted.
    pub fn has_card(&self) -> bool {
        self.slot().is_some()
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<VirtualCard>> {
        // The guarded value is a plain card; a panic elsewhere cannot leave it half-written.
        self.card.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct VirtualChannel<'a>(&'a mut VirtualCard);

impl CardChannel for VirtualChannel<'_> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, CardError> {
        Ok(self.0.respond(command))
    }
}

impl IdentityReader for DemoReader {
    fn read_with(&self, reader: &str, options: ReadOptions) -> Result<CardIdentity, CardError> {
        if reader != DEMO_READER {
            return Err(CardError::UnknownReader(reader.into()));
        }
        let mut slot = self.slot();
        let card = slot
            .as_mut()
            .ok_or_else(|| CardError::NoCard(reader.into()))?;
        let atr = card.atr();
        identity::read_identity_with(&mut VirtualChannel(card), atr, &self.families, options)
    }
}

/// Reads from the demo reader or from PC/SC, by reader name.
pub struct ReaderHub {
    demo: Option<Arc<DemoReader>>,
    pcsc: Arc<dyn IdentityReader>,
}

impl ReaderHub {
    /// Combines the PC/SC readers with the demo reader, when there is one.
    pub fn new(pcsc: Arc<dyn IdentityReader>, demo: Option<Arc<DemoReader>>) -> Self {
        Self { demo, pcsc }
    }
}

impl IdentityReader for ReaderHub {
    fn read_with(&self, reader: &str, options: ReadOptions) -> Result<CardIdentity, CardError> {
        match &self.demo {
            Some(demo) if reader == DEMO_READER => demo.read_with(reader, options),
            _ => self.pcsc.read_with(reader, options),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::readers::{ReaderBoard, SlotState};

    fn recording() -> (EventSink, Arc<Mutex<ReaderBoard>>) {
        let board = Arc::new(Mutex::new(ReaderBoard::default()));
        let sink_board = Arc::clone(&board);
        let sink: EventSink = Arc::new(move |event| {
            sink_board
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .apply(&event);
        });
        (sink, board)
    }

    #[test]
    fn inserting_a_demo_card_identifies_it_and_removal_empties_the_reader() {
        let (sink, board) = recording();
        let reader = DemoReader::new(sink);
        for demo in demo_cards().into_iter().take(2) {
            let expected = demo.card.card_id().expect("demo card has an ID");
            reader.insert(demo.card);
            let seen = board
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(DEMO_READER)
                .and_then(SlotState::identity)
                .map(|i| i.card_id);
            assert_eq!(seen, Some(expected));
            assert_eq!(
                reader.read_identity(DEMO_READER).map(|i| i.card_id),
                Ok(expected)
            );
        }
        reader.remove();
        assert_eq!(
            board
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(DEMO_READER),
            Some(&SlotState::Empty)
        );
        assert_eq!(
            reader.read_identity(DEMO_READER),
            Err(CardError::NoCard(DEMO_READER.into()))
        );
    }

    #[test]
    fn a_card_without_an_application_is_reported_not_bindable() {
        let (sink, board) = recording();
        let reader = DemoReader::new(sink);
        let blank = demo_cards().pop().expect("three demo cards");
        reader.insert(blank.card);
        let board = board.lock().unwrap_or_else(PoisonError::into_inner);
        assert!(matches!(
            board.get(DEMO_READER),
            Some(SlotState::Present {
                identity: crate::domain::readers::IdentityState::Failed(_),
                ..
            })
        ));
    }

    #[test]
    fn a_bound_demo_card_comes_back_with_a_fresh_id_and_the_others_keep_theirs() {
        let (sink, board) = recording();
        let reader = DemoReader::new(sink);
        let id_in_reader = || match board.lock().map(|b| b.get(DEMO_READER).cloned()) {
            Ok(Some(SlotState::Present {
                identity: crate::domain::readers::IdentityState::Known { card_id, .. },
                ..
            })) => Some(card_id),
            _ => None,
        };
        assert!(reader.insert_demo(0));
        let first = id_in_reader().expect("the GIDS card has an ID");
        assert_eq!(
            first,
            demo_cards()[0].card.card_id().expect("documented ID")
        );
        assert!(reader.insert_demo(0));
        assert_eq!(
            id_in_reader(),
            Some(first),
            "not bound: the same card again"
        );
        reader.card_bound(first);
        assert!(reader.insert_demo(0));
        let second = id_in_reader().expect("an ID");
        assert_ne!(second, first, "a bound card comes back as a new one");
        reader.card_bound(second);
        assert!(reader.insert_demo(0));
        let third = id_in_reader().expect("an ID");
        assert!(third != first && third != second);
        assert!(reader.insert_demo(1));
        assert_eq!(
            id_in_reader(),
            demo_cards()[1].card.card_id(),
            "the PIV card keeps its documented ID"
        );
        assert!(!reader.insert_demo(99));
    }

    #[test]
    fn each_fresh_card_is_a_gids_card_with_a_card_id_never_seen() {
        let (sink, board) = recording();
        let reader = DemoReader::new(sink);
        let mut seen = Vec::new();
        for _ in 0..3 {
            reader.insert_fresh();
            let identity = board
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(DEMO_READER)
                .and_then(SlotState::identity)
                .expect("identified");
            assert_eq!(identity.kind, crate::domain::card::CardKind::Gids);
            assert!(!seen.contains(&identity.card_id));
            seen.push(identity.card_id);
        }
        let documented: Vec<_> = demo_cards()
            .iter()
            .filter_map(|c| c.card.card_id())
            .collect();
        assert!(seen.iter().all(|id| !documented.contains(id)));
    }
}
