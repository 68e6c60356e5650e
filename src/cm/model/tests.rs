//! Tests of the wire model, with the reference's own examples.

use super::*;
use serde_json::json;

const REQ: &str = "a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099";

#[test]
fn a_smart_card_configuration_keeps_only_its_reuse_flag() {
    const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef";
    for (json, allowed) in [
        (
            json!({"AllowSmartcardReuse": true, "DefaultAdminKeyHex": KEY}),
            true,
        ),
        (
            json!({"allowsmartcardreuse": "True", "defaultadminkeyhex": KEY}),
            true,
        ),
        (json!({"ALLOWSMARTCARDREUSE": 1}), true),
        (
            json!({"AllowSmartcardReuse": false, "DefaultAdminKeyHex": KEY}),
            false,
        ),
        // Absent: CM's default, no reuse.
        (json!({"DefaultAdminKeyHex": KEY, "Other": [1, 2]}), false),
    ] {
        let wire: WireSmartcardConfig =
            serde_json::from_value(json.clone()).expect("configuration parses");
        assert_eq!(wire.allow_smartcard_reuse, allowed, "{json}");
        assert!(!format!("{wire:?}").contains(KEY));
    }
}

fn request(json: Value) -> Result<Request, ModelError> {
    let wire: WireRequest = serde_json::from_value(json).expect("wire request parses");
    Request::try_from(wire)
}

/// The reference's own example request, extra keys and all.
fn reference_request() -> Value {
    json!({
        "Uuid": REQ,
        "RequestType": 1,
        "Status": 3,
        "Flags": 2,
        "DataCollection": [
            {"Name": "FirstName", "Value": "Jane"},
            {"Name": "Middle", "Value": null}
        ],
        "DataCollectionFlags": 32,
        "OriginatorUserUuid": "c6bad97c-5c37-4a55-a6a9-5d5b6a0dfe30",
        "TargetUserUuid": "c6bad97c-5c37-4a55-a6a9-5d5b6a0dfe30",
        "Submitted": "2015-07-07T23:36:21.93Z",
        "Completed": "0001-01-01T00:00:00",
        "NewProfileUuid": "00000000-0000-0000-0000-000000000000",
        "OldProfileUuid": "00000000-0000-0000-0000-000000000000",
        "NewSmartcardUuid": "00000000-0000-0000-0000-000000000000",
        "OldSmartcardUuid": "00000000-0000-0000-0000-000000000000",
        "Priority": 0,
        "Comment": "",
        "ProfileTemplateUuid": "17cf063d-e337-4aa9-a822-346554ddd3c9",
        "SecurityDescriptor": "O:SYG:SYD:(A;;RPWPCCDCLCSWRCWDWOGA;;;SY)\u{0}",
        "IsSmartcard": true,
        "IsEnrollmentAgent": true,
        "IsDataCollectionComplete": true,
        "SomethingNew": {"Nested": [1, 2]}
    })
}

#[test]
fn the_reference_request_converts() {
    let r = request(reference_request()).expect("converts");
    assert_eq!(r.uuid, Uuid::parse_str(REQ).expect("guid"));
    assert_eq!(r.status, RequestStatus::APPROVED);
    assert_eq!(r.request_type, RequestType::ENROLL);
    assert_eq!(
        r.submitted.map(format_cm_time).as_deref(),
        Some("2015-07-07T23:36:21.93Z")
    );
    assert_eq!(r.new_smartcard, None);
    assert!(r.profile_template.is_some());
    assert!(r.is_smartcard && r.is_enrollment_agent);
    assert_eq!(r.comment, None);
    assert!(r.is_bindable());
}

#[test]
fn quirk_unknown_keys_are_ignored_and_missing_ones_defaulted() {
    let r = request(json!({"Uuid": REQ, "Brand": "new", "Status": 16})).expect("converts");
    assert_eq!(r.status, RequestStatus::PENDING);
    assert_eq!(r.priority, 0);
    assert!(r.data_collection.is_empty());
    assert!(!r.is_smartcard);
    assert_eq!(r.request_type.to_string(), "Unknown(-1)");
}

