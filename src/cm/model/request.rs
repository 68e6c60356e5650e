//! A request on the wire, and its conversion to the domain's [`Request`].

use super::*;

/// One `{Name, Value}` pair of a request's `DataCollection`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireDataItem {
    /// The field's name.
    pub name: Option<String>,
    /// Its value; null when the workflow did not fill it in.
    pub value: Option<String>,
}

any_case_keys!(WireDataItem, "a data collection item {Name, Value}" {
    name: "Name" => AnyString,
    value: "Value" => AnyString,
});

/// A CM Request as it travels over the wire. Every field is optional here;
/// [`Request::try_from`] decides what is required.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireRequest {
    /// The request's GUID, as sent.
    pub uuid: Option<String>,
    /// `RequestType`, a number or a name.
    pub request_type: Option<WireEnum>,
    /// `Status`, a number or a name.
    pub status: Option<WireEnum>,
    /// Request flags (Smartcard = 2).
    pub flags: i64,
    /// Values the workflow collected.
    pub data_collection: Vec<WireDataItem>,
    /// Data collection flags; meaning not settled.
    pub data_collection_flags: i64,
    /// Who submitted the request.
    pub originator_user_uuid: Option<String>,
    /// Who the request is for.
    pub target_user_uuid: Option<String>,
    /// When it was submitted, e.g. `2015-07-07T23:36:21.93Z`.
    pub submitted: Option<String>,
    /// When it was completed; [`DOTNET_MIN_DATE`] means never.
    pub completed: Option<String>,
    /// The profile the request creates.
    pub new_profile_uuid: Option<String>,
    /// The profile the request replaces.
    pub old_profile_uuid: Option<String>,
    /// The smart card object bound to the request; all zeros before a bind.
    pub new_smartcard_uuid: Option<String>,
    /// The smart card object the request replaces.
    pub old_smartcard_uuid: Option<String>,
    /// CM's priority number.
    pub priority: i64,
    /// Free text.
    pub comment: Option<String>,
    /// The profile template the request uses.
    pub profile_template_uuid: Option<String>,
    /// An SDDL string, NUL-terminated on the wire.
    pub security_descriptor: Option<String>,
    /// Whether this is a smart card request.
    pub is_smartcard: bool,
    /// Whether an enrollment agent must execute it.
    pub is_enrollment_agent: bool,
    /// Whether the workflow's data collection is complete.
    pub is_data_collection_complete: bool,
}

any_case_keys!(WireRequest, "a CM request object" {
    uuid: "Uuid" => AnyString,
    request_type: "RequestType" => AnyEnum,
    status: "Status" => AnyEnum,
    flags: "Flags" => AnyI64,
    data_collection: "DataCollection" => AnyList<WireDataItem>,
    data_collection_flags: "DataCollectionFlags" => AnyI64,
    originator_user_uuid: "OriginatorUserUuid" => AnyString,
    target_user_uuid: "TargetUserUuid" => AnyString,
    submitted: "Submitted" => AnyString,
    completed: "Completed" => AnyString,
    new_profile_uuid: "NewProfileUuid" => AnyString,
    old_profile_uuid: "OldProfileUuid" => AnyString,
    new_smartcard_uuid: "NewSmartcardUuid" => AnyString,
    old_smartcard_uuid: "OldSmartcardUuid" => AnyString,
    priority: "Priority" => AnyI64,
    comment: "Comment" => AnyString,
    profile_template_uuid: "ProfileTemplateUuid" => AnyString,
    security_descriptor: "SecurityDescriptor" => AnyString,
    is_smartcard: "IsSmartcard" => AnyBool,
    is_enrollment_agent: "IsEnrollmentAgent" => AnyBool,
    is_data_collection_complete: "IsDataCollectionComplete" => AnyBool,
});

impl WireRequest {
    /// The request's GUID, if it has a usable one.
    pub fn parsed_uuid(&self) -> Option<Uuid> {
        self.uuid.as_deref().and_then(parse_optional_guid)
    }

