//! The desk agent's comforts that are not drawing: when the list refreshes
//! itself, which toasts show and for how long, and remembering "Larger text".
//!
//! Time is passed in, so the rules are testable without waiting.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::app::station::StationState;
use crate::domain::readers::ReaderEvent;
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
    /// Something the operator should look at.
    Warning,
}

/// What a toast describes, so it goes when that does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToastAbout {
    /// The bind under way or just ended: dismissed with its result.
    Bind,
}

/// One short message over the list's top-right corner, never over the
/// action area (the bind bar and the readers' buttons).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toast {
    /// What it is about.
    pub kind: ToastKind,
    /// The message.
    pub text: String,
    /// When it goes away by itself.
    pub expires: Instant,
    /// What it describes.
    pub about: ToastAbout,
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
///
/// Toasts are only for what happens out of view (`docs/ui-guide.md`): what
/// the bind bar already says is never repeated here.
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
    pub fn push(
        &mut self,
        kind: ToastKind,
        about: ToastAbout,
        text: impl Into<String>,
        now: Instant,
    ) {
        self.serial += 1;
        self.shown.push_back(Toast {
            kind,
            text: text.into(),
            expires: now + Self::SHOWN_FOR,
            about,
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

    /// Drops the toasts about `about`: what they described is gone.
    pub fn forget(&mut self, about: ToastAbout) {
        self.shown.retain(|t| t.about != about);
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

/// The toast `report` deserves, looked at before the state applies it.
/// Only news the operator may not be looking at: the card of a bind under
/// way pulled out of its reader. A bind's result is in the bind bar and a
/// notice stays in the notices until dismissed, so neither is toasted.
pub fn toast_for(report: &Report, state: &StationState) -> Option<(ToastKind, ToastAbout, String)> {
    match report {
        Report::Reader(ReaderEvent::CardRemoved { reader }) => {
            let target = state.bind.target().filter(|_| state.bind.is_in_flight())?;
            (target.reader == *reader).then(|| {
                (
                    ToastKind::Warning,
                    ToastAbout::Bind,
                    format!(
                        "The card was taken out of \"{reader}\" during the bind. Put it back; \
                         the result appears under Bind."
                    ),
                )
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::bind::{AttemptId, BindReceipt, BindState, BindTarget};
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
    fn toasts_expire_in_turn_the_oldest_make_room_and_go_with_what_they_describe() {
        let start = Instant::now();
        let mut toasts = Toasts::default();
        assert_eq!(toasts.expire(start), None);
        toasts.push(ToastKind::Warning, ToastAbout::Bind, "one", start);
        toasts.push(
            ToastKind::Warning,
            ToastAbout::Bind,
            "two",
            start + Duration::from_secs(2),
        );
        assert_eq!(toasts.expire(start), Some(Toasts::SHOWN_FOR));
        let later = start + Toasts::SHOWN_FOR;
        assert_eq!(toasts.expire(later), Some(Duration::from_secs(2)));
        assert_eq!(
            toasts.iter().map(|t| t.text.as_str()).collect::<Vec<_>>(),
            ["two"]
        );
        for n in 0..Toasts::MAX {
            toasts.push(ToastKind::Warning, ToastAbout::Bind, format!("n{n}"), later);
        }
        assert_eq!(toasts.iter().count(), Toasts::MAX);
        assert!(toasts.iter().all(|t| t.text != "two"), "the oldest went");
        let serial = toasts.iter().next().map(|t| t.serial).expect("one");
        toasts.dismiss(serial);
        assert_eq!(toasts.iter().count(), Toasts::MAX - 1);
        toasts.forget(ToastAbout::Bind);
        assert!(toasts.is_empty(), "dismissed with the bind they describe");
    }

    fn target() -> BindTarget {
        BindTarget {
            request_id: uuid::Uuid::from_u128(1),
            person: "Desk Person".into(),
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
    fn only_a_card_pulled_during_its_bind_is_toasted() {
        let mut state = StationState::default();
        let removed = |reader: &str| {
            Report::Reader(ReaderEvent::CardRemoved {
                reader: reader.into(),
            })
        };
        assert_eq!(toast_for(&removed("R"), &state), None, "no bind, no news");
        state.bind = BindState::Posting {
            target: target(),
            attempt: AttemptId::from_uuid(uuid::Uuid::from_u128(0xa)),
        };
        let (_, about, text) = toast_for(&removed("R"), &state).expect("a toast");
        assert_eq!(about, ToastAbout::Bind);
        assert!(
            text.contains("taken out of \"R\" during the bind"),
            "{text}"
        );
        assert_eq!(toast_for(&removed("Other"), &state), None, "another reader");
        let bound = BindState::Bound {
            target: target(),
            receipt: BindReceipt::default(),
            confirmed_after_loss: false,
        };
        assert_eq!(
            toast_for(&Report::Bind(bound.clone()), &state),
            None,
            "the bind bar shows the result"
        );
        state.bind = bound;
        assert_eq!(toast_for(&removed("R"), &state), None, "a finished bind");
        assert_eq!(toast_for(&Report::Notice("journal".into()), &state), None);
    }
}
