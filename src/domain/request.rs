//! CM requests as the station reasons about them, and the rule for which can take a card.

use std::fmt;
use uuid::Uuid;

/// A request's text. Nearly all of it (field names and values, dates) fits
/// in 24 bytes and is kept inline: a list of 10,000 requests then needs no
/// allocation per string, which is most of its memory (issue 6, P5).
pub type Text = compact_str::CompactString;

/// A request's collected values, inline up to four (what CM workflows
/// usually collect), so that a request is one allocation-free value.
pub type DataCollection = smallvec::SmallVec<[DataItem; 4]>;

/// Defines an enum carried as an integer on the wire, with named constants and an
/// `Unknown(n)` display for numbers no source documents.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $konst:ident = $value:expr, $label:literal;)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i32);

        impl $name {
            $($(#[$vmeta])* pub const $konst: Self = Self($value);)*

            /// Every documented value, in the order of the reference tables.
            pub const KNOWN: &'static [Self] = &[$(Self::$konst),*];

            /// The documented name, or `None` for an undocumented number.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $(v if v == $value => Some($label),)*
                    _ => None,
                }
            }

            /// Looks a name up case-insensitively.
            pub fn from_name(name: &str) -> Option<Self> {
                let name = name.trim();
                Self::KNOWN
                    .iter()
                    .copied()
                    .find(|v| v.name().is_some_and(|n| n.eq_ignore_ascii_case(name)))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "Unknown({})", self.0),
                }
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
    };
}

wire_enum! {
    /// A request's status (`enums.md`, RequestStatus).
    RequestStatus {
        /// No status (inferred value).
        NONE = 0, "None";
        /// Approved: can take a card.
        APPROVED = 3, "Approved";
        /// Denied by an approver.
        DENIED = 4, "Denied";
        /// Completed.
        COMPLETED = 8, "Completed";
        /// Failed or abandoned.
        FAILED = 9, "Failed";
        /// Waiting for approval.
        PENDING = 16, "Pending";
        /// Canceled.
        CANCELED = 17, "Canceled";
        /// Being executed: can still take a card.
        EXECUTING = 18, "Executing";
    }
}

wire_enum! {
    /// A request's type (`enums.md`, RequestType).
    RequestType {
        /// Enroll a new card.
        ENROLL = 1, "Enroll";
        /// Recover.
        RECOVER = 2, "Recover";
        /// Renew.
        RENEW = 3, "Renew";
        /// Disable.
        DISABLE = 4, "Disable";
        /// Unblock.
        UNBLOCK = 5, "Unblock";
        /// Duplicate.
        DUPLICATE = 6, "Duplicate";
        /// Retire.
        RETIRE = 7, "Retire";
        /// Recover on behalf.
        RECOVER_ON_BEHALF = 8, "RecoverOnBehalf";
        /// Suspend or reinstate.
        SUSPEND_OR_REINSTATE = 9, "SuspendOrReinstate";
        /// Online update.
        ONLINE_UPDATE = 10, "OnlineUpdate";
        /// Temporary card enroll.
        TEMPORARY_CARD_ENROLL = 11, "TemporaryCardEnroll";
    }
}

wire_enum! {
    /// A smart card object's status (`enums.md`, SmartcardStatus).
    SmartcardStatus {
        /// New.
        NEW = 0, "New";
        /// Assigned to a user.
        ASSIGNED = 1, "Assigned";
        /// Active.
        ACTIVE = 2, "Active";
        /// Disabled (inferred value).
        DISABLED = 3, "Disabled";
        /// Retired (inferred value).
        RETIRED = 6, "Retired";
    }
}

/// One name/value pair the request's workflow collected (e.g. a first name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataItem {
    /// The field's name.
    pub name: Text,
    /// Its value; CM sends null for fields not filled in.
    pub value: Option<Text>,
}

/// Data-collection fields that hold a given name, as CM workflows commonly name them.
const GIVEN_NAME_FIELDS: &[&str] = &["FirstName", "GivenName", "First Name"];
/// Data-collection fields that hold a family name.
const FAMILY_NAME_FIELDS: &[&str] = &["LastName", "Surname", "sn", "Last Name"];

