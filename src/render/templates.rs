//! The minijinja templates for configuration files and scripts.
//!
//! The sources in `templates/` are compiled into the binary; `--templates DIR`
//! overrides any of them by file name (a missing file falls back to the
//! built-in one), so a platform team can adapt a script without forking.
//! The override files are read by the caller (`commands`): no file system
//! here.

use minijinja::{Environment, UndefinedBehavior};
use sha2::Digest;

/// (file name, built-in source) of every template.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "redis.conf.j2",
        include_str!("../../templates/redis.conf.j2"),
    ),
    (
        "sentinel.conf.j2",
        include_str!("../../templates/sentinel.conf.j2"),
    ),
    ("common.sh.j2", include_str!("../../templates/common.sh.j2")),
    (
        "start-redis.sh.j2",
        include_str!("../../templates/start-redis.sh.j2"),
    ),
    (
        "start-sentinel.sh.j2",
        include_str!("../../templates/start-sentinel.sh.j2"),
    ),
    ("probe.sh.j2", include_str!("../../templates/probe.sh.j2")),
    (
        "prestop.sh.j2",
        include_str!("../../templates/prestop.sh.j2"),
    ),
    (
        "reconcile.sh.j2",
        include_str!("../../templates/reconcile.sh.j2"),
    ),
    ("backup.sh.j2", include_str!("../../templates/backup.sh.j2")),
    (
        "backup-upload.sh.j2",
        include_str!("../../templates/backup-upload.sh.j2"),
    ),
    (
        "restore.sh.j2",
        include_str!("../../templates/restore.sh.j2"),
    ),
    // The spec `init` writes.
    (
        "starter.yaml.j2",
        include_str!("../../templates/starter.yaml.j2"),
    ),
];

/// The loaded template set.
pub struct Templates {
    env: Environment<'static>,
    /// SHA-256 over every template's name and effective source.
    fingerprint: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template '{name}'")]
    Template {
        name: String,
        source: minijinja::Error,
    },
}

impl Templates {
    /// The built-in templates.
    pub fn builtin() -> Templates {
        Templates::new(&std::collections::BTreeMap::new()).expect("the built-in templates compile")
    }

    /// The built-in templates, with `overrides` (file name -> source, read
    /// by the caller) taking their place.
    pub fn new(
        overrides: &std::collections::BTreeMap<String, String>,
    ) -> Result<Templates, TemplateError> {
        let mut env = Environment::new();
        // A misspelt variable in an override is an error, not an empty string.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .keep_trailing_newline(true)
                .build()
                .expect("the default delimiters are valid"),
        );
        let mut hasher = sha2::Sha256::new();
        for (name, builtin) in BUILTIN {
            let source = overrides
                .get(*name)
                .cloned()
                .unwrap_or_else(|| (*builtin).to_owned());
            hasher.update(name.as_bytes());
            hasher.update((source.len() as u64).to_be_bytes());
            hasher.update(source.as_bytes());
            env.add_template_owned(*name, source)
                .map_err(|source| TemplateError::Template {
                    name: (*name).to_owned(),
                    source,
                })?;
        }
        let fingerprint = crate::digest::hex(&hasher.finalize());
        Ok(Templates { env, fingerprint })
    }

    /// Changes whenever any effective template source does.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    pub fn render(&self, name: &str, ctx: &impl serde::Serialize) -> Result<String, TemplateError> {
        let wrap = |source| TemplateError::Template {
            name: name.to_owned(),
            source,
        };
        self.env
            .get_template(name)
            .map_err(wrap)?
            .render(minijinja::value::Serde(ctx))
            .map_err(wrap)
    }
}
