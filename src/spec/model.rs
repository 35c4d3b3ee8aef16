//! The spec format: serde types read from YAML, with a span on every value.
//!
//! Every field is optional here, because a spec is only complete after the
//! `_defaults.yaml` cascade merged into it; `validate` decides what is
//! required. Unknown fields are errors (`deny_unknown_fields`). The JSON
//! Schema printed by `redis-gitops schema` is generated from these types, so
//! the doc comments below are what editors show.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::source::{FileId, Span};

thread_local! {
    /// The file being parsed on this thread; spans are stamped with it.
    static CURRENT_FILE: Cell<(FileId, usize)> = const { Cell::new((FileId(0), 0)) };
}

/// Runs `f` with spans stamped as coming from `file` (whose text is `len` bytes).
pub(crate) fn with_file<R>(file: FileId, len: usize, f: impl FnOnce() -> R) -> R {
    let previous = CURRENT_FILE.with(|c| c.replace((file, len)));
    let result = f();
    CURRENT_FILE.with(|c| c.set(previous));
    result
}

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct S<T> {
    pub value: T,
    pub span: Span,
}

impl<T> S<T> {
    pub fn new(value: T, span: Span) -> Self {
        S { value, span }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for S<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<T>::deserialize(d)?;
        let (file, len) = CURRENT_FILE.with(Cell::get);
        Ok(S {
            span: Span::from_location(file, &spanned.referenced, len, |_, _| 0),
            value: spanned.value,
        })
    }
}

impl<T: JsonSchema> JsonSchema for S<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// How a partial spec takes values from a defaults file: fields it lacks are
/// filled in; nested objects merge deeply; maps merge key by key; lists and
/// scalars are replaced whole (the spec's own value wins).
pub trait Merge {
    fn merge_from(&mut self, _defaults: &Self) {}
}

impl<T: Merge + Clone> Merge for Option<S<T>> {
    fn merge_from(&mut self, defaults: &Self) {
        match (self.as_mut(), defaults) {
            (None, Some(d)) => *self = Some(d.clone()),
            (Some(own), Some(d)) => own.value.merge_from(&d.value),
            _ => {}
        }
    }
}

impl Merge for String {}
impl Merge for u32 {}
impl Merge for i32 {}
impl Merge for i64 {}
impl Merge for bool {}
impl<T> Merge for Vec<T> {}

/// Declares a spec object: a camelCase, closed serde struct of optional,
/// spanned fields, with its deep [`Merge`].
macro_rules! spec_object {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        pub struct $name {
            $($(#[$fmeta])* #[serde(default)] pub $field: Option<S<$ty>>,)*
        }
        impl Merge for $name {
            fn merge_from(&mut self, defaults: &Self) {
                $(self.$field.merge_from(&defaults.$field);)*
            }
        }
    };
}

/// Declares a closed string enum with kebab/lower-case spellings.
macro_rules! spec_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)*
        }
        impl Merge for $name {}
        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A YAML mapping whose keys keep their own spans (for errors on a key).
/// Later keys never silently replace earlier ones: duplicates are reported.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SMap<V> {
    pub entries: Vec<(S<String>, S<V>)>,
}

impl<V> SMap<V> {
    pub fn get(&self, key: &str) -> Option<&S<V>> {
        self.entries
            .iter()
            .find(|(k, _)| k.value == key)
            .map(|(_, v)| v)
    }
}

impl<V: Clone> Merge for SMap<V> {
    fn merge_from(&mut self, defaults: &Self) {
        for (k, v) in &defaults.entries {
            if self.get(&k.value).is_none() {
                self.entries.push((k.clone(), v.clone()));
            }
        }
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for SMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = SMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SMap<V>, A::Error> {
                let mut entries: Vec<(S<String>, S<V>)> = Vec::new();
                while let Some(key) = map.next_key::<S<ScalarString>>()? {
                    let value = map.next_value::<S<V>>()?;
                    let key = S::new(key.value.0, key.span);
                    if entries.iter().any(|(k, _)| k.value == key.value) {
                        return Err(de::Error::custom(format!("duplicate key '{}'", key.value)));
                    }
                    entries.push((key, value));
                }
                Ok(SMap { entries })
            }
        }
        d.deserialize_map(MapVisitor(std::marker::PhantomData))
    }
}

impl<V: JsonSchema> JsonSchema for SMap<V> {
    fn schema_name() -> Cow<'static, str> {
        format!("Map_of_{}", V::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let value = generator.subschema_for::<V>();
        json_schema!({ "type": "object", "additionalProperties": value })
    }
}

