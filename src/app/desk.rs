//! The desk agent's comforts that are not drawing: when the list refreshes
//! itself, which toasts show and for how long, and remembering "Larger text".
//!
//! Time is passed in, so the rules are testable without waiting.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::app::station::StationState;
use crate::domain::bind::BindState;
use crate::worker::Report;

/// The zoom factor of "Larger text".
pub const LARGER_TEXT_ZOOM: f32 = 1.25;

/// When the request list fetches itself again.
///
/// The window asks egui to wake it at [`AutoRefresh::remaining`] and at no
/// other time, so an idle window costs nothing between refreshes.
#[derive(Clone, Copy, Debug)]
pub struct AutoRefresh {
    interval: Duration,
    next: Instant,
}

impl AutoRefresh {
    /// The first automatic refresh comes `interval` after `now` (the window
    /// fetches once as it opens).
    pub fn new(interval: Duration, now: Instant) -> AutoRefresh {
        // A zero interval would refresh on every frame.
        let interval = interval.max(Duration::from_secs(1));
        AutoRefresh {
            interval,
            next: now + interval,
        }
    }

    /// A refresh was asked for (by hand, or because it was due): the next
    /// automatic one is a whole interval away.
    pub fn restart(&mut self, now: Instant) {
        self.next = now + self.interval;
    }

    /// True when the list should be fetched now.
    pub fn due(&self, now: Instant) -> bool {
        now >= self.next
    }

    /// How long until the next refresh is due.
    pub fn remaining(&self, now: Instant) -> Duration {
        self.next.saturating_duration_since(now)
    }
}

/// What a toast is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToastKind {
    /// A bind went through.
    Success,
    /// Something the operator should look at.
    Warning,
}

/// One short message in the window's bottom-right corner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toast {
    /// What it is about.
    pub kind: ToastKind,
    /// The message.
    pub text: String,
    /// When it goes away by itself.
    pub expires: Instant,
    /// Tells toasts apart (for egui IDs) even when their texts repeat.
    pub serial: u64,
}

/// The toasts on screen, oldest first.
///
/// Own code rather than the `egui-notify` crate (whose 0.24 does match egui
/// 0.37): it paints toasts straight onto a layer, so a screen reader (and an
/// egui_kittest query) never sees them, its close cross answers only the
/// mouse, and it asks for a repaint on every frame while a toast is up. Here
/// toasts are ordinary labels and buttons, and the window wakes only when the
/// next one expires.
#[derive(Debug, Default)]
pub struct Toasts {
    shown: VecDeque<Toast>,
    serial: u64,
}

impl Toasts {
    /// How long a toast stays.
    pub const SHOWN_FOR: Duration = Duration::from_secs(8);
    /// How many are shown at most; a new one pushes the oldest out.
    pub const MAX: usize = 4;

    /// Shows `text` from `now` on.
    pub fn push(&mut self, kind: ToastKind, text: impl Into<String>, now: Instant) {
        self.serial += 1;
        self.shown.push_back(Toast {
            kind,
            text: text.into(),
            expires: now + Self::SHOWN_FOR,
            serial: self.serial,
        });
        while self.shown.len() > Self::MAX {
            self.shown.pop_front();
        }
    }

    /// Drops the toasts whose time is up; returns how long until the next one is.
    pub fn expire(&mut self, now: Instant) -> Option<Duration> {
        self.shown.retain(|t| t.expires > now);
        self.shown
            .iter()
            .map(|t| t.expires.saturating_duration_since(now))
            .min()
    }

    /// Drops one toast (its Dismiss button).
    pub fn dismiss(&mut self, serial: u64) {
        self.shown.retain(|t| t.serial != serial);
    }

    /// The toasts, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Toast> {
        self.shown.iter()
    }

    /// True when none is shown.
    pub fn is_empty(&self) -> bool {
        self.shown.is_empty()
    }
}

