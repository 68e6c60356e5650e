//! The batch view (issue 22): one row per reader with its state, the queue
//! with the next request marked, the totals and the time left, and the
//! controls (pause, skip, retry, stop). It draws [`BatchRun`] and turns
//! clicks into [`BatchControl`]s; the worker runs the batch.
//!
//! Also the list's side of it: "Bind N as a batch…" in the bind bar while
//! several requests are selected, and the header's offer to resume a batch
//! the station stopped during.

use std::time::Duration;

use egui::{RichText, Ui};

use super::theme;
use crate::app::batch::{BatchRun, RunPhase};
use crate::app::station::StationState;
use crate::domain::batch::{Member, MemberState, Phase, Totals};
use crate::domain::text::one_line;
use crate::worker::Command;
use crate::worker::batch::{BatchControl, BatchView, SlotView, SlotWord};

/// The longest reader or person name a row shows (the whole is in the tooltip).
const NAME_CHARS: usize = 60;

/// Draws the batch window while there is a batch to show; returns what to
/// send to the worker (the demo's next card).
pub(super) fn batch_window_ui(
    ctx: &egui::Context,
    state: &mut StationState,
    demo: bool,
) -> Option<Command> {
    let run = state.batch.run.as_ref()?;
    let title = if run.resumed {
        format!("Batch of {} requests (resumed)", run.size)
    } else {
        format!("Batch of {} requests", run.size)
    };
    let mut command = None;
    let mut close = false;
    egui::Window::new("Batch")
        .id(egui::Id::unique("batch-window"))
        .default_size([760.0, 560.0])
        .default_pos(ctx.content_rect().center() - egui::vec2(380.0, 300.0))
        .collapsible(false)
        .resizable(true)
        .show(ctx, |ui| {
            ui.heading(title);
            if let Some(run) = state.batch.run.as_ref() {
                phase_ui(ui, run);
            }
            command = controls_ui(ui, state, demo);
            ui.separator();
            let Some(run) = state.batch.run.as_ref() else {
                return;
            };
            let action = egui::ScrollArea::vertical()
                .id_salt("batch-body")
                .auto_shrink([false, false])
                .max_height((ui.available_height() - 40.0).max(120.0))
                .show(ui, |ui| {
                    readers_ui(ui, run);
                    ui.add_space(8.0);
                    let action = queue_ui(ui, run);
                    ended_ui(ui, run);
                    action
                })
                .inner;
            if let Some(control) = action {
                state.batch.control(control);
            }
            if let Some(run) = state.batch.run.as_ref()
                && !run.is_live()
            {
                ui.separator();
                close = ui
                    .button("Close")
                    .on_hover_text("Close the batch view; the list stays as it is")
                    .clicked();
            }
        });
    if close {
        state.batch.close();
    }
    command
}

/// Running, paused, stopping or ended, in words; the supervisor; the totals.
fn phase_ui(ui: &mut Ui, run: &BatchRun) {
    let palette = theme::palette(ui.visuals());
    let paused = run.view.as_ref().map(|v| v.phase) == Some(Phase::Paused);
    let (text, colour) = match &run.phase {
        RunPhase::Starting => ("Starting…".to_owned(), palette.text),
        RunPhase::Running if run.stopping => (
            "Stopping: the binds under way finish, nothing new starts.".to_owned(),
            palette.warning,
        ),
        RunPhase::Running if paused => (
            "Paused: the binds under way finish, no new card is used until you resume.".to_owned(),
            palette.warning,
        ),
        RunPhase::Running => (
            "Running: insert the cards; each reader's card takes the next request.".to_owned(),
            palette.text,
        ),
        RunPhase::Finished(summary) => {
            let t = summary.totals;
            let how = if summary.stopped {
                "Batch stopped"
            } else {
                "Batch finished"
            };
            let colour = if t.failed + t.remaining > 0 {
                palette.warning
            } else {
                palette.success
            };
            (
                format!(
                    "{how}: {} bound, {} cards refused, {} failed, {} skipped, {} remaining.",
                    t.bound, t.refused, t.failed, t.skipped, t.remaining
                ),
                colour,
            )
        }
        RunPhase::NotStarted(why) => (format!("Not started: {why}"), palette.error),
    };
    ui.add(
        egui::Label::new(RichText::new(text).strong().color(colour))
            .selectable(true)
            .wrap(),
    );
    if let Some(supervisor) = &run.supervisor {
        ui.label(format!(
            "Confirmed by supervisor {}: every bind of the batch records the name.",
            one_line(supervisor, NAME_CHARS)
        ));
    }
    for notice in run.notices.iter().rev().take(3) {
        ui.add(
            egui::Label::new(RichText::new(notice.as_str()).color(palette.warning))
                .selectable(true)
                .wrap(),
        );
    }
    let totals = run.view.as_ref().map(|v| v.totals).unwrap_or(Totals {
        remaining: run.size,
        ..Totals::default()
    });
    ui.horizontal_wrapped(|ui| {
        for (what, count) in [
            ("Bound", totals.bound),
            ("Cards refused", totals.refused),
            ("Failed", totals.failed),
            ("Skipped", totals.skipped),
            ("Remaining", totals.remaining),
        ] {
            ui.label(format!("{what}: {count}"));
            ui.separator();
        }
        let eta = run.view.as_ref().and_then(|v| v.eta);
        ui.label(match eta {
            _ if !run.is_live() => String::new(),
            _ if totals.remaining == 0 => String::new(),
            Some(eta) => format!("Time left: {}", duration_words(eta)),
            None => "Time left: known once a card is bound".to_owned(),
        });
    });
}

