//! Backups (a CronJob to S3-compatible storage) and restores (empty volumes
//! of a new deployment seeded from a backup).

use super::*;

/// The uploader's image: rclone, official and pinned, a small Alpine image
/// with the shell tools the scripts use (sha256sum, sed, sort) that speaks
/// S3 and every S3-compatible store, with IRSA and workload identity.
pub const DEFAULT_BACKUP_IMAGE: &str = "rclone/rclone:1.68.2";

impl Cx<'_> {
    pub(super) fn backup(
        &mut self,
        b: &S<model::Backup>,
        name: Option<&str>,
        namespace: Option<&str>,
    ) -> Option<Backup> {
        if let Some(name) = name {
            let cron = crate::names::backup(name);
            // The CronJob controller appends 11 characters to a Job's name.
            if cron.len() > 52 {
                self.err(
                    b.span,
                    format!(
                        "the backup CronJob's name '{cron}' would have {} characters, more than Kubernetes' 52",
                        cron.len()
                    ),
                )
                .help = Some(format!(
                    "shorten the deployment's name by at least {} characters",
                    cron.len() - 52
                ));
                return None;
            }
        }
        let schedule = self.required(&b.value.schedule, b.span, "backup.schedule")?;
        if !is_cron_schedule(&schedule.value) {
            self.err(
                schedule.span,
                format!("'{}' is not a cron schedule", schedule.value),
            )
            .help = Some(
                "five fields: minute hour day-of-month month day-of-week, e.g. \"0 * * * *\", or @hourly / @daily".into(),
            );
            return None;
        }
        let schedule = schedule.value.clone();
        let s3 = self.required(&b.value.s3, b.span, "backup.s3")?;
        let s3 = self.s3(s3, "backup.s3", name, namespace)?;
        let annotations = self.annotations(b.value.service_account_annotations.as_ref());
        if s3.credentials_secret.is_none() && annotations.is_empty() {
            self.err(b.span, "the backup job has no credentials for the bucket")
                .help = Some(
                "name a Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in backup.s3.credentialsSecret, or give the job a cloud identity in backup.serviceAccountAnnotations (IRSA: eks.amazonaws.com/role-arn)".into(),
            );
            return None;
        }
        let keep = match &b.value.keep {
            Some(k) if !(1..=1000).contains(&k.value) => {
                self.err(k.span, format!("keep {} is out of range", k.value))
                    .help = Some(
                    "1 to 1000 complete backups (a run deletes the older ones; 0 would delete the backup it just made)".into(),
                );
                return None;
            }
            k => val(k).unwrap_or(7),
        };
        Some(Backup {
            schedule,
            keep,
            s3,
            service_account_annotations: annotations,
            image: val(&b.value.image).unwrap_or_else(|| DEFAULT_BACKUP_IMAGE.into()),
        })
    }

    fn s3(
        &mut self,
        s3: &S<model::S3>,
        what: &str,
        name: Option<&str>,
        namespace: Option<&str>,
    ) -> Option<S3> {
        let bucket = self.required(&s3.value.bucket, s3.span, &format!("{what}.bucket"))?;
        if !is_bucket_name(&bucket.value) {
            self.err(
                bucket.span,
                format!("'{}' is not a valid bucket name", bucket.value),
            )
            .help = Some("3 to 63 characters: lower-case letters, digits, '.' and '-'".into());
            return None;
        }
        let prefix = match &s3.value.prefix {
            Some(p) => {
                let trimmed = p.value.trim_matches('/');
                if trimmed.is_empty()
                    || !trimmed.bytes().all(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.')
                    })
                    || trimmed
                        .split('/')
                        .any(|part| part.is_empty() || part == "..")
                {
                    self.err(p.span, format!("'{}' is not a usable key prefix", p.value))
                        .help = Some(
                        "letters, digits, '-', '_', '.' and '/' between non-empty parts, e.g. payments/orders".into(),
                    );
                    return None;
                }
                trimmed.to_owned()
            }
            None => format!("{}/{}", namespace?, name?),
        };
        let endpoint = match &s3.value.endpoint {
            Some(e) if e.value.is_empty() => None,
            Some(e) => {
                if !(e.value.starts_with("https://") || e.value.starts_with("http://"))
                    || e.value.contains(char::is_whitespace)
                {
                    self.err(e.span, format!("'{}' is not an endpoint URL", e.value))
                        .help = Some("e.g. https://minio.storage.svc:9000; empty for AWS".into());
                    return None;
                }
                Some(e.value.clone())
            }
            None => None,
        };
        let credentials_secret = match &s3.value.credentials_secret {
            Some(c) if !is_dns1123_subdomain(&c.value) => {
                self.err(c.span, format!("'{}' is not a valid Secret name", c.value));
                return None;
            }
            c => val(c),
        };
        Some(S3 {
            bucket: bucket.value.clone(),
            prefix,
            endpoint,
            region: val(&s3.value.region).unwrap_or_else(|| "us-east-1".into()),
            credentials_secret,
        })
    }

    pub(super) fn restore(
        &mut self,
        spec: &model::Spec,
        backup: Option<&Backup>,
        name: Option<&str>,
        namespace: Option<&str>,
    ) -> Option<Restore> {
        let r = spec.restore.as_ref()?;
        let from = self.required(&r.value.from, r.span, "restore.from")?;
        if from.value != "latest" && !is_backup_name(&from.value) {
            self.err(
                from.span,
                format!("'{}' is not a backup's name", from.value),
            )
            .help =
                Some("'latest', or the name the backup job gave it, e.g. 20261207T180000Z".into());
            return None;
        }
        if spec.storage.is_none() {
            self.err(r.span, "restore needs storage")
                .help = Some(
                "a restore seeds each pod's persistent volume once, when it is empty; add storage: {size: ...}".into(),
            );
            return None;
        }
        let s3 = match (&r.value.s3, backup) {
            (Some(s3), _) => self.s3(s3, "restore.s3", name, namespace)?,
            (None, Some(b)) => b.s3.clone(),
            (None, None) => {
                self.err(r.span, "restore has no bucket to restore from")
                    .help = Some(
                    "set restore.s3 (the bucket and prefix of the backups), or backup.s3".into(),
                );
                return None;
            }
        };
        if s3.credentials_secret.is_none() {
            let at = r.value.s3.as_ref().map_or(r.span, |s| s.span);
            self.err(at, "the restore has no credentials for the bucket")
                .help = Some(
                "name a Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in credentialsSecret (the Redis pods read the bucket before they start)".into(),
            );
            return None;
        }
        Some(Restore {
            from: from.value.clone(),
            s3,
        })
    }
}

