//! The lifecycle calls on the wire: the bodies of `PUT requests/{id}` and
//! `POST requests`, the workflow policy's type in its URL, and the policy
//! itself, read leniently because its shape is not documented.

use serde_json::Map;

use super::*;
use crate::domain::lifecycle::{NewRequest, PolicyItem, StatusChange, Validation, WorkflowPolicy};

/// The body of `PUT requests/{id}`: `{"status":"Abandoned"}` and the like.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatusBody {
    /// The status to set, as cancel-abandon-complete-request spells it.
    pub status: &'static str,
}

impl StatusBody {
    /// The body for `change`.
    pub fn new(change: StatusChange) -> Self {
        StatusBody {
            status: change.wire_name(),
        }
    }
}

/// The body of `POST requests`, with create-request's lower-case keys.
///
/// `datacollection` is sent as create-request's third example does, an
/// array of one-key objects (`[{"EmployeeID":"E1234"}]`): the only example
/// that carries values. Its other examples send the string `"[]"`, and
/// responses use `{Name, Value}` (review `cm-api.md` section 3, item 6).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CreateRequestBody {
    /// The profile template's GUID (required by the reference, but its
    /// Unblock example names only the card: left out when unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profiletemplateuuid: Option<String>,
    /// The data items, one object each.
    pub datacollection: Vec<Map<String, Value>>,
    /// The user the request is for; absent means the signed-in user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The REST type name, e.g. `Retire`, `TemporaryCards`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The smart card object a request on a card acts on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smartcard: Option<String>,
    /// The comment; required, may be empty.
    pub comment: String,
    /// The priority; absent means the template's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
}

impl CreateRequestBody {
    /// The body for `request`. A value left empty is sent as `""`.
    pub fn new(request: &NewRequest) -> Self {
        CreateRequestBody {
            profiletemplateuuid: request.template.map(guid_to_wire),
            datacollection: request
                .data
                .iter()
                .map(|item| {
                    let value = item.value.as_deref().unwrap_or_default();
                    let mut one = Map::new();
                    one.insert(item.name.to_string(), Value::String(value.to_owned()));
                    one
                })
                .collect(),
            target: request.target.map(guid_to_wire),
            kind: request.kind.to_string(),
            smartcard: request.smartcard.map(guid_to_wire),
            comment: request.comment.clone(),
            priority: request.priority,
        }
    }
}

/// The `{type}` of `profiletemplates/{id}/policies/{type}`: get-workflow-policy's
/// list, in lower case as its examples (`enroll`, `renew`). The page calls
/// a temporary card's policy `TemporaryEnroll`. `None` for a type with no policy.
pub fn policy_type(kind: RequestType) -> Option<&'static str> {
    Some(match kind {
        RequestType::ENROLL => "enroll",
        RequestType::DUPLICATE => "duplicate",
        RequestType::OFFLINE_UNBLOCK => "offlineunblock",
        RequestType::ONLINE_UPDATE => "onlineupdate",
        RequestType::RENEW => "renew",
        RequestType::RECOVER => "recover",
        RequestType::RECOVER_ON_BEHALF => "recoveronbehalf",
        RequestType::REINSTATE => "reinstate",
        RequestType::RETIRE => "retire",
        RequestType::REVOKE => "revoke",
        RequestType::TEMPORARY_CARD_ENROLL => "temporaryenroll",
        RequestType::UNBLOCK => "unblock",
        _ => return None,
    })
}

/// The GUID at the end of a URI CM answers with, for a request
/// (`api/v1.0/requests/{uuid}`) as for a smart card.
pub fn uuid_from_uri(uri: &str) -> Option<Uuid> {
    smartcard_uuid_from_uri(uri)
}

/// At most this many data items are read from a policy: a workflow asks
/// for a handful; more is not a policy the station can show.
const MAX_POLICY_ITEMS: usize = 100;

/// How deep the policy reader follows a data collection wrapped in objects
/// or in JSON text before giving up.
const MAX_POLICY_DEPTH: usize = 4;

/// A key's value, under any of `names` in any case (PascalCase wins).
fn field<'a>(object: &'a Map<String, Value>, names: &[&str]) -> Option<&'a Value> {
    names.iter().find_map(|name| {
        object.get(*name).or_else(|| {
            object
                .iter()
                .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
    })
}

/// A flag as Json.NET or a hand-made answer writes it: true, 1, "true", "1", "yes".
fn flag(value: Option<&Value>) -> Option<bool> {
    match value? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        Value::String(s) => {
            let s = strip_nuls(s);
            let s = s.trim();
            Some(s.eq_ignore_ascii_case("true") || s == "1" || s.eq_ignore_ascii_case("yes"))
        }
        _ => None,
    }
}

/// A count: a number, or a number in a string; negative or absurd is 0.
fn count(value: Option<&Value>) -> u32 {
    let number = match value {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => strip_nuls(s).trim().parse().ok(),
        _ => None,
    };
    number.and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
}

/// Text from the wire, cleaned by the one rule for it; empty is `None`.
fn text(value: Option<&Value>, max: usize) -> Option<String> {
    let raw = match value? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let clean = from_wire_owned(raw, max);
    (!clean.trim().is_empty()).then(|| clean.trim().to_owned())
}

