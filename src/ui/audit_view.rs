//! The audit view: who bound which request to which card, when and where,
//! names first; and exports, with or without the desktop's file dialog,
//! whose results show here and nowhere else.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use egui::{Color32, Id, Label, RichText, Ui};
use egui_extras::{Column, TableBuilder};
use time::{OffsetDateTime, UtcOffset};

use super::theme;
use crate::audit::{EventKind, ExportFormat, Outcome, Record};
use crate::domain::text::{one_line, person_name};
use crate::worker::Command;
use crate::worker::protocol::{AuditStatus, ExportOutcome, ExportResult, JournalSource};

/// The most characters a cell's detail shows; its tooltip has the rest.
const DETAILS_MAX_CHARS: usize = 400;

/// What one record says happened, in a word, and the colour that repeats it.
fn event_word(record: &Record, ui: &Ui) -> (&'static str, Color32, &'static str) {
    let palette = theme::palette(ui.visuals());
    match (record.event, record.outcome) {
        (EventKind::Attempt, _) => (
            "Attempt",
            palette.weak_text,
            "The station wrote this before it sent the bind to the server.",
        ),
        (EventKind::Outcome, Some(Outcome::Bound)) => (
            "Bound",
            palette.success,
            "The server bound the request to the card.",
        ),
        (EventKind::Outcome, Some(Outcome::ReconciledBound)) => (
            "Bound (checked later)",
            palette.success,
            "The server's answer was lost; asked again, it showed the request bound to this card.",
        ),
        (EventKind::Outcome, Some(Outcome::Refused)) => (
            "Refused",
            palette.warning,
            "The station refused before sending anything: see the details.",
        ),
        (EventKind::Outcome, Some(Outcome::Failed)) => (
            "Failed",
            palette.error,
            "The server refused, or the bind is known not to have happened: see the details.",
        ),
        (EventKind::Outcome, Some(Outcome::ReconciledNotBound)) => (
            "Not bound (checked later)",
            palette.error,
            "The server's answer was lost; asked again, it showed the request not bound to \
             this card.",
        ),
        (EventKind::Outcome, None) => ("Outcome", palette.text, "How the attempt ended."),
        // Issue 21's lifecycle actions (the window part may word these better).
        (EventKind::Outcome, Some(_)) => ("Outcome", palette.text, "How the attempt ended."),
        (EventKind::ActionIntent, _) => (
            "Action",
            palette.weak_text,
            "The station wrote this before it sent a lifecycle action (undo, retire, revoke, \
             new request, offline unblock) to the server.",
        ),
        (EventKind::ActionOutcome, Some(Outcome::Done | Outcome::ReconciledDone)) => (
            "Action done",
            palette.success,
            "The server did the action (an unblock response is never recorded).",
        ),
        (EventKind::ActionOutcome, _) => (
            "Action not done",
            palette.warning,
            "The station or the server refused the action, or it is known not to have \
             happened: see the details.",
        ),
        (EventKind::SettingsSaved, _) => (
            "Settings saved",
            palette.warning,
            "The Settings view saved the configuration file: the details name the keys that \
             changed (never their values).",
        ),
        (EventKind::SupervisorRefused, _) => (
            "Supervisor refused",
            palette.error,
            "A supervisor credential was refused: the name tried and why (never the password).",
        ),
        (EventKind::SupervisorLockedOut, _) => (
            "Supervisors locked out",
            palette.error,
            "Too many wrong supervisor credentials: the station makes every credential wait.",
        ),
        (EventKind::StationStarted, _) => (
            "Station started",
            palette.weak_text,
            "The station started: the details say in which mode and on which server.",
        ),
        (EventKind::KioskLeft, _) => (
            "Kiosk left",
            palette.warning,
            "A supervisor left kiosk mode for the staff desk.",
        ),
        (EventKind::KioskResumed, _) => (
            "Kiosk resumed",
            palette.weak_text,
            "The station went back to kiosk mode.",
        ),
        (EventKind::SettingsOpened, _) => (
            "Settings opened",
            palette.warning,
            "The Settings view was opened: who opened it, and the supervisor who allowed it.",
        ),
        (EventKind::ReconcileAlarm, _) => (
            "ALARM (reconcile)",
            palette.error,
            "A request this station tried to bind is bound to another card: someone else \
             bound it.",
        ),
        (EventKind::JournalGap, _) => (
            "Journal gap",
            palette.error,
            "The journal was found missing, shortened or rewritten against the head marker \
             the station keeps beside it: records are missing here (the system log has them, \
             if forwarding was on).",
        ),
        (EventKind::HeadMarkerCreated, _) => (
            "Head marker created",
            palette.warning,
            "The journal had no head marker beside it (an older version's journal, or the \
             marker was removed): the station made one for the records it found.",
        ),
        (EventKind::BatchStarted, _) => (
            "Batch started",
            palette.weak_text,
            "A batch of requests began: its requests in queue order, and the supervisor who              confirmed it.",
        ),
        (EventKind::BatchMember, _) => (
            "Batch request",
            palette.weak_text,
            "What happened to one request of a batch besides its bind: a card refused or              taken out, a skip or a retry.",
        ),
        (EventKind::BatchFinished, _) => (
            "Batch ended",
            palette.weak_text,
            "A batch finished or was stopped, with its totals.",
        ),
    }
}

