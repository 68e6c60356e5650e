//! The readers panel: every reader, live, with its card, its ATR explained and its recent events.

use super::theme;
use crate::app::station::StationState;
use crate::card::atr;
use crate::card::demo::{DEMO_READER, demo_cards};
use crate::domain::card::Atr;
use crate::domain::card_record::CmStanding;
use crate::domain::readers::{IdentityState, SlotState};
use crate::domain::request::ShownTime;
use crate::worker::Command;

/// The panel; returns what the demo reader's controls asked for.
///
/// There is no reader to pick by default: the station follows the reader a
/// card was last inserted into. Only when two or more readers hold a card
/// does each offer "Use this reader", and the one a bind would use is framed
/// in the accent colour and says so in words.
pub(super) fn readers_ui(
    ui: &mut egui::Ui,
    state: &mut StationState,
    demo: bool,
    demo_choice: &mut usize,
) -> Option<Command> {
    let mut command = None;
    ui.heading("Readers");
    if let Some(reason) = state.board.service_down() {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!("Smart card service unavailable. {reason}"),
        );
    }
    // The demo reader's controls first, at a place no card detail can move.
    if demo && state.board.get(DEMO_READER).is_some() {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            let has_card = demo_has_card(state);
            command = demo_controls_ui(ui, has_card, demo_choice);
        });
    }
    let mut chosen = None;
    let in_use = state.desk_reader();
    let with_cards = state.readers_with_cards();
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            let readers: Vec<(String, SlotState)> = state
                .board
                .readers()
                .map(|(name, slot)| (name.to_owned(), slot.clone()))
                .collect();
            if readers.is_empty() {
                ui.label("No card reader is connected. Plug one in; it appears here by itself.");
            }
            for (name, slot) in readers {
                let used = in_use.as_deref() == Some(name.as_str());
                let palette = theme::palette(ui.visuals());
                let stroke = if used {
                    egui::Stroke::new(2.0, palette.accent)
                } else {
                    ui.visuals().widgets.noninteractive.bg_stroke
                };
                egui::Frame::group(ui.style())
                    .stroke(stroke)
                    .show(ui, |ui| {
                        // Room for the 2-point accent stroke inside the panel.
                        ui.set_width((ui.available_width() - 4.0).max(0.0));
                        ui.add(
                            egui::Label::new(egui::RichText::new(name.as_str()).strong())
                                .truncate(),
                        )
                        .on_hover_text(name.as_str());
                        if used {
                            ui.label("This reader's card is used for the bind.");
                        }
                        if with_cards.len() > 1
                            && matches!(slot, SlotState::Present { .. })
                            && ui
                                .add(egui::Button::selectable(used, "Use this reader"))
                                .on_hover_text("Bind the card in this reader")
                                .clicked()
                        {
                            chosen = Some(name.clone());
                        }
                        slot_ui(ui, &name, &slot, state);
                        history_ui(ui, &name, state);
                    });
            }
        });
    if let Some(name) = chosen {
        state.use_reader(name);
    }
    command
}

/// In a narrow window: one line about the card a bind would use, and a
/// button that shows the whole panel. Returns true when it was pressed.
pub(super) fn strip_ui(ui: &mut egui::Ui, state: &StationState) -> bool {
    ui.horizontal(|ui| {
        let pressed = ui
            .button("Readers…")
            .on_hover_text("Show every reader with its card, ATR and events")
            .clicked();
        let text = match state
            .desk_reader()
            .and_then(|r| state.board.get(&r).cloned().map(|s| (r, s)))
        {
            Some((reader, SlotState::Present { identity, .. })) => match identity {
                IdentityState::Known { card_id, kind, .. } => {
                    format!("Card: {kind} {card_id} in \"{reader}\"")
                }
                IdentityState::Reading => format!("Reading the card in \"{reader}\"…"),
                IdentityState::Failed(why) => {
                    format!("The card in \"{reader}\" cannot be bound: {why}")
                }
            },
            _ => match state.readers_with_cards().len() {
                0 => "No card: insert the card into a reader.".to_owned(),
                n => format!("{n} readers hold a card: open Readers… to choose one."),
            },
        };
        ui.add(egui::Label::new(text).truncate());
        pressed
    })
    .inner
}

/// A monospace value the operator can select, with a copy button labelled for screen readers.
///
/// The label and the button share a line; the value has a line of its own
/// and wraps, so a long ATR never widens the panel past its edge.
fn copyable_ui(ui: &mut egui::Ui, label: &str, value: &str) {
    ui.horizontal(|ui| {
        ui.label(label);
        if ui
            .small_button("Copy")
            .on_hover_text(format!("Copy the {label}"))
            .clicked()
        {
            ui.ctx().copy_text(value.to_owned());
        }
    });
    ui.add(
        egui::Label::new(egui::RichText::new(value).monospace())
            .selectable(true)
            .wrap_mode(egui::TextWrapMode::Wrap),
    );
}

