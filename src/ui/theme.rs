//! The station's colours, for the dark and the light theme, and the rules
//! they keep (`docs/ui-guide.md`): text that carries meaning stands at least
//! 4.5:1 against what it is drawn on (WCAG 2.x, 1.4.3), the primary action
//! has the accent colour, and the keyboard focus is always visible.
//!
//! egui's own defaults miss these: its "weak" text is 2.6:1 on dark, its
//! error red 4.3:1, and a frameless button shows no focus at all.

use egui::{Color32, Context, Stroke, Theme, Visuals};

/// The colours one theme draws with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Palette {
    /// Panels and windows.
    pub background: Color32,
    /// Text fields and the kiosk's code field.
    pub field: Color32,
    /// Body text.
    pub text: Color32,
    /// Secondary text: hints, placeholders, the reason beside a disabled button.
    pub weak_text: Color32,
    /// Errors, and a refusal's title.
    pub error: Color32,
    /// Warnings: something needs attention but nothing failed.
    pub warning: Color32,
    /// Success: bound, passed.
    pub success: Color32,
    /// The primary action's fill (Bind, Bind my card, Save).
    pub accent: Color32,
    /// Text on the accent fill.
    pub on_accent: Color32,
    /// The focus ring.
    pub focus: Color32,
}

/// Dark: egui's panel grey (#1B1B1B) with text and signal colours raised to AA.
pub const DARK: Palette = Palette {
    background: Color32::from_gray(27),
    field: Color32::from_gray(10),
    text: Color32::from_gray(220),
    weak_text: Color32::from_gray(160),
    error: Color32::from_rgb(0xFF, 0x7B, 0x72),
    warning: Color32::from_rgb(0xF2, 0xB3, 0x4C),
    success: Color32::from_rgb(0x5C, 0xC9, 0x8A),
    accent: Color32::from_rgb(0x1F, 0x5F, 0xC8),
    on_accent: Color32::WHITE,
    focus: Color32::from_rgb(0x8A, 0xB4, 0xF8),
};

/// Light: egui's panel grey (#F8F8F8) with darker signal colours.
pub const LIGHT: Palette = Palette {
    background: Color32::from_gray(248),
    field: Color32::WHITE,
    text: Color32::from_gray(40),
    weak_text: Color32::from_gray(95),
    error: Color32::from_rgb(0xB3, 0x26, 0x1E),
    warning: Color32::from_rgb(0x8A, 0x4B, 0x00),
    success: Color32::from_rgb(0x1B, 0x6E, 0x35),
    accent: Color32::from_rgb(0x1F, 0x5F, 0xC8),
    on_accent: Color32::WHITE,
    focus: Color32::from_rgb(0x1A, 0x56, 0xB8),
};

/// The palette of the theme `visuals` belong to.
pub fn palette(visuals: &Visuals) -> &'static Palette {
    if visuals.dark_mode { &DARK } else { &LIGHT }
}

/// The success colour of the current theme (egui has error and warning, not success).
pub fn success(visuals: &Visuals) -> Color32 {
    palette(visuals).success
}

/// Puts the palettes into egui's dark and light styles, so every
/// `weak()`, `error_fg_color` and `warn_fg_color` in the window keeps AA.
pub fn apply(ctx: &Context) {
    for (theme, palette) in [(Theme::Dark, &DARK), (Theme::Light, &LIGHT)] {
        ctx.style_mut_of(theme, |style| {
            restyle(&mut style.visuals, palette);
            // egui's 18-point controls are small for a touch laptop at a
            // counter; 24 points is GNOME's smallest button height.
            style.spacing.interact_size.y = 24.0;
            style.spacing.button_padding = egui::vec2(8.0, 4.0);
        });
    }
}

fn restyle(visuals: &mut Visuals, palette: &Palette) {
    visuals.panel_fill = palette.background;
    visuals.window_fill = palette.background;
    visuals.extreme_bg_color = palette.field;
    visuals.text_edit_bg_color = Some(palette.field);
    visuals.weak_text_color = Some(palette.weak_text);
    visuals.error_fg_color = palette.error;
    visuals.warn_fg_color = palette.warning;
    // Labels are drawn with the non-interactive stroke; egui's is 5.1:1 on dark.
    visuals.widgets.noninteractive.fg_stroke.color = palette.text;
    visuals.widgets.inactive.fg_stroke.color = palette.text;
    visuals.selection.stroke = Stroke::new(1.0, palette.text);
}

