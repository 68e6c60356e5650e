//! The cards a request names: the one it replaces (`OldSmartcardUuid`, set
//! on a Renew, Duplicate, Retire, ...) and the one bound to it
//! (`NewSmartcardUuid`), each with what CM holds of that smart card object.
//!
//! Kept apart from [`super::request::Request`]: the list of up to 100,000
//! requests does not carry a field only the detail pane shows, and the pane
//! reads the request again, so what it shows is current.

use uuid::Uuid;

use super::bind::Failure;
use super::smartcard::Smartcard;

/// One smart card object a request names, and CM's answer about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestCard {
    /// The smart card object's GUID, as the request names it.
    pub smartcard: Uuid,
    /// The object (its status and card ID), or why CM could not say.
    pub looked_up: Result<Smartcard, Failure>,
}

/// The old and new card of one request; `None` where the request names none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestCards {
    /// The card the request replaces or acts on.
    pub old: Option<RequestCard>,
    /// The card bound to the request.
    pub new: Option<RequestCard>,
}

impl RequestCards {
    /// Whether the request names the smart card object `smartcard`, as the
    /// card it acts on or the one bound to it.
    pub fn names(&self, smartcard: Uuid) -> bool {
        [&self.old, &self.new]
            .into_iter()
            .flatten()
            .any(|card| card.smartcard == smartcard)
    }
}

impl RequestCard {
    /// The card in one line for the detail pane: its card ID and status
    /// when CM holds the object, else the object's GUID and why not.
    pub fn describe(&self) -> String {
        match &self.looked_up {
            Ok(card) => {
                let id = card
                    .card_id
                    .map_or_else(|| "no card ID".to_owned(), |id| format!("card ID {id}"));
                format!(
                    "{id}, {} (smart card object {})",
                    card.status, self.smartcard
                )
            }
            Err(why) => format!("smart card object {}: not read ({why})", self.smartcard),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::card::CardId;
    use crate::domain::request::SmartcardStatus;

    #[test]
    fn a_card_says_its_id_and_status_or_why_it_is_unknown() {
        let smartcard = Uuid::from_u128(5);
        let read = RequestCard {
            smartcard,
            looked_up: Ok(Smartcard {
                uuid: smartcard,
                status: SmartcardStatus::ACTIVE,
                card_id: Some(CardId::from_raw([1; 16])),
                atr: None,
                assigned_user: None,
                profile_template: None,
            }),
        };
        let text = read.describe();
        assert!(
            text.contains("card ID ") && text.contains("Active"),
            "{text}"
        );
        let unknown = RequestCard {
            smartcard,
            looked_up: Err(Failure {
                message: "Not found".into(),
                correlation_id: Some("c-1".into()),
            }),
        };
        let text = unknown.describe();
        assert!(
            text.contains(&smartcard.to_string()) && text.contains("c-1"),
            "{text}"
        );
    }
}
