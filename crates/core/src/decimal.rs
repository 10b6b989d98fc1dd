//! Exact decimal arithmetic for INCRBYFLOAT and HINCRBYFLOAT.
//!
//! Redis adds in 80-bit `long double` and prints `%.17Lf` with trailing zeros trimmed, so
//! `1.23` stays `1.23` and `0.1 + 0.2` is `0.3`. Doubles cannot reproduce that; exact decimal
//! addition rounded to 17 fractional digits does, for every sum Redis represents exactly (up
//! to about 19 significant digits), and is exact beyond that where Redis would round.

use crate::args::parse_f64;
use std::cmp::Ordering;

/// Fractional digits kept in results, as Redis's `%.17Lf`.
const FRACTION_DIGITS: i64 = 17;
/// Largest decimal exponent accepted, about `long double`'s range.
const EXPONENT_MAX: i64 = 4932;

/// `digits × 10^exponent`, digits most significant first, no leading zeros.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    exponent: i64,
}

/// A parsed number: finite and exact, or infinite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Number {
    Finite(Decimal),
    Infinite,
}

impl Number {
    /// Parses text as Redis's `string2ld` would accept it; `None` when it would not.
    pub fn parse(text: &[u8]) -> Option<Number> {
        // Validation (whitespace, trailing junk, NaN, hex) follows the float parser exactly.
        let approximate = parse_f64(text)?;
        if approximate.is_infinite() && !looks_decimal(text) {
            return Some(Number::Infinite);
        }
        match Decimal::parse(text) {
            Some(decimal) => Some(Number::Finite(decimal)),
            // Hexadecimal floats are exact binary fractions: expand the double.
            None if approximate.is_finite() => {
                Decimal::parse(format!("{approximate:e}").as_bytes()).map(Number::Finite)
            }
            None => None,
        }
    }

    pub fn is_infinite(&self) -> bool {
        matches!(self, Number::Infinite)
    }
}

fn looks_decimal(text: &[u8]) -> bool {
    text.iter().all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
}

impl Decimal {
    fn zero() -> Decimal {
        Decimal { negative: false, digits: Vec::new(), exponent: 0 }
    }

