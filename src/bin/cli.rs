//! `torsift`: the command-line face of the analysis core, for batch work and pipelines.

use std::io::Write;
use std::process::ExitCode;
use std::sync::{Arc, Condvar, Mutex};
use torsift::analysis::report::FlowReport;
use torsift::analysis::tor::history::{lookup, RelayHistory};
use torsift::analysis::tor::relays::{list, RelayIndex};
use torsift::analysis::{CaptureReport, Limits, Report};
use torsift::json_report::RenderedFlows;
use torsift::output;
use torsift::synth::{generate, SynthFormat, SynthSpec};

const USAGE: &str = "\
torsift — did anything in these captures use Tor?

USAGE:
    torsift analyze [--format json|ndjson|csv|text] [--relays LIST]... [--no-builtin-relays] [--max-flows N] FILE...
    torsift info FILE...
    torsift relays [--relays LIST]... [--export FILE]
    torsift lookup [--date YYYY-MM-DD] [--format text|json] ADDRESS[:PORT]...
    torsift history [--export DIR]
    torsift generate [--format pcap|pcapng] [--packets N] [--flows N] [--payload BYTES] [--seed N] OUT

FILE may be pcap or pcapng, optionally gzip-compressed; `-` reads standard input. Several files
are analysed in parallel (one per core); output keeps their order. `ndjson` streams one JSON
object per line: a header, each capture's flows (a flat record with the full flow under
`flow`), then the capture.
LIST is a relay list of the capture's time: a network-status consensus (ns or microdesc),
Onionoo details JSON, a TorDNSEL exit list or a plain IP list; it is used with the built-in lists.
`lookup` answers from the built-in relay history (was ADDRESS, or ADDRESS:ORPORT, a Tor relay
on that day?): listed, not listed, or no data for that day. IPv6 with a port: [2001:db8::1]:443.
`history` prints the history's sources and coverage; --export writes the page's year files.

EXIT STATUS:
    0  every file was read completely
    1  a file could not be read or was cut short (its report entry says where)
    2  usage error";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("torsift: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    let Some((command, rest)) = args.split_first() else {
        return Err("no command given".into());
    };
    match command.as_str() {
        "analyze" => analyze(rest, None),
        "info" => analyze(rest, Some("text-info")),
        "relays" => relays_cmd(rest),
        "lookup" => lookup_cmd(rest),
        "history" => history_cmd(rest),
        "generate" => generate_cmd(rest),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        "-V" | "--version" => {
            println!("torsift {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        other => Err(format!("unknown command `{other}`")),
    }
}

/// Pulls the value of `--flag VALUE` (or `--flag=VALUE`) at position `i`.
fn flag_value<'a>(args: &'a [String], i: &mut usize, name: &str) -> Result<&'a str, String> {
    let arg = args.get(*i).map(String::as_str).unwrap_or_default();
    if let Some(v) = arg.strip_prefix(&format!("{name}=")) {
        return Ok(v);
    }
    *i += 1;
    args.get(*i).map(String::as_str).ok_or_else(|| format!("{name} needs a value"))
}

fn number(v: &str, name: &str) -> Result<u64, String> {
    v.parse().map_err(|_| format!("{name} wants a whole number, got `{v}`"))
}

