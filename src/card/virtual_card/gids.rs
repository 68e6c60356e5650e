//! The GIDS applet: data objects in EFs, found through the card's own master
//! file table, so a reader that hard-codes where the card ID is gets caught.

use super::{Applet, VirtualCard, encode_tlv};
use crate::card::identity::{GIDS_AID, GIDS_MASTER_FILE_DO, GIDS_MASTER_FILE_EF, GIDS_RECORD_LEN};
use crate::domain::card::CardId;

/// The seed's GIDS ATR: its historical bytes carry the GIDS AID.
pub(super) const GIDS_ATR: &str = "3b8d0180fba000000397425446590301c8";

/// One GIDS data object: its value lives in an EF under a DO tag.
#[derive(Clone, Debug)]
pub(super) struct GidsObject {
    ef: u16,
    data_object: u16,
    value: Vec<u8>,
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
}

/// A GIDS object by EF and its two-byte DO tag, wrapped in that tag.
pub(super) fn gids_lookup(objects: &[GidsObject], ef: u16, tag: &[u8]) -> Result<Vec<u8>, u16> {
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

/// GIDS' full AID with its version bytes (`02 01`).
pub(super) fn gids_full_aid() -> Vec<u8> {
    [&GIDS_AID[..], &[0x02, 0x01]].concat()
}

/// The GIDS FCI: the full AID and the discretionary data template.
pub(super) fn gids_fci() -> Vec<u8> {
    let mut inner = encode_tlv(&[0x4F], &gids_full_aid());
    inner.extend(encode_tlv(&[0x73], &[0x40, 0x01, 0xC0]));
    encode_tlv(&[0x61], &inner)
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

/// The card ID a GIDS card holds where its master file table says.
pub(super) fn card_id(objects: &[GidsObject]) -> Option<CardId> {
    let (ef, data_object) = gids_cardid_location(objects)?;
    let object = objects
        .iter()
        .find(|o| o.ef == ef && o.data_object == data_object)?;
    Some(CardId::from_raw(object.value.as_slice().try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::apdu::transmit_collect;
    use crate::card::virtual_card::tests::{ID, apdu};

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
}
