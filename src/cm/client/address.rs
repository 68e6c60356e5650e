//! The server's address: the API base URL, loopback, and a redirect's
//! target shown without its secrets.

use super::*;

/// Query parameters whose values may be secrets (an OAuth code or token, a
/// SAML assertion): shown as `…` in a redirect's target.
pub(super) const SECRET_PARAMETERS: [&str; 9] = [
    "code",
    "token",
    "access_token",
    "id_token",
    "refresh_token",
    "assertion",
    "samlresponse",
    "samlrequest",
    "client_secret",
];

pub(super) fn is_secret_parameter(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_PARAMETERS.contains(&key.as_str()) || key.contains("password")
}

/// A redirect's `Location` as the operator may see it: resolved against the
/// URL called, without user name, password or fragment, secret-looking query
/// values replaced by `…`, no control characters, at most 160 characters.
pub fn redirect_target(called: &Url, location: &str) -> String {
    let shown = match called.join(location.trim()) {
        Ok(mut target) => {
            let _ = target.set_username("");
            let _ = target.set_password(None);
            target.set_fragment(None);
            let query = target.query().map(|query| {
                query
                    .split('&')
                    .map(|pair| match pair.split_once('=') {
                        Some((key, _)) if is_secret_parameter(key) => format!("{key}=…"),
                        _ => pair.to_owned(),
                    })
                    .collect::<Vec<_>>()
                    .join("&")
            });
            target.set_query(None);
            match query {
                Some(query) => format!("{target}?{query}"),
                None => target.to_string(),
            }
        }
        Err(_) => location.to_owned(),
    };
    let clean: String = shown.chars().filter(|c| !c.is_control()).collect();
    shorten(clean.trim(), 160)
}

/// Turns what the operator typed into the API's base URL.
pub fn api_base_url(server: &str) -> Result<Url, CmError> {
    let original = server.trim();
    let refuse = |reason: &str| CmError::InvalidServerUrl {
        url: original.to_owned(),
        reason: reason.to_owned(),
    };
    if original.is_empty() {
        return Err(refuse("it is empty"));
    }
    if original.chars().any(char::is_whitespace) {
        return Err(refuse("it contains spaces"));
    }
    let with_scheme = if original.contains("://") {
        original.to_owned()
    } else {
        // A bare host name is what people type; CM is only ever served over https.
        format!("https://{original}")
    };
    let mut url = Url::parse(&with_scheme).map_err(|e| refuse(&format!("{e}")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(refuse("only https:// (or http:// for tests) is possible"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(refuse("it names no server"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse(
            "it contains a user name or password; sign-in is not configured in the address",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(refuse("it contains a query (?...) or fragment (#...)"));
    }
    let path = url.path().to_owned();
    let lower = path.to_ascii_lowercase();
    let api = API_PATH.trim_end_matches('/').to_ascii_lowercase();
    let prefix = if let Some(at) = lower.find(&api) {
        // Anything after the API path (a pasted ".../requests" URL) is dropped.
        let rest = &lower[at + api.len()..];
        if !(rest.is_empty() || rest.starts_with('/')) {
            return Err(refuse("only version v1.0 of the CM REST API exists"));
        }
        path[..at].to_owned()
    } else if let Some(at) = lower.find("/certificatemanagement") {
        let rest = &lower[at + "/certificatemanagement".len()..];
        let rest = rest.trim_end_matches('/');
        if rest.starts_with("/api") {
            return Err(refuse("only version v1.0 of the CM REST API exists"));
        }
        if !rest.is_empty() {
            return Err(refuse(
                "the path after /CertificateManagement is not the API's",
            ));
        }
        path[..at].to_owned()
    } else {
        path.trim_end_matches('/').to_owned()
    };
    url.set_path(&format!("{}{API_PATH}", prefix.trim_end_matches('/')));
    Ok(url)
}

/// True for the literal addresses 127.0.0.0/8 and ::1: the only hosts plain
/// http may reach by default. A name is never loopback here, `localhost`
/// included: whether it resolves to this machine is up to the resolver
/// (`cm.localhost` goes to DNS on Windows and on many Linux setups).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    }
}

/// True for a loopback address or the name `localhost` exactly: a proxy
/// from the environment cannot reach either.
pub(super) fn bypasses_proxy(url: &Url) -> bool {
    is_loopback(url)
        || url
            .host_str()
            .is_some_and(|host| host.eq_ignore_ascii_case("localhost"))
}

pub(super) fn host_and_port(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}
