//! Kiosk mode's guided flow, kept apart from drawing so its rules are
//! testable without a window: one person scans or types their request code,
//! inserts their card, confirms once and sees the result; then the flow
//! forgets them.
//!
//! The flow never reads a clock: the view passes egui's time in seconds, so
//! the idle reset, its "Are you still there?" warning and the countdowns are
//! tested by passing numbers.
//!
//! Nothing here lists requests: the person at the kiosk only ever learns
//! about the one request whose code they hold, and of it only initials.
//!
//! Only deliberate input counts as activity (a key, a press or a touch, a
//! card in or out; the view decides which events are that), so a nudged
//! mouse or a touch screen's stray events never keep one person's request
//! on screen for the next (review M5).

use std::time::Duration;

use crate::app::credentials::CredentialForm;
use crate::supervisors::{SupervisorError, SupervisorPurpose};
use crate::worker::Command;

mod flow;
mod words;

pub use flow::{KioskFlow, Step};
pub use words::{CardStatus, StaffDetail, finished, kiosk_name, outcome};

/// How long a result stays on screen before the flow starts over by itself.
pub const RESULT_HOLD: Duration = Duration::from_secs(10);

/// How long the kiosk asks for a card to be taken out before it also asks
/// staff to come.
pub const CARD_LEFT_ALARM: Duration = Duration::from_secs(30);

/// How long the card step waits for the person's card before it starts
/// over, whatever `kiosk_idle_secs` says and whatever is pressed: from the
/// step's start, and again from each card taken out. Review M5: a person
/// who scanned their code and walked away leaves their request (and its
/// initials) to whoever comes next only this long, and nobody can keep it
/// open for their own card by touching the screen.
pub const CARD_WAIT: Duration = Duration::from_secs(30);

/// The longest "Are you still there?" countdown before an idle reset. It
/// takes the end of the idle time (a quarter of it when that is short), so
/// the reset still comes `kiosk_idle_secs` after the last touch.
pub const STILL_THERE: Duration = Duration::from_secs(15);

/// The three steps the progress header names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Scan or type the request code.
    Code,
    /// Insert the card.
    Card,
    /// Press "Bind my card", and the bind.
    Bind,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Stage; 3] = [Stage::Code, Stage::Card, Stage::Bind];

    /// Its number, from 1.
    pub fn number(self) -> usize {
        match self {
            Stage::Code => 1,
            Stage::Card => 2,
            Stage::Bind => 3,
        }
    }

    /// Its name in the header.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Code => "Your code",
            Stage::Card => "Your card",
            Stage::Bind => "Bind",
        }
    }
}

/// Where the person is, for the progress header; `None` on the screens
/// between people (the result, "take your card").
pub fn stage(step: &Step, card: &CardStatus) -> Option<Stage> {
    match step {
        Step::Code | Step::LookingUp(_) => Some(Stage::Code),
        Step::Card(_) if matches!(card, CardStatus::Ready { .. }) => Some(Stage::Bind),
        Step::Card(_) => Some(Stage::Card),
        Step::Binding(_) => Some(Stage::Bind),
        Step::Result { .. } | Step::TakeCard { .. } => None,
    }
}

/// The screen's heading: what the person does now.
pub fn heading(step: &Step, card: &CardStatus) -> &'static str {
    match step {
        Step::Code => "Scan or type your request code",
        Step::LookingUp(_) => "Looking up your request…",
        Step::Card(_) if matches!(card, CardStatus::Ready { .. }) => {
            "Press \u{201c}Bind my card\u{201d}"
        }
        Step::Card(_) => "Insert your card",
        Step::Binding(_) => "Binding your card to your request…",
        Step::Result { .. } => "Your result",
        Step::TakeCard { .. } => "Please take your card out of the reader.",
    }
}

/// What a supervisor's credential unlocked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StaffGrant {
    /// Leave kiosk mode; the supervisor's name.
    LeaveKiosk(String),
    /// Open the Settings view; the supervisor's name.
    OpenSettings(String),
}

/// The staff sign-in field that should take the keyboard focus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaffField {
    /// The supervisor's name.
    Name,
    /// The password.
    Password,
    /// The first of the choices ("Leave kiosk mode"): Enter in the
    /// password field goes on to it, and the supervisor picks.
    Choice,
}

/// The staff sign-in behind the small "Staff" button.
#[derive(Debug, Default)]
pub struct StaffDialog {
    /// Shown instead of the flow.
    pub open: bool,
    /// The name and password being typed.
    pub form: CredentialForm,
    granted: Option<StaffGrant>,
    focus: Option<StaffField>,
}

