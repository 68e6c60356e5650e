//! Reading the card ID (the minidriver's `CP_CARD_GUID`) from a GIDS, PIV or IDPrime card.
//!
//! Windows picks a vendor minidriver by ATR first (IDPrime), and only then
//! tries PIV, then GIDS with its inbox minidriver; the station follows the
//! same order ([`FamilyTable`]) so it reads the ID Windows and MIM CM see. See
//! `shared/spec/card-identity.md` for the APDUs and the test vectors.

use super::apdu::{Response, transmit_collect};
use super::family::{Family, FamilyRow, FamilyTable};
use super::tlv;
use super::{CardChannel, CardError};
use crate::domain::card::{Atr, CardId, CardIdLocation, CardIdentity, CardKind, ChipInfo};

/// The PIV application identifier used to SELECT it (NIST SP 800-73).
pub const PIV_AID: [u8; 9] = [0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00];

/// The GIDS application identifier used to SELECT it.
pub const GIDS_AID: [u8; 9] = [0xA0, 0x00, 0x00, 0x03, 0x97, 0x42, 0x54, 0x46, 0x59];

/// The PIV CHUID object (`5F C1 02`), as a TLV tag.
pub const PIV_CHUID_TAG: u32 = 0x5F_C1_02;

/// The GIDS EF that holds the master file table.
pub const GIDS_MASTER_FILE_EF: u16 = 0xA000;

/// The master file table's data object in [`GIDS_MASTER_FILE_EF`].
pub const GIDS_MASTER_FILE_DO: u16 = 0xDF1F;

/// Where the common GIDS profile keeps the card ID; used only when the
/// master file table has no `cardid` record.
pub const GIDS_DEFAULT_CARDID: (u16, u16) = (0xA012, 0xDF20);

/// The size of one record in the GIDS master file table.
pub const GIDS_RECORD_LEN: usize = 28;

/// Operator text for a PIV card without a usable CHUID GUID.
pub const PIV_NO_GUID: &str = "This PIV card has no card ID: its CHUID has no GUID (tag 34) or the GUID is all zeros, \
     so MIM CM cannot identify it. Set a CHUID with your card management tool \
     (e.g. ykman piv objects generate chuid, or yubico-piv-tool -a set-chuid), then insert the \
     card again.";

/// Operator text for a card that answers neither PIV, GIDS nor IDPrime.
pub const UNKNOWN_APPLICATION: &str = "Unknown card application: the card answers neither PIV, GIDS \
     nor Thales IDPrime, so the station cannot read the card ID Windows would report. Use a card \
     your site issues (GIDS, PIV, or Thales IDPrime MD).";

/// Operator text for a GIDS card whose card ID object is missing or zero.
pub const GIDS_NO_CARDID: &str = "This GIDS card has no card ID (its \"cardid\" file is missing or all zeros), \
     so MIM CM cannot identify it. Initialize the card with your card management tool, \
     then insert it again.";

/// Reads the card ID of a card no ATR row claims: PIV first, then GIDS, as
/// Windows' inbox minidriver does.
pub fn read_card_id(channel: &mut dyn CardChannel) -> Result<(CardId, CardKind), CardError> {
    let unlisted = Atr::default();
    read_card_id_as(
        channel,
        &unlisted,
        &FamilyTable::default(),
        super::ReadOptions::default(),
    )
    .map(|(id, kind, _)| (id, kind))
}

/// The reader paths to try for a card of `family`, in order. A vendor family
/// is read only its own way: Windows never asks such a card's PIV applet.
fn paths(family: Option<&Family>, expected: Option<CardKind>) -> &'static [CardKind] {
    match (family, expected) {
        (Some(Family::IdPrime), _) => &[CardKind::IdPrime],
        (Some(Family::Gids), _) | (None, Some(CardKind::Gids)) => &[CardKind::Gids, CardKind::Piv],
        _ => &[CardKind::Piv, CardKind::Gids],
    }
}

