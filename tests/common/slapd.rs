//! A throwaway OpenLDAP directory on loopback, shaped like Active Directory
//! where the station looks: its own `slapd.conf`, an AD-like schema
//! (`tests/fixtures/ad-lite.schema`, with Microsoft's OIDs), entries loaded
//! with `slapadd`, and `slapd` in the foreground as a child process on two
//! free ports (`ldap://` with StartTLS, and `ldaps://`), killed on drop.
//!
//! Nothing system-wide is read or written: the configuration, database, TLS
//! files and PID file live in a temporary directory; the Debian package's
//! own service (and its `/etc/ldap/slapd.d`) is never used, so it may be
//! stopped, running, or not configured. A missing `slapd` or `slapadd` is a
//! failure with words, not a skip: `scripts/deps.sh test` installs them.

// Each test binary that declares `mod common` uses only part of the rig.
#![allow(dead_code)]
#![cfg(unix)]

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use enroll_station::directory::{DirectoryFile, DirectorySettings, TlsMode};
use uuid::Uuid;

use super::kerberos::find_command;
use super::tls::TestPki;

/// The directory's suffix, where every search starts.
pub const BASE_DN: &str = "dc=enroll,dc=test";

/// The bind account and its password.
pub const BIND_DN: &str = "cn=svc-enroll,ou=service,dc=enroll,dc=test";
pub const BIND_PASSWORD: &str = "bind-password-of-a-throwaway-directory";

/// The photo fixture: 192x240 pixels.
pub const PHOTO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/directory-photo.jpg"
);

const SCHEMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ad-lite.schema");

/// How long slapd may take to listen.
const START_DEADLINE: Duration = Duration::from_secs(20);

/// One account in the test directory.
#[derive(Clone, Copy, Debug)]
pub struct Account {
    pub guid: Uuid,
    pub account: &'static str,
    pub display_name: &'static str,
    pub principal: &'static str,
    pub thumbnail_photo: bool,
    pub jpeg_photo: bool,
}

/// Jane, with a thumbnailPhoto.
pub const JANE: Account = Account {
    guid: Uuid::from_u128(0x3f2504e0_4f89_11d3_9a0c_0305e82c3301),
    account: "jdoe",
    display_name: "Jane Doe",
    principal: "jdoe@enroll.test",
    thumbnail_photo: true,
    jpeg_photo: false,
};

/// Noah, without any photo.
pub const NOAH: Account = Account {
    guid: Uuid::from_u128(0x8c9d0f1e_2b3a_4c5d_8e6f_7a8b9c0d1e2f),
    account: "nnophoto",
    display_name: "Noah Nophoto",
    principal: "nnophoto@enroll.test",
    thumbnail_photo: false,
    jpeg_photo: false,
};

/// Pat, with a jpegPhoto only (the fallback).
pub const PAT: Account = Account {
    guid: Uuid::from_u128(0x11223344_5566_4788_99aa_bbccddeeff00),
    account: "pjpeg",
    display_name: "Pat Jpeg",
    principal: "pjpeg@enroll.test",
    thumbnail_photo: false,
    jpeg_photo: true,
};

/// Mallory, whose display name carries a bidi override and a line break:
/// a directory's text is typed by people too.
pub const MALLORY: Account = Account {
    guid: Uuid::from_u128(0xdeadbeef_0000_4000_8000_00000000abcd),
    account: "mallory",
    display_name: "Mallory\u{202E}nimdA\nDomain Admins",
    principal: "mallory@enroll.test",
    thumbnail_photo: false,
    jpeg_photo: false,
};

/// Every account the directory holds.
pub const ACCOUNTS: [Account; 4] = [JANE, NOAH, PAT, MALLORY];

/// A running throwaway directory; dropping it kills slapd and removes its files.
pub struct Slapd {
    dir: tempfile::TempDir,
    pki: TestPki,
    ldap_port: u16,
    ldaps_port: u16,
    child: Child,
    log: PathBuf,
}

impl Slapd {
    /// Creates, fills and starts the directory. Panics with words when
    /// slapd is missing or does not start.
    pub fn start() -> Slapd {
        let slapd = require("slapd");
        let slapadd = require("slapadd");
        let started = Instant::now();
        let dir = tempfile::Builder::new()
            .prefix("enroll-station-slapd-")
            .tempdir()
            .expect("a temporary directory for slapd");
        let pki = TestPki::new();
        std::fs::create_dir(dir.path().join("db")).expect("the database directory");
        let conf = dir.path().join("slapd.conf");
        write(&conf, &slapd_conf(dir.path(), &pki));
        let ldif = dir.path().join("seed.ldif");
        write(&ldif, &seed_ldif());
        let output = Command::new(&slapadd)
            .arg("-f")
            .arg(&conf)
            .arg("-l")
            .arg(&ldif)
            .output()
            .unwrap_or_else(|err| panic!("{} does not start: {err}", slapadd.display()));
        assert!(
            output.status.success(),
            "slapadd failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let (ldap_port, ldaps_port) = (free_port(), free_port());
        let log = dir.path().join("slapd.out");
        let out = std::fs::File::create(&log).expect("slapd's output file");
        let child = Command::new(&slapd)
            .arg("-f")
            .arg(&conf)
            .arg("-h")
            .arg(format!(
                "ldap://127.0.0.1:{ldap_port}/ ldaps://127.0.0.1:{ldaps_port}/"
            ))
            // Any -d keeps slapd in the foreground; "stats" logs each operation.
            .args(["-d", "stats"])
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("slapd's output file"))
            .stderr(out)
            .spawn()
            .unwrap_or_else(|err| panic!("{} does not start: {err}", slapd.display()));
        let mut server = Slapd {
            dir,
            pki,
            ldap_port,
            ldaps_port,
            child,
            log,
        };
        server.wait_until_listening();
        eprintln!(
            "slapd on 127.0.0.1:{ldap_port} (ldap) and :{ldaps_port} (ldaps) in {} (up in {:?})",
            server.dir.path().display(),
            started.elapsed()
        );
        server
    }

