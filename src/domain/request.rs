//! CM requests as the station reasons about them, and the rule for which can take a card.
//! Size: 560 lines of the request and its enums; the rest is its tests.

use std::fmt;

use time::{OffsetDateTime, UtcOffset};
use uuid::Uuid;

/// A request's text. Nearly all of it (field names and values, dates) fits
/// in 24 bytes and is kept inline: a list of 10,000 requests then needs no
/// allocation per string, which is most of its memory (issue 6, P5).
pub type Text = compact_str::CompactString;

/// A request's collected values, inline up to four (what CM workflows
/// usually collect), so that a request is one allocation-free value.
pub type DataCollection = smallvec::SmallVec<[DataItem; 4]>;

/// The value of an enum name that has no documented number (e.g. the REST
/// request type `Revoke`): far below anything CM writes, so it is never
/// mistaken for a number the server sent, and it is sent and shown by name.
pub const fn name_only(n: i32) -> i32 {
    i32::MIN + n
}

/// True for the values [`name_only`] makes.
pub const fn is_name_only(value: i32) -> bool {
    value < i32::MIN + 1000
}

/// True when two enum names are the same ignoring ASCII case and the
/// separators people and tools put between words (`recover_on_behalf`,
/// `Recover On Behalf`, `RecoverOnBehalf`, `recoveronbehalf`).
fn same_name(a: &str, b: &str) -> bool {
    fn letters(s: &str) -> impl Iterator<Item = u8> + '_ {
        s.bytes()
            .filter(|c| !matches!(c, b'_' | b'-' | b' '))
            .map(|c| c.to_ascii_lowercase())
    }
    letters(a).eq(letters(b))
}

/// Defines an enum carried as an integer on the wire, with named constants and an
/// `Unknown(n)` display for numbers no source documents. A constant may have
/// other spellings (after `|`) that are read but never written.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $konst:ident = $value:expr, $label:literal $(| $alias:literal)*;)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i32);

        impl $name {
            $($(#[$vmeta])* pub const $konst: Self = Self($value);)*

            /// Every documented value, in the order of the reference tables
            /// (values known only by name last).
            pub const KNOWN: &'static [Self] = &[$(Self::$konst),*];

            /// The documented name (the REST API's spelling), or `None` for
            /// an undocumented number.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $(v if v == $value => Some($label),)*
                    _ => None,
                }
            }

            /// Looks a name up in any of its spellings, ignoring case and
            /// word separators.
            pub fn from_name(name: &str) -> Option<Self> {
                let name = name.trim();
                if name.is_empty() {
                    return None;
                }
                $(
                    if same_name(name, $label) $(|| same_name(name, $alias))* {
                        return Some(Self::$konst);
                    }
                )*
                None
            }

            /// True when the value has a number on the wire (not only a name).
            pub fn has_number(self) -> bool {
                !is_name_only(self.0)
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
        /// Canceled (also read in the British spelling).
        CANCELED = 17, "Canceled" | "Cancelled";
        /// Being executed: can still take a card.
        EXECUTING = 18, "Executing";
    }
}

wire_enum! {
    /// A request's type (`enums.md`, RequestType). Numbers 1 to 11 are the
    /// database's; names are the REST API's (create-request), which calls 11
    /// `TemporaryCards` (the policy page `TemporaryEnroll`, the SDK
    /// `TemporaryCardEnroll`) and has OfflineUnblock, Reinstate and Revoke,
    /// whose numbers no source gives. `smartcards/{id}/operations` answers
    /// the same names in lower case; every spelling is read.
    RequestType {
        /// Enroll: issues a card.
        ENROLL = 1, "Enroll";
        /// Recover: issues a card in place of a lost one, keeping the keys.
        RECOVER = 2, "Recover";
        /// Renew: issues a card unless the template's renew policy reuses
        /// the card ("Reuse card on renew"), which the request does not say.
        RENEW = 3, "Renew";
        /// Disable (the SDK's name; it acts on an existing card).
        DISABLE = 4, "Disable";
        /// Unblock an existing card.
        UNBLOCK = 5, "Unblock";
        /// Duplicate: issues a second card.
        DUPLICATE = 6, "Duplicate";
        /// Retire an existing card.
        RETIRE = 7, "Retire";
        /// Recover on behalf of another user: issues a card.
        RECOVER_ON_BEHALF = 8, "RecoverOnBehalf";
        /// Suspend or reinstate an existing card (the SDK's name).
        SUSPEND_OR_REINSTATE = 9, "SuspendOrReinstate";
        /// Online update of an existing card.
        ONLINE_UPDATE = 10, "OnlineUpdate";
        /// A temporary card: issues a card. `TemporaryCards` in REST.
        TEMPORARY_CARD_ENROLL = 11, "TemporaryCards" | "TemporaryCardEnroll" | "TemporaryEnroll";
        /// Offline (challenge/response) unblock of an existing card; REST name only.
        OFFLINE_UNBLOCK = name_only(1), "OfflineUnblock";
        /// Reinstate a suspended card; REST name only.
        REINSTATE = name_only(2), "Reinstate";
        /// Revoke an existing card's certificates; REST name only.
        REVOKE = name_only(3), "Revoke";
    }
}

