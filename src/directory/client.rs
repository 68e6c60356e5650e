//! Talking to the directory: connect (TLS or StartTLS), sign in, search.
//! Each step's failure becomes a [`DirectoryError`] in words; the caller
//! puts one deadline around the whole of it.

use std::sync::Arc;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, LdapResult, Scope, SearchOptions};
use uuid::Uuid;

use super::entry::{ATTRIBUTES, RawEntry};
use super::error::DirectoryError;
use super::filter::guid_filter;
use super::search::{MAX_MATCHES, Matches, PeopleQuery, SEARCH_ATTRIBUTES, people_filter};
use super::settings::{DirectorySettings, TlsMode};
use crate::domain::person::DirectoryPerson;
use crate::domain::text::one_line;
use crate::platform::secrets::Secret;

/// LDAP result codes the station tells apart (RFC 4511, appendix A.1).
const SUCCESS: u32 = 0;
const SIZE_LIMIT_EXCEEDED: u32 = 4;
const NO_SUCH_OBJECT: u32 = 32;
const INVALID_CREDENTIALS: u32 = 49;

/// Opens a connection, encrypted as configured, and signs in as the bind account.
///
/// Must run inside a tokio runtime: the connection's driver is a task of its own.
pub async fn open(
    settings: &DirectorySettings,
    tls: Option<&Arc<rustls::ClientConfig>>,
    password: &Secret,
) -> Result<Ldap, DirectoryError> {
    let url = settings.url_text();
    if settings.tls() == TlsMode::None && !settings.is_loopback() {
        // The settings refuse this already; never send the password anyway.
        return Err(DirectoryError::Unencrypted {
            url,
            bind_dn: settings.bind_dn().to_owned(),
        });
    }
    let mut options = LdapConnSettings::new().set_conn_timeout(settings.timeout());
    if let (Some(config), TlsMode::Ldaps | TlsMode::Starttls) = (tls, settings.tls()) {
        options = options.set_config(Arc::clone(config));
    }
    if settings.tls() == TlsMode::Starttls {
        options = options.set_starttls(true);
    }
    let (connection, mut ldap) = LdapConnAsync::from_url_with_settings(options, settings.url())
        .await
        .map_err(|error| connect_error(settings, error))?;
    tokio::spawn(async move {
        if let Err(error) = connection.drive().await {
            tracing::debug!(%error, "directory connection ended");
        }
    });
    let bind_dn = settings.bind_dn();
    let result = ldap
        .simple_bind(bind_dn, password.expose())
        .await
        .map_err(|error| transport_error(settings, error))?;
    match result.rc {
        SUCCESS => Ok(ldap),
        INVALID_CREDENTIALS => Err(DirectoryError::BindRefused {
            url,
            bind_dn: bind_dn.to_owned(),
        }),
        _ => Err(DirectoryError::BindFailed {
            url,
            bind_dn: bind_dn.to_owned(),
            detail: result_words(&result),
        }),
    }
}

/// The account whose `objectGUID` is `user`, `None` when the directory has none.
pub async fn find(
    ldap: &mut Ldap,
    settings: &DirectorySettings,
    user: Uuid,
) -> Result<Option<DirectoryPerson>, DirectoryError> {
    let filter = guid_filter(user);
    let result = ldap
        .with_search_options(SearchOptions::new().sizelimit(2))
        .search(settings.base_dn(), Scope::Subtree, &filter, ATTRIBUTES)
        .await
        .map_err(|error| transport_error(settings, error))?;
    let ldap3::SearchResult(entries, outcome) = result;
    match outcome.rc {
        SUCCESS => {}
        SIZE_LIMIT_EXCEEDED => {
            return Err(DirectoryError::Ambiguous {
                url: settings.url_text(),
                user,
            });
        }
        _ => return Err(search_error(settings, &outcome)),
    }
    let mut matching = entries
        .into_iter()
        .filter(|entry| !entry.is_ref() && !entry.is_intermediate())
        .map(|entry| {
            RawEntry::parse(entry.0).ok_or_else(|| DirectoryError::Broken {
                url: settings.url_text(),
                detail: "it sent an entry the station cannot read".to_owned(),
            })
        })
        // A directory that matched on something else than the GUID's bytes
        // (a schema without an equality rule) must not name anyone.
        .filter(|entry| entry.as_ref().map_or(true, |e| e.has_guid(user)));
    let first = matching.next().transpose()?;
    if matching.next().is_some() {
        return Err(DirectoryError::Ambiguous {
            url: settings.url_text(),
            user,
        });
    }
    Ok(first.map(|entry| entry.into_person(user)))
}

/// The people whose names or accounts start with `query` (see
/// [`super::search`]), at most [`MAX_MATCHES`]; `more` when the directory
/// holds more (it stops at one over the limit, result code 4). An entry
/// without a readable GUID cannot be picked and is left out.
pub async fn search(
    ldap: &mut Ldap,
    settings: &DirectorySettings,
    query: &PeopleQuery,
) -> Result<Matches, DirectoryError> {
    let filter = people_filter(settings.people_filter(), query);
    let limit = i32::try_from(MAX_MATCHES + 1).unwrap_or(i32::MAX);
    let result = ldap
        .with_search_options(SearchOptions::new().sizelimit(limit))
        .search(
            settings.base_dn(),
            Scope::Subtree,
            &filter,
            SEARCH_ATTRIBUTES,
        )
        .await
        .map_err(|error| transport_error(settings, error))?;
    let ldap3::SearchResult(entries, outcome) = result;
    let more = match outcome.rc {
        SUCCESS => false,
        SIZE_LIMIT_EXCEEDED => true,
        _ => return Err(search_error(settings, &outcome)),
    };
    let people = entries
        .into_iter()
        .filter(|entry| !entry.is_ref() && !entry.is_intermediate())
        .filter_map(|entry| {
            let person = RawEntry::parse(entry.0).and_then(RawEntry::into_match);
            if person.is_none() {
                tracing::debug!("a directory search entry without a readable GUID was left out");
            }
            person
        })
        .collect();
    Ok(Matches::new(people, more))
}

