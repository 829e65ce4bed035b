//! One computation per key at a time: requests that miss the same key together wait for the
//! first one's answer instead of each reading the store (64 clients asking for movers at once
//! read them once).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
};

use tokio::sync::OwnedMutexGuard;

/// The keys being computed now.
#[derive(Debug, Default)]
pub(crate) struct SingleFlight {
    keys: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

impl SingleFlight {
    /// Waits until no other request computes `key`; the turn lasts as long as the guard.
    pub(crate) async fn turn(&self, key: &str) -> OwnedMutexGuard<()> {
        let flight = {
            let mut keys = self
                .keys
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // the keys whose last holder has finished (few: at most one per request in flight)
            keys.retain(|_, w| w.strong_count() > 0);
            match keys.get(key).and_then(Weak::upgrade) {
                Some(f) => f,
                None => {
                    let f = Arc::new(tokio::sync::Mutex::new(()));
                    keys.insert(key.to_owned(), Arc::downgrade(&f));
                    f
                }
            }
        };
        flight.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::atomic::{AtomicUsize, Ordering},
        time::Duration,
    };

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn one_key_at_a_time_and_other_keys_beside_it() {
        let flights = Arc::new(SingleFlight::default());
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let mut tasks = Vec::new();
        for i in 0..8 {
            let (flights, running, most) = (flights.clone(), running.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                let key = if i < 6 { "same" } else { "other" };
                let _turn = flights.turn(key).await;
                if key == "same" {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                if key == "same" {
                    running.fetch_sub(1, Ordering::SeqCst);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap_or_default();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
        let left = flights
            .keys
            .lock()
            .map(|k| k.values().filter(|w| w.strong_count() > 0).count());
        assert_eq!(left.unwrap_or(usize::MAX), 0);
    }
}
