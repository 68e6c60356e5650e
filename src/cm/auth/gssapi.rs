//! SPNEGO through the system's GSSAPI (MIT Kerberos or Heimdal on Linux, the
//! GSS framework on macOS), which reads the user's ticket cache: single sign-on.
//!
//! The library is loaded at run time rather than linked: the station then
//! starts, and every other method works, on a machine without Kerberos, and
//! the build needs neither the Kerberos headers nor bindgen/libclang (which
//! the `libgssapi` crate's build requires). The handful of RFC 2744 calls used
//! here have had the same C ABI for twenty years.

use std::ffi::{c_int, c_void};
use std::ptr;
use std::sync::OnceLock;

use super::negotiate::{
    NegotiateError, NegotiateFailure, Password, SecurityContext, Step, Target, classify_text,
};

type OmUint32 = u32;

// Apple's GSS framework packs this struct to 2 bytes; MIT and Heimdal do not.
#[cfg_attr(target_os = "macos", repr(C, packed(2)))]
#[cfg_attr(not(target_os = "macos"), repr(C))]
struct GssOidDesc {
    length: OmUint32,
    elements: *const c_void,
}

#[repr(C)]
struct GssOidSetDesc {
    count: usize,
    elements: *mut GssOidDesc,
}

#[repr(C)]
struct GssBufferDesc {
    length: usize,
    value: *mut c_void,
}

impl GssBufferDesc {
    fn empty() -> Self {
        GssBufferDesc {
            length: 0,
            value: ptr::null_mut(),
        }
    }

    fn borrowing(bytes: &[u8]) -> Self {
        GssBufferDesc {
            length: bytes.len(),
            value: bytes.as_ptr().cast_mut().cast(),
        }
    }
}

type GssName = *mut c_void;
type GssCtx = *mut c_void;
type GssCred = *mut c_void;
type GssOid = *const GssOidDesc;

const GSS_S_COMPLETE: OmUint32 = 0;
const GSS_S_CONTINUE_NEEDED: OmUint32 = 1;
const GSS_C_GSS_CODE: c_int = 1;
const GSS_C_MECH_CODE: c_int = 2;
const GSS_C_MUTUAL_FLAG: OmUint32 = 2;
const GSS_C_SEQUENCE_FLAG: OmUint32 = 8;
const GSS_C_INITIATE: c_int = 1;
const GSS_C_INDEFINITE: OmUint32 = 0xffff_ffff;

// Routine errors (bits 16..24 of the major status).
const GSS_S_BAD_NAME: OmUint32 = 2 << 16;
const GSS_S_NO_CRED: OmUint32 = 7 << 16;
const GSS_S_CREDENTIALS_EXPIRED: OmUint32 = 11 << 16;

// MIT Kerberos minor codes (krb5 error table, base -1765328384).
const MIT_C_PRINCIPAL_UNKNOWN: OmUint32 = 0x96c7_3a06;
const MIT_S_PRINCIPAL_UNKNOWN: OmUint32 = 0x96c7_3a07;
const MIT_PREAUTH_FAILED: OmUint32 = 0x96c7_3a18;
// A wrong password: the KDC's answer does not decrypt with the key derived from it.
const MIT_BAD_INTEGRITY: OmUint32 = 0x96c7_3a1f;
const MIT_TKT_EXPIRED: OmUint32 = 0x96c7_3a20;
const MIT_SKEW: OmUint32 = 0x96c7_3a25;
const MIT_CC_NOTFOUND: OmUint32 = 0x96c7_3a8d;
const MIT_KDC_UNREACH: OmUint32 = 0x96c7_3a9c;
const MIT_FCC_NOENT: OmUint32 = 0x96c7_3ac3;

fn is_error(major: OmUint32) -> bool {
    major & 0xffff_0000 != 0
}

// OIDs: hostbased service name (1.2.840.113554.1.2.1.4), Kerberos principal
// name (1.2.840.113554.1.2.2.1), user name (1.2.840.113554.1.2.1.1), SPNEGO (1.3.6.1.5.5.2).
static NT_HOSTBASED_SERVICE: [u8; 10] =
    [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x01, 0x04];
