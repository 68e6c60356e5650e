//! Issue 21's lifecycle actions on the command line: the real binary against
//! the emulator over loopback HTTP. Abandon and cancel, a refusal in CM's
//! words, retire by card ID with the policy's items, a temporary card, the
//! offline unblock (whose response never reaches the journal), a lost
//! answer reconciled, a supervised station, and `audit verify` after all.
//! No card reader is used.

mod common;

use std::io::Write as _;
use std::process::{Output, Stdio};

use common::binary::{StationHome, json_stdout};
use enroll_station::cm::demo_data::TEMPLATES;
use enroll_station::cm::emulator::lifecycle::LifecycleRules;
use enroll_station::cm::emulator::{Emulator, EmulatorConfig};
use enroll_station::domain::card::CardId;
use enroll_station::domain::request::SmartcardStatus;
use serde_json::json;
use uuid::Uuid;

const USER: Uuid = Uuid::from_u128(0x7a7a_0000_4000_8000_0000_0000_0000_0001);

fn emulator() -> Emulator {
    Emulator::start_on_thread(EmulatorConfig {
        requests: 2,
        ..EmulatorConfig::default()
    })
    .expect("the emulator starts on loopback")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn request(emulator: &Emulator, status: i64) -> String {
    let id = Uuid::new_v4();
    emulator
        .insert_request(json!({
            "Uuid": id.to_string(),
            "RequestType": 1,
            "Status": status,
            "DataCollection": [],
            "Submitted": "2026-11-20T09:14:33.12Z",
            "Completed": "0001-01-01T00:00:00",
            "NewSmartcardUuid": Uuid::nil().to_string(),
            "ProfileTemplateUuid": TEMPLATES[0].uuid.to_string(),
            "TargetUserUuid": USER.to_string(),
            "IsSmartcard": true,
            "IsEnrollmentAgent": true,
        }))
        .expect("inserted")
        .to_string()
}

fn card(emulator: &Emulator, n: u8) -> String {
    let card = CardId::from_raw([n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, n]);
    emulator.insert_smartcard(&card, SmartcardStatus::ACTIVE, USER, TEMPLATES[0].uuid);
    card.to_string()
}

fn journal(home: &StationHome) -> String {
    std::fs::read_to_string(home.default_journal()).expect("the journal")
}

fn verify(home: &StationHome) {
    let output = home.run(&["audit", "verify"]);
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn abandon_and_cancel_answer_in_json_and_are_journalled() {
    let emulator = emulator();
    let url = emulator.base_url();
    let home = StationHome::new();
    let approved = request(&emulator, 3);
    let out = json_stdout(&home.run(&[
        "request",
        "abandon",
        "--server",
        &url,
        "--request",
        &approved,
        "--yes",
        "--json",
    ]));
    assert_eq!(out, json!({"request_id": approved, "status": "Failed"}));
    let pending = request(&emulator, 16);
    let out = json_stdout(&home.run(&[
        "request",
        "cancel",
        "--server",
        &url,
        "--request",
        &pending,
        "--comment",
        "a duplicate",
        "--yes",
        "--json",
    ]));
    assert_eq!(out, json!({"request_id": pending, "status": "Canceled"}));
    let text = journal(&home);
    assert_eq!(
        text.matches("\"event\":\"action_intent\"").count(),
        2,
        "{text}"
    );
    assert_eq!(text.matches("\"outcome\":\"done\"").count(), 2, "{text}");
    assert!(text.contains("a duplicate"), "the comment is journalled");
    assert!(text.contains(&format!("\"api_base\":\"{url}")), "{text}");
    // Without --yes (and no terminal) nothing is sent.
    let unasked = home.run(&[
        "request",
        "cancel",
        "--server",
        &url,
        "--request",
        &request(&emulator, 16),
    ]);
    assert!(!unasked.status.success());
    assert!(stderr(&unasked).contains("--yes"), "{}", stderr(&unasked));
    verify(&home);
}

#[test]
fn a_refusal_says_cms_words_and_its_correlation_id() {
    let emulator = emulator();
    let url = emulator.base_url();
    let home = StationHome::new();
    // Executing: the emulator's default rules allow no cancel from there.
    let executing = request(&emulator, 18);
    let output = home.run(&[
        "request",
        "cancel",
        "--server",
        &url,
        "--request",
        &executing,
        "--yes",
        "--json",
    ]);
    assert!(!output.status.success());
    let said = stderr(&output);
    assert!(said.contains("Executing"), "CM's words: {said}");
    assert!(said.contains("correlation ID"), "{said}");
    assert!(journal(&home).contains("\"outcome\":\"failed\""));
    verify(&home);
}

#[test]
fn retire_by_card_id_checks_the_policys_items() {
    let emulator = emulator();
    let url = emulator.base_url();
    let home = StationHome::new();
    let card = card(&emulator, 21);
    let missing = home.run(&[
        "card",
        "retire",
        "--server",
        &url,
        "--card-id",
        &card,
        "--yes",
        "--json",
    ]);
    assert!(!missing.status.success());
    let said = stderr(&missing);
    assert!(
        said.contains("EmployeeID") && said.contains("--data"),
        "{said}"
    );
    let out = json_stdout(&home.run(&[
        "card",
        "retire",
        "--server",
        &url,
        "--card-id",
        &card,
        "--data",
        "EmployeeID=E1234",
        "--comment",
        "returned",
        "--yes",
        "--json",
    ]));
    assert_eq!(out["type"], "Retire");
    assert_eq!(out["status"], "Approved");
    assert!(out["request_id"].as_str().is_some_and(|id| id.len() == 36));
    verify(&home);
}

#[test]
fn a_temporary_card_request_is_created() {
    let emulator = emulator();
    let url = emulator.base_url();
    let home = StationHome::new();
    let user = USER.to_string();
    let template = TEMPLATES[0].uuid.to_string();
    let out = json_stdout(&home.run(&[
        "request",
        "create",
        "--server",
        &url,
        "--type",
        "TemporaryCards",
        "--user",
        &user,
        "--template",
        &template,
        "--data",
        "EmployeeID=E1234",
        "--yes",
        "--json",
    ]));
    assert_eq!(out["type"], "TemporaryCards");
    assert_eq!(emulator.created_requests(), 1);
    let human = home.run(&[
        "request",
        "create",
        "--server",
        &url,
        "--type",
        "TemporaryCards",
        "--user",
        &user,
        "--template",
        &template,
        "--data",
        "EmployeeID=E1234",
        "--yes",
    ]);
    assert!(human.status.success(), "{}", stderr(&human));
    assert!(String::from_utf8_lossy(&human.stdout).contains("bind a card"));
    let wrong = home.run(&[
        "request",
        "create",
        "--server",
        &url,
        "--type",
        "Retire",
        "--user",
        &user,
        "--template",
        &template,
        "--yes",
    ]);
    assert!(!wrong.status.success());
    assert!(stderr(&wrong).contains("TemporaryCards, Enroll or"));
    verify(&home);
}

#[test]
fn unblock_returns_the_references_response_and_journals_none() {
    let emulator = emulator();
    let url = emulator.base_url();
    emulator.set_admin_key(TEMPLATES[0].uuid, [0; 24]);
    let home = StationHome::new();
    let card = card(&emulator, 22);
    let out = json_stdout(&home.run(&[
        "unblock",
        "--server",
        &url,
        "--card-id",
        &card,
        "--challenge",
        "D611 43F9 CCFF D2CA",
        "--data",
        "EmployeeID=E1234",
        "--yes",
        "--json",
    ]));
    assert_eq!(out["card_id"], card.as_str());
    assert_eq!(out["response"], "17466E766E303CB6");
    let text = journal(&home);
    assert!(text.contains("offline unblock response"), "{text}");
    for value in ["17466E766E303CB6", "1746 6E76", "17466e76", "F0Zudm4wPLY"] {
        assert!(
            !text.contains(value),
            "the journal holds no response: {text}"
        );
    }
    let human = home.run(&[
        "unblock",
        "--server",
        &url,
        "--card-id",
        &card,
        "--challenge",
        "d61143f9ccffd2ca",
        "--data",
        "EmployeeID=E1234",
        "--yes",
    ]);
    assert!(human.status.success(), "{}", stderr(&human));
    assert!(String::from_utf8_lossy(&human.stdout).contains("1 7 4 6   6 E 7 6"));
    verify(&home);
}

/// 3DES-EDE3-ECB by OpenSSL's command line: an oracle apart from the
/// emulator's (RustCrypto) and the station's code.
fn openssl_tdes(key: &[u8; 24], block: &[u8; 8]) -> String {
    use std::io::Write as _;
    let mut child = std::process::Command::new("openssl")
        .args(["enc", "-des-ede3", "-nopad", "-K", &hex::encode(key)])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl runs (scripts/deps.sh test installs it)");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(block)
        .expect("the challenge is written");
    let out = child.wait_with_output().expect("openssl ends");
    assert!(out.status.success(), "openssl: {out:?}");
    hex::encode_upper(out.stdout)
}

#[test]
fn unblock_answers_what_a_card_with_the_templates_admin_key_computes() {
    let emulator = emulator();
    let url = emulator.base_url();
    let key: [u8; 24] = *b"\x8a\x13site admin key 2026!\x7f\x01";
    emulator.set_admin_key(TEMPLATES[0].uuid, key);
    let home = StationHome::new();
    let card = card(&emulator, 23);
    let challenge: [u8; 8] = [0x3c, 0x91, 0x0e, 0xa7, 0x55, 0xd2, 0x18, 0xf0];
    let out = json_stdout(&home.run(&[
        "unblock",
        "--server",
        &url,
        "--card-id",
        &card,
        "--challenge",
        &hex::encode(challenge),
        "--data",
        "EmployeeID=E1234",
        "--yes",
        "--json",
    ]));
    assert_eq!(out["response"], openssl_tdes(&key, &challenge).as_str());
    verify(&home);
}

#[test]
fn a_lost_answer_to_a_status_change_is_reconciled() {
    let emulator = emulator();
    let url = emulator.base_url();
    emulator.set_lifecycle_rules(LifecycleRules {
        drop_answers_after_commit: 1,
        ..LifecycleRules::default()
    });
    let home = StationHome::new();
    let approved = request(&emulator, 3);
    let out = json_stdout(&home.run(&[
        "request",
        "abandon",
        "--server",
        &url,
        "--request",
        &approved,
        "--yes",
        "--json",
    ]));
    assert_eq!(out["status"], "Failed");
    let text = journal(&home);
    assert!(text.contains("\"outcome\":\"reconciled_done\""), "{text}");
    verify(&home);

    // A lost answer to a creation: found by its marker, never created twice.
    emulator.set_lifecycle_rules(LifecycleRules {
        drop_answers_after_commit: 1,
        ..LifecycleRules::default()
    });
    let before = emulator.created_requests();
    let out = json_stdout(&home.run(&[
        "request",
        "create",
        "--server",
        &url,
        "--type",
        "TemporaryCards",
        "--user",
        &USER.to_string(),
        "--template",
        &TEMPLATES[0].uuid.to_string(),
        "--data",
        "EmployeeID=E1234",
        "--yes",
        "--json",
    ]));
    assert_eq!(emulator.created_requests(), before + 1);
    assert!(out["request_id"].as_str().is_some());
    assert_eq!(
        journal(&home)
            .matches("\"outcome\":\"reconciled_done\"")
            .count(),
        2
    );
    verify(&home);
}

#[test]
fn a_supervised_station_refuses_without_a_supervisor() {
    let emulator = emulator();
    let url = emulator.base_url();
    let home = StationHome::new();
    let mut hash = home
        .command()
        .args(["supervisor", "hash", "--name", "Sam", "--account", "sam"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    hash.stdin
        .take()
        .expect("stdin")
        .write_all(b"a long passphrase\n")
        .expect("written");
    let hashed = hash.wait_with_output().expect("ends");
    assert!(hashed.status.success(), "{}", stderr(&hashed));
    let config = home.root().join("station.toml");
    std::fs::write(
        &config,
        format!(
            "mode = \"supervised\"\n\n{}",
            String::from_utf8_lossy(&hashed.stdout)
        ),
    )
    .expect("config");
    let approved = request(&emulator, 3);
    let output = home.run(&[
        "request",
        "abandon",
        "--config",
        &config.display().to_string(),
        "--server",
        &url,
        "--request",
        &approved,
        "--yes",
    ]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("supervisor"),
        "{}",
        stderr(&output)
    );
    let text = journal(&home);
    assert!(text.contains("\"event\":\"supervisor_refused\""), "{text}");
    assert!(!text.contains("action_intent"), "nothing was sent: {text}");
    verify(&home);
}

/// The intent `perform` journals before it sends `action` to the server at
/// `url`, left open as a crash between intent and outcome leaves it.
fn open_intent(
    home: &StationHome,
    url: &str,
    action: &enroll_station::domain::action::Action,
) -> enroll_station::audit::AttemptId {
    use enroll_station::audit::{ActionInfo, AuditJournal, Operator};
    let path = home.default_journal();
    std::fs::create_dir_all(path.parent().expect("a directory")).expect("the data directory");
    let client = enroll_station::cm::CmClient::new(&enroll_station::cm::ClientConfig::new(url))
        .expect("a client");
    let mut journal = AuditJournal::open(&path).expect("the journal opens");
    journal
        .record_action_intent(ActionInfo {
            operator: Operator::from_os(),
            supervisor: None,
            request_id: action.request(),
            card_id: None,
            smartcard_uuid: None,
            message: action.describe(),
            api_base: client.api_base().to_owned(),
        })
        .expect("the intent is written")
}

fn verify_says(home: &StationHome) -> String {
    let output = home.run(&["audit", "verify"]);
    assert!(output.status.success(), "{}", stderr(&output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn audit_reconcile_settles_an_action_a_crash_left_open() {
    use enroll_station::domain::action::Action;
    use enroll_station::domain::lifecycle::StatusChange;
    let emulator = emulator();
    let url = emulator.base_url();
    let home = StationHome::new();
    let approved = request(&emulator, 3);
    let id: Uuid = approved.parse().expect("a GUID");
    let intent = open_intent(
        &home,
        &url,
        &Action::ChangeStatus {
            request: id,
            change: StatusChange::Abandon,
            comment: None,
        },
    );
    assert!(verify_says(&home).contains("1 unfinished"));
    // CM abandoned it; the station stopped before it wrote the answer down.
    emulator
        .insert_request(json!({
            "Uuid": approved,
            "RequestType": 1,
            "Status": 9,
            "DataCollection": [],
            "TargetUserUuid": USER.to_string(),
            "IsSmartcard": true,
        }))
        .expect("replaced");

    let output = home.run(&["audit", "reconcile", "--server", &url]);
    assert!(output.status.success(), "{}", stderr(&output));
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        said.contains(&format!(
            "Reconciled: an earlier \"abandon\" of request {approved}"
        )),
        "{said}"
    );
    let text = journal(&home);
    let outcome = text
        .lines()
        .find(|line| line.contains("\"event\":\"action_outcome\""))
        .unwrap_or_else(|| panic!("an outcome: {text}"));
    assert!(outcome.contains(&intent.to_string()), "{outcome}");
    assert!(
        outcome.contains("\"outcome\":\"reconciled_done\""),
        "{outcome}"
    );
    assert!(verify_says(&home).contains("0 unfinished"));
    let again = home.run(&["audit", "reconcile", "--server", &url]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("nothing to reconcile"),
        "settled once"
    );
}

#[test]
fn a_lifecycle_command_settles_what_a_crash_left_open_before_it_acts() {
    use enroll_station::domain::action::Action;
    use enroll_station::domain::lifecycle::NewRequest;
    let emulator = emulator();
    let url = emulator.base_url();
    let home = StationHome::new();
    // A temporary card request the station was about to create when it stopped.
    let _intent = open_intent(
        &home,
        &url,
        &Action::Create(NewRequest::temporary_card(
            TEMPLATES[0].uuid,
            USER,
            Vec::new(),
            "",
        )),
    );
    let pending = request(&emulator, 16);
    let output = home.run(&[
        "request",
        "cancel",
        "--server",
        &url,
        "--request",
        &pending,
        "--yes",
        "--json",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let said = stderr(&output);
    assert!(
        said.contains("Reconciled: an earlier creation of a TemporaryCards request"),
        "{said}"
    );
    assert!(said.contains("it was not created"), "{said}");
    assert_eq!(json_stdout(&output)["status"], "Canceled");
    assert_eq!(
        emulator.created_requests(),
        0,
        "nothing created after the fact"
    );
    assert!(verify_says(&home).contains("0 unfinished"));
}

/// An approved OfflineUnblock request for the card object `object`, as the
/// CM portal or a help-desk workflow leaves it.
fn approved_unblock(emulator: &Emulator, object: Uuid) -> String {
    let id = Uuid::new_v4();
    emulator
        .insert_request(json!({
            "Uuid": id.to_string(),
            "RequestType": "OfflineUnblock",
            "Status": 3,
            "DataCollection": [],
            "Submitted": "2026-11-20T09:14:33.12Z",
            "Completed": "0001-01-01T00:00:00",
            "NewSmartcardUuid": Uuid::nil().to_string(),
            "OldSmartcardUuid": object.to_string(),
            "ProfileTemplateUuid": TEMPLATES[0].uuid.to_string(),
            "TargetUserUuid": USER.to_string(),
            "IsSmartcard": true,
            "IsEnrollmentAgent": true,
        }))
        .expect("inserted")
        .to_string()
}

fn status_in_cm(emulator: &Emulator, request: &str) -> String {
    emulator
        .requests()
        .into_iter()
        .find(|r| r.uuid.to_string() == request)
        .expect("the request is in CM")
        .status
        .to_string()
}

#[test]
fn unblock_uses_the_approved_request_cm_holds_and_completes_it() {
    let emulator = emulator();
    let url = emulator.base_url();
    emulator.set_admin_key(TEMPLATES[0].uuid, [0; 24]);
    let home = StationHome::new();
    let card = CardId::from_raw([24, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 24]);
    let object = emulator.insert_smartcard(&card, SmartcardStatus::ACTIVE, USER, TEMPLATES[0].uuid);
    let approved = approved_unblock(&emulator, object);
    let output = home.run(&[
        "unblock",
        "--server",
        &url,
        "--card-id",
        &card.to_string(),
        "--challenge",
        "D611 43F9 CCFF D2CA",
        "--complete",
        "--yes",
        "--json",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let said = stderr(&output);
    assert!(
        said.contains(&format!(
            "CM holds an approved OfflineUnblock request for this card, {approved} (submitted \
             2026-11-"
        )),
        "{said}"
    );
    let out = json_stdout(&output);
    assert_eq!(out["request_id"], approved.as_str());
    assert_eq!(out["response"], "17466E766E303CB6");
    assert_eq!(out["request_status"], "Completed");
    assert_eq!(emulator.created_requests(), 0, "no request beside it");
    assert_eq!(status_in_cm(&emulator, &approved), "Completed");
    let text = journal(&home);
    assert!(
        text.contains(&format!("complete request {approved}")),
        "the completion is journalled: {text}"
    );
    assert!(!text.contains("17466E76"), "never the response: {text}");
    verify(&home);
}

#[test]
fn unblock_request_is_checked_and_left_open_without_complete() {
    let emulator = emulator();
    let url = emulator.base_url();
    let home = StationHome::new();
    let card = CardId::from_raw([25, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 25]);
    let object = emulator.insert_smartcard(&card, SmartcardStatus::ACTIVE, USER, TEMPLATES[0].uuid);
    let enroll = request(&emulator, 3);
    let unblock = |request: &str| {
        home.run(&[
            "unblock",
            "--server",
            &url,
            "--card-id",
            &card.to_string(),
            "--challenge",
            "D611 43F9 CCFF D2CA",
            "--request",
            request,
            "--yes",
            "--json",
        ])
    };
    let refused = unblock(&enroll);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("is of type Enroll, not OfflineUnblock"),
        "{}",
        stderr(&refused)
    );
    assert!(!journal_exists_with_intent(&home), "nothing was sent");

    let approved = approved_unblock(&emulator, object);
    let given = unblock(&approved);
    assert!(given.status.success(), "{}", stderr(&given));
    assert_eq!(json_stdout(&given)["request_id"], approved.as_str());
    assert!(
        stderr(&given).contains(&format!(
            "enroll-station request complete --request {approved}"
        )),
        "{}",
        stderr(&given)
    );
    assert_eq!(status_in_cm(&emulator, &approved), "Executing");
    let completed = json_stdout(&home.run(&[
        "request",
        "complete",
        "--server",
        &url,
        "--request",
        &approved,
        "--yes",
        "--json",
    ]));
    assert_eq!(completed["status"], "Completed");
    verify(&home);
}

fn journal_exists_with_intent(home: &StationHome) -> bool {
    std::fs::read_to_string(home.default_journal()).is_ok_and(|text| text.contains("action_intent"))
}