fn analyze(args: &[String], forced: Option<&str>) -> Result<ExitCode, String> {
    let mut format = forced.unwrap_or("json").to_string();
    let mut max_flows = None;
    let mut files = Vec::new();
    let mut lists = Vec::new();
    let mut builtin = true;
    let mut i = 0;
    while i < args.len() {
        let arg = args.get(i).map(String::as_str).unwrap_or_default();
        match arg {
            a if a == "--format" || a.starts_with("--format=") => {
                format = flag_value(args, &mut i, "--format")?.to_string();
                if !["json", "ndjson", "csv", "text"].contains(&format.as_str()) {
                    return Err(format!("--format must be json, ndjson, csv or text, not `{format}`"));
                }
            }
            a if a == "--max-flows" || a.starts_with("--max-flows=") => {
                max_flows = Some(number(flag_value(args, &mut i, "--max-flows")?, "--max-flows")? as usize);
            }
            a if a == "--relays" || a.starts_with("--relays=") => {
                lists.push(load_list(flag_value(args, &mut i, "--relays")?)?);
            }
            "--no-builtin-relays" => builtin = false,
            "--" => {
                files.extend(args.iter().skip(i + 1).cloned());
                break;
            }
            a if a.starts_with("--") => return Err(format!("unknown option `{a}`")),
            a => files.push(a.to_string()),
        }
        i += 1;
    }
    if files.is_empty() {
        return Err("no capture files given".into());
    }
    // ndjson reports a flow evicted from a full table rather than dropping it, so its bounds
    // are sized for memory (`--max-flows` still sets the table).
    let mut limits = if format == "ndjson" { Limits::streaming() } else { Limits::default() };
    if let Some(n) = max_flows {
        limits.max_flows = n;
    }
    let mut index = if builtin { RelayIndex::builtin() } else { RelayIndex::default() };
    index.add_lists(&lists)?;
    let index = Arc::new(index);
    let mut failed = Vec::new();
    let written = if format == "ndjson" {
        // Written from the thread whose file's turn it is: the unlocked handle, buffered.
        let mut out = std::io::BufWriter::new(std::io::stdout());
        torsift::records::write_header(&Report::new(Vec::new(), &index), &mut out)
            .and_then(|()| stream_ndjson(&files, &limits, &index, &mut out, &mut failed))
            .and_then(|()| out.flush())
    } else if format == "json" {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        let mut captures = Vec::with_capacity(files.len());
        let mut rendered = Vec::with_capacity(files.len());
        in_file_order(
            &files,
            |file| analyze_rendering_flows(file, &limits, &index),
            |(capture, flows)| {
                if let Some(e) = &capture.error {
                    failed.push(format!("{}: {e}", capture.file));
                }
                captures.push(capture);
                rendered.push(flows);
            },
        );
        let report = Report::new(captures, &index);
        rendered
            .into_iter()
            .collect::<std::io::Result<Vec<_>>>()
            .and_then(|flows| torsift::json_report::write_pretty(&report, flows, &mut out))
            .and_then(|()| out.flush())
    } else {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        let mut captures = Vec::with_capacity(files.len());
        in_file_order(
            &files,
            |file| torsift::files::analyze_path(file, &limits, &index),
            |capture| {
                if let Some(e) = &capture.error {
                    failed.push(format!("{}: {e}", capture.file));
                }
                captures.push(capture);
            },
        );
        let report = Report::new(captures, &index);
        match format.as_str() {
            "csv" => output::write_csv(&report, &mut out),
            "text-info" => output::write_text(&report, &mut out, 0),
            _ => output::write_text(&report, &mut out, 20),
        }
        .and_then(|()| out.flush())
    };
    if let Err(e) = written {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("torsift: cannot write the report: {e}");
            return Ok(ExitCode::from(1));
        }
    }
    for message in &failed {
        eprintln!("torsift: {message}");
    }
    Ok(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// `--format ndjson`: the files are read on every core (one file per thread at a time) and
/// written in the order they were given, a flow line at a time: a flow evicted from the full
/// flow table as it leaves it (the file whose turn has not come yet keeps those lines in a
/// temporary file until it does), the others when the file ends. Memory holds the flow tables
/// of the files being read, never a report.
fn stream_ndjson(
    files: &[String],
    limits: &Limits,
    relays: &Arc<RelayIndex>,
    out: &mut (dyn Write + Send),
    failed: &mut Vec<String>,
) -> std::io::Result<()> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(files.len()).max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let turn = Turn::default();
    let output = Mutex::new(Output { out, result: Ok(()), failed });
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (next, turn, output) = (&next, &turn, &output);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(file) = files.get(i) else { break };
                let lines = FlowLines { i, file, turn, output, spill: None, count: 0, spill_error: None };
                // Once the output has failed (a closed pipe: `| head`), the files are read no further.
                let output_ok = || output.lock().unwrap_or_else(|e| e.into_inner()).result.is_ok();
                let (capture, mut lines) = with_flow_writer(lines, FlowLines::write, |emit| {
                    let read = torsift::files::read_path_streaming(file, limits, relays, emit, &output_ok);
                    // The rest are written straight to the output: it is this file's turn.
                    turn.wait_for(i);
                    read.finish_with_flows(emit)
                });
                lines.write_spilled();
                let mut guard = output.lock().unwrap_or_else(|e| e.into_inner());
                let o = &mut *guard;
                if let Some(e) = lines.spill_error.take() {
                    if o.result.is_ok() {
                        o.result = Err(e);
                    }
                }
                if let Some(e) = &capture.error {
                    o.failed.push(format!("{}: {e}", capture.file));
                }
                if o.result.is_ok() {
                    o.result = torsift::records::write_capture_line(&capture, lines.count, &mut *o.out);
                }
                drop(guard);
                turn.pass();
            });
        }
    });
    output.into_inner().unwrap_or_else(|e| e.into_inner()).result
}

