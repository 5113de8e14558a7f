//! What an answer used and cost, known once it is complete: at once for a
//! whole body, at the end of a stream (or when the client leaves it early)
//! for a stream. The stream is watched as it passes, never held back: the
//! usage chunk the gateway asked for itself is read and, when the client
//! did not ask for it, not passed on.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;

use crate::api::wire::ApiRequest;
use crate::config::Deployment;
use crate::cost::{self, PriceTable, Usage, UsageTap};
use crate::pipeline::EventStream;

/// The usage and cost of one answer.
#[derive(Clone, Copy, Debug)]
pub struct Metered {
    pub usage: Usage,
    /// USD; `None` when the model has no known price.
    pub cost: Option<f64>,
    /// The stream ended before its end (the client went away, or it broke).
    pub cut_short: bool,
}

/// A whole body: the provider's usage, else the documented estimate.
pub fn body(prices: &PriceTable, d: &Deployment, request: &ApiRequest, bytes: &[u8]) -> Metered {
    let usage = cost::usage_in_body(bytes)
        .unwrap_or_else(|| cost::estimate::exchange(&request.body, &request.model, bytes));
    Metered {
        cost: price_of(prices, d).map(|p| cost::cost(&p, &usage)),
        usage,
        cut_short: false,
    }
}

/// A stream: `done` is called exactly once, with what the stream used, when
/// it ends or is dropped. `request_bytes` is the size of the client's body:
/// should the stream report no usage (it was cut short), its prompt is
/// estimated at a token per four bytes rather than tokenized on the way.
pub fn stream(
    prices: &PriceTable,
    events: EventStream,
    d: &Deployment,
    request: &ApiRequest,
    request_bytes: usize,
    done: impl FnOnce(Metered) + Send + 'static,
) -> EventStream {
    Box::pin(Watched {
        events,
        tap: UsageTap::new(request.include_usage).counting_text(),
        hide_usage: !request.include_usage,
        price: price_of(prices, d),
        fallback_prompt: cost::estimate::chars_to_tokens(request_bytes as u64),
        done: Some(Box::new(done)),
        ended: false,
    })
}

/// An answer passed through natively from Anthropic (`/v1/messages` to an
/// `anthropic/` deployment), in Anthropic's shape: its usage is read from
/// the `message_start` / `message_delta` events of a stream, or from the
/// body (kept up to 1 MiB to read it). `done` is called once, at the end.
pub fn anthropic_native(
    prices: &PriceTable,
    body: axum::body::Body,
    d: &Deployment,
    streaming: bool,
    done: impl FnOnce(Metered) + Send + 'static,
) -> axum::body::Body {
    use futures_util::StreamExt;
    const KEEP: usize = 1 << 20;
    struct Tap {
        streaming: bool,
        events: cost::AnthropicStreamUsage,
        whole: Vec<u8>,
        price: Option<cost::Price>,
        done: Option<Done>,
        ended: bool,
    }
    impl Tap {
        fn feed(&mut self, bytes: &[u8]) {
            if self.streaming {
                // The relay passes whole events only (`native::events`).
                let mut start = 0;
                while let Some(i) = bytes[start..].windows(2).position(|w| w == b"\n\n") {
                    self.events.feed(&bytes[start..start + i]);
                    start += i + 2;
                }
            } else if self.whole.len() + bytes.len() <= KEEP {
                self.whole.extend_from_slice(bytes);
            }
        }
    }
    impl Drop for Tap {
        fn drop(&mut self) {
            if let Some(done) = self.done.take() {
                let usage = if self.streaming {
                    self.events.usage()
                } else {
                    cost::usage_in_anthropic_body(&self.whole)
                }
                .unwrap_or(Usage {
                    estimated: true,
                    ..Usage::default()
                });
                done(Metered {
                    cost: self.price.as_ref().map(|p| cost::cost(p, &usage)),
                    usage,
                    cut_short: !self.ended,
                });
            }
        }
    }
    let mut tap = Tap {
        streaming,
        events: cost::AnthropicStreamUsage::default(),
        whole: Vec::new(),
        price: price_of(prices, d),
        done: Some(Box::new(done)),
        ended: false,
    };
    let mut stream = body.into_data_stream();
    let watched = futures_util::stream::poll_fn(move |cx| {
        let polled = stream.poll_next_unpin(cx);
        match &polled {
            Poll::Ready(Some(Ok(bytes))) => tap.feed(bytes),
            Poll::Ready(None) => tap.ended = true,
            _ => {}
        }
        polled
    });
    axum::body::Body::from_stream(watched)
}

/// The deployment's price; for a deployment of a wildcard group (its
/// upstream model filled in when picked), the price of that model.
fn price_of(prices: &PriceTable, d: &Deployment) -> Option<cost::Price> {
    d.price.clone().or_else(|| prices.price_for(d))
}

type Done = Box<dyn FnOnce(Metered) + Send>;

struct Watched {
    events: EventStream,
    tap: UsageTap,
    /// The client did not ask for usage: `"usage":null` fields (which an
    /// upstream asked for usage adds to every chunk) are taken out.
    hide_usage: bool,
    price: Option<cost::Price>,
    fallback_prompt: u64,
    done: Option<Done>,
    ended: bool,
}

impl Watched {
    fn finish(&mut self) {
        if let Some(done) = self.done.take() {
            let usage = self.tap.usage_or_estimate(self.fallback_prompt);
            done(Metered {
                cost: self.price.as_ref().map(|p| cost::cost(p, &usage)),
                usage,
                cut_short: !self.ended,
            });
        }
    }
}

impl Stream for Watched {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match self.events.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(event))) => {
                    if self.tap.keep(&event) {
                        let event = if self.hide_usage {
                            without_null_usage(event)
                        } else {
                            event
                        };
                        return Poll::Ready(Some(Ok(event)));
                    }
                }
                Poll::Ready(Some(Err(never))) => match never {},
                Poll::Ready(None) => {
                    self.ended = true;
                    self.finish();
                    return Poll::Ready(None);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// `data: {…,"usage":null}` without its `"usage":null`: OpenAI (and our
/// chunk writer) put it last in the chunk.
fn without_null_usage(event: Bytes) -> Bytes {
    const FIELD: &[u8] = b",\"usage\":null}";
    let body = event.trim_ascii_end();
    if !body.ends_with(FIELD) {
        return event;
    }
    let mut out = Vec::with_capacity(event.len());
    out.extend_from_slice(&body[..body.len() - FIELD.len()]);
    out.extend_from_slice(b"}\n\n");
    Bytes::from(out)
}

impl Drop for Watched {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_usage_fields_are_taken_out_and_nothing_else() {
        let with = Bytes::from_static(b"data: {\"id\":\"c\",\"choices\":[],\"usage\":null}\n\n");
        assert_eq!(
            &without_null_usage(with)[..],
            b"data: {\"id\":\"c\",\"choices\":[]}\n\n"
        );
        let real = Bytes::from_static(b"data: {\"id\":\"c\",\"usage\":{\"total_tokens\":3}}\n\n");
        assert_eq!(without_null_usage(real.clone()), real);
        let done = Bytes::from_static(b"data: [DONE]\n\n");
        assert_eq!(without_null_usage(done.clone()), done);
    }
}
