//! The LDAP search filter that finds an account by its GUID.
//!
//! Active Directory stores `objectGUID` as the 16 bytes of the GUID in
//! Windows' mixed-endian layout: Data1 (4 bytes), Data2 and Data3 (2 bytes
//! each) little-endian, Data4's 8 bytes as they are. That is
//! [`Uuid::to_bytes_le`], not the big-endian order of the text form. The
//! value is binary, so every byte is written as `\XX` (RFC 4515, section 3):
//! no byte of it can end the filter or start another.

use uuid::Uuid;

/// The attribute holding an account's GUID.
pub const GUID_ATTRIBUTE: &str = "objectGUID";

/// `objectGUID`'s bytes as Active Directory stores them.
pub fn guid_bytes(user: Uuid) -> [u8; 16] {
    user.to_bytes_le()
}

/// `(objectGUID=\XX\XX…)` for `user`.
pub fn guid_filter(user: Uuid) -> String {
    let mut filter = String::with_capacity(GUID_ATTRIBUTE.len() + 3 + 16 * 3);
    filter.push('(');
    filter.push_str(GUID_ATTRIBUTE);
    filter.push('=');
    escape_bytes_into(&guid_bytes(user), &mut filter);
    filter.push(')');
    filter
}

/// Every byte of `value` as `\XX` (upper-case hex), RFC 4515's escape.
pub fn escape_bytes_into(value: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in value {
        out.push('\\');
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guid_is_in_windows_byte_order_and_every_byte_is_escaped() {
        // Microsoft's example layout: Data1 33221100, Data2 5544, Data3 7766.
        let user = Uuid::parse_str("33221100-5544-7766-8899-aabbccddeeff").expect("uuid");
        assert_eq!(
            guid_bytes(user),
            [
                0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
                0xee, 0xff
            ]
        );
        assert_eq!(
            guid_filter(user),
            r"(objectGUID=\00\11\22\33\44\55\66\77\88\99\AA\BB\CC\DD\EE\FF)"
        );
    }

    #[test]
    fn special_filter_characters_never_appear_unescaped() {
        // `(`, `)`, `*`, `\` and NUL as GUID bytes.
        let user = Uuid::from_bytes_le([
            b'(', b')', b'*', b'\\', 0, b'a', b'b', b'c', 1, 2, 3, 4, 5, 6, 7, 8,
        ]);
        let filter = guid_filter(user);
        let value = &filter["(objectGUID=".len()..filter.len() - 1];
        assert_eq!(value.len(), 16 * 3);
        assert!(value.starts_with(r"\28\29\2A\5C\00\61"), "{value}");
        assert!(!value.contains(['(', ')', '*']), "{value}");
    }

    #[test]
    fn ldap3_reads_the_filter_back_to_the_same_bytes() {
        let user = Uuid::new_v4();
        assert!(ldap3::parse_filter(guid_filter(user)).is_ok());
    }
}