wire_enum! {
    /// A smart card object's status (`enums.md`, SmartcardStatus; the SDK's
    /// enum also has Suspended and None, whose numbers are not known).
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
        /// Suspended; SDK name only.
        SUSPENDED = name_only(1), "Suspended";
        /// None; SDK name only.
        NONE = name_only(2), "None";
    }
}

impl RequestType {
    /// Whether a request of this type takes a new card: `Some(true)` for
    /// the types that issue one (Enroll, Duplicate, Recover,
    /// RecoverOnBehalf, TemporaryCards, Renew), `Some(false)` for those that
    /// act on an existing card, `None` for a type no source documents.
    ///
    /// Renew counts as issuing a card. A template whose renew policy reuses
    /// the card ("Reuse card on renew") renews onto the card the user has;
    /// the request does not say which, so telling them apart needs the
    /// template's policy (`GET profiletemplates/{id}/policies/renew`), a
    /// later step. Until then the server's answer decides such a Renew.
    pub fn issues_card(self) -> Option<bool> {
        match self {
            Self::ENROLL
            | Self::DUPLICATE
            | Self::RECOVER
            | Self::RECOVER_ON_BEHALF
            | Self::TEMPORARY_CARD_ENROLL
            | Self::RENEW => Some(true),
            Self::DISABLE
            | Self::UNBLOCK
            | Self::RETIRE
            | Self::SUSPEND_OR_REINSTATE
            | Self::ONLINE_UPDATE
            | Self::OFFLINE_UNBLOCK
            | Self::REINSTATE
            | Self::REVOKE => Some(false),
            _ => None,
        }
    }

    /// What a request of a type that acts on an existing card does to it,
    /// in plain words ("retire it"); `None` for the other types.
    fn action_on_card(self) -> Option<&'static str> {
        Some(match self {
            Self::RETIRE => "retire it",
            Self::UNBLOCK | Self::OFFLINE_UNBLOCK => "unblock it",
            Self::DISABLE | Self::REVOKE => "revoke it",
            Self::SUSPEND_OR_REINSTATE | Self::REINSTATE => "suspend or reinstate it",
            Self::ONLINE_UPDATE => "update it",
            _ => return None,
        })
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
pub const GIVEN_NAME_FIELDS: &[&str] = &["FirstName", "GivenName", "First Name"];
/// Data-collection fields that hold a family name.
pub const FAMILY_NAME_FIELDS: &[&str] = &["LastName", "Surname", "sn", "Last Name"];

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
    /// When it was submitted, in UTC (the server's instant, whatever
    /// offset it wrote); `None` for .NET's "never" date or no usable date.
    /// Shown in local time by [`ShownTime`].
    pub submitted: Option<OffsetDateTime>,
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

/// Why a request cannot take a card now. [`fmt::Display`] says it in an
/// operator's words (CM's names); [`NotBindable::plain`] in words for a
/// stranger at a kiosk.
///
/// The rules are CM's (spec `cm-rest-api.md`, "What a real server refuses";
/// `enums.md`; review `cm-api.md` H2): only a smart card request
/// (`IsSmartcard`) of a type that issues a card, while it is Approved or
/// Executing and has no card yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotBindable {
    /// `IsSmartcard` is false: a software-profile request.
    NotSmartcard,
    /// The type acts on an existing card (Retire, Unblock, Revoke, ...).
    TakesNoCard(RequestType),
    /// A type number or name no source documents.
    UnknownType(RequestType),
    /// The request's status does not allow a bind.
    Status(RequestStatus),
    /// A card is already bound to the request.
    AlreadyBound,
}

