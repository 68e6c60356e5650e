//! Who the card is for, in the window (issue 18, review H1): the target
//! account as the directory holds it in the list, the bind bar, the
//! supervisor confirmation, the kiosk and the journal; the requester's
//! typed name marked as such; and without a directory, the GUID and the
//! words "unchecked". egui_kittest against the CM emulator over real HTTP.

mod common;

use common::window::*;

use std::sync::Arc;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use enroll_station::directory::demo::DemoDirectory;
use enroll_station::ui::{StationApp, StationSetup};

type H = Harness<'static, StationApp>;

/// A request whose requester typed Mallory's name over another account.
const TYPED_REQUEST: &str = "3f0e6a1b-2c4d-4e8f-9a0b-1c2d3e4f5a61";
const TARGET: &str = "7d4a9c2e-1b3f-4a5d-8e6f-0a1b2c3d4e5f";

fn target() -> uuid::Uuid {
    TARGET.parse().expect("a GUID")
}

fn add_typed_request(station: &Station) {
    emulator(station)
        .insert_request(serde_json::json!({
            "Uuid": TYPED_REQUEST,
            "RequestType": 1,
            "Status": 3,
            "Priority": 100,
            "Submitted": "2026-11-27T08:00:00Z",
            "TargetUserUuid": TARGET,
            "IsSmartcard": true,
            "DataCollection": [
                {"Name": "FirstName", "Value": "Mallory"},
                {"Name": "LastName", "Value": "Smith"},
                {"Name": "EmployeeID", "Value": "E7001"}
            ]
        }))
        .expect("the request is valid");
}

/// The directory says the target account is Priya's.
fn priya() -> Arc<DemoDirectory> {
    Arc::new(DemoDirectory::new([(
        target(),
        "Priya Privileged".to_owned(),
        "ppriv".to_owned(),
    )]))
}

fn station_with_people(customize: impl FnOnce(&mut StationSetup)) -> Station {
    let (dir, path) = common::temp_journal();
    let journal =
        enroll_station::audit::journal::open_shared(Some(&path), true).expect("journal opens");
    let mut station = station_customized(journal, None, customize);
    station.journal = path;
    station._journal_dir = Some(dir);
    add_typed_request(&station);
    press(&mut station.harness, "Refresh");
    station
}

fn click_containing(h: &mut H, text: &str) {
    h.query_all_by_label_contains(text)
        .next()
        .unwrap_or_else(|| panic!("nothing shows {text:?}"))
        .click();
    h.run_steps(2);
}

#[test]
fn without_a_directory_the_typed_name_is_marked_unchecked_and_the_account_guid_shown() {
    let mut station = station_with_people(|_| {});
    let h = &mut station.harness;
    wait_for(h, "the typed request", |h| shows(h, "Mallory Smith"));
    assert!(shows(h, "Names unchecked"), "the header says so");
    click_containing(h, "Mallory Smith");
    assert!(
        shows(h, &format!("Target account {TARGET}")),
        "the bind bar shows the account CM issues to"
    );
    assert!(shows(h, "No directory is configured"));
    assert!(shows(h, "No photo: unchecked"));
}

#[test]
fn with_a_directory_the_list_bind_bar_and_journal_name_the_account_and_flag_the_typed_name() {
    let mut station = station_with_people(|setup| setup.people = Some(priya()));
    let h = &mut station.harness;
    wait_for(h, "the directory's name in the list", |h| {
        shows(h, "Priya Privileged (ppriv)")
    });
    assert!(
        shows(h, "Name differs"),
        "the row says the typed name is not the account's"
    );
    assert!(shows(h, "Names from the directory"));
    click_containing(h, "Priya Privileged (ppriv)");
    wait_for(h, "the photo in the bind bar", |h| {
        shows(h, "Photo from the directory")
    });
    assert!(shows(h, "The requester entered"), "the mismatch in words");
    assert!(shows(h, "Account ppriv"));
    h.get_by_label("Insert demo card").click();
    wait_for(h, "Bind", bind_enabled);
    h.get_by_label("Bind").click();
    wait_for(h, "the bind to end", |h| shows(h, "Done"));
    let person = journal_lines(&station.journal)
        .iter()
        .find_map(|line| line["person"].as_str().map(str::to_owned))
        .expect("the journal names the person");
    assert_eq!(person, "Priya Privileged (ppriv)");
}

