//! Relays an upstream stream to the client chunk by chunk: each piece is
//! translated as it arrives and nothing is buffered whole. Silence longer
//! than the idle limit, a broken connection or an upstream error event ends
//! the stream with an OpenAI-style error event, which the OpenAI SDKs raise.
//! Dropping the relay (the client went away) drops the upstream connection.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use crate::api::error::ApiError;
use crate::providers::{FailureClass, ProviderError, StreamDecoder};
use crate::transport::ByteStream;

struct Relay {
    upstream: ByteStream,
    decoder: Box<dyn StreamDecoder>,
    idle: Duration,
    ready: VecDeque<Bytes>,
    ended: bool,
}

pub fn relay(
    upstream: ByteStream,
    decoder: Box<dyn StreamDecoder>,
    idle: Duration,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    let state = Relay {
        upstream,
        decoder,
        idle,
        ready: VecDeque::new(),
        ended: false,
    };
    futures_util::stream::unfold(state, |mut s| async move {
        loop {
            if let Some(event) = s.ready.pop_front() {
                return Some((Ok(event), s));
            }
            if s.ended {
                return None;
            }
            s.pull().await;
        }
    })
}

impl Relay {
    async fn pull(&mut self) {
        let mut out = Vec::new();
        let failure = match tokio::time::timeout(self.idle, self.upstream.next()).await {
            Ok(Some(Ok(bytes))) => self.decoder.feed(&bytes, &mut out).err(),
            Ok(Some(Err(e))) => Some(e),
            Ok(None) => {
                self.ended = true;
                None
            }
            Err(_) => Some(
                ProviderError::new(
                    FailureClass::Timeout,
                    format!(
                        "The upstream sent nothing for {} s (stream_timeout).",
                        self.idle.as_secs_f64()
                    ),
                )
                .with_code("stream_timeout"),
            ),
        };
        // Events decoded before a failure still reach the client first.
        self.ready.extend(out);
        if let Some(e) = failure {
            self.ready.push_back(error_event(ApiError::from(e)));
            self.ended = true;
        }
        if self.decoder.is_done() {
            self.ended = true;
        }
    }
}

pub fn error_event(e: ApiError) -> Bytes {
    Bytes::from(format!("data: {}\n\n", e.body()))
}
