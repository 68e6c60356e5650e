//! The kiosk as a stranger meets it, in egui_kittest against the CM
//! emulator over real HTTP and the demo reader: buttons that stay put,
//! a progress header, plain words with details for staff, the "Are you
//! still there?" countdown, Cancel, the code kept for a typist and emptied
//! for a scanner, the site's texts, and a Staff control staff can hit.

mod common;

use common::window::*;

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use enroll_station::cm::emulator::Faults;
use enroll_station::domain::bind::BindState;
use enroll_station::ui::StationApp;

type H = Harness<'static, StationApp>;

fn button_rect(h: &H, label: &str) -> egui::Rect {
    h.get_by_role_and_label(egui::accesskit::Role::Button, label)
        .rect()
}

fn code_field_focused(h: &H) -> bool {
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, KIOSK_CODE)
        .is_focused()
}

/// Types `text` one character a frame, as a person does (a frame is 0.25 s).
fn type_slowly(h: &mut H, text: &str) {
    for c in text.chars() {
        type_text(h, &c.to_string());
    }
}

/// Every label on screen, for checks over all the words the person sees.
fn all_text(h: &H) -> Vec<String> {
    h.query_all(egui_kittest::kittest::by())
        .filter_map(|node| text_of(&node))
        .collect()
}

/// A node's words: a label's are its value, other widgets' their label.
fn text_of(node: &egui_kittest::Node<'_>) -> Option<String> {
    let node = node.accesskit_node();
    node.value().or_else(|| node.label())
}

fn insert_demo_card(h: &H, index: usize) {
    h.state()
        .demo_reader()
        .expect("demo mode")
        .insert(enroll_station::card::demo::demo_cards()[index].card.clone());
}

#[test]
fn continue_bind_my_card_and_start_over_stay_put_when_an_error_comes_and_goes() {
    let mut station = kiosk_station(60, &[]);
    let user = uuid::Uuid::from_u128(0x5eed_0001);
    // The demo card is in use in CM: "Bind my card" is refused with an error.
    emulator(&station).insert_smartcard(
        &demo_gids_card_id(),
        enroll_station::domain::request::SmartcardStatus::ACTIVE,
        user,
        uuid::Uuid::from_u128(0x7e3a_0001),
    );
    let h = &mut station.harness;
    let continue_at = button_rect(h, "Continue");
    // One line of error.
    type_slowly(h, "hello");
    key(h, egui::Key::Enter);
    wait_for(h, "the refusal", |h| shows(h, "is not a request code"));
    assert_eq!(button_rect(h, "Continue"), continue_at, "one line of error");
    // A longer one, echoing 40 characters.
    type_slowly(h, &"0c7b4d1e".repeat(6));
    key(h, egui::Key::Enter);
    wait_for(h, "the refusal", |h| shows(h, "0c7b4d1e0c7b4d1e"));
    assert_eq!(
        button_rect(h, "Continue"),
        continue_at,
        "two lines of error"
    );
    type_text(h, "x");
    assert!(
        !shows(h, "is not a request code"),
        "a keystroke answers the error"
    );
    assert_eq!(button_rect(h, "Continue"), continue_at, "no error");
    key(h, egui::Key::Backspace);
    assert_eq!(kiosk_code(h), "");

    scan(h, REQUEST);
    wait_for(h, "the card step", |h| shows(h, "Insert your card"));
    let bind_at = button_rect(h, "Bind my card");
    let start_over_at = button_rect(h, "Start over");
    insert_demo_card(h, 0);
    wait_for(h, "the card", |h| shows(h, "Your card is ready."));
    assert_eq!(button_rect(h, "Bind my card"), bind_at);
    // CM's answer about the card may come a little later: press until it did.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !shows(h, "already in use") {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for the refusal"
        );
        bind_my_card_button(h).click_accesskit();
        h.run_steps(2);
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(shows(h, "Please ask a member of staff."));
    assert_eq!(button_rect(h, "Bind my card"), bind_at, "with an error");
    assert_eq!(button_rect(h, "Start over"), start_over_at, "with an error");
    // A card problem instead of a ready card moves nothing either.
    h.state().demo_reader().expect("demo mode").remove();
    wait_for(h, "an empty reader", |h| {
        shows(h, "No card in the reader yet.")
    });
    insert_demo_card(h, 3);
    wait_for(h, "the card problem", |h| {
        shows(h, "This card can't be used here.")
    });
    assert_eq!(
        button_rect(h, "Bind my card"),
        bind_at,
        "with a card problem"
    );
    assert_eq!(
        button_rect(h, "Start over"),
        start_over_at,
        "with a card problem"
    );
    assert_eq!(emulator(&station).bind_count(), 0);
}

