//! Unblock a PIN by phone: the agent types the challenge the person reads
//! out from their card's unblock screen (checked for typos, in words), CM
//! computes the response, and the response is shown large, in groups of
//! four, to read back. Done (or closing the window) forgets it: it is never
//! kept after that, and never written to a log (`ChallengeResponse` hides
//! itself from `Debug`).

use egui::{RichText, TextEdit, Ui};

use super::card_panel::{items_form_ui, read_policy};
use crate::app::actions::Intent;
use crate::app::station::StationState;
use crate::domain::card_record::CmStanding;
use crate::domain::lifecycle::NewRequest;
use crate::domain::person::Identity;
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
        state.actions.unblock.done();
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
        if ui
            .add(super::theme::primary_button(ui.visuals(), "Done", true))
            .on_hover_text("Forget the response and the challenge")
            .clicked()
        {
            state.actions.unblock.done();
        }
        return;
    }
    let Some((card_id, CmStanding::Known(record))) = state.actions.card.looked_up.clone() else {
        ui.label("Look the card up first (Card lookup): the unblock is for the card CM knows.");
        return;
    };
    let Some(card) = record.current().cloned() else {
        ui.label("CM holds no smart card object the station could read for this card.");
        return;
    };
    let identity = card
        .assigned_user
        .map_or(Identity::Unchecked, |user| state.people.identity(user));
    super::identity::account_block(ui, card.assigned_user, &identity);
    ui.label(format!("Card ID {card_id}"));
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
        ui.add(
            egui::Label::new(RichText::new(error).color(ui.visuals().error_fg_color))
                .selectable(true)
                .wrap(),
        );
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
                card,
                card_id,
                challenge,
            });
        }
        Err(why) => screen.error = Some(why.to_string()),
    }
}