/// Reads a workflow policy (`GET profiletemplates/{id}/policies/{type}`).
/// get-workflow-policy lists the properties but shows no body ("body coming
/// soon"), so this takes any shape a .NET server plausibly writes: keys in
/// any case, flags as booleans, numbers or strings, unknown keys ignored,
/// missing ones defaulted. `PolicyDataCollection` may be a list of items
/// (SDK `DataCollectionItem`: Name, Required, Validation {ValidationType,
/// ValidationData}, in PascalCase or camelCase, or flat), a list of names,
/// an object wrapping the list (`Items`, `DataCollectionItems`, `$values`),
/// an object keyed by item name, or any of these as JSON text.
///
/// Only an answer that is not a JSON object is refused (`Err` says what it was).
pub fn policy_from_json(value: &Value) -> Result<WorkflowPolicy, &'static str> {
    let Value::Object(object) = value else {
        return Err(match value {
            Value::Array(_) => "a JSON array",
            Value::String(_) => "a JSON string",
            Value::Null => "null",
            _ => "a JSON scalar",
        });
    };
    let data_collection =
        field(object, &["PolicyDataCollection", "DataCollection"]).and_then(|v| policy_items(v, 0));
    Ok(WorkflowPolicy {
        approvals_needed: count(field(object, &["ApprovalsNeeded", "ApprovalsRequired"])),
        enroll_agent_required: flag(field(
            object,
            &["EnrollAgentRequired", "EnrollmentAgentRequired"],
        ))
        .unwrap_or(false),
        collect_comments: flag(field(object, &["CollectComments"])).unwrap_or(false),
        enabled: flag(field(object, &["Enabled"])),
        data_collection,
    })
}

/// The data items in one of the shapes [`policy_from_json`] takes; `None`
/// when `value` is none of them (then the policy's items are unknown).
fn policy_items(value: &Value, depth: usize) -> Option<Vec<PolicyItem>> {
    if depth > MAX_POLICY_DEPTH {
        return None;
    }
    match value {
        // An explicit null: the policy asks for nothing.
        Value::Null => Some(Vec::new()),
        Value::Array(entries) => Some(
            entries
                .iter()
                .filter_map(policy_item)
                .take(MAX_POLICY_ITEMS)
                .collect(),
        ),
        Value::Object(object) => {
            let wrapped = field(
                object,
                &[
                    "Items",
                    "DataCollectionItems",
                    "PolicyDataCollection",
                    "DataCollection",
                    "$values",
                    "Values",
                ],
            );
            if let Some(inner) = wrapped {
                return policy_items(inner, depth + 1);
            }
            if field(object, &["Name", "ItemName"]).is_some() {
                // One item on its own.
                return Some(policy_item(value).into_iter().collect());
            }
            // Keyed by name: {"EmployeeID": {"Required": true}} or {"EmployeeID": true}.
            Some(
                object
                    .iter()
                    .filter_map(|(name, spec)| keyed_item(name, spec))
                    .take(MAX_POLICY_ITEMS)
                    .collect(),
            )
        }
        // JSON in a string, as create-request sends its own datacollection.
        Value::String(text) => {
            let text = strip_nuls(text);
            let parsed = parse_lenient_json(text.trim()).ok()?;
            policy_items(&parsed, depth + 1)
        }
        Value::Bool(_) | Value::Number(_) => None,
    }
}

/// One entry of a list of items: an object, or a bare name.
fn policy_item(entry: &Value) -> Option<PolicyItem> {
    match entry {
        Value::String(_) => Some(PolicyItem {
            name: text(Some(entry), FIELD_NAME_MAX_CHARS)?,
            required: false,
            validation: Validation::None,
        }),
        Value::Object(object) => {
            let name = text(
                field(object, &["Name", "ItemName", "DisplayName", "Key"]),
                FIELD_NAME_MAX_CHARS,
            )?;
            Some(PolicyItem {
                name,
                required: flag(field(object, &["Required", "IsRequired", "Mandatory"]))
                    .unwrap_or(false),
                validation: validation(object),
            })
        }
        _ => None,
    }
}

/// An entry of an object keyed by item name.
fn keyed_item(name: &str, spec: &Value) -> Option<PolicyItem> {
    let name = from_wire(name, FIELD_NAME_MAX_CHARS).trim().to_owned();
    if name.is_empty() {
        return None;
    }
    let (required, validation) = match spec {
        Value::Object(object) => (
            flag(field(object, &["Required", "IsRequired", "Mandatory"])).unwrap_or(false),
            validation(object),
        ),
        other => (flag(Some(other)).unwrap_or(false), Validation::None),
    };
    Some(PolicyItem {
        name,
        required,
        validation,
    })
}