/// Whose turn it is to write: the index of the file being written.
#[derive(Default)]
struct Turn {
    current: Mutex<usize>,
    passed: Condvar,
}

impl Turn {
    fn is(&self, i: usize) -> bool {
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) == i
    }

    fn wait_for(&self, i: usize) {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        while *current != i {
            current = self.passed.wait(current).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn pass(&self) {
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.passed.notify_all();
    }
}

/// The shared output: the writer, what writing has come to, and the files that failed.
struct Output<'a> {
    out: &'a mut (dyn Write + Send),
    result: std::io::Result<()>,
    failed: &'a mut Vec<String>,
}

/// One file's flow lines: straight to the output once it is this file's turn, into a
/// temporary file before (copied out, then deleted, when the turn comes).
struct FlowLines<'a, 'o> {
    i: usize,
    file: &'a str,
    turn: &'a Turn,
    output: &'a Mutex<Output<'o>>,
    spill: Option<Spill>,
    count: usize,
    spill_error: Option<std::io::Error>,
}

impl FlowLines<'_, '_> {
    fn write(&mut self, flow: &FlowReport) {
        self.count += 1;
        if self.spill_error.is_some() {
            return;
        }
        if self.turn.is(self.i) {
            self.write_spilled();
            let mut guard = self.output.lock().unwrap_or_else(|e| e.into_inner());
            let o = &mut *guard;
            if o.result.is_ok() {
                o.result = torsift::records::write_flow(self.file, flow, &mut *o.out);
            }
            return;
        }
        if let Err(e) = self.spill_line(flow) {
            self.spill_error = Some(std::io::Error::new(e.kind(), format!("temporary file for {}: {e}", self.file)));
        }
    }

    /// Writes a line into the temporary file, made on the first one.
    fn spill_line(&mut self, flow: &FlowReport) -> std::io::Result<()> {
        let spill = match self.spill.take() {
            Some(spill) => spill,
            None => Spill::create("ndjson")?,
        };
        torsift::records::write_flow(self.file, flow, &mut self.spill.insert(spill).writer)
    }

    /// Copies the lines kept before this file's turn to the output (call it in the turn).
    fn write_spilled(&mut self) {
        let Some(spill) = self.spill.take() else { return };
        if self.spill_error.is_some() {
            return; // a cut line must not reach the output; the error will
        }
        let mut guard = self.output.lock().unwrap_or_else(|e| e.into_inner());
        let o = &mut *guard;
        if o.result.is_ok() {
            o.result = spill.copy_to(&mut *o.out);
        }
    }
}

/// A temporary file of flow lines, deleted when dropped.
struct Spill {
    path: std::path::PathBuf,
    writer: std::io::BufWriter<std::fs::File>,
}

impl Spill {
    /// A new file in the temporary directory: a name no file has (one left by a killed run, or
    /// another user's, is passed over).
    fn create(what: &str) -> std::io::Result<Spill> {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let i = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut attempt = 0u32;
        loop {
            let name = format!("torsift-{}-{i}-{attempt}.{what}", std::process::id());
            let path = std::env::temp_dir().join(name);
            match std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&path) {
                Ok(file) => return Ok(Spill { path, writer: std::io::BufWriter::new(file) }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 1000 => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }

    fn copy_to(self, out: &mut dyn Write) -> std::io::Result<()> {
        std::io::copy(&mut self.into_reader()?, out).map(|_| ())
    }

    /// The file from its start, deleted when the reader is dropped.
    fn into_reader(mut self) -> std::io::Result<SpillReader> {
        use std::io::Seek;
        self.writer.flush()?;
        self.writer.get_mut().rewind()?;
        Ok(SpillReader(self))
    }
}

struct SpillReader(Spill);

impl std::io::Read for SpillReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        std::io::Read::read(self.0.writer.get_mut(), buf)
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Runs `job` on each file on every core (one file per thread at a time) and hands the results
/// to `emit` in the order the files were given.
fn in_file_order<T: Send>(files: &[String], job: impl Fn(&str) -> T + Sync, mut emit: impl FnMut(T)) {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(files.len()).max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (done, results) = std::sync::mpsc::channel::<(usize, T)>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (done, next, job) = (done.clone(), &next, &job);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(file) = files.get(i) else { break };
                if done.send((i, job(file))).is_err() {
                    break;
                }
            });
        }
        drop(done);
        let mut waiting = std::collections::BTreeMap::new();
        let mut want = 0;
        for (i, result) in results {
            waiting.insert(i, result);
            while let Some(result) = waiting.remove(&want) {
                emit(result);
                want += 1;
            }
        }
    });
}

