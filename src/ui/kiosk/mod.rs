//! Kiosk mode's screen: a thin view of [`crate::app::kiosk`] with large,
//! touch-friendly targets. It shows one person's request and card and
//! nothing about any other request.
//!
//! Nothing carries over from one person to the next (reviews M5, L8): only
//! deliberate input ([`deliberate_input`]) keeps a person's screen, every
//! start-over clears the clipboard and the reader choice, keyboard zoom is
//! off and no label can be selected (so nothing on screen can be copied).
//!
//! The guided screens are laid out in bands of fixed height (progress,
//! heading, instructions, the field or the card, a three-line room for an
//! error, the buttons), so nothing a person aims at moves when an error
//! comes or goes. Details for staff sit below the buttons, where opening
//! them moves nothing either.

use std::time::Duration;

use egui::{Align, Color32, FontId, Id, Layout, Pos2, RichText, TextStyle, Ui, Vec2, pos2, vec2};

use super::{StationApp, readers_panel, settings_view, theme};
use crate::app::kiosk::{StaffGrant, Step, finished};
use crate::app::station::StationState;
use crate::audit::ControlKind;
use crate::config::KioskSite;
use crate::worker::Command;

mod guided;
mod staff;

use guided::flow_ui;
use staff::{forget_staff_fields, staff_ui, still_there_ui};

/// The primary action: Continue, Bind my card.
const BIG_BUTTON: Vec2 = vec2(320.0, 76.0);
/// The secondary action beside it: Start over, Cancel.
const SMALL_BUTTON: Vec2 = vec2(220.0, 60.0);
/// The staff sign-in's two choices.
const STAFF_BUTTON: Vec2 = vec2(280.0, 64.0);
/// The smallest touch target (WCAG 2.5.5; Fluent and Apple ask for 44).
const TOUCH_TARGET: f32 = 48.0;
/// The guided screens' column.
const COLUMN_WIDTH: f32 = 900.0;
/// The result screens' fills: white text on them stands at least 4.5:1.
const SUCCESS_FILL: Color32 = Color32::from_rgb(0x1f, 0x7a, 0x3a);
const FAILURE_FILL: Color32 = Color32::from_rgb(0xa3, 0x24, 0x24);
/// A logo larger than this is not the site's logo: it is not read.
const LOGO_MAX_BYTES: u64 = 4 << 20;
/// The widest and tallest logo decoded (it is drawn 56 points high).
const LOGO_MAX_SIDE: u32 = 2048;

fn code_field_id(generation: u64) -> Id {
    Id::unique(("kiosk-request-code", generation))
}

const SEEN_KEY: &str = "kiosk-step-seen";
const STAFF_NAME_ID: &str = "kiosk-staff-name";
const STAFF_PASSWORD_ID: &str = "kiosk-staff-password";
const LOGO_KEY: &str = "kiosk-logo";

fn step_name(step: &Step) -> &'static str {
    match step {
        Step::Code => "code",
        Step::LookingUp(_) => "looking-up",
        Step::Card(_) => "card",
        Step::Binding(_) => "binding",
        Step::Result { .. } => "result",
        Step::TakeCard { .. } => "take-card",
    }
}

/// Whether `events` hold deliberate input: a key pressed (or typed text, a
/// paste), a pointer button pressed, a touch begun, or an action asked by
/// assistive technology (a screen reader's "press"). A pointer moving or
/// hovering, the wheel, a pinch, focus and IME composition are not: a
/// nudged mouse or a touch screen's stray events must not keep one
/// person's request on screen for the next (review M5). A card in or out
/// counts too, in [`crate::app::kiosk::KioskFlow::observe_card`].
pub(super) fn deliberate_input(events: &[egui::Event]) -> bool {
    use egui::accesskit::Action;
    events.iter().any(|event| match event {
        egui::Event::Key { pressed, .. } | egui::Event::PointerButton { pressed, .. } => *pressed,
        egui::Event::Text(_)
        | egui::Event::Copy
        | egui::Event::Cut
        | egui::Event::Paste(_)
        | egui::Event::PasteImage(_)
        | egui::Event::MiddleClickPaste { .. } => true,
        egui::Event::Touch { phase, .. } => *phase == egui::TouchPhase::Start,
        egui::Event::AccessKitActionRequest(request) => matches!(
            request.action,
            Action::Click
                | Action::SetValue
                | Action::ReplaceSelectedText
                | Action::Increment
                | Action::Decrement
                | Action::Expand
                | Action::Collapse
                | Action::CustomAction
                | Action::ShowContextMenu
        ),
        _ => false,
    })
}