#[test]
fn quirk_enums_as_numbers_or_names_in_any_case() {
    for (status, expected) in [
        (json!(3), RequestStatus::APPROVED),
        (json!("Approved"), RequestStatus::APPROVED),
        (json!("EXECUTING"), RequestStatus::EXECUTING),
        (json!("pending"), RequestStatus::PENDING),
        (json!("8"), RequestStatus::COMPLETED),
        (json!(18.0), RequestStatus::EXECUTING),
        (json!(42), RequestStatus(42)),
        (json!("Exploded"), RequestStatus(-1)),
        (json!(null), RequestStatus(-1)),
        (json!([3]), RequestStatus(-1)),
    ] {
        let r = request(json!({"Uuid": REQ, "Status": status.clone(), "RequestType": "renew"}))
            .expect("converts");
        assert_eq!(r.status, expected, "{status}");
        assert_eq!(r.request_type, RequestType::RENEW);
    }
    let r = request(json!({"Uuid": REQ, "Status": 42})).expect("converts");
    assert_eq!(r.status.to_string(), "Unknown(42)");
}

#[test]
fn quirk_guids_in_any_dress() {
    let upper = REQ.to_uppercase();
    for form in [
        REQ.to_string(),
        upper.clone(),
        format!("{{{REQ}}}"),
        format!("{{{upper}}}"),
        format!(" {upper}"),
        format!("{REQ} \u{0}\u{0}"),
        format!(" {{{REQ}}} ,"),
        REQ.replace('-', ""),
    ] {
        let r = request(json!({"Uuid": form})).expect("converts");
        assert_eq!(r.uuid.to_string(), REQ, "{form:?}");
    }
}

#[test]
fn quirk_all_zero_guids_mean_none() {
    let r = request(json!({
        "Uuid": REQ,
        "NewSmartcardUuid": "{00000000-0000-0000-0000-000000000000}",
        "TargetUserUuid": "00000000000000000000000000000000",
        "ProfileTemplateUuid": null,
    }))
    .expect("converts");
    assert_eq!(r.new_smartcard, None);
    assert_eq!(r.target_user, None);
    assert_eq!(r.profile_template, None);
    let bound = request(json!({"Uuid": REQ, "Status": 3,
        "NewSmartcardUuid": "17CF063D-E337-4AA9-A822-346554DDD3C9"}))
    .expect("converts");
    assert!(bound.new_smartcard.is_some());
    assert!(!bound.is_bindable());
}

#[test]
fn missing_or_broken_request_uuid_is_a_clear_error() {
    assert_eq!(
        request(json!({"Status": 3})),
        Err(ModelError::Missing {
            object: "request",
            field: "Uuid"
        })
    );
    assert_eq!(
        request(json!({"Uuid": null})),
        Err(ModelError::Missing {
            object: "request",
            field: "Uuid"
        })
    );
    assert_eq!(
        request(json!({"Uuid": "00000000-0000-0000-0000-000000000000"})),
        Err(ModelError::Missing {
            object: "request",
            field: "Uuid"
        })
    );
    let err = request(json!({"Uuid": "not-a-guid"})).expect_err("refused");
    assert_eq!(
        err.to_string(),
        "the request's Uuid \"not-a-guid\" is not a GUID"
    );
}

#[test]
fn quirk_nul_characters_are_removed() {
    let wire: WireRequest = serde_json::from_value(json!({
        "Uuid": format!("{REQ}\u{0}"),
        "SecurityDescriptor": "O:SYG:SYD:(A;;CC;;;AU)\u{0}\u{0}",
        "Comment": "new\u{0} hire\u{0}",
        "DataCollection": [{"Name": "LastName\u{0}", "Value": "Doe\u{0}"}],
    }))
    .expect("parses");
    assert_eq!(
        wire.security_descriptor.as_deref(),
        Some("O:SYG:SYD:(A;;CC;;;AU)")
    );
    let r = Request::try_from(wire).expect("converts");
    assert_eq!(r.comment.as_deref(), Some("new hire"));
    assert_eq!(r.data_collection[0].name, "LastName");
    assert_eq!(r.data_collection[0].value.as_deref(), Some("Doe"));
}

