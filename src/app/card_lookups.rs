//! What the window has asked CM about the cards in the readers, and the
//! answers: each identified card is looked up once per insertion, and a
//! request's template is asked about reuse only when a discontinued card
//! makes the answer matter.

use std::collections::HashMap;

use uuid::Uuid;

use crate::domain::card::CardId;
use crate::domain::card_record::CmStanding;
use crate::domain::readers::ReaderBoard;
use crate::domain::reuse::{TemplateReuse, needs_template};

/// A question for the worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Question {
    /// What CM knows of this card.
    Card(CardId),
    /// Whether this template allows a discontinued card to be reused.
    Template(Uuid),
}

/// The answers so far, per reader and per template.
#[derive(Debug, Default)]
pub struct CardLookups {
    /// The card each reader held when it was asked about, and the answer.
    by_reader: HashMap<String, (CardId, CmStanding)>,
    /// Each template's answer; `NotAsked` while the question is out or
    /// when no answer that holds came back (a network error is not kept as
    /// a refusal: the bind asks again).
    template_reuse: HashMap<Uuid, TemplateReuse>,
}

impl CardLookups {
    /// The card in `reader` went (or a new one came): its answer no longer applies.
    pub fn forget_reader(&mut self, reader: &str) {
        self.by_reader.remove(reader);
    }

    /// After a bind CM knows the bound card differently: ask again about every card.
    pub fn forget_cards(&mut self) {
        self.by_reader.clear();
    }

    /// CM's answer about a card, for every reader still waiting for it.
    pub fn answered(&mut self, card_id: &CardId, standing: &CmStanding) {
        for (asked, known) in self.by_reader.values_mut() {
            if asked == card_id && *known == CmStanding::Asking {
                *known = standing.clone();
            }
        }
    }

    /// A template's answer about reuse. A passing failure is not kept as a
    /// refusal, since the bind reads the flag again.
    pub fn reuse_read(&mut self, template: Uuid, reuse: TemplateReuse) {
        let kept = match reuse {
            TemplateReuse::Unreadable(_) => TemplateReuse::NotAsked,
            lasting => lasting,
        };
        self.template_reuse.insert(template, kept);
    }

    /// What CM said of the card `card_id` in `reader`, if it was asked about that card.
    pub fn standing(&self, reader: &str, card_id: &CardId) -> Option<&CmStanding> {
        self.by_reader
            .get(reader)
            .filter(|(asked, _)| asked == card_id)
            .map(|(_, standing)| standing)
    }

    /// A template's answer that holds (read, or denied).
    pub fn reuse_for(&self, template: Uuid) -> Option<&TemplateReuse> {
        self.template_reuse
            .get(&template)
            .filter(|reuse| **reuse != TemplateReuse::NotAsked)
    }

    /// True when CM answered that it knows the card in `reader` and none of
    /// its objects is in use: only then does a template's reuse matter.
    pub fn is_discontinued(&self, reader: &str) -> bool {
        self.by_reader
            .get(reader)
            .is_some_and(|(_, standing)| standing.objects().is_some_and(needs_template))
    }

