//! A software card that answers APDUs like a real GIDS, PIV or Thales IDPrime card.
//!
//! The demo reader uses it so the station can be tried without hardware, and
//! the tests put it behind a real pcscd (through vsmartcard's vpcd), so the
//! same bytes travel the same path a physical card's would.
//!
//! The IDPrime card is modelled on ISO 7816-4 and on what OpenSC's
//! `card-idprime.c` sends and expects, not on the station's reader: SELECT by
//! AID, SELECT of an EF by file ID inside the applet with an FCP, READ BINARY
//! with offsets. Where the public sources are silent (which P2 a card
//! accepts, which FCP size tag, how much one READ BINARY returns), the
//! behaviour is a switch, so a test can show the reader copes with each.

use super::identity::{
    GIDS_AID, GIDS_MASTER_FILE_DO, GIDS_MASTER_FILE_EF, GIDS_RECORD_LEN, PIV_AID, chuid_card_id,
};
use super::idprime::IDPRIME_AID;
use super::{CardChannel, CardError, tlv};
use crate::domain::card::{Atr, CardId, CardKind};

/// The seed's GIDS ATR: its historical bytes carry the GIDS AID.
const GIDS_ATR: &str = "3b8d0180fba000000397425446590301c8";

/// A YubiKey 4/5 ATR (historical bytes "Yubikey4").
const PIV_ATR: &str = "3bf81300008131fe15597562696b657934d4";

/// A blank NXP JCOP card's ATR (historical bytes "JCOPv241").
const BLANK_ATR: &str = "3bf81300008131fe454a434f5076323431b7";

/// A Gemalto IDPrime 940's ATR, as OpenSC's `idprime_atrs` lists it (T=0 only, so no TCK).
const IDPRIME_ATR: &str = "3b7f96000080318065b0855956fb120ffe829000";

/// The FASC-N of the sspi-rs test CHUID, as a realistic tag `30`.
const FASCN: [u8; 25] = [
    0xD4, 0xE7, 0x39, 0xDA, 0x73, 0x9C, 0xED, 0x39, 0xCE, 0x73, 0x9D, 0x83, 0x68, 0x58, 0x21, 0x08,
    0x42, 0x10, 0x84, 0x21, 0xC8, 0x42, 0x10, 0xC3, 0xEB,
];

/// The longest answer a short APDU can carry.
const MAX_SHORT_RESPONSE: usize = 256;

/// The IDPrime index file's ID.
const IDPRIME_INDEX_FID: u16 = 0x0101;

/// Where known IDPrime cards keep `cardid`, and where a decoy sits when the
/// card ID is moved elsewhere.
const IDPRIME_DEFAULT_CARDID_FID: u16 = 0x0201;

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

/// One GIDS data object: its value lives in an EF under a DO tag.
#[derive(Clone, Debug)]
struct GidsObject {
    ef: u16,
    data_object: u16,
    value: Vec<u8>,
}

/// The IDPrime applet: a flat set of EFs with a generated index file `0101`.
#[derive(Clone, Debug)]
struct IdPrimeApplet {
    files: Vec<IdPrimeFile>,
    /// The current EF, selected by file ID.
    current: Option<u16>,
    /// SELECT AID with P2 `00` answers `6A86`.
    select_p2_0c_only: bool,
    /// SELECT EF with P2 `00`/`04` answers `6A86`.
    select_ef_p2_0c_only: bool,
    /// The FCP tag that carries the file size (`80` or `81`).
    fcp_size_tag: u8,
    /// The most bytes one READ BINARY returns.
    max_read: usize,
    /// The index file ends right after its last entry instead of being zero-padded.
    index_unpadded: bool,
}