#[test]
fn quirk_dotnet_min_date_means_not_completed() {
    let wire: WireRequest = serde_json::from_value(reference_request()).expect("parses");
    assert_eq!(wire.completed.as_deref(), Some(DOTNET_MIN_DATE));
    assert_eq!(wire.completed_at(), None);
    let done: WireRequest =
        serde_json::from_value(json!({"Completed": "2015-07-08T10:00:00.5Z"})).expect("parses");
    assert_eq!(done.completed_at(), Some("2015-07-08T10:00:00.5Z"));
    let never =
        request(json!({"Uuid": REQ, "Submitted": "0001-01-01T00:00:00"})).expect("converts");
    assert_eq!(never.submitted, None);
}

#[test]
fn submitted_is_read_as_an_instant_in_any_offset() {
    let utc = |text: &str| parse_cm_time(text).map(format_cm_time);
    for (text, expected) in [
        ("2015-07-07T23:36:21.93Z", Some("2015-07-07T23:36:21.93Z")),
        ("2015-07-07T23:36:21Z", Some("2015-07-07T23:36:21Z")),
        (
            "2015-07-07T23:36:21.9300000Z",
            Some("2015-07-07T23:36:21.93Z"),
        ),
        (
            "2015-07-07T23:36:21.1234567Z",
            Some("2015-07-07T23:36:21.1234567Z"),
        ),
        // More digits than nanoseconds: cut, not refused.
        (
            "2015-07-07T23:36:21.123456789123Z",
            Some("2015-07-07T23:36:21.123456789Z"),
        ),
        (
            "2015-07-08T00:36:21.93+01:00",
            Some("2015-07-07T23:36:21.93Z"),
        ),
        ("2015-07-07T18:06:21-05:30", Some("2015-07-07T23:36:21Z")),
        ("2015-07-07t23:36:21z", Some("2015-07-07T23:36:21Z")),
        // No zone: CM's dates are UTC.
        ("2015-07-07T23:36:21.93", Some("2015-07-07T23:36:21.93Z")),
        (" 2015-07-07T23:36:21Z\u{0}", Some("2015-07-07T23:36:21Z")),
        // .NET's "never", with or without a zone or fraction.
        ("0001-01-01T00:00:00", None),
        ("0001-01-01T00:00:00Z", None),
        ("0001-01-01T00:00:00.0000000", None),
        ("", None),
        ("   ", None),
        ("yesterday", None),
        ("2015-13-07T23:36:21Z", None),
        ("2015-07-07T23:36:21Zjunk", None),
        ("2015-07-07T23:36:21\u{7}Z", None),
    ] {
        assert_eq!(utc(text).as_deref(), expected, "{text:?}");
    }
    let huge = format!("2015-07-07T23:36:21.{}Z", "9".repeat(1 << 20));
    assert_eq!(parse_cm_time(&huge), None, "a megabyte date is not read");
    let r = request(json!({"Uuid": REQ, "Submitted": "2015-07-08T00:36:21.93+01:00"}))
        .expect("converts");
    let wire = WireRequest::from_domain(&r);
    assert_eq!(wire.submitted.as_deref(), Some("2015-07-07T23:36:21.93Z"));
    let broken = request(json!({"Uuid": REQ, "Submitted": "soon"})).expect("converts");
    assert_eq!(broken.submitted, None);
    let number = request(json!({"Uuid": REQ, "Submitted": 1_436_311_000})).expect("converts");
    assert_eq!(number.submitted, None);
}

