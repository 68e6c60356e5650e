//! The desk agent's keyboard, automatic refresh, toasts and "Larger text".

use std::time::Instant;

use egui::{Key, Modifiers};

use super::StationApp;
use super::requests_table::{scroll_to_selection, search_id, take_row_steps};
use crate::app::desk::{LARGER_TEXT_ZOOM, ToastKind, Toasts};
use crate::worker::Command;

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
        if ctx.input(|i| i.key_pressed(Key::Escape)) {
            // Esc closes the innermost thing only, and each closes itself:
            // an open combo while it is drawn later in this frame, the
            // supervisor's dialog (it stays while its check runs), Settings
            // (also at a kiosk). What is left here is the audit view.
            // `escape_for_windows` must be asked first in the frame: see it.
            if super::settings_view::escape_for_windows(ctx)
                && self.state.supervisor_prompt.is_none()
                && self.state.actions.confirmation.is_none()
                && !self.show_settings
            {
                self.show_audit = false;
                self.show_readers = false;
            }
            return;
        }
        let window_open = self.show_settings
            || self.show_audit
            || self.state.supervisor_prompt.is_some()
            || self.state.actions.confirmation.is_some()
            // Popups drawn later in this frame are not known yet: egui's
            // memory of the ones left open is (see `escape_for_windows`).
            || egui::Popup::is_any_open(ctx);
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
        // Home/End belong to the text while the search box has it.
        let steps = ctx.input_mut(|i| take_row_steps(i, focus.is_none()));
        if steps != 0 {
            let next =
                self.state
                    .view
                    .step(&self.state.requests, self.state.selected_request, steps);
            if next.is_some() {
                self.state.select_single(next);
                scroll_to_selection(ctx);
            }
        }
    }

    /// Ctrl+Enter: what the Bind button does, or, where the button is
    /// disabled, its reason emphasised and announced (a keyboard user does
    /// not see the greyed button; the reason is already in the bar, so no
    /// toast repeats it).
    fn accelerator_binds(&mut self) {
        match super::bind_bar::bind_ready(&self.state) {
            Ok(_) => {
                if let Some(command) = super::bind_bar::bind_intent(&mut self.state) {
                    self.worker.send(command);
                }
            }
            Err(_) => {
                self.state.bind_reason_flash = Some(Instant::now() + REASON_FLASH);
            }
        }
    }

    /// The notices and toasts over the list's top-right corner.
    pub(super) fn desk_overlays(&mut self, ctx: &egui::Context) {
        toasts_ui(ctx, &mut self.state.toasts, &mut self.state.notices);
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

/// How long the reason beside a disabled Bind stays emphasised after Ctrl+Enter.
const REASON_FLASH: std::time::Duration = std::time::Duration::from_secs(3);

/// The notices (until dismissed) and the toasts (until they expire or what
/// they describe goes), stacked at the top right of the list, below the
/// header: never over the bind bar, the readers' buttons or the search.
/// Each is a selectable label (a screen reader reads it) with buttons.
fn toasts_ui(ctx: &egui::Context, toasts: &mut Toasts, notices: &mut Vec<String>) {
    let next_expiry = toasts.expire(Instant::now());
    if let Some(next_expiry) = next_expiry {
        ctx.request_repaint_after(next_expiry);
    }
    if next_expiry.is_none() && notices.is_empty() {
        return;
    }
    // The list's top-right corner, as the layout left it: over the list,
    // never over the readers panel's buttons or the bind bar.
    let corner = ctx
        .data(|d| d.get_temp::<egui::Pos2>(super::desk_frame::list_corner_id()))
        .unwrap_or(egui::pos2(
            ctx.content_rect().right(),
            super::layout::HEADER_GUESS,
        ));
    let mut dismissed = None;
    let mut dismissed_notice = None;
    let mut clear_notices = false;
    egui::Area::new(egui::Id::unique("toasts"))
        .pivot(egui::Align2::RIGHT_TOP)
        .fixed_pos(corner + egui::vec2(-16.0, 8.0))
        .order(egui::Order::Foreground)
        .show(ctx, |ui| {
            ui.set_max_width(440.0);
            for (index, notice) in notices.iter().enumerate().rev().take(3) {
                let action = toast_frame_ui(ui, "Notice", notice, true);
                match action {
                    Some(ToastAction::Copy) => ui.ctx().copy_text(notice.clone()),
                    Some(ToastAction::Dismiss) => dismissed_notice = Some(index),
                    None => {}
                }
            }
            if notices.len() > 1
                && ui
                    .button(format!("Clear all {} notices", notices.len()))
                    .clicked()
            {
                clear_notices = true;
            }
            for toast in toasts.iter() {
                let title = match toast.kind {
                    ToastKind::Warning => "Warning",
                };
                if let Some(ToastAction::Dismiss) = toast_frame_ui(ui, title, &toast.text, false) {
                    dismissed = Some(toast.serial);
                }
            }
        });
    if let Some(serial) = dismissed {
        toasts.dismiss(serial);
    }
    if let Some(index) = dismissed_notice
        && index < notices.len()
    {
        notices.remove(index);
    }
    if clear_notices {
        notices.clear();
    }
}

enum ToastAction {
    Copy,
    Dismiss,
}

/// One toast: a warning mark and its kind in words (never colour alone),
/// the text, and its buttons.
fn toast_frame_ui(ui: &mut egui::Ui, title: &str, text: &str, copy: bool) -> Option<ToastAction> {
    let mut action = None;
    egui::Frame::popup(ui.style()).show(ui, |ui| {
        ui.set_width(420.0);
        ui.horizontal(|ui| {
            ui.label(
                egui::RichText::new(title)
                    .strong()
                    .color(ui.visuals().warn_fg_color),
            );
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let close = ui.button("Dismiss");
                close.widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::Button, true, "Dismiss notification")
                });
                if close.clicked() {
                    action = Some(ToastAction::Dismiss);
                }
                if copy
                    && ui
                        .button("Copy")
                        .on_hover_text("Copy this notice")
                        .clicked()
                {
                    action = Some(ToastAction::Copy);
                }
            });
        });
        ui.add(egui::Label::new(text).selectable(true).wrap());
    });
    action
}
