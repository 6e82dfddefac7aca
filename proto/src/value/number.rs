//! cty numbers: arbitrary-precision decimals in Terraform, so this type never
//! rounds what it was given.
//!
//! Terraform sends a number as a msgpack integer when it is one, as a float64
//! when the float is exact, and otherwise as its decimal text (0.1 is not
//! exact in binary, so it travels as the string "0.1"). A [`Number`] keeps
//! whichever form arrived and sends the same form back, so values a provider
//! merely passes through compare equal on Terraform's side.

use std::fmt;
use std::str::FromStr;

/// Numbers compare by value as written in decimal: `2.5` given as text
/// equals `2.5` given as a float, and `1.50` equals `1.5`. (A float is
/// taken at its shortest decimal form, so the float nearest 0.1 equals 0.1.)
#[derive(Clone, Debug)]
pub struct Number(pub(crate) Repr);

#[derive(Clone, Debug)]
pub(crate) enum Repr {
    Int(i64),
    /// A binary float, exactly as received or given; never a whole number
    /// that fits an `i64` (those are `Int`).
    Float(f64),
    /// Decimal text in cty's syntax: `-?digits(.digits)?(e[+-]?digits)?`.
    Decimal(String),
}

impl Number {
    /// The value as an `i64`, when it is a whole number in range.
    pub fn as_i64(&self) -> Option<i64> {
        match &self.0 {
            Repr::Int(i) => Some(*i),
            Repr::Float(_) => None,
            Repr::Decimal(s) => s.parse().ok(),
        }
    }

    /// The value as the nearest `f64` (possibly rounded).
    pub fn as_f64(&self) -> f64 {
        match &self.0 {
            Repr::Int(i) => *i as f64,
            Repr::Float(f) => *f,
            Repr::Decimal(s) => s.parse().unwrap_or(f64::NAN),
        }
    }

    /// Parses decimal text such as `42`, `-0.5` or `1e100`.
    pub fn parse(text: &str) -> Option<Number> {
        let text = text.trim();
        if !is_decimal_syntax(text) {
            return None;
        }
        Some(match text.parse::<i64>() {
            Ok(i) => Number(Repr::Int(i)),
            Err(_) => Number(Repr::Decimal(text.to_owned())),
        })
    }
}

impl From<i64> for Number {
    fn from(i: i64) -> Self {
        Number(Repr::Int(i))
    }
}

impl From<f64> for Number {
    fn from(f: f64) -> Self {
        // Whole floats become integers, as cty's encoder would send them.
        const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
        if f.is_finite() && f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f) {
            Number(Repr::Int(f as i64))
        } else {
            Number(Repr::Float(f))
        }
    }
}

impl FromStr for Number {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Number::parse(s).ok_or_else(|| format!("{s:?} is not a number"))
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Int(i) => write!(f, "{i}"),
            Repr::Float(x) if x.is_infinite() => {
                f.write_str(if *x > 0.0 { "+Inf" } else { "-Inf" })
            }
            // Rust prints the shortest text that reads back as the same f64.
            Repr::Float(x) => write!(f, "{x}"),
            Repr::Decimal(s) => f.write_str(s),
        }
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Repr::Int(a), Repr::Int(b)) => a == b,
            (Repr::Float(a), Repr::Float(b)) => a == b,
            _ => canonical(self) == canonical(other),
        }
    }
}

/// `(negative, significant digits, exponent)` with value digits × 10^exponent,
/// without leading or trailing zeros; infinities keep their float.
fn canonical(n: &Number) -> Result<(bool, String, i64), u64> {
    let text = match &n.0 {
        Repr::Float(f) if f.is_infinite() => return Err(f.to_bits()),
        // `{:e}` gives the shortest digits that read back as the same float.
        Repr::Float(f) => format!("{f:e}"),
        Repr::Int(i) => i.to_string(),
        Repr::Decimal(s) => s.clone(),
    };
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.as_str()),
    };
    let (mantissa, mut exponent) = match rest.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().unwrap_or(0)),
        None => (rest, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    exponent -= fraction.len() as i64;
    let digits = format!("{whole}{fraction}");
    let digits = digits.trim_start_matches('0');
    let trimmed = digits.trim_end_matches('0');
    exponent += (digits.len() - trimmed.len()) as i64;
    if trimmed.is_empty() {
        return Ok((false, String::new(), 0));
    }
    Ok((negative, trimmed.to_owned(), exponent))
}

fn is_decimal_syntax(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    digits(whole) && fraction.is_none_or(digits) && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_whole_floats_are_ints() {
        assert_eq!(Number::from(3.0).as_i64(), Some(3));
        assert_eq!(Number::parse("42"), Some(Number::from(42)));
        assert_eq!(Number::from(0.5).as_i64(), None);
    }

    #[test]
    fn decimals_keep_their_text() {
        let n = Number::parse("0.1").unwrap();
        assert_eq!(n.to_string(), "0.1");
        let big = Number::parse("123456789012345678901234567890").unwrap();
        assert_eq!(big.to_string(), "123456789012345678901234567890");
        assert_eq!(big.as_i64(), None);
        assert!(Number::parse("1e+100").is_some());
    }

    #[test]
    fn equality_is_by_decimal_value() {
        assert_eq!(Number::from(2.5), Number::parse("2.5").unwrap());
        assert_eq!(
            Number::parse("1.50").unwrap(),
            Number::parse("1.5").unwrap()
        );
        assert_eq!(Number::parse("1e2").unwrap(), Number::from(100));
        assert_eq!(Number::parse("-0.0").unwrap(), Number::from(0));
        assert_ne!(
            Number::parse("0.1").unwrap(),
            Number::parse("0.10000001").unwrap()
        );
        assert_ne!(Number::from(f64::INFINITY), Number::from(f64::NEG_INFINITY));
    }

    #[test]
    fn rejects_non_numbers() {
        for bad in ["", "-", "1.", ".5", "1e", "abc", "1_000", "0x10"] {
            assert!(Number::parse(bad).is_none(), "{bad}");
        }
    }
}
