//! Kiosk mode's guided flow, kept apart from drawing so its rules are
//! Size: 600 lines of the kiosk's flow; the rest is its tests.
//! testable without a window: one person scans or types their request code,
//! inserts their card, confirms once and sees the result; then the flow
//! forgets them.
//!
//! The flow never reads a clock: the view passes egui's time in seconds, so
//! the idle reset is tested by passing numbers.
//!
//! A card counts only when it went into the reader after the person's code
//! was accepted, and the kiosk never starts over while a card is in a
//! reader: a card left behind is never used for the next person.
//!
//! Nothing here lists requests: the person at the kiosk only ever learns
//! about the one request whose code they hold.

use std::time::Duration;

use uuid::Uuid;

use super::credentials::CredentialForm;
use crate::domain::bind::{BindState, BindTarget, Failure, wrong_card_alarm};
use crate::domain::card::CardIdentity;
use crate::domain::card_choice::{CardRule, NoCard, choose_card};
use crate::domain::readers::{ReaderBoard, SlotState, Tick};
use crate::domain::request::Request;
use crate::supervisors::{SupervisorError, SupervisorPurpose};
use crate::worker::Command;

/// How long a result stays on screen before the flow starts over by itself.
pub const RESULT_HOLD: Duration = Duration::from_secs(10);

/// How long the kiosk asks for a card to be taken out before it also asks
/// staff to come.
pub const CARD_LEFT_ALARM: Duration = Duration::from_secs(30);

/// The longest code echoed back in a refusal: a scanner may send a whole
/// page of text, and the screen must stay readable.
const ECHO_MAX: usize = 48;

/// A request code the kiosk cannot read, in the words the person sees.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadRequestCode {
    /// Nothing was scanned or typed.
    #[error("Scan or type your request code first.")]
    Empty,
    /// Not a GUID; `echo` is its start, cut at a readable length.
    #[error(
        "\"{echo}\" is not a request code. A request code has 32 letters and digits, like \
         0c7b4d1e-5a2f-4e8b-9f10-2d3c4b5a6978: scan it again or type it carefully."
    )]
    NotACode {
        /// What was given, cut to a readable length with an ellipsis.
        echo: String,
    },
}

/// Reads a request code as a keyboard-wedge scanner or a person gives it:
/// any case, with or without braces or hyphens, surrounding spaces ignored.
pub fn parse_request_code(text: &str) -> Result<Uuid, BadRequestCode> {
    let cleaned = text
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .trim();
    if cleaned.is_empty() {
        return Err(BadRequestCode::Empty);
    }
    crate::domain::guid::parse(cleaned).ok_or_else(|| {
        let mut echo: String = cleaned.chars().take(ECHO_MAX).collect();
        if cleaned.chars().count() > ECHO_MAX {
            echo.push('…');
        }
        BadRequestCode::NotACode { echo }
    })
}

/// Where the person at the kiosk is.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Step {
    /// Waiting for a request code.
    #[default]
    Code,
    /// The request with this code is being fetched.
    LookingUp(Uuid),
    /// The request can take a card: waiting for the card, then the confirm.
    Card(Box<Request>),
    /// Confirmed: the bind runs.
    Binding(BindTarget),
    /// The bind ended; shown until `shown_at` + [`RESULT_HOLD`].
    Result {
        /// What was bound (or not).
        target: BindTarget,
        /// When the result appeared, in the view's seconds.
        shown_at: f64,
    },
    /// The flow started over with a card still in a reader: nothing else
    /// happens until it is taken out.
    TakeCard {
        /// Since when, in the view's seconds; after [`CARD_LEFT_ALARM`] the
        /// screen also calls staff.
        since: f64,
    },
}

/// The card reader area reduced to one status a customer understands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CardStatus {
    /// No card in any reader.
    NoCard,
    /// A card is in, its ID is being read.
    Reading,
    /// A card that was in the reader before this person's code was
    /// accepted: it must come out (and go in again, if it is theirs).
    TakeOut,
    /// One card, identified.
    Ready {
        /// The reader it is in.
        reader: String,
        /// The card.
        identity: CardIdentity,
    },
    /// Something the person must do, or staff must fix, in words.
    Problem(String),
}