/// Reads the search base itself: proves the base DN exists and the bind
/// account may read it.
pub async fn read_base(
    ldap: &mut Ldap,
    settings: &DirectorySettings,
) -> Result<(), DirectoryError> {
    let result = ldap
        .search(settings.base_dn(), Scope::Base, "(objectClass=*)", ["1.1"])
        .await
        .map_err(|error| transport_error(settings, error))?;
    match result.1.rc {
        SUCCESS if !result.0.is_empty() => Ok(()),
        SUCCESS => Err(DirectoryError::NoBase {
            url: settings.url_text(),
            base_dn: settings.base_dn().to_owned(),
        }),
        _ => Err(search_error(settings, &result.1)),
    }
}

fn search_error(settings: &DirectorySettings, result: &LdapResult) -> DirectoryError {
    if result.rc == NO_SUCH_OBJECT {
        return DirectoryError::NoBase {
            url: settings.url_text(),
            base_dn: settings.base_dn().to_owned(),
        };
    }
    DirectoryError::SearchFailed {
        url: settings.url_text(),
        base_dn: settings.base_dn().to_owned(),
        bind_dn: settings.bind_dn().to_owned(),
        detail: result_words(result),
    }
}

/// A failure while connecting: no route, TLS, StartTLS refused.
fn connect_error(settings: &DirectorySettings, error: LdapError) -> DirectoryError {
    let url = settings.url_text();
    match error {
        LdapError::Io { source } => match rustls_error(&source) {
            Some(tls) => DirectoryError::Untrusted {
                url,
                detail: tls_words(tls),
            },
            None if is_lost(&source) => DirectoryError::Unreachable {
                url,
                detail: format!(
                    "{} closed the connection during the handshake",
                    settings.url().host_str().unwrap_or_default()
                ),
            },
            None => DirectoryError::Unreachable {
                url,
                detail: io_words(&source),
            },
        },
        LdapError::Timeout { .. } => DirectoryError::Timeout {
            url,
            secs: settings.timeout().as_secs(),
        },
        LdapError::LdapResult { result } if settings.tls() == TlsMode::Starttls => {
            DirectoryError::StartTls {
                url,
                detail: result_words(&result),
            }
        }
        LdapError::Rustls { source } => DirectoryError::Untrusted {
            url,
            detail: tls_words(&source),
        },
        LdapError::DNSName { source } => DirectoryError::Untrusted {
            url,
            detail: format!("its host name cannot be checked against a certificate ({source})"),
        },
        other => transport_error(settings, other),
    }
}

/// A failure of an operation on an open connection.
fn transport_error(settings: &DirectorySettings, error: LdapError) -> DirectoryError {
    let url = settings.url_text();
    match error {
        LdapError::Timeout { .. } => DirectoryError::Timeout {
            url,
            secs: settings.timeout().as_secs(),
        },
        other => DirectoryError::Broken {
            url,
            detail: one_line(&other.to_string(), 200),
        },
    }
}

fn rustls_error(error: &std::io::Error) -> Option<&rustls::Error> {
    error.get_ref()?.downcast_ref::<rustls::Error>()
}

fn is_lost(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionReset, UnexpectedEof};
    matches!(
        error.kind(),
        ConnectionReset | ConnectionAborted | UnexpectedEof
    )
}

fn tls_words(error: &rustls::Error) -> String {
    use rustls::{CertificateError, Error};
    match error {
        Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "its certificate was issued by an authority this station does not trust".to_owned()
        }
        Error::InvalidCertificate(CertificateError::NotValidForName)
        | Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. }) => {
            "its certificate is for another host name than the one in [directory] url".to_owned()
        }
        Error::InvalidCertificate(CertificateError::Expired)
        | Error::InvalidCertificate(CertificateError::ExpiredContext { .. }) => {
            "its certificate has expired".to_owned()
        }
        other => format!("the TLS handshake failed ({other})"),
    }
}

fn io_words(error: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::ConnectionRefused => {
            "nothing listens on that port: connection refused".to_owned()
        }
        ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => {
            "no route to the host".to_owned()
        }
        _ => one_line(&error.to_string(), 200),
    }
}

/// A result code and the server's diagnostic text, cleaned.
fn result_words(result: &LdapResult) -> String {
    let name = match result.rc {
        1 => "operations error",
        2 => "protocol error",
        8 => "stronger authentication required",
        13 => "confidentiality required",
        32 => "no such object",
        48 => "inappropriate authentication",
        50 => "insufficient access rights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwilling to perform",
        _ => "error",
    };
    let text = one_line(&result.text, 200);
    if text.is_empty() {
        format!("result {}: {name}", result.rc)
    } else {
        format!("result {}: {name}, \"{text}\"", result.rc)
    }
}