    /// `ldap://127.0.0.1:PORT` (plain or StartTLS).
    pub fn ldap_url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.ldap_port)
    }

    /// `ldaps://127.0.0.1:PORT`.
    pub fn ldaps_url(&self) -> String {
        format!("ldaps://127.0.0.1:{}", self.ldaps_port)
    }

    /// `ldap://localhost:PORT`, for StartTLS against the certificate's DNS name.
    pub fn ldap_localhost_url(&self) -> String {
        format!("ldap://localhost:{}", self.ldap_port)
    }

    /// The CA that issued slapd's certificate (for `ca_file`).
    pub fn ca_file(&self) -> &Path {
        &self.pki.ca
    }

    /// A CA that issued nothing here.
    pub fn other_ca_file(&self) -> &Path {
        &self.pki.other_ca
    }

    /// The settings for `url` and `tls`, bind account and CA file set,
    /// timeout `secs`.
    pub fn settings(&self, url: &str, tls: Option<TlsMode>, secs: u64) -> DirectorySettings {
        DirectorySettings::try_from(DirectoryFile {
            bind_dn: Some(BIND_DN.to_owned()),
            tls,
            ca_file: (tls != Some(TlsMode::None)).then(|| self.pki.ca.clone()),
            timeout_secs: secs,
            ..DirectoryFile::new(url, BASE_DN)
        })
        .unwrap_or_else(|err| panic!("the test settings for {url} are valid: {err}"))
    }

    /// The `[directory]` table for a station.toml.
    pub fn config_toml(&self, url: &str) -> String {
        format!(
            "[directory]\nurl = \"{url}\"\nbase_dn = \"{BASE_DN}\"\nbind_dn = \"{BIND_DN}\"\n\
             ca_file = \"{}\"\n",
            self.pki.ca.display()
        )
    }

    /// The last `lines` lines of slapd's log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + START_DEADLINE;
        for port in [self.ldap_port, self.ldaps_port] {
            let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            loop {
                if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                    break;
                }
                if let Ok(Some(status)) = self.child.try_wait() {
                    panic!(
                        "slapd exited ({status}) before listening on {address}:\n{}",
                        self.log_tail(40)
                    );
                }
                assert!(
                    Instant::now() < deadline,
                    "slapd does not listen on {address} after {START_DEADLINE:?}:\n{}",
                    self.log_tail(40)
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl std::fmt::Debug for Slapd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slapd")
            .field("ldap_port", &self.ldap_port)
            .field("ldaps_port", &self.ldaps_port)
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

/// A loopback port nothing listens on (for "the directory is down").
pub fn closed_port() -> u16 {
    free_port()
}

/// A listener that accepts connections and never answers (for "the
/// directory hangs"); the connection is kept until the listener is dropped.
pub fn blackhole() -> TcpListener {
    // Never accepted: the kernel completes the handshake from the backlog.
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a loopback listener")
}

fn require(name: &str) -> PathBuf {
    find_command(name).unwrap_or_else(|| {
        panic!(
            "{name} is missing: the directory tests need OpenLDAP's server. On Debian: \
             DEBIAN_FRONTEND=noninteractive apt-get install slapd ldap-utils (or \
             scripts/deps.sh test)"
        )
    })
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free TCP port")
        .port()
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
}

fn slapd_conf(dir: &Path, pki: &TestPki) -> String {
    let d = dir.display();
    format!(
        "include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include {SCHEMA}
pidfile {d}/slapd.pid
argsfile {d}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCACertificateFile {ca}
TLSCertificateFile {cert}
TLSCertificateKeyFile {key}
TLSVerifyClient never

database mdb
maxsize 16777216
suffix \"{BASE_DN}\"
rootdn \"cn=admin,{BASE_DN}\"
directory {d}/db
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * none
",
        ca = pki.ca.display(),
        cert = pki.good.cert.display(),
        key = pki.good.key.display(),
    )
}

fn seed_ldif() -> String {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let photo = std::fs::read(PHOTO).expect("the photo fixture");
    let mut ldif = format!(
        "dn: {BASE_DN}
objectClass: dcObject
objectClass: organization
dc: enroll
o: Enroll Station tests

dn: ou=people,{BASE_DN}
objectClass: organizationalUnit
ou: people

dn: ou=service,{BASE_DN}
objectClass: organizationalUnit
ou: service

dn: {BIND_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: svc-enroll
userPassword: {BIND_PASSWORD}
"
    );
    for account in ACCOUNTS {
        let a = account.account;
        let _ = write!(
            ldif,
            "
dn: cn={a},ou=people,{BASE_DN}
objectClass: inetOrgPerson
objectClass: enrollTestAdAccount
cn: {a}
sn: {a}
objectGUID:: {guid}
sAMAccountName: {a}
userPrincipalName: {principal}
displayName:: {display}
",
            guid = b64(&account.guid.to_bytes_le()),
            principal = account.principal,
            display = b64(account.display_name.as_bytes()),
        );
        if account.thumbnail_photo {
            let _ = writeln!(ldif, "thumbnailPhoto:: {}", b64(&photo));
        }
        if account.jpeg_photo {
            let _ = writeln!(ldif, "jpegPhoto:: {}", b64(&photo));
        }
    }
    ldif
}
