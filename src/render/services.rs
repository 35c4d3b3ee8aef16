//! Services: the headless one every pod registers under, the client entry
//! point, and the metrics Service.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{
    BUS_PORT, Component, METRICS_PORT, REDIS_PORT, SENTINEL_PORT, Wave, headless_name, meta,
    selector,
};
use crate::spec::validate::{Redis, Topology};

/// Label that marks the metrics Service for the ServiceMonitor.
pub const METRICS_LABEL: &str = "redis-gitops.io/metrics";

fn port(name: &str, port: i32) -> ServicePort {
    ServicePort {
        name: Some(name.into()),
        port,
        target_port: Some(IntOrString::String(name.into())),
        protocol: Some("TCP".into()),
        ..ServicePort::default()
    }
}

/// The spec's annotations of a Service, under the compiler's own.
fn annotated(mut metadata: ObjectMeta, spec: &BTreeMap<String, String>) -> ObjectMeta {
    let ours = metadata.annotations.take().unwrap_or_default();
    let mut all = spec.clone();
    all.extend(ours);
    metadata.annotations = Some(all);
    metadata
}

pub fn render(redis: &Redis) -> Vec<Service> {
    let mut out = Vec::new();
    // Headless: stable per-pod DNS names, published before pods are ready so
    // that peers can find each other while they bootstrap.
    let mut ports = vec![port("redis", REDIS_PORT)];
    match redis.topology {
        Topology::Cluster { .. } => ports.push(port("cluster-bus", BUS_PORT)),
        Topology::Sentinel { .. } => ports.push(port("sentinel", SENTINEL_PORT)),
        Topology::Standalone => {}
    }
    out.push(Service {
        metadata: annotated(
            meta(
                redis,
                headless_name(redis),
                Component::Deployment,
                Wave::Prerequisite,
            ),
            &redis.service_annotations.headless,
        ),
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".into()),
            publish_not_ready_addresses: Some(true),
            selector: Some(selector(redis, Component::Deployment)),
            ports: Some(ports),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    });
    // Client entry point: Redis itself, Sentinel in sentinel mode (clients
    // ask Sentinel for the primary), any node in cluster mode (clients follow
    // MOVED redirects to the announced hostnames).
    let (component, client_port) = match redis.topology {
        Topology::Standalone => (Component::Server, port("redis", REDIS_PORT)),
        Topology::Sentinel { .. } => (Component::Sentinel, port("sentinel", SENTINEL_PORT)),
        Topology::Cluster { .. } => (Component::Deployment, port("redis", REDIS_PORT)),
    };
    out.push(Service {
        metadata: annotated(
            meta(
                redis,
                redis.name.clone(),
                Component::Deployment,
                Wave::Prerequisite,
            ),
            &redis.service_annotations.client,
        ),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(selector(redis, component)),
            ports: Some(vec![client_port]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    });
    if redis.metrics.is_some() {
        let mut metadata = meta(
            redis,
            crate::names::metrics(&redis.name),
            Component::Deployment,
            Wave::Prerequisite,
        );
        metadata
            .labels
            .get_or_insert_default()
            .insert(METRICS_LABEL.into(), "true".into());
        out.push(Service {
            metadata,
            spec: Some(ServiceSpec {
                type_: Some("ClusterIP".into()),
                selector: Some(selector(redis, Component::Deployment)),
                ports: Some(vec![port("metrics", METRICS_PORT)]),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        });
    }
    out
}
