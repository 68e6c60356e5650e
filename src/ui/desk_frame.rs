//! One frame of the desk: the areas from [`super::layout`], drawn in tab
//! order (list, bind bar, readers, header), and the windows over them.

use egui::{Id, RichText, Ui};

use super::layout::{self, DeskLayout};
use super::{
    StationApp, action_confirm, audit_view, batch_view, bind_bar, card_panel, new_request,
    readers_panel, request_detail, requests_table, settings_view, supervisor_dialog, theme,
    unblock,
};
use crate::audit::ControlKind;
use crate::supervisors::Witness;
use crate::worker::Command;

/// Where the header's measured height is kept between frames.
fn header_height_id() -> Id {
    Id::unique("desk-header-height")
}

/// Where the toasts go: the list's top-right corner, kept for the overlay.
pub(super) fn list_corner_id() -> Id {
    Id::unique("desk-list-corner")
}

impl StationApp {
    /// Lays the desk out and draws it; sends what the clicks asked for.
    pub(super) fn desk_ui(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        let window = ui.max_rect();
        let header_height = ctx
            .data(|d| d.get_temp::<f32>(header_height_id()))
            .unwrap_or(layout::HEADER_GUESS);
        let plan = DeskLayout::plan(window, header_height, self.readers_width);
        let mut commands = Vec::new();
        ctx.data_mut(|d| d.insert_temp(list_corner_id(), plan.list.right_top()));
        self.state.sync_selection();

        // The detail pane takes its room from the list's foot, never from
        // the bind bar: the action area stays where it is.
        let (list_rect, detail_rect) = request_detail::split(plan.list, self.state.detail.open);
        let (action, _) = layout::area(ui, list_rect, "Request list", |ui| {
            requests_table::requests_ui(ui, &mut self.state)
        });
        match action {
            Some(requests_table::ListAction::Send(command)) => commands.push(*command),
            Some(requests_table::ListAction::TestConnection) => {
                commands.extend(self.settings_testing_connection());
            }
            None => {}
        }
        // After the list and before Bind: Tab reaches the pane between them.
        layout::area(ui, detail_rect, "Request detail pane", |ui| {
            request_detail::detail_ui(ui, &mut self.state)
        });
        let (command, _) = layout::area(ui, plan.bind, "Bind bar", |ui| {
            bind_bar::bind_bar_ui(ui, &mut self.state)
        });
        commands.extend(command);
        if let Some(rect) = plan.readers {
            let demo = self.demo_reader.is_some();
            let (command, _) = layout::area(ui, rect, "Readers panel", |ui| {
                readers_panel::readers_ui(ui, &mut self.state, demo, &mut self.demo_card_choice)
            });
            commands.extend(command);
            self.readers_splitter(ui, &plan, rect);
        }
        if let Some(rect) = plan.strip {
            let (show, _) = layout::area(ui, rect, "Card strip", |ui| {
                readers_panel::strip_ui(ui, &self.state)
            });
            if show {
                self.show_readers = !self.show_readers;
            }
            if self.show_readers {
                commands.extend(self.readers_window(&ctx));
            }
        } else {
            self.show_readers = false;
        }
        let (_, used) = layout::area(ui, plan.header, "Station header", |ui| self.header_ui(ui));
        if (used - header_height).abs() > 0.5 {
            // The header wraps with the window's width and the text size:
            // lay out again with its real height rather than overlap.
            ctx.data_mut(|d| d.insert_temp(header_height_id(), used));
            ctx.request_discard("the header's height changed");
        }

        if self.state.actions_offered() {
            let demo = self.demo_reader.is_some();
            commands.extend(batch_view::batch_window_ui(&ctx, &mut self.state, demo));
        }
        commands.extend(supervisor_dialog::supervisor_dialog_ui(
            &ctx,
            &mut self.state,
        ));
        commands.extend(self.actions_windows(&ctx));
        if let Some(supervisor) = self.state.take_settings_grant() {
            tracing::info!(%supervisor, "settings opened by a supervisor");
            self.journal_control(
                ControlKind::SettingsOpened,
                Some(&supervisor),
                format!("Settings opened by supervisor {supervisor}"),
            );
            self.show_settings = true;
        }
        if self.show_audit {
            commands.extend(audit_view::audit_window_ui(
                &ctx,
                &mut self.show_audit,
                &self.state.audit,
                &self.state.audit_status,
            ));
        }
        if self.show_settings {
            commands.extend(settings_view::settings_window_ui(
                &ctx,
                &mut self.show_settings,
                &mut self.state.settings,
            ));
        }
        // "Larger text" saved from Settings takes effect at once, as the
        // header's checkbox does (which also writes it there).
        let saved_larger = self.state.settings.saved.larger_text;
        if saved_larger != self.larger_text {
            self.larger_text = saved_larger;
            super::desk::apply_zoom(&ctx, saved_larger);
        }
        commands.extend(self.state.batch.take_commands());
        for command in commands {
            self.worker.send(command);
        }
    }

