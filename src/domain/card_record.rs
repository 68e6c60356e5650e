//! What CM knows of a physical card, learnt as soon as the card is
//! identified: the agent sees whose card it is, and why a bind would be
//! refused, before pressing Bind (review `cm-api.md` C1).

use std::fmt;

use super::card::CardId;
use super::request::{Request, RequestType};
use super::reuse::{CardRefusal, TemplateReuse, may_bind, needs_template};
use super::smartcard::Smartcard;

/// The longest operation name kept from the server; CM's are under 20
/// letters, so anything longer is not a name.
const OPERATION_NAME_MAX: usize = 32;

/// Something the signed-in account may start on a card
/// (`GET smartcards/{id}/operations`, which answers lower-case names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CardOperation {
    /// A request type the station knows, in any of its spellings.
    Known(RequestType),
    /// A name no source lists: kept as letters and digits only.
    Other(String),
}

impl CardOperation {
    /// Reads one name from the server. A name that is not plain letters and
    /// digits (control characters, look-alike letters, a megabyte) is
    /// dropped rather than shown: the server's text is not trusted.
    pub fn from_wire(name: &str) -> Option<CardOperation> {
        if let Some(known) = RequestType::from_name(name) {
            return Some(CardOperation::Known(known));
        }
        let name = name.trim();
        let plain = !name.is_empty()
            && name.len() <= OPERATION_NAME_MAX
            && name.chars().all(|c| c.is_ascii_alphanumeric());
        plain.then(|| CardOperation::Other(name.to_owned()))
    }
}

impl fmt::Display for CardOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CardOperation::Known(kind) => fmt::Display::fmt(kind, f),
            CardOperation::Other(name) => f.write_str(name),
        }
    }
}

/// What CM holds for a card ID that it knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardRecord {
    /// Every smart card object CM holds for the card ID (one per assignment), never empty.
    pub objects: Vec<Smartcard>,
    /// What the signed-in account may start on the current object, or why
    /// that could not be read.
    pub operations: Result<Vec<CardOperation>, String>,
    /// How many certificates the current object holds, or why that could not be read.
    pub certificates: Result<usize, String>,
}

impl CardRecord {
    /// The object that speaks for the card: the one in use when there is
    /// one (at most one should be), else the first the server named.
    pub fn current(&self) -> Option<&Smartcard> {
        current_object(&self.objects)
    }
}

/// The object in use among `objects`, else the first one.
pub fn current_object(objects: &[Smartcard]) -> Option<&Smartcard> {
    objects
        .iter()
        .find(|o| o.status.is_in_use())
        .or_else(|| objects.first())
}

/// What the station has learnt from CM about the card in a reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CmStanding {
    /// The question is on its way.
    Asking,
    /// CM has no smart card object for the card ID.
    New,
    /// CM knows the card.
    Known(CardRecord),
    /// CM could not be asked, in words (with the correlation ID when there is one).
    Unknown(String),
}

impl CmStanding {
    /// The card's objects, when CM was asked and answered.
    pub fn objects(&self) -> Option<&[Smartcard]> {
        match self {
            CmStanding::New => Some(&[]),
            CmStanding::Known(record) => Some(&record.objects),
            CmStanding::Asking | CmStanding::Unknown(_) => None,
        }
    }
}