/// The status line under the journal's path: the gaps the journal records,
/// and how forwarding to the system log goes.
fn trust_status_ui(ui: &mut Ui, records: &[Record], journal: Option<&JournalSource>) {
    let palette = theme::palette(ui.visuals());
    let gaps = records
        .iter()
        .filter(|record| record.event == EventKind::JournalGap)
        .count();
    if gaps > 0 {
        ui.label(
            RichText::new(format!(
                "This journal records {gaps} gap{}: records the station wrote are missing \
                 from the file. `enroll-station audit verify` names them.",
                if gaps == 1 { "" } else { "s" }
            ))
            .color(palette.error),
        );
    }
    let shown = match journal {
        Some(JournalSource::File(path)) => Some(path.as_path()),
        _ => None,
    };
    match crate::audit::forward::status() {
        None => {
            ui.weak(
                "Records are not forwarded to a system log: configure [audit_forwarding] so a \
                 copy leaves the station.",
            );
        }
        // The demo journal, or one named for this run only.
        Some(status) if shown.is_some_and(|path| !crate::audit::forward::forwards(path)) => {
            ui.weak(format!(
                "The records of this journal are not forwarded: forwarding is for {}.",
                status.journal.display()
            ));
        }
        Some(status) if status.troubled() => {
            ui.add(
                Label::new(RichText::new(status.line()).color(palette.warning))
                    .selectable(true)
                    .wrap(),
            );
        }
        Some(status) => {
            ui.add(Label::new(RichText::new(status.line()).weak()).wrap());
        }
    }
}

/// `at` in this computer's local time, to the second, with its zone: the
/// offset in force then (`+01:00`), or `UTC`.
fn local_time(at: OffsetDateTime) -> String {
    let shown = UtcOffset::local_offset_at(at)
        .ok()
        .and_then(|offset| at.checked_to_offset(offset))
        .unwrap_or(at);
    let offset = shown.offset();
    let zone = if offset.is_utc() {
        "UTC".to_owned()
    } else {
        let (hours, minutes, _) = offset.as_hms();
        let sign = if offset.is_negative() { '-' } else { '+' };
        format!(
            "{sign}{:02}:{:02}",
            hours.unsigned_abs(),
            minutes.unsigned_abs()
        )
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} {zone}",
        shown.year(),
        u8::from(shown.month()),
        shown.day(),
        shown.hour(),
        shown.minute(),
        shown.second()
    )
}

fn records(n: u64) -> String {
    match n {
        1 => "1 record".to_owned(),
        n => format!("{n} records"),
    }
}

