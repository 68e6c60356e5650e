//! A kiosk that forgets (issue 19; reviews M4, M5 and L8), in egui_kittest
//! against the CM emulator over real HTTP and the demo reader: only
//! deliberate input keeps a person's screen, the card step waits a fixed
//! time and shows initials, a card taken out after the result starts over,
//! the desk a supervisor opened goes back to the kiosk by itself, and
//! keyboard zoom, the clipboard, selectable labels and the reader choice
//! carry nothing from one person to the next.
//!
//! The harness's clock advances 0.25 s a step.

mod common;

use common::window::*;

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use enroll_station::domain::bind::BindState;
use enroll_station::ui::StationApp;

type H = Harness<'static, StationApp>;

/// The card step's fixed wait (`app::kiosk::CARD_WAIT`, crate-private).
const CARD_WAIT: Duration = Duration::from_secs(30);

/// The steps of `secs` seconds of the harness's clock (a step with one
/// queued event or none is one frame of 0.25 s).
fn steps(secs: f64) -> usize {
    (secs / 0.25).ceil() as usize
}

/// The window's clock, in seconds.
fn now(h: &H) -> f64 {
    h.ctx.input(|i| i.time)
}

/// Every word on screen.
fn all_text(h: &H) -> Vec<String> {
    h.query_all(egui_kittest::kittest::by())
        .filter_map(|node| {
            let node = node.accesskit_node();
            node.value().or_else(|| node.label())
        })
        .collect()
}

/// Someone moves the mouse around the screen (over the buttons too) and
/// turns its wheel for `secs` seconds, and presses nothing; returns every
/// platform command of those frames (kittest runs a frame per queued event:
/// one event a step, so each frame's output is seen).
fn move_the_mouse(h: &mut H, secs: f64) -> Vec<egui::OutputCommand> {
    let mut commands = Vec::new();
    for step in 0..steps(secs) {
        let x = 40.0 + (step * 97 % 1200) as f32;
        let y = 40.0 + (step * 53 % 720) as f32;
        if step % 7 != 6 {
            h.event(egui::Event::PointerMoved(egui::pos2(x, y)));
        } else {
            h.event(egui::Event::MouseWheel {
                unit: egui::MouseWheelUnit::Line,
                delta: egui::vec2(0.0, -1.0),
                phase: egui::TouchPhase::Move,
                source: egui::MouseWheelSource::Unknown,
                modifiers: egui::Modifiers::NONE,
            });
        }
        h.step();
        commands.extend(h.output().platform_output.commands.iter().cloned());
        std::thread::sleep(Duration::from_millis(2));
    }
    commands
}

fn insert_demo_card(h: &H) {
    h.state()
        .demo_reader()
        .expect("demo mode")
        .insert(enroll_station::card::demo::demo_cards()[0].card.clone());
}

fn remove_demo_card(h: &H) {
    h.state().demo_reader().expect("demo mode").remove();
}

fn cleared_the_clipboard(commands: &[egui::OutputCommand]) -> bool {
    commands
        .iter()
        .any(|c| matches!(c, egui::OutputCommand::CopyText(text) if text.is_empty()))
}

