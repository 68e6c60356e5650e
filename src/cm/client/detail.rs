//! What the desk's request detail pane reads beyond the list: the cards a
//! request names (`OldSmartcardUuid`, `NewSmartcardUuid`), each looked up.

use super::*;
use crate::cm::model::parse_optional_guid;
use crate::domain::request_cards::{RequestCard, RequestCards};

impl CmClient {
    /// `GET requests/{id}` for the smart card objects the request names,
    /// then `GET smartcards/{uuid}` for each. A card CM cannot describe is
    /// kept with its reason (the request still names it); only the request's
    /// own read failing fails the whole.
    pub async fn request_cards(&self, request: Uuid) -> Result<RequestCards, CmError> {
        let path = format!("requests/{}", guid_to_wire(request));
        let call = Call::GetRequest { request };
        let answer = self.call(&call, Method::GET, &path, &[], None).await?;
        let wire: WireRequest = answer.object()?.ok_or_else(|| not_found(&call))?;
        // The all-zero GUID is CM's "none", as for the bound card.
        let named = |raw: &Option<String>| raw.as_deref().and_then(parse_optional_guid);
        let (old, new) = (
            named(&wire.old_smartcard_uuid),
            named(&wire.new_smartcard_uuid),
        );
        Ok(RequestCards {
            old: self.request_card(old).await,
            new: self.request_card(new).await,
        })
    }

    async fn request_card(&self, smartcard: Option<Uuid>) -> Option<RequestCard> {
        let smartcard = smartcard?;
        let looked_up = self
            .smartcard(smartcard)
            .await
            .map_err(|error| error.to_failure());
        Some(RequestCard {
            smartcard,
            looked_up,
        })
    }
}
