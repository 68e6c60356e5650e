//! Where the desk's areas go. The rectangles are computed, not flowed from
//! content, so nothing in the action area moves when a card goes in, a
//! result comes back or an error appears (`docs/ui-guide.md`, "Layout").
//! The areas are then drawn in the order a keyboard user tabs through them
//! (egui's tab order is the order widgets are drawn): the list, the bind
//! bar, the readers, the header.

use egui::{Align, Layout, Rect, Ui, UiBuilder, pos2, vec2};

/// The bind bar's fixed height: the Bind row and a status area of four lines
/// (longer text scrolls inside it).
pub(super) const BIND_BAR_HEIGHT: f32 = 168.0;
/// Below this window width the readers panel folds into a one-line strip
/// above the bind bar (libadwaita's breakpoint idea).
pub(super) const NARROW_BELOW: f32 = 1000.0;
/// The compact card strip's height in a narrow window.
pub(super) const STRIP_HEIGHT: f32 = 40.0;
/// The readers panel's width when nobody has dragged it.
pub(super) const READERS_DEFAULT: f32 = 360.0;
/// The narrowest readers panel: a card ID and its Copy button still fit.
pub(super) const READERS_MIN: f32 = 300.0;
/// The widest: the list keeps most of the window.
pub(super) const READERS_MAX: f32 = 640.0;
/// The header's height before it was first measured.
pub(super) const HEADER_GUESS: f32 = 64.0;

/// The desk's areas for one frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct DeskLayout {
    /// Server, filter, Refresh, Audit, Settings.
    pub header: Rect,
    /// The search box and the request list.
    pub list: Rect,
    /// The readers panel, in a wide window.
    pub readers: Option<Rect>,
    /// The compact card strip, in a narrow window.
    pub strip: Option<Rect>,
    /// Bind, what it would bind, and its result.
    pub bind: Rect,
}

impl DeskLayout {
    /// Splits `window` with the header as tall as it was last drawn and the
    /// readers panel as wide as the operator left it (clamped, so the list
    /// always keeps at least half of the window).
    pub(super) fn plan(window: Rect, header_height: f32, readers_width: f32) -> DeskLayout {
        let header_height = header_height.clamp(24.0, window.height() / 3.0);
        let header = Rect::from_min_size(window.min, vec2(window.width(), header_height));
        let bind_top = (window.bottom() - BIND_BAR_HEIGHT).max(header.bottom());
        let bind = Rect::from_min_max(pos2(window.left(), bind_top), window.max);
        let middle = Rect::from_min_max(
            pos2(window.left(), header.bottom()),
            pos2(window.right(), bind_top),
        );
        if window.width() < NARROW_BELOW {
            let strip_top = (middle.bottom() - STRIP_HEIGHT).max(middle.top());
            let strip = Rect::from_min_max(pos2(middle.left(), strip_top), middle.max);
            let list = Rect::from_min_max(middle.min, pos2(middle.right(), strip_top));
            return DeskLayout {
                header,
                list,
                readers: None,
                strip: Some(strip),
                bind,
            };
        }
        let width = clamp_readers_width(readers_width, window.width());
        let split = middle.right() - width;
        DeskLayout {
            header,
            list: Rect::from_min_max(middle.min, pos2(split, middle.bottom())),
            readers: Some(Rect::from_min_max(pos2(split, middle.top()), middle.max)),
            strip: None,
            bind,
        }
    }
}

/// The readers panel's width for a window `window_width` wide.
pub(super) fn clamp_readers_width(wanted: f32, window_width: f32) -> f32 {
    let most = READERS_MAX.min(window_width / 2.0).max(READERS_MIN);
    if wanted.is_finite() {
        wanted.clamp(READERS_MIN, most)
    } else {
        READERS_DEFAULT.clamp(READERS_MIN, most)
    }
}

/// How wide `text` is in `style`, on one line.
pub(super) fn text_width(ui: &Ui, text: &str, style: egui::TextStyle) -> f32 {
    let font = style.resolve(ui.style());
    ui.fonts_mut(|f| {
        f.layout_no_wrap(text.to_owned(), font, egui::Color32::WHITE)
            .size()
            .x
    })
}