/// Pause or Resume, Skip current, Stop (asked first), the demo's next card.
fn controls_ui(ui: &mut Ui, state: &mut StationState, demo: bool) -> Option<Command> {
    let mut command = None;
    let run = state.batch.run.as_ref()?;
    if !run.is_live() {
        return None;
    }
    let view = run.view.as_ref();
    let paused = view.map(|v| v.phase) == Some(Phase::Paused);
    let running = matches!(run.phase, RunPhase::Running) && !run.stopping;
    let next = view.and_then(|v| v.next);
    let confirm_stop = run.confirm_stop;
    let run_id = run.id;
    let mut control = None;
    let mut ask_stop = None;
    ui.horizontal(|ui| {
        let (words, hint, wanted) = if paused {
            (
                "Resume",
                "Use the cards in the readers again",
                BatchControl::Unpause,
            )
        } else {
            (
                "Pause",
                "No new card is used; the binds under way finish",
                BatchControl::Pause,
            )
        };
        let pause = ui
            .add_enabled(running, egui::Button::new(words))
            .on_hover_text(hint);
        // The keyboard follows the batch into its window once it runs: the
        // button that started it is gone, and Tab would walk the desk behind.
        let focus_given = egui::Id::unique(("batch-focus-given", run_id));
        if running && !ui.data(|d| d.get_temp::<bool>(focus_given).unwrap_or(false)) {
            pause.request_focus();
            ui.data_mut(|d| d.insert_temp(focus_given, true));
        }
        if pause.clicked() {
            control = Some(wanted);
        }
        if ui
            .add_enabled(running && next.is_some(), egui::Button::new("Skip current"))
            .on_hover_text("The request the next card would take is skipped")
            .clicked()
        {
            control = Some(BatchControl::SkipCurrent);
        }
        if ui
            .add_enabled(running && !confirm_stop, egui::Button::new("Stop…"))
            .on_hover_text("End the batch: the binds under way finish, nothing new starts")
            .clicked()
        {
            ask_stop = Some(true);
        }
        if demo
            && ui
                .button("Next demo card")
                .on_hover_text(
                    "Demo: put a new blank GIDS card (a card ID never seen) into the demo reader",
                )
                .clicked()
        {
            command = Some(Command::InsertFreshDemoCard);
        }
    });
    if confirm_stop {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.add(
                egui::Label::new(
                    "Stop the batch? The binds under way finish; the requests left stay \
                     unbound, and can be bound later, one by one or in a new batch.",
                )
                .wrap(),
            );
            ui.horizontal(|ui| {
                if ui.button("Stop the batch").clicked() {
                    control = Some(BatchControl::Stop);
                }
                let keep = ui.button("Keep going");
                if keep.clicked() || ui.input(|i| i.key_pressed(egui::Key::Escape)) {
                    ask_stop = Some(false);
                }
            });
        });
    }
    if let Some(asking) = ask_stop {
        state.batch.ask_stop(asking);
    }
    if let Some(control) = control {
        state.batch.control(control);
    }
    command
}

