//! A rendered deployment folder, read into the typed objects the simulator
//! acts on. Kinds it does not model (NetworkPolicy, PodDisruptionBudget,
//! ServiceAccount, monitoring, cert-manager, External Secrets) are skipped.

use std::collections::BTreeMap;
use std::path::Path;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, Service};

#[derive(Default, Clone)]
pub struct Manifests {
    pub config_maps: BTreeMap<String, BTreeMap<String, String>>,
    pub stateful_sets: BTreeMap<String, StatefulSet>,
    pub jobs: BTreeMap<String, Job>,
    /// Each CronJob as the Job `kubectl create job --from=cronjob/NAME`
    /// makes of it, under the CronJob's name: run by [`super::Sim::run_job`]
    /// when a test says the schedule fires, never by a sync.
    pub cron_jobs: BTreeMap<String, Job>,
    pub services: BTreeMap<String, Service>,
}

pub fn read(dir: &Path) -> Manifests {
    let mut m = Manifests::default();
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("read manifest");
        let value: serde_yaml::Value = serde_yaml::from_str(&text).expect("rendered YAML");
        let kind = value.get("kind").and_then(|k| k.as_str()).unwrap_or("");
        match kind {
            "ConfigMap" => {
                let cm: ConfigMap = serde_yaml::from_value(value.clone()).expect("ConfigMap");
                let name = cm.metadata.name.clone().expect("name");
                m.config_maps.insert(name, cm.data.unwrap_or_default());
            }
            "StatefulSet" => {
                let s: StatefulSet = serde_yaml::from_value(value.clone()).expect("StatefulSet");
                m.stateful_sets
                    .insert(s.metadata.name.clone().expect("name"), s);
            }
            "Job" => {
                let j: Job = serde_yaml::from_value(value.clone()).expect("Job");
                m.jobs.insert(j.metadata.name.clone().expect("name"), j);
            }
            "CronJob" => {
                let c: CronJob = serde_yaml::from_value(value.clone()).expect("CronJob");
                let name = c.metadata.name.clone().expect("name");
                let template = c.spec.expect("spec").job_template;
                let job = Job {
                    metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                        name: Some(name.clone()),
                        namespace: c.metadata.namespace,
                        ..Default::default()
                    },
                    spec: template.spec,
                    status: None,
                };
                m.cron_jobs.insert(name, job);
            }
            "Service" => {
                let s: Service = serde_yaml::from_value(value.clone()).expect("Service");
                m.services.insert(s.metadata.name.clone().expect("name"), s);
            }
            _ => {}
        }
    }
    m
}