    /// `[+-]digits[.digits][e[+-]digits]`.
    fn parse(text: &[u8]) -> Option<Decimal> {
        let text = std::str::from_utf8(text).ok()?;
        let (negative, body) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match body.find(['e', 'E']) {
            Some(at) => (&body[..at], body[at + 1..].parse::<i64>().ok()?),
            None => (body, 0),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if whole.is_empty() && fraction.is_empty() {
            return None;
        }
        if !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits: Vec<u8> = whole.bytes().chain(fraction.bytes()).map(|b| b - b'0').collect();
        let exponent = exponent.checked_sub(fraction.len() as i64)?;
        Some(Decimal { negative, digits, exponent }.normalized()).filter(|d| d.magnitude_exponent() <= EXPONENT_MAX)
    }

    fn normalized(mut self) -> Decimal {
        let leading = self.digits.iter().take_while(|&&d| d == 0).count();
        self.digits.drain(..leading);
        while self.digits.last() == Some(&0) {
            self.digits.pop();
            self.exponent += 1;
        }
        if self.digits.is_empty() {
            return Decimal::zero();
        }
        self
    }

    fn magnitude_exponent(&self) -> i64 {
        self.exponent + self.digits.len() as i64
    }

    /// The digits aligned to `exponent` (which must not exceed `self.exponent`).
    fn aligned(&self, exponent: i64, length: usize) -> Vec<u8> {
        let mut digits = self.digits.clone();
        digits.resize(digits.len() + (self.exponent - exponent) as usize, 0);
        let mut padded = vec![0; length - digits.len()];
        padded.extend(digits);
        padded
    }

    pub fn add(&self, other: &Decimal) -> Decimal {
        if self.digits.is_empty() {
            return other.clone();
        }
        if other.digits.is_empty() {
            return self.clone();
        }
        let exponent = self.exponent.min(other.exponent);
        let length = 1 + (self.magnitude_exponent().max(other.magnitude_exponent()) - exponent) as usize;
        let (a, b) = (self.aligned(exponent, length), other.aligned(exponent, length));
        if self.negative == other.negative {
            let mut sum = vec![0u8; length];
            let mut carry = 0;
            for i in (0..length).rev() {
                let digit = a[i] + b[i] + carry;
                sum[i] = digit % 10;
                carry = digit / 10;
            }
            return Decimal { negative: self.negative, digits: sum, exponent }.normalized();
        }
        let (big, small, negative) = match a.cmp(&b) {
            Ordering::Equal => return Decimal::zero(),
            Ordering::Greater => (a, b, self.negative),
            Ordering::Less => (b, a, other.negative),
        };
        let mut difference = vec![0u8; length];
        let mut borrow = 0i8;
        for i in (0..length).rev() {
            let mut digit = big[i] as i8 - small[i] as i8 - borrow;
            borrow = i8::from(digit < 0);
            if digit < 0 {
                digit += 10;
            }
            difference[i] = digit as u8;
        }
        Decimal { negative, digits: difference, exponent }.normalized()
    }

    /// Fixed-point text with at most 17 fractional digits (rounded half to even), trailing
    /// zeros trimmed, never `-0`.
    pub fn to_text(&self) -> String {
        let mut value = self.clone();
        if value.exponent < -FRACTION_DIGITS {
            let drop = (-FRACTION_DIGITS - value.exponent) as usize;
            let keep = value.digits.len().saturating_sub(drop);
            let (kept, dropped) = value.digits.split_at(keep);
            let mut kept = kept.to_vec();
            let dropped = if drop > value.digits.len() {
                let mut padded = vec![0; drop - value.digits.len()];
                padded.extend_from_slice(&value.digits);
                padded
            } else {
                dropped.to_vec()
            };
            let round_up = match dropped.first().copied().unwrap_or(0).cmp(&5) {
                Ordering::Greater => true,
                Ordering::Less => false,
                Ordering::Equal => dropped[1..].iter().any(|&d| d != 0) || kept.last().is_some_and(|&d| d % 2 == 1),
            };
            if round_up {
                let mut i = kept.len();
                loop {
                    if i == 0 {
                        kept.insert(0, 1);
                        break;
                    }
                    i -= 1;
                    if kept[i] == 9 {
                        kept[i] = 0;
                    } else {
                        kept[i] += 1;
                        break;
                    }
                }
            }
            value = Decimal { negative: value.negative, digits: kept, exponent: -FRACTION_DIGITS }.normalized();
        }
        if value.digits.is_empty() {
            return "0".to_string();
        }
        let digits: String = value.digits.iter().map(|d| char::from(b'0' + d)).collect();
        let mut text = String::new();
        if value.negative {
            text.push('-');
        }
        if value.exponent >= 0 {
            text.push_str(&digits);
            text.extend(std::iter::repeat_n('0', value.exponent as usize));
        } else {
            let fraction = (-value.exponent) as usize;
            if digits.len() > fraction {
                text.push_str(&digits[..digits.len() - fraction]);
                text.push('.');
                text.push_str(&digits[digits.len() - fraction..]);
            } else {
                text.push_str("0.");
                text.extend(std::iter::repeat_n('0', fraction - digits.len()));
                text.push_str(&digits);
            }
        }
        text
    }
}

/// `current + increment` as INCRBYFLOAT prints it; `None` if the sum is infinite.
pub fn add_texts(current: &Number, increment: &Number) -> Option<String> {
    match (current, increment) {
        (Number::Finite(a), Number::Finite(b)) => {
            let sum = a.add(b);
            (sum.magnitude_exponent() <= EXPONENT_MAX).then(|| sum.to_text())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(a: &str, b: &str) -> String {
        add_texts(&Number::parse(a.as_bytes()).unwrap(), &Number::parse(b.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn matches_redis_long_double_output() {
        assert_eq!(sum("0", "10.5"), "10.5");
        assert_eq!(sum("1.5", "1.5"), "3");
        assert_eq!(sum("17179869184", "1.5"), "17179869185.5");
        assert_eq!(sum("17179869184", "17179869184"), "34359738368");
        assert_eq!(sum("1", "-1.1"), "-0.1");
        assert_eq!(sum("0.1", "0.2"), "0.3");
        assert_eq!(sum("1.23", "0"), "1.23");
        assert_eq!(sum("1.23", "+0.77"), "2");
        assert_eq!(sum("2", "-0.1"), "1.9");
        assert_eq!(sum("5.0e3", "200"), "5200");
        assert_eq!(sum("0", "1e-20"), "0");
        assert_eq!(sum("0", "1e20"), "100000000000000000000");
        assert_eq!(sum("0.024390243902439025", "-0.024390243902439025"), "0");
        assert_eq!(sum("0", "0.000000000000000015"), "0.00000000000000002");
        assert_eq!(sum("0", "0x1p3"), "8");
        assert_eq!(sum(".5", "5."), "5.5");
    }

    #[test]
    fn infinities_are_refused() {
        assert!(Number::parse(b"+inf").unwrap().is_infinite());
        assert!(Number::parse(b"-Infinity").unwrap().is_infinite());
        assert_eq!(add_texts(&Number::parse(b"1").unwrap(), &Number::parse(b"inf").unwrap()), None);
        assert_eq!(Number::parse(b"nan"), None);
        assert_eq!(Number::parse(b" 1"), None);
        assert_eq!(Number::parse(b"1x"), None);
    }
}
