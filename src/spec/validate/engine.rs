//! Engine version, image and redis.conf directives.

use super::*;

impl Cx<'_> {
    pub(super) fn version(
        &mut self,
        spec: &model::Spec,
        engine: Engine,
        mode: Mode,
        at: Span,
    ) -> Option<Version> {
        let v = self.required(&spec.version, at, "spec.version")?.clone();
        let parsed = parse_version(&v.value.0);
        let Some(version) = parsed else {
            let what = match v.value.0.as_str() {
                // `true` / `false` arrive as yes / no (see ScalarString).
                "yes" | "no" => "a boolean is not a version".to_owned(),
                other => format!("'{other}' is not a version"),
            };
            self.err(v.span, what).help =
                Some("use the image tag's version, e.g. \"7.2.5\"".into());
            return None;
        };
        let (min_major, min_minor) = match engine {
            Engine::Redis => (7, 0),
            Engine::Valkey => (7, 2),
        };
        if !version.at_least(min_major, min_minor) {
            let why = if mode == Mode::Cluster {
                "cluster mode's reconcile Job relies on CLUSTER SHARDS and ADDSLOTSRANGE"
            } else {
                "the rendered configuration uses 7.x directives"
            };
            self.err(v.span, format!(
                "{engine} {} is not supported; {engine} {min_major}.{min_minor} or newer is needed",
                v.value.0
            ))
            .help = Some(why.into());
            return None;
        }
        Some(version)
    }
    /// Names of Secrets in the deployment's namespace; each once.
    pub(super) fn image_pull_secrets(&mut self, spec: &model::Spec) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for name in spec
            .image_pull_secrets
            .as_ref()
            .map(|l| l.value.as_slice())
            .unwrap_or_default()
        {
            if !is_dns1123_subdomain(&name.value) {
                self.err(
                    name.span,
                    format!("'{}' is not a valid Secret name", name.value),
                )
                .help =
                    Some("lower-case letters, digits, '-' and '.', at most 253 characters".into());
            } else if out.contains(&name.value) {
                self.err(
                    name.span,
                    format!("Secret '{}' is listed twice", name.value),
                );
            } else {
                out.push(name.value.clone());
            }
        }
        out
    }

    pub(super) fn image(
        &mut self,
        spec: &model::Spec,
        engine: Engine,
        version: Option<Version>,
    ) -> Option<String> {
        if let Some(img) = &spec.image {
            let value = img.value.trim();
            if value.is_empty() {
                // An empty image means "the official one" (as in the contract's example).
            } else if let Some((_, digest)) = value.split_once('@') {
                let ok = digest.strip_prefix("sha256:").is_some_and(|h| {
                    h.len() == 64
                        && h.bytes()
                            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
                });
                if !ok {
                    self.err(img.span, format!("'{value}' has an invalid digest"))
                        .help = Some("a digest is '@sha256:' and 64 lower-case hex digits".into());
                    return None;
                }
                return Some(value.to_owned());
            } else if value.contains(char::is_whitespace)
                || value.ends_with(":latest")
                || !value.rsplit('/').next().unwrap_or("").contains(':')
            {
                self.err(
                    img.span,
                    format!("image '{value}' must name a tag or digest, not latest"),
                )
                .help = Some("pin the image, e.g. redis:7.2.5 or redis@sha256:...".into());
                return None;
            } else {
                return Some(value.to_owned());
            }
        }
        let v = version?;
        let repo = match engine {
            Engine::Redis => "redis",
            Engine::Valkey => "valkey/valkey",
        };
        let tag = spec
            .version
            .as_ref()
            .map(|s| s.value.0.clone())
            .unwrap_or_else(|| format!("{}.{}.{}", v.major, v.minor, v.patch));
        Some(format!("{repo}:{tag}"))
    }
    pub(super) fn config(
        &mut self,
        config: Option<&S<SMap<ScalarString>>>,
        engine: Engine,
        version: Version,
        assumed: bool,
    ) -> BTreeMap<String, String> {
        let entries = config
            .map(|c| c.value.entries.as_slice())
            .unwrap_or_default();
        let mut out = BTreeMap::new();
        if entries.is_empty() {
            return out;
        }
        let known = directives::known(engine, (version.major, version.minor));
        for (k, v) in entries {
            let key = k.value.to_ascii_lowercase();
            if let Some(reason) = directives::owned_reason(&key) {
                self.err(
                    k.span,
                    format!("'{key}' is set by redis-gitops and cannot be overridden"),
                )
                .help = Some(reason.into());
            } else if known.binary_search(&key.as_str()).is_err() {
                if self.spec.damaged {
                    // Perhaps another engine's or version's, and that field did not read.
                    continue;
                }
                let d = self.err(
                    k.span,
                    if assumed {
                        format!(
                            "'{}' is not a {engine} directive (checked against {engine} {}.{}, the newest known, as spec.version is missing)",
                            k.value, version.major, version.minor
                        )
                    } else {
                        format!(
                            "'{}' is not a {engine} {}.{} directive",
                            k.value, version.major, version.minor
                        )
                    },
                );
                if let Some(best) = directives::suggest(&key, &known) {
                    d.message.push_str(&format!("; did you mean '{best}'?"));
                    if let Some(reason) = directives::owned_reason(best) {
                        d.help = Some(format!("'{best}' is set by redis-gitops: {reason}"));
                    }
                }
            } else if v.value.0.contains(['\n', '\r']) {
                self.err(v.span, "a directive's value cannot contain a line break");
            } else if let Some(why) =
                directives::refuse(engine, (version.major, version.minor), &key, &v.value.0)
            {
                self.err(
                    v.span,
                    format!("'{}' is not a valid value for {key}: {why}", v.value.0),
                );
            } else {
                let value = directives::conf_value(
                    engine,
                    (version.major, version.minor),
                    &key,
                    &v.value.0,
                );
                out.insert(key, value);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{messages_of, says};

    #[test]
    fn version_image_and_config_rules() {
        says(
            "  config: {rdb-compression: \"yes\"}\n",
            "did you mean 'rdbcompression'?",
        );
        says(
            "  config: {port: \"7000\"}\n",
            "'port' is set by redis-gitops",
        );
        says(
            "  config: {rdbcompression: snappy, hz: \"20\"}\n",
            "'snappy' is not a valid value for rdbcompression: expected yes or no",
        );
        says("  image: redis:latest\n", "latest");
        let old = messages_of(
            "apiVersion: redis-gitops/v1\nkind: Redis\nmetadata: {name: t, namespace: t}\nspec:\n  \
             version: \"6.2.0\"\n  resources: {limits: {memory: 1Gi}}\n",
        );
        assert!(old.iter().any(|m| m.contains("6.2")), "{old:?}");
    }
}
