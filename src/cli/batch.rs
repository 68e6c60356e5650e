//! `enroll-station batch`: a queue of requests bound across every reader at
//! once (issue 22), for scripts and a counter without the window.

use std::collections::HashMap;
use std::io::Read as _;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde::Serialize;
use uuid::Uuid;
use wildmatch::WildMatch;

use super::Settings;
use super::escape::term;
use super::output::print_json;
use crate::card::monitor::{EventSink, spawn_monitor_with};
use crate::domain::batch::cohort::{self, CohortEntry};
use crate::domain::batch::{BatchConfig, Totals};
use crate::supervisors::SupervisorPurpose;
use crate::worker::batch::{BatchInput, BatchSpec, BatchUpdate, MemberEnd, run_batch};
use crate::worker::effects::BindContext;

/// The most requests one file may hold: far beyond a day at a counter, and
/// a bound on what a wrong file (a disk image piped in) can make us read.
const MAX_REQUESTS: usize = 100_000;

/// The longest line a requests file may have.
const MAX_LINE: usize = 1_000;

/// `batch`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct BatchArgs {
    /// A file with one request GUID per line, or an employee ID (a value
    /// the request's requester entered, matched to exactly one request
    /// waiting for a card); blank lines and lines starting with # are
    /// ignored. - reads standard input.
    #[arg(long, value_name = "FILE")]
    requests: String,
    /// Use only readers whose name matches (`*` and `?` wildcards, any
    /// case); give it again for more. Without it, every reader is used.
    #[arg(long, value_name = "PATTERN")]
    reader: Vec<String>,
    /// Stop when no card came and no bind ran for this long; the requests
    /// left are reported as remaining.
    #[arg(long, default_value_t = 300, value_name = "N")]
    timeout_secs: u64,
    /// The most binds (so POSTs to CM) at once; default: the configuration's
    /// `batch_max_concurrent_posts` (4). A machine policy's value cannot be
    /// raised here.
    #[arg(long, value_name = "N")]
    max_concurrent: Option<usize>,
    /// At a supervised station: the supervisor who confirms the whole
    /// batch; their password is read from standard input (without echo on
    /// a terminal). With --requests -, the password is the first line.
    #[arg(long, value_name = "NAME")]
    supervisor: Option<String>,
    /// Print one JSON line per ended bind, then a summary line.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct SummaryJson {
    summary: SummaryCounts,
}

#[derive(Serialize)]
struct SummaryCounts {
    bound: usize,
    refused: usize,
    failed: usize,
    skipped: usize,
    remaining: usize,
}

impl From<Totals> for SummaryCounts {
    fn from(t: Totals) -> Self {
        SummaryCounts {
            bound: t.bound,
            refused: t.refused,
            failed: t.failed,
            skipped: t.skipped,
            remaining: t.remaining,
        }
    }
}

/// Reads the list: one request GUID or employee ID per line, in order.
fn parse_entries(text: &str) -> anyhow::Result<Vec<(usize, CohortEntry)>> {
    let mut out = Vec::new();
    for (at, line) in text.lines().enumerate() {
        let number = at + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.chars().count() > MAX_LINE {
            bail!("Line {number} of the requests file is too long to be a request or an ID.");
        }
        if line.chars().any(char::is_control) {
            bail!(
                "Line {number} of the requests file holds control characters ({}). Nothing was \
                 bound.",
                term(line)
            );
        }
        let entry = match crate::domain::guid::parse(line) {
            Some(request) => CohortEntry::Request(request),
            None => CohortEntry::Value(line.to_owned()),
        };
        out.push((number, entry));
        if out.len() > MAX_REQUESTS {
            bail!("The requests file holds more than {MAX_REQUESTS} lines: split it.");
        }
    }
    if out.is_empty() {
        bail!("The requests file holds no request GUID or ID. Nothing was bound.");
    }
    Ok(out)
}

