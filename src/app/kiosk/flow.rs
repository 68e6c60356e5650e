//! One person's way through the kiosk: their code, their request, their
//! card, the confirm and the result, then forgetting them.
//!
//! A card counts only when it went into the reader after the person's code
//! was accepted, and the flow never starts over while a card is in a
//! reader: a card left behind is never used for the next person.

use std::time::Duration;

use uuid::Uuid;

use super::words::{self, CardStatus, Notice, StaffDetail};
use super::{CARD_LEFT_ALARM, CARD_WAIT, RESULT_HOLD};
use crate::domain::bind::{BindState, BindTarget, Failure};
use crate::domain::card_choice::CardRule;
use crate::domain::readers::{ReaderBoard, Tick};
use crate::domain::request::Request;
use crate::worker::Command;

/// The longest code echoed back in a refusal: a scanner may send a whole
/// page of text, and the screen must stay readable.
const ECHO_MAX: usize = 40;

/// A keyboard-wedge scanner types a whole code within a fraction of a
/// second: 1 to 30 ms a character (the Xvfb test's xdotool types one every
/// 30 ms). Nobody types 36 characters by hand at 40 ms each (300 words a
/// minute); fast typists average 80 ms or more. A code entered faster than
/// this, on average, was scanned.
pub const SCANNER_SECS_PER_CHAR: f64 = 0.04;

/// Below this many characters the speed says nothing (a short mistyped
/// start may arrive within one frame): a short entry is a typist's.
pub const SCANNER_MIN_CHARS: usize = 8;

/// A request code the kiosk cannot read, in the words the person sees.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadRequestCode {
    /// Nothing was scanned or typed.
    #[error("Please scan or type your request code first.")]
    Empty,
    /// Not a GUID; `echo` is its start, cleaned and cut at a readable length.
    #[error("\"{echo}\" is not a request code. Please check it against your letter and try again.")]
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
    crate::domain::guid::parse(cleaned).ok_or_else(|| BadRequestCode::NotACode {
        echo: crate::domain::text::one_line(cleaned, ECHO_MAX),
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
        /// For staff when the card was not bound: logged once, when the
        /// result appeared.
        staff: Option<StaffDetail>,
    },
    /// The flow started over with a card still in a reader: nothing else
    /// happens until it is taken out.
    TakeCard {
        /// Since when, in the view's seconds; after [`CARD_LEFT_ALARM`] the
        /// screen also calls staff.
        since: f64,
    },
}

