//! Who can reach the emulator (review L10). It has no authentication of
//! its own and usually serves plain http, so:
//!
//! - it listens on a loopback address unless `--allow-remote`
//!   ([`check_listen`]), and says loudly when it does not;
//! - it answers only a `Host` that names it ([`require_own_host`]): an IP
//!   address, `localhost`, or under `--allow-remote` this machine's name. A
//!   web page whose DNS name was rebound to 127.0.0.1 still sends its own
//!   name, and is refused (421);
//! - it counts the calls that carried credentials ([`count_credentials`]),
//!   so that a test can show a client sent none to a server it must not
//!   trust. Only the count is kept, never a header.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::{AUTHORIZATION, HOST};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

use super::{EmulatorConfig, Shared, lock};

/// Refuses an address other machines can reach unless `allow_remote`.
pub(super) fn check_listen(config: &EmulatorConfig) -> io::Result<()> {
    if config.listen.ip().is_loopback() {
        return Ok(());
    }
    if !config.allow_remote {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} is not a loopback address: the emulator has no authentication and serves \
                 demo data to anyone who reaches it, and a station pointed at it may send it real \
                 credentials. Listen on 127.0.0.1 (the default), or add --allow-remote if other \
                 machines must reach it",
                config.listen
            ),
        ));
    }
    tracing::warn!(
        listen = %config.listen,
        https = config.tls.is_some(),
        "the CM emulator listens on an address other machines can reach (--allow-remote), \
         with no authentication of its own"
    );
    Ok(())
}

/// This machine's host name, as given and short, lower case: the names a
/// `Host` header may use under `--allow-remote`.
pub(super) fn this_machine_names() -> Vec<String> {
    let name = gethostname::gethostname()
        .to_string_lossy()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let short = name.split('.').next().unwrap_or_default().to_owned();
    let mut names = vec![name, short];
    names.dedup();
    names.retain(|n| !n.is_empty());
    names
}

/// Whether a `Host` header names this server: an IP address, `localhost`, or
/// exactly one of `names` (a name that merely starts with this machine's
/// could be anyone's, `station.attacker.example`).
pub(super) fn host_is_ours(host: &str, names: &[String]) -> bool {
    let host = host.trim();
    // `[::1]:8443`, `127.0.0.1:8443`, `localhost:8443`, `name`.
    if let Some(rest) = host.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((ip, port)) => {
                ip.parse::<Ipv6Addr>().is_ok() && (port.is_empty() || is_port(port))
            }
            None => false,
        };
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if is_port(port) => name,
        Some(_) => return false,
        None => host,
    };
    if name.parse::<Ipv4Addr>().is_ok() || name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    names.contains(&name)
}

/// `:8443` after a host: digits only.
fn is_port(text: &str) -> bool {
    text.strip_prefix(':')
        .unwrap_or(text)
        .parse::<u16>()
        .is_ok()
}

/// Answers 421 for a `Host` that names another server (DNS rebinding from a
/// browser on this machine), 400 for none.
pub(super) async fn require_own_host(
    State(names): State<Arc<[String]>>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        // HTTP/2 names the host in the URI instead.
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()));
    match host {
        Some(host) if host_is_ours(&host, &names) => next.run(request).await,
        Some(host) => {
            tracing::warn!(host = %host, "CM emulator refuses a request for another host");
            (
                StatusCode::MISDIRECTED_REQUEST,
                "This CM emulator answers only for localhost and IP addresses: the Host header \
                 names another server.\n",
            )
                .into_response()
        }
        None => (StatusCode::BAD_REQUEST, "A Host header is required.\n").into_response(),
    }
}

/// Counts a call that carries an `Authorization` header (see the module).
pub(super) async fn count_credentials(
    State(state): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
    if request.headers().contains_key(AUTHORIZATION) {
        lock(&state).credentialed_calls += 1;
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

    #[test]
    fn only_this_machine_is_named_in_host() {
        let names = vec!["station7.contoso.com".to_owned(), "station7".to_owned()];
        for ours in [
            "127.0.0.1:8443",
            "127.0.0.1",
            "10.1.2.3:8443",
            "[::1]:8443",
            "[::1]",
            "localhost:8443",
            "LOCALHOST",
            "station7:8443",
            "Station7.contoso.com.",
        ] {
            assert!(host_is_ours(ours, &names), "{ours}");
        }
        for theirs in [
            "attacker.example:8443",
            "localhost.attacker.example",
            "cm.localhost:8443",
            "station7.attacker.example",
            "127.0.0.1.nip.io",
            "127.0.0.1:x",
            "[::1",
            "[zz]:1",
            "",
        ] {
            assert!(!host_is_ours(theirs, &names), "{theirs}");
        }
        assert!(
            !host_is_ours("station7", &[]),
            "names only with --allow-remote"
        );
    }

    #[test]
    fn a_remote_address_needs_allow_remote() {
        let config = |listen: &str, allow_remote| EmulatorConfig {
            listen: listen.parse::<SocketAddr>().expect("an address"),
            allow_remote,
            ..EmulatorConfig::default()
        };
        check_listen(&config("127.0.0.1:0", false)).expect("loopback");
        check_listen(&config("[::1]:0", false)).expect("loopback");
        let error = check_listen(&config("0.0.0.0:8443", false)).expect_err("everywhere");
        assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
        assert!(error.to_string().contains("--allow-remote"), "{error}");
        check_listen(&config("0.0.0.0:8443", true)).expect("asked for");
    }
}
