//! Argo CD / Flux settings and monitoring.

use super::*;

impl Cx<'_> {
    pub(super) fn gitops(&mut self, spec: &model::Spec) -> Gitops {
        let Some(g) = &spec.gitops else {
            return Gitops::default();
        };
        let g = &g.value;
        let argocd = g.argocd.as_ref().and_then(|a| {
            let repo_url = self
                .required(&a.value.repo_url, a.span, "argocd.repoURL")?
                .value
                .clone();
            Some(ArgoCd {
                project: val(&a.value.project).unwrap_or_else(|| "default".into()),
                repo_url,
                target_revision: val(&a.value.target_revision).unwrap_or_else(|| "HEAD".into()),
                destination_server: val(&a.value.destination_server)
                    .unwrap_or_else(|| "https://kubernetes.default.svc".into()),
                namespace: val(&a.value.namespace).unwrap_or_else(|| "argocd".into()),
            })
        });
        let flux = g.flux.as_ref().and_then(|f| {
            let src = self
                .required(&f.value.source_ref, f.span, "flux.sourceRef")?
                .clone();
            let name = self
                .required(&src.value.name, src.span, "sourceRef.name")?
                .value
                .clone();
            const KINDS: [&str; 3] = ["GitRepository", "OCIRepository", "Bucket"];
            if let Some(k) = src
                .value
                .kind
                .as_ref()
                .filter(|k| !KINDS.contains(&k.value.as_str()))
            {
                let mut message = format!("unknown Flux source kind '{}'", k.value);
                if let Some(best) = crate::diag::did_you_mean(&k.value, KINDS) {
                    message.push_str(&format!("; did you mean '{best}'?"));
                }
                self.err(k.span, message).help = Some(format!(
                    "a Flux Kustomization reads from one of: {}",
                    KINDS.join(", ")
                ));
                return None;
            }
            Some(Flux {
                source_kind: val(&src.value.kind).unwrap_or_else(|| "GitRepository".into()),
                source_name: name,
                source_namespace: val(&src.value.namespace).unwrap_or_else(|| "flux-system".into()),
                interval: val(&f.value.interval).unwrap_or_else(|| "10m".into()),
            })
        });
        Gitops {
            sync_wave: val(&g.sync_wave).unwrap_or(0),
            argocd,
            flux,
        }
    }
    pub(super) fn metrics(&mut self, m: &S<model::Metrics>) -> Option<Metrics> {
        let enabled = val(&m.value.enabled).unwrap_or(false);
        let service_monitor = val(&m.value.service_monitor).unwrap_or(false);
        let prometheus_rule = val(&m.value.prometheus_rule).unwrap_or(false);
        let monitor_labels = self.labels(m.value.service_monitor_labels.as_ref());
        if let Some(l) = m
            .value
            .service_monitor_labels
            .as_ref()
            .filter(|_| !service_monitor && !prometheus_rule)
        {
            self.err(
                l.span,
                "serviceMonitorLabels needs serviceMonitor: true or prometheusRule: true",
            );
        }
        if !enabled {
            for (f, n) in [
                (&m.value.service_monitor, "serviceMonitor"),
                (&m.value.prometheus_rule, "prometheusRule"),
            ] {
                if let Some(f) = f.as_ref().filter(|f| f.value) {
                    self.err(f.span, format!("{n} needs metrics.enabled: true"));
                }
            }
            return None;
        }
        Some(Metrics {
            image: val(&m.value.image).unwrap_or_else(|| DEFAULT_EXPORTER_IMAGE.into()),
            service_monitor,
            prometheus_rule,
            monitor_labels: monitor_labels?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::says;

    #[test]
    fn monitoring_needs_metrics() {
        says(
            "  metrics: {serviceMonitor: true}\n",
            "serviceMonitor needs metrics.enabled: true",
        );
    }

    #[test]
    fn flux_sources_are_the_kinds_flux_reads() {
        says(
            "  gitops: {flux: {sourceRef: {kind: GitRepo, name: r}}}\n",
            "unknown Flux source kind 'GitRepo'; did you mean 'GitRepository'?",
        );
    }

    #[test]
    fn service_monitor_labels_are_labels_of_a_monitor() {
        says(
            "  metrics: {enabled: true, serviceMonitorLabels: {release: kps}}\n",
            "serviceMonitorLabels needs serviceMonitor: true or prometheusRule: true",
        );
        says(
            "  metrics: {enabled: true, serviceMonitor: true, serviceMonitorLabels: {release: -x}}\n",
            "'-x' is not a valid label value",
        );
    }
}
