//! How the station proves to the CM server who it works for: Negotiate
//! (Kerberos single sign-on, with a password fallback), an ADFS bearer token,
//! a TLS client certificate, or nothing (the emulator).
//!
//! The client calls [`Authenticator::authorization`] before each send and
//! [`Authenticator::on_unauthorized`] after a 401; everything that depends on
//! the platform's security library is behind [`negotiate::SecurityContext`].

mod bearer;
#[cfg(unix)]
mod gssapi;
pub(crate) mod negotiate;
#[cfg(windows)]
mod sspi;

use std::sync::Mutex;

use base64::Engine as _;
use reqwest::header::HeaderValue;
use serde::{Deserialize, Serialize};

use self::negotiate::{NegotiateError, NegotiateFailure, Password, SecurityContext, Target};
use super::error::CmError;
use crate::platform::secrets::{self, Secret, SecretName};

/// The authentication methods.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMethod {
    /// HTTP Negotiate: Kerberos from the ticket cache or Windows logon,
    /// answering the server's 401 (NTLM only with `auth.allow_ntlm`).
    #[default]
    Negotiate,
    /// `Authorization: Bearer` with an ADFS token.
    Bearer,
    /// Only the TLS client certificate.
    ClientCertificate,
    /// No authentication (the emulator).
    None,
}

impl AuthMethod {
    /// The name used in the configuration file and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::Negotiate => "negotiate",
            AuthMethod::Bearer => "bearer",
            AuthMethod::ClientCertificate => "client-certificate",
            AuthMethod::None => "none",
        }
    }
}

/// The authentication part of a client's configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthConfig {
    /// The method.
    pub method: AuthMethod,
    /// Negotiate: the service principal when it is not `HTTP/<host>`.
    pub service_principal: Option<String>,
    /// Negotiate: the account to sign in as when there is no ticket; its
    /// password is read from the keyring.
    pub user: Option<String>,
    /// Bearer: the command that prints a fresh token.
    pub token_command: Vec<String>,
    /// Bearer: the host a token from the environment or the command belongs
    /// to (the configuration's own server); a run pointed at another host
    /// (`--server`) refuses to send it. `None`: the server's own host.
    pub token_host: Option<String>,
    /// Negotiate: let SPNEGO settle on NTLM (`auth.allow_ntlm`). Off: NTLM
    /// is never offered, and a context that ends on it is refused.
    pub allow_ntlm: bool,
    /// Negotiate: accept a success answer without the server's final token
    /// (`auth.allow_missing_mutual_auth`), for servers known to omit it.
    pub allow_missing_mutual_auth: bool,
}

/// Who the server accepted, for the connection check and the journal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignedIn {
    /// The method that was used.
    pub method: Option<AuthMethod>,
    /// The mechanism that won inside Negotiate (`Kerberos`, `NTLM`).
    pub mechanism: Option<String>,
    /// The principal, when the method names one.
    pub principal: Option<String>,
    /// Where a bearer token came from.
    pub token_source: Option<&'static str>,
}

/// What the client should do after a 401.
pub(crate) enum AfterUnauthorized {
    /// Send the request again, with the new authorization.
    Retry,
    /// Stop: this is the error.
    Fail(CmError),
}

/// The state of authentication across one call (a request and its retries).
#[derive(Default)]
pub(crate) struct Exchange {
    context: Option<Box<dyn SecurityContext>>,
    server_token: Option<Vec<u8>>,
    sent_negotiate: bool,
    rounds: u8,
    bearer_refreshed: bool,
}

/// Authenticates a client's calls; shared by its clones.
#[derive(Debug)]
pub(crate) struct Authenticator {
    config: AuthConfig,
    target: Target,
    state: Mutex<State>,
    /// The configured client certificate's subject: who the server
    /// authenticates with the client-certificate method.
    certificate_subject: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    /// The server has asked for Negotiate once: send tokens up front from now on.
    wants_negotiate: bool,
    bearer: Option<(Secret, &'static str)>,
    signed_in: SignedIn,
}

/// Negotiate legs allowed in one call; Kerberos needs one, NTLM two.
const MAX_ROUNDS: u8 = 4;

impl Authenticator {
    pub(crate) fn new(config: AuthConfig, host: &str) -> Authenticator {
        let target = Target {
            host: host.to_owned(),
            service_principal: config.service_principal.clone(),
            allow_ntlm: config.allow_ntlm,
        };
        Authenticator {
            config,
            target,
            state: Mutex::new(State::default()),
            certificate_subject: None,
        }
    }

