//! The supervisors' unit tests: credentials, the throttle, the witness
//! check, refusal records and the `[[supervisors]]` tables.

use super::*;
use std::time::Duration;

pub(crate) fn entry(name: &str, password: &str) -> SupervisorEntry {
    SupervisorEntry {
        name: SupervisorName::try_from(name.to_owned()).expect("name"),
        account: Some(
            SupervisorAccount::try_from(format!("CONTOSO\\{}", name.to_lowercase()))
                .expect("account"),
        ),
        password_hash: hash_password(&Secret::new(password), HashCost::Minimal).expect("hash"),
    }
}

fn store() -> SupervisorStore {
    SupervisorStore::from_config(&[entry("Bob", "correct horse"), entry("Carol", "battery")])
}

#[test]
fn supervisor_right_password_gives_the_configured_name() {
    let store = store();
    assert_eq!(
        store.verify("bob", &Secret::new("correct horse")),
        Ok("Bob".to_owned())
    );
    assert_eq!(
        store.verify(" Carol ", &Secret::new("battery")),
        Ok("Carol".to_owned())
    );
}

#[test]
fn supervisor_wrong_password_and_unknown_name_read_the_same() {
    let store = store();
    let wrong = store.verify("Bob", &Secret::new("battery"));
    let unknown = store.verify("Mallory", &Secret::new("correct horse"));
    assert_eq!(wrong, Err(SupervisorError::Refused));
    assert_eq!(unknown, Err(SupervisorError::Refused));
    assert_eq!(
        store.verify("", &Secret::new("correct horse")),
        Err(SupervisorError::RateLimited {
            retry_after_secs: 30
        })
    );
}

#[test]
fn supervisor_store_without_entries_says_none_configured() {
    let store = SupervisorStore::from_config(&[]);
    assert!(store.is_empty());
    let error = store.verify("Bob", &Secret::new("x")).expect_err("none");
    assert_eq!(error, SupervisorError::NoneConfigured);
    assert!(error.to_string().contains("[[supervisors]]"), "{error}");
    assert!(error.to_string().contains("supervisor hash"), "{error}");
}

#[test]
fn supervisor_refusals_are_rate_limited_doubling_up_to_eight_hours() {
    let store = store();
    let start = Instant::now();
    let at = |secs: u64| move || start + Duration::from_secs(secs);
    let wrong = Secret::new("wrong");
    let right = Secret::new("correct horse");
    assert_eq!(
        store.verify_at("Bob", &wrong, at(0)),
        Err(SupervisorError::Refused)
    );
    assert_eq!(
        store.verify_at("Bob", &wrong, at(1)),
        Err(SupervisorError::Refused)
    );
    assert_eq!(
        store.verify_at("Bob", &wrong, at(2)),
        Err(SupervisorError::RateLimited {
            retry_after_secs: 30
        })
    );
    // Even the right password waits, and the wait counts down.
    assert_eq!(
        store.verify_at("Bob", &right, at(12)),
        Err(SupervisorError::RateLimited {
            retry_after_secs: 20
        })
    );
    assert_eq!(
        store.verify_at("Carol", &wrong, at(32)),
        Err(SupervisorError::RateLimited {
            retry_after_secs: 60
        })
    );
    let mut now = 92;
    let mut last = 0;
    for _ in 0..14 {
        match store.verify_at("Bob", &wrong, at(now)) {
            Err(SupervisorError::RateLimited { retry_after_secs }) => {
                last = retry_after_secs;
                now += retry_after_secs;
            }
            other => panic!("expected a wait, got {other:?}"),
        }
    }
    assert_eq!(last, 8 * 3600, "the wait stops growing at 8 hours");
    assert_eq!(
        store.verify_at("Bob", &right, at(now)),
        Ok("Bob".to_owned())
    );
    // A success starts the count afresh.
    assert_eq!(
        store.verify_at("Bob", &wrong, at(now + 1)),
        Err(SupervisorError::Refused)
    );
}

#[test]
fn supervisor_refusals_far_apart_are_forgotten() {
    let store = store();
    let start = Instant::now();
    let wrong = Secret::new("wrong");
    // Refusals a day apart are forgotten; an hour apart they are not.
    for hours in [0, 25, 50, 75] {
        assert_eq!(
            store.verify_at("Bob", &wrong, || start + Duration::from_secs(hours * 3600)),
            Err(SupervisorError::Refused)
        );
    }
    let at = |hours: u64| move || start + Duration::from_secs(hours * 3600);
    assert_eq!(
        store.verify_at("Bob", &wrong, at(76)),
        Err(SupervisorError::Refused)
    );
    assert_eq!(
        store.verify_at("Bob", &wrong, at(77)),
        Err(SupervisorError::RateLimited {
            retry_after_secs: 30
        })
    );
}

