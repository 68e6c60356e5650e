//! The Thales IDPrime index file (`N`, then N entries of 21 bytes), from a
//! card; and the whole IDPrime read against a card that answers with the
//! same bytes, cut into answers.

#![no_main]

use enroll_station::card::idprime;
use enroll_station::card::{CardChannel, CardError};
use libfuzzer_sys::fuzz_target;

/// A card whose answers are the input: a length byte, then that many bytes, and so on.
struct Replay<'a> {
    rest: &'a [u8],
    sent: usize,
}

impl CardChannel for Replay<'_> {
    fn transmit(&mut self, _command: &[u8]) -> Result<Vec<u8>, CardError> {
        self.sent += 1;
        let Some((&len, rest)) = self.rest.split_first() else {
            return Ok(vec![0x6A, 0x82]);
        };
        let len = usize::from(len).min(rest.len());
        let (answer, rest) = rest.split_at(len);
        self.rest = rest;
        Ok(answer.to_vec())
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(entries) = idprime::parse_index(data) {
        // Byte 0 counts the entries; each took 21 bytes of the input.
        assert_eq!(Some(entries.len()), data.first().map(|n| usize::from(*n)));
        assert!(entries.len() * idprime::IDPRIME_ENTRY_LEN < data.len());
        for entry in &entries {
            assert!(entry.name.len() <= 8 && entry.directory.len() <= 8);
            let shown = entry.name.chars().chain(entry.directory.chars());
            assert!(shown.into_iter().all(|c| c == ' ' || c.is_ascii_graphic()));
        }
    }
    let mut card = Replay {
        rest: data,
        sent: 0,
    };
    let _ = idprime::read_idprime_card_id(&mut card);
    // Each answer uses at least its length byte; the silence after is bounded by the reader.
    assert!(card.sent <= data.len() + 2 * idprime::MAX_READ_COMMANDS + 8);
});
