//! The desk's lifecycle actions in egui_kittest, on the CM emulator over
//! HTTP (issue 21): abandon a request from the detail pane after a
//! confirmation (and CM's refusal in words), retire a card found by a typed
//! card ID (a required data item missing is refused in words), unblock a PIN
//! by phone (a typo refused in words, the response shown grouped and
//! forgotten on Done), and a supervised station asking for the supervisor
//! before an abandon, and a temporary card requested from the New request
//! form. The New request form also finds the person by name or account in a
//! real LDAP directory (slapd, `tests/common/slapd.rs`) and in the demo
//! directory, says in words when there is no directory, and offers CM's
//! profile templates in a drop-down (with the GUID field as the fallback
//! when the list cannot be read).

mod common;

use common::window::*;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use enroll_station::cm::demo_data::TEMPLATES;
use enroll_station::domain::card::CardId;
use enroll_station::domain::request::{RequestStatus, SmartcardStatus};
use enroll_station::ui::StationApp;
use uuid::Uuid;

fn status_in_cm(station: &Station, id: Uuid) -> RequestStatus {
    emulator(station)
        .requests()
        .into_iter()
        .find(|r| r.uuid == id)
        .expect("the request is in CM")
        .status
}

/// Selects the known request and opens the detail pane.
fn select_and_open_pane(h: &mut Harness<'static, StationApp>) {
    wait_for(h, "the request list", |h| shows(h, PERSON));
    h.get_by_label(PERSON).click();
    h.run_steps(2);
    h.get_by_label("Request details").click();
    h.run_steps(2);
}

#[test]
fn abandon_from_the_detail_pane_asks_first_then_says_what_cm_did() {
    let mut station = station();
    let h = &mut station.harness;
    select_and_open_pane(h);
    press(h, "Abandon request…");
    wait_for(h, "the confirmation", |h| shows(h, "What happens"));
    assert!(shows(h, "Kittest Person"), "the person is named");
    assert!(shows(h, REQUEST), "the request is named");
    assert!(shows(h, "cannot be undone"));
    assert_eq!(
        status_in_cm(&station, request_id()),
        RequestStatus::APPROVED,
        "nothing is sent before Confirm"
    );
    let h = &mut station.harness;
    press(h, "Abandon request");
    wait_for(h, "the result", |h| shows(h, "Done."));
    assert!(shows(h, "Failed"), "the new status in words");
    assert_eq!(status_in_cm(&station, request_id()), RequestStatus::FAILED);
    let h = &mut station.harness;
    press(h, "Close");
    assert!(!shows(h, "What happens"));
}

#[test]
fn cms_refusal_of_an_abandon_is_shown_in_words() {
    let mut station = station();
    select_and_open_pane(&mut station.harness);
    // Someone completed the request since the list was fetched.
    emulator(&station)
        .insert_request(serde_json::json!({
            "Uuid": REQUEST,
            "RequestType": 1,
            "Status": 8,
            "Priority": 99,
            "Submitted": "2026-11-27T08:00:00Z",
            "IsSmartcard": true,
            "DataCollection": [{"Name": "DisplayName", "Value": "Kittest Person"}]
        }))
        .expect("valid");
    let h = &mut station.harness;
    press(h, "Abandon request…");
    wait_for(h, "the confirmation", |h| shows(h, "What happens"));
    press(h, "Abandon request");
    wait_for(h, "the refusal", |h| shows(h, "Not done:"));
    assert!(shows(h, "Try again"));
    assert_eq!(
        status_in_cm(&station, request_id()),
        RequestStatus::COMPLETED
    );
}

/// A card CM holds, Active, for a user on the first template.
fn card_in_cm(station: &Station) -> CardId {
    let card_id = CardId::from_raw([0x42; 16]);
    emulator(station).insert_smartcard(
        &card_id,
        SmartcardStatus::ACTIVE,
        Uuid::from_u128(0x1234),
        TEMPLATES[0].uuid,
    );
    card_id
}

fn look_up_typed(h: &mut Harness<'static, StationApp>, card_id: CardId) {
    wait_for(h, "the request list", |h| shows(h, PERSON));
    press(h, "Card lookup");
    wait_for(h, "the card panel", |h| shows(h, "Look up"));
    set_field(h, "Card ID", &card_id.to_string());
    press(h, "Look up");
    wait_for(h, "CM's record", |h| {
        shows(h, "What you may do to this card")
    });
}

