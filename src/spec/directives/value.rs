//! The values a redis.conf directive accepts, as the server reads them from
//! its config file.
//!
//! The tables (`redis-7.0.types`, `redis-8.0.types`, `valkey-9.1.types`) are derived from the
//! engines' `src/config.c` by `scripts/config-table`; the rules below follow
//! the parsers there (`yesnotoi`, `string2ll`, `memtoull`, the enum tables and
//! the special setters for `save`, `client-output-buffer-limit`, ...). Where
//! the server accepts nonsense (a unit without digits, a size that overflows
//! and wraps), the check is stricter than the server; it never accepts what
//! the server refuses. `tests/it/directives.rs` proves both on the real
//! binaries.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::spec::model::Engine;

const REDIS_7_0: &str = include_str!("redis-7.0.types");
const REDIS_8_0: &str = include_str!("redis-8.0.types");
const VALKEY_9_1: &str = include_str!("valkey-9.1.types");

/// What a directive's value may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `yes` or `no`.
    Bool,
    /// A number between `min` and `max` (inclusive), written as `unit` says.
    Number { unit: Unit, min: i128, max: i128 },
    /// One of `values`; with `several`, one or more of them.
    Enum {
        values: Vec<&'static str>,
        several: bool,
    },
    /// Any single argument (quoted in redis.conf when it needs to be).
    Text,
    /// A form of its own, checked by name (`save`, ...).
    Special,
}

/// How a number is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A plain integer.
    Int,
    /// Bytes, optionally with a unit: b, k, kb, m, mb, g, gb.
    Memory,
    /// A memory value, or a percentage (`50%`) up to `-min`.
    MemoryOrPercent,
    /// A memory value, or a plain (possibly negative) integer.
    MemoryOrInt,
    /// Octal digits (`unixsocketperm`).
    Octal,
}

/// The value kinds `engine` at `version` knows: Redis 7.x from 7.0's
/// table, Redis 8.x from 8.0's, every Valkey from 9.1's.
pub fn table(engine: Engine, version: (u32, u32)) -> &'static BTreeMap<&'static str, Kind> {
    static REDIS_7: OnceLock<BTreeMap<&'static str, Kind>> = OnceLock::new();
    static REDIS_8: OnceLock<BTreeMap<&'static str, Kind>> = OnceLock::new();
    static VALKEY: OnceLock<BTreeMap<&'static str, Kind>> = OnceLock::new();
    match engine {
        Engine::Redis if version.0 >= 8 => REDIS_8.get_or_init(|| parse(REDIS_8_0)),
        Engine::Redis => REDIS_7.get_or_init(|| parse(REDIS_7_0)),
        Engine::Valkey => VALKEY.get_or_init(|| parse(VALKEY_9_1)),
    }
}

/// The directive names of a table (every line's first word).
pub fn table_names(engine: Engine, version: (u32, u32)) -> impl Iterator<Item = &'static str> {
    table(engine, version).keys().copied()
}

fn parse(text: &'static str) -> BTreeMap<&'static str, Kind> {
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let line = line.split_once(" #").map_or(line, |(row, _)| row);
        let mut words = line.split(' ');
        let (Some(name), Some(kind)) = (words.next(), words.next()) else {
            panic!("bad line in a directive table: {line:?}")
        };
        let rest: Vec<&'static str> = words.collect();
        let number = |unit| {
            let bound = |i: usize| -> i128 {
                rest.get(i)
                    .and_then(|w| w.parse().ok())
                    .unwrap_or_else(|| panic!("bad bounds in a directive table: {line:?}"))
            };
            Kind::Number {
                unit,
                min: bound(0),
                max: bound(1),
            }
        };
        let kind = match kind {
            "bool" => Kind::Bool,
            "text" => Kind::Text,
            "special" => Kind::Special,
            "int" => number(Unit::Int),
            "memory" => number(Unit::Memory),
            "memory-percent" => number(Unit::MemoryOrPercent),
            "memory-or-int" => number(Unit::MemoryOrInt),
            "octal" => number(Unit::Octal),
            "enum" | "flags" => Kind::Enum {
                values: rest,
                several: kind == "flags",
            },
            other => panic!("unknown kind {other:?} in a directive table"),
        };
        out.insert(name, kind);
    }
    out
}

