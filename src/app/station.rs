//! The window's state, kept apart from drawing so its rules are testable without egui.
//!
//! It is built only from [`Report`]s and the operator's selections; the UI reads it
//! and turns clicks into [`Command`]s.

use uuid::Uuid;

use crate::app::card_lookups::Question;
use crate::domain::bind::{BindState, BindTarget, Failure};
use crate::domain::card_choice::{CardRule, NoCard, choose_card};
use crate::domain::card_record::early_refusal;
use crate::domain::readers::{Arrival, ReaderBoard, ReaderEvent};
use crate::domain::request::{NotBindable, Request, RequestQuery};
use crate::domain::reuse::{CardRefusal, NO_TEMPLATE, TemplateReuse};
use crate::supervisors::SupervisorError;
use crate::worker::{Command, Report};

/// Why Bind cannot be pressed now, in the words the button, the desk's
/// toast and the kiosk's screen show.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BindBlocked {
    /// A bind is under way.
    #[error("A bind is in progress.")]
    InFlight,
    /// No request is selected.
    #[error("Select a request in the list.")]
    NoRequest,
    /// The last bind of this request ended without a known result.
    #[error(
        "The result of the last bind of this request is not known yet: press \"Check again\" \
         first."
    )]
    ResultUnknown,
    /// The request cannot take a card.
    #[error("This request cannot take a card: {0}.")]
    Request(NotBindable),
    /// No card a bind could use, in the desk's words.
    #[error("{}", no_card_words(.0))]
    NoCard(NoCard),
    /// What CM already knows of the card refuses it.
    #[error(transparent)]
    CardRefused(CardRefusal),
    /// A supervised station where nobody can confirm.
    #[error(transparent)]
    Supervisor(SupervisorError),
}

fn no_card_words(no: &NoCard) -> String {
    match no {
        NoCard::NoneInserted => "Insert the card into a reader.".to_owned(),
        NoCard::Several(_) => "Several readers hold a card: select the reader to use.".to_owned(),
        NoCard::ReaderGone(reader) => format!("Reader \"{reader}\" is gone."),
        NoCard::Reading(_) => "Reading the card…".to_owned(),
        NoCard::Unreadable { why, .. } => format!("This card cannot be bound: {why}"),
        NoCard::InsertedBefore(reader) => format!(
            "The card in \"{reader}\" was in the reader before: take it out and insert the \
             card for this request."
        ),
        NoCard::Empty(_) => no.to_string(),
    }
}

/// Everything the window shows.
#[derive(Debug, Default)]
pub struct StationState {
    /// The query the list shows.
    pub query: RequestQuery,
    /// The last list fetched for `query`.
    pub requests: Vec<Request>,
    /// True while a fetch for `query` is under way.
    pub loading: bool,
    /// Why the last fetch failed.
    pub requests_error: Option<Failure>,
    /// The request the operator selected.
    pub selected_request: Option<Uuid>,
    /// Every reader and its card.
    pub board: ReaderBoard,
    /// The reader the operator selected, if they chose one.
    pub selected_reader: Option<String>,
    /// Where the current or last bind is.
    pub bind: BindState,
    /// Things the operator must know, newest last (reconciled earlier binds, journal warnings).
    pub notices: Vec<String>,
    /// The journal's recent records, oldest first, as last loaded.
    pub audit: Vec<crate::audit::Record>,
    /// A bind ended since the audit records were loaded.
    audit_stale: bool,
    /// The card name list once loaded, or why there is none.
    pub card_names: Option<crate::worker::protocol::CardNames>,
    /// Each reader's last events, oldest first: when the station learned of
    /// them (UTC) and what they were.
    pub reader_history: std::collections::HashMap<
        String,
        std::collections::VecDeque<(time::OffsetDateTime, String)>,
    >,
    /// The Settings view: the form, its mistakes and the last connection test.
    pub settings: crate::app::settings_form::SettingsState,
    /// The list as shown: the search, the column sort and the rows they let through.
    pub view: crate::app::request_filter::RequestView,
    /// Short messages in the window's corner: finished binds, warnings.
    pub toasts: crate::app::desk::Toasts,
    /// Kiosk mode's guided flow and staff sign-in (inactive at a desk).
    pub kiosk: crate::app::kiosk::KioskState,
    /// Whether a bind needs a supervisor's confirmation (supervised mode).
    pub witness: crate::app::credentials::Witness,
    /// The supervisor confirmation dialog of a supervised bind, while open.
    pub supervisor_prompt: Option<crate::app::credentials::SupervisorPrompt>,
    /// Set when a desk bind ended bound: the card it used must leave the
    /// reader before the desk binds again, so the next person's request is
    /// never bound to the card just handed out.
    desk_cards_after: Option<crate::domain::readers::Tick>,
    /// What CM said of the cards in the readers, and of templates' reuse.
    pub cm_cards: crate::app::card_lookups::CardLookups,
    /// When the desk's request list fetches itself again; none until the
    /// window starts it.
    auto_refresh: Option<crate::app::desk::AutoRefresh>,
}