#[test]
fn the_supervisor_confirms_with_the_same_face_and_directory_name() {
    let supervisors = [supervisor_entry("Sam Supervisor", "sup-password-1")];
    let store = Arc::new(enroll_station::supervisors::SupervisorStore::from_config(
        &supervisors,
    ));
    let mut station = station_with_people(|setup| {
        setup.people = Some(priya());
        setup.mode = enroll_station::config::Mode::Supervised;
        setup.supervisors = store;
    });
    let h = &mut station.harness;
    wait_for(h, "the directory's name", |h| {
        shows(h, "Priya Privileged (ppriv)")
    });
    click_containing(h, "Priya Privileged (ppriv)");
    h.get_by_label("Insert demo card").click();
    wait_for(h, "Bind", bind_enabled);
    h.get_by_label("Bind").click();
    wait_for(h, "the confirmation", |h| {
        shows(h, "Supervisor confirmation")
    });
    let photos = h.query_all_by_label("Photo from the directory").count();
    assert!(
        photos >= 2,
        "the bind bar and the confirmation both show the face ({photos})"
    );
    assert!(
        h.query_all_by_label_contains("The requester entered")
            .count()
            >= 2,
        "the mismatch is in the confirmation too"
    );
}

#[test]
fn a_kiosk_names_the_directory_account_not_the_typed_name() {
    let (dir, path) = common::temp_journal();
    let journal =
        enroll_station::audit::journal::open_shared(Some(&path), true).expect("journal opens");
    let config = enroll_station::config::StationConfig {
        mode: enroll_station::config::Mode::Kiosk,
        ..Default::default()
    };
    let mut station = station_customized(journal, None, |setup| {
        setup.mode = enroll_station::config::Mode::Kiosk;
        setup.config = config;
        setup.people = Some(priya());
    });
    station._journal_dir = Some(dir);
    add_typed_request(&station);
    let h = &mut station.harness;
    h.run_steps(2);
    scan(h, TYPED_REQUEST);
    wait_for(h, "the request's name", |h| shows(h, "Request for"));
    wait_for(h, "the directory's name", |h| shows(h, "Request for P. P."));
    assert!(!shows(h, "Mallory"), "the typed name is not shown");
}

/// A request whose typed values carry what review H1 lists: a Cyrillic
/// look-alike, a bidi override, a zero-width space, a terminal escape with
/// a carriage return and a line break, and a megabyte.
const HOSTILE_REQUEST: &str = "4a1b2c3d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";

fn add_hostile_request(station: &Station) {
    emulator(station)
        .insert_request(serde_json::json!({
            "Uuid": HOSTILE_REQUEST,
            "RequestType": 1,
            "Status": 3,
            "Priority": 100,
            "Submitted": "2026-11-27T08:00:00Z",
            "TargetUserUuid": TARGET,
            "IsSmartcard": true,
            "DataCollection": [
                {"Name": "FirstName", "Value": "J\u{430}ne"},
                {"Name": "LastName", "Value": "Do\u{200B}e\u{202E}gnp.exe"},
                {"Name": "EmployeeID", "Value": "E1\u{1b}[2K\rE2\nE3"},
                {"Name": "Note", "Value": "x".repeat(1_000_000)}
            ]
        }))
        .expect("the request is valid JSON for CM");
}

/// No label on screen holds a character that draws as nothing or moves
/// text, and none is longer than the station's caps allow.
fn assert_every_label_is_neutral(h: &H, view: &str) {
    let mut labels = 0;
    for node in h.query_all(egui_kittest::kittest::by()) {
        let Some(label) = node.accesskit_node().label() else {
            continue;
        };
        labels += 1;
        let bad: Vec<char> = label
            .chars()
            .filter(|&c| {
                enroll_station::domain::text::is_hidden(c)
                    || enroll_station::domain::text::is_bidi_control(c)
                    || (c.is_control() && c != '\n')
            })
            .collect();
        assert!(bad.is_empty(), "{view}: {bad:?} in {label:?}");
        assert!(
            label.chars().count() < 4_000,
            "{view}: a label of {} characters",
            label.chars().count()
        );
    }
    assert!(labels > 3, "{view}: only {labels} labels were read");
}

