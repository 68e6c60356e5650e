//! The guided screens: the code, the card, the bind and its result, in
//! bands of fixed height so nothing a person aims at moves.

use egui::text::{CCursorRange, LayoutJob, TextFormat};
use egui::{
    Align, Align2, Color32, FontId, Id, Key, Layout, Rect, RichText, TextEdit, TextStyle, Ui,
    UiBuilder, Vec2, pos2, vec2,
};

use super::{
    BIG_BUTTON, COLUMN_WIDTH, FAILURE_FILL, Focus, SMALL_BUTTON, SUCCESS_FILL, code_field_id,
};
use crate::app::kiosk::{
    CardStatus, StaffDetail, Stage, Step, heading, kiosk_name, outcome, stage,
};
use crate::app::station::StationState;
use crate::config::KioskSite;
use crate::domain::person::Identity;
use crate::ui::theme;
use crate::worker::Command;

/// A band of exactly `height` points across the column: whatever it holds
/// (one line or three, an error or none), what comes after stays put.
pub(super) fn band<R>(ui: &mut Ui, height: f32, add: impl FnOnce(&mut Ui) -> R) -> R {
    let (_, rect) = ui.allocate_space(vec2(ui.available_width(), height));
    let mut child = ui.new_child(
        UiBuilder::new()
            .max_rect(rect)
            .layout(Layout::top_down(Align::Center)),
    );
    // Text that does not fit is cut at the band's edge, never drawn over
    // the buttons below it.
    child.set_clip_rect(rect.intersect(ui.clip_rect()));
    add(&mut child)
}

/// The heights of the guided screens' bands, from the kiosk's type sizes.
pub(super) struct Bands {
    progress: f32,
    heading: f32,
    lead: f32,
    main: f32,
    pub(super) error: f32,
    actions: f32,
    gap: f32,
}

impl Bands {
    pub(super) fn of(ui: &Ui) -> Bands {
        let line = |style| ui.text_style_height(&style);
        Bands {
            progress: line(TextStyle::Body),
            heading: line(TextStyle::Heading),
            lead: 2.0 * line(TextStyle::Body),
            // The code field, a spinner, or two lines of the card's status.
            main: 80.0,
            error: 3.0 * line(TextStyle::Body),
            actions: BIG_BUTTON.y,
            gap: ui.spacing().item_spacing.y,
        }
    }

    /// The bands and the spacing egui puts after each.
    fn total(&self) -> f32 {
        self.progress
            + self.heading
            + self.lead
            + self.main
            + self.error
            + self.actions
            + 6.0 * self.gap
    }
}

pub(super) fn flow_ui(
    ui: &mut Ui,
    state: &mut StationState,
    status: &CardStatus,
    now: f64,
    focus: Focus,
    site: &KioskSite,
    commands: &mut Vec<Command>,
) {
    let step = state.kiosk.flow.step.clone();
    match step {
        Step::Result { .. } => result_ui(ui, state, now, focus, site, commands),
        Step::TakeCard { .. } => {
            ui.add_space((ui.available_height() * 0.12).min(120.0));
            ui.vertical_centered(|ui| {
                ui.set_max_width(COLUMN_WIDTH);
                take_card_ui(ui, state.kiosk.flow.card_left_too_long());
            });
        }
        _ => guided_ui(ui, state, status, now, focus, commands),
    }
}

/// The code, card and bind screens, in fixed bands.
fn guided_ui(
    ui: &mut Ui,
    state: &mut StationState,
    status: &CardStatus,
    now: f64,
    focus: Focus,
    commands: &mut Vec<Command>,
) {
    let bands = Bands::of(ui);
    let spare = (ui.available_height() - bands.total()).max(0.0);
    ui.add_space((spare * 0.3).min(100.0));
    ui.vertical_centered(|ui| {
        ui.set_max_width(COLUMN_WIDTH);
        let step = state.kiosk.flow.step.clone();
        band(ui, bands.progress, |ui| {
            if let Some(stage) = stage(&step, status) {
                progress_ui(ui, stage);
            }
        });
        // Also the code field's name for screen readers.
        let heading_id = band(ui, bands.heading, |ui| {
            ui.label(RichText::new(heading(&step, status)).heading().strong())
                .id
        });
        let identity = match &step {
            Step::Card(request) => state.people.peek_of(request.target_user),
            _ => Identity::Unchecked,
        };
        let card_left = state
            .kiosk
            .flow
            .card_deadline()
            .map(|deadline| (deadline - now).max(0.0));
        band(ui, bands.lead, |ui| {
            lead_ui(ui, &step, &identity, card_left)
        });
        let field = band(ui, bands.main, |ui| match &step {
            Step::Code => Some(code_field_ui(ui, state, now, focus, heading_id)),
            Step::Card(_) => {
                card_status_ui(ui, status);
                None
            }
            _ => {
                ui.add(egui::Spinner::new().size(64.0));
                None
            }
        });
        band(ui, bands.error, |ui| {
            if let Some(problem) = &state.kiosk.flow.problem {
                ui.add(
                    egui::Label::new(
                        RichText::new(&problem.say).color(ui.visuals().error_fg_color),
                    )
                    .selectable(false)
                    .wrap(),
                );
            }
        });
        band(ui, bands.actions, |ui| {
            actions_ui(ui, state, &step, status, now, field, commands);
        });
        let flow = &state.kiosk.flow;
        let staff = match &step {
            Step::Card(_) => flow
                .problem
                .as_ref()
                .and_then(|p| p.detail.as_ref())
                .or_else(|| flow.card_staff()),
            _ => flow.problem.as_ref().and_then(|p| p.detail.as_ref()),
        };
        if let Some(staff) = staff {
            staff_details_ui(ui, staff);
        }
    });
}