    /// The desk's action windows (card lookup, new request, phone unblock)
    /// and the confirmation over them; none at a kiosk station.
    fn actions_windows(&mut self, ctx: &egui::Context) -> Vec<Command> {
        let mut commands = Vec::new();
        if !self.state.actions_offered() {
            return commands;
        }
        if self.state.actions.card.open {
            commands.extend(card_panel::card_window_ui(ctx, &mut self.state));
        }
        if self.state.actions.new_request.open {
            commands.extend(new_request::new_request_window_ui(ctx, &mut self.state));
        }
        if self.state.actions.unblock.open {
            commands.extend(unblock::unblock_window_ui(ctx, &mut self.state));
        }
        commands.extend(action_confirm::confirmation_ui(ctx, &mut self.state));
        commands
    }

    /// Settings, with the report of a test of what is running; at a
    /// supervised or kiosk station only once a supervisor opened it (then
    /// without the test: it is one press away).
    fn settings_testing_connection(&mut self) -> Option<Command> {
        if !self.state.press_settings() {
            return None;
        }
        self.settings_opened_at_desk();
        self.show_settings = true;
        self.state.settings.test_connection()
    }

    /// The handle between the list and the readers panel: drag to resize,
    /// double-click for the default width.
    fn readers_splitter(&mut self, ui: &mut Ui, plan: &DeskLayout, readers: egui::Rect) {
        let handle = egui::Rect::from_center_size(
            egui::pos2(readers.left(), readers.center().y),
            egui::vec2(8.0, readers.height()),
        );
        let response = ui.interact(
            handle,
            Id::unique("readers-splitter"),
            // Not FOCUSABLE: a tab stop between the list and the readers
            // would be a stop that does nothing for a keyboard.
            egui::Sense::CLICK | egui::Sense::DRAG,
        );
        if response.hovered() || response.dragged() {
            ui.ctx().set_cursor_icon(egui::CursorIcon::ResizeHorizontal);
            ui.painter().vline(
                readers.left(),
                readers.y_range(),
                ui.visuals().widgets.hovered.fg_stroke,
            );
        }
        let window_width = plan.header.width();
        if response.dragged() {
            let wanted = self.readers_width - response.drag_delta().x;
            self.readers_width = layout::clamp_readers_width(wanted, window_width);
        }
        if response.double_clicked() {
            self.readers_width = layout::READERS_DEFAULT;
        }
        if response.drag_stopped() || response.double_clicked() {
            self.remember_readers_width();
        }
    }

    /// Keeps the dragged width for the next start, in the configuration
    /// file when there is one (only that key is written).
    fn remember_readers_width(&mut self) {
        let width = self.readers_width.round();
        if let Some(path) = self.state.settings.config_path.clone() {
            self.worker.send(Command::SaveReadersWidth { path, width });
        }
    }

    /// In a narrow window, the full readers panel over the list.
    fn readers_window(&mut self, ctx: &egui::Context) -> Option<Command> {
        let mut open = self.show_readers;
        let demo = self.demo_reader.is_some();
        let mut command = None;
        egui::Window::new("Readers")
            .open(&mut open)
            .default_width(layout::READERS_DEFAULT)
            .anchor(
                egui::Align2::RIGHT_BOTTOM,
                [-8.0, -layout::BIND_BAR_HEIGHT - 48.0],
            )
            .show(ctx, |ui| {
                command = readers_panel::readers_ui(
                    ui,
                    &mut self.state,
                    demo,
                    &mut self.demo_card_choice,
                );
            });
        self.show_readers = open;
        command
    }

