//! Whether a card CM already knows may be bound again, as CM decides it.
//!
//! CM creates a new smart card object each time a physical card is assigned.
//! A card with an object still in use (New, Assigned, Active, Suspended) is
//! never issued again; a card whose objects are all discontinued (Retired,
//! Disabled) is, when the profile template's smart card configuration has
//! `AllowSmartcardReuse` (`cm-rest-api.md`, "What a real server refuses").

use uuid::Uuid;

use super::card::CardId;
use super::request::SmartcardStatus;
use super::smartcard::Smartcard;

/// Why reuse cannot be read when a request names no profile template.
pub const NO_TEMPLATE: &str = "the request names no profile template";

/// What the station learnt of the template's `AllowSmartcardReuse`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateReuse {
    /// Not asked: the card is unknown to CM, or one of its objects is in use.
    NotAsked,
    /// The template's answer.
    Read {
        /// The profile template.
        template: Uuid,
        /// Its `AllowSmartcardReuse`.
        allowed: bool,
    },
    /// It cannot be read, and asking again will not change that: the server
    /// refused this account (`"403"`, `"404"`), or `"the request names no
    /// profile template"`.
    Denied(String),
    /// It could not be read this time (a network error, an odd answer), in words.
    Unreadable(String),
}

/// How CM counts an object's status when a card is to be issued again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    /// New, Assigned, Active, Suspended: the card belongs to someone.
    InUse,
    /// Retired, Disabled: the object is over; the card may be reused.
    Discontinued,
    /// A status no source documents (or None): treated as in use.
    Unclear,
}

impl SmartcardStatus {
    /// How CM counts this status when the card is to be issued again.
    pub fn usage(self) -> Usage {
        match self {
            SmartcardStatus::RETIRED | SmartcardStatus::DISABLED => Usage::Discontinued,
            SmartcardStatus::NEW
            | SmartcardStatus::ASSIGNED
            | SmartcardStatus::ACTIVE
            | SmartcardStatus::SUSPENDED => Usage::InUse,
            _ => Usage::Unclear,
        }
    }

    /// True unless the object is discontinued (Retired, Disabled): an
    /// unknown status counts as in use.
    pub fn is_in_use(self) -> bool {
        self.usage() != Usage::Discontinued
    }
}

/// True when the template must be asked: the card is known and none of its
/// objects is in use (otherwise the answer would change nothing).
pub fn needs_template(known: &[Smartcard]) -> bool {
    !known.is_empty() && known.iter().all(|c| !c.status.is_in_use())
}

/// Why a card CM already knows may not be bound, in the operator's words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CardRefusal {
    /// One of the card's objects is in use (an unknown status counts as in use).
    #[error(
        "CM already knows card {card_id}: {}{}. A card in use cannot be bound to another \
         request: retire or disable that smart card object in CM first, or use another card.",
        describe(object),
        unclear_status(object)
    )]
    InUse {
        /// The card.
        card_id: CardId,
        /// The object in use.
        object: Smartcard,
    },
    /// Every object is discontinued, and the template does not allow reuse.
    #[error(
        "CM already knows card {card_id} ({}), and profile template {template} does not allow \
         smart card reuse (AllowSmartcardReuse is off): use another card, or ask the CM \
         administrator to allow reuse on that template.",
        describe_all(objects)
    )]
    ReuseOff {
        /// The card.
        card_id: CardId,
        /// Its objects, all discontinued.
        objects: Vec<Smartcard>,
        /// The request's profile template.
        template: Uuid,
    },
    /// Whether the template allows reuse could not be read.
    #[error(
        "CM already knows card {card_id} ({}), and the station could not read whether the \
         template allows reuse ({why}): a card CM knows is refused. Use another card, or ask \
         the CM administrator to let this account read the template's smart card \
         configuration.",
        describe_all(objects)
    )]
    ReuseUnreadable {
        /// The card.
        card_id: CardId,
        /// Its objects, all discontinued.
        objects: Vec<Smartcard>,
        /// Why, in a few words.
        why: String,
    },
    /// Whether the template allows reuse was not asked.
    #[error(
        "CM already knows card {card_id} ({}), and whether the template allows reuse was not \
         read: a card CM knows is refused.",
        describe_all(objects)
    )]
    ReuseNotAsked {
        /// The card.
        card_id: CardId,
        /// Its objects, all discontinued.
        objects: Vec<Smartcard>,
    },
}

/// The rule: `Ok` when the card may be bound, else why not.
///
/// A card is refused while one of its objects is in use (an unknown status
/// counts as in use), or when it is known and the template does not allow
/// reuse, or when whether it does could not be read.
pub fn may_bind(
    card_id: &CardId,
    known: &[Smartcard],
    reuse: &TemplateReuse,
) -> Result<(), CardRefusal> {
    if let Some(card) = known.iter().find(|c| c.status.is_in_use()) {
        return Err(CardRefusal::InUse {
            card_id: *card_id,
            object: card.clone(),
        });
    }
    if known.is_empty() {
        return Ok(());
    }
    let card_id = *card_id;
    let objects = known.to_vec();
    match reuse {
        TemplateReuse::Read { allowed: true, .. } => Ok(()),
        TemplateReuse::Read {
            template,
            allowed: false,
        } => Err(CardRefusal::ReuseOff {
            card_id,
            objects,
            template: *template,
        }),
        TemplateReuse::Denied(why) | TemplateReuse::Unreadable(why) => {
            Err(CardRefusal::ReuseUnreadable {
                card_id,
                objects,
                why: why.clone(),
            })
        }
        TemplateReuse::NotAsked => Err(CardRefusal::ReuseNotAsked { card_id, objects }),
    }
}

