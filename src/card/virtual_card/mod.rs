//! A software card that answers APDUs like a real GIDS, PIV or Thales IDPrime card.
//!
//! The demo reader uses it so the station can be tried without hardware, and
//! the tests put it behind a real pcscd (through vsmartcard's vpcd), so the
//! same bytes travel the same path a physical card's would.
//!
//! Each card family's applet keeps its files and quirks in its own module
//! (`gids`, `piv`, `idprime`). What every card shares stays here: which applet
//! a command goes to, CPLC, and the T=0 habits (`61xx` chunks, a one-time
//! `6Cxx`) a reader must cope with whatever the applet.

mod gids;
mod idprime;
mod piv;

use self::gids::{GidsObject, gids_fci, gids_full_aid, gids_lookup};
use self::idprime::{IdPrimeApplet, idprime_fci};
use self::piv::{piv_fci, piv_full_aid, piv_object};
use super::identity::chuid_card_id;
use super::{CardChannel, CardError, tlv};
use crate::card::idprime::IDPRIME_AID;
use crate::domain::card::{Atr, CardId, CardKind};

/// A blank NXP JCOP card's ATR (historical bytes "JCOPv241").
const BLANK_ATR: &str = "3bf81300008131fe454a434f5076323431b7";

/// The longest answer a short APDU can carry.
const MAX_SHORT_RESPONSE: usize = 256;

/// A GIDS, PIV or IDPrime card in software. It never panics, whatever it is sent.
#[derive(Clone, Debug)]
pub struct VirtualCard {
    /// The applications on the card; the first is the one the card is
    /// issued for (its [`VirtualCard::kind`] and [`VirtualCard::card_id`]).
    applets: Vec<Applet>,
    atr: Atr,
    max_chunk: usize,
    /// The selected application, an index into `applets`.
    selected: Option<usize>,
    pending: Vec<u8>,
    /// The status word that ends the pending answer (`90 00`, or `62 82` for a short read).
    pending_sw: u16,
    cplc: Option<[u8; 42]>,
    /// Armed by [`VirtualCard::with_wrong_le_first`]; cleared once it has answered `6Cxx`.
    wrong_le_first: bool,
}

/// One application on the card.
#[derive(Clone, Debug)]
enum Applet {
    Piv { chuid: Vec<u8> },
    Gids { objects: Vec<GidsObject> },
    IdPrime(IdPrimeApplet),
}

/// A parsed short command APDU.
struct Command<'a> {
    cla: u8,
    ins: u8,
    p1: u8,
    p2: u8,
    data: &'a [u8],
    le: Option<u8>,
}

impl VirtualCard {
    /// A card with no known application: every SELECT answers `6A82`.
    pub fn blank() -> Self {
        Self::new(Vec::new(), BLANK_ATR)
    }

    /// Answers data longer than `max_len` in chunks announced with `61xx`,
    /// as T=0 cards and cards with small buffers do. `0` counts as 1.
    pub fn with_response_chunk(mut self, max_len: u8) -> Self {
        self.max_chunk = usize::from(max_len.max(1));
        self
    }

    /// Answers data of any length in one piece, never with `61xx`, even
    /// beyond the 256 bytes of a short answer, as some cards and drivers do
    /// with long objects.
    pub fn with_whole_answers(mut self) -> Self {
        self.max_chunk = usize::MAX;
        self
    }

    /// Adds GlobalPlatform CPLC data: GET DATA `9F7F` (class `80` or `00`)
    /// answers `9F 7F 2A <cplc>`. Without it the card refuses that command as before.
    pub fn with_cplc(mut self, cplc: [u8; 42]) -> Self {
        self.cplc = Some(cplc);
        self
    }

    /// Refuses the first command that has a data reply and an Le other than
    /// that reply's exact length (`00` and no Le included) with `6C <length>`,
    /// as T=0 cards do; the resent command and everything after are answered
    /// normally. Replies longer than 256 bytes cannot be announced that way
    /// and never trigger it.
    pub fn with_wrong_le_first(mut self) -> Self {
        self.wrong_le_first = true;
        self
    }