/// Declares a scalar read as text (a string, number or boolean), with the
/// spelling a boolean takes in that text.
macro_rules! scalar_text {
    ($(#[$meta:meta])* $name:ident, $yes:literal, $no:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
        pub struct $name(pub String);

        impl Merge for $name {}

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a string or number")
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$name, E> {
                        Ok($name(v.to_owned()))
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$name, E> {
                        Ok($name(v.to_string()))
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$name, E> {
                        Ok($name(v.to_string()))
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$name, E> {
                        Ok($name(v.to_string()))
                    }
                    fn visit_bool<E: de::Error>(self, v: bool) -> Result<$name, E> {
                        Ok($name(if v { $yes } else { $no }.to_owned()))
                    }
                }
                d.deserialize_any(V)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn inline_schema() -> bool {
                true
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({ "type": ["string", "number", "boolean"] })
            }
        }
    };
}

scalar_text! {
    /// A scalar read as redis.conf text: `20`, `"20"`, `yes` and `true` are
    /// all accepted (`true` becomes `yes`, as Redis spells it).
    ScalarString, "yes", "no"
}

scalar_text! {
    /// A scalar read as Kubernetes text (a label or annotation value): a
    /// number as written, `true` as `true` (YAML's own spelling; Kubernetes
    /// itself wants the string, so `"true"` is the same).
    KubeText, "true", "false"
}

/// One YAML document of a spec file (or, partially, of a `_defaults.yaml`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "redis-gitops Redis spec")]
// A spec (a document with `kind`, `apiVersion` or `metadata.name`) names
// all three; a `_defaults.yaml` (none of them) is partial and requires
// nothing; `spec` itself may come from the defaults.
#[schemars(extend(
    "allOf" = [
        {
            "if": {"required": ["kind"]},
            "then": {
                "required": ["apiVersion", "metadata"],
                "properties": {"metadata": {"required": ["name"]}}
            }
        },
        {
            "if": {"required": ["metadata"], "properties": {"metadata": {"required": ["name"]}}},
            "then": {"required": ["apiVersion", "kind"]}
        }
    ],
    "dependentRequired" = {"apiVersion": ["kind"]}
))]
pub struct Document {
    /// Always `redis-gitops/v1`.
    #[serde(default)]
    #[schemars(extend("enum" = ["redis-gitops/v1"]))]
    pub api_version: Option<S<String>>,
    /// Always `Redis`.
    #[serde(default)]
    #[schemars(extend("enum" = ["Redis"]))]
    pub kind: Option<S<String>>,
    /// Name, namespace and labels of the deployment.
    #[serde(default)]
    pub metadata: Option<S<Metadata>>,
    /// The desired deployment.
    #[serde(default)]
    pub spec: Option<S<Spec>>,
}

impl Merge for Document {
    fn merge_from(&mut self, defaults: &Self) {
        self.metadata.merge_from(&defaults.metadata);
        self.spec.merge_from(&defaults.spec);
    }
}

spec_object! {
    /// Identity of the deployment.
    pub struct Metadata {
        /// DNS-1035 label; every derived object name must stay within Kubernetes' limits.
        name: String,
        /// Namespace of every generated object (here or in `_defaults.yaml`).
        namespace: String,
        /// Labels added to every generated object.
        labels: SMap<KubeText>,
    }
}

spec_enum! {
    /// Topology of the deployment.
    pub enum Mode {
        /// One Redis pod.
        Standalone = "standalone",
        /// A primary with replicas, failed over by Redis Sentinel.
        Sentinel = "sentinel",
        /// Redis Cluster: hash slots sharded over primaries with replicas.
        Cluster = "cluster",
    }
}

spec_enum! {
    /// Server implementation.
    pub enum Engine {
        /// Redis, official image `redis`.
        Redis = "redis",
        /// Valkey, official image `valkey/valkey`.
        Valkey = "valkey",
    }
}

spec_enum! {
    /// Whether two pods of one cluster shard may share a node.
    #[derive(Default)]
    pub enum AntiAffinity {
        /// Never (the scheduler leaves a pod Pending rather than break it).
        #[default]
        Required = "required",
        /// Avoided where possible, for clusters with fewer nodes than pods per shard.
        Preferred = "preferred",
    }
}