/// How many events the readers panel keeps per reader.
const READER_HISTORY: usize = 8;

/// A reader event in a few words, for the readers panel's history.
fn describe(event: &ReaderEvent) -> String {
    match event {
        ReaderEvent::ReaderAdded { .. } => "reader connected".into(),
        ReaderEvent::ReaderRemoved { .. } => "reader disconnected".into(),
        ReaderEvent::CardInserted {
            arrival: Arrival::Inserted,
            ..
        } => "card inserted".into(),
        ReaderEvent::CardInserted {
            arrival: Arrival::AlreadyPresent,
            ..
        } => "card found in the reader".into(),
        ReaderEvent::CardRemoved { .. } => "card removed".into(),
        ReaderEvent::CardIdentified {
            result: Ok(found), ..
        } => {
            format!("card identified: {} {}", found.kind, found.card_id)
        }
        ReaderEvent::CardIdentified { result: Err(_), .. } => "card has no usable ID".into(),
        ReaderEvent::ReaderUnavailable { reason, .. } => format!("unavailable: {reason}"),
        // Not about one reader, so never kept in a reader's history.
        ReaderEvent::ServiceDown { .. } | ReaderEvent::ServiceUp => {
            "smart card service changed".into()
        }
    }
}

impl StationState {
    /// Applies one report from the worker or a reader.
    ///
    /// Returns true when the request list should be fetched again (after a
    /// finished bind, so the bound request shows its card).
    pub fn apply(&mut self, report: Report) -> bool {
        if let Some((kind, text)) = crate::app::desk::toast_for(&report, self) {
            self.toasts.push(kind, text, std::time::Instant::now());
        }
        match report {
            Report::RequestsLoading(query) => {
                if query == self.query {
                    self.loading = true;
                }
                false
            }
            Report::Requests { query, result } => {
                // A late answer for a filter the operator has since left is
                // stale; at a kiosk, nobody may see the list.
                if query != self.query || self.kiosk.active {
                    return false;
                }
                self.loading = false;
                match result {
                    Ok(list) => self.list_loaded(list, None),
                    Err(failure) => self.requests_error = Some(failure),
                }
                false
            }
            Report::RequestsIndexed {
                query,
                requests,
                index,
            } => {
                if query == self.query && !self.kiosk.active {
                    self.loading = false;
                    self.list_loaded(requests, Some(index));
                }
                false
            }
            Report::Bind(state) => {
                if !state.is_in_flight() && state != BindState::Idle {
                    self.audit_stale = true;
                }
                let finished = matches!(state, BindState::Bound { .. })
                    && !matches!(self.bind, BindState::Bound { .. });
                self.bind = state;
                if finished {
                    self.desk_cards_after = Some(self.board.now());
                    self.cm_cards.forget_cards();
                }
                finished
            }
            Report::CardNames(names) => {
                self.card_names = Some(names);
                false
            }
            Report::Audit(records) => {
                self.audit = records;
                false
            }
            Report::Notice(text) => {
                self.notices.push(text);
                false
            }
            Report::Settings(report) => {
                self.settings.apply(report);
                false
            }
            Report::RequestLookedUp { id, result } => {
                self.kiosk.flow.looked_up(id, result);
                false
            }
            Report::SupervisorVerified {
                purpose: purpose @ crate::supervisors::SupervisorPurpose::ConfirmBind(_),
                result,
            } => {
                self.supervisor_answered(&purpose, &result);
                false
            }
            Report::SupervisorVerified {
                purpose:
                    purpose @ (crate::supervisors::SupervisorPurpose::LeaveKiosk
                    | crate::supervisors::SupervisorPurpose::OpenSettings),
                result,
            } => {
                self.kiosk.staff.verified(&purpose, result);
                false
            }
            Report::CardLookedUp { card_id, standing } => {
                self.cm_cards.answered(&card_id, &standing);
                false
            }
            Report::TemplateReuse { template, reuse } => {
                self.cm_cards.reuse_read(template, reuse);
                false
            }
            Report::Reader(event) => {
                self.board.apply(&event);
                if let ReaderEvent::ReaderRemoved { reader }
                | ReaderEvent::CardInserted { reader, .. }
                | ReaderEvent::CardRemoved { reader } = &event
                {
                    self.cm_cards.forget_reader(reader);
                }
                if let Some(reader) = event.reader() {
                    let history = self.reader_history.entry(reader.to_owned()).or_default();
                    history.push_back((time::OffsetDateTime::now_utc(), describe(&event)));
                    while history.len() > READER_HISTORY {
                        history.pop_front();
                    }
                }
                if let Some(selected) = &self.selected_reader
                    && self.board.get(selected).is_none()
                {
                    self.selected_reader = None;
                }
                false
            }
        }
    }

