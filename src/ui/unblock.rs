//! Unblock a PIN by phone: the agent types the challenge the person reads
//! out from their card's unblock screen (checked for typos, in words), CM
//! computes the response, and the response is shown large, in groups of
//! four, to read back. Done (or closing the window) forgets it: it is never
//! kept after that, and never written to a log (`ChallengeResponse` hides
//! itself from `Debug`). Done also marks the request Completed in CM.
//!
//! The response is asked under an approved OfflineUnblock request CM
//! already holds for the card (one the person started in the CM portal, or
//! a help-desk workflow approved) when there is one; the agent may still
//! create a new one instead.

use egui::{RichText, TextEdit, Ui};

use super::card_panel::{items_form_ui, read_policy};
use crate::app::actions::{Completion, Intent};
use crate::app::request_detail::Answer;
use crate::app::station::StationState;
use crate::domain::card_record::CmStanding;
use crate::domain::lifecycle::NewRequest;
use crate::domain::request::RequestType;
use crate::domain::unblock::Challenge;
use crate::worker::Command;

/// The screen's window, while open; returns the commands to send.
pub(super) fn unblock_window_ui(ctx: &egui::Context, state: &mut StationState) -> Vec<Command> {
    let mut commands = Vec::new();
    let mut open = state.actions.unblock.open;
    egui::Window::new("Unblock PIN by phone")
        .open(&mut open)
        .default_width(560.0)
        .collapsible(false)
        .show(ctx, |ui| {
            egui::ScrollArea::vertical()
                .auto_shrink([false, true])
                .show(ui, |ui| unblock_ui(ui, state, &mut commands));
        });
    if !open {
        // Closing the window is Done: nothing of the response stays.
        commands.extend(state.actions.unblock_done());
    }
    state.actions.unblock.open = open;
    commands
}

fn unblock_ui(ui: &mut Ui, state: &mut StationState, commands: &mut Vec<Command>) {
    if let Some(response) = &state.actions.unblock.response {
        ui.label(RichText::new("Read this response to the person").strong());
        let grouped = response.grouped();
        let size = egui::TextStyle::Heading.resolve(ui.style()).size * 2.0;
        let label = ui.add(
            egui::Label::new(RichText::new(grouped.as_str()).monospace().size(size))
                .selectable(false),
        );
        label.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::Label, true, format!("Response {}", *grouped))
        });
        ui.label(
            "They type it on the card's unblock screen, then choose a new PIN. Whoever has \
             this response can unblock the card once: read it only to the person holding it.",
        );
        if let Some((request, _)) = state.actions.unblock.given {
            ui.weak(format!(
                "Under request {request}: Done marks it Completed in CM."
            ));
        }
        if ui
            .add(super::theme::primary_button(ui.visuals(), "Done", true))
            .on_hover_text("Forget the response and the challenge, and complete the request")
            .clicked()
        {
            commands.extend(state.actions.unblock_done());
        }
        return;
    }
    completion_ui(ui, state.actions.unblock.completion.as_ref());
    let Some((card_id, CmStanding::Known(record))) = state.actions.card.looked_up.clone() else {
        ui.label("Look the card up first (Card lookup): the unblock is for the card CM knows.");
        return;
    };
    let Some(card) = record.current().cloned() else {
        ui.label("CM holds no smart card object the station could read for this card.");
        return;
    };
    commands.extend(state.actions.unblock.question(&card));
    let identity = state.people.identity_of(card.assigned_user);
    super::identity::account_block(ui, card.assigned_user, &identity);
    ui.label(format!("Card ID {card_id}"));
    ui.add_space(4.0);
    if !approved_ui(ui, state, card.uuid) {
        return;
    }
    ui.add_space(4.0);
    ui.label(
        "Ask the person to open the unblock screen on their computer and read out the \
         challenge it shows.",
    );
    let screen = &mut state.actions.unblock;
    ui.horizontal(|ui| {
        let label = ui.label("Challenge");
        ui.add(
            TextEdit::singleline(&mut screen.typed)
                .desired_width(320.0)
                .font(egui::TextStyle::Monospace)
                .hint_text("D611 43F9 CCFF D2CA"),
        )
        .labelled_by(label.id);
    });
    // As typed, grouped: the agent reads it back to catch a mishearing.
    if let Ok(challenge) = Challenge::parse(&screen.typed) {
        ui.label(
            RichText::new(format!("Read back: {challenge}"))
                .monospace()
                .size(egui::TextStyle::Body.resolve(ui.style()).size * 1.4),
        );
    }
    ui.checkbox(&mut screen.diversified, "Diversified admin key")
        .on_hover_text("As the profile template's smart card configuration says");
    if let Some(existing) = state.actions.unblock.chosen {
        existing_ui(ui, state, card, card_id, existing);
        return;
    }
    let key = card
        .profile_template
        .map(|template| (template, RequestType::OFFLINE_UNBLOCK));
    state.actions.unblock.form.use_policy(key);
    let (policy, command) = state.action_policy(key);
    commands.extend(command);
    let policy = policy.cloned();
    let (send, retry) = items_form_ui(
        ui,
        &mut state.actions.unblock.form,
        policy.as_ref(),
        "Get the response…",
    );
    if retry && let Some(key) = key {
        state.detail.retry_policy(key);
    }
    let screen = &mut state.actions.unblock;
    if let Some(error) = &screen.error {
        crate::ui::theme::error_label(ui, error);
    }
    if !send {
        return;
    }
    let Some(challenge) = screen.challenge() else {
        return;
    };
    let Ok(data) = screen.form.data(read_policy(policy.as_ref())) else {
        return;
    };
    match NewRequest::offline_unblock(&card, data, screen.form.comment.clone()) {
        Ok(request) => {
            state.actions.confirm(Intent::Unblock {
                request,
                existing: None,
                card,
                card_id,
                challenge,
            });
        }
        Err(why) => screen.error = Some(why.to_string()),
    }
}

