//! What the list says about itself besides its rows: whether it is loading
//! and for how long, when it was last updated, why it could not be loaded
//! (in plain words, the technical text kept for "Details"), and which of
//! the filter's choices is shown (review P2-14, P2-20, P3-21).

use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::app::station::StationState;
use crate::domain::bind::Failure;
use crate::domain::request::{RequestQuery, RequestStatus, ShownTime};
use crate::worker::{Command, Report};

/// The refresh spinner shows at least this long, so a click on Refresh is
/// seen to do something even when the answer is instant.
pub const MIN_SPIN: Duration = Duration::from_millis(400);

/// The list's loads as the window has seen them.
#[derive(Clone, Debug, Default)]
pub struct ListStatus {
    /// When the fetch under way started.
    loading_since: Option<Instant>,
    /// The spinner shows until then at least.
    spin_until: Option<Instant>,
    /// When a list last arrived (UTC).
    loaded_at: Option<OffsetDateTime>,
    /// When the last answer, a list or a failure, arrived (UTC).
    tried_at: Option<OffsetDateTime>,
    /// The operator cancelled the load: its late answer is dropped.
    cancelled: bool,
    /// How often the list fetches itself again.
    retry_every: Option<Duration>,
}

/// What the header shows beside Refresh.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshFeedback {
    /// Show the spinner: a load is under way, or one started less than
    /// [`MIN_SPIN`] ago.
    pub spinning: bool,
    /// "Updated 21:42:10 +01:00": the local time of the last list that
    /// arrived; `None` before the first.
    pub updated: Option<String>,
}

impl ListStatus {
    /// Takes note of `report` for the list of `query` (the one shown).
    /// False when it is the late answer of a load the operator cancelled:
    /// the caller drops it.
    pub fn observe(&mut self, report: &Report, query: RequestQuery, now: Instant) -> bool {
        let at = OffsetDateTime::now_utc();
        match report {
            Report::RequestsLoading(q) if *q == query => {
                self.started(now);
                true
            }
            Report::Requests { query: q, result } if *q == query => {
                !self.cancelled && {
                    self.answered(result.is_ok(), at);
                    true
                }
            }
            Report::RequestsIndexed { query: q, .. } if *q == query => {
                !self.cancelled && {
                    self.answered(true, at);
                    true
                }
            }
            _ => true,
        }
    }

    /// A fetch started at `now`.
    pub fn started(&mut self, now: Instant) {
        self.loading_since = Some(now);
        self.spin_until = Some(now + MIN_SPIN);
        self.cancelled = false;
    }

    /// An answer arrived at `at`: a list (`ok`) or a failure.
    pub fn answered(&mut self, ok: bool, at: OffsetDateTime) {
        self.loading_since = None;
        self.tried_at = Some(at);
        if ok {
            self.loaded_at = Some(at);
        }
    }

    /// The operator stopped the load: its answer, if it still comes, is dropped.
    pub fn cancel(&mut self) {
        self.loading_since = None;
        self.spin_until = None;
        self.cancelled = true;
    }

    /// True after Cancel, until the next fetch starts.
    pub fn was_cancelled(&self) -> bool {
        self.cancelled
    }

    /// The list fetches itself again every `interval`.
    pub fn set_retry_every(&mut self, interval: Duration) {
        self.retry_every = Some(interval.max(Duration::from_secs(1)));
    }

    /// How long the fetch under way has taken at `now`.
    pub fn loading_for(&self, now: Instant) -> Option<Duration> {
        self.loading_since
            .map(|since| now.saturating_duration_since(since))
    }

    /// The header's spinner and "Updated" time at `now`; `loading` is
    /// whether a fetch for the shown query is under way.
    pub fn feedback(&self, loading: bool, now: Instant) -> RefreshFeedback {
        RefreshFeedback {
            spinning: loading || self.spin_until.is_some_and(|until| now < until),
            updated: self
                .loaded_at
                .map(|at| format!("Updated {}", ShownTime::local(at).clock())),
        }
    }

    /// "Last tried 21:51:11 +01:00, retrying every 30 s.", once an answer came.
    pub fn retry_line(&self) -> Option<String> {
        let tried = ShownTime::local(self.tried_at?).clock();
        Some(match self.retry_every {
            Some(every) => format!(
                "Last tried {tried}, retrying every {} s.",
                every.as_secs().max(1)
            ),
            None => format!("Last tried {tried}."),
        })
    }

    /// The local time of the last list that arrived ("21:42:10 +01:00").
    pub fn loaded_clock(&self) -> Option<String> {
        self.loaded_at.map(|at| ShownTime::local(at).clock())
    }
}

