//! GlobalPlatform Card Production Life Cycle data (CPLC): which chip it is.
//!
//! CPLC names the chip (fabricator, type, serial number, batch), not the
//! minidriver's card ID, so it is shown as chip information and never bound
//! on its own. Many cards (PIV-only tokens, GIDS TPM virtual cards) do not
//! have it; that is `Ok(None)`, not an error.

use std::fmt;

use thiserror::Error;

use super::apdu::{Response, transmit_collect};
use super::{CardChannel, CardError, tlv};

/// The CPLC data object's tag.
pub const CPLC_TAG: u32 = 0x9F7F;

/// The length of the CPLC value.
pub const CPLC_LEN: usize = 42;

/// SELECT with no AID: the card's default application, the card manager on GlobalPlatform cards.
pub const SELECT_CARD_MANAGER: [u8; 5] = [0x00, 0xA4, 0x04, 0x00, 0x00];

/// GET DATA CPLC in the GlobalPlatform class.
pub const GET_CPLC: [u8; 5] = [0x80, 0xCA, 0x9F, 0x7F, 0x00];

/// GET DATA CPLC in the ISO class, for cards that refuse class `80` with `6E00`.
pub const GET_CPLC_ISO: [u8; 5] = [0x00, 0xCA, 0x9F, 0x7F, 0x00];

/// Why an answer is not CPLC data.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CplcError {
    /// The answer is not BER-TLV.
    #[error("the CPLC answer is not valid BER-TLV ({0})")]
    Tlv(#[from] tlv::TlvError),
    /// The answer has no tag `9F7F`.
    #[error("the CPLC answer has no tag 9F7F")]
    NoTag,
    /// The value is shorter than 42 bytes.
    #[error("the CPLC value is {0} bytes long, not {CPLC_LEN}")]
    WrongLength(usize),
}

/// The CPLC fields (GlobalPlatform Card Specification, GET DATA `9F7F`).
/// Dates are as the card stores them: `YDDD` (last digit of the year, day of the year) in BCD.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cplc {
    /// IC fabricator (e.g. `4790` NXP, `4090` Infineon).
    pub ic_fabricator: u16,
    /// IC type, the fabricator's chip model.
    pub ic_type: u16,
    /// Operating system identifier.
    pub os_id: u16,
    /// Operating system release date.
    pub os_release_date: u16,
    /// Operating system release level.
    pub os_release_level: u16,
    /// IC fabrication date.
    pub ic_fabrication_date: u16,
    /// IC serial number, unique within the fabricator's batch numbering.
    pub ic_serial_number: u32,
    /// IC batch identifier.
    pub ic_batch_identifier: u16,
    /// IC module fabricator.
    pub ic_module_fabricator: u16,
    /// IC module packaging date.
    pub ic_module_packaging_date: u16,
    /// ICC manufacturer.
    pub icc_manufacturer: u16,
    /// IC embedding date.
    pub ic_embedding_date: u16,
    /// IC pre-personalizer.
    pub ic_pre_personalizer: u16,
    /// IC pre-personalization date.
    pub ic_pre_personalization_date: u16,
    /// IC pre-personalization equipment identifier.
    pub ic_pre_personalization_equipment: u32,
    /// IC personalizer.
    pub ic_personalizer: u16,
    /// IC personalization date.
    pub ic_personalization_date: u16,
    /// IC personalization equipment identifier.
    pub ic_personalization_equipment: u32,
}

impl Cplc {
    /// Decodes the 42-byte value, big-endian fields in GlobalPlatform order.
    pub fn from_bytes(bytes: &[u8; CPLC_LEN]) -> Self {
        let mut fields = Fields { bytes, pos: 0 };
        Self {
            ic_fabricator: fields.u16(),
            ic_type: fields.u16(),
            os_id: fields.u16(),
            os_release_date: fields.u16(),
            os_release_level: fields.u16(),
            ic_fabrication_date: fields.u16(),
            ic_serial_number: fields.u32(),
            ic_batch_identifier: fields.u16(),
            ic_module_fabricator: fields.u16(),
            ic_module_packaging_date: fields.u16(),
            icc_manufacturer: fields.u16(),
            ic_embedding_date: fields.u16(),
            ic_pre_personalizer: fields.u16(),
            ic_pre_personalization_date: fields.u16(),
            ic_pre_personalization_equipment: fields.u32(),
            ic_personalizer: fields.u16(),
            ic_personalization_date: fields.u16(),
            ic_personalization_equipment: fields.u32(),
        }
    }

