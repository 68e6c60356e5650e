//! A bind happens exactly once, to the right card, and is never lost: the
//! emulator over real HTTP injects faults, cards come from the demo reader's
//! virtual cards or from real pcscd with vpcd, and the real audit journal records.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::vpcd::{FIRST_PORT, insert, reader_name, take_slots};
use enroll_station::card::IdentityReader as _;
use enroll_station::card::demo::{DEMO_READER, DemoReader, demo_cards};
use enroll_station::card::pcsc_reader::PcscReader;
use enroll_station::card::virtual_card::VirtualCard;
use enroll_station::cm::emulator::{BindAnswer, Emulator, EmulatorConfig, Faults, SIGN_IN_PATH};
use enroll_station::cm::{ClientConfig, CmClient};
use enroll_station::domain::bind::{BindState, BindTarget};
use enroll_station::domain::request::Request;
use enroll_station::worker::effects::{BindContext, run_bind};
use serde_json::Value;

fn journal_outcomes(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .map(|r| match r["outcome"].as_str() {
            Some(outcome) => outcome.to_owned(),
            None => r["event"].as_str().unwrap_or("?").to_owned(),
        })
        .collect()
}

/// The journal's lines as JSON.
fn journal_records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .collect()
}

/// The smart card object the emulator shows on a request, as the journal writes it.
fn bound_object(emulator: &Emulator, request: uuid::Uuid) -> Option<String> {
    emulator
        .requests()
        .into_iter()
        .find(|r| r.uuid == request)
        .and_then(|r| r.new_smartcard)
        .map(|u| u.to_string())
}

fn bindable(emulator: &Emulator) -> Request {
    emulator
        .requests()
        .into_iter()
        .find(Request::is_bindable)
        .expect("the demo data has an approved request")
}

struct Rig {
    runtime: tokio::runtime::Runtime,
    emulator: Emulator,
    demo: Arc<DemoReader>,
    journal: PathBuf,
    _journal_dir: tempfile::TempDir,
    context: BindContext,
}

/// The emulator, a demo reader holding the demo GIDS card, a fresh journal.
fn rig(request_timeout: Duration) -> Rig {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let emulator = runtime
        .block_on(Emulator::start(EmulatorConfig {
            requests: 6,
            ..EmulatorConfig::default()
        }))
        .expect("emulator");
    let mut config = ClientConfig::new(emulator.base_url());
    config.request_timeout = request_timeout;
    let client = CmClient::new(&config).expect("client");
    let demo = DemoReader::new(Arc::new(|_| {}));
    let (journal_dir, journal) = common::temp_journal();
    let context = BindContext {
        client,
        readers: demo.clone(),
        journal: enroll_station::audit::journal::open_shared(Some(&journal), true)
            .expect("journal"),
    };
    Rig {
        runtime,
        emulator,
        demo,
        journal,
        _journal_dir: journal_dir,
        context,
    }
}

impl Rig {
    fn target_with_card(&self, card: VirtualCard) -> BindTarget {
        self.demo.insert(card);
        let expected = self
            .demo
            .read_identity(DEMO_READER)
            .expect("the demo card has an ID");
        BindTarget {
            request_id: bindable(&self.emulator).uuid,
            person: String::new(),
            reader: DEMO_READER.into(),
            expected,
            supervisor: None,
        }
    }

    fn bind(&self, target: BindTarget) -> BindState {
        self.runtime.block_on(run_bind(
            &self.context,
            target,
            |_| {},
            |w| eprintln!("warning: {w}"),
        ))
    }
}

fn gids() -> VirtualCard {
    demo_cards().into_iter().next().expect("demo cards").card
}