    /// Shows a freshly fetched list (indexed for the search here when the
    /// worker did not), keeping the selection when the request is still in it.
    fn list_loaded(
        &mut self,
        list: Vec<Request>,
        index: Option<std::sync::Arc<crate::app::request_filter::SearchIndex>>,
    ) {
        let old = std::mem::replace(&mut self.requests, list);
        // Freeing 100,000 requests takes longer than a frame: another thread does it.
        if old.len() > 10_000 {
            let _ = std::thread::Builder::new()
                .name("old-request-list".into())
                .spawn(move || drop(old));
        }
        match index {
            Some(index) => self.view.load_indexed(&self.requests, index),
            None => self.view.load(&self.requests),
        }
        self.requests_error = None;
        self.forget_hidden_selection();
    }

    /// Searches for what the search box holds, and lets go of a selection
    /// the search hides: the bind bar must never name a request that is not
    /// on screen. True when the selection went.
    pub fn apply_search(&mut self) -> bool {
        self.view.apply_input();
        self.forget_hidden_selection()
    }

    fn forget_hidden_selection(&mut self) -> bool {
        let hidden = self.selected_request.is_some() && self.request().is_none();
        if hidden {
            self.selected_request = None;
        }
        hidden
    }

    /// Enter in the search box: the first request shown becomes the
    /// selection (the search's result); false when none is shown.
    pub fn select_first_shown(&mut self) -> bool {
        let first = self.view.step(&self.requests, None, 1);
        if first.is_some() {
            self.selected_request = first;
        }
        first.is_some()
    }

    /// True once after a bind ended: the audit view should load its records again.
    pub fn take_audit_stale(&mut self) -> bool {
        std::mem::take(&mut self.audit_stale)
    }

    /// The selected request, when the list shows it: a request the search
    /// hides is not on screen, so nothing may act on it.
    pub fn request(&self) -> Option<&Request> {
        let id = self.selected_request?;
        let row = self.requests.iter().position(|r| r.uuid == id)?;
        self.view
            .shows(row)
            .then(|| self.requests.get(row))
            .flatten()
    }

