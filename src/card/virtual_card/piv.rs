//! The PIV applet: a CHUID behind GET DATA, shaped like a YubiKey's, alone
//! or beside another family's applet as some cards carry it.

use super::{Applet, VirtualCard, encode_tlv};
use crate::card::identity::PIV_AID;

/// A YubiKey 4/5 ATR (historical bytes "Yubikey4").
const PIV_ATR: &str = "3bf81300008131fe15597562696b657934d4";

/// The FASC-N of the sspi-rs test CHUID, as a realistic tag `30`.
const FASCN: [u8; 25] = [
    0xD4, 0xE7, 0x39, 0xDA, 0x73, 0x9C, 0xED, 0x39, 0xCE, 0x73, 0x9D, 0x83, 0x68, 0x58, 0x21, 0x08,
    0x42, 0x10, 0x84, 0x21, 0xC8, 0x42, 0x10, 0xC3, 0xEB,
];

impl VirtualCard {
    /// A PIV card with a realistic CHUID: FASC-N, GUID, expiry, empty signature and EDC.
    pub fn piv(card_id_raw: [u8; 16]) -> Self {
        Self::piv_with_chuid(realistic_chuid(card_id_raw))
    }

    /// A PIV card whose CHUID (the contents of tag `53`) is exactly `chuid_value`.
    pub fn piv_with_chuid(chuid_value: Vec<u8>) -> Self {
        Self::new(vec![Applet::Piv { chuid: chuid_value }], PIV_ATR)
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
}

/// A PIV object by its tag list value (`5F C1 02` is the CHUID).
pub(super) fn piv_object(ef: u16, tag: &[u8], chuid: &[u8]) -> Result<Vec<u8>, u16> {
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

/// PIV's full AID with version bytes (SP 800-73: `... 10 00 01 00`).
pub(super) fn piv_full_aid() -> Vec<u8> {
    [&PIV_AID[..], &[0x01, 0x00]].concat()
}

/// The PIV application property template a YubiKey returns to SELECT.
pub(super) fn piv_fci() -> Vec<u8> {
    let mut inner = encode_tlv(&[0x4F], &[0x00, 0x00, 0x10, 0x00, 0x01, 0x00]);
    inner.extend(encode_tlv(&[0x79], &encode_tlv(&[0x4F], &PIV_AID[..5])));
    encode_tlv(&[0x61], &inner)
}

/// A realistic CHUID: FASC-N, GUID, expiry, empty signature and EDC.
pub(super) fn realistic_chuid(guid: [u8; 16]) -> Vec<u8> {
    let mut chuid = encode_tlv(&[0x30], &FASCN);
    chuid.extend(encode_tlv(&[0x34], &guid));
    chuid.extend(encode_tlv(&[0x35], b"20300101"));
    chuid.extend(encode_tlv(&[0x3E], &[]));
    chuid.extend(encode_tlv(&[0xFE], &[]));
    chuid
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::apdu::transmit_collect;
    use crate::card::identity::chuid_card_id;
    use crate::card::tlv;
    use crate::card::virtual_card::tests::{ID, apdu, idprime_select};
    use crate::domain::card::{CardId, CardKind};

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
}