/// The toast `report` deserves, looked at before the state applies it: a
/// bind that ended (bound, or not and why to look below) and warnings.
pub fn toast_for(report: &Report, state: &StationState) -> Option<(ToastKind, String)> {
    match report {
        // Only a change of phase: a finished bind may be reported again with
        // more detail (the journal's outcome written), and one toast is enough.
        Report::Bind(next)
            if std::mem::discriminant(next) != std::mem::discriminant(&state.bind) =>
        {
            match next {
                BindState::Bound {
                    target,
                    confirmed_after_loss,
                    ..
                } => {
                    let whom = state
                        .requests
                        .iter()
                        .find(|r| r.uuid == target.request_id)
                        .map(crate::app::request_filter::request_title)
                        .unwrap_or_else(|| format!("request {}", target.request_id));
                    let how = if *confirmed_after_loss {
                        " (confirmed after the answer was lost)"
                    } else {
                        ""
                    };
                    Some((
                        ToastKind::Success,
                        format!("Bound{how}: card {} for {whom}.", target.expected.card_id),
                    ))
                }
                BindState::Refused { .. } | BindState::Failed { .. } => Some((
                    ToastKind::Warning,
                    "Not bound: the reason is under the Bind button.".to_owned(),
                )),
                BindState::WrongCard { .. } => Some((
                    ToastKind::Warning,
                    "Bound to a different card: see under the Bind button.".to_owned(),
                )),
                BindState::Unknown { .. } => Some((
                    ToastKind::Warning,
                    "The bind's result is not known yet: see under the Bind button.".to_owned(),
                )),
                _ => None,
            }
        }
        Report::Notice(text) => Some((ToastKind::Warning, text.clone())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::bind::{AttemptId, BindReceipt, BindTarget, Failure};
    use crate::domain::card::{Atr, CardId, CardIdentity, CardKind};

    #[test]
    fn the_list_refreshes_after_each_interval_and_a_manual_refresh_postpones_it() {
        let start = Instant::now();
        let mut auto = AutoRefresh::new(Duration::from_secs(30), start);
        assert!(!auto.due(start));
        assert_eq!(auto.remaining(start), Duration::from_secs(30));
        assert!(auto.due(start + Duration::from_secs(30)));
        auto.restart(start + Duration::from_secs(20));
        assert!(!auto.due(start + Duration::from_secs(30)));
        assert_eq!(
            auto.remaining(start + Duration::from_secs(45)),
            Duration::from_secs(5)
        );
        assert_eq!(
            auto.remaining(start + Duration::from_secs(99)),
            Duration::ZERO
        );
        let never_zero = AutoRefresh::new(Duration::ZERO, start);
        assert_eq!(never_zero.remaining(start), Duration::from_secs(1));
    }

    #[test]
    fn toasts_expire_in_turn_and_the_oldest_make_room() {
        let start = Instant::now();
        let mut toasts = Toasts::default();
        assert_eq!(toasts.expire(start), None);
        toasts.push(ToastKind::Success, "one", start);
        toasts.push(ToastKind::Warning, "two", start + Duration::from_secs(2));
        assert_eq!(toasts.expire(start), Some(Toasts::SHOWN_FOR));
        let later = start + Toasts::SHOWN_FOR;
        assert_eq!(toasts.expire(later), Some(Duration::from_secs(2)));
        assert_eq!(
            toasts.iter().map(|t| t.text.as_str()).collect::<Vec<_>>(),
            ["two"]
        );
        for n in 0..Toasts::MAX {
            toasts.push(ToastKind::Warning, format!("n{n}"), later);
        }
        assert_eq!(toasts.iter().count(), Toasts::MAX);
        assert!(toasts.iter().all(|t| t.text != "two"), "the oldest went");
        let serial = toasts.iter().next().map(|t| t.serial).expect("one");
        toasts.dismiss(serial);
        assert_eq!(toasts.iter().count(), Toasts::MAX - 1);
        assert_eq!(toasts.expire(later + Toasts::SHOWN_FOR), None);
        assert!(toasts.is_empty());
    }

    fn target() -> BindTarget {
        BindTarget {
            request_id: uuid::Uuid::from_u128(1),
            reader: "R".into(),
            expected: CardIdentity {
                atr: Atr::from_bytes(vec![0x3b, 1]),
                card_id: CardId::from_raw([1; 16]),
                kind: CardKind::Piv,
                chip: None,
                location: None,
                yubikey_serial: None,
            },
            supervisor: None,
        }
    }

    #[test]
    fn a_finished_bind_and_a_notice_make_toasts_but_progress_does_not() {
        let mut state = StationState::default();
        let posting = BindState::Posting {
            target: target(),
            attempt: AttemptId::from_uuid(uuid::Uuid::from_u128(0xa)),
        };
        assert_eq!(toast_for(&Report::Bind(posting.clone()), &state), None);
        state.bind = posting;
        let bound = BindState::Bound {
            target: target(),
            receipt: BindReceipt::default(),
            confirmed_after_loss: false,
        };
        let (kind, text) = toast_for(&Report::Bind(bound.clone()), &state).expect("a toast");
        assert_eq!(kind, ToastKind::Success);
        assert!(text.starts_with("Bound: card"), "{text}");
        state.bind = bound.clone();
        assert_eq!(
            toast_for(&Report::Bind(bound), &state),
            None,
            "the same state again is no news"
        );
        let failed = BindState::Failed {
            target: target(),
            failure: Failure::new("500"),
            confirmed_not_bound: false,
        };
        assert_eq!(
            toast_for(&Report::Bind(failed), &state).map(|t| t.0),
            Some(ToastKind::Warning)
        );
        assert_eq!(
            toast_for(&Report::Notice("journal".into()), &state),
            Some((ToastKind::Warning, "journal".into()))
        );
    }
}