#[test]
fn quirk_keys_in_another_case_are_read_when_the_pascal_case_one_is_missing() {
    let lower: serde_json::Map<String, Value> = reference_request()
        .as_object()
        .expect("object")
        .iter()
        .map(|(k, v)| (k.to_lowercase(), v.clone()))
        .collect();
    let expected = request(reference_request()).expect("converts");
    assert_eq!(request(Value::Object(lower)), Ok(expected.clone()));
    let camel = json!({
        "uuid": REQ, "requestType": "enroll", "status": "approved",
        "isSmartcard": true, "IsSmartCard": false, "IsSmartcard": true,
        "UUID": "00000000-0000-0000-0000-000000000001",
        "newSmartcardUuid": "00000000-0000-0000-0000-000000000000",
        "submitted": "2015-07-07T23:36:21.93Z",
        "dataCollection": [{"name": "FirstName", "VALUE": "Jane"}],
        " Priority ": 4,
    });
    let r = request(camel).expect("converts");
    assert_eq!(
        r.uuid, expected.uuid,
        "the second, other-cased Uuid is ignored"
    );
    assert_eq!(r.request_type, RequestType::ENROLL);
    assert_eq!(r.status, RequestStatus::APPROVED);
    assert!(
        r.is_smartcard,
        "IsSmartcard in PascalCase wins over IsSmartCard"
    );
    assert_eq!(r.submitted, expected.submitted);
    assert_eq!(r.data_collection[0].value.as_deref(), Some("Jane"));
    assert_eq!(r.priority, 4);
    assert!(r.is_bindable());
    // The PascalCase key wins wherever it stands.
    let r = request(json!({"Uuid": REQ, "Status": 3, "status": 16})).expect("converts");
    assert_eq!(r.status, RequestStatus::APPROVED);
    let r = request(json!({"status": 16, "Uuid": REQ, "Status": 3})).expect("converts");
    assert_eq!(r.status, RequestStatus::APPROVED);

    let card: WireSmartcard = serde_json::from_value(json!({
        "uuid": "17cf063d-e337-4aa9-a822-346554ddd3c9", "STATUS": 6,
        "serialNumber": "{BC88F13F-83BA-4037-8262-46EBA1291C6E}", "atr": "3B8D01",
    }))
    .expect("parses");
    let card = Smartcard::try_from(card).expect("converts");
    assert_eq!(card.status, SmartcardStatus::RETIRED);
    assert!(card.card_id.is_some() && card.atr.is_some());
    let template: WireProfileTemplate = serde_json::from_value(json!({
        "name": "Smartcard User", "uuid": "17cf063d-e337-4aa9-a822-346554ddd3c9",
        "isSmartcardProfileTemplate": true,
    }))
    .expect("parses");
    let template = ProfileTemplate::try_from(template).expect("converts");
    assert_eq!(template.name, "Smartcard User");
    assert!(template.is_smartcard);
}

#[test]
fn hostile_objects_are_read_or_refused_without_harm() {
    let long = "x".repeat(1 << 20);
    let mut object = serde_json::Map::new();
    object.insert("Uuid".into(), json!(REQ));
    object.insert(long.clone(), json!(long.clone()));
    object.insert("Comment".into(), json!(format!("a\u{1b}[31mb{long}")));
    object.insert("RequestType".into(), json!(format!("Retire\u{0}{long}")));
    let r = request(Value::Object(object)).expect("converts");
    assert_eq!(r.request_type, RequestType(-1), "an unknown name");
    // One rule for text from the wire: the escape is marked, the megabyte cut.
    let comment = r.comment.expect("a comment");
    assert!(comment.starts_with("a<U+001B>[31mbxxx"), "{comment}");
    assert_eq!(
        comment.chars().count(),
        crate::domain::text::COMMENT_MAX_CHARS
    );
    assert!(comment.ends_with('…'));
    assert!(serde_json::from_value::<WireRequest>(json!(null)).is_err());
    assert!(serde_json::from_value::<WireRequest>(json!("a string")).is_err());
    assert_eq!(
        serde_json::from_str::<WireRequest>("{\"Uuid\":1,\"uuid\":{\"a\":[]}}")
            .expect("parses")
            .uuid
            .as_deref(),
        Some("1")
    );
}