/// What the card readers show for a bind under `rule`: only the one reader
/// holding a card counts, with two cards the kiosk never guesses, and a card
/// in before the rule's intent began must come out first.
pub fn card_status(board: &ReaderBoard, rule: &CardRule) -> CardStatus {
    if let Some(reason) = board.service_down() {
        return CardStatus::Problem(format!(
            "The card reader is not working right now ({reason}). Please ask a member of staff."
        ));
    }
    if board.readers().next().is_none() {
        return CardStatus::Problem(
            "No card reader is connected. Please ask a member of staff.".into(),
        );
    }
    match choose_card(board, rule) {
        Ok((reader, identity)) => CardStatus::Ready { reader, identity },
        Err(NoCard::Reading(_)) => CardStatus::Reading,
        Err(NoCard::InsertedBefore(_)) => CardStatus::TakeOut,
        Err(NoCard::Unreadable { why, .. }) => CardStatus::Problem(format!(
            "This card cannot be used: {why}. Take it out; if it is the card you were \
             given, please ask a member of staff."
        )),
        Err(NoCard::Several(_)) => CardStatus::Problem(
            "More than one card is inserted. Take out every card except yours.".into(),
        ),
        Err(NoCard::NoneInserted | NoCard::Empty(_) | NoCard::ReaderGone(_)) => board
            .readers()
            .find_map(|(_, slot)| match slot {
                SlotState::Unavailable { reason } => Some(CardStatus::Problem(format!(
                    "The card cannot be read: {reason}. Take it out and insert it again; if \
                     that does not help, please ask a member of staff."
                ))),
                _ => None,
            })
            .unwrap_or(CardStatus::NoCard),
    }
}

/// How a finished bind reads on the result screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// True when the card is bound.
    pub bound: bool,
    /// One sentence, large.
    pub headline: String,
    /// What to do next.
    pub advice: String,
    /// The failure in words, with the server's correlation ID for staff.
    pub failure: Option<Failure>,
}

/// The result screen for a finished bind; `None` while it runs (or before).
pub fn outcome(bind: &BindState) -> Option<Outcome> {
    let not_bound = |failure: &Failure| Outcome {
        bound: false,
        headline: "Your card was not linked to your request.".into(),
        advice: "Take your card out. Please show this screen to a member of staff, or try again \
                 later."
            .into(),
        failure: Some(failure.clone()),
    };
    match bind {
        BindState::Bound { .. } => Some(Outcome {
            bound: true,
            headline: "Done: your card is now linked to your request.".into(),
            advice: "Take your card out. Its certificates are added when your request is \
                     carried out."
                .into(),
            failure: None,
        }),
        BindState::Refused { reason, .. } => Some(not_bound(reason)),
        BindState::Failed { failure, .. } => Some(not_bound(failure)),
        BindState::WrongCard { target, bound } => Some(Outcome {
            bound: false,
            headline: "Your request is linked to a different card.".into(),
            advice: "Keep your card and please ask a member of staff now.".into(),
            failure: Some(Failure::new(wrong_card_alarm(target, bound))),
        }),
        BindState::Unknown { failure, .. } => Some(Outcome {
            bound: false,
            headline: "We could not confirm whether your card was linked.".into(),
            advice: "Keep your card and please ask a member of staff before you leave.".into(),
            failure: Some(failure.clone()),
        }),
        BindState::Idle
        | BindState::Recording { .. }
        | BindState::Checking { .. }
        | BindState::ReadingCard { .. }
        | BindState::Posting { .. }
        | BindState::Reconciling { .. } => None,
    }
}

fn same_bind(a: &BindTarget, b: &BindTarget) -> bool {
    a.request_id == b.request_id && a.expected.card_id == b.expected.card_id
}

/// One person's way through the kiosk; [`KioskFlow::reset`] forgets it.
#[derive(Debug, Default)]
pub struct KioskFlow {
    /// The code as typed or scanned so far.
    pub code: String,
    /// Where the person is.
    pub step: Step,
    /// Why the last code or confirm was refused, in words.
    pub problem: Option<String>,
    /// Counts resets: the view salts its text fields' IDs with it, so no
    /// undo history survives from one person to the next.
    pub generation: u64,
    last_activity: f64,
    last_card: Option<CardStatus>,
    /// Only cards inserted after this point are this person's: set when
    /// their code is accepted.
    cards_after: Tick,
    /// Whether any reader held a card at the last [`KioskFlow::observe_card`].
    card_in: bool,
    /// The view's time at the last observation, for a start-over that
    /// comes from a click.
    now: f64,
}

