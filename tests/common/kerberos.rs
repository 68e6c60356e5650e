//! A throwaway MIT Kerberos realm on loopback: its own `krb5.conf` and
//! `kdc.conf` in a temporary directory, a database made with `kdb5_util`,
//! principals and a service keytab made with `kadmin.local`, and `krb5kdc`
//! in the foreground as a child process, killed on drop.
//!
//! Nothing system-wide is read or written: every Kerberos command gets
//! `KRB5_CONFIG` and `KRB5_KDC_PROFILE` pointing into the temporary
//! directory, and whoever talks to the realm (the station, curl, Apache) must
//! get the same `KRB5_CONFIG` (see [`Realm::krb5_config`]). The process's own
//! environment is never changed, so tests can run realms side by side.

// Each test binary that declares `mod common` uses only part of the rig.
#![allow(dead_code)]
#![cfg(unix)]

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The realm's name.
pub const REALM: &str = "ENROLL.TEST";

/// The test user every realm has, and its password.
pub const ALICE: &str = "alice";
pub const ALICE_PASSWORD: &str = "alice-password-1";

/// The service principal every realm has, without the realm: the one a client
/// asks for when it talks to `https://localhost:...`.
pub const HTTP_SERVICE: &str = "HTTP/localhost";

/// How long the KDC may take to listen.
const KDC_DEADLINE: Duration = Duration::from_secs(20);

const MASTER_PASSWORD: &str = "master-password-of-a-throwaway-realm";

/// A running throwaway realm; dropping it kills the KDC and removes its files.
pub struct Realm {
    dir: tempfile::TempDir,
    realm: String,
    port: u16,
    kdc: Child,
    krb5_config: PathBuf,
    kdc_profile: PathBuf,
    keytab: PathBuf,
    tools: Tools,
    ccaches: AtomicUsize,
}

/// Where the Kerberos commands are (`/usr/sbin` is often not on a user's PATH).
#[derive(Clone, Debug)]
struct Tools {
    krb5kdc: PathBuf,
    kdb5_util: PathBuf,
    kadmin_local: PathBuf,
    kinit: PathBuf,
}

