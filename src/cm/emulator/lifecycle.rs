//! The lifecycle routes: `POST requests` (create-request),
//! `GET profiletemplates/{id}/policies/{type}` (get-workflow-policy) and
//! `GET requests/{r}/smartcards/{s}/authenticationresponse`
//! (get-smartcard-authentication-response, in `lifecycle/unblock.rs` with
//! its 3DES), with the switches for what the reference leaves open
//! ([`LifecycleRules`]).
//!
//! Modelled on the MIM CM REST reference (MicrosoftDocs/MIMDocs,
//! `MIMDocs/reference/*.md`) and the FIM CM 2010 SDK, not on the station's
//! client. `PUT requests/{id}` lives in `status.rs`; its transitions are
//! switched here ([`Transitions`]).

use std::collections::HashMap;

use super::*;

mod des;
mod unblock;

pub(super) use unblock::authentication_response;

/// The rules the reference leaves open, each a switch; the default is the
/// reference's letter where it has one. Set with [`Emulator::set_lifecycle_rules`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LifecycleRules {
    /// Which status a `PUT requests/{id}` may change from.
    pub transitions: Transitions,
    /// How `PolicyDataCollection` is written in a workflow policy.
    pub policy_shape: PolicyShape,
    /// Which URL serves the workflow policy.
    pub policy_route: PolicyRoute,
    /// Whether `authenticationresponse` insists on `diversified`.
    pub diversified: DiversifiedParameter,
    /// Which `datacollection` forms `POST requests` accepts.
    pub data_collection: DataCollectionForm,
    /// What giving an offline unblock response does to its OfflineUnblock request.
    pub unblock_completion: UnblockCompletion,
    /// Make this many coming status changes (`PUT requests/{id}`) and
    /// created requests (`POST requests`), then break the connection
    /// mid-answer: the work is done and the answer lost, as a proxy or
    /// network that drops it. For the station's reconciliation.
    pub drop_answers_after_commit: u32,
}

/// Replaces the answer to a committed status change or creation by a broken
/// connection when [`LifecycleRules::drop_answers_after_commit`] says so.
pub(super) fn maybe_drop(state: &mut EmulatorState, committed: Response) -> Response {
    if state.lifecycle.rules.drop_answers_after_commit == 0 {
        return committed;
    }
    state.lifecycle.rules.drop_answers_after_commit -= 1;
    // A body that fails makes the server abort the connection mid-answer.
    let broken = futures_util::stream::iter([Err::<Bytes, io::Error>(io::Error::other(
        "the emulator drops this answer",
    ))]);
    let mut response = Response::new(axum::body::Body::from_stream(broken));
    *response.status_mut() = committed.status();
    response
}

/// From which statuses a request may be abandoned or canceled. The reference
/// lists the three values and no rule (cancel-abandon-complete-request);
/// the SDK says `Abandon` is for "a FIM CM request that has been previously
/// approved" (RequestOperations, bb468112) and calls Canceled and Denied final
/// (RequestStatus, bb490434). Completed is allowed from Executing in each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Transitions {
    /// Cancel before execution (Pending, Approved); abandon once approved
    /// (Approved, Executing). The emulator's first reading.
    #[default]
    CancelBeforeExecution,
    /// Cancel only what is not approved yet (Pending): an approved request
    /// is abandoned, the SDK's split.
    CancelOnlyPending,
    /// Cancel or abandon any open request (Pending, Approved, Executing).
    AnyOpen,
}

impl Transitions {
    /// The statuses (name, number) `mark` may be set from.
    pub(super) fn allowed_from(self, mark: &str) -> &'static [(&'static str, i64)] {
        const PENDING: (&str, i64) = ("Pending", 16);
        const APPROVED: (&str, i64) = ("Approved", 3);
        const EXECUTING: (&str, i64) = ("Executing", 18);
        match (mark, self) {
            ("Completed", _) => &[EXECUTING],
            ("Canceled", Transitions::CancelBeforeExecution) => &[PENDING, APPROVED],
            ("Canceled", Transitions::CancelOnlyPending) => &[PENDING],
            ("Abandoned", Transitions::AnyOpen) | ("Canceled", Transitions::AnyOpen) => {
                &[PENDING, APPROVED, EXECUTING]
            }
            ("Abandoned", _) => &[APPROVED, EXECUTING],
            _ => &[],
        }
    }
}