    /// The same, naming the client certificate's subject as the principal
    /// once the server accepts a call made with the client-certificate method.
    pub(crate) fn with_certificate_subject(mut self, subject: Option<String>) -> Authenticator {
        self.certificate_subject = subject;
        self
    }

    pub(crate) fn method(&self) -> AuthMethod {
        self.config.method
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state holds no invariant a panic could break halfway.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Who the server last accepted.
    pub(crate) fn signed_in(&self) -> SignedIn {
        self.state().signed_in.clone()
    }

    /// The `Authorization` header for the next send, if any.
    pub(crate) async fn authorization(
        &self,
        exchange: &mut Exchange,
    ) -> Result<Option<HeaderValue>, CmError> {
        match self.config.method {
            AuthMethod::None | AuthMethod::ClientCertificate => Ok(None),
            AuthMethod::Bearer => {
                let token = self.bearer_token().await?;
                // The header's text is wiped once copied into the header value;
                // that copy (and hyper's write buffer) cannot be, and is
                // marked sensitive so that it is never logged.
                let text = zeroize::Zeroizing::new(format!("Bearer {}", token.expose()));
                let mut value = HeaderValue::from_str(&text).map_err(|_| CmError::AuthSetup {
                    detail: "The bearer token contains characters that cannot be sent in an \
                             HTTP header; get a fresh token (a JWT is plain ASCII)."
                        .to_owned(),
                })?;
                value.set_sensitive(true);
                Ok(Some(value))
            }
            AuthMethod::Negotiate => {
                let up_front = self.state().wants_negotiate;
                let continuing = exchange.server_token.is_some();
                if !(up_front || exchange.sent_negotiate || continuing) {
                    return Ok(None);
                }
                let token = self.negotiate_step(exchange).await.map_err(auth_setup)?;
                exchange.sent_negotiate = true;
                exchange.rounds += 1;
                Ok(token.map(|token| negotiate_header(&token)))
            }
        }
    }

    /// Decides what a 401 means; `challenges` are its `WWW-Authenticate` values.
    pub(crate) async fn on_unauthorized(
        &self,
        exchange: &mut Exchange,
        challenges: &[String],
        unauthorized: CmError,
    ) -> AfterUnauthorized {
        let (message, correlation_id) = match &unauthorized {
            CmError::Unauthorized {
                message,
                correlation_id,
                ..
            } => (message.clone(), correlation_id.clone()),
            _ => (None, None),
        };
        match self.config.method {
            AuthMethod::Bearer => {
                if !exchange.bearer_refreshed && !self.config.token_command.is_empty() {
                    // A command can mint a fresh token: the cached one may just have expired.
                    exchange.bearer_refreshed = true;
                    self.state().bearer = None;
                    return AfterUnauthorized::Retry;
                }
                self.state().bearer = None;
                AfterUnauthorized::Fail(CmError::BearerRejected {
                    message,
                    correlation_id,
                })
            }
            AuthMethod::Negotiate => {
                let Some(server_token) = negotiate::negotiate_token(challenges) else {
                    return AfterUnauthorized::Fail(with_offer(unauthorized, challenges));
                };
                let continuing = exchange
                    .context
                    .as_ref()
                    .is_some_and(|_| server_token.is_some());
                if !exchange.sent_negotiate {
                    self.state().wants_negotiate = true;
                    return AfterUnauthorized::Retry;
                }
                if continuing && exchange.rounds < MAX_ROUNDS {
                    exchange.server_token = server_token;
                    return AfterUnauthorized::Retry;
                }
                let principal = exchange
                    .context
                    .as_ref()
                    .and_then(|c| c.principal())
                    .unwrap_or_else(|| "this user".to_owned());
                AfterUnauthorized::Fail(CmError::NegotiateRejected {
                    principal,
                    message,
                    correlation_id,
                })
            }
            AuthMethod::None | AuthMethod::ClientCertificate => {
                AfterUnauthorized::Fail(with_offer(unauthorized, challenges))
            }
        }
    }

    /// Checks the server's final Negotiate token (mutual authentication) and
    /// records who was accepted. `challenges` are the success answer's
    /// `WWW-Authenticate` values.
    pub(crate) async fn on_success(
        &self,
        exchange: &mut Exchange,
        challenges: &[String],
        host: &str,
    ) -> Result<(), CmError> {
        match self.config.method {
            AuthMethod::Negotiate => {
                let Some(mut context) = exchange.context.take() else {
                    return Ok(());
                };
                let server_token = negotiate::negotiate_token(challenges).flatten();
                let allow_missing = self.config.allow_missing_mutual_auth;
                let allow_ntlm = self.config.allow_ntlm;
                let checked = tokio::task::spawn_blocking(move || {
                    let result = check_final_token(
                        context.as_mut(),
                        server_token.as_deref(),
                        allow_missing,
                        allow_ntlm,
                    );
                    (context, result)
                })
                .await;
                let (context, result) = checked.map_err(|error| CmError::AuthSetup {
                    detail: format!("The Kerberos check of the server's answer stopped: {error}."),
                })?;
                result.map_err(|error| match error.failure {
                    NegotiateFailure::NtlmRefused => auth_setup(error),
                    _ => CmError::MutualAuthentication {
                        host: host.to_owned(),
                        detail: error.detail,
                    },
                })?;
                self.state().signed_in = SignedIn {
                    method: Some(AuthMethod::Negotiate),
                    mechanism: context.mechanism(),
                    principal: context.principal(),
                    token_source: None,
                };
            }
            AuthMethod::Bearer => {
                let source = self.state().bearer.as_ref().map(|(_, source)| *source);
                self.state().signed_in = SignedIn {
                    method: Some(AuthMethod::Bearer),
                    token_source: source,
                    ..SignedIn::default()
                };
            }
            AuthMethod::ClientCertificate => {
                self.state().signed_in = SignedIn {
                    method: Some(AuthMethod::ClientCertificate),
                    principal: self.certificate_subject.clone(),
                    ..SignedIn::default()
                };
            }
            method => {
                self.state().signed_in = SignedIn {
                    method: Some(method),
                    ..SignedIn::default()
                };
            }
        }
        Ok(())
    }

    async fn bearer_token(&self) -> Result<Secret, CmError> {
        if let Some((token, _)) = &self.state().bearer {
            return Ok(token.clone());
        }
        let (token, source) = bearer::fetch(
            &self.config.token_command,
            &self.target.host,
            self.config.token_host.as_deref(),
        )
        .await?;
        self.state().bearer = Some((token.clone(), source));
        Ok(token)
    }

    /// The next Negotiate token, starting the context when there is none.
    async fn negotiate_step(
        &self,
        exchange: &mut Exchange,
    ) -> Result<Option<Vec<u8>>, NegotiateError> {
        let target = self.target.clone();
        let user = self.config.user.clone();
        let context = exchange.context.take();
        let server_token = exchange.server_token.take();
        let joined = tokio::task::spawn_blocking(move || {
            step_blocking(context, server_token.as_deref(), &target, user.as_deref())
        })
        .await;
        let (context, token) = joined.map_err(|error| {
            NegotiateError::new(
                NegotiateFailure::Other,
                &self.target.display_name(),
                format!("the sign-in stopped: {error}"),
            )
        })??;
        exchange.context = Some(context);
        Ok(token)
    }
}

type Stepped = (Box<dyn SecurityContext>, Option<Vec<u8>>);

/// What the server's success answer proves. With its final token, the
/// context must end complete and mutually authenticated. Without one,
/// nothing proves the server: refused unless `auth.allow_missing_mutual_auth`
/// (or NTLM, which never proves the server, was allowed with `auth.allow_ntlm`).
fn check_final_token(
    context: &mut dyn SecurityContext,
    server_token: Option<&[u8]>,
    allow_missing: bool,
    allow_ntlm: bool,
) -> Result<(), NegotiateError> {
    let not_proven = |detail: &str| {
        Err(NegotiateError::new(
            NegotiateFailure::ServerNotProven,
            "",
            detail.to_owned(),
        ))
    };
    match server_token {
        Some(token) => {
            let step = context.step(Some(token))?;
            refuse_ntlm(context, allow_ntlm)?;
            if !step.complete {
                return not_proven(
                    "the server's final token left the Kerberos exchange unfinished, so it did \
                     not prove the server's identity",
                );
            }
            if !step.mutual && !allow_missing {
                return not_proven(
                    "the finished Kerberos exchange is not mutually authenticated, so it did not \
                     prove the server's identity",
                );
            }
            Ok(())
        }
        None => {
            refuse_ntlm(context, allow_ntlm)?;
            let ntlm = context.mechanism().as_deref() == Some("NTLM");
            if allow_missing || (ntlm && allow_ntlm) {
                tracing::warn!(
                    ntlm,
                    "the CM server sent no final Negotiate token: its identity rests on TLS alone \
                     (auth.allow_missing_mutual_auth or auth.allow_ntlm)"
                );
                return Ok(());
            }
            not_proven(
                "the server accepted the sign-in but sent no final Negotiate token, so it did not \
                 prove its identity (mutual authentication). If this server is known to omit that \
                 token, set auth.allow_missing_mutual_auth = true in the configuration",
            )
        }
    }
}

/// Refuses a context that settled on NTLM unless `auth.allow_ntlm`; says so
/// in the log when it is allowed.
fn refuse_ntlm(context: &dyn SecurityContext, allow_ntlm: bool) -> Result<(), NegotiateError> {
    if context.mechanism().as_deref() != Some("NTLM") {
        return Ok(());
    }
    if allow_ntlm {
        tracing::warn!(
            "Negotiate fell back to NTLM (auth.allow_ntlm = true): the server's identity is not \
             proven and the exchange can be relayed"
        );
        return Ok(());
    }
    Err(NegotiateError::new(
        NegotiateFailure::NtlmRefused,
        "the CM server",
        "the security library chose NTLM over Kerberos",
    ))
}

/// One blocking step: the security library may talk to the KDC. A context
/// that has settled on NTLM is refused before its token leaves.
fn step_blocking(
    context: Option<Box<dyn SecurityContext>>,
    server_token: Option<&[u8]>,
    target: &Target,
    user: Option<&str>,
) -> Result<Stepped, NegotiateError> {
    let (context, token) = first_or_next_step(context, server_token, target, user)?;
    refuse_ntlm(context.as_ref(), target.allow_ntlm).map_err(|mut error| {
        error.target = target.display_name();
        error
    })?;
    Ok((context, token))
}

fn first_or_next_step(
    context: Option<Box<dyn SecurityContext>>,
    server_token: Option<&[u8]>,
    target: &Target,
    user: Option<&str>,
) -> Result<Stepped, NegotiateError> {
    if let Some(mut context) = context {
        let step = context.step(server_token)?;
        return Ok((context, step.token));
    }
    let mut context = negotiate::start(target, None)?;
    match context.step(None) {
        Ok(step) => Ok((context, step.token)),
        // No ticket: sign in with the configured account, when there is one.
        Err(error) if error.failure == NegotiateFailure::NoTicket && user.is_some() => {
            let user = user.unwrap_or_default().to_owned();
            let password = password_for(&user, &target.display_name())?;
            let mut context = negotiate::start(target, Some(&password))?;
            let step = context.step(None)?;
            Ok((context, step.token))
        }
        Err(error) => Err(error),
    }
}

fn password_for(user: &str, target: &str) -> Result<Password, NegotiateError> {
    let name = SecretName::Password {
        user: user.to_owned(),
    };
    match secrets::get(&name) {
        Ok(Some(secret)) => Ok(Password {
            user: user.to_owned(),
            password: secret,
        }),
        Ok(None) => Err(NegotiateError::new(
            NegotiateFailure::NoTicket,
            target,
            format!("no ticket, and the keyring holds no password for {user}"),
        )),
        Err(error) => Err(NegotiateError::new(
            NegotiateFailure::NoTicket,
            target,
            format!("no ticket, and {error}"),
        )),
    }
}

fn negotiate_header(token: &[u8]) -> HeaderValue {
    let text = format!(
        "Negotiate {}",
        base64::engine::general_purpose::STANDARD.encode(token)
    );
    // Base64 is always a valid header value.
    let mut value = HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("Negotiate"));
    value.set_sensitive(true);
    value
}

fn auth_setup(error: NegotiateError) -> CmError {
    CmError::AuthSetup {
        detail: error.to_string(),
    }
}

/// Adds to a plain 401 which methods the server offers, so the message can
/// name the setting to change.
fn with_offer(error: CmError, challenges: &[String]) -> CmError {
    match error {
        CmError::Unauthorized {
            message,
            correlation_id,
            ..
        } => CmError::Unauthorized {
            message,
            correlation_id,
            offered: negotiate::offered_schemes(challenges),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A context whose every step gives `complete` (and mutual
    /// authentication with it), to stand for the security library's answer
    /// to the server's final token; `mechanism` is what SPNEGO settled on.
    struct Finished(bool, &'static str);

    impl SecurityContext for Finished {
        fn step(
            &mut self,
            _server_token: Option<&[u8]>,
        ) -> Result<negotiate::Step, NegotiateError> {
            Ok(negotiate::Step {
                token: None,
                complete: self.0,
                mutual: self.0,
            })
        }

        fn principal(&self) -> Option<String> {
            Some("alice@CONTOSO.COM".into())
        }

        fn mechanism(&self) -> Option<String> {
            Some(self.1.into())
        }
    }

    fn negotiate(config: AuthConfig) -> Authenticator {
        Authenticator::new(
            AuthConfig {
                method: AuthMethod::Negotiate,
                ..config
            },
            "cm.contoso.com",
        )
    }

    async fn answer(
        config: AuthConfig,
        context: Finished,
        challenge: Option<&str>,
    ) -> Result<(), CmError> {
        let auth = negotiate(config);
        let mut exchange = Exchange {
            context: Some(Box::new(context)),
            ..Exchange::default()
        };
        let challenges: Vec<String> = challenge.into_iter().map(str::to_owned).collect();
        auth.on_success(&mut exchange, &challenges, "cm.contoso.com")
            .await
    }

    async fn final_token(complete: bool) -> Result<(), CmError> {
        answer(
            AuthConfig::default(),
            Finished(complete, "Kerberos"),
            Some("Negotiate oRQwEqADCgEA"),
        )
        .await
    }

    #[tokio::test]
    async fn a_success_without_the_final_token_is_refused_unless_allowed() {
        let error = answer(AuthConfig::default(), Finished(true, "Kerberos"), None)
            .await
            .expect_err("nothing proves the server");
        assert!(
            matches!(error, CmError::MutualAuthentication { .. }),
            "{error:?}"
        );
        assert!(
            error.to_string().contains("auth.allow_missing_mutual_auth"),
            "{error}"
        );
        let allowed = AuthConfig {
            allow_missing_mutual_auth: true,
            ..AuthConfig::default()
        };
        answer(allowed, Finished(true, "Kerberos"), None)
            .await
            .expect("opted out");
    }

    #[tokio::test]
    async fn ntlm_is_refused_unless_allowed() {
        let error = answer(
            AuthConfig::default(),
            Finished(true, "NTLM"),
            Some("Negotiate oRQwEqADCgEA"),
        )
        .await
        .expect_err("NTLM");
        assert!(error.to_string().contains("auth.allow_ntlm"), "{error}");
        let allowed = AuthConfig {
            allow_ntlm: true,
            ..AuthConfig::default()
        };
        answer(allowed, Finished(true, "NTLM"), None)
            .await
            .expect("NTLM allowed, and it never proves the server");
        let error = step_blocking(
            Some(Box::new(Finished(false, "NTLM"))),
            Some(b"t"),
            &Target {
                host: "cm.contoso.com".into(),
                service_principal: None,
                allow_ntlm: false,
            },
            None,
        )
        .err()
        .expect("no NTLM token leaves");
        assert_eq!(error.failure, NegotiateFailure::NtlmRefused);
        assert!(error.to_string().contains("HTTP/cm.contoso.com"), "{error}");
    }

    /// A context that finishes without mutual authentication.
    struct NotMutual;

    impl SecurityContext for NotMutual {
        fn step(
            &mut self,
            _server_token: Option<&[u8]>,
        ) -> Result<negotiate::Step, NegotiateError> {
            Ok(negotiate::Step {
                token: None,
                complete: true,
                mutual: false,
            })
        }

        fn principal(&self) -> Option<String> {
            None
        }

        fn mechanism(&self) -> Option<String> {
            Some("Kerberos".into())
        }
    }

    #[tokio::test]
    async fn a_finished_exchange_must_be_mutual_unless_allowed() {
        let on_success = |config: AuthConfig| async move {
            let mut exchange = Exchange {
                context: Some(Box::new(NotMutual)),
                ..Exchange::default()
            };
            negotiate(config)
                .on_success(
                    &mut exchange,
                    &["Negotiate oRQwEqADCgEA".to_owned()],
                    "cm.contoso.com",
                )
                .await
        };
        let error = on_success(AuthConfig::default())
            .await
            .expect_err("not mutually authenticated");
        assert!(
            matches!(error, CmError::MutualAuthentication { .. }),
            "{error:?}"
        );
        assert!(
            error.to_string().contains("not mutually authenticated"),
            "{error}"
        );
        on_success(AuthConfig {
            allow_missing_mutual_auth: true,
            ..AuthConfig::default()
        })
        .await
        .expect("opted out");
    }

    #[tokio::test]
    async fn a_final_token_must_finish_the_exchange_to_prove_the_server() {
        final_token(true)
            .await
            .expect("a finished exchange proves the server");
        let error = final_token(false)
            .await
            .expect_err("an unfinished one does not");
        assert!(
            matches!(error, CmError::MutualAuthentication { .. }),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .contains("did not prove the server's identity"),
            "{error}"
        );
    }
}
