//! The credential forms of the window (the supervisor's confirmation of a
//! bind), egui-free so their rules are testable, and the supervised bind's
//! rules on the window state.

use std::time::{Duration, Instant};

use super::station::{BindBlocked, StationState};
use crate::platform::secrets::SecretInput;
pub use crate::supervisors::Witness;
use crate::supervisors::{SupervisorError, SupervisorPurpose};
use crate::worker::Command;

/// A supervisor's name and password being typed, egui-free so its rules are
/// testable: the supervisor confirmation of a bind and the kiosk's staff
/// sign-in both use it. The password is the self-wiping [`SecretInput`]
/// (hidden from `Debug`), wiped whenever a check is tried; the form keeps
/// the refusal in words until the next try. While the station makes
/// everyone wait after too many refusals, nothing is tried and what is
/// typed stays for when the wait is over.
#[derive(Debug, Default)]
pub struct CredentialForm {
    /// The supervisor's name as typed.
    pub name: String,
    /// The password as typed; empty again once a check was tried.
    pub password: SecretInput,
    /// The credential is being checked.
    pub pending: bool,
    /// Why the last try was refused, or what is missing.
    pub error: Option<String>,
    /// Until when the station refuses every credential, as its last answer
    /// said (rounded up to whole seconds, so never before the station does).
    pub locked_until: Option<Instant>,
}

/// What the form says while the station makes everyone wait `left`.
fn wait_message(left: Duration) -> String {
    SupervisorError::RateLimited {
        retry_after_secs: whole_seconds_up(left),
    }
    .to_string()
}