/// A button in the accent colour, for the one primary action of a view.
/// Its label keeps its own text so screen readers and tests find it by name.
pub fn primary_button<'a>(
    visuals: &Visuals,
    text: impl Into<egui::WidgetText>,
    enabled: bool,
) -> egui::Button<'a> {
    let palette = palette(visuals);
    let text: egui::WidgetText = text.into();
    if enabled {
        egui::Button::new(text.color(palette.on_accent)).fill(palette.accent)
    } else {
        // Disabled looks disabled: egui greys the frame, the accent goes.
        egui::Button::new(text)
    }
}

/// Draws a ring around the widget that has the keyboard focus, whatever it
/// is: egui rings text fields, but frameless buttons (column headers,
/// collapsing headers, the kiosk's Staff) show nothing (WCAG 2.4.7).
pub fn paint_focus_ring(ctx: &Context) {
    let Some(id) = ctx.memory(|m| m.focused()) else {
        return;
    };
    // egui's read_response() surrenders a widget's focus when the pointer
    // was pressed elsewhere in this pass, as if the widget had been drawn
    // again: skip such a pass (the ring is for the keyboard; the next pass
    // draws it).
    if ctx.input(|i| i.pointer.any_pressed() || i.pointer.any_released()) {
        return;
    }
    let Some(response) = ctx.read_response(id) else {
        return;
    };
    if !response.sense.is_focusable() {
        return;
    }
    let colour = palette(&ctx.global_style().visuals).focus;
    // On the widget's own layer: a layer of its own would sit on top of
    // every window and, in egui, take the focus away from the widget.
    let painter = ctx.layer_painter(response.layer_id);
    painter
        .with_clip_rect(response.interact_rect.expand(4.0))
        .rect_stroke(
            response.rect.expand(2.0),
            3.0,
            Stroke::new(2.0, colour),
            egui::StrokeKind::Outside,
        );
}

/// The contrast ratio of two colours (WCAG 2.x), from 1 to 21.
pub fn contrast(a: Color32, b: Color32) -> f32 {
    let (la, lb) = (luminance(a), luminance(b));
    let (light, dark) = if la > lb { (la, lb) } else { (lb, la) };
    (light + 0.05) / (dark + 0.05)
}

/// Relative luminance of an sRGB colour (alpha ignored: our text is opaque).
fn luminance(colour: Color32) -> f32 {
    let channel = |c: u8| {
        let c = f32::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(colour.r()) + 0.7152 * channel(colour.g()) + 0.0722 * channel(colour.b())
}

/// An error in the operator's words: in the error colour, wrapped, and
/// selectable so it can be copied into a ticket with its correlation ID.
/// (Not for a kiosk, whose labels a stranger must not select.)
pub fn error_label(ui: &mut egui::Ui, text: impl Into<String>) -> egui::Response {
    let colour = ui.visuals().error_fg_color;
    ui.add(
        egui::Label::new(egui::RichText::new(text).color(colour))
            .selectable(true)
            .wrap(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_formula_matches_wcag_reference_pairs() {
        assert!((contrast(Color32::BLACK, Color32::WHITE) - 21.0).abs() < 0.01);
        assert!((contrast(Color32::WHITE, Color32::WHITE) - 1.0).abs() < 0.001);
        // The review's measurement of egui's error red on its dark panel.
        let red = contrast(Color32::from_rgb(255, 0, 0), Color32::from_gray(27));
        assert!((red - 4.3).abs() < 0.05, "{red}");
    }

    #[test]
    fn every_colour_that_carries_meaning_reaches_aa_on_both_themes() {
        for (name, p) in [("dark", &DARK), ("light", &LIGHT)] {
            for (what, fg) in [
                ("text", p.text),
                ("weak text", p.weak_text),
                ("error", p.error),
                ("warning", p.warning),
                ("success", p.success),
            ] {
                for (on, bg) in [("panel", p.background), ("field", p.field)] {
                    let ratio = contrast(fg, bg);
                    assert!(ratio >= 4.5, "{name}: {what} on {on} is {ratio:.2}:1");
                }
            }
            let accent = contrast(p.on_accent, p.accent);
            assert!(accent >= 4.5, "{name}: text on the accent is {accent:.2}:1");
            // A focus ring is a graphic: 3:1 against what is around it.
            let focus = contrast(p.focus, p.background);
            assert!(focus >= 3.0, "{name}: focus ring is {focus:.2}:1");
        }
    }
}
