//! Smart card objects, profile templates and a template's smart card
//! configuration on the wire.

use super::*;

/// A CM Smartcard object as it travels over the wire.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireSmartcard {
    /// The object's GUID.
    pub uuid: Option<String>,
    /// `Status`, a number or a name.
    pub status: Option<WireEnum>,
    /// Smart card flags (Primary = 1, inferred).
    pub flags: i64,
    /// The card this one was derived from.
    pub parent_smartcard_uuid: Option<String>,
    /// The primary card of a temporary card.
    pub primary_smartcard_uuid: Option<String>,
    /// The permanent card of a temporary card.
    pub permanent_smartcard_uuid: Option<String>,
    /// The user the card is assigned to.
    pub assigned_user_uuid: Option<String>,
    /// The profile template it was issued with.
    pub profile_template_uuid: Option<String>,
    /// The template's version.
    pub profile_template_version: i64,
    /// Free text.
    pub comment: Option<String>,
    /// The card ID in braces, e.g. `{bc88f13f-...}`.
    pub serial_number: Option<String>,
    /// The middleware, e.g. `MSBaseCSP`.
    pub middleware: Option<String>,
    /// The ATR as hex.
    pub atr: Option<String>,
}

any_case_keys!(WireSmartcard, "a CM smart card object" {
    uuid: "Uuid" => AnyString,
    status: "Status" => AnyEnum,
    flags: "Flags" => AnyI64,
    parent_smartcard_uuid: "ParentSmartcardUuid" => AnyString,
    primary_smartcard_uuid: "PrimarySmartcardUuid" => AnyString,
    permanent_smartcard_uuid: "PermanentSmartcardUuid" => AnyString,
    assigned_user_uuid: "AssignedUserUuid" => AnyString,
    profile_template_uuid: "ProfileTemplateUuid" => AnyString,
    profile_template_version: "ProfileTemplateVersion" => AnyI64,
    comment: "Comment" => AnyString,
    serial_number: "SerialNumber" => AnyString,
    middleware: "Middleware" => AnyString,
    atr: "Atr" => AnyString,
});

impl WireSmartcard {
    /// The object's GUID, if it has a usable one.
    pub fn parsed_uuid(&self) -> Option<Uuid> {
        self.uuid.as_deref().and_then(parse_optional_guid)
    }

    /// The card ID in `SerialNumber`, if it is one.
    pub fn card_id(&self) -> Option<CardId> {
        // parse_guid does the cleaning; CardId keeps the one byte-order conversion.
        let guid = parse_guid(&strip_nuls(self.serial_number.as_deref()?))?;
        CardId::parse_cm_string(&guid_to_wire(guid))
    }
}

impl TryFrom<WireSmartcard> for Smartcard {
    type Error = ModelError;

    fn try_from(wire: WireSmartcard) -> Result<Self, Self::Error> {
        let uuid = required_guid(wire.uuid.as_deref(), "smart card", "Uuid")?;
        let status = wire
            .status
            .as_ref()
            .map_or(SmartcardStatus(UNRECOGNISED), WireEnum::to_domain);
        let card_id = wire.card_id();
        let atr = wire
            .atr
            .as_deref()
            .and_then(Atr::parse_hex)
            .filter(|a| !a.is_empty());
        Ok(Smartcard {
            uuid,
            status,
            card_id,
            atr,
            assigned_user: optional_guid(wire.assigned_user_uuid.as_deref()),
            profile_template: optional_guid(wire.profile_template_uuid.as_deref()),
        })
    }
}

/// An entry of `GET profiletemplates` as it travels over the wire.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireProfileTemplate {
    /// The template's display name.
    pub name: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// Its GUID.
    pub uuid: Option<String>,
    /// Whether it issues smart cards.
    pub is_smartcard_profile_template: bool,
    /// Whether it issues TPM virtual smart cards.
    pub is_virtual_smartcard_profile_template: bool,
}

any_case_keys!(WireProfileTemplate, "a CM profile template object" {
    name: "Name" => AnyString,
    description: "Description" => AnyString,
    uuid: "Uuid" => AnyString,
    is_smartcard_profile_template: "IsSmartcardProfileTemplate" => AnyBool,
    is_virtual_smartcard_profile_template: "IsVirtualSmartcardProfileTemplate" => AnyBool,
});

/// A CM profile template, strictly typed: what the station shows instead of a GUID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileTemplate {
    /// The template's GUID.
    pub uuid: Uuid,
    /// Its display name.
    pub name: String,
    /// Its description, if any.
    pub description: Option<String>,
    /// Whether it issues smart cards.
    pub is_smartcard: bool,
    /// Whether it issues TPM virtual smart cards.
    pub is_virtual_smartcard: bool,
}

impl TryFrom<WireProfileTemplate> for ProfileTemplate {
    type Error = ModelError;

    fn try_from(wire: WireProfileTemplate) -> Result<Self, Self::Error> {
        let uuid = required_guid(wire.uuid.as_deref(), "profile template", "Uuid")?;
        Ok(ProfileTemplate {
            uuid,
            name: wire
                .name
                .map(|n| from_wire_owned(n, FIELD_NAME_MAX_CHARS))
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| guid_to_wire(uuid)),
            description: wire
                .description
                .map(|d| from_wire_owned(d, COMMENT_MAX_CHARS))
                .filter(|d| !d.is_empty()),
            is_smartcard: wire.is_smartcard_profile_template,
            is_virtual_smartcard: wire.is_virtual_smartcard_profile_template,
        })
    }
}

/// `GET profiletemplates/{id}/configuration/smartcards`, read for its reuse
/// flag only. The answer also holds the template's `DefaultAdminKeyHex`: it
/// has no field here, so it is skipped unread like every other unknown key and
/// can reach no log, journal or screen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireSmartcardConfig {
    /// `AllowSmartcardReuse`: whether a card whose objects are all
    /// discontinued may be issued again. Absent means no.
    pub allow_smartcard_reuse: bool,
}

any_case_keys!(WireSmartcardConfig, "a CM profile template's smart card configuration" {
    allow_smartcard_reuse: "AllowSmartcardReuse" => AnyBool,
});
