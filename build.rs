//! Build-time fingerprint of the renderer, the render cache's salt (see
//! `src/cache.rs`): a SHA-256 over the crate version, every file below `src/`
//! and `templates/`, and `Cargo.lock` (the versions of the crates that write
//! the output). Any change to what can change a rendered byte changes it; the
//! running executable is never read.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in read.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let mut paths = vec![PathBuf::from("Cargo.lock")];
    for dir in ["src", "templates"] {
        println!("cargo:rerun-if-changed={dir}");
        files(Path::new(dir), &mut paths);
    }
    println!("cargo:rerun-if-changed=Cargo.lock");
    paths.sort();
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    for path in &paths {
        let bytes = std::fs::read(path).unwrap_or_default();
        let name = path.to_string_lossy().replace('\\', "/");
        h.update((name.len() as u64).to_be_bytes());
        h.update(name.as_bytes());
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(&bytes);
    }
    let digest: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    println!("cargo:rustc-env=REDIS_GITOPS_FINGERPRINT={digest}");
}
