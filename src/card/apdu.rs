//! Sending short APDUs and collecting the whole answer (`61xx` / `6Cxx` handling).
//!
//! Cards split long answers (`61xx`: "xx more bytes, ask with GET RESPONSE")
//! and some refuse a wrong Le (`6Cxx`: "ask again with Le = xx"). Callers of
//! [`transmit_collect`] see one complete [`Response`] either way, which is
//! also how a T=0 card's case-4 command gets its data.

use super::{CardChannel, CardError};

/// At most this many GET RESPONSEs for one command: a card that keeps saying
/// `61xx` forever must not hang the station. Generous, because some cards
/// hand out long objects in small chunks.
pub const MAX_GET_RESPONSES: usize = 256;

/// At most this many data bytes for one command. The largest object the
/// station reads is a PIV CHUID with a signature (a few KB).
pub const MAX_RESPONSE_LEN: usize = 32 * 1024;

/// Status word of a successful command.
pub const SW_OK: u16 = 0x9000;

/// The complete answer to one command: its data and the final status word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The response data, all chunks concatenated.
    pub data: Vec<u8>,
    /// The final status word (SW1 SW2).
    pub sw: u16,
}

impl Response {
    /// Splits a raw answer into data and status word; an answer without a
    /// status word is a protocol error.
    pub fn from_raw(mut raw: Vec<u8>) -> Result<Self, CardError> {
        let Some(data_len) = raw.len().checked_sub(2) else {
            return Err(CardError::Protocol(format!(
                "an answer of {} byte(s), too short to hold a status word",
                raw.len()
            )));
        };
        let sw = u16::from_be_bytes([raw[data_len], raw[data_len + 1]]);
        raw.truncate(data_len);
        Ok(Self { data: raw, sw })
    }

    /// True for `90 00`.
    pub fn is_ok(&self) -> bool {
        self.sw == SW_OK
    }

    /// The first status byte.
    pub fn sw1(&self) -> u8 {
        self.sw.to_be_bytes()[0]
    }

    /// The second status byte.
    pub fn sw2(&self) -> u8 {
        self.sw.to_be_bytes()[1]
    }

    /// The status word as four hex digits, for messages and logs.
    pub fn sw_hex(&self) -> String {
        format!("{:04X}", self.sw)
    }
}

/// Sends `command` and returns the complete answer, following `6Cxx` once and
/// `61xx` until the final status word.
pub fn transmit_collect(
    channel: &mut dyn CardChannel,
    command: &[u8],
) -> Result<Response, CardError> {
    let mut first = Response::from_raw(channel.transmit(command)?)?;
    if first.sw1() == 0x6C {
        let again = with_le(command, first.sw2())?;
        first = Response::from_raw(channel.transmit(&again)?)?;
    }
    collect_more(channel, first)
}

/// Follows `61xx` with GET RESPONSE, concatenating data, within the bounds.
fn collect_more(channel: &mut dyn CardChannel, first: Response) -> Result<Response, CardError> {
    let mut data = first.data;
    let mut sw = first.sw;
    let mut rounds = 0;
    loop {
        let [sw1, sw2] = sw.to_be_bytes();
        // A card may also answer a GET RESPONSE (never the first command) with
        // `6Cxx`, "wrong Le": then the GET RESPONSE is asked again with its Le.
        let more = sw1 == 0x61 || (sw1 == 0x6C && rounds > 0);
        if !more {
            break;
        }
        rounds += 1;
        if rounds > MAX_GET_RESPONSES {
            return Err(CardError::Protocol(format!(
                "the card kept announcing more data after {MAX_GET_RESPONSES} GET RESPONSE commands"
            )));
        }
        let next = Response::from_raw(channel.transmit(&get_response(sw2))?)?;
        data.extend_from_slice(&next.data);
        if data.len() > MAX_RESPONSE_LEN {
            return Err(CardError::Protocol(format!(
                "the card's answer grew beyond {MAX_RESPONSE_LEN} bytes"
            )));
        }
        sw = next.sw;
    }
    Ok(Response { data, sw })
}

/// `00 C0 00 00 Le`; Le `00` asks for 256 bytes, as `61 00` announces.
fn get_response(le: u8) -> [u8; 5] {
    [0x00, 0xC0, 0x00, 0x00, le]
}

/// The same short command with its Le set to `le` (added when it had none).
fn with_le(command: &[u8], le: u8) -> Result<Vec<u8>, CardError> {
    let mut out = command.to_vec();
    match short_apdu_shape(command)? {
        Shape::NoLe => out.push(le),
        Shape::WithLe => {
            if let Some(last) = out.last_mut() {
                *last = le;
            }
        }
    }
    Ok(out)
}

/// Whether a short command APDU already ends in an Le byte.
enum Shape {
    NoLe,
    WithLe,
}

