//! A local cache of what each deployment renders to, so that `check`,
//! `diff`, `plan` and `build` on an unchanged repository need not render it
//! again (a pre-commit hook runs them on every commit).
//!
//! An entry is keyed by a SHA-256 over everything rendering depends on: the
//! renderer (a fingerprint `build.rs` computes at build time over the crate
//! version, `src/`, `templates/` and `Cargo.lock`), the validated spec, the effective templates, the
//! output path and the committed slot map. It records the paths and SHA-256
//! digests of the files rendered. A deployment is taken from the cache only
//! when every committed file of the entry has exactly that digest: then the
//! committed bytes are the rendered bytes. Anything else, a missing or
//! unreadable entry included, renders as usual, so a cache can only save
//! time, never change an answer. The cache lives in `$REDIS_GITOPS_CACHE_DIR`,
//! else `$XDG_CACHE_HOME/redis-gitops`, else `~/.cache/redis-gitops`;
//! `REDIS_GITOPS_CACHE=off` disables it.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsStr;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::digest::{hex, sha256_hex};

use rayon::prelude::*;

use crate::output::File;
use crate::render::{self, Deployment, Inputs, RenderError, Rendered};
use crate::spec::validate::Redis;

pub struct Cache {
    dir: PathBuf,
    /// The renderer's build-time fingerprint: a build from other sources
    /// never trusts old entries.
    salt: &'static str,
}

/// What a deployment rendered to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// (path, SHA-256 hex of the contents), in render order.
    pub files: Vec<(PathBuf, String)>,
    pub job: Option<String>,
}

impl Cache {
    /// The cache of this user, or `None` when disabled or unusable.
    pub fn open() -> Option<Cache> {
        if std::env::var_os("REDIS_GITOPS_CACHE").is_some_and(|v| v == "off") {
            return None;
        }
        let dir = std::env::var_os("REDIS_GITOPS_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("redis-gitops"))
            })
            .or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/redis-gitops"))
            })?;
        Some(Cache {
            dir: dir.join("v1"),
            salt: env!("REDIS_GITOPS_FINGERPRINT"),
        })
    }

    /// The key of a deployment from its rendering inputs.
    pub fn key(&self, inputs: &[&[u8]]) -> String {
        let mut h = Sha256::new();
        h.update(self.salt.as_bytes());
        for part in inputs {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        hex(&h.finalize())
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2]).join(key)
    }

    pub fn get(&self, key: &str) -> Option<Entry> {
        let text = std::fs::read_to_string(self.path(key)).ok()?;
        let mut entry = Entry {
            files: Vec::new(),
            job: None,
        };
        for line in text.lines() {
            if let Some(job) = line.strip_prefix("job ") {
                entry.job = Some(job.to_owned());
            } else {
                let (digest, path) = line.split_once(' ')?;
                entry.files.push((PathBuf::from(path), digest.to_owned()));
            }
        }
        (!entry.files.is_empty()).then_some(entry)
    }

    /// Best effort: a cache that cannot be written only costs time.
    pub fn put(&self, key: &str, files: &[File], job: Option<&str>) {
        let mut text = String::new();
        for f in files {
            text.push_str(&format!(
                "{} {}\n",
                sha256_hex(f.contents.as_bytes()),
                f.path.display()
            ));
        }
        if let Some(job) = job {
            text.push_str(&format!("job {job}\n"));
        }
        let path = self.path(key);
        let Some(dir) = path.parent() else { return };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        let tmp = dir.join(format!(".{key}.{}", std::process::id()));
        if std::fs::write(&tmp, text).is_ok() && std::fs::rename(&tmp, &path).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// The committed files of `entry`, when every one has the recorded digest.
pub fn committed_files(entry: &Entry, committed: &HashMap<&OsStr, &Vec<u8>>) -> Option<Vec<File>> {
    entry
        .files
        .iter()
        .map(|(path, digest)| {
            let bytes = committed.get(path.as_os_str())?;
            if sha256_hex(bytes) != *digest {
                return None;
            }
            Some(File::text(
                path.clone(),
                String::from_utf8((*bytes).clone()).ok()?,
            ))
        })
        .collect()
}

/// [`render::render_all`] through the cache: a deployment whose entry says
/// its committed files are exactly what it renders is taken as committed,
/// every other one is rendered (and its entry written). Without a cache,
/// plain rendering.
pub fn render_all(
    specs: &[Redis],
    inputs: &Inputs,
    cache: Option<&Cache>,
) -> Result<Rendered, RenderError> {
    let Some(cache) = cache else {
        return render::render_all(specs, inputs);
    };
    // Path bytes as keys: hashing a Path walks its components.
    let lookup: HashMap<&OsStr, &Vec<u8>> = inputs
        .committed
        .keys()
        .chain(inputs.slot_maps.into_iter().flat_map(BTreeMap::keys))
        .filter_map(|p| Some((p.as_os_str(), inputs.committed_file(p)?)))
        .collect();
    let deployments = specs
        .par_iter()
        .map(|redis| render_cached(redis, inputs, cache, &lookup))
        .collect::<Result<Vec<_>, RenderError>>()?;
    render::assemble(specs, deployments, inputs.output_path)
}

/// One deployment: from the cache when the committed files are what it
/// renders, else rendered and recorded.
fn render_cached(
    redis: &Redis,
    inputs: &Inputs,
    cache: &Cache,
    committed: &HashMap<&OsStr, &Vec<u8>>,
) -> Result<Deployment, RenderError> {
    let topology = crate::topology::committed_file(&redis.dir, &redis.name);
    let spec = crate::digest::structure_hex(redis);
    let key = cache.key(&[
        spec.as_bytes(),
        inputs.templates.fingerprint().as_bytes(),
        inputs.output_path.map_or(&b"\0"[..], str::as_bytes),
        inputs
            .committed_file(&topology)
            .map_or(&[][..], Vec::as_slice),
    ]);
    if let Some(entry) = cache.get(&key) {
        if let Some(files) = committed_files(&entry, committed) {
            // The committed slot map is the one rendered from it, which
            // gives no slot to a shard the spec lacks: nothing is stranded.
            return Ok(Deployment {
                files,
                job: entry.job,
                stranded: Vec::new(),
            });
        }
    }
    let deployment = render::render_deployment(redis, inputs)?;
    cache.put(&key, &deployment.files, deployment.job.as_deref());
    Ok(deployment)
}
