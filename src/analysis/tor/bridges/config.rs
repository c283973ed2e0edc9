//! Tor Browser's built-in bridge configuration files → dated bridge lines. Three generations,
//! recognised by the file name `<commit date YYYY-MM-DD>_<commit id>_<file name>`:
//!
//! | file name | years | format |
//! |---|---|---|
//! | `bridge_prefs.js` | 2017–2022 | Firefox prefs `pref("extensions.torlauncher.default_bridge.<type>.<n>", "<bridge line>")`, some wrapped in `/**/` comments |
//! | `bridges_list.<type>.txt` | 2022–2023 | one bridge line per line |
//! | `pt_config.json` | 2023– | JSON: `bridges.<type>: [bridge lines]`, `pluggableTransports.<name>: "ClientTransportPlugin …"` |
//!
//! A bridge line is tor's `Bridge` syntax: `[TRANSPORT] ADDRESS:PORT [FINGERPRINT] [k=v …]`.
//! Errors read `file:line: reason` (line 0: the file as a whole, e.g. its name).
//! Shared with the build script (`relays/build.rs`), so it uses nothing else of the crate.

use std::fmt;
use std::net::SocketAddr;

/// Which file format a configuration came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generation {
    BridgePrefs,
    BridgesList,
    PtConfig,
}

/// One configuration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// File name as given.
    pub file: String,
    /// The commit date from the file name, `YYYY-MM-DD`.
    pub date: String,
    /// Days since 1970-01-01 of `date`.
    pub day: i64,
    /// The generation's file name (`bridge_prefs.js`, `bridges_list.obfs4.txt`, `pt_config.json`).
    pub kind: String,
    pub generation: Generation,
    pub bridges: Vec<BridgeLine>,
    pub plugins: Vec<PluginLine>,
}

impl Config {
    /// A file of a generation that holds every transport type (`bridge_prefs.js`,
    /// `pt_config.json`) and lists at least one bridge: a transport it leaves out is no longer
    /// built in. (The last `bridge_prefs.js`, of 2022-02-23, is an empty stub once the bridges
    /// moved to `bridges_list.*.txt`: it says nothing.)
    pub fn is_complete(&self) -> bool {
        matches!(self.generation, Generation::BridgePrefs | Generation::PtConfig) && !self.bridges.is_empty()
    }
}

/// One bridge line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgeLine {
    /// 1-based line in the file.
    pub line: usize,
    /// Lower case, as written (`obfs4`, `meek_lite`, …); `vanilla` when the line names none.
    pub transport: String,
    pub address: SocketAddr,
    /// 40 upper-case hex digits, when given.
    pub fingerprint: Option<String>,
    /// The `k=v` arguments, in order.
    pub args: Vec<(String, String)>,
}

impl BridgeLine {
    pub fn arg(&self, key: &str) -> Option<&str> {
        self.args.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// A `ClientTransportPlugin` line of `pt_config.json`'s `pluggableTransports`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginLine {
    pub line: usize,
    /// The JSON key (`lyrebird`, `snowflake`, `conjure`, …).
    pub name: String,
    /// The transports it serves (lower case).
    pub transports: Vec<String>,
    /// Command-line options after the executable (`-registerURL URL` → `("registerURL", URL)`;
    /// a flag without a value gets an empty one).
    pub options: Vec<(String, String)>,
}

impl PluginLine {
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }
}

/// `file:line: reason`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.reason)
    }
}

impl std::error::Error for ConfigError {}

