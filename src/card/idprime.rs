//! Reading the card ID of a Thales (Gemalto) IDPrime MD card or SafeNet eToken 5110.
//! Size: 370 lines of the IDPrime reader; the rest is its tests against OpenSC's traces.
//!
//! These cards carry the Windows minidriver file system themselves, inside the
//! IDPrime applet: an index file (`0101`) lists every file by name and
//! directory, and the file named `cardid` (no directory) holds the 16 bytes
//! the Thales minidriver reports as the card ID (`CP_CARD_GUID`). OpenSC's
//! `card-idprime.c` reads the same file as the token serial ("assumed to be
//! cardid for windows"); no PIN is needed. See `shared/spec/card-identity.md`
//! and `shared/reviews/card-id.md` section 4.
//!
//! Everything here comes from the card, so nothing trusts it: every length is
//! checked, every loop is bounded, and names never reach the screen raw.

use super::apdu::{Response, transmit_collect};
use super::tlv;
use super::{CardChannel, CardError};
use crate::domain::card::CardId;

/// The IDPrime applet's identifier, as OpenSC selects it.
pub const IDPRIME_AID: [u8; 11] = [
    0xA0, 0x00, 0x00, 0x00, 0x18, 0x80, 0x00, 0x00, 0x00, 0x06, 0x62,
];

/// The index file: byte 0 is the number of entries, then one
/// [`IDPRIME_ENTRY_LEN`]-byte entry per file.
pub const IDPRIME_INDEX_FID: u16 = 0x0101;

/// The size of one index entry: file ID (2), size (2), name (8), directory (8), ACL (1).
pub const IDPRIME_ENTRY_LEN: usize = 21;

/// The size of the `cardid` file, and of every card ID.
pub const IDPRIME_CARDID_LEN: usize = 16;

/// The longest index that byte 0 can announce (255 entries), in bytes.
pub const IDPRIME_MAX_INDEX_LEN: usize = 1 + IDPRIME_ENTRY_LEN * 255;

/// At most this many READ BINARY commands for one file: a card that hands
/// out a byte at a time, or never ends, must not hold the station. A full
/// index in chunks of 21 bytes or more fits.
pub const MAX_READ_COMMANDS: usize = 256;

/// The highest offset a short READ BINARY can address (P1 bit 8 is the
/// short-EF flag, so offsets are 15 bits).
const MAX_OFFSET: usize = 0x7FFF;

/// The most a short command asks for at once: Le `FF` (never `00`, which some
/// cards read as "the whole file" and others refuse).
const MAX_LE: usize = 0xFF;

/// Operator text for an IDPrime card whose index lists no `cardid` file, or
/// whose `cardid` file is all zeros.
pub const IDPRIME_NO_CARDID: &str = "This Thales IDPrime card has no card ID: its index lists no \"cardid\" file \
     or the file is all zeros, so MIM CM cannot identify it. Initialize the card with the \
     Thales tools (SafeNet Authentication Client or IDPrime Manager), then insert it again; \
     if it still fails, use another card.";

/// Operator text for IDPrime .NET cards (the legacy family): they speak
/// another protocol, the .NET card module service.
pub const IDPRIME_NET_REFUSAL: &str = "This is a Thales IDPrime .NET card. It speaks another protocol (the .NET \
     card module service), which the station cannot read, so it cannot get its card ID. \
     Use an IDPrime MD card or an eToken 5110, or ask your PKI administrator whether \
     this card can still be issued at a Windows desk with the Thales minidriver.";

/// One entry of the IDPrime index file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    /// The file ID to SELECT (big-endian on the card), e.g. `0x0201`.
    pub file_id: u16,
    /// The file size the index announces, in bytes.
    pub size: u16,
    /// The file name up to its first NUL; bytes that are not printable ASCII
    /// read as `?`, so such a name never equals a known one.
    pub name: String,
    /// The directory (e.g. `mscp`, `p11`), empty for the root.
    pub directory: String,
    /// The access condition byte (`03` for `cardid` on known cards, `01` for the others).
    pub acl: u8,
}

/// Parses the index file: byte 0 = N, then N entries of 21 bytes. Bytes after
/// the last entry are ignored (real cards pad the file with zeros).
pub fn parse_index(bytes: &[u8]) -> Result<Vec<IndexEntry>, CardError> {
    let Some((&count, entries)) = bytes.split_first() else {
        return Err(CardError::Protocol(
            "the Thales IDPrime index file is empty".to_owned(),
        ));
    };
    let count = usize::from(count);
    let needed = count * IDPRIME_ENTRY_LEN;
    let Some(entries) = entries.get(..needed) else {
        return Err(CardError::Protocol(format!(
            "the Thales IDPrime index file announces {count} entries ({} bytes) but holds only {} bytes",
            1 + needed,
            bytes.len()
        )));
    };
    Ok(entries
        .chunks_exact(IDPRIME_ENTRY_LEN)
        .map(index_entry)
        .collect())
}