    /// Decodes a GET DATA answer: `9F 7F 2A <42 bytes>`, or the bare 42 bytes
    /// some cards send. A longer value is cut to its first 42 bytes.
    pub fn parse(answer: &[u8]) -> Result<Self, CplcError> {
        let value = match tlv::find(answer, CPLC_TAG) {
            Ok(Some(value)) => value,
            // Cards that leave the tag out send exactly the value.
            Ok(None) | Err(_) if answer.len() == CPLC_LEN => answer,
            Ok(None) => return Err(CplcError::NoTag),
            Err(e) => return Err(e.into()),
        };
        let bytes: &[u8; CPLC_LEN] = value
            .get(..CPLC_LEN)
            .and_then(|v| v.try_into().ok())
            .ok_or(CplcError::WrongLength(value.len()))?;
        Ok(Self::from_bytes(bytes))
    }

    /// The fields the readers panel shows.
    pub fn chip_info(&self) -> crate::domain::card::ChipInfo {
        crate::domain::card::ChipInfo {
            fabricator: self.ic_fabricator,
            ic_type: self.ic_type,
            serial: self.ic_serial_number,
            batch: self.ic_batch_identifier,
        }
    }

    /// The fabricator's name for the few common codes, for the operator.
    pub fn fabricator_name(&self) -> Option<&'static str> {
        match self.ic_fabricator {
            0x3060 => Some("Renesas"),
            0x4090 => Some("Infineon"),
            0x4180 => Some("Atmel"),
            0x4250 => Some("Samsung"),
            0x4790 => Some("NXP"),
            _ => None,
        }
    }
}

impl fmt::Display for Cplc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IC fabricator {:04X}", self.ic_fabricator)?;
        if let Some(name) = self.fabricator_name() {
            write!(f, " ({name})")?;
        }
        write!(
            f,
            ", IC type {:04X}, serial number {:08X}, batch {:04X}",
            self.ic_type, self.ic_serial_number, self.ic_batch_identifier
        )
    }
}

/// Reads big-endian fields in order from the fixed-size value.
struct Fields<'a> {
    bytes: &'a [u8; CPLC_LEN],
    pos: usize,
}

impl Fields<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        // The field layout adds up to exactly 42 bytes, so this never falls short.
        if let Some(slice) = self.bytes.get(self.pos..self.pos + N) {
            out.copy_from_slice(slice);
        }
        self.pos += N;
        out
    }

    fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.take())
    }

    fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.take())
    }
}

/// Reads the CPLC: SELECT the card manager (its failure is ignored: the
/// default application may answer GET DATA anyway), then GET DATA `9F7F` in
/// class `80`, again in class `00` when the card refuses the class (`6E00`).
///
/// `Ok(None)` when the card has no CPLC or answers something that is not
/// CPLC (logged at debug level). Errors only when talking to the card fails
/// (card removed, service stopped, ...). Note that the SELECT leaves the card
/// manager selected: re-select the application before using it.
pub fn read_cplc(channel: &mut dyn CardChannel) -> Result<Option<Cplc>, CardError> {
    match transmit_collect(channel, &SELECT_CARD_MANAGER) {
        Ok(response) if !response.is_ok() => {
            tracing::debug!(sw = %response.sw_hex(), "card manager SELECT refused; asking for CPLC anyway");
        }
        Ok(_) => {}
        Err(CardError::Protocol(reason)) => {
            tracing::debug!(%reason, "card manager SELECT answered oddly; asking for CPLC anyway");
        }
        Err(other) => return Err(other),
    }
    let mut response = match get_data(channel, &GET_CPLC)? {
        Some(response) => response,
        None => return Ok(None),
    };
    if response.sw == 0x6E00 {
        response = match get_data(channel, &GET_CPLC_ISO)? {
            Some(response) => response,
            None => return Ok(None),
        };
    }
    if !response.is_ok() {
        tracing::debug!(sw = %response.sw_hex(), "the card has no CPLC");
        return Ok(None);
    }
    match Cplc::parse(&response.data) {
        Ok(cplc) => Ok(Some(cplc)),
        Err(e) => {
            tracing::debug!(error = %e, data = %hex::encode(&response.data), "ignoring an answer that is not CPLC");
            Ok(None)
        }
    }
}