/// Reads the card ID along the paths the card's family takes, and for GIDS
/// the known place of the card ID before the master file table.
fn read_card_id_as(
    channel: &mut dyn CardChannel,
    atr: &Atr,
    families: &FamilyTable,
    options: super::ReadOptions,
) -> Result<(CardId, CardKind, Option<CardIdLocation>), CardError> {
    let row = families.row_for(atr);
    if let Some(FamilyRow {
        family: Family::Unsupported(why),
        ..
    }) = row
    {
        return Err(CardError::no_card_id(why.clone()));
    }
    for kind in paths(row.map(|r| &r.family), options.expected_kind) {
        match kind {
            CardKind::IdPrime => {
                return match super::idprime::read_idprime_card_id(channel)? {
                    Some(id) => Ok((id, CardKind::IdPrime, None)),
                    None => Err(CardError::no_card_id(format!(
                        "Its ATR says this is a {}, but the card's IDPrime application does not \
                         answer, so the station cannot read the card ID Windows would report. \
                         Check the card; if the site's cards are listed wrongly, correct its \
                         [[cards.families]] rows.",
                        row.map_or("Thales IDPrime card", |r| r.name.as_str())
                    ))),
                };
            }
            CardKind::Piv if select(channel, &PIV_AID)? => {
                return read_piv_card_id(channel).map(|id| (id, CardKind::Piv, None));
            }
            CardKind::Gids if select(channel, &GIDS_AID)? => {
                return read_gids_card_id(channel, options.location)
                    .map(|(id, at)| (id, CardKind::Gids, Some(at)));
            }
            _ => {}
        }
    }
    // An IDPrime whose ATR no row lists: Windows would pick its minidriver
    // by an ATR the station does not know, so it must not guess.
    if super::idprime::select_idprime(channel)? {
        return Err(CardError::no_card_id(
            "This card carries the Thales IDPrime application, but its ATR is not in the \
             station's list of IDPrime cards, so the station cannot be sure Windows reads it as \
             one. Prove it first (see \"Card families\" in the README), then add its ATR as a \
             [[cards.families]] row with family = \"idprime\".",
        ));
    }
    Err(CardError::no_card_id(UNKNOWN_APPLICATION))
}

/// Reads the card ID and bundles it with the ATR the reader reported.
pub fn read_identity(channel: &mut dyn CardChannel, atr: Atr) -> Result<CardIdentity, CardError> {
    read_identity_with(
        channel,
        atr,
        &FamilyTable::default(),
        super::ReadOptions::default(),
    )
}

/// Reads what `options` ask for: the card ID the way the card's family
/// gives it, and, when asked, the chip's CPLC and a YubiKey's serial
/// (information only: a card without them is read all the same). A card
/// without a card ID still reports its chip, for the readers panel.
pub fn read_identity_with(
    channel: &mut dyn CardChannel,
    atr: Atr,
    families: &FamilyTable,
    options: super::ReadOptions,
) -> Result<CardIdentity, CardError> {
    let (card_id, kind, location) = match read_card_id_as(channel, &atr, families, options) {
        Ok(found) => found,
        Err(CardError::NoCardId { reason, .. }) => {
            let chip = if options.chip {
                chip_info(channel)
            } else {
                None
            };
            return Err(CardError::NoCardId { reason, chip });
        }
        Err(error) => return Err(error),
    };
    // The serial comes first: the CPLC's SELECT leaves PIV.
    let yubikey_serial = (options.chip && kind == CardKind::Piv)
        .then(|| yubikey_serial(channel))
        .flatten();
    let chip = if options.chip {
        chip_info(channel)
    } else {
        None
    };
    Ok(CardIdentity {
        atr,
        card_id,
        kind,
        chip,
        location,
        yubikey_serial,
    })
}

/// The chip's CPLC, when the card answers it; a failure only loses the information.
fn chip_info(channel: &mut dyn CardChannel) -> Option<ChipInfo> {
    match super::cplc::read_cplc(channel) {
        Ok(cplc) => cplc.map(|c| c.chip_info()),
        Err(error) => {
            tracing::debug!(%error, "reading the CPLC failed; no chip information");
            None
        }
    }
}

