//! Apache httpd as a TLS reverse proxy that requires HTTP Negotiate
//! (mod_auth_gssapi, Kerberos only) in front of a plain-HTTP backend, the way
//! a CM server sits behind Windows authentication.
//!
//! Everything lives in a temporary directory: a throwaway CA and a
//! certificate for `localhost` (made with the `openssl` command), the
//! configuration, the logs, the pid file and the mutexes. Apache runs in the
//! foreground, in its own process group, and is stopped on drop.
//!
//! The proxy passes the authenticated principal to the backend as
//! `X-Remote-User` and does not forward the `Authorization` header.

// Each test binary that declares `mod common` uses only part of the rig.
#![allow(dead_code)]
#![cfg(unix)]

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::kerberos::{Realm, find_command, run, tail_of};

/// How long Apache may take to listen.
const START_DEADLINE: Duration = Duration::from_secs(30);

/// How long Apache may take to stop after SIGTERM before it gets SIGKILL.
const STOP_DEADLINE: Duration = Duration::from_secs(5);

/// The modules the configuration loads; mod_unixd is often built in.
const MODULES: [&str; 11] = [
    "mpm_event",
    "unixd",
    "authn_core",
    "authz_core",
    "authz_user",
    "socache_shmcb",
    "ssl",
    "proxy",
    "proxy_http",
    "headers",
    "auth_gssapi",
];

/// Where distributions keep Apache's modules.
const MODULE_DIRS: [&str; 4] = [
    "/usr/lib/apache2/modules",
    "/usr/lib64/httpd/modules",
    "/usr/lib/httpd/modules",
    "/usr/libexec/apache2",
];

/// A running proxy; dropping it stops Apache and removes its files.
pub struct NegotiateProxy {
    dir: tempfile::TempDir,
    port: u16,
    child: Child,
    ca_pem: PathBuf,
    error_log: PathBuf,
    stderr_log: PathBuf,
}

impl NegotiateProxy {
    /// Starts Apache on a free 127.0.0.1 port with TLS, requiring Negotiate
    /// with the keys of `realm`'s [`super::kerberos::HTTP_SERVICE`], and
    /// proxying everything to `backend` (e.g. `http://127.0.0.1:8080`).
    /// Panics with the tail of Apache's logs when it does not come up.
    pub fn start(realm: &Realm, backend: &str) -> NegotiateProxy {
        NegotiateProxy::start_with(realm, backend, false)
    }

    /// The same, but the success answer loses mod_auth_gssapi's final
    /// `WWW-Authenticate: Negotiate <token>` (mod_headers), as behind a front
    /// end that drops it: nothing then proves the server to the client.
    pub fn start_without_final_token(realm: &Realm, backend: &str) -> NegotiateProxy {
        NegotiateProxy::start_with(realm, backend, true)
    }