/// What `authenticationresponse` does to an OfflineUnblock request. The
/// reference is silent: get-smartcard-authentication-response "Gets the
/// response to a Base CSP authentication challenge" and says nothing of the
/// request; cancel-abandon-complete-request marks a request Completed and
/// says nothing of which requests need it. The SDK keeps the two apart
/// (ExecuteOperations.GetBaseCspResponse "Calculate and return the Base CSP
/// response to a provided challenge"; ExecuteOperations.Complete "Marks a
/// FIM CM request as complete", bb468108), and RequestStatus (bb490434)
/// calls Executing "being completed". Requests of other types are left
/// as they are in both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UnblockCompletion {
    /// The response starts the request's execution (Approved becomes
    /// Executing) and the client marks it Completed (`PUT requests/{id}`,
    /// allowed from Executing as every completion is): the SDK's two
    /// calls, one after the other. The emulator's first reading.
    #[default]
    ClientCompletes,
    /// CM completes the request itself when it gives the response (Status
    /// Completed, its `Completed` time set): a later `PUT` Completed is
    /// refused as for any completed request, and so is a second response.
    ResponseCompletes,
}

/// The shape of `PolicyDataCollection`. get-workflow-policy names the
/// property ("The data collection items that are associated with the
/// policy") and shows no body ("body coming soon"); the SDK has a
/// `DataCollection` class of `DataCollectionItem`s (Name, Required,
/// Validation {ValidationType, ValidationData}, Storage).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PolicyShape {
    /// A JSON array of SDK items in PascalCase, as Json.NET writes a collection.
    #[default]
    SdkList,
    /// An object wrapping the array (`{"Count":2,"Items":[...]}`), as a
    /// collection class with properties of its own may be written.
    Wrapped,
    /// Every key in camelCase, flags as strings, the validation flat on the item.
    CamelCase,
    /// The item names only.
    NamesOnly,
    /// The SDK list as JSON text inside a string (as create-request's own
    /// examples send `datacollection`).
    JsonText,
    /// No `PolicyDataCollection` key at all.
    Absent,
}

/// The workflow policy's URL: get-workflow-policy's table says
/// `profiletemplates/{id}/policy/workflow/{type}`, its examples and the
/// controller table `profiletemplates/{id}/policies/{type}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PolicyRoute {
    /// `policies/{type}` only (examples, controller table).
    #[default]
    Policies,
    /// `policy/workflow/{type}` only (the URL table).
    PolicyWorkflow,
    /// Both.
    Both,
}

/// get-smartcard-authentication-response marks `diversified` "Required"
/// and shows `diversified=False` in its example; whether a server refuses a
/// call without it is not shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DiversifiedParameter {
    /// Missing: 400, as ASP.NET answers a missing required parameter.
    #[default]
    Required,
    /// Missing means False.
    Optional,
}

/// The `datacollection` of `POST requests`: create-request's examples 1 and
/// 2 send a string (`"[]"`), example 3 an array of one-key objects, the
/// walkthrough a string with typographic quotes; responses use `{Name, Value}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DataCollectionForm {
    /// Any of them.
    #[default]
    Any,
    /// Only JSON text in a string.
    JsonText,
    /// Only an array.
    List,
}

/// One data item of an emulated workflow policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmulatedItem {
    /// Its name.
    pub name: String,
    /// Whether a value is required.
    pub required: bool,
    /// A regular expression the value must match, if any.
    pub pattern: Option<String>,
}

/// An emulated workflow policy: what [`PolicyShape`] writes out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmulatedPolicy {
    /// `ApprovalsNeeded`: a request created under it starts Pending when above 0.
    pub approvals_needed: u32,
    /// `EnrollAgentRequired`, also the new request's `IsEnrollmentAgent`.
    pub enroll_agent_required: bool,
    /// `PolicyDataCollection`.
    pub items: Vec<EmulatedItem>,
}

impl Default for EmulatedPolicy {
    /// No approvals, an agent required, an employee ID (required, checked)
    /// and a reason (optional): a typical card workflow.
    fn default() -> Self {
        EmulatedPolicy {
            approvals_needed: 0,
            enroll_agent_required: true,
            items: vec![
                EmulatedItem {
                    name: "EmployeeID".into(),
                    required: true,
                    pattern: Some("^E[0-9]{4}$".into()),
                },
                EmulatedItem {
                    name: "Reason".into(),
                    required: false,
                    pattern: None,
                },
            ],
        }
    }
}