    /// The card the desk would bind: the one in the reader the operator
    /// chose, or else the only card present; after a bound card, only a card
    /// inserted since.
    pub fn desk_card_rule(&self) -> CardRule {
        CardRule {
            reader: self.selected_reader.clone(),
            inserted_after: self.desk_cards_after,
        }
    }

    /// What a click on **Bind** would bind, or why the button is disabled.
    pub fn bind_target(&self) -> Result<BindTarget, BindBlocked> {
        if self.bind.is_in_flight() {
            return Err(BindBlocked::InFlight);
        }
        let request = self.request().ok_or(BindBlocked::NoRequest)?;
        self.bind_target_for(request, &self.desk_card_rule())
    }

    /// What binding `request` to the card that `cards` accepts would bind
    /// now, or why it cannot be bound: the desk's selected request and the
    /// kiosk's scanned one go through the same checks.
    pub fn bind_target_for(
        &self,
        request: &Request,
        cards: &CardRule,
    ) -> Result<BindTarget, BindBlocked> {
        if self.bind.is_in_flight() {
            return Err(BindBlocked::InFlight);
        }
        if let BindState::Unknown { target, .. } = &self.bind
            && target.request_id == request.uuid
        {
            return Err(BindBlocked::ResultUnknown);
        }
        request.bindability().map_err(BindBlocked::Request)?;
        let (reader, expected) = choose_card(&self.board, cards).map_err(BindBlocked::NoCard)?;
        if let Some(standing) = self.cm_cards.standing(&reader, &expected.card_id) {
            // Without a template nothing can allow reuse: the bind would refuse the same way.
            let no_template = TemplateReuse::Denied(NO_TEMPLATE.to_owned());
            let reuse = match request.profile_template {
                Some(template) => self.cm_cards.reuse_for(template),
                None => Some(&no_template),
            };
            if let Some(why) = early_refusal(&expected.card_id, standing, request, reuse) {
                return Err(BindBlocked::CardRefused(why));
            }
        }
        Ok(BindTarget {
            request_id: request.uuid,
            reader,
            expected,
            supervisor: None,
        })
    }

    /// What to ask CM now, each question once: about every card just
    /// identified, and about the selected request's template when the card
    /// a bind would use is known to CM and discontinued.
    pub fn cm_questions(&mut self) -> Vec<Command> {
        let card_reader = choose_card(&self.board, &self.desk_card_rule())
            .ok()
            .map(|(reader, _)| reader)
            .filter(|reader| self.cm_cards.is_discontinued(reader));
        // Runs every frame: the selected request is looked up in the list
        // (100,000 rows at most) only when its template's answer matters.
        let template = card_reader
            .as_ref()
            .and_then(|_| self.request())
            .and_then(|r| r.profile_template);
        let wanted = template.zip(card_reader.as_deref());
        self.cm_cards
            .questions(&self.board, wanted)
            .into_iter()
            .map(|question| match question {
                Question::Card(card_id) => Command::LookUpCard(card_id),
                Question::Template(template) => Command::ReadTemplateReuse(template),
            })
            .collect()
    }

    /// Starts the desk's automatic refresh: every `interval` from `now`.
    pub fn start_auto_refresh(&mut self, interval: std::time::Duration, now: std::time::Instant) {
        self.auto_refresh = Some(crate::app::desk::AutoRefresh::new(interval, now));
    }

    /// A refresh asked for by hand: the fetch to send; the next automatic
    /// one is a whole interval away.
    pub fn refresh_now(&mut self, now: std::time::Instant) -> Command {
        if let Some(auto) = &mut self.auto_refresh {
            auto.restart(now);
        }
        Command::RefreshRequests(self.query)
    }

    /// The desk's timers at `now`, run from the frame's logic step so a
    /// minimised window keeps its list fresh: what to send, and how long
    /// until the next timer (`None`: no timer runs, as at a kiosk).
    pub fn tick(&mut self, now: std::time::Instant) -> (Vec<Command>, Option<std::time::Duration>) {
        if self.kiosk.active {
            return (Vec::new(), None);
        }
        let Some(auto) = &mut self.auto_refresh else {
            return (Vec::new(), None);
        };
        let mut commands = Vec::new();
        if auto.due(now) {
            auto.restart(now);
            // A fetch still running counts as the refresh.
            if !self.loading {
                commands.push(Command::RefreshRequests(self.query));
            }
        }
        (commands, Some(auto.remaining(now)))
    }