/// The previous export's finishing time when the operator last pressed
/// Export: while it is still the latest result, the new export is under way.
fn pending_id() -> Id {
    Id::unique("audit-export-pending")
}

/// Why "Open folder" did not open it, written by the thread that waits on
/// the file manager.
type FolderNote = Arc<Mutex<Option<String>>>;

fn folder_note_id() -> Id {
    Id::unique("audit-open-folder-note")
}

/// Draws the audit window while `open`; returns the command a click asked for.
pub(super) fn audit_window_ui(
    ctx: &egui::Context,
    open: &mut bool,
    records: &[Record],
    status: &AuditStatus,
) -> Option<Command> {
    let mut command = None;
    egui::Window::new("Audit journal")
        .open(open)
        .default_size([1180.0, 460.0])
        .show(ctx, |ui| {
            command = toolbar_ui(ui, records.len(), status);
            journal_ui(ui, status);
            trust_status_ui(ui, records, status.journal.as_ref());
            if let Some(result) = &status.export {
                ui.separator();
                export_result_ui(ui, result);
            }
            ui.separator();
            if records.is_empty() {
                empty_ui(ui, status);
            } else {
                egui::ScrollArea::horizontal()
                    .id_salt("audit-table-scroll")
                    .show(ui, |ui| table_ui(ui, records));
            }
        });
    command
}

fn toolbar_ui(ui: &mut Ui, count: usize, status: &AuditStatus) -> Option<Command> {
    let mut command = None;
    let last_export = status.export.as_ref().map(|result| result.at);
    let pending = ui
        .ctx()
        .data(|d| d.get_temp::<Option<OffsetDateTime>>(pending_id()));
    let exporting = pending == Some(last_export);
    if pending.is_some() && !exporting {
        ui.ctx()
            .data_mut(|d| d.remove::<Option<OffsetDateTime>>(pending_id()));
    }
    let unusable = matches!(status.journal, Some(JournalSource::Unusable(_)));
    ui.horizontal_wrapped(|ui| {
        if ui
            .button("Reload")
            .on_hover_text("Read the journal's latest records again")
            .clicked()
        {
            command = Some(Command::LoadAudit);
        }
        let can_export = !exporting && !unusable;
        for (label, format) in [
            ("Export CSV…", ExportFormat::Csv),
            ("Export JSON…", ExportFormat::Json),
        ] {
            let button = ui
                .add_enabled(can_export, egui::Button::new(label))
                .on_hover_text(
                    "Save every record of the journal. The desktop's file dialog asks where; \
                     without one, the file goes to your Documents folder.",
                )
                .on_disabled_hover_text(if unusable {
                    "There is no usable journal to export: see below."
                } else {
                    "An export is under way."
                });
            if button.clicked() {
                ui.ctx().data_mut(|d| {
                    d.insert_temp(pending_id(), last_export);
                    // A note about the last file's folder is not about the next one.
                    d.remove::<FolderNote>(folder_note_id());
                });
                command = Some(Command::ExportAudit(format));
            }
        }
        ui.label(format!("{count} most recent records, newest first"));
        if exporting {
            ui.spinner();
            ui.label("Exporting… choose where to save in the file dialog, if one opened.");
        }
    });
    command
}

/// Where the records come from, or why there are none to read.
fn journal_ui(ui: &mut Ui, status: &AuditStatus) {
    match &status.journal {
        None => {}
        Some(JournalSource::File(path)) => {
            ui.horizontal_wrapped(|ui| {
                ui.weak("Journal:");
                ui.add(
                    Label::new(RichText::new(path.display().to_string()).monospace().weak())
                        .selectable(true),
                );
                ui.weak("· times are this computer's local time, with their offset from UTC");
            });
        }
        Some(JournalSource::Unusable(why)) => {
            ui.label(
                RichText::new("The audit journal cannot be read")
                    .strong()
                    .color(ui.visuals().error_fg_color),
            );
            ui.add(Label::new(why.as_str()).selectable(true).wrap());
        }
    }
}

