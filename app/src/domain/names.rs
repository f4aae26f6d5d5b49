use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {0} characters")]
    TooLong(usize),
    #[error("may contain only lowercase letters, digits and single hyphens between them")]
    BadCharacters,
}

/// Lowercase ASCII letters and digits in hyphen-separated words: safe in URLs, emails and HTML.
fn parse_kebab(raw: &str, max: usize) -> Result<String, NameError> {
    if raw.is_empty() {
        return Err(NameError::Empty);
    }
    if raw.len() > max {
        return Err(NameError::TooLong(max));
    }
    let well_formed = raw
        .split('-')
        .all(|word| !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    if well_formed {
        Ok(raw.to_owned())
    } else {
        Err(NameError::BadCharacters)
    }
}

/// The address of a poll: `/polls/{slug}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub const MAX_LEN: usize = 80;

    pub fn parse(raw: &str) -> Result<Self, NameError> {
        parse_kebab(raw, Self::MAX_LEN).map(Slug)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A poll option's public id, unique within its poll (`yes`, `no`, `not-sure`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OptionKey(String);

impl OptionKey {
    pub const MAX_LEN: usize = 40;

    pub fn parse(raw: &str) -> Result<Self, NameError> {
        parse_kebab(raw, Self::MAX_LEN).map(OptionKey)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The same three trait impls for both string newtypes (a macro: trait impls per type).
macro_rules! string_newtype_impls {
    ($t:ty) => {
        impl TryFrom<String> for $t {
            type Error = NameError;
            fn try_from(raw: String) -> Result<Self, NameError> {
                Self::parse(&raw)
            }
        }
        impl From<$t> for String {
            fn from(value: $t) -> String {
                value.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
string_newtype_impls!(Slug);
string_newtype_impls!(OptionKey);

/// Slugs and option ids in the API's schema: the strings `parse` accepts.
#[cfg(feature = "ssr")]
fn kebab_schema(max: usize) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some("^[a-z0-9]+(-[a-z0-9]+)*$"))
        .min_length(Some(1))
        .max_length(Some(max))
        .into()
}

#[cfg(feature = "ssr")]
impl utoipa::PartialSchema for Slug {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        kebab_schema(Self::MAX_LEN)
    }
}

#[cfg(feature = "ssr")]
impl utoipa::ToSchema for Slug {}

#[cfg(feature = "ssr")]
impl utoipa::PartialSchema for OptionKey {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        kebab_schema(Self::MAX_LEN)
    }
}

#[cfg(feature = "ssr")]
impl utoipa::ToSchema for OptionKey {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_words_joined_by_single_hyphens() {
        assert!(Slug::parse("ai-stocks-2023").is_ok());
        assert_eq!(Slug::parse(""), Err(NameError::Empty));
        for bad in ["AI-stocks", "-lead", "trail-", "double--hyphen", "spa ce", "ünï", "a/b", "<script>", "a.b"] {
            assert_eq!(Slug::parse(bad), Err(NameError::BadCharacters), "{bad}");
        }
        assert_eq!(Slug::parse(&"a".repeat(81)), Err(NameError::TooLong(80)));
    }

    #[test]
    fn option_keys_deserialize_only_when_valid() {
        let ok: OptionKey = serde_json::from_str("\"not-sure\"").unwrap();
        assert_eq!(ok.as_str(), "not-sure");
        assert!(serde_json::from_str::<OptionKey>("\"Not Sure\"").is_err());
    }
}
