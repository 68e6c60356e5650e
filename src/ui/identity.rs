//! Who a request is for, drawn the same way wherever a request is named:
//! the target account as the directory holds it (name, account, photo)
//! first, and the values the requester typed after it, marked as such.
//!
//! The agent compares the face and the directory's name with the person at
//! the counter; the typed values only help find the request (security
//! review H1: an originator can type anyone's name over any account).

use egui::{Color32, RichText, Ui};

use crate::app::request_filter::request_title;
use crate::domain::person::{DirectoryPerson, Identity, Photo, names_differ};
use crate::domain::request::Request;
use crate::domain::text::suspicion;

/// The photo's side in the bind bar and the supervisor confirmation.
pub(super) const PHOTO_SIDE: f32 = 96.0;

/// What the list's name column says of a request: the directory's name and
/// account when it has them, else the typed title; and whether that is
/// checked.
pub(super) fn list_text(request: &Request, identity: &Identity) -> (String, bool) {
    match identity {
        Identity::Found(person) => (format!("{} ({})", person.name(), person.account), true),
        _ => (request_title(request), false),
    }
}

/// Something about who the request is for that the agent must look at.
pub(super) struct Warning {
    /// A few words for the list's row.
    pub short: &'static str,
    /// The sentence for the bind bar and the tooltip.
    pub long: String,
    /// It is that the typed name is not the directory's (the sentence then
    /// quotes the typed values).
    pub names_differ: bool,
}

/// What is wrong with who the request is for, if anything: no account in
/// the directory, or a typed name that is not the account's.
pub(super) fn warning(request: &Request, identity: &Identity) -> Option<Warning> {
    match identity {
        Identity::NotFound => {
            return Some(Warning {
                short: "No account",
                long: "The directory has no account with this request's target GUID.".to_owned(),
                names_differ: false,
            });
        }
        Identity::Found(person) if names_differ(person, request) => {
            return Some(Warning {
                short: "Name differs",
                long: format!(
                    "The requester entered \u{201c}{}\u{201d}, which is not the directory's \
                     name for this account. Check the person's ID against the directory's name \
                     and photo.",
                    request.data_summary()
                ),
                names_differ: true,
            });
        }
        Identity::Found(person) => {
            if let Some(odd) = suspicion(person.name()) {
                return Some(Warning {
                    short: "Look-alike letters",
                    long: format!("The directory's name {odd}."),
                    names_differ: false,
                });
            }
        }
        _ => {}
    }
    let entered = request.data_summary();
    suspicion(&entered).map(|odd| Warning {
        short: if odd.hidden_characters && odd.mixed_scripts.is_empty() && odd.looks_like.is_none()
        {
            "Hidden characters"
        } else {
            "Look-alike letters"
        },
        long: format!("What the requester entered {odd}."),
        names_differ: false,
    })
}

/// One line on what the directory said, for a tooltip or under a name.
pub(super) fn directory_words(identity: &Identity) -> String {
    match identity {
        Identity::Unchecked => "No directory is configured: the name is as the requester \
                                entered it and is unchecked."
            .to_owned(),
        Identity::Looking => "Looking up the account in the directory…".to_owned(),
        Identity::Found(_) => "Name, account and photo from the directory.".to_owned(),
        Identity::NotFound => "The directory has no account with this GUID.".to_owned(),
        Identity::Failed(why) => format!("The directory could not be asked: {why}"),
    }
}

/// The list row's tooltip: the account, what the requester entered, and
/// the GUIDs.
pub(super) fn row_tooltip(ui: &mut Ui, request: &Request, identity: &Identity) {
    if let Some(warning) = warning(request, identity) {
        ui.colored_label(ui.visuals().warn_fg_color, warning.long);
    }
    if let Identity::Found(person) = identity {
        ui.strong(person.name());
        account_lines(ui, person);
    }
    ui.label(directory_words(identity));
    let entered = request.data_summary();
    if !entered.is_empty() {
        ui.label(format!("Entered by the requester: {entered}"));
    }
    if let Some(user) = request.target_user {
        ui.weak(format!("Target account {user}"));
    }
    ui.weak(format!("Request {}", request.uuid));
}

fn account_lines(ui: &mut Ui, person: &DirectoryPerson) {
    let mut line = format!("Account {}", person.account);
    if let Some(principal) = &person.principal {
        line.push_str(&format!(" \u{00b7} {principal}"));
    }
    ui.label(line);
}