/// A YubiKey's serial (Yubico's PIV extension `00 F8 00 00`, 4 bytes
/// big-endian), with PIV selected; other PIV cards refuse the command.
fn yubikey_serial(channel: &mut dyn CardChannel) -> Option<u32> {
    match transmit_collect(channel, &[0x00, 0xF8, 0x00, 0x00, 0x00]) {
        Ok(answer) if answer.is_ok() => <[u8; 4]>::try_from(answer.data.as_slice())
            .ok()
            .map(u32::from_be_bytes),
        Ok(_) => None,
        Err(error) => {
            tracing::debug!(%error, "reading a YubiKey serial failed");
            None
        }
    }
}

/// SELECTs an application by AID; `false` when the card does not have it.
fn select(channel: &mut dyn CardChannel, aid: &[u8; 9]) -> Result<bool, CardError> {
    let mut command = vec![0x00, 0xA4, 0x04, 0x00, 0x09];
    command.extend_from_slice(aid);
    command.push(0x00);
    let response = transmit_collect(channel, &command)?;
    // Any error status means "not this application": cards disagree on which
    // one (6A82, 6A86, 6D00, 6E00, ...).
    Ok(response.is_ok())
}

/// GET DATA for a PIV object by its tag (`5C` list with one tag, 3 bytes).
fn piv_get_data(channel: &mut dyn CardChannel, tag: u32) -> Result<Response, CardError> {
    let [_, t1, t2, t3] = tag.to_be_bytes();
    let command = [0x00, 0xCB, 0x3F, 0xFF, 0x05, 0x5C, 0x03, t1, t2, t3, 0x00];
    transmit_collect(channel, &command)
}

/// Reads the CHUID of the selected PIV application and takes its GUID.
fn read_piv_card_id(channel: &mut dyn CardChannel) -> Result<CardId, CardError> {
    let response = piv_get_data(channel, PIV_CHUID_TAG)?;
    match response.sw {
        0x9000 => {}
        // "Data object not found": the card has no CHUID at all.
        0x6A82 | 0x6A88 => return Err(CardError::no_card_id(PIV_NO_GUID)),
        _ => {
            return Err(CardError::Protocol(format!(
                "the PIV card refused to return its CHUID (status {})",
                response.sw_hex()
            )));
        }
    }
    let chuid = tlv::find(&response.data, 0x53)
        .map_err(|e| protocol("the PIV CHUID is not valid BER-TLV", e))?
        .ok_or_else(|| CardError::Protocol("the PIV CHUID answer has no tag 53".to_owned()))?;
    chuid_card_id(chuid)
}

/// The card ID in the contents of a CHUID (the value of tag `53`).
pub fn chuid_card_id(chuid: &[u8]) -> Result<CardId, CardError> {
    let objects =
        tlv::parse_all(chuid).map_err(|e| protocol("the PIV CHUID is not valid BER-TLV", e))?;
    let Some(guid) = objects.iter().find(|o| o.tag == 0x34) else {
        return Err(CardError::no_card_id(PIV_NO_GUID));
    };
    let raw: [u8; 16] = guid.value.try_into().map_err(|_| {
        CardError::Protocol(format!(
            "the PIV CHUID GUID (tag 34) is {} bytes long instead of 16",
            guid.value.len()
        ))
    })?;
    let id = CardId::from_raw(raw);
    if id.is_zero() {
        return Err(CardError::no_card_id(PIV_NO_GUID));
    }
    Ok(id)
}

/// One record of the GIDS master file table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MasterFileRecord {
    /// The directory name; empty for files in the root.
    pub directory: String,
    /// The file name; empty for a directory record.
    pub file: String,
    /// The data object tag inside the EF (e.g. `0xDF20`).
    pub data_object: u16,
    /// The EF that holds the data object (e.g. `0xA012`).
    pub ef: u16,
}

