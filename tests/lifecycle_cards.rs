//! Issue 21's actions where a card is involved, on real parts: the binary,
//! a virtual card in a vpcd slot read through pcscd, and the CM emulator
//! over loopback HTTP. A wrong bind undone (abandon), the bound card found
//! in the reader and retired, then bound again once the card object is
//! Retired and the template allows reuse, and a temporary card from its
//! request to its bind. The journal verifies after each.
//!
//! Needs pcscd with the vpcd driver (`scripts/deps.sh test`); under CI=true
//! a missing one fails the test.

mod common;

use common::binary::{StationHome, json_stdout};
use common::first_bindable;
use common::vpcd::{FIRST_PORT, insert, reader_name, take_slots};
use enroll_station::card::virtual_card::VirtualCard;
use enroll_station::cm::emulator::{Emulator, EmulatorConfig};
use enroll_station::cm::{ClientConfig, CmClient};

/// Two GIDS card IDs of no meaning but their own.
const WRONG_CARD: [u8; 16] = [
    0x51, 0x0e, 0x7c, 0x2a, 0x90, 0x11, 0x4b, 0x3d, 0x8e, 0x01, 0x22, 0x9a, 0x6f, 0x30, 0x47, 0xc5,
];
const TEMPORARY_CARD: [u8; 16] = [
    0x7e, 0x3b, 0x01, 0xd4, 0x5c, 0x88, 0x42, 0x19, 0xa7, 0x6d, 0x0f, 0xe2, 0x31, 0x9b, 0x54, 0x08,
];

fn emulator() -> Emulator {
    Emulator::start_on_thread(EmulatorConfig {
        requests: 4,
        ..EmulatorConfig::default()
    })
    .expect("the emulator starts on loopback")
}

fn verify(home: &StationHome) {
    let output = home.run(&["audit", "verify"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_wrong_bind_is_abandoned_and_the_card_in_the_reader_is_retired() {
    let Some(_slots) = take_slots() else { return };
    let emulator = emulator();
    let url = emulator.base_url();
    let home = StationHome::new();
    let request = first_bindable(&emulator).uuid.to_string();
    let reader = reader_name(FIRST_PORT);
    let _card = insert(VirtualCard::gids(WRONG_CARD), FIRST_PORT);

    let bound = json_stdout(&home.run(&[
        "--server",
        &url,
        "bind",
        "--request",
        &request,
        "--reader",
        &reader,
        "--json",
    ]));
    assert_eq!(emulator.bind_count(), 1, "{bound}");
    let card_id = bound["card_id"].as_str().expect("the card ID").to_owned();

    // The wrong card: the request is abandoned, the way out CM offers.
    let abandoned = json_stdout(&home.run(&[
        "--server",
        &url,
        "request",
        "abandon",
        "--request",
        &request,
        "--comment",
        "wrong card bound",
        "--yes",
        "--json",
    ]));
    assert_eq!(abandoned["request_id"], request.as_str());
    assert_eq!(
        abandoned["status"], "Failed",
        "an abandoned request reads Failed"
    );
    let listed = json_stdout(&home.run(&["--server", &url, "requests", "--json"]));
    let still_bindable = listed
        .as_array()
        .expect("a list")
        .iter()
        .any(|r| r["uuid"] == request.as_str() && r["bindable"] == true);
    assert!(
        !still_bindable,
        "an abandoned request takes no card: {listed}"
    );

    // The card itself, read from the reader, is retired.
    let retired = home.run(&[
        "--server",
        &url,
        "card",
        "retire",
        "--reader",
        &reader,
        "--data",
        "EmployeeID=E1234",
        "--comment",
        "wrong card",
        "--yes",
        "--json",
    ]);
    let retired = json_stdout(&retired);
    assert_eq!(retired["type"], "Retire");
    assert!(
        retired["request_id"]
            .as_str()
            .is_some_and(|id| id.len() == 36 && id != request),
        "{retired}"
    );
    // CM's own record of it: the card it acts on is the one from the reader.
    let retire_id: uuid::Uuid = retired["request_id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("a GUID");
    let client = CmClient::new(&ClientConfig::new(url.clone())).expect("a client for loopback");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let cards = runtime
        .block_on(client.request_cards(retire_id))
        .expect("CM answers");
    let old = cards.old.expect("the retire request names its card");
    let looked_up = old.looked_up.expect("CM holds the card");
    assert_eq!(
        looked_up.card_id.map(|c| c.to_string()).as_deref(),
        Some(card_id.as_str()),
        "the retire request is for the card that was in the reader"
    );

    // The retire executed as the reference's call does it: the card object
    // marked Retired (update-smartcard-status). Then the same card takes
    // another request where its template allows reuse.
    runtime.block_on(async {
        let marked = reqwest::Client::new()
            .put(format!(
                "{}requests/{retire_id}/smartcards/{}",
                emulator.api_url(),
                old.smartcard
            ))
            .json(&serde_json::json!({"status": "Retired"}))
            .send()
            .await
            .expect("CM answers");
        assert!(marked.status().is_success(), "{marked:?}");
    });
    let next = emulator
        .requests()
        .into_iter()
        .find(|r| r.is_bindable() && r.uuid.to_string() != request)
        .expect("another request that can take a card");
    // Reuse is the new request's template's rule (AllowSmartcardReuse).
    emulator.set_template_reuse(next.profile_template.expect("a template"), true);
    let next = next.uuid.to_string();
    let again = json_stdout(&home.run(&[
        "--server",
        &url,
        "bind",
        "--request",
        &next,
        "--reader",
        &reader,
        "--json",
    ]));
    assert_eq!(again["request_id"], next.as_str(), "{again}");
    assert_eq!(
        again["card_id"],
        card_id.as_str(),
        "the same card, bound again"
    );
    assert_eq!(emulator.bind_count(), 2);
    verify(&home);
}

#[test]
fn a_temporary_card_goes_from_its_request_to_its_bind() {
    let Some(_slots) = take_slots() else { return };
    let emulator = emulator();
    let url = emulator.base_url();
    let home = StationHome::new();
    let someone = first_bindable(&emulator);
    let user = someone.target_user.expect("a target user").to_string();
    let template = someone.profile_template.expect("a template").to_string();
    let created = json_stdout(&home.run(&[
        "--server",
        &url,
        "request",
        "create",
        "--type",
        "TemporaryCards",
        "--user",
        &user,
        "--template",
        &template,
        "--data",
        "EmployeeID=E1234",
        "--comment",
        "forgot their card",
        "--yes",
        "--json",
    ]));
    assert_eq!(created["type"], "TemporaryCards");
    let request = created["request_id"].as_str().expect("its GUID").to_owned();

    let reader = reader_name(FIRST_PORT);
    let _card = insert(VirtualCard::gids(TEMPORARY_CARD), FIRST_PORT);
    let bound = json_stdout(&home.run(&[
        "--server",
        &url,
        "bind",
        "--request",
        &request,
        "--reader",
        &reader,
        "--json",
    ]));
    assert_eq!(bound["request_id"], request.as_str(), "{bound}");
    assert_eq!(emulator.bind_count(), 1);
    verify(&home);
}