/// Two stores on one file stand for two processes of one station (the
/// window and a `bind` command, or a command started again).
fn sharing(file: &std::path::Path) -> SupervisorStore {
    store().sharing_refusals(file.to_owned())
}

#[test]
fn supervisor_refusals_count_across_the_stations_processes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let journal = dir.path().join("audit.jsonl");
    let file = refusals_path(&journal);
    assert_eq!(file, dir.path().join("audit.supervisor-refusals.json"));
    let wrong = Secret::new("wrong");
    let first = sharing(&file);
    assert_eq!(first.verify("Bob", &wrong), Err(SupervisorError::Refused));
    assert_eq!(first.verify("Bob", &wrong), Err(SupervisorError::Refused));
    drop(first);
    // A new process (a script starting the command again) goes on counting.
    let again = sharing(&file);
    assert_eq!(
        again.verify("Carol", &wrong),
        Err(SupervisorError::RateLimited {
            retry_after_secs: 30
        })
    );
    // And even the right password waits, in any process of the station.
    match sharing(&file).verify("Bob", &Secret::new("correct horse")) {
        Err(SupervisorError::RateLimited { retry_after_secs }) => {
            assert!((29..=30).contains(&retry_after_secs), "{retry_after_secs}");
        }
        other => panic!("expected a wait, got {other:?}"),
    }
    // Another station (another journal) has a count of its own.
    let elsewhere = dir.path().join("other").join("audit.jsonl");
    std::fs::create_dir_all(elsewhere.parent().expect("a parent")).expect("dir");
    assert_eq!(
        store()
            .sharing_refusals(refusals_path(&elsewhere))
            .verify("Bob", &Secret::new("correct horse")),
        Ok("Bob".to_owned())
    );
}