/// One row per reader: its state in a word (and a colour), its card, the
/// request it binds and what to do.
fn readers_ui(ui: &mut Ui, run: &BatchRun) {
    ui.label(RichText::new("Readers").strong());
    let slots = run.view.as_ref().map_or(&[][..], |v| v.slots.as_slice());
    if slots.is_empty() {
        ui.label(if run.is_live() {
            "No reader is connected yet. Plug one in: the batch uses every reader."
        } else {
            "No reader was used."
        });
        return;
    }
    for slot in slots {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            slot_ui(ui, run, slot);
        });
    }
}

fn slot_ui(ui: &mut Ui, run: &BatchRun, slot: &SlotView) {
    let palette = theme::palette(ui.visuals());
    let colour = match slot.word {
        SlotWord::Waiting => palette.weak_text,
        SlotWord::Reading | SlotWord::Checking | SlotWord::Binding => palette.text,
        SlotWord::Done => palette.success,
        SlotWord::Problem => palette.error,
    };
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(one_line(&slot.reader, NAME_CHARS)).strong())
            .on_hover_text(slot.reader.as_str());
        ui.separator();
        let busy = matches!(
            slot.word,
            SlotWord::Reading | SlotWord::Checking | SlotWord::Binding
        );
        if busy && run.is_live() {
            ui.spinner();
        }
        ui.label(RichText::new(slot.word.as_str()).strong().color(colour));
        ui.separator();
        match (slot.card_kind, slot.card_id) {
            (Some(kind), Some(card_id)) => ui.label(format!("card {kind} {card_id}")),
            _ => ui.label("no card"),
        };
        if let Some(request) = slot.request {
            ui.separator();
            ui.label(format!("for {}", one_line(&run.name(request), NAME_CHARS)));
        }
    });
    if let Some(message) = &slot.message {
        ui.add(
            egui::Label::new(RichText::new(message.as_str()).color(colour))
                .selectable(true)
                .wrap(),
        );
    }
}

/// The queue in order, the next request marked, each request's state, and
/// Retry or Skip on a failed one.
fn queue_ui(ui: &mut Ui, run: &BatchRun) -> Option<BatchControl> {
    ui.label(RichText::new("Queue").strong());
    let mut control = None;
    let (members, next): (std::borrow::Cow<'_, [Member]>, Option<uuid::Uuid>) = match &run.view {
        Some(BatchView { members, next, .. }) => (members.as_slice().into(), *next),
        None => (run.queue.iter().map(|&r| queued(r)).collect(), None),
    };
    for (at, member) in members.iter().enumerate() {
        ui.horizontal_wrapped(|ui| {
            let is_next = next == Some(member.request) && run.is_live();
            ui.label(if is_next {
                RichText::new("Next").strong()
            } else {
                RichText::new(format!("{}.", at + 1))
            });
            ui.label(one_line(&run.name(member.request), NAME_CHARS))
                .on_hover_text(format!("Request {}", member.request));
            ui.separator();
            member_state_ui(ui, member);
            if matches!(member.state, MemberState::Failed { .. }) && run.is_live() {
                if ui
                    .button("Retry")
                    .on_hover_text("Put this request back in the queue")
                    .clicked()
                {
                    control = Some(BatchControl::Retry(member.request));
                }
                if ui
                    .button("Skip")
                    .on_hover_text("Leave this request out of the batch")
                    .clicked()
                {
                    control = Some(BatchControl::Skip(member.request));
                }
            }
        });
    }
    control
}

/// The binds that ended, newest first, in words: what a card's refusal said.
fn ended_ui(ui: &mut Ui, run: &BatchRun) {
    if run.ended.is_empty() {
        return;
    }
    egui::CollapsingHeader::new(format!("Results so far ({})", run.ended.len()))
        .id_salt("batch-results")
        .show(ui, |ui| {
            for line in run.ended.iter().rev().take(20) {
                let mut text = format!(
                    "{}: {}",
                    one_line(&run.name(line.request_id), NAME_CHARS),
                    line.outcome.as_str().replace('_', " ")
                );
                if let Some(card) = &line.card_id {
                    text.push_str(&format!(", card {card}"));
                }
                if let Some(reader) = &line.reader {
                    text.push_str(&format!(
                        " in \u{201c}{}\u{201d}",
                        one_line(reader, NAME_CHARS)
                    ));
                }
                if let Some(words) = &line.message {
                    text.push_str(&format!(": {words}"));
                }
                if let Some(id) = &line.correlation_id {
                    text.push_str(&format!(" (correlation ID {id})"));
                }
                ui.add(egui::Label::new(text).selectable(true).wrap());
            }
        });
}