spec_enum! {
    /// What Redis evicts when maxmemory is reached (the `maxmemory-policy`
    /// values of redis.conf); allkeys-lrm and volatile-lrm (least recently
    /// modified: a read does not count) need Redis 8.6 or later.
    pub enum MaxmemoryPolicy {
        Noeviction = "noeviction",
        AllkeysLru = "allkeys-lru",
        AllkeysLfu = "allkeys-lfu",
        AllkeysRandom = "allkeys-random",
        VolatileLru = "volatile-lru",
        VolatileLfu = "volatile-lfu",
        VolatileRandom = "volatile-random",
        VolatileTtl = "volatile-ttl",
        AllkeysLrm = "allkeys-lrm",
        VolatileLrm = "volatile-lrm",
    }
}

spec_enum! {
    /// How data survives a restart.
    pub enum Persistence {
        Rdb = "rdb",
        Aof = "aof",
        RdbAof = "rdb+aof",
        None = "none",
    }
}

spec_object! {
    /// The desired deployment.
    pub struct Spec {
        /// standalone | sentinel | cluster (default standalone).
        #[schemars(extend("default" = "standalone"))]
        mode: Mode,
        /// redis | valkey (default redis).
        #[schemars(extend("default" = "redis"))]
        engine: Engine,
        /// Image tag of the official image, e.g. "7.2.5"; features depend on it.
        #[schemars(extend("type" = ["string", "number", "null"]))]
        version: ScalarString,
        /// Full image reference overriding the official one; `@sha256:` pins it.
        image: String,
        /// Sentinel mode: Redis pods (one primary and replicas), at least 2.
        #[schemars(range(min = 2, max = 100))]
        #[schemars(extend("default" = 3))]
        replicas: u32,
        /// Cluster mode: shards, at least 3 serving.
        #[schemars(range(min = 3, max = 500))]
        #[schemars(extend("default" = 3))]
        shards: u32,
        /// Cluster mode: replicas of each shard's primary (default 1).
        #[schemars(range(max = 10))]
        #[schemars(extend("default" = 1))]
        replicas_per_shard: u32,
        /// Cluster mode: the last N shards keep running but own no slots.
        #[schemars(extend("default" = 0))]
        drain_shards: u32,
        /// Cluster mode: the repair CronJob (on by default).
        repair: Repair,
        /// Sentinel mode: the Sentinel deployment.
        sentinel: Sentinel,
        /// Kubernetes resources of the Redis container; a memory limit is required.
        resources: Resources,
        /// `75%` of the memory limit (default) or an absolute quantity such as `3Gi`.
        #[schemars(extend("type" = ["string", "number", "null"]))]
        #[schemars(extend("default" = "75%"))]
        maxmemory: ScalarString,
        /// Eviction policy (default noeviction: writes that need memory are refused, nothing is evicted silently; allkeys-lru is common for caches).
        #[schemars(extend("default" = "noeviction"))]
        maxmemory_policy: MaxmemoryPolicy,
        /// Persistent volume per pod; omitted: no persistence.
        storage: Storage,
        /// rdb | aof | rdb+aof | none (default rdb with storage, none without).
        persistence: Persistence,
        /// With persistence rdb or rdb+aof: when a snapshot is taken (redis.conf
        /// `save`); default 3600 s after 1 change, 300 s after 100, 60 s after 10000.
        save_points: Vec<S<SavePoint>>,
        /// Expected data size, checked against serving shards x maxmemory.
        capacity: Capacity,
        /// Password from an existing Secret (or one the spec asks External Secrets for).
        auth: Auth,
        /// TLS for clients, replication and the cluster bus.
        tls: Tls,
        /// Prometheus exporter sidecar and monitoring objects.
        metrics: Metrics,
        /// Who may connect.
        network_policy: NetworkPolicy,
        /// Where pods run.
        scheduling: Scheduling,
        /// redis.conf directives, checked against the engine's directive list.
        config: SMap<ScalarString>,
        /// Argo CD / Flux settings.
        gitops: Gitops,
        /// Scheduled backups: an RDB of every shard (from a replica when
        /// there is one) to S3-compatible storage, with a manifest.
        backup: Backup,
        /// Seeds the empty volumes of a new deployment from a backup; never
        /// writes into a volume that holds data.
        restore: Restore,
        /// Secrets (type kubernetes.io/dockerconfigjson) with the credentials
        /// of a private registry or mirror, for every pod the spec renders.
        image_pull_secrets: Vec<S<String>>,
        /// Annotations of the Redis and Sentinel pods (agents, meshes); a
        /// change rolls the pods.
        pod_annotations: SMap<KubeText>,
        /// Labels of the Redis and Sentinel pods; the selector keys are
        /// reserved. A change rolls the pods.
        pod_labels: SMap<KubeText>,
        /// Annotations of the Services, by kind (external-dns, cloud load
        /// balancer settings).
        service_annotations: ServiceAnnotations,
    }
}