#[test]
fn a_clean_bind_is_bound_once_and_journalled() {
    let rig = rig(Duration::from_secs(10));
    let target = rig.target_with_card(gids());
    let state = rig.bind(target.clone());
    assert!(
        matches!(
            state,
            BindState::Bound {
                confirmed_after_loss: false,
                ..
            }
        ),
        "{state:?}"
    );
    assert_eq!(rig.emulator.bind_count(), 1);
    assert_eq!(journal_outcomes(&rig.journal), ["attempt", "bound"]);
    // The same request again: refused by the pre-check, nothing posted.
    let again = rig.bind(target);
    assert!(
        matches!(&again, BindState::Refused { reason, .. } if reason.message.contains("already bound")),
        "{again:?}"
    );
    assert_eq!(rig.emulator.bind_count(), 1);
    assert_eq!(
        journal_outcomes(&rig.journal),
        ["attempt", "bound", "attempt", "refused"]
    );
}

#[test]
fn lost_answers_are_reconciled_to_exactly_one_bind() {
    let faults = [
        (
            "500 after commit",
            Faults {
                fail_after_commit: 1,
                ..Faults::default()
            },
        ),
        (
            "dropped connection after commit",
            Faults {
                drop_after_commit: 1,
                ..Faults::default()
            },
        ),
        (
            "answer after the timeout",
            Faults {
                post_delay: Duration::from_secs(3),
                ..Faults::default()
            },
        ),
    ];
    for (name, fault) in faults {
        let rig = rig(Duration::from_secs(1));
        let target = rig.target_with_card(gids());
        rig.emulator.set_faults(fault);
        let state = rig.bind(target);
        assert!(
            matches!(
                state,
                BindState::Bound {
                    confirmed_after_loss: true,
                    ..
                }
            ),
            "{name}: {state:?}"
        );
        assert_eq!(rig.emulator.bind_count(), 1, "{name}");
        assert_eq!(
            journal_outcomes(&rig.journal),
            ["attempt", "reconciled_bound"],
            "{name}"
        );
    }
}

#[test]
fn a_500_before_commit_is_proven_not_bound_and_never_reposted_blindly() {
    let rig = rig(Duration::from_secs(10));
    let target = rig.target_with_card(gids());
    rig.emulator.set_faults(Faults {
        fail_next_posts: 1,
        ..Faults::default()
    });
    let state = rig.bind(target.clone());
    let BindState::Failed {
        confirmed_not_bound: true,
        failure,
        ..
    } = &state
    else {
        panic!("expected a proven failure, got {state:?}");
    };
    assert!(
        failure.correlation_id.is_some(),
        "the server's correlation ID is kept"
    );
    assert_eq!(rig.emulator.bind_count(), 0);
    assert_eq!(
        journal_outcomes(&rig.journal),
        ["attempt", "reconciled_not_bound"]
    );
    // After that proof a new attempt is allowed and binds once.
    assert!(matches!(rig.bind(target), BindState::Bound { .. }));
    assert_eq!(rig.emulator.bind_count(), 1);
}

#[test]
fn a_forbidden_bind_fails_with_the_agent_message() {
    let rig = rig(Duration::from_secs(10));
    let target = rig.target_with_card(gids());
    rig.emulator.set_faults(Faults {
        forbid_binds: true,
        ..Faults::default()
    });
    let state = rig.bind(target);
    let BindState::Failed {
        failure,
        confirmed_not_bound: false,
        ..
    } = &state
    else {
        panic!("expected Failed, got {state:?}");
    };
    assert!(
        failure.message.contains("enrollment agent"),
        "{}",
        failure.message
    );
    assert_eq!(journal_outcomes(&rig.journal), ["attempt", "failed"]);
}