/// Classifies a short command APDU (ISO 7816-4 cases 1-4).
fn short_apdu_shape(command: &[u8]) -> Result<Shape, CardError> {
    let malformed = || {
        CardError::Protocol(format!(
            "the station built a malformed command ({} bytes)",
            command.len()
        ))
    };
    match command.len() {
        0..=3 => Err(malformed()),
        4 => Ok(Shape::NoLe),
        5 => Ok(Shape::WithLe),
        len => {
            let lc = usize::from(command[4]);
            if lc == 0 {
                // Lc = 00 with more bytes is an extended APDU, which the station never sends.
                Err(malformed())
            } else if len == 5 + lc {
                Ok(Shape::NoLe)
            } else if len == 6 + lc {
                Ok(Shape::WithLe)
            } else {
                Err(malformed())
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A channel that checks each command against a script and answers from it.
    pub(crate) struct Scripted {
        pub(crate) steps: VecDeque<(Vec<u8>, Vec<u8>)>,
    }

    impl Scripted {
        pub(crate) fn new(steps: &[(&str, &str)]) -> Self {
            let decode = |text: &str| hex::decode(text.replace(' ', "")).expect("script is hex");
            Self {
                steps: steps
                    .iter()
                    .map(|(command, answer)| (decode(command), decode(answer)))
                    .collect(),
            }
        }
    }

    impl CardChannel for Scripted {
        fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, CardError> {
            let (expected, answer) = self.steps.pop_front().expect("script has another step");
            assert_eq!(
                hex::encode(command),
                hex::encode(expected),
                "unexpected command"
            );
            Ok(answer)
        }
    }

    /// A card that answers every command with the same bytes.
    struct Always(Vec<u8>);

    impl CardChannel for Always {
        fn transmit(&mut self, _command: &[u8]) -> Result<Vec<u8>, CardError> {
            Ok(self.0.clone())
        }
    }

    #[test]
    fn plain_answer_is_split_into_data_and_status() {
        let mut card = Scripted::new(&[("00CA000000", "01029000")]);
        let response = transmit_collect(&mut card, &[0x00, 0xCA, 0, 0, 0]).expect("answer");
        assert_eq!(response.data, vec![1, 2]);
        assert!(response.is_ok());
        assert_eq!(response.sw_hex(), "9000");
    }

    #[test]
    fn chunks_announced_with_61xx_are_concatenated() {
        let mut card = Scripted::new(&[
            ("00CB3FFF055C035FC10200", "0102 6103"),
            ("00C0000003", "030405 6100"),
            ("00C0000000", "06 9000"),
        ]);
        let command = hex::decode("00CB3FFF055C035FC10200").expect("hex");
        let response = transmit_collect(&mut card, &command).expect("answer");
        assert_eq!(response.data, vec![1, 2, 3, 4, 5, 6]);
        assert!(response.is_ok());
        assert!(card.steps.is_empty());
    }

    #[test]
    fn wrong_length_6cxx_resends_with_the_given_le() {
        let mut case2 = Scripted::new(&[("00CA9F7F00", "6C2A"), ("00CA9F7F2A", "AABB 9000")]);
        let response = transmit_collect(&mut case2, &[0x00, 0xCA, 0x9F, 0x7F, 0x00]).expect("ok");
        assert_eq!(response.data, vec![0xAA, 0xBB]);

        let mut case1 = Scripted::new(&[("00CA9F7F", "6C05"), ("00CA9F7F05", "9000")]);
        assert!(
            transmit_collect(&mut case1, &[0x00, 0xCA, 0x9F, 0x7F])
                .expect("ok")
                .is_ok()
        );

        let mut case3 = Scripted::new(&[("00CB3FFF0101", "6C10"), ("00CB3FFF010110", "9000")]);
        let command = [0x00, 0xCB, 0x3F, 0xFF, 0x01, 0x01];
        assert!(transmit_collect(&mut case3, &command).expect("ok").is_ok());
    }

    #[test]
    fn t0_case4_answer_61xx_is_fetched() {
        let mut card = Scripted::new(&[
            ("00A4040009A00000039742544659", "6102"),
            ("00C0000002", "4F00 9000"),
        ]);
        let command = hex::decode("00A4040009A00000039742544659").expect("hex");
        let response = transmit_collect(&mut card, &command).expect("answer");
        assert_eq!(response.data, vec![0x4F, 0x00]);
        assert!(response.is_ok());
    }

    #[test]
    fn a_card_that_loops_forever_is_stopped() {
        let mut card = Always(vec![0x61, 0x00]);
        let err = transmit_collect(&mut card, &[0, 0xCA, 0, 0, 0]).expect_err("must stop");
        assert!(matches!(err, CardError::Protocol(m) if m.contains("GET RESPONSE")));

        let mut big = Always([vec![0u8; 250], vec![0x61, 0x00]].concat());
        let err = transmit_collect(&mut big, &[0, 0xCA, 0, 0, 0]).expect_err("must stop");
        assert!(matches!(err, CardError::Protocol(m) if m.contains("bytes")));
    }

    #[test]
    fn answers_without_a_status_word_are_protocol_errors() {
        for answer in [vec![], vec![0x90]] {
            let mut card = Always(answer);
            let err = transmit_collect(&mut card, &[0, 0xCA, 0, 0, 0]).expect_err("too short");
            assert!(matches!(err, CardError::Protocol(m) if m.contains("status word")));
        }
    }

    #[test]
    fn malformed_commands_are_not_resent() {
        let mut card = Always(vec![0x6C, 0x10]);
        let err = transmit_collect(&mut card, &[0, 0xCA, 0, 0, 0x05, 1]).expect_err("bad Lc");
        assert!(matches!(err, CardError::Protocol(_)));
    }
}