    /// The card's ATR.
    pub fn atr(&self) -> Atr {
        self.atr.clone()
    }

    /// Which application the card is issued for (the first one it holds).
    pub fn kind(&self) -> Option<CardKind> {
        self.applets.first().map(|applet| match applet {
            Applet::Piv { .. } => CardKind::Piv,
            Applet::Gids { .. } => CardKind::Gids,
            Applet::IdPrime(_) => CardKind::IdPrime,
        })
    }

    /// The card ID a correct reader should find, when the card has a usable one.
    pub fn card_id(&self) -> Option<CardId> {
        let id = match self.applets.first()? {
            Applet::Piv { chuid } => chuid_card_id(chuid).ok()?,
            Applet::Gids { objects } => gids::card_id(objects)?,
            Applet::IdPrime(applet) => applet.card_id()?,
        };
        (!id.is_zero()).then_some(id)
    }

    /// Forgets the selected application, the current EF and any pending answer, as a power cycle does.
    pub fn reset(&mut self) {
        self.deselect();
        self.pending.clear();
    }

    /// Answers one command APDU with data and a status word. Never panics.
    pub fn respond(&mut self, apdu: &[u8]) -> Vec<u8> {
        let Some(command) = Command::parse(apdu) else {
            self.pending.clear();
            return status(0x6700);
        };
        if command.ins == 0xCA
            && let Some(cplc) = self.cplc
        {
            self.pending.clear();
            return self.get_cplc(&command, &cplc);
        }
        if command.cla != 0x00 {
            self.pending.clear();
            return status(0x6E00);
        }
        if command.ins == 0xC0 {
            return self.get_response(&command);
        }
        self.pending.clear();
        let outcome = match command.ins {
            0xA4 => self.select(&command).map(|data| (data, 0x9000)),
            0xCB => self.get_data(&command).map(|data| (data, 0x9000)),
            0xB0 => self.read_binary(&command),
            _ => Err(0x6D00),
        };
        match outcome {
            Ok((data, sw)) => self
                .wrong_le_once(&command, &data)
                .unwrap_or_else(|| self.answer_with(data, sw)),
            Err(sw) => status(sw),
        }
    }

    fn new(applets: Vec<Applet>, atr_hex: &str) -> Self {
        Self {
            applets,
            atr: Atr::parse_hex(atr_hex).unwrap_or_default(),
            max_chunk: MAX_SHORT_RESPONSE,
            selected: None,
            pending: Vec::new(),
            pending_sw: 0x9000,
            cplc: None,
            wrong_le_first: false,
        }
    }

    /// No application selected, no current EF.
    fn deselect(&mut self) {
        self.selected = None;
        for applet in &mut self.applets {
            if let Applet::IdPrime(idprime) = applet {
                idprime.current = None;
            }
        }
    }

    /// The selected application.
    fn selected_applet(&self) -> Option<&Applet> {
        self.applets.get(self.selected?)
    }

    /// GET DATA `9F7F` on a card with CPLC: class `80` as GlobalPlatform
    /// says, `00` as some cards accept; a short Le gets `6Cxx` like a T=0 card.
    fn get_cplc(&mut self, command: &Command<'_>, cplc: &[u8; 42]) -> Vec<u8> {
        if !matches!(command.cla, 0x00 | 0x80) {
            return status(0x6E00);
        }
        if (command.p1, command.p2) != (0x9F, 0x7F) || !command.data.is_empty() {
            return status(0x6A88);
        }
        let answer = encode_tlv(&[0x9F, 0x7F], cplc);
        match command.le {
            Some(le) if le != 0 && usize::from(le) != answer.len() => {
                vec![0x6C, u8::try_from(answer.len()).unwrap_or(0)]
            }
            _ => self.answer_with(answer, 0x9000),
        }
    }