fn whole_seconds_up(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

impl CredentialForm {
    /// How long the station still refuses every credential, at `now`.
    pub fn lockout_left(&self, now: Instant) -> Option<Duration> {
        self.locked_until
            .and_then(|until| until.checked_duration_since(now))
            .filter(|left| !left.is_zero())
    }

    /// Whether Confirm may be pressed at `now`: no check is out and the
    /// station is not making everyone wait.
    pub fn can_submit(&self, now: Instant) -> bool {
        !self.pending && self.lockout_left(now).is_none()
    }

    /// What the form says under the fields at `now`: the wait counting
    /// down, that it is over, or the last refusal.
    pub fn message(&self, now: Instant) -> Option<String> {
        match (self.locked_until, self.lockout_left(now)) {
            (_, Some(left)) => Some(wait_message(left)),
            (Some(_), None) => Some(
                "The wait is over: type the supervisor's name and password and confirm again."
                    .to_owned(),
            ),
            (None, None) => self.error.clone(),
        }
    }

    /// When the countdown shown at `now` next changes (the next whole
    /// second of the wait, or its end); `None` when nothing counts down.
    pub fn next_tick(&self, now: Instant) -> Option<Duration> {
        let left = self.lockout_left(now)?;
        let shown = whole_seconds_up(left);
        Some(left.saturating_sub(Duration::from_secs(shown.saturating_sub(1))))
    }

    /// The check to send for what was typed, for `purpose`, or why nothing
    /// can be sent yet (kept in [`CredentialForm::error`]). Wipes the
    /// password either way, except during the station's wait: then nothing
    /// is sent and the password stays for when the wait is over. Sends
    /// nothing while a check is out.
    pub fn submit(&mut self, purpose: SupervisorPurpose) -> Option<Command> {
        if !self.pending
            && let Some(left) = self.lockout_left(Instant::now())
        {
            self.error = Some(wait_message(left));
            return None;
        }
        let password = self.password.take();
        if self.pending {
            return None;
        }
        if self.name.trim().is_empty() {
            self.error = Some("Type the supervisor's name.".to_owned());
            return None;
        }
        if password.expose().is_empty() {
            self.error = Some("Type the supervisor's password.".to_owned());
            return None;
        }
        self.pending = true;
        self.error = None;
        self.locked_until = None;
        Some(Command::VerifySupervisor {
            name: self.name.trim().to_owned(),
            password,
            purpose,
        })
    }

    /// Takes the worker's answer to the check this form sent: the
    /// supervisor's name when accepted; a refusal stays in the form. `None`
    /// also when no check was out (a late answer after the form closed).
    pub fn answered(&mut self, result: &Result<String, SupervisorError>) -> Option<String> {
        self.answered_at(result, Instant::now())
    }

    fn answered_at(
        &mut self,
        result: &Result<String, SupervisorError>,
        now: Instant,
    ) -> Option<String> {
        if !self.pending {
            return None;
        }
        self.pending = false;
        self.locked_until = match result {
            Err(SupervisorError::RateLimited { retry_after_secs }) => {
                now.checked_add(Duration::from_secs(*retry_after_secs))
            }
            _ => None,
        };
        match result {
            Ok(name) => Some(name.clone()),
            Err(why) => {
                self.error = Some(why.to_string());
                None
            }
        }
    }

    /// Forgets what was typed and any answer.
    pub fn clear(&mut self) {
        self.name.clear();
        self.password.clear();
        self.pending = false;
        self.error = None;
        self.locked_until = None;
    }
}

/// The supervisor confirmation of a bind (or of opening Settings at a
/// supervised or kiosk station): what it confirms, who asks, and the form.
#[derive(Debug)]
pub struct SupervisorPrompt {
    /// What the credential is asked for.
    pub purpose: SupervisorPurpose,
    /// The name and password being typed.
    pub form: CredentialForm,
    /// Who asks and where, as the journal will name them: "Operator:
    /// alice at Desk 12". The supervisor sees whose bind they witness.
    pub operator: String,
    /// This opening of the dialog, unique in the process: the password
    /// field's id is salted with it, so no undo history of an earlier
    /// opening can reach this one's field (review M6).
    pub opening: u64,
}

/// Counts the openings of the supervisor dialog (see [`SupervisorPrompt::opening`]).
static OPENINGS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl SupervisorPrompt {
    /// An empty prompt for `purpose`, asked by the account running the
    /// station, at this station.
    pub fn new(purpose: SupervisorPurpose) -> Self {
        let account = crate::audit::Operator::from_os()
            .os_user
            .unwrap_or_else(|| "an account the system does not name".to_owned());
        Self {
            purpose,
            form: CredentialForm::default(),
            operator: format!("Operator: {account} at {}", crate::audit::station_name()),
            opening: OPENINGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// The check to send for what was typed (see [`CredentialForm::submit`]).
    pub fn submit(&mut self) -> Option<Command> {
        self.form.submit(self.purpose.clone())
    }

    /// Takes the worker's answer; true when it accepted this prompt's
    /// credential (the caller closes the prompt). Answers for another purpose
    /// are ignored.
    pub fn answer(
        &mut self,
        purpose: &SupervisorPurpose,
        result: &Result<String, SupervisorError>,
    ) -> bool {
        *purpose == self.purpose && self.form.answered(result).is_some()
    }
}

// The supervised bind's rules on the window state, kept beside the rest of
// supervision rather than spread through the desk's state.
impl StationState {
    /// What the Bind button (or its shortcut) leads to: the bind itself, or at
    /// a supervised station the supervisor confirmation; `Err` says why nothing.
    pub fn press_bind(&mut self) -> Result<Option<Command>, BindBlocked> {
        let target = self.bind_target()?;
        match self.witness {
            Witness::NotNeeded => Ok(Some(Command::Bind(target))),
            Witness::NoneConfigured => {
                Err(BindBlocked::Supervisor(SupervisorError::NoneConfigured))
            }
            Witness::Needed => {
                if self.supervisor_prompt.is_none() {
                    self.supervisor_prompt = Some(SupervisorPrompt::new(
                        SupervisorPurpose::ConfirmBind(target),
                    ));
                }
                Ok(None)
            }
        }
    }

    /// The worker's answer to the supervisor confirmation: an accepted one
    /// closes the dialog (the worker starts the bind, or Settings opens);
    /// a refusal stays in it.
    pub(crate) fn supervisor_answered(
        &mut self,
        purpose: &SupervisorPurpose,
        result: &Result<String, SupervisorError>,
    ) {
        if let Some(prompt) = &mut self.supervisor_prompt
            && prompt.answer(purpose, result)
        {
            self.supervisor_prompt = None;
            if let (SupervisorPurpose::OpenSettings, Ok(supervisor)) = (purpose, result) {
                self.settings_grant = Some(supervisor.clone());
            }
            if let (SupervisorPurpose::ConfirmBatch { batch, .. }, Ok(_)) = (purpose, result) {
                self.batch_confirmed(*batch);
            }
        }
    }

    /// Whether opening Settings at the desk needs a supervisor's credential:
    /// at a supervised station (Settings can switch supervision off) and at
    /// a kiosk station (its desk is staff's, and Settings can run commands).
    pub fn settings_need_supervisor(&self) -> bool {
        self.witness.is_required() || self.kiosk.station_is_kiosk
    }

    /// Settings asked for at the desk (its button, or a link to it): true
    /// when it opens now. Where it needs a supervisor, the supervisor
    /// confirmation opens instead, and Settings opens once it is accepted
    /// (see [`StationState::take_settings_grant`]).
    pub fn press_settings(&mut self) -> bool {
        if !self.settings_need_supervisor() {
            return true;
        }
        if self.supervisor_prompt.is_none() {
            self.supervisor_prompt = Some(SupervisorPrompt::new(SupervisorPurpose::OpenSettings));
        }
        false
    }

    /// The supervisor whose credential opened Settings since the last call, once.
    pub fn take_settings_grant(&mut self) -> Option<String> {
        self.settings_grant.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supervisors::tests::entry;

    fn bindable_state(witness: Witness) -> StationState {
        use crate::domain::card::{Atr, CardId, CardIdentity, CardKind};
        use crate::domain::readers::ReaderEvent;
        use crate::domain::request::{RequestQuery, RequestStatus};
        use crate::worker::Report;
        let mut state = StationState::default();
        state.witness = witness;
        let request = crate::domain::request::example_request(1, RequestStatus::APPROVED);
        state.selected_request = Some(request.uuid);
        state.apply(Report::Requests {
            query: RequestQuery::Open,
            result: Ok(vec![request]),
        });
        let card = CardIdentity {
            atr: Atr::from_bytes(vec![0x3b, 7]),
            card_id: CardId::from_raw([7; 16]),
            kind: CardKind::Piv,
            chip: None,
            location: None,
            yubikey_serial: None,
        };
        state.apply(Report::Reader(ReaderEvent::CardInserted {
            reader: "R1".into(),
            atr: card.atr.clone(),
            insertion: 1,
            arrival: crate::domain::readers::Arrival::Inserted,
        }));
        state.apply(Report::Reader(ReaderEvent::CardIdentified {
            reader: "R1".into(),
            insertion: 1,
            result: Ok(card),
        }));
        state
    }

    #[test]
    fn supervised_press_of_bind_opens_the_confirmation_instead_of_binding() {
        use crate::worker::{Command, Report};
        let mut desk = bindable_state(Witness::NotNeeded);
        assert!(matches!(desk.press_bind(), Ok(Some(Command::Bind(_)))));
        assert!(desk.supervisor_prompt.is_none());

        let mut none = bindable_state(Witness::NoneConfigured);
        let error = none
            .press_bind()
            .expect_err("nobody can confirm")
            .to_string();
        assert!(error.contains("[[supervisors]]"), "{error}");

        let mut state = bindable_state(Witness::Needed);
        let target = state.bind_target().expect("bindable");
        assert!(matches!(state.press_bind(), Ok(None)));
        let purpose = SupervisorPurpose::ConfirmBind(target);
        let prompt = state.supervisor_prompt.as_mut().expect("the dialog opened");
        assert_eq!(prompt.purpose, purpose);
        prompt.form.name = "Bob".into();
        prompt.form.password.text_mut().push_str("wrong");
        assert!(prompt.submit().is_some());
        // A refusal stays in the dialog, in words.
        state.apply(Report::SupervisorVerified {
            purpose: purpose.clone(),
            result: Err(SupervisorError::Refused),
        });
        let prompt = state.supervisor_prompt.as_mut().expect("still open");
        assert!(!prompt.form.pending);
        assert!(
            prompt
                .form
                .error
                .as_deref()
                .is_some_and(|e| e.contains("wrong"))
        );
        prompt.form.password.text_mut().push_str("right");
        assert!(prompt.submit().is_some());
        // Kiosk answers are not this dialog's.
        state.apply(Report::SupervisorVerified {
            purpose: SupervisorPurpose::LeaveKiosk,
            result: Ok("Bob".into()),
        });
        assert!(state.supervisor_prompt.is_some());
        state.apply(Report::SupervisorVerified {
            purpose,
            result: Ok("Bob".into()),
        });
        assert!(
            state.supervisor_prompt.is_none(),
            "accepted: the dialog closes"
        );
    }

    #[test]
    fn supervisor_prompt_wipes_the_password_when_sending_it() {
        let mut prompt = SupervisorPrompt::new(SupervisorPurpose::OpenSettings);
        prompt.form.password.text_mut().push_str("pw");
        assert!(prompt.submit().is_none(), "no name yet");
        assert_eq!(
            prompt.form.error.as_deref(),
            Some("Type the supervisor's name.")
        );
        assert!(prompt.form.password.is_empty(), "wiped even when not sent");
        prompt.form.name = "  Bob ".into();
        assert!(prompt.submit().is_none());
        assert_eq!(
            prompt.form.error.as_deref(),
            Some("Type the supervisor's password.")
        );
        prompt.form.password.text_mut().push_str("pw");
        let Some(crate::worker::Command::VerifySupervisor {
            name,
            password,
            purpose,
        }) = prompt.submit()
        else {
            panic!("a check is sent");
        };
        assert_eq!(
            (name.as_str(), password.expose(), purpose),
            ("Bob", "pw", SupervisorPurpose::OpenSettings)
        );
        assert!(
            prompt.form.password.is_empty() && prompt.form.pending && prompt.form.error.is_none()
        );
        prompt.form.password.text_mut().push_str("again");
        assert!(prompt.submit().is_none(), "one check at a time");
        assert!(
            !format!("{prompt:?}").contains("again"),
            "the password stays out of Debug"
        );
    }

    #[test]
    fn a_lockout_counts_down_keeps_the_typed_password_and_then_lets_the_supervisor_try() {
        let purpose = SupervisorPurpose::OpenSettings;
        let mut form = CredentialForm {
            name: "Bob".into(),
            ..CredentialForm::default()
        };
        form.password.text_mut().push_str("wrong");
        assert!(form.submit(purpose.clone()).is_some());
        let now = Instant::now();
        form.answered_at(
            &Err(SupervisorError::RateLimited {
                retry_after_secs: 30,
            }),
            now,
        );
        assert!(!form.can_submit(now), "Confirm waits");
        let at = |secs: f64| now + Duration::from_secs_f64(secs);
        let wait = |secs: f64| form.message(at(secs)).expect("a message");
        assert!(wait(0.0).contains("wait 30 s"), "{}", wait(0.0));
        assert!(wait(0.5).contains("wait 30 s"), "rounded up: {}", wait(0.5));
        assert!(wait(1.2).contains("wait 29 s"), "{}", wait(1.2));
        assert!(wait(29.5).contains("wait 1 s"), "{}", wait(29.5));
        // The next repaint is when the shown number changes.
        let tick = form.next_tick(at(1.2)).expect("counting");
        assert!((tick.as_secs_f64() - 0.8).abs() < 1e-6, "{tick:?}");
        assert_eq!(form.next_tick(at(30.0)), None);

        // A password typed during the wait is neither sent nor wiped.
        form.password.text_mut().push_str("right");
        form.locked_until = Some(Instant::now() + Duration::from_secs(30));
        assert!(form.submit(purpose.clone()).is_none());
        assert_eq!(form.password.text_mut().as_str(), "right");
        assert!(form.error.as_deref().is_some_and(|e| e.contains("wait")));

        // Over: Confirm is back, and the message says so.
        form.locked_until = Some(Instant::now() - Duration::from_millis(1));
        let now = Instant::now();
        assert!(form.can_submit(now));
        assert!(
            form.message(now)
                .is_some_and(|m| m.contains("wait is over")),
            "{:?}",
            form.message(now)
        );
        assert!(form.submit(purpose).is_some(), "sent once the wait is over");
        assert!(form.password.is_empty());
        form.answered_at(&Err(SupervisorError::Refused), Instant::now());
        assert_eq!(form.locked_until, None);
        assert!(
            form.message(Instant::now())
                .is_some_and(|m| m.contains("wrong"))
        );
    }

    #[test]
    fn the_prompt_names_the_operator_and_the_station_as_the_journal_does() {
        let prompt = SupervisorPrompt::new(SupervisorPurpose::OpenSettings);
        let expected_station = crate::audit::station_name();
        assert!(
            prompt.operator.starts_with("Operator: "),
            "{}",
            prompt.operator
        );
        assert!(
            prompt
                .operator
                .ends_with(&format!(" at {expected_station}")),
            "{}",
            prompt.operator
        );
        if let Some(account) = crate::audit::Operator::from_os().os_user {
            assert!(prompt.operator.contains(&account), "{}", prompt.operator);
        }
    }

    #[test]
    fn the_settings_form_keeps_the_supervisors() {
        let config = crate::config::StationConfig {
            mode: crate::config::Mode::Supervised,
            supervisors: vec![entry("Bob", "pw")],
            ..Default::default()
        };
        let form = crate::app::settings_form::SettingsForm::from_config(&config);
        assert_eq!(form.validate(), Ok(config));
    }
}