/// Where the keyboard focus should go this frame.
#[derive(Clone, Copy)]
struct Focus {
    /// The screen changed since the last frame: its main control takes the focus.
    step_changed: bool,
    /// The Settings view is open over the kiosk: it keeps the focus.
    settings_open: bool,
}

impl StationApp {
    /// The kiosk's timers, from the frame's logic step: the person's flow
    /// at the kiosk, or the desk a supervisor opened from it, which goes
    /// back to the kiosk after `kiosk_idle_secs` without deliberate input.
    pub(super) fn kiosk_logic(&mut self, ctx: &egui::Context) {
        let (now, touched) = ctx.input(|i| (i.time, deliberate_input(&i.events)));
        let wake_in = |wake: f64| Duration::from_secs_f64((wake - now).max(0.0));
        if let Some(wake) = self.state.kiosk_tick(now, touched) {
            ctx.request_repaint_after(wake_in(wake));
        }
        if self.state.kiosk_desk_tick(now, touched) {
            tracing::info!("the desk opened from the kiosk was left alone: back to the kiosk");
            self.return_to_kiosk(ctx, false);
        } else if let Some(deadline) = self.state.kiosk.desk_deadline() {
            ctx.request_repaint_after(wake_in(deadline));
        }
    }

    /// One frame of the kiosk: the close request refused, the flow, the
    /// staff sign-in, and the Settings view once a supervisor opened it.
    pub(super) fn kiosk_frame(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        // Ctrl +/- would zoom the kiosk for every person after this one
        // (review L8); the desk turns it on again.
        if ctx.options(|o| o.zoom_with_keyboard) {
            ctx.options_mut(|o| o.zoom_with_keyboard = false);
        }
        // Nothing on screen can be selected, so nothing can be copied.
        ui.style_mut().interaction.selectable_labels = false;
        // Window-manager close and Alt+F4 arrive as a close request; only a
        // supervisor (through "Staff") or stopping the session ends a kiosk.
        if ctx.input(|i| i.viewport().close_requested()) {
            tracing::info!("close request refused: the station is in kiosk mode");
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
        }
        let now = ctx.input(|i| i.time);
        let mut commands = Vec::new();
        // The site's texts as the file held them when the kiosk first
        // showed: a Settings save over the kiosk does not change them.
        let site = {
            let StationState {
                kiosk, settings, ..
            } = &mut self.state;
            kiosk
                .site
                .get_or_insert_with(|| settings.saved.kiosk_site.clone())
                .clone()
        };
        // The timers ran in the logic step (`StationState::kiosk_tick`); this
        // only reads what they left.
        let status = self.state.kiosk.flow.card_status(&self.state.board);
        // Steps change on reports and clicks; acting on the change here, at
        // the start of the next frame, covers every way it happened.
        let generation = self.state.kiosk.flow.generation;
        let seen = (generation, step_name(&self.state.kiosk.flow.step));
        let last_seen = ctx.data(|d| d.get_temp::<(u64, &'static str)>(Id::unique(SEEN_KEY)));
        let step_changed = last_seen != Some(seen);
        if step_changed {
            ctx.data_mut(|d| d.insert_temp(Id::unique(SEEN_KEY), seen));
            if last_seen.is_none_or(|(previous, _)| previous != generation) {
                self.forget_the_last_person(&ctx, &mut commands);
            }
        }
        if !self.state.kiosk.staff.open {
            forget_staff_fields(&ctx);
        }

        egui::Panel::bottom("kiosk-footer")
            .show_separator_line(false)
            .show(ui, |ui| {
                // Staff first, at the right: it stays on screen whatever
                // the help line needs, and it is the first stop of Tab.
                ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                    // Discreet for customers, but a whole touch target for
                    // staff, and a normal button for keyboards and screen
                    // readers.
                    let staff = ui.add(
                        egui::Button::new(RichText::new("Staff").size(16.0).weak())
                            .frame(false)
                            .min_size(Vec2::splat(TOUCH_TARGET)),
                    );
                    if staff
                        .on_hover_text("For staff: leave kiosk mode or open Settings")
                        .clicked()
                    {
                        self.state.kiosk.staff.show();
                    }
                    ui.with_layout(Layout::left_to_right(Align::Center), |ui| {
                        ui.label(RichText::new(site.help()).size(22.0));
                    });
                });
            });
        egui::Panel::top("kiosk-header")
            .show_separator_line(false)
            .show(ui, |ui| {
                header_ui(ui, &site);
                if self.demo_reader.is_some() {
                    // A line of its own, apart from what customers read.
                    ui.horizontal(|ui| {
                        ui.colored_label(ui.visuals().warn_fg_color, "DEMO MODE");
                        let has_card = readers_panel::demo_has_card(&self.state);
                        commands.extend(readers_panel::demo_controls_ui(
                            ui,
                            has_card,
                            &mut self.demo_card_choice,
                        ));
                    });
                }
            });
        egui::CentralPanel::default().show(ui, |ui| {
            kiosk_style(ui);
            if self.state.kiosk.staff.open {
                staff_ui(ui, &mut self.state.kiosk, &mut commands);
            } else {
                let focus = Focus {
                    step_changed,
                    settings_open: self.show_settings,
                };
                flow_ui(
                    ui,
                    &mut self.state,
                    &status,
                    now,
                    focus,
                    &site,
                    &mut commands,
                );
            }
        });

        match self.state.kiosk.staff.take_grant() {
            Some(StaffGrant::LeaveKiosk(supervisor)) => self.leave_kiosk(&ctx, &supervisor),
            Some(StaffGrant::OpenSettings(supervisor)) => {
                tracing::info!(%supervisor, "kiosk settings opened by a supervisor");
                self.journal_control(
                    ControlKind::SettingsOpened,
                    Some(&supervisor),
                    format!("Settings opened over the kiosk by supervisor {supervisor}"),
                );
                self.state.kiosk.settings_open = true;
            }
            None => {}
        }
        // The kiosk decides (a supervisor opened it, the idle reset closed
        // it); the window's close button tells it.
        self.show_settings = self.state.kiosk.settings_open;
        if self.show_settings
            && let Some(command) = settings_view::settings_window_ui(
                &ctx,
                &mut self.show_settings,
                &mut self.state.settings,
            )
        {
            commands.push(command);
        }
        self.state.kiosk.settings_open = self.show_settings;
        if let Some(left) = self.state.kiosk.still_there(now) {
            still_there_ui(&ctx, left, &mut self.state.kiosk, now);
        }
        theme::paint_focus_ring(&ctx);
        for command in commands {
            self.worker.send(command);
        }
        // The next change is scheduled, not polled: no frame runs until
        // then unless something happens.
        if let Some(wake) = self.state.kiosk.wake_at(now) {
            ctx.request_repaint_after(Duration::from_secs_f64((wake - now).max(0.0)));
        }
    }