    /// The one-time `6Cxx` of [`VirtualCard::with_wrong_le_first`], when this
    /// command is the one to get it.
    fn wrong_le_once(&mut self, command: &Command<'_>, data: &[u8]) -> Option<Vec<u8>> {
        // Le `00` asks for 256 bytes, so a 256-byte reply is announced as `6C 00`.
        let right_le = match data.len() {
            0 | 257.. => return None,
            256 => 0,
            len => u8::try_from(len).ok()?,
        };
        if !self.wrong_le_first || command.le == Some(right_le) {
            return None;
        }
        self.wrong_le_first = false;
        Some(vec![0x6C, right_le])
    }

    /// Sends what fits, keeps the rest for GET RESPONSE; `sw` ends the whole answer.
    fn answer_with(&mut self, mut data: Vec<u8>, sw: u16) -> Vec<u8> {
        if data.len() <= self.max_chunk {
            data.extend_from_slice(&sw.to_be_bytes());
            return data;
        }
        self.pending = data.split_off(self.max_chunk);
        self.pending_sw = sw;
        data.extend_from_slice(&more_available(self.pending.len()));
        data
    }

    /// `00 C0 00 00 Le`: the next part of a long answer.
    fn get_response(&mut self, command: &Command<'_>) -> Vec<u8> {
        if self.pending.is_empty() {
            return status(0x6985);
        }
        if (command.p1, command.p2) != (0, 0) || !command.data.is_empty() {
            self.pending.clear();
            return status(0x6A86);
        }
        let asked = match command.le {
            None | Some(0) => MAX_SHORT_RESPONSE,
            Some(le) => usize::from(le),
        };
        let take = asked.min(self.max_chunk).min(self.pending.len());
        let rest = self.pending.split_off(take);
        let mut out = std::mem::replace(&mut self.pending, rest);
        if self.pending.is_empty() {
            out.extend_from_slice(&self.pending_sw.to_be_bytes());
        } else {
            out.extend_from_slice(&more_available(self.pending.len()));
        }
        out
    }

    /// SELECT: by AID (P1 `04`) on any card; by file ID inside a selected IDPrime applet.
    fn select(&mut self, command: &Command<'_>) -> Result<Vec<u8>, u16> {
        match command.p1 {
            0x04 => self.select_aid(command),
            0x00 | 0x02 | 0x08 | 0x09 => {
                let has_idprime = self.has_idprime();
                match self.selected.and_then(|i| self.applets.get_mut(i)) {
                    Some(Applet::IdPrime(idprime)) => idprime.select_ef(command),
                    // The IDPrime applet's files are reachable only through it.
                    _ if has_idprime => Err(0x6A82),
                    _ => Err(0x6A86),
                }
            }
            _ => Err(0x6A86),
        }
    }

    /// SELECT by AID; a prefix of the full AID (5 bytes or more) selects, as on real cards.
    fn select_aid(&mut self, command: &Command<'_>) -> Result<Vec<u8>, u16> {
        if !matches!(command.p2, 0x00 | 0x0C) {
            return Err(0x6A86);
        }
        self.deselect();
        if command.data.len() < 5 {
            return Err(0x6A82);
        }
        let found = self
            .applets
            .iter()
            .position(|applet| applet_full_aid(applet).starts_with(command.data));
        let Some(index) = found else {
            return Err(0x6A82);
        };
        let fci = match self.applets.get(index) {
            Some(Applet::Piv { .. }) => piv_fci(),
            Some(Applet::Gids { .. }) => gids_fci(),
            Some(Applet::IdPrime(idprime)) => {
                if idprime.select_p2_0c_only && command.p2 != 0x0C {
                    return Err(0x6A86);
                }
                idprime_fci()
            }
            None => return Err(0x6A82),
        };
        self.selected = Some(index);
        Ok(if command.p2 == 0x0C { Vec::new() } else { fci })
    }