impl StaffDialog {
    /// Opens the sign-in, its name field ready for typing.
    pub fn show(&mut self) {
        if !self.open {
            self.open = true;
            self.focus = Some(StaffField::Name);
        }
    }

    /// Asks the worker to check the typed credential for `purpose`; when
    /// something is missing, the field to fill takes the focus.
    pub fn request(&mut self, purpose: SupervisorPurpose) -> Option<Command> {
        let command = self.form.submit(purpose);
        if command.is_none() && !self.form.pending {
            self.focus = Some(if self.form.name.trim().is_empty() {
                StaffField::Name
            } else {
                StaffField::Password
            });
        }
        command
    }

    /// The worker's answer for a kiosk purpose; other purposes are not the kiosk's.
    pub fn verified(
        &mut self,
        purpose: &SupervisorPurpose,
        result: Result<String, SupervisorError>,
    ) {
        let grant = match purpose {
            SupervisorPurpose::LeaveKiosk => StaffGrant::LeaveKiosk,
            SupervisorPurpose::OpenSettings => StaffGrant::OpenSettings,
            _ => return,
        };
        // A late answer after the dialog was closed (idle reset) unlocks nothing.
        let was_pending = self.form.pending;
        if let Some(name) = self.form.answered(&result) {
            self.close();
            self.granted = Some(grant(name));
        } else if was_pending {
            // Refused: the password was wiped; the next try starts there.
            self.focus = Some(StaffField::Password);
        }
    }

    /// What was unlocked since the last call, once.
    pub fn take_grant(&mut self) -> Option<StaffGrant> {
        self.granted.take()
    }

    /// The field that should take the keyboard focus now, once.
    pub fn take_focus(&mut self) -> Option<StaffField> {
        self.focus.take()
    }

    /// Asks for `field` to take the keyboard focus (at the next frame
    /// without an Enter, which the field would take as its own).
    pub fn focus(&mut self, field: StaffField) {
        self.focus = Some(field);
    }

    /// Closes the dialog and forgets what was typed.
    pub fn close(&mut self) {
        self.open = false;
        self.focus = None;
        self.form.clear();
    }
}

/// Kiosk mode: whether it is on, the flow, and the staff sign-in.
#[derive(Debug)]
pub struct KioskState {
    /// The window shows the kiosk (false at a desk, and after a supervisor left it).
    pub active: bool,
    /// The station was started as a kiosk, so a supervisor who left it can go back.
    pub station_is_kiosk: bool,
    /// Idle time before the flow starts over (`kiosk_idle_secs`).
    pub idle: Duration,
    /// Whether any supervisor is configured; without one the kiosk cannot
    /// be left or reconfigured from the window.
    pub supervisors_configured: bool,
    /// The person's way through.
    pub flow: KioskFlow,
    /// The staff sign-in.
    pub staff: StaffDialog,
    /// A supervisor opened the Settings view over the kiosk; the idle reset
    /// closes it, so a supervisor who walks away does not leave it to anyone.
    pub settings_open: bool,
    /// The site's texts and logo (`[kiosk_site]`), as the configuration
    /// file held them when the kiosk first showed.
    pub site: Option<crate::config::KioskSite>,
    /// While a supervisor has the desk (the kiosk left): the view's time
    /// of the last deliberate input there. After the idle time without
    /// any, the desk goes back to the kiosk by itself (review M4).
    desk_activity: f64,
    /// The supervisor who left the kiosk for the desk, until it resumes:
    /// the `kiosk_resumed` record names them.
    left_by: Option<String>,
}

impl Default for KioskState {
    fn default() -> Self {
        KioskState::new(false, Duration::from_secs(60), false)
    }
}

/// When the whole seconds a countdown to `deadline` shows next change.
fn next_second(deadline: f64, now: f64) -> f64 {
    let shown = (deadline - now).ceil();
    deadline - (shown - 1.0)
}

fn earliest(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (one, other) => one.or(other),
    }
}

impl KioskState {
    /// Kiosk mode as configured.
    pub fn new(active: bool, idle: Duration, supervisors_configured: bool) -> Self {
        KioskState {
            active,
            station_is_kiosk: active,
            idle,
            supervisors_configured,
            flow: KioskFlow::default(),
            staff: StaffDialog::default(),
            settings_open: false,
            site: None,
            desk_activity: 0.0,
            left_by: None,
        }
    }

    /// How long "Are you still there?" counts down before an idle reset.
    pub fn warning(&self) -> Duration {
        STILL_THERE.min(self.idle / 4)
    }

