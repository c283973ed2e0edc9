//! Flights: the payload a TCP flow carries in one direction before the other direction speaks.
//! Request/response protocols, handshakes and length-padding schemes show in the sequence of
//! flight lengths even when every byte is encrypted. Mechanism only: the lengths, in order,
//! bounded; what they mean is for the policy stages.

/// Flights kept per flow: enough for a handshake and the exchanges right after it.
pub const MAX_FLIGHTS: usize = 16;

/// One flight: its direction and its payload bytes (new bytes only, retransmissions excluded).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Flight {
    pub to_server: bool,
    pub bytes: u32,
}

#[derive(Clone, Debug, Default)]
pub struct Flights {
    flights: Vec<Flight>,
    /// Flights after the first `MAX_FLIGHTS` (counted, not kept).
    pub dropped: u32,
    current_to_server: Option<bool>,
}

impl Flights {
    /// New payload bytes in one direction.
    pub fn add(&mut self, to_server: bool, bytes: usize) {
        let bytes = u32::try_from(bytes).unwrap_or(u32::MAX);
        let continues = self.current_to_server == Some(to_server);
        self.current_to_server = Some(to_server);
        if self.dropped > 0 || (!continues && self.full()) {
            // Past the bound: count new flights only.
            if !continues {
                self.dropped = self.dropped.saturating_add(1);
            }
            return;
        }
        match self.flights.last_mut() {
            Some(last) if continues => last.bytes = last.bytes.saturating_add(bytes),
            _ => self.flights.push(Flight { to_server, bytes }),
        }
    }

    pub fn as_slice(&self) -> &[Flight] {
        &self.flights
    }

    /// All flights that will ever be kept are in (the last one may still grow).
    pub fn full(&self) -> bool {
        self.flights.len() >= MAX_FLIGHTS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flights_merge_by_direction_and_stay_bounded() {
        let mut f = Flights::default();
        f.add(true, 100);
        f.add(true, 41);
        f.add(false, 7000);
        f.add(true, 5);
        assert_eq!(
            f.as_slice(),
            &[
                Flight { to_server: true, bytes: 141 },
                Flight { to_server: false, bytes: 7000 },
                Flight { to_server: true, bytes: 5 }
            ]
        );
        for i in 0..200 {
            f.add(i % 2 == 0, 1);
        }
        assert_eq!(f.as_slice().len(), MAX_FLIGHTS);
        // 3 flights, then 199 more (the first 1-byte add continues the last one).
        assert_eq!(f.dropped, 202 - MAX_FLIGHTS as u32);
    }
}