    fn has_idprime(&self) -> bool {
        self.applets
            .iter()
            .any(|applet| matches!(applet, Applet::IdPrime(_)))
    }

    /// GET DATA with a `5C` tag list, for PIV (`3FFF`) or a GIDS EF (P1 P2).
    fn get_data(&self, command: &Command<'_>) -> Result<Vec<u8>, u16> {
        let Some(applet) = self.selected_applet() else {
            return Err(0x6985);
        };
        if matches!(applet, Applet::IdPrime(_)) {
            return Err(0x6D00);
        }
        let objects = tlv::parse_all(command.data).map_err(|_| 0x6A80_u16)?;
        let [only] = objects.as_slice() else {
            return Err(0x6A80);
        };
        if only.tag != 0x5C {
            return Err(0x6A80);
        }
        let ef = u16::from_be_bytes([command.p1, command.p2]);
        match applet {
            Applet::Piv { chuid } => piv_object(ef, only.value, chuid),
            Applet::Gids { objects } => gids_lookup(objects, ef, only.value),
            Applet::IdPrime(_) => Err(0x6D00),
        }
    }

    /// READ BINARY: only the IDPrime applet has EFs to read.
    fn read_binary(&self, command: &Command<'_>) -> Result<(Vec<u8>, u16), u16> {
        match self.selected_applet() {
            Some(Applet::IdPrime(idprime)) => idprime.read_binary(command),
            _ => Err(0x6D00),
        }
    }
}

impl CardChannel for VirtualCard {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, CardError> {
        Ok(self.respond(command))
    }
}

impl<'a> Command<'a> {
    /// Splits a short APDU (ISO 7816-4 cases 1-4); `None` when malformed or extended.
    fn parse(apdu: &'a [u8]) -> Option<Self> {
        let [cla, ins, p1, p2, body @ ..] = apdu else {
            return None;
        };
        let (data, le) = match body {
            [] => (&[][..], None),
            [le] => (&[][..], Some(*le)),
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                if lc == 0 {
                    return None;
                }
                let data = rest.get(..lc)?;
                match rest.get(lc..)? {
                    [] => (data, None),
                    [le] => (data, Some(*le)),
                    _ => return None,
                }
            }
        };
        Some(Self {
            cla: *cla,
            ins: *ins,
            p1: *p1,
            p2: *p2,
            data,
            le,
        })
    }
}

/// The full AID an applet answers to.
fn applet_full_aid(applet: &Applet) -> Vec<u8> {
    match applet {
        Applet::Piv { .. } => piv_full_aid(),
        Applet::Gids { .. } => gids_full_aid(),
        Applet::IdPrime(_) => IDPRIME_AID.to_vec(),
    }
}

/// Tag, BER length, value. Values here stay far below 64 KB.
fn encode_tlv(tag: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = tag.to_vec();
    let len = value.len();
    match u8::try_from(len) {
        Ok(short) if short < 0x80 => out.push(short),
        Ok(one) => out.extend_from_slice(&[0x81, one]),
        Err(_) => {
            let [hi, lo] = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes();
            out.extend_from_slice(&[0x82, hi, lo]);
        }
    }
    out.extend_from_slice(value);
    out
}

/// `61xx` announcing `remaining` bytes (`00` means 256 or more).
fn more_available(remaining: usize) -> [u8; 2] {
    [0x61, u8::try_from(remaining).unwrap_or(0)]
}

