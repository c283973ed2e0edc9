//! Transparent gzip: `.pcap.gz` / `.pcapng.gz` are inflated as they stream in (pure-Rust
//! miniz_oxide through flate2, so it works in wasm too). Multi-member files are read whole, as
//! `gzip -d` does.

use crate::analysis::error::CaptureError;
use flate2::write::MultiGzDecoder;
use std::io::Write;

/// Compressed bytes handed to the inflater at once. Deflate expands at most ~1032:1, so one
/// step yields at most ~16 MiB of output before it is framed and dropped: memory stays bounded
/// even for a gzip bomb.
const STEP: usize = 16 * 1024;

pub fn is_gzip(prefix: &[u8]) -> bool {
    prefix.starts_with(&[0x1f, 0x8b])
}

pub struct GzipStream {
    decoder: MultiGzDecoder<Vec<u8>>,
    /// Compressed bytes waiting for a whole step: the inflater is handed the same steps however
    /// the input was chunked, so where it fails (and what it said before) is the same too.
    step: Vec<u8>,
    /// Compressed bytes handed to the inflater so far.
    consumed: u64,
}

impl Default for GzipStream {
    fn default() -> Self {
        Self::new()
    }
}

impl GzipStream {
    pub fn new() -> Self {
        GzipStream { decoder: MultiGzDecoder::new(Vec::new()), step: Vec::with_capacity(STEP), consumed: 0 }
    }

    /// Inflates `chunk`, handing decompressed bytes to `sink` a step at a time. Errors of the
    /// compressed data carry its offset in the file; the sink's errors are its own.
    pub fn push(
        &mut self,
        mut chunk: &[u8],
        sink: &mut dyn FnMut(&[u8]) -> Result<(), CaptureError>,
    ) -> Result<(), CaptureError> {
        while !chunk.is_empty() {
            let (now, rest) = chunk.split_at((STEP - self.step.len()).min(chunk.len()));
            chunk = rest;
            if self.step.is_empty() && now.len() == STEP {
                self.inflate(now, sink)?;
            } else {
                self.step.extend_from_slice(now);
                if self.step.len() == STEP {
                    let step = std::mem::take(&mut self.step);
                    let result = self.inflate(&step, sink);
                    self.step = step;
                    self.step.clear();
                    result?;
                }
            }
        }
        Ok(())
    }

    fn inflate(
        &mut self,
        step: &[u8],
        sink: &mut dyn FnMut(&[u8]) -> Result<(), CaptureError>,
    ) -> Result<(), CaptureError> {
        self.decoder.write_all(step).map_err(|e| self.error(e))?;
        self.consumed += step.len() as u64;
        let out = std::mem::take(self.decoder.get_mut());
        sink(&out)?;
        // Hand the allocation back so steady-state inflating does not reallocate.
        let mut out = out;
        out.clear();
        *self.decoder.get_mut() = out;
        Ok(())
    }

    /// Flushes the end of the stream; an error means the compressed data was cut short.
    pub fn finish(&mut self, sink: &mut dyn FnMut(&[u8]) -> Result<(), CaptureError>) -> Result<(), CaptureError> {
        let last = std::mem::take(&mut self.step);
        if !last.is_empty() {
            self.inflate(&last, sink)?;
        }
        let result = self.decoder.try_finish();
        let out = std::mem::take(self.decoder.get_mut());
        sink(&out)?;
        result.map_err(|_| {
            CaptureError::new(
                self.consumed,
                "the gzip stream ends before its end marker: the compressed file was cut short; \
                 every packet before the cut was analysed",
            )
        })
    }

    /// The inflater rejected the step starting at `consumed`: the offset names that step of the
    /// compressed file (the inflater does not say which byte within it).
    fn error(&self, e: std::io::Error) -> CaptureError {
        CaptureError::new(
            self.consumed,
            format!(
                "the gzip data is corrupt ({e}) in the {STEP} compressed bytes from this offset; every packet \
                 before it was analysed"
            ),
        )
    }
}
