//! How the station's freed memory goes back to the operating system.
//!
//! A list load passes through buffers several times the list's size: the
//! answer's body, the parsing threads' pieces, the index's scratch. With
//! glibc (Linux), two defaults kept that memory resident after it was freed
//! (issue 6's memory goal, P5):
//!
//! - glibc raises its mmap threshold every time a large mapped block is
//!   freed, up to 32 MiB. After the first such free, multi-megabyte buffers
//!   are carved from the heaps instead of mapped, and once freed they leave
//!   holes between the list's long-lived blocks. Measured: 6.8 MB of a
//!   station holding 10,000 requests.
//! - Freed heap memory is kept for reuse; [`return_freed_memory`] hands it
//!   back once a load is done.
//!
//! Other allocators (Windows, macOS, musl) return memory on their own.

/// Blocks from this size up get their own mapping, which goes back to the
/// system when freed. Below it, per-frame buffers (a frame's vertices are a
/// few hundred kilobytes) keep coming from the heap, without a system call.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MAPPED_FROM_BYTES: libc::c_int = 1024 * 1024;

/// Fixes glibc's mmap threshold (see the module's text). Call it first in
/// `main`, before any thread starts.
pub fn keep_large_blocks_mapped() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt changes a tunable of the allocator; called before any
    // other thread exists, so no allocation races with it. A fixed threshold
    // also stops glibc from adjusting it.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MAPPED_FROM_BYTES);
    }
}

/// Gives the heap's free pages back to the operating system: called after a
/// list load, which frees far more than it keeps.
pub fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages; it touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}