#[test]
fn retire_a_card_by_typed_id_needs_the_required_items() {
    let mut station = station();
    let card_id = card_in_cm(&station);
    let h = &mut station.harness;
    look_up_typed(h, card_id);
    assert!(shows(h, "Known to CM: Active"));
    press(h, "Retire…");
    wait_for(h, "the workflow's items", |h| {
        shows(h, "EmployeeID (required)")
    });
    press(h, "Retire card…");
    assert!(
        shows(h, "Fill in what the workflow requires"),
        "a missing required item is refused in words"
    );
    assert!(shows(h, "EmployeeID (must match ^E[0-9]{4}$)"));
    assert!(
        !shows(h, "What happens"),
        "no confirmation without the items"
    );
    set_field(h, "EmployeeID (required)", "E1234");
    set_field(h, "Comment", "returned at the desk");
    press(h, "Retire card…");
    wait_for(h, "the confirmation", |h| shows(h, "What happens"));
    assert!(shows(h, "EmployeeID: E1234"));
    assert_eq!(
        emulator(&station).created_requests(),
        0,
        "nothing before Confirm"
    );
    let h = &mut station.harness;
    press(h, "Retire card");
    wait_for(h, "the result", |h| shows(h, "Done."));
    assert!(shows(h, "CM created Retire request"), "what was done");
    assert_eq!(emulator(&station).created_requests(), 1);
}

#[test]
fn unblock_by_phone_checks_the_challenge_and_forgets_the_response() {
    let mut station = station();
    let card_id = card_in_cm(&station);
    let h = &mut station.harness;
    look_up_typed(h, card_id);
    press(h, "Unblock PIN by phone…");
    wait_for(h, "the unblock screen", |h| {
        shows(h, "EmployeeID (required)")
    });
    set_field(h, "Challenge", "D611 43F9 CCFF D2CO");
    set_field(h, "EmployeeID (required)", "E1234");
    press(h, "Get the response…");
    assert!(
        shows(h, "character 19") && shows(h, "probably the digit 0"),
        "the typo is named"
    );
    assert!(!shows(h, "What happens"));
    set_field(h, "Challenge", "d61143f9ccffd2ca");
    assert!(
        shows(h, "Read back: D611 43F9 CCFF D2CA"),
        "grouped as typed"
    );
    press(h, "Get the response…");
    wait_for(h, "the confirmation", |h| shows(h, "What happens"));
    press(h, "Get the unblock response");
    wait_for(h, "the response", |h| {
        shows(h, "Response ") || shows(h, "Not done:")
    });
    let response = h
        .query_all_by_label_contains("Response ")
        .next()
        .and_then(|node| {
            let node = node.accesskit_node();
            node.label().or_else(|| node.value())
        })
        .unwrap_or_else(|| {
            let said: Vec<String> = h
                .query_all_by_label_contains("Not done")
                .filter_map(|node| node.accesskit_node().label())
                .collect();
            panic!("the response is shown, not {said:?}")
        });
    let digits = response.trim_start_matches("Response ");
    assert_eq!(digits.len(), 19, "four groups of four: {digits}");
    assert!(digits.split(' ').all(|g| g.len() == 4), "{digits}");
    press(h, "Done");
    assert!(
        h.query_all_by_label_contains("Response ").next().is_none(),
        "Done forgets the response"
    );
    assert!(!shows(h, digits));
    assert!(
        station
            .harness
            .state()
            .state()
            .actions
            .unblock
            .response
            .is_none()
    );
}

#[test]
fn a_supervised_station_asks_for_the_supervisor_before_an_abandon() {
    let mut station = supervised_station(&[supervisor_entry(SUPERVISOR, SUPERVISOR_PASSWORD)]);
    let h = &mut station.harness;
    select_and_open_pane(h);
    press(h, "Abandon request…");
    wait_for(h, "the confirmation", |h| shows(h, "Supervisor name"));
    assert!(shows(h, "a supervisor confirms every action"));
    press(h, "Confirm: Abandon request");
    assert!(shows(h, "Type the supervisor's name."));
    assert_eq!(
        status_in_cm(&station, request_id()),
        RequestStatus::APPROVED,
        "nothing without the supervisor"
    );
    let h = &mut station.harness;
    set_field(h, "Supervisor name", SUPERVISOR);
    set_field(h, "Password", SUPERVISOR_PASSWORD);
    press(h, "Confirm: Abandon request");
    wait_for(h, "the result", |h| {
        shows(h, "Done.") || shows(h, "Not done:")
    });
    assert!(
        shows(h, "Done."),
        "the supervisor's confirmation lets it through"
    );
    assert_eq!(status_in_cm(&station, request_id()), RequestStatus::FAILED);
}

