//! Request/response turns of a TCP stream, and the client's think time before each request:
//! the time from the server's last payload segment to the client's next one. A client that
//! polls on a timer shows its timer here. Mechanism only; `tor/meek.rs` says what a timer
//! that backs off by ×1.5 means.
//!
//! O(1) state per stream: turns are folded into runs as they end, nothing is stored per turn.

use serde::Serialize;

/// Ratio between consecutive think times (or between consecutive think-time increments) that
/// counts as one step of a geometric back-off around ×1.5. The increment form cancels a constant
/// offset (the round trip, when the capture point is far from the client).
const STEP_RATIO: std::ops::RangeInclusive<f64> = 1.3..=1.7;
/// Think times below this are "sent at once" (no timer ran): they start no back-off run.
const MIN_TIMER_NANOS: i64 = 20_000_000;
/// Think-time samples kept from the longest run, for the explanation.
const SAMPLE: usize = 12;

#[derive(Clone, Debug, Default)]
pub struct Turns {
    /// Time of the server's last payload segment, while the server holds the turn.
    last_server: Option<i64>,
    /// The client's current turn: when it began, the think time before it, its bytes so far.
    client_turn: Option<(i64, i64, u32)>,
    run: Run,
    pub summary: TurnSummary,
}

#[derive(Clone, Debug, Default)]
struct Run {
    /// Request size the run repeats, and its think times so far (the last three matter).
    bytes: u32,
    steps: u32,
    last: i64,
    last_increment: i64,
    sample: Vec<u32>,
}

/// What the client's turns showed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TurnSummary {
    /// Client turns that followed a server turn.
    pub client_turns: u32,
    /// Back-off runs of at least `MIN_REPORTED_STEPS` steps, and the steps in the longest.
    pub backoff_runs: u32,
    pub longest_backoff_steps: u32,
    /// Bytes of each request in the longest run (the same in every one of its requests).
    pub backoff_request_bytes: u32,
    /// The longest run's think times in milliseconds.
    pub backoff_think_ms: Vec<u32>,
    /// The first requests (client turns) of at least `LARGE_REQUEST_BYTES`: when each began
    /// (nanoseconds) and its bytes. A WebRTC offer or answer (an SDP of about a kilobyte) is one.
    #[serde(skip)]
    pub large_requests: Vec<(i64, u32)>,
}

/// A request at least this large can carry an SDP offer or answer (~1 KB with ICE candidates).
pub const LARGE_REQUEST_BYTES: u32 = 600;
const MAX_LARGE_REQUESTS: usize = 32;

/// Runs shorter than this are not counted in `backoff_runs` (two ×1.5 steps happen by chance).
pub const MIN_REPORTED_STEPS: u32 = 4;

fn is_step(ratio: f64) -> bool {
    STEP_RATIO.contains(&ratio)
}

impl Turns {
    /// A payload segment (new bytes only) at `ts` nanoseconds.
    pub fn add(&mut self, to_server: bool, ts: i64, len: usize) {
        if to_server {
            match &mut self.client_turn {
                Some((_, _, bytes)) => *bytes = bytes.saturating_add(len as u32),
                None => {
                    // A new client turn; its think time is known only if the server spoke before.
                    let think = self.last_server.map_or(-1, |t| ts.saturating_sub(t));
                    self.client_turn = Some((ts, think, len as u32));
                }
            }
            self.last_server = None;
        } else {
            if let Some((start, think, bytes)) = self.client_turn.take() {
                if bytes >= LARGE_REQUEST_BYTES && self.summary.large_requests.len() < MAX_LARGE_REQUESTS {
                    self.summary.large_requests.push((start, bytes));
                }
                if think >= 0 {
                    self.end_client_turn(think, bytes);
                }
            }
            self.last_server = Some(ts);
        }
    }

