//! Per-scope state behind one map: a read lock to find a scope (the common
//! case), a write lock only the first time a scope is seen, and a short-held
//! mutex per scope for its counters. Nothing here is held across an await.
//!
//! Several scopes are checked and changed together (a key and its team), so
//! their mutexes are taken together, always in the scopes' sort order: two
//! requests sharing scopes can then never each hold one the other waits for.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

/// One scope's state, shared by the map and by in-flight requests.
pub type Slot<S> = Arc<Mutex<S>>;

pub struct Registry<K, S> {
    map: RwLock<HashMap<K, Slot<S>>>,
}

impl<K, S> Default for Registry<K, S> {
    fn default() -> Self {
        Registry {
            map: RwLock::new(HashMap::new()),
        }
    }
}

/// Locks one slot. A panic elsewhere while holding it (a bug, not a state
/// this code produces) leaves plain counters behind, still usable: carry on
/// rather than turn every later request into a panic.
pub fn lock<S>(slot: &Mutex<S>) -> MutexGuard<'_, S> {
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<K: Eq + Hash + Clone + Ord, S: Default> Registry<K, S> {
    /// The slot of `key`, created empty on first use.
    pub fn slot(&self, key: &K) -> Slot<S> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = map.get(key) {
            return slot.clone();
        }
        drop(map);
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        map.entry(key.clone()).or_default().clone()
    }

    /// The slot of `key` if it was ever used.
    pub fn existing(&self, key: &K) -> Option<Slot<S>> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        map.get(key).cloned()
    }

    /// The slots of `keys`, in the order their mutexes must be taken (sorted
    /// by key, each key once), with each one's first index in `keys`.
    pub fn slots_in_lock_order<'k>(
        &self,
        keys: impl Iterator<Item = &'k K>,
    ) -> Vec<(usize, Slot<S>)>
    where
        K: 'k,
    {
        let mut wanted: Vec<(usize, &K)> = keys.enumerate().collect();
        wanted.sort_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(&b.0)));
        wanted.dedup_by(|later, earlier| later.1 == earlier.1);
        wanted
            .into_iter()
            .map(|(i, key)| (i, self.slot(key)))
            .collect()
    }

    /// Every scope and its slot, for sweeps off the request path.
    pub fn all(&self) -> Vec<(K, Slot<S>)> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        map.iter().map(|(k, s)| (k.clone(), s.clone())).collect()
    }

    /// Forgets the scopes whose state `idle` calls idle and that no request
    /// holds; returns how many were dropped.
    pub fn forget_idle(&self, mut idle: impl FnMut(&mut S) -> bool) -> usize {
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        let before = map.len();
        // Under the write lock nobody can take a new reference from the map,
        // so a count of one means no request holds this slot.
        map.retain(|_, slot| Arc::strong_count(slot) > 1 || !idle(&mut lock(slot)));
        before - map.len()
    }

    /// Drops `key`'s state (requests holding it finish on the old copy).
    pub fn remove(&self, key: &K) {
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        map.remove(key);
    }

    pub fn len(&self) -> usize {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_slot_per_key_in_sorted_order() {
        let registry: Registry<&str, u32> = Registry::default();
        *lock(&registry.slot(&"b")) = 7;
        let keys = ["c", "b", "a", "b"];
        let slots = registry.slots_in_lock_order(keys.iter());
        let order: Vec<usize> = slots.iter().map(|(i, _)| *i).collect();
        assert_eq!(order, vec![2, 1, 0]);
        assert_eq!(*lock(&slots[1].1), 7);
        assert_eq!(registry.len(), 3);
    }

    #[test]
    fn forgets_only_idle_unheld_slots() {
        let registry: Registry<&str, u32> = Registry::default();
        registry.slot(&"idle");
        *lock(&registry.slot(&"busy")) = 1;
        let held = registry.slot(&"held");
        assert_eq!(registry.forget_idle(|n| *n == 0), 1);
        assert!(registry.existing(&"idle").is_none());
        assert!(registry.existing(&"busy").is_some());
        assert!(registry.existing(&"held").is_some());
        drop(held);
        assert_eq!(registry.forget_idle(|n| *n == 0), 1);
    }
}
