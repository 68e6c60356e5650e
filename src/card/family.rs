//! Which card family an ATR belongs to, as a Windows desk decides it.
//!
//! Windows first matches the ATR against the vendor minidrivers registered
//! on the desk (`Calais\SmartCards\*\ATR` with `ATRMask`); only a card no
//! vendor claims goes to the inbox minidriver, which tries PIV, then GIDS.
//! The station must reach the card ID the desk will report, so the same
//! order decides which reader path runs. The built-in rows come from
//! public ATR lists; a site adds or overrides rows for the cards it issues
//! (`[[cards.families]]` in the configuration).

use std::fmt;

use crate::domain::card::Atr;

/// The reader path a card family takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Family {
    /// Thales IDPrime MD / SafeNet eToken 5110: the `cardid` file, and
    /// never a PIV applet the card may also carry.
    IdPrime,
    /// The inbox minidriver in PIV mode: PIV first, then GIDS.
    Piv,
    /// The inbox minidriver in GIDS mode: GIDS first, then PIV.
    Gids,
    /// A family the station cannot read the Windows card ID of: why, in words.
    Unsupported(String),
}

impl Family {
    /// The configuration's name for it.
    pub fn name(&self) -> &'static str {
        match self {
            Family::IdPrime => "idprime",
            Family::Piv => "piv",
            Family::Gids => "gids",
            Family::Unsupported(_) => "unsupported",
        }
    }
}

/// One row: the ATR, the mask applied to both sides before comparing, and
/// the family it means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FamilyRow {
    /// The ATR as listed.
    pub atr: Vec<u8>,
    /// Which bits of the ATR count (same length as `atr`).
    pub mask: Vec<u8>,
    /// The family.
    pub family: Family,
    /// What the row is, for the readers panel.
    pub name: String,
    /// Where the row comes from: a public list, or the site's configuration.
    pub source: String,
}

impl FamilyRow {
    /// True when `atr` has the row's length and equals it under the mask.
    pub fn matches(&self, atr: &[u8]) -> bool {
        atr.len() == self.atr.len()
            && self
                .atr
                .iter()
                .zip(&self.mask)
                .zip(atr)
                .all(|((want, mask), got)| want & mask == got & mask)
    }
}

/// Why a site's row cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    /// The ATR or mask is not hex.
    #[error("\"{0}\" is not hex bytes (write them like 3b:7f:96:00 or 3b7f9600)")]
    NotHex(String),
    /// The mask's length differs from the ATR's.
    #[error("the mask has {mask} bytes but the ATR has {atr}; give one mask byte per ATR byte")]
    MaskLength {
        /// The ATR's length.
        atr: usize,
        /// The mask's length.
        mask: usize,
    },
    /// The ATR is empty or longer than ISO 7816-3 allows.
    #[error("an ATR has 2 to 33 bytes, not {0}")]
    AtrLength(usize),
}

/// Reads hex bytes written with or without `:`/spaces between them.
fn parse_hex(text: &str) -> Result<Vec<u8>, RowError> {
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-'))
        .collect();
    hex::decode(&digits).map_err(|_| RowError::NotHex(text.chars().take(80).collect()))
}

impl FamilyRow {
    /// A row from text as a site writes it; `mask` defaults to all bits.
    pub fn parse(
        atr: &str,
        mask: Option<&str>,
        family: Family,
        name: &str,
        source: &str,
    ) -> Result<Self, RowError> {
        let atr = parse_hex(atr)?;
        if !(2..=33).contains(&atr.len()) {
            return Err(RowError::AtrLength(atr.len()));
        }
        let mask = match mask {
            Some(mask) => parse_hex(mask)?,
            None => vec![0xFF; atr.len()],
        };
        if mask.len() != atr.len() {
            return Err(RowError::MaskLength {
                atr: atr.len(),
                mask: mask.len(),
            });
        }
        Ok(Self {
            atr,
            mask,
            family,
            name: name.to_owned(),
            source: source.to_owned(),
        })
    }
}

/// Where the built-in IDPrime rows come from.
const OPENSC_IDPRIME: &str =
    "OpenSC src/libopensc/card-idprime.c idprime_atrs (commit 14c80b0a, 2026-08-05)";

