//! SPNEGO through Windows SSPI (the `Negotiate` package): the logged-on
//! user's Kerberos ticket, exactly as a browser on the same desk. NTLM is
//! excluded (package list `!ntlm`) unless `auth.allow_ntlm` is set.
//! Compiled here with `cargo check --target x86_64-pc-windows-gnu`; it runs
//! only on Windows.

use std::ffi::c_void;
use std::ptr;

use windows_sys::Win32::Foundation::{
    SEC_E_LOGON_DENIED, SEC_E_MUTUAL_AUTH_FAILED, SEC_E_NO_AUTHENTICATING_AUTHORITY,
    SEC_E_NO_CREDENTIALS, SEC_E_OK, SEC_E_TARGET_UNKNOWN, SEC_E_TIME_SKEW, SEC_E_WRONG_PRINCIPAL,
    SEC_I_CONTINUE_NEEDED,
};
use windows_sys::Win32::Security::Authentication::Identity::{
    AcquireCredentialsHandleW, DeleteSecurityContext, FreeContextBuffer, FreeCredentialsHandle,
    ISC_REQ_ALLOCATE_MEMORY, ISC_REQ_MUTUAL_AUTH, ISC_RET_MUTUAL_AUTH, InitializeSecurityContextW,
    QueryContextAttributesW, SEC_WINNT_AUTH_IDENTITY_EXW, SEC_WINNT_AUTH_IDENTITY_VERSION,
    SECBUFFER_TOKEN, SECBUFFER_VERSION, SECPKG_ATTR_NAMES, SECPKG_ATTR_NEGOTIATION_INFO,
    SECPKG_CRED_OUTBOUND, SECURITY_NATIVE_DREP, SecBuffer, SecBufferDesc, SecPkgContext_NamesW,
    SecPkgContext_NegotiationInfoW,
};
use windows_sys::Win32::Security::Credentials::SecHandle;
use windows_sys::Win32::System::Rpc::{SEC_WINNT_AUTH_IDENTITY_UNICODE, SEC_WINNT_AUTH_IDENTITY_W};

use super::negotiate::{NegotiateError, NegotiateFailure, Password, SecurityContext, Step, Target};

