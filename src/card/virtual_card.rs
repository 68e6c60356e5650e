//! A software card that answers APDUs like a real GIDS or PIV card.
//!
//! The demo reader uses it so the station can be tried without hardware, and
//! the tests put it behind a real pcscd (through vsmartcard's vpcd), so the
//! same bytes travel the same path a physical card's would.

use super::identity::{
    GIDS_AID, GIDS_MASTER_FILE_DO, GIDS_MASTER_FILE_EF, GIDS_RECORD_LEN, PIV_AID, chuid_card_id,
};
use super::{CardChannel, CardError, tlv};
use crate::domain::card::{Atr, CardId, CardKind};

/// The seed's GIDS ATR: its historical bytes carry the GIDS AID.
const GIDS_ATR: &str = "3b8d0180fba000000397425446590301c8";

/// A YubiKey 4/5 ATR (historical bytes "Yubikey4").
const PIV_ATR: &str = "3bf81300008131fe15597562696b657934d4";

/// A blank NXP JCOP card's ATR (historical bytes "JCOPv241").
const BLANK_ATR: &str = "3bf81300008131fe454a434f5076323431b7";

/// The FASC-N of the sspi-rs test CHUID, as a realistic tag `30`.
const FASCN: [u8; 25] = [
    0xD4, 0xE7, 0x39, 0xDA, 0x73, 0x9C, 0xED, 0x39, 0xCE, 0x73, 0x9D, 0x83, 0x68, 0x58, 0x21, 0x08,
    0x42, 0x10, 0x84, 0x21, 0xC8, 0x42, 0x10, 0xC3, 0xEB,
];

/// The longest answer a short APDU can carry.
const MAX_SHORT_RESPONSE: usize = 256;

/// A GIDS or PIV card in software. It never panics, whatever it is sent.
#[derive(Clone, Debug)]
pub struct VirtualCard {
    application: Application,
    atr: Atr,
    max_chunk: usize,
    selected: bool,
    pending: Vec<u8>,
    cplc: Option<[u8; 42]>,
    /// Armed by [`VirtualCard::with_wrong_le_first`]; cleared once it has answered `6Cxx`.
    wrong_le_first: bool,
}

/// What the card holds.
#[derive(Clone, Debug)]
enum Application {
    Piv { chuid: Vec<u8> },
    Gids { objects: Vec<GidsObject> },
    Blank,
}

/// One GIDS data object: its value lives in an EF under a DO tag.
#[derive(Clone, Debug)]
struct GidsObject {
    ef: u16,
    data_object: u16,
    value: Vec<u8>,
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
    /// A GIDS card whose master file table puts the card ID where the common profile does (EF `A012`, DO `DF20`).
    pub fn gids(card_id_raw: [u8; 16]) -> Self {
        Self::gids_with_cardid_at(card_id_raw, 0xA012, 0xDF20)
    }

    /// A GIDS card whose `cardid` file is in another EF / DO, to prove the reader follows the table.
    pub fn gids_with_cardid_at(card_id_raw: [u8; 16], ef: u16, data_object: u16) -> Self {
        let files = [
            ("", "cardid", data_object, ef),
            ("", "cardapps", 0xDF21, 0xA010),
            ("", "cardcf", 0xDF22, 0xA010),
            ("mscp", "", 0, 0),
            ("mscp", "cmapfile", 0xDF23, 0xA010),
        ];
        let mut table = vec![0x01];
        for (directory, file, tag, file_ef) in files {
            table.extend_from_slice(&master_file_record(directory, file, tag, file_ef));
        }
        let mut objects = vec![
            gids_object(GIDS_MASTER_FILE_EF, GIDS_MASTER_FILE_DO, table),
            gids_object(ef, data_object, card_id_raw.to_vec()),
            gids_object(0xA010, 0xDF21, b"mscp\0\0\0\0".to_vec()),
            gids_object(0xA010, 0xDF22, vec![0; 6]),
            gids_object(0xA010, 0xDF23, Vec::new()),
        ];
        // DO tags mean something only inside their EF: a decoy DF20 in the
        // master file's EF catches a reader that ignores the table.
        if (ef, data_object) != (GIDS_MASTER_FILE_EF, 0xDF20) {
            objects.push(gids_object(GIDS_MASTER_FILE_EF, 0xDF20, vec![0xEE; 16]));
        }
        Self::new(Application::Gids { objects }, GIDS_ATR)
    }

