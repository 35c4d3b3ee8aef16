//! Secrets by reference only: an ExternalSecret that creates the auth Secret
//! from a secret store, and a cert-manager Certificate for TLS. No Secret
//! with a value is ever rendered.

use serde_json::json;

use super::{Component, Object, Wave, headless_name, meta_json};
use crate::spec::validate::{Redis, Tls};

/// The Secret holding tls.crt, tls.key and ca.crt.
pub fn tls_secret_name(redis: &Redis, tls: &Tls) -> String {
    if tls.cert_manager.is_some() {
        crate::names::tls(&redis.name)
    } else {
        tls.secret_name.clone()
    }
}

pub fn render(redis: &Redis) -> Vec<Object> {
    let mut out = Vec::new();
    if let Some(ext) = redis
        .auth
        .as_ref()
        .and_then(|a| a.external.as_ref().map(|e| (a, e)))
    {
        let (auth, ext) = ext;
        // With the defaults the CRD gives list items spelled out: the API
        // server would add them inside `data`, and Argo CD would then show
        // the object OutOfSync forever.
        let mut remote = json!({
            "key": ext.remote_key,
            "conversionStrategy": "Default",
            "decodingStrategy": "None",
            "metadataPolicy": "None",
            "nullBytePolicy": "Ignore",
        });
        if let Some(p) = &ext.remote_property {
            remote["property"] = json!(p);
        }
        let mut data = vec![json!({"secretKey": auth.secret_key, "remoteRef": remote.clone()})];
        // The previous password: the store's previous version of the same
        // secret (for example AWSPREVIOUS on AWS Secrets Manager).
        if let (Some(key), Some(version)) = (&auth.previous_secret_key, &ext.previous_version) {
            let mut previous = remote;
            previous["version"] = json!(version);
            data.push(json!({"secretKey": key, "remoteRef": previous}));
        }
        out.push(Object::custom(json!({
            "apiVersion": "external-secrets.io/v1",
            "kind": "ExternalSecret",
            "metadata": meta_json(redis, &auth.secret_name, Component::Deployment, Wave::Prerequisite),
            "spec": {
                "refreshInterval": ext.refresh_interval,
                "secretStoreRef": {"name": ext.store_name, "kind": ext.store_kind},
                "target": {"name": auth.secret_name, "creationPolicy": "Owner", "deletionPolicy": "Retain"},
                "data": data,
            },
        })));
    }
    if let Some(tls) = &redis.tls {
        if let Some(cm) = &tls.cert_manager {
            let headless = headless_name(redis);
            let ns = &redis.namespace;
            out.push(Object::custom(json!({
                "apiVersion": "cert-manager.io/v1",
                "kind": "Certificate",
                "metadata": meta_json(redis, &tls_secret_name(redis, tls), Component::Deployment, Wave::Prerequisite),
                "spec": {
                    "secretName": tls_secret_name(redis, tls),
                    "issuerRef": {"name": cm.issuer_name, "kind": cm.issuer_kind, "group": cm.issuer_group},
                    "duration": cm.duration,
                    "renewBefore": cm.renew_before,
                    "commonName": format!("{}.{ns}.svc", redis.name),
                    "dnsNames": [
                        format!("{}.{ns}.svc", redis.name),
                        format!("*.{headless}.{ns}.svc"),
                        format!("{}.{ns}.svc.cluster.local", redis.name),
                        format!("*.{headless}.{ns}.svc.cluster.local"),
                        "localhost",
                    ],
                    "ipAddresses": ["127.0.0.1"],
                    "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                    "usages": ["server auth", "client auth", "digital signature", "key encipherment"],
                },
            })));
        }
    }
    out
}