/// Why the list could not be loaded, for the list's empty state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListProblem {
    /// One sentence in plain words: "Can't reach cm.contoso.com: connection refused."
    pub headline: String,
    /// The full technical text (with the OS error code), behind "Details";
    /// `None` when the headline is the whole message.
    pub details: Option<String>,
    /// The server did not answer at all (no connection, no answer in time,
    /// a broken connection): testing the connection is what helps.
    pub unreachable: bool,
}

impl ListProblem {
    /// Words a failure to load the list for a desk agent. The client's
    /// messages name the call ("during GET requests") and the OS error
    /// code; those stay in the details.
    pub fn from_failure(failure: &Failure) -> ListProblem {
        let message = failure.to_string();
        if let Some(rest) = message.strip_prefix("Cannot reach the CM server at ")
            && let Some((host, rest)) = rest.split_once(": ")
            && let Some((detail, _)) = rest.split_once(". Check the server name")
        {
            return ListProblem {
                headline: format!("Can't reach {host}: {}.", plain_detail(detail)),
                details: Some(message.clone()),
                unreachable: true,
            };
        }
        if let Some(rest) = message.strip_prefix("The CM server did not answer within ")
            && let Some((after, _)) = rest.split_once(" during ")
        {
            return ListProblem {
                headline: format!("The CM server did not answer within {after}."),
                details: Some(message.clone()),
                unreachable: true,
            };
        }
        if message.starts_with("The CM server broke the connection") {
            return ListProblem {
                headline: "The connection to the CM server broke before the list arrived."
                    .to_owned(),
                details: Some(message.clone()),
                unreachable: true,
            };
        }
        ListProblem {
            headline: message,
            details: None,
            unreachable: false,
        }
    }
}

/// "Connection refused (os error 111)" as "connection refused".
fn plain_detail(detail: &str) -> String {
    let detail = match detail.rfind(" (os error ") {
        Some(at) if detail.ends_with(')') => &detail[..at],
        _ => detail,
    };
    let mut chars = detail.chars();
    match (chars.next(), chars.next()) {
        // An acronym ("DNS ...") keeps its case.
        (Some(first), Some(second)) if !second.is_uppercase() => {
            first.to_lowercase().chain(detail.chars().skip(1)).collect()
        }
        _ => detail.to_owned(),
    }
}

/// A choice of the filter above the list: a query the server answers, or
/// the requests that can take a card now, picked out of the open ones here
/// (the server has no such query).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListChoice {
    /// The agent's queue: open requests that can take a card now.
    ReadyForCard,
    /// What the server returns for a query.
    Query(RequestQuery),
}

impl ListChoice {
    /// The choices, in the filter's order: the agent's queue first.
    pub const ALL: [ListChoice; 7] = [
        ListChoice::ReadyForCard,
        ListChoice::Query(RequestQuery::Open),
        ListChoice::Query(RequestQuery::Status(RequestStatus::APPROVED)),
        ListChoice::Query(RequestQuery::Status(RequestStatus::PENDING)),
        ListChoice::Query(RequestQuery::Status(RequestStatus::EXECUTING)),
        ListChoice::Query(RequestQuery::Status(RequestStatus::COMPLETED)),
        ListChoice::Query(RequestQuery::All),
    ];

    /// The label in the filter.
    pub fn label(self) -> String {
        match self {
            ListChoice::ReadyForCard => "Ready for a card".to_owned(),
            ListChoice::Query(query) => query.label(),
        }
    }

    /// What the server is asked for.
    pub fn query(self) -> RequestQuery {
        match self {
            ListChoice::ReadyForCard => RequestQuery::Open,
            ListChoice::Query(query) => query,
        }
    }
}

impl StationState {
    /// The header's spinner and "Updated hh:mm:ss" at `now`.
    pub fn refresh_feedback(&self, now: Instant) -> RefreshFeedback {
        self.list_status.feedback(self.loading, now)
    }

    /// Cancel in the list while it loads: the load stops here at once (its
    /// answer, if it still comes, is dropped) and the command stops it in
    /// the worker. `None` when nothing is loading.
    pub fn cancel_loading(&mut self) -> Option<Command> {
        if !self.loading {
            return None;
        }
        self.loading = false;
        self.list_status.cancel();
        Some(Command::CancelRequests)
    }

    /// The filter's choice that is shown.
    pub fn list_choice(&self) -> ListChoice {
        if self.view.ready_only() && self.query == RequestQuery::Open {
            ListChoice::ReadyForCard
        } else {
            ListChoice::Query(self.query)
        }
    }

    /// The operator chose `choice` in the filter: the fetch to send when
    /// the server must be asked, `None` when the list already holds it.
    pub fn choose_list(&mut self, choice: ListChoice, now: Instant) -> Option<Command> {
        if choice == self.list_choice() {
            return None;
        }
        self.view.set_ready_only(choice == ListChoice::ReadyForCard);
        let query = choice.query();
        if query == self.query {
            // The same list, fewer rows: a selection it hides goes.
            self.apply_search();
            return None;
        }
        self.set_query(query);
        Some(self.refresh_now(now))
    }