    /// A PIV card with a realistic CHUID: FASC-N, GUID, expiry, empty signature and EDC.
    pub fn piv(card_id_raw: [u8; 16]) -> Self {
        let mut chuid = encode_tlv(&[0x30], &FASCN);
        chuid.extend(encode_tlv(&[0x34], &card_id_raw));
        chuid.extend(encode_tlv(&[0x35], b"20300101"));
        chuid.extend(encode_tlv(&[0x3E], &[]));
        chuid.extend(encode_tlv(&[0xFE], &[]));
        Self::piv_with_chuid(chuid)
    }

    /// A PIV card whose CHUID (the contents of tag `53`) is exactly `chuid_value`.
    pub fn piv_with_chuid(chuid_value: Vec<u8>) -> Self {
        Self::new(Application::Piv { chuid: chuid_value }, PIV_ATR)
    }

    /// A card with no known application: every SELECT answers `6A82`.
    pub fn blank() -> Self {
        Self::new(Application::Blank, BLANK_ATR)
    }

    /// Answers data longer than `max_len` in chunks announced with `61xx`,
    /// as T=0 cards and cards with small buffers do. `0` counts as 1.
    pub fn with_response_chunk(mut self, max_len: u8) -> Self {
        self.max_chunk = usize::from(max_len.max(1));
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

    /// Which application the card holds.
    pub fn kind(&self) -> Option<CardKind> {
        match self.application {
            Application::Piv { .. } => Some(CardKind::Piv),
            Application::Gids { .. } => Some(CardKind::Gids),
            Application::Blank => None,
        }
    }

    /// The card ID a correct reader should find, when the card has a usable one.
    pub fn card_id(&self) -> Option<CardId> {
        let id = match &self.application {
            Application::Piv { chuid } => chuid_card_id(chuid).ok()?,
            Application::Gids { objects } => {
                let (ef, data_object) = self.gids_cardid_location()?;
                let object = objects
                    .iter()
                    .find(|o| o.ef == ef && o.data_object == data_object)?;
                CardId::from_raw(object.value.as_slice().try_into().ok()?)
            }
            Application::Blank => return None,
        };
        (!id.is_zero()).then_some(id)
    }

    /// Forgets the selected application and any pending answer, as a power cycle does.
    pub fn reset(&mut self) {
        self.selected = false;
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
            0xA4 => self.select(&command),
            0xCB => self.get_data(&command),
            _ => Err(0x6D00),
        };
        match outcome {
            Ok(data) => self
                .wrong_le_once(&command, &data)
                .unwrap_or_else(|| self.answer(data)),
            Err(sw) => status(sw),
        }
    }

    fn new(application: Application, atr_hex: &str) -> Self {
        Self {
            application,
            atr: Atr::parse_hex(atr_hex).unwrap_or_default(),
            max_chunk: MAX_SHORT_RESPONSE,
            selected: false,
            pending: Vec::new(),
            cplc: None,
            wrong_le_first: false,
        }
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
            _ => self.answer(answer),
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

    /// Sends what fits, keeps the rest for GET RESPONSE.
    fn answer(&mut self, mut data: Vec<u8>) -> Vec<u8> {
        if data.len() <= self.max_chunk {
            data.extend_from_slice(&[0x90, 0x00]);
            return data;
        }
        self.pending = data.split_off(self.max_chunk);
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
            out.extend_from_slice(&[0x90, 0x00]);
        } else {
            out.extend_from_slice(&more_available(self.pending.len()));
        }
        out
    }