static NT_KRB5_PRINCIPAL: [u8; 10] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x01];
static NT_USER_NAME: [u8; 10] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x01, 0x01];
static MECH_SPNEGO: [u8; 6] = [0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
static MECH_KRB5: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
static MECH_NTLMSSP: [u8; 10] = [0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a];

fn oid(bytes: &'static [u8]) -> GssOidDesc {
    GssOidDesc {
        // The OIDs above are a few bytes long.
        length: bytes.len() as OmUint32,
        elements: bytes.as_ptr().cast(),
    }
}

type ImportName =
    unsafe extern "C" fn(*mut OmUint32, *mut GssBufferDesc, GssOid, *mut GssName) -> OmUint32;
type InitSecContext = unsafe extern "C" fn(
    *mut OmUint32,
    GssCred,
    *mut GssCtx,
    GssName,
    GssOid,
    OmUint32,
    OmUint32,
    *mut c_void,
    *mut GssBufferDesc,
    *mut GssOid,
    *mut GssBufferDesc,
    *mut OmUint32,
    *mut OmUint32,
) -> OmUint32;
type ReleaseBuffer = unsafe extern "C" fn(*mut OmUint32, *mut GssBufferDesc) -> OmUint32;
type ReleaseName = unsafe extern "C" fn(*mut OmUint32, *mut GssName) -> OmUint32;
type ReleaseCred = unsafe extern "C" fn(*mut OmUint32, *mut GssCred) -> OmUint32;
type DeleteSecContext =
    unsafe extern "C" fn(*mut OmUint32, *mut GssCtx, *mut GssBufferDesc) -> OmUint32;
type DisplayStatus = unsafe extern "C" fn(
    *mut OmUint32,
    OmUint32,
    c_int,
    GssOid,
    *mut OmUint32,
    *mut GssBufferDesc,
) -> OmUint32;
type DisplayName =
    unsafe extern "C" fn(*mut OmUint32, GssName, *mut GssBufferDesc, *mut GssOid) -> OmUint32;
type InquireContext = unsafe extern "C" fn(
    *mut OmUint32,
    GssCtx,
    *mut GssName,
    *mut GssName,
    *mut OmUint32,
    *mut GssOid,
    *mut OmUint32,
    *mut c_int,
    *mut c_int,
) -> OmUint32;
type AcquireCred = unsafe extern "C" fn(
    *mut OmUint32,
    GssName,
    OmUint32,
    *mut c_void,
    c_int,
    *mut GssCred,
    *mut *mut c_void,
    *mut OmUint32,
) -> OmUint32;
type SetNegMechs = unsafe extern "C" fn(*mut OmUint32, GssCred, *const GssOidSetDesc) -> OmUint32;
type AcquireCredWithPassword = unsafe extern "C" fn(
    *mut OmUint32,
    GssName,
    *mut GssBufferDesc,
    OmUint32,
    *mut c_void,
    c_int,
    *mut GssCred,
    *mut *mut c_void,
    *mut OmUint32,
) -> OmUint32;

/// The library and the entry points the station uses.
struct Gss {
    import_name: ImportName,
    init_sec_context: InitSecContext,
    release_buffer: ReleaseBuffer,
    release_name: ReleaseName,
    release_cred: ReleaseCred,
    delete_sec_context: DeleteSecContext,
    display_status: DisplayStatus,
    display_name: DisplayName,
    inquire_context: InquireContext,
    acquire_cred: AcquireCred,
    // An MIT and Heimdal extension; absent from Apple's framework.
    acquire_cred_with_password: Option<AcquireCredWithPassword>,
    // An MIT and Heimdal extension (RFC 4178 leaves it to the library): which
    // mechanisms SPNEGO may offer with a credential.
    set_neg_mechs: Option<SetNegMechs>,
    // Kept loaded for the life of the process: the pointers above point into it.
    _library: libloading::Library,
}

const LIBRARY_NAMES: &[&str] = if cfg!(target_os = "macos") {
    &["/System/Library/Frameworks/GSS.framework/GSS"]
} else {
    &["libgssapi_krb5.so.2", "libgssapi.so.3", "libgssapi_krb5.so"]
};

/// Why the system's GSSAPI cannot be used; the library's words go into the
/// [`NegotiateFailure::NoLibrary`] error the operator sees.
#[derive(Debug, thiserror::Error)]
enum NoGss {
    /// None of [`LIBRARY_NAMES`] loads: each name, and why.
    #[error("no GSSAPI library found ({})", tried.join("; "))]
    NotFound { tried: Vec<String> },
    /// A library loaded but lacks a call the station needs.
    #[error("{library} lacks {symbol}: {error}")]
    MissingSymbol {
        library: String,
        symbol: &'static str,
        error: libloading::Error,
    },
}

fn gss() -> Result<&'static Gss, &'static NoGss> {
    static GSS: OnceLock<Result<Gss, NoGss>> = OnceLock::new();
    GSS.get_or_init(load).as_ref()
}

fn load() -> Result<Gss, NoGss> {
    let mut tried = Vec::new();
    for name in LIBRARY_NAMES {
        // SAFETY: loading the system's GSSAPI runs its initialisers, which are
        // meant to be run by any program linking it.
        match unsafe { libloading::Library::new(name) } {
            Ok(library) => return bind(library, name),
            Err(error) => tried.push(format!("{name}: {error}")),
        }
    }
    Err(NoGss::NotFound { tried })
}

fn bind(library: libloading::Library, name: &str) -> Result<Gss, NoGss> {
    fn symbol<T: Copy>(
        library: &libloading::Library,
        name: &str,
        symbol: &'static str,
    ) -> Result<T, NoGss> {
        // SAFETY: each symbol is declared above with its RFC 2744 signature.
        unsafe { library.get::<T>(symbol.as_bytes()) }
            .map(|s| *s)
            .map_err(|error| NoGss::MissingSymbol {
                library: name.to_owned(),
                symbol,
                error,
            })
    }
    Ok(Gss {
        import_name: symbol(&library, name, "gss_import_name")?,
        init_sec_context: symbol(&library, name, "gss_init_sec_context")?,
        release_buffer: symbol(&library, name, "gss_release_buffer")?,
        release_name: symbol(&library, name, "gss_release_name")?,
        release_cred: symbol(&library, name, "gss_release_cred")?,
        delete_sec_context: symbol(&library, name, "gss_delete_sec_context")?,
        display_status: symbol(&library, name, "gss_display_status")?,
        display_name: symbol(&library, name, "gss_display_name")?,
        inquire_context: symbol(&library, name, "gss_inquire_context")?,
        acquire_cred: symbol(&library, name, "gss_acquire_cred")?,
        acquire_cred_with_password: symbol(&library, name, "gss_acquire_cred_with_password").ok(),
        set_neg_mechs: symbol(&library, name, "gss_set_neg_mechs").ok(),
        _library: library,
    })
}

impl Gss {
    /// The library's words for a status pair, major then minor.
    fn describe(&self, major: OmUint32, minor: OmUint32) -> String {
        let mut parts = Vec::new();
        for (code, kind) in [(major, GSS_C_GSS_CODE), (minor, GSS_C_MECH_CODE)] {
            if code == 0 {
                continue;
            }
            let mut context: OmUint32 = 0;
            // Each status may expand to several messages; a bound stops a broken library.
            for _ in 0..8 {
                let mut ignored = 0;
                let mut text = GssBufferDesc::empty();
                // SAFETY: all pointers are to live locals; the buffer is released below.
                let status = unsafe {
                    (self.display_status)(
                        &mut ignored,
                        code,
                        kind,
                        ptr::null(),
                        &mut context,
                        &mut text,
                    )
                };
                if is_error(status) {
                    break;
                }
                parts.push(self.take_string(&mut text));
                if context == 0 {
                    break;
                }
            }
        }
        parts.retain(|p| !p.is_empty());
        parts.dedup();
        if parts.is_empty() {
            format!("GSSAPI status {major:#x}/{minor}")
        } else {
            parts.join(": ")
        }
    }

    /// Copies a library-owned buffer into a string and releases it.
    fn take_string(&self, buffer: &mut GssBufferDesc) -> String {
        String::from_utf8_lossy(&self.take_bytes(buffer))
            .trim_end_matches('\0')
            .to_owned()
    }

    fn take_bytes(&self, buffer: &mut GssBufferDesc) -> Vec<u8> {
        let bytes = if buffer.value.is_null() || buffer.length == 0 {
            Vec::new()
        } else {
            // SAFETY: the library filled `buffer` with `length` readable bytes.
            unsafe { std::slice::from_raw_parts(buffer.value.cast::<u8>(), buffer.length) }.to_vec()
        };
        let mut minor = 0;
        // SAFETY: the buffer was allocated by the library.
        unsafe { (self.release_buffer)(&mut minor, buffer) };
        bytes
    }

    fn import_name(
        &self,
        text: &str,
        kind: &'static [u8],
    ) -> Result<GssName, (OmUint32, OmUint32)> {
        let mut minor = 0;
        let mut buffer = GssBufferDesc::borrowing(text.as_bytes());
        let name_type = oid(kind);
        let mut name: GssName = ptr::null_mut();
        // SAFETY: the buffer borrows `text` for the duration of the call.
        let major = unsafe { (self.import_name)(&mut minor, &mut buffer, &name_type, &mut name) };
        if is_error(major) {
            Err((major, minor))
        } else {
            Ok(name)
        }
    }

    fn name_text(&self, name: GssName) -> Option<String> {
        let mut minor = 0;
        let mut text = GssBufferDesc::empty();
        // SAFETY: `name` is a live name; the buffer is released by take_string.
        let major = unsafe { (self.display_name)(&mut minor, name, &mut text, ptr::null_mut()) };
        (!is_error(major)).then(|| self.take_string(&mut text))
    }

    fn release(&self, name: &mut GssName) {
        if !name.is_null() {
            let mut minor = 0;
            // SAFETY: a name from import_name or inquire_context, released once.
            unsafe { (self.release_name)(&mut minor, name) };
            *name = ptr::null_mut();
        }
    }
}

/// One SPNEGO context through GSSAPI.
pub struct GssContext {
    gss: &'static Gss,
    context: GssCtx,
    target: GssName,
    credential: GssCred,
    target_text: String,
    mechanism: Option<String>,
    allow_ntlm: bool,
}

// SAFETY: a GSSAPI context may move between threads as long as one thread
// uses it at a time, which `&mut self` on every call guarantees.
unsafe impl Send for GssContext {}

impl GssContext {
    /// Prepares a context for `target`; with `password`, signs in as that
    /// account first instead of using the ticket cache.
    pub fn start(
        target: &Target,
        password: Option<&Password>,
    ) -> Result<GssContext, NegotiateError> {
        let target_text = target.display_name();
        let gss = gss().map_err(|no_gss| {
            NegotiateError::new(
                NegotiateFailure::NoLibrary,
                &target_text,
                no_gss.to_string(),
            )
        })?;
        // `HTTP/host@REALM` is a Kerberos principal; without a configured one the
        // host-based form lets the library find the realm.
        let imported = match &target.service_principal {
            Some(principal) if principal.contains('/') => {
                gss.import_name(principal, &NT_KRB5_PRINCIPAL)
            }
            Some(service) => gss.import_name(service, &NT_HOSTBASED_SERVICE),
            None => gss.import_name(&format!("HTTP@{}", target.host), &NT_HOSTBASED_SERVICE),
        };
        let name = imported.map_err(|(major, minor)| {
            NegotiateError::new(
                NegotiateFailure::UnknownServicePrincipal,
                &target_text,
                gss.describe(major, minor),
            )
        })?;
        let mut context = GssContext {
            gss,
            context: ptr::null_mut(),
            target: name,
            credential: ptr::null_mut(),
            target_text,
            mechanism: None,
            allow_ntlm: target.allow_ntlm,
        };
        if let Some(password) = password {
            context.credential = context.acquire_with_password(password)?;
        }
        Ok(context)
    }

    fn acquire_with_password(&self, password: &Password) -> Result<GssCred, NegotiateError> {
        let gss = self.gss;
        let Some(acquire) = gss.acquire_cred_with_password else {
            return Err(NegotiateError::new(
                NegotiateFailure::NoLibrary,
                &self.target_text,
                "this GSSAPI library cannot sign in with a password; use kinit instead",
            ));
        };
        // `DOMAIN\user` is the Windows form; Kerberos wants `user@DOMAIN`.
        let user = match password.user.split_once('\\') {
            Some((domain, user)) => format!("{user}@{}", domain.to_uppercase()),
            None => password.user.clone(),
        };
        let mut name = gss
            .import_name(&user, &NT_USER_NAME)
            .map_err(|(major, minor)| {
                NegotiateError::new(
                    NegotiateFailure::BadPassword,
                    &self.target_text,
                    gss.describe(major, minor),
                )
            })?;
        let mut secret = GssBufferDesc::borrowing(password.password.expose().as_bytes());
        let mut minor = 0;
        let mut credential: GssCred = ptr::null_mut();
        // For SPNEGO, which then uses the Kerberos credential beneath it; the
        // library's default set would leave SPNEGO nothing to negotiate.
        let mut spnego = oid(&MECH_SPNEGO);
        let mut mechs = GssOidSetDesc {
            count: 1,
            elements: &mut spnego,
        };
        // SAFETY: the name is live; the buffer borrows the password for the call;
        // the mechanism set points to a local that outlives the call.
        let major = unsafe {
            acquire(
                &mut minor,
                name,
                &mut secret,
                GSS_C_INDEFINITE,
                ptr::from_mut(&mut mechs).cast(),
                GSS_C_INITIATE,
                &mut credential,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        gss.release(&mut name);
        if is_error(major) {
            return Err(self.failure(major, minor));
        }
        Ok(credential)
    }

    /// Without `auth.allow_ntlm`, tells SPNEGO to offer Kerberos only (MIT
    /// and Heimdal's `gss_set_neg_mechs` on the credential), so that a
    /// library with an NTLM mechanism (gss-ntlmssp) never falls back to it.
    /// Where the call is missing, the mechanism check after each step
    /// ([`super::Authenticator`]) still refuses NTLM.
    fn restrict_to_kerberos(&mut self) -> Result<(), NegotiateError> {
        let gss = self.gss;
        let Some(set_neg_mechs) = gss.set_neg_mechs else {
            return Ok(());
        };
        let mut minor = 0;
        if self.credential.is_null() {
            // The ticket cache's credential, for SPNEGO: the same the library
            // would pick by default, now with a handle to restrict.
            let mut spnego = oid(&MECH_SPNEGO);
            let mut mechs = GssOidSetDesc {
                count: 1,
                elements: &mut spnego,
            };
            // SAFETY: the mechanism set points to a local that outlives the
            // call; the credential is released in Drop.
            let major = unsafe {
                (gss.acquire_cred)(
                    &mut minor,
                    ptr::null_mut(),
                    GSS_C_INDEFINITE,
                    ptr::from_mut(&mut mechs).cast(),
                    GSS_C_INITIATE,
                    &mut self.credential,
                    ptr::null_mut(),
                    ptr::null_mut(),
                )
            };
            if is_error(major) {
                return Err(self.failure(major, minor));
            }
        }
        let mut krb5 = oid(&MECH_KRB5);
        let only_kerberos = GssOidSetDesc {
            count: 1,
            elements: &mut krb5,
        };
        // SAFETY: the credential is live; the set points to a local.
        let major = unsafe { set_neg_mechs(&mut minor, self.credential, &only_kerberos) };
        if is_error(major) {
            return Err(NegotiateError::new(
                NegotiateFailure::NtlmRefused,
                &self.target_text,
                format!(
                    "the security library could not limit SPNEGO to Kerberos: {}",
                    gss.describe(major, minor)
                ),
            ));
        }
        Ok(())
    }

    fn failure(&self, major: OmUint32, minor: OmUint32) -> NegotiateError {
        let detail = self.gss.describe(major, minor);
        // MIT reports most Kerberos failures as "Unspecified GSS failure" with
        // the Kerberos error as the minor code; Heimdal's texts are classified
        // by NegotiateError::new.
        let by_minor = match minor {
            MIT_S_PRINCIPAL_UNKNOWN => Some(NegotiateFailure::UnknownServicePrincipal),
            MIT_C_PRINCIPAL_UNKNOWN | MIT_PREAUTH_FAILED | MIT_BAD_INTEGRITY => {
                Some(NegotiateFailure::BadPassword)
            }
            MIT_FCC_NOENT | MIT_CC_NOTFOUND => Some(NegotiateFailure::NoTicket),
            MIT_TKT_EXPIRED => Some(NegotiateFailure::TicketExpired),
            MIT_SKEW => Some(NegotiateFailure::ClockSkew),
            MIT_KDC_UNREACH => Some(NegotiateFailure::NoKdc),
            _ => None,
        };
        // SPNEGO wraps the Kerberos minor code; its text still names the cause.
        let by_text = || Some(classify_text(&detail)).filter(|f| *f != NegotiateFailure::Other);
        let failure = by_minor
            .or_else(by_text)
            .unwrap_or(match major & 0x00ff_0000 {
                GSS_S_NO_CRED => NegotiateFailure::NoTicket,
                GSS_S_CREDENTIALS_EXPIRED => NegotiateFailure::TicketExpired,
                GSS_S_BAD_NAME => NegotiateFailure::UnknownServicePrincipal,
                _ => NegotiateFailure::Other,
            });
        NegotiateError::new(failure, &self.target_text, detail)
    }
}

impl SecurityContext for GssContext {
    fn step(&mut self, server_token: Option<&[u8]>) -> Result<Step, NegotiateError> {
        let gss = self.gss;
        if self.context.is_null() && !self.allow_ntlm {
            self.restrict_to_kerberos()?;
        }
        let mut minor = 0;
        let mech = oid(&MECH_SPNEGO);
        let mut input = server_token.map_or_else(GssBufferDesc::empty, GssBufferDesc::borrowing);
        let mut output = GssBufferDesc::empty();
        let mut actual_mech: GssOid = ptr::null();
        let mut flags = 0;
        // SAFETY: pointers are to live fields and locals; `output` is released by take_bytes.
        let major = unsafe {
            (gss.init_sec_context)(
                &mut minor,
                self.credential,
                &mut self.context,
                self.target,
                &mech,
                GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG,
                0,
                ptr::null_mut(),
                &mut input,
                &mut actual_mech,
                &mut output,
                &mut flags,
                ptr::null_mut(),
            )
        };
        let token = gss.take_bytes(&mut output);
        if is_error(major) {
            let mut error = self.failure(major, minor);
            if server_token.is_some() && error.failure == NegotiateFailure::Other {
                error.failure = NegotiateFailure::ServerNotProven;
            }
            return Err(error);
        }
        if !actual_mech.is_null() {
            // SAFETY: the library returns a static OID.
            let described = unsafe { mech_name(&*actual_mech) };
            self.mechanism = described.or(self.mechanism.take());
        }
        Ok(Step {
            token: (!token.is_empty()).then_some(token),
            complete: major & 0xffff == GSS_S_COMPLETE && major & GSS_S_CONTINUE_NEEDED == 0,
            mutual: flags & GSS_C_MUTUAL_FLAG != 0,
        })
    }

    fn principal(&self) -> Option<String> {
        if self.context.is_null() {
            return None;
        }
        let gss = self.gss;
        let mut minor = 0;
        let mut source: GssName = ptr::null_mut();
        // SAFETY: the context is live; only the source name is asked for.
        let major = unsafe {
            (gss.inquire_context)(
                &mut minor,
                self.context,
                &mut source,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        if is_error(major) {
            return None;
        }
        let text = gss.name_text(source);
        gss.release(&mut source);
        text
    }

    fn mechanism(&self) -> Option<String> {
        self.mechanism.clone()
    }
}

/// Names the mechanism SPNEGO chose.
///
/// # Safety
/// `oid.elements` must point to `oid.length` readable bytes.
unsafe fn mech_name(oid: &GssOidDesc) -> Option<String> {
    let (length, elements) = (oid.length, oid.elements);
    if elements.is_null() {
        return None;
    }
    // SAFETY: guaranteed by the caller.
    let bytes = unsafe { std::slice::from_raw_parts(elements.cast::<u8>(), length as usize) };
    Some(
        if bytes == MECH_KRB5 {
            "Kerberos"
        } else if bytes == MECH_NTLMSSP {
            "NTLM"
        } else if bytes == MECH_SPNEGO {
            "SPNEGO"
        } else {
            "another GSSAPI mechanism"
        }
        .to_owned(),
    )
}

impl Drop for GssContext {
    fn drop(&mut self) {
        let gss = self.gss;
        let mut minor = 0;
        // SAFETY: each handle is released once and nulled.
        unsafe {
            if !self.context.is_null() {
                (gss.delete_sec_context)(&mut minor, &mut self.context, ptr::null_mut());
            }
            if !self.credential.is_null() {
                (gss.release_cred)(&mut minor, &mut self.credential);
            }
        }
        gss.release(&mut self.target);
    }
}