#[test]
fn a_temporary_card_request_is_created_from_the_new_request_form() {
    let mut station = station();
    let user = Uuid::from_u128(0x5151_0000_4000_8000_0000_0000_0000_0042);
    let h = &mut station.harness;
    wait_for(h, "the request list", |h| shows(h, PERSON));
    press(h, "New request");
    wait_for(h, "the form", |h| shows(h, "Person's user GUID"));
    set_field(h, "Person's user GUID", &user.to_string());
    set_field(h, "Profile template GUID", &TEMPLATES[0].uuid.to_string());
    wait_for(h, "the workflow's items", |h| {
        shows(h, "EmployeeID (required)")
    });
    set_field(h, "EmployeeID (required)", "E1234");
    set_field(h, "Comment", "forgot their card");
    press(h, "Create request…");
    wait_for(h, "the confirmation", |h| shows(h, "What happens"));
    assert!(shows(h, &user.to_string()), "the account is named");
    assert_eq!(
        emulator(&station).created_requests(),
        0,
        "nothing is sent before Confirm"
    );
    let h = &mut station.harness;
    press(h, "Request a temporary card");
    wait_for(h, "the result", |h| shows(h, "Done."));
    let created: Vec<_> = emulator(&station)
        .requests()
        .into_iter()
        .filter(|r| {
            r.request_type == enroll_station::domain::request::RequestType::TEMPORARY_CARD_ENROLL
        })
        .collect();
    assert_eq!(created.len(), 1, "one request, created once");
    assert_eq!(created[0].target_user, Some(user));
    assert_eq!(created[0].profile_template, Some(TEMPLATES[0].uuid));
}

// --- New request: the person by name, the template from CM's list --------

/// Waits for the list, then opens the New request form.
fn open_new_request(h: &mut Harness<'static, StationApp>) {
    wait_for(h, "the request list", |h| shows(h, PERSON));
    press(h, "New request");
    wait_for(h, "the form", |h| shows(h, "Person's user GUID"));
}

/// A station whose directory is `people`.
fn station_with_people(
    people: std::sync::Arc<dyn enroll_station::worker::people::PeopleSource>,
) -> Station {
    let (dir, path) = common::temp_journal();
    let journal =
        enroll_station::audit::journal::open_shared(Some(&path), true).expect("journal opens");
    let mut station = station_customized(journal, None, |setup| setup.people = Some(people));
    station.journal = path;
    station._journal_dir = Some(dir);
    station
}

/// The throwaway slapd as the station's directory; its people are
/// inetOrgPerson entries (Active Directory's `user` class is not in its schema).
fn slapd_people(
    server: &common::slapd::Slapd,
) -> std::sync::Arc<dyn enroll_station::worker::people::PeopleSource> {
    use enroll_station::directory::{Directory, DirectoryFile, DirectorySettings};
    let settings = DirectorySettings::try_from(DirectoryFile {
        bind_dn: Some(common::slapd::BIND_DN.to_owned()),
        ca_file: Some(server.ca_file().to_owned()),
        people_filter: Some("(objectClass=inetOrgPerson)".to_owned()),
        ..DirectoryFile::new(server.ldaps_url(), common::slapd::BASE_DN)
    })
    .expect("the test settings are valid");
    let password = enroll_station::platform::secrets::Secret::new(common::slapd::BIND_PASSWORD);
    std::sync::Arc::new(Directory::new(settings, Some(password)).expect("the directory is set up"))
}

fn find_person(h: &mut Harness<'static, StationApp>, typed: &str) {
    set_field(h, "Name or account", typed);
    press(h, "Find person");
}

const NO_ONE: &str = "No one in the directory has a name or account starting with";

