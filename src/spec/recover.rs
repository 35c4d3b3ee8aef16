//! Reading on past a type error, so that one run reports every value of a
//! file that has the wrong kind (`shards: three`, `storage: 10Gi`, an
//! unknown field...), not only the first.
//!
//! The parser stops at the first error. When the text is well-formed YAML,
//! the offending node is blanked out in a copy of the text (replaced by
//! spaces, keeping every byte offset, line and column of the rest) and the
//! copy is parsed again: a blanked value reads as null, a blanked entry as
//! absent. Syntax errors end the search: past one, positions mean nothing.

/// Why the parser stopped at a place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// A mapping key the type does not take (unknown or repeated): the whole
    /// entry goes.
    Key,
    /// A value of the wrong kind: the value goes.
    Value,
}

/// Blanks the node that starts at byte `offset` of `text`; false when there
/// is nothing there to blank (the search then stops).
pub fn blank_node(text: &mut String, offset: usize, at: At) -> bool {
    let bytes = text.as_bytes();
    if offset >= bytes.len() || matches!(bytes[offset], b'\n' | b'\r' | b' ') {
        return false;
    }
    // A wrong value is sometimes reported at its key: blank what follows it.
    if at == At::Value {
        if let Some(colon) = key_colon(bytes, offset) {
            let value = colon
                + 1
                + bytes[colon + 1..]
                    .iter()
                    .take_while(|&&b| b == b' ')
                    .count();
            if value < bytes.len() && !matches!(bytes[value], b'\n' | b'\r' | b'#') {
                return blank_node(text, value, At::Value);
            }
            let end = block_end(bytes, offset, offset - line_start(bytes, offset));
            let line_end = line_end(bytes, offset);
            return end > line_end && replace(text, line_end, end, false);
        }
    }
    let line_start = line_start(bytes, offset);
    let first_on_line = bytes[line_start..offset].iter().all(|&b| b == b' ');
    let before = bytes[line_start..offset]
        .iter()
        .rev()
        .find(|&&b| b != b' ')
        .copied();
    let in_flow = matches!(before, Some(b'{' | b'[' | b','));
    // A wrong item of a flow sequence (`[{name: x}]` where names go): the
    // item goes with its comma, so the list reads as if it were not there
    // (a null item would be wrong again, at the same place).
    if at == At::Value && matches!(before, Some(b'[' | b',')) {
        let end = match bytes[offset] {
            b'{' | b'[' => flow_end(bytes, offset),
            b'"' | b'\'' => quoted_end(bytes, offset),
            _ => plain_end(bytes, offset, true),
        };
        if end <= offset {
            return false;
        }
        let after = end + bytes[end..].iter().take_while(|&&b| b == b' ').count();
        return if bytes.get(after) == Some(&b',') {
            replace(text, offset, after + 1, false)
        } else if before == Some(b',') {
            let comma = bytes[..offset]
                .iter()
                .rposition(|&b| b == b',')
                .unwrap_or(offset);
            replace(text, comma, end, false)
        } else {
            replace(text, offset, end, false)
        };
    }
    let end = match (at, bytes[offset]) {
        (_, b'{' | b'[') => flow_end(bytes, offset),
        (At::Key, _) if in_flow => entry_end_in_flow(bytes, offset),
        (At::Key, _) | (At::Value, _) if first_on_line => {
            block_end(bytes, offset, offset - line_start)
        }
        (At::Key, _) => return false,
        (At::Value, b'"' | b'\'') => quoted_end(bytes, offset),
        (At::Value, b'|' | b'>') => {
            let indent = bytes[line_start..]
                .iter()
                .take_while(|&&b| b == b' ')
                .count();
            block_end(bytes, offset, indent + 1)
        }
        (At::Value, _) => plain_end(bytes, offset, in_flow || flow_depth(bytes, offset) > 0),
    };
    end > offset && replace(text, offset, end, at == At::Value)
}

/// Replaces `start..end` with spaces (line breaks kept), with `~` (null) at
/// `start` when `null`.
fn replace(text: &mut String, start: usize, end: usize, null: bool) -> bool {
    // Only ASCII delimiters end a range, so whole characters are replaced.
    let mut blanked: Vec<u8> = text.as_bytes().to_vec();
    for b in &mut blanked[start..end] {
        if *b != b'\n' && *b != b'\r' {
            *b = b' ';
        }
    }
    if null {
        blanked[start] = b'~';
    }
    match String::from_utf8(blanked) {
        Ok(t) => {
            *text = t;
            true
        }
        Err(_) => false,
    }
}

/// The `:` ending a plain mapping key that starts at `offset`, if that is
/// what is there.
fn key_colon(bytes: &[u8], offset: usize) -> Option<usize> {
    let mut i = offset;
    while i < bytes.len() {
        match bytes[i] {
            b':' if matches!(bytes.get(i + 1), None | Some(b' ' | b'\n' | b'\r')) => {
                return Some(i);
            }
            b'\n' | b'\r' | b',' | b'{' | b'}' | b'[' | b']' | b'#' | b'"' | b'\'' => {
                return None;
            }
            _ => i += 1,
        }
    }
    None
}

/// Unclosed `{`/`[` before `offset` (quotes are not tracked: a rough guess
/// that only decides where a plain scalar ends).
fn flow_depth(bytes: &[u8], offset: usize) -> i32 {
    bytes[line_start(bytes, offset)..offset]
        .iter()
        .fold(0, |d, b| match b {
            b'{' | b'[' => d + 1,
            b'}' | b']' => d - 1,
            _ => d,
        })
}