/// A sign-in front end answering the POST with 302 and a page: never a bind.
/// Whether the bind happened behind it is read from the request.
#[test]
fn a_302_to_a_sign_in_page_is_reconciled_never_taken_for_a_bind() {
    for committed_behind in [true, false] {
        let rig = rig(Duration::from_secs(10));
        let target = rig.target_with_card(gids());
        rig.emulator.set_faults(Faults {
            redirect_posts: 1,
            redirect_after_commit: committed_behind,
            // The emulator's own page: a client that followed would land there.
            redirect_location: Some(format!(
                "{}{SIGN_IN_PATH}?wa=wsignin1.0",
                rig.emulator.base_url()
            )),
            ..Faults::default()
        });
        let state = rig.bind(target.clone());
        assert_eq!(
            rig.emulator.sign_in_visits(),
            0,
            "the redirect was followed"
        );
        let records = journal_records(&rig.journal);
        let outcome = records.last().expect("an outcome record");
        let message = outcome["message"].as_str().unwrap_or_default().to_owned();
        assert!(message.contains("redirect (HTTP 302)"), "{message}");
        if committed_behind {
            assert!(
                matches!(
                    state,
                    BindState::Bound {
                        confirmed_after_loss: true,
                        ..
                    }
                ),
                "{state:?}"
            );
            assert_eq!(
                journal_outcomes(&rig.journal),
                ["attempt", "reconciled_bound"]
            );
            let object = bound_object(&rig.emulator, target.request_id).expect("bound behind");
            assert_eq!(outcome["smartcard_uuid"].as_str(), Some(object.as_str()));
            assert_eq!(rig.emulator.bind_count(), 1);
        } else {
            let BindState::Failed {
                confirmed_not_bound: true,
                failure,
                ..
            } = &state
            else {
                panic!("expected a proven failure, got {state:?}");
            };
            assert!(
                failure.message.contains("did not happen"),
                "{}",
                failure.message
            );
            assert!(!failure.message.contains("bound"), "{}", failure.message);
            assert!(!message.contains("bound"), "{message}");
            assert_eq!(
                journal_outcomes(&rig.journal),
                ["attempt", "reconciled_not_bound"]
            );
            assert!(outcome["smartcard_uuid"].is_null(), "{outcome}");
            assert_eq!(rig.emulator.bind_count(), 0);
            assert_eq!(bound_object(&rig.emulator, target.request_id), None);
        }
    }
}

/// A 204 names no smart card object: the journal still gets it, from the request.
#[test]
fn a_204_bind_journals_the_smart_card_uuid() {
    let rig = rig(Duration::from_secs(10));
    let target = rig.target_with_card(gids());
    rig.emulator.set_faults(Faults {
        bind_answer: BindAnswer::NoContent,
        ..Faults::default()
    });
    let state = rig.bind(target.clone());
    let BindState::Bound {
        receipt,
        confirmed_after_loss: false,
        ..
    } = &state
    else {
        panic!("expected Bound, got {state:?}");
    };
    let object = bound_object(&rig.emulator, target.request_id).expect("bound");
    assert_eq!(
        receipt.smartcard_uuid.map(|u| u.to_string()),
        Some(object.clone())
    );
    assert_eq!(journal_outcomes(&rig.journal), ["attempt", "bound"]);
    let records = journal_records(&rig.journal);
    let outcome = records.last().expect("an outcome record");
    assert_eq!(outcome["smartcard_uuid"].as_str(), Some(object.as_str()));
    let message = outcome["message"].as_str().unwrap_or_default();
    assert!(message.contains("204 No Content"), "{message}");
    assert!(message.contains("read from the request"), "{message}");
}

/// A card bound a moment ago has an Assigned object: in use, so refused
/// whatever the template's reuse switch says.
#[test]
fn a_card_in_use_in_cm_is_refused_before_the_post() {
    let rig = rig(Duration::from_secs(10));
    let first = rig.target_with_card(gids());
    assert!(matches!(rig.bind(first.clone()), BindState::Bound { .. }));
    let other_request = rig
        .emulator
        .requests()
        .into_iter()
        .find(|r| r.is_bindable() && r.uuid != first.request_id)
        .expect("a second approved request");
    let second = BindTarget {
        request_id: other_request.uuid,
        ..first
    };
    let state = rig.bind(second);
    assert!(
        matches!(&state, BindState::Refused { reason, .. } if reason.message.contains("CM already knows card") && reason.message.contains("status Assigned") && reason.message.contains("A card in use cannot be bound")),
        "{state:?}"
    );
    assert_eq!(rig.emulator.bind_count(), 1);
}

