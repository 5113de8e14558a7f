//! Server-sent events split out of a byte stream as they arrive, without
//! waiting for the stream to end.

/// One event: its `event:` name (if any) and its `data:` lines joined by `\n`.
#[derive(Debug, PartialEq)]
pub struct Event {
    pub name: Option<String>,
    pub data: String,
}

#[derive(Default)]
pub struct SseSplitter {
    buf: Vec<u8>,
}

impl SseSplitter {
    /// Appends bytes and returns every event completed by them.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Event> {
        self.buf.extend_from_slice(bytes);
        let mut events = Vec::new();
        let mut start = 0;
        while let Some((end, next)) = event_end(&self.buf[start..]) {
            if let Some(ev) = parse_event(&self.buf[start..start + end]) {
                events.push(ev);
            }
            start += next;
        }
        self.buf.drain(..start);
        events
    }

    /// Bytes held back because their event is not complete yet.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

/// Finds the blank line that ends the first event: (end of event, start of next).
fn event_end(buf: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while i < buf.len() {
        if buf[i] == b'\n' || buf[i] == b'\r' {
            let first = if buf[i] == b'\r' && buf.get(i + 1) == Some(&b'\n') {
                i + 2
            } else {
                i + 1
            };
            match buf.get(first) {
                Some(b'\n') => return Some((i, first + 1)),
                Some(b'\r') => {
                    let second = if buf.get(first + 1) == Some(&b'\n') {
                        first + 2
                    } else {
                        first + 1
                    };
                    return Some((i, second));
                }
                _ => i = first,
            }
        } else {
            i += 1;
        }
    }
    None
}

fn parse_event(block: &[u8]) -> Option<Event> {
    let text = String::from_utf8_lossy(block);
    let mut name = None;
    let mut data: Option<String> = None;
    for line in text.lines() {
        if line.starts_with(':') {
            continue; // comment, e.g. a keep-alive
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => name = Some(value.to_string()),
            "data" => match &mut data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => data = Some(value.to_string()),
            },
            _ => {}
        }
    }
    data.map(|data| Event { name, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_across_chunks_and_line_endings() {
        let mut s = SseSplitter::default();
        assert!(s.push(b"data: {\"a\"").is_empty());
        let evs = s.push(b":1}\n\n: keep-alive\n\nevent: x\r\ndata: 2\r\ndata: 3\r\n\r\ndata: [DO");
        assert_eq!(
            evs,
            vec![
                Event {
                    name: None,
                    data: "{\"a\":1}".into()
                },
                Event {
                    name: Some("x".into()),
                    data: "2\n3".into()
                },
            ]
        );
        assert_eq!(
            s.push(b"NE]\n\n"),
            vec![Event {
                name: None,
                data: "[DONE]".into()
            }]
        );
        assert_eq!(s.pending(), 0);
    }
}
