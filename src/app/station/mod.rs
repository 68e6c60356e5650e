//! The window's state, kept apart from drawing so its rules are testable without egui.
//!
//! It is built only from [`Report`]s and the operator's selections; the UI reads it
//! and turns clicks into [`Command`]s.

use uuid::Uuid;

use crate::app::card_lookups::Question;
use crate::domain::bind::{BindState, BindTarget, Failure};
use crate::domain::card_choice::{CardRule, NoCard, choose_card};
use crate::domain::card_record::early_refusal;
use crate::domain::person::Identity;
use crate::domain::readers::{Arrival, ReaderBoard, ReaderEvent, SlotState};
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
    /// There is no list to select from: the server cannot be reached.
    #[error(
        "No requests: the CM server can't be reached. Press Retry in the list, or check Settings."
    )]
    NoList,
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
    /// The directory is being asked who the request is for.
    #[error("Checking who this request is for in the directory…")]
    CheckingPerson,
    /// The directory has no account with the request's target GUID.
    #[error(
        "The directory has no account {0}, which this request is for: the account may be \
         deleted or outside the directory's search base. Ask the CM administrator to check the \
         request before binding."
    )]
    NoAccount(Uuid),
    /// A supervised station where nobody can confirm.
    #[error(transparent)]
    Supervisor(SupervisorError),
    /// Several requests are selected (or another than the one at the
    /// cursor): how many.
    #[error("{}", selection_words(*.0))]
    Selection(usize),
    /// A batch runs on the readers.
    #[error(
        "A batch is running on this station's readers: a single bind waits until it has ended."
    )]
    BatchRunning,
}