fn empty_ui(ui: &mut Ui, status: &AuditStatus) {
    match &status.journal {
        None => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Reading the audit journal…");
            });
        }
        Some(JournalSource::File(_)) => {
            ui.label("No binds recorded yet.");
            ui.weak(
                "Each bind at this station is written here: the attempt before anything is \
                 sent to the server, then how it ended.",
            );
        }
        // Said above, with the reason.
        Some(JournalSource::Unusable(_)) => {}
    }
}

fn export_result_ui(ui: &mut Ui, result: &ExportResult) {
    let palette = theme::palette(ui.visuals());
    let when = local_time(result.at);
    match &result.outcome {
        ExportOutcome::Saved {
            path,
            records: count,
            no_dialog,
        } => {
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new("Saved").strong().color(palette.success));
                ui.add(
                    Label::new(format!(
                        "{} to {} ({when})",
                        records(*count),
                        path.display()
                    ))
                    .selectable(true)
                    .wrap(),
                );
            });
            if let Some(why) = no_dialog {
                ui.add(Label::new(RichText::new(why).color(palette.weak_text)).wrap());
            }
            ui.horizontal(|ui| {
                if ui
                    .button("Copy path")
                    .on_hover_text("Copy the exported file's path")
                    .clicked()
                {
                    ui.ctx().copy_text(path.display().to_string());
                }
                if ui
                    .button("Open folder")
                    .on_hover_text("Show the folder in the desktop's file manager")
                    .clicked()
                {
                    open_folder(ui.ctx(), folder_of(path));
                }
            });
            let note = ui
                .ctx()
                .data(|d| d.get_temp::<FolderNote>(folder_note_id()))
                .and_then(|note| note.lock().unwrap_or_else(PoisonError::into_inner).clone());
            if let Some(note) = note {
                ui.add(Label::new(RichText::new(note).color(palette.warning)).wrap());
            }
        }
        ExportOutcome::Cancelled => {
            ui.label(format!(
                "Export cancelled ({when}): no file was written. Press Export again to choose a \
                 file."
            ));
        }
        ExportOutcome::Failed(why) => {
            ui.horizontal_wrapped(|ui| {
                ui.label(
                    RichText::new("Not exported")
                        .strong()
                        .color(ui.visuals().error_fg_color),
                );
                ui.add(
                    Label::new(format!("{why} ({when})"))
                        .selectable(true)
                        .wrap(),
                );
            });
            if ui.button("Copy error").clicked() {
                ui.ctx().copy_text(why.clone());
            }
        }
    }
}

fn folder_of(path: &Path) -> PathBuf {
    path.parent()
        .map_or_else(|| path.to_owned(), Path::to_owned)
}

/// The program that shows a folder in the desktop's file manager.
const FOLDER_OPENER: &str = if cfg!(windows) {
    "explorer"
} else if cfg!(target_os = "macos") {
    "open"
} else {
    "xdg-open"
};

/// Opens `dir` in the file manager without waiting for it; a failure is
/// noted for the window (no new dependency: the desktop's own opener).
fn open_folder(ctx: &egui::Context, dir: PathBuf) {
    let note: FolderNote = ctx.data_mut(|d| {
        d.get_temp_mut_or_insert_with(folder_note_id(), FolderNote::default)
            .clone()
    });
    let set = |text: Option<String>| *note.lock().unwrap_or_else(PoisonError::into_inner) = text;
    set(None);
    let spawned = std::process::Command::new(FOLDER_OPENER)
        .arg(&dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(error) => {
            set(Some(format!(
                "The folder could not be opened: {FOLDER_OPENER} did not start ({error}). Use \
                 Copy path and open {} yourself.",
                dir.display()
            )));
            return;
        }
    };
    let ctx = ctx.clone();
    // Waited on elsewhere so the window never blocks, and no zombie is left.
    let _ = std::thread::Builder::new()
        .name("open-folder".into())
        .spawn(move || {
            let status = child.wait();
            // Explorer answers 1 even when it opened the folder.
            let failed = match &status {
                Ok(status) => !status.success() && !cfg!(windows),
                Err(_) => true,
            };
            if failed {
                let why = match status {
                    Ok(status) => status.to_string(),
                    Err(error) => error.to_string(),
                };
                *note.lock().unwrap_or_else(PoisonError::into_inner) = Some(format!(
                    "The desktop could not open the folder ({FOLDER_OPENER}: {why}). Use Copy \
                     path and open {} yourself.",
                    dir.display()
                ));
                ctx.request_repaint();
            }
        });
}