impl CardRecord {
    /// The record in a few lines, for the readers panel and `card show`:
    /// the current object's status, user and template, the certificate
    /// count and what may be started on it.
    pub fn lines(&self) -> Vec<String> {
        let Some(current) = self.current() else {
            return vec!["Known to CM, with no smart card object the station could read.".into()];
        };
        let user = current
            .assigned_user
            .map_or_else(|| "no user".to_owned(), |u| format!("user {u}"));
        let mut lines = vec![format!(
            "Known to CM: {}, assigned to {user}",
            current.status
        )];
        if let Some(template) = current.profile_template {
            lines.push(format!("Profile template {template}"));
        }
        lines.push(format!("Smart card object {}", current.uuid));
        let earlier = self.objects.len() - 1;
        if earlier > 0 {
            lines.push(format!(
                "{earlier} other smart card object(s) for this card (earlier assignments)"
            ));
        }
        lines.push(match &self.certificates {
            Ok(1) => "1 certificate".to_owned(),
            Ok(n) => format!("{n} certificates"),
            Err(why) => format!("Certificates not readable: {why}"),
        });
        lines.push(match &self.operations {
            Ok(none) if none.is_empty() => "You may start no operation on it".to_owned(),
            Ok(ops) => format!(
                "You may start: {}",
                ops.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Err(why) => format!("Operations not readable: {why}"),
        });
        lines
    }
}

/// Why binding `request` to this card would be refused, from what CM said
/// of the card before the click; `None` when nothing known refuses it (the
/// bind still asks the server again, for the card may have changed since).
///
/// `reuse` is what the station learnt of the request's template's
/// `AllowSmartcardReuse`; `None` while it has not been read, and then only
/// an object in use refuses.
pub fn early_refusal(
    card_id: &CardId,
    standing: &CmStanding,
    request: &Request,
    reuse: Option<&TemplateReuse>,
) -> Option<CardRefusal> {
    let objects = standing.objects()?;
    let reuse = match reuse {
        Some(reuse) => reuse.clone(),
        None if needs_template(objects) => return None,
        None => TemplateReuse::NotAsked,
    };
    let reuse = match (&reuse, request.profile_template) {
        (TemplateReuse::Read { template, .. }, Some(wanted)) if *template != wanted => {
            return None;
        }
        _ => reuse,
    };
    may_bind(card_id, objects, &reuse).err()
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::domain::request::{RequestStatus, SmartcardStatus, example_request};

    fn object(n: u128, status: SmartcardStatus) -> Smartcard {
        Smartcard {
            uuid: Uuid::from_u128(n),
            status,
            card_id: Some(CardId::from_raw([3; 16])),
            atr: None,
            assigned_user: Some(Uuid::from_u128(50)),
            profile_template: Some(Uuid::from_u128(60)),
        }
    }

    fn known(objects: Vec<Smartcard>) -> CmStanding {
        CmStanding::Known(CardRecord {
            objects,
            operations: Ok(Vec::new()),
            certificates: Ok(0),
        })
    }

    fn request_with_template(template: u128) -> Request {
        Request {
            profile_template: Some(Uuid::from_u128(template)),
            ..example_request(1, RequestStatus::APPROVED)
        }
    }

    #[test]
    fn operation_names_are_read_in_any_spelling_and_hostile_ones_dropped() {
        assert_eq!(
            CardOperation::from_wire("renew"),
            Some(CardOperation::Known(RequestType::RENEW))
        );
        assert_eq!(
            CardOperation::from_wire("OnlineUpdate"),
            Some(CardOperation::Known(RequestType::ONLINE_UPDATE))
        );
        assert_eq!(
            CardOperation::from_wire("selfdestruct"),
            Some(CardOperation::Other("selfdestruct".into()))
        );
        for hostile in [
            "",
            "re\u{202e}new",
            "unbl\u{043e}ck",
            "retire\nnow",
            &"x".repeat(33),
        ] {
            assert_eq!(CardOperation::from_wire(hostile), None, "{hostile:?}");
        }
        assert_eq!(
            CardOperation::Known(RequestType::UNBLOCK).to_string(),
            "Unblock"
        );
    }

    #[test]
    fn a_record_reads_as_status_user_template_certificates_and_operations() {
        let record = CardRecord {
            objects: vec![
                object(1, SmartcardStatus::RETIRED),
                object(2, SmartcardStatus::ACTIVE),
            ],
            operations: Ok(vec![
                CardOperation::Known(RequestType::RENEW),
                CardOperation::Known(RequestType::UNBLOCK),
            ]),
            certificates: Ok(2),
        };
        let lines = record.lines();
        assert_eq!(
            lines,
            vec![
                format!(
                    "Known to CM: Active, assigned to user {}",
                    Uuid::from_u128(50)
                ),
                format!("Profile template {}", Uuid::from_u128(60)),
                format!("Smart card object {}", Uuid::from_u128(2)),
                "1 other smart card object(s) for this card (earlier assignments)".to_owned(),
                "2 certificates".to_owned(),
                "You may start: Renew, Unblock".to_owned(),
            ]
        );
        let unreadable = CardRecord {
            objects: vec![object(1, SmartcardStatus::RETIRED)],
            operations: Err("HTTP 403".into()),
            certificates: Ok(0),
        };
        let lines = unreadable.lines();
        assert!(lines.contains(&"0 certificates".to_owned()), "{lines:?}");
        assert!(
            lines.contains(&"Operations not readable: HTTP 403".to_owned()),
            "{lines:?}"
        );
    }

    #[test]
    fn the_current_object_is_the_one_in_use() {
        let record = CardRecord {
            objects: vec![
                object(1, SmartcardStatus::RETIRED),
                object(2, SmartcardStatus::ACTIVE),
            ],
            operations: Ok(Vec::new()),
            certificates: Ok(0),
        };
        assert_eq!(record.current().map(|o| o.uuid), Some(Uuid::from_u128(2)));
        let retired = [
            object(1, SmartcardStatus::RETIRED),
            object(2, SmartcardStatus::DISABLED),
        ];
        assert_eq!(
            current_object(&retired).map(|o| o.uuid),
            Some(Uuid::from_u128(1))
        );
    }

    #[test]
    fn a_card_in_use_is_refused_before_the_click_whatever_the_template() {
        let card = CardId::from_raw([3; 16]);
        let standing = known(vec![object(1, SmartcardStatus::ACTIVE)]);
        let why = early_refusal(&card, &standing, &request_with_template(60), None)
            .expect("refused")
            .to_string();
        assert!(why.contains("A card in use cannot be bound"), "{why}");
        assert!(why.contains(&Uuid::from_u128(1).to_string()), "{why}");
    }

    #[test]
    fn a_discontinued_card_waits_for_the_requests_template() {
        let card = CardId::from_raw([3; 16]);
        let standing = known(vec![object(1, SmartcardStatus::RETIRED)]);
        let request = request_with_template(70);
        assert_eq!(early_refusal(&card, &standing, &request, None), None);
        let allowed = TemplateReuse::Read {
            template: Uuid::from_u128(70),
            allowed: true,
        };
        assert_eq!(
            early_refusal(&card, &standing, &request, Some(&allowed)),
            None
        );
        let refused = TemplateReuse::Read {
            template: Uuid::from_u128(70),
            allowed: false,
        };
        let why = early_refusal(&card, &standing, &request, Some(&refused))
            .expect("refused")
            .to_string();
        assert!(why.contains("does not allow smart card reuse"), "{why}");
        // Another template's answer says nothing about this request.
        let other = TemplateReuse::Read {
            template: Uuid::from_u128(71),
            allowed: false,
        };
        assert_eq!(
            early_refusal(&card, &standing, &request, Some(&other)),
            None
        );
        let unreadable = TemplateReuse::Denied("403".into());
        assert!(early_refusal(&card, &standing, &request, Some(&unreadable)).is_some());
    }

    #[test]
    fn a_new_card_or_an_unanswered_question_refuses_nothing() {
        let card = CardId::from_raw([3; 16]);
        let request = request_with_template(60);
        for standing in [
            CmStanding::New,
            CmStanding::Asking,
            CmStanding::Unknown("timeout".into()),
        ] {
            assert_eq!(early_refusal(&card, &standing, &request, None), None);
        }
    }
}