#[test]
fn hostile_typed_values_are_shown_marked_and_flagged_in_the_list_bind_bar_and_confirmation() {
    let supervisors = [supervisor_entry("Sam Supervisor", "sup-password-1")];
    let store = Arc::new(enroll_station::supervisors::SupervisorStore::from_config(
        &supervisors,
    ));
    let mut station = station_with_people(|setup| {
        setup.mode = enroll_station::config::Mode::Supervised;
        setup.supervisors = store;
    });
    add_hostile_request(&station);
    press(&mut station.harness, "Refresh");
    let h = &mut station.harness;
    wait_for(h, "the hostile row, flagged", |h| {
        shows(h, "Look-alike letters")
    });
    assert_every_label_is_neutral(h, "the list");
    assert!(
        shows(h, "<U+202E>") && shows(h, "<U+200B>"),
        "hidden characters are shown as marks, not dropped"
    );
    click_containing(h, "Look-alike letters");
    assert!(
        shows(
            h,
            "What the requester entered mixes Latin and Cyrillic letters"
        ),
        "the bind bar says what is odd"
    );
    assert_every_label_is_neutral(h, "the bind bar");
    h.get_by_label("Insert demo card").click();
    wait_for(h, "Bind", bind_enabled);
    h.get_by_label("Bind").click();
    wait_for(h, "the confirmation", |h| {
        shows(h, "Supervisor confirmation")
    });
    assert!(
        h.query_all_by_label_contains("What the requester entered mixes")
            .count()
            >= 2,
        "the supervisor sees the warning too"
    );
    assert_every_label_is_neutral(h, "the supervisor confirmation");
}

#[test]
fn a_kiosk_shows_a_hostile_typed_name_neutralised() {
    let (dir, path) = common::temp_journal();
    let journal =
        enroll_station::audit::journal::open_shared(Some(&path), true).expect("journal opens");
    let config = enroll_station::config::StationConfig {
        mode: enroll_station::config::Mode::Kiosk,
        ..Default::default()
    };
    let mut station = station_customized(journal, None, |setup| {
        setup.mode = enroll_station::config::Mode::Kiosk;
        setup.config = config;
    });
    station._journal_dir = Some(dir);
    add_hostile_request(&station);
    let h = &mut station.harness;
    h.run_steps(2);
    scan(h, HOSTILE_REQUEST);
    wait_for(h, "the request's name", |h| shows(h, "Request for"));
    assert_every_label_is_neutral(h, "the kiosk");
}

fn jane_request(station: &Station) {
    emulator(station)
        .insert_request(serde_json::json!({
            "Uuid": TYPED_REQUEST,
            "RequestType": 1,
            "Status": 3,
            "Priority": 100,
            "Submitted": "2026-11-27T08:00:00Z",
            "TargetUserUuid": common::slapd::JANE.guid.to_string(),
            "IsSmartcard": true,
            "DataCollection": [
                {"Name": "FirstName", "Value": "Jane"},
                {"Name": "LastName", "Value": "Doe"}
            ]
        }))
        .expect("the request is valid");
}

fn ldap_station(settings: enroll_station::directory::DirectorySettings) -> Station {
    let directory = enroll_station::directory::Directory::new(
        settings,
        Some(enroll_station::platform::secrets::Secret::new(
            common::slapd::BIND_PASSWORD,
        )),
    )
    .expect("the directory is set up");
    let (dir, path) = common::temp_journal();
    let journal =
        enroll_station::audit::journal::open_shared(Some(&path), true).expect("journal opens");
    let mut station = station_customized(journal, None, |setup| {
        setup.people = Some(Arc::new(directory));
    });
    station.journal = path;
    station._journal_dir = Some(dir);
    jane_request(&station);
    press(&mut station.harness, "Refresh");
    station
}