/// Flows handed from the thread that makes them to the one that writes them.
const FLOW_BATCH: usize = 256;

/// Runs `make` on this thread and hands each flow it emits, in order, to `take` on a second
/// thread: making a flow's report (its verdict) and writing it (serialising) are the two halves
/// of a capture's last step, and on two cores they overlap. Returns `make`'s result and the
/// consumer. Written batches come back to be freed by the thread that allocated them, which
/// keeps the allocator's per-thread pools apart (measured: two threads contending for one pool
/// took back most of the overlap).
fn with_flow_writer<C: Send, R>(
    consumer: C,
    take: impl Fn(&mut C, &FlowReport) + Send,
    make: impl FnOnce(&mut dyn FnMut(FlowReport)) -> R,
) -> (R, C) {
    let (batches, to_take) = std::sync::mpsc::sync_channel::<Vec<FlowReport>>(4);
    let (spent, to_drop) = std::sync::mpsc::channel::<Vec<FlowReport>>();
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || {
            let mut consumer = consumer;
            for batch in to_take {
                for flow in &batch {
                    take(&mut consumer, flow);
                }
                let _ = spent.send(batch);
            }
            consumer
        });
        let mut batch = Vec::with_capacity(FLOW_BATCH);
        let made = make(&mut |flow| {
            batch.push(flow);
            if batch.len() == FLOW_BATCH {
                let _ = batches.send(std::mem::replace(&mut batch, Vec::with_capacity(FLOW_BATCH)));
                to_drop.try_iter().for_each(drop);
            }
        });
        let _ = batches.send(batch);
        drop(batches);
        let consumer = match writer.join() {
            Ok(consumer) => consumer,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        to_drop.try_iter().for_each(drop);
        (made, consumer)
    })
}

/// One file for `--format json`: its report without flows, and its flows already rendered as
/// the report's JSON, into a temporary file (memory if none can be made) so that memory holds
/// the flow table and never the report.
fn analyze_rendering_flows(
    file: &str,
    limits: &Limits,
    relays: &Arc<RelayIndex>,
) -> (CaptureReport, std::io::Result<RenderedFlows<'static>>) {
    let sink = Spill::create("json").map_or(FlowSink::Memory(Vec::new()), FlowSink::File);
    let elements = (torsift::json_report::FlowElements::new(sink), Ok(()));
    let (capture, (elements, result)) = with_flow_writer(
        elements,
        |(elements, result): &mut (_, std::io::Result<()>), flow| {
            if result.is_ok() {
                *result = elements.push(flow);
            }
        },
        |emit| torsift::files::read_path(file, limits, relays).finish_with_flows(emit),
    );
    let (sink, count) = elements.finish();
    let rendered = result.and_then(|()| sink.into_reader()).map(|elements| RenderedFlows { count, elements });
    (capture, rendered)
}

/// Where rendered flows wait for their place in the report.
enum FlowSink {
    File(Spill),
    Memory(Vec<u8>),
}

impl FlowSink {
    /// What was written, from its start.
    fn into_reader(self) -> std::io::Result<Box<dyn std::io::Read + Send>> {
        Ok(match self {
            FlowSink::File(spill) => Box::new(spill.into_reader()?),
            FlowSink::Memory(bytes) => Box::new(std::io::Cursor::new(bytes)),
        })
    }
}

impl Write for FlowSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            FlowSink::File(spill) => spill.writer.write(buf),
            FlowSink::Memory(bytes) => bytes.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            FlowSink::File(spill) => spill.writer.flush(),
            FlowSink::Memory(_) => Ok(()),
        }
    }
}