    /// When the screen starts over for want of activity, if it will: the
    /// person's flow, or the staff sign-in or Settings left open.
    fn idle_deadline(&self) -> Option<f64> {
        let flow = self.flow.idle_deadline(self.idle);
        let staff = ((self.staff.open && !self.staff.form.pending) || self.settings_open)
            .then_some(self.flow.last_activity + self.idle.as_secs_f64());
        earliest(flow, staff)
    }

    /// When the screen starts over by itself, if it will: for want of
    /// activity, at the end of the card step's wait, or after the result.
    pub fn deadline(&self) -> Option<f64> {
        // The staff sign-in hides the person's screen and has its own idle
        // time: a supervisor typing is not cut off. Closed after the card
        // step's deadline, it starts over at once.
        let card = self.flow.card_deadline().filter(|_| !self.staff.open);
        earliest(
            earliest(self.idle_deadline(), card),
            self.flow.result_deadline(),
        )
    }

    /// While "Are you still there?" shows: the seconds left before the
    /// start-over. It shows for the last [`KioskState::warning`] of the
    /// idle time; any input puts it away, as any input postpones the reset.
    pub fn still_there(&self, now: f64) -> Option<f64> {
        let deadline = self.idle_deadline()?;
        let left = deadline - now;
        (left > 0.0 && left <= self.warning().as_secs_f64()).then_some(left)
    }

    /// When the screen changes by itself next, for the view to wake then:
    /// a start-over, the call for staff, the warning's start, and each
    /// second of a countdown on screen.
    pub fn wake_at(&self, now: f64) -> Option<f64> {
        let mut wake = earliest(self.flow.wake_at(self.idle), self.deadline());
        if let Some(deadline) = self.idle_deadline() {
            let warning_from = deadline - self.warning().as_secs_f64();
            let next = if now < warning_from {
                warning_from
            } else {
                next_second(deadline, now)
            };
            wake = earliest(wake, Some(next));
        }
        // The result's and the card step's countdowns are on screen.
        for deadline in [self.flow.result_deadline(), self.flow.card_deadline()]
            .into_iter()
            .flatten()
        {
            wake = earliest(wake, Some(next_second(deadline, now)));
        }
        wake
    }

    /// Starts over when the deadline has passed; returns true when it did.
    /// The caller dismisses the station's finished bind.
    pub fn reset_if_due(&mut self, now: f64) -> bool {
        match self.deadline() {
            Some(deadline) if now >= deadline => {
                self.reset();
                true
            }
            _ => false,
        }
    }

    /// A supervisor left the kiosk for the desk at `now`: the person's
    /// flow is forgotten, and the desk's idle time starts.
    pub fn leave(&mut self, now: f64) {
        self.active = false;
        self.reset();
        self.desk_activity = now;
    }

    /// [`KioskState::leave`] by `supervisor`, who is named when the kiosk resumes.
    pub fn leave_by(&mut self, now: f64, supervisor: &str) {
        self.leave(now);
        self.left_by = Some(supervisor.to_owned());
    }

    /// The supervisor who left the kiosk, while the desk shows.
    pub fn left_by(&self) -> Option<&str> {
        self.left_by.as_deref()
    }

    /// While the desk a supervisor opened from the kiosk shows: when it
    /// goes back to the kiosk by itself, `kiosk_idle_secs` after the last
    /// deliberate input there. `None` at the kiosk, and at a desk station.
    pub fn desk_deadline(&self) -> Option<f64> {
        (self.station_is_kiosk && !self.active)
            .then_some(self.desk_activity + self.idle.as_secs_f64())
    }

    /// The desk's idle time at `now`: `touched` (deliberate input) or
    /// `busy` (a bind under way, whose result the supervisor must see)
    /// starts it again. True when it has run out: the caller goes back to
    /// the kiosk ([`crate::app::station::StationState::return_to_kiosk`]).
    pub fn desk_tick(&mut self, now: f64, touched: bool, busy: bool) -> bool {
        if self.desk_deadline().is_none() {
            return false;
        }
        if touched || busy {
            self.desk_activity = now;
        }
        self.desk_deadline().is_some_and(|deadline| now >= deadline)
    }

    /// Shows the kiosk again, starting over, after a supervisor left it.
    pub fn resume(&mut self) {
        if self.station_is_kiosk {
            self.active = true;
            self.left_by = None;
            self.reset();
        }
    }

    /// Forgets everything the last person (or supervisor) typed.
    pub fn reset(&mut self) {
        self.flow.reset();
        self.staff.close();
        self.settings_open = false;
    }
}

#[cfg(test)]
mod forget_tests;
#[cfg(test)]
mod tests;