#[test]
fn a_swapped_demo_card_is_refused_and_nothing_is_sent() {
    let rig = rig(Duration::from_secs(10));
    let target = rig.target_with_card(gids());
    let piv = demo_cards()
        .into_iter()
        .nth(1)
        .expect("a PIV demo card")
        .card;
    rig.demo.insert(piv);
    let state = rig.bind(target);
    assert!(
        matches!(&state, BindState::Refused { reason, .. } if reason.message.contains("not the card you selected")),
        "{state:?}"
    );
    assert_eq!(rig.emulator.bind_count(), 0);
    assert_eq!(journal_outcomes(&rig.journal), ["attempt", "refused"]);
}

#[test]
fn a_swapped_card_in_a_real_reader_is_refused_and_nothing_is_sent() {
    let Some(_slots) = take_slots() else { return };
    let mut rig = rig(Duration::from_secs(10));
    rig.context.readers = Arc::new(PcscReader::new());
    let reader = reader_name(FIRST_PORT);
    let card_a = insert(VirtualCard::gids([0xa1; 16]), FIRST_PORT);
    let expected = PcscReader::new()
        .read_identity(&reader)
        .expect("card A is read");
    card_a.remove();
    assert!(
        common::vpcd::wait_for_card(&reader, false),
        "card A removed"
    );
    let _card_b = insert(VirtualCard::gids([0xb2; 16]), FIRST_PORT);
    let target = BindTarget {
        request_id: bindable(&rig.emulator).uuid,
        person: String::new(),
        reader,
        expected,
        supervisor: None,
    };
    let state = rig.bind(target);
    assert!(
        matches!(&state, BindState::Refused { reason, .. } if reason.message.contains("not the card you selected")),
        "{state:?}"
    );
    assert_eq!(rig.emulator.bind_count(), 0);
}