#[test]
fn types_and_card_states_in_every_spelling_on_the_wire() {
    for (value, expected) in [
        (json!("TemporaryCards"), RequestType::TEMPORARY_CARD_ENROLL),
        (json!("temporaryenroll"), RequestType::TEMPORARY_CARD_ENROLL),
        (
            json!("TemporaryCardEnroll"),
            RequestType::TEMPORARY_CARD_ENROLL,
        ),
        (json!(11), RequestType::TEMPORARY_CARD_ENROLL),
        (json!("11"), RequestType::TEMPORARY_CARD_ENROLL),
        (json!("Revoke"), RequestType::REVOKE),
        (json!("reinstate"), RequestType::REINSTATE),
        (json!("OFFLINEUNBLOCK"), RequestType::OFFLINE_UNBLOCK),
        (
            json!("SuspendOrReinstate"),
            RequestType::SUSPEND_OR_REINSTATE,
        ),
        (json!("retire"), RequestType::RETIRE),
        (json!(99), RequestType(99)),
        // The range kept for names is never a number from the wire.
        (json!(i64::from(RequestType::REVOKE.0)), RequestType(-1)),
    ] {
        let r = request(json!({"Uuid": REQ, "RequestType": value.clone()})).expect("converts");
        assert_eq!(r.request_type, expected, "{value}");
    }
    assert_eq!(RequestType(99).to_string(), "Unknown(99)");
    // A name with no number is sent by its REST name, a number as a number.
    assert_eq!(
        serde_json::to_value(WireEnum::from_domain(RequestType::REVOKE)).expect("json"),
        json!("Revoke")
    );
    assert_eq!(
        serde_json::to_value(WireEnum::from_domain(RequestType::RETIRE)).expect("json"),
        json!(7)
    );
    for (value, expected) in [
        (json!("Suspended"), SmartcardStatus::SUSPENDED),
        (json!("none"), SmartcardStatus::NONE),
        (json!(6), SmartcardStatus::RETIRED),
    ] {
        let wire: WireSmartcard = serde_json::from_value(
            json!({"Uuid": "17cf063d-e337-4aa9-a822-346554ddd3c9", "Status": value.clone()}),
        )
        .expect("parses");
        let card = Smartcard::try_from(wire).expect("converts");
        assert_eq!(card.status, expected, "{value}");
    }
    let r = request(json!({"Uuid": REQ, "RequestType": "revoke"})).expect("converts");
    let back = request(serde_json::to_value(WireRequest::from_domain(&r)).expect("json"))
        .expect("converts");
    assert_eq!(back.request_type, RequestType::REVOKE);
}

#[test]
fn quirk_data_collection_value_may_be_null_and_the_list_absent_or_null() {
    let r = request(reference_request()).expect("converts");
    assert_eq!(
        r.data_collection.as_slice(),
        [
            DataItem {
                name: "FirstName".into(),
                value: Some("Jane".into())
            },
            DataItem {
                name: "Middle".into(),
                value: None
            },
        ]
    );
    let r = request(json!({"Uuid": REQ, "DataCollection": null})).expect("converts");
    assert!(r.data_collection.is_empty());
    let r =
        request(json!({"Uuid": REQ, "DataCollection": [{"Name": "EmployeeId", "Value": 1234}]}))
            .expect("converts");
    assert_eq!(r.data_collection[0].value.as_deref(), Some("1234"));
}

#[test]
fn quirk_numbers_and_booleans_as_text() {
    let r = request(json!({"Uuid": REQ, "Priority": "5", "IsSmartcard": "True",
        "IsEnrollmentAgent": 1}))
    .expect("converts");
    assert_eq!(r.priority, 5);
    assert!(r.is_smartcard);
    assert!(r.is_enrollment_agent);
}