/// Done's completion of the request, while it runs and once it ended.
fn completion_ui(ui: &mut Ui, completion: Option<&Completion>) {
    match completion {
        None => {}
        Some(Completion::Running { request, .. }) => {
            ui.label(format!("Marking request {request} Completed in CM…"));
        }
        Some(Completion::Done(words)) => {
            ui.label(words);
        }
        Some(Completion::Failed(words)) => {
            crate::ui::theme::error_label(ui, words);
        }
    }
    if completion.is_some() {
        ui.separator();
    }
}

/// The approved OfflineUnblock requests CM holds for the card, offered
/// before "create one"; false while CM has not answered (nothing else is
/// offered until it has, so no request is created beside an approved one).
fn approved_ui(ui: &mut Ui, state: &mut StationState, smartcard: uuid::Uuid) -> bool {
    let screen = &mut state.actions.unblock;
    let Some(answer) = screen.approved_for(smartcard).cloned() else {
        return false;
    };
    match answer {
        Answer::Asking => {
            ui.label("Looking in CM for an approved unblock request for this card…");
            false
        }
        Answer::Failed(failure) => {
            crate::ui::theme::error_label(
                ui,
                format!(
                    "CM could not say whether it holds an approved unblock request for this \
                         card: {failure}. A new request is created below, or look again."
                ),
            );
            if ui.button("Look again").clicked() {
                screen.look_again();
            }
            true
        }
        Answer::Read(found) if found.is_empty() => {
            ui.weak("CM holds no approved unblock request for this card: a new one is created.");
            true
        }
        Answer::Read(found) => {
            ui.label(RichText::new("Under which request").strong());
            for approved in &found {
                ui.radio_value(&mut screen.chosen, Some(approved.request), approved.offer());
            }
            ui.radio_value(
                &mut screen.chosen,
                None,
                "Create a new OfflineUnblock request",
            );
            true
        }
    }
}

/// The response under an approved request: no data items (they were
/// collected when it was created), the challenge only.
fn existing_ui(
    ui: &mut Ui,
    state: &mut StationState,
    card: crate::domain::smartcard::Smartcard,
    card_id: crate::domain::card::CardId,
    existing: uuid::Uuid,
) {
    let screen = &mut state.actions.unblock;
    if let Some(error) = &screen.error {
        crate::ui::theme::error_label(ui, error);
    }
    let send = ui
        .add(super::theme::primary_button(
            ui.visuals(),
            "Get the response…",
            true,
        ))
        .clicked();
    if !send {
        return;
    }
    let Some(challenge) = screen.challenge() else {
        return;
    };
    // The request's user is the card's; no items, no comment: CM has them.
    match NewRequest::offline_unblock(&card, Vec::new(), String::new()) {
        Ok(request) => {
            state.actions.confirm(Intent::Unblock {
                request,
                existing: Some(existing),
                card,
                card_id,
                challenge,
            });
        }
        Err(why) => screen.error = Some(why.to_string()),
    }
}