impl Realm {
    /// Creates and starts the realm, with [`ALICE`] and [`HTTP_SERVICE`] in
    /// it and the service's keys in [`Realm::keytab`].
    ///
    /// `None` (after saying "skipping") when the Kerberos or Apache commands are
    /// missing, unless `CI` or `ENROLL_STATION_REQUIRE_SERVICES` is set: then it
    /// panics, as [`super::vpcd::require_pcscd`] does. Once the commands are
    /// there, any failure is a broken rig and panics with the logs.
    pub fn start() -> Option<Realm> {
        let tools = require_tools()?;
        let dir = tempfile::Builder::new()
            .prefix("enroll-station-realm-")
            .tempdir()
            .expect("a temporary directory for the realm");
        let port = free_udp_and_tcp_port();
        let krb5_config = dir.path().join("krb5.conf");
        let kdc_profile = dir.path().join("kdc.conf");
        let keytab = dir.path().join("http.keytab");
        let realm = REALM.to_owned();
        write(&krb5_config, &krb5_conf(&realm, port, dir.path()));
        write(&kdc_profile, &kdc_conf(&realm, port, dir.path()));
        write(&dir.path().join("kadm5.acl"), "");

        let started = Instant::now();
        let env = [
            ("KRB5_CONFIG", krb5_config.as_os_str()),
            ("KRB5_KDC_PROFILE", kdc_profile.as_os_str()),
        ];
        run(
            Command::new(&tools.kdb5_util)
                .args(["-r", &realm, "create", "-s", "-P", MASTER_PASSWORD])
                .envs(env),
            "kdb5_util create",
        );
        let kdc_log = dir.path().join("krb5kdc.out");
        let out = std::fs::File::create(&kdc_log).expect("the KDC's output file");
        let kdc = Command::new(&tools.krb5kdc)
            .args(["-n", "-r", &realm])
            .envs(env)
            .env_remove("KRB5_TRACE")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("the KDC's output file"))
            .stderr(out)
            .spawn()
            .unwrap_or_else(|err| panic!("{} does not start: {err}", tools.krb5kdc.display()));
        let mut realm = Realm {
            dir,
            realm,
            port,
            kdc,
            krb5_config,
            kdc_profile,
            keytab,
            tools,
            ccaches: AtomicUsize::new(0),
        };
        realm.add_principal(ALICE, ALICE_PASSWORD);
        realm.kadmin(&format!(
            "addprinc -randkey {}",
            realm.principal(HTTP_SERVICE)
        ));
        realm.kadmin(&format!(
            "ktadd -k {} {}",
            realm.keytab.display(),
            realm.principal(HTTP_SERVICE)
        ));
        realm.wait_for_kdc();
        eprintln!(
            "Kerberos realm {} on 127.0.0.1:{} in {} (up in {:?})",
            realm.realm,
            realm.port,
            realm.dir.path().display(),
            started.elapsed()
        );
        Some(realm)
    }

    /// The realm's name, e.g. `ENROLL.TEST`.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// The `krb5.conf` every client of this realm needs as `KRB5_CONFIG`.
    pub fn krb5_config(&self) -> &Path {
        &self.krb5_config
    }

    /// The `kdc.conf` (`KRB5_KDC_PROFILE`) of the KDC and `kadmin.local`.
    pub fn kdc_profile(&self) -> &Path {
        &self.kdc_profile
    }

    /// The keytab with the keys of [`HTTP_SERVICE`].
    pub fn keytab(&self) -> &Path {
        &self.keytab
    }

    /// The KDC's port on 127.0.0.1 (UDP and TCP).
    pub fn kdc_port(&self) -> u16 {
        self.port
    }

    /// The realm's temporary directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `name` with `@REALM` appended when it has no realm.
    pub fn principal(&self, name: &str) -> String {
        if name.contains('@') {
            name.to_owned()
        } else {
            format!("{name}@{}", self.realm)
        }
    }

    /// The full name of the proxy's service principal, `HTTP/localhost@ENROLL.TEST`.
    pub fn http_service(&self) -> String {
        self.principal(HTTP_SERVICE)
    }

    /// Adds a principal with a password.
    pub fn add_principal(&self, name: &str, password: &str) {
        self.kadmin(&format!("addprinc -pw {password} {}", self.principal(name)));
    }

    /// Gets a ticket for `principal` with `password` into a fresh ccache and
    /// returns the ccache's path (a `FILE:` cache: use it as `KRB5CCNAME`).
    pub fn kinit(&self, principal: &str, password: &str) -> PathBuf {
        let ccache = self.fresh_ccache_path();
        let principal = self.principal(principal);
        let mut child = Command::new(&self.tools.kinit)
            .arg(&principal)
            .env("KRB5_CONFIG", &self.krb5_config)
            .env("KRB5CCNAME", ccache_name(&ccache))
            .env_remove("KRB5_TRACE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("kinit does not start: {err}"));
        {
            use std::io::Write as _;
            let mut stdin = child.stdin.take().expect("kinit's stdin is piped");
            stdin
                .write_all(format!("{password}\n").as_bytes())
                .expect("kinit reads the password");
        }
        let output = child.wait_with_output().expect("kinit finishes");
        assert!(
            output.status.success() && ccache.is_file(),
            "kinit {principal} failed ({}): {}{}\nKDC log:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            self.kdc_log_tail(20)
        );
        ccache
    }

    /// A ccache path with no ticket in it (the file does not exist).
    pub fn empty_ccache(&self) -> PathBuf {
        self.fresh_ccache_path()
    }

    /// The last `lines` lines of the KDC's log.
    pub fn kdc_log_tail(&self, lines: usize) -> String {
        let mut tail = String::new();
        for name in ["kdc.log", "krb5kdc.out"] {
            tail.push_str(&tail_of(&self.dir.path().join(name), lines));
        }
        tail
    }

    fn fresh_ccache_path(&self) -> PathBuf {
        let n = self.ccaches.fetch_add(1, Ordering::Relaxed);
        self.dir.path().join(format!("ccache-{n}"))
    }

    fn kadmin(&self, query: &str) {
        let output = run(
            Command::new(&self.tools.kadmin_local)
                .args(["-r", &self.realm, "-q", query])
                .env("KRB5_CONFIG", &self.krb5_config)
                .env("KRB5_KDC_PROFILE", &self.kdc_profile),
            &format!("kadmin.local -q {query:?}"),
        );
        // kadmin.local's exit status does not always tell a failed query.
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !stderr.contains("while ") && !stderr.to_lowercase().contains("error"),
            "kadmin.local -q {query:?} failed: {stderr}"
        );
    }

    fn wait_for_kdc(&mut self) {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + KDC_DEADLINE;
        loop {
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.kdc.try_wait() {
                panic!(
                    "krb5kdc exited ({status}) before listening on {address}:\n{}",
                    self.kdc_log_tail(40)
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "krb5kdc does not listen on {address} after {KDC_DEADLINE:?}:\n{}",
                    self.kdc_log_tail(40)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Realm {
    fn drop(&mut self) {
        // The KDC runs in the foreground without workers: one process.
        let _ = self.kdc.kill();
        let _ = self.kdc.wait();
    }
}

impl std::fmt::Debug for Realm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Realm")
            .field("realm", &self.realm)
            .field("port", &self.port)
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

/// The value of `KRB5CCNAME` for a ccache file.
pub fn ccache_name(path: &Path) -> String {
    format!("FILE:{}", path.display())
}

/// True when `CI` or `ENROLL_STATION_REQUIRE_SERVICES` is set: a missing
/// service is then a failure, not a skip.
pub fn services_required() -> bool {
    ["CI", "ENROLL_STATION_REQUIRE_SERVICES"]
        .iter()
        .any(|var| std::env::var_os(var).is_some())
}

/// The Kerberos commands when they and the proxy's are all there; otherwise
/// panics or says "skipping", see [`Realm::start`].
fn require_tools() -> Option<Tools> {
    let mut missing = Vec::new();
    let mut find = |name: &str| {
        let found = find_command(name);
        if found.is_none() {
            missing.push(name.to_owned());
        }
        found.unwrap_or_default()
    };
    let tools = Tools {
        krb5kdc: find("krb5kdc"),
        kdb5_util: find("kdb5_util"),
        kadmin_local: find("kadmin.local"),
        kinit: find("kinit"),
    };
    if find_command("openssl").is_none() {
        missing.push("openssl".to_owned());
    }
    missing.extend(super::negotiate_proxy::missing_parts());
    if missing.is_empty() {
        return Some(tools);
    }
    let why = format!(
        "missing {} (Debian: apt-get install krb5-kdc krb5-admin-server krb5-user \
         apache2-bin libapache2-mod-auth-gssapi openssl, or scripts/deps.sh test)",
        missing.join(", ")
    );
    if services_required() {
        panic!("a Kerberos realm and an Apache Negotiate proxy are required here, but {why}");
    }
    eprintln!("skipping: Kerberos realm and Negotiate proxy not available ({why})");
    None
}

/// `name` on PATH or in the sbin directories, which a user's PATH often lacks.
pub fn find_command(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(
            ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"]
                .iter()
                .map(PathBuf::from),
        )
        .map(|dir| dir.join(name))
        .find(|candidate| {
            use std::os::unix::fs::PermissionsExt as _;
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// A port free on 127.0.0.1 for both TCP and UDP (the KDC serves both).
fn free_udp_and_tcp_port() -> u16 {
    for _ in 0..100 {
        let tcp = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a free TCP port");
        let port = tcp.local_addr().expect("the TCP port").port();
        if UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
    panic!("no port on 127.0.0.1 is free for both TCP and UDP");
}

fn krb5_conf(realm: &str, port: u16, dir: &Path) -> String {
    let dir = dir.display();
    format!(
        "[libdefaults]
    default_realm = {realm}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
    default_ccache_name = FILE:{dir}/default-ccache

[realms]
    {realm} = {{
        kdc = 127.0.0.1:{port}
    }}

[domain_realm]
    localhost = {realm}
    127.0.0.1 = {realm}
"
    )
}

fn kdc_conf(realm: &str, port: u16, dir: &Path) -> String {
    let dir = dir.display();
    format!(
        "[kdcdefaults]
    kdc_listen = 127.0.0.1:{port}
    kdc_tcp_listen = 127.0.0.1:{port}

[realms]
    {realm} = {{
        kdc_listen = 127.0.0.1:{port}
        kdc_tcp_listen = 127.0.0.1:{port}
        database_name = {dir}/principal
        key_stash_file = {dir}/stash
        acl_file = {dir}/kadm5.acl
        max_life = 10h 0m 0s
        max_renewable_life = 1d 0h 0m 0s
    }}

[logging]
    kdc = FILE:{dir}/kdc.log
    admin_server = FILE:{dir}/kadmin.log
    default = FILE:{dir}/krb5.log
"
    )
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|err| panic!("writing {}: {err}", path.display()));
}

/// Runs `command` to the end; panics with its output when it fails.
pub(crate) fn run(command: &mut Command, what: &str) -> Output {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| panic!("{what} does not start: {err}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The last `lines` lines of a log file, headed by its name; empty when there is no file.
pub(crate) fn tail_of(path: &Path, lines: usize) -> String {
    let Ok(text) = std::fs::read_to_string(path) else {
        return String::new();
    };
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    format!("--- {} ---\n{}\n", path.display(), all[start..].join("\n"))
}