fn status(sw: u16) -> Vec<u8> {
    sw.to_be_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::gids::GIDS_ATR;
    use super::piv::realistic_chuid;
    use super::*;
    use crate::card::apdu::transmit_collect;

    pub(super) const ID: [u8; 16] = [
        0x58, 0xc6, 0x8a, 0x1d, 0x65, 0xe0, 0xa0, 0x92, 0x85, 0xaf, 0x09, 0x0b, 0x07, 0x0b, 0x5d,
        0x79,
    ];

    pub(super) fn apdu(text: &str) -> Vec<u8> {
        hex::decode(text.replace(' ', "")).expect("hex")
    }

    #[test]
    fn atrs_are_well_formed_with_a_matching_check_byte() {
        for card in [
            VirtualCard::gids(ID),
            VirtualCard::piv(ID),
            VirtualCard::blank(),
        ] {
            let atr = card.atr();
            assert_eq!(atr.bytes().first(), Some(&0x3B), "{atr}");
            let check = atr.bytes().iter().skip(1).fold(0u8, |acc, b| acc ^ b);
            assert_eq!(check, 0, "TCK of {atr}");
        }
        assert_eq!(VirtualCard::gids(ID).atr().to_hex(), GIDS_ATR);
    }

    #[test]
    fn kinds_and_card_ids_are_reported() {
        assert_eq!(VirtualCard::gids(ID).kind(), Some(CardKind::Gids));
        assert_eq!(VirtualCard::piv(ID).kind(), Some(CardKind::Piv));
        assert_eq!(VirtualCard::blank().kind(), None);
        assert_eq!(VirtualCard::gids(ID).card_id(), Some(CardId::from_raw(ID)));
        assert_eq!(
            VirtualCard::gids_with_cardid_at(ID, 0xA015, 0xDF30).card_id(),
            Some(CardId::from_raw(ID))
        );
        assert_eq!(VirtualCard::piv(ID).card_id(), Some(CardId::from_raw(ID)));
        assert_eq!(VirtualCard::piv([0; 16]).card_id(), None);
        assert_eq!(VirtualCard::blank().card_id(), None);
    }

    #[test]
    fn status_words_for_bad_commands() {
        let mut card = VirtualCard::piv(ID);
        assert_eq!(card.respond(&[]), vec![0x67, 0x00]);
        assert_eq!(card.respond(&[0x00, 0xA4]), vec![0x67, 0x00]);
        assert_eq!(card.respond(&apdu("80CA9F7F00")), vec![0x6E, 0x00]);
        assert_eq!(card.respond(&apdu("00B0000000")), vec![0x6D, 0x00]);
        assert_eq!(
            card.respond(&apdu("00CB3FFF055C035FC10200")),
            vec![0x69, 0x85]
        );
        assert_eq!(
            card.respond(&apdu("00A4040005A000000308")).last(),
            Some(&0x00)
        );
        assert_eq!(card.respond(&apdu("00CB3FFF03AABBCC00")), vec![0x6A, 0x80]);
        assert_eq!(
            card.respond(&apdu("00CB3FFF055C035FC10500")),
            vec![0x6A, 0x82]
        );
        assert_eq!(card.respond(&apdu("00C0000010")), vec![0x69, 0x85]);
        assert_eq!(
            card.respond(&apdu("00A4040009A0000003974254465900")),
            vec![0x6A, 0x82]
        );
        assert_eq!(
            card.respond(&apdu("00A4000009A0000003974254465900")),
            vec![0x6A, 0x86]
        );
        assert_eq!(card.respond(&apdu("00A40400 0000")), vec![0x67, 0x00]);
        assert_eq!(
            VirtualCard::blank().respond(&apdu("00A4040009A0000003080000100000")),
            vec![0x6A, 0x82]
        );
    }

    #[test]
    fn long_answers_come_in_61xx_chunks() {
        let mut card = VirtualCard::piv(ID).with_response_chunk(16);
        card.respond(&apdu("00A4040009A0000003080000100000"));
        let first = card.respond(&apdu("00CB3FFF055C035FC10200"));
        assert_eq!(first.len(), 18);
        assert_eq!(first.get(16), Some(&0x61));
        let whole = transmit_collect(&mut card, &apdu("00CB3FFF055C035FC10200")).expect("ok");
        assert_eq!(whole.data.len(), 2 + 27 + 18 + 10 + 2 + 2);
        assert!(whole.is_ok());
    }

    #[test]
    fn random_input_never_panics() {
        let mut seed = 0x9E37_79B9_u32;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        let mut cards = every_kind_of_card();
        for _ in 0..5000 {
            let len = (next() % 24) as usize;
            let mut command: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if let Some(cla) = command.first_mut() {
                *cla &= 0x01;
            }
            if let Some(ins) = command.get_mut(1) {
                *ins = [0xA4, 0xCB, 0xC0, 0xB0, *ins][(next() % 5) as usize];
            }
            if let Some(p1) = command.get_mut(2) {
                *p1 = [0x04, 0x08, 0x00, *p1][(next() % 4) as usize];
            }
            for card in &mut cards {
                let answer = card.respond(&command);
                assert!(answer.len() >= 2);
            }
        }
    }
    /// One card of each kind and switch, with small chunks and reads.
    pub(super) fn every_kind_of_card() -> Vec<VirtualCard> {
        vec![
            VirtualCard::gids(ID).with_response_chunk(3),
            VirtualCard::piv(ID).with_response_chunk(0),
            VirtualCard::blank(),
            VirtualCard::idprime(ID),
            VirtualCard::idprime(ID)
                .with_piv_applet(ID)
                .idprime_max_read(0)
                .with_response_chunk(5)
                .with_wrong_le_first(),
            VirtualCard::idprime(ID)
                .idprime_select_p2_0c_only()
                .idprime_select_ef_p2_0c_only()
                .idprime_fcp_size_tag(0x81)
                .idprime_index_unpadded()
                .idprime_cardid_at(0x0101)
                .idprime_cardid_at(0x7FFF)
                .idprime_cardid_size(u16::MAX),
            VirtualCard::idprime(ID)
                .idprime_without_cardid()
                .idprime_cardid_size(0)
                .with_cplc([7; 42]),
        ]
    }
    /// Selects the IDPrime applet and `fid` (FCP asked), returns the FCP.
    pub(super) fn idprime_select(card: &mut VirtualCard, fid: &str) -> Vec<u8> {
        assert_eq!(
            card.respond(&apdu("00A4040C0BA000000018800000000662")),
            [0x90, 0x00]
        );
        card.respond(&apdu(&format!("00A4080002{fid}00")))
    }
    #[test]
    fn whole_answers_come_in_one_piece() {
        let chuid = [realistic_chuid(ID), encode_tlv(&[0x3E], &[0x5A; 700])].concat();
        let mut card = VirtualCard::piv_with_chuid(chuid).with_whole_answers();
        card.respond(&apdu("00A4040009A0000003080000100000"));
        let answer = card.respond(&apdu("00CB3FFF055C035FC10200"));
        assert!(answer.len() > 760, "{}", answer.len());
        assert_eq!(answer.get(answer.len() - 2..), Some(&[0x90, 0x00][..]));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_command_sequences_never_panic(
            commands in proptest::collection::vec(
                (
                    0u8..2,
                    proptest::sample::select(vec![0xA4u8, 0xB0, 0xC0, 0xCB, 0xCA, 0x00]),
                    proptest::sample::select(vec![0x00u8, 0x02, 0x04, 0x08, 0x09, 0x80, 0xFF]),
                    proptest::prelude::any::<u8>(),
                    proptest::collection::vec(proptest::prelude::any::<u8>(), 0..16),
                ),
                1..40,
            ),
        ) {
            let mut cards = every_kind_of_card();
            for (cla, ins, p1, p2, body) in &commands {
                let mut command = vec![*cla, *ins, *p1, *p2];
                command.extend_from_slice(body);
                for card in &mut cards {
                    let answer = card.respond(&command);
                    proptest::prop_assert!(answer.len() >= 2);
                    proptest::prop_assert!(answer.len() <= MAX_SHORT_RESPONSE + 2);
                }
            }
        }
    }
}