/// The `bind` command killed between its journalled attempt and its outcome
/// loses nothing: the next start reconciles the attempt against the server.
#[test]
fn a_bind_killed_mid_flight_is_reconciled_at_the_next_start() {
    let Some(_slots) = take_slots() else { return };
    let emulator = Emulator::start_on_thread(EmulatorConfig {
        requests: 6,
        ..EmulatorConfig::default()
    })
    .expect("emulator");
    emulator.set_faults(Faults {
        post_delay: Duration::from_secs(30),
        ..Faults::default()
    });
    let request = bindable(&emulator);
    let (_journal_dir, journal) = common::temp_journal();
    let reader = reader_name(FIRST_PORT);
    let _card = insert(VirtualCard::gids([0xc3; 16]), FIRST_PORT);
    let home = common::binary::StationHome::new();
    let station = |args: &[&str]| {
        let mut command = home.command();
        command
            .args(args)
            .args(["--server", &emulator.base_url(), "--audit-file"])
            .arg(&journal)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    };
    let id = request.uuid.to_string();
    let mut child = station(&["bind", "--request", &id, "--reader", &reader])
        .spawn()
        .expect("bind starts");
    // Wait until the server committed the bind and is holding back its answer.
    let deadline = Instant::now() + Duration::from_secs(20);
    while emulator.bind_count() == 0 {
        assert!(
            Instant::now() < deadline,
            "the bind never reached the server"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert_eq!(
        journal_outcomes(&journal),
        ["attempt"],
        "killed before its outcome"
    );

    let output = station(&["audit", "reconcile"])
        .output()
        .expect("reconcile runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(journal_outcomes(&journal), ["attempt", "reconciled_bound"]);
    assert_eq!(emulator.bind_count(), 1);
    let verify = home
        .command()
        .args(["audit", "verify"])
        .arg(&journal)
        .output()
        .expect("verify runs");
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

/// The rig's target with an earlier smart card object of its card in CM,
/// issued with the request's template: (target, template, object).
fn target_with_known_card(
    rig: &Rig,
    status: enroll_station::domain::request::SmartcardStatus,
) -> (BindTarget, uuid::Uuid, uuid::Uuid) {
    let target = rig.target_with_card(gids());
    let template = bindable(&rig.emulator)
        .profile_template
        .expect("the demo requests name a profile template");
    let object = rig.emulator.insert_smartcard(
        &target.expected.card_id,
        status,
        uuid::Uuid::from_u128(0x0123),
        template,
    );
    (target, template, object)
}

fn refusal(state: &BindState) -> String {
    match state {
        BindState::Refused { reason, .. } => reason.message.clone(),
        other => panic!("expected Refused, got {other:?}"),
    }
}

/// Neither the journal nor what the station said holds the template's admin key.
fn assert_no_admin_key(rig: &Rig, said: &str) {
    use enroll_station::cm::emulator::FAKE_DEFAULT_ADMIN_KEY_HEX as KEY;
    let journal = std::fs::read_to_string(&rig.journal).unwrap_or_default();
    assert!(!journal.contains(KEY), "{journal}");
    assert!(!said.contains(KEY), "{said}");
}

#[test]
fn a_retired_card_is_bound_again_when_the_template_allows_reuse() {
    use enroll_station::domain::request::SmartcardStatus;
    let rig = rig(Duration::from_secs(10));
    let (target, template, _) = target_with_known_card(&rig, SmartcardStatus::RETIRED);
    rig.emulator.set_template_reuse(template, true);
    let state = rig.bind(target);
    assert!(matches!(state, BindState::Bound { .. }), "{state:?}");
    assert_eq!(rig.emulator.bind_count(), 1);
    assert_eq!(journal_outcomes(&rig.journal), ["attempt", "bound"]);
    assert_no_admin_key(&rig, &format!("{state:?}"));
}

#[test]
fn a_retired_card_is_refused_before_any_post_when_the_template_forbids_reuse() {
    use enroll_station::domain::request::SmartcardStatus;
    let rig = rig(Duration::from_secs(10));
    let (target, template, object) = target_with_known_card(&rig, SmartcardStatus::RETIRED);
    let state = rig.bind(target);
    let why = refusal(&state);
    assert!(why.contains("does not allow smart card reuse"), "{why}");
    assert!(why.contains(&template.to_string()), "{why}");
    assert!(why.contains(&object.to_string()), "{why}");
    assert!(why.contains("status Retired"), "{why}");
    assert!(why.contains("Nothing was sent"), "{why}");
    assert_eq!(rig.emulator.bind_count(), 0);
    assert_eq!(journal_outcomes(&rig.journal), ["attempt", "refused"]);
    assert_no_admin_key(&rig, &why);
}

#[test]
fn a_card_with_an_active_object_is_refused_even_with_reuse_allowed() {
    use enroll_station::domain::request::SmartcardStatus;
    let rig = rig(Duration::from_secs(10));
    let (target, template, object) = target_with_known_card(&rig, SmartcardStatus::ACTIVE);
    rig.emulator.set_template_reuse(template, true);
    let state = rig.bind(target);
    let why = refusal(&state);
    assert!(why.contains("A card in use cannot be bound"), "{why}");
    assert!(why.contains(&object.to_string()), "{why}");
    assert!(why.contains("status Active"), "{why}");
    assert!(
        why.contains(&uuid::Uuid::from_u128(0x0123).to_string()),
        "{why}"
    );
    assert_eq!(rig.emulator.bind_count(), 0);
    assert_eq!(journal_outcomes(&rig.journal), ["attempt", "refused"]);
}

#[test]
fn an_unreadable_template_configuration_falls_back_to_refusing_and_says_so() {
    use enroll_station::domain::request::SmartcardStatus;
    let rig = rig(Duration::from_secs(10));
    let (target, template, _) = target_with_known_card(&rig, SmartcardStatus::RETIRED);
    rig.emulator.set_template_reuse(template, true);
    rig.emulator.set_faults(Faults {
        forbid_template_config: true,
        ..Faults::default()
    });
    let state = rig.bind(target);
    let why = refusal(&state);
    assert!(
        why.contains("could not read whether the template allows reuse (403)"),
        "{why}"
    );
    assert!(why.contains("a card CM knows is refused"), "{why}");
    assert_eq!(rig.emulator.bind_count(), 0);
    assert_eq!(journal_outcomes(&rig.journal), ["attempt", "refused"]);
    let journal = std::fs::read_to_string(&rig.journal).unwrap_or_default();
    assert!(
        journal.contains("could not read whether the template allows reuse"),
        "{journal}"
    );
    assert_no_admin_key(&rig, &why);
}