impl fmt::Display for NotBindable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotBindable::NotSmartcard => f.write_str(
                "this is a software-profile request (IsSmartcard false): it never takes a card",
            ),
            NotBindable::TakesNoCard(t) => write!(
                f,
                "a {t} request acts on an existing card; it does not take a new one"
            ),
            NotBindable::UnknownType(t) => write!(
                f,
                "unknown request type {}; only Enroll, Duplicate, Recover, RecoverOnBehalf, \
                 TemporaryCards and Renew requests take a card",
                t.0
            ),
            NotBindable::Status(RequestStatus::PENDING) => f.write_str(
                "the request is waiting for approval; an approver must approve it first",
            ),
            NotBindable::Status(s) => write!(
                f,
                "the request is {s}; CM accepts a card only while a request is Approved or Executing"
            ),
            NotBindable::AlreadyBound => f.write_str(
                "a card is already bound to this request; it can only be executed with that card",
            ),
        }
    }
}

impl NotBindable {
    /// The reason in words for someone who knows nothing of CM (the kiosk),
    /// without a full stop.
    pub fn plain(&self) -> String {
        match self {
            NotBindable::NotSmartcard => {
                "this request is for certificates kept on a computer, not on a card".into()
            }
            NotBindable::TakesNoCard(t) => match t.action_on_card() {
                Some(action) => format!(
                    "this request is for a card that was already given out (to {action}), \
                     not for a new card"
                ),
                None => "this request is not for a new card".into(),
            },
            NotBindable::UnknownType(_) => "this kind of request cannot be handled here".into(),
            NotBindable::Status(RequestStatus::PENDING) => {
                "your request is still waiting for approval".into()
            }
            NotBindable::Status(RequestStatus::COMPLETED) => {
                "your request has already been completed".into()
            }
            NotBindable::Status(RequestStatus::DENIED) => "your request was turned down".into(),
            NotBindable::Status(RequestStatus::CANCELED) => "your request was canceled".into(),
            NotBindable::Status(RequestStatus::FAILED) => {
                "your request failed or was given up".into()
            }
            NotBindable::Status(_) => "your request is not ready for a card".into(),
            NotBindable::AlreadyBound => "a card is already linked to this request".into(),
        }
    }
}