    /// Why the last load failed, in the list's words.
    pub fn list_problem(&self) -> Option<ListProblem> {
        self.requests_error.as_ref().map(ListProblem::from_failure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cm::error::CmError;
    use crate::domain::request::example_request;

    fn load(state: &mut StationState, ids: &[u128]) {
        state.apply(Report::RequestsLoading(state.query));
        state.apply(Report::Requests {
            query: state.query,
            result: Ok(ids
                .iter()
                .map(|&id| example_request(id, RequestStatus::APPROVED))
                .collect()),
        });
    }

    #[test]
    fn the_spinner_shows_at_least_400_ms_and_the_update_time_follows_each_list() {
        let mut status = ListStatus::default();
        let start = Instant::now();
        assert_eq!(
            status.feedback(false, start),
            RefreshFeedback {
                spinning: false,
                updated: None
            }
        );
        status.started(start);
        let at = crate::domain::request::at("2026-11-27T21:42:10Z");
        status.answered(true, at);
        let instant = status.feedback(false, start + Duration::from_millis(5));
        assert!(instant.spinning, "an instant answer still spins");
        assert_eq!(
            instant.updated,
            Some(format!("Updated {}", ShownTime::local(at).clock()))
        );
        assert!(!status.feedback(false, start + MIN_SPIN).spinning);
        assert!(
            status
                .feedback(true, start + Duration::from_secs(9))
                .spinning,
            "a slow load spins as long as it runs"
        );
        // A failure leaves the time of the last list.
        status.started(start + Duration::from_secs(30));
        status.answered(false, at + time::Duration::seconds(30));
        assert_eq!(
            status
                .feedback(false, start + Duration::from_secs(40))
                .updated,
            instant.updated
        );
        assert!(
            status
                .retry_line()
                .is_some_and(|line| line.starts_with("Last tried ")),
            "{:?}",
            status.retry_line()
        );
    }

    #[test]
    fn the_station_reports_refresh_feedback_from_the_worker_reports() {
        let mut state = StationState::default();
        let now = Instant::now();
        assert!(!state.refresh_feedback(now).spinning);
        state.apply(Report::RequestsLoading(state.query));
        let loading = state.refresh_feedback(Instant::now());
        assert!(loading.spinning && loading.updated.is_none());
        load(&mut state, &[1]);
        let done = state.refresh_feedback(Instant::now());
        assert!(done.spinning, "still within 400 ms of the start");
        assert!(
            done.updated
                .as_deref()
                .is_some_and(|u| u.starts_with("Updated ") && u.len() > "Updated 00:00:00".len()),
            "{done:?}"
        );
        assert!(!state.refresh_feedback(Instant::now() + MIN_SPIN).spinning);
    }

    #[test]
    fn a_cancelled_load_stops_at_once_and_its_late_answer_is_dropped() {
        let mut state = StationState::default();
        load(&mut state, &[1]);
        assert_eq!(state.cancel_loading().map(|_| ()), None, "nothing loads");
        state.loading = true;
        state.apply(Report::RequestsLoading(state.query));
        assert!(matches!(
            state.cancel_loading(),
            Some(Command::CancelRequests)
        ));
        assert!(!state.loading && !state.refresh_feedback(Instant::now()).spinning);
        assert!(state.list_status.was_cancelled());
        state.apply(Report::Requests {
            query: state.query,
            result: Ok(vec![example_request(2, RequestStatus::APPROVED)]),
        });
        assert_eq!(
            state
                .requests
                .iter()
                .map(|r| r.uuid.as_u128())
                .collect::<Vec<_>>(),
            [1],
            "the cancelled load's answer is dropped"
        );
        // The next fetch is heard again.
        load(&mut state, &[3]);
        assert_eq!(state.requests.len(), 1);
        assert_eq!(state.requests[0].uuid.as_u128(), 3);
        assert!(!state.list_status.was_cancelled());
    }

    #[test]
    fn after_a_bind_the_row_stays_through_the_binds_own_refresh_and_moves_at_the_next() {
        use crate::domain::bind::{BindReceipt, BindTarget};
        let now = Instant::now();
        let mut state = StationState::default();
        state.start_auto_refresh(Duration::from_secs(30), now);
        load(&mut state, &[1, 2, 3]);
        let id = |n: u128| uuid::Uuid::from_u128(n);
        let position = |state: &StationState, n: u128| state.view.position(&state.requests, id(n));
        assert_eq!(position(&state, 1), Some(0));
        state.selected_request = Some(id(1));
        let bound = crate::domain::bind::BindState::Bound {
            target: BindTarget {
                request_id: id(1),
                person: String::new(),
                reader: "R".into(),
                expected: crate::domain::card::example_identity(
                    1,
                    crate::domain::card::CardKind::Piv,
                ),
                supervisor: None,
            },
            receipt: BindReceipt::default(),
            confirmed_after_loss: false,
        };
        assert!(
            state.apply(Report::Bind(bound)),
            "the bind asks for the list"
        );
        let mut with_card: Vec<_> = [1, 2, 3]
            .map(|n| example_request(n, RequestStatus::APPROVED))
            .into();
        with_card[0].new_smartcard = Some(id(0xc));
        with_card.sort_by(crate::domain::request::Request::list_order);
        let answer = |state: &mut StationState, list: &Vec<_>| {
            state.apply(Report::RequestsLoading(state.query));
            state.apply(Report::Requests {
                query: state.query,
                result: Ok(list.clone()),
            });
        };
        answer(&mut state, &with_card);
        assert_eq!(position(&state, 1), Some(0), "kept in place");
        assert_eq!(state.view.just_bound(), Some(id(1)));
        assert_eq!(state.selected_request, Some(id(1)), "and still selected");
        let _ = state.refresh_now(now);
        answer(&mut state, &with_card);
        assert_eq!(position(&state, 1), Some(2), "the refresh sorts it last");
        assert_eq!(state.view.just_bound(), None);
        // The timer lets go of a held row too.
        let (sent, _) = state.tick(now + Duration::from_secs(31));
        assert_eq!(sent.len(), 1);
    }

    #[test]
    fn connection_failures_are_worded_for_the_agent_with_the_details_kept() {
        let refused = CmError::Connect {
            host: "cm.contoso.com:443".into(),
            detail: "Connection refused (os error 111)".into(),
        }
        .to_failure();
        let problem = ListProblem::from_failure(&refused);
        assert_eq!(
            problem.headline,
            "Can't reach cm.contoso.com:443: connection refused."
        );
        assert!(problem.unreachable);
        assert!(
            problem
                .details
                .as_deref()
                .is_some_and(|d| d.contains("(os error 111)"))
        );

        let timeout = CmError::Timeout {
            what: crate::cm::error::CallName::new(&reqwest::Method::GET, "requests"),
            after: Duration::from_secs(30),
        }
        .to_failure();
        let problem = ListProblem::from_failure(&timeout);
        assert_eq!(
            problem.headline,
            "The CM server did not answer within 30 s."
        );
        assert!(
            !problem.headline.contains("GET"),
            "no HTTP words for an agent"
        );
        assert!(problem.unreachable);

        let broken = CmError::Network {
            what: crate::cm::error::CallName::new(&reqwest::Method::GET, "requests"),
            detail: "connection reset by peer (os error 104)".into(),
        }
        .to_failure();
        let problem = ListProblem::from_failure(&broken);
        assert!(!problem.headline.contains("GET"), "{}", problem.headline);
        assert!(problem.unreachable);

        let server = Failure {
            message: "The CM server failed (HTTP 500): boom.".into(),
            correlation_id: Some("abc".into()),
        };
        let problem = ListProblem::from_failure(&server);
        assert!(problem.headline.contains("boom") && problem.headline.contains("abc"));
        assert!(!problem.unreachable && problem.details.is_none());
    }

    #[test]
    fn ready_for_a_card_is_the_first_choice_and_needs_no_second_fetch() {
        assert_eq!(ListChoice::ALL[0], ListChoice::ReadyForCard);
        assert_eq!(ListChoice::ALL[0].label(), "Ready for a card");
        let mut state = StationState::default();
        let mut pending = example_request(2, RequestStatus::PENDING);
        pending.priority = -1;
        state.apply(Report::Requests {
            query: RequestQuery::Open,
            result: Ok(vec![example_request(1, RequestStatus::APPROVED), pending]),
        });
        state.selected_request = Some(uuid::Uuid::from_u128(2));
        let now = Instant::now();
        assert!(
            state.choose_list(ListChoice::ReadyForCard, now).is_none(),
            "the open list already holds them"
        );
        assert_eq!(state.list_choice(), ListChoice::ReadyForCard);
        assert_eq!(state.view.rows().len(), 1);
        assert_eq!(state.selected_request, None, "the hidden pending one");
        assert!(
            state
                .view
                .summary(false)
                .starts_with("1 of 2 shown · 1 ready")
        );
        assert!(matches!(
            state.choose_list(ListChoice::Query(RequestQuery::All), now),
            Some(Command::RefreshRequests(RequestQuery::All))
        ));
        assert_eq!(state.list_choice(), ListChoice::Query(RequestQuery::All));
        assert!(!state.view.ready_only());
    }
}