/// Why `value` is not a valid value of directive `name`: what is allowed.
/// `None` when the server would accept it (or the table does not know
/// `name`, e.g. a directive newer than the table).
pub fn refuse(engine: Engine, version: (u32, u32), name: &str, value: &str) -> Option<String> {
    let kind = table(engine, version).get(name)?;
    match kind {
        Kind::Bool => (!matches!(value.to_ascii_lowercase().as_str(), "yes" | "no"))
            .then(|| "expected yes or no".to_owned()),
        Kind::Number { unit, min, max } => number(*unit, *min, *max, value).err(),
        Kind::Enum { values, several } => {
            let is = |w: &str| values.iter().any(|v| v.eq_ignore_ascii_case(w));
            let words: Vec<&str> = value.split_ascii_whitespace().collect();
            let ok = if *several {
                !words.is_empty() && words.iter().all(|w| is(w))
            } else {
                words.len() == 1 && is(value)
            };
            if !ok {
                let mut why = format!(
                    "expected {}{}",
                    if *several {
                        "one or more of "
                    } else {
                        "one of "
                    },
                    values.join(", ")
                );
                if let Some(best) = crate::diag::did_you_mean(value, values.iter().copied()) {
                    why.push_str(&format!("; did you mean '{best}'?"));
                }
                return Some(why);
            }
            let has = |w: &str| words.iter().any(|x| x.eq_ignore_ascii_case(w));
            (name.starts_with("shutdown-on-sig") && has("save") && has("nosave"))
                .then(|| "save and nosave cannot be used together".to_owned())
        }
        Kind::Text => None,
        Kind::Special => special(name, value),
    }
}

/// The value as it is written after the directive's name in redis.conf:
/// a text that is empty or holds spaces, quotes or backslashes is quoted the
/// way the server's argument splitter (`sdssplitargs`) reads it back.
pub fn conf_value(engine: Engine, version: (u32, u32), name: &str, value: &str) -> String {
    let single = matches!(table(engine, version).get(name), Some(Kind::Text) | None);
    let plain = !value.is_empty()
        && !value
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '\\'));
    if value.is_empty() || (single && !plain) {
        let mut out = String::from("\"");
        for c in value.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    } else {
        value.to_owned()
    }
}

/// `string2ll`: an optional minus, no plus, no leading zeros, fits i64.
fn integer(s: &str) -> Option<i128> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let canonical = digits == "0" && s == "0"
        || (digits.bytes().all(|b| b.is_ascii_digit())
            && digits.starts_with(|c: char| ('1'..='9').contains(&c)));
    if !canonical {
        return None;
    }
    let n: i128 = s.parse().ok()?;
    (i128::from(i64::MIN)..=i128::from(i64::MAX))
        .contains(&n)
        .then_some(n)
}

/// `memtoull`: digits and an optional unit, no sign; stricter than the
/// server in refusing a unit without digits and sizes beyond 2^64 - 1.
fn memory(s: &str) -> Option<i128> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let mul: i128 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits.is_empty() || digits.len() > 20 {
        return None;
    }
    let n = digits.parse::<i128>().ok()?.checked_mul(mul)?;
    (n <= i128::from(u64::MAX)).then_some(n)
}