#[test]
fn quirk_trailing_commas_in_bodies_are_tolerated() {
    let body = "{\"requestid\":\" C6BAD97C-5C37-4A55-A6A9-5D5B6A0DFE30\",\n \"atr\":\"3b,\",\n}";
    let value = parse_lenient_json(body).expect("parses after fixing");
    assert_eq!(value["atr"], "3b,");
    assert_eq!(
        parse_guid(value["requestid"].as_str().expect("string")),
        Some(Uuid::parse_str("c6bad97c-5c37-4a55-a6a9-5d5b6a0dfe30").expect("guid"))
    );
    assert_eq!(strip_trailing_commas("[1,2 , ]"), "[1,2  ]");
    assert!(parse_lenient_json("{\"a\":,}").is_err());
    assert!(parse_lenient_json("<html>").is_err());
}

#[test]
fn smartcard_converts_with_braced_serial_and_atr() {
    let wire: WireSmartcard = serde_json::from_value(json!({
        "Uuid": "17cf063d-e337-4aa9-a822-346554ddd3c9",
        "Status": 1,
        "SerialNumber": "{BC88F13F-83BA-4037-8262-46EBA1291C6E}",
        "Middleware": "MSBaseCSP",
        "Atr": "3B8D0180FBA000000397425446590301C8",
        "AssignedUserUuid": "00000000-0000-0000-0000-000000000000",
        "Unexpected": true,
    }))
    .expect("parses");
    let card = Smartcard::try_from(wire).expect("converts");
    assert_eq!(card.status, SmartcardStatus::ASSIGNED);
    assert_eq!(
        card.card_id.map(|c| c.to_cm_string()).as_deref(),
        Some("bc88f13f-83ba-4037-8262-46eba1291c6e")
    );
    assert_eq!(
        card.atr.map(|a| a.to_hex()).as_deref(),
        Some("3b8d0180fba000000397425446590301c8")
    );
    assert_eq!(card.assigned_user, None);

    let odd: WireSmartcard =
        serde_json::from_value(json!({"Uuid": "{17CF063D-E337-4AA9-A822-346554DDD3C9}",
            "Status": "Retired", "SerialNumber": "12345", "Atr": ""}))
        .expect("parses");
    let card = Smartcard::try_from(odd).expect("converts");
    assert_eq!(card.status, SmartcardStatus::RETIRED);
    assert_eq!(card.card_id, None);
    assert_eq!(card.atr, None);
    assert!(Smartcard::try_from(WireSmartcard::default()).is_err());
}

#[test]
fn bind_body_uses_the_reference_formats() {
    let card = CardId::parse_cm_string("{BC88F13F-83BA-4037-8262-46EBA1291C6E}").expect("id");
    let atr = Atr::parse_hex("3B 8D 01 80 FB A0 00 00 03 97 42 54 46 59 03 01 C8").expect("atr");
    let body = BindBody::new(
        Uuid::parse_str(&REQ.to_uppercase()).expect("guid"),
        &card,
        &atr,
    );
    assert_eq!(
        serde_json::to_value(&body).expect("serializes"),
        json!({
            "requestid": "a9b4b42c-cc50-4c9b-89d1-bbc0bcd5a099",
            "cardid": "bc88f13f-83ba-4037-8262-46eba1291c6e",
            "atr": "3b8d0180fba000000397425446590301c8"
        })
    );
}

#[test]
fn bind_uri_gives_the_smartcard_uuid() {
    let expected = Uuid::parse_str("17cf063d-e337-4aa9-a822-346554ddd3c9").expect("guid");
    for uri in [
        "api/v1.0/smartcards/17cf063d-e337-4aa9-a822-346554ddd3c9",
        "https://cm/CertificateManagement/api/v1.0/smartcards/17CF063D-E337-4AA9-A822-346554DDD3C9/",
        "api/v1.0/smartcards/%7B17cf063d-e337-4aa9-a822-346554ddd3c9%7D?x=1",
    ] {
        assert_eq!(smartcard_uuid_from_uri(uri), Some(expected), "{uri}");
    }
    assert_eq!(smartcard_uuid_from_uri("api/v1.0/smartcards/"), None);
    assert_eq!(smartcard_uuid_from_uri(""), None);
}

