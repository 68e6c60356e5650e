//! The directory lookup against a real OpenLDAP `slapd` with an AD-like
//! schema (tests/common/slapd.rs): found, not found, photos, hostile text,
//! wrong password, down, hanging, ldaps, StartTLS, and the CLI.

#![cfg(unix)]

mod common;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use common::slapd::{self, BIND_PASSWORD, JANE, MALLORY, NOAH, PAT, Slapd};
use enroll_station::directory::{
    Directory, DirectoryError, DirectoryFile, DirectorySettings, TlsMode,
};
use enroll_station::domain::person::Identity;
use enroll_station::domain::text::person_name;
use enroll_station::platform::secrets::Secret;
use uuid::Uuid;

fn directory(settings: DirectorySettings, password: &str) -> Directory {
    Directory::new(settings, Some(Secret::new(password))).expect("the directory is set up")
}

fn ldaps(server: &Slapd) -> Directory {
    directory(server.settings(&server.ldaps_url(), None, 5), BIND_PASSWORD)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookup_by_guid_finds_the_account_as_the_directory_holds_it() {
    let server = Slapd::start();
    let directory = ldaps(&server);

    let jane = directory
        .lookup(JANE.guid)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log_tail(20)))
        .expect("Jane is in the directory");
    assert_eq!(jane.user, JANE.guid);
    assert_eq!(jane.account, "jdoe");
    assert_eq!(jane.display_name.as_deref(), Some("Jane Doe"));
    assert_eq!(jane.principal.as_deref(), Some("jdoe@enroll.test"));
    assert_eq!(jane.name(), "Jane Doe");
    let photo = jane.photo.as_ref().expect("Jane's thumbnailPhoto");
    // The 192x240 fixture, scaled to 128 on its long side.
    assert_eq!((photo.width, photo.height), (103, 128));
    assert_eq!(photo.rgba.len(), 103 * 128 * 4);

    let pat = directory
        .lookup(PAT.guid)
        .await
        .expect("answers")
        .expect("Pat");
    let photo = pat
        .photo
        .as_ref()
        .expect("jpegPhoto when there is no thumbnailPhoto");
    assert_eq!((photo.width, photo.height), (103, 128));

    let noah = directory
        .lookup(NOAH.guid)
        .await
        .expect("answers")
        .expect("Noah");
    assert_eq!(noah.account, "nnophoto");
    assert_eq!(noah.photo, None);

    // The directory's text is cleaned like a requester's: no bidi override,
    // no line break.
    let mallory = directory
        .lookup(MALLORY.guid)
        .await
        .expect("answers")
        .expect("Mallory");
    let shown = mallory.display_name.as_deref().expect("a display name");
    assert_eq!(shown, person_name(MALLORY.display_name));
    assert_eq!(shown, "MallorynimdA Domain Admins");
    assert!(!shown.contains(['\u{202E}', '\n']), "{shown:?}");

    match directory.identity(JANE.guid).await {
        Identity::Found(person) => assert_eq!(person.account, "jdoe"),
        other => panic!("Jane is found: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_guid_is_not_found_and_the_answer_is_kept() {
    let server = Slapd::start();
    let directory = ldaps(&server);
    let unknown = Uuid::new_v4();
    assert_eq!(directory.lookup(unknown).await, Ok(None));
    assert_eq!(directory.cached(unknown), Some(Ok(None)));
    assert_eq!(directory.identity(unknown).await, Identity::NotFound);
    // The GUID's text-form byte order does not find Jane: only Windows' does.
    let big_endian = Uuid::from_bytes_le(*JANE.guid.as_bytes());
    assert_eq!(directory.lookup(big_endian).await, Ok(None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_refused_in_words() {
    let server = Slapd::start();
    let directory = directory(
        server.settings(&server.ldaps_url(), None, 5),
        "wrong-password",
    );
    let error = directory.lookup(JANE.guid).await.expect_err("refused");
    assert!(
        matches!(error, DirectoryError::BindRefused { .. }),
        "{error:?}"
    );
    let words = error.to_string();
    assert!(
        words.contains(slapd::BIND_DN)
            && words.contains("password is wrong")
            && words.contains("enroll-station directory set-password")
            && words.contains("Names on screen are unchecked"),
        "{words}"
    );
    // A failure is kept briefly, with the same words, and as the window shows it.
    assert_eq!(directory.cached(JANE.guid), Some(Err(error.clone())));
    assert_eq!(directory.identity(JANE.guid).await, Identity::Failed(words));
    // An empty password would be an anonymous bind: it is never sent.
    let error = Directory::new(
        server.settings(&server.ldaps_url(), None, 5),
        Some(Secret::new("")),
    )
    .expect_err("no empty password");
    assert!(error.to_string().contains("set-password"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_that_is_down_is_reported_in_words_within_the_timeout() {
    let port = slapd::closed_port();
    let settings = settings(&format!("ldaps://127.0.0.1:{port}"), None, 3);
    let directory = directory(settings, "x");
    let started = Instant::now();
    let error = directory.lookup(JANE.guid).await.expect_err("down");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(error, DirectoryError::Unreachable { .. }),
        "{error:?}"
    );
    let words = error.to_string();
    assert!(
        words.contains(&format!("ldaps://127.0.0.1:{port}"))
            && words.contains("connection refused")
            && words.contains("Check [directory] url and the network")
            && words.contains("Names on screen are unchecked until it answers"),
        "{words}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_that_never_answers_times_out_in_words() {
    let hole = slapd::blackhole();
    let port = hole.local_addr().expect("the port").port();
    for (url, tls) in [
        (format!("ldaps://127.0.0.1:{port}"), None),
        (format!("ldap://127.0.0.1:{port}"), None),
        (format!("ldap://127.0.0.1:{port}"), Some(TlsMode::None)),
    ] {
        let directory = directory(settings(&url, tls, 1), "x");
        let started = Instant::now();
        let error = directory.lookup(JANE.guid).await.expect_err("no answer");
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_secs(3),
            "{url}: {took:?}"
        );
        assert_eq!(
            error.to_string(),
            format!(
                "The directory at {url} did not answer within 1 s. Check the network, or ask the \
                 directory administrator. Names on screen are unchecked until it answers."
            )
        );
    }
    drop(hole);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_ldaps_and_plain_loopback_all_find_the_account_and_check_passes() {
    let server = Slapd::start();
    for (url, tls) in [
        (server.ldaps_url(), None),
        (server.ldap_url(), None),
        (server.ldap_localhost_url(), Some(TlsMode::Starttls)),
        (server.ldap_url(), Some(TlsMode::None)),
    ] {
        let directory = directory(server.settings(&url, tls, 5), BIND_PASSWORD);
        let jane = directory
            .lookup(JANE.guid)
            .await
            .unwrap_or_else(|e| panic!("{url} {tls:?}: {e}\n{}", server.log_tail(20)))
            .expect("Jane");
        assert_eq!(jane.account, "jdoe", "{url}");
        let report = directory.check().await.expect("the check passes");
        let text = report.to_string();
        assert!(
            text.contains("Signed in:  cn=svc-enroll") && text.contains("readable"),
            "{text}"
        );
    }
    assert!(
        server.log_tail(400).contains("STARTTLS"),
        "StartTLS was used:\n{}",
        server.log_tail(40)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_refused_in_words() {
    let server = Slapd::start();
    let settings = DirectorySettings::try_from(DirectoryFile {
        bind_dn: Some(slapd::BIND_DN.into()),
        ca_file: Some(server.other_ca_file().to_owned()),
        ..DirectoryFile::new(server.ldaps_url(), slapd::BASE_DN)
    })
    .expect("valid");
    let error = directory(settings, BIND_PASSWORD)
        .lookup(JANE.guid)
        .await
        .expect_err("untrusted");
    assert!(
        matches!(error, DirectoryError::Untrusted { .. }),
        "{error:?}"
    );
    let words = error.to_string();
    assert!(
        words.contains("does not trust") && words.contains("[directory] ca_file"),
        "{words}"
    );
}

#[test]
fn a_password_over_plain_ldap_to_another_host_is_refused() {
    let error = DirectorySettings::try_from(DirectoryFile {
        bind_dn: Some(slapd::BIND_DN.into()),
        tls: Some(TlsMode::None),
        ..DirectoryFile::new("ldap://192.0.2.10", slapd::BASE_DN)
    })
    .expect_err("refused");
    let words = error.to_string();
    assert!(
        words.contains("unencrypted") && words.contains("192.0.2.10") && words.contains("ldaps://"),
        "{words}"
    );
    // In the configuration file, with the key's line.
    let text = "[directory]\nurl = \"ldap://dc1.corp.example\"\nbase_dn = \"DC=corp\"\n\
                bind_dn = \"CN=svc\"\ntls = \"none\"\n";
    let error = enroll_station::config::StationConfig::parse(text, std::path::Path::new("s.toml"))
        .expect_err("refused")
        .to_string();
    assert!(
        error.contains("unencrypted") && error.contains("line 1"),
        "{error}"
    );
    // The loopback exception is exact: 127.0.0.1, ::1 and localhost only.
    assert!(Ipv4Addr::LOCALHOST.is_loopback());
}

#[test]
fn the_cli_looks_an_account_up_against_the_directory() {
    use std::io::Write as _;
    use std::process::Stdio;

    let server = Slapd::start();
    let home = common::binary::StationHome::new();
    let config = home.root().join("station.toml");
    // The test schema has no AD user class: its people are inetOrgPerson.
    let toml = format!(
        "{}people_filter = \"(objectClass=inetOrgPerson)\"\n",
        server.config_toml(&server.ldaps_url())
    );
    std::fs::write(&config, toml).expect("config");
    let keyctl = common::kerberos::find_command("keyctl").expect("keyctl (Debian: keyutils)");
    // One kernel session keyring for the commands: set the password, then look up and search.
    let script = format!(
        "\"$0\" directory set-password && \"$0\" directory lookup '{{{}}}' && \"$0\" directory check \
         && \"$0\" directory search ja && \"$0\" directory search '*a' --json",
        JANE.guid.to_string().to_uppercase()
    );
    let mut command = home.wrap(keyctl);
    command
        .args(["session", "-", "sh", "-c", &script, common::binary::PATH])
        .env("ENROLL_STATION_CONFIG", &config)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("keyctl runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{BIND_PASSWORD}\n").as_bytes())
        .expect("the password is written");
    let output = child.wait_with_output().expect("the binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{stdout}\n{stderr}\n{}",
        server.log_tail(20)
    );
    for line in [
        "Account:      jdoe",
        "Display name: Jane Doe",
        "Principal:    jdoe@enroll.test",
        "Photo:        103x128 pixels",
        "Signed in:  cn=svc-enroll",
        "Jane Doe (jdoe)  jdoe@enroll.test",
    ] {
        assert!(stdout.contains(line), "{line:?} in:\n{stdout}");
    }
    assert!(stderr.contains("Stored the directory password"), "{stderr}");
    // The last command's JSON: a typed `*` is a literal star, so no one.
    assert!(
        stdout.trim_end().ends_with("[]"),
        "a star lists nobody: {stdout}"
    );
}

fn settings(url: &str, tls: Option<TlsMode>, secs: u64) -> DirectorySettings {
    DirectorySettings::try_from(DirectoryFile {
        bind_dn: Some(slapd::BIND_DN.into()),
        tls,
        timeout_secs: secs,
        ..DirectoryFile::new(url, slapd::BASE_DN)
    })
    .expect("valid settings")
}