/// Decodes one 21-byte entry (the caller guarantees the length; a short one
/// reads as zeros rather than panicking).
fn index_entry(entry: &[u8]) -> IndexEntry {
    let byte = |at: usize| entry.get(at).copied().unwrap_or(0);
    IndexEntry {
        file_id: u16::from_be_bytes([byte(0), byte(1)]),
        size: u16::from_be_bytes([byte(2), byte(3)]),
        name: printable_name(entry.get(4..12).unwrap_or_default()),
        directory: printable_name(entry.get(12..20).unwrap_or_default()),
        acl: byte(20),
    }
}

/// The bytes before the first NUL, with anything but printable ASCII as `?`.
fn printable_name(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take_while(|b| **b != 0)
        .map(|b| {
            if b.is_ascii_graphic() || *b == b' ' {
                char::from(*b)
            } else {
                '?'
            }
        })
        .collect()
}

/// SELECTs the IDPrime applet: `00 A4 04 00 0B <AID> 00`, and on `6A86`
/// again with P2 `0C` and no Le (as OpenSC sends it). `true` on `90 00`;
/// any other status means the card has no IDPrime applet.
pub fn select_idprime(channel: &mut dyn CardChannel) -> Result<bool, CardError> {
    let select = |p2: u8, le: &[u8]| [&[0x00, 0xA4, 0x04, p2, 0x0B][..], &IDPRIME_AID, le].concat();
    let response = transmit_collect(channel, &select(0x00, &[0x00]))?;
    if response.sw == 0x6A86 {
        // Some applets return no FCI; P2 0C asks for none.
        return Ok(transmit_collect(channel, &select(0x0C, &[]))?.is_ok());
    }
    Ok(response.is_ok())
}

/// Reads the card ID of an IDPrime card. `Ok(None)` when the card has no
/// IDPrime applet (another reader path may know it); a card with the applet
/// but no usable `cardid` file is refused in words, never read at a fixed
/// file ID.
pub fn read_idprime_card_id(channel: &mut dyn CardChannel) -> Result<Option<CardId>, CardError> {
    if !select_idprime(channel)? {
        return Ok(None);
    }
    let entries = read_index(channel)?;
    let entry = cardid_entry(&entries)?;
    if usize::from(entry.size) != IDPRIME_CARDID_LEN {
        return Err(CardError::no_card_id(format!(
            "This Thales IDPrime card's \"cardid\" file is {} bytes long instead of 16, so it \
             holds no card ID MIM CM can use. Initialize the card with the Thales tools \
             (SafeNet Authentication Client or IDPrime Manager), then insert it again; if it \
             still fails, use another card.",
            entry.size
        )));
    }
    let fid = entry.file_id;
    let size = select_ef(channel, fid, "the \"cardid\" file")?;
    if let Some(size) = size
        && size != IDPRIME_CARDID_LEN
    {
        return Err(CardError::Protocol(format!(
            "the Thales IDPrime index says the \"cardid\" file {fid:04X} holds 16 bytes, but \
             the card gives its size as {size} bytes"
        )));
    }
    let data = read_binary(channel, "the \"cardid\" file", IDPRIME_CARDID_LEN, |_| {
        IDPRIME_CARDID_LEN
    })?;
    let raw: [u8; IDPRIME_CARDID_LEN] = data.as_slice().try_into().map_err(|_| {
        CardError::Protocol(format!(
            "the Thales IDPrime \"cardid\" file {fid:04X} gave {} bytes instead of 16",
            data.len()
        ))
    })?;
    let id = CardId::from_raw(raw);
    if id.is_zero() {
        return Err(CardError::no_card_id(IDPRIME_NO_CARDID));
    }
    Ok(Some(id))
}

/// SELECTs the index file and reads its entries: the first READ BINARY
/// gives byte 0 (the number of entries), then it reads exactly what they
/// need, never past the size the card announced.
fn read_index(channel: &mut dyn CardChannel) -> Result<Vec<IndexEntry>, CardError> {
    let size = select_ef(channel, IDPRIME_INDEX_FID, "the index file")?;
    let limit = size.map_or(IDPRIME_MAX_INDEX_LEN, |s| s.min(IDPRIME_MAX_INDEX_LEN));
    if limit == 0 {
        return Err(CardError::Protocol(
            "the Thales IDPrime index file 0101 is empty (its size is 0)".to_owned(),
        ));
    }
    let data = read_binary(channel, "the index file", limit, |read| {
        read.first().map_or(IDPRIME_MAX_INDEX_LEN, |n| {
            1 + usize::from(*n) * IDPRIME_ENTRY_LEN
        })
    })?;
    if let Some(&count) = data.first() {
        let needed = 1 + usize::from(count) * IDPRIME_ENTRY_LEN;
        if data.len() < needed {
            let holds = match size {
                Some(size) if size < needed => {
                    format!("the card gives the file's size as {size} bytes")
                }
                _ => format!("the card returned only {} bytes", data.len()),
            };
            return Err(CardError::Protocol(format!(
                "the Thales IDPrime index file announces {count} entries ({needed} bytes) but {holds}"
            )));
        }
    }
    parse_index(&data)
}