spec_object! {
    /// Annotations of each kind of Service.
    pub struct ServiceAnnotations {
        /// The client Service (`<name>`).
        client: SMap<KubeText>,
        /// The headless Service (`<name>-headless`) the pods' DNS names live under.
        headless: SMap<KubeText>,
    }
}

spec_object! {
    /// A CronJob that takes an RDB of every shard and uploads it, with a
    /// manifest written last, keeping the newest `keep` complete backups.
    pub struct Backup {
        /// Its cron schedule, e.g. "0 * * * *".
        schedule: String,
        /// Complete backups kept (default 7); older ones are deleted by the job.
        #[schemars(range(min = 1, max = 1000))]
        #[schemars(extend("default" = 7))]
        keep: u32,
        /// Where backups go.
        s3: S3,
        /// Annotations of the backup job's own ServiceAccount, for cloud
        /// credentials without a Secret (IRSA: eks.amazonaws.com/role-arn).
        service_account_annotations: SMap<KubeText>,
        /// The uploader's image (default rclone/rclone, pinned tag).
        image: String,
    }
}

spec_object! {
    /// An S3-compatible bucket and where in it.
    pub struct S3 {
        /// The bucket's name.
        bucket: String,
        /// Key prefix (default <namespace>/<name>).
        prefix: String,
        /// Endpoint URL for S3-compatible stores (MinIO, Ceph, R2); empty: AWS.
        endpoint: String,
        /// Region (default us-east-1).
        region: String,
        /// Secret with keys AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY;
        /// omitted: the pod's cloud identity (serviceAccountAnnotations).
        credentials_secret: String,
    }
}

spec_object! {
    /// Where a new deployment's data comes from.
    pub struct Restore {
        /// `latest` (the newest complete backup) or a backup's name (e.g. 20261207T180000Z).
        from: String,
        /// The bucket to restore from (default: backup.s3).
        s3: S3,
    }
}

spec_object! {
    /// A snapshot is taken when at least `changes` writes happened in the
    /// last `seconds` seconds.
    pub struct SavePoint {
        #[schemars(range(min = 1))]
        seconds: u32,
        #[schemars(range(min = 1))]
        changes: u32,
    }
}

spec_object! {
    /// Cluster mode: a CronJob that runs the reconcile script in repair mode
    /// on a schedule: it re-attaches replaced replicas and meets nodes that
    /// lost their nodes.conf, and never moves a slot.
    pub struct Repair {
        /// Render the repair CronJob (default true in cluster mode).
        #[schemars(extend("default" = true))]
        enabled: bool,
        /// Its cron schedule (default "*/10 * * * *").
        #[schemars(extend("default" = "*/10 * * * *"))]
        schedule: String,
    }
}

spec_object! {
    /// Sentinel deployment (sentinel mode).
    pub struct Sentinel {
        /// Sentinel pods (default 3).
        #[schemars(range(min = 1, max = 15))]
        #[schemars(extend("default" = 3))]
        replicas: u32,
        /// Sentinels that must agree the primary is down (default majority).
        #[schemars(range(min = 1, max = 15))]
        quorum: u32,
        /// down-after-milliseconds (default 5000).
        #[schemars(extend("default" = 5000))]
        #[schemars(range(min = 1))]
        down_after_milliseconds: u32,
        /// failover-timeout (default 60000).
        #[schemars(extend("default" = 60000))]
        #[schemars(range(min = 1))]
        failover_timeout: u32,
    }
}

spec_object! {
    /// Kubernetes-native resources.
    pub struct Resources {
        /// What the scheduler reserves (memory defaults to the limit).
        requests: ResourceList,
        /// The most the container may use; the memory limit is required.
        limits: ResourceList,
    }
}

spec_object! {
    /// CPU and memory quantities.
    pub struct ResourceList {
        /// e.g. "500m" or 2.
        #[schemars(extend("type" = ["string", "number", "null"]))]
        cpu: ScalarString,
        /// e.g. 4Gi.
        #[schemars(extend("type" = ["string", "number", "null"]))]
        memory: ScalarString,
    }
}