fn generate_cmd(args: &[String]) -> Result<ExitCode, String> {
    let mut spec = SynthSpec { format: SynthFormat::Pcap, packets: 10_000, flows: 100, payload: 512, seed: 1 };
    let mut out_path = None;
    let mut i = 0;
    while i < args.len() {
        let arg = args.get(i).map(String::as_str).unwrap_or_default();
        let name = arg.split('=').next().unwrap_or_default();
        match name {
            "--format" => {
                spec.format = match flag_value(args, &mut i, name)? {
                    "pcap" => SynthFormat::Pcap,
                    "pcapng" => SynthFormat::Pcapng,
                    other => return Err(format!("--format must be pcap or pcapng, not `{other}`")),
                }
            }
            "--packets" => spec.packets = number(flag_value(args, &mut i, name)?, name)?,
            "--flows" => spec.flows = number(flag_value(args, &mut i, name)?, name)?,
            "--payload" => spec.payload = number(flag_value(args, &mut i, name)?, name)?.min(65_000) as usize,
            "--seed" => spec.seed = number(flag_value(args, &mut i, name)?, name)?,
            a if a.starts_with("--") => return Err(format!("unknown option `{a}`")),
            _ => out_path = Some(arg.to_string()),
        }
        i += 1;
    }
    let out_path = out_path.ok_or("generate needs an output file")?;
    let file = std::fs::File::create(&out_path).map_err(|e| format!("cannot create {out_path}: {e}"))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let truth = generate(&spec, &mut w)
        .and_then(|t| w.flush().map(|()| t))
        .map_err(|e| format!("writing {out_path} failed: {e}"))?;
    eprintln!("{out_path}: {} packets, {} flows, {} bytes on the wire", truth.packets, truth.flows, truth.bytes);
    Ok(ExitCode::SUCCESS)
}

/// Reads and parses one relay list; a bad line is a usage error naming `file:line`.
fn load_list(path: &str) -> Result<list::RelayList, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read relay list {path}: {e}"))?;
    list::parse(path, &String::from_utf8_lossy(&bytes)).map_err(|e| e.to_string())
}

/// Lists the relay lists in use (built-in and given), or exports the built-in index blob
/// (the page loads it as a file, keeping the app's wasm small).
fn relays_cmd(args: &[String]) -> Result<ExitCode, String> {
    let mut lists = Vec::new();
    let mut export = None;
    let mut i = 0;
    while i < args.len() {
        let arg = args.get(i).map(String::as_str).unwrap_or_default();
        match arg.split('=').next().unwrap_or_default() {
            "--relays" => lists.push(load_list(flag_value(args, &mut i, "--relays")?)?),
            "--export" => export = Some(flag_value(args, &mut i, "--export")?.to_string()),
            other => return Err(format!("unknown argument `{other}`")),
        }
        i += 1;
    }
    if let Some(path) = export {
        std::fs::write(&path, RelayIndex::builtin_blob()).map_err(|e| format!("cannot write {path}: {e}"))?;
        eprintln!("{path}: {} bytes", RelayIndex::builtin_blob().len());
        return Ok(ExitCode::SUCCESS);
    }
    let mut index = RelayIndex::builtin();
    index.add_lists(&lists)?;
    if index.is_empty() {
        println!("No relay list: this build has no built-in list (run relays/fetch, then rebuild) and none was given.");
    }
    println!("{:<10} {:<21} {:<22} {:>7}  source", "origin", "kind", "date", "relays");
    for s in index.snapshots() {
        println!(
            "{:<10} {:<21} {:<22} {:>7}  {}",
            if s.builtin { "built-in" } else { "loaded" },
            s.kind,
            s.date.as_deref().unwrap_or("undated"),
            s.relays,
            s.source
        );
    }
    println!("built-in index: {} bytes", RelayIndex::builtin_size());
    Ok(ExitCode::SUCCESS)
}

