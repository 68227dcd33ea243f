//! Chrome trace-event JSON, the "JSON object" form: `{"traceEvents": [...],
//! "otherData": {...}}` with one complete event (`"ph": "X"`) per span and
//! one metadata event (`"ph": "M"`) naming each thread. Times are in
//! microseconds with nanosecond decimals. Events are written as they come
//! (a thread's buffer at a time), so a long run's trace is never held
//! whole.

use std::fmt::Write as _;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use super::Event;
use crate::cleanup::AtomicFile;

/// The run's settings, written into the file's `otherData` for the model
/// (`threads`, `batch_bases`, `layout`, ...), in the order added.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    entries: Vec<(String, Value)>,
}

#[derive(Debug, Clone)]
enum Value {
    Num(u64),
    Text(String),
}

impl Meta {
    /// Adds a number.
    pub fn num(&mut self, key: &str, value: u64) -> &mut Self {
        self.entries.push((key.to_string(), Value::Num(value)));
        self
    }

    /// Adds a string.
    pub fn text(&mut self, key: &str, value: &str) -> &mut Self {
        self.entries
            .push((key.to_string(), Value::Text(value.to_string())));
        self
    }
}

/// The trace file being written. The first write error is kept and
/// reported by [`Writer::finish`]; later writes are skipped.
pub(super) struct Writer {
    out: BufWriter<AtomicFile>,
    /// Whether an event has been written (a comma goes before the next).
    any: bool,
    error: Option<io::Error>,
    line: String,
}

impl Writer {
    pub(super) fn create(path: &Path) -> io::Result<Writer> {
        let file = AtomicFile::create(path)?;
        let mut w = Writer {
            out: BufWriter::with_capacity(1 << 16, file),
            any: false,
            error: None,
            line: String::with_capacity(256),
        };
        w.put("{\"traceEvents\":[\n");
        w.line.clear();
        w.line
            .push_str("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,");
        w.line.push_str("\"args\":{\"name\":\"ferrous\"}}");
        w.event_line();
        Ok(w)
    }

    /// Writes `s` unless an earlier write failed.
    fn put(&mut self, s: &str) {
        if self.error.is_none() {
            if let Err(e) = self.out.write_all(s.as_bytes()) {
                self.error = Some(e);
            }
        }
    }

    /// Writes the event in `self.line`, after a comma if not the first.
    fn event_line(&mut self) {
        let line = std::mem::take(&mut self.line);
        if self.any {
            self.put(",\n");
        }
        self.put(&line);
        self.any = true;
        self.line = line;
    }

    /// The metadata event that names thread `tid`.
    pub(super) fn thread_name(&mut self, tid: u32, name: &str) {
        self.line.clear();
        let _ = write!(
            self.line,
            "{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{tid},\"args\":{{\"name\":"
        );
        push_json_string(&mut self.line, name);
        self.line.push_str("}}");
        self.event_line();
    }

    /// Complete events for spans of thread `tid`.
    pub(super) fn events(&mut self, tid: u32, events: &[Event]) {
        for e in events {
            self.line.clear();
            let l = &mut self.line;
            let _ = write!(
                l,
                "{{\"name\":\"{}\",\"cat\":\"{}\",\"ph\":\"X\",\"pid\":1,\"tid\":{tid},\"ts\":",
                e.kind.name(),
                e.kind.category()
            );
            push_micros(l, e.start);
            l.push_str(",\"dur\":");
            push_micros(l, e.dur);
            let _ = write!(
                l,
                ",\"args\":{{\"first_read\":{},\"task\":{},\"cpu_us\":",
                e.first_read, e.task
            );
            push_micros(l, e.cpu);
            if e.format > 0 {
                l.push_str(",\"format_us\":");
                push_micros(l, e.format);
            }
            for (name, value) in e.args.iter().flatten() {
                let _ = write!(l, ",\"{name}\":{value}");
            }
            l.push_str("}}");
            self.event_line();
        }
    }

    /// Closes the event list, writes `meta` and renames the file into
    /// place.
    pub(super) fn finish(mut self, meta: &Meta) -> io::Result<()> {
        let mut tail = String::from("\n],\"displayTimeUnit\":\"ms\",\"otherData\":{");
        for (k, (key, value)) in meta.entries.iter().enumerate() {
            if k > 0 {
                tail.push(',');
            }
            push_json_string(&mut tail, key);
            tail.push(':');
            match value {
                Value::Num(n) => {
                    let _ = write!(tail, "{n}");
                }
                Value::Text(t) => push_json_string(&mut tail, t),
            }
        }
        tail.push_str("}}\n");
        self.put(&tail);
        if let Some(e) = self.error {
            return Err(e);
        }
        let file = self
            .out
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        file.commit()
    }
}

/// Appends `ns` nanoseconds as microseconds with three decimals.
fn push_micros(out: &mut String, ns: u64) {
    let _ = write!(out, "{}.{:03}", ns / 1000, ns % 1000);
}

/// Appends `s` as a JSON string literal.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_times_are_valid_json_text() {
        let mut s = String::new();
        push_json_string(&mut s, "a\"b\\c\nd\u{1}é");
        assert_eq!(s, "\"a\\\"b\\\\c\\nd\\u0001é\"");
        s.clear();
        push_micros(&mut s, 1_234_567);
        push_micros(&mut s, 5);
        assert_eq!(s, "1234.5670.005");
    }
}