/// A combo box's width that fits its widest choice, so nothing after it
/// moves when the choice changes (review P1-3).
pub(super) fn combo_width<S: AsRef<str>>(ui: &Ui, choices: impl IntoIterator<Item = S>) -> f32 {
    let widest = choices
        .into_iter()
        .map(|choice| text_width(ui, choice.as_ref(), egui::TextStyle::Button))
        .fold(0.0_f32, f32::max);
    widest + ui.spacing().icon_width + ui.spacing().button_padding.x * 2.0 + 8.0
}

/// Draws one area: its background, a separator on `edge`, and `add` in a
/// child clipped to the area, so overflowing content never draws over a
/// neighbour. Returns what `add` returned and the height its content took.
pub(super) fn area<R>(
    ui: &mut Ui,
    rect: Rect,
    name: &'static str,
    add: impl FnOnce(&mut Ui) -> R,
) -> (R, f32) {
    let visuals = ui.visuals();
    ui.painter().rect_filled(rect, 0.0, visuals.panel_fill);
    let stroke = visuals.widgets.noninteractive.bg_stroke;
    let painter = ui.painter();
    painter.hline(rect.x_range(), rect.top(), stroke);
    painter.vline(rect.left(), rect.y_range(), stroke);
    let inner = rect.shrink2(vec2(8.0, 6.0));
    let mut child = ui.new_child(
        UiBuilder::new()
            .id_salt(name)
            .max_rect(inner)
            .layout(Layout::top_down(Align::Min))
            .accessibility_label(name),
    );
    child.set_clip_rect(rect.intersect(ui.clip_rect()));
    let result = add(&mut child);
    let used = child.min_rect().height() + 12.0;
    (result, used)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(w: f32, h: f32) -> Rect {
        Rect::from_min_size(pos2(0.0, 0.0), vec2(w, h))
    }

    #[test]
    fn a_wide_window_has_the_readers_on_the_right_and_the_bar_along_the_bottom() {
        let plan = DeskLayout::plan(window(1280.0, 800.0), 60.0, 360.0);
        let readers = plan.readers.expect("a wide window shows the readers");
        assert_eq!(readers.width(), 360.0);
        assert_eq!(plan.list.right(), readers.left());
        assert_eq!(plan.bind.height(), BIND_BAR_HEIGHT);
        assert_eq!(plan.bind.width(), 1280.0);
        assert_eq!(plan.list.top(), 60.0);
        assert_eq!(plan.list.bottom(), plan.bind.top());
        assert!(plan.strip.is_none());
    }

    #[test]
    fn the_bar_and_the_readers_do_not_depend_on_what_they_show() {
        // The only inputs are the window, the header and the dragged width:
        // a result, a refusal or a card cannot move them.
        let a = DeskLayout::plan(window(1280.0, 800.0), 60.0, 360.0);
        let b = DeskLayout::plan(window(1280.0, 800.0), 60.0, 360.0);
        assert_eq!(a, b);
    }

    #[test]
    fn a_narrow_window_folds_the_readers_into_a_strip() {
        let plan = DeskLayout::plan(window(800.0, 600.0), 60.0, 360.0);
        assert!(plan.readers.is_none());
        let strip = plan.strip.expect("a strip");
        assert_eq!(strip.height(), STRIP_HEIGHT);
        assert_eq!(strip.bottom(), plan.bind.top());
        assert_eq!(plan.list.width(), 800.0);
    }

    #[test]
    fn the_readers_width_is_kept_within_bounds() {
        assert_eq!(clamp_readers_width(10.0, 1280.0), READERS_MIN);
        assert_eq!(clamp_readers_width(5000.0, 1280.0), READERS_MAX);
        assert_eq!(clamp_readers_width(5000.0, 1000.0), 500.0);
        assert_eq!(clamp_readers_width(f32::NAN, 1280.0), READERS_DEFAULT);
    }
}