    /// SELECT by AID; a prefix of the full AID selects, as on real cards.
    fn select(&mut self, command: &Command<'_>) -> Result<Vec<u8>, u16> {
        if command.p1 != 0x04 || !matches!(command.p2, 0x00 | 0x0C) {
            return Err(0x6A86);
        }
        self.selected = false;
        let (full_aid, fci) = match &self.application {
            Application::Piv { .. } => (piv_full_aid(), piv_fci()),
            Application::Gids { .. } => (gids_full_aid(), gids_fci()),
            Application::Blank => return Err(0x6A82),
        };
        if command.data.len() < 5 || !full_aid.starts_with(command.data) {
            return Err(0x6A82);
        }
        self.selected = true;
        Ok(if command.p2 == 0x0C { Vec::new() } else { fci })
    }

    /// GET DATA with a `5C` tag list, for PIV (`3FFF`) or a GIDS EF (P1 P2).
    fn get_data(&self, command: &Command<'_>) -> Result<Vec<u8>, u16> {
        if !self.selected {
            return Err(0x6985);
        }
        let objects = tlv::parse_all(command.data).map_err(|_| 0x6A80_u16)?;
        let [only] = objects.as_slice() else {
            return Err(0x6A80);
        };
        if only.tag != 0x5C {
            return Err(0x6A80);
        }
        let ef = u16::from_be_bytes([command.p1, command.p2]);
        match &self.application {
            Application::Piv { chuid } => piv_object(ef, only.value, chuid),
            Application::Gids { objects } => gids_lookup(objects, ef, only.value),
            Application::Blank => Err(0x6985),
        }
    }