    /// Clears everything the last person entered, on screen and in egui's
    /// memory (a text field's undo history would give their code back),
    /// the clipboard (a code copied with Ctrl+C, for the next Ctrl+V) and
    /// the reader choice.
    fn forget_the_last_person(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        let previous = code_field_id(self.state.kiosk.flow.generation.wrapping_sub(1));
        ctx.data_mut(|data| {
            data.remove::<egui::text_edit::TextEditState>(previous);
        });
        ctx.copy_text(String::new());
        // X11's and Wayland's primary selection (middle-click paste) too.
        ctx.output_mut(|o| {
            o.commands
                .push(egui::OutputCommand::TextSelectionSettled(String::new()));
        });
        self.state.kiosk_person_forgotten();
        if finished(&self.state.bind) {
            commands.push(Command::DismissBind);
        }
        // The focus may still name a button of the last screen: move it
        // before the first keystroke of the next scan arrives.
        let field = code_field_id(self.state.kiosk.flow.generation);
        ctx.memory_mut(|memory| memory.request_focus(field));
    }

    /// Back to the desk window, for the supervisor who signed in.
    fn leave_kiosk(&mut self, ctx: &egui::Context, supervisor: &str) {
        tracing::info!(%supervisor, "kiosk mode left by a supervisor");
        self.journal_control(
            ControlKind::KioskLeft,
            Some(supervisor),
            format!("Kiosk mode left for the staff desk by supervisor {supervisor}"),
        );
        self.state.kiosk.leave_by(ctx.input(|i| i.time), supervisor);
        ctx.options_mut(|o| o.zoom_with_keyboard = true);
        ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(false));
        ctx.send_viewport_cmd(egui::ViewportCommand::Decorations(true));
        ctx.send_viewport_cmd(egui::ViewportCommand::WindowLevel(
            egui::WindowLevel::Normal,
        ));
        // The window manager would bring back the size the window opened
        // with, wherever it was: on a small kiosk panel the bind bar then
        // hangs off the screen.
        let (size, position) = restored_window(ctx.input(|i| i.viewport().monitor_size));
        ctx.send_viewport_cmd(egui::ViewportCommand::InnerSize(size));
        ctx.send_viewport_cmd(egui::ViewportCommand::OuterPosition(position));
        self.state
            .notices
            .push(format!("Kiosk mode was left by supervisor {supervisor}. Press \u{201c}Back to kiosk\u{201d} when you are done."));
        self.worker.send(Command::RefreshRequests(self.state.query));
    }

    /// Back to the kiosk for the next person, from the desk a supervisor
    /// opened: `pressed` by staff, or the desk was left idle.
    pub(super) fn return_to_kiosk(&mut self, ctx: &egui::Context, pressed: bool) {
        tracing::info!("kiosk mode resumed");
        // The supervisor who had the desk answers for what happened there.
        let supervisor = self.state.kiosk.left_by().map(str::to_owned);
        let by = supervisor
            .as_deref()
            .map_or_else(String::new, |s| format!(" left by supervisor {s}"));
        self.journal_control(
            ControlKind::KioskResumed,
            supervisor.as_deref(),
            if pressed {
                format!(
                    "Back to kiosk mode: \u{201c}Back to kiosk\u{201d} pressed at the staff desk{by}"
                )
            } else {
                format!("Back to kiosk mode: the staff desk{by} was left idle")
            },
        );
        self.state.return_to_kiosk();
        self.show_audit = false;
        self.show_settings = false;
        ctx.send_viewport_cmd(egui::ViewportCommand::Decorations(false));
        ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(true));
        ctx.send_viewport_cmd(egui::ViewportCommand::WindowLevel(
            egui::WindowLevel::AlwaysOnTop,
        ));
        let mut commands = Vec::new();
        self.forget_the_last_person(ctx, &mut commands);
        for command in commands {
            self.worker.send(command);
        }
    }
}

