//! HTTP Negotiate (SPNEGO, RFC 4559), independent of the platform: what a
//! security context must do, who the server is, and what a failure means in
//! words. The platform's security library sits behind [`SecurityContext`]:
//! GSSAPI on Linux and macOS ([`super::gssapi`]), SSPI on Windows ([`super::sspi`]).

use std::fmt;

use crate::platform::secrets::Secret;

/// One step of a context: a token for the server, and whether the context is done.
#[derive(Debug)]
pub struct Step {
    /// The token to send (`Authorization: Negotiate <base64>`), when there is one.
    pub token: Option<Vec<u8>>,
    /// True once the context is established (nothing more is expected from the server).
    pub complete: bool,
    /// True when the established context says the server proved its identity
    /// (GSSAPI's `GSS_C_MUTUAL_FLAG`, SSPI's `ISC_RET_MUTUAL_AUTH`).
    pub mutual: bool,
}

/// A client security context for one server.
pub trait SecurityContext: Send {
    /// Feeds the server's token (none for the first step) and returns the next token.
    fn step(&mut self, server_token: Option<&[u8]>) -> Result<Step, NegotiateError>;

    /// The principal the context signed in as (e.g. `alice@CONTOSO.COM`), once known.
    fn principal(&self) -> Option<String>;

    /// The mechanism that won (`Kerberos`, `NTLM`), once known.
    fn mechanism(&self) -> Option<String>;
}

/// Who the station signs in to, and as whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The server's host name, from the server address.
    pub host: String,
    /// The configured service principal, when it is not `HTTP/<host>`.
    pub service_principal: Option<String>,
    /// Whether SPNEGO may settle on NTLM (`auth.allow_ntlm`); when not, the
    /// security library is told to offer Kerberos only.
    pub allow_ntlm: bool,
}

impl Target {
    /// The service principal as shown to people: `HTTP/<host>` unless configured.
    pub fn display_name(&self) -> String {
        self.service_principal
            .clone()
            .unwrap_or_else(|| format!("HTTP/{}", self.host))
    }
}

/// Credentials to use instead of the logged-in user's (ticket cache, Windows logon).
#[derive(Clone, PartialEq, Eq)]
pub struct Password {
    /// The account, `alice@CONTOSO.COM` or `CONTOSO\alice`.
    pub user: String,
    /// Its password, from the keyring; never displayed, wiped when dropped.
    pub password: Secret,
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Password")
            .field("user", &self.user)
            .field("password", &"<hidden>")
            .finish()
    }
}

/// What went wrong, classified so that the message can say what to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NegotiateFailure {
    /// The platform has no usable security library.
    // Only the GSSAPI loader can miss its library; SSPI is part of Windows.
    #[cfg_attr(windows, allow(dead_code))]
    NoLibrary,
    /// No ticket (or no logon credentials) to sign in with.
    NoTicket,
    /// The ticket has expired.
    TicketExpired,
    /// The KDC does not know the server's service principal.
    UnknownServicePrincipal,
    /// The clocks of this computer and the KDC differ too much.
    ClockSkew,
    /// The KDC cannot be reached.
    NoKdc,
    /// The user name or password was refused.
    BadPassword,
    /// The server's token did not verify (mutual authentication).
    ServerNotProven,
    /// SPNEGO would settle on NTLM, and `auth.allow_ntlm` is not set.
    NtlmRefused,
    /// Anything else.
    Other,
}

/// A failed step, with the security library's own words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NegotiateError {
    /// The kind of failure.
    pub failure: NegotiateFailure,
    /// The service principal involved.
    pub target: String,
    /// What the security library said.
    pub detail: String,
}

impl NegotiateError {
    /// Builds an error and classifies it from the library's text when the
    /// caller could not from status codes.
    pub fn new(failure: NegotiateFailure, target: &str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        let failure = match failure {
            NegotiateFailure::Other => classify_text(&detail),
            known => known,
        };
        NegotiateError {
            failure,
            target: target.to_owned(),
            detail,
        }
    }
}