    /// When the request was completed, or `None` for CM's "never" date.
    pub fn completed_at(&self) -> Option<&str> {
        meaningful_date(self.completed.as_deref())
    }

    /// The wire form of a domain request, with the fields the domain does not
    /// keep set the way CM sets them for an open request.
    pub fn from_domain(request: &Request) -> Self {
        let nil = guid_to_wire(Uuid::nil());
        let guid = |u: Option<Uuid>| guid_to_wire(u.unwrap_or_else(Uuid::nil));
        WireRequest {
            uuid: Some(guid_to_wire(request.uuid)),
            request_type: Some(WireEnum::from_domain(request.request_type)),
            status: Some(WireEnum::from_domain(request.status)),
            flags: i64::from(request.is_smartcard) * 2 + i64::from(request.is_enrollment_agent),
            data_collection: request
                .data_collection
                .iter()
                .map(|item| WireDataItem {
                    name: Some(item.name.to_string()),
                    value: item.value.as_ref().map(ToString::to_string),
                })
                .collect(),
            data_collection_flags: 0,
            originator_user_uuid: Some(guid(request.originator_user)),
            target_user_uuid: Some(guid(request.target_user)),
            submitted: request.submitted.map(format_cm_time),
            completed: Some(DOTNET_MIN_DATE.into()),
            new_profile_uuid: Some(nil.clone()),
            old_profile_uuid: Some(nil.clone()),
            new_smartcard_uuid: Some(guid(request.new_smartcard)),
            old_smartcard_uuid: Some(nil),
            priority: i64::from(request.priority),
            comment: request.comment.as_ref().map(ToString::to_string),
            profile_template_uuid: Some(guid(request.profile_template)),
            security_descriptor: None,
            is_smartcard: request.is_smartcard,
            is_enrollment_agent: request.is_enrollment_agent,
            is_data_collection_complete: true,
        }
    }
}

/// The text a screen shows (collected names and values, the comment) is
/// cleaned here, where it enters the station, by the one rule for text from
/// the wire ([`from_wire_owned`]); GUIDs, dates and enums are parsed, not
/// shown. The wire struct itself keeps what the server sent.
impl TryFrom<WireRequest> for Request {
    type Error = ModelError;

    fn try_from(wire: WireRequest) -> Result<Self, Self::Error> {
        let uuid = required_guid(wire.uuid.as_deref(), "request", "Uuid")?;
        let status = wire
            .status
            .as_ref()
            .map_or(RequestStatus(UNRECOGNISED), WireEnum::to_domain);
        let request_type = wire
            .request_type
            .as_ref()
            .map_or(RequestType(UNRECOGNISED), WireEnum::to_domain);
        let data_collection = wire
            .data_collection
            .into_iter()
            .map(|item| DataItem {
                name: item
                    .name
                    .map(|n| Text::from(from_wire_owned(n, FIELD_NAME_MAX_CHARS)))
                    .unwrap_or_default(),
                value: item
                    .value
                    .map(|v| Text::from(from_wire_owned(v, VALUE_MAX_CHARS))),
            })
            .collect();
        Ok(Request {
            uuid,
            request_type,
            status,
            target_user: optional_guid(wire.target_user_uuid.as_deref()),
            originator_user: optional_guid(wire.originator_user_uuid.as_deref()),
            submitted: wire.submitted.as_deref().and_then(parse_cm_time),
            priority: i32::try_from(wire.priority).unwrap_or(0),
            new_smartcard: optional_guid(wire.new_smartcard_uuid.as_deref()),
            profile_template: optional_guid(wire.profile_template_uuid.as_deref()),
            is_smartcard: wire.is_smartcard,
            is_enrollment_agent: wire.is_enrollment_agent,
            data_collection,
            comment: wire
                .comment
                .map(|c| from_wire_owned(c, COMMENT_MAX_CHARS))
                .filter(|c| !c.is_empty())
                .map(Text::from),
        })
    }
}