impl Request {
    /// Whether the server's own rules would accept a card for this request
    /// now. The lasting reasons (what the request is) come before the
    /// passing ones (where it is in its workflow).
    pub fn bindability(&self) -> Result<(), NotBindable> {
        if !self.is_smartcard {
            return Err(NotBindable::NotSmartcard);
        }
        match self.request_type.issues_card() {
            Some(true) => {}
            Some(false) => return Err(NotBindable::TakesNoCard(self.request_type)),
            None => return Err(NotBindable::UnknownType(self.request_type)),
        }
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

    /// The first non-blank value collected under one of `names` (any case,
    /// spaces around the name ignored), trimmed.
    pub fn collected(&self, names: &[&str]) -> Option<&str> {
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
    }

    /// A short human summary of the collected data, e.g. "Jane Doe, Finance, E1234":
    /// given and family name joined as one name, then the other values in order.
    pub fn data_summary(&self) -> String {
        let given = self.collected(GIVEN_NAME_FIELDS);
        let family = self.collected(FAMILY_NAME_FIELDS);
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

/// A moment as the station shows it to people: to the minute, in this
/// computer's local time, with its offset, e.g. `2026-11-20 10:14 +01:00`;
/// `2026-11-20 09:14 UTC` where local time is UTC or cannot be determined
/// (review `cm-api.md` L3: a time without its zone misleads).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShownTime(OffsetDateTime);

impl ShownTime {
    /// `at` in local time. The offset is the one in force at that moment
    /// (a summer date keeps its summer offset in winter); it comes from the
    /// system (`localtime_r` on Unix, which `time` calls without touching
    /// the environment), and where that fails the time is shown in UTC.
    pub fn local(at: OffsetDateTime) -> Self {
        Self::at_offset(at, UtcOffset::local_offset_at(at).ok())
    }

    /// `at` at `offset`; `None` (or an offset that would leave the
    /// calendar's range) shows UTC.
    pub fn at_offset(at: OffsetDateTime, offset: Option<UtcOffset>) -> Self {
        let shown = offset
            .and_then(|offset| at.checked_to_offset(offset))
            .unwrap_or_else(|| at.to_offset(UtcOffset::UTC));
        ShownTime(shown)
    }
}

impl ShownTime {
    /// The time of day with seconds and the zone ("21:42:10 +01:00"), for
    /// what happened in the last minutes (reader events, "Updated at").
    pub fn clock(&self) -> String {
        let t = self.0;
        format!(
            "{:02}:{:02}:{:02} {}",
            t.hour(),
            t.minute(),
            t.second(),
            Zone(t.offset())
        )
    }
}

/// A UTC offset as shown beside a time: "UTC" or "+01:00".
struct Zone(UtcOffset);

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let offset = self.0;
        if offset.is_utc() {
            return f.write_str("UTC");
        }
        let sign = if offset.is_negative() { '-' } else { '+' };
        let (hours, minutes, _) = offset.as_hms();
        write!(
            f,
            "{sign}{:02}:{:02}",
            hours.unsigned_abs(),
            minutes.unsigned_abs()
        )
    }
}

impl fmt::Display for ShownTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02} {}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            Zone(t.offset())
        )
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

