//! The background sender: `send` never waits, a full queue drops and
//! counts, failed posts are retried and then given up, `flush` drains.

use std::time::{Duration, Instant};

use switchyard::alerts::{AlertCounters, Alerter, AlerterOptions};
use switchyard::limits::{Alert, AlertKind, BudgetScope};

use super::hook::{Answer, Hook};
use super::{KEY_HASH, context, fast, settings};
use crate::support;

fn alert(spent: f64) -> Alert {
    Alert {
        scope: BudgetScope::Key(KEY_HASH.into()),
        kind: AlertKind::Threshold(0.8),
        spent,
        limit: 1.0,
    }
}

fn generic_only(url: String, options: AlerterOptions) -> Alerter {
    Alerter::with_options(&settings(None, Some(url)), support::client(), options)
}

fn counters(queued: u64, delivered: u64, failed: u64, dropped: u64) -> AlertCounters {
    AlertCounters {
        queued,
        delivered,
        failed,
        dropped,
    }
}

#[tokio::test]
async fn a_full_queue_drops_and_counts_without_blocking() {
    let hook = Hook::start(|_, _| Answer::Hang).await;
    let options = AlerterOptions {
        capacity: 1,
        flush_timeout: Duration::from_millis(300),
        ..fast()
    };
    let alerter = generic_only(hook.url("/generic"), options);
    alerter.send(alert(0.81), context());
    // The sender has taken the first alert and is stuck posting it.
    hook.wait_for(1).await;

    let started = Instant::now();
    for i in 0..9 {
        alerter.send(alert(0.82 + f64::from(i) / 100.0), context());
    }
    // A send that waited for the hanging receiver would take minutes.
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // One in flight, one waiting in the queue of one, eight dropped.
    assert_eq!(alerter.counters(), counters(2, 0, 0, 8));

    // Shutdown does not wait past its limit; what was left is dropped.
    let started = Instant::now();
    let after = alerter.flush().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(after, counters(0, 0, 0, 10));
    alerter.send(alert(0.95), context());
    assert_eq!(alerter.counters(), counters(0, 0, 0, 11));
    assert_eq!(hook.received().len(), 1);
}

#[tokio::test]
async fn a_failing_endpoint_is_retried_then_given_up() {
    let hook = Hook::start(|_, _| Answer::Status(500)).await;
    let alerter = generic_only(hook.url("/down"), fast());
    alerter.send(alert(0.81), context());
    assert_eq!(alerter.flush().await, counters(0, 0, 1, 0));
    // `fast()` allows three attempts.
    assert_eq!(hook.bodies("/down").len(), 3);
}

#[tokio::test]
async fn a_transient_failure_is_retried_until_it_goes_through() {
    let hook = Hook::start(|_, n| match n {
        0 => Answer::Status(503),
        1 => Answer::RateLimited,
        _ => Answer::Status(200),
    })
    .await;
    let alerter = generic_only(hook.url("/flaky"), fast());
    alerter.send(alert(0.81), context());
    assert_eq!(alerter.flush().await, counters(0, 1, 0, 0));
    let bodies = hook.bodies("/flaky");
    assert_eq!(bodies.len(), 3);
    // Every attempt carries the same alert.
    assert!(bodies.iter().all(|b| b == &bodies[0]));
}

#[tokio::test]
async fn a_refusal_is_not_retried() {
    let hook = Hook::start(|_, _| Answer::Status(404)).await;
    let alerter = generic_only(hook.url("/gone"), fast());
    alerter.send(alert(0.81), context());
    assert_eq!(alerter.flush().await, counters(0, 0, 1, 0));
    assert_eq!(hook.bodies("/gone").len(), 1);
}

#[tokio::test]
async fn an_unreachable_endpoint_is_counted_as_failed() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}/hook", listener.local_addr().unwrap());
    drop(listener);
    let alerter = generic_only(closed, fast());
    alerter.send(alert(0.81), context());
    assert_eq!(alerter.flush().await, counters(0, 0, 1, 0));
}

#[tokio::test]
async fn flush_delivers_everything_queued_in_order() {
    let hook = Hook::ok().await;
    let alerter = generic_only(hook.url("/generic"), fast());
    let spends = [0.81, 0.82, 0.83, 0.84, 0.85];
    for spent in spends {
        alerter.send(alert(spent), context());
    }
    assert_eq!(alerter.flush().await, counters(0, 5, 0, 0));
    let seen: Vec<f64> = hook
        .bodies("/generic")
        .iter()
        .map(|b| b["spend"].as_f64().unwrap())
        .collect();
    assert_eq!(seen, spends);
}

#[tokio::test]
async fn without_destinations_or_budget_alerts_nothing_is_sent() {
    let hook = Hook::ok().await;
    let none = Alerter::with_options(&settings(None, None), support::client(), fast());
    let mut off = settings(Some(hook.url("/slack")), Some(hook.url("/generic")));
    off.budget_alerts = false;
    let off = Alerter::with_options(&off, support::client(), fast());
    for alerter in [none, off] {
        assert!(!alerter.is_enabled());
        alerter.send(alert(0.81), context());
        assert_eq!(alerter.flush().await, AlertCounters::default());
    }
    assert!(hook.received().is_empty());
}
