//! Card identity: the 16-byte card ID, the ATR, and which path found the ID.

use std::fmt;

/// The card's 16-byte card ID (the minidriver's `CP_CARD_GUID`), as read from the card.
///
/// MIM CM turns these bytes into a .NET `System.Guid`, whose text form prints the
/// first three fields little-endian. [`CardId::to_cm_string`] is the one place that
/// does that conversion, so it can be changed in one place if a trace ever shows
/// the server expects otherwise.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CardId([u8; 16]);

impl CardId {
    /// Wraps the raw bytes exactly as the card returned them.
    pub fn from_raw(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The raw bytes in card order.
    pub fn raw(&self) -> &[u8; 16] {
        &self.0
    }

    /// True when every byte is zero: cards use that for "not set".
    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|b| *b == 0)
    }

    /// The `cardid` text CM expects: Windows GUID order, lower-case, hyphenated, no braces.
    pub fn to_cm_string(&self) -> String {
        uuid::Uuid::from_bytes_le(self.0).hyphenated().to_string()
    }

    /// Parses the text form produced by [`CardId::to_cm_string`] (any case, braces allowed).
    pub fn parse_cm_string(text: &str) -> Option<Self> {
        super::guid::parse(text).map(|u| Self(u.to_bytes_le()))
    }
}

impl fmt::Display for CardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_cm_string())
    }
}

impl fmt::Debug for CardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardId({})", self.to_cm_string())
    }
}

/// A card's answer-to-reset. It names a card model, never one card.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Atr(Vec<u8>);

impl Atr {
    /// Wraps the bytes the reader reported.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// The raw bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// True when the reader reported no ATR.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Lower-case hex without separators: the one format used on the wire and in output.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// Parses hex with optional spaces or colons between bytes, in any case.
    pub fn parse_hex(text: &str) -> Option<Self> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != ':')
            .collect();
        hex::decode(compact).ok().map(Self)
    }
}

impl fmt::Display for Atr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Atr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Atr({})", self.to_hex())
    }
}

/// Which application on the card gave the card ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CardKind {
    /// Generic Identity Device Specification (incl. Windows TPM virtual smart cards).
    Gids,
    /// NIST SP 800-73 PIV (YubiKey PIV, PIV/CAC, ...).
    Piv,
    /// Thales (Gemalto) IDPrime MD and the SafeNet eToken 5110 family: the
    /// minidriver's own `cardid` file, as the Thales minidriver reads it.
    IdPrime,
}

impl CardKind {
    /// The short lower-case name used in JSON output and the audit trail.
    pub fn as_str(&self) -> &'static str {
        match self {
            CardKind::Gids => "gids",
            CardKind::Piv => "piv",
            CardKind::IdPrime => "idprime",
        }
    }
}

impl fmt::Display for CardKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CardKind::Gids => "GIDS",
            CardKind::Piv => "PIV",
            CardKind::IdPrime => "Thales IDPrime",
        })
    }
}

/// The chip, as GlobalPlatform's CPLC describes it: information for the
/// operator, never a card ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChipInfo {
    /// IC fabricator code (e.g. 4790 NXP, 4090 Infineon).
    pub fabricator: u16,
    /// The fabricator's chip model.
    pub ic_type: u16,
    /// IC serial number.
    pub serial: u32,
    /// IC batch identifier.
    pub batch: u16,
}

impl fmt::Display for ChipInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fabricator {:04X}, type {:04X}, serial {:08X}, batch {:04X}",
            self.fabricator, self.ic_type, self.serial, self.batch
        )
    }
}

/// Where a GIDS card keeps its card ID, as its master file table says: lets
/// the re-read right before a bind skip reading the table again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CardIdLocation {
    /// The elementary file.
    pub ef: u16,
    /// The data object inside it.
    pub data_object: u16,
}

/// What the station learned about the card in a reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardIdentity {
    /// The card's answer-to-reset.
    pub atr: Atr,
    /// The card ID, when the card has a usable one.
    pub card_id: CardId,
    /// The application that gave the ID.
    pub kind: CardKind,
    /// The chip's CPLC, when the card answers it.
    pub chip: Option<ChipInfo>,
    /// Where a GIDS card keeps its card ID; None for PIV.
    pub location: Option<CardIdLocation>,
    /// A YubiKey's serial number, for the screen and the journal only: it
    /// is not what Windows identifies the key by, so it is never bound.
    pub yubikey_serial: Option<u32>,
}

/// A card identity for tests: ATR `3B <byte>`, card ID sixteen `<byte>`s.
#[cfg(test)]
pub(crate) fn example_identity(byte: u8, kind: CardKind) -> CardIdentity {
    CardIdentity {
        atr: Atr::from_bytes(vec![0x3b, byte]),
        card_id: CardId::from_raw([byte; 16]),
        kind,
        chip: None,
        location: None,
        yubikey_serial: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(hex_text: &str) -> [u8; 16] {
        let bytes = hex::decode(hex_text).expect("test vector is hex");
        bytes.try_into().expect("test vector is 16 bytes")
    }

    #[test]
    fn card_id_prints_in_windows_guid_order_for_the_spec_vectors() {
        let cases = [
            (
                "58c68a1d65e0a09285af090b070b5d79",
                "1d8ac658-e065-92a0-85af-090b070b5d79",
            ),
            (
                "461c7c766122b38b2edf05183c3d041a",
                "767c1c46-2261-8bb3-2edf-05183c3d041a",
            ),
        ];
        for (bytes, text) in cases {
            let id = CardId::from_raw(raw(bytes));
            assert_eq!(id.to_cm_string(), text);
            assert_eq!(CardId::parse_cm_string(text), Some(id));
            let braced_upper = format!("{{{}}}", text.to_uppercase());
            assert_eq!(CardId::parse_cm_string(&braced_upper), Some(id));
        }
    }

    #[test]
    fn zero_card_id_is_detected() {
        assert!(CardId::from_raw([0; 16]).is_zero());
        assert!(!CardId::from_raw(raw("58c68a1d65e0a09285af090b070b5d79")).is_zero());
    }

    #[test]
    fn atr_hex_round_trips_and_accepts_separators() {
        let atr = Atr::parse_hex("3B 8D 01:80 fb a0 00 00 03 97 42 54 46 59 03 01 C8")
            .expect("valid hex");
        assert_eq!(atr.to_hex(), "3b8d0180fba000000397425446590301c8");
        assert!(Atr::parse_hex("3b8").is_none());
        assert!(Atr::parse_hex("zz").is_none());
    }
}
