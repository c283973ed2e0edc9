//! Fatal capture errors. Anything that stops reading a file is a [`CaptureError`]; anything that
//! only spoils one frame is an anomaly, counted in the report while reading goes on.

use serde::Serialize;
use std::fmt;

/// Reading stopped at `offset` (bytes into the capture as stored, or into the decompressed
/// stream for `.gz` files, as `in_decompressed` says). Everything before it was analysed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CaptureError {
    pub message: String,
    pub offset: u64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub in_decompressed: bool,
}

impl CaptureError {
    pub fn new(offset: u64, message: impl Into<String>) -> Self {
        CaptureError { message: message.into(), offset, in_decompressed: false }
    }
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stream = if self.in_decompressed { " of the decompressed stream" } else { "" };
        write!(f, "at byte {}{stream}: {}", self.offset, self.message)
    }
}

impl std::error::Error for CaptureError {}
