//! Why a form cannot be sent yet, in the words the form shows under itself:
//! each names what is missing and what to type or press.

/// Required data items of the workflow without a value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "Fill in what the workflow requires before sending: {}.",
    .names.join(", ")
)]
pub struct MissingItems {
    /// Each item's name, with its validation hint when it has one
    /// (`EmployeeID (must match ^E[0-9]{4}$)`).
    pub names: Vec<String>,
}

/// Why a new request has no user yet.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NoUser {
    /// The GUID field is empty or not a GUID.
    #[error("Type the person's user GUID (their account's objectGUID).")]
    NoGuid,
    /// No card ID looked up yet.
    #[error("Type the person's permanent card ID and press Look up.")]
    NotLookedUp,
    /// The lookup has not been answered yet.
    #[error("Looking the card up in CM…")]
    LookingUp,
    /// CM knows the card but assigns it to nobody.
    #[error("CM names no user for that card.")]
    NoAssignedUser,
    /// CM has no record of the card.
    #[error("CM does not know that card: type the person's user GUID instead.")]
    UnknownCard,
    /// The lookup failed; CM's or the network's words.
    #[error("The card could not be looked up: {0}")]
    LookupFailed(String),
}
