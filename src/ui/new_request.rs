//! "New request": a temporary card, or Enroll or Duplicate on someone's
//! behalf. The person is found by name or account in the directory (when
//! one is configured), named by their user GUID (shown with the directory's
//! name), or by their permanent card's ID (its assigned user); the profile
//! template is chosen from CM's list (or its GUID typed when the list
//! cannot be read); the workflow's data items come from the template's
//! policy. Once CM approves the request it appears in the list and is bound
//! like any other.

use egui::{RichText, TextEdit, Ui};

use super::card_panel::{items_form_ui, read_policy};
use crate::app::actions::{Intent, NEW_REQUEST_KINDS, PersonBy, SearchStage, TemplateList};
use crate::app::station::StationState;
use crate::domain::lifecycle::NewRequest;
use crate::domain::person::DirectoryPerson;
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
    let form = &mut state.actions.new_request;
    if open {
        // CM's template list is read when the form opens.
        commands.extend(form.templates.ask());
    } else {
        form.closed();
    }
    form.open = open;
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
    if form.person_by == PersonBy::UserGuid {
        if state.people.has_directory() {
            person_search_ui(ui, state, commands);
        } else {
            ui.weak(
                "No directory is configured on this station, so people cannot be found by \
                 name: type the person's user GUID (their account's objectGUID), or use their \
                 permanent card's ID.",
            );
        }
    }
    let form = &mut state.actions.new_request;
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
    template_choice_ui(ui, form, commands);
    ui.horizontal(|ui| {
        let label = ui.label("Profile template GUID");
        ui.add(TextEdit::singleline(&mut form.template).desired_width(320.0))
            .labelled_by(label.id);
    });
    if !templates.is_empty() && !matches!(form.templates, TemplateList::Read { .. }) {
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
        ui.weak(
            "Choose the profile template (or type its GUID): its workflow policy says what to \
             fill in.",
        );
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
        form.error = Some("Choose the profile template, or type its GUID.".to_owned());
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

/// The search for the person by name or account, and its matches: a click
/// on one fills the user GUID.
fn person_search_ui(ui: &mut Ui, state: &mut StationState, commands: &mut Vec<Command>) {
    let search = &mut state.actions.new_request.search;
    ui.horizontal(|ui| {
        let label = ui.label("Name or account");
        let field = ui
            .add(
                TextEdit::singleline(&mut search.typed)
                    .desired_width(240.0)
                    .hint_text("Jane Doe, jdoe, jdoe@corp.example"),
            )
            .labelled_by(label.id);
        let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let searching = search.searching();
        let pressed = ui
            .add_enabled(!searching, egui::Button::new("Find person"))
            .on_hover_text(
                "Find the person in the directory by the beginning of their name or account",
            )
            .clicked();
        if (pressed || enter) && !searching {
            commands.extend(search.start());
        }
    });
    let picked = state.actions.new_request.user().ok();
    let mut chosen: Option<DirectoryPerson> = None;
    match &state.actions.new_request.search.stage {
        SearchStage::Idle => {}
        SearchStage::Refused(why) => {
            ui.colored_label(ui.visuals().error_fg_color, why);
        }
        SearchStage::Searching(query) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!(
                    "Searching the directory for \u{201c}{query}\u{201d}…"
                ));
            });
        }
        SearchStage::Failed { why, .. } => {
            ui.add(
                egui::Label::new(
                    RichText::new(format!(
                        "The directory could not be searched: {why} You can still type the \
                         person's user GUID."
                    ))
                    .color(ui.visuals().error_fg_color),
                )
                .wrap(),
            );
        }
        SearchStage::Found { query, matches } if matches.people.is_empty() => {
            ui.label(format!(
                "No one in the directory has a name or account starting with \
                 \u{201c}{query}\u{201d}. Check the spelling, or type the person's user GUID."
            ));
        }
        SearchStage::Found { matches, .. } => {
            ui.weak("Choose the person (check their ID against the name):");
            for person in &matches.people {
                ui.horizontal(|ui| {
                    let selected = picked == Some(person.user);
                    if ui
                        .selectable_label(selected, match_words(person))
                        .on_hover_text(format!("User GUID {}", person.user))
                        .clicked()
                    {
                        chosen = Some(person.clone());
                    }
                    if let Some(principal) = &person.principal {
                        ui.weak(principal);
                    }
                });
            }
            if matches.more {
                ui.weak(format!(
                    "More than {} people match: type more of the name to see the others.",
                    crate::directory::search::MAX_MATCHES
                ));
            }
        }
    }
    if let Some(person) = chosen {
        state.actions.new_request.pick(&person);
    }
}

/// A match as the list shows it: "Jane Doe (jdoe)", or the account alone.
fn match_words(person: &DirectoryPerson) -> String {
    match person.display_name.as_deref().filter(|n| !n.is_empty()) {
        Some(name) => format!("{name} ({})", person.account),
        None => person.account.clone(),
    }
}

/// The drop-down of CM's profile templates; while it is read, or when it
/// cannot be, why (the GUID field below stays for typing).
fn template_choice_ui(
    ui: &mut Ui,
    form: &mut crate::app::actions::NewRequestForm,
    commands: &mut Vec<Command>,
) {
    let current = form.template();
    let mut chosen = None;
    match &form.templates {
        TemplateList::NotRead | TemplateList::Reading => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Reading CM's profile templates…");
            });
        }
        TemplateList::Failed(why) => {
            let mut again = false;
            ui.horizontal_wrapped(|ui| {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!(
                        "CM's profile templates could not be read: {why} Type the template's \
                         GUID below, or read the list again."
                    ),
                );
                again = ui.button("Read templates again").clicked();
            });
            if again {
                commands.extend(form.templates.retry());
            }
        }
        TemplateList::Read { templates, .. } if templates.is_empty() => {
            ui.label(
                "CM lists no smart card profile template this account may use: type the \
                 template's GUID below, or ask the CM administrator.",
            );
        }
        TemplateList::Read {
            templates,
            software,
        } => {
            let selected = match current {
                Some(uuid) => match form.templates.name_of(uuid) {
                    Some(name) => format!("{name} \u{2014} {uuid}"),
                    None => "A template not in CM's list (typed below)".to_owned(),
                },
                None => "Choose a template…".to_owned(),
            };
            ui.horizontal(|ui| {
                let label = ui.label("Profile template");
                egui::ComboBox::from_id_salt("new-request-template")
                    .selected_text(selected)
                    .width(420.0)
                    .show_ui(ui, |ui| {
                        for template in templates {
                            let words = format!("{} \u{2014} {}", template.name, template.uuid);
                            let on = current == Some(template.uuid);
                            if ui.selectable_label(on, words).clicked() {
                                chosen = Some(template.uuid);
                            }
                        }
                    })
                    .response
                    .labelled_by(label.id);
            });
            if *software > 0 {
                ui.weak(format!(
                    "{software} software template(s) left out: this form makes smart card \
                     requests."
                ));
            }
        }
    }
    if let Some(template) = chosen {
        form.choose_template(template);
    }
}

/// The profile templates the listed requests name, each once: the choices
/// at hand when CM's template list cannot be read.
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