/// The transport family a line's transport belongs to: `meek_lite` (obfs4proxy's/lyrebird's
/// meek client) is the same protocol on the wire as `meek`.
pub fn family(transport: &str) -> &str {
    if transport == "meek_lite" {
        "meek"
    } else {
        transport
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (Howard Hinnant's `days_from_civil`).
pub fn day_of(date: &str) -> Option<i64> {
    let b = date.as_bytes();
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = date.get(r)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + (153 * mp + 2) / 5 + d - 1;
    Some(era * 146_097 + doe - 719_468)
}

/// `YYYY-MM-DD` of a day number (Howard Hinnant's `civil_from_days`).
pub fn date_of(day: i64) -> String {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn err(file: &str, line: usize, reason: impl Into<String>) -> ConfigError {
    ConfigError { file: file.to_string(), line, reason: reason.into() }
}

/// Parses one configuration file; `file` is its name (`2023-01-16_f13e5d4b50_pt_config.json`).
pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    let bad_name = || {
        err(
            file,
            0,
            "file name is not `<YYYY-MM-DD>_<commit>_<bridge_prefs.js | bridges_list.<type>.txt | pt_config.json>`",
        )
    };
    let date = base.get(..10).ok_or_else(bad_name)?;
    let day = day_of(date).ok_or_else(bad_name)?;
    let rest = base.get(10..).and_then(|r| r.strip_prefix('_')).ok_or_else(bad_name)?;
    let (_commit, kind) = rest.split_once('_').ok_or_else(bad_name)?;
    let generation = if kind == "bridge_prefs.js" {
        Generation::BridgePrefs
    } else if kind == "pt_config.json" {
        Generation::PtConfig
    } else if kind.starts_with("bridges_list.") && kind.ends_with(".txt") {
        Generation::BridgesList
    } else {
        return Err(bad_name());
    };
    let mut config = Config {
        file: file.to_string(),
        date: date.to_string(),
        day,
        kind: kind.to_string(),
        generation,
        bridges: Vec::new(),
        plugins: Vec::new(),
    };
    match generation {
        Generation::BridgePrefs => parse_prefs(&mut config, text)?,
        Generation::BridgesList => parse_list(&mut config, text)?,
        Generation::PtConfig => parse_pt_config(&mut config, text)?,
    }
    Ok(config)
}

/// The double-quoted strings of a line (JavaScript/JSON escapes `\"` and `\\` undone).
fn quoted_strings(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        loop {
            match chars.next() {
                None => return out,
                Some('"') => break,
                Some('\\') => {
                    if let Some(e) = chars.next() {
                        s.push(e);
                    }
                }
                Some(c) => s.push(c),
            }
        }
        out.push(s);
    }
    out
}

const PREF_PREFIX: &str = "extensions.torlauncher.default_bridge.";

/// `pref("extensions.torlauncher.default_bridge.<type>.<n>", "<bridge line>");`, also when
/// obfuscated with comments between the tokens: the value is the quoted string after the key.
fn parse_prefs(config: &mut Config, text: &str) -> Result<(), ConfigError> {
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") || trimmed.starts_with('#') || !line.contains(PREF_PREFIX) {
            continue;
        }
        let strings = quoted_strings(line);
        let Some(at) = strings.iter().position(|s| s.starts_with(PREF_PREFIX)) else { continue };
        let value = strings
            .get(at + 1)
            .ok_or_else(|| err(&config.file, n, "default_bridge pref without a quoted bridge line after its name"))?;
        let bridge = parse_bridge_line(value).map_err(|r| err(&config.file, n, r))?;
        config.bridges.push(BridgeLine { line: n, ..bridge });
    }
    Ok(())
}

fn parse_list(config: &mut Config, text: &str) -> Result<(), ConfigError> {
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let bridge = parse_bridge_line(t).map_err(|r| err(&config.file, i + 1, r))?;
        config.bridges.push(BridgeLine { line: i + 1, ..bridge });
    }
    Ok(())
}

/// The line of the first occurrence of the JSON string `needle` in `text` (0 when it is written
/// with escapes serde_json would not use).
fn line_of(text: &str, needle: &str) -> usize {
    let encoded = serde_json::to_string(needle).unwrap_or_default();
    text.find(&encoded).and_then(|at| text.get(..at)).map_or(0, |t| t.matches('\n').count() + 1)
}

