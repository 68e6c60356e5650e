//! The Thales IDPrime applet: a flat set of EFs behind SELECT by file ID and
//! READ BINARY, with the index file a minidriver reads to find `cardid`.
//!
//! The IDPrime card is modelled on ISO 7816-4 and on what OpenSC's
//! `card-idprime.c` sends and expects, not on the station's reader: SELECT by
//! AID, SELECT of an EF by file ID inside the applet with an FCP, READ BINARY
//! with offsets. Where the public sources are silent (which P2 a card
//! accepts, which FCP size tag, how much one READ BINARY returns), the
//! behaviour is a switch, so a test can show the reader copes with each.

use super::{Applet, Command, MAX_SHORT_RESPONSE, VirtualCard, encode_tlv};
use crate::card::idprime::IDPRIME_AID;
use crate::domain::card::CardId;

/// A Gemalto IDPrime 940's ATR, as OpenSC's `idprime_atrs` lists it (T=0 only, so no TCK).
const IDPRIME_ATR: &str = "3b7f96000080318065b0855956fb120ffe829000";

/// The IDPrime index file's ID.
const IDPRIME_INDEX_FID: u16 = 0x0101;

/// Where known IDPrime cards keep `cardid`, and where a decoy sits when the
/// card ID is moved elsewhere.
const IDPRIME_DEFAULT_CARDID_FID: u16 = 0x0201;

/// The IDPrime applet: a flat set of EFs with a generated index file `0101`.
#[derive(Clone, Debug)]
pub(super) struct IdPrimeApplet {
    files: Vec<IdPrimeFile>,
    /// The current EF, selected by file ID.
    pub(super) current: Option<u16>,
    /// SELECT AID with P2 `00` answers `6A86`.
    pub(super) select_p2_0c_only: bool,
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

impl VirtualCard {
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

    /// The card ID the index points to; `None` when the index does not list `cardid`.
    pub(super) fn card_id(&self) -> Option<CardId> {
        let cardid = self.files.get(self.cardid_position()?)?;
        if !cardid.listed {
            return None;
        }
        Some(CardId::from_raw(
            cardid.contents.as_slice().try_into().ok()?,
        ))
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
    pub(super) fn select_ef(&mut self, command: &Command<'_>) -> Result<Vec<u8>, u16> {
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
    pub(super) fn read_binary(&self, command: &Command<'_>) -> Result<(Vec<u8>, u16), u16> {
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

/// The IDPrime applet's FCI: its DF name and an empty proprietary template.
pub(super) fn idprime_fci() -> Vec<u8> {
    let mut inner = encode_tlv(&[0x84], &IDPRIME_AID);
    inner.extend(encode_tlv(&[0xA5], &[]));
    encode_tlv(&[0x6F], &inner)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::apdu::transmit_collect;
    use crate::card::virtual_card::tests::{ID, apdu, idprime_select};
    use crate::domain::card::CardKind;

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
    fn the_idprime_atr_is_opensc_s_940() {
        let card = VirtualCard::idprime(ID);
        assert_eq!(card.atr().to_hex(), IDPRIME_ATR);
        assert!(crate::card::atr::parse(card.atr().bytes()).is_ok());
        assert_eq!(card.kind(), Some(CardKind::IdPrime));
        assert_eq!(card.card_id(), Some(CardId::from_raw(ID)));
    }
}