/// When the code in the field began and last changed, in the view's
/// seconds: how fast it came tells a scanner from a typist.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Entry {
    began: f64,
    last: f64,
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
    /// Why the last code or confirm was refused.
    pub problem: Option<Notice>,
    /// Counts resets: the view salts its text fields' IDs with it, so no
    /// undo history survives from one person to the next.
    pub generation: u64,
    pub(super) last_activity: f64,
    last_card: Option<CardStatus>,
    /// For staff, while the card status is a problem with a technical side.
    card_staff: Option<StaffDetail>,
    /// Only cards inserted after this point are this person's: set when
    /// their code is accepted.
    cards_after: Tick,
    /// Whether any reader held a card at the last [`KioskFlow::observe_card`].
    card_in: bool,
    /// At the card step, since when it has waited for this person's card
    /// (the step's start, or the last card taken out): [`CARD_WAIT`] later
    /// the flow starts over. `None` while their card is in.
    card_wait: Option<f64>,
    /// When the card was taken out while the result showed: the flow
    /// starts over then.
    taken_out: Option<f64>,
    /// The view's time at the last observation, for a start-over that
    /// comes from a click.
    now: f64,
    entry: Option<Entry>,
    /// A refused code stays in the field, selected, so the next keystroke
    /// replaces it: the view selects it once.
    select_code: bool,
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
        words::card_status(board, &self.card_rule())
    }

    /// For staff, while the card status is a problem: logged once, when it
    /// appeared.
    pub fn card_staff(&self) -> Option<&StaffDetail> {
        self.card_staff.as_ref()
    }

    /// The frame's look at the readers: inserting or removing a card is
    /// activity, though no key was pressed, and once a card left behind is
    /// taken out the kiosk is ready for the next person. At the card step
    /// the wait for this person's card starts (again when a card is taken
    /// out); a card taken out after the result ends it. Returns what the
    /// readers show for this person, for the frame to draw.
    pub fn observe_card(&mut self, board: &ReaderBoard, now: f64) -> CardStatus {
        self.now = now;
        let was_in = self.card_in;
        self.card_in = !board.readers_with_card().is_empty();
        let taken_out = was_in && !self.card_in;
        let status = self.card_status(board);
        let own_card = matches!(status, CardStatus::Ready { .. } | CardStatus::Reading);
        self.card_wait = match self.card_wait {
            _ if !matches!(self.step, Step::Card(_)) || own_card => None,
            Some(_) if taken_out => Some(now),
            Some(since) => Some(since),
            None => Some(now),
        };
        if matches!(self.step, Step::Result { .. }) && taken_out {
            self.taken_out.get_or_insert(now);
        }
        if self.last_card.as_ref() != Some(&status) {
            self.card_staff = match &status {
                CardStatus::Problem(problem) => problem.detail.as_deref().map(|detail| {
                    StaffDetail::logged(
                        &format!("the person was told: {}", problem.say),
                        detail,
                        None,
                    )
                }),
                _ => None,
            };
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

    /// The code field's text changed at `now` (a key, a scan, a paste):
    /// the refusal on screen is answered, and the timing is noted.
    pub fn code_edited(&mut self, now: f64) {
        self.touch(now);
        self.problem = None;
        if self.code.is_empty() {
            self.entry = None;
            return;
        }
        match &mut self.entry {
            Some(entry) => entry.last = now,
            None => {
                self.entry = Some(Entry {
                    began: now,
                    last: now,
                });
            }
        }
    }

    /// True when the code in the field came from a scanner, by its speed.
    pub fn scanned(&self) -> bool {
        let chars = self.code.chars().count();
        self.entry.is_some_and(|entry| {
            chars >= SCANNER_MIN_CHARS
                && entry.last - entry.began <= chars as f64 * SCANNER_SECS_PER_CHAR
        })
    }

    /// True once after a refusal that kept the code: the view selects the
    /// whole field then, so the next keystroke or scan replaces it.
    pub fn take_select_code(&mut self) -> bool {
        std::mem::take(&mut self.select_code)
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
                self.refuse(Notice::plain(why.to_string()));
                None
            }
        }
    }

    /// Shows a refusal on the code screen. A scanned code is emptied: the
    /// scanner's next code must not land after it. A typed one stays,
    /// selected: a person who typed 36 characters corrects one, and the
    /// next scan still replaces it whole.
    fn refuse(&mut self, notice: Notice) {
        self.step = Step::Code;
        if self.scanned() {
            self.code.clear();
        } else {
            self.select_code = !self.code.is_empty();
        }
        self.entry = None;
        self.problem = Some(notice);
    }

    /// "Cancel" while the code is looked up: back to the code, kept and
    /// selected; the lookup's answer, whenever it comes, is ignored.
    pub fn cancel_lookup(&mut self, now: f64) {
        self.touch(now);
        if matches!(self.step, Step::LookingUp(_)) {
            self.step = Step::Code;
            self.problem = None;
            self.entry = None;
            self.select_code = !self.code.is_empty();
        }
    }

    /// The server's answer for a code. `Ok(None)`: no request has it.
    pub fn looked_up(&mut self, id: Uuid, result: Result<Option<Request>, Failure>) {
        // A late answer after a reset or a cancel (or for an earlier code)
        // is not this person's.
        if self.step != Step::LookingUp(id) {
            return;
        }
        let refusal = match result {
            Ok(Some(request)) => match request.bindability() {
                Ok(()) => {
                    self.step = Step::Card(Box::new(request));
                    return;
                }
                Err(why) => Notice::plain(words::not_bindable(&why)),
            },
            Ok(None) => Notice::plain(
                "We can't find a request with this code. Please check it against your letter, \
                 or ask a member of staff.",
            ),
            Err(failure) => Notice::for_staff(
                &format!("the request {id} could not be looked up"),
                |reference| {
                    format!(
                        "We can't look up your request right now. Please try again in a minute, \
                         or ask a member of staff (ref. {reference})."
                    )
                },
                &failure.message,
                failure.correlation_id.as_deref(),
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
                self.problem = Some(words::blocked(&why));
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
            Step::Binding(target) if same_bind(target, current) && words::finished(bind) => {
                let staff = words::outcome(bind, "")
                    .and_then(|shown| shown.failure.map(|failure| (shown.headline, failure)))
                    .map(|(headline, failure)| {
                        StaffDetail::logged(
                            &format!("the person was told: {headline}"),
                            &failure.message,
                            failure.correlation_id.as_deref(),
                        )
                    });
                self.step = Step::Result {
                    target: target.clone(),
                    shown_at: now,
                    staff,
                };
            }
            // "Check again" after an unknown result runs the bind's last steps again.
            Step::Result { target, .. } if same_bind(target, current) && bind.is_in_flight() => {
                self.step = Step::Binding(target.clone());
            }
            _ => {}
        }
    }

    /// When the result screen clears itself, while it shows: after
    /// [`RESULT_HOLD`], or as soon as the card is taken out.
    pub fn result_deadline(&self) -> Option<f64> {
        match &self.step {
            Step::Result { shown_at, .. } => {
                let held = shown_at + RESULT_HOLD.as_secs_f64();
                Some(self.taken_out.map_or(held, |out| out.min(held)))
            }
            _ => None,
        }
    }

    /// At the card step without this person's card in: when the flow
    /// starts over, [`CARD_WAIT`] after the step began or a card was taken
    /// out. Input does not postpone it (review M5): a stranger who finds
    /// the screen cannot keep it for their own card.
    pub fn card_deadline(&self) -> Option<f64> {
        match self.step {
            Step::Card(_) => self.card_wait.map(|since| since + CARD_WAIT.as_secs_f64()),
            _ => None,
        }
    }

    /// When the flow starts over for want of activity; `None` while a bind
    /// runs (its result must be seen), on the result screen (it has its own
    /// time), while a card left behind waits to be taken out, or when there
    /// is nothing to forget.
    pub fn idle_deadline(&self, idle: Duration) -> Option<f64> {
        match &self.step {
            Step::Binding(_) | Step::TakeCard { .. } | Step::Result { .. } => None,
            _ if self.is_pristine() => None,
            _ => Some(self.last_activity + idle.as_secs_f64()),
        }
    }

    /// When the flow starts over by itself, in the view's seconds.
    pub fn deadline(&self, idle: Duration) -> Option<f64> {
        self.result_deadline()
            .or_else(|| match (self.idle_deadline(idle), self.card_deadline()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (one, other) => one.or(other),
            })
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
        self.entry = None;
        self.select_code = false;
        self.card_wait = None;
        self.taken_out = None;
        self.generation += 1;
        self.step = match self.step {
            _ if !self.card_in => Step::Code,
            // Still the same card left behind: its wait for staff goes on.
            Step::TakeCard { since } => Step::TakeCard { since },
            _ => Step::TakeCard { since: self.now },
        };
    }
}
