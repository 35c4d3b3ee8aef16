//! The redis.conf directives a spec may set under `config`.
//!
//! The lists in `directives/` are the output of `CONFIG GET *` on the real
//! servers (Redis 7.0.15 and Valkey 9.1.2, aliases included where the server
//! lists them); the test suite re-captures them from those binaries and fails
//! when they drift. Directives that only exist in a config file (`include`,
//! `rename-command`...) and the few that later Redis versions added are listed
//! here by hand, with the version that introduced them.

use super::model::Engine;

mod value;
pub use value::{Kind, Unit, conf_value, refuse, table, table_names};

const REDIS_7_0: &str = include_str!("directives/redis-7.0.txt");
const VALKEY_9_1: &str = include_str!("directives/valkey-9.1.txt");

/// Directives accepted in a config file but not listed by `CONFIG GET *`.
const FILE_ONLY: &[&str] = &["include", "rename-command", "loadmodule", "user"];

/// Redis directives newer than 7.0: (name, major, minor).
const REDIS_LATER: &[(&str, u32, u32)] = &[
    ("locale-collate", 7, 2),
    ("cluster-announce-human-nodename", 7, 2),
    ("max-new-connections-per-cycle", 7, 4),
    ("max-new-tls-connections-per-cycle", 7, 4),
    ("hide-user-data-from-log", 7, 4),
];

/// Well-known wrong names (often from other tools' docs) and the directive meant.
const MISNOMERS: &[(&str, &str)] = &[
    ("aof-enabled", "appendonly"),
    ("aof", "appendonly"),
    ("append-only", "appendonly"),
    ("aof-fsync", "appendfsync"),
    ("password", "requirepass"),
    ("max-clients", "maxclients"),
    ("snapshot", "save"),
];

/// Why a directive is not the spec's to set.
pub fn owned_reason(name: &str) -> Option<&'static str> {
    Some(match name {
        "port" | "tls-port" | "bind" | "protected-mode" => {
            "the compiler sets the listening address and ports so that Services, probes and the NetworkPolicy agree"
        }
        "dir" | "dbfilename" | "appendfilename" | "appenddirname" | "pidfile" | "logfile"
        | "daemonize" | "supervised" => {
            "the compiler owns file locations and process management inside the container"
        }
        "cluster-enabled"
        | "cluster-config-file"
        | "cluster-port"
        | "cluster-preferred-endpoint-type" => {
            "set by spec.mode; cluster identity and addresses are managed by the compiler"
        }
        "replicaof"
        | "slaveof"
        | "replica-announce-ip"
        | "slave-announce-ip"
        | "replica-announce-port"
        | "slave-announce-port" => {
            "replication is wired by the compiler (and by Sentinel at run time)"
        }
        "requirepass" | "masterauth" | "masteruser" | "primaryauth" | "primaryuser" => {
            "passwords never go into git: use spec.auth with a Secret"
        }
        "maxmemory" => "use spec.maxmemory",
        "maxmemory-policy" => "use spec.maxmemoryPolicy",
        "appendonly" => "use spec.persistence (rdb | aof | rdb+aof | none)",
        "save" => "use spec.savePoints (with persistence rdb or rdb+aof), or spec.persistence",
        "include" | "aclfile" | "loadmodule" => {
            "the container has no such file; the configuration is rendered whole"
        }
        n if n.starts_with("tls-") => "TLS is configured by spec.tls",
        n if n.starts_with("unixsocket") => {
            "the compiler sets the listening address and ports so that Services, probes and the NetworkPolicy agree"
        }
        n if n.starts_with("cluster-announce-") => {
            "set by spec.mode; cluster identity and addresses are managed by the compiler"
        }
        _ => return None,
    })
}

/// The newest version whose directives are known, per engine.
pub fn newest(engine: Engine) -> (u32, u32) {
    match engine {
        Engine::Redis => REDIS_LATER
            .iter()
            .map(|(_, maj, min)| (*maj, *min))
            .chain([(8, 0)])
            .max()
            .unwrap_or((8, 0)),
        Engine::Valkey => (9, 1),
    }
}

/// Every directive `engine` at `version` accepts, in order.
pub fn known(engine: Engine, version: (u32, u32)) -> Vec<&'static str> {
    let later = REDIS_LATER
        .iter()
        .filter(|(_, maj, min)| version >= (*maj, *min))
        .map(|(n, _, _)| *n);
    let mut out: Vec<&'static str> = match engine {
        // No Redis 8 binary to list them: the 8.0 table's names (every
        // directive and alias of its config.c).
        Engine::Redis if version.0 >= 8 => table_names(engine, version).chain(later).collect(),
        Engine::Redis => REDIS_7_0.lines().chain(later).collect(),
        Engine::Valkey => VALKEY_9_1.lines().collect(),
    };
    out.extend(FILE_ONLY);
    out.retain(|l| !l.is_empty());
    out.sort_unstable();
    out.dedup();
    out
}

/// The directive a wrong name most likely meant.
pub fn suggest(name: &str, known: &[&'static str]) -> Option<&'static str> {
    if let Some((_, meant)) = MISNOMERS.iter().find(|(wrong, _)| *wrong == name) {
        return known.iter().copied().find(|k| k == meant);
    }
    crate::diag::did_you_mean(name, known.iter().copied())
}