/// `torsift lookup`: one answer per address from the built-in relay history.
fn lookup_cmd(args: &[String]) -> Result<ExitCode, String> {
    let mut day = None;
    let mut json = false;
    let mut endpoints = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = args.get(i).map(String::as_str).unwrap_or_default();
        match arg.split('=').next().unwrap_or_default() {
            "--date" => day = Some(lookup::parse_date(flag_value(args, &mut i, "--date")?)?),
            "--format" => {
                json = match flag_value(args, &mut i, "--format")? {
                    "json" => true,
                    "text" => false,
                    other => return Err(format!("--format must be text or json, not `{other}`")),
                }
            }
            a if a.starts_with("--") => return Err(format!("unknown option `{a}`")),
            _ => endpoints.push(arg.to_string()),
        }
        i += 1;
    }
    if endpoints.is_empty() {
        return Err("lookup needs at least one ADDRESS or ADDRESS:PORT".into());
    }
    let history = RelayHistory::builtin();
    if history.is_empty() {
        eprintln!(
            "torsift: this build has no relay history (run relays/fetch, then rebuild): every answer is `no data`"
        );
    }
    let lookups = endpoints.iter().map(|e| lookup::lookup(&history, e, day)).collect::<Result<Vec<_>, _>>()?;
    if json {
        #[derive(serde::Serialize)]
        struct Lookups {
            lookups: Vec<lookup::Lookup>,
        }
        println!("{}", serde_json::to_string_pretty(&Lookups { lookups }).map_err(|e| e.to_string())?);
    } else {
        for l in &lookups {
            println!("{}", l.answer);
            for p in &l.intervals {
                println!(
                    "    {} … {}  {}",
                    torsift::analysis::tor::history::tsv::format_day(p.first_day),
                    torsift::analysis::tor::history::tsv::format_day(p.last_day),
                    p.source
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `bytes` as the smallest gzip file zopfli finds (any gzip reader, the browser's included,
/// reads it; see `Cargo.toml`).
fn gzip_smallest(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    zopfli::compress(zopfli::Options::default(), zopfli::Format::Gzip, bytes, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// `torsift history`: sources and coverage of the built-in relay history; `--export DIR` writes
/// one gzip file per year (`history-YYYY.idx.gz`) and `history.json` naming them, for the page.
fn history_cmd(args: &[String]) -> Result<ExitCode, String> {
    let mut export = None;
    let mut i = 0;
    while i < args.len() {
        let arg = args.get(i).map(String::as_str).unwrap_or_default();
        match arg.split('=').next().unwrap_or_default() {
            "--export" => export = Some(flag_value(args, &mut i, "--export")?.to_string()),
            other => return Err(format!("unknown argument `{other}`")),
        }
        i += 1;
    }
    let history = RelayHistory::builtin();
    let coverage = history.coverage();
    if let Some(dir) = export {
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {dir}: {e}"))?;
        let mut years = Vec::new();
        // zopfli takes seconds a year where zlib takes milliseconds: the years are packed side
        // by side.
        let shards = RelayHistory::builtin_shards();
        let packed: Vec<Result<Vec<u8>, String>> = std::thread::scope(|scope| {
            let jobs: Vec<_> = shards.iter().map(|(_, bytes)| scope.spawn(move || gzip_smallest(bytes))).collect();
            jobs.into_iter().map(|job| job.join().unwrap_or_else(|_| Err("the compressor stopped".into()))).collect()
        });
        for ((year, bytes), packed) in shards.iter().zip(packed) {
            let name = format!("history-{year}.idx.gz");
            let packed = packed.map_err(|e| format!("cannot compress {name}: {e}"))?;
            let path = format!("{dir}/{name}");
            std::fs::write(&path, &packed).map_err(|e| format!("cannot write {path}: {e}"))?;
            years.push(
                serde_json::json!({ "year": year, "file": name, "bytes": packed.len(), "raw_bytes": bytes.len() }),
            );
        }
        let manifest = serde_json::json!({
            "schema": "torsift.history/1",
            "sources": history.source_names(),
            "coverage": coverage,
            "years": years,
        });
        let path = format!("{dir}/history.json");
        std::fs::write(&path, serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?)
            .map_err(|e| format!("cannot write {path}: {e}"))?;
        eprintln!("{dir}: {} year files and history.json", years.len());
        return Ok(ExitCode::SUCCESS);
    }
    if history.is_empty() {
        println!("No relay history in this build (run relays/fetch, then rebuild).");
        return Ok(ExitCode::SUCCESS);
    }
    let day = |d: Option<i64>| d.map_or("-".to_string(), torsift::analysis::tor::history::tsv::format_day);
    println!(
        "relay history: {} to {}, {} days with a snapshot of every relay",
        day(coverage.first_day),
        day(coverage.last_day),
        coverage.days_with_data
    );
    println!("years: {:?}", history.years());
    println!("sources: {}", history.source_names().join(", "));
    Ok(ExitCode::SUCCESS)
}