/// An RFC 3339 time, for unit tests elsewhere in the crate.
#[cfg(test)]
pub(crate) fn at(rfc3339: &str) -> OffsetDateTime {
    OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .expect("a test time is RFC 3339")
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
        submitted: Some(at("2026-01-01T00:00:00Z")),
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
    fn every_spelling_of_the_reference_and_sdk_is_read() {
        for (spelling, expected) in [
            ("Enroll", RequestType::ENROLL),
            ("enroll", RequestType::ENROLL),
            ("ENROLL", RequestType::ENROLL),
            ("retire", RequestType::RETIRE),
            ("renew", RequestType::RENEW),
            ("unblock", RequestType::UNBLOCK),
            ("onlineupdate", RequestType::ONLINE_UPDATE),
            ("OnlineUpdate", RequestType::ONLINE_UPDATE),
            ("recover", RequestType::RECOVER),
            ("RecoverOnBehalf", RequestType::RECOVER_ON_BEHALF),
            ("recover_on_behalf", RequestType::RECOVER_ON_BEHALF),
            ("Recover On Behalf", RequestType::RECOVER_ON_BEHALF),
            ("Duplicate", RequestType::DUPLICATE),
            ("TemporaryCards", RequestType::TEMPORARY_CARD_ENROLL),
            ("temporarycards", RequestType::TEMPORARY_CARD_ENROLL),
            ("TemporaryEnroll", RequestType::TEMPORARY_CARD_ENROLL),
            ("TemporaryCardEnroll", RequestType::TEMPORARY_CARD_ENROLL),
            ("Revoke", RequestType::REVOKE),
            ("revoke", RequestType::REVOKE),
            ("Reinstate", RequestType::REINSTATE),
            ("OfflineUnblock", RequestType::OFFLINE_UNBLOCK),
            ("offlineunblock", RequestType::OFFLINE_UNBLOCK),
            ("SuspendOrReinstate", RequestType::SUSPEND_OR_REINSTATE),
            ("Disable", RequestType::DISABLE),
            (" retire ", RequestType::RETIRE),
        ] {
            assert_eq!(
                RequestType::from_name(spelling),
                Some(expected),
                "{spelling}"
            );
        }
        for (spelling, expected) in [
            ("Suspended", SmartcardStatus::SUSPENDED),
            ("suspended", SmartcardStatus::SUSPENDED),
            ("None", SmartcardStatus::NONE),
            ("retired", SmartcardStatus::RETIRED),
            ("ACTIVE", SmartcardStatus::ACTIVE),
        ] {
            assert_eq!(
                SmartcardStatus::from_name(spelling),
                Some(expected),
                "{spelling}"
            );
        }
        assert_eq!(
            RequestStatus::from_name("Cancelled"),
            Some(RequestStatus::CANCELED)
        );
        for nothing in ["", "  ", "Retirement", "Enrol", "Temporary", "_"] {
            assert_eq!(RequestType::from_name(nothing), None, "{nothing:?}");
        }
    }

    #[test]
    fn the_rest_names_are_shown_and_undocumented_numbers_stay_numbers() {
        assert_eq!(RequestType(11).to_string(), "TemporaryCards");
        assert_eq!(RequestType::REVOKE.to_string(), "Revoke");
        assert_eq!(RequestType::OFFLINE_UNBLOCK.to_string(), "OfflineUnblock");
        assert_eq!(RequestType::REINSTATE.to_string(), "Reinstate");
        assert_eq!(RequestType(12).to_string(), "Unknown(12)");
        assert_eq!(RequestType(0).to_string(), "Unknown(0)");
        assert_eq!(SmartcardStatus::SUSPENDED.to_string(), "Suspended");
        assert_eq!(SmartcardStatus(4).to_string(), "Unknown(4)");
        // A value known only by name has no number, and no number is one.
        assert!(!RequestType::REVOKE.has_number());
        assert!(RequestType::RETIRE.has_number());
        assert!(RequestType(-1).has_number());
        for value in RequestType::KNOWN {
            assert_eq!(RequestType::from_name(&value.to_string()), Some(*value));
        }
    }

    #[test]
    fn only_the_types_that_issue_a_card_take_one() {
        let issuing = [
            RequestType::ENROLL,
            RequestType::DUPLICATE,
            RequestType::RECOVER,
            RequestType::RECOVER_ON_BEHALF,
            RequestType::TEMPORARY_CARD_ENROLL,
            RequestType::RENEW,
        ];
        for kind in RequestType::KNOWN {
            let mut r = sample(RequestStatus::APPROVED);
            r.request_type = *kind;
            if issuing.contains(kind) {
                assert_eq!(r.bindability(), Ok(()), "{kind}");
            } else {
                assert_eq!(
                    r.bindability(),
                    Err(NotBindable::TakesNoCard(*kind)),
                    "{kind}"
                );
            }
        }
        let mut retire = sample(RequestStatus::APPROVED);
        retire.request_type = RequestType::RETIRE;
        let why = retire.bindability().expect_err("a Retire takes no card");
        assert_eq!(
            why.to_string(),
            "a Retire request acts on an existing card; it does not take a new one"
        );
        assert!(why.plain().contains("retire it"), "{}", why.plain());
        assert!(
            !why.plain().contains("Retire"),
            "plain words: {}",
            why.plain()
        );
        for number in [0, 12, 42, -1] {
            let mut odd = sample(RequestStatus::APPROVED);
            odd.request_type = RequestType(number);
            let why = odd
                .bindability()
                .expect_err("an unknown type takes no card");
            assert_eq!(why, NotBindable::UnknownType(RequestType(number)));
            assert!(
                why.to_string()
                    .starts_with(&format!("unknown request type {number};")),
                "{why}"
            );
        }
    }

    #[test]
    fn a_software_profile_request_never_takes_a_card_whatever_else_it_is() {
        for status in RequestStatus::KNOWN {
            let mut r = sample(*status);
            r.is_smartcard = false;
            assert_eq!(r.bindability(), Err(NotBindable::NotSmartcard), "{status}");
        }
        let mut retire = sample(RequestStatus::APPROVED);
        retire.is_smartcard = false;
        retire.request_type = RequestType::RETIRE;
        assert_eq!(retire.bindability(), Err(NotBindable::NotSmartcard));
        assert_eq!(
            NotBindable::NotSmartcard.to_string(),
            "this is a software-profile request (IsSmartcard false): it never takes a card"
        );
        assert!(!NotBindable::NotSmartcard.plain().contains("IsSmartcard"));
    }

    #[test]
    fn what_a_request_is_is_said_before_where_it_is() {
        let mut pending_retire = sample(RequestStatus::PENDING);
        pending_retire.request_type = RequestType::RETIRE;
        assert_eq!(
            pending_retire.bindability(),
            Err(NotBindable::TakesNoCard(RequestType::RETIRE))
        );
        // The Unblock of the reference's example arrives with its card set.
        let mut unblock = sample(RequestStatus::APPROVED);
        unblock.request_type = RequestType::UNBLOCK;
        unblock.new_smartcard = Some(Uuid::from_u128(7));
        assert_eq!(
            unblock.bindability(),
            Err(NotBindable::TakesNoCard(RequestType::UNBLOCK))
        );
        let mut bound_pending = sample(RequestStatus::COMPLETED);
        bound_pending.new_smartcard = Some(Uuid::from_u128(7));
        assert_eq!(
            bound_pending.bindability(),
            Err(NotBindable::Status(RequestStatus::COMPLETED))
        );
    }

    #[test]
    fn every_reason_has_plain_words_for_the_kiosk() {
        let reasons = [
            NotBindable::NotSmartcard,
            NotBindable::TakesNoCard(RequestType::RETIRE),
            NotBindable::TakesNoCard(RequestType::UNBLOCK),
            NotBindable::TakesNoCard(RequestType::REVOKE),
            NotBindable::UnknownType(RequestType(42)),
            NotBindable::AlreadyBound,
        ]
        .into_iter()
        .chain(RequestStatus::KNOWN.iter().map(|s| NotBindable::Status(*s)));
        for reason in reasons {
            let plain = reason.plain();
            assert!(!plain.is_empty() && !plain.ends_with('.'), "{plain:?}");
            for jargon in [
                "IsSmartcard",
                "CM",
                "Approved",
                "Executing",
                "software-profile",
            ] {
                assert!(!plain.contains(jargon), "{jargon} in {plain:?}");
            }
        }
        assert!(
            NotBindable::Status(RequestStatus::PENDING)
                .plain()
                .contains("waiting for approval")
        );
    }

    #[test]
    fn times_are_shown_to_the_minute_with_their_zone() {
        let t = at("2026-11-20T09:14:33.12Z");
        let cet = UtcOffset::from_hms(1, 0, 0).expect("offset");
        assert_eq!(
            ShownTime::at_offset(t, Some(cet)).to_string(),
            "2026-11-20 10:14 +01:00"
        );
        let newfoundland = UtcOffset::from_hms(-3, -30, 0).expect("offset");
        assert_eq!(
            ShownTime::at_offset(t, Some(newfoundland)).to_string(),
            "2026-11-20 05:44 -03:30"
        );
        assert_eq!(
            ShownTime::at_offset(t, None).to_string(),
            "2026-11-20 09:14 UTC"
        );
        assert_eq!(
            ShownTime::at_offset(t, Some(UtcOffset::UTC)).to_string(),
            "2026-11-20 09:14 UTC"
        );
        assert_eq!(
            ShownTime::at_offset(t, Some(cet)).clock(),
            "10:14:33 +01:00"
        );
        assert_eq!(ShownTime::at_offset(t, None).clock(), "09:14:33 UTC");
        // Across midnight, and an offset that would leave the calendar.
        let late = at("2026-12-31T23:30:00Z");
        assert_eq!(
            ShownTime::at_offset(late, Some(cet)).to_string(),
            "2027-01-01 00:30 +01:00"
        );
        let end = at("9999-12-31T23:59:00Z");
        assert_eq!(
            ShownTime::at_offset(end, Some(cet)).to_string(),
            "9999-12-31 23:59 UTC"
        );
        // Local time always names its zone.
        let local = ShownTime::local(t).to_string();
        assert!(
            local.ends_with("UTC") || local.contains(" +") || local.contains(" -"),
            "{local}"
        );
    }

    #[test]
    fn list_puts_bindable_first_then_priority_then_oldest() {
        let mut pending = sample(RequestStatus::PENDING);
        pending.priority = 9;
        pending.uuid = Uuid::from_u128(2);
        let mut old = sample(RequestStatus::APPROVED);
        old.submitted = Some(at("2025-01-01T00:00:00Z"));
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