#[test]
fn the_person_is_found_by_name_in_a_real_ldap_directory_and_picked() {
    let server = common::slapd::Slapd::start();
    let mut station = station_with_people(slapd_people(&server));
    let h = &mut station.harness;
    open_new_request(h);
    assert!(!shows(h, "No directory is configured"));

    // What is typed is a value, never filter syntax: a star is a star.
    for hostile in ["*a", "*)(objectClass=*", "j*", "ja)(|(sAMAccountName=*"] {
        find_person(h, hostile);
        wait_for(h, "the directory's answer", |h| {
            shows(h, NO_ONE) || shows(h, "could not be searched")
        });
        assert!(
            shows(h, NO_ONE),
            "{hostile:?} finds no one (escaped, a valid filter)"
        );
        assert!(!shows(h, "Jane Doe (jdoe)"), "{hostile:?} lists no one");
    }

    find_person(h, "ja");
    wait_for(h, "Jane among the matches", |h| shows(h, "Jane Doe (jdoe)"));
    assert!(
        shows(h, "jdoe@enroll.test"),
        "the principal name beside her"
    );
    assert!(!shows(h, "Noah Nophoto"), "a prefix search: only Jane");
    h.get_by_label("Jane Doe (jdoe)").click();
    h.run_steps(2);
    assert_eq!(
        h.state().state().actions.new_request.person,
        common::slapd::JANE.guid.to_string(),
        "the pick fills the user GUID"
    );
    wait_for(h, "the picked account from the directory", |h| {
        shows(h, "Account jdoe \u{00b7} jdoe@enroll.test")
    });

    // By account, and a directory's hostile name marked, never obeyed.
    find_person(h, "MALL");
    wait_for(h, "Mallory among the matches", |h| shows(h, "(mallory)"));
    assert!(
        shows(h, "Mallory<U+202E>nimdA Domain Admins (mallory)"),
        "the bidi override is shown as a mark, the line break as a space"
    );
    assert!(
        h.query_all_by_label_contains("\u{202E}").next().is_none(),
        "no label carries the raw override"
    );
}

#[test]
fn without_a_directory_the_form_says_so_and_keeps_the_guid_field() {
    let mut station = station();
    let h = &mut station.harness;
    open_new_request(h);
    assert!(shows(h, "No directory is configured on this station"));
    assert!(shows(h, "type the person's user GUID"));
    assert!(
        h.query_by_label("Name or account").is_none(),
        "no search without a directory"
    );
    let user = Uuid::from_u128(0x42);
    set_field(h, "Person's user GUID", &user.to_string());
    assert_eq!(h.state().state().actions.new_request.user(), Ok(user));
}

#[test]
fn the_demo_directory_answers_the_same_search_and_the_template_comes_from_cms_list() {
    let user = Uuid::from_u128(0x7d4a_9c2e_1b3f_4a5d_8e6f_0a1b_2c3d_4e5f);
    let demo = enroll_station::directory::demo::DemoDirectory::new([
        (user, "Priya Privileged".to_owned(), "ppriv".to_owned()),
        (
            Uuid::from_u128(0x99),
            "Paul Other".to_owned(),
            "pother".to_owned(),
        ),
    ]);
    let mut station = station_with_people(std::sync::Arc::new(demo));
    let h = &mut station.harness;
    open_new_request(h);
    find_person(h, "x");
    assert!(
        shows(h, "Type at least 2 characters"),
        "too little typed is said in words"
    );
    find_person(h, "Privi");
    wait_for(h, "Priya among the matches", |h| {
        shows(h, "Priya Privileged (ppriv)")
    });
    assert!(!shows(h, "Paul Other"));
    h.get_by_label("Priya Privileged (ppriv)").click();
    h.run_steps(2);
    assert_eq!(h.state().state().actions.new_request.user(), Ok(user));

    // The template: CM's smart card templates, by name, with their GUIDs.
    wait_for(h, "CM's templates", |h| {
        h.query_by_role_and_label(egui::accesskit::Role::ComboBox, "Profile template")
            .is_some()
    });
    assert!(shows(h, "1 software template(s) left out"));
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Profile template")
        .click();
    h.run_steps(2);
    let temporary = &TEMPLATES[2];
    let entry = format!("{} \u{2014} {}", temporary.name, temporary.uuid);
    assert!(shows(h, &entry), "name and GUID in the drop-down");
    assert!(
        !shows(h, &format!("{} \u{2014}", TEMPLATES[4].name)),
        "no software template"
    );
    h.get_by_label(&entry).click();
    h.run_steps(2);
    assert_eq!(
        h.state().state().actions.new_request.template(),
        Some(temporary.uuid),
        "the choice fills the template GUID"
    );
    wait_for(h, "the workflow's items", |h| {
        shows(h, "EmployeeID (required)")
    });
}