/// The one entry named `cardid` in the root directory.
fn cardid_entry(entries: &[IndexEntry]) -> Result<&IndexEntry, CardError> {
    let mut found = entries
        .iter()
        .filter(|e| e.directory.is_empty() && e.name == "cardid");
    let Some(first) = found.next() else {
        tracing::info!(
            entries = entries.len(),
            "IDPrime index lists no \"cardid\" file; not reading a fixed file ID"
        );
        return Err(CardError::no_card_id(IDPRIME_NO_CARDID));
    };
    let more = found.count();
    if more > 0 {
        return Err(CardError::Protocol(format!(
            "the Thales IDPrime index lists {} \"cardid\" files, so the card ID is ambiguous",
            more + 1
        )));
    }
    Ok(first)
}

/// SELECTs an EF of the applet by file ID: `00 A4 08 00 02 <fid> 00` (P1 08,
/// as OpenSC sends a two-byte path), asking for the FCP; on `6A86` again with
/// P2 `0C` and no Le, and then the size is unknown. Returns the size the
/// FCP/FCI gives (tag `80`, else `81`).
fn select_ef(
    channel: &mut dyn CardChannel,
    fid: u16,
    what: &str,
) -> Result<Option<usize>, CardError> {
    let [hi, lo] = fid.to_be_bytes();
    let with_fcp = [0x00, 0xA4, 0x08, 0x00, 0x02, hi, lo, 0x00];
    let response = transmit_collect(channel, &with_fcp)?;
    if response.sw == 0x6A86 {
        let without = [0x00, 0xA4, 0x08, 0x0C, 0x02, hi, lo];
        let response = transmit_collect(channel, &without)?;
        check_select(&response, fid, what)?;
        return Ok(None);
    }
    check_select(&response, fid, what)?;
    fcp_size(&response.data, fid, what)
}

/// A SELECT EF's status in words.
fn check_select(response: &Response, fid: u16, what: &str) -> Result<(), CardError> {
    match response.sw {
        0x9000 => Ok(()),
        0x6A82 => Err(CardError::Protocol(format!(
            "the Thales IDPrime applet has no file {fid:04X} ({what}; status 6A82)"
        ))),
        _ => Err(CardError::Protocol(format!(
            "the Thales IDPrime applet refused to select {what} {fid:04X} (status {})",
            response.sw_hex()
        ))),
    }
}

/// The size in an FCP (`62`) or FCI (`6F`) template: tag `80` (data bytes),
/// else `81`; 1 to 4 bytes, big-endian. No data: the size is unknown.
fn fcp_size(data: &[u8], fid: u16, what: &str) -> Result<Option<usize>, CardError> {
    if data.is_empty() {
        return Ok(None);
    }
    let bad = |why: String| {
        CardError::Protocol(format!(
            "the Thales IDPrime card described {what} {fid:04X} with {why}"
        ))
    };
    let (template, _) =
        tlv::parse_at(data, 0).map_err(|e| bad(format!("malformed BER-TLV ({e})")))?;
    if !matches!(template.tag, 0x62 | 0x6F) {
        return Err(bad(format!(
            "a template tagged {:02X}, neither an FCP (62) nor an FCI (6F)",
            template.tag
        )));
    }
    let objects =
        tlv::parse_all(template.value).map_err(|e| bad(format!("a malformed FCP ({e})")))?;
    let size = objects
        .iter()
        .find(|o| o.tag == 0x80)
        .or_else(|| objects.iter().find(|o| o.tag == 0x81));
    let Some(size) = size else {
        return Ok(None);
    };
    if size.value.is_empty() || size.value.len() > 4 {
        return Err(bad(format!(
            "a size of {} bytes (tag {:02X})",
            size.value.len(),
            size.tag
        )));
    }
    let value = size
        .value
        .iter()
        .fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
    Ok(Some(usize::try_from(value).unwrap_or(usize::MAX)))
}

