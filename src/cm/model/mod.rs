//! The CM REST API's JSON, parsed tolerantly and converted to strict domain types.
//!
//! The server's JSON deviates from its own documentation in small ways (numbers
//! where names are documented and back, GUIDs in any dress, NUL characters at
//! the end of strings, `204` with no body). Everything that tolerates those
//! deviations lives here, so the domain types never see them: the wire structs
//! accept almost anything, and [`TryFrom`] turns them into
//! [`Request`] / [`Smartcard`] or says which required field was unusable.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};
use uuid::Uuid;

use crate::domain::card::{Atr, CardId};
use crate::domain::request::{
    DataItem, Request, RequestStatus, RequestType, SmartcardStatus, Text, is_name_only,
};
use crate::domain::smartcard::Smartcard;
use crate::domain::text::{
    COMMENT_MAX_CHARS, FIELD_NAME_MAX_CHARS, VALUE_MAX_CHARS, from_wire, from_wire_owned,
};

/// The date .NET writes for `DateTime.MinValue`: CM's way of saying "never".
pub const DOTNET_MIN_DATE: &str = "0001-01-01T00:00:00";

/// Why a wire object could not become a domain object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// A field the station cannot do without is absent or null.
    #[error("the {object} has no {field}")]
    Missing {
        /// The kind of object ("request", "smart card").
        object: &'static str,
        /// The wire name of the field.
        field: &'static str,
    },
    /// A field the station cannot do without holds something unusable.
    #[error("the {object}'s {field} \"{value}\" is not a GUID")]
    InvalidGuid {
        /// The kind of object ("request", "smart card").
        object: &'static str,
        /// The wire name of the field.
        field: &'static str,
        /// What the server sent, shortened.
        value: String,
    },
}

#[macro_use]
mod lenient;
mod bind;
mod lifecycle;
mod request;
mod smartcard;
#[cfg(test)]
mod tests;

pub use bind::*;
pub use lenient::*;
pub use lifecycle::*;
pub use request::*;
pub use smartcard::*;
