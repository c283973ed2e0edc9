//! Flights: the payload a TCP flow carries in one direction before the other direction speaks.
//! A handshake shows in its opening flights even when every byte is encrypted: the client's
//! first flight and the server's answer. Mechanism only: the lengths, in order, bounded.

/// Flights kept per flow: the opening exchange (what `tor/transport.rs` reads).
pub const MAX_FLIGHTS: usize = 2;

/// One flight: its direction and its payload bytes (new bytes only, retransmissions excluded).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Flight {
    pub to_server: bool,
    pub bytes: u32,
}

#[derive(Clone, Debug, Default)]
pub struct Flights {
    flights: Vec<Flight>,
    current_to_server: Option<bool>,
    /// A flight beyond the bound began: the kept ones are final.
    closed: bool,
}

impl Flights {
    /// New payload bytes in one direction.
    pub fn add(&mut self, to_server: bool, bytes: usize) {
        let bytes = u32::try_from(bytes).unwrap_or(u32::MAX);
        let continues = self.current_to_server == Some(to_server);
        self.current_to_server = Some(to_server);
        if self.closed {
            return;
        }
        let full = self.flights.len() >= MAX_FLIGHTS;
        match self.flights.last_mut() {
            Some(last) if continues => last.bytes = last.bytes.saturating_add(bytes),
            _ if full => self.closed = true,
            _ => self.flights.push(Flight { to_server, bytes }),
        }
    }

    pub fn as_slice(&self) -> &[Flight] {
        &self.flights
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
        f.add(false, 192);
        f.add(true, 5);
        f.add(false, 9);
        f.add(false, 1);
        assert_eq!(f.as_slice(), &[Flight { to_server: true, bytes: 141 }, Flight { to_server: false, bytes: 7192 }]);
    }
}