/// READ BINARY from offset 0 until `target(read so far)` bytes are read (never
/// more than `limit`): at most Le `FF` per command. `62 82` (end of file
/// before Le bytes), `6B 00` (offset beyond the end) or an empty answer end
/// the file; the caller checks it got enough.
fn read_binary(
    channel: &mut dyn CardChannel,
    what: &str,
    limit: usize,
    target: impl Fn(&[u8]) -> usize,
) -> Result<Vec<u8>, CardError> {
    let mut data: Vec<u8> = Vec::new();
    for _ in 0..MAX_READ_COMMANDS {
        let want = target(&data).min(limit);
        let offset = data.len();
        if offset >= want {
            return Ok(data);
        }
        if offset > MAX_OFFSET {
            return Err(CardError::Protocol(format!(
                "the Thales IDPrime {what} is longer than a short READ BINARY can address"
            )));
        }
        let le = (want - offset).min(MAX_LE);
        let [hi, lo] = u16::try_from(offset).unwrap_or(u16::MAX).to_be_bytes();
        let command = [0x00, 0xB0, hi, lo, u8::try_from(le).unwrap_or(0xFF)];
        let response = transmit_collect(channel, &command)?;
        let end = match response.sw {
            0x9000 => false,
            0x6282 | 0x6B00 => true,
            _ => {
                return Err(CardError::Protocol(format!(
                    "the Thales IDPrime card refused to read {what} at offset {offset} (status {})",
                    response.sw_hex()
                )));
            }
        };
        if response.data.len() > le {
            return Err(CardError::Protocol(format!(
                "the Thales IDPrime card answered {} bytes when {le} were asked from {what}",
                response.data.len()
            )));
        }
        data.extend_from_slice(&response.data);
        if response.data.is_empty() || end {
            return Ok(data);
        }
    }
    Err(CardError::Protocol(format!(
        "the Thales IDPrime card needed more than {MAX_READ_COMMANDS} READ BINARY commands for {what}"
    )))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::card::apdu::tests::Scripted;
    use crate::card::virtual_card::VirtualCard;
    use proptest::prelude::*;

    /// The IDPrime 940 card ID of OpenSC issue #2877 ("Serial number").
    const REAL_940: [u8; 16] = [
        0xa7, 0xc0, 0x00, 0xcb, 0xf5, 0xa8, 0x38, 0x79, 0xa7, 0xc0, 0x00, 0xcb, 0xf5, 0xa8, 0x38,
        0x79,
    ];

    const SELECT_AID: &str = "00A404000BA00000001880000000066200";
    const SELECT_AID_0C: &str = "00A4040C0BA000000018800000000662";
    const SELECT_INDEX: &str = "00A4080002010100";

    /// The index of a real IDPrime card (applet v1), as OpenSC PR #2335 logs
    /// its first 256 bytes: 11 entries, then zeros.
    pub(crate) const PR2335_INDEX: &str = "\
        0B0201001063617264696400000000000000000000030202000E636172646366\
        00000000000000000000010203001863617264617070730000000000000000 01\
        0204050A636D617066696C656D736370000000000102050022 74696E666F0000\
        00703131000000000001020605126B78633031000000 6D736370000000000102\
        0705456B786330300000006D73637000000000010208 05116B78633033000000\
        6D7363700000000001020905516B7863303200 00006D73637000000000010 20A\
        05196B786330340000006D736370000000000 1020B056B6B78633035000000 6D\
        7363700000000001000000000000000000000000000000000000000000000000";

    fn hex(text: &str) -> Vec<u8> {
        hex::decode(text.replace(' ', "")).expect("hex")
    }

    /// A 21-byte index entry.
    fn entry(file_id: u16, size: u16, name: &[u8], directory: &[u8], acl: u8) -> Vec<u8> {
        let mut out = vec![0u8; IDPRIME_ENTRY_LEN];
        out[..2].copy_from_slice(&file_id.to_be_bytes());
        out[2..4].copy_from_slice(&size.to_be_bytes());
        out[4..4 + name.len()].copy_from_slice(name);
        out[12..12 + directory.len()].copy_from_slice(directory);
        out[20] = acl;
        out
    }

    fn index(entries: &[Vec<u8>]) -> Vec<u8> {
        let mut out = vec![u8::try_from(entries.len()).expect("few entries")];
        entries.iter().for_each(|e| out.extend_from_slice(e));
        out
    }

    /// The APDUs a read sends, in hex, and the card's answers.
    struct Recording<'a> {
        card: &'a mut VirtualCard,
        sent: Vec<String>,
        /// The status word of each answer.
        statuses: Vec<String>,
    }

    impl CardChannel for Recording<'_> {
        fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, CardError> {
            self.sent.push(hex::encode_upper(command));
            let answer = self.card.respond(command);
            let sw = answer
                .get(answer.len().saturating_sub(2)..)
                .unwrap_or_default();
            self.statuses.push(hex::encode_upper(sw));
            Ok(answer)
        }
    }

    fn read(card: &mut VirtualCard) -> (Result<Option<CardId>, CardError>, Vec<String>) {
        let (result, sent, _) = read_with_statuses(card);
        (result, sent)
    }

    fn read_with_statuses(
        card: &mut VirtualCard,
    ) -> (Result<Option<CardId>, CardError>, Vec<String>, Vec<String>) {
        let mut channel = Recording {
            card,
            sent: Vec::new(),
            statuses: Vec::new(),
        };
        let result = read_idprime_card_id(&mut channel);
        (result, channel.sent, channel.statuses)
    }

    fn no_card_id_reason(error: &CardError) -> &str {
        match error {
            CardError::NoCardId { reason, chip } => {
                assert_eq!(*chip, None);
                reason
            }
            other => panic!("expected NoCardId, got {other:?}"),
        }
    }

    #[test]
    fn a_real_940_card_id_is_read_with_opensc_s_apdus() {
        let mut card = VirtualCard::idprime(REAL_940);
        let (result, sent) = read(&mut card);
        let id = result.expect("read").expect("an IDPrime card");
        assert_eq!(id, CardId::from_raw(REAL_940));
        assert_eq!(id.to_cm_string(), "cb00c0a7-a8f5-7938-a7c0-00cbf5a83879");
        assert_eq!(Some(id), card.card_id());
        assert_eq!(
            sent,
            [
                SELECT_AID,
                SELECT_INDEX,
                // The index is 256 bytes: one read of 255 holds its 232.
                "00B00000FF",
                "00A4080002020100",
                "00B0000010",
            ]
        );
    }

    #[test]
    fn an_applet_that_takes_only_p2_0c_is_selected_the_second_time() {
        let mut card = VirtualCard::idprime(REAL_940).idprime_select_p2_0c_only();
        let (result, sent) = read(&mut card);
        assert_eq!(result, Ok(Some(CardId::from_raw(REAL_940))));
        assert_eq!(
            sent.get(..3),
            Some(&[SELECT_AID, SELECT_AID_0C, SELECT_INDEX].map(String::from)[..])
        );
    }

    #[test]
    fn the_fcp_size_is_read_from_tag_80_or_81() {
        for tag in [0x80, 0x81] {
            let mut card = VirtualCard::idprime(REAL_940)
                .idprime_fcp_size_tag(tag)
                .idprime_index_unpadded();
            let (result, sent) = read(&mut card);
            assert_eq!(
                result,
                Ok(Some(CardId::from_raw(REAL_940))),
                "tag {tag:02X}"
            );
            // The size (1 + 21 * 11 = 232 = E8) decides the first Le.
            assert_eq!(
                sent.get(2).map(String::as_str),
                Some("00B00000E8"),
                "tag {tag:02X}"
            );
        }
        let size = |fcp: &str| fcp_size(&hex(fcp), 0x0101, "the index file");
        assert_eq!(size("6204 8002 00E8"), Ok(Some(0xE8)));
        assert_eq!(size("6F03 8101 10"), Ok(Some(16)));
        assert_eq!(
            size("6208 8101 20 8003 000010"),
            Ok(Some(16)),
            "80 wins over 81"
        );
        assert_eq!(size("6206 8104 00010000"), Ok(Some(0x1_0000)));
        assert_eq!(size("6203 820101"), Ok(None));
        assert_eq!(size(""), Ok(None));
        for bad in [
            "620380",
            "6202 8000",
            "6207 8005 0000000010",
            "8202 0010",
            "62",
        ] {
            assert!(matches!(size(bad), Err(CardError::Protocol(_))), "{bad}");
        }
    }

    #[test]
    fn an_unknown_size_is_read_until_the_entries_end() {
        // No FCP (P2 0C only) and an index exactly as long as its entries:
        // the first read asks for 255 bytes and gets 232 with 6282.
        let mut card = VirtualCard::idprime(REAL_940)
            .idprime_select_ef_p2_0c_only()
            .idprime_index_unpadded();
        let (result, sent) = read(&mut card);
        assert_eq!(result, Ok(Some(CardId::from_raw(REAL_940))));
        assert_eq!(
            sent,
            [
                SELECT_AID,
                SELECT_INDEX,
                "00A4080C020101",
                "00B00000FF",
                "00A4080002020100",
                "00A4080C020201",
                "00B0000010",
            ]
        );
    }

    #[test]
    fn small_reads_are_continued_at_their_offsets() {
        for max in [1, 16, 21, 100, 254] {
            let mut card = VirtualCard::idprime(REAL_940).idprime_max_read(max);
            let (result, sent) = read(&mut card);
            assert_eq!(result, Ok(Some(CardId::from_raw(REAL_940))), "max {max}");
            let reads: Vec<&String> = sent.iter().filter(|c| c.starts_with("00B0")).collect();
            let index_reads = 232usize.div_ceil(usize::from(max));
            let cardid_reads = 16usize.div_ceil(usize::from(max));
            assert_eq!(reads.len(), index_reads + cardid_reads, "max {max}");
        }
        let mut card = VirtualCard::idprime(REAL_940).idprime_max_read(100);
        let (_, sent) = read(&mut card);
        let reads: Vec<&str> = sent
            .iter()
            .filter(|c| c.starts_with("00B0"))
            .map(String::as_str)
            .collect();
        assert_eq!(
            reads,
            ["00B00000FF", "00B0006484", "00B000C820", "00B0000010"]
        );
    }

    #[test]
    fn a_short_last_read_answered_6282_is_kept() {
        // No size known and an index exactly as long as its entries (232
        // bytes): a card without a cap answers the first read of 255 with all
        // 232 and 6282; one that gives at most 100 needs three reads, the
        // last asked for exactly what is left.
        for max in [100, 255] {
            let mut card = VirtualCard::idprime(REAL_940)
                .idprime_select_ef_p2_0c_only()
                .idprime_index_unpadded()
                .idprime_max_read(max);
            let (result, sent, statuses) = read_with_statuses(&mut card);
            assert_eq!(result, Ok(Some(CardId::from_raw(REAL_940))), "max {max}");
            let reads: Vec<(&str, &str)> = sent
                .iter()
                .zip(&statuses)
                .filter(|(c, _)| c.starts_with("00B0"))
                .map(|(c, s)| (c.as_str(), s.as_str()))
                .collect();
            let expected: &[(&str, &str)] = if max == 100 {
                &[
                    ("00B00000FF", "9000"),
                    ("00B0006484", "9000"),
                    ("00B000C820", "9000"),
                    ("00B0000010", "9000"),
                ]
            } else {
                &[("00B00000FF", "6282"), ("00B0000010", "9000")]
            };
            assert_eq!(reads, expected, "max {max}");
        }

        // A card that says 6282 in the middle of the index: what it gave is
        // kept, the rest is missing, and the reader says so.
        let entries = index(&[
            entry(0x0202, 14, b"cardcf", b"", 1),
            entry(0x0201, 16, b"cardid", b"", 3),
        ]);
        let first = format!("{}6282", hex::encode(&entries[..30]));
        let mut card = Scripted::new(&[
            (SELECT_AID, "9000"),
            (SELECT_INDEX, "9000"),
            ("00B00000FF", &first),
        ]);
        let err = read_idprime_card_id(&mut card).expect_err("truncated");
        assert!(
            matches!(&err, CardError::Protocol(m) if m.contains("2 entries (43 bytes)") && m.contains("only 30 bytes")),
            "{err}"
        );
    }

    #[test]
    fn answers_split_with_61xx_are_joined() {
        for chunk in [1, 7, 64, 255] {
            let mut card = VirtualCard::idprime(REAL_940).with_response_chunk(chunk);
            assert_eq!(
                read(&mut card).0,
                Ok(Some(CardId::from_raw(REAL_940))),
                "chunk {chunk}"
            );
            // 6282 after the last GET RESPONSE.
            let mut short = VirtualCard::idprime(REAL_940)
                .idprime_select_ef_p2_0c_only()
                .idprime_index_unpadded()
                .with_response_chunk(chunk);
            assert_eq!(read(&mut short).0, Ok(Some(CardId::from_raw(REAL_940))));
        }
        let mut card = VirtualCard::idprime(REAL_940).with_wrong_le_first();
        assert_eq!(read(&mut card).0, Ok(Some(CardId::from_raw(REAL_940))));
    }

    #[test]
    fn the_index_is_followed_to_a_cardid_elsewhere() {
        for fid in [0x0207, 0x0310, 0x0005] {
            let mut card = VirtualCard::idprime(REAL_940).idprime_cardid_at(fid);
            let (result, sent) = read(&mut card);
            assert_eq!(result, Ok(Some(CardId::from_raw(REAL_940))), "{fid:04X}");
            let [hi, lo] = fid.to_be_bytes();
            let select = format!("00A4080002{hi:02X}{lo:02X}00");
            assert_eq!(sent.get(3), Some(&select));
            assert!(!sent.iter().any(|c| c.starts_with("00A40800020201")));
        }
    }

    #[test]
    fn a_card_without_a_cardid_entry_is_refused_without_guessing_0201() {
        let mut card = VirtualCard::idprime(REAL_940).idprime_without_cardid();
        assert_eq!(card.card_id(), None);
        let (result, sent) = read(&mut card);
        let err = result.expect_err("no cardid");
        assert_eq!(no_card_id_reason(&err), IDPRIME_NO_CARDID);
        assert!(err.to_string().contains("Initialize the card"));
        assert_eq!(sent.len(), 3, "SELECT AID, SELECT index, READ: {sent:?}");
    }

    #[test]
    fn a_cardid_of_another_size_is_refused() {
        for size in [0, 8, 15, 17, 32] {
            let mut card = VirtualCard::idprime(REAL_940).idprime_cardid_size(size);
            let (result, sent) = read(&mut card);
            let err = result.expect_err("wrong size");
            let reason = no_card_id_reason(&err);
            assert!(
                reason.contains(&format!("is {size} bytes long instead of 16")),
                "{reason}"
            );
            assert!(reason.contains("Initialize the card"), "{reason}");
            assert_eq!(sent.len(), 3, "nothing read after the index");
        }
    }

    #[test]
    fn an_all_zero_cardid_is_refused() {
        let mut card = VirtualCard::idprime([0; 16]);
        assert_eq!(card.card_id(), None);
        let err = read(&mut card).0.expect_err("zero");
        assert_eq!(no_card_id_reason(&err), IDPRIME_NO_CARDID);
    }

    #[test]
    fn cards_without_the_applet_are_not_idprime() {
        for mut card in [
            VirtualCard::gids(REAL_940),
            VirtualCard::piv(REAL_940),
            VirtualCard::blank(),
        ] {
            let (result, sent) = read(&mut card);
            assert_eq!(result, Ok(None));
            assert_eq!(sent, [SELECT_AID]);
        }
        for status in ["6A82", "6D00", "6E00", "6999", "6283"] {
            let mut card = Scripted::new(&[(SELECT_AID, status)]);
            assert_eq!(read_idprime_card_id(&mut card), Ok(None), "{status}");
        }
        let mut twice = Scripted::new(&[(SELECT_AID, "6A86"), (SELECT_AID_0C, "6A82")]);
        assert_eq!(read_idprime_card_id(&mut twice), Ok(None));
    }

    #[test]
    fn the_cardid_and_not_the_chuid_of_a_card_with_both_applets() {
        let chuid_guid = [0x42; 16];
        let mut card = VirtualCard::idprime(REAL_940).with_piv_applet(chuid_guid);
        assert_eq!(card.kind(), Some(crate::domain::card::CardKind::IdPrime));
        assert_eq!(card.card_id(), Some(CardId::from_raw(REAL_940)));
        // The PIV applet answers its CHUID, and afterwards the IDPrime
        // applet is still read from the start.
        let (piv_id, _) = crate::card::identity::read_card_id(&mut card).expect("piv");
        assert_eq!(piv_id, CardId::from_raw(chuid_guid));
        assert_eq!(read(&mut card).0, Ok(Some(CardId::from_raw(REAL_940))));
    }

    #[test]
    fn a_truncated_index_is_a_protocol_error_in_words() {
        let entries = index(&[
            entry(0x0201, 16, b"cardid", b"", 3),
            entry(0x0202, 14, b"cardcf", b"", 1),
            entry(0x0203, 24, b"cardapps", b"", 1),
        ]);
        // The FCP says 48 bytes; the index announces 3 entries (64 bytes).
        let answer = format!("{}9000", hex::encode(&entries[..48]));
        let mut card = Scripted::new(&[
            (SELECT_AID, "9000"),
            (SELECT_INDEX, "6204 8002 0030 9000"),
            ("00B0000030", &answer),
        ]);
        let err = read_idprime_card_id(&mut card).expect_err("truncated");
        assert_eq!(
            err,
            CardError::Protocol(
                "the Thales IDPrime index file announces 3 entries (64 bytes) but the card \
                 gives the file's size as 48 bytes"
                    .to_owned()
            )
        );
        for short in [&entries[..0], &entries[..1], &entries[..22], &entries[..63]] {
            assert!(
                matches!(parse_index(short), Err(CardError::Protocol(_))),
                "{} bytes",
                short.len()
            );
        }
        let mut empty = Scripted::new(&[(SELECT_AID, "9000"), (SELECT_INDEX, "6203 800100 9000")]);
        assert!(matches!(
            read_idprime_card_id(&mut empty),
            Err(CardError::Protocol(m)) if m.contains("empty")
        ));
    }

    #[test]
    fn refusals_of_the_card_are_protocol_errors_in_words() {
        let index = hex::encode(index(&[entry(0x0201, 16, b"cardid", b"", 3)]));
        let cases: [(&[(&str, &str)], &str); 5] = [
            (
                &[(SELECT_AID, "9000"), (SELECT_INDEX, "6A82")],
                "no file 0101",
            ),
            (
                &[
                    (SELECT_AID, "9000"),
                    (SELECT_INDEX, "9000"),
                    ("00B00000FF", "6982"),
                ],
                "status 6982",
            ),
            (
                &[
                    (SELECT_AID, "9000"),
                    (SELECT_INDEX, "9000"),
                    ("00B00000FF", &format!("{index}9000")),
                    ("00A4080002020100", "6204 8002 0020 9000"),
                ],
                "as 32 bytes",
            ),
            (
                &[
                    (SELECT_AID, "9000"),
                    (SELECT_INDEX, "9000"),
                    ("00B00000FF", &format!("{index}9000")),
                    ("00A4080002020100", "9000"),
                    ("00B0000010", "0102030405060708 6282"),
                ],
                "gave 8 bytes",
            ),
            (
                &[
                    (SELECT_AID, "9000"),
                    (SELECT_INDEX, "9000"),
                    ("00B00000FF", &format!("{index}9000")),
                    ("00A4080002020100", "9000"),
                    ("00B0000010", &format!("{}9000", "11".repeat(17))),
                ],
                "17 bytes when 16",
            ),
        ];
        for (script, words) in cases {
            let mut card = Scripted::new(script);
            let err = read_idprime_card_id(&mut card).expect_err(words);
            assert!(
                matches!(&err, CardError::Protocol(m) if m.contains(words)),
                "{words}: {err}"
            );
        }
    }

    #[test]
    fn two_cardid_entries_are_ambiguous() {
        let answer = format!(
            "{}9000",
            hex::encode(index(&[
                entry(0x0201, 16, b"cardid", b"", 3),
                entry(0x0209, 16, b"cardid\0x", b"", 3),
            ]))
        );
        let mut card = Scripted::new(&[
            (SELECT_AID, "9000"),
            (SELECT_INDEX, "9000"),
            ("00B00000FF", &answer),
        ]);
        assert!(matches!(
            read_idprime_card_id(&mut card),
            Err(CardError::Protocol(m)) if m.contains("2 \"cardid\" files")
        ));
    }

    #[test]
    fn the_real_index_dump_parses() {
        let entries = parse_index(&hex(PR2335_INDEX)).expect("index");
        let names: Vec<(u16, u16, &str, &str, u8)> = entries
            .iter()
            .map(|e| {
                (
                    e.file_id,
                    e.size,
                    e.directory.as_str(),
                    e.name.as_str(),
                    e.acl,
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                (0x0201, 0x0010, "", "cardid", 3),
                (0x0202, 0x000E, "", "cardcf", 1),
                (0x0203, 0x0018, "", "cardapps", 1),
                (0x0204, 0x050A, "mscp", "cmapfile", 1),
                (0x0205, 0x0022, "p11", "tinfo", 1),
                (0x0206, 0x0512, "mscp", "kxc01", 1),
                (0x0207, 0x0545, "mscp", "kxc00", 1),
                (0x0208, 0x0511, "mscp", "kxc03", 1),
                (0x0209, 0x0551, "mscp", "kxc02", 1),
                (0x020A, 0x0519, "mscp", "kxc04", 1),
                (0x020B, 0x056B, "mscp", "kxc05", 1),
            ]
        );
    }

    #[test]
    fn names_never_reach_the_screen_raw() {
        let bytes = index(&[
            entry(0x0201, 16, b"card\x1bid", b"", 3),
            entry(0x0202, 16, b"cardi\xc3\xa9", b"\x7f\n", 3),
            entry(0x0203, 16, b"cardid", b"mscp", 3),
        ]);
        let entries = parse_index(&bytes).expect("index");
        assert_eq!(entries[0].name, "card?id");
        assert_eq!(entries[1].name, "cardi??");
        assert_eq!(entries[1].directory, "??");
        assert!(matches!(
            cardid_entry(&entries),
            Err(CardError::NoCardId { .. })
        ));
    }

    /// A hostile card: answers from a list, over and over.
    struct Hostile {
        answers: Vec<Vec<u8>>,
        sent: usize,
    }

    impl CardChannel for Hostile {
        fn transmit(&mut self, _command: &[u8]) -> Result<Vec<u8>, CardError> {
            let answer = self
                .answers
                .get(self.sent % self.answers.len().max(1))
                .cloned()
                .unwrap_or_default();
            self.sent += 1;
            Ok(answer)
        }
    }

    proptest! {
        #[test]
        fn arbitrary_index_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(entries) = parse_index(&data) {
                prop_assert!(entries.len() * IDPRIME_ENTRY_LEN < data.len());
                prop_assert_eq!(entries.len(), usize::from(data[0]));
                for e in &entries {
                    prop_assert!(e.name.chars().all(|c| c.is_ascii_graphic() || c == ' ' || c == '?'));
                    prop_assert!(e.name.len() <= 8 && e.directory.len() <= 8);
                }
            }
        }

        #[test]
        fn index_entries_parse_back(
            entries in proptest::collection::vec(
                (any::<u16>(), any::<u16>(), "[a-z0-9]{0,8}", "[a-z0-9]{0,8}", any::<u8>()),
                0..20,
            ),
            padding in 0usize..40,
        ) {
            let encoded: Vec<Vec<u8>> = entries
                .iter()
                .map(|(fid, size, name, dir, acl)| entry(*fid, *size, name.as_bytes(), dir.as_bytes(), *acl))
                .collect();
            let mut bytes = index(&encoded);
            bytes.resize(bytes.len() + padding, 0);
            let parsed = parse_index(&bytes).expect("index");
            let expected: Vec<IndexEntry> = entries
                .into_iter()
                .map(|(file_id, size, name, directory, acl)| IndexEntry { file_id, size, name, directory, acl })
                .collect();
            prop_assert_eq!(parsed, expected);
        }

        #[test]
        fn a_hostile_card_never_panics_or_hangs(
            answers in proptest::collection::vec(
                prop_oneof![
                    proptest::collection::vec(any::<u8>(), 0..40),
                    Just(vec![0x90, 0x00]),
                    Just(vec![0x61, 0x00]),
                    Just(vec![0x6C, 0x10]),
                    Just(vec![0x62, 0x82]),
                    Just(vec![0x05, 0x90, 0x00]),
                    Just(vec![0x62, 0x04, 0x80, 0x02, 0x7F, 0xFF, 0x90, 0x00]),
                ],
                1..12,
            ),
        ) {
            let mut card = Hostile { answers, sent: 0 };
            let _ = read_idprime_card_id(&mut card);
            // SELECTs, reads of the index and of cardid, each with its GET RESPONSEs.
            prop_assert!(card.sent <= 8 + 2 * MAX_READ_COMMANDS * (1 + crate::card::apdu::MAX_GET_RESPONSES));
        }
    }
}