fn queued(request: uuid::Uuid) -> Member {
    Member {
        request,
        state: MemberState::Queued,
        refused_cards: Vec::new(),
        pulls: 0,
    }
}

fn member_state_ui(ui: &mut Ui, member: &Member) {
    let palette = theme::palette(ui.visuals());
    let (text, colour) = match &member.state {
        MemberState::Queued if member.refused_cards.is_empty() => {
            ("queued".to_owned(), palette.text)
        }
        MemberState::Queued => (
            format!(
                "queued ({} card{} refused)",
                member.refused_cards.len(),
                if member.refused_cards.len() == 1 {
                    ""
                } else {
                    "s"
                }
            ),
            palette.warning,
        ),
        MemberState::InFlight { reader, .. } => (
            format!(
                "binding in \u{201c}{}\u{201d}",
                one_line(reader, NAME_CHARS)
            ),
            palette.text,
        ),
        MemberState::AwaitingReconcile { .. } => (
            "answer lost: asking CM whether it was bound".to_owned(),
            palette.warning,
        ),
        MemberState::Bound { card_id } => (format!("bound to card {card_id}"), palette.success),
        MemberState::Failed { why, .. } => (format!("failed: {why}"), palette.error),
        MemberState::Skipped => ("skipped".to_owned(), palette.weak_text),
    };
    ui.add(
        egui::Label::new(RichText::new(text).color(colour))
            .selectable(true)
            .wrap(),
    );
}

/// A time left in words, rounded up to whole minutes.
fn duration_words(left: Duration) -> String {
    let minutes = left.as_secs().div_ceil(60);
    match minutes {
        0 | 1 => "about a minute".to_owned(),
        2..=59 => format!("about {minutes} min"),
        _ => format!("about {} h {} min", minutes / 60, minutes % 60),
    }
}

/// In the bind bar while several requests are selected: "Bind N as a
/// batch…", or why the selection makes no batch.
pub(super) fn batch_button_ui(ui: &mut Ui, state: &mut StationState) {
    if !state.multi_select_offered() {
        return;
    }
    let choice = state.batch_choice();
    let count = choice.joining.len();
    let ready = count >= 2 && choice.checking == 0 && !state.batch.is_running();
    let words = format!("Bind {count} as a batch\u{2026}");
    let button = ui
        .add_enabled(ready, theme::primary_button(ui.visuals(), words, ready))
        .on_hover_text(
            "Bind the selected requests across every reader at once, each with the next card \
             inserted",
        );
    if ready
        && button.clicked()
        && let Err(why) = state.press_batch()
    {
        state.notices.push(why.to_string());
    }
}