fn parse_pt_config(config: &mut Config, text: &str) -> Result<(), ConfigError> {
    let file = config.file.clone();
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| err(&file, e.line(), format!("not JSON: {e}")))?;
    let root = json.as_object().ok_or_else(|| err(&file, 1, "expected a JSON object"))?;
    if let Some(plugins) = root.get("pluggableTransports") {
        let plugins = plugins.as_object().ok_or_else(|| err(&file, 0, "pluggableTransports: expected an object"))?;
        for (name, value) in plugins {
            let Some(value) = value.as_str() else {
                return Err(err(
                    &file,
                    0,
                    format!("pluggableTransports.{name}: expected a ClientTransportPlugin line"),
                ));
            };
            let n = line_of(text, value);
            let plugin = parse_plugin_line(name, value).map_err(|r| err(&file, n, r))?;
            config.plugins.push(PluginLine { line: n, ..plugin });
        }
    }
    if let Some(bridges) = root.get("bridges") {
        let bridges = bridges.as_object().ok_or_else(|| err(&file, 0, "bridges: expected an object"))?;
        for (kind, lines) in bridges {
            let lines = lines
                .as_array()
                .ok_or_else(|| err(&file, 0, format!("bridges.{kind}: expected a list of bridge lines")))?;
            for value in lines {
                let Some(value) = value.as_str() else {
                    return Err(err(&file, 0, format!("bridges.{kind}: expected bridge lines (strings)")));
                };
                let n = line_of(text, value);
                let bridge = parse_bridge_line(value).map_err(|r| err(&file, n, r))?;
                config.bridges.push(BridgeLine { line: n, ..bridge });
            }
        }
    }
    Ok(())
}

fn is_fingerprint(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|c| c.is_ascii_hexdigit())
}

/// `[TRANSPORT] ADDRESS:PORT [FINGERPRINT] [k=v …]` (tor's `Bridge` option). `line` is 0.
pub fn parse_bridge_line(text: &str) -> Result<BridgeLine, String> {
    let mut tokens = text.split_whitespace().peekable();
    let first = tokens.next().ok_or("empty bridge line")?;
    let (transport, address) = match first.parse::<SocketAddr>() {
        Ok(address) => ("vanilla".to_string(), address),
        Err(_) => {
            if !first.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-') {
                return Err(format!("bridge line: `{first}` is neither a transport name nor ADDRESS:PORT"));
            }
            let addr = tokens.next().ok_or_else(|| format!("bridge line: `{first}` without ADDRESS:PORT"))?;
            let address = addr.parse::<SocketAddr>().map_err(|_| format!("bridge line: bad ADDRESS:PORT `{addr}`"))?;
            (first.to_ascii_lowercase(), address)
        }
    };
    let fingerprint = match tokens.peek() {
        Some(t) if is_fingerprint(t) => tokens.next().map(|t| t.to_ascii_uppercase()),
        _ => None,
    };
    let mut args = Vec::new();
    for t in tokens {
        let (k, v) = t.split_once('=').ok_or_else(|| format!("bridge line: `{t}` is not a fingerprint or k=v"))?;
        args.push((k.to_string(), v.to_string()));
    }
    Ok(BridgeLine { line: 0, transport, address, fingerprint, args })
}