/// The desk window's size and place after the kiosk: the size the station
/// opens with, made to fit the monitor with room for the title bar and the
/// desktop's panels, centred. Without a monitor size, the opening size.
fn restored_window(monitor: Option<Vec2>) -> (Vec2, Pos2) {
    const DESK: Vec2 = vec2(1200.0, 760.0);
    // Room for the window's frame and title bar, and a desktop's panels.
    const FRAME: Vec2 = vec2(40.0, 120.0);
    let Some(monitor) = monitor.filter(|m| m.x > 0.0 && m.y > 0.0) else {
        return (DESK, pos2(40.0, 40.0));
    };
    let size = DESK.min((monitor - FRAME).max(monitor * 0.5));
    let position = ((monitor - size - vec2(0.0, FRAME.y / 2.0)) / 2.0).max(Vec2::ZERO);
    (size, position.to_pos2())
}

/// Large text and targets for a touch screen, in this part of the window only.
fn kiosk_style(ui: &mut Ui) {
    let style = ui.style_mut();
    style.text_styles = [
        (TextStyle::Heading, FontId::proportional(44.0)),
        (TextStyle::Body, FontId::proportional(26.0)),
        (TextStyle::Button, FontId::proportional(30.0)),
        (TextStyle::Monospace, FontId::monospace(24.0)),
        (TextStyle::Small, FontId::proportional(20.0)),
    ]
    .into();
    style.interaction.selectable_labels = false;
    style.spacing.button_padding = vec2(28.0, 16.0);
    style.spacing.interact_size = vec2(64.0, 56.0);
    style.spacing.item_spacing = vec2(16.0, 18.0);
}

/// The site's logo and service name, above every screen.
fn header_ui(ui: &mut Ui, site: &KioskSite) {
    ui.horizontal(|ui| {
        ui.set_min_height(56.0);
        if let Some(logo) = site.logo().and_then(|path| logo_texture(ui.ctx(), path)) {
            let size = logo.size_vec2();
            let scale = 56.0 / size.y.max(1.0);
            ui.add(
                egui::Image::new((logo.id(), size * scale))
                    .alt_text(format!("{} logo", site.service_name())),
            );
        }
        ui.label(RichText::new(site.service_name()).size(30.0).strong());
    });
}

/// The logo as a texture, read once; a logo that cannot be read is logged
/// and left out, and the kiosk runs without it.
fn logo_texture(ctx: &egui::Context, path: &std::path::Path) -> Option<egui::TextureHandle> {
    let key = Id::unique(LOGO_KEY);
    if let Some(cached) = ctx.data(|d| d.get_temp::<Option<egui::TextureHandle>>(key)) {
        return cached;
    }
    let texture = match read_logo(path) {
        Ok(image) => Some(ctx.load_texture(LOGO_KEY, image, egui::TextureOptions::LINEAR)),
        Err(why) => {
            tracing::warn!(path = %path.display(), %why, "the kiosk's logo is left out");
            None
        }
    };
    ctx.data_mut(|d| d.insert_temp(key, texture.clone()));
    texture
}

