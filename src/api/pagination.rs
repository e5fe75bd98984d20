//! `?limit=` and opaque keyset cursors.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ServiceError;

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 100;

#[derive(Deserialize, Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 100 (default 50).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Parses `?limit=` (1..=100) with a default.
pub fn limit(raw: Option<&str>, default: u64) -> Result<u64, ServiceError> {
    match raw {
        None => Ok(default),
        Some(raw) => match raw.parse::<u64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(ServiceError::field(
                "limit",
                format!("must be a whole number from 1 to {MAX_LIMIT}"),
            )),
        },
    }
}

/// A cursor is a tagged list of numbers, encoded so clients treat it as opaque.
pub fn encode(tag: &str, parts: &[i64]) -> String {
    let mut plain = tag.to_string();
    for p in parts {
        plain.push('.');
        plain.push_str(&p.to_string());
    }
    URL_SAFE_NO_PAD.encode(plain)
}

/// Decodes a cursor made by `encode` with the same tag and number of parts.
pub fn decode(raw: &str, tag: &str, parts: usize) -> Result<Vec<i64>, ServiceError> {
    let bad = || ServiceError::BadRequest("the cursor is not one this list gave out".into());
    let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| bad())?;
    let plain = String::from_utf8(bytes).map_err(|_| bad())?;
    let mut fields = plain.split('.');
    if fields.next() != Some(tag) {
        return Err(bad());
    }
    let numbers: Vec<i64> = fields
        .map(|f| f.parse::<i64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    if numbers.len() != parts {
        return Err(bad());
    }
    Ok(numbers)
}

/// The row id in a cursor of a list ordered by id (`None` without a cursor).
pub fn id_after(raw: Option<&str>, tag: &str) -> Result<Option<i64>, ServiceError> {
    raw.map(|c| decode(c, tag, 1).map(|parts| parts[0]))
        .transpose()
}

/// The cursor after the last row of a page ordered by id, when more rows follow.
pub fn next_by_id(more: bool, tag: &str, last_id: Option<i64>) -> Option<String> {
    more.then(|| encode(tag, &[last_id.unwrap_or(0)]))
}

/// Splits a page fetched with `limit + 1` rows into the page and whether more follow.
pub fn split<T>(mut rows: Vec<T>, limit: u64) -> (Vec<T>, bool) {
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    (rows, more)
}

/// A page of a list ordered by id: `?limit=` and the cursor of the list tagged `tag`.
pub struct IdPage {
    pub limit: u64,
    pub before: Option<i64>,
    tag: &'static str,
}

impl IdPage {
    pub fn parse(
        limit: Option<&str>,
        cursor: Option<&str>,
        tag: &'static str,
    ) -> Result<IdPage, ServiceError> {
        Ok(IdPage {
            limit: self::limit(limit, DEFAULT_LIMIT)?,
            before: id_after(cursor, tag)?,
            tag,
        })
    }

    /// The page of rows fetched with `limit + 1`, and the cursor of the next page.
    pub fn finish<T>(&self, rows: Vec<T>, id: impl Fn(&T) -> i64) -> (Vec<T>, Option<String>) {
        let (rows, more) = split(rows, self.limit);
        let next = next_by_id(more, self.tag, rows.last().map(id));
        (rows, next)
    }
}

/// `?status=` of an outbox (`pending`, `sent` or `failed`), when given.
pub fn delivery_status<S: std::str::FromStr>(raw: Option<&str>) -> Result<Option<S>, ServiceError> {
    raw.map(|r| {
        r.parse::<S>()
            .map_err(|_| ServiceError::field("status", "must be `pending`, `sent` or `failed`"))
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_other_lists() {
        let c = encode("n", &[42]);
        assert_eq!(decode(&c, "n", 1).unwrap(), vec![42]);
        assert!(decode(&c, "o", 1).is_err());
        assert!(decode(&c, "n", 2).is_err());
        for bad in [
            "",
            "!!!",
            "bm90LWEtbnVtYmVy",
            &URL_SAFE_NO_PAD.encode("n.abc"),
        ] {
            assert!(decode(bad, "n", 1).is_err(), "{bad}");
        }
    }

    #[test]
    fn limits_are_checked() {
        assert_eq!(limit(None, 50).unwrap(), 50);
        assert_eq!(limit(Some("100"), 50).unwrap(), 100);
        for bad in ["0", "101", "-1", "ten"] {
            assert!(limit(Some(bad), 50).is_err());
        }
    }
}