/// Classifies MIT, Heimdal and SSPI messages that status codes alone do not separate.
pub(super) fn classify_text(detail: &str) -> NegotiateFailure {
    let lower = detail.to_ascii_lowercase();
    let has = |needle: &str| lower.contains(needle);
    let not_found = has("not found in kerberos database");
    // The specific causes first: GSSAPI's generic "no credentials were
    // supplied" heads many messages whose real cause follows it.
    if not_found && has("client") {
        NegotiateFailure::BadPassword
    } else if not_found || has("target principal name is incorrect") {
        NegotiateFailure::UnknownServicePrincipal
    } else if has("preauthentication failed")
        || has("decrypt integrity check failed")
        || has("password incorrect")
        || has("logon failure")
        || has("client not found")
    {
        NegotiateFailure::BadPassword
    } else if has("ticket expired") || has("credentials have expired") {
        NegotiateFailure::TicketExpired
    } else if has("clock skew") {
        NegotiateFailure::ClockSkew
    } else if has("cannot contact any kdc") || has("cannot find kdc") {
        NegotiateFailure::NoKdc
    } else if has("no kerberos credentials")
        || has("credentials cache")
        || has("no credentials were supplied")
        || has("no credentials cache")
    {
        NegotiateFailure::NoTicket
    } else {
        NegotiateFailure::Other
    }
}

impl fmt::Display for NegotiateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (target, detail) = (&self.target, &self.detail);
        match self.failure {
            NegotiateFailure::NoLibrary => write!(
                f,
                "Kerberos sign-in is not available on this computer ({detail}). Install the \
                 system's GSSAPI library (Debian/Ubuntu: libgssapi-krb5-2; Fedora/RHEL: krb5-libs), \
                 or choose another authentication method."
            ),
            NegotiateFailure::NoTicket => write!(
                f,
                "There is no Kerberos ticket to sign in to the CM server with ({detail}). Sign in \
                 with kinit (e.g. kinit alice@CONTOSO.COM), or set auth.user in the configuration \
                 and store that account's password with `enroll-station secret set password`."
            ),
            NegotiateFailure::TicketExpired => write!(
                f,
                "Your Kerberos ticket has expired ({detail}). Renew it with kinit (or log off and \
                 on again) and retry."
            ),
            NegotiateFailure::UnknownServicePrincipal => write!(
                f,
                "The Kerberos KDC does not know the service principal {target} ({detail}). \
                 Address the server by the name its service principal is registered for (its \
                 full DNS name), or set auth.service_principal (--service-principal) to the \
                 principal the CM administrator registered."
            ),
            NegotiateFailure::ClockSkew => write!(
                f,
                "This computer's clock differs too much from the Kerberos KDC's ({detail}). \
                 Correct the clock (time synchronisation) and retry."
            ),
            NegotiateFailure::NoKdc => write!(
                f,
                "No Kerberos KDC (domain controller) can be reached ({detail}). Check the network \
                 or VPN and the Kerberos configuration (krb5.conf)."
            ),
            NegotiateFailure::BadPassword => write!(
                f,
                "The Kerberos KDC refused the configured account or password ({detail}). Check \
                 auth.user and store the right password with `enroll-station secret set password`."
            ),
            NegotiateFailure::ServerNotProven => write!(
                f,
                "The CM server's Kerberos answer for {target} did not verify ({detail})."
            ),
            NegotiateFailure::NtlmRefused => write!(
                f,
                "The sign-in to {target} would fall back to NTLM ({detail}). NTLM does not prove \
                 the server's identity and its answer can be relayed to other servers, so the \
                 station refused it and sent nothing. Kerberos needs a ticket (klist) and the \
                 server addressed by the name its service principal is registered for; only if \
                 the site accepts NTLM, set auth.allow_ntlm = true in the configuration."
            ),
            NegotiateFailure::Other => write!(
                f,
                "Kerberos sign-in to {target} failed: {detail}. Check the ticket (klist), the \
                 server's name and the Kerberos configuration."
            ),
        }
    }
}

impl std::error::Error for NegotiateError {}

/// Starts a context for `target` with the platform's security library.
pub fn start(
    target: &Target,
    password: Option<&Password>,
) -> Result<Box<dyn SecurityContext>, NegotiateError> {
    #[cfg(unix)]
    {
        super::gssapi::GssContext::start(target, password)
            .map(|c| Box::new(c) as Box<dyn SecurityContext>)
    }
    #[cfg(windows)]
    {
        super::sspi::SspiContext::start(target, password)
            .map(|c| Box::new(c) as Box<dyn SecurityContext>)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = password;
        Err(NegotiateError::new(
            NegotiateFailure::NoLibrary,
            &target.display_name(),
            "this platform has neither GSSAPI nor SSPI",
        ))
    }
}