/// The person a request is for, with the photo: the bind bar's and the
/// supervisor confirmation's block. The photo (or its empty frame) comes
/// first so the eye lands on the face.
pub(super) fn person_block(ui: &mut Ui, request: &Request, identity: &Identity) {
    ui.horizontal_top(|ui| {
        photo_frame(ui, identity);
        ui.vertical(|ui| {
            let large = egui::TextStyle::Body.resolve(ui.style()).size * 1.25;
            match identity {
                Identity::Found(person) => {
                    ui.add(
                        egui::Label::new(RichText::new(person.name()).size(large).strong())
                            .selectable(true)
                            .truncate(),
                    );
                    account_lines(ui, person);
                }
                Identity::NotFound => {
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        "No account in the directory for this request",
                    );
                }
                _ => {
                    ui.add(
                        egui::Label::new(RichText::new(request_title(request)).size(large))
                            .selectable(true)
                            .truncate(),
                    );
                }
            }
            if let Some(user) = request.target_user {
                ui.add(
                    egui::Label::new(RichText::new(format!("Target account {user}")).weak())
                        .selectable(true),
                );
            }
            let entered = request.data_summary();
            let found = matches!(identity, Identity::Found(_));
            let warning = warning(request, identity);
            let differs = warning.as_ref().is_some_and(|w| w.names_differ);
            if found && !differs && !entered.is_empty() {
                ui.add(egui::Label::new(format!("Entered by the requester: {entered}")).truncate());
            }
            if let Some(warning) = warning.filter(|_| !matches!(identity, Identity::NotFound)) {
                ui.add(
                    egui::Label::new(RichText::new(warning.long).color(ui.visuals().warn_fg_color))
                        .wrap(),
                );
            }
            let words = directory_words(identity);
            match identity {
                Identity::Found(_) => {}
                Identity::Looking => {
                    ui.weak(words);
                }
                _ => {
                    ui.colored_label(ui.visuals().warn_fg_color, words);
                }
            }
        });
    });
}

/// The target account of an action that names no request (a card's user,
/// the person a new request is for): the directory's name, account and
/// photo when there is a directory, the GUID always.
pub(super) fn account_block(ui: &mut Ui, user: Option<uuid::Uuid>, identity: &Identity) {
    ui.horizontal_top(|ui| {
        photo_frame(ui, identity);
        ui.vertical(|ui| {
            let large = egui::TextStyle::Body.resolve(ui.style()).size * 1.25;
            match (identity, user) {
                (Identity::Found(person), _) => {
                    ui.add(
                        egui::Label::new(RichText::new(person.name()).size(large).strong())
                            .selectable(true)
                            .truncate(),
                    );
                    account_lines(ui, person);
                }
                (Identity::NotFound, _) => {
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        "No account in the directory with this GUID",
                    );
                }
                (_, Some(_)) => {
                    ui.label(RichText::new("Account not named by a directory").size(large));
                }
                (_, None) => {
                    ui.label(RichText::new("No target account").size(large));
                }
            }
            if let Some(user) = user {
                ui.add(
                    egui::Label::new(RichText::new(format!("Target account {user}")).weak())
                        .selectable(true),
                );
            }
            if !matches!(identity, Identity::Found(_)) && user.is_some() {
                ui.colored_label(ui.visuals().warn_fg_color, directory_words(identity));
            }
        });
    });
}

/// The photo, or a frame that says why there is none.
fn photo_frame(ui: &mut Ui, identity: &Identity) {
    let size = egui::vec2(PHOTO_SIDE, PHOTO_SIDE);
    let photo = match identity {
        Identity::Found(person) => person.photo.as_ref().map(|p| (person.user, p)),
        _ => None,
    };
    match photo.and_then(|(user, photo)| texture(ui.ctx(), user, photo)) {
        Some(texture) => {
            let response = ui.add(
                egui::Image::new(&texture)
                    .fit_to_exact_size(size)
                    .maintain_aspect_ratio(true)
                    .corner_radius(4.0),
            );
            response.widget_info(|| {
                egui::WidgetInfo::labeled(egui::Role::Image, true, "Photo from the directory")
            });
        }
        None => {
            let (rect, response) = ui.allocate_exact_size(size, egui::Sense::hover());
            let visuals = ui.visuals();
            ui.painter().rect_stroke(
                rect,
                4.0,
                egui::Stroke::new(1.0, visuals.weak_text_color()),
                egui::StrokeKind::Inside,
            );
            let words = match identity {
                Identity::Found(_) => "No photo in the directory",
                Identity::Looking => "Looking up…",
                _ => "No photo: unchecked",
            };
            let galley = ui.painter().layout(
                words.to_owned(),
                egui::TextStyle::Small.resolve(ui.style()),
                visuals.weak_text_color(),
                PHOTO_SIDE - 12.0,
            );
            let at = rect.center() - galley.size() / 2.0;
            ui.painter().galley(at, galley, Color32::PLACEHOLDER);
            response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, words));
        }
    }
}

/// The photo's texture, made once per person and kept in egui's memory.
fn texture(ctx: &egui::Context, user: uuid::Uuid, photo: &Photo) -> Option<egui::TextureHandle> {
    let id = egui::Id::unique(("directory-photo", user));
    if let Some(texture) = ctx.data(|d| d.get_temp::<egui::TextureHandle>(id)) {
        return Some(texture);
    }
    let (w, h) = (photo.width as usize, photo.height as usize);
    if w == 0 || h == 0 || photo.rgba.len() != w * h * 4 {
        return None;
    }
    let image = egui::ColorImage::from_rgba_unmultiplied([w, h], &photo.rgba);
    let texture = ctx.load_texture(
        format!("directory-photo-{user}"),
        image,
        egui::TextureOptions::LINEAR,
    );
    ctx.data_mut(|d| d.insert_temp(id, texture.clone()));
    Some(texture)
}