/// "Step 2 of 3", then the three steps with the current one in bold and
/// underlined: words and weight, not colour alone.
fn progress_ui(ui: &mut Ui, current: Stage) {
    let visuals = ui.visuals();
    let size = 22.0;
    let mut job = LayoutJob::default();
    let plain = |color: Color32| TextFormat {
        font_id: FontId::proportional(size),
        color,
        ..TextFormat::default()
    };
    job.append(
        &format!("Step {} of {}    ", current.number(), Stage::ALL.len()),
        0.0,
        plain(visuals.strong_text_color()),
    );
    for (at, stage) in Stage::ALL.into_iter().enumerate() {
        if at > 0 {
            job.append("  ·  ", 0.0, plain(visuals.weak_text_color()));
        }
        let text = if stage.number() < current.number() {
            format!("{} {} (done)", stage.number(), stage.name())
        } else {
            format!("{} {}", stage.number(), stage.name())
        };
        let format = if stage == current {
            TextFormat {
                font_id: FontId::new(size + 2.0, egui::FontFamily::Proportional),
                underline: egui::Stroke::new(2.0, visuals.strong_text_color()),
                ..plain(visuals.strong_text_color())
            }
        } else {
            plain(visuals.weak_text_color())
        };
        job.append(&text, 0.0, format);
    }
    ui.label(job);
}

/// The line under the heading: what to do, or whose request this is (by
/// its initials), and at the card step how long it waits for the card.
fn lead_ui(ui: &mut Ui, step: &Step, identity: &Identity, card_left: Option<f64>) {
    let text = match step {
        Step::Code => {
            "Hold the code from your letter under the scanner, or type it and press Enter."
                .to_owned()
        }
        Step::LookingUp(_) => "This takes a few seconds.".to_owned(),
        // Just enough for the person to know it is theirs.
        Step::Card(request) => {
            let whose = kiosk_name(request, identity).map_or_else(
                || "We found your request.".to_owned(),
                |name| format!("Request for {name}"),
            );
            match card_left {
                Some(left) => format!(
                    "{whose}\nPlease insert your card within {} s, or this screen starts over.",
                    left.ceil()
                ),
                None => whose,
            }
        }
        Step::Binding(_) => "Please leave your card in the reader.".to_owned(),
        Step::Result { .. } | Step::TakeCard { .. } => String::new(),
    };
    ui.add(egui::Label::new(text).wrap());
}