/// `ClientTransportPlugin T1,T2 exec PATH [ARGS…]` (or `… socks5 HOST:PORT`). `line` is 0.
pub fn parse_plugin_line(name: &str, text: &str) -> Result<PluginLine, String> {
    let mut tokens = text.split_whitespace();
    if tokens.next() != Some("ClientTransportPlugin") {
        return Err(format!("pluggableTransports.{name}: not a ClientTransportPlugin line"));
    }
    let transports: Vec<String> = tokens
        .next()
        .ok_or_else(|| format!("pluggableTransports.{name}: no transports"))?
        .split(',')
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let mut options = Vec::new();
    if tokens.next() == Some("exec") {
        let _executable = tokens.next();
        let mut tokens = tokens.peekable();
        while let Some(t) = tokens.next() {
            let Some(opt) = t.strip_prefix('-') else { continue };
            let opt = opt.strip_prefix('-').unwrap_or(opt);
            match opt.split_once('=') {
                Some((k, v)) => options.push((k.to_string(), v.to_string())),
                None => {
                    let value = match tokens.peek() {
                        Some(v) if !v.starts_with('-') => tokens.next().unwrap_or_default(),
                        _ => "",
                    };
                    options.push((opt.to_string(), value.to_string()));
                }
            }
        }
    }
    Ok(PluginLine { line: 0, name: name.to_string(), transports, options })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_three_generations() {
        let prefs = "# x\npref(\"extensions.torlauncher.default_bridge_recommended_type\", \"obfs4\");\n\
            /**/pref/**/(/**/\"extensions.torlauncher.default_bridge.obfs4.3\"/**/, /**/\"obfs4 38.229.33.83:80 0BAC39417268B96B9F514E7F63FA6FBA1A788955 cert=Vw iat-mode=1\");\n\
            pref(\"extensions.torlauncher.default_bridge.obfs4.14\", \"obfs4 [2a0c:4d80:42:702::1]:27015 c5b7cd6946ff10c5b3e89691a7d3f2c122d2117c cert=TD\");\n";
        let c = parse("2022-02-22_7789cee3b6_bridge_prefs.js", prefs).unwrap();
        assert_eq!((c.date.as_str(), c.generation, c.bridges.len()), ("2022-02-22", Generation::BridgePrefs, 2));
        assert_eq!(c.bridges[0].line, 3);
        assert_eq!(c.bridges[0].address, "38.229.33.83:80".parse().unwrap());
        assert_eq!(c.bridges[0].arg("iat-mode"), Some("1"));
        assert_eq!(c.bridges[1].address, "[2a0c:4d80:42:702::1]:27015".parse().unwrap());
        assert_eq!(c.bridges[1].fingerprint.as_deref(), Some("C5B7CD6946FF10C5B3E89691A7D3F2C122D2117C"));
        assert!(c.is_complete());

        let list = parse("2022-02-23_f4ab400584_bridges_list.meek-azure.txt", "meek_lite 192.0.2.2:2 97700DFE9F483596DDA6264C4D7DF7641E1E39CE url=https://meek.azureedge.net/ front=ajax.aspnetcdn.com\n").unwrap();
        assert_eq!(list.kind, "bridges_list.meek-azure.txt");
        assert_eq!(list.bridges[0].arg("front"), Some("ajax.aspnetcdn.com"));
        assert!(!list.is_complete());

        let json = "{\n \"pluggableTransports\" : {\n  \"conjure\" : \"ClientTransportPlugin conjure exec ${pt_path}conjure-client -registerURL https://registration.refraction.network/api\"\n },\n \"bridges\" : {\n  \"obfs4\" : [\n   \"obfs4 1.2.3.4:443 CDF2E852BF539B82BD10E27E9115A31734E378C2 cert=x\"\n  ]\n }\n}\n";
        let c = parse("2023-01-31_c3c4bd9f10_pt_config.json", json).unwrap();
        assert_eq!(c.plugins[0].line, 3);
        assert_eq!(c.plugins[0].option("registerurl"), Some("https://registration.refraction.network/api"));
        assert_eq!(c.bridges[0].line, 7);
    }

    #[test]
    fn errors_name_file_and_line() {
        let e =
            parse("2022-04-27_ec1a6a8bf5_bridges_list.obfs4.txt", "obfs4 1.2.3.4:443\n\nobfs4 nowhere\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "2022-04-27_ec1a6a8bf5_bridges_list.obfs4.txt:3: bridge line: bad ADDRESS:PORT `nowhere`"
        );
        let e = parse("x_bridge_prefs.js", "").unwrap_err();
        assert_eq!(e.line, 0);
        let e = parse("2023-01-16_f13e5d4b50_pt_config.json", "{\n\"bridges\": {\"obfs4\": [\"obfs4 nowhere\"]}}")
            .unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse("2023-01-16_f13e5d4b50_pt_config.json", "{\n\"bridges\": ").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(day_of("2024-03-12"), Some(19_794));
        assert_eq!(date_of(19_794), "2024-03-12");
        assert_eq!(day_of("1970-01-01"), Some(0));
        assert_eq!(day_of("2024-13-01"), None);
    }
}
