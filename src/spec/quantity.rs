//! Kubernetes resource quantities, parsed exactly and printed in the API
//! server's canonical form (what `kubectl get -o yaml` shows back), so that a
//! committed manifest never differs from the live object by spelling alone:
//! `1024Mi` is written `1Gi`, `0.5` is written `500m`, `1000` is `1k`.
//!
//! Values are held as an integer count of nano-units; Kubernetes rounds finer
//! precision up to the nano, and so do we.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Format {
    BinarySi,
    DecimalSi,
    DecimalExponent,
}

/// A parsed quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quantity {
    nanos: i128,
    format: Format,
}

const NANO: i128 = 1_000_000_000;

impl Quantity {
    /// Parses a quantity such as `4Gi`, `500m`, `1.5`, `2e3`.
    pub fn parse(text: &str) -> Result<Quantity, String> {
        let s = text.trim();
        if s.is_empty() {
            return Err("empty quantity".into());
        }
        let (sign, rest) = match s.as_bytes()[0] {
            b'-' => (-1, &s[1..]),
            b'+' => (1, &s[1..]),
            _ => (1, s),
        };
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(num_end);
        let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
        if (int_part.is_empty() && frac_part.is_empty()) || frac_part.contains('.') {
            return Err(format!("'{text}' is not a quantity"));
        }
        // mantissa as an integer and its decimal exponent.
        let digits = format!("{int_part}{frac_part}");
        let digits = digits.trim_start_matches('0');
        if digits.len() > 30 {
            return Err(format!("'{text}' is too large"));
        }
        let mantissa: i128 = if digits.is_empty() {
            0
        } else {
            digits
                .parse()
                .map_err(|_| format!("'{text}' is not a quantity"))?
        };
        let mut exp10: i32 = -i32::try_from(frac_part.len()).map_err(|_| "too long")?;
        let mut mult: i128 = 1;
        let format = match suffix {
            "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => {
                let k = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
                    .iter()
                    .position(|x| *x == suffix)
                    .unwrap_or(0);
                mult = 1024_i128.pow(u32::try_from(k + 1).unwrap_or(1));
                Format::BinarySi
            }
            "n" | "u" | "m" | "" | "k" | "M" | "G" | "T" | "P" | "E" => {
                let e = match suffix {
                    "n" => -9,
                    "u" => -6,
                    "m" => -3,
                    "" => 0,
                    "k" => 3,
                    "M" => 6,
                    "G" => 9,
                    "T" => 12,
                    "P" => 15,
                    _ => 18,
                };
                exp10 += e;
                Format::DecimalSi
            }
            s if s.starts_with(['e', 'E']) => {
                let e: i32 = s[1..]
                    .parse()
                    .map_err(|_| format!("'{text}' has an invalid exponent"))?;
                if !(-30..=30).contains(&e) {
                    return Err(format!("'{text}' is out of range"));
                }
                exp10 += e;
                Format::DecimalExponent
            }
            _ => return Err(format!("'{text}' has an unknown suffix '{suffix}'")),
        };
        // nanos = mantissa * mult * 10^(exp10 + 9), rounded up.
        let scale = exp10 + 9;
        let value = mantissa
            .checked_mul(mult)
            .ok_or_else(|| format!("'{text}' is too large"))?;
        let nanos = if scale >= 0 {
            10_i128
                .checked_pow(u32::try_from(scale).unwrap_or(0))
                .and_then(|p| value.checked_mul(p))
                .ok_or_else(|| format!("'{text}' is too large"))?
        } else {
            let div = 10_i128
                .checked_pow(scale.unsigned_abs())
                .ok_or_else(|| format!("'{text}' is too precise"))?;
            (value + div - 1) / div
        };
        if nanos > i128::from(i64::MAX) * NANO {
            return Err(format!("'{text}' is too large"));
        }
        Ok(Quantity {
            nanos: sign * nanos,
            format,
        })
    }

    /// Builds a byte quantity written in binary units where it can be.
    pub fn from_bytes(bytes: u64) -> Quantity {
        Quantity {
            nanos: i128::from(bytes) * NANO,
            format: Format::BinarySi,
        }
    }

    /// The value rounded up to a whole unit (bytes for memory).
    pub fn whole_units(&self) -> i128 {
        (self.nanos + NANO - 1).div_euclid(NANO)
    }

    /// The value in milli-units (millicores for CPU).
    pub fn millis(&self) -> i128 {
        (self.nanos + 999_999).div_euclid(1_000_000)
    }

    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    /// The same amount, however written (`1Gi` and `1024Mi`, `1` and `1000m`).
    pub fn same_amount(&self, other: &Quantity) -> bool {
        self.nanos == other.nanos
    }
    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }
}

/// Written as Kubernetes writes it (`plan --format json`).
impl serde::Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl fmt::Display for Quantity {
    /// The API server's canonical spelling.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nanos == 0 {
            return f.write_str("0");
        }
        let sign = if self.nanos < 0 { "-" } else { "" };
        let abs = self.nanos.abs();
        if self.format == Format::BinarySi && abs >= 1024 * NANO && abs % NANO == 0 {
            let mut v = abs / NANO;
            let mut k = 0;
            while k < 6 && v % 1024 == 0 {
                v /= 1024;
                k += 1;
            }
            let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][k];
            return write!(f, "{sign}{v}{suffix}");
        }
        // Largest exponent (a multiple of 3, from -9) keeping the mantissa whole.
        let mut v = abs;
        let mut e = -9;
        while e < 18 && v % 1000 == 0 {
            v /= 1000;
            e += 3;
        }
        if self.format == Format::DecimalExponent {
            return if e == 0 {
                write!(f, "{sign}{v}")
            } else {
                write!(f, "{sign}{v}e{e}")
            };
        }
        let suffix = match e {
            -9 => "n",
            -6 => "u",
            -3 => "m",
            0 => "",
            3 => "k",
            6 => "M",
            9 => "G",
            12 => "T",
            15 => "P",
            _ => "E",
        };
        write!(f, "{sign}{v}{suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::Quantity;

    // Expected spellings are those `kubectl` shows back for these inputs
    // (k8s.io/apimachinery resource.Quantity.String()).
    #[test]
    fn canonical_forms() {
        for (input, canonical) in [
            ("4Gi", "4Gi"),
            ("1024Mi", "1Gi"),
            ("1536Mi", "1536Mi"),
            ("0.5Gi", "512Mi"),
            ("1.5", "1500m"),
            ("0.5", "500m"),
            ("500m", "500m"),
            ("1000m", "1"),
            ("1000", "1k"),
            ("2", "2"),
            ("100M", "100M"),
            ("1000M", "1G"),
            ("512", "512"),
            ("1e3", "1e3"),
            ("1000Ki", "1000Ki"),
            ("0", "0"),
            ("0.1m", "100u"),
        ] {
            assert_eq!(
                Quantity::parse(input).unwrap().to_string(),
                canonical,
                "{input}"
            );
        }
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "Gi", "4GB", "1.2.3", "abc", "--1", "1e99"] {
            assert!(Quantity::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bytes() {
        assert_eq!(Quantity::parse("4Gi").unwrap().whole_units(), 4 << 30);
        assert_eq!(Quantity::parse("1.5k").unwrap().whole_units(), 1500);
    }
}