#[test]
fn supervisor_shared_count_is_reset_by_a_success_and_survives_a_damaged_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("audit.supervisor-refusals.json");
    // Five refusals whose wait ended a second ago, two minutes after the last one.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64;
    let five_refusals_waited_out = || {
        std::fs::write(
            &file,
            format!(
                r#"{{"refusals":5,"last_refusal_unix_ms":{},"wait_until_unix_ms":{}}}"#,
                now_ms - 121_000,
                now_ms - 1_000
            ),
        )
        .expect("write");
    };
    five_refusals_waited_out();
    // One more refusal continues from five: the wait is doubled thrice.
    assert_eq!(
        sharing(&file).verify("Bob", &Secret::new("wrong")),
        Err(SupervisorError::RateLimited {
            retry_after_secs: 240
        })
    );
    five_refusals_waited_out();
    assert_eq!(
        sharing(&file).verify("Bob", &Secret::new("correct horse")),
        Ok("Bob".to_owned())
    );
    let stored = std::fs::read_to_string(&file).expect("read");
    assert!(stored.contains(r#""refusals":0"#), "{stored}");
    // A damaged file neither locks supervisors out nor stops the count.
    std::fs::write(&file, "{ not json").expect("write");
    assert_eq!(
        sharing(&file).verify("Bob", &Secret::new("wrong")),
        Err(SupervisorError::Refused)
    );
    let stored = std::fs::read_to_string(&file).expect("read");
    assert!(stored.contains(r#""refusals":1"#), "{stored}");
}

#[test]
fn supervisor_count_in_an_unwritable_place_is_kept_in_the_process() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A directory where the file should be: it cannot be opened as one.
    let file = dir.path().join("audit.supervisor-refusals.json");
    std::fs::create_dir(&file).expect("dir");
    let store = sharing(&file);
    let wrong = Secret::new("wrong");
    assert_eq!(store.verify("Bob", &wrong), Err(SupervisorError::Refused));
    assert_eq!(store.verify("Bob", &wrong), Err(SupervisorError::Refused));
    assert_eq!(
        store.verify("Bob", &wrong),
        Err(SupervisorError::RateLimited {
            retry_after_secs: 30
        })
    );
}

#[test]
fn supervisor_password_hashes_are_checked_when_read() {
    let good = hash_password(&Secret::new("pw"), HashCost::Minimal).expect("hash");
    assert!(good.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert!(PasswordHashPhc::try_from(good.as_str().to_owned()).is_ok());
    for bad in [
        "",
        "hunter2",
        "$argon2id$v=19$m=19456,t=2,p=1$",
        "$pbkdf2-sha256$i=1000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ",
        "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
    ] {
        let error = PasswordHashPhc::try_from(bad.to_owned())
            .expect_err(bad)
            .to_string();
        assert!(error.contains("supervisor hash"), "{error}");
    }
}

#[test]
fn supervisor_hash_stays_out_of_debug_output() {
    let entry = entry("Bob", "pw");
    assert!(!format!("{entry:?}").contains("argon2"));
}

#[test]
fn supervisor_snippet_reads_back() {
    let entry = entry("O'Brien \"Ops\"", "pw");
    let text = config_snippet(
        &entry.name,
        entry.account.as_ref().expect("an account"),
        &entry.password_hash,
    );
    #[derive(serde::Deserialize)]
    struct File {
        supervisors: Vec<SupervisorEntry>,
    }
    let file: File = toml::from_str(&text).expect(&text);
    assert_eq!(file.supervisors, [entry]);
}

#[test]
fn supervisor_operator_is_matched_without_domain_or_case() {
    let operator = Operator {
        os_user: Some("CONTOSO\\Alice".to_owned()),
        principal: None,
    };
    assert!(is_operator(&operator, "alice"));
    assert!(is_operator(&operator, "ALICE"));
    assert!(is_operator(&operator, "contoso\\alice"));
    assert!(is_operator(&operator, "FABRIKAM\\alice"));
    assert!(is_operator(&operator, "alice@CONTOSO.COM"));
    assert!(!is_operator(&operator, "bob"));
    assert!(!is_operator(&operator, "alice2"));
    assert!(!is_operator(&operator, ""));
    let by_principal = Operator {
        os_user: Some("kiosk".to_owned()),
        principal: Some("alice@CONTOSO.COM".to_owned()),
    };
    assert!(is_operator(&by_principal, "CONTOSO\\Alice"));
    assert!(!is_operator(&Operator::default(), "alice"));
    let error = check_witness(&operator, "Alice Example", Some("alice@contoso.com"))
        .expect_err("same person")
        .to_string();
    assert!(error.contains("another supervisor"), "{error}");
    assert!(error.contains("CONTOSO\\Alice"), "names the match: {error}");
    assert!(check_witness(&operator, "Bob", Some("bob")).is_ok());
    // A display name is not an account: only the account counts.
    assert!(check_witness(&operator, "Alice", Some("CONTOSO\\sam")).is_ok());
    let error = check_witness(&operator, "Bob", None)
        .expect_err("no account")
        .to_string();
    assert!(error.contains("account"), "{error}");
}

#[test]
fn supervisor_refusals_become_journal_records_without_the_password() {
    let operator = Operator {
        os_user: Some("alice".to_owned()),
        principal: Some("alice@CONTOSO.COM".to_owned()),
    };
    let purpose = SupervisorPurpose::OpenSettings;
    let record = refusal_record(
        &operator,
        " Mallory\n",
        &purpose,
        &Err(SupervisorError::Refused),
    )
    .expect("a refusal is journalled");
    assert_eq!(record.kind, crate::audit::ControlKind::SupervisorRefused);
    assert_eq!(record.supervisor.as_deref(), Some("Mallory"));
    assert_eq!(record.operator, operator);
    assert!(
        record.message.contains("to open Settings"),
        "{}",
        record.message
    );
    assert!(record.message.contains("wrong"), "{}", record.message);
    for not_a_refusal in [
        Ok("Bob".to_owned()),
        Err(SupervisorError::NoneConfigured),
        Err(SupervisorError::Unfinished { why: "x".into() }),
    ] {
        assert!(refusal_record(&operator, "Bob", &purpose, &not_a_refusal).is_none());
    }
    assert_eq!(
        refusal_record(
            &operator,
            "Bob",
            &purpose,
            &Err(SupervisorError::RateLimited {
                retry_after_secs: 30
            })
        )
        .map(|record| record.kind),
        Some(crate::audit::ControlKind::SupervisorLockedOut),
        "the throttle's wait is a lock-out"
    );
}

#[test]
fn supervisor_hashes_below_the_minimum_or_not_argon2id_are_refused() {
    use argon2::password_hash::PasswordHasher as _;
    let weak = |algorithm, m, t, p| {
        let params = argon2::Params::new(m, t, p, None).expect("params");
        argon2::Argon2::new(algorithm, argon2::Version::V0x13, params)
            .hash_password_with_salt(b"pw", b"saltsaltsaltsalt")
            .expect("hash")
            .to_string()
    };
    for (algorithm, m, t, p, why) in [
        (argon2::Algorithm::Argon2id, 8, 1, 1, "below the minimum"),
        (
            argon2::Algorithm::Argon2id,
            19455,
            2,
            1,
            "below the minimum",
        ),
        (
            argon2::Algorithm::Argon2id,
            65536,
            1,
            1,
            "below the minimum",
        ),
        (argon2::Algorithm::Argon2i, 19456, 2, 1, "argon2i"),
        (argon2::Algorithm::Argon2d, 19456, 2, 1, "argon2d"),
    ] {
        let hash = weak(algorithm, m, t, p);
        let error = PasswordHashPhc::try_from(hash.clone())
            .expect_err(&hash)
            .to_string();
        assert!(error.contains(why), "{error}");
        assert!(error.contains("supervisor hash"), "{error}");
    }
    assert!(PasswordHashPhc::try_from(weak(argon2::Algorithm::Argon2id, 19456, 2, 1)).is_ok());
}

#[test]
fn a_supervisor_without_an_account_is_refused_when_read() {
    let bob = entry("Bob", "pw");
    let text = format!(
        "mode = \"supervised\"\n\n[[supervisors]]\nname = \"Bob\"\npassword_hash = \"{}\"\n",
        bob.password_hash.as_str()
    );
    let error = parse(&text).expect_err("no account");
    assert!(error.contains("\"Bob\" has no account"), "{error}");
    assert!(error.contains("account = "), "{error}");
    assert!(error.contains("--account"), "{error}");
    let error = parse(&text.replace("name = \"Bob\"", "name = \"Bob\"\naccount = \"\""))
        .expect_err("a blank account");
    assert!(error.contains("supervisor account"), "{error}");
}

#[test]
fn supervisor_check_refuses_the_operator_only_for_a_bind() {
    let store = store();
    let operator = Operator {
        os_user: Some("CONTOSO\\bob".to_owned()),
        principal: None,
    };
    let password = Secret::new("correct horse");
    let bind = SupervisorPurpose::ConfirmBind(crate::domain::bind::BindTarget {
        request_id: uuid::Uuid::nil(),
        person: String::new(),
        reader: "R".into(),
        expected: crate::domain::card::CardIdentity {
            atr: crate::domain::card::Atr::from_bytes(vec![0x3b]),
            card_id: crate::domain::card::CardId::from_raw([1; 16]),
            kind: crate::domain::card::CardKind::Piv,
            chip: None,
            location: None,
            yubikey_serial: None,
        },
        supervisor: None,
    });
    let error = check(&store, &operator, "Bob", &password, &bind)
        .expect_err("own bind")
        .to_string();
    assert!(error.contains("another supervisor"), "{error}");
    assert_eq!(
        check(
            &store,
            &operator,
            "Bob",
            &password,
            &SupervisorPurpose::LeaveKiosk
        ),
        Ok("Bob".to_owned())
    );
    assert_eq!(
        check(&store, &operator, "carol", &Secret::new("battery"), &bind),
        Ok("Carol".to_owned())
    );
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

/// A configuration's refusal, in its words.
#[derive(Debug)]
struct Words(String);

impl std::ops::Deref for Words {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Words {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn parse(text: &str) -> Result<crate::config::StationConfig, Words> {
    crate::config::StationConfig::parse(text, std::path::Path::new("station.toml"))
        .map_err(|e| Words(e.to_string()))
}

#[test]
fn supervisor_tables_are_read_from_the_configuration_and_written_back() {
    let bob = entry("Bob", "pw");
    let text = format!(
        "mode = \"supervised\"\n\n{}",
        config_snippet(
            &bob.name,
            bob.account.as_ref().expect("an account"),
            &bob.password_hash
        )
    );
    let config = parse(&text).expect(&text);
    assert_eq!(config.supervisors, [bob]);
    assert_eq!(
        parse(&config.to_toml().expect("toml")).expect("round trip"),
        config
    );
    assert!(
        !parse("")
            .expect("empty")
            .to_toml()
            .expect("toml")
            .contains("supervisors")
    );
}

#[test]
fn a_bad_supervisor_hash_is_named_with_its_key_and_line() {
    let error = parse(
        "mode = \"supervised\"\n\n[[supervisors]]\nname = \"Bob\"\npassword_hash = \"hunter2\"\n",
    )
    .expect_err("not a hash");
    assert!(error.contains("line 5"), "{error}");
    assert!(error.contains("password_hash"), "{error}");
    assert!(error.contains("supervisor hash --name"), "{error}");
    let error = parse("[[supervisors]]\nname = \"Bob\"\n").expect_err("no hash");
    assert!(error.contains("password_hash"), "{error}");
}

#[test]
fn two_supervisors_of_one_name_are_refused() {
    let text = [entry("Bob", "a"), entry("BOB", "b")]
        .iter()
        .map(|e| {
            config_snippet(
                &e.name,
                e.account.as_ref().expect("an account"),
                &e.password_hash,
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let error = parse(&text).expect_err("two Bobs");
    assert!(error.contains("\"BOB\" is given to two"), "{error}");
}
