//! The list's header cells and row cells, and the widths the columns are
//! planned from. Every cell is a plain label in the same layout, so the
//! name sits on the same line as the rest of the row and takes the row's
//! selected colour (review P3-21).

use egui::{Response, RichText, Sense, TextStyle, Ui};

use crate::app::request_filter::{Column, Sort, card_text};
use crate::domain::person::Identity;
use crate::domain::request::{Request, RequestStatus, RequestType, ShownTime};
use crate::ui::identity;
use crate::ui::theme;

/// Room for the sort triangle after a header's title, kept whether or not
/// the triangle shows, so sorting never moves a column (review P1-3).
const ARROW_SLOT: f32 = 14.0;

/// Breathing room after a cell's widest value.
const CELL_PAD: f32 = 8.0;

/// A column's header text: the name column is "Person" (CM's "target" is
/// jargon at a desk, review P2-16).
pub(super) fn header_title(column: Column) -> &'static str {
    match column {
        Column::Target => "Person",
        other => other.title(),
    }
}

fn text_width(ui: &Ui, text: &str) -> f32 {
    super::super::layout::text_width(ui, text, TextStyle::Body)
}

/// Each column's width in [`Column::ALL`] order, from what it can ever
/// show (every known type and status, a time, the badge) rather than the
/// rows in view, so the widths stay put while the list scrolls or sorts.
/// Measured once per text size: the list is drawn on every frame.
pub(super) fn natural_widths(ui: &Ui) -> [f32; 6] {
    let size = TextStyle::Body.resolve(ui.style()).size;
    let key = egui::Id::unique("request-list-natural-widths");
    if let Some((measured_at, widths)) = ui.data(|d| d.get_temp::<(f32, [f32; 6])>(key))
        && measured_at == size
    {
        return widths;
    }
    let widths = measure(ui);
    ui.data_mut(|d| d.insert_temp(key, (size, widths)));
    widths
}

fn measure(ui: &Ui) -> [f32; 6] {
    let header = |column: Column| text_width(ui, header_title(column)) + ARROW_SLOT;
    let widest = |texts: &mut dyn Iterator<Item = String>| {
        texts.map(|t| text_width(ui, &t)).fold(0.0_f32, f32::max)
    };
    let types = widest(&mut RequestType::KNOWN.iter().map(ToString::to_string));
    let statuses = widest(&mut RequestStatus::KNOWN.iter().map(ToString::to_string));
    // Digits are as wide as each other in the station's fonts; the widest
    // zone is "+10:30".
    let time = text_width(ui, "2026-12-28 22:58 +10:30");
    let badge = CHECK_SIZE + 4.0 + text_width(ui, "Bound");
    let priority = text_width(ui, "-99999");
    [
        header(Column::Target),
        header(Column::Type).max(types),
        header(Column::Submitted).max(time),
        header(Column::Priority).max(priority),
        header(Column::Status).max(statuses),
        header(Column::Card).max(badge),
    ]
    .map(|w| w + CELL_PAD)
}

/// One sortable header: its title, and a triangle pointing up or down when
/// the list is sorted by it (painted: egui's built-in fonts have no ▲/▼);
/// the accessible name says what a click does or did. Not a tab stop: the
/// list is one (`keyboard` rings the header the list's arrows are on).
pub(super) fn header_cell(
    ui: &mut Ui,
    column: Column,
    sort: Option<Sort>,
    keyboard: bool,
) -> Response {
    let title = header_title(column);
    let direction = sort.filter(|s| s.column == column).map(|s| s.descending);
    let name = match direction {
        Some(false) => format!("Sorted by {title}, ascending"),
        Some(true) => format!("Sorted by {title}, descending"),
        None => format!("Sort by {title}"),
    };
    let rect = ui.available_rect_before_wrap();
    let response = ui.allocate_rect(rect, Sense::CLICK);
    let visuals = ui.visuals();
    if response.hovered() {
        ui.painter()
            .rect_filled(rect, 2.0, visuals.widgets.hovered.weak_bg_fill);
    }
    let colour = visuals.strong_text_color();
    let galley = ui.painter().layout_no_wrap(
        title.to_owned(),
        TextStyle::Body.resolve(ui.style()),
        colour,
    );
    let text_at = egui::pos2(rect.left() + 2.0, rect.center().y - galley.size().y / 2.0);
    let arrow_left = text_at.x + galley.size().x + 3.0;
    ui.painter().galley(text_at, galley, colour);
    if let Some(descending) = direction {
        let arrow = egui::Rect::from_center_size(
            egui::pos2(arrow_left + 5.0, rect.center().y),
            egui::vec2(10.0, 10.0),
        );
        let (top, bottom) = (arrow.top() + 2.0, arrow.bottom() - 2.0);
        let (tip, base) = if descending {
            (bottom, top)
        } else {
            (top, bottom)
        };
        ui.painter().add(egui::Shape::convex_polygon(
            vec![
                egui::pos2(arrow.center().x, tip),
                egui::pos2(arrow.left() + 1.0, base),
                egui::pos2(arrow.right() - 1.0, base),
            ],
            colour,
            egui::Stroke::NONE,
        ));
    }
    if keyboard {
        let focus = theme::palette(ui.visuals()).focus;
        ui.painter().rect_stroke(
            rect.shrink(1.0),
            3.0,
            egui::Stroke::new(2.0, focus),
            egui::StrokeKind::Inside,
        );
    }
    response.widget_info(|| {
        egui::WidgetInfo::selected(egui::Role::Button, true, direction.is_some(), &name)
    });
    response.on_hover_text("Click to sort by this column, again to reverse")
}