impl KioskFlow {
    /// The person did something (a key, a touch): the idle time starts again.
    pub fn touch(&mut self, now: f64) {
        self.last_activity = now;
    }

    /// Which card is this person's: the one card present, inserted after
    /// their code was accepted.
    pub fn card_rule(&self) -> CardRule {
        CardRule {
            reader: None,
            inserted_after: Some(self.cards_after),
        }
    }

    /// What the readers show for this person.
    pub fn card_status(&self, board: &ReaderBoard) -> CardStatus {
        card_status(board, &self.card_rule())
    }

    /// The frame's look at the readers: inserting or removing a card is
    /// activity, though no key was pressed, and once a card left behind is
    /// taken out the kiosk is ready for the next person. Returns what the
    /// readers show for this person, for the frame to draw.
    pub fn observe_card(&mut self, board: &ReaderBoard, now: f64) -> CardStatus {
        self.now = now;
        self.card_in = !board.readers_with_card().is_empty();
        let status = self.card_status(board);
        if self.last_card.as_ref() != Some(&status) {
            self.last_card = Some(status.clone());
            self.touch(now);
        }
        if matches!(self.step, Step::TakeCard { .. }) && !self.card_in {
            self.step = Step::Code;
            self.touch(now);
        }
        status
    }

    /// True when nothing of a person is on screen: there is nothing to forget.
    pub fn is_pristine(&self) -> bool {
        self.step == Step::Code && self.code.is_empty() && self.problem.is_none()
    }

    /// The code was submitted (Enter, or the button): the lookup to run, or
    /// the refusal shown in `problem`. `cards_now` is the readers' point in
    /// time ([`ReaderBoard::now`]): only a card inserted after it is used.
    pub fn submit(&mut self, now: f64, cards_now: Tick) -> Option<Command> {
        self.touch(now);
        if self.step != Step::Code {
            return None;
        }
        match parse_request_code(&self.code) {
            Ok(id) => {
                self.problem = None;
                self.cards_after = cards_now;
                self.step = Step::LookingUp(id);
                Some(Command::LookUpRequest(id))
            }
            Err(why) => {
                self.refuse(why.to_string());
                None
            }
        }
    }

    /// Shows a refusal and empties the field: a scanner's next code must not
    /// land after the refused one.
    fn refuse(&mut self, why: String) {
        self.step = Step::Code;
        self.code.clear();
        self.problem = Some(why);
    }

    /// The server's answer for a code. `Ok(None)`: no request has it.
    pub fn looked_up(&mut self, id: Uuid, result: Result<Option<Request>, Failure>) {
        // A late answer after a reset (or for an earlier code) is not this person's.
        if self.step != Step::LookingUp(id) {
            return;
        }
        let refusal = match result {
            Ok(Some(request)) => match request.bindability() {
                Ok(()) => {
                    self.step = Step::Card(Box::new(request));
                    return;
                }
                // Plain words: the person at the kiosk knows nothing of CM.
                Err(why) => format!(
                    "No card can be linked to this request: {}. If you think this is wrong, \
                     please ask a member of staff.",
                    why.plain()
                ),
            },
            Ok(None) => format!(
                "No request has the code {id}. Check the code and scan or type it again; if it \
                 is right, please ask a member of staff."
            ),
            Err(failure) => format!(
                "Your request could not be looked up: {failure}. Please try again in a moment \
                 or ask a member of staff."
            ),
        };
        self.refuse(refusal);
    }

    /// The person confirmed. `target` is what the station would bind now
    /// under [`KioskFlow::card_rule`]
    /// ([`crate::app::station::StationState::bind_target_for`]) or why it cannot.
    pub fn confirm(
        &mut self,
        target: Result<BindTarget, crate::app::station::BindBlocked>,
        now: f64,
    ) -> Option<Command> {
        self.touch(now);
        if !matches!(self.step, Step::Card(_)) {
            return None;
        }
        match target {
            Ok(target) => {
                self.problem = None;
                self.step = Step::Binding(target.clone());
                Some(Command::Bind(target))
            }
            Err(why) => {
                self.problem = Some(why.to_string());
                None
            }
        }
    }