fn table_ui(ui: &mut Ui, records: &[Record]) {
    let text_height = ui.text_style_height(&egui::TextStyle::Body);
    let row_height = text_height.max(ui.spacing().interact_size.y) + 4.0;
    TableBuilder::new(ui)
        .id_salt("audit-table")
        .striped(true)
        .resizable(true)
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::initial(200.0).at_least(120.0).clip(true))
        .column(Column::initial(110.0).at_least(70.0).clip(true))
        .column(Column::initial(180.0).at_least(90.0).clip(true))
        .column(Column::initial(110.0).at_least(70.0).clip(true))
        .column(Column::initial(110.0).at_least(70.0).clip(true))
        .column(Column::initial(110.0).at_least(70.0).clip(true))
        .column(Column::initial(150.0).at_least(90.0).clip(true))
        .column(Column::initial(150.0).at_least(90.0).clip(true))
        .column(Column::initial(320.0).at_least(120.0).clip(true))
        .header(row_height, |mut header| {
            for (title, hint) in COLUMNS {
                header.col(|ui| {
                    ui.strong(title).on_hover_text(hint);
                });
            }
        })
        .body(|body| {
            body.rows(row_height, records.len(), |mut row| {
                let Some(record) = records.iter().rev().nth(row.index()) else {
                    return;
                };
                row.col(|ui| {
                    ui.add(Label::new(local_time(record.time)).truncate());
                });
                row.col(|ui| {
                    let (word, colour, meaning) = event_word(record, ui);
                    ui.add(Label::new(RichText::new(word).color(colour)).truncate())
                        .on_hover_text(meaning);
                });
                row.col(|ui| person_ui(ui, record));
                row.col(|ui| operator_ui(ui, record));
                row.col(|ui| {
                    let supervisor = record.supervisor.as_deref().map(|s| one_line(s, 120));
                    text_cell(
                        ui,
                        supervisor.as_deref(),
                        "No supervisor: a bind at a desk or kiosk.",
                    );
                });
                row.col(|ui| {
                    let station = one_line(&record.station, 120);
                    text_cell(ui, Some(&station), "");
                });
                row.col(|ui| {
                    if record.request_id.is_nil() {
                        text_cell(ui, None, "Part of no bind.");
                    } else {
                        guid_cell(ui, "request GUID", &record.request_id.to_string());
                    }
                });
                row.col(|ui| {
                    if record.card_id.is_empty() {
                        text_cell(ui, None, "Part of no bind.");
                    } else {
                        guid_cell(ui, "card ID", &record.card_id);
                    }
                });
                row.col(|ui| details_ui(ui, record));
            });
        });
}

const COLUMNS: [(&str, &str); 9] = [
    (
        "Time (local)",
        "When the record was written, in this computer's local time with its offset from UTC",
    ),
    ("Event", "What happened"),
    ("Person", "Who the request is for, as the desk showed them"),
    (
        "Operator",
        "The account that ran the station (and the one CM signed in)",
    ),
    (
        "Supervisor",
        "Who confirmed the bind at a supervised station",
    ),
    ("Station", "The station that bound"),
    ("Request", "The CM request's GUID"),
    ("Card", "The card ID sent to CM"),
    (
        "Details",
        "The reader, the server's answer, the smart card object",
    ),
];