spec_object! {
    /// Persistent storage.
    pub struct Storage {
        /// e.g. 10Gi.
        #[schemars(extend("type" = ["string", "number", "null"]))]
        size: ScalarString,
        /// StorageClass; omitted: the cluster default.
        storage_class: String,
    }
}

spec_object! {
    /// Capacity planning input.
    pub struct Capacity {
        /// Expected size of the whole dataset, e.g. 30Gi.
        #[schemars(extend("type" = ["string", "number", "null"]))]
        dataset_size: ScalarString,
    }
}

spec_object! {
    /// Authentication. The password is never in git.
    pub struct Auth {
        /// Name of the Secret holding the password.
        secret_name: String,
        /// Key in that Secret (default `password`).
        #[schemars(extend("default" = "password"))]
        secret_key: String,
        /// Key in that Secret holding the previous password during a
        /// rotation: while it is there and differs, both are accepted.
        previous_secret_key: String,
        /// Render an ExternalSecret that creates the Secret from a secret store.
        external_secret: ExternalSecret,
    }
}

spec_object! {
    /// An External Secrets Operator ExternalSecret creating the auth Secret.
    pub struct ExternalSecret {
        /// The (Cluster)SecretStore to read from.
        secret_store_ref: StoreRef,
        /// Key of the password in the store.
        remote_key: String,
        /// Property within that key, when the store holds JSON.
        remote_property: String,
        /// The store's version of the previous password (for example
        /// `AWSPREVIOUS`), written to `auth.previousSecretKey`.
        previous_version: String,
        /// Refresh interval (default 1h).
        #[schemars(extend("default" = "1h"))]
        refresh_interval: String,
    }
}

spec_object! {
    /// Reference to a SecretStore or ClusterSecretStore.
    pub struct StoreRef {
        /// The store's name.
        name: String,
        /// SecretStore (default) or ClusterSecretStore.
        #[schemars(extend("default" = "SecretStore", "enum" = ["SecretStore", "ClusterSecretStore", null]))]
        kind: String,
    }
}

spec_object! {
    /// TLS: name an existing Secret (tls.crt, tls.key, ca.crt) or let cert-manager issue one.
    pub struct Tls {
        /// Existing Secret of type kubernetes.io/tls that includes ca.crt.
        secret_name: String,
        /// Render a cert-manager Certificate instead.
        cert_manager: CertManager,
    }
}

spec_object! {
    /// cert-manager settings.
    pub struct CertManager {
        /// The Issuer or ClusterIssuer that signs the certificate.
        issuer_ref: IssuerRef,
        /// Certificate lifetime (default 2160h).
        #[schemars(extend("default" = "2160h"))]
        duration: String,
        /// Renew this long before expiry (default 360h).
        #[schemars(extend("default" = "360h"))]
        renew_before: String,
    }
}

spec_object! {
    /// A cert-manager Issuer or ClusterIssuer.
    pub struct IssuerRef {
        /// The issuer's name.
        name: String,
        /// Issuer (default) or ClusterIssuer.
        #[schemars(extend("default" = "Issuer"))]
        kind: String,
        /// Default cert-manager.io.
        #[schemars(extend("default" = "cert-manager.io"))]
        group: String,
    }
}

spec_object! {
    /// Prometheus monitoring.
    pub struct Metrics {
        /// Run the redis_exporter sidecar and a metrics Service.
        enabled: bool,
        /// Render a ServiceMonitor (Prometheus Operator).
        service_monitor: bool,
        /// Render a PrometheusRule with alerts.
        prometheus_rule: bool,
        /// Exporter image (default oliver006/redis_exporter, pinned tag).
        image: String,
        /// Labels on the ServiceMonitor and PrometheusRule, for a Prometheus
        /// that selects them (kube-prometheus-stack: `release: <its release name>`).
        service_monitor_labels: SMap<KubeText>,
    }
}

spec_object! {
    /// Network access.
    pub struct NetworkPolicy {
        /// Peers allowed to reach the client port(s).
        allow_from: Vec<Peer>,
    }
}

/// A NetworkPolicy peer, as in Kubernetes.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Peer {
    /// Pods (in the spec's namespace, or those namespaceSelector picks).
    #[serde(default)]
    pub pod_selector: Option<S<LabelSelector>>,
    /// Namespaces whose pods may connect.
    #[serde(default)]
    pub namespace_selector: Option<S<LabelSelector>>,
    /// Addresses outside the cluster.
    #[serde(default)]
    pub ip_block: Option<S<IpBlock>>,
}

