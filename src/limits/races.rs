//! Races: std threads hammering the limiter and the ledger at once, to show
//! that what holds for one request holds for many at the same time.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;

use super::*;

const NOW_MS: u64 = 1_000 * 60_000; // the start of a minute

fn key() -> BudgetScope {
    BudgetScope::Key("k".into())
}

fn team() -> BudgetScope {
    BudgetScope::Team("t".into())
}

fn max(amount: f64) -> BudgetLimit {
    BudgetLimit {
        max_budget: Some(amount),
        ..BudgetLimit::default()
    }
}

fn rpm(n: u64) -> Limits {
    Limits {
        rpm: Some(n),
        ..Limits::default()
    }
}

#[test]
fn racing_threads_never_pass_the_limits() {
    let limiter = Arc::new(Limiter::new());
    let limits = Limits {
        rpm: Some(100),
        tpm: None,
        max_parallel_requests: Some(3),
    };
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let admitted = Arc::new(AtomicU32::new(0));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most_in_flight = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (limiter, barrier) = (limiter.clone(), barrier.clone());
            let (admitted, in_flight) = (admitted.clone(), in_flight.clone());
            let most_in_flight = most_in_flight.clone();
            thread::spawn(move || {
                barrier.wait();
                let scopes = [
                    (ScopeId::Key("k".into()), limits),
                    (ScopeId::Team("t".into()), rpm(1_000)),
                ];
                for _ in 0..200 {
                    if let Ok(admission) = limiter.check_and_start_at(&scopes, 0, NOW_MS) {
                        admitted.fetch_add(1, Ordering::SeqCst);
                        let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                        most_in_flight.fetch_max(now, Ordering::SeqCst);
                        thread::yield_now();
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        drop(admission);
                    }
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    assert_eq!(admitted.load(Ordering::SeqCst), 100);
    assert!(most_in_flight.load(Ordering::SeqCst) <= 3);
}

/// The guarantee of the module doc, raced: many threads reserve, hold
/// and settle at most what they reserved; no observer ever sees
/// `spent + reserved` above the budget, and the final spend is within it.
#[test]
fn racing_reservations_never_overspend() {
    let budgets = Arc::new(Budgets::default());
    let budget = 3.0;
    let scopes = [(key(), max(budget)), (team(), max(budget * 2.0))];
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let worst_seen = Arc::new(Mutex::new(0.0_f64));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (budgets, barrier) = (budgets.clone(), barrier.clone());
            let (scopes, worst_seen) = (scopes.clone(), worst_seen.clone());
            thread::spawn(move || {
                let mut rng = fastrand::Rng::with_seed(t as u64);
                barrier.wait();
                for _ in 0..2_000 {
                    let worst_case = 0.01 + rng.f64() * 0.2;
                    let Ok(held) = budgets.reserve(&scopes, worst_case) else {
                        continue;
                    };
                    let usage = budgets.usage(&key()).unwrap();
                    let seen = usage.spent + usage.reserved;
                    let mut worst = worst_seen.lock().unwrap();
                    *worst = worst.max(seen);
                    drop(worst);
                    thread::yield_now();
                    if rng.u8(..10) == 0 {
                        drop(held); // a failed call
                    } else {
                        held.settle(worst_case * rng.f64());
                    }
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let usage = budgets.usage(&key()).unwrap();
    assert!(*worst_seen.lock().unwrap() <= budget + 1e-9);
    assert!(usage.spent <= budget + 1e-9, "spent {}", usage.spent);
    assert!(
        usage.spent > budget * 0.9,
        "the budget was used: {}",
        usage.spent
    );
    assert_eq!((usage.reserved, usage.in_flight), (0.0, 0));
    assert_eq!(budgets.usage(&team()).unwrap().spent, usage.spent);
}

/// The scenario: 50 callers at once against a budget that
/// affords 10 requests; each holds its reservation until all have tried.
#[test]
fn fifty_callers_ten_requests_worth_of_budget() {
    let budgets = Arc::new(Budgets::default());
    let callers = 50;
    let tried = Arc::new(Barrier::new(callers));
    let admitted = Arc::new(AtomicU32::new(0));
    let handles: Vec<_> = (0..callers)
        .map(|_| {
            let (budgets, tried, admitted) = (budgets.clone(), tried.clone(), admitted.clone());
            thread::spawn(move || {
                let held = budgets.reserve(&[(key(), max(1.0))], 0.1);
                tried.wait();
                if let Ok(held) = held {
                    admitted.fetch_add(1, Ordering::SeqCst);
                    held.settle(0.1);
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    assert_eq!(admitted.load(Ordering::SeqCst), 10);
    assert!((budgets.usage(&key()).unwrap().spent - 1.0).abs() < 1e-9);
}

/// When real costs exceed the reservations, the overspend is bounded by
/// exactly those excesses.
#[test]
fn overspend_is_bounded_by_real_minus_reserved() {
    let budgets = Arc::new(Budgets::default());
    let handles: Vec<_> = (0..20)
        .map(|_| {
            let budgets = budgets.clone();
            thread::spawn(move || {
                let held = budgets.reserve(&[(key(), max(1.0))], 0.1)?;
                held.settle(0.15); // 0.05 more than reserved
                Ok::<(), OverBudget>(())
            })
        })
        .collect();
    let admitted = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(Result::is_ok)
        .count();
    assert!((1..=10).contains(&admitted), "{admitted}");
    let spent = budgets.usage(&key()).unwrap().spent;
    assert!((spent - admitted as f64 * 0.15).abs() < 1e-9);
    let overruns = admitted as f64 * 0.05;
    assert!(spent <= 1.0 + overruns + 1e-9, "spent {spent}");
}