    fn start_with(realm: &Realm, backend: &str, drop_final_token: bool) -> NegotiateProxy {
        let apache = find_apache().expect("Apache httpd (checked by Realm::start)");
        let modules = module_dir().expect("mod_auth_gssapi (checked by Realm::start)");
        let dir = tempfile::Builder::new()
            .prefix("enroll-station-proxy-")
            .tempdir()
            .expect("a temporary directory for the proxy");
        let root = dir.path();
        for sub in ["logs", "run"] {
            std::fs::create_dir(root.join(sub)).expect("the proxy's directories");
        }
        let ca_pem = make_certificates(root);
        // The workers read these after dropping privileges: private copies
        // they may own, rather than opening up the realm's directory.
        let keytab = root.join("http.keytab");
        let krb5_config = root.join("krb5.conf");
        std::fs::copy(realm.keytab(), &keytab).expect("a copy of the keytab");
        std::fs::copy(realm.krb5_config(), &krb5_config).expect("a copy of krb5.conf");

        let user = if running_as_root() {
            let user = unprivileged_user();
            give_to(root, &user);
            Some(user)
        } else {
            None
        };
        let port = free_tcp_port();
        let conf = root.join("httpd.conf");
        let mut text = httpd_conf(root, &modules, port, backend, &keytab, user.as_ref());
        if drop_final_token {
            // mod_auth_gssapi puts its final token among the headers kept
            // on errors too (`always`); only a success answer loses it, so
            // the 401's challenge stays.
            text = text.replace(
                "    RequestHeader unset Authorization\n",
                "    RequestHeader unset Authorization\n    Header always unset WWW-Authenticate \"expr=%{REQUEST_STATUS} -lt 400\"\n",
            );
            assert!(text.contains("unset WWW-Authenticate"), "{text}");
        }
        std::fs::write(&conf, text).expect("httpd.conf");

        let error_log = root.join("logs").join("error.log");
        let stderr_log = root.join("logs").join("apache.stderr");
        let out = std::fs::File::create(&stderr_log).expect("Apache's output file");
        let child = {
            use std::os::unix::process::CommandExt as _;
            Command::new(&apache)
                .arg("-f")
                .arg(&conf)
                .arg("-DFOREGROUND")
                .env("KRB5_CONFIG", &krb5_config)
                .env("KRB5_KTNAME", format!("FILE:{}", keytab.display()))
                .env("KRB5RCACHEDIR", root.join("run"))
                .env("KRB5_TRACE", root.join("logs").join("krb5_trace.log"))
                .env_remove("KRB5CCNAME")
                .env_remove("KRB5_KDC_PROFILE")
                .stdin(Stdio::null())
                .stdout(out.try_clone().expect("Apache's output file"))
                .stderr(out)
                // Its own group, so that stopping it reaches its workers too.
                .process_group(0)
                .spawn()
                .unwrap_or_else(|err| panic!("{} does not start: {err}", apache.display()))
        };
        let mut proxy = NegotiateProxy {
            dir,
            port,
            child,
            ca_pem,
            error_log,
            stderr_log,
        };
        proxy.wait_until_listening();
        eprintln!(
            "Negotiate proxy {} -> {backend} in {}",
            proxy.base_url(),
            proxy.dir.path().display()
        );
        proxy
    }