    /// The kiosk's timers at the window's time `now` (seconds), run from the
    /// frame's logic step: the person's activity (`touched`), the card and
    /// the bind as they are now, and the idle reset. `None` at a desk.
    pub fn kiosk_tick(&mut self, now: f64, touched: bool) -> Option<f64> {
        if !self.kiosk.active {
            return None;
        }
        if touched {
            self.kiosk.flow.touch(now);
        }
        self.kiosk.flow.observe_card(&self.board, now);
        self.kiosk.flow.observe_bind(&self.bind, now);
        self.kiosk.reset_if_due(now);
        self.kiosk.wake_at()
    }

    /// Goes back to the kiosk a supervisor left: the desk's list, selection
    /// and search go, so the next person at the kiosk cannot reach them.
    pub fn return_to_kiosk(&mut self) {
        self.kiosk.resume();
        self.requests = Vec::new();
        self.view.clear();
        self.selected_request = None;
        self.requests_error = None;
        self.loading = false;
        self.supervisor_prompt = None;
    }

    /// Switches the list to another query; the caller fetches it.
    pub fn set_query(&mut self, query: RequestQuery) {
        if self.query != query {
            self.query = query;
            self.requests.clear();
            self.view.clear();
            self.requests_error = None;
            self.loading = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::bind::{AttemptId, BindReceipt};
    use crate::domain::card::{CardIdentity, CardKind};
    use crate::domain::request::RequestStatus;

    fn request(id: u128, status: RequestStatus) -> Request {
        crate::domain::request::example_request(id, status)
    }

    fn identity(byte: u8) -> CardIdentity {
        crate::domain::card::example_identity(byte, CardKind::Piv)
    }

    fn with_card(state: &mut StationState, reader: &str, byte: u8) {
        let card = identity(byte);
        state.apply(Report::Reader(ReaderEvent::CardInserted {
            reader: reader.into(),
            atr: card.atr.clone(),
            insertion: 1,
            arrival: crate::domain::readers::Arrival::Inserted,
        }));
        state.apply(Report::Reader(ReaderEvent::CardIdentified {
            reader: reader.into(),
            insertion: 1,
            result: Ok(card),
        }));
    }

    fn loaded(requests: Vec<Request>) -> StationState {
        let mut state = StationState::default();
        state.apply(Report::Requests {
            query: RequestQuery::Open,
            result: Ok(requests),
        });
        state
    }

    #[test]
    fn bind_needs_a_bindable_request_and_an_identified_card() {
        let mut state = loaded(vec![
            request(1, RequestStatus::APPROVED),
            request(2, RequestStatus::PENDING),
        ]);
        assert_eq!(
            state.bind_target().err().map(|e| e.to_string()).as_deref(),
            Some("Select a request in the list.")
        );
        state.selected_request = Some(Uuid::from_u128(2));
        assert!(
            state
                .bind_target()
                .err()
                .is_some_and(|e| e.to_string().contains("waiting for approval"))
        );
        state.selected_request = Some(Uuid::from_u128(1));
        assert_eq!(
            state.bind_target().err().map(|e| e.to_string()).as_deref(),
            Some("Insert the card into a reader.")
        );
        with_card(&mut state, "R1", 7);
        let target = state.bind_target().expect("ready to bind");
        assert_eq!(target.reader, "R1");
        assert_eq!(target.expected, identity(7));
        assert_eq!(target.request_id, Uuid::from_u128(1));
    }

    #[test]
    fn a_software_profile_or_retire_request_is_never_offered_and_says_why() {
        let mut software = request(1, RequestStatus::APPROVED);
        software.is_smartcard = false;
        software.priority = 9;
        let mut retire = request(2, RequestStatus::APPROVED);
        retire.request_type = crate::domain::request::RequestType::RETIRE;
        retire.priority = 9;
        let enroll = request(3, RequestStatus::APPROVED);
        let mut list = vec![software, retire, enroll];
        list.sort_by(Request::list_order);
        assert_eq!(
            list.iter().map(|r| r.uuid.as_u128()).collect::<Vec<_>>(),
            vec![3, 1, 2],
            "only the enroll is first, though the others have a higher priority"
        );
        let mut state = loaded(list);
        assert_eq!(state.view.bindable(), 1, "one ready for a card");
        with_card(&mut state, "R1", 7);
        state.selected_request = Some(Uuid::from_u128(1));
        assert_eq!(
            state.bind_target().err().map(|e| e.to_string()).as_deref(),
            Some(
                "This request cannot take a card: this is a software-profile request \
                 (IsSmartcard false): it never takes a card."
            )
        );
        state.selected_request = Some(Uuid::from_u128(2));
        assert_eq!(
            state.bind_target().err().map(|e| e.to_string()).as_deref(),
            Some(
                "This request cannot take a card: a Retire request acts on an existing card; \
                 it does not take a new one."
            )
        );
        state.selected_request = Some(Uuid::from_u128(3));
        assert!(state.bind_target().is_ok());
    }

    #[test]
    fn two_cards_need_a_reader_choice() {
        let mut state = loaded(vec![request(1, RequestStatus::APPROVED)]);
        state.selected_request = Some(Uuid::from_u128(1));
        with_card(&mut state, "R1", 1);
        with_card(&mut state, "R2", 2);
        assert!(
            state
                .bind_target()
                .err()
                .is_some_and(|e| e.to_string().contains("select the reader"))
        );
        state.selected_reader = Some("R2".into());
        assert_eq!(state.bind_target().map(|t| t.expected), Ok(identity(2)));
        state.apply(Report::Reader(ReaderEvent::ReaderRemoved {
            reader: "R2".into(),
        }));
        assert_eq!(
            state.selected_reader, None,
            "a vanished reader is no longer selected"
        );
        assert_eq!(state.bind_target().map(|t| t.reader), Ok("R1".into()));
    }

    #[test]
    fn a_finished_bind_asks_for_a_refresh_once_and_blocks_a_second_bind_while_in_flight() {
        let mut state = loaded(vec![request(1, RequestStatus::APPROVED)]);
        state.selected_request = Some(Uuid::from_u128(1));
        with_card(&mut state, "R1", 1);
        let target = state.bind_target().expect("ready");
        assert!(!state.apply(Report::Bind(BindState::Posting {
            target: target.clone(),
            attempt: AttemptId::from_uuid(uuid::Uuid::from_u128(0xa)),
        })));
        assert_eq!(
            state.bind_target().err().map(|e| e.to_string()).as_deref(),
            Some("A bind is in progress.")
        );
        let bound = BindState::Bound {
            target,
            receipt: BindReceipt::default(),
            confirmed_after_loss: false,
        };
        assert!(state.apply(Report::Bind(bound.clone())));
        assert!(!state.apply(Report::Bind(bound)));
    }

    #[test]
    fn the_card_just_bound_must_leave_before_the_desk_binds_again() {
        let mut state = loaded(vec![
            request(1, RequestStatus::APPROVED),
            request(2, RequestStatus::APPROVED),
        ]);
        state.selected_request = Some(Uuid::from_u128(1));
        with_card(&mut state, "R1", 1);
        let target = state.bind_target().expect("ready");
        state.apply(Report::Bind(BindState::Bound {
            target,
            receipt: BindReceipt::default(),
            confirmed_after_loss: false,
        }));
        state.selected_request = Some(Uuid::from_u128(2));
        let refused = state
            .bind_target()
            .expect_err("the bound card is still in")
            .to_string();
        assert!(refused.contains("take it out"), "{refused}");
        state.apply(Report::Reader(ReaderEvent::CardRemoved {
            reader: "R1".into(),
        }));
        with_card(&mut state, "R1", 2);
        assert_eq!(state.bind_target().map(|t| t.expected), Ok(identity(2)));
    }

    #[test]
    fn a_search_that_hides_the_selection_clears_it_and_enter_takes_the_first_match() {
        let mut anna = request(1, RequestStatus::APPROVED);
        anna.data_collection = smallvec::smallvec![crate::domain::request::DataItem {
            name: "DisplayName".into(),
            value: Some("Anna Bauer".into()),
        }];
        let mut rosa = request(2, RequestStatus::APPROVED);
        rosa.data_collection = smallvec::smallvec![crate::domain::request::DataItem {
            name: "DisplayName".into(),
            value: Some("Rosa Andersen".into()),
        }];
        let mut state = loaded(vec![anna, rosa]);
        with_card(&mut state, "R1", 1);
        state.selected_request = Some(Uuid::from_u128(2));
        assert!(state.bind_target().is_ok());
        state.view.input = "anna".into();
        assert!(state.apply_search(), "the selection went");
        assert_eq!(state.selected_request, None);
        assert_eq!(
            state.bind_target().err().map(|e| e.to_string()).as_deref(),
            Some("Select a request in the list.")
        );
        assert!(state.select_first_shown());
        assert_eq!(state.selected_request, Some(Uuid::from_u128(1)));
        state.view.input = "nobody".into();
        state.apply_search();
        assert!(
            !state.select_first_shown(),
            "nothing shown, nothing selected"
        );
        assert_eq!(state.request(), None);
    }

    #[test]
    fn stale_lists_are_ignored_and_a_vanished_selection_is_cleared() {
        let mut state = loaded(vec![request(1, RequestStatus::APPROVED)]);
        state.selected_request = Some(Uuid::from_u128(1));
        state.set_query(RequestQuery::All);
        state.apply(Report::Requests {
            query: RequestQuery::Open,
            result: Ok(vec![]),
        });
        assert!(
            state.loading,
            "an answer for the old filter does not end the load"
        );
        state.apply(Report::Requests {
            query: RequestQuery::All,
            result: Ok(vec![request(3, RequestStatus::APPROVED)]),
        });
        assert!(!state.loading);
        assert_eq!(state.selected_request, None);
        let failure = Failure {
            message: "down".into(),
            correlation_id: None,
        };
        state.apply(Report::Requests {
            query: RequestQuery::All,
            result: Err(failure.clone()),
        });
        assert_eq!(state.requests_error, Some(failure));
        assert_eq!(
            state.requests.len(),
            1,
            "a failed refresh keeps the last list"
        );
    }

    #[test]
    fn the_desk_refreshes_itself_from_the_logic_step_and_never_at_a_kiosk() {
        use std::time::{Duration, Instant};
        let start = Instant::now();
        let mut state = StationState::default();
        let (sent, wake) = state.tick(start);
        assert!(sent.is_empty() && wake.is_none(), "no timer until started");
        state.start_auto_refresh(Duration::from_secs(30), start);
        let (sent, wake) = state.tick(start + Duration::from_secs(10));
        assert!(sent.is_empty());
        assert_eq!(wake, Some(Duration::from_secs(20)));
        let (sent, wake) = state.tick(start + Duration::from_secs(30));
        assert!(matches!(sent.as_slice(), [Command::RefreshRequests(_)]));
        assert_eq!(wake, Some(Duration::from_secs(30)));
        // A fetch still running counts as the refresh.
        state.loading = true;
        let (sent, _) = state.tick(start + Duration::from_secs(60));
        assert!(sent.is_empty());
        state.loading = false;
        // A refresh by hand postpones the next automatic one.
        assert!(matches!(
            state.refresh_now(start + Duration::from_secs(80)),
            Command::RefreshRequests(_)
        ));
        assert!(state.tick(start + Duration::from_secs(95)).0.is_empty());
        state.kiosk.active = true;
        let (sent, wake) = state.tick(start + Duration::from_secs(500));
        assert!(sent.is_empty() && wake.is_none());
    }
}
