//! Identity and policy: ServiceAccount, NetworkPolicy, PodDisruptionBudgets.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::workload::shard_name;
use super::{BUS_PORT, Component, METRICS_PORT, REDIS_PORT, SENTINEL_PORT, Wave, meta, selector};
use crate::spec::validate::{Redis, Topology};

/// A ServiceAccount of its own, with no token: the pods never call the API.
pub fn service_account(redis: &Redis) -> ServiceAccount {
    ServiceAccount {
        metadata: meta(
            redis,
            redis.name.clone(),
            Component::Deployment,
            Wave::Prerequisite,
        ),
        automount_service_account_token: Some(false),
        ..ServiceAccount::default()
    }
}

fn tcp(port: i32) -> NetworkPolicyPort {
    NetworkPolicyPort {
        port: Some(IntOrString::Int(port)),
        protocol: Some("TCP".into()),
        ..NetworkPolicyPort::default()
    }
}

fn labels_selector(labels: &BTreeMap<String, String>) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels.clone()),
        ..LabelSelector::default()
    }
}

/// Ingress only from the spec's clients (or, when it names none, from its
/// own namespace), members of the deployment among themselves (replication,
/// cluster bus, sentinel gossip), and scrapers on the metrics port.
pub fn network_policy(redis: &Redis) -> NetworkPolicy {
    let members = selector(redis, Component::Deployment);
    let client_ports = match redis.topology {
        Topology::Sentinel { .. } => vec![tcp(SENTINEL_PORT), tcp(REDIS_PORT)],
        _ => vec![tcp(REDIS_PORT)],
    };
    let clients: Vec<NetworkPolicyPeer> = if redis.allow_from.is_empty() {
        vec![NetworkPolicyPeer {
            namespace_selector: Some(labels_selector(&BTreeMap::from([(
                "kubernetes.io/metadata.name".to_owned(),
                redis.namespace.clone(),
            )]))),
            ..NetworkPolicyPeer::default()
        }]
    } else {
        redis
            .allow_from
            .iter()
            .map(|p| NetworkPolicyPeer {
                pod_selector: p.pod_labels.as_ref().map(labels_selector),
                namespace_selector: p.namespace_labels.as_ref().map(labels_selector),
                ip_block: p.ip_block.as_ref().map(|(cidr, except)| IPBlock {
                    cidr: cidr.clone(),
                    except: (!except.is_empty()).then(|| except.clone()),
                }),
            })
            .collect()
    };
    let mut member_ports = vec![tcp(REDIS_PORT)];
    match redis.topology {
        Topology::Cluster { .. } => member_ports.push(tcp(BUS_PORT)),
        Topology::Sentinel { .. } => member_ports.push(tcp(SENTINEL_PORT)),
        Topology::Standalone => {}
    }
    let mut ingress = vec![
        NetworkPolicyIngressRule {
            from: Some(clients),
            ports: Some(client_ports),
        },
        NetworkPolicyIngressRule {
            from: Some(vec![NetworkPolicyPeer {
                pod_selector: Some(labels_selector(&members)),
                ..NetworkPolicyPeer::default()
            }]),
            ports: Some(member_ports),
        },
    ];
    if redis.metrics.is_some() {
        // Scrapers live in other namespaces; the port serves read-only metrics.
        ingress.push(NetworkPolicyIngressRule {
            from: None,
            ports: Some(vec![tcp(METRICS_PORT)]),
        });
    }
    NetworkPolicy {
        metadata: meta(
            redis,
            redis.name.clone(),
            Component::Deployment,
            Wave::Prerequisite,
        ),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(labels_selector(&members)),
            policy_types: Some(vec!["Ingress".into()]),
            ingress: Some(ingress),
            ..NetworkPolicySpec::default()
        }),
    }
}

fn pdb(redis: &Redis, name: String, component: Component) -> PodDisruptionBudget {
    PodDisruptionBudget {
        metadata: meta(redis, name, component, Wave::Prerequisite),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(labels_selector(&selector(redis, component))),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    }
}

/// One voluntary disruption at a time per group of pods that serve together.
pub fn disruption_budgets(redis: &Redis) -> Vec<PodDisruptionBudget> {
    match redis.topology {
        Topology::Standalone => Vec::new(),
        Topology::Sentinel { sentinels, .. } => {
            let mut out = vec![pdb(redis, redis.name.clone(), Component::Server)];
            if sentinels > 1 {
                out.push(pdb(
                    redis,
                    crate::names::sentinel(&redis.name),
                    Component::Sentinel,
                ));
            }
            out
        }
        Topology::Cluster {
            shards,
            replicas_per_shard,
            ..
        } if replicas_per_shard > 0 => (0..shards)
            .map(|i| pdb(redis, shard_name(redis, i), Component::Shard(i)))
            .collect(),
        Topology::Cluster { .. } => Vec::new(),
    }
}
