//! "New request": a temporary card, or Enroll or Duplicate on someone's
//! behalf. The person is named by their user GUID (shown with the
//! directory's name when one is configured) or by their permanent card's ID
//! (its assigned user); the workflow's data items come from the template's
//! policy. Once CM approves the request it appears in the list and is bound
//! like any other.

use egui::{RichText, TextEdit, Ui};

use super::card_panel::{items_form_ui, read_policy};
use crate::app::actions::{Intent, NEW_REQUEST_KINDS, PersonBy};
use crate::app::station::StationState;
use crate::domain::lifecycle::NewRequest;
use crate::domain::request::RequestType;
use crate::worker::Command;

/// The form's window, while open; returns the commands to send.
pub(super) fn new_request_window_ui(ctx: &egui::Context, state: &mut StationState) -> Vec<Command> {
    let mut commands = Vec::new();
    let mut open = state.actions.new_request.open;
    egui::Window::new("New request")
        .open(&mut open)
        .default_width(560.0)
        .collapsible(false)
        .show(ctx, |ui| {
            egui::ScrollArea::vertical()
                .auto_shrink([false, true])
                .show(ui, |ui| new_request_ui(ui, state, &mut commands));
        });
    state.actions.new_request.open = open;
    commands
}

fn kind_words(kind: RequestType) -> &'static str {
    match kind {
        RequestType::TEMPORARY_CARD_ENROLL => "Temporary card",
        RequestType::ENROLL => "Enroll (a first card, on their behalf)",
        _ => "Duplicate (a second card, on their behalf)",
    }
}

fn new_request_ui(ui: &mut Ui, state: &mut StationState, commands: &mut Vec<Command>) {
    let form = &mut state.actions.new_request;
    ui.label(RichText::new("For").strong());
    ui.horizontal(|ui| {
        ui.radio_value(&mut form.person_by, PersonBy::UserGuid, "User GUID");
        ui.radio_value(&mut form.person_by, PersonBy::CardId, "Permanent card ID");
    });
    ui.horizontal(|ui| {
        let words = match form.person_by {
            PersonBy::UserGuid => "Person's user GUID",
            PersonBy::CardId => "Person's permanent card ID",
        };
        let label = ui.label(words);
        ui.add(TextEdit::singleline(&mut form.person).desired_width(320.0))
            .labelled_by(label.id);
        if form.person_by == PersonBy::CardId && ui.button("Look up").clicked() {
            commands.extend(form.look_up_card());
        }
    });
    if let Ok(user) = form.user() {
        let identity = state.people.identity(user);
        super::identity::account_block(ui, Some(user), &identity);
    } else if form.person_by == PersonBy::CardId
        && let Err(why) = state.actions.new_request.user()
        && state.actions.new_request.card.is_some()
    {
        ui.label(why.to_string());
    }
    let templates = known_templates(state);
    let form = &mut state.actions.new_request;
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        let label = ui.label("Request type");
        egui::ComboBox::from_id_salt("new-request-kind")
            .selected_text(kind_words(form.kind))
            .width(300.0)
            .show_ui(ui, |ui| {
                for kind in NEW_REQUEST_KINDS {
                    ui.selectable_value(&mut form.kind, kind, kind_words(kind));
                }
            })
            .response
            .labelled_by(label.id);
    });
    ui.horizontal(|ui| {
        let label = ui.label("Profile template GUID");
        ui.add(TextEdit::singleline(&mut form.template).desired_width(320.0))
            .labelled_by(label.id);
    });
    if !templates.is_empty() {
        ui.horizontal_wrapped(|ui| {
            ui.weak("Templates of the listed requests:");
            for template in templates {
                if ui.small_button(template.to_string()).clicked() {
                    form.template = template.to_string();
                }
            }
        });
    }
    let key = form.policy_key();
    form.form.use_policy(key);
    let (policy, command) = state.action_policy(key);
    commands.extend(command);
    let policy = policy.cloned();
    let form = &mut state.actions.new_request;
    if key.is_none() {
        ui.weak("Type the profile template's GUID: its workflow policy says what to fill in.");
    }
    let (send, retry) = items_form_ui(
        ui,
        &mut form.form,
        policy.as_ref().filter(|_| key.is_some()),
        "Create request…",
    );
    if retry && let Some(key) = key {
        state.detail.retry_policy(key);
    }
    let form = &mut state.actions.new_request;
    if let Some(error) = &form.error {
        ui.colored_label(ui.visuals().error_fg_color, error);
    }
    if !send {
        return;
    }
    let user = match form.user() {
        Ok(user) => user,
        Err(why) => {
            form.error = Some(why.to_string());
            return;
        }
    };
    let Some(template) = form.template() else {
        form.error = Some("Type the profile template's GUID.".to_owned());
        return;
    };
    let Ok(data) = form.form.data(read_policy(policy.as_ref())) else {
        return;
    };
    let comment = form.form.comment.clone();
    let request = if form.kind == RequestType::TEMPORARY_CARD_ENROLL {
        Ok(NewRequest::temporary_card(template, user, data, comment))
    } else {
        NewRequest::on_behalf(form.kind, template, user, data, comment)
    };
    match request {
        Ok(request) => {
            form.error = None;
            state.actions.confirm(Intent::Create {
                request,
                card_id: None,
            });
        }
        Err(why) => form.error = Some(why.to_string()),
    }
}

/// The profile templates the listed requests name, each once: the station
/// loads no template list, so these are the ones at hand.
fn known_templates(state: &StationState) -> Vec<uuid::Uuid> {
    let mut templates: Vec<uuid::Uuid> = Vec::new();
    for template in state.requests.iter().filter_map(|r| r.profile_template) {
        if !templates.contains(&template) {
            templates.push(template);
            if templates.len() == 8 {
                break;
            }
        }
    }
    templates
}