/// The lifecycle part of the emulator's state.
#[derive(Debug, Default)]
pub(super) struct Lifecycle {
    pub(super) rules: LifecycleRules,
    /// Admin keys of templates set one by one; the others use
    /// [`FAKE_DEFAULT_ADMIN_KEY_HEX`], the key their smart card configuration shows.
    admin_keys: HashMap<Uuid, [u8; 24]>,
    /// Policies set one by one, by template and policy type (lower case).
    policies: HashMap<(Uuid, String), EmulatedPolicy>,
    /// Requests made by `POST requests`.
    created: usize,
}

impl Emulator {
    /// Switches the lifecycle rules; takes effect with the next call.
    pub fn set_lifecycle_rules(&self, rules: LifecycleRules) {
        lock(&self.state).lifecycle.rules = rules;
    }

    /// The lifecycle rules in force.
    pub fn lifecycle_rules(&self) -> LifecycleRules {
        lock(&self.state).lifecycle.rules
    }

    /// Sets one template's policy for one workflow (`policy_type` as
    /// get-workflow-policy names it, any case: `enroll`, `retire`,
    /// `temporaryenroll`, ...). Without it every workflow has [`EmulatedPolicy::default`].
    pub fn set_workflow_policy(&self, template: Uuid, policy_type: &str, policy: EmulatedPolicy) {
        lock(&self.state)
            .lifecycle
            .policies
            .insert((template, policy_type.to_ascii_lowercase()), policy);
    }

    /// Sets the demo's workflow policies ([`crate::cm::demo_data::DEMO_POLICIES`]),
    /// each with the default policy's data items: what the window's demo
    /// mode shows for a Pending request. Tests that want the plain default
    /// do not call it.
    pub fn seed_demo_policies(&self) {
        for demo in crate::cm::demo_data::DEMO_POLICIES {
            self.set_workflow_policy(
                demo.template,
                demo.policy_type,
                EmulatedPolicy {
                    approvals_needed: demo.approvals_needed,
                    enroll_agent_required: demo.enroll_agent_required,
                    ..EmulatedPolicy::default()
                },
            );
        }
    }

    /// Sets one template's 3DES admin key (what its cards answer challenges with).
    pub fn set_admin_key(&self, template: Uuid, key: [u8; 24]) {
        lock(&self.state).lifecycle.admin_keys.insert(template, key);
    }

    /// How many requests `POST requests` created.
    pub fn created_requests(&self) -> usize {
        lock(&self.state).lifecycle.created
    }
}

// ---------------------------------------------------------------------------
// The emulator's own tables, from the reference pages
// ---------------------------------------------------------------------------

/// create-request's `type` values, and the number `enums.md` gives each
/// (None: known only by name, stored as the name).
const CREATE_TYPES: [(&str, Option<i64>); 12] = [
    ("Enroll", Some(1)),
    ("Duplicate", Some(6)),
    ("OfflineUnblock", None),
    ("OnlineUpdate", Some(10)),
    ("Renew", Some(3)),
    ("Recover", Some(2)),
    ("RecoverOnBehalf", Some(8)),
    ("Reinstate", None),
    ("Retire", Some(7)),
    ("Revoke", None),
    ("TemporaryCards", Some(11)),
    ("Unblock", Some(5)),
];

/// The types that act on an existing card and name it in `smartcard`
/// (create-request's Unblock example; the SDK's Initiate* methods for them
/// take a smart card).
const CARD_TYPES: [&str; 6] = [
    "OfflineUnblock",
    "OnlineUpdate",
    "Reinstate",
    "Retire",
    "Revoke",
    "Unblock",
];

/// get-workflow-policy's `type` values.
const POLICY_TYPES: [&str; 12] = [
    "Enroll",
    "Duplicate",
    "OfflineUnblock",
    "OnlineUpdate",
    "Renew",
    "Recover",
    "RecoverOnBehalf",
    "Reinstate",
    "Retire",
    "Revoke",
    "TemporaryEnroll",
    "Unblock",
];

/// The policy type a created request's workflow has (create-request says
/// TemporaryCards, get-workflow-policy TemporaryEnroll).
fn policy_type_of(create_type: &str) -> String {
    if create_type == "TemporaryCards" {
        "temporaryenroll".to_owned()
    } else {
        create_type.to_ascii_lowercase()
    }
}