/// A supervisor leaves the kiosk for the desk through Staff.
fn leave_for_the_desk(h: &mut H) {
    h.get_by_label("Staff").click();
    wait_for(h, "the staff sign-in", |h| shows(h, "Staff sign-in"));
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Supervisor name")
        .set_text_value_accesskit(SUPERVISOR);
    h.get_by_role_and_label(egui::accesskit::Role::PasswordInput, "Password")
        .set_text_value_accesskit(SUPERVISOR_PASSWORD);
    h.run_steps(1);
    h.get_by_label("Leave kiosk mode").click_accesskit();
    let deadline = Instant::now() + Duration::from_secs(15);
    while h.state().state().kiosk.active {
        assert!(Instant::now() < deadline, "timed out waiting for the desk");
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Review M5: person A scans their code and walks away; person B comes and
/// moves the mouse. The kiosk forgets A all the same, and B's card can
/// never be bound to A's request.
#[test]
fn a_mouse_moved_by_the_next_person_keeps_nothing_of_the_last_one() {
    // A long idle time: the card step's own wait is what forgets A.
    let mut station = kiosk_station(600, &[]);
    let h = &mut station.harness;
    scan(h, REQUEST);
    wait_for(h, "A's card step", |h| shows(h, "Insert your card"));
    assert!(shows(h, "Request for K. P."));
    // B arrives: pointer moves, hovering, the wheel; no press.
    let commands = move_the_mouse(h, 10.0);
    assert!(
        shows(h, "Request for K. P."),
        "10 s in, A may still come back"
    );
    let more = move_the_mouse(h, CARD_WAIT.as_secs_f64() - 10.0 + 1.0);
    assert!(
        shows(h, KIOSK_CODE),
        "the flow started over: {:?}",
        all_text(h)
    );
    assert!(h.state().state().kiosk.flow.is_pristine());
    for text in all_text(h) {
        for of_a in ["K. P.", "Kittest", "Request for"] {
            assert!(!text.contains(of_a), "A's {of_a:?} is on screen: {text}");
        }
    }
    assert!(
        cleared_the_clipboard(&commands) || cleared_the_clipboard(&more),
        "the start-over cleared the clipboard"
    );
    // B's card goes in: there is no request to bind it to.
    insert_demo_card(h);
    h.run_steps(8);
    assert!(shows(h, KIOSK_CODE));
    assert!(h.query_by_label("Bind my card").is_none());
    for pressed in [egui::Key::Enter, egui::Key::Tab, egui::Key::Enter] {
        key(h, pressed);
    }
    h.run_steps(4);
    assert_eq!(emulator(&station).bind_count(), 0, "nothing was bound");

    // At the code step too, moving the mouse is no activity: a typed start
    // of a code goes after the idle time.
    let mut station = kiosk_station(20, &[]);
    let h = &mut station.harness;
    for c in "0c7b".chars() {
        type_text(h, &c.to_string());
    }
    move_the_mouse(h, 21.0);
    assert_eq!(
        kiosk_code(h),
        "",
        "the idle time ran though the mouse moved"
    );
    assert!(h.state().state().kiosk.flow.is_pristine());
    // Keys are activity: a key every 5 s keeps the code for 40 s.
    type_text(h, "0c7b");
    for _ in 0..8 {
        h.run_steps(steps(5.0) - 1);
        h.key_press(egui::Key::ArrowRight);
        h.run_steps(1);
    }
    assert_eq!(kiosk_code(h), "0c7b", "keys keep the person's code");
}

/// At the card step only initials are shown, with the wait counting down
/// whatever is pressed; the card taken out starts the wait again.
#[test]
fn the_card_step_shows_initials_and_waits_a_fixed_time_for_the_card() {
    let mut station = kiosk_station(600, &[]);
    let h = &mut station.harness;
    scan(h, REQUEST);
    wait_for(h, "the card step", |h| shows(h, "Insert your card"));
    assert!(shows(h, "Request for K. P."), "{:?}", all_text(h));
    assert!(!shows(h, "Kittest"), "no name, only initials");
    assert!(!shows(h, "Finance"));
    assert!(shows(h, "Please insert your card within 30 s"));
    let began = now(h);
    h.run_steps(steps(5.0));
    assert!(shows(h, "within 25 s"), "it counts down: {:?}", all_text(h));
    // Keys and clicks do not postpone it.
    for _ in 0..4 {
        h.get_by_label("Insert your card").click();
        type_text(h, "x");
        h.run_steps(steps(3.0));
    }
    let left = (began + 30.0 - now(h)).ceil();
    assert!(left <= 12.0, "{left}");
    assert!(
        shows(h, &format!("within {left} s")),
        "the same deadline: {:?}",
        all_text(h)
    );
    // A card in stops it; taken out, the wait starts again.
    insert_demo_card(h);
    wait_for(h, "the card", |h| shows(h, "Your card is ready."));
    assert!(!shows(h, "Please insert your card within"));
    h.run_steps(steps(10.0));
    assert!(shows(h, "Your card is ready."), "no wait with the card in");
    remove_demo_card(h);
    wait_for(h, "the empty reader", |h| {
        shows(h, "Please insert your card within 30 s")
    });
    assert!(shows(h, "Request for K. P."));
    h.run_steps(steps(CARD_WAIT.as_secs_f64()) + 2);
    assert!(shows(h, KIOSK_CODE), "{:?}", all_text(h));
    assert!(!shows(h, "K. P."));
    assert_eq!(emulator(&station).bind_count(), 0);
}

/// After a result, the card taken out starts the flow over at once, and
/// the reader the card was in is no one's choice any more.
#[test]
fn taking_the_card_out_after_the_result_starts_over() {
    let mut station = kiosk_station(60, &[]);
    let h = &mut station.harness;
    scan(h, REQUEST);
    wait_for(h, "the card step", |h| shows(h, "Insert your card"));
    insert_demo_card(h);
    wait_for(h, "the card", |h| shows(h, "Your card is ready."));
    let reader = h.state().state().selected_reader.clone();
    assert!(reader.is_some(), "the card put in named its reader");
    tab_to_bind_my_card(h);
    key(h, egui::Key::Enter);
    wait_for(h, "the result", |h| {
        shows(h, "Done: your card is now bound to your request.")
    });
    let shown_at = h.ctx.input(|i| i.time);
    h.run_steps(4);
    assert!(
        shows(h, "Done: your card is now bound"),
        "shown while the card is in"
    );
    remove_demo_card(h);
    wait_for(h, "the first screen", |h| shows(h, KIOSK_CODE));
    let gone_at = h.ctx.input(|i| i.time);
    assert!(
        gone_at - shown_at < 5.0,
        "at once, not after the result's 10 s: {:.2} s",
        gone_at - shown_at
    );
    wait_for(h, "the result dismissed", |h| {
        h.state().state().bind == BindState::Idle
    });
    assert!(h.state().state().kiosk.flow.is_pristine());
    assert_eq!(
        h.state().state().selected_reader,
        None,
        "the reader choice is gone"
    );
    assert!(!shows(h, "Done: your card is now bound"));
    assert_eq!(emulator(&station).bind_count(), 1);
}

/// Review M4: a supervisor opens the desk from the kiosk and walks away.
/// Moving the mouse keeps nothing; after the idle time the kiosk is back
/// and the desk's list, selection, reader choice and notices are gone.
#[test]
fn a_desk_opened_by_staff_goes_back_to_the_kiosk_when_left_alone() {
    let mut station = kiosk_station(20, &[supervisor_entry(SUPERVISOR, SUPERVISOR_PASSWORD)]);
    let h = &mut station.harness;
    leave_for_the_desk(h);
    wait_for(h, "the request list", |h| shows(h, PERSON));
    h.get_by_label(PERSON).click();
    insert_demo_card(h);
    wait_for(h, "the card at the desk", |h| {
        h.state().state().selected_reader.is_some()
    });
    assert!(selected(h).is_some());
    assert!(!h.state().state().notices.is_empty());
    // Input at the desk keeps it: a key every 5 s for 30 s.
    let left_at = now(h);
    while now(h) < left_at + 30.0 {
        h.run_steps(steps(5.0) - 2);
        key(h, egui::Key::F5);
    }
    assert!(
        !h.state().state().kiosk.active,
        "the supervisor is still there"
    );
    // Then only the mouse moves.
    let last_key = now(h);
    remove_demo_card(h);
    while !h.state().state().kiosk.active {
        assert!(now(h) < last_key + 25.0, "the desk never went back");
        move_the_mouse(h, 0.25);
    }
    let quiet = now(h) - last_key;
    assert!(
        (19.5..=20.5).contains(&quiet),
        "back after the idle time of 20 s: {quiet:.2} s"
    );
    h.run_steps(2);
    assert!(shows(h, KIOSK_CODE));
    assert!(!shows(h, PERSON), "the desk's list is not shown");
    let state = h.state().state();
    assert!(state.requests.is_empty(), "the desk's list is forgotten");
    assert_eq!(state.selected_request, None);
    assert_eq!(state.selected_reader, None);
    assert!(state.reader_history.is_empty());
    assert!(state.notices.is_empty());
    assert!(
        request_close(h).contains(&egui::ViewportCommand::CancelClose),
        "a kiosk again"
    );
}

/// Review L8: Ctrl + does not zoom the kiosk for everyone after, no label
/// can be selected and copied, and a start-over clears the clipboard.
#[test]
fn keyboard_zoom_is_off_labels_cannot_be_selected_and_a_reset_clears_the_clipboard() {
    let mut station = kiosk_station(60, &[]);
    let h = &mut station.harness;
    let zoom = h.ctx.zoom_factor();
    let continue_at = h
        .get_by_role_and_label(egui::accesskit::Role::Button, "Continue")
        .rect();
    for pressed in [egui::Key::Plus, egui::Key::Equals, egui::Key::Plus] {
        h.key_press_modifiers(egui::Modifiers::COMMAND, pressed);
        h.run_steps(2);
    }
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Minus);
    h.run_steps(2);
    assert_eq!(h.ctx.zoom_factor(), zoom, "keyboard zoom changed the kiosk");
    assert_eq!(
        h.get_by_role_and_label(egui::accesskit::Role::Button, "Continue")
            .rect(),
        continue_at
    );

    // Drag across the request's name and copy: nothing is copied.
    scan(h, REQUEST);
    wait_for(h, "the card step", |h| shows(h, "Request for K. P."));
    let name = h
        .query_all_by_label_contains("Request for K. P.")
        .next()
        .expect("the name")
        .rect();
    let mut copied = Vec::new();
    let y = name.top() + 12.0;
    for event in [
        egui::Event::PointerMoved(egui::pos2(name.left() + 2.0, y)),
        egui::Event::PointerButton {
            pos: egui::pos2(name.left() + 2.0, y),
            button: egui::PointerButton::Primary,
            pressed: true,
            modifiers: egui::Modifiers::NONE,
        },
        egui::Event::PointerMoved(egui::pos2(name.center().x, y)),
        egui::Event::PointerMoved(egui::pos2(name.right() - 2.0, y)),
        egui::Event::PointerButton {
            pos: egui::pos2(name.right() - 2.0, y),
            button: egui::PointerButton::Primary,
            pressed: false,
            modifiers: egui::Modifiers::NONE,
        },
        egui::Event::Copy,
    ] {
        h.event(event);
        h.step();
        copied.extend(h.output().platform_output.commands.iter().cloned());
    }
    let texts: Vec<&String> = copied
        .iter()
        .filter_map(|c| match c {
            egui::OutputCommand::CopyText(text) if !text.is_empty() => Some(text),
            _ => None,
        })
        .collect();
    assert!(
        texts.is_empty(),
        "a label was selected and copied: {texts:?}"
    );

    // Start over: the clipboard is emptied in that start-over.
    h.get_by_label("Start over").click();
    let mut commands = Vec::new();
    for _ in 0..3 {
        h.step();
        commands.extend(h.output().platform_output.commands.iter().cloned());
    }
    assert!(shows(h, KIOSK_CODE));
    assert!(cleared_the_clipboard(&commands), "{commands:?}");
}
