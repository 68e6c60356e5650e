//! Card IDs from the spec's test vectors (`card-identity.md`), shared by the PC/SC tests.

// Each test binary that declares `mod common` uses only part of the rig.
#![allow(dead_code)]

/// sspi-rs' YubiKey CHUID GUID and its `cardid`.
pub const SSPI_RAW: [u8; 16] = [
    0x58, 0xc6, 0x8a, 0x1d, 0x65, 0xe0, 0xa0, 0x92, 0x85, 0xaf, 0x09, 0x0b, 0x07, 0x0b, 0x5d, 0x79,
];
/// The `cardid` CM expects for [`SSPI_RAW`].
pub const SSPI_CARDID: &str = "1d8ac658-e065-92a0-85af-090b070b5d79";

/// yubico-piv-tool's documented CHUID GUID and its `cardid`.
pub const YUBICO_RAW: [u8; 16] = [
    0x46, 0x1c, 0x7c, 0x76, 0x61, 0x22, 0xb3, 0x8b, 0x2e, 0xdf, 0x05, 0x18, 0x3c, 0x3d, 0x04, 0x1a,
];
/// The `cardid` CM expects for [`YUBICO_RAW`].
pub const YUBICO_CARDID: &str = "767c1c46-2261-8bb3-2edf-05183c3d041a";