    /// Where this GIDS card's own table says the card ID is.
    fn gids_cardid_location(&self) -> Option<(u16, u16)> {
        let Application::Gids { objects } = &self.application else {
            return None;
        };
        let table = objects
            .iter()
            .find(|o| o.ef == GIDS_MASTER_FILE_EF && o.data_object == GIDS_MASTER_FILE_DO)?;
        table
            .value
            .get(1..)?
            .chunks_exact(GIDS_RECORD_LEN)
            .find(|r| r.starts_with(&[0]) && r.get(9..16) == Some(b"cardid\0".as_slice()))
            .and_then(|r| {
                let data_object = u16::from_le_bytes([*r.get(20)?, *r.get(21)?]);
                let ef = u16::from_le_bytes([*r.get(24)?, *r.get(25)?]);
                Some((ef, data_object))
            })
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

/// A PIV object by its tag list value (`5F C1 02` is the CHUID).
fn piv_object(ef: u16, tag: &[u8], chuid: &[u8]) -> Result<Vec<u8>, u16> {
    if ef != 0x3FFF {
        return Err(0x6A86);
    }
    if tag.len() != 3 {
        return Err(0x6A80);
    }
    if tag == [0x5F, 0xC1, 0x02] {
        Ok(encode_tlv(&[0x53], chuid))
    } else {
        Err(0x6A82)
    }
}

/// A GIDS object by EF and its two-byte DO tag, wrapped in that tag.
fn gids_lookup(objects: &[GidsObject], ef: u16, tag: &[u8]) -> Result<Vec<u8>, u16> {
    let [hi, lo] = tag else {
        return Err(0x6A80);
    };
    let data_object = u16::from_be_bytes([*hi, *lo]);
    objects
        .iter()
        .find(|o| o.ef == ef && o.data_object == data_object)
        .map(|o| encode_tlv(tag, &o.value))
        .ok_or(0x6A82)
}

fn gids_object(ef: u16, data_object: u16, value: Vec<u8>) -> GidsObject {
    GidsObject {
        ef,
        data_object,
        value,
    }
}

/// One 28-byte master file table record, laid out as the GIDS spec says.
fn master_file_record(directory: &str, file: &str, data_object: u16, ef: u16) -> [u8; 28] {
    let mut record = [0u8; GIDS_RECORD_LEN];
    for (slot, byte) in record.iter_mut().take(8).zip(directory.bytes()) {
        *slot = byte;
    }
    for (slot, byte) in record.iter_mut().skip(9).take(8).zip(file.bytes()) {
        *slot = byte;
    }
    let [do_lo, do_hi] = data_object.to_le_bytes();
    let [ef_lo, ef_hi] = ef.to_le_bytes();
    record[20] = do_lo;
    record[21] = do_hi;
    record[24] = ef_lo;
    record[25] = ef_hi;
    record
}

/// PIV's full AID with version bytes (SP 800-73: `... 10 00 01 00`).
fn piv_full_aid() -> Vec<u8> {
    [&PIV_AID[..], &[0x01, 0x00]].concat()
}

/// GIDS' full AID with its version bytes (`02 01`).
fn gids_full_aid() -> Vec<u8> {
    [&GIDS_AID[..], &[0x02, 0x01]].concat()
}

/// The PIV application property template a YubiKey returns to SELECT.
fn piv_fci() -> Vec<u8> {
    let mut inner = encode_tlv(&[0x4F], &[0x00, 0x00, 0x10, 0x00, 0x01, 0x00]);
    inner.extend(encode_tlv(&[0x79], &encode_tlv(&[0x4F], &PIV_AID[..5])));
    encode_tlv(&[0x61], &inner)
}

/// The GIDS FCI: the full AID and the discretionary data template.
fn gids_fci() -> Vec<u8> {
    let mut inner = encode_tlv(&[0x4F], &gids_full_aid());
    inner.extend(encode_tlv(&[0x73], &[0x40, 0x01, 0xC0]));
    encode_tlv(&[0x61], &inner)
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
    use super::*;
    use crate::card::apdu::transmit_collect;

    const ID: [u8; 16] = [
        0x58, 0xc6, 0x8a, 0x1d, 0x65, 0xe0, 0xa0, 0x92, 0x85, 0xaf, 0x09, 0x0b, 0x07, 0x0b, 0x5d,
        0x79,
    ];

    fn apdu(text: &str) -> Vec<u8> {
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
    fn the_master_file_table_lists_several_records() {
        let mut card = VirtualCard::gids(ID);
        assert_eq!(
            card.respond(&apdu("00A4040009A0000003974254465900")).last(),
            Some(&0x00)
        );
        let answer = transmit_collect(&mut card, &apdu("00CBA000045C02DF1F00")).expect("table");
        assert!(answer.is_ok());
        let records = crate::card::identity::parse_master_file_table(&answer.data).expect("parses");
        let names: Vec<(&str, &str)> = records
            .iter()
            .map(|r| (r.directory.as_str(), r.file.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("", "cardid"),
                ("", "cardapps"),
                ("", "cardcf"),
                ("mscp", ""),
                ("mscp", "cmapfile")
            ]
        );
        let decoy = card.respond(&apdu("00CBA000045C02DF2000"));
        assert_eq!(decoy.get(..3), Some(&[0xDF, 0x20, 0x10][..]));
        assert_ne!(decoy.get(3..19), Some(&ID[..]));
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
        let mut cards = [
            VirtualCard::gids(ID).with_response_chunk(3),
            VirtualCard::piv(ID).with_response_chunk(0),
            VirtualCard::blank(),
        ];
        for _ in 0..5000 {
            let len = (next() % 24) as usize;
            let mut command: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if let Some(cla) = command.first_mut() {
                *cla &= 0x01;
            }
            if let Some(ins) = command.get_mut(1) {
                *ins = [0xA4, 0xCB, 0xC0, *ins][(next() % 4) as usize];
            }
            for card in &mut cards {
                let answer = card.respond(&command);
                assert!(answer.len() >= 2);
            }
        }
    }
}