/// A CM request, strictly typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The request's GUID.
    pub uuid: Uuid,
    /// What the request does.
    pub request_type: RequestType,
    /// Where it is in its workflow.
    pub status: RequestStatus,
    /// The user the card is for.
    pub target_user: Option<Uuid>,
    /// The user who submitted it.
    pub originator_user: Option<Uuid>,
    /// When it was submitted, as the server wrote it (ISO 8601).
    pub submitted: Option<Text>,
    /// CM's priority number.
    pub priority: i32,
    /// The smart card object already bound to it, if any.
    pub new_smartcard: Option<Uuid>,
    /// The profile template the request uses.
    pub profile_template: Option<Uuid>,
    /// Whether CM says this is a smart card request.
    pub is_smartcard: bool,
    /// Whether an enrollment agent must execute it.
    pub is_enrollment_agent: bool,
    /// Values collected by the workflow.
    pub data_collection: DataCollection,
    /// Free text from the requester or approver.
    pub comment: Option<Text>,
}

/// Why a request cannot take a card now, in words an operator understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotBindable {
    /// A card is already bound to the request.
    AlreadyBound,
    /// The request's status does not allow a bind.
    Status(RequestStatus),
}

impl fmt::Display for NotBindable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotBindable::AlreadyBound => f.write_str(
                "a card is already bound to this request; it can only be executed with that card",
            ),
            NotBindable::Status(RequestStatus::PENDING) => f.write_str(
                "the request is waiting for approval; an approver must approve it first",
            ),
            NotBindable::Status(s) => write!(
                f,
                "the request is {s}; CM accepts a card only while a request is Approved or Executing"
            ),
        }
    }
}

impl Request {
    /// Whether the server's own rules would accept a card for this request now.
    pub fn bindability(&self) -> Result<(), NotBindable> {
        if !matches!(
            self.status,
            RequestStatus::APPROVED | RequestStatus::EXECUTING
        ) {
            return Err(NotBindable::Status(self.status));
        }
        if self.new_smartcard.is_some() {
            return Err(NotBindable::AlreadyBound);
        }
        Ok(())
    }

    /// True when a bind would be accepted.
    pub fn is_bindable(&self) -> bool {
        self.bindability().is_ok()
    }

    /// A short human summary of the collected data, e.g. "Jane Doe, Finance, E1234":
    /// given and family name joined as one name, then the other values in order.
    pub fn data_summary(&self) -> String {
        let value_of = |names: &[&str]| {
            self.data_collection
                .iter()
                .find(|item| {
                    names
                        .iter()
                        .any(|n| item.name.trim().eq_ignore_ascii_case(n))
                })
                .and_then(|item| item.value.as_deref())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let given = value_of(GIVEN_NAME_FIELDS);
        let family = value_of(FAMILY_NAME_FIELDS);
        let mut parts: Vec<String> = Vec::new();
        match (given, family) {
            (Some(g), Some(f)) => parts.push(format!("{g} {f}")),
            (Some(one), None) | (None, Some(one)) => parts.push(one.to_owned()),
            (None, None) => {}
        }
        let is_name_field = |name: &str| {
            GIVEN_NAME_FIELDS
                .iter()
                .chain(FAMILY_NAME_FIELDS)
                .any(|n| name.trim().eq_ignore_ascii_case(n))
        };
        parts.extend(
            self.data_collection
                .iter()
                .filter(|item| !is_name_field(&item.name))
                .filter_map(|item| item.value.as_deref())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
        );
        parts.join(", ")
    }

    /// Order for the request list: what the agent can act on first, then by
    /// priority (higher first), then oldest first.
    pub fn list_order(a: &Request, b: &Request) -> std::cmp::Ordering {
        b.is_bindable()
            .cmp(&a.is_bindable())
            .then_with(|| b.priority.cmp(&a.priority))
            .then_with(|| a.submitted.cmp(&b.submitted))
            .then_with(|| a.uuid.cmp(&b.uuid))
    }
}

/// Which requests the list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum RequestQuery {
    /// What an agent may act on now or soon: Approved, Executing and Pending.
    #[default]
    Open,
    /// One status.
    Status(RequestStatus),
    /// Every request the server returns.
    All,
}