/// An item's check: a `Validation` object, or its two properties flat on the item.
fn validation(item: &Map<String, Value>) -> Validation {
    let nested = match field(item, &["Validation", "ItemValidation"]) {
        Some(Value::Object(inner)) => Some(inner),
        _ => None,
    };
    let source = nested.unwrap_or(item);
    let kind = field(source, &["ValidationType", "Type"]);
    let data = text(
        field(
            source,
            &[
                "ValidationData",
                "Data",
                "RegularExpression",
                "Regex",
                "ValidationExpression",
            ],
        ),
        VALUE_MAX_CHARS,
    )
    .unwrap_or_default();
    let kind_name = match kind {
        Some(Value::String(name)) => strip_nuls(name).trim().to_ascii_lowercase(),
        // The enum's numbers are not documented: a number says only that there is a check.
        Some(Value::Number(n)) if n.as_i64() == Some(0) && data.is_empty() => {
            return Validation::None;
        }
        Some(Value::Number(_)) => String::new(),
        _ if data.is_empty() => return Validation::None,
        // Data without a kind: a pattern is the usual thing to find there.
        _ => "regularexpression".to_owned(),
    };
    match kind_name.as_str() {
        "none" | "" if data.is_empty() => Validation::None,
        "regularexpression" | "regex" => Validation::RegularExpression(data),
        "datatype" => Validation::DataType(data),
        "custom" => Validation::Custom(data),
        _ => Validation::Other(data),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn items(policy: &WorkflowPolicy) -> Vec<(String, bool, Validation)> {
        policy
            .data_collection
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|i| (i.name, i.required, i.validation))
            .collect()
    }

    #[test]
    fn odd_policy_shapes_are_read_and_unknown_keys_ignored() {
        let keyed = policy_from_json(&json!({
            "APPROVALSNEEDED": "3",
            "enrollAgentRequired": 1,
            "SomethingNew": {"deep": [1, 2]},
            "PolicyDataCollection": {"EmployeeID": {"IsRequired": "yes", "Regex": "^E"}, "Cost": true, "": true},
        }))
        .expect("an object");
        assert_eq!(keyed.approvals_needed, 3);
        assert!(keyed.enroll_agent_required);
        assert_eq!(keyed.enabled, None);
        assert_eq!(
            items(&keyed),
            vec![
                ("Cost".into(), true, Validation::None),
                (
                    "EmployeeID".into(),
                    true,
                    Validation::RegularExpression("^E".into())
                ),
            ]
        );
        let wrapped = policy_from_json(&json!({
            "PolicyDataCollection": {"$values": [{"name": "A", "validation": {"validationType": "DataType", "validationData": "Integer"}}, 7, null, {"NoName": 1}]},
        }))
        .expect("an object");
        assert_eq!(
            items(&wrapped),
            vec![("A".into(), false, Validation::DataType("Integer".into()))]
        );
        let null = policy_from_json(&json!({"PolicyDataCollection": null})).expect("object");
        assert_eq!(null.data_collection, Some(Vec::new()));
        let missing = policy_from_json(&json!({"ApprovalsNeeded": -2})).expect("object");
        assert_eq!(
            (missing.approvals_needed, missing.data_collection),
            (0, None)
        );
        let xml = policy_from_json(&json!({"PolicyDataCollection": "<items/>"})).expect("object");
        assert_eq!(xml.data_collection, None, "text that is not JSON: unknown");
        assert_eq!(policy_from_json(&json!([1])), Err("a JSON array"));
    }

    #[test]
    fn hostile_names_are_cleaned_and_the_count_is_bounded() {
        let many: Vec<Value> = (0..500).map(|i| json!(format!("Item{i}"))).collect();
        let policy = policy_from_json(&json!({"PolicyDataCollection": many})).expect("object");
        assert_eq!(items(&policy).len(), MAX_POLICY_ITEMS);
        let odd = policy_from_json(&json!({"PolicyDataCollection": ["Na\u{202e}me\u{0}", "   "]}))
            .expect("object");
        let names = items(&odd);
        assert_eq!(names.len(), 1);
        assert!(!names[0].0.contains('\u{202e}'), "{:?}", names[0].0);
    }

    #[test]
    fn bodies_are_written_as_the_reference_shows_them() {
        let request = NewRequest {
            kind: RequestType::TEMPORARY_CARD_ENROLL,
            template: Some(Uuid::from_u128(1)),
            target: None,
            smartcard: None,
            data: vec![crate::domain::request::DataItem {
                name: "EmployeeID".into(),
                value: None,
            }],
            comment: String::new(),
            priority: Some(4),
        };
        let body = serde_json::to_value(CreateRequestBody::new(&request)).expect("json");
        assert_eq!(
            body,
            json!({
                "profiletemplateuuid": "00000000-0000-0000-0000-000000000001",
                "datacollection": [{"EmployeeID": ""}],
                "type": "TemporaryCards",
                "comment": "",
                "priority": 4,
            })
        );
        let status = serde_json::to_value(StatusBody::new(StatusChange::Abandon)).expect("json");
        assert_eq!(status, json!({"status": "Abandoned"}));
        assert_eq!(
            policy_type(RequestType::TEMPORARY_CARD_ENROLL),
            Some("temporaryenroll")
        );
        assert_eq!(policy_type(RequestType::DISABLE), None);
        assert_eq!(
            uuid_from_uri("api/v1.0/requests/a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099"),
            parse_guid("a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099")
        );
    }
}