fn number(unit: Unit, min: i128, max: i128, value: &str) -> Result<(), String> {
    const MEMORY: &str = "a size in bytes, optionally with a unit (k, kb, m, mb, g, gb)";
    let (n, what) = match unit {
        Unit::Int => (integer(value), "an integer".to_owned()),
        Unit::Octal => {
            let octal = !value.is_empty()
                && value.len() <= 21
                && value.bytes().all(|b| (b'0'..=b'7').contains(&b));
            let n = octal.then(|| i128::from_str_radix(value, 8).ok()).flatten();
            return match n {
                Some(n) if (min..=max).contains(&n) => Ok(()),
                _ => Err(format!("expected an octal number from {min:o} to {max:o}")),
            };
        }
        Unit::Memory => (memory(value), MEMORY.to_owned()),
        Unit::MemoryOrInt => (
            memory(value).or_else(|| integer(value)),
            format!("{MEMORY} or an integer"),
        ),
        Unit::MemoryOrPercent => {
            let pct = value.strip_suffix('%').map(integer);
            let n = match pct {
                Some(Some(p)) if (0..=-min).contains(&p) => return Ok(()),
                Some(_) => None,
                None => memory(value),
            };
            (
                n,
                format!("{MEMORY} or a percentage of maxmemory up to {}%", -min),
            )
        }
    };
    let lower = if unit == Unit::MemoryOrPercent {
        0
    } else {
        min
    };
    match n {
        Some(n) if (lower..=max).contains(&n) => Ok(()),
        _ if max >= i128::from(i64::MAX) => Err(format!("expected {what}, {lower} or more")),
        _ => Err(format!("expected {what} from {lower} to {max}")),
    }
}

/// The event class characters `notify-keyspace-events` takes (both engines).
const KEYSPACE_CLASSES: &str = "Ag$lshzxeKEtmdn";