    fn end_client_turn(&mut self, think: i64, bytes: u32) {
        self.summary.client_turns = self.summary.client_turns.saturating_add(1);
        let run = &mut self.run;
        let continues = run.bytes == bytes && !run.sample.is_empty() && think >= MIN_TIMER_NANOS && {
            let ratio = think as f64 / run.last.max(1) as f64;
            let increment = think - run.last;
            let increment_ratio = increment as f64 / run.last_increment.max(1) as f64;
            is_step(ratio) || (run.last_increment >= MIN_TIMER_NANOS / 2 && is_step(increment_ratio))
        };
        if continues {
            run.steps += 1;
            run.last_increment = think - run.last;
        } else {
            self.close_run();
            let run = &mut self.run;
            run.bytes = bytes;
            run.steps = 0;
            run.last_increment = 0;
            run.sample.clear();
            if think < MIN_TIMER_NANOS {
                return;
            }
        }
        let run = &mut self.run;
        run.last = think;
        if run.sample.len() < SAMPLE {
            run.sample.push((think / 1_000_000).clamp(0, i64::from(u32::MAX)) as u32);
        }
        if run.steps > self.summary.longest_backoff_steps {
            self.summary.longest_backoff_steps = run.steps;
            self.summary.backoff_request_bytes = run.bytes;
            self.summary.backoff_think_ms = run.sample.clone();
        }
    }

    fn close_run(&mut self) {
        if self.run.steps >= MIN_REPORTED_STEPS {
            self.summary.backoff_runs += 1;
        }
    }

    /// The summary, counting a run still open at the end of the capture.
    pub fn summary(&self) -> TurnSummary {
        let mut s = self.summary.clone();
        if self.run.steps >= MIN_REPORTED_STEPS {
            s.backoff_runs += 1;
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    /// Polls of `bytes` after think times `thinks` (ms), each answered 20 ms later.
    fn polls(t: &mut Turns, now: &mut i64, bytes: usize, thinks: &[i64]) {
        for &think in thinks {
            *now += think * MS;
            t.add(true, *now, bytes);
            *now += 20 * MS;
            t.add(false, *now, 100);
        }
    }

    #[test]
    fn finds_a_one_and_a_half_back_off() {
        let mut t = Turns::default();
        let mut now = 0;
        t.add(false, now, 50);
        polls(&mut t, &mut now, 172, &[0, 0, 100, 150, 225, 337, 506, 759, 1139]);
        polls(&mut t, &mut now, 710, &[0]);
        polls(&mut t, &mut now, 172, &[0, 100, 150, 225, 337, 506]);
        let s = t.summary();
        assert_eq!(s.longest_backoff_steps, 6);
        assert_eq!(s.backoff_runs, 2);
        assert_eq!(s.backoff_request_bytes, 172);
        assert_eq!(s.backoff_think_ms, vec![100, 150, 225, 337, 506, 759, 1139]);
    }

    #[test]
    fn a_constant_offset_keeps_the_increments_geometric() {
        // Seen from far away: every think time carries an extra 80 ms round trip.
        let mut t = Turns::default();
        let mut now = 0;
        t.add(false, now, 50);
        polls(&mut t, &mut now, 172, &[180, 230, 305, 417, 586, 839]);
        assert_eq!(t.summary().longest_backoff_steps, 4);
    }

    #[test]
    fn long_polling_and_fixed_timers_are_not_back_off() {
        let mut t = Turns::default();
        let mut now = 0;
        t.add(false, now, 50);
        polls(&mut t, &mut now, 300, &[1, 2, 1, 3, 1, 2]); // re-request at once
        polls(&mut t, &mut now, 300, &[1000, 1000, 1000, 1000, 1000]); // fixed interval
        polls(&mut t, &mut now, 300, &[100, 200, 400, 800, 1600]); // doubling
        let s = t.summary();
        assert_eq!((s.longest_backoff_steps, s.backoff_runs), (0, 0));
    }

    #[test]
    fn requests_of_another_size_break_the_run() {
        let mut t = Turns::default();
        let mut now = 0;
        t.add(false, now, 50);
        for (i, think) in [100, 150, 225, 337, 506].into_iter().enumerate() {
            polls(&mut t, &mut now, 172 + i, &[think]);
        }
        assert_eq!(t.summary().longest_backoff_steps, 0);
    }
}