/// The built-in rows, in OpenSC's order (its first match wins, and some of
/// its masks overlap: the 840 row must come before the 940 row).
const BUILT_IN: &[(&str, &str, &str)] = &[
    (
        "3b:7f:96:00:00:80:31:80:65:b0:84:41:3d:f6:12:0f:fe:82:90:00",
        "ff:ff:00:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:00:00:ff:ff:ff",
        "Thales IDPrime 3810",
    ),
    (
        "3b:7f:96:00:00:80:31:80:65:b0:84:56:51:10:12:0f:fe:82:90:00",
        "ff:ff:00:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:00:00:ff:ff:ff",
        "Thales IDPrime 830",
    ),
    (
        "3b:7f:96:00:00:80:31:80:65:b0:84:61:60:fb:12:0f:fe:82:90:00",
        "ff:ff:00:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:00:00:ff:ff:ff",
        "Thales IDPrime 930/3930",
    ),
    (
        "3b:ff:96:00:00:81:31:fe:43:80:31:80:65:b0:84:65:66:fb:12:01:78:82:90:00:85",
        "ff:ff:00:ff:ff:ff:ff:00:ff:ff:ff:ff:ff:ff:ff:00:00:00:ff:ff:ff:ff:ff:ff:00",
        "Thales IDPrime 930 (SafeNet eToken 5110+ FIPS)",
    ),
    (
        "3b:7f:96:00:00:80:31:80:65:b0:85:03:00:ef:12:0f:fe:82:90:00",
        "ff:ff:00:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:00:00:ff:ff:ff",
        "Thales IDPrime 840",
    ),
    (
        "3b:7f:96:00:00:80:31:80:65:b0:85:59:56:fb:12:0f:fe:82:90:00",
        "ff:ff:00:ff:ff:ff:ff:ff:ff:ff:ff:00:00:00:ff:00:00:ff:ff:ff",
        "Thales IDPrime 940",
    ),
    (
        "3b:7f:96:00:00:80:31:80:65:b0:85:05:00:39:12:0f:fe:82:90:00",
        "ff:ff:00:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:00:00:ff:ff:ff",
        "Thales IDPrime 940C",
    ),
    (
        "3b:ff:96:00:00:81:31:fe:43:80:31:80:65:b0:85:59:56:fb:12:0f:fe:82:90:00:00",
        "ff:ff:00:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:00:00:00:00:ff:f0:00:ff:ff:ff:00",
        "Thales IDPrime MD 940 (SafeNet eToken 5110)",
    ),
    (
        "3b:7f:96:00:00:80:31:80:65:b0:84:41:3d:f6:12:0f:fe:82:90:00",
        "ff:ff:00:ff:ff:ff:ff:ff:ff:ff:00:00:00:00:ff:00:00:ff:ff:ff",
        "Thales IDPrime MD 8840, 3840, 3810, 840, 830 and 940",
    ),
    (
        "3b:ff:96:00:00:81:31:80:43:80:31:80:65:b0:85:03:00:ef:12:0f:fe:82:90:00:66",
        "ff:ff:00:ff:ff:ff:ff:00:ff:ff:ff:ff:ff:ff:00:00:00:00:ff:ff:ff:ff:ff:ff:00",
        "Thales IDPrime MD 8840, 3840, 3810, 840 and 830 (eToken)",
    ),
];

/// IDPrime .NET answers this ATR (OpenSC's "Gemalto IDPrime.NET" entry in
/// card-idprimenet.c of the rhowe/OpenSC fork, and pcsc-tools' list).
const IDPRIME_NET_ATR: &str = "3b:16:96:41:73:74:72:69:64";

/// Every row the station knows: the site's first (they override), then the
/// built-in ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FamilyTable {
    rows: Vec<FamilyRow>,
}

impl Default for FamilyTable {
    fn default() -> Self {
        Self::with_site_rows(Vec::new())
    }
}

impl FamilyTable {
    /// The built-in rows behind the site's own.
    pub fn with_site_rows(mut rows: Vec<FamilyRow>) -> Self {
        for (atr, mask, name) in BUILT_IN {
            match FamilyRow::parse(atr, Some(mask), Family::IdPrime, name, OPENSC_IDPRIME) {
                Ok(row) => rows.push(row),
                // A typo in the table above; the unit tests catch it first.
                Err(error) => tracing::error!(%error, name, "a built-in ATR row is invalid"),
            }
        }
        match FamilyRow::parse(
            IDPRIME_NET_ATR,
            None,
            Family::Unsupported(super::idprime::IDPRIME_NET_REFUSAL.to_owned()),
            "Thales IDPrime .NET",
            "OpenSC card-idprimenet.c (rhowe/OpenSC fork)",
        ) {
            Ok(row) => rows.push(row),
            Err(error) => tracing::error!(%error, "the IDPrime .NET row is invalid"),
        }
        Self { rows }
    }

    /// The first row the ATR matches: the site's before the built-in ones.
    pub fn row_for(&self, atr: &Atr) -> Option<&FamilyRow> {
        self.rows.iter().find(|row| row.matches(atr.bytes()))
    }

    /// The family of `atr`, when a row names one; `None`: the inbox minidriver's
    /// order (PIV, then GIDS).
    pub fn family_of(&self, atr: &Atr) -> Option<&Family> {
        self.row_for(atr).map(|row| &row.family)
    }