/// One line of text, or a dash saying why there is none.
fn text_cell(ui: &mut Ui, text: Option<&str>, missing: &str) {
    match text {
        Some(text) if !text.is_empty() => {
            ui.add(Label::new(text).truncate()).on_hover_text(text);
        }
        _ => {
            let dash = ui.add(Label::new(RichText::new("—").weak()));
            if !missing.is_empty() {
                dash.on_hover_text(missing);
            }
        }
    }
}

fn person_ui(ui: &mut Ui, record: &Record) {
    let person = record.person.as_deref().map(person_name);
    text_cell(
        ui,
        person.as_deref(),
        "Not recorded: the bind was made from the command line, or before the station wrote \
         names in its journal.",
    );
}

fn operator_ui(ui: &mut Ui, record: &Record) {
    let operator = &record.operator;
    let shown = operator
        .os_user
        .as_deref()
        .or(operator.principal.as_deref())
        .map(|name| one_line(name, 120));
    let Some(shown) = shown else {
        text_cell(ui, None, "The station could not name its account.");
        return;
    };
    let mut hint = String::new();
    if let Some(user) = &operator.os_user {
        hint.push_str(&format!(
            "Account on this computer: {}",
            one_line(user, 120)
        ));
    }
    if let Some(principal) = &operator.principal {
        if !hint.is_empty() {
            hint.push('\n');
        }
        hint.push_str(&format!("Signed in to CM as: {}", one_line(principal, 120)));
    }
    ui.add(Label::new(shown).truncate()).on_hover_text(hint);
}

/// A GUID in monospace on one line, clipped with the whole value in its
/// tooltip, selectable, and with a Copy button named for screen readers.
fn guid_cell(ui: &mut Ui, what: &str, value: &str) {
    let copy = ui
        .small_button("Copy")
        .on_hover_text(format!("Copy the {what} {value}"));
    copy.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Button, true, format!("Copy the {what}"))
    });
    if copy.clicked() {
        ui.ctx().copy_text(value.to_owned());
    }
    ui.add(
        Label::new(RichText::new(value).monospace())
            .selectable(true)
            .truncate(),
    )
    .on_hover_text(value);
}

fn details_ui(ui: &mut Ui, record: &Record) {
    let mut parts: Vec<String> = Vec::new();
    if let Some(message) = &record.message {
        parts.push(message.clone());
    }
    if let Some(id) = &record.correlation_id {
        parts.push(format!("correlation ID {id}"));
    }
    if let Some(card) = record.smartcard_uuid {
        parts.push(format!("smart card object {card}"));
    }
    if let Some(changed) = record.changed.as_deref().filter(|keys| !keys.is_empty()) {
        parts.push(format!("changed: {}", changed.join(", ")));
    }
    if record.event.is_bind() {
        parts.push(format!("reader {}", record.reader));
    }
    let full = parts.join(" · ");
    ui.add(
        Label::new(one_line(&full, DETAILS_MAX_CHARS))
            .selectable(true)
            .truncate(),
    )
    .on_hover_ui(|ui| {
        ui.set_max_width(480.0);
        ui.add(Label::new(full.as_str()).wrap());
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_name_their_zone_to_the_second() {
        let at = OffsetDateTime::from_unix_timestamp(1_796_371_200).expect("a time");
        let shown = local_time(at);
        // "2026-12-04 14:02:11 UTC" or "… +01:00": 19 characters, a space, the zone.
        let (clock, zone) = shown.split_at(19);
        assert_eq!(clock.len(), 19, "{shown}");
        assert!(
            zone == " UTC"
                || (zone.len() == 7 && (zone.starts_with(" +") || zone.starts_with(" -"))),
            "{shown}"
        );
    }

    #[test]
    fn a_folder_is_the_exported_files_parent() {
        assert_eq!(
            folder_of(Path::new("/home/a/Documents/x.csv")),
            Path::new("/home/a/Documents")
        );
    }
}
