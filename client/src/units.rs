//! WAL amounts: 1 WAL = 10^9 FROST; parsing and printing decimal WAL.

use alloy::primitives::U256;

/// FROST per WAL.
pub const FROST_PER_WAL: u64 = 1_000_000_000;

/// An amount that is not a decimal number of WAL with at most 9 decimals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid WAL amount {0:?}: expected a decimal number with at most 9 decimals, e.g. 100 or 0.5"
)]
pub struct ParseWalError(pub String);

/// Parses a decimal WAL amount ("100", "0.5", "1.000000001") into FROST.
pub fn parse_wal(s: &str) -> Result<U256, ParseWalError> {
    let err = || ParseWalError(s.to_owned());
    let (int, frac) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
    if int.is_empty() && frac.is_empty() {
        return Err(err());
    }
    if !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 9
    {
        return Err(err());
    }
    let int = if int.is_empty() {
        U256::ZERO
    } else {
        U256::from_str_radix(int, 10).map_err(|_| err())?
    };
    let frac_frost = if frac.is_empty() {
        U256::ZERO
    } else {
        let padded = format!("{frac:0<9}");
        U256::from(padded.parse::<u64>().map_err(|_| err())?)
    };
    int.checked_mul(U256::from(FROST_PER_WAL))
        .and_then(|v| v.checked_add(frac_frost))
        .ok_or_else(err)
}

/// Prints FROST as decimal WAL without trailing zeros ("1.5", "1000").
pub fn format_wal(frost: U256) -> String {
    let per = U256::from(FROST_PER_WAL);
    let int = frost / per;
    let frac = (frost % per).to::<u64>();
    if frac == 0 {
        return int.to_string();
    }
    let frac = format!("{frac:09}");
    format!("{int}.{}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_whole_and_fractional_wal() {
        assert_eq!(parse_wal("100"), Ok(U256::from(100 * FROST_PER_WAL)));
        assert_eq!(parse_wal("0.5"), Ok(U256::from(FROST_PER_WAL / 2)));
        assert_eq!(parse_wal(".5"), Ok(U256::from(FROST_PER_WAL / 2)));
        assert_eq!(parse_wal("1.000000001"), Ok(U256::from(FROST_PER_WAL + 1)));
        assert_eq!(parse_wal("7."), Ok(U256::from(7 * FROST_PER_WAL)));
    }

    #[test]
    fn rejects_malformed_wal() {
        for bad in ["", ".", "1.0000000001", "-1", "1e9", "abc", "1.2.3", " 1 2"] {
            assert_eq!(
                parse_wal(bad),
                Err(ParseWalError(bad.to_owned())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn formats_round_trip() {
        for s in ["0", "1", "1.5", "1000", "0.000000001", "123.456"] {
            assert_eq!(format_wal(parse_wal(s).unwrap_or_default()), s);
        }
    }
}
