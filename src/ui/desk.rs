//! The desk agent's keyboard, automatic refresh, toasts and "Larger text".

use std::time::Instant;

use egui::{Key, Modifiers};

use super::StationApp;
use super::requests_table::{scroll_to_selection, search_id};
use crate::app::desk::{LARGER_TEXT_ZOOM, ToastKind, Toasts};
use crate::worker::Command;

/// How many rows PageUp/PageDown move.
const PAGE: isize = 10;

impl StationApp {
    /// Keys that act on the whole window, read before anything is drawn (so
    /// the search box never sees the arrows it does not need):
    /// - Ctrl+F focuses the search box;
    /// - arrows, PageUp/PageDown, Home/End move the selection in the list
    ///   while the search box or nothing has the focus and no window is open
    ///   over the list;
    /// - Ctrl+Enter, the accelerator shown on the Bind button, binds exactly
    ///   as the button would. A plain Enter never binds from here: in the
    ///   search box it takes the search's result, and on the focused Bind
    ///   button it presses it;
    /// - Esc closes the window or dialog on top.
    pub(super) fn desk_keys(&mut self, ctx: &egui::Context) {
        if ctx.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::F)) {
            ctx.memory_mut(|m| m.request_focus(search_id()));
        }
        if ctx.input(|i| i.key_pressed(Key::Escape)) && !ctx.any_popup_open() {
            // The topmost first: a supervisor's confirmation sits over everything.
            if self.state.supervisor_prompt.is_some() {
                self.state.supervisor_prompt = None;
            } else if self.show_settings {
                self.show_settings = false;
            } else if self.show_audit {
                self.show_audit = false;
            }
            return;
        }
        let window_open = self.show_settings
            || self.show_audit
            || self.state.supervisor_prompt.is_some()
            || ctx.any_popup_open();
        if window_open {
            return;
        }
        if ctx.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::Enter)) {
            self.accelerator_binds();
        }
        let focus = ctx.memory(|m| m.focused());
        if !(focus.is_none() || focus == Some(search_id())) {
            return;
        }
        let steps = ctx.input_mut(|i| {
            let mut steps = 0isize;
            for (key, by) in [
                (Key::ArrowDown, 1),
                (Key::ArrowUp, -1),
                (Key::PageDown, PAGE),
                (Key::PageUp, -PAGE),
                (Key::End, isize::MAX / 2),
                (Key::Home, isize::MIN / 2),
            ] {
                // Home/End belong to the text while the search box has it.
                if focus.is_some() && matches!(key, Key::Home | Key::End) {
                    continue;
                }
                let pressed = i.count_and_consume_key(Modifiers::NONE, key) as isize;
                steps = steps.saturating_add(by.saturating_mul(pressed));
            }
            steps
        });
        if steps != 0 {
            let next =
                self.state
                    .view
                    .step(&self.state.requests, self.state.selected_request, steps);
            if next.is_some() {
                self.state.selected_request = next;
                scroll_to_selection(ctx);
            }
        }
    }

    /// Ctrl+Enter: what the Bind button does, or, where the button is
    /// disabled, its reason as a toast (a keyboard user does not see the
    /// greyed button).
    fn accelerator_binds(&mut self) {
        match super::bind_bar::bind_ready(&self.state) {
            Ok(_) => {
                if let Some(command) = super::bind_bar::bind_intent(&mut self.state) {
                    self.worker.send(command);
                }
            }
            Err(why) => {
                self.state
                    .toasts
                    .push(ToastKind::Warning, why.to_string(), Instant::now());
            }
        }
    }

    /// Fetches the list when the interval is up, and asks egui to wake the
    /// window for the next refresh and the next toast expiry, and for nothing else.
    pub(super) fn desk_overlays(&mut self, ctx: &egui::Context) {
        toasts_ui(ctx, &mut self.state.toasts);
    }

    /// The header's "Larger text" switch; the choice is written to the
    /// configuration file (`larger_text = true`) when there is one.
    pub(super) fn larger_text_ui(&mut self, ui: &mut egui::Ui) {
        let mut on = self.larger_text;
        ui.checkbox(&mut on, "Larger text")
            .on_hover_text("Draw text and controls 25 % larger");
        if on == self.larger_text {
            return;
        }
        self.larger_text = on;
        apply_zoom(ui.ctx(), on);
        let settings = &mut self.state.settings;
        settings.form.larger_text = on;
        settings.saved.larger_text = on;
        if let Some(path) = settings.config_path.clone() {
            self.worker.send(Command::SaveLargerText { path, on });
        }
    }
}

/// Sets the zoom of "Larger text" (1.25) or the normal one.
pub(super) fn apply_zoom(ctx: &egui::Context, larger: bool) {
    ctx.set_zoom_factor(if larger { LARGER_TEXT_ZOOM } else { 1.0 });
}

/// The toasts, bottom-right over the window, newest at the bottom. Each is
/// a selectable label (a screen reader reads it) with a Dismiss button.
fn toasts_ui(ctx: &egui::Context, toasts: &mut Toasts) {
    let Some(next_expiry) = toasts.expire(Instant::now()) else {
        return;
    };
    ctx.request_repaint_after(next_expiry);
    let mut dismissed = None;
    egui::Area::new(egui::Id::unique("toasts"))
        .anchor(egui::Align2::RIGHT_BOTTOM, [-12.0, -72.0])
        .order(egui::Order::Foreground)
        .show(ctx, |ui| {
            ui.set_max_width(420.0);
            for toast in toasts.iter() {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.horizontal(|ui| {
                        // A coloured dot rather than ✔/⚠: egui's built-in fonts have neither.
                        let colour = match toast.kind {
                            ToastKind::Success => egui::Color32::from_rgb(0x2e, 0x9e, 0x44),
                            ToastKind::Warning => ui.visuals().warn_fg_color,
                        };
                        let (dot, _) =
                            ui.allocate_exact_size(egui::vec2(10.0, 16.0), egui::Sense::hover());
                        ui.painter().circle_filled(dot.center(), 5.0, colour);
                        // A fixed width for the text, so it wraps left-aligned beside the button.
                        ui.allocate_ui(egui::vec2(360.0, 0.0), |ui| {
                            ui.add(
                                egui::Label::new(toast.text.as_str())
                                    .selectable(true)
                                    .wrap(),
                            );
                        });
                        let close = ui
                            .add(egui::Button::new("×").small())
                            .on_hover_text("Dismiss");
                        close.widget_info(|| {
                            egui::WidgetInfo::labeled(
                                egui::Role::Button,
                                true,
                                "Dismiss notification",
                            )
                        });
                        if close.clicked() {
                            dismissed = Some(toast.serial);
                        }
                    });
                });
            }
        });
    if let Some(serial) = dismissed {
        toasts.dismiss(serial);
    }
}