#[test]
fn wire_request_round_trips_through_the_domain() {
    let r = request(reference_request()).expect("converts");
    let wire = WireRequest::from_domain(&r);
    let json = serde_json::to_value(&wire).expect("serializes");
    assert_eq!(json["Status"], 3);
    assert_eq!(
        json["NewSmartcardUuid"],
        "00000000-0000-0000-0000-000000000000"
    );
    assert_eq!(json["Completed"], DOTNET_MIN_DATE);
    let back = request(json).expect("converts");
    assert_eq!(back, r);
}

#[test]
fn profile_template_converts() {
    let wire: WireProfileTemplate = serde_json::from_value(json!({
        "Name": "Smartcard User", "Description": null,
        "Uuid": "{17CF063D-E337-4AA9-A822-346554DDD3C9}",
        "IsSmartcardProfileTemplate": true, "IsVirtualSmartcardProfileTemplate": false
    }))
    .expect("parses");
    let t = ProfileTemplate::try_from(wire).expect("converts");
    assert_eq!(t.name, "Smartcard User");
    assert!(t.is_smartcard && !t.is_virtual_smartcard);
    assert_eq!(t.description, None);
}

#[test]
fn percent_decoding_keeps_bad_escapes() {
    assert_eq!(percent_decode("%7Babc%7d"), "{abc}");
    assert_eq!(percent_decode("100%"), "100%");
    assert_eq!(percent_decode("%zz%4"), "%zz%4");
}

#[test]
fn text_a_screen_shows_is_cleaned_where_it_enters_and_nothing_else_changes() {
    let long = "y".repeat(1 << 20);
    let r = request(json!({
        "Uuid": REQ,
        "TargetUserUuid": "{11111111-2222-3333-4444-555555555555}",
        "DataCollection": [
            {"Name": "FirstName", "Value": "J\u{430}ne\u{202E}\u{200B}"},
            {"Name": "Last\nName", "Value": "Doe\u{1b}[2K\r\u{9b}31m"},
            {"Name": "EmployeeID", "Value": long},
            {"Name": "Department", "Value": "Finance"},
        ],
        "Comment": "line one\r\nline\u{2028}two\u{2066}",
    }))
    .expect("converts");
    let values: Vec<(&str, Option<&str>)> = r
        .data_collection
        .iter()
        .map(|i| (i.name.as_str(), i.value.as_deref()))
        .collect();
    assert_eq!(values[0], ("FirstName", Some("J\u{430}ne<U+202E><U+200B>")));
    assert_eq!(values[1], ("Last Name", Some("Doe<U+001B>[2K <U+009B>31m")));
    let id = values[2].1.expect("a value");
    assert_eq!(id.chars().count(), crate::domain::text::VALUE_MAX_CHARS);
    assert!(id.ends_with('…'));
    assert_eq!(values[3], ("Department", Some("Finance")));
    assert_eq!(r.comment.as_deref(), Some("line one line two<U+2066>"));
    assert_eq!(
        r.target_user.map(|u| u.to_string()).as_deref(),
        Some("11111111-2222-3333-4444-555555555555"),
        "GUIDs are parsed, not cleaned"
    );
    let blank = request(json!({"Uuid": REQ, "Comment": " \r\n "})).expect("converts");
    assert_eq!(blank.comment, None, "a blank comment is no comment");
    let template = ProfileTemplate::try_from(WireProfileTemplate {
        name: Some("Smart\u{202E}card\nUser".into()),
        uuid: Some(REQ.into()),
        ..WireProfileTemplate::default()
    })
    .expect("converts");
    assert_eq!(template.name, "Smart<U+202E>card User");
}
