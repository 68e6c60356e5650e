//! The credential forms of the window (the supervisor's confirmation of a
//! bind), egui-free so their rules are testable, and the supervised bind's
//! rules on the window state.

use super::station::StationState;
use crate::config::Mode;
use crate::platform::secrets::Secret;
use crate::supervisors::{SupervisorError, SupervisorPurpose, SupervisorStore};
use crate::worker::Command;

/// A supervisor's name and password being typed into a dialog, egui-free so
/// its rules are testable: the password is wiped the moment it is sent, and
/// the dialog keeps the refusal in words until the next try.
#[derive(Debug)]
pub struct SupervisorPrompt {
    /// What the credential is asked for.
    pub purpose: SupervisorPurpose,
    /// The supervisor's name as typed.
    pub name: String,
    /// The password as typed; empty again once sent.
    pub password: String,
    /// The credential is being checked.
    pub pending: bool,
    /// Why the last try was refused, or what is missing.
    pub error: Option<String>,
}

impl SupervisorPrompt {
    /// An empty prompt for `purpose`.
    pub fn new(purpose: SupervisorPurpose) -> Self {
        Self {
            purpose,
            name: String::new(),
            password: String::new(),
            pending: false,
            error: None,
        }
    }

    /// The check to send for what was typed, or why nothing can be sent yet
    /// (kept in [`SupervisorPrompt::error`]). Clears the password either way.
    pub fn submit(&mut self) -> Option<Command> {
        let password = Secret::new(std::mem::take(&mut self.password));
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
        Some(Command::VerifySupervisor {
            name: self.name.trim().to_owned(),
            password,
            purpose: self.purpose.clone(),
        })
    }

    /// Takes the worker's answer; true when it accepted this prompt's
    /// credential (the caller closes the prompt). Answers for another purpose
    /// are ignored.
    pub fn answer(&mut self, purpose: &SupervisorPurpose, result: &Result<String, String>) -> bool {
        if *purpose != self.purpose || !self.pending {
            return false;
        }
        self.pending = false;
        match result {
            Ok(_) => true,
            Err(why) => {
                self.error = Some(why.clone());
                false
            }
        }
    }
}

/// Whether the window's Bind needs a supervisor, as the view sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Witness {
    /// A desk or a kiosk: Bind binds.
    #[default]
    NotNeeded,
    /// Supervised mode: Bind opens the supervisor confirmation.
    Needed,
    /// Supervised mode without any `[[supervisors]]`: nothing can be bound.
    NoneConfigured,
}

impl Witness {
    /// For a station in `mode` with these supervisors.
    pub fn for_station(mode: Mode, store: &SupervisorStore) -> Self {
        match mode {
            Mode::Supervised if store.is_empty() => Witness::NoneConfigured,
            Mode::Supervised => Witness::Needed,
            Mode::Desk | Mode::Kiosk => Witness::NotNeeded,
        }
    }
}

// The supervised bind's rules on the window state, kept beside the rest of
// supervision rather than spread through the desk's state.
impl StationState {
    /// What the Bind button (or its shortcut) leads to: the bind itself, or at
    /// a supervised station the supervisor confirmation; `Err` says why nothing.
    pub fn press_bind(&mut self) -> Result<Option<Command>, String> {
        let target = self.bind_target()?;
        match self.witness {
            Witness::NotNeeded => Ok(Some(Command::Bind(target))),
            Witness::NoneConfigured => Err(SupervisorError::NoneConfigured.to_string()),
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
    /// closes the dialog (the worker starts the bind); a refusal stays in it.
    pub(crate) fn supervisor_answered(
        &mut self,
        purpose: &SupervisorPurpose,
        result: &Result<String, String>,
    ) {
        if let Some(prompt) = &mut self.supervisor_prompt
            && prompt.answer(purpose, result)
        {
            self.supervisor_prompt = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supervisors::tests::{entry, store};

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
        let error = none.press_bind().expect_err("nobody can confirm");
        assert!(error.contains("[[supervisors]]"), "{error}");

        let mut state = bindable_state(Witness::Needed);
        let target = state.bind_target().expect("bindable");
        assert!(matches!(state.press_bind(), Ok(None)));
        let purpose = SupervisorPurpose::ConfirmBind(target);
        let prompt = state.supervisor_prompt.as_mut().expect("the dialog opened");
        assert_eq!(prompt.purpose, purpose);
        prompt.name = "Bob".into();
        prompt.password = "wrong".into();
        assert!(prompt.submit().is_some());
        // A refusal stays in the dialog, in words.
        state.apply(Report::SupervisorVerified {
            purpose: purpose.clone(),
            result: Err(SupervisorError::Refused.to_string()),
        });
        let prompt = state.supervisor_prompt.as_mut().expect("still open");
        assert!(!prompt.pending);
        assert!(prompt.error.as_deref().is_some_and(|e| e.contains("wrong")));
        prompt.password = "right".into();
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
        prompt.password = "pw".into();
        assert!(prompt.submit().is_none(), "no name yet");
        assert_eq!(prompt.error.as_deref(), Some("Type the supervisor's name."));
        assert!(prompt.password.is_empty(), "wiped even when not sent");
        prompt.name = "  Bob ".into();
        assert!(prompt.submit().is_none());
        assert_eq!(
            prompt.error.as_deref(),
            Some("Type the supervisor's password.")
        );
        prompt.password = "pw".into();
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
        assert!(prompt.password.is_empty() && prompt.pending && prompt.error.is_none());
        prompt.password = "again".into();
        assert!(prompt.submit().is_none(), "one check at a time");
    }

    #[test]
    fn supervisor_witness_follows_the_mode() {
        use crate::config::Mode;
        let empty = SupervisorStore::from_config(&[]);
        let some = store();
        assert_eq!(Witness::for_station(Mode::Desk, &some), Witness::NotNeeded);
        assert_eq!(
            Witness::for_station(Mode::Kiosk, &empty),
            Witness::NotNeeded
        );
        assert_eq!(
            Witness::for_station(Mode::Supervised, &some),
            Witness::Needed
        );
        assert_eq!(
            Witness::for_station(Mode::Supervised, &empty),
            Witness::NoneConfigured
        );
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