/// A label selector (matchLabels only).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelector {
    /// Labels every selected object has.
    #[serde(default)]
    pub match_labels: Option<S<SMap<KubeText>>>,
}

/// An IP block.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IpBlock {
    /// A CIDR, e.g. 10.0.0.0/8.
    pub cidr: S<String>,
    /// CIDRs inside it that may not connect.
    #[serde(default)]
    pub except: Vec<S<String>>,
}

spec_object! {
    /// Pod placement.
    pub struct Scheduling {
        /// Node labels the pods require.
        node_selector: SMap<KubeText>,
        /// Taints the pods tolerate.
        tolerations: Vec<Toleration>,
        /// PriorityClass of the pods (and of the reconcile Job).
        priority_class_name: String,
        /// Spread pods over zones and nodes (default true).
        #[schemars(extend("default" = true))]
        zone_spread: bool,
        /// Cluster mode: pods of one shard on distinct nodes, `required`
        /// (default) or `preferred` (for clusters with few nodes).
        #[schemars(extend("default" = "required"))]
        shard_anti_affinity: AntiAffinity,
        /// Kubernetes' affinity rules, merged with the compiler's:
        /// podAntiAffinity terms are added to its own, the rest is yours.
        affinity: Affinity,
        /// Kubernetes' spread constraints, added to `zoneSpread`'s; one on
        /// a topology key the compiler spreads over replaces its own.
        topology_spread_constraints: Vec<S<TopologySpreadConstraint>>,
    }
}

/// A toleration, as in Kubernetes.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Toleration {
    /// The taint's key (empty with operator Exists: every taint).
    #[serde(default)]
    pub key: Option<S<String>>,
    /// Equal (default) or Exists.
    #[serde(default)]
    #[schemars(extend("enum" = ["Equal", "Exists", null]))]
    pub operator: Option<S<String>>,
    /// The taint's value, with operator Equal.
    #[serde(default)]
    pub value: Option<S<String>>,
    /// NoSchedule, PreferNoSchedule or NoExecute; empty: all.
    #[serde(default)]
    #[schemars(extend("enum" = ["NoSchedule", "PreferNoSchedule", "NoExecute", "", null]))]
    pub effect: Option<S<String>>,
    /// With NoExecute: how long the pod stays once tainted.
    #[serde(default)]
    pub toleration_seconds: Option<S<i64>>,
}

spec_object! {
    /// GitOps settings.
    pub struct Gitops {
        /// Base Argo CD sync wave of the deployment's objects (default 0).
        #[schemars(extend("default" = 0))]
        sync_wave: i32,
        /// Emit an Argo CD Application per spec.
        argocd: ArgoCd,
        /// Emit a Flux Kustomization per spec.
        flux: Flux,
    }
}

spec_object! {
    /// Argo CD Application settings.
    pub struct ArgoCd {
        /// The Argo CD project (default default).
        #[schemars(extend("default" = "default"))]
        project: String,
        /// The git repository Argo CD reads this output from.
        #[serde(rename = "repoURL")]
        repo_url: String,
        /// The branch, tag or commit (default HEAD).
        #[schemars(extend("default" = "HEAD"))]
        target_revision: String,
        /// The cluster's API server (default https://kubernetes.default.svc).
        #[schemars(extend("default" = "https://kubernetes.default.svc"))]
        destination_server: String,
        /// Namespace the Application lives in (default argocd).
        #[schemars(extend("default" = "argocd"))]
        namespace: String,
    }
}

spec_object! {
    /// Flux Kustomization settings.
    pub struct Flux {
        /// The GitRepository (or other source) holding this output.
        source_ref: SourceRef,
        /// Reconcile interval (default 10m).
        #[schemars(extend("default" = "10m"))]
        interval: String,
    }
}

spec_object! {
    /// Flux source reference.
    pub struct SourceRef {
        /// GitRepository (default), OCIRepository or Bucket.
        #[schemars(extend("default" = "GitRepository", "enum" = ["GitRepository", "OCIRepository", "Bucket", null]))]
        kind: String,
        /// The source's name.
        name: String,
        /// The source's namespace (default flux-system).
        #[schemars(extend("default" = "flux-system"))]
        namespace: String,
    }
}

mod placement;
pub use placement::*;