    /// Follows the station's bind: the result screen appears when it ends.
    pub fn observe_bind(&mut self, bind: &BindState, now: f64) {
        let Some(current) = bind.target() else {
            return;
        };
        match &self.step {
            Step::Binding(target) if same_bind(target, current) && outcome(bind).is_some() => {
                self.step = Step::Result {
                    target: target.clone(),
                    shown_at: now,
                };
            }
            // "Check again" after an unknown result runs the bind's last steps again.
            Step::Result { target, .. } if same_bind(target, current) && bind.is_in_flight() => {
                self.step = Step::Binding(target.clone());
            }
            _ => {}
        }
    }

    /// When the flow starts over by itself, in the view's seconds; `None`
    /// while a bind runs (its result must be seen), while a card left
    /// behind waits to be taken out, or when there is nothing to forget.
    pub fn deadline(&self, idle: Duration) -> Option<f64> {
        match &self.step {
            Step::Binding(_) | Step::TakeCard { .. } => None,
            Step::Result { shown_at, .. } => Some(shown_at + RESULT_HOLD.as_secs_f64()),
            _ if self.is_pristine() => None,
            _ => Some(self.last_activity + idle.as_secs_f64()),
        }
    }

    /// When the screen must change though nobody acts: the start-over, or
    /// the call for staff over a card left behind.
    pub fn wake_at(&self, idle: Duration) -> Option<f64> {
        match &self.step {
            Step::TakeCard { since } if !self.staff_called(*since) => {
                Some(since + CARD_LEFT_ALARM.as_secs_f64())
            }
            _ => self.deadline(idle),
        }
    }

    /// True once a card left behind has waited long enough to call staff.
    pub fn card_left_too_long(&self) -> bool {
        matches!(self.step, Step::TakeCard { since } if self.staff_called(since))
    }

    fn staff_called(&self, since: f64) -> bool {
        self.now >= since + CARD_LEFT_ALARM.as_secs_f64()
    }