fn selection_words(selected: usize) -> String {
    match selected {
        0 => "No request is selected: press Space to select the one at the cursor, or click one."
            .to_owned(),
        1 => "One request is selected, but the cursor is on another: press Space to select this \
              one too, or click a request to bind it alone."
            .to_owned(),
        n => format!(
            "{n} requests are selected: bind them as a batch, or click one request to bind it \
             alone."
        ),
    }
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
    /// The audit window's journal (or why there is none) and last export.
    pub audit_status: crate::worker::protocol::AuditStatus,
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
    /// Until when the reason beside a disabled Bind is emphasised and
    /// announced: Ctrl+Enter was pressed while Bind could not bind.
    pub bind_reason_flash: Option<std::time::Instant>,
    /// Kiosk mode's guided flow and staff sign-in (inactive at a desk).
    pub kiosk: crate::app::kiosk::KioskState,
    /// Whether a bind needs a supervisor's confirmation (supervised mode).
    pub witness: crate::app::credentials::Witness,
    /// The supervisor confirmation dialog of a supervised bind, while open.
    pub supervisor_prompt: Option<crate::app::credentials::SupervisorPrompt>,
    /// The supervisor whose credential just opened Settings at the desk of a
    /// supervised or kiosk station, until the window opens it.
    pub(crate) settings_grant: Option<String>,
    /// Set when a desk bind ended bound: the card it used must leave the
    /// reader before the desk binds again, so the next person's request is
    /// never bound to the card just handed out.
    desk_cards_after: Option<crate::domain::readers::Tick>,
    /// What CM said of the cards in the readers, and of templates' reuse.
    pub cm_cards: crate::app::card_lookups::CardLookups,
    /// When the desk's request list fetches itself again; none until the
    /// window starts it.
    auto_refresh: Option<crate::app::desk::AutoRefresh>,
    /// The list's loads: since when one runs, when the last arrived, a
    /// cancelled one whose answer is dropped.
    pub list_status: crate::app::request_filter::ListStatus,
    /// Who the requests are for, as the directory says.
    pub people: crate::app::people::People,
    /// The request detail pane: open or not, and what CM said of the
    /// selected request's cards and workflow policy.
    pub detail: crate::app::request_detail::RequestDetail,
    /// The desk's actions besides binding: the card panel, "New request",
    /// the phone unblock and the confirmation of each.
    pub actions: crate::app::actions::DeskActions,
    /// The list's multi-selection and the batch (issue 22).
    pub batch: crate::app::batch::BatchDesk,
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
        if !self
            .list_status
            .observe(&report, self.query, std::time::Instant::now())
        {
            return false;
        }
        if let Some((kind, about, text)) = crate::app::desk::toast_for(&report, self) {
            self.toasts
                .push(kind, about, text, std::time::Instant::now());
        }
        if let Report::Bind(BindState::Idle) = &report {
            self.toasts.forget(crate::app::desk::ToastAbout::Bind);
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
                if let (true, Some(target)) = (finished, state.target()) {
                    self.view.hold_bound(&self.requests, target.request_id);
                }
                self.bind = state;
                if finished {
                    self.desk_cards_after = Some(self.board.now());
                    self.cm_cards.forget_cards();
                    self.detail.forget_cards();
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
            Report::AuditNews(news) => {
                self.audit_status.apply(news);
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
            Report::PersonLookedUp { user, result } => {
                self.people.answered(user, result);
                false
            }
            Report::RequestLookedUp { id, result } => {
                self.kiosk.flow.looked_up(id, result);
                false
            }
            Report::SupervisorVerified {
                purpose:
                    purpose @ (crate::supervisors::SupervisorPurpose::ConfirmBind(_)
                    | crate::supervisors::SupervisorPurpose::ConfirmBatch { .. }),
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
                // The desk's confirmation (Settings at a supervised station)
                // or the kiosk's staff sign-in: each takes only an answer to
                // a check it sent.
                self.supervisor_answered(&purpose, &result);
                self.kiosk.staff.verified(&purpose, result);
                false
            }
            Report::CardLookedUp { card_id, standing } => {
                self.cm_cards.answered(&card_id, &standing);
                self.actions.card.answered(&card_id, &standing);
                self.actions.new_request.answered(&card_id, &standing);
                false
            }
            Report::PeopleFound { query, result } => {
                self.actions.new_request.search.answered(query, result);
                false
            }
            Report::TemplatesRead(result) => {
                self.actions.new_request.templates.read(result);
                false
            }
            Report::ActionFinished { id, result } => self.action_finished(id, result),
            Report::Batch(report) => {
                let bound = self.batch_report(report);
                if bound {
                    // As after a single bind: the cards the batch used must
                    // leave the readers before the desk binds, and what CM
                    // said of them is old.
                    self.audit_stale = true;
                    self.desk_cards_after = Some(self.board.now());
                    self.cm_cards.forget_cards();
                    self.detail.forget_cards();
                }
                bound
            }
            Report::UnblockRequests { smartcard, result } => {
                self.actions.unblock.requests_found(smartcard, result);
                false
            }
            Report::TemplateReuse { template, reuse } => {
                self.cm_cards.reuse_read(template, reuse);
                false
            }
            Report::WorkflowPolicy {
                template,
                kind,
                result,
            } => {
                self.detail.policy_read((template, kind), result);
                false
            }
            Report::RequestCards { request, result } => {
                self.detail.cards_read(request, result);
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
                // The station follows the card just put in: the operator's
                // hand says which reader they mean (no choice to trap them).
                if let ReaderEvent::CardInserted {
                    reader,
                    arrival: crate::domain::readers::Arrival::Inserted,
                    ..
                } = &event
                {
                    self.selected_reader = Some(reader.clone());
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
        // The cards a request names may have changed with the list.
        self.detail.forget_cards();
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
            reader: self.chosen_reader_with_card(),
            inserted_after: self.desk_cards_after,
        }
    }

    /// The reader chosen (by a "Use this reader" click or the last
    /// insertion) while it holds a card; an emptied one no longer counts,
    /// so a good card in another reader is never refused for it.
    fn chosen_reader_with_card(&self) -> Option<String> {
        self.selected_reader
            .clone()
            .filter(|r| matches!(self.board.get(r), Some(SlotState::Present { .. })))
    }

    /// The readers that hold a card, by name.
    pub fn readers_with_cards(&self) -> Vec<String> {
        self.board
            .readers()
            .filter(|(_, slot)| matches!(slot, SlotState::Present { .. }))
            .map(|(name, _)| name.to_owned())
            .collect()
    }

    /// The reader whose card a bind at the desk would use, if one is clear.
    pub fn desk_reader(&self) -> Option<String> {
        self.chosen_reader_with_card().or_else(|| {
            let mut with_cards = self.readers_with_cards();
            (with_cards.len() == 1).then(|| with_cards.remove(0))
        })
    }

    /// "Use this reader": the operator names the reader when several hold a card.
    pub fn use_reader(&mut self, reader: String) {
        if self.board.get(&reader).is_some() {
            self.selected_reader = Some(reader);
        }
    }

    /// What a click on **Bind** would bind, or why the button is disabled.
    pub fn bind_target(&self) -> Result<BindTarget, BindBlocked> {
        if self.bind.is_in_flight() {
            return Err(BindBlocked::InFlight);
        }
        if self.batch.is_running() {
            return Err(BindBlocked::BatchRunning);
        }
        if let Some(selected) = self.batch.selection.marked(self.selected_request) {
            return Err(BindBlocked::Selection(selected));
        }
        if self.requests.is_empty() && self.requests_error.is_some() {
            return Err(BindBlocked::NoList);
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
        let identity = self.people.peek_of(request.target_user);
        match (&identity, request.target_user) {
            (Identity::Looking, _) => return Err(BindBlocked::CheckingPerson),
            (Identity::NotFound, Some(user)) => return Err(BindBlocked::NoAccount(user)),
            _ => {}
        }
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
            person: BindTarget::person_for(request, &identity),
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

    /// What the request detail pane asks CM now about the selected request
    /// (its cards, and the workflow policy of a Pending one), each once;
    /// nothing while the pane is closed or at a kiosk.
    pub fn detail_questions(&mut self) -> Vec<Command> {
        if self.kiosk.active || !self.detail.open {
            return Vec::new();
        }
        // Only a request the list shows: the pane never names a hidden one.
        let selected = self.request().cloned();
        self.detail.questions(selected.as_ref())
    }

    /// The target accounts to look up in the directory now: those drawn
    /// this frame, and always the one a bind would bind (the kiosk's scanned
    /// request or the desk's selected one), even when its row is not drawn.
    pub fn people_questions(&mut self) -> Vec<Uuid> {
        let bound_for = if self.kiosk.active {
            match &self.kiosk.flow.step {
                crate::app::kiosk::Step::Card(request) => request.target_user,
                _ => None,
            }
        } else {
            self.request().and_then(|r| r.target_user)
        };
        if let Some(user) = bound_for {
            self.people.identity(user);
        }
        self.people.questions()
    }

    /// Starts the desk's automatic refresh: every `interval` from `now`.
    pub fn start_auto_refresh(&mut self, interval: std::time::Duration, now: std::time::Instant) {
        self.auto_refresh = Some(crate::app::desk::AutoRefresh::new(interval, now));
        self.list_status.set_retry_every(interval);
    }

    /// A refresh asked for by hand: the fetch to send; the next automatic
    /// one is a whole interval away.
    pub fn refresh_now(&mut self, now: std::time::Instant) -> Command {
        if let Some(auto) = &mut self.auto_refresh {
            auto.restart(now);
        }
        self.view.release_on_next_load();
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
                self.view.release_on_next_load();
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
        self.kiosk.wake_at(now)
    }

    /// The desk a supervisor opened from the kiosk, at the window's time
    /// `now`: true when it has had no deliberate input (`touched`) for the
    /// kiosk's idle time, and the caller goes back to the kiosk. A bind
    /// under way holds it. False at the kiosk and at a desk station.
    pub fn kiosk_desk_tick(&mut self, now: f64, touched: bool) -> bool {
        let busy = self.bind.is_in_flight();
        self.kiosk.desk_tick(now, touched, busy)
    }

    /// The kiosk started over (any reset: idle, the card step's wait, a
    /// result, Start over, back from the desk): the reader a card last went
    /// into is no one's choice for the next person (review L8).
    pub fn kiosk_person_forgotten(&mut self) {
        self.selected_reader = None;
    }

    /// Goes back to the kiosk a supervisor left: the desk's list, selection
    /// and search go, so the next person at the kiosk cannot reach them,
    /// and so do the reader choice, the readers' history and the notices
    /// (review L8).
    pub fn return_to_kiosk(&mut self) {
        self.kiosk.resume();
        self.requests = Vec::new();
        self.view.clear();
        self.selected_request = None;
        self.requests_error = None;
        self.loading = false;
        self.supervisor_prompt = None;
        self.selected_reader = None;
        self.reader_history.clear();
        self.notices.clear();
        self.toasts = crate::app::desk::Toasts::default();
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
mod tests;