/// The first of `stops` from `from` on that is outside quoted scalars and
/// nested collections.
fn scan_flow(bytes: &[u8], from: usize, stops: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            // A quote that opens no scalar (`it's`) must not stop the scan.
            b'"' | b'\'' => {
                i = quoted_end(bytes, i).max(i + 1);
                continue;
            }
            b if depth == 0 && stops.contains(&b) => return Some(i),
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The end of the balanced flow collection opening at `offset`.
fn flow_end(bytes: &[u8], offset: usize) -> usize {
    scan_flow(bytes, offset + 1, b"}]").map_or(offset, |i| i + 1)
}

/// The end of a quoted scalar opening at `offset` (past its closing quote).
fn quoted_end(bytes: &[u8], offset: usize) -> usize {
    let q = bytes[offset];
    let mut i = offset + 1;
    while i < bytes.len() {
        if q == b'"' && bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == q {
            if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    offset
}

/// The end of a plain scalar: the line's end, a comment, or in a flow
/// collection the next separator.
fn plain_end(bytes: &[u8], offset: usize, in_flow: bool) -> usize {
    let mut i = offset;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' | b'\r' => break,
            b',' | b'}' | b']' if in_flow => break,
            b'#' if i > 0 && bytes[i - 1] == b' ' => break,
            _ => i += 1,
        }
    }
    while i > offset && bytes[i - 1] == b' ' {
        i -= 1;
    }
    i
}

/// The end of an entry `key: value` in a flow mapping, with its comma.
fn entry_end_in_flow(bytes: &[u8], offset: usize) -> usize {
    match scan_flow(bytes, offset, b",}]") {
        Some(i) if bytes[i] == b',' => i + 1,
        Some(i) => i,
        None => offset,
    }
}

/// Where the line holding `offset` starts.
fn line_start(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

/// Where the line holding `offset` ends (its `\n`, or the end of the text).
fn line_end(bytes: &[u8], offset: usize) -> usize {
    bytes[offset..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| offset + p)
}

/// The end of a block node starting at `offset` in column `col`: its line,
/// and every following line that is blank or indented deeper (or, for a
/// sequence, a further `- ` item at the same column).
fn block_end(bytes: &[u8], offset: usize, col: usize) -> usize {
    let is_seq = bytes[offset] == b'-';
    let mut end = line_end(bytes, offset);
    while end < bytes.len() {
        let next = end + 1;
        let next_end = line_end(bytes, next);
        let line = &bytes[next..next_end];
        let indent = line.iter().take_while(|&&b| b == b' ').count();
        let blank = line.iter().all(|b| b.is_ascii_whitespace());
        let deeper = indent > col || (is_seq && indent == col && line[indent..].starts_with(b"- "));
        if blank || deeper {
            end = next_end;
        } else {
            break;
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blanked(text: &str, at_text: &str, at: At) -> String {
        let mut t = text.to_owned();
        let offset = text.find(at_text).unwrap();
        assert!(blank_node(&mut t, offset, at), "nothing blanked");
        assert_eq!(t.len(), text.len());
        t
    }

    proptest::proptest! {
        /// Any text, any place, either reason: no panic, and the text keeps
        /// its length and its line breaks.
        #[test]
        fn blanking_never_panics_and_keeps_positions(
            text in "[a-z:{}\\[\\], \"'#|>~\n-]{0,80}",
            at in 0usize..90,
            key in proptest::bool::ANY,
        ) {
            let mut t = text.clone();
            let _ = blank_node(&mut t, at, if key { At::Key } else { At::Value });
            proptest::prop_assert_eq!(t.len(), text.len());
            proptest::prop_assert_eq!(t.matches('\n').count(), text.matches('\n').count());
        }
    }

    #[test]
    fn values_and_entries_are_blanked_keeping_every_position() {
        // (text, where the error is, why, the text blanked)
        for (text, at_text, at, expected) in [
            ("a: three\nb: 1\n", "three", At::Value, "a: ~    \nb: 1\n"),
            (
                "r: {limits: {memory: x}, y: 2}\n",
                "x}",
                At::Value,
                "r: {limits: {memory: ~}, y: 2}\n",
            ),
            (
                "a: \"x\\\"y\" # c\nb: 1\n",
                "\"x",
                At::Value,
                "a: ~      # c\nb: 1\n",
            ),
            (
                "s:\n  - a\n  - b\nt: 1\n",
                "- a",
                At::Value,
                "s:\n  ~  \n     \nt: 1\n",
            ),
            (
                "spec:\n  shard: 3\n  x:\n    y: 1\n  z: 2\n",
                "x:",
                At::Key,
                "spec:\n  shard: 3\n    \n        \n  z: 2\n",
            ),
            (
                "r: {memory: 1Gi, cpu: [1]}\n",
                "cpu",
                At::Value,
                "r: {memory: 1Gi, cpu: ~  }\n",
            ),
            ("t:\n  k: v\nu: 1\n", "t:", At::Value, "t:\n      \nu: 1\n"),
            ("t: {k: it's}\n", "{k", At::Value, "t: ~        \n"),
            (
                "m: {a: 1, bad: [1, 2], c: 3}\n",
                "bad",
                At::Key,
                "m: {a: 1,              c: 3}\n",
            ),
            // Wrong items of a flow sequence go with their comma.
            ("l: [{name: m}]\n", "{name", At::Value, "l: [         ]\n"),
            (
                "l: [a, {b: 1}, c]\n",
                "{b",
                At::Value,
                "l: [a,         c]\n",
            ),
            ("l: [a, {b: 1}]\n", "{b", At::Value, "l: [a        ]\n"),
        ] {
            assert_eq!(
                blanked(text, at_text, at),
                expected,
                "{text:?} at {at_text:?}"
            );
        }
    }
}