#[test]
fn a_template_list_that_cannot_be_read_says_why_and_the_guid_is_typed() {
    let (dir, path) = common::temp_journal();
    let journal =
        enroll_station::audit::journal::open_shared(Some(&path), true).expect("journal opens");
    let breaker = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let broken = std::sync::Arc::clone(&breaker);
    let mut station = station_customized(journal, None, move |setup| {
        let upstream = setup.demo.as_ref().expect("the emulator").local_addr();
        let front = template_breaker(upstream, broken);
        setup.client = enroll_station::cm::CmClient::new(&enroll_station::cm::ClientConfig::new(
            format!("http://{front}"),
        ))
        .expect("a client");
    });
    station.journal = path;
    station._journal_dir = Some(dir);
    let h = &mut station.harness;
    open_new_request(h);
    wait_for(h, "the failure in words", |h| {
        shows(h, "CM's profile templates could not be read")
    });
    assert!(shows(h, "Type the template's GUID below"));
    // The GUID typed by hand still works.
    set_field(h, "Profile template GUID", &TEMPLATES[0].uuid.to_string());
    wait_for(h, "the workflow's items", |h| {
        shows(h, "EmployeeID (required)")
    });
    // CM is back: the list is read again on request.
    breaker.store(false, std::sync::atomic::Ordering::SeqCst);
    press(h, "Read templates again");
    wait_for(h, "CM's templates", |h| {
        h.query_by_role_and_label(egui::accesskit::Role::ComboBox, "Profile template")
            .is_some()
    });
    assert!(!shows(h, "could not be read"));
}

/// A loopback HTTP front for the emulator that answers `GET
/// …/profiletemplates` (the list) with 500 while `broken` is set, and
/// passes everything else through. Returns its address.
fn template_breaker(
    upstream: std::net::SocketAddr,
    broken: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::net::SocketAddr {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let address = listener.local_addr().expect("its address");
    std::thread::spawn(move || {
        for inbound in listener.incoming() {
            let Ok(mut inbound) = inbound else { return };
            let Ok(outbound) = std::net::TcpStream::connect(upstream) else {
                continue;
            };
            let (Ok(mut inbound_back), Ok(mut outbound_back)) =
                (inbound.try_clone(), outbound.try_clone())
            else {
                continue;
            };
            let broken = std::sync::Arc::clone(&broken);
            std::thread::spawn(move || {
                let mut outbound = outbound;
                let mut buffer = [0u8; 16 * 1024];
                while let Ok(read) = inbound.read(&mut buffer) {
                    if read == 0 {
                        break;
                    }
                    let head = String::from_utf8_lossy(&buffer[..read]);
                    let line = head.lines().next().unwrap_or_default();
                    let list = line.starts_with("GET ")
                        && line.split(' ').nth(1).is_some_and(|path| {
                            path.trim_end_matches('/').ends_with("/profiletemplates")
                        });
                    if list && broken.load(std::sync::atomic::Ordering::SeqCst) {
                        let body = r#"{"Message":"An error has occurred."}"#;
                        let answer = format!(
                            "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n\
                             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = inbound.write_all(answer.as_bytes());
                        let _ = inbound.shutdown(std::net::Shutdown::Both);
                        let _ = outbound.shutdown(std::net::Shutdown::Both);
                        break;
                    }
                    if outbound.write_all(&buffer[..read]).is_err() {
                        break;
                    }
                }
                let _ = outbound.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let mut buffer = [0u8; 16 * 1024];
                while let Ok(read) = outbound_back.read(&mut buffer) {
                    if read == 0 || inbound_back.write_all(&buffer[..read]).is_err() {
                        break;
                    }
                }
                let _ = inbound_back.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    address
}