/// The tokens a `WWW-Authenticate` header offers, by scheme. One header may
/// carry several challenges separated by commas; `Negotiate` has at most a
/// base64 token after it.
pub fn negotiate_token(headers: &[String]) -> Option<Option<Vec<u8>>> {
    use base64::Engine as _;
    headers
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .find_map(|challenge| {
            let mut parts = challenge.splitn(2, ' ');
            let scheme = parts.next()?;
            if !scheme.eq_ignore_ascii_case("negotiate") {
                return None;
            }
            let token = parts
                .next()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .and_then(|t| base64::engine::general_purpose::STANDARD.decode(t).ok());
            Some(token)
        })
}

/// The schemes a server's `WWW-Authenticate` headers offer, e.g. `["Negotiate", "NTLM"]`.
pub fn offered_schemes(headers: &[String]) -> Vec<String> {
    let mut schemes = Vec::new();
    for challenge in headers.iter().flat_map(|h| h.split(',')) {
        // A piece whose first word has no `=` starts a challenge; the others
        // are parameters (`error="invalid_token"`) of the one before.
        let first = challenge.trim().split(' ').next().unwrap_or_default();
        if !first.is_empty()
            && !first.contains('=')
            && !schemes
                .iter()
                .any(|s: &String| s.eq_ignore_ascii_case(first))
        {
            schemes.push(first.to_owned());
        }
    }
    schemes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiate_tokens_are_found_among_challenges() {
        let headers = vec!["Negotiate".to_owned(), "NTLM".to_owned()];
        assert_eq!(negotiate_token(&headers), Some(None));
        let headers = vec!["negotiate oYGfMIGc".to_owned()];
        assert!(matches!(negotiate_token(&headers), Some(Some(t)) if !t.is_empty()));
        let headers = vec!["Bearer realm=\"cm\"".to_owned()];
        assert_eq!(negotiate_token(&headers), None);
    }

    #[test]
    fn offered_schemes_are_listed_once_without_parameters() {
        let headers = vec![
            "Negotiate".to_owned(),
            "NTLM".to_owned(),
            "Bearer realm=\"cm\", error=\"invalid_token\"".to_owned(),
        ];
        assert_eq!(offered_schemes(&headers), ["Negotiate", "NTLM", "Bearer"]);
    }

    #[test]
    fn library_texts_are_classified() {
        let cases = [
            (
                "Unspecified GSS failure.  Minor code may provide more information: \
                 Server HTTP/wrong.example@ENROLL.TEST not found in Kerberos database",
                NegotiateFailure::UnknownServicePrincipal,
            ),
            (
                "Client 'bob@ENROLL.TEST' not found in Kerberos database",
                NegotiateFailure::BadPassword,
            ),
            (
                "No Kerberos credentials available (default cache: FILE:/tmp/x)",
                NegotiateFailure::NoTicket,
            ),
            ("Ticket expired", NegotiateFailure::TicketExpired),
            ("Clock skew too great", NegotiateFailure::ClockSkew),
            (
                "Cannot contact any KDC for realm 'X'",
                NegotiateFailure::NoKdc,
            ),
            ("Preauthentication failed", NegotiateFailure::BadPassword),
            (
                "No credentials were supplied, or the credentials were unavailable or \
                 inaccessible: Decrypt integrity check failed",
                NegotiateFailure::BadPassword,
            ),
            (
                "No credentials were supplied, or the credentials were unavailable or \
                 inaccessible: Cannot contact any KDC for realm 'X'",
                NegotiateFailure::NoKdc,
            ),
            (
                "An unsupported mechanism was requested",
                NegotiateFailure::Other,
            ),
        ];
        for (text, failure) in cases {
            assert_eq!(
                NegotiateError::new(NegotiateFailure::Other, "HTTP/cm", text).failure,
                failure,
                "{text}"
            );
        }
    }

    #[test]
    fn messages_say_what_to_do_and_hide_passwords() {
        let error = NegotiateError::new(NegotiateFailure::NoTicket, "HTTP/cm", "none");
        assert!(error.to_string().contains("kinit"), "{error}");
        let error = NegotiateError::new(
            NegotiateFailure::UnknownServicePrincipal,
            "HTTP/wrong",
            "Server not found",
        );
        assert!(error.to_string().contains("service principal HTTP/wrong"));
        let password = Password {
            user: "alice".into(),
            password: Secret::new("s3cret"),
        };
        assert!(!format!("{password:?}").contains("s3cret"));
    }
}