/// An S3 bucket name: 3 to 63 of `[a-z0-9.-]`, starting and ending with a
/// letter or digit.
fn is_bucket_name(s: &str) -> bool {
    (3..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric()
}

/// A backup's name as the job makes it: `YYYYMMDDTHHMMSSZ`.
fn is_backup_name(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 16
        && b[8] == b'T'
        && b[15] == b'Z'
        && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{messages, says};

    const S3: &str = "s3: {bucket: redis-backups, credentialsSecret: backup-s3}";

    #[test]
    fn a_backup_with_a_bucket_and_credentials_is_accepted() {
        assert_eq!(
            messages(&format!(
                "  storage: {{size: 1Gi}}\n  backup: {{schedule: \"0 * * * *\", keep: 3, {S3}}}\n  restore: {{from: latest}}\n"
            )),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_backup_needs_a_schedule_a_bucket_and_credentials() {
        says(
            &format!("  backup: {{schedule: hourly, {S3}}}\n"),
            "'hourly' is not a cron schedule",
        );
        says(
            "  backup: {schedule: \"0 * * * *\", s3: {bucket: Redis_Backups, credentialsSecret: s}}\n",
            "'Redis_Backups' is not a valid bucket name",
        );
        says(
            "  backup: {schedule: \"0 * * * *\", s3: {bucket: redis-backups}}\n",
            "the backup job has no credentials for the bucket",
        );
        says(
            &format!("  backup: {{schedule: \"0 * * * *\", keep: 0, {S3}}}\n"),
            "keep 0 is out of range",
        );
        says(
            "  backup: {schedule: \"0 * * * *\", s3: {bucket: b3k, prefix: \"a//b\", credentialsSecret: s}}\n",
            "'a//b' is not a usable key prefix",
        );
    }

    #[test]
    fn a_restore_needs_storage_a_bucket_and_a_backup_name() {
        says("  restore: {from: latest}\n", "restore needs storage");
        says(
            "  storage: {size: 1Gi}\n  restore: {from: latest}\n",
            "restore has no bucket to restore from",
        );
        says(
            &format!("  storage: {{size: 1Gi}}\n  restore: {{from: yesterday, {S3}}}\n"),
            "'yesterday' is not a backup's name",
        );
    }
}