    pub(super) fn header_ui(&mut self, ui: &mut Ui) {
        ui.horizontal_wrapped(|ui| {
            self.connection_chip(ui);
            if self.state.witness != Witness::NotNeeded {
                ui.separator();
                supervised_badge(ui, self.state.witness);
            }
            ui.separator();
            directory_chip(ui, &self.state.people);
            forwarding_chip(ui);
        });
        ui.horizontal_wrapped(|ui| {
            self.query_combo(ui);
            self.refresh_button(ui);
            ui.separator();
            if self.state.actions_offered() {
                // Retire, revoke, unblock by phone: the card decides what is offered.
                if ui
                    .button("Card lookup")
                    .on_hover_text(
                        "Find a card by its ID: retire, revoke, unblock its PIN by phone",
                    )
                    .clicked()
                {
                    self.state.actions.card.open = true;
                }
                if ui
                    .button("New request")
                    .on_hover_text("A temporary card, or a card on someone's behalf")
                    .clicked()
                {
                    self.state.actions.new_request.open = true;
                }
                batch_view::resume_offer_ui(ui, &mut self.state);
                ui.separator();
            }
            if ui.button("Audit journal").clicked() {
                self.show_audit = true;
                self.worker.send(Command::LoadAudit);
            }
            if ui
                .button("Settings")
                .on_hover_text("The configuration file: server, trust, sign-in, readers")
                .clicked()
                && self.state.press_settings()
            {
                self.settings_opened_at_desk();
                self.show_settings = true;
            }
            self.larger_text_ui(ui);
            if self.state.kiosk.station_is_kiosk
                && ui
                    .button("Back to kiosk")
                    .on_hover_text("Show the kiosk screen again for the next person")
                    .clicked()
            {
                self.return_to_kiosk(ui.ctx(), true);
            }
        });
    }

    /// Which server the station works with and whether it answers, in
    /// words and a shape (never colour alone).
    fn connection_chip(&mut self, ui: &mut Ui) {
        let palette = theme::palette(ui.visuals());
        if self.demo_emulator.is_some() {
            ui.label(RichText::new("Demo").strong().color(palette.warning));
            ui.label(
                "Embedded CM emulator and a demo reader with virtual cards: nothing reaches \
                 a real CM server.",
            );
            if ui
                .link("Connect to your CM server…")
                .on_hover_text("Open Settings to enter your CM server's address")
                .clicked()
                && self.state.press_settings()
            {
                self.settings_opened_at_desk();
                self.show_settings = true;
            }
            return;
        }
        let host = server_host(&self.server_label);
        let (dot, words) = if self.state.requests_error.is_some() {
            (palette.error, format!("Can't reach {host}"))
        } else if self.state.loading && self.state.requests.is_empty() {
            (palette.weak_text, format!("Connecting to {host}…"))
        } else {
            (palette.success, format!("Connected to {host}"))
        };
        let (rect, _) = ui.allocate_exact_size(egui::vec2(12.0, 16.0), egui::Sense::hover());
        ui.painter().circle_filled(rect.center(), 5.0, dot);
        ui.label(words).on_hover_text(self.server_label.as_str());
    }

    /// "Show: [filter]", the label before its control, the combo as wide
    /// as its widest choice so the buttons after it never move.
    fn query_combo(&mut self, ui: &mut Ui) {
        if let Some(command) = requests_table::filter_combo_ui(ui, &mut self.state) {
            self.worker.send(command);
        }
    }