/// The queue: employee IDs matched to their requests (the list is read
/// from CM only when the file holds one), then each request once.
fn resolve_queue(
    entries: &[(usize, CohortEntry)],
    requests: Option<&[crate::domain::request::Request]>,
) -> anyhow::Result<Vec<Uuid>> {
    let queue = match requests {
        Some(requests) => cohort::resolve(entries, requests)
            .map_err(|why| anyhow::anyhow!("In the requests file, {why}. Nothing was bound."))?,
        None => entries
            .iter()
            .filter_map(|(_, e)| match e {
                CohortEntry::Request(id) => Some(*id),
                CohortEntry::Value(_) => None,
            })
            .collect(),
    };
    let mut seen: HashMap<Uuid, usize> = HashMap::new();
    for (request, (number, _)) in queue.iter().zip(entries) {
        if let Some(first) = seen.insert(*request, *number) {
            bail!(
                "Request {request} is on line {first} and again on line {number} of the requests \
                 file. A batch binds each request once: remove one. Nothing was bound."
            );
        }
    }
    Ok(queue)
}

fn needs_list(entries: &[(usize, CohortEntry)]) -> bool {
    entries
        .iter()
        .any(|(_, e)| matches!(e, CohortEntry::Value(_)))
}

fn read_entries(source: &str) -> anyhow::Result<Vec<(usize, CohortEntry)>> {
    let limit = (MAX_REQUESTS * 40) as u64;
    let mut text = String::new();
    if source == "-" {
        std::io::stdin()
            .take(limit)
            .read_to_string(&mut text)
            .context("Could not read the requests from standard input")?;
    } else {
        std::fs::File::open(source)
            .and_then(|f| f.take(limit).read_to_string(&mut text))
            .with_context(|| format!("Could not read the requests file {}", term(source)))?;
    }
    parse_entries(&text)
}

pub(super) fn run(settings: &Settings, args: BatchArgs) -> anyhow::Result<()> {
    let configured = settings.config.batch_max_concurrent_posts.get();
    let max_concurrent = match args.max_concurrent {
        None => configured,
        Some(0) => bail!("--max-concurrent must be at least 1."),
        Some(n)
            if n > configured
                && settings
                    .policy
                    .pinned("batch_max_concurrent_posts")
                    .is_some() =>
        {
            bail!(
                "The machine policy allows at most {configured} binds at once \
             (batch_max_concurrent_posts); --max-concurrent {n} cannot raise it."
            )
        }
        Some(n) => n.min(usize::from(crate::config::BatchCap::MAX)),
    };
    let witness = super::bind::witness(settings, args.supervisor.as_deref())?;
    if witness.is_some() && args.requests == "-" {
        bail!(
            "At a supervised station the supervisor's password is read from standard input, so \
             the requests must come from a file: give --requests FILE."
        );
    }
    let entries = read_entries(&args.requests)?;
    let client = settings.client()?;
    let journal = crate::audit::journal::open_shared(settings.audit_file(), false)?;
    let runtime = super::runtime()?;
    let listed = if needs_list(&entries) {
        let all = runtime.block_on(client.list_requests(None)).context(
            "The requests file names employee IDs, and CM's request list to find them in could \
             not be read",
        )?;
        Some(all)
    } else {
        None
    };
    let requests = resolve_queue(&entries, listed.as_deref())?;
    // Signs in first, so the principal is known for the witness check.
    if let Err(error) = runtime.block_on(client.get_request(requests[0])) {
        tracing::debug!(%error, "the sign-in before the batch failed");
    }
    let operator = crate::worker::effects::operator_of(&client);
    // The same queue, left open by a crash or a closed station, is resumed.
    let open = journal
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .open_batches()
        .into_iter()
        .rev()
        .find(|open| open.members() == requests.as_slice());
    let id = open.as_ref().map_or_else(Uuid::new_v4, |o| o.id());
    let mut supervisor = None;
    if let Some((name, store)) = &witness {
        let purpose = SupervisorPurpose::ConfirmBatch {
            batch: id,
            size: requests.len(),
            first: requests[0].to_string(),
            last: requests[requests.len() - 1].to_string(),
        };
        let prompt = format!(
            "Batch of {} requests, from {} to {}: supervisor {name}, confirm with your password.",
            requests.len(),
            requests[0],
            requests[requests.len() - 1]
        );
        supervisor = Some(super::bind::confirm_purpose(
            name, store, &purpose, &prompt, &operator, &journal,
        )?);
    }
    let context = BindContext {
        client,
        readers: Arc::new(settings.card_reader()),
        journal,
    };
    let spec = BatchSpec {
        id,
        requests,
        config: BatchConfig {
            max_concurrent_posts: max_concurrent,
        },
        supervisor,
        people: HashMap::new(),
        idle_timeout: Some(Duration::from_secs(args.timeout_secs)),
    };
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let patterns: Vec<WildMatch> = args
        .reader
        .iter()
        .map(|p| WildMatch::new_case_insensitive(p.trim()))
        .collect();
    let sink: EventSink = Arc::new(move |event| {
        let wanted = patterns.is_empty()
            || event
                .reader()
                .is_none_or(|reader| patterns.iter().any(|p| p.matches(reader)));
        if wanted {
            let _ = tx.send(BatchInput::Reader(event));
        }
    });
    // Cards already in the readers are reported as present, and used.
    let _monitor = spawn_monitor_with(settings.reader_filter().wrap(sink), settings.card_reader());
    if !args.json {
        eprintln!(
            "enroll-station: batch {id} of {} requests{}. Insert the cards; each reader's card \
             takes the next request. It stops after {} s without a card.",
            spec.requests.len(),
            if open.is_some() { " (resumed)" } else { "" },
            args.timeout_secs
        );
    }
    let json = args.json;
    let summary = runtime.block_on(run_batch(context, spec, open.is_some(), rx, |update| {
        report(update, json);
    }))?;
    if json {
        print_json(&SummaryJson {
            summary: summary.totals.into(),
        })?;
    } else {
        let t = summary.totals;
        println!(
            "Batch {id}: {} bound, {} cards refused, {} failed, {} skipped, {} remaining.",
            t.bound, t.refused, t.failed, t.skipped, t.remaining
        );
    }
    let t = summary.totals;
    if t.failed + t.skipped + t.remaining > 0 {
        bail!(
            "Not every request was bound ({} failed, {} skipped, {} remaining). Run the same \
             command again to resume the batch where it stopped.",
            t.failed,
            t.skipped,
            t.remaining
        );
    }
    Ok(())
}