fn wide(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

/// Reads a NUL-terminated UTF-16 string the package allocated.
///
/// # Safety
/// `text` must be null or point to a NUL-terminated UTF-16 string.
unsafe fn from_wide(text: *const u16) -> Option<String> {
    if text.is_null() {
        return None;
    }
    let mut len = 0;
    // SAFETY: the string is NUL-terminated (caller's guarantee).
    while unsafe { *text.add(len) } != 0 {
        len += 1;
    }
    // SAFETY: `len` units were just read.
    Some(String::from_utf16_lossy(unsafe {
        std::slice::from_raw_parts(text, len)
    }))
}

/// One SPNEGO context through SSPI.
pub struct SspiContext {
    credential: SecHandle,
    context: Option<SecHandle>,
    target: Vec<u16>,
    target_text: String,
}

// SAFETY: SSPI handles are plain values usable from any thread, one call at a time.
unsafe impl Send for SspiContext {}

impl SspiContext {
    /// Acquires the logged-on user's credentials (or `password`'s) for `Negotiate`.
    pub fn start(
        target: &Target,
        password: Option<&Password>,
    ) -> Result<SspiContext, NegotiateError> {
        let target_text = target.display_name();
        let package = wide("Negotiate");
        let mut credential = SecHandle {
            dwLower: 0,
            dwUpper: 0,
        };
        let mut expiry = 0i64;
        // The identity's strings must outlive the call; they are these vectors.
        // The password's UTF-16 copy is overwritten when dropped.
        let (mut user, mut domain) = (Vec::<u16>::new(), Vec::<u16>::new());
        let mut secret = zeroize::Zeroizing::new(Vec::<u16>::new());
        if let Some(password) = password {
            let (d, u) = match password.user.split_once('\\') {
                Some((d, u)) => (d.to_owned(), u.to_owned()),
                None => (String::new(), password.user.clone()),
            };
            user = u.encode_utf16().collect();
            domain = d.encode_utf16().collect();
            secret.extend(password.password.expose().encode_utf16());
        }
        let nullable = |v: &mut Vec<u16>| {
            if v.is_empty() {
                ptr::null_mut()
            } else {
                v.as_mut_ptr()
            }
        };
        // Without auth.allow_ntlm the package list keeps Negotiate from
        // falling back to NTLM (whose answer can be relayed); with no
        // password, null user, domain and password mean the logged-on user.
        let mut packages = wide("!ntlm");
        let identity_ex = (!target.allow_ntlm).then(|| SEC_WINNT_AUTH_IDENTITY_EXW {
            Version: SEC_WINNT_AUTH_IDENTITY_VERSION,
            Length: size_of::<SEC_WINNT_AUTH_IDENTITY_EXW>() as u32,
            User: nullable(&mut user),
            UserLength: user.len() as u32,
            Domain: nullable(&mut domain),
            DomainLength: domain.len() as u32,
            Password: nullable(&mut secret),
            PasswordLength: secret.len() as u32,
            Flags: SEC_WINNT_AUTH_IDENTITY_UNICODE,
            PackageList: packages.as_mut_ptr(),
            // Without the terminating NUL.
            PackageListLength: (packages.len() - 1) as u32,
        });
        let identity =
            (target.allow_ntlm && password.is_some()).then(|| SEC_WINNT_AUTH_IDENTITY_W {
                User: user.as_mut_ptr(),
                UserLength: user.len() as u32,
                Domain: domain.as_mut_ptr(),
                DomainLength: domain.len() as u32,
                Password: secret.as_mut_ptr(),
                PasswordLength: secret.len() as u32,
                Flags: SEC_WINNT_AUTH_IDENTITY_UNICODE,
            });
        let auth_data = match (&identity_ex, &identity) {
            (Some(ex), _) => ptr::from_ref(ex).cast::<c_void>(),
            (None, Some(plain)) => ptr::from_ref(plain).cast::<c_void>(),
            (None, None) => ptr::null(),
        };
        // SAFETY: all pointers are to live locals for the duration of the call.
        let status = unsafe {
            AcquireCredentialsHandleW(
                ptr::null(),
                package.as_ptr(),
                SECPKG_CRED_OUTBOUND,
                ptr::null(),
                auth_data,
                None,
                ptr::null(),
                &mut credential,
                &mut expiry,
            )
        };
        if status != SEC_E_OK {
            return Err(failure(status, &target_text));
        }
        // SSPI names services `HTTP/host` (or the configured principal).
        let spn = target
            .service_principal
            .clone()
            .unwrap_or_else(|| format!("HTTP/{}", target.host));
        Ok(SspiContext {
            credential,
            context: None,
            target: wide(&spn),
            target_text,
        })
    }
}

fn failure(status: i32, target: &str) -> NegotiateError {
    let failure = match status {
        SEC_E_NO_CREDENTIALS => NegotiateFailure::NoTicket,
        SEC_E_TARGET_UNKNOWN | SEC_E_WRONG_PRINCIPAL => NegotiateFailure::UnknownServicePrincipal,
        SEC_E_TIME_SKEW => NegotiateFailure::ClockSkew,
        SEC_E_NO_AUTHENTICATING_AUTHORITY => NegotiateFailure::NoKdc,
        SEC_E_LOGON_DENIED => NegotiateFailure::BadPassword,
        SEC_E_MUTUAL_AUTH_FAILED => NegotiateFailure::ServerNotProven,
        _ => NegotiateFailure::Other,
    };
    NegotiateError::new(
        failure,
        target,
        format!("SSPI status {:#010x}", status as u32),
    )
}

impl SecurityContext for SspiContext {
    fn step(&mut self, server_token: Option<&[u8]>) -> Result<Step, NegotiateError> {
        let mut input_bytes = server_token.map(<[u8]>::to_vec).unwrap_or_default();
        let mut input_buffer = SecBuffer {
            cbBuffer: input_bytes.len() as u32,
            BufferType: SECBUFFER_TOKEN,
            pvBuffer: input_bytes.as_mut_ptr().cast(),
        };
        let input = SecBufferDesc {
            ulVersion: SECBUFFER_VERSION,
            cBuffers: 1,
            pBuffers: &mut input_buffer,
        };
        let mut output_buffer = SecBuffer {
            cbBuffer: 0,
            BufferType: SECBUFFER_TOKEN,
            pvBuffer: ptr::null_mut(),
        };
        let mut output = SecBufferDesc {
            ulVersion: SECBUFFER_VERSION,
            cBuffers: 1,
            pBuffers: &mut output_buffer,
        };
        let mut new_context = self.context.unwrap_or(SecHandle {
            dwLower: 0,
            dwUpper: 0,
        });
        let mut attributes = 0u32;
        let mut expiry = 0i64;
        let existing = self.context.as_ref().map_or(ptr::null(), ptr::from_ref);
        // SAFETY: all pointers are to live locals; the output token is freed below.
        let status = unsafe {
            InitializeSecurityContextW(
                &self.credential,
                existing,
                self.target.as_ptr(),
                ISC_REQ_MUTUAL_AUTH | ISC_REQ_ALLOCATE_MEMORY,
                0,
                SECURITY_NATIVE_DREP,
                if server_token.is_some() {
                    &input
                } else {
                    ptr::null()
                },
                0,
                &mut new_context,
                &mut output,
                &mut attributes,
                &mut expiry,
            )
        };
        let token = if output_buffer.pvBuffer.is_null() || output_buffer.cbBuffer == 0 {
            Vec::new()
        } else {
            // SAFETY: the package allocated `cbBuffer` bytes, freed right after.
            let bytes = unsafe {
                std::slice::from_raw_parts(
                    output_buffer.pvBuffer.cast::<u8>(),
                    output_buffer.cbBuffer as usize,
                )
            }
            .to_vec();
            // SAFETY: allocated by the package (ISC_REQ_ALLOCATE_MEMORY).
            unsafe { FreeContextBuffer(output_buffer.pvBuffer) };
            bytes
        };
        if status != SEC_E_OK && status != SEC_I_CONTINUE_NEEDED {
            return Err(failure(status, &self.target_text));
        }
        self.context = Some(new_context);
        Ok(Step {
            token: (!token.is_empty()).then_some(token),
            complete: status == SEC_E_OK,
            mutual: attributes & ISC_RET_MUTUAL_AUTH != 0,
        })
    }

    fn principal(&self) -> Option<String> {
        let context = self.context.as_ref()?;
        let mut names = SecPkgContext_NamesW {
            sUserName: ptr::null_mut(),
        };
        // SAFETY: the context is live; the name is freed after copying.
        unsafe {
            if QueryContextAttributesW(context, SECPKG_ATTR_NAMES, ptr::from_mut(&mut names).cast())
                != SEC_E_OK
            {
                return None;
            }
            let name = from_wide(names.sUserName);
            FreeContextBuffer(names.sUserName.cast());
            name
        }
    }

    fn mechanism(&self) -> Option<String> {
        let context = self.context.as_ref()?;
        let mut info = SecPkgContext_NegotiationInfoW {
            PackageInfo: ptr::null_mut(),
            NegotiationState: 0,
        };
        // SAFETY: the context is live; the package info is freed after copying.
        unsafe {
            if QueryContextAttributesW(
                context,
                SECPKG_ATTR_NEGOTIATION_INFO,
                ptr::from_mut(&mut info).cast(),
            ) != SEC_E_OK
                || info.PackageInfo.is_null()
            {
                return None;
            }
            let name = from_wide((*info.PackageInfo).Name);
            FreeContextBuffer(info.PackageInfo.cast());
            name
        }
    }
}

impl Drop for SspiContext {
    fn drop(&mut self) {
        // SAFETY: each handle is released once.
        unsafe {
            if let Some(context) = self.context.take() {
                DeleteSecurityContext(&context);
            }
            FreeCredentialsHandle(&self.credential);
        }
    }
}