/// One object in words: its UUID, status and user.
fn describe(card: &Smartcard) -> String {
    let user = card
        .assigned_user
        .map_or_else(|| "no user".to_owned(), |u| format!("user {u}"));
    format!(
        "smart card object {}, status {}, assigned to {user}",
        card.uuid, card.status
    )
}

/// The first object in words, and how many more there are.
fn describe_all(objects: &[Smartcard]) -> String {
    match objects {
        [] => String::new(),
        [only] => describe(only),
        [first, more @ ..] => format!(
            "{} and {} more discontinued object(s)",
            describe(first),
            more.len()
        ),
    }
}

/// For an object in use by a status the station does not know, that it counts as in use.
fn unclear_status(card: &Smartcard) -> String {
    match card.status.usage() {
        Usage::Unclear => format!(
            "; the station does not know status {}, so it counts the card as in use",
            card.status
        ),
        Usage::InUse | Usage::Discontinued => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::request::name_only;

    fn object(n: u128, status: SmartcardStatus) -> Smartcard {
        Smartcard {
            uuid: Uuid::from_u128(900 + n),
            status,
            card_id: Some(CardId::from_raw([7; 16])),
            atr: None,
            assigned_user: Some(Uuid::from_u128(5)),
            profile_template: None,
        }
    }

    fn read(allowed: bool) -> TemplateReuse {
        TemplateReuse::Read {
            template: Uuid::from_u128(0x77),
            allowed,
        }
    }

    #[test]
    fn an_unknown_card_is_bindable_whatever_the_template_says() {
        for reuse in [
            TemplateReuse::NotAsked,
            read(false),
            TemplateReuse::Denied("403".into()),
        ] {
            assert_eq!(may_bind(&CardId::from_raw([7; 16]), &[], &reuse), Ok(()));
        }
        assert!(!needs_template(&[]));
    }

    #[test]
    fn discontinued_objects_are_reusable_only_when_the_template_allows_it() {
        for status in [SmartcardStatus::RETIRED, SmartcardStatus::DISABLED] {
            let known = [object(1, status)];
            assert!(needs_template(&known));
            assert_eq!(
                may_bind(&CardId::from_raw([7; 16]), &known, &read(true)),
                Ok(())
            );
            let no = may_bind(&CardId::from_raw([7; 16]), &known, &read(false))
                .unwrap_err()
                .to_string();
            assert!(no.contains("does not allow smart card reuse"), "{no}");
            assert!(no.contains(&Uuid::from_u128(901).to_string()), "{no}");
            assert!(no.contains(&format!("status {status}")), "{no}");
            assert!(no.contains(&format!("user {}", Uuid::from_u128(5))), "{no}");
        }
        let both = [
            object(1, SmartcardStatus::RETIRED),
            object(2, SmartcardStatus::DISABLED),
        ];
        assert_eq!(
            may_bind(&CardId::from_raw([7; 16]), &both, &read(true)),
            Ok(())
        );
    }

    #[test]
    fn an_object_in_use_is_refused_even_with_reuse_allowed() {
        for status in [
            SmartcardStatus::NEW,
            SmartcardStatus::ASSIGNED,
            SmartcardStatus::ACTIVE,
            SmartcardStatus::SUSPENDED,
        ] {
            // Decided from all objects: one in use among retired ones refuses.
            let known = [object(1, SmartcardStatus::RETIRED), object(2, status)];
            assert!(!needs_template(&known));
            let no = may_bind(&CardId::from_raw([7; 16]), &known, &read(true))
                .unwrap_err()
                .to_string();
            assert!(no.contains("A card in use cannot be bound"), "{no}");
            assert!(no.contains(&Uuid::from_u128(902).to_string()), "{no}");
            assert!(no.contains(&format!("status {status}")), "{no}");
        }
    }

    #[test]
    fn an_unknown_status_counts_as_in_use_and_says_so() {
        for status in [
            SmartcardStatus(4),
            SmartcardStatus::NONE,
            SmartcardStatus(name_only(999)),
        ] {
            assert_eq!(status.usage(), Usage::Unclear);
            let no = may_bind(
                &CardId::from_raw([7; 16]),
                &[object(1, status)],
                &read(true),
            )
            .unwrap_err()
            .to_string();
            assert!(no.contains("counts the card as in use"), "{no}");
            assert!(no.contains(&status.to_string()), "{no}");
        }
    }

    #[test]
    fn an_unreadable_template_falls_back_to_refusing_and_says_so() {
        let known = [object(1, SmartcardStatus::RETIRED)];
        let no = may_bind(
            &CardId::from_raw([7; 16]),
            &known,
            &TemplateReuse::Denied("403".into()),
        )
        .unwrap_err()
        .to_string();
        assert!(
            no.contains("could not read whether the template allows reuse (403)"),
            "{no}"
        );
        assert!(no.contains("a card CM knows is refused"), "{no}");
        let no = may_bind(&CardId::from_raw([7; 16]), &known, &TemplateReuse::NotAsked)
            .unwrap_err()
            .to_string();
        assert!(no.contains("a card CM knows is refused"), "{no}");
    }
}