/// Parses the master file table answer: `DF 1F <len> 01 <28-byte records>`.
pub fn parse_master_file_table(answer: &[u8]) -> Result<Vec<MasterFileRecord>, CardError> {
    let value = tlv::find(answer, u32::from(GIDS_MASTER_FILE_DO))
        .map_err(|e| protocol("the GIDS master file table is not valid BER-TLV", e))?
        .ok_or_else(|| {
            CardError::Protocol("the GIDS master file table answer has no tag DF1F".to_owned())
        })?;
    let Some((&version, records)) = value.split_first() else {
        return Err(CardError::Protocol(
            "the GIDS master file table is empty".to_owned(),
        ));
    };
    if version != 0x01 {
        return Err(CardError::Protocol(format!(
            "the GIDS master file table has version {version:02X}, not 01"
        )));
    }
    if records.len() % GIDS_RECORD_LEN != 0 {
        return Err(CardError::Protocol(format!(
            "the GIDS master file table holds {} bytes of records, not a multiple of {GIDS_RECORD_LEN}",
            records.len()
        )));
    }
    Ok(records
        .chunks_exact(GIDS_RECORD_LEN)
        .map(master_file_record)
        .collect())
}

/// Decodes one 28-byte record (the caller guarantees the length).
fn master_file_record(record: &[u8]) -> MasterFileRecord {
    let le16 = |at: usize| {
        let lo = record.get(at).copied().unwrap_or(0);
        let hi = record.get(at + 1).copied().unwrap_or(0);
        u16::from_le_bytes([lo, hi])
    };
    MasterFileRecord {
        directory: nul_padded_name(record.get(0..9).unwrap_or_default()),
        file: nul_padded_name(record.get(9..18).unwrap_or_default()),
        data_object: le16(20),
        ef: le16(24),
    }
}

