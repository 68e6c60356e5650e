//! The desk's layout rules (`docs/ui-guide.md`), checked on the real window
//! in egui_kittest: nothing in the action area moves when a card goes in, a
//! result or an error comes back; the tab order follows the work; the
//! keyboard focus is always drawn; narrow windows fold the readers panel.

mod common;

use common::window::*;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _, by};
use enroll_station::cm::emulator::Faults;
use enroll_station::ui::StationApp;
use enroll_station::ui::theme;

/// The controls of the action area, which must never move under the pointer.
const ANCHORS: [&str; 5] = [
    "Bind",
    "Insert demo card",
    "Remove demo card",
    "Refresh",
    "Settings",
];

fn rects(h: &Harness<'static, StationApp>) -> Vec<(&'static str, egui::Rect)> {
    ANCHORS
        .iter()
        .map(|label| (*label, h.get_by_label(label).rect()))
        .collect()
}

fn assert_still(
    before: &[(&'static str, egui::Rect)],
    h: &Harness<'static, StationApp>,
    after: &str,
) {
    for ((label, was), (_, now)) in before.iter().zip(rects(h)) {
        assert!(
            (was.min - now.min).length() < 0.5 && (was.size() - now.size()).length() < 0.5,
            "{label} moved after {after}: {was:?} -> {now:?}"
        );
    }
}

#[test]
fn the_action_area_stays_still_through_a_card_a_result_and_an_error() {
    let mut station = station();
    let h = &mut station.harness;
    wait_for(h, "the request list", |h| shows(h, PERSON));
    h.get_by_label(PERSON).click();
    h.run_steps(2);
    let before = rects(h);

    h.get_by_label("Insert demo card").click();
    wait_for(h, "Bind to be enabled", bind_enabled);
    h.run_steps(2);
    assert_still(&before, h, "a card was inserted and identified");

    h.get_by_label("Bind").click();
    wait_for(h, "the result", |h| shows(h, "is now bound to card"));
    h.run_steps(2);
    assert_still(&before, h, "a bind result");

    h.get_by_label("Done").click();
    h.run_steps(2);
    // A second request, a fresh demo card, and a server that fails once.
    h.get_by_label("Remove demo card").click();
    wait_for(h, "the reader to empty", |h| {
        shows(h, "Empty: insert a card")
    });
    let other = shown_requests(h)
        .into_iter()
        .find(|r| r.is_bindable() && r.uuid != request_id())
        .expect("another request ready for a card");
    let title = enroll_station::app::request_filter::request_title(&other);
    h.get_by_label(&title).click();
    h.run_steps(2);
    h.get_by_label("Insert demo card").click();
    wait_for(h, "Bind to be enabled", bind_enabled);
    emulator(&station).set_faults(Faults {
        fail_next_posts: 1,
        ..Faults::default()
    });
    let h = &mut station.harness;
    h.get_by_label("Bind").click();
    wait_for(h, "the error", |h| shows(h, "Correlation ID"));
    h.run_steps(2);
    assert_still(&before, h, "a server error");
}

#[test]
fn a_bound_demo_card_comes_back_with_a_new_card_id() {
    let mut station = station();
    prepare_bind(&mut station);
    let h = &mut station.harness;
    h.get_by_label("Bind").click();
    wait_for(h, "the result", |h| shows(h, "is now bound to card"));
    let first = demo_gids_card_id().to_string();
    h.get_by_label("Done").click();
    h.get_by_label("Insert demo card").click();
    wait_for(h, "the card read again", |h| {
        h.state().state().desk_reader().is_some() && shows(h, "Kind: GIDS")
    });
    wait_for(h, "a new card ID", |h| {
        shows(h, "Card ID") && !shows(h, &first)
    });
}

/// The label of the widget with the keyboard focus, after `tabs` Tabs.
fn focused(h: &Harness<'static, StationApp>) -> Option<String> {
    h.query(by().predicate(|n| n.is_focused()))
        .map(|n| n.accesskit_node().label().unwrap_or_default())
}

#[test]
fn tab_goes_from_the_search_to_the_list_to_bind_to_the_readers_to_the_header() {
    let mut station = station();
    prepare_bind(&mut station);
    let h = &mut station.harness;
    ctrl_f(h);
    let mut order = vec![focused(h).unwrap_or_default()];
    for _ in 0..40 {
        key(h, egui::Key::Tab);
        let now = focused(h).unwrap_or_default();
        if now == order[0] {
            break;
        }
        order.push(now);
    }
    let at = |label: &str| {
        order
            .iter()
            .position(|l| l == label)
            .unwrap_or_else(|| panic!("{label} is never focused by Tab: {order:?}"))
    };
    let bind = at("Bind");
    assert!(
        bind <= 3,
        "from the search, the list is one stop before Bind: {order:?}"
    );
    assert!(
        at("Insert demo card") > bind,
        "the readers after Bind: {order:?}"
    );
    assert!(
        at("Refresh") > at("Insert demo card"),
        "the header last: {order:?}"
    );
}

/// True when the last frame drew a focus ring around `rect`.
fn ring_around(h: &Harness<'static, StationApp>, rect: egui::Rect) -> bool {
    h.output()
        .shapes
        .iter()
        .any(|clipped| match &clipped.shape {
            egui::Shape::Rect(shape) => {
                [theme::DARK.focus, theme::LIGHT.focus].contains(&shape.stroke.color)
                    && shape.stroke.width >= 2.0
                    && shape.rect.contains_rect(rect)
            }
            _ => false,
        })
}

#[test]
fn the_keyboard_focus_is_drawn_on_frameless_controls_too() {
    let mut station = station();
    let h = &mut station.harness;
    wait_for(h, "the request list", |h| shows(h, PERSON));
    // "Refresh" is framed; a column header and "Recent events" are not.
    for label in ["Refresh", "Sort by Priority"] {
        let node = h.get_by_label(label);
        node.focus();
        h.run_steps(2);
        let rect = h.get_by_label(label).rect();
        assert!(ring_around(h, rect), "no focus ring around {label}");
    }
}

#[test]
fn the_themes_keep_aa_contrast_in_the_running_window() {
    let station = station();
    let ctx = &station.harness.ctx;
    for egui_theme in [egui::Theme::Dark, egui::Theme::Light] {
        let style = ctx.style_of(egui_theme);
        let v = &style.visuals;
        let bg = v.panel_fill;
        for (what, colour) in [
            ("weak text", v.weak_text_color()),
            ("error", v.error_fg_color),
            ("warning", v.warn_fg_color),
            ("text", v.text_color()),
        ] {
            let ratio = theme::contrast(colour, bg);
            assert!(
                ratio >= 4.5,
                "{egui_theme:?}: {what} is {ratio:.2}:1 on the panel"
            );
        }
    }
}

#[test]
fn a_narrow_window_folds_the_readers_into_a_strip_and_keeps_bind_in_view() {
    let mut station = station();
    let h = &mut station.harness;
    h.set_size(egui::vec2(800.0, 600.0));
    wait_for(h, "the request list", |h| shows(h, PERSON));
    h.get_by_label(PERSON).click();
    h.run_steps(2);
    assert!(
        h.query_by_label("Insert demo card").is_none(),
        "the readers panel is folded"
    );
    assert!(shows(h, "No card: insert the card into a reader."));
    h.get_by_label("Readers…").click();
    h.run_steps(2);
    h.get_by_label("Insert demo card").click();
    wait_for(h, "Bind to be enabled", bind_enabled);
    wait_for(h, "the strip to name the card", |h| {
        shows(h, "Card: GIDS bc88f13f-83ba-4037-8262-46eba1291c6e")
    });
    let bind = h.get_by_label("Bind").rect();
    assert!(
        bind.bottom() <= 600.0 && bind.right() <= 800.0,
        "Bind is inside the window: {bind:?}"
    );
}

#[test]
fn the_readers_panel_stays_inside_the_window_at_its_opening_size() {
    let mut station = station();
    let h = &mut station.harness;
    // The size the station opens with (a 1280×800 screen).
    h.set_size(egui::vec2(1200.0, 760.0));
    wait_for(h, "the request list", |h| shows(h, PERSON));
    h.run_steps(2);
    let edge = 1200.0;
    for node in h.query_all_by_label("Demo card") {
        let rect = node.rect();
        assert!(
            rect.right() <= edge,
            "the demo card choice is cut: {rect:?}"
        );
    }
    let hint = h
        .query_all_by_label_contains("comes back with a new card ID")
        .next()
        .expect("the demo reader's hint")
        .rect();
    assert!(
        hint.right() <= edge,
        "the hint runs past the edge: {hint:?}"
    );
}