fn slot_ui(ui: &mut egui::Ui, reader: &str, slot: &SlotState, state: &StationState) {
    match slot {
        SlotState::Empty => {
            ui.label("Empty: insert a card");
        }
        SlotState::Unavailable { reason } => {
            ui.colored_label(ui.visuals().warn_fg_color, format!("Unavailable: {reason}"));
        }
        SlotState::Present { atr, identity, .. } => {
            ui.label("Card present");
            card_name_ui(ui, atr, state);
            copyable_ui(ui, "ATR", &atr.to_hex());
            atr_details_ui(ui, atr);
            match identity {
                IdentityState::Reading => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("Reading the card ID…");
                    });
                }
                IdentityState::Known {
                    card_id,
                    kind,
                    chip,
                    yubikey_serial,
                    ..
                } => {
                    ui.label(format!("Kind: {kind}"));
                    copyable_ui(ui, "Card ID", &card_id.to_string());
                    if let Some(serial) = yubikey_serial {
                        ui.label(format!(
                            "YubiKey serial {serial} (for support; never bound)"
                        ));
                        ui.add(
                            egui::Label::new(
                                "Windows identifies a YubiKey by its PIV CHUID GUID, the card ID \
                                 above: set it before binding, and do not change it afterwards \
                                 (no PIV reset; ykman piv certificates only with \
                                 --no-update-chuid), or the request can never be executed.",
                            )
                            .wrap(),
                        );
                    }
                    if let Some(chip) = chip {
                        ui.label(format!("Chip (CPLC): {chip}"));
                    }
                    cm_standing_ui(ui, state.cm_cards.standing(reader, card_id));
                }
                IdentityState::Failed(why) => {
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        format!("Cannot be bound: {why}"),
                    );
                    if let Some(chip) = &why.chip {
                        ui.label(format!(
                            "Chip (CPLC): {chip} (information only, not a card ID)"
                        ));
                    }
                }
            }
        }
    }
}

/// What CM knows of the card, asked as soon as it was identified.
fn cm_standing_ui(ui: &mut egui::Ui, standing: Option<&CmStanding>) {
    match standing {
        None => {}
        Some(CmStanding::Asking) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Asking CM about this card…");
            });
        }
        Some(CmStanding::New) => {
            ui.label("New to CM: no smart card object has this card ID.");
        }
        Some(CmStanding::Known(record)) => {
            for line in record.lines() {
                ui.add(egui::Label::new(line).selectable(true).wrap());
            }
        }
        Some(CmStanding::Unknown(why)) => {
            ui.add(
                egui::Label::new(
                    egui::RichText::new(format!(
                        "CM could not be asked about this card: {why} A bind asks again."
                    ))
                    .color(ui.visuals().warn_fg_color),
                )
                .selectable(true)
                .wrap(),
            );
        }
    }
}

/// The card's name from pcsc-tools' list, or why there is none.
fn card_name_ui(ui: &mut egui::Ui, atr: &Atr, state: &StationState) {
    match &state.card_names {
        None => {}
        Some(Ok(list)) => match list.names_for(atr).first() {
            Some(name) => {
                ui.label(format!("Card: {name}"));
            }
            None => {
                ui.weak("Card: not in the card name list");
            }
        },
        Some(Err(why)) => {
            ui.weak("Card name unknown").on_hover_text(why.to_string());
        }
    }
}

fn atr_details_ui(ui: &mut egui::Ui, atr: &Atr) {
    egui::CollapsingHeader::new("ATR details")
        .id_salt(("atr", atr.to_hex()))
        .show(ui, |ui| match atr::parse(atr.bytes()) {
            Ok(parsed) => {
                // Each value under its label, with the panel's whole width:
                // a grid squeezed values into a narrow column, cut mid-word.
                for (label, value) in parsed.explain() {
                    ui.label(egui::RichText::new(label).strong());
                    ui.add(egui::Label::new(value).wrap());
                }
            }
            Err(why) => {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!("This ATR does not follow ISO 7816-3: {why}"),
                );
            }
        });
}

fn history_ui(ui: &mut egui::Ui, reader: &str, state: &StationState) {
    let Some(history) = state.reader_history.get(reader).filter(|h| !h.is_empty()) else {
        return;
    };
    egui::CollapsingHeader::new("Recent events")
        .id_salt(("history", reader))
        .show(ui, |ui| {
            for (when, what) in history.iter().rev() {
                ui.label(format!("{}  {what}", ShownTime::local(*when).clock()));
            }
        });
}

/// The demo reader's controls; what they ask for goes to the worker.
pub(super) fn demo_controls_ui(
    ui: &mut egui::Ui,
    has_card: bool,
    choice: &mut usize,
) -> Option<Command> {
    let cards = demo_cards();
    let mut command = None;
    ui.horizontal(|ui| {
        // The label before its control, the combo as wide as its widest
        // choice: picking a card never moves the buttons below.
        let label = ui.label("Demo card");
        // ...but never wider than the panel: it would widen the panel's
        // frame past the window's edge and cut every line under it.
        let width =
            super::layout::combo_width(ui, cards.iter().map(|c| c.label)).min(ui.available_width());
        let current = cards.get(*choice).map_or("", |c| c.label);
        egui::ComboBox::from_id_salt("demo-card")
            .width(width)
            .selected_text(current)
            .show_ui(ui, |ui| {
                for (index, card) in cards.iter().enumerate() {
                    ui.selectable_value(choice, index, card.label);
                }
            })
            .response
            .labelled_by(label.id);
    });
    ui.horizontal(|ui| {
        if ui.button("Insert demo card").clicked() && *choice < cards.len() {
            command = Some(Command::InsertDemoCard(*choice));
        }
        if ui
            .add_enabled(has_card, egui::Button::new("Remove demo card"))
            .clicked()
        {
            command = Some(Command::RemoveDemoCard);
        }
    });
    ui.label(if has_card {
        "Inserting replaces the card in the demo reader. A card bound here comes back with a new \
         card ID."
    } else {
        "A card bound here comes back with a new card ID at its next insert."
    });
    command
}

/// Whether the demo reader holds a card, as the board last heard.
pub(super) fn demo_has_card(state: &StationState) -> bool {
    matches!(
        state.board.get(DEMO_READER),
        Some(SlotState::Present { .. })
    )
}
