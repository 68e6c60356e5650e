//! Triple DES (TDEA, keying option 1: three independent keys, EDE) in ECB
//! mode, encryption only: what a Base CSP / GIDS card and CM compute for an
//! admin challenge. RustCrypto's `des` does the block; this only chains the
//! blocks. It is checked against OpenSSL's `des-ede3`, the textbook DES
//! vector and the reference's example in the tests below. Test and demo use
//! only: nothing secret is ever protected with it.

use ::des::TdesEde3;
use ::des::cipher::{Array, BlockCipherEncrypt as _, KeyInit as _};

/// 3DES-EDE3-ECB of `data` under `key`; `None` for empty data or data
/// that is not whole blocks.
pub(crate) fn tdes_ecb_encrypt(key: &[u8; 24], data: &[u8]) -> Option<Vec<u8>> {
    if data.is_empty() || !data.len().is_multiple_of(8) {
        return None;
    }
    let cipher = TdesEde3::new_from_slice(key).ok()?;
    let mut out = Vec::with_capacity(data.len());
    for chunk in data.chunks_exact(8) {
        let mut block = Array::try_from(chunk).ok()?;
        cipher.encrypt_block(&mut block);
        out.extend_from_slice(&block);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(hex_text: &str) -> [u8; 24] {
        let bytes = hex::decode(hex_text).expect("hex");
        let mut key = [0u8; 24];
        key.copy_from_slice(&bytes);
        key
    }

    fn encrypt(key_hex: &str, data_hex: &str) -> String {
        let data = hex::decode(data_hex).expect("hex");
        hex::encode(tdes_ecb_encrypt(&key(key_hex), &data).expect("whole blocks"))
    }

    #[test]
    fn matches_the_textbook_des_vector() {
        // K1 = K2 = K3 makes 3DES single DES: the classic 133457799BBCDFF1 example.
        let k = "133457799bbcdff1".repeat(3);
        assert_eq!(encrypt(&k, "0123456789abcdef"), "85e813540f0ab405");
    }

    #[test]
    fn matches_openssl_des_ede3() {
        // `openssl enc -des-ede3 -K <key> -nopad` (OpenSSL 3.0, legacy provider).
        assert_eq!(
            encrypt(
                "0123456789abcdef23456789abcdef01456789abcdef0123",
                "5468652071756663"
            ),
            "a826fd8ce53b855f"
        );
        assert_eq!(
            encrypt(
                "0badc0de5ec7e7a11d0badc0de5ec7e7a11d0badc0de5ec7",
                "00112233445566778899aabbccddeeff"
            ),
            "911fbff28443f7db76bf54404fbab72a"
        );
    }

    #[test]
    fn matches_the_references_authentication_response_example() {
        // get-smartcard-authentication-response: challenge "1hFD+cz/0so=",
        // diversified=False, answer "F0Zudm4wPLY=": 3DES of the challenge
        // under an all-zero admin key.
        assert_eq!(
            encrypt(&"00".repeat(24), "d61143f9ccffd2ca"),
            "17466e766e303cb6"
        );
    }

    #[test]
    fn partial_blocks_are_refused() {
        assert!(tdes_ecb_encrypt(&[0; 24], &[]).is_none());
        assert!(tdes_ecb_encrypt(&[0; 24], &[1, 2, 3]).is_none());
    }
}
