//! `import torsift`: the analysis core of the CLI and the page, for Python (notebooks, Spark,
//! Dask). Results are the CLI's: `analyze_file(path)` returns the capture object that
//! `torsift analyze --format json path` prints under `captures`, and `flow_records` the flat
//! rows of `--format ndjson`. The GIL is released while bytes are parsed.

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use torsift::analysis::tor::relays::{list, RelayIndex};
use torsift::analysis::{Analyzer as Core, CaptureReport, Limits};

/// The relay index: built-in lists (unless `builtin_relays` is false) plus the files given.
fn relay_index(relays: Option<Vec<String>>, builtin_relays: bool) -> PyResult<Arc<RelayIndex>> {
    let mut index = if builtin_relays { RelayIndex::builtin() } else { RelayIndex::default() };
    let mut lists = Vec::new();
    for path in relays.unwrap_or_default() {
        let bytes = std::fs::read(&path).map_err(|e| PyOSError::new_err(format!("cannot read relay list {path}: {e}")))?;
        lists.push(list::parse(&path, &String::from_utf8_lossy(&bytes)).map_err(|e| PyValueError::new_err(e.to_string()))?);
    }
    index.add_lists(&lists).map_err(PyValueError::new_err)?;
    Ok(Arc::new(index))
}

/// `base` with the caller's table size, if given.
fn limits(mut limits: Limits, max_flows: Option<usize>) -> Limits {
    if let Some(n) = max_flows {
        limits.max_flows = n;
    }
    limits
}

/// A Rust value → the same Python objects `json.loads` makes of the CLI's output.
fn to_python<T: serde::Serialize>(py: Python<'_>, value: &T) -> PyResult<PyObject> {
    let text = serde_json::to_string(value).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}

/// Reads a file through the core (as the CLI does) with the GIL released.
fn analyze_path(py: Python<'_>, path: &str, limits: Limits, relays: Arc<RelayIndex>) -> CaptureReport {
    py.allow_threads(|| torsift::files::analyze_path(path, &limits, &relays))
}

/// A streaming analyzer: `push(bytes)` chunks of any size, then `finish()`.
#[pyclass]
struct Analyzer {
    core: Option<Core>,
}

#[pymethods]
impl Analyzer {
    #[new]
    #[pyo3(signature = (name = "capture".to_string(), relays = None, builtin_relays = true, max_flows = None))]
    fn new(name: String, relays: Option<Vec<String>>, builtin_relays: bool, max_flows: Option<usize>) -> PyResult<Self> {
        Ok(Analyzer { core: Some(Core::with_relays(name, limits(Limits::default(), max_flows), relay_index(relays, builtin_relays)?)) })
    }