/// Why the site's logo is left out.
#[derive(Debug, thiserror::Error)]
enum LogoProblem {
    #[error("it cannot be read: {0}")]
    Read(#[from] std::io::Error),
    #[error("the file has {0} bytes, more than {LOGO_MAX_BYTES}")]
    TooLarge(u64),
    #[error("it is not a PNG file")]
    NotPng,
    #[error("the image is {0}×{1} pixels, more than {LOGO_MAX_SIDE} on a side")]
    TooBig(u32, u32),
    #[error("the PNG cannot be decoded: {0}")]
    Decode(String),
}

fn read_logo(path: &std::path::Path) -> Result<egui::ColorImage, LogoProblem> {
    let size = std::fs::metadata(path)?.len();
    if size > LOGO_MAX_BYTES {
        return Err(LogoProblem::TooLarge(size));
    }
    let bytes = std::fs::read(path)?;
    // The PNG signature, then the IHDR chunk's width and height: checked
    // before decoding, so a hostile file cannot ask for gigabytes.
    let side = |at: usize| {
        bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
    };
    let (Some(width), Some(height)) = (side(16), side(20)) else {
        return Err(LogoProblem::NotPng);
    };
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Err(LogoProblem::NotPng);
    }
    if width > LOGO_MAX_SIDE || height > LOGO_MAX_SIDE {
        return Err(LogoProblem::TooBig(width, height));
    }
    let icon = eframe::icon_data::from_png_bytes(&bytes)
        .map_err(|error| LogoProblem::Decode(error.to_string()))?;
    let size = [icon.width as usize, icon.height as usize];
    if icon.rgba.len() != size[0] * size[1] * 4 {
        return Err(LogoProblem::Decode(
            "its pixels do not match its size".into(),
        ));
    }
    Ok(egui::ColorImage::from_rgba_unmultiplied(size, &icon.rgba))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_on_the_result_fills_is_readable() {
        for fill in [SUCCESS_FILL, FAILURE_FILL] {
            let ratio = theme::contrast(Color32::WHITE, fill);
            assert!(ratio >= 4.5, "{fill:?}: {ratio:.2}:1");
        }
    }

    #[test]
    fn the_desk_window_after_the_kiosk_fits_the_monitor() {
        for monitor in [
            vec2(1024.0, 768.0),
            vec2(1280.0, 800.0),
            vec2(2560.0, 1440.0),
            vec2(800.0, 480.0),
        ] {
            let (size, at) = restored_window(Some(monitor));
            assert!(size.x <= 1200.0 && size.y <= 760.0, "{monitor:?}: {size:?}");
            assert!(at.x >= 0.0 && at.y >= 0.0, "{monitor:?}: {at:?}");
            // Room below for the title bar (about 30 points) and more.
            assert!(
                at.y + size.y + 30.0 <= monitor.y,
                "{monitor:?}: {at:?} {size:?}"
            );
            assert!(at.x + size.x <= monitor.x, "{monitor:?}: {at:?} {size:?}");
        }
        let (size, _) = restored_window(Some(vec2(1024.0, 768.0)));
        assert_eq!(size, vec2(984.0, 648.0));
        assert_eq!(restored_window(None).0, vec2(1200.0, 760.0));
    }

    #[test]
    fn a_logo_is_read_only_when_it_is_a_png_of_a_sensible_size() {
        let icon = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets/icons/hicolor/48x48/apps/enroll-station.png");
        let image = read_logo(&icon).expect("the station's own icon");
        assert_eq!(image.size, [48, 48]);
        let dir = tempfile::tempdir().expect("a temporary folder");
        let missing = dir.path().join("none.png");
        assert!(matches!(read_logo(&missing), Err(LogoProblem::Read(_))));
        let text = dir.path().join("logo.png");
        std::fs::write(&text, "not a picture at all, but long enough").expect("written");
        assert!(matches!(read_logo(&text), Err(LogoProblem::NotPng)));
        // A header that asks for 100,000 × 10 pixels is refused before decoding.
        let mut huge = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        huge.extend_from_slice(&100_000u32.to_be_bytes());
        huge.extend_from_slice(&10u32.to_be_bytes());
        let wide = dir.path().join("wide.png");
        std::fs::write(&wide, &huge).expect("written");
        assert!(matches!(
            read_logo(&wide),
            Err(LogoProblem::TooBig(100_000, 10))
        ));
    }
}