    /// Every row, the site's first.
    pub fn rows(&self) -> &[FamilyRow] {
        &self.rows
    }
}

impl fmt::Display for FamilyRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}; {})", self.name, self.family.name(), self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atr(hex_text: &str) -> Atr {
        Atr::from_bytes(parse_hex(hex_text).expect("test ATR"))
    }

    #[test]
    fn every_built_in_row_parses() {
        let table = FamilyTable::default();
        assert_eq!(table.rows().len(), BUILT_IN.len() + 1);
    }

    #[test]
    fn idprime_atrs_from_openscs_comments_are_idprime() {
        // The ATRs OpenSC's comments record as seen on real cards.
        for seen in [
            "3b:7f:96:00:00:80:31:80:65:b0:84:41:3d:f6:12:0f:fe:82:90:00",
            "3b:7f:96:00:00:80:31:80:65:b0:84:56:51:10:12:0f:fe:82:90:00",
            "3b:7f:96:00:00:80:31:80:65:b0:84:61:60:fb:12:0f:fd:82:90:00",
            "3b:ff:96:00:00:81:31:fe:43:80:31:80:65:b0:84:65:66:fb:12:01:78:82:90:00:85",
            "3b:7f:96:00:00:80:31:80:65:b0:85:03:00:ef:12:0f:fe:82:90:00",
            "3b:7f:96:00:00:80:31:80:65:b0:85:59:56:fb:12:0f:fe:82:90:00",
            "3b:7f:96:00:00:80:31:80:65:b0:85:05:00:39:12:0f:fe:82:90:00",
            "3b:ff:96:00:00:81:31:fe:43:80:31:80:65:b0:85:59:56:fb:12:0f:fe:82:90:00:00",
            "3b:ff:96:00:00:81:31:fe:43:80:31:80:65:b0:85:59:56:fb:12:01:78:82:90:00:88",
            "3b:ff:96:00:00:81:31:80:43:80:31:80:65:b0:85:03:00:ef:12:0f:fe:82:90:00:66",
        ] {
            assert_eq!(
                FamilyTable::default().family_of(&atr(seen)),
                Some(&Family::IdPrime),
                "{seen}"
            );
        }
    }

    #[test]
    fn the_840_is_matched_before_the_overlapping_940_row() {
        let table = FamilyTable::default();
        let row = table
            .row_for(&atr(
                "3b:7f:96:00:00:80:31:80:65:b0:85:03:00:ef:12:0f:fe:82:90:00",
            ))
            .expect("listed");
        assert_eq!(row.name, "Thales IDPrime 840");
    }

    #[test]
    fn gids_piv_and_unknown_cards_have_no_vendor_family() {
        let table = FamilyTable::default();
        for other in [
            "3b8d0180fba000000397425446590301c8",
            "3bf81300008131fe15597562696b657934d4",
            "3bf81300008131fe454a434f5076323431b7",
        ] {
            assert_eq!(table.family_of(&atr(other)), None, "{other}");
        }
    }

    #[test]
    fn idprime_net_is_unsupported_with_a_reason() {
        let table = FamilyTable::default();
        let family = table.family_of(&atr(IDPRIME_NET_ATR));
        assert!(
            matches!(family, Some(Family::Unsupported(why)) if why.contains(".NET")),
            "{family:?}"
        );
    }

    #[test]
    fn a_site_row_overrides_a_built_in_one_and_masks_apply() {
        let idprime_940 = "3b7f96000080318065b0855956fb120ffe829000";
        let row = FamilyRow::parse(
            idprime_940,
            None,
            Family::Unsupported("not issued here".into()),
            "our 940s",
            "site",
        )
        .expect("valid row");
        let table = FamilyTable::with_site_rows(vec![row]);
        assert_eq!(
            table.family_of(&atr(idprime_940)),
            Some(&Family::Unsupported("not issued here".into()))
        );
        let masked = FamilyRow::parse("3b:8d:01", Some("ff:ff:00"), Family::Gids, "x", "site")
            .expect("valid row");
        assert!(masked.matches(&[0x3b, 0x8d, 0x77]));
        assert!(!masked.matches(&[0x3b, 0x8e, 0x01]));
        assert!(!masked.matches(&[0x3b, 0x8d]), "lengths must agree");
    }

    #[test]
    fn bad_site_rows_are_refused_in_words() {
        assert!(matches!(
            FamilyRow::parse("zz", None, Family::Gids, "x", "site"),
            Err(RowError::NotHex(_))
        ));
        assert_eq!(
            FamilyRow::parse("3b:00:11", Some("ff"), Family::Gids, "x", "site"),
            Err(RowError::MaskLength { atr: 3, mask: 1 })
        );
        assert_eq!(
            FamilyRow::parse("3b", None, Family::Gids, "x", "site"),
            Err(RowError::AtrLength(1))
        );
    }
}