fn report(update: BatchUpdate, json: bool) {
    match update {
        BatchUpdate::View(_) => {}
        BatchUpdate::Notice(words) => eprintln!("enroll-station: {}", term(&words)),
        BatchUpdate::Ended(line) if json => {
            if let Err(why) = print_json(&line) {
                eprintln!("enroll-station: {why}");
            }
        }
        BatchUpdate::Ended(line) => println!("{}", human(&line)),
    }
}

fn human(line: &MemberEnd) -> String {
    let card = line
        .card_id
        .as_deref()
        .map_or_else(String::new, |c| format!(" card {c}"));
    let reader = line
        .reader
        .as_deref()
        .map_or_else(String::new, |r| format!(" in \"{}\"", term(r)));
    let words = line
        .message
        .as_deref()
        .map_or_else(String::new, |m| format!(": {}", term(m)));
    format!(
        "{} request {}{card}{reader}{words}",
        line.outcome.as_str(),
        line.request_id
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(text: &str) -> anyhow::Result<Vec<Uuid>> {
        resolve_queue(&parse_entries(text)?, None)
    }

    #[test]
    fn a_requests_file_is_read_in_order_and_each_request_once() {
        let a = "6f1c2a3b-0000-4000-8000-000000000001";
        let b = "{6F1C2A3B-0000-4000-8000-000000000002}";
        let read = queue(&format!("# cohort\n{a}\n\n  {b}  \n")).expect("two requests");
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].to_string(), a);
        let twice = queue(&format!("{a}\n{b}\n{a}\n")).expect_err("a duplicate");
        assert!(
            twice.to_string().contains("line 1 and again on line 3"),
            "{twice}"
        );
        let id = parse_entries(&format!("{a}\nE1234\n")).expect("a GUID and an ID");
        assert_eq!(id[1], (2, CohortEntry::Value("E1234".into())));
        assert!(needs_list(&id));
        let hidden = parse_entries("E12\u{1b}[2J34\n").expect_err("an escape sequence");
        assert!(
            hidden.to_string().contains("control characters"),
            "{hidden}"
        );
        assert!(parse_entries("# nothing\n\n").is_err());
    }
}