fn policy_of(state: &EmulatorState, template: Uuid, policy_type: &str) -> EmulatedPolicy {
    state
        .lifecycle
        .policies
        .get(&(template, policy_type.to_owned()))
        .cloned()
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// POST requests
// ---------------------------------------------------------------------------

/// The body's `datacollection` as name/value pairs, in the forms
/// [`DataCollectionForm`] accepts; `Err` is the 400's detail.
fn data_collection(
    value: Option<&Value>,
    form: DataCollectionForm,
) -> Result<Vec<(String, Option<String>)>, BadBody> {
    let list = match value {
        None => return Err(BadBody::Missing("datacollection")),
        Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(text)) if form != DataCollectionForm::List => {
            // The walkthrough's own example has typographic quotes.
            let text = text.replace(['\u{201c}', '\u{201d}'], "\"");
            match parse_lenient_json(text.trim()) {
                Ok(Value::Array(items)) => items,
                _ => return Err(BadBody::DataCollectionText(text)),
            }
        }
        Some(Value::Array(items)) if form != DataCollectionForm::JsonText => items.clone(),
        Some(other) => {
            return Err(BadBody::DataCollectionShape {
                value: other.clone(),
                accepted: match form {
                    DataCollectionForm::Any => "a JSON array, or one in a string",
                    DataCollectionForm::JsonText => "a JSON array in a string",
                    DataCollectionForm::List => "a JSON array",
                },
            });
        }
    };
    let mut pairs = Vec::new();
    for item in list {
        let Value::Object(object) = item else {
            return Err(BadBody::DataCollectionItem(item));
        };
        let text = |v: &Value| match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        };
        match get_key(&object, "Name") {
            // {Name, Value}, as responses write it.
            Some(Value::String(name)) if get_key(&object, "Value").is_some() => {
                pairs.push((name.clone(), get_key(&object, "Value").and_then(text)));
            }
            // One-key objects, as create-request's third example writes them.
            _ => pairs.extend(object.iter().map(|(k, v)| (k.clone(), text(v)))),
        }
    }
    Ok(pairs)
}

