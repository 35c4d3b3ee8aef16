//! Kubernetes' rules for names, labels, CIDRs and cron schedules.

pub fn is_dns1035_label(s: &str) -> bool {
    is_dns1123_label(s) && s.starts_with(|c: char| c.is_ascii_lowercase())
}

pub fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

pub(super) fn is_label_value(s: &str) -> bool {
    s.is_empty()
        || (s.len() <= 63
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

pub(super) fn is_label_key(s: &str) -> bool {
    let (prefix, name) = match s.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    prefix.is_none_or(is_dns1123_subdomain) && !name.is_empty() && is_label_value(name)
}

pub(super) fn is_cidr(s: &str) -> bool {
    let Some((ip, bits)) = s.split_once('/') else {
        return false;
    };
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => bits.parse::<u8>().is_ok_and(|b| b <= 32),
        Ok(std::net::IpAddr::V6(_)) => bits.parse::<u8>().is_ok_and(|b| b <= 128),
        Err(_) => false,
    }
}

/// Every ten minutes: a replaced replica waits at most that long for its
/// shard, and a converged cluster costs one short pod run.
pub const DEFAULT_REPAIR_SCHEDULE: &str = "*/10 * * * *";

/// A schedule the CronJob controller accepts: five fields of digits, names,
/// `*`, `?`, `,`, `-` and `/`, or one of its macros.
pub(super) fn is_cron_schedule(s: &str) -> bool {
    const MACROS: [&str; 7] = [
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
    ];
    if MACROS.contains(&s.trim()) {
        return true;
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    fields.len() == 5
        && fields.iter().all(|f| {
            f.chars()
                .all(|c| c.is_ascii_alphanumeric() || "*?,-/".contains(c))
        })
}

#[cfg(test)]
mod tests {
    use super::is_cron_schedule;

    #[test]
    fn cron_schedules() {
        for ok in [
            "*/10 * * * *",
            "0 3 * * MON-FRI",
            "5,35 */2 1-15 * ?",
            "@hourly",
        ] {
            assert!(is_cron_schedule(ok), "{ok}");
        }
        for bad in [
            "",
            "every 10 minutes",
            "* * * *",
            "*/10 * * * * *",
            "@often",
            "0 3 * * $",
        ] {
            assert!(!is_cron_schedule(bad), "{bad}");
        }
    }
}
