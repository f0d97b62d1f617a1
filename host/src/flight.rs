//! The requests of one resource in flight: how many may be (an AIMD window), and a reorder
//! buffer that hands their answers on in the order the connector planned them, so each
//! page's state checkpoints a contiguous prefix of pages.

use std::collections::{BTreeMap, VecDeque};

/// The window and the answers not yet handed on, generic over the answer type.
#[derive(Debug)]
pub struct Flight<T> {
    /// Requests sent, in the order planned.
    order: VecDeque<u64>,
    /// Answers that came before an earlier request's.
    ready: BTreeMap<u64, T>,
    window: f64,
    max: usize,
}

impl<T> Flight<T> {
    /// A window of `max` requests (at least one).
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Flight {
            order: VecDeque::new(),
            ready: BTreeMap::new(),
            window: max as f64,
            max,
        }
    }

    /// Requests that may be in flight now.
    pub fn window(&self) -> usize {
        (self.window as usize).clamp(1, self.max)
    }

    /// Whether another request may be sent.
    pub fn has_room(&self) -> bool {
        self.order.len() < self.window()
    }

    /// Requests sent and not handed on yet.
    pub fn len(&self) -> u64 {
        self.order.len() as u64
    }

    /// Nothing sent is unanswered or waiting to be handed on.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Whether `seq` was sent and not handed on yet.
    pub fn holds(&self, seq: u64) -> bool {
        self.order.contains(&seq)
    }

    pub fn sent(&mut self, seq: u64) {
        self.order.push_back(seq);
    }

    /// The answer to `seq` arrived.
    pub fn arrived(&mut self, seq: u64, answer: T) {
        if self.order.contains(&seq) {
            self.ready.insert(seq, answer);
        }
    }

    /// The next answer in planned order, once it is in.
    pub fn next_in_order(&mut self) -> Option<(u64, T)> {
        let seq = *self.order.front()?;
        let answer = self.ready.remove(&seq)?;
        self.order.pop_front();
        Some((seq, answer))
    }

    /// A request is retried (the server is struggling, or asked to slow down): halve the
    /// window (multiplicative decrease).
    pub fn throttled(&mut self) {
        self.window = (self.window / 2.0).max(1.0);
    }

    /// A request was answered: grow the window by about one per window's worth of answers
    /// (additive increase).
    pub fn answered(&mut self) {
        self.window = (self.window + 1.0 / self.window).min(self.max as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_go_on_in_planned_order() {
        let mut f = Flight::new(4);
        for seq in [3, 4, 5] {
            f.sent(seq);
        }
        f.arrived(5, "c");
        f.arrived(4, "b");
        assert_eq!(f.next_in_order(), None, "3 is not in yet");
        f.arrived(3, "a");
        f.arrived(99, "never sent");
        let order: Vec<_> = std::iter::from_fn(|| f.next_in_order()).collect();
        assert_eq!(order, [(3, "a"), (4, "b"), (5, "c")]);
        assert!(f.is_empty());
    }

    #[test]
    fn throttling_halves_the_window_and_answers_grow_it_back_slowly() {
        let mut f: Flight<()> = Flight::new(8);
        assert_eq!(f.window(), 8);
        f.throttled();
        f.throttled();
        assert_eq!(f.window(), 2);
        for _ in 0..3 {
            f.throttled();
        }
        assert_eq!(f.window(), 1, "never below one");
        let mut answers = 0;
        while f.window() < 8 {
            f.answered();
            answers += 1;
        }
        // 1 + 1/1, then about one more per window of answers: 1+2+...+7 = 28 answers.
        assert!((20..=40).contains(&answers), "{answers}");
        for _ in 0..100 {
            f.answered();
        }
        assert_eq!(f.window(), 8, "capped");
        f.sent(1);
        assert!(f.has_room());
    }
}