fn code_field_ui(
    ui: &mut Ui,
    state: &mut StationState,
    now: f64,
    focus: Focus,
    heading: Id,
) -> egui::Response {
    let flow = &mut state.kiosk.flow;
    let id = code_field_id(flow.generation);
    // A refused code typed by hand stays, all of it selected: the next
    // keystroke (or scan) replaces it, an arrow key keeps it to correct.
    if flow.take_select_code() {
        let mut edit = egui::text_edit::TextEditState::load(ui.ctx(), id).unwrap_or_default();
        edit.cursor
            .set_char_range(Some(CCursorRange::select_all_str(&flow.code)));
        edit.store(ui.ctx(), id);
        ui.memory_mut(|m| m.request_focus(id));
    }
    // A keyboard-wedge scanner types wherever the focus is: keep it here,
    // and before the field is drawn, so this frame's keystrokes reach it.
    // When this screen comes back (from "take your card"), the focus may
    // still be on Staff, the only control there: the next scan must not
    // land on it.
    if !focus.settings_open && (focus.step_changed || ui.memory(|m| m.focused().is_none())) {
        ui.memory_mut(|m| m.request_focus(id));
    }
    let field = ui
        .add(
            TextEdit::singleline(&mut flow.code)
                .id(id)
                .font(FontId::monospace(34.0))
                .hint_text("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
                // From the left: a centred empty field draws its caret in
                // the middle of the placeholder.
                .align(Align2::LEFT_CENTER)
                .char_limit(200)
                .desired_width(860.0),
        )
        .labelled_by(heading);
    if field.changed() {
        flow.code_edited(now);
    }
    field
}

/// The buttons, each at a fixed place in the band: Continue (or Cancel),
/// or Bind my card and Start over.
fn actions_ui(
    ui: &mut Ui,
    state: &mut StationState,
    step: &Step,
    status: &CardStatus,
    now: f64,
    field: Option<egui::Response>,
    commands: &mut Vec<Command>,
) {
    let band = ui.max_rect();
    let row = |sizes: &[Vec2]| button_row(band, sizes);
    let visuals = ui.visuals().clone();
    match step {
        Step::Code => {
            let entered =
                field.is_some_and(|f| f.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)));
            let places = row(&[BIG_BUTTON]);
            let pressed = place(
                ui,
                places[0],
                true,
                theme::primary_button(&visuals, "Continue", true).min_size(BIG_BUTTON),
            )
            .clicked();
            if entered || pressed {
                let cards_now = state.board.now();
                commands.extend(state.kiosk.flow.submit(now, cards_now));
                // A refusal selects the code in the next frame.
                ui.ctx().request_repaint();
            }
        }
        Step::LookingUp(_) => {
            let places = row(&[SMALL_BUTTON]);
            if place(
                ui,
                places[0],
                true,
                egui::Button::new("Cancel").min_size(SMALL_BUTTON),
            )
            .clicked()
            {
                state.kiosk.flow.cancel_lookup(now);
                ui.ctx().request_repaint();
            }
        }
        Step::Card(request) => {
            let places = row(&[BIG_BUTTON, SMALL_BUTTON]);
            let ready = matches!(status, CardStatus::Ready { .. });
            // Never given the focus: a scanner's trailing Enter, or a key
            // pressed by the next person, must not confirm. Tab reaches it.
            let confirm = place(
                ui,
                places[0],
                ready,
                theme::primary_button(&visuals, "Bind my card", ready).min_size(BIG_BUTTON),
            );
            if confirm.clicked() {
                let rule = state.kiosk.flow.card_rule();
                let target = state.bind_target_for(request, &rule);
                commands.extend(state.kiosk.flow.confirm(target, now));
            }
            let start_over = place(
                ui,
                places[1],
                true,
                egui::Button::new(RichText::new("Start over").size(24.0)).min_size(SMALL_BUTTON),
            );
            if start_over.clicked() {
                state.kiosk.flow.reset();
                ui.ctx().request_repaint();
            }
        }
        Step::Binding(_) | Step::Result { .. } | Step::TakeCard { .. } => {}
    }
}

/// Where buttons of `sizes` go, side by side, centred in `band` and
/// centred on its first line: computed, so they never move.
pub(super) fn button_row(band: Rect, sizes: &[Vec2]) -> Vec<Rect> {
    let gap = 24.0;
    let total = sizes.iter().map(|s| s.x).sum::<f32>() + gap * (sizes.len() as f32 - 1.0);
    let tallest = sizes.iter().map(|s| s.y).fold(0.0, f32::max);
    let mut x = band.center().x - total / 2.0;
    sizes
        .iter()
        .map(|size| {
            let rect = Rect::from_min_size(pos2(x, band.top() + (tallest - size.y) / 2.0), *size);
            x += size.x + gap;
            rect
        })
        .collect()
}

/// A button at a fixed place, enabled or not.
pub(super) fn place(
    ui: &mut Ui,
    rect: Rect,
    enabled: bool,
    button: egui::Button<'_>,
) -> egui::Response {
    let mut child = ui.new_child(
        UiBuilder::new()
            .max_rect(rect)
            .layout(Layout::centered_and_justified(egui::Direction::TopDown)),
    );
    child.add_enabled(enabled, button)
}