    /// The proxy's root URL, `https://localhost:PORT`.
    pub fn base_url(&self) -> String {
        format!("https://localhost:{}", self.port)
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The PEM file of the CA that signed the proxy's certificate.
    pub fn ca_pem_path(&self) -> &Path {
        &self.ca_pem
    }

    /// The last `lines` lines of Apache's error log (and of its own output).
    pub fn error_log_tail(&self, lines: usize) -> String {
        format!(
            "{}{}",
            tail_of(&self.stderr_log, lines),
            tail_of(&self.error_log, lines)
        )
    }

    fn wait_until_listening(&mut self) {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "Apache exited ({status}) before listening on {address}:\n{}",
                    self.error_log_tail(40)
                );
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "Apache does not listen on {address} after {START_DEADLINE:?}:\n{}",
                    self.error_log_tail(40)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn signal_group(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([signal, "--", &format!("-{}", self.child.id())])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for NegotiateProxy {
    fn drop(&mut self) {
        // SIGTERM makes the parent stop its workers; SIGKILL on the group is
        // the fallback (and catches a worker that outlived its parent).
        self.signal_group("-TERM");
        let deadline = Instant::now() + STOP_DEADLINE;
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.signal_group("-KILL");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl std::fmt::Debug for NegotiateProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NegotiateProxy")
            .field("port", &self.port)
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

/// What the proxy needs and this machine lacks (Apache, its modules).
pub fn missing_parts() -> Vec<String> {
    let mut missing = Vec::new();
    if find_apache().is_none() {
        missing.push("apache2 (Apache httpd)".to_owned());
    }
    if module_dir().is_none() {
        missing.push("mod_auth_gssapi.so (libapache2-mod-auth-gssapi)".to_owned());
    }
    missing
}

fn find_apache() -> Option<PathBuf> {
    find_command("apache2").or_else(|| find_command("httpd"))
}

/// The directory with Apache's modules, mod_auth_gssapi among them.
fn module_dir() -> Option<PathBuf> {
    MODULE_DIRS
        .iter()
        .map(PathBuf::from)
        .find(|dir| dir.join("mod_auth_gssapi.so").is_file())
}

fn httpd_conf(
    root: &Path,
    modules: &Path,
    port: u16,
    backend: &str,
    keytab: &Path,
    user: Option<&(String, u32, u32)>,
) -> String {
    let root = root.display();
    let keytab = keytab.display();
    let backend = backend.trim_end_matches('/');
    let mut conf = format!(
        "ServerRoot \"{root}\"
ServerName localhost
PidFile \"{root}/run/httpd.pid\"
DefaultRuntimeDir \"{root}/run\"
Mutex file:{root}/run default
ErrorLog \"{root}/logs/error.log\"
LogLevel info auth_gssapi:debug
Listen 127.0.0.1:{port}
"
    );
    for module in MODULES {
        conf.push_str(&format!(
            "<IfModule !{module}_module>\n    LoadModule {module}_module \"{}/mod_{module}.so\"\n</IfModule>\n",
            modules.display()
        ));
    }
    if let Some((name, _, gid)) = user {
        conf.push_str(&format!("User {name}\nGroup #{gid}\n"));
    }
    conf.push_str(&format!(
        "<IfModule mpm_event_module>
    StartServers 1
    ServerLimit 2
    ThreadLimit 8
    ThreadsPerChild 8
    MaxRequestWorkers 16
    MinSpareThreads 8
    MaxSpareThreads 16
</IfModule>
SSLEngine on
SSLCertificateFile \"{root}/server.pem\"
SSLCertificateKeyFile \"{root}/server.key\"
SSLSessionCache \"shmcb:{root}/run/ssl_scache(512000)\"
<Location />
    AuthType GSSAPI
    AuthName \"CM\"
    GssapiCredStore keytab:{keytab}
    GssapiAllowedMech krb5
    GssapiBasicAuth Off
    GssapiNegotiateOnce On
    Require valid-user
    RequestHeader set X-Remote-User \"%{{REMOTE_USER}}s\"
    RequestHeader unset Authorization
</Location>
ProxyPass / {backend}/
ProxyPassReverse / {backend}/
"
    ));
    conf
}

/// Makes a throwaway CA and a certificate for `localhost` (SAN DNS:localhost
/// and IP:127.0.0.1) signed by it, as `ca.pem`, `server.pem` and
/// `server.key` in `dir`; returns the CA's path.
fn make_certificates(dir: &Path) -> PathBuf {
    let openssl_bin = find_command("openssl").expect("openssl (checked by Realm::start)");
    let cnf = dir.join("openssl.cnf");
    std::fs::write(
        &cnf,
        "[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
",
    )
    .expect("openssl.cnf");
    let openssl = |args: &[&str], what: &str| {
        run(
            Command::new(&openssl_bin)
                .args(args)
                .current_dir(dir)
                .env("OPENSSL_CONF", &cnf),
            what,
        );
    };
    let new_key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509", "-new"][..],
            &new_key,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=enroll-station test CA",
                "-config",
                "openssl.cnf",
                "-extensions",
                "ca_ext",
            ],
        ]
        .concat(),
        "openssl req (the CA)",
    );
    openssl(
        &[
            &["req", "-new"][..],
            &new_key,
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
                "-config",
                "openssl.cnf",
            ],
        ]
        .concat(),
        "openssl req (the server)",
    );
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-CAserial",
            "ca.srl",
            "-days",
            "2",
            "-out",
            "server.pem",
            "-extfile",
            "openssl.cnf",
            "-extensions",
            "server_ext",
        ],
        "openssl x509 (signing the server's certificate)",
    );
    dir.join("ca.pem")
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    // /proc/self belongs to the process's effective user.
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The account Apache switches to when started as root: (name, uid, gid).
fn unprivileged_user() -> (String, u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    for wanted in ["www-data", "apache", "daemon", "nobody"] {
        for line in passwd.lines() {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() > 3
                && fields[0] == wanted
                && let (Ok(uid), Ok(gid)) = (fields[2].parse(), fields[3].parse())
            {
                return (wanted.to_owned(), uid, gid);
            }
        }
    }
    panic!("running as root, and there is no www-data, apache, daemon or nobody user for Apache");
}

/// Hands the proxy's directory to the user Apache's workers run as: they read
/// the keytab and krb5.conf and write the replay cache.
fn give_to(dir: &Path, (_, uid, gid): &(String, u32, u32)) {
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        std::os::unix::fs::chown(&path, Some(*uid), Some(*gid))
            .unwrap_or_else(|err| panic!("chown {}: {err}", path.display()));
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("the proxy's directory") {
                pending.push(entry.expect("a directory entry").path());
            }
        }
    }
}

fn free_tcp_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a free TCP port");
    listener.local_addr().expect("the port").port()
}