/// One GET DATA; a garbled answer is "no CPLC", a lost card is an error.
fn get_data(channel: &mut dyn CardChannel, command: &[u8]) -> Result<Option<Response>, CardError> {
    match transmit_collect(channel, command) {
        Ok(response) => Ok(Some(response)),
        Err(CardError::Protocol(reason)) => {
            tracing::debug!(%reason, "the card answered GET DATA CPLC oddly");
            Ok(None)
        }
        Err(other) => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::apdu::tests::Scripted;
    use crate::card::virtual_card::VirtualCard;
    use proptest::prelude::*;

    /// A JCOP-like CPLC: NXP, type 5075, serial 01020304, batch 0506.
    const VALUE: &str = "4790 5075 4791 2083 3100 5125 01020304 0506 \
                         4812 5126 4813 5127 4814 5128 00000001 4815 5129 00000002";

    fn value() -> [u8; CPLC_LEN] {
        hex::decode(VALUE.replace(' ', ""))
            .expect("hex")
            .try_into()
            .expect("42 bytes")
    }

    fn answer(sw: &str) -> String {
        format!("9F7F2A{}{sw}", VALUE.replace(' ', ""))
    }

    fn expected() -> Cplc {
        Cplc::from_bytes(&value())
    }

    #[test]
    fn fields_are_decoded_in_order() {
        let cplc = expected();
        assert_eq!(cplc.ic_fabricator, 0x4790);
        assert_eq!(cplc.ic_type, 0x5075);
        assert_eq!(cplc.os_id, 0x4791);
        assert_eq!(cplc.os_release_date, 0x2083);
        assert_eq!(cplc.os_release_level, 0x3100);
        assert_eq!(cplc.ic_fabrication_date, 0x5125);
        assert_eq!(cplc.ic_serial_number, 0x0102_0304);
        assert_eq!(cplc.ic_batch_identifier, 0x0506);
        assert_eq!(cplc.ic_pre_personalization_equipment, 1);
        assert_eq!(cplc.ic_personalization_date, 0x5129);
        assert_eq!(cplc.ic_personalization_equipment, 2);
        assert_eq!(
            cplc.to_string(),
            "IC fabricator 4790 (NXP), IC type 5075, serial number 01020304, batch 0506"
        );
    }

    #[test]
    fn answers_with_and_without_the_tag_parse_and_others_do_not() {
        let with_tag = hex::decode(answer("")).expect("hex");
        assert_eq!(Cplc::parse(&with_tag), Ok(expected()));
        assert_eq!(Cplc::parse(&value()), Ok(expected()));
        let longer = [&[0x9F, 0x7F, 0x2D][..], &value()[..], &[0, 0, 0][..]].concat();
        assert_eq!(Cplc::parse(&longer), Ok(expected()));
        assert_eq!(
            Cplc::parse(&[0x9F, 0x7F, 0x02, 0x47, 0x90]),
            Err(CplcError::WrongLength(2))
        );
        assert_eq!(Cplc::parse(&[0x53, 0x00]), Err(CplcError::NoTag));
        assert!(matches!(
            Cplc::parse(&[0x9F, 0x7F, 0x2A, 0x47]),
            Err(CplcError::Tlv(_))
        ));
    }

    #[test]
    fn class_80_is_tried_first() {
        let reply = answer("9000");
        let mut card = Scripted::new(&[("00A4040000", "6A82"), ("80CA9F7F00", &reply)]);
        assert_eq!(read_cplc(&mut card), Ok(Some(expected())));
        assert!(card.steps.is_empty());
    }

    #[test]
    fn class_00_is_tried_on_6e00_with_6cxx_and_61xx_handled() {
        let full = answer("");
        let (first, rest) = full.split_at(20);
        let mut card = Scripted::new(&[
            ("00A4040000", "9000"),
            ("80CA9F7F00", "6E00"),
            ("00CA9F7F00", "6C2D"),
            ("00CA9F7F2D", &format!("{first}6123")),
            ("00C0000023", &format!("{rest}9000")),
        ]);
        assert_eq!(read_cplc(&mut card), Ok(Some(expected())));
        assert!(card.steps.is_empty());
    }

    #[test]
    fn unsupported_and_garbled_answers_are_none() {
        let mut not_supported = Scripted::new(&[("00A4040000", "9000"), ("80CA9F7F00", "6A88")]);
        assert_eq!(read_cplc(&mut not_supported), Ok(None));

        let mut refuses_both = Scripted::new(&[
            ("00A4040000", "6D00"),
            ("80CA9F7F00", "6E00"),
            ("00CA9F7F00", "6D00"),
        ]);
        assert_eq!(read_cplc(&mut refuses_both), Ok(None));

        let mut garbled =
            Scripted::new(&[("00A4040000", "9000"), ("80CA9F7F00", "9F7F05AABB9000")]);
        assert_eq!(read_cplc(&mut garbled), Ok(None));

        let mut no_status = Scripted::new(&[("00A4040000", "90"), ("80CA9F7F00", "90")]);
        assert_eq!(read_cplc(&mut no_status), Ok(None));
    }

    #[test]
    fn a_lost_card_is_an_error() {
        struct Gone;
        impl CardChannel for Gone {
            fn transmit(&mut self, _command: &[u8]) -> Result<Vec<u8>, CardError> {
                Err(CardError::Removed("reader".to_owned()))
            }
        }
        assert_eq!(
            read_cplc(&mut Gone),
            Err(CardError::Removed("reader".to_owned()))
        );
    }

    #[test]
    fn virtual_cards_with_and_without_cplc() {
        let mut card = VirtualCard::gids([7; 16]).with_cplc(value());
        assert_eq!(read_cplc(&mut card), Ok(Some(expected())));
        let mut chunked = VirtualCard::piv([7; 16])
            .with_cplc(value())
            .with_response_chunk(16);
        assert_eq!(read_cplc(&mut chunked), Ok(Some(expected())));
        for mut plain in [VirtualCard::gids([7; 16]), VirtualCard::blank()] {
            assert_eq!(read_cplc(&mut plain), Ok(None));
        }
    }

    #[test]
    fn a_card_with_only_a_cplc_is_refused_and_its_chip_is_reported() {
        use crate::card::ReadOptions;
        use crate::card::family::FamilyTable;
        use crate::card::identity::read_identity_with;
        use crate::domain::card::Atr;
        let atr = Atr::from_bytes([0x3b, 0x00]);
        let families = FamilyTable::default();

        let mut card = VirtualCard::blank().with_cplc(value());
        match read_identity_with(&mut card, atr.clone(), &families, ReadOptions::INSERTION) {
            Err(CardError::NoCardId { reason, chip }) => {
                assert!(reason.contains("Unknown card application"), "{reason}");
                assert_eq!(chip, Some(expected().chip_info()), "shown, not bound");
            }
            other => panic!("expected no card ID, got {other:?}"),
        }
        // Asked only for the card ID (the re-read before a bind), no chip is read.
        let mut card = VirtualCard::blank().with_cplc(value());
        assert!(matches!(
            read_identity_with(&mut card, atr.clone(), &families, ReadOptions::default()),
            Err(CardError::NoCardId { chip: None, .. })
        ));
        // A card with an ID of its own reports its chip beside it.
        let mut card = VirtualCard::gids([7; 16]).with_cplc(value());
        let own =
            read_identity_with(&mut card, atr, &families, ReadOptions::INSERTION).expect("own ID");
        assert_eq!(own.card_id, crate::domain::card::CardId::from_raw([7; 16]));
        assert_eq!(own.chip, Some(expected().chip_info()));
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = Cplc::parse(&bytes).map(|c| c.to_string());
        }

        #[test]
        fn any_value_round_trips_through_the_tag(raw in any::<[u8; CPLC_LEN]>()) {
            let answer = [&[0x9F, 0x7F, 0x2A][..], &raw[..]].concat();
            let cplc = Cplc::parse(&answer).expect("well formed");
            prop_assert_eq!(cplc, Cplc::from_bytes(&raw));
            prop_assert_eq!(cplc.ic_serial_number.to_be_bytes(), [raw[12], raw[13], raw[14], raw[15]]);
            prop_assert_eq!(cplc.ic_batch_identifier.to_be_bytes(), [raw[16], raw[17]]);
        }
    }
}