    /// Refresh, with a spinner while the list loads and the time of the
    /// last answer, so a click always shows that it did something.
    fn refresh_button(&mut self, ui: &mut Ui) {
        let refresh = ui
            .button("Refresh")
            .on_hover_text("Fetch the requests again (F5)");
        if refresh.clicked() || ui.input(|i| i.key_pressed(egui::Key::F5)) {
            self.refresh();
        }
        // A fixed slot: the spinner and the time take the same room, so
        // the buttons after them never move.
        let feedback = self.state.refresh_feedback(std::time::Instant::now());
        let slot = egui::vec2(200.0, ui.spacing().interact_size.y);
        ui.allocate_ui_with_layout(
            slot,
            egui::Layout::left_to_right(egui::Align::Center),
            |ui| {
                ui.set_min_size(slot);
                if feedback.spinning {
                    ui.spinner();
                    ui.label("Loading…");
                    // The spinner's minimum time ends without an event.
                    ui.ctx()
                        .request_repaint_after(std::time::Duration::from_millis(100));
                } else if let Some(updated) = &feedback.updated {
                    ui.label(updated.as_str());
                }
            },
        );
    }
}

/// The supervised station says so all the time, not only at Bind.
fn supervised_badge(ui: &mut Ui, witness: Witness) {
    let palette = theme::palette(ui.visuals());
    match witness {
        Witness::Needed => {
            ui.label(RichText::new("Supervised station").strong())
                .on_hover_text("A supervisor confirms each bind with their name and password");
        }
        Witness::NoneConfigured => {
            ui.label(
                RichText::new(
                    "Supervised station without supervisors: nothing can be bound until an \
                     administrator adds one in Settings.",
                )
                .color(palette.error),
            );
        }
        Witness::NotNeeded => {}
    }
}

/// Shown only while audit records cannot be forwarded to the system log
/// (at the end of the row, so nothing before it moves): binding goes on,
/// but someone should know. The Audit journal window has the whole line.
fn forwarding_chip(ui: &mut Ui) {
    let Some(status) = crate::audit::forward::status().filter(|s| s.troubled()) else {
        return;
    };
    let palette = theme::palette(ui.visuals());
    ui.separator();
    ui.label(RichText::new("Audit copy not delivered").color(palette.warning))
        .on_hover_text(format!(
            "{} The journal on this station keeps every record; binding goes on.",
            status.line()
        ));
}

/// Whether the names on screen are checked: a directory answers, is out,
/// or there is none (then every name is as the requester typed it).
fn directory_chip(ui: &mut Ui, people: &crate::app::people::People) {
    let palette = theme::palette(ui.visuals());
    if !people.has_directory() {
        ui.label(RichText::new("Names unchecked").color(palette.warning))
            .on_hover_text(
                "No directory is configured: names are as the requester entered them. Compare \
                 the target account's GUID, or configure [directory] (see docs/directory.md).",
            );
    } else if let Some(why) = people.trouble() {
        ui.label(RichText::new("Directory unreachable: names unchecked").color(palette.error))
            .on_hover_text(why);
    } else {
        ui.label("Names from the directory")
            .on_hover_text("Target accounts are looked up in the directory: name, account, photo");
    }
}

/// The host of the API address, for the header: the full address is in the tooltip.
fn server_host(api_base: &str) -> &str {
    let rest = api_base
        .split_once("://")
        .map_or(api_base, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

impl StationApp {
    /// Journals something the station did to its own trust; the worker
    /// adds the operator.
    pub(super) fn journal_control(
        &self,
        kind: ControlKind,
        supervisor: Option<&str>,
        message: String,
    ) {
        self.worker.send(Command::RecordControl {
            kind,
            supervisor: supervisor.map(str::to_owned),
            message,
        });
    }

    /// Settings opened at a desk without a supervisor (none is needed there).
    fn settings_opened_at_desk(&self) {
        self.journal_control(
            ControlKind::SettingsOpened,
            None,
            "Settings opened at the desk".to_owned(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::server_host;

    #[test]
    fn the_header_names_the_host_only() {
        assert_eq!(
            server_host("https://cm.contoso.com/CertificateManagement/api/v1.0/"),
            "cm.contoso.com"
        );
        assert_eq!(server_host("http://127.0.0.1:9/x"), "127.0.0.1:9");
        assert_eq!(server_host("cm"), "cm");
    }
}