/// One EF of the IDPrime applet.
#[derive(Clone, Debug)]
struct IdPrimeFile {
    fid: u16,
    name: String,
    directory: String,
    acl: u8,
    /// Listed in the index (the key reference map `0005` is not, on real cards).
    listed: bool,
    contents: Vec<u8>,
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
        Self::new(vec![Applet::Gids { objects }], GIDS_ATR)
    }

    /// A PIV card with a realistic CHUID: FASC-N, GUID, expiry, empty signature and EDC.
    pub fn piv(card_id_raw: [u8; 16]) -> Self {
        Self::piv_with_chuid(realistic_chuid(card_id_raw))
    }

    /// A PIV card whose CHUID (the contents of tag `53`) is exactly `chuid_value`.
    pub fn piv_with_chuid(chuid_value: Vec<u8>) -> Self {
        Self::new(vec![Applet::Piv { chuid: chuid_value }], PIV_ATR)
    }

    /// A card with no known application: every SELECT answers `6A82`.
    pub fn blank() -> Self {
        Self::new(Vec::new(), BLANK_ATR)
    }

    /// A Thales IDPrime 940 (OpenSC's ATR) whose applet (AID
    /// [`IDPRIME_AID`]; like the other applets, any prefix of 5 bytes or more
    /// selects it) holds the minidriver files of a real card's index (OpenSC
    /// PR #2335, applet v1), in its order: `0201` cardid (16 bytes, ACL `03`),
    /// `0202` cardcf, `0203` cardapps, `0204` mscp/cmapfile, `0205` p11/tinfo,
    /// `0206`-`020B` mscp/kxc01, kxc00, kxc03, kxc02, kxc04, kxc05 (compressed
    /// certificates), with the sizes of that dump, and the 940's key
    /// reference map `0005`, which the index does not list. The index `0101`
    /// is padded with zeros to a multiple of 256 bytes, as in the dump.
    ///
    /// SELECT EF takes P1 `00`, `02`, `08` (OpenSC's `sc_format_path` path)
    /// or `09` with a 2-byte file ID, and only while the applet is selected
    /// (`6A82` otherwise); P2 `00`/`04` answers the FCP `62 <len> 80 02
    /// <size> 82 01 01 83 02 <fid>`, P2 `0C` nothing. A failed SELECT EF
    /// keeps the current EF, as ISO 7816-4 says. READ BINARY reads the
    /// current EF at the offset in P1 P2 (`6986` without one; P1 bit 8, a
    /// short EF identifier, `6A86`: the applet has none); Le `00` asks for
    /// 256 bytes; an offset at or beyond the end answers `6B00`; a read that
    /// reaches the end before Le bytes answers what there is with `6282`.
    pub fn idprime(card_id_raw: [u8; 16]) -> Self {
        let applet = IdPrimeApplet {
            files: idprime_files(card_id_raw),
            current: None,
            select_p2_0c_only: false,
            select_ef_p2_0c_only: false,
            fcp_size_tag: 0x80,
            max_read: MAX_SHORT_RESPONSE,
            index_unpadded: false,
        };
        Self::new(vec![Applet::IdPrime(applet)], IDPRIME_ATR)
    }

    /// IDPrime: SELECT AID with P2 `00` answers `6A86`; only P2 `0C` (no
    /// FCI), as OpenSC sends it, selects. No effect on other cards.
    pub fn idprime_select_p2_0c_only(self) -> Self {
        self.map_idprime(|applet| applet.select_p2_0c_only = true)
    }

    /// IDPrime: SELECT EF with P2 `00`/`04` answers `6A86`; only P2 `0C`
    /// selects, so the reader learns no file size. No effect on other cards.
    pub fn idprime_select_ef_p2_0c_only(self) -> Self {
        self.map_idprime(|applet| applet.select_ef_p2_0c_only = true)
    }

    /// IDPrime: the FCP gives the file size under `tag` (`80` data bytes by
    /// default, `81` as some cards do). No effect on other cards.
    pub fn idprime_fcp_size_tag(self, tag: u8) -> Self {
        self.map_idprime(|applet| applet.fcp_size_tag = tag)
    }

    /// IDPrime: one READ BINARY returns at most `max_len` bytes (with `9000`
    /// when the file goes on), as cards with small buffers do. `0` counts as 1.
    pub fn idprime_max_read(self, max_len: u8) -> Self {
        self.map_idprime(|applet| applet.max_read = usize::from(max_len.max(1)))
    }

    /// IDPrime: the index file is exactly `1 + 21 * N` bytes long, not padded
    /// to a multiple of 256 (the dump shows 256 bytes read, not the file's
    /// size). No effect on other cards.
    pub fn idprime_index_unpadded(self) -> Self {
        self.map_idprime(|applet| applet.index_unpadded = true)
    }

    /// IDPrime: the `cardid` file lives at `fid` (replacing a file there);
    /// the index says so, and a decoy with other bytes, not in the index,
    /// sits at `0201` to catch a reader that ignores the index. `0101` is the
    /// index and cannot hold it (no effect). No effect on other cards.
    pub fn idprime_cardid_at(self, fid: u16) -> Self {
        self.map_idprime(|applet| {
            if fid == IDPRIME_INDEX_FID {
                return;
            }
            let Some(at) = applet.cardid_position() else {
                return;
            };
            let Some(old) = applet.files.get(at).map(|f| f.fid) else {
                return;
            };
            if old == fid {
                return;
            }
            applet
                .files
                .retain(|f| f.fid != fid || (f.name == "cardid" && f.directory.is_empty()));
            if let Some(cardid) = applet.cardid_mut() {
                cardid.fid = fid;
            }
            if !applet
                .files
                .iter()
                .any(|f| f.fid == IDPRIME_DEFAULT_CARDID_FID)
            {
                applet.files.push(IdPrimeFile {
                    fid: IDPRIME_DEFAULT_CARDID_FID,
                    name: String::new(),
                    directory: String::new(),
                    acl: 0x01,
                    listed: false,
                    contents: vec![0xEE; 16],
                });
            }
        })
    }

    /// IDPrime: the `cardid` file holds `size` bytes (the card ID's bytes
    /// over and over) and the index says `size`. No effect on other cards.
    pub fn idprime_cardid_size(self, size: u16) -> Self {
        self.map_idprime(|applet| {
            if let Some(cardid) = applet.cardid_mut() {
                let old = std::mem::take(&mut cardid.contents);
                cardid.contents = (0..usize::from(size))
                    .map(|i| old.get(i % old.len().max(1)).copied().unwrap_or(0))
                    .collect();
            }
        })
    }

    /// IDPrime: the index no longer lists `cardid`. The file itself stays
    /// where it was, so a reader that falls back to a fixed file ID would
    /// still find bytes there: a correct one refuses. No effect on other cards.
    pub fn idprime_without_cardid(self) -> Self {
        self.map_idprime(|applet| {
            if let Some(cardid) = applet.cardid_mut() {
                cardid.listed = false;
            }
        })
    }

    /// Also gives the card a PIV applet (AID `A0 00 00 03 08 ...`) whose
    /// CHUID carries `chuid_card_id_raw` as its GUID, answering GET DATA like
    /// [`VirtualCard::piv`]. Selecting one applet deselects the other. The
    /// card keeps its kind and card ID (a reader must not take the CHUID of
    /// a card whose ATR belongs to a vendor minidriver). On a PIV card it
    /// replaces the CHUID.
    pub fn with_piv_applet(mut self, chuid_card_id_raw: [u8; 16]) -> Self {
        let chuid = realistic_chuid(chuid_card_id_raw);
        let existing = self.applets.iter_mut().find_map(|applet| match applet {
            Applet::Piv { chuid } => Some(chuid),
            _ => None,
        });
        match existing {
            Some(old) => *old = chuid,
            None => self.applets.push(Applet::Piv { chuid }),
        }
        self
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
            Applet::Gids { objects } => {
                let (ef, data_object) = gids_cardid_location(objects)?;
                let object = objects
                    .iter()
                    .find(|o| o.ef == ef && o.data_object == data_object)?;
                CardId::from_raw(object.value.as_slice().try_into().ok()?)
            }
            Applet::IdPrime(applet) => {
                let cardid = applet.files.get(applet.cardid_position()?)?;
                if !cardid.listed {
                    return None;
                }
                CardId::from_raw(cardid.contents.as_slice().try_into().ok()?)
            }
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

    /// Applies `change` to the card's IDPrime applet, if it has one.
    fn map_idprime(mut self, change: impl FnOnce(&mut IdPrimeApplet)) -> Self {
        if let Some(applet) = self.applets.iter_mut().find_map(|applet| match applet {
            Applet::IdPrime(idprime) => Some(idprime),
            _ => None,
        }) {
            change(applet);
        }
        self
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

impl IdPrimeApplet {
    /// Where the `cardid` file (root directory) is in `files`.
    fn cardid_position(&self) -> Option<usize> {
        self.files
            .iter()
            .position(|f| f.name == "cardid" && f.directory.is_empty())
    }

    fn cardid_mut(&mut self) -> Option<&mut IdPrimeFile> {
        let at = self.cardid_position()?;
        self.files.get_mut(at)
    }

    /// The contents of an EF: the index is built from the listed files.
    fn contents(&self, fid: u16) -> Option<Vec<u8>> {
        if fid == IDPRIME_INDEX_FID {
            return Some(self.index());
        }
        self.files
            .iter()
            .find(|f| f.fid == fid)
            .map(|f| f.contents.clone())
    }

    /// The index file: N, then 21 bytes per listed file, zero-padded to a
    /// multiple of 256 unless [`VirtualCard::idprime_index_unpadded`].
    fn index(&self) -> Vec<u8> {
        let listed: Vec<&IdPrimeFile> = self.files.iter().filter(|f| f.listed).take(255).collect();
        let mut out = vec![u8::try_from(listed.len()).unwrap_or(u8::MAX)];
        for file in listed {
            out.extend_from_slice(&file.fid.to_be_bytes());
            let size = u16::try_from(file.contents.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&size.to_be_bytes());
            out.extend_from_slice(&nul_padded::<8>(&file.name));
            out.extend_from_slice(&nul_padded::<8>(&file.directory));
            out.push(file.acl);
        }
        if !self.index_unpadded {
            let padded = out.len().div_ceil(256).max(1) * 256;
            out.resize(padded, 0);
        }
        out
    }

    /// SELECT EF by a 2-byte file ID (P1 `00`/`02`/`08`/`09`).
    fn select_ef(&mut self, command: &Command<'_>) -> Result<Vec<u8>, u16> {
        let fid = match command.data {
            [hi, lo] => u16::from_be_bytes([*hi, *lo]),
            // A longer path names a DF the flat applet does not have.
            data if data.len() > 2 && data.len() % 2 == 0 && command.p1 >= 0x08 => {
                return Err(0x6A82);
            }
            _ => return Err(0x6A87),
        };
        let fcp = match command.p2 {
            0x00 | 0x04 if self.select_ef_p2_0c_only => return Err(0x6A86),
            0x00 | 0x04 => true,
            0x0C => false,
            _ => return Err(0x6A86),
        };
        let size = self.contents(fid).ok_or(0x6A82_u16)?.len();
        self.current = Some(fid);
        if !fcp {
            return Ok(Vec::new());
        }
        let size = u16::try_from(size).unwrap_or(u16::MAX);
        let mut inner = encode_tlv(&[self.fcp_size_tag], &size.to_be_bytes());
        inner.extend(encode_tlv(&[0x82], &[0x01]));
        inner.extend(encode_tlv(&[0x83], &fid.to_be_bytes()));
        Ok(encode_tlv(&[0x62], &inner))
    }

    /// READ BINARY `00 B0 <offset> Le` on the current EF.
    fn read_binary(&self, command: &Command<'_>) -> Result<(Vec<u8>, u16), u16> {
        if command.p1 & 0x80 != 0 {
            return Err(0x6A86);
        }
        if !command.data.is_empty() {
            return Err(0x6700);
        }
        let contents = self
            .current
            .and_then(|fid| self.contents(fid))
            .ok_or(0x6986_u16)?;
        let offset = usize::from(u16::from_be_bytes([command.p1, command.p2]));
        if offset >= contents.len() {
            return Err(0x6B00);
        }
        let asked = match command.le {
            None => return Err(0x6700),
            Some(0) => MAX_SHORT_RESPONSE,
            Some(le) => usize::from(le),
        };
        let available = contents.len() - offset;
        let take = asked.min(available).min(self.max_read);
        let data = contents
            .get(offset..offset + take)
            .ok_or(0x6B00_u16)?
            .to_vec();
        let sw = if take < asked && take == available {
            0x6282
        } else {
            0x9000
        };
        Ok((data, sw))
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

/// The IDPrime applet's FCI: its DF name and an empty proprietary template.
fn idprime_fci() -> Vec<u8> {
    let mut inner = encode_tlv(&[0x84], &IDPRIME_AID);
    inner.extend(encode_tlv(&[0xA5], &[]));
    encode_tlv(&[0x6F], &inner)
}

/// The full AID an applet answers to.
fn applet_full_aid(applet: &Applet) -> Vec<u8> {
    match applet {
        Applet::Piv { .. } => piv_full_aid(),
        Applet::Gids { .. } => gids_full_aid(),
        Applet::IdPrime(_) => IDPRIME_AID.to_vec(),
    }
}

/// A realistic CHUID: FASC-N, GUID, expiry, empty signature and EDC.
fn realistic_chuid(guid: [u8; 16]) -> Vec<u8> {
    let mut chuid = encode_tlv(&[0x30], &FASCN);
    chuid.extend(encode_tlv(&[0x34], &guid));
    chuid.extend(encode_tlv(&[0x35], b"20300101"));
    chuid.extend(encode_tlv(&[0x3E], &[]));
    chuid.extend(encode_tlv(&[0xFE], &[]));
    chuid
}

/// Where a GIDS card's own master file table says the card ID is.
fn gids_cardid_location(objects: &[GidsObject]) -> Option<(u16, u16)> {
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

/// The files of the IDPrime index dump in OpenSC PR #2335, with its sizes.
fn idprime_files(card_id_raw: [u8; 16]) -> Vec<IdPrimeFile> {
    let file = |fid: u16, directory: &str, name: &str, acl: u8, contents: Vec<u8>| IdPrimeFile {
        fid,
        name: name.to_owned(),
        directory: directory.to_owned(),
        acl,
        listed: true,
        contents,
    };
    // cardapps: 8-byte application names.
    let mut cardapps = b"mscp\0\0\0\0p11\0\0\0\0\0".to_vec();
    cardapps.resize(0x18, 0);
    // p11/tinfo: 01, the label's length, the label (OpenSC's token name).
    let mut tinfo = vec![0x01, 8];
    tinfo.extend_from_slice(b"My Token");
    tinfo.resize(0x22, 0);
    let mut files = vec![
        file(0x0201, "", "cardid", 0x03, card_id_raw.to_vec()),
        // cardcf: the minidriver cache file (version, freshness counters).
        file(0x0202, "", "cardcf", 0x01, vec![0; 0x0E]),
        file(0x0203, "", "cardapps", 0x01, cardapps),
        // mscp/cmapfile: 86-byte container records, all empty here.
        file(0x0204, "mscp", "cmapfile", 0x01, vec![0; 0x050A]),
        file(0x0205, "p11", "tinfo", 0x01, tinfo),
    ];
    let certificates = [
        (0x0206, "kxc01", 0x0512),
        (0x0207, "kxc00", 0x0545),
        (0x0208, "kxc03", 0x0511),
        (0x0209, "kxc02", 0x0551),
        (0x020A, "kxc04", 0x0519),
        (0x020B, "kxc05", 0x056B),
    ];
    for (fid, name, size) in certificates {
        files.push(file(
            fid,
            "mscp",
            name,
            0x01,
            compressed_certificate(fid, size),
        ));
    }
    // The 940's key reference map: 8-byte records (flag, key reference, certificate index, ..., PIN).
    let keyrefs: Vec<u8> = (0u8..6)
        .flat_map(|n| [0x01, 0x11 + 2 * n, n, 0, 0, 0, 0, 0x01])
        .collect();
    files.push(IdPrimeFile {
        listed: false,
        ..file(0x0005, "", "", 0x01, keyrefs)
    });
    files
}

/// `01 00 <length LE>` and stand-in bytes, the shape of a minidriver's compressed certificate.
fn compressed_certificate(fid: u16, size: usize) -> Vec<u8> {
    let mut state = u32::from(fid) | 0x1234_0000;
    let mut out = vec![0x01, 0x00];
    let [lo, hi] = u16::try_from(size.saturating_mul(3))
        .unwrap_or(u16::MAX)
        .to_le_bytes();
    out.extend_from_slice(&[lo, hi]);
    while out.len() < size {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        out.push(state.to_le_bytes()[0]);
    }
    out.truncate(size);
    out
}

/// `text`'s bytes in an `N`-byte NUL-padded field (cut at `N`).
fn nul_padded<const N: usize>(text: &str) -> [u8; N] {
    let mut field = [0u8; N];
    for (slot, byte) in field.iter_mut().zip(text.bytes()) {
        *slot = byte;
    }
    field
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
    fn every_kind_of_card() -> Vec<VirtualCard> {
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
    fn idprime_select(card: &mut VirtualCard, fid: &str) -> Vec<u8> {
        assert_eq!(
            card.respond(&apdu("00A4040C0BA000000018800000000662")),
            [0x90, 0x00]
        );
        card.respond(&apdu(&format!("00A4080002{fid}00")))
    }

    #[test]
    fn the_idprime_index_is_the_real_card_s() {
        let mut card = VirtualCard::idprime(ID);
        let fcp = idprime_select(&mut card, "0101");
        assert_eq!(fcp, apdu("620B 80020100 820101 83020101 9000"));
        let mut index = card.respond(&apdu("00B0000000"));
        assert_eq!(index.split_off(256), [0x90, 0x00]);
        assert_eq!(index, apdu(crate::card::idprime::tests::PR2335_INDEX));
        // The one file the index does not list: the 940's key reference map.
        assert_eq!(card.respond(&apdu("00A4080C020005")), [0x90, 0x00]);
        assert_eq!(
            card.respond(&apdu("00B0000008")),
            apdu("01110000000000 01 9000")
        );
    }

    #[test]
    fn idprime_files_are_selected_and_read_as_iso_7816_4_says() {
        let mut card = VirtualCard::idprime(ID).with_cplc([7; 42]);
        // OpenSC's CPLC request on an IDPrime.
        assert_eq!(card.respond(&apdu("00CA9F7F2D")).len(), 47);
        // Files only inside the selected applet.
        assert_eq!(card.respond(&apdu("00A40800020201 00")), [0x6A, 0x82]);
        assert_eq!(card.respond(&apdu("00B0000010")), [0x6D, 0x00]);
        let fci = card.respond(&apdu("00A404000BA00000001880000000066200"));
        assert_eq!(fci.first(), Some(&0x6F));
        assert_eq!(
            card.respond(&apdu("00B0000010")),
            [0x69, 0x86],
            "no current EF"
        );
        for p1 in ["00", "02", "08", "09"] {
            let fcp = card.respond(&apdu(&format!("00A4{p1}00020201 00")));
            assert_eq!(fcp, apdu("620B 80020010 820101 83020201 9000"), "P1 {p1}");
        }
        assert_eq!(card.respond(&apdu("00A4080C020201")), [0x90, 0x00]);
        assert_eq!(card.respond(&apdu("00A4080402020100")).len(), 15);
        let mut id = card.respond(&apdu("00B0000010"));
        assert_eq!(id.split_off(16), [0x90, 0x00]);
        assert_eq!(id, ID);
        // Le beyond the end: what there is, with 6282; Le 00 is 256.
        assert_eq!(card.respond(&apdu("00B0000E20")), apdu("5d79 6282"));
        assert_eq!(card.respond(&apdu("00B0000000")).len(), 18);
        assert_eq!(card.respond(&apdu("00B0000F00")), apdu("79 6282"));
        // Offsets at or beyond the end, short EF identifiers, bad P2, no Le.
        assert_eq!(card.respond(&apdu("00B0001001")), [0x6B, 0x00]);
        assert_eq!(card.respond(&apdu("00B07FFF01")), [0x6B, 0x00]);
        assert_eq!(card.respond(&apdu("00B0810001")), [0x6A, 0x86]);
        assert_eq!(card.respond(&apdu("00B00000")), [0x67, 0x00]);
        assert_eq!(card.respond(&apdu("00A4080102020100")), [0x6A, 0x86]);
        // A failed SELECT keeps the current EF; an unknown file is 6A82.
        assert_eq!(card.respond(&apdu("00A4080002099900")), [0x6A, 0x82]);
        assert_eq!(card.respond(&apdu("00B0000001")), apdu("58 9000"));
        assert_eq!(card.respond(&apdu("00A40800010200")), [0x6A, 0x87]);
        assert_eq!(card.respond(&apdu("00A408000402010201 00")), [0x6A, 0x82]);
        // A long file needs offsets: the cmapfile is 1290 bytes.
        assert_eq!(card.respond(&apdu("00A4080C020204")), [0x90, 0x00]);
        assert_eq!(card.respond(&apdu("00B0050905")), apdu("00 6282"));
        // GET DATA is not the IDPrime applet's.
        assert_eq!(card.respond(&apdu("00CB3FFF055C035FC10200")), [0x6D, 0x00]);
        // Another SELECT AID forgets the current EF.
        card.respond(&apdu("00A4040C0BA000000018800000000662"));
        assert_eq!(card.respond(&apdu("00B0000001")), [0x69, 0x86]);
        card.reset();
        assert_eq!(card.respond(&apdu("00A40800020201 00")), [0x6A, 0x82]);
    }

    #[test]
    fn idprime_switches_change_only_what_they_say() {
        let mut only_0c = VirtualCard::idprime(ID).idprime_select_p2_0c_only();
        assert_eq!(
            only_0c.respond(&apdu("00A404000BA00000001880000000066200")),
            [0x6A, 0x86]
        );
        assert_eq!(only_0c.respond(&apdu("00A4080C020201")), [0x6A, 0x82]);
        assert_eq!(
            only_0c.respond(&apdu("00A4040C0BA000000018800000000662")),
            [0x90, 0x00]
        );

        let mut no_fcp = VirtualCard::idprime(ID).idprime_select_ef_p2_0c_only();
        assert_eq!(idprime_select(&mut no_fcp, "0201"), [0x6A, 0x86]);
        assert_eq!(no_fcp.respond(&apdu("00A4080C020201")), [0x90, 0x00]);

        let mut tag_81 = VirtualCard::idprime(ID).idprime_fcp_size_tag(0x81);
        assert_eq!(
            idprime_select(&mut tag_81, "0201"),
            apdu("620B 81020010 820101 83020201 9000")
        );

        let mut capped = VirtualCard::idprime(ID).idprime_max_read(5);
        idprime_select(&mut capped, "0201");
        assert_eq!(capped.respond(&apdu("00B0000010")), apdu("58c68a1d65 9000"));
        assert_eq!(capped.respond(&apdu("00B0000E10")), apdu("5d79 6282"));

        let mut chunked = VirtualCard::idprime(ID)
            .idprime_select_ef_p2_0c_only()
            .with_response_chunk(10);
        chunked.respond(&apdu("00A4040C0BA000000018800000000662"));
        chunked.respond(&apdu("00A4080C020201"));
        let whole = transmit_collect(&mut chunked, &apdu("00B0000420")).expect("read");
        assert_eq!((whole.data.as_slice(), whole.sw), (&ID[4..], 0x6282));

        let mut unpadded = VirtualCard::idprime(ID).idprime_index_unpadded();
        assert_eq!(
            idprime_select(&mut unpadded, "0101").get(2..6),
            Some(&[0x80, 0x02, 0x00, 0xE8][..])
        );

        let mut moved = VirtualCard::idprime(ID).idprime_cardid_at(0x0207);
        assert_eq!(moved.card_id(), Some(CardId::from_raw(ID)));
        assert_eq!(
            idprime_select(&mut moved, "0207").get(2..6),
            Some(&[0x80, 0x02, 0x00, 0x10][..])
        );
        // The decoy at 0201, not in the index.
        assert_eq!(moved.respond(&apdu("00A4080C020201")), [0x90, 0x00]);
        assert_eq!(moved.respond(&apdu("00B0000002")), apdu("EEEE 9000"));
        let index = transmit_collect(&mut moved, &apdu("00A4080C020101"))
            .and_then(|_| transmit_collect(&mut moved, &apdu("00B00000FF")))
            .expect("index");
        let entries = crate::card::idprime::parse_index(&index.data).expect("entries");
        assert_eq!(entries.len(), 10, "kxc00 at 0207 made way for cardid");
        assert!(entries.iter().all(|e| e.file_id != 0x0201));

        let sized = VirtualCard::idprime(ID).idprime_cardid_size(8);
        assert_eq!(sized.card_id(), None);
        assert_eq!(
            VirtualCard::idprime(ID).idprime_without_cardid().card_id(),
            None
        );
        assert_eq!(VirtualCard::idprime([0; 16]).card_id(), None);

        // IDPrime switches leave other cards alone.
        let gids = VirtualCard::gids(ID)
            .idprime_cardid_at(0x0300)
            .idprime_without_cardid();
        assert_eq!(gids.card_id(), Some(CardId::from_raw(ID)));
    }

    #[test]
    fn a_second_applet_has_its_own_selection() {
        let guid = [0x42; 16];
        let mut card = VirtualCard::idprime(ID).with_piv_applet(guid);
        assert_eq!(card.kind(), Some(CardKind::IdPrime));
        assert_eq!(card.card_id(), Some(CardId::from_raw(ID)));
        idprime_select(&mut card, "0201");
        assert_eq!(card.respond(&apdu("00B0000001")), apdu("58 9000"));
        assert_eq!(card.respond(&apdu("00CB3FFF055C035FC10200")), [0x6D, 0x00]);

        let fci = card.respond(&apdu("00A4040009A0000003080000100000"));
        assert_eq!(fci.first(), Some(&0x61));
        let chuid = transmit_collect(&mut card, &apdu("00CB3FFF055C035FC10200")).expect("chuid");
        let value = tlv::find(&chuid.data, 0x53).expect("tlv").expect("53");
        assert_eq!(chuid_card_id(value), Ok(CardId::from_raw(guid)));
        // PIV has no EFs, and the IDPrime applet is no longer selected.
        assert_eq!(card.respond(&apdu("00B0000001")), [0x6D, 0x00]);
        assert_eq!(card.respond(&apdu("00A4080C020201")), [0x6A, 0x82]);

        // A PIV card given another PIV applet keeps one, with the new CHUID.
        let piv = VirtualCard::piv(ID).with_piv_applet(guid);
        assert_eq!(piv.card_id(), Some(CardId::from_raw(guid)));
        // A GIDS card may carry PIV too, as some do.
        let mut both = VirtualCard::gids(ID).with_piv_applet(guid);
        assert_eq!(both.kind(), Some(CardKind::Gids));
        let (found, kind) = crate::card::identity::read_card_id(&mut both).expect("piv first");
        assert_eq!((found, kind), (CardId::from_raw(guid), CardKind::Piv));
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

    #[test]
    fn the_idprime_atr_is_opensc_s_940() {
        let card = VirtualCard::idprime(ID);
        assert_eq!(card.atr().to_hex(), IDPRIME_ATR);
        assert!(crate::card::atr::parse(card.atr().bytes()).is_ok());
        assert_eq!(card.kind(), Some(CardKind::IdPrime));
        assert_eq!(card.card_id(), Some(CardId::from_raw(ID)));
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
