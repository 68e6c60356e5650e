/* Stand-in for the macOS SDK's TargetConditionals.h, for `cargo check
 * --target x86_64-apple-darwin` on Linux only (packaging/macos/check.sh):
 * C dependencies' build scripts must compile for the type check to reach the
 * Rust code, and nothing built with it is ever linked or shipped. */
#ifndef TARGET_CONDITIONALS_STUB_H
#define TARGET_CONDITIONALS_STUB_H
#define TARGET_OS_MAC 1
#define TARGET_OS_OSX 1
#define TARGET_OS_IPHONE 0
#define TARGET_OS_IOS 0
#define TARGET_OS_WATCH 0
#define TARGET_OS_TV 0
#define TARGET_OS_SIMULATOR 0
#define TARGET_CPU_X86_64 1
#define TARGET_CPU_ARM64 0
#endif