    /// The questions to send now, each once: every identified card not yet
    /// asked about, and `template`'s reuse when the card a bind would use
    /// (in `card_reader`) is known to CM with every object discontinued.
    pub fn questions(
        &mut self,
        board: &ReaderBoard,
        template: Option<(Uuid, &str)>,
    ) -> Vec<Question> {
        let mut questions = Vec::new();
        for (reader, slot) in board.readers() {
            let Some(identity) = slot.identity() else {
                continue;
            };
            let asked = self
                .by_reader
                .get(reader)
                .is_some_and(|(card, _)| *card == identity.card_id);
            if !asked {
                self.by_reader
                    .insert(reader.to_owned(), (identity.card_id, CmStanding::Asking));
                questions.push(Question::Card(identity.card_id));
            }
        }
        if let Some((template, reader)) = template
            && !self.template_reuse.contains_key(&template)
            && self.is_discontinued(reader)
        {
            self.template_reuse
                .insert(template, TemplateReuse::NotAsked);
            questions.push(Question::Template(template));
        }
        questions
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::card::{Atr, CardKind};
    use crate::domain::card_record::CardRecord;
    use crate::domain::readers::{Arrival, ReaderEvent};
    use crate::domain::request::SmartcardStatus;
    use crate::domain::smartcard::Smartcard;

    fn board_with(reader: &str, byte: u8) -> ReaderBoard {
        let mut board = ReaderBoard::default();
        board.apply(&ReaderEvent::ReaderAdded {
            reader: reader.into(),
        });
        board.apply(&ReaderEvent::CardInserted {
            reader: reader.into(),
            atr: Atr::from_bytes(vec![0x3b, byte]),
            insertion: 1,
            arrival: Arrival::Inserted,
        });
        board.apply(&ReaderEvent::CardIdentified {
            reader: reader.into(),
            insertion: 1,
            result: Ok(crate::domain::card::example_identity(byte, CardKind::Gids)),
        });
        board
    }

    fn retired() -> CmStanding {
        CmStanding::Known(CardRecord {
            objects: vec![Smartcard {
                uuid: Uuid::from_u128(1),
                status: SmartcardStatus::RETIRED,
                card_id: None,
                atr: None,
                assigned_user: None,
                profile_template: None,
            }],
            operations: Ok(Vec::new()),
            certificates: Ok(0),
        })
    }

    #[test]
    fn each_card_is_asked_about_once_per_insertion() {
        let board = board_with("R", 7);
        let card = CardId::from_raw([7; 16]);
        let mut lookups = CardLookups::default();
        assert_eq!(lookups.questions(&board, None), vec![Question::Card(card)]);
        assert_eq!(lookups.questions(&board, None), vec![]);
        assert_eq!(lookups.standing("R", &card), Some(&CmStanding::Asking));
        lookups.answered(&card, &CmStanding::New);
        assert_eq!(lookups.standing("R", &card), Some(&CmStanding::New));
        // Another card's answer never lands on this reader.
        lookups.answered(&CardId::from_raw([8; 16]), &retired());
        assert_eq!(lookups.standing("R", &card), Some(&CmStanding::New));
        lookups.forget_reader("R");
        assert_eq!(lookups.questions(&board, None), vec![Question::Card(card)]);
        lookups.answered(&card, &CmStanding::New);
        lookups.forget_cards();
        assert_eq!(lookups.standing("R", &card), None);
    }

    #[test]
    fn the_template_is_asked_only_for_a_discontinued_card() {
        let board = board_with("R", 7);
        let card = CardId::from_raw([7; 16]);
        let template = Uuid::from_u128(70);
        let mut lookups = CardLookups::default();
        lookups.questions(&board, Some((template, "R")));
        lookups.answered(&card, &CmStanding::New);
        assert_eq!(lookups.questions(&board, Some((template, "R"))), vec![]);
        lookups.forget_reader("R");
        lookups.questions(&board, None);
        lookups.answered(&card, &retired());
        assert_eq!(
            lookups.questions(&board, Some((template, "R"))),
            vec![Question::Template(template)]
        );
        assert_eq!(lookups.questions(&board, Some((template, "R"))), vec![]);
        assert_eq!(lookups.reuse_for(template), None, "no answer yet");
        let read = TemplateReuse::Read {
            template,
            allowed: false,
        };
        lookups.reuse_read(template, TemplateReuse::Unreadable("timed out".into()));
        assert_eq!(
            lookups.reuse_for(template),
            None,
            "a passing failure refuses nothing"
        );
        lookups.reuse_read(template, TemplateReuse::Denied("403".into()));
        assert_eq!(
            lookups.reuse_for(template),
            Some(&TemplateReuse::Denied("403".into()))
        );
        lookups.reuse_read(template, read.clone());
        assert_eq!(lookups.reuse_for(template), Some(&read));
    }
}