/// The bind bar's status area while several requests are selected: who
/// is in the batch and who is left out, and why.
pub(super) fn selection_status_ui(ui: &mut Ui, state: &mut StationState) {
    let choice = state.batch_choice();
    let joining: std::collections::HashSet<&uuid::Uuid> = choice.joining.iter().collect();
    let names: Vec<String> = state
        .marked_requests()
        .filter(|r| joining.contains(&r.uuid))
        .take(6)
        .map(|r| one_line(&state.person_of(r), NAME_CHARS))
        .collect();
    if !names.is_empty() {
        let more = choice.joining.len().saturating_sub(names.len());
        let mut text = format!("In the batch, in this order: {}", names.join("; "));
        if more > 0 {
            text.push_str(&format!("; and {more} more"));
        }
        ui.add(egui::Label::new(text).wrap());
    }
    // What the list's rows warn of is said here too: the batch binds
    // without the bind bar's view of each person.
    let warned: Vec<String> = state
        .marked_requests()
        .filter(|r| joining.contains(&r.uuid))
        .filter_map(|r| {
            let identity = state.people.peek_of(r.target_user);
            super::identity::warning(r, &identity).map(|w| {
                format!(
                    "{} ({})",
                    one_line(&state.person_of(r), NAME_CHARS),
                    w.short
                )
            })
        })
        .collect();
    if !warned.is_empty() {
        ui.add(
            egui::Label::new(
                RichText::new(format!(
                    "Check before you start: {}. Hover the row in the list for why, or \
                     Ctrl+click it to leave it out.",
                    warned.join("; ")
                ))
                .color(ui.visuals().warn_fg_color),
            )
            .wrap(),
        );
    }
    if choice.checking > 0 {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(format!(
                "Checking who {} of them are for in the directory…",
                choice.checking
            ));
        });
    }
    for (name, why) in choice.left_out.iter().take(4) {
        ui.add(
            egui::Label::new(
                RichText::new(format!("Left out: {} ({why})", one_line(name, NAME_CHARS)))
                    .color(ui.visuals().warn_fg_color),
            )
            .wrap(),
        );
    }
    if choice.left_out.len() > 4 {
        ui.label(format!("and {} more left out", choice.left_out.len() - 4));
    }
}

/// The header's offer to resume a batch the journal holds open.
pub(super) fn resume_offer_ui(ui: &mut Ui, state: &mut StationState) {
    if !state.multi_select_offered() {
        return;
    }
    let Some(offer) = state.batch.offer() else {
        return;
    };
    let words = format!(
        "Resume batch of {} requests ({} bound)\u{2026}",
        offer.members.len(),
        offer.bound
    );
    if ui
        .button(words)
        .on_hover_text(
            "The station stopped during this batch: go on where it stopped (answers that were \
             lost are checked with CM first)",
        )
        .clicked()
        && let Err(why) = state.resume_batch()
    {
        state.notices.push(why.to_string());
    }
}

/// What the supervisor sees of a batch before confirming it: its queue
/// (the first and last people named), and the cards already in the readers,
/// which the batch uses first.
pub(super) struct BatchConfirmation {
    names: Vec<String>,
    cards: Vec<String>,
}

impl BatchConfirmation {
    /// Taken from the window's state while the dialog is open.
    pub(super) fn of(state: &StationState) -> Self {
        let cards = state
            .board
            .readers()
            .filter_map(|(reader, slot)| {
                slot.identity().map(|card| {
                    format!(
                        "\u{201c}{}\u{201d}: {} card {}",
                        one_line(reader, NAME_CHARS),
                        card.kind,
                        card.card_id
                    )
                })
            })
            .collect();
        BatchConfirmation {
            names: state.batch.pending_names(),
            cards,
        }
    }

    /// The dialog's top for a batch of `size` from `first` to `last`.
    pub(super) fn ui(&self, ui: &mut Ui, size: usize, first: &str, last: &str, operator: &str) {
        ui.heading(format!("Supervisor confirmation: batch of {size} requests"));
        ui.add(
            egui::Label::new(
                "At this counter a supervisor witnesses every bind. One confirmation covers \
                 the whole batch: each of its binds records the supervisor's name. The \
                 operator cannot confirm their own batch.",
            )
            .wrap(),
        );
        ui.add_space(6.0);
        ui.add(egui::Label::new(RichText::new(operator).strong()).selectable(true));
        ui.add_space(4.0);
        ui.add(
            egui::Label::new(
                RichText::new(format!(
                    "{size} requests, from {} to {}",
                    one_line(first, NAME_CHARS),
                    one_line(last, NAME_CHARS)
                ))
                .strong(),
            )
            .wrap(),
        );
        if !self.names.is_empty() {
            egui::CollapsingHeader::new("The queue, in order")
                .id_salt("batch-confirmation-queue")
                .show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .max_height(140.0)
                        .show(ui, |ui| {
                            for (at, name) in self.names.iter().enumerate() {
                                ui.label(format!("{}. {}", at + 1, one_line(name, NAME_CHARS)));
                            }
                        });
                });
        }
        if self.cards.is_empty() {
            ui.label("No card is in a reader yet: the batch uses each card inserted.");
        } else {
            ui.label("Used first, for the first requests: the cards already in the readers");
            for card in &self.cards {
                ui.label(format!("  {card}"));
            }
        }
    }
}