/// The technical side of a notice, collapsed: staff open it, strangers
/// need not read it.
fn staff_details_ui(ui: &mut Ui, staff: &StaffDetail) {
    egui::CollapsingHeader::new(
        RichText::new(format!("Details for staff (ref. {})", staff.reference)).size(20.0),
    )
    .id_salt(("kiosk-staff-details", &staff.reference))
    .default_open(false)
    .show(ui, |ui| {
        egui::ScrollArea::vertical()
            .max_height(160.0)
            .show(ui, |ui| {
                ui.spacing_mut().item_spacing.y = 4.0;
                let small = |text: String| RichText::new(text).size(18.0);
                ui.add(
                    egui::Label::new(small(format!("Reference: {}", staff.reference)))
                        .selectable(false),
                );
                if let Some(id) = &staff.correlation_id {
                    ui.add(
                        egui::Label::new(small(format!("Correlation ID: {id}")).monospace())
                            .selectable(false),
                    );
                }
                ui.add(
                    egui::Label::new(small(staff.text.clone()))
                        .selectable(false)
                        .wrap(),
                );
            });
    });
}

/// The kiosk starts over only with empty readers: until then it asks for
/// the card, and after a while for staff.
fn take_card_ui(ui: &mut Ui, call_staff: bool) {
    ui.label(
        RichText::new("Please take your card out of the reader.")
            .heading()
            .strong(),
    );
    ui.label("The next person can start as soon as the reader is empty.");
    if call_staff {
        ui.add_space(24.0);
        ui.add(
            egui::Label::new(
                RichText::new(
                    "Staff: a card has been left in the reader. Take it out and keep it safe; \
                     the kiosk starts again once the reader is empty.",
                )
                .size(30.0)
                .color(ui.visuals().warn_fg_color),
            )
            .wrap(),
        );
    }
}

fn card_status_ui(ui: &mut Ui, status: &CardStatus) {
    let big = |text: &str| RichText::new(text).size(34.0);
    match status {
        CardStatus::NoCard => {
            ui.label(big("No card in the reader yet."));
        }
        CardStatus::Reading => {
            ui.horizontal(|ui| {
                ui.add(egui::Spinner::new().size(34.0));
                ui.label(big("Reading your card…"));
            });
        }
        CardStatus::TakeOut => {
            ui.add(
                egui::Label::new(
                    big("Please take the card out of the reader, then insert your card.")
                        .color(ui.visuals().warn_fg_color),
                )
                .wrap(),
            );
        }
        CardStatus::Ready { .. } => {
            let colour = theme::success(ui.visuals());
            ui.label(big("Your card is ready.").color(colour).strong());
        }
        CardStatus::Problem(problem) => {
            ui.add(
                egui::Label::new(
                    RichText::new(problem.say)
                        .size(28.0)
                        .color(ui.visuals().warn_fg_color),
                )
                .wrap(),
            );
        }
    }
}

fn result_ui(
    ui: &mut Ui,
    state: &mut StationState,
    now: f64,
    focus: Focus,
    site: &KioskSite,
    commands: &mut Vec<Command>,
) {
    let Some(shown) = outcome(&state.bind, site.next_step()) else {
        return;
    };
    let staff = match &state.kiosk.flow.step {
        Step::Result { staff, .. } => staff.clone(),
        _ => None,
    };
    let left = state
        .kiosk
        .flow
        .result_deadline()
        .map_or(0.0, |deadline| (deadline - now).max(0.0));
    let fill = if shown.bound {
        SUCCESS_FILL
    } else {
        FAILURE_FILL
    };
    egui::Frame::new()
        .fill(fill)
        .inner_margin(48.0)
        .show(ui, |ui| {
            ui.set_min_size(ui.available_size());
            ui.visuals_mut().override_text_color = Some(Color32::WHITE);
            ui.vertical_centered(|ui| {
                ui.set_max_width(COLUMN_WIDTH);
                ui.add_space(40.0);
                ui.add(egui::Label::new(RichText::new(shown.headline).heading().strong()).wrap());
                ui.add_space(24.0);
                ui.add(egui::Label::new(shown.advice.as_str()).wrap());
                ui.add_space(32.0);
                if matches!(state.bind, crate::domain::bind::BindState::Unknown { .. })
                    && ui
                        .add(egui::Button::new("Check again").min_size(BIG_BUTTON))
                        .clicked()
                {
                    commands.push(Command::RecheckBind);
                }
                let finish = ui.add(egui::Button::new("Finish").min_size(BIG_BUTTON));
                if !focus.settings_open
                    && (focus.step_changed || ui.memory(|m| m.focused().is_none()))
                {
                    finish.request_focus();
                }
                if finish.clicked() {
                    state.kiosk.flow.reset();
                    ui.ctx().request_repaint();
                }
                ui.label(
                    RichText::new(format!("This screen clears in {} s.", left.ceil())).size(22.0),
                );
                if let Some(staff) = &staff {
                    ui.add_space(16.0);
                    staff_details_ui(ui, staff);
                }
            });
        });
}
