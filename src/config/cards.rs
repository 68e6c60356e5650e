//! `[cards]`: the site's own ATR rows (`[[cards.families]]`), checked
//! before the built-in ones, and the removed `card_id_fallback`, still read
//! so an old file loads. Its own file because it is the one table that
//! turns into the card reader's [`FamilyTable`] rather than into settings.

use serde::{Deserialize, Serialize};

use super::KeyProblem;
use crate::card::family::{Family, FamilyRow, FamilyTable};

/// `[cards]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CardSettings {
    /// `[[cards.families]]`: the site's ATR rows, checked before the
    /// built-in ones (see [`crate::card::family`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub families: Vec<FamilyEntry>,
    /// The removed `card_id_fallback`: read so an old file still loads, and
    /// reported by [`StationConfig::warnings`]; never written back.
    #[serde(skip_serializing)]
    pub card_id_fallback: Option<toml::Value>,
}

impl Eq for CardSettings {}

/// What [`StationConfig::warnings`] says about the removed `card_id_fallback`.
pub const CARD_ID_FALLBACK_REMOVED: &str = "cards.card_id_fallback has been removed and is \
     ignored: a card ID derived from the chip's CPLC is never the one Windows reports, so every \
     request bound with it could never be executed. Delete the line from the configuration file \
     (saving Settings does it). Cards without a card ID are refused; issue GIDS, PIV or Thales \
     IDPrime cards, and see \"Card families\" in the README.";

/// One `[[cards.families]]` row as the site writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilyEntry {
    /// The ATR, hex bytes (`3b:7f:96:...` or `3b7f96...`).
    pub atr: String,
    /// Which bits count, same length; default: all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask: Option<String>,
    /// `idprime`, `piv`, `gids` or `unsupported`.
    pub family: FamilyName,
    /// What the cards are, for the readers panel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// For `unsupported`: what the operator is told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The families a row can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FamilyName {
    /// Thales IDPrime MD / SafeNet eToken 5110.
    Idprime,
    /// The inbox minidriver, PIV first.
    Piv,
    /// The inbox minidriver, GIDS first.
    Gids,
    /// Refused, with `reason`.
    Unsupported,
}

impl CardSettings {
    /// The rows as the card reader uses them, after the built-in ones' place
    /// is taken by the site's. `Err` names the row and what is wrong, under
    /// the key `cards.families`.
    pub fn family_table(&self) -> Result<FamilyTable, KeyProblem> {
        let mut rows = Vec::with_capacity(self.families.len());
        for (at, entry) in self.families.iter().enumerate() {
            let family = match entry.family {
                FamilyName::Idprime => Family::IdPrime,
                FamilyName::Piv => Family::Piv,
                FamilyName::Gids => Family::Gids,
                FamilyName::Unsupported => {
                    Family::Unsupported(entry.reason.clone().unwrap_or_else(|| {
                        "This site does not issue cards of this kind, so the station does not bind \
                     them. Ask your CM administrator which cards to use."
                            .to_owned()
                    }))
                }
            };
            let name = entry.name.as_deref().unwrap_or("site card family");
            let row = FamilyRow::parse(
                &entry.atr,
                entry.mask.as_deref(),
                family,
                name,
                "site configuration",
            )
            .map_err(|error| {
                KeyProblem::new(
                    "cards.families",
                    format!("cards.families row {} ({}): {error}", at + 1, entry.atr),
                )
            })?;
            rows.push(row);
        }
        Ok(FamilyTable::with_site_rows(rows))
    }
}