impl RequestQuery {
    /// The status filters to ask the server for; `None` means no filter.
    pub fn statuses(self) -> Vec<Option<RequestStatus>> {
        match self {
            RequestQuery::Open => vec![
                Some(RequestStatus::APPROVED),
                Some(RequestStatus::EXECUTING),
                Some(RequestStatus::PENDING),
            ],
            RequestQuery::Status(status) => vec![Some(status)],
            RequestQuery::All => vec![None],
        }
    }

    /// The label shown in the filter menu.
    pub fn label(self) -> String {
        match self {
            RequestQuery::Open => "Open (Approved, Executing, Pending)".into(),
            RequestQuery::Status(status) => status.to_string(),
            RequestQuery::All => "All".into(),
        }
    }
}

/// A plain enroll request for unit tests elsewhere in the crate.
#[cfg(test)]
pub(crate) fn example_request(id: u128, status: RequestStatus) -> Request {
    Request {
        uuid: Uuid::from_u128(id),
        request_type: RequestType::ENROLL,
        status,
        target_user: None,
        originator_user: None,
        submitted: Some("2026-01-01T00:00:00Z".into()),
        priority: 0,
        new_smartcard: None,
        profile_template: None,
        is_smartcard: true,
        is_enrollment_agent: true,
        data_collection: DataCollection::new(),
        comment: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(status: RequestStatus) -> Request {
        example_request(1, status)
    }

    #[test]
    fn enums_show_names_and_unknown_numbers() {
        assert_eq!(RequestStatus(3).to_string(), "Approved");
        assert_eq!(RequestStatus(42).to_string(), "Unknown(42)");
        assert_eq!(
            RequestType::from_name("recoveronbehalf"),
            Some(RequestType(8))
        );
        assert_eq!(RequestStatus::from_name("Bogus"), None);
    }

    #[test]
    fn only_approved_or_executing_unbound_requests_are_bindable() {
        for status in RequestStatus::KNOWN {
            let r = sample(*status);
            let expected = matches!(*status, RequestStatus::APPROVED | RequestStatus::EXECUTING);
            assert_eq!(r.is_bindable(), expected, "{status}");
        }
        let mut bound = sample(RequestStatus::APPROVED);
        bound.new_smartcard = Some(Uuid::from_u128(7));
        assert_eq!(bound.bindability(), Err(NotBindable::AlreadyBound));
        assert_eq!(
            sample(RequestStatus(99)).bindability(),
            Err(NotBindable::Status(RequestStatus(99)))
        );
    }

    #[test]
    fn list_puts_bindable_first_then_priority_then_oldest() {
        let mut pending = sample(RequestStatus::PENDING);
        pending.priority = 9;
        pending.uuid = Uuid::from_u128(2);
        let mut old = sample(RequestStatus::APPROVED);
        old.submitted = Some("2025-01-01T00:00:00Z".into());
        old.uuid = Uuid::from_u128(3);
        let new = sample(RequestStatus::APPROVED);
        let mut list = vec![pending.clone(), new.clone(), old.clone()];
        list.sort_by(Request::list_order);
        assert_eq!(list, vec![old, new, pending]);
    }

    #[test]
    fn data_summary_skips_empty_and_null_values() {
        let mut r = sample(RequestStatus::APPROVED);
        r.data_collection = smallvec::smallvec![
            DataItem {
                name: "First".into(),
                value: Some("Jane".into()),
            },
            DataItem {
                name: "Middle".into(),
                value: None,
            },
            DataItem {
                name: "Last".into(),
                value: Some(" Doe ".into()),
            },
            DataItem {
                name: "Dept".into(),
                value: Some("".into()),
            },
        ];
        assert_eq!(r.data_summary(), "Jane, Doe");
    }
}