/// `POST requests` (create-request): 201 and `"api/v1.0/requests/{uuid}"`.
pub(super) fn create_request(shared: &Shared, body: &[u8]) -> Response {
    let object = match parse_body(body) {
        Ok(Value::Object(object)) => object,
        Ok(_) => {
            return bad_request(
                BadBody::NotObject {
                    shape: "{\"profiletemplateuuid\",\"datacollection\",\"type\",\"comment\"}",
                }
                .to_string(),
            );
        }
        Err(detail) => return bad_request(detail.to_string()),
    };
    let mut state = lock(shared);
    let text = |key: &str| get_key(&object, key).and_then(Value::as_str).map(str::trim);
    let Some(type_text) = text("type") else {
        return bad_request("The body has no type.");
    };
    let Some(&(kind, number)) = CREATE_TYPES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(type_text))
    else {
        return bad_request(format!("'{type_text}' is not a request type."));
    };
    let guid = |key: &'static str| match get_key(&object, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => parse_guid(s).map(Some).ok_or(BadBody::NotGuid {
            key,
            text: s.clone(),
        }),
        Some(other) => Err(BadBody::NotGuid {
            key,
            text: other.to_string(),
        }),
    };
    let (template, target, smartcard) = match (
        guid("profiletemplateuuid"),
        guid("target"),
        guid("smartcard"),
    ) {
        (Ok(t), Ok(u), Ok(s)) => (t, u, s),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return bad_request(e.to_string()),
    };
    let comment = match get_key(&object, "comment") {
        Some(Value::String(c)) => c.clone(),
        Some(Value::Null) | None => return bad_request("The body has no comment."),
        Some(other) => other.to_string(),
    };
    let priority = match get_key(&object, "priority") {
        None | Some(Value::Null) => None,
        Some(value) => match status_number(&[], value) {
            Some(p) => Some(p),
            None => return bad_request(format!("priority {value} is not a number.")),
        },
    };
    let data = match data_collection(
        get_key(&object, "datacollection"),
        state.lifecycle.rules.data_collection,
    ) {
        Ok(data) => data,
        Err(detail) => return bad_request(detail.to_string()),
    };

    // A request on a card names the card; its template and user default to the card's.
    let on_card = CARD_TYPES.contains(&kind);
    let card = match (on_card, smartcard) {
        (true, None) => {
            let reason = format!("A {kind} request must name the smart card it acts on.");
            return wrong_request(&mut state, &reason);
        }
        (_, Some(card)) => match find_smartcard(&state, card) {
            Some(found) => Some(found.clone()),
            None => {
                let reason = format!("The smart card {} does not exist.", guid_to_wire(card));
                return server_error(&mut state, &reason);
            }
        },
        (false, None) => None,
    };
    if let Some(card) = card.as_ref().filter(|_| on_card) {
        let status = smartcard_status_number(card);
        // Retired (6) and Disabled (3) are final: nothing more is done to such a card.
        if matches!(status, Some(3 | 6)) {
            let reason = format!(
                "The smart card {} is {}; a {kind} request cannot be created for it.",
                card.uuid.as_deref().unwrap_or("?"),
                status_name(&SMARTCARD_STATUSES, status)
            );
            return wrong_request(&mut state, &reason);
        }
    }
    let card_field = |f: fn(&WireSmartcard) -> Option<&String>| {
        card.as_ref().and_then(f).and_then(|s| parse_guid(s))
    };
    let Some(template) = template.or_else(|| card_field(|c| c.profile_template_uuid.as_ref()))
    else {
        return bad_request("The body has no profiletemplateuuid.");
    };
    let Some(wire_template) = state
        .templates
        .iter()
        .find(|t| t.uuid.as_deref().and_then(parse_guid) == Some(template))
        .cloned()
    else {
        let reason = format!(
            "The profile template {} does not exist.",
            guid_to_wire(template)
        );
        return server_error(&mut state, &reason);
    };
    // "you can't specify an unblock operation on a software profile template" (create-request).
    if on_card && !wire_template.is_smartcard_profile_template {
        let reason = format!(
            "A {kind} request is not supported on the software profile template {}.",
            guid_to_wire(template)
        );
        return wrong_request(&mut state, &reason);
    }
    let caller = state.caller;
    let target = target
        .or_else(|| card_field(|c| c.assigned_user_uuid.as_ref()))
        .unwrap_or(caller);
    let policy = policy_of(&state, template, &policy_type_of(kind));
    let complete = policy.items.iter().filter(|i| i.required).all(|item| {
        data.iter().any(|(name, value)| {
            name.trim().eq_ignore_ascii_case(&item.name)
                && value.as_deref().is_some_and(|v| !v.trim().is_empty())
        })
    });
    let uuid = random_uuid(&mut state.rng);
    let nil = guid_to_wire(Uuid::nil());
    let old_card = if on_card { smartcard } else { None };
    let request = json!({
        "Uuid": guid_to_wire(uuid),
        "RequestType": number.map_or_else(|| json!(kind), |n| json!(n)),
        "Status": if policy.approvals_needed > 0 { 16 } else { 3 },
        "Flags": if wire_template.is_smartcard_profile_template { 2 } else { 0 },
        "DataCollection": data
            .iter()
            .map(|(name, value)| json!({ "Name": name, "Value": value }))
            .collect::<Vec<_>>(),
        "DataCollectionFlags": 0,
        "OriginatorUserUuid": guid_to_wire(caller),
        "TargetUserUuid": guid_to_wire(target),
        "Submitted": now_timestamp(),
        "Completed": "0001-01-01T00:00:00",
        "NewProfileUuid": nil,
        "OldProfileUuid": nil,
        "NewSmartcardUuid": nil,
        "OldSmartcardUuid": old_card.map_or_else(|| nil.clone(), guid_to_wire),
        "Priority": priority.unwrap_or(0),
        "Comment": comment,
        "ProfileTemplateUuid": guid_to_wire(template),
        "SecurityDescriptor": "O:SYG:SYD:(A;;CCLCSWRPWPDTLOCRRC;;;AU)\u{0}",
        "IsSmartcard": wire_template.is_smartcard_profile_template,
        "IsEnrollmentAgent": policy.enroll_agent_required,
        "IsDataCollectionComplete": complete,
    });
    let Value::Object(object) = request else {
        return server_error(&mut state, "The request could not be stored.");
    };
    state.requests.push(StoredRequest::new(object));
    state.lifecycle.created += 1;
    tracing::debug!(request = %uuid, kind, "CM emulator created a request");
    let relative = format!("api/v1.0/requests/{}", guid_to_wire(uuid));
    let mut response = json_response(StatusCode::CREATED, &Value::String(relative));
    let location = format!("{API_PATH}requests/{}", guid_to_wire(uuid));
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, value);
    }
    maybe_drop(&mut state, response)
}

// ---------------------------------------------------------------------------
// GET profiletemplates/{id}/policies/{type}
// ---------------------------------------------------------------------------

/// Which of the two policy URLs a call used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PolicyUrl {
    /// `policies/{type}`.
    Policies,
    /// `policy/workflow/{type}`.
    PolicyWorkflow,
}

