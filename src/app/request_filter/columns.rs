//! Which columns the request list shows at a given width, and how wide each
//! is: fixed widths, never the content's, so nothing shifts when a sort
//! arrow appears or a longer name scrolls into view (review P1-3, P1-9).

use super::Column;

/// The name column never grows beyond this: at 2560 pt the type, status
/// and card stay next to the name the eye is following.
pub const PERSON_MAX: f32 = 480.0;
/// The name column keeps this much before a low-value column is given up.
pub const PERSON_COMFORT: f32 = 300.0;
/// Below this the list scrolls sideways instead of squeezing the name.
pub const PERSON_MIN: f32 = 180.0;

/// The columns given up first when the list is narrow, in that order;
/// Status and Card (whether a card is already bound) always stay.
pub const DROPPED_FIRST: [Column; 2] = [Column::Type, Column::Submitted];

/// The columns to draw and their widths, in points.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnPlan {
    /// Left to right.
    pub columns: Vec<(Column, f32)>,
    /// Their widths with the spacing between them.
    pub width: f32,
}

impl ColumnPlan {
    /// The plan for a list `available` points wide. `natural` is each
    /// column's width in [`Column::ALL`] order (the widest value it can
    /// show, or its title with the sort arrow's room); the name column's is
    /// ignored: it takes what is left, within [`PERSON_MIN`] and
    /// [`PERSON_MAX`]. `spacing` goes between two columns.
    pub fn new(available: f32, natural: &[f32; 6], spacing: f32) -> ColumnPlan {
        let available = if available.is_finite() {
            available.max(0.0)
        } else {
            f32::MAX
        };
        let width_of = |column: Column| {
            Column::ALL
                .iter()
                .position(|&c| c == column)
                .and_then(|at| natural.get(at))
                .copied()
                .filter(|w| w.is_finite())
                .unwrap_or(0.0)
                .max(0.0)
        };
        let mut shown = Column::ALL.to_vec();
        let others = |shown: &[Column]| {
            shown
                .iter()
                .filter(|&&c| c != Column::Target)
                .map(|&c| width_of(c))
                .sum::<f32>()
                + spacing * shown.len().saturating_sub(1) as f32
        };
        for column in DROPPED_FIRST {
            if available - others(&shown) >= PERSON_COMFORT {
                break;
            }
            shown.retain(|&c| c != column);
        }
        let rest = others(&shown);
        let person = (available - rest).clamp(PERSON_MIN, PERSON_MAX);
        let columns: Vec<(Column, f32)> = shown
            .into_iter()
            .map(|c| {
                (
                    c,
                    if c == Column::Target {
                        person
                    } else {
                        width_of(c)
                    },
                )
            })
            .collect();
        ColumnPlan {
            width: person + rest,
            columns,
        }
    }

    /// True when the plan draws `column`.
    pub fn shows(&self, column: Column) -> bool {
        self.columns.iter().any(|&(c, _)| c == column)
    }

    /// The width of `column`, when it is drawn.
    pub fn width_of(&self, column: Column) -> Option<f32> {
        self.columns
            .iter()
            .find(|&&(c, _)| c == column)
            .map(|&(_, w)| w)
    }

    /// True when the columns do not fit in `available` points: the list
    /// scrolls sideways.
    pub fn scrolls(&self, available: f32) -> bool {
        self.width > available + 0.5
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Roughly what the window measures at egui's default text size.
    const NATURAL: [f32; 6] = [0.0, 130.0, 160.0, 70.0, 90.0, 80.0];
    const SPACING: f32 = 8.0;

    fn shown(plan: &ColumnPlan) -> Vec<Column> {
        plan.columns.iter().map(|&(c, _)| c).collect()
    }

    #[test]
    fn a_wide_list_shows_every_column_with_the_name_capped() {
        let plan = ColumnPlan::new(2184.0, &NATURAL, SPACING);
        assert_eq!(shown(&plan), Column::ALL);
        assert_eq!(plan.width_of(Column::Target), Some(PERSON_MAX));
        assert!(!plan.scrolls(2184.0));
        // Everything after the name starts within 500 pt of the left edge
        // and ends within about 1,100: the eye does not cross the screen.
        assert!(plan.width < 1100.0, "{}", plan.width);
    }

    #[test]
    fn widths_do_not_depend_on_anything_but_the_width() {
        let a = ColumnPlan::new(904.0, &NATURAL, SPACING);
        let b = ColumnPlan::new(904.0, &NATURAL, SPACING);
        assert_eq!(a, b);
        assert_eq!(shown(&a), Column::ALL, "1280 pt window, readers panel open");
        assert_eq!(a.width_of(Column::Priority), Some(70.0));
    }

    #[test]
    fn narrow_lists_give_up_type_then_submitted_and_keep_status_and_card() {
        // An 800 px window: the list is the window's width.
        let plan = ColumnPlan::new(784.0, &NATURAL, SPACING);
        assert!(!plan.shows(Column::Type), "{:?}", shown(&plan));
        assert!(plan.shows(Column::Submitted));
        assert!(
            plan.width_of(Column::Target)
                .is_some_and(|w| w >= PERSON_COMFORT)
        );
        // The same with Larger text (1.25): 624 pt.
        let plan = ColumnPlan::new(624.0, &NATURAL, SPACING);
        assert_eq!(
            shown(&plan),
            [
                Column::Target,
                Column::Priority,
                Column::Status,
                Column::Card
            ]
        );
        assert!(!plan.scrolls(624.0));
    }

    #[test]
    fn what_still_does_not_fit_scrolls_sideways() {
        let plan = ColumnPlan::new(300.0, &NATURAL, SPACING);
        assert!(plan.shows(Column::Status) && plan.shows(Column::Card));
        assert_eq!(plan.width_of(Column::Target), Some(PERSON_MIN));
        assert!(plan.scrolls(300.0));
        let total: f32 = plan.columns.iter().map(|&(_, w)| w).sum::<f32>()
            + SPACING * (plan.columns.len() - 1) as f32;
        assert!((plan.width - total).abs() < 0.01);
    }

    #[test]
    fn odd_inputs_give_a_usable_plan() {
        let plan = ColumnPlan::new(f32::NAN, &[f32::NAN; 6], SPACING);
        assert_eq!(shown(&plan), Column::ALL);
        assert_eq!(plan.width_of(Column::Target), Some(PERSON_MAX));
        let plan = ColumnPlan::new(-5.0, &NATURAL, SPACING);
        assert_eq!(plan.width_of(Column::Target), Some(PERSON_MIN));
    }
}
