//! Process and operating-system glue with no station rules of its own: the
//! allocator's hand-back of freed memory, and the OS keyring with the
//! self-wiping secret types.

pub mod allocator;
pub mod files;
pub mod hardening;
pub mod secrets;
pub mod tls_trust;
