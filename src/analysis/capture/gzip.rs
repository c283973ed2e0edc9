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
    consumed: u64,
}

impl Default for GzipStream {
    fn default() -> Self {
        Self::new()
    }
}

impl GzipStream {
    pub fn new() -> Self {
        GzipStream { decoder: MultiGzDecoder::new(Vec::new()), consumed: 0 }
    }

    /// Inflates `chunk`, handing decompressed bytes to `sink` a step at a time.
    pub fn push(
        &mut self,
        chunk: &[u8],
        sink: &mut dyn FnMut(&[u8]) -> Result<(), CaptureError>,
    ) -> Result<(), CaptureError> {
        for step in chunk.chunks(STEP) {
            self.decoder.write_all(step).map_err(|e| self.error(e))?;
            self.consumed += step.len() as u64;
            let out = std::mem::take(self.decoder.get_mut());
            sink(&out)?;
            // Hand the allocation back so steady-state inflating does not reallocate.
            let mut out = out;
            out.clear();
            *self.decoder.get_mut() = out;
        }
        Ok(())
    }

    /// Flushes the end of the stream; an error means the compressed data was cut short.
    pub fn finish(&mut self, sink: &mut dyn FnMut(&[u8]) -> Result<(), CaptureError>) -> Result<(), CaptureError> {
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

    fn error(&self, e: std::io::Error) -> CaptureError {
        CaptureError::new(
            self.consumed,
            format!("the gzip data is corrupt ({e}); every packet before this point was analysed"),
        )
    }
}
