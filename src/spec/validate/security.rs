//! Auth (Secrets, External Secrets) and TLS (Secrets, cert-manager).

use super::*;

impl Cx<'_> {
    pub(super) fn auth(&mut self, a: &S<model::Auth>) -> Option<Auth> {
        let name = self
            .required(&a.value.secret_name, a.span, "auth.secretName")?
            .clone();
        if !is_dns1123_subdomain(&name.value) {
            self.err(
                name.span,
                format!("'{}' is not a valid Secret name", name.value),
            );
            return None;
        }
        let secret_key = val(&a.value.secret_key).unwrap_or_else(|| "password".into());
        let mut previous_secret_key = None;
        for (field, key) in [
            ("secretKey", &a.value.secret_key),
            ("previousSecretKey", &a.value.previous_secret_key),
        ] {
            let Some(key) = key else { continue };
            if !is_secret_key(&key.value) {
                self.err(
                    key.span,
                    format!("'{}' is not a valid key of a Secret", key.value),
                )
                .help = Some(format!(
                    "auth.{field}: letters, digits, '-', '_' and '.', at most 253"
                ));
            } else if field == "previousSecretKey" {
                if key.value == secret_key {
                    self.err(
                        key.span,
                        format!(
                            "previousSecretKey '{}' is the key of the current password",
                            key.value
                        ),
                    )
                    .help = Some("name another key of the Secret, for example 'previous'".into());
                } else {
                    previous_secret_key = Some(key.value.clone());
                }
            }
        }
        let external = match &a.value.external_secret {
            None => None,
            Some(e) => {
                let store = self
                    .required(
                        &e.value.secret_store_ref,
                        e.span,
                        "externalSecret.secretStoreRef",
                    )?
                    .clone();
                let store_name = self
                    .required(&store.value.name, store.span, "secretStoreRef.name")?
                    .value
                    .clone();
                let store_kind = match &store.value.kind {
                    None => "SecretStore".to_owned(),
                    Some(k) if k.value == "SecretStore" || k.value == "ClusterSecretStore" => {
                        k.value.clone()
                    }
                    Some(k) => {
                        self.err(k.span, format!("unknown store kind '{}'", k.value))
                            .help = Some("SecretStore or ClusterSecretStore".into());
                        return None;
                    }
                };
                let remote_key = self
                    .required(&e.value.remote_key, e.span, "externalSecret.remoteKey")?
                    .value
                    .clone();
                Some(ExternalSecret {
                    store_name,
                    store_kind,
                    remote_key,
                    remote_property: val(&e.value.remote_property),
                    previous_version: match &e.value.previous_version {
                        Some(v) if previous_secret_key.is_none() => {
                            self.err(v.span, "externalSecret.previousVersion needs auth.previousSecretKey")
                                .help = Some("add previousSecretKey: previous (the key the previous password is written to)".into());
                            None
                        }
                        v => val(v),
                    },
                    refresh_interval: val(&e.value.refresh_interval).unwrap_or_else(|| "1h".into()),
                })
            }
        };
        Some(Auth {
            secret_name: name.value,
            secret_key,
            previous_secret_key,
            external,
        })
    }
    pub(super) fn tls(&mut self, t: &S<model::Tls>) -> Option<Tls> {
        match (&t.value.secret_name, &t.value.cert_manager) {
            (Some(_), Some(cm)) => {
                self.err(
                    cm.span,
                    "set either tls.secretName or tls.certManager, not both",
                );
                None
            }
            (None, None) => {
                self.err(
                    t.span,
                    "tls needs secretName (an existing Secret) or certManager",
                );
                None
            }
            (Some(name), None) => {
                if !is_dns1123_subdomain(&name.value) {
                    self.err(
                        name.span,
                        format!("'{}' is not a valid Secret name", name.value),
                    );
                    return None;
                }
                Some(Tls {
                    secret_name: name.value.clone(),
                    cert_manager: None,
                })
            }
            (None, Some(cm)) => {
                let issuer = self
                    .required(&cm.value.issuer_ref, cm.span, "certManager.issuerRef")?
                    .clone();
                let issuer_name = self
                    .required(&issuer.value.name, issuer.span, "issuerRef.name")?
                    .value
                    .clone();
                let issuer_kind = val(&issuer.value.kind).unwrap_or_else(|| "Issuer".into());
                Some(Tls {
                    secret_name: String::new(),
                    cert_manager: Some(CertManager {
                        issuer_name,
                        issuer_kind,
                        issuer_group: val(&issuer.value.group)
                            .unwrap_or_else(|| "cert-manager.io".into()),
                        duration: val(&cm.value.duration).unwrap_or_else(|| "2160h".into()),
                        renew_before: val(&cm.value.renew_before).unwrap_or_else(|| "360h".into()),
                    }),
                })
            }
        }
    }
}

/// A key of a Secret's data: `[-._a-zA-Z0-9]+`, at most 253 characters.
fn is_secret_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 253
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::super::testing::says;

    #[test]
    fn auth_names_a_secret() {
        says(
            "  auth: {secretKey: password}\n",
            "missing required field 'auth.secretName'",
        );
    }
}