/// `GET profiletemplates/{id}/policies/{type}` or `.../policy/workflow/{type}`.
pub(super) fn workflow_policy(
    shared: &Shared,
    uri: &Uri,
    url: PolicyUrl,
    template_id: &str,
    policy_type: &str,
) -> Response {
    let state = lock(shared);
    let served = match state.lifecycle.rules.policy_route {
        PolicyRoute::Policies => url == PolicyUrl::Policies,
        PolicyRoute::PolicyWorkflow => url == PolicyUrl::PolicyWorkflow,
        PolicyRoute::Both => true,
    };
    if !served {
        return no_route(uri);
    }
    let Some(template) = parse_guid(template_id) else {
        return bad_request(format!(
            "'{template_id}' is not a valid profile template ID."
        ));
    };
    let Some(&name) = POLICY_TYPES
        .iter()
        .find(|t| t.eq_ignore_ascii_case(policy_type.trim()))
    else {
        return bad_request(format!("'{policy_type}' is not a policy type."));
    };
    if !state
        .templates
        .iter()
        .any(|t| t.uuid.as_deref().and_then(parse_guid) == Some(template))
    {
        return unknown_object(&state, "profile template", template);
    }
    let policy = policy_of(&state, template, &name.to_ascii_lowercase());
    json_response(
        StatusCode::OK,
        &policy_json(&policy, state.lifecycle.rules.policy_shape),
    )
}

/// The policy as get-workflow-policy lists its properties, with an extra
/// one a subtype (EnrollPolicy, ...) might add, in the configured shape.
fn policy_json(policy: &EmulatedPolicy, shape: PolicyShape) -> Value {
    let sdk_item = |item: &EmulatedItem| {
        let (kind, data) = match &item.pattern {
            Some(pattern) => ("RegularExpression", pattern.clone()),
            None => ("None", String::new()),
        };
        json!({
            "Name": item.name,
            "Required": item.required,
            "Validation": { "ValidationType": kind, "ValidationData": data },
            "Storage": { "StorageType": "Database" },
            "Description": format!("{} of the person", item.name),
        })
    };
    let sdk_list: Vec<Value> = policy.items.iter().map(sdk_item).collect();
    let sddl = "O:SYG:SYD:(A;;CC;;;DA)";
    if shape == PolicyShape::CamelCase {
        let items: Vec<Value> = policy
            .items
            .iter()
            .map(|item| {
                json!({
                    "name": item.name,
                    "isRequired": item.required.to_string(),
                    "validationType": if item.pattern.is_some() { "RegularExpression" } else { "None" },
                    "validationData": item.pattern.clone().unwrap_or_default(),
                })
            })
            .collect();
        return json!({
            "approvalsNeeded": policy.approvals_needed.to_string(),
            "authorizedApprover": sddl,
            "collectComments": "true",
            "enabled": "true",
            "enrollAgentRequired": policy.enroll_agent_required.to_string(),
            "policyDataCollection": items,
            "selfServiceEnabled": "false",
        });
    }
    let mut object = json!({
        "ApprovalsNeeded": policy.approvals_needed,
        "AuthorizedApprover": sddl,
        "AuthorizedEnrollmentAgent": sddl,
        "AuthorizedInitiator": sddl,
        "CollectComments": true,
        "CollectRequestPriority": false,
        "DefaultRequestPriority": 0,
        "Documents": [],
        "Enabled": true,
        "EnrollAgentRequired": policy.enroll_agent_required,
        "OneTimePasswordPolicy": { "Enabled": false, "Distribution": [] },
        "Personalization": null,
        "SelfServiceEnabled": false,
        "EmailTemplates": { "Initiate": null },
    });
    let collection = match shape {
        PolicyShape::SdkList | PolicyShape::CamelCase => Some(Value::Array(sdk_list)),
        PolicyShape::Wrapped => Some(json!({ "Count": sdk_list.len(), "Items": sdk_list })),
        PolicyShape::NamesOnly => Some(json!(
            policy
                .items
                .iter()
                .map(|i| i.name.clone())
                .collect::<Vec<_>>()
        )),
        PolicyShape::JsonText => Some(Value::String(Value::Array(sdk_list).to_string())),
        PolicyShape::Absent => None,
    };
    if let (Some(collection), Value::Object(map)) = (collection, &mut object) {
        map.insert("PolicyDataCollection".into(), collection);
    }
    object
}