#[test]
fn the_window_shows_the_account_and_photo_from_a_real_ldap_directory() {
    let server = common::slapd::Slapd::start();
    let mut station = ldap_station(server.settings(&server.ldaps_url(), None, 5));
    let h = &mut station.harness;
    wait_for(h, "the account from slapd in the list", |h| {
        shows(h, "Jane Doe (jdoe)")
    });
    assert!(!shows(h, "Name differs"), "the typed name is the account's");
    assert!(shows(h, "Names from the directory"));
    click_containing(h, "Jane Doe (jdoe)");
    wait_for(h, "the photo from slapd", |h| {
        shows(h, "Photo from the directory")
    });
    assert!(shows(h, "Account jdoe \u{00b7} jdoe@enroll.test"));
}

#[test]
fn a_directory_that_is_down_degrades_in_words_and_bind_still_works_marked_unchecked() {
    let server = common::slapd::Slapd::start();
    let down = format!("ldaps://127.0.0.1:{}", common::slapd::closed_port());
    let mut station = ldap_station(server.settings(&down, None, 2));
    let h = &mut station.harness;
    wait_for(h, "the header to say the directory is out", |h| {
        shows(h, "Directory unreachable: names unchecked")
    });
    // The header and the row are drawn from separate answers: under load
    // the row can be a frame or a lookup behind.
    wait_for(h, "the row to say the name is typed", |h| {
        shows(h, "Entered: Jane Doe")
    });
    click_containing(h, "Entered: Jane Doe");
    assert!(
        shows(h, "The directory could not be asked"),
        "the bind bar says why in words"
    );
    h.get_by_label("Insert demo card").click();
    wait_for(h, "Bind", bind_enabled);
    h.get_by_label("Bind").click();
    wait_for(h, "the bind to end", |h| shows(h, "Done"));
    let person = journal_lines(&station.journal)
        .iter()
        .find_map(|line| line["person"].as_str().map(str::to_owned))
        .expect("the journal names the person");
    assert_eq!(person, "Jane Doe (unchecked)");
}

#[test]
fn a_batch_says_before_it_starts_whose_typed_name_is_not_the_accounts() {
    const HONEST_REQUEST: &str = "5b1d7e2f-3a4c-4b6d-9e8f-2a3b4c5d6e71";
    const HONEST_TARGET: &str = "8e5b0d3f-2c4a-4b6e-9f70-1b2c3d4e5f60";
    let honest: uuid::Uuid = HONEST_TARGET.parse().expect("a GUID");
    let directory = Arc::new(DemoDirectory::new([
        (target(), "Priya Privileged".to_owned(), "ppriv".to_owned()),
        (honest, "Hana Honest".to_owned(), "hhonest".to_owned()),
    ]));
    let mut station = station_with_people(|setup| setup.people = Some(directory));
    emulator(&station)
        .insert_request(serde_json::json!({
            "Uuid": HONEST_REQUEST,
            "RequestType": 1,
            "Status": 3,
            "Priority": 100,
            "Submitted": "2026-11-27T09:00:00Z",
            "TargetUserUuid": HONEST_TARGET,
            "IsSmartcard": true,
            "DataCollection": [
                {"Name": "FirstName", "Value": "Hana"},
                {"Name": "LastName", "Value": "Honest"}
            ]
        }))
        .expect("the request is valid");
    let h = &mut station.harness;
    press(h, "Refresh");
    wait_for(h, "both names from the directory", |h| {
        shows(h, "Priya Privileged (ppriv)") && shows(h, "Hana Honest (hhonest)")
    });
    click_containing(h, "Hana Honest (hhonest)");
    h.query_all_by_label_contains("Priya Privileged (ppriv)")
        .next()
        .expect("Priya's row")
        .click_modifiers(egui::Modifiers::COMMAND);
    h.run_steps(2);
    wait_for(h, "the batch button", |h| {
        shows(h, "Bind 2 as a batch\u{2026}")
    });
    assert!(
        h.query_all_by_label_contains(
            "Check before you start: Priya Privileged (ppriv) (Name differs)"
        )
        .next()
        .is_some(),
        "the row's warning is said where the batch is started"
    );
    assert!(
        h.query_all_by_label_contains("Hana Honest (hhonest) (")
            .next()
            .is_none(),
        "no warning for a typed name that is the account's"
    );
}