fn special(name: &str, value: &str) -> Option<String> {
    let words: Vec<&str> = value.split_ascii_whitespace().collect();
    // A whole number as `strtoll` reads it, without the sign it also takes.
    let int = |w: &str| w.parse::<i64>().ok().filter(|_| !w.starts_with('+'));
    match name {
        "save" => {
            let ok = words.len() % 2 == 0
                && words.chunks(2).all(|pair| {
                    int(pair[0]).is_some_and(|seconds| seconds >= 1)
                        && int(pair[1]).is_some_and(|changes| changes >= 0)
                });
            (!ok).then(|| {
                "expected pairs of seconds (1 or more) and changes (0 or more), e.g. \"3600 1 300 100\", or \"\" for no snapshots".to_owned()
            })
        }
        "client-output-buffer-limit" => {
            let ok = !words.is_empty()
                && words.len() % 4 == 0
                && words.chunks(4).all(|c| {
                    matches!(
                        c[0].to_ascii_lowercase().as_str(),
                        "normal" | "replica" | "slave" | "pubsub"
                    ) && memory(c[1]).is_some()
                        && memory(c[2]).is_some()
                        && int(c[3]).is_some_and(|seconds| seconds >= 0)
                });
            (!ok).then(|| {
                "expected groups of class (normal, replica or pubsub), hard limit, soft limit and soft seconds, e.g. \"replica 256mb 64mb 60\"".to_owned()
            })
        }
        "oom-score-adj-values" => {
            let ok = words.len() == 3
                && words
                    .iter()
                    .all(|w| int(w).is_some_and(|v| (-2000..=2000).contains(&v)));
            (!ok).then(|| {
                "expected three integers from -2000 to 2000 (primary, replica, background child), e.g. \"0 200 800\"".to_owned()
            })
        }
        "notify-keyspace-events" => (!value.chars().all(|c| KEYSPACE_CLASSES.contains(c)))
            .then(|| format!("expected event class characters from '{KEYSPACE_CLASSES}', e.g. \"Ex\", or \"\" for none")),
        "latency-tracking-info-percentiles" => {
            let ok = words.iter().all(|w| {
                !w.contains(['x', 'X', 'n', 'N', 'i', 'I'])
                    && w.parse::<f64>().is_ok_and(|p| (0.0..=100.0).contains(&p))
            });
            (!ok).then(|| {
                "expected percentiles from 0 to 100, e.g. \"50 99 99.9\", or \"\" for none"
                    .to_owned()
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The binaries' versions: the tables the servers tests prove.
    fn version_of(engine: Engine) -> (u32, u32) {
        match engine {
            Engine::Redis => (7, 0),
            Engine::Valkey => (9, 1),
        }
    }

    fn says(engine: Engine, name: &str, value: &str) -> String {
        refuse(engine, version_of(engine), name, value).unwrap_or_default()
    }

    #[test]
    fn values_the_servers_refuse_are_refused_with_what_is_allowed() {
        let r = Engine::Redis;
        assert_eq!(says(r, "rdbcompression", "snappy"), "expected yes or no");
        assert_eq!(
            says(r, "maxclients", "-5"),
            "expected an integer from 1 to 4294967295"
        );
        assert_eq!(
            says(r, "timeout", "abc"),
            "expected an integer from 0 to 2147483647"
        );
        assert_eq!(
            says(r, "appendfsync", "sometimes"),
            "expected one of everysec, always, no"
        );
        assert!(says(r, "appendfsync", "everysek").ends_with("did you mean 'everysec'?"));
        assert!(says(r, "repl-backlog-size", "1 mb").starts_with("expected a size in bytes"));
        assert!(says(r, "maxmemory-clients", "101%").contains("up to 100%"));
        assert!(says(r, "save", "900").contains("pairs of seconds"));
        assert!(says(r, "client-output-buffer-limit", "master 0 0 0").contains("class"));
        assert!(says(r, "oom-score-adj-values", "0 200 3000").contains("-2000 to 2000"));
        assert!(says(r, "notify-keyspace-events", "Q").contains("Ag$lshzxeKEtmdn"));
        assert!(says(r, "latency-tracking-info-percentiles", "101").contains("0 to 100"));
        assert!(says(r, "shutdown-on-sigterm", "save nosave").contains("together"));
        assert_eq!(
            says(r, "unixsocketperm", "800"),
            "expected an octal number from 0 to 777"
        );
    }

    #[test]
    fn values_the_servers_accept_pass() {
        let r = Engine::Redis;
        for (name, value) in [
            ("rdbcompression", "YES"),
            ("maxclients", "4294967295"),
            ("timeout", "0"),
            ("list-max-listpack-size", "-2"),
            ("repl-backlog-size", "64mb"),
            ("maxmemory", "18446744073709551615"),
            ("maxmemory-clients", "10%"),
            ("maxmemory-clients", "1gb"),
            ("save", ""),
            ("save", "3600 1 300 100"),
            (
                "client-output-buffer-limit",
                "replica 256mb 64mb 60 pubsub 32mb 8mb 60",
            ),
            ("oom-score-adj-values", "0 200 800"),
            ("notify-keyspace-events", "Ex"),
            ("notify-keyspace-events", ""),
            ("latency-tracking-info-percentiles", "50 99 99.9"),
            ("shutdown-on-sigterm", "save now"),
            ("proc-title-template", "{title} {listen-addr}"),
        ] {
            assert_eq!(refuse(r, (7, 0), name, value), None, "{name} {value}");
        }
        assert_eq!(
            refuse(
                Engine::Valkey,
                (9, 1),
                "slot-migration-max-failover-repl-bytes",
                "-1"
            ),
            None
        );
    }

    #[test]
    fn text_is_quoted_as_the_server_splits_it() {
        let r = Engine::Redis;
        assert_eq!(
            conf_value(r, (7, 0), "proc-title-template", "a b"),
            "\"a b\""
        );
        assert_eq!(
            conf_value(r, (7, 0), "ignore-warnings", "x\"y\\"),
            "\"x\\\"y\\\\\""
        );
        assert_eq!(conf_value(r, (7, 0), "save", ""), "\"\"");
        assert_eq!(conf_value(r, (7, 0), "save", "900 1"), "900 1");
        assert_eq!(conf_value(r, (7, 0), "syslog-ident", "redis"), "redis");
    }
}