/// The text before the first NUL; non-ASCII bytes never match a known name anyway.
fn nul_padded_name(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// GET DATA for a GIDS data object inside an EF.
fn gids_get_data(
    channel: &mut dyn CardChannel,
    ef: u16,
    data_object: u16,
) -> Result<Response, CardError> {
    let [ef_hi, ef_lo] = ef.to_be_bytes();
    let [do_hi, do_lo] = data_object.to_be_bytes();
    let command = [
        0x00, 0xCB, ef_hi, ef_lo, 0x04, 0x5C, 0x02, do_hi, do_lo, 0x00,
    ];
    transmit_collect(channel, &command)
}

/// Finds the card ID through the master file table and reads it.
/// Reads a GIDS card's ID. With a known place (from an earlier read of this
/// card's table) it reads there first; a card whose layout differs answers
/// something else there, and the table is read after all.
fn read_gids_card_id(
    channel: &mut dyn CardChannel,
    known: Option<CardIdLocation>,
) -> Result<(CardId, CardIdLocation), CardError> {
    if let Some(at) = known {
        let answer = gids_get_data(channel, at.ef, at.data_object)?;
        if answer.is_ok()
            && let Ok(id) = gids_card_id(&answer.data, at.data_object)
        {
            return Ok((id, at));
        }
    }
    let table = gids_get_data(channel, GIDS_MASTER_FILE_EF, GIDS_MASTER_FILE_DO)?;
    if !table.is_ok() {
        return Err(CardError::Protocol(format!(
            "the GIDS card refused to return its master file table (status {})",
            table.sw_hex()
        )));
    }
    let records = parse_master_file_table(&table.data)?;
    let (ef, data_object) = cardid_location(&records);
    let answer = gids_get_data(channel, ef, data_object)?;
    match answer.sw {
        0x9000 => gids_card_id(&answer.data, data_object)
            .map(|id| (id, CardIdLocation { ef, data_object })),
        0x6A82 | 0x6A88 => Err(CardError::no_card_id(GIDS_NO_CARDID)),
        _ => Err(CardError::Protocol(format!(
            "the GIDS card refused to return its card ID from EF {ef:04X} DO {data_object:04X} (status {})",
            answer.sw_hex()
        ))),
    }
}

/// The EF and DO of the `cardid` file; the common profile's place when the table has none.
fn cardid_location(records: &[MasterFileRecord]) -> (u16, u16) {
    let found = records
        .iter()
        .find(|r| r.directory.is_empty() && r.file == "cardid");
    match found {
        Some(record) => (record.ef, record.data_object),
        None => {
            let (ef, data_object) = GIDS_DEFAULT_CARDID;
            tracing::warn!(
                records = records.len(),
                "GIDS master file table has no \"cardid\" record; reading the common profile's EF {ef:04X} DO {data_object:04X}"
            );
            GIDS_DEFAULT_CARDID
        }
    }
}

/// The 16-byte card ID in the answer `<DO tag> 10 <16 bytes>`.
fn gids_card_id(answer: &[u8], data_object: u16) -> Result<CardId, CardError> {
    let value = tlv::find(answer, u32::from(data_object))
        .map_err(|e| protocol("the GIDS card ID is not valid BER-TLV", e))?
        .ok_or_else(|| {
            CardError::Protocol(format!(
                "the GIDS card ID answer has no tag {data_object:04X}"
            ))
        })?;
    let raw: [u8; 16] = value.try_into().map_err(|_| {
        CardError::Protocol(format!(
            "the GIDS card ID is {} bytes long instead of 16",
            value.len()
        ))
    })?;
    let id = CardId::from_raw(raw);
    if id.is_zero() {
        return Err(CardError::no_card_id(GIDS_NO_CARDID));
    }
    Ok(id)
}

/// A protocol error with the TLV parser's reason.
fn protocol(what: &str, err: tlv::TlvError) -> CardError {
    CardError::Protocol(format!("{what} ({err})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::apdu::tests::Scripted;
    use crate::card::virtual_card::VirtualCard;

    const SELECT_PIV: &str = "00A4040009A0000003080000100000";
    const SELECT_GIDS: &str = "00A4040009A0000003974254465900";
    const GET_CHUID: &str = "00CB3FFF055C035FC10200";
    const GET_MASTER_FILE: &str = "00CBA000045C02DF1F00";
    const SSPI_GUID: &str = "58c68a1d65e0a09285af090b070b5d79";
    const FASCN: &str = "3019D4E739DA739CED39CE739D836858210842108421C84210C3EB";

    fn raw(text: &str) -> [u8; 16] {
        hex::decode(text)
            .expect("hex")
            .try_into()
            .expect("16 bytes")
    }

    fn chuid_answer(contents: &str) -> String {
        let contents = hex::decode(contents).expect("hex");
        let len = match contents.len() {
            0..=0x7F => format!("{:02x}", contents.len()),
            0x80..=0xFF => format!("81{:02x}", contents.len()),
            _ => format!("82{:04x}", contents.len()),
        };
        format!("53{len}{}9000", hex::encode(contents))
    }

    /// A 28-byte master file table record.
    fn record(directory: &str, file: &str, data_object: u16, ef: u16) -> Vec<u8> {
        let mut out = vec![0u8; GIDS_RECORD_LEN];
        out[..directory.len()].copy_from_slice(directory.as_bytes());
        out[9..9 + file.len()].copy_from_slice(file.as_bytes());
        out[20..22].copy_from_slice(&data_object.to_le_bytes());
        out[24..26].copy_from_slice(&ef.to_le_bytes());
        out
    }

    fn master_file_answer(records: &[Vec<u8>]) -> String {
        let mut value = vec![0x01];
        records.iter().for_each(|r| value.extend_from_slice(r));
        let len = if value.len() < 0x80 {
            format!("{:02x}", value.len())
        } else {
            format!("81{:02x}", value.len())
        };
        format!("DF1F{len}{}9000", hex::encode(value))
    }

    #[test]
    fn sspi_rs_chuid_gives_the_spec_card_id() {
        let contents = format!("{FASCN}3410{SSPI_GUID}350832303330303130313E00FE00");
        let answer = chuid_answer(&contents);
        let mut card = Scripted::new(&[(SELECT_PIV, "9000"), (GET_CHUID, &answer)]);
        let (id, kind) = read_card_id(&mut card).expect("card id");
        assert_eq!(id.to_cm_string(), "1d8ac658-e065-92a0-85af-090b070b5d79");
        assert_eq!(kind, CardKind::Piv);
    }

    #[test]
    fn yubico_chuid_vector_gives_the_spec_card_id() {
        let id = chuid_card_id(
            &hex::decode(format!(
                "{FASCN}3410461c7c766122b38b2edf05183c3d041a3E00FE00"
            ))
            .expect("hex"),
        )
        .expect("card id");
        assert_eq!(id.to_cm_string(), "767c1c46-2261-8bb3-2edf-05183c3d041a");
    }

    #[test]
    fn odd_chuid_with_ee_3d_and_a_large_signature_is_parsed() {
        let signature = "AB".repeat(1536);
        let contents = format!(
            "EE0101{FASCN}3D0401020304\
             3410{SSPI_GUID}35083230333030313031\
             3E820600{signature}FE00"
        );
        let mut card = VirtualCard::piv_with_chuid(hex::decode(&contents).expect("hex"));
        let (id, kind) = read_card_id(&mut card).expect("card id");
        assert_eq!(id, CardId::from_raw(raw(SSPI_GUID)));
        assert_eq!(kind, CardKind::Piv);
    }

    #[test]
    fn piv_without_a_usable_guid_says_so() {
        let zero = format!("{FASCN}3410{}3E00FE00", "00".repeat(16));
        for contents in [format!("{FASCN}3E00FE00"), zero] {
            let mut card = VirtualCard::piv_with_chuid(hex::decode(contents).expect("hex"));
            let err = read_card_id(&mut card).expect_err("no card id");
            assert_eq!(err, CardError::no_card_id(PIV_NO_GUID));
            assert!(err.to_string().contains("set-chuid"));
        }
        let mut no_chuid = Scripted::new(&[(SELECT_PIV, "9000"), (GET_CHUID, "6A82")]);
        assert!(matches!(
            read_card_id(&mut no_chuid),
            Err(CardError::NoCardId { .. })
        ));
    }

    #[test]
    fn gids_cardid_record_at_an_unusual_place_is_followed() {
        let table = master_file_answer(&[
            record("", "cardapps", 0xDF21, 0xA010),
            record("mscp", "", 0, 0),
            record("", "cardid", 0xDF30, 0xA015),
        ]);
        let id_answer = format!("DF3010{SSPI_GUID}9000");
        let mut card = Scripted::new(&[
            (SELECT_PIV, "6A82"),
            (SELECT_GIDS, "6112"),
            ("00C0000012", "4F0B A0000003974254465902 01 73034001C0 9000"),
            (GET_MASTER_FILE, &table),
            ("00CBA015045C02DF3000", &id_answer),
        ]);
        let (id, kind) = read_card_id(&mut card).expect("card id");
        assert_eq!(id.to_cm_string(), "1d8ac658-e065-92a0-85af-090b070b5d79");
        assert_eq!(kind, CardKind::Gids);
        assert!(card.steps.is_empty());
    }

    #[test]
    fn gids_df20_in_another_ef_is_not_the_card_id() {
        let table = master_file_answer(&[
            record("", "other", 0xDF20, 0xA000),
            record("", "cardid", 0xDF20, 0xA012),
        ]);
        let id_answer = format!("DF2010{SSPI_GUID}9000");
        let mut card = Scripted::new(&[
            (SELECT_PIV, "6D00"),
            (SELECT_GIDS, "9000"),
            (GET_MASTER_FILE, &table),
            ("00CBA012045C02DF2000", &id_answer),
        ]);
        let (id, _) = read_card_id(&mut card).expect("card id");
        assert_eq!(id, CardId::from_raw(raw(SSPI_GUID)));
    }

    #[test]
    fn gids_without_cardid_record_falls_back_to_the_common_profile() {
        let table = master_file_answer(&[record("", "cardapps", 0xDF21, 0xA010)]);
        let id_answer = format!("DF2010{SSPI_GUID}9000");
        let mut card = Scripted::new(&[
            (SELECT_PIV, "6A82"),
            (SELECT_GIDS, "9000"),
            (GET_MASTER_FILE, &table),
            ("00CBA012045C02DF2000", &id_answer),
        ]);
        assert!(read_card_id(&mut card).is_ok());
    }

    #[test]
    fn master_file_table_with_long_length_form_is_parsed() {
        let records: Vec<Vec<u8>> = (0..6)
            .map(|n| record("mscp", &format!("kxc0{n}"), 0xDF24 + n, 0xA010))
            .chain([record("", "cardid", 0xDF20, 0xA012)])
            .collect();
        let answer = hex::decode(master_file_answer(&records)).expect("hex");
        let parsed = parse_master_file_table(&answer[..answer.len() - 2]).expect("table");
        assert_eq!(parsed.len(), 7);
        assert_eq!(
            parsed[6],
            MasterFileRecord {
                directory: String::new(),
                file: "cardid".into(),
                data_object: 0xDF20,
                ef: 0xA012
            }
        );
        assert_eq!(parsed[0].directory, "mscp");
        assert_eq!(parsed[0].file, "kxc00");
    }

    #[test]
    fn malformed_master_file_tables_are_protocol_errors() {
        for answer in ["DF1F00", "DF1F0102", "DF1F020100", "DF1F1D01AABB", "0102"] {
            let data = hex::decode(answer).expect("hex");
            assert!(
                matches!(parse_master_file_table(&data), Err(CardError::Protocol(_))),
                "{answer}"
            );
        }
    }

    #[test]
    fn virtual_cards_of_both_kinds_are_read_with_any_chunk_size() {
        let id = raw(SSPI_GUID);
        for chunk in [None, Some(1), Some(7), Some(64), Some(255)] {
            for card in [VirtualCard::gids(id), VirtualCard::piv(id)] {
                let expected_kind = card.kind();
                let mut card = match chunk {
                    Some(max) => card.with_response_chunk(max),
                    None => card,
                };
                let (found, kind) = read_card_id(&mut card).expect("card id");
                assert_eq!(found, CardId::from_raw(id));
                assert_eq!(Some(kind), expected_kind);
            }
        }
    }

    #[test]
    fn a_blank_card_is_an_unknown_application() {
        let mut card = VirtualCard::blank();
        let err = read_card_id(&mut card).expect_err("no application");
        assert_eq!(err, CardError::no_card_id(UNKNOWN_APPLICATION));
        assert!(
            err.to_string()
                .contains("neither PIV, GIDS nor Thales IDPrime")
        );
    }

    #[test]
    fn wrong_le_6cxx_is_followed_for_the_chuid() {
        let contents = format!("3410{SSPI_GUID}");
        let answer = chuid_answer(&contents);
        let mut card = Scripted::new(&[
            (SELECT_PIV, "9000"),
            (GET_CHUID, "6C14"),
            ("00CB3FFF055C035FC10214", &answer),
        ]);
        assert!(read_card_id(&mut card).is_ok());
    }

    #[test]
    fn garbage_answers_give_clear_errors_without_panicking() {
        let cases: [(&str, &str); 6] = [
            ("53", "BER-TLV"),
            ("5305 3410AABB", "BER-TLV"),
            ("5380", "BER-TLV"),
            ("7F4900", "tag 53"),
            ("5304 3402AABB", "16"),
            ("", "tag 53"),
        ];
        for (garbage, words) in cases {
            let answer = format!("{garbage}9000");
            let mut card = Scripted::new(&[(SELECT_PIV, "9000"), (GET_CHUID, &answer)]);
            let err = read_card_id(&mut card).expect_err(garbage);
            assert!(
                matches!(&err, CardError::Protocol(m) if m.contains(words)),
                "{garbage}: {err}"
            );
        }
        let mut short = Scripted::new(&[(SELECT_PIV, "90")]);
        assert!(matches!(
            read_card_id(&mut short),
            Err(CardError::Protocol(_))
        ));
    }

    #[test]
    fn read_identity_keeps_the_atr() {
        let mut card = VirtualCard::gids(raw(SSPI_GUID));
        let atr = card.atr();
        let identity = read_identity(&mut card, atr.clone()).expect("identity");
        assert_eq!(identity.atr, atr);
        assert_eq!(identity.kind, CardKind::Gids);
        assert_eq!(
            identity.card_id.to_cm_string(),
            "1d8ac658-e065-92a0-85af-090b070b5d79"
        );
    }
    proptest::proptest! {
        #[test]
        fn master_file_tables_parse_back(
            records in proptest::collection::vec(
                ("[a-z0-9]{0,9}", "[a-z0-9]{0,9}", proptest::prelude::any::<u16>(), proptest::prelude::any::<u16>()),
                0..9,
            ),
        ) {
            let encoded: Vec<Vec<u8>> = records
                .iter()
                .map(|(directory, file, data_object, ef)| record(directory, file, *data_object, *ef))
                .collect();
            let answer = hex::decode(master_file_answer(&encoded)).expect("hex");
            let parsed = parse_master_file_table(&answer[..answer.len() - 2]).expect("table");
            let expected: Vec<MasterFileRecord> = records
                .into_iter()
                .map(|(directory, file, data_object, ef)| MasterFileRecord { directory, file, data_object, ef })
                .collect();
            proptest::prop_assert_eq!(parsed, expected);
        }

        #[test]
        fn arbitrary_master_file_answers_never_panic(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            if let Ok(records) = parse_master_file_table(&data) {
                proptest::prop_assert!(records.len() * GIDS_RECORD_LEN <= data.len());
            }
        }
    }

    /// Counts the APDUs a read sends.
    struct Counting<'a> {
        card: &'a mut VirtualCard,
        sent: usize,
    }

    impl CardChannel for Counting<'_> {
        fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, CardError> {
            self.sent += 1;
            Ok(self.card.respond(command))
        }
    }

    #[test]
    fn a_reread_at_the_known_place_skips_the_failed_select_and_the_table() {
        let raw = [0x5a; 16];
        let mut card = VirtualCard::gids_with_cardid_at(raw, 0xA013, 0xDF24);
        let mut channel = Counting {
            card: &mut card,
            sent: 0,
        };
        let first = read_identity_with(
            &mut channel,
            Atr::default(),
            &FamilyTable::default(),
            super::super::ReadOptions::default(),
        )
        .expect("first read");
        let first_apdus = channel.sent;
        assert_eq!(
            first.location,
            Some(CardIdLocation {
                ef: 0xA013,
                data_object: 0xDF24
            })
        );

        let mut channel = Counting {
            card: &mut card,
            sent: 0,
        };
        let options = super::super::ReadOptions::reread(CardKind::Gids, first.location);
        let again = read_identity_with(
            &mut channel,
            Atr::default(),
            &FamilyTable::default(),
            options,
        )
        .expect("re-read");
        assert_eq!(again.card_id, first.card_id);
        assert_eq!(channel.sent, 2, "SELECT GIDS and the card ID, nothing else");
        assert!(
            channel.sent + 2 <= first_apdus,
            "{} vs {first_apdus}",
            channel.sent
        );
    }

    #[test]
    fn a_card_with_another_layout_is_read_through_its_own_table() {
        let mut other = VirtualCard::gids_with_cardid_at([0x6b; 16], 0xA012, 0xDF20);
        let stale = Some(CardIdLocation {
            ef: 0xA013,
            data_object: 0xDF24,
        });
        let options = super::super::ReadOptions::reread(CardKind::Gids, stale);
        let read = read_identity_with(&mut other, Atr::default(), &FamilyTable::default(), options)
            .expect("read");
        assert_eq!(read.card_id, CardId::from_raw([0x6b; 16]));
        assert_eq!(
            read.location,
            Some(CardIdLocation {
                ef: 0xA012,
                data_object: 0xDF20
            })
        );
    }
}
