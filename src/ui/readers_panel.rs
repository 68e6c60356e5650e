//! The readers panel: every reader, live, with its card.

use crate::card::demo::{DEMO_READER, DemoReader, demo_cards};
use crate::domain::readers::{IdentityState, SlotState};
use crate::station::StationState;

pub(super) fn readers_ui(
    ui: &mut egui::Ui,
    state: &mut StationState,
    demo: Option<&DemoReader>,
    demo_choice: &mut usize,
) {
    ui.heading("Readers");
    if let Some(reason) = state.board.service_down() {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!("Smart card service unavailable. {reason}"),
        );
    }
    let mut chosen = None;
    egui::ScrollArea::vertical().show(ui, |ui| {
        let readers: Vec<(String, SlotState)> = state
            .board
            .readers()
            .map(|(name, slot)| (name.to_owned(), slot.clone()))
            .collect();
        if readers.is_empty() {
            ui.label("No card reader is connected. Plug one in; it appears here by itself.");
        }
        for (name, slot) in readers {
            ui.group(|ui| {
                let selected = state.selected_reader.as_deref() == Some(name.as_str());
                if ui.radio(selected, &name).clicked() {
                    chosen = Some(name.clone());
                }
                slot_ui(ui, &slot);
                if name == DEMO_READER
                    && let Some(demo) = demo
                {
                    demo_controls_ui(ui, demo, demo_choice);
                }
            });
        }
    });
    if let Some(name) = chosen {
        state.selected_reader = Some(name);
    }
}

fn slot_ui(ui: &mut egui::Ui, slot: &SlotState) {
    match slot {
        SlotState::Empty => {
            ui.weak("Empty: insert a card");
        }
        SlotState::Unavailable { reason } => {
            ui.colored_label(ui.visuals().warn_fg_color, format!("Unavailable: {reason}"));
        }
        SlotState::Present { atr, identity, .. } => {
            ui.label("Card present");
            ui.horizontal(|ui| {
                ui.label("ATR");
                ui.add(
                    egui::Label::new(egui::RichText::new(atr.to_hex()).monospace())
                        .selectable(true),
                );
            });
            match identity {
                IdentityState::Reading => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("Reading the card ID…");
                    });
                }
                IdentityState::Known { card_id, kind } => {
                    ui.label(format!("Kind: {kind}"));
                    ui.horizontal(|ui| {
                        ui.label("Card ID");
                        ui.add(
                            egui::Label::new(egui::RichText::new(card_id.to_string()).monospace())
                                .selectable(true),
                        );
                    });
                }
                IdentityState::Failed(why) => {
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        format!("Cannot be bound: {why}"),
                    );
                }
            }
        }
    }
}

fn demo_controls_ui(ui: &mut egui::Ui, demo: &DemoReader, choice: &mut usize) {
    let cards = demo_cards();
    ui.horizontal(|ui| {
        let current = cards.get(*choice).map_or("", |c| c.label);
        egui::ComboBox::from_label("Demo card")
            .selected_text(current)
            .show_ui(ui, |ui| {
                for (index, card) in cards.iter().enumerate() {
                    ui.selectable_value(choice, index, card.label);
                }
            });
    });
    ui.horizontal(|ui| {
        if ui.button("Insert demo card").clicked()
            && let Some(card) = cards.get(*choice)
        {
            demo.insert(card.card.clone());
        }
        if ui
            .add_enabled(demo.has_card(), egui::Button::new("Remove demo card"))
            .clicked()
        {
            demo.remove();
        }
    });
}
