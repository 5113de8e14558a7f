//! AWS's binary event-stream framing (`application/vnd.amazon.eventstream`),
//! split out of the response bytes as they arrive. A message is a 12-byte
//! prelude (total length, headers length, the prelude's CRC32), headers,
//! a payload and the message's CRC32; parsing and both CRC checks are
//! `aws-smithy-eventstream`'s. This side only waits until a whole message
//! has arrived, bounded by AWS's 16 MiB message limit so that garbage
//! cannot make it buffer without end.

use aws_smithy_eventstream::frame::read_message_from;
use aws_smithy_types::event_stream::Message;
use bytes::{Bytes, BytesMut};

use super::{FailureClass, ProviderError};

/// The largest message the event-stream format allows.
const MAX_MESSAGE: usize = 16 * 1024 * 1024;
/// Prelude (8) + prelude CRC (4) + message CRC (4).
const MIN_MESSAGE: usize = 16;

/// One message, by its `:message-type`.
#[derive(Debug, PartialEq)]
pub enum Frame {
    /// `event`: the `:event-type` and its JSON payload.
    Event { kind: String, payload: Bytes },
    /// `exception`: the `:exception-type` (a modelled error) and its payload.
    Exception { kind: String, payload: Bytes },
    /// `error`: `:error-code` and `:error-message` (an unmodelled error).
    Error { code: String, message: String },
}

#[derive(Default)]
pub struct FrameReader {
    buf: BytesMut,
}

impl FrameReader {
    /// Appends bytes and returns every message completed by them. A corrupt
    /// message (bad length, CRC mismatch, malformed headers) is an error.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Frame>, ProviderError> {
        self.buf.extend_from_slice(bytes);
        let mut frames = Vec::new();
        while self.buf.len() >= 4 {
            let total = u32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]);
            let total = total as usize;
            if !(MIN_MESSAGE..=MAX_MESSAGE).contains(&total) {
                return Err(corrupt(format!("a message length of {total} bytes")));
            }
            if self.buf.len() < total {
                break;
            }
            let message = read_message_from(self.buf.split_to(total).freeze())
                .map_err(|e| corrupt(e.to_string()))?;
            frames.push(frame(&message)?);
        }
        Ok(frames)
    }

    /// Bytes held back because their message is not complete yet.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

fn frame(message: &Message) -> Result<Frame, ProviderError> {
    let header = |name: &str| {
        message
            .headers()
            .iter()
            .find(|h| h.name().as_str() == name)
            .and_then(|h| h.value().as_string().ok())
            .map(|s| s.as_str().to_string())
    };
    let payload = message.payload().clone();
    match header(":message-type").as_deref() {
        Some("event") => Ok(Frame::Event {
            kind: header(":event-type").unwrap_or_default(),
            payload,
        }),
        Some("exception") => Ok(Frame::Exception {
            kind: header(":exception-type").unwrap_or_default(),
            payload,
        }),
        Some("error") => Ok(Frame::Error {
            code: header(":error-code").unwrap_or_default(),
            message: header(":error-message").unwrap_or_default(),
        }),
        other => Err(corrupt(format!("a message of type {other:?}"))),
    }
}

fn corrupt(what: String) -> ProviderError {
    ProviderError::new(
        FailureClass::ServerError,
        format!("Bedrock's event stream is corrupt: {what}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_eventstream::frame::write_message_to;
    use aws_smithy_types::event_stream::{Header, HeaderValue};

    fn encoded(kind: &str, payload: &str) -> Vec<u8> {
        let message = Message::new(Bytes::from(payload.to_string()))
            .add_header(Header::new(
                ":event-type",
                HeaderValue::String(kind.to_string().into()),
            ))
            .add_header(Header::new(
                ":message-type",
                HeaderValue::String("event".into()),
            ));
        let mut out = Vec::new();
        write_message_to(&message, &mut out).unwrap();
        out
    }

    #[test]
    fn splits_messages_however_the_bytes_arrive() {
        let bytes = [
            encoded("messageStart", "{}"),
            encoded("messageStop", "{\"a\":1}"),
        ]
        .concat();
        for size in [1, 3, 7, bytes.len()] {
            let mut reader = FrameReader::default();
            let mut frames = Vec::new();
            for piece in bytes.chunks(size) {
                frames.extend(reader.push(piece).unwrap());
            }
            assert_eq!(frames.len(), 2, "{size}");
            assert_eq!(
                frames[1],
                Frame::Event {
                    kind: "messageStop".into(),
                    payload: Bytes::from_static(b"{\"a\":1}")
                }
            );
            assert_eq!(reader.pending(), 0);
        }
    }

    #[test]
    fn corrupt_messages_are_errors() {
        let mut bad_crc = encoded("messageStart", "{}");
        let last = bad_crc.len() - 1;
        bad_crc[last] ^= 1;
        assert!(FrameReader::default().push(&bad_crc).is_err());
        assert!(FrameReader::default().push(&[0, 0, 0, 3]).is_err());
        assert!(FrameReader::default().push(&[0xff, 0, 0, 0, 1]).is_err());
        // A length that is fine waits for its bytes.
        assert!(
            FrameReader::default()
                .push(&[0, 0, 1, 0, 9])
                .unwrap()
                .is_empty()
        );
    }
}