#[test]
fn the_progress_header_names_the_step_and_the_heading_follows_the_person() {
    let mut station = kiosk_station(60, &[]);
    let h = &mut station.harness;
    assert!(shows(h, "Step 1 of 3"));
    assert!(shows(h, KIOSK_CODE));
    h.check_accessibility();
    scan(h, REQUEST);
    wait_for(h, "the card step", |h| shows(h, "Step 2 of 3"));
    assert!(shows(h, "Insert your card"));
    assert!(shows(h, "Request for K. P."));
    assert!(!shows(h, "Finance"), "the department is not shown");
    insert_demo_card(h, 0);
    wait_for(h, "the card", |h| shows(h, "Your card is ready."));
    assert!(shows(h, "Step 3 of 3"));
    assert!(
        shows(h, "Press \u{201c}Bind my card\u{201d}"),
        "the heading names the next action"
    );
    assert!(!shows(h, "Insert your card"));
    h.check_accessibility();
    tab_to_bind_my_card(h);
    key(h, egui::Key::Enter);
    wait_for(h, "the result", |h| {
        shows(h, "Done: your card is now bound")
    });
    assert!(!shows(h, "Step "), "no steps on the result");
    h.check_accessibility();
}

#[test]
fn are_you_still_there_counts_down_keeps_the_person_and_resets_only_after_it() {
    // 20 s idle: the question takes the last 5 s; a frame is 0.25 s.
    let mut station = kiosk_station(20, &[]);
    let h = &mut station.harness;
    type_slowly(h, "0c7b");
    h.run_steps(58);
    assert!(!shows(h, "Are you still there?"), "not before the last 5 s");
    h.run_steps(3);
    assert!(shows(h, "Are you still there?"));
    assert!(shows(h, "starts over in 5 s"), "{:?}", all_text(h));
    h.check_accessibility();
    h.run_steps(4);
    assert!(shows(h, "starts over in 4 s"), "it counts down");
    h.get_by_label("I'm still here").click();
    h.run_steps(2);
    assert!(!shows(h, "Are you still there?"));
    assert_eq!(kiosk_code(h), "0c7b", "the person keeps what they typed");
    // Left alone again: asked again, and only after the countdown reset.
    h.run_steps(62);
    assert!(shows(h, "Are you still there?"));
    // The click's press was the activity (not its hover, nor its release).
    h.run_steps(15);
    assert!(shows(h, "starts over in 1 s"), "{:?}", all_text(h));
    assert_eq!(kiosk_code(h), "0c7b", "no reset before the countdown ends");
    h.run_steps(4);
    assert_eq!(
        kiosk_code(h),
        "",
        "the countdown ended: everything is forgotten"
    );
    assert!(!shows(h, "Are you still there?"));
    assert!(code_field_focused(h), "the next scan lands in the field");
    // Any key puts the question away too, and keeps the person.
    type_slowly(h, "ab");
    h.run_steps(64);
    assert!(shows(h, "Are you still there?"));
    type_text(h, "c");
    h.run_steps(1);
    assert!(!shows(h, "Are you still there?"));
    assert_eq!(kiosk_code(h), "abc");
}

#[test]
fn cancel_while_looking_up_returns_to_the_code_and_a_late_answer_is_ignored() {
    let (mut station, link) = slow_kiosk_station(60, Duration::from_secs(20));
    let h = &mut station.harness;
    link.set_delay(Duration::from_millis(1500));
    let answers = link.answers();
    scan(h, REQUEST);
    wait_for(h, "the lookup", |h| shows(h, "Looking up your request"));
    assert!(shows(h, "Step 1 of 3"));
    press(h, "Cancel");
    assert!(shows(h, KIOSK_CODE), "back at the first step");
    assert_eq!(kiosk_code(h), REQUEST, "the code stays for another try");
    wait_for(h, "the late answer", |_| link.answers() > answers);
    h.run_steps(6);
    assert!(shows(h, KIOSK_CODE), "the late answer changed nothing");
    assert!(!shows(h, "Insert your card"));
    assert!(!shows(h, "We can't"), "and is not shown as a problem");
    // Without the delay, Continue with the kept code goes on.
    link.set_delay(Duration::ZERO);
    press(h, "Continue");
    wait_for(h, "the card step", |h| shows(h, "Insert your card"));
}

