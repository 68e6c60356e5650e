//! The audit view: the journal's recent binds, and export through the desktop's file dialog.

use egui_extras::{Column, TableBuilder};

use crate::audit::{EventKind, ExportFormat, Record};
use crate::worker::Command;

/// What one record says, in one line for the table.
fn what(record: &Record) -> String {
    match (record.event, record.outcome) {
        (EventKind::Attempt, _) => "attempt".to_owned(),
        (EventKind::Outcome, Some(outcome)) => outcome.as_str().to_owned(),
        (EventKind::Outcome, None) => "outcome".to_owned(),
    }
}

/// Draws the audit window while `open`; returns the command a click asked for.
pub(super) fn audit_window_ui(
    ctx: &egui::Context,
    open: &mut bool,
    records: &[Record],
) -> Option<Command> {
    let mut command = None;
    egui::Window::new("Audit journal")
        .open(open)
        .default_size([900.0, 420.0])
        .show(ctx, |ui| {
            ui.horizontal(|ui| {
                if ui.button("Reload").clicked() {
                    command = Some(Command::LoadAudit);
                }
                if ui.button("Export CSV…").clicked() {
                    command = Some(Command::ExportAudit(ExportFormat::Csv));
                }
                if ui.button("Export JSON…").clicked() {
                    command = Some(Command::ExportAudit(ExportFormat::Json));
                }
                ui.label(format!(
                    "{} most recent records, newest first",
                    records.len()
                ));
            });
            ui.separator();
            if records.is_empty() {
                ui.label("No binds recorded yet.");
                return;
            }
            let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
            TableBuilder::new(ui)
                .striped(true)
                .column(Column::auto().at_least(150.0))
                .column(Column::auto().at_least(130.0))
                .column(Column::auto().at_least(110.0))
                .column(Column::auto().at_least(110.0))
                .column(Column::remainder().clip(true))
                .header(row_height, |mut header| {
                    for title in ["Time (UTC)", "Event", "Request", "Card", "Details"] {
                        header.col(|ui| {
                            ui.strong(title);
                        });
                    }
                })
                .body(|body| {
                    body.rows(row_height, records.len(), |mut row| {
                        let Some(record) = records.iter().rev().nth(row.index()) else {
                            return;
                        };
                        row.col(|ui| {
                            let time = record.time;
                            ui.label(format!(
                                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                                time.year(),
                                u8::from(time.month()),
                                time.day(),
                                time.hour(),
                                time.minute(),
                                time.second()
                            ));
                        });
                        row.col(|ui| {
                            ui.label(what(record));
                        });
                        row.col(|ui| {
                            ui.label(record.request_id.to_string())
                                .on_hover_text(record.request_id.to_string());
                        });
                        row.col(|ui| {
                            ui.label(&record.card_id).on_hover_text(&record.card_id);
                        });
                        row.col(|ui| {
                            let mut details = record.message.clone().unwrap_or_default();
                            if let Some(id) = &record.correlation_id {
                                details.push_str(&format!(" (correlation ID {id})"));
                            }
                            if let Some(card) = record.smartcard_uuid {
                                details.push_str(&format!(" smart card {card}"));
                            }
                            ui.add(egui::Label::new(details.trim()).selectable(true).truncate());
                        });
                    });
                });
        });
    command
}