    /// Feeds the next bytes of the capture. Raises ValueError when the capture is damaged
    /// there (the error names the byte offset); `finish()` still reports what was read.
    fn push(&mut self, py: Python<'_>, data: &Bound<'_, PyBytes>) -> PyResult<()> {
        let core = self.core.as_mut().ok_or_else(|| PyRuntimeError::new_err("finish() was already called"))?;
        let bytes = data.as_bytes();
        py.allow_threads(|| core.push(bytes)).map(|_| ()).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// The capture object of `torsift.report/1` (a dict), as the CLI's JSON has it.
    fn finish(&mut self, py: Python<'_>) -> PyResult<PyObject> {
        let core = self.core.take().ok_or_else(|| PyRuntimeError::new_err("finish() was already called"))?;
        let report = py.allow_threads(|| core.finish());
        to_python(py, &report)
    }
}

/// `torsift analyze --format json PATH`'s capture object, as a dict.
#[pyfunction]
#[pyo3(signature = (path, relays = None, builtin_relays = true, max_flows = None))]
fn analyze_file(
    py: Python<'_>,
    path: String,
    relays: Option<Vec<String>>,
    builtin_relays: bool,
    max_flows: Option<usize>,
) -> PyResult<PyObject> {
    let report = analyze_path(py, &path, limits(Limits::default(), max_flows), relay_index(relays, builtin_relays)?);
    to_python(py, &report)
}

/// The capture object for bytes held in memory (named `name` in the report).
#[pyfunction]
#[pyo3(signature = (data, name = "capture".to_string(), relays = None, builtin_relays = true, max_flows = None))]
fn analyze_bytes(
    py: Python<'_>,
    data: &Bound<'_, PyBytes>,
    name: String,
    relays: Option<Vec<String>>,
    builtin_relays: bool,
    max_flows: Option<usize>,
) -> PyResult<PyObject> {
    let index = relay_index(relays, builtin_relays)?;
    let bytes = data.as_bytes();
    let report = py.allow_threads(|| {
        let mut core = Core::with_relays(name, limits(Limits::default(), max_flows), index);
        let _ = core.push(bytes);
        core.finish()
    });
    to_python(py, &report)
}

/// An iterator of flat flow records (dicts: the `--format ndjson` flow lines without `type`
/// and `flow`), one per flow of the file: rows ready for a DataFrame or Arrow table. The file
/// is read as `--format ndjson` reads it, on a thread of its own while the rows are taken: a
/// flow evicted from the full table is a row as it leaves (its `flow` marked `evicted`), with
/// the table sized for memory (`Limits::streaming`) unless `max_flows` is given, so memory holds
/// the table and a few rows, not the file's flows.
#[pyfunction]
#[pyo3(signature = (path, relays = None, builtin_relays = true, max_flows = None))]
fn flow_records(
    path: String,
    relays: Option<Vec<String>>,
    builtin_relays: bool,
    max_flows: Option<usize>,
) -> PyResult<FlowRecords> {
    let relays = relay_index(relays, builtin_relays)?;
    let limits = limits(Limits::streaming(), max_flows);
    // The reader opens the file on its own thread: the path is made absolute now, so a later
    // change of the working directory does not change which file is read (`-` is stdin).
    let opened = match std::path::absolute(&path) {
        Ok(absolute) if path != "-" => absolute.to_string_lossy().into_owned(),
        _ => path.clone(),
    };
    // Rows as JSON text, a bounded queue ahead of the reader. A dropped iterator stops the reader
    // at its next step (and closes the file): the rest of the file is not read for nobody.
    let (rows, received) = std::sync::mpsc::sync_channel::<String>(1024);
    let dropped = Arc::new(AtomicBool::new(false));
    let iterator_gone = dropped.clone();
    std::thread::spawn(move || {
        let mut send = |flow: torsift::analysis::report::FlowReport| {
            if let Ok(row) = serde_json::to_string(&torsift::records::FlowRecord::new(&path, &flow)) {
                if rows.send(row).is_err() {
                    iterator_gone.store(true, Ordering::Relaxed);
                }
            }
        };
        let keep_reading = || !iterator_gone.load(Ordering::Relaxed);
        let read = torsift::files::read_path_streaming(&opened, &limits, &relays, &mut send, &keep_reading);
        if keep_reading() {
            read.finish_with_flows(&mut send);
        }
    });
    Ok(FlowRecords { received: std::sync::Mutex::new(received), dropped })
}

/// What `flow_records` returns: the rows as the reader makes them.
#[pyclass]
struct FlowRecords {
    received: std::sync::Mutex<std::sync::mpsc::Receiver<String>>,
    /// Set when the iterator goes: its reader stops.
    dropped: Arc<AtomicBool>,
}

impl Drop for FlowRecords {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::Relaxed);
    }
}

#[pymethods]
impl FlowRecords {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<PyObject>> {
        let row = py.allow_threads(|| self.received.lock().ok().and_then(|r| r.recv().ok()));
        match row {
            Some(text) => Ok(Some(py.import("json")?.call_method1("loads", (text,))?.unbind())),
            None => Ok(None),
        }
    }
}

/// The flat record's columns and their Arrow types, in order (`pyarrow.schema(...)` takes
/// them as they are: `pa.schema([(n, getattr(pa, t)()) for n, t in FLOW_RECORD_FIELDS])`,
/// with `list_string` meaning `pa.list_(pa.string())` and `bool` `pa.bool_()`).
const FLOW_RECORD_FIELDS: [(&str, &str); 22] = [
    ("capture", "string"),
    ("proto", "string"),
    ("client_ip", "string"),
    ("client_port", "int32"),
    ("server_ip", "string"),
    ("server_port", "int32"),
    ("community_id", "string"),
    ("first_seen", "string"),
    ("last_seen", "string"),
    ("packets", "int64"),
    ("bytes", "int64"),
    ("client_bytes", "int64"),
    ("server_bytes", "int64"),
    ("verdict", "string"),
    ("confidence", "string"),
    ("transport", "string"),
    ("evidence_kinds", "list_string"),
    ("relay_nickname", "string"),
    ("relay_fingerprint", "string"),
    ("sni", "string"),
    ("ja4", "string"),
    ("evicted", "bool"),
];

#[pymodule]
#[pyo3(name = "torsift")]
fn torsift_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("SCHEMA", torsift::analysis::report::SCHEMA)?;
    m.add_class::<Analyzer>()?;
    m.add_class::<FlowRecords>()?;
    m.add_function(wrap_pyfunction!(analyze_file, m)?)?;
    m.add_function(wrap_pyfunction!(analyze_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(flow_records, m)?)?;
    m.add("FLOW_RECORD_FIELDS", FLOW_RECORD_FIELDS.to_vec())?;
    Ok(())
}