    /// Forgets the person: their code, their request, any refusal. With a
    /// card still in a reader the kiosk asks for it to be taken out before
    /// anyone can start.
    pub fn reset(&mut self) {
        self.code.clear();
        self.problem = None;
        self.generation += 1;
        self.step = match self.step {
            _ if !self.card_in => Step::Code,
            // Still the same card left behind: its wait for staff goes on.
            Step::TakeCard { since } => Step::TakeCard { since },
            _ => Step::TakeCard { since: self.now },
        };
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

/// The staff sign-in behind the small "Staff" button.
#[derive(Debug, Default)]
pub struct StaffDialog {
    /// Shown instead of the flow.
    pub open: bool,
    /// The name and password being typed.
    pub form: CredentialForm,
    granted: Option<StaffGrant>,
}

impl StaffDialog {
    /// Asks the worker to check the typed credential for `purpose`.
    pub fn request(&mut self, purpose: SupervisorPurpose) -> Option<Command> {
        self.form.submit(purpose)
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
        if let Some(name) = self.form.answered(&result) {
            self.close();
            self.granted = Some(grant(name));
        }
    }

    /// What was unlocked since the last call, once.
    pub fn take_grant(&mut self) -> Option<StaffGrant> {
        self.granted.take()
    }

    /// Closes the dialog and forgets what was typed.
    pub fn close(&mut self) {
        self.open = false;
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
}

impl Default for KioskState {
    fn default() -> Self {
        KioskState::new(false, Duration::from_secs(60), false)
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
        }
    }

    /// When the screen starts over by itself, if it will.
    pub fn deadline(&self) -> Option<f64> {
        let flow = self.flow.deadline(self.idle);
        if (self.staff.open && !self.staff.form.pending) || self.settings_open {
            let staff = self.flow.last_activity + self.idle.as_secs_f64();
            return Some(flow.map_or(staff, |f| f.min(staff)));
        }
        flow
    }

    /// When the screen changes by itself next, for the view to wake then.
    pub fn wake_at(&self) -> Option<f64> {
        let flow = self.flow.wake_at(self.idle);
        match self.deadline() {
            Some(deadline) => Some(flow.map_or(deadline, |f| f.min(deadline))),
            None => flow,
        }
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

    /// Shows the kiosk again, starting over, after a supervisor left it.
    pub fn resume(&mut self) {
        if self.station_is_kiosk {
            self.active = true;
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
mod tests {
    use super::*;
    use crate::domain::bind::{AttemptId, BindReceipt};
    use crate::domain::card::{Atr, CardKind};
    use crate::domain::readers::ReaderEvent;
    use crate::domain::request::{RequestStatus, example_request};

    const CODE: &str = "0c7b4d1e-5a2f-4e8b-9f10-2d3c4b5a6978";
    const IDLE: Duration = Duration::from_secs(60);

    fn id() -> Uuid {
        Uuid::parse_str(CODE).expect("test GUID")
    }

    fn identity(byte: u8) -> CardIdentity {
        crate::domain::card::example_identity(byte, CardKind::Gids)
    }

    fn insert(board: &mut ReaderBoard, reader: &str, result: Option<Result<CardIdentity, String>>) {
        let atr = match &result {
            Some(Ok(identity)) => identity.atr.clone(),
            _ => Atr::from_bytes(vec![0x3b, 0x00]),
        };
        board.apply(&ReaderEvent::CardInserted {
            reader: reader.into(),
            atr,
            insertion: 1,
            arrival: crate::domain::readers::Arrival::Inserted,
        });
        if let Some(result) = result {
            board.apply(&ReaderEvent::CardIdentified {
                reader: reader.into(),
                insertion: 1,
                result: result.map_err(Into::into),
            });
        }
    }

    fn target() -> BindTarget {
        BindTarget {
            request_id: id(),
            reader: "R1".into(),
            expected: identity(7),
            supervisor: None,
        }
    }

    fn at_card_step(flow: &mut KioskFlow) {
        flow.code = CODE.into();
        assert!(
            matches!(flow.submit(1.0, Tick::default()), Some(Command::LookUpRequest(got)) if got == id())
        );
        let mut request = example_request(id().as_u128(), RequestStatus::APPROVED);
        request.uuid = id();
        flow.looked_up(id(), Ok(Some(request)));
        assert!(matches!(flow.step, Step::Card(_)));
    }

    fn insertion_of(board: &mut ReaderBoard, reader: &str, byte: u8) {
        let card = identity(byte);
        board.apply(&ReaderEvent::CardInserted {
            reader: reader.into(),
            atr: card.atr.clone(),
            insertion: u64::from(byte),
            arrival: crate::domain::readers::Arrival::Inserted,
        });
        board.apply(&ReaderEvent::CardIdentified {
            reader: reader.into(),
            insertion: u64::from(byte),
            result: Ok(card),
        });
    }

    /// Person 1 left their card in; person 2's code is accepted after it.
    #[test]
    fn a_card_in_before_the_code_was_accepted_is_never_this_persons() {
        let mut board = ReaderBoard::default();
        insertion_of(&mut board, "R1", 1);
        let mut flow = KioskFlow {
            code: CODE.into(),
            ..KioskFlow::default()
        };
        flow.submit(1.0, board.now());
        let mut request = example_request(id().as_u128(), RequestStatus::APPROVED);
        request.uuid = id();
        flow.looked_up(id(), Ok(Some(request)));
        assert_eq!(flow.card_status(&board), CardStatus::TakeOut);
        assert!(
            choose_card(&board, &flow.card_rule()).is_err(),
            "the bind rule refuses it too"
        );
        board.apply(&ReaderEvent::CardRemoved {
            reader: "R1".into(),
        });
        assert_eq!(flow.card_status(&board), CardStatus::NoCard);
        insertion_of(&mut board, "R1", 2);
        assert_eq!(
            flow.card_status(&board),
            CardStatus::Ready {
                reader: "R1".into(),
                identity: identity(2)
            }
        );
    }

    #[test]
    fn the_kiosk_never_starts_over_with_a_card_in_and_calls_staff_when_it_stays() {
        let mut kiosk = KioskState::new(true, IDLE, true);
        let mut board = ReaderBoard::default();
        at_card_step(&mut kiosk.flow);
        insertion_of(&mut board, "R1", 7);
        kiosk.flow.observe_card(&board, 2.0);
        kiosk.flow.confirm(Ok(target()), 3.0);
        let bound = BindState::Bound {
            target: target(),
            receipt: BindReceipt::default(),
            confirmed_after_loss: false,
        };
        kiosk.flow.observe_bind(&bound, 5.0);
        let hold_ends = 5.0 + RESULT_HOLD.as_secs_f64();
        kiosk.flow.observe_card(&board, hold_ends);
        assert!(
            kiosk.reset_if_due(hold_ends),
            "the result is not kept for ever"
        );
        assert_eq!(kiosk.flow.step, Step::TakeCard { since: hold_ends });
        assert!(!kiosk.flow.is_pristine());
        assert_eq!(kiosk.deadline(), None, "no idle reset while a card is in");
        let alarm = hold_ends + CARD_LEFT_ALARM.as_secs_f64();
        assert_eq!(
            kiosk.wake_at(),
            Some(alarm),
            "the window wakes to call staff"
        );
        kiosk.flow.observe_card(&board, alarm - 1.0);
        assert!(!kiosk.flow.card_left_too_long());
        kiosk.flow.observe_card(&board, alarm);
        assert!(kiosk.flow.card_left_too_long());
        kiosk.flow.reset();
        assert_eq!(
            kiosk.flow.step,
            Step::TakeCard { since: hold_ends },
            "Start over or a reset keeps waiting for the same card"
        );
        board.apply(&ReaderEvent::CardRemoved {
            reader: "R1".into(),
        });
        kiosk.flow.observe_card(&board, alarm + 1.0);
        assert_eq!(kiosk.flow.step, Step::Code, "ready for the next person");
        assert!(kiosk.flow.is_pristine());
    }

    #[test]
    fn an_idle_reset_with_a_card_in_waits_for_it_to_be_taken() {
        let mut kiosk = KioskState::new(true, IDLE, true);
        let mut board = ReaderBoard::default();
        at_card_step(&mut kiosk.flow);
        insertion_of(&mut board, "R1", 7);
        kiosk.flow.observe_card(&board, 2.0);
        assert!(kiosk.reset_if_due(2.0 + IDLE.as_secs_f64()));
        assert!(matches!(kiosk.flow.step, Step::TakeCard { .. }));
        assert!(kiosk.flow.code.is_empty(), "the person's code is forgotten");
    }

    #[test]
    fn codes_are_read_in_any_case_with_or_without_braces() {
        for text in [
            CODE,
            "{0C7B4D1E-5A2F-4E8B-9F10-2D3C4B5A6978}",
            "  {0c7b4d1e-5a2f-4e8b-9f10-2d3c4b5a6978}\n",
            "0c7b4d1e5a2f4e8b9f102d3c4b5a6978",
        ] {
            assert_eq!(parse_request_code(text), Ok(id()), "{text:?}");
        }
        for text in [
            "",
            "   ",
            "0c7b4d1e",
            "urn:uuid:0c7b4d1e-5a2f-4e8b-9f10-2d3c4b5a6978",
        ] {
            assert!(parse_request_code(text).is_err(), "{text:?}");
        }
        let long = "x".repeat(500);
        let refusal = parse_request_code(&long)
            .expect_err("not a code")
            .to_string();
        assert!(refusal.len() < 300, "a long scan is not echoed whole");
        assert!(refusal.contains("scan it again"), "{refusal}");
    }

    #[test]
    fn a_bad_code_is_refused_in_words_and_nothing_is_looked_up() {
        let mut flow = KioskFlow {
            code: "hello".into(),
            ..KioskFlow::default()
        };
        assert!(flow.submit(1.0, Tick::default()).is_none());
        assert_eq!(flow.step, Step::Code);
        assert!(
            flow.problem
                .as_deref()
                .is_some_and(|p| p.contains("\"hello\" is not a request code"))
        );
        assert!(
            flow.code.is_empty(),
            "the next scan starts on an empty field"
        );
    }

    #[test]
    fn a_request_that_cannot_take_a_card_is_refused_with_the_reason() {
        let mut flow = KioskFlow {
            code: CODE.into(),
            ..KioskFlow::default()
        };
        flow.submit(1.0, Tick::default());
        let mut pending = example_request(1, RequestStatus::PENDING);
        pending.uuid = id();
        flow.looked_up(id(), Ok(Some(pending)));
        assert_eq!(flow.step, Step::Code);
        let problem = flow.problem.clone().expect("refused");
        assert!(problem.contains("waiting for approval"), "{problem}");

        flow.code = CODE.into();
        flow.submit(2.0, Tick::default());
        flow.looked_up(id(), Ok(None));
        assert!(
            flow.problem
                .as_deref()
                .is_some_and(|p| p.contains(&format!("No request has the code {CODE}")))
        );
        assert!(flow.code.is_empty());
        flow.code = CODE.into();
        flow.submit(3.0, Tick::default());
        flow.looked_up(
            id(),
            Err(Failure {
                message: "the server is down".into(),
                correlation_id: Some("c-1".into()),
            }),
        );
        let problem = flow.problem.clone().expect("refused");
        assert!(
            problem.contains("the server is down") && problem.contains("c-1"),
            "{problem}"
        );
    }

    #[test]
    fn a_software_profile_or_retire_request_is_refused_in_plain_words() {
        let mut software = example_request(1, RequestStatus::APPROVED);
        software.uuid = id();
        software.is_smartcard = false;
        let mut retire = example_request(1, RequestStatus::APPROVED);
        retire.uuid = id();
        retire.request_type = crate::domain::request::RequestType::RETIRE;
        for (request, words) in [
            (software, "certificates kept on a computer, not on a card"),
            (
                retire,
                "already given out (to retire it), not for a new card",
            ),
        ] {
            let mut flow = KioskFlow {
                code: CODE.into(),
                ..KioskFlow::default()
            };
            flow.submit(1.0, Tick::default());
            flow.looked_up(id(), Ok(Some(request)));
            assert_eq!(flow.step, Step::Code, "no card is asked for");
            let problem = flow.problem.clone().expect("refused");
            assert!(problem.contains(words), "{problem}");
            assert!(problem.contains("ask a member of staff"), "{problem}");
            for jargon in ["IsSmartcard", "software-profile", "Retire request"] {
                assert!(!problem.contains(jargon), "{jargon}: {problem}");
            }
            assert!(flow.code.is_empty());
        }
    }

    #[test]
    fn a_late_lookup_after_a_reset_is_ignored() {
        let mut flow = KioskFlow {
            code: CODE.into(),
            ..KioskFlow::default()
        };
        flow.submit(1.0, Tick::default());
        flow.reset();
        flow.looked_up(
            id(),
            Ok(Some(example_request(
                id().as_u128(),
                RequestStatus::APPROVED,
            ))),
        );
        assert!(flow.is_pristine(), "{flow:?}");
    }

    #[test]
    fn the_card_status_never_guesses_between_two_cards() {
        let mut board = ReaderBoard::default();
        assert!(
            matches!(card_status(&board, &CardRule::default()), CardStatus::Problem(p) if p.contains("No card reader"))
        );
        board.apply(&ReaderEvent::ReaderAdded {
            reader: "R1".into(),
        });
        assert_eq!(
            card_status(&board, &CardRule::default()),
            CardStatus::NoCard
        );
        insert(&mut board, "R1", None);
        assert_eq!(
            card_status(&board, &CardRule::default()),
            CardStatus::Reading
        );
        insert(&mut board, "R1", Some(Ok(identity(7))));
        assert_eq!(
            card_status(&board, &CardRule::default()),
            CardStatus::Ready {
                reader: "R1".into(),
                identity: identity(7)
            }
        );
        insert(&mut board, "R2", Some(Ok(identity(8))));
        assert!(
            matches!(card_status(&board, &CardRule::default()), CardStatus::Problem(p) if p.contains("More than one card"))
        );
        board.apply(&ReaderEvent::CardRemoved {
            reader: "R2".into(),
        });
        board.apply(&ReaderEvent::CardRemoved {
            reader: "R1".into(),
        });
        insert(
            &mut board,
            "R1",
            Some(Err("the card has no card ID".into())),
        );
        assert!(
            matches!(card_status(&board, &CardRule::default()), CardStatus::Problem(p) if p.contains("no card ID"))
        );
        board.apply(&ReaderEvent::ServiceDown {
            reason: "pcscd stopped".into(),
        });
        assert!(
            matches!(card_status(&board, &CardRule::default()), CardStatus::Problem(p) if p.contains("pcscd stopped"))
        );
    }

    #[test]
    fn confirm_binds_once_and_the_result_shows_when_the_bind_ends() {
        let mut flow = KioskFlow::default();
        at_card_step(&mut flow);
        let reading = crate::app::station::BindBlocked::NoCard(NoCard::Reading("R1".into()));
        assert!(flow.confirm(Err(reading), 2.0).is_none());
        assert_eq!(flow.problem.as_deref(), Some("Reading the card…"));
        let command = flow.confirm(Ok(target()), 3.0);
        assert!(matches!(command, Some(Command::Bind(t)) if t == target()));
        assert!(
            flow.confirm(Ok(target()), 3.1).is_none(),
            "one confirm, one bind"
        );
        let posting = BindState::Posting {
            target: target(),
            attempt: AttemptId::from_uuid(uuid::Uuid::from_u128(0xa)),
        };
        flow.observe_bind(&posting, 4.0);
        assert!(matches!(flow.step, Step::Binding(_)));
        assert_eq!(flow.deadline(IDLE), None, "never reset while a bind runs");
        let bound = BindState::Bound {
            target: target(),
            receipt: BindReceipt::default(),
            confirmed_after_loss: false,
        };
        flow.observe_bind(&bound, 5.0);
        assert!(matches!(flow.step, Step::Result { shown_at, .. } if shown_at == 5.0));
        assert_eq!(flow.deadline(IDLE), Some(5.0 + RESULT_HOLD.as_secs_f64()));
        assert!(outcome(&bound).is_some_and(|o| o.bound));
    }

    #[test]
    fn a_failed_bind_reads_as_not_linked_with_the_correlation_id() {
        let failed = BindState::Failed {
            target: target(),
            failure: Failure {
                message: "The server refused the card".into(),
                correlation_id: Some("c-2".into()),
            },
            confirmed_not_bound: false,
        };
        let shown = outcome(&failed).expect("finished");
        assert!(!shown.bound);
        assert!(shown.headline.contains("not linked"));
        assert_eq!(
            shown.failure.and_then(|f| f.correlation_id).as_deref(),
            Some("c-2")
        );
        assert_eq!(outcome(&BindState::Idle), None);
    }

    #[test]
    fn idle_time_resets_everything_the_person_entered() {
        let mut kiosk = KioskState::new(true, IDLE, true);
        assert_eq!(kiosk.deadline(), None, "nothing to forget");
        kiosk.flow.code = "0c7b".into();
        kiosk.flow.touch(10.0);
        assert_eq!(kiosk.deadline(), Some(70.0));
        assert!(!kiosk.reset_if_due(69.9));
        kiosk.flow.touch(50.0);
        assert!(!kiosk.reset_if_due(70.0), "activity postpones the reset");
        assert!(kiosk.reset_if_due(110.0));
        assert!(kiosk.flow.is_pristine());
        assert_eq!(kiosk.flow.generation, 1);

        at_card_step(&mut kiosk.flow);
        let empty = ReaderBoard::default();
        kiosk.flow.observe_card(&empty, 200.0);
        kiosk.flow.observe_card(&empty, 250.0);
        assert_eq!(kiosk.deadline(), Some(260.0), "only a change is activity");
        assert!(kiosk.reset_if_due(260.0));
        assert!(kiosk.flow.is_pristine());

        kiosk.settings_open = true;
        kiosk.flow.touch(300.0);
        assert_eq!(
            kiosk.deadline(),
            Some(360.0),
            "Settings left open time out too"
        );
        assert!(kiosk.reset_if_due(360.0));
        assert!(!kiosk.settings_open);
    }

    #[test]
    fn staff_credentials_are_sent_once_wiped_and_grant_only_their_purpose() {
        let mut staff = StaffDialog {
            open: true,
            ..StaffDialog::default()
        };
        assert!(staff.request(SupervisorPurpose::LeaveKiosk).is_none());
        assert!(staff.form.error.is_some());
        staff.form.name = " Sam ".into();
        staff.form.password.text_mut().push_str("secret");
        let command = staff.request(SupervisorPurpose::LeaveKiosk);
        assert!(matches!(
            &command,
            Some(Command::VerifySupervisor { name, password, purpose: SupervisorPurpose::LeaveKiosk })
                if name == "Sam" && password.expose() == "secret"
        ));
        assert!(
            staff.form.password.is_empty(),
            "the field is wiped once sent"
        );
        assert!(
            staff.request(SupervisorPurpose::LeaveKiosk).is_none(),
            "one check at a time"
        );
        staff.verified(
            &SupervisorPurpose::LeaveKiosk,
            Err(SupervisorError::Refused),
        );
        assert_eq!(staff.form.error, Some(SupervisorError::Refused.to_string()));
        assert_eq!(staff.take_grant(), None);

        staff.form.password.text_mut().push_str("right");
        staff.request(SupervisorPurpose::OpenSettings);
        staff.verified(&SupervisorPurpose::OpenSettings, Ok("Sam".into()));
        assert_eq!(
            staff.take_grant(),
            Some(StaffGrant::OpenSettings("Sam".into()))
        );
        assert!(!staff.open && staff.form.name.is_empty());

        // An answer that arrives after the dialog was closed unlocks nothing.
        staff.verified(&SupervisorPurpose::LeaveKiosk, Ok("Sam".into()));
        assert_eq!(staff.take_grant(), None);
    }
}