/// The cells of one request's row, in the plan's columns.
pub(super) fn row_cells(
    row: &mut egui_extras::TableRow<'_, '_>,
    columns: &[Column],
    request: &Request,
    identity: &Identity,
    just_bound: bool,
) {
    for &column in columns {
        row.col(|ui| match column {
            Column::Target => name_cell(ui, request, identity),
            Column::Type => {
                plain(ui, request.request_type.to_string());
            }
            Column::Submitted => {
                // The minute is what an agent needs, in local time with its zone.
                let shown = request
                    .submitted
                    .map(|t| ShownTime::local(t).to_string())
                    .unwrap_or_default();
                plain(ui, shown);
            }
            Column::Priority => {
                plain(ui, request.priority.to_string());
            }
            Column::Status => status_cell(ui, request),
            Column::Card if just_bound => bound_badge(ui),
            Column::Card => {
                plain(ui, card_text(request));
            }
        });
    }
}

fn plain(ui: &mut Ui, text: impl Into<egui::WidgetText>) -> Response {
    ui.add(egui::Label::new(text).selectable(false).truncate())
}

/// Who the request is for: the directory's name and account when it has
/// them, else what the requester typed, in the weak colour with "entered"
/// before it when a directory could have said and did not. Cut with "…"
/// when the column is narrow; the tooltip has all of it and the GUIDs.
fn name_cell(ui: &mut Ui, request: &Request, identity: &Identity) {
    let (text, checked) = identity::list_text(request, identity);
    let selected = ui.visuals().override_text_color.is_some();
    let warning = identity::warning(request, identity);
    let mut job = egui::text::LayoutJob::default();
    let body = TextStyle::Body.resolve(ui.style());
    let colour = |c: egui::Color32| {
        if selected {
            ui.visuals().strong_text_color()
        } else {
            c
        }
    };
    if let Some(warning) = &warning {
        job.append(
            &format!("{} \u{00b7} ", warning.short),
            0.0,
            egui::TextFormat::simple(body.clone(), colour(ui.visuals().warn_fg_color)),
        );
    }
    let prefix = match identity {
        Identity::Looking | Identity::Failed(_) => "Entered: ",
        _ => "",
    };
    let tone = if checked || matches!(identity, Identity::Unchecked) {
        ui.visuals().text_color()
    } else {
        ui.visuals().weak_text_color()
    };
    job.append(
        &format!("{prefix}{text}"),
        0.0,
        egui::TextFormat::simple(body, colour(tone)),
    );
    plain(ui, job).on_hover_ui(|ui| identity::row_tooltip(ui, request, identity));
}

fn status_cell(ui: &mut Ui, request: &Request) {
    let text = request.status.to_string();
    // A selected row draws all its text in the selection's colour: weak
    // grey on the selection's blue would fall below AA.
    let selected = ui.visuals().override_text_color.is_some();
    match request.bindability() {
        Ok(()) => {
            plain(ui, RichText::new(text).strong());
        }
        Err(why) => {
            let text = if selected {
                RichText::new(text)
            } else {
                RichText::new(text).weak()
            };
            plain(ui, text).on_hover_text(format!("Cannot take a card: {why}."));
        }
    }
}

/// The check mark's box.
const CHECK_SIZE: f32 = 12.0;

/// "Bound" in the success colour after a painted check (egui's built-in
/// proportional fonts have no ✓): the word carries the meaning, the colour
/// and the mark only repeat it.
fn bound_badge(ui: &mut Ui) {
    // In the selected row, the selection's text colour: green on its blue
    // would fall below AA (the word says it anyway).
    let colour = ui
        .visuals()
        .override_text_color
        .unwrap_or_else(|| theme::success(ui.visuals()));
    let galley = ui.painter().layout_no_wrap(
        "Bound".to_owned(),
        TextStyle::Body.resolve(ui.style()),
        colour,
    );
    let size = egui::vec2(CHECK_SIZE + 4.0 + galley.size().x, galley.size().y);
    let (rect, response) = ui.allocate_exact_size(size, Sense::hover());
    let check = egui::Rect::from_center_size(
        egui::pos2(rect.left() + CHECK_SIZE / 2.0, rect.center().y),
        egui::vec2(CHECK_SIZE, CHECK_SIZE),
    );
    ui.painter().line(
        vec![
            egui::pos2(check.left() + 1.0, check.center().y),
            egui::pos2(check.left() + CHECK_SIZE * 0.4, check.bottom() - 2.0),
            egui::pos2(check.right() - 1.0, check.top() + 2.0),
        ],
        egui::Stroke::new(2.0, colour),
    );
    ui.painter()
        .galley(egui::pos2(check.right() + 4.0, rect.top()), galley, colour);
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, "Bound just now"));
    response.on_hover_text(
        "Bound at this desk. The request keeps its place in the list until the next refresh.",
    );
}

/// A grey bar where a value will be, while the list loads.
pub(super) fn skeleton_cell(ui: &mut Ui, row: usize, column: Column) {
    let rect = ui.available_rect_before_wrap();
    // Varied, but the same on every frame: the bars must not flicker.
    let share = match column {
        Column::Target => 0.55 + 0.1 * ((row * 7) % 4) as f32,
        Column::Type | Column::Status => 0.6,
        Column::Submitted => 0.85,
        Column::Priority | Column::Card => 0.35,
    };
    let bar = egui::Rect::from_min_size(
        egui::pos2(rect.left() + 2.0, rect.center().y - 5.0),
        egui::vec2((rect.width() - 4.0).max(0.0) * share, 10.0),
    );
    ui.painter()
        .rect_filled(bar, 3.0, ui.visuals().widgets.inactive.bg_fill);
}