#[test]
fn a_typed_code_stays_selected_after_an_error_and_a_scanned_one_is_cleared() {
    let mut station = kiosk_station(60, &[]);
    let h = &mut station.harness;
    let typo = "0c7b4d1e-5a2f-4e8b-9f10-2d3c4b5a697";
    type_slowly(h, typo);
    key(h, egui::Key::Enter);
    wait_for(h, "the refusal", |h| shows(h, "is not a request code"));
    h.run_steps(2);
    assert_eq!(kiosk_code(h), typo, "35 characters typed by hand stay");
    assert_eq!(code_field_value(h).as_deref(), Some(typo));
    assert!(code_field_focused(h));
    // Selected: the next keystroke replaces the whole code.
    type_text(h, "0");
    assert_eq!(kiosk_code(h), "0");
    assert!(
        !shows(h, "is not a request code"),
        "the error clears at once"
    );

    key(h, egui::Key::Backspace);
    scan(h, "{0c7b4d1e-5a2f-4e8b-9f10-ZZZZ}");
    wait_for(h, "the refusal", |h| shows(h, "is not a request code"));
    assert_eq!(
        kiosk_code(h),
        "",
        "the scanner's next code starts on an empty field"
    );
    assert!(code_field_focused(h));
}

#[test]
fn kiosk_messages_are_plain_and_details_for_staff_hold_the_reference() {
    // A server that does not answer within the timeout.
    let (mut station, link) = slow_kiosk_station(60, Duration::from_secs(1));
    let h = &mut station.harness;
    link.set_delay(Duration::from_secs(3));
    scan(h, REQUEST);
    wait_for(h, "the refusal", |h| {
        shows(h, "We can't look up your request right now.")
    });
    let said = h
        .query_all_by_label_contains("We can't look up")
        .next()
        .and_then(|n| text_of(&n))
        .expect("the message");
    assert!(said.contains("(ref. "), "{said}");
    for text in all_text(h) {
        for jargon in ["..", "GET ", "CM server", "within 1 s"] {
            assert!(
                !text.contains(jargon),
                "{jargon:?} shown to the person: {text}"
            );
        }
    }
    // Staff open the details: the technical reason, under the same reference.
    h.query_all_by_label_contains("Details for staff")
        .next()
        .expect("details for staff")
        .click_accesskit();
    h.run_steps(2);
    assert!(shows(h, "GET "), "{:?}", all_text(h));
    let reference = said
        .split("(ref. ")
        .nth(1)
        .and_then(|r| r.strip_suffix(")."))
        .expect("a reference");
    assert!(shows(h, &format!("Reference: {reference}")));
    link.set_delay(Duration::ZERO);

    // A card the station cannot read an ID from.
    let mut station = kiosk_station(60, &[]);
    let h = &mut station.harness;
    scan(h, REQUEST);
    wait_for(h, "the card step", |h| shows(h, "Insert your card"));
    insert_demo_card(h, 3);
    wait_for(h, "the card problem", |h| {
        shows(
            h,
            "This card can't be used here. Please take it out and ask a member of staff.",
        )
    });
    for text in all_text(h) {
        for jargon in ["..", "PIV nor GIDS", "Unknown card application"] {
            assert!(
                !text.contains(jargon),
                "{jargon:?} shown to the person: {text}"
            );
        }
    }
    assert!(shows(h, "Details for staff"));

    // A bind the server refuses: the correlation ID is for staff.
    let mut station = kiosk_station(60, &[]);
    emulator(&station).set_faults(Faults {
        fail_next_posts: 1,
        ..Faults::default()
    });
    let h = &mut station.harness;
    scan(h, REQUEST);
    wait_for(h, "the card step", |h| shows(h, "Insert your card"));
    insert_demo_card(h, 0);
    wait_for(h, "the card", |h| shows(h, "Your card is ready."));
    tab_to_bind_my_card(h);
    key(h, egui::Key::Enter);
    wait_for(h, "the result", |h| {
        shows(h, "Your card was not bound to your request.")
    });
    let BindState::Failed { failure, .. } = &h.state().state().bind else {
        panic!("expected Failed, got {:?}", h.state().state().bind);
    };
    let correlation = failure.correlation_id.clone().expect("a 500 carries one");
    assert!(!shows(h, &correlation), "collapsed until staff open it");
    for text in all_text(h) {
        assert!(!text.contains(".."), "{text}");
    }
    h.query_all_by_label_contains("Details for staff")
        .next()
        .expect("details for staff")
        .click_accesskit();
    h.run_steps(2);
    assert!(shows(h, &format!("Correlation ID: {correlation}")));
    h.check_accessibility();
}

