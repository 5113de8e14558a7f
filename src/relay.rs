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

/// Waits for the stream's first event before anything reaches the client:
/// a stream that fails retryably before it (cut, silent, an overload or
/// server error event first) is an `Err` the router can retry or fall back
/// from, not a 200. After that the relay streams as it comes.
pub async fn relay(
    upstream: ByteStream,
    decoder: Box<dyn StreamDecoder>,
    idle: Duration,
) -> Result<impl Stream<Item = Result<Bytes, Infallible>> + Send, ProviderError> {
    let mut state = Relay {
        upstream,
        decoder,
        idle,
        ready: VecDeque::new(),
        ended: false,
    };
    while state.ready.is_empty() && !state.ended {
        if let Some(e) = state.pull_raw().await {
            // Only what another attempt may fix: a refusal (safety block,
            // bad request) stays an error event in a 200 stream.
            if state.ready.is_empty() && e.class.is_retryable() {
                return Err(e);
            }
            state.ready.push_back(error_event(ApiError::from(e)));
            state.ended = true;
        }
    }
    Ok(futures_util::stream::unfold(state, |mut s| async move {
        loop {
            if let Some(event) = s.ready.pop_front() {
                return Some((Ok(event), s));
            }
            if s.ended {
                return None;
            }
            s.pull().await;
        }
    }))
}

impl Relay {
    async fn pull(&mut self) {
        if let Some(e) = self.pull_raw().await {
            self.ready.push_back(error_event(ApiError::from(e)));
            self.ended = true;
        }
    }

    /// Reads one piece; decoded events go to `ready`, a failure is returned.
    async fn pull_raw(&mut self) -> Option<ProviderError> {
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
        if self.decoder.is_done() {
            self.ended = true;
        }
        failure
    }
}

pub fn error_event(e: ApiError) -> Bytes {
    Bytes::from(format!("data: {}\n\n", e.body()))
}