#[test]
fn the_result_counts_down_and_names_the_sites_next_step() {
    let logo = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/icons/hicolor/48x48/apps/enroll-station.png"
    );
    let mut station = kiosk_station_configured(
        60,
        &[],
        &format!(
            "[kiosk_site]\nservice_name = \"Contoso badge office\"\n\
             help = \"Need help? Ask at the blue counter.\"\n\
             next_step = \"Take your card to desk 3 for your certificates.\"\n\
             logo = \"{logo}\"\n"
        ),
    );
    let h = &mut station.harness;
    assert!(shows(h, "Contoso badge office"));
    assert!(shows(h, "Need help? Ask at the blue counter."));
    assert!(shows(h, "Contoso badge office logo"), "the logo is drawn");
    scan(h, REQUEST);
    wait_for(h, "the card step", |h| shows(h, "Insert your card"));
    insert_demo_card(h, 0);
    wait_for(h, "the card", |h| shows(h, "Your card is ready."));
    tab_to_bind_my_card(h);
    key(h, egui::Key::Enter);
    wait_for(h, "the result", |h| {
        shows(h, "Done: your card is now bound")
    });
    assert!(shows(h, "Take your card to desk 3 for your certificates."));
    assert!(shows(h, "This screen clears in 10 s."), "{:?}", all_text(h));
    h.run_steps(4);
    assert!(shows(h, "This screen clears in 9 s."), "it counts down");
    h.run_steps(12);
    assert!(shows(h, "This screen clears in 6 s."));

    // A logo that cannot be read is left out; the kiosk runs.
    let mut station =
        kiosk_station_configured(60, &[], "[kiosk_site]\nlogo = \"/nonexistent/logo.png\"\n");
    let h = &mut station.harness;
    assert!(shows(h, "Smart card enrollment"), "the station's own name");
    assert!(!shows(h, "logo"));
    assert!(shows(h, KIOSK_CODE));
}

#[test]
fn staff_reach_a_whole_touch_target_and_the_sign_in_takes_the_keyboard() {
    let mut station = kiosk_station(60, &[supervisor_entry(SUPERVISOR, SUPERVISOR_PASSWORD)]);
    let h = &mut station.harness;
    h.input_mut()
        .viewports
        .get_mut(&egui::ViewportId::ROOT)
        .expect("the harness has a root viewport")
        .monitor_size = Some(egui::vec2(1024.0, 768.0));
    let staff = button_rect(h, "Staff");
    assert!(
        staff.width() >= 48.0 && staff.height() >= 48.0,
        "a 48×48 target at least: {staff:?}"
    );
    // Keyboard users reach it: it is the first stop of Tab.
    h.get_by_role_and_label(egui::accesskit::Role::Button, "Staff")
        .focus();
    h.run_steps(1);
    key(h, egui::Key::Enter);
    wait_for(h, "the staff sign-in", |h| shows(h, "Staff sign-in"));
    h.run_steps(1);
    assert!(
        h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Supervisor name")
            .is_focused(),
        "the name field takes the keyboard"
    );
    type_text(h, SUPERVISOR);
    key(h, egui::Key::Enter);
    let password = |h: &H| {
        h.get_by_role_and_label(egui::accesskit::Role::PasswordInput, "Password")
            .is_focused()
    };
    assert!(password(h), "Enter goes on to the password");
    type_text(h, "a guess");
    key(h, egui::Key::Enter);
    assert!(
        h.get_by_role_and_label(egui::accesskit::Role::Button, "Leave kiosk mode")
            .is_focused(),
        "Enter goes on to the choice"
    );
    h.check_accessibility();
    let leave_at = button_rect(h, "Leave kiosk mode");
    key(h, egui::Key::Enter);
    wait_for(h, "the refusal", |h| shows(h, "name or password is wrong"));
    h.run_steps(1);
    assert!(password(h), "the password field is ready for the next try");
    assert_eq!(
        button_rect(h, "Leave kiosk mode"),
        leave_at,
        "the refusal moves no button"
    );
    type_text(h, SUPERVISOR_PASSWORD);
    h.get_by_label("Leave kiosk mode").click_accesskit();
    let mut commands = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while h.state().state().kiosk.active {
        assert!(Instant::now() < deadline, "timed out waiting for the desk");
        h.step();
        commands.extend(
            h.output().viewport_output[&egui::ViewportId::ROOT]
                .commands
                .iter()
                .cloned(),
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let size = commands
        .iter()
        .find_map(|c| match c {
            egui::ViewportCommand::InnerSize(size) => Some(*size),
            _ => None,
        })
        .expect("the window is given a size");
    let at = commands
        .iter()
        .find_map(|c| match c {
            egui::ViewportCommand::OuterPosition(at) => Some(*at),
            _ => None,
        })
        .expect("and a place");
    assert!(
        at.y + size.y + 30.0 <= 768.0 && at.x + size.x <= 1024.0,
        "the desk window fits the 1024×768 monitor: {at:?} {size:?}"
    );
}
