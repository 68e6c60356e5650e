//! "New request" without egui: who the request is for (a user GUID typed,
//! found by name in the directory, or a permanent card's user), the profile
//! template (chosen from CM's list, or its GUID typed when the list cannot
//! be read), the type and the workflow's items.
//!
//! The directory search and the template list are asked of the worker and
//! answered by reports; an answer to an earlier search than the one on
//! screen is dropped.

use uuid::Uuid;

use super::{ItemsForm, NoUser};
use crate::app::request_detail::PolicyKey;
use crate::cm::model::ProfileTemplate;
use crate::directory::search::{Matches, PeopleQuery, SearchResult};
use crate::domain::bind::Failure;
use crate::domain::card::CardId;
use crate::domain::card_record::CmStanding;
use crate::domain::person::DirectoryPerson;
use crate::domain::request::RequestType;
use crate::worker::Command;

/// "New request": a temporary card, or Enroll or Duplicate on someone's
/// behalf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRequestForm {
    /// Whether the form is open.
    pub open: bool,
    /// How the person is named.
    pub person_by: PersonBy,
    /// The user GUID or the permanent card's ID, as typed.
    pub person: String,
    /// The request type: TemporaryCards, Enroll or Duplicate.
    pub kind: RequestType,
    /// The profile template's GUID, as typed or chosen.
    pub template: String,
    /// The data items and comment.
    pub form: ItemsForm,
    /// Why the form cannot be sent (person, template).
    pub error: Option<String>,
    /// The permanent card looked up, and CM's answer.
    pub card: Option<(CardId, CmStanding)>,
    /// The search for the person by name or account.
    pub search: PersonSearch,
    /// CM's profile templates, for the drop-down.
    pub templates: TemplateList,
}

/// How the "New request" form names the person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PersonBy {
    /// Their user GUID (CM's `TargetUserUuid`, the directory's `objectGUID`),
    /// typed or filled in by picking them from a directory search.
    UserGuid,
    /// Their permanent card's ID: the card's assigned user.
    CardId,
}

/// The types the "New request" form creates.
pub const NEW_REQUEST_KINDS: [RequestType; 3] = [
    RequestType::TEMPORARY_CARD_ENROLL,
    RequestType::ENROLL,
    RequestType::DUPLICATE,
];

impl Default for NewRequestForm {
    fn default() -> Self {
        NewRequestForm {
            open: false,
            person_by: PersonBy::UserGuid,
            person: String::new(),
            kind: RequestType::TEMPORARY_CARD_ENROLL,
            template: String::new(),
            form: ItemsForm::default(),
            error: None,
            card: None,
            search: PersonSearch::default(),
            templates: TemplateList::default(),
        }
    }
}

impl NewRequestForm {
    /// The template typed or chosen, when it is a GUID.
    pub fn template(&self) -> Option<Uuid> {
        crate::domain::guid::parse(self.template.trim())
    }

    /// The user the request is for: the typed GUID, or the looked-up
    /// card's assigned user. `Err` says why there is none yet.
    pub fn user(&self) -> Result<Uuid, NoUser> {
        match self.person_by {
            PersonBy::UserGuid => {
                crate::domain::guid::parse(self.person.trim()).ok_or(NoUser::NoGuid)
            }
            PersonBy::CardId => match &self.card {
                Some((_, CmStanding::Known(record))) => record
                    .current()
                    .and_then(|card| card.assigned_user)
                    .ok_or(NoUser::NoAssignedUser),
                Some((_, CmStanding::Asking)) => Err(NoUser::LookingUp),
                Some((_, CmStanding::New)) => Err(NoUser::UnknownCard),
                Some((_, CmStanding::Unknown(why))) => Err(NoUser::LookupFailed(why.clone())),
                None => Err(NoUser::NotLookedUp),
            },
        }
    }

    /// Looks up the typed permanent card ID; the command, or why not.
    pub fn look_up_card(&mut self) -> Option<Command> {
        match CardId::parse_cm_string(self.person.trim()) {
            Some(card_id) => {
                self.error = None;
                self.card = Some((card_id, CmStanding::Asking));
                Some(Command::LookUpCard(card_id))
            }
            None => {
                self.error = Some("That is not a card ID.".to_owned());
                None
            }
        }
    }

    /// CM's answer about a card; taken when it is the one asked about.
    pub fn answered(&mut self, card_id: &CardId, standing: &CmStanding) {
        if let Some((asked, known)) = &mut self.card
            && asked == card_id
            && *known == CmStanding::Asking
        {
            *known = standing.clone();
        }
    }

    /// The policy the form's items come from.
    pub fn policy_key(&self) -> Option<PolicyKey> {
        Some((self.template()?, self.kind))
    }

    /// The agent picked `person` from the search: the request is for their
    /// account, by its GUID (shown in the GUID field, checked like a typed one).
    pub fn pick(&mut self, person: &DirectoryPerson) {
        self.person_by = PersonBy::UserGuid;
        self.person = person.user.to_string();
        self.card = None;
        self.error = None;
    }

    /// The agent chose `template` from CM's list.
    pub fn choose_template(&mut self, template: Uuid) {
        self.template = template.to_string();
        self.error = None;
    }

    /// The form closed: the template list is read again at its next
    /// opening (an administrator may have added one meanwhile).
    pub fn closed(&mut self) {
        self.templates.forget();
    }
}

/// The New request form's search for the person by name or account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersonSearch {
    /// The name or account, as typed.
    pub typed: String,
    /// Where the search is.
    pub stage: SearchStage,
}

/// Where a person search is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SearchStage {
    /// Nothing searched yet.
    #[default]
    Idle,
    /// The typed text is not searched for: why, in words.
    Refused(String),
    /// The directory is being searched.
    Searching(PeopleQuery),
    /// The directory answered.
    Found {
        /// What was searched for.
        query: PeopleQuery,
        /// Who matched.
        matches: Matches,
    },
    /// The directory could not be searched: why, and what to do.
    Failed {
        /// What was searched for.
        query: PeopleQuery,
        /// The directory's failure in words.
        why: String,
    },
}

impl PersonSearch {
    /// Search pressed: the command to send, or nothing (why is in
    /// [`PersonSearch::stage`]).
    pub fn start(&mut self) -> Option<Command> {
        match PeopleQuery::parse(&self.typed) {
            Ok(query) => {
                self.stage = SearchStage::Searching(query.clone());
                Some(Command::FindPeople { query })
            }
            Err(why) => {
                self.stage = SearchStage::Refused(why.to_string());
                None
            }
        }
    }

    /// The directory's answer; taken only when it answers the search on
    /// screen (a late answer to an earlier search is dropped).
    pub fn answered(&mut self, query: PeopleQuery, result: SearchResult) {
        if self.stage != SearchStage::Searching(query.clone()) {
            return;
        }
        self.stage = match result {
            Ok(matches) => SearchStage::Found { query, matches },
            Err(why) => SearchStage::Failed { query, why: why.0 },
        };
    }

    /// True while the directory is being searched.
    pub fn searching(&self) -> bool {
        matches!(self.stage, SearchStage::Searching(_))
    }
}

/// CM's profile templates for the drop-down, as far as they are read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TemplateList {
    /// Not asked yet (the form was not open).
    #[default]
    NotRead,
    /// Asked; no answer yet.
    Reading,
    /// CM's smart card templates by name; `software` more were left out
    /// (this form makes smart card requests).
    Read {
        /// The smart card templates, by name.
        templates: Vec<ProfileTemplate>,
        /// How many software templates were left out.
        software: usize,
    },
    /// CM could not be asked: why, in words, with the correlation ID.
    Failed(String),
}

impl TemplateList {
    /// The command that reads the list, when it has not been asked yet.
    pub fn ask(&mut self) -> Option<Command> {
        if *self != TemplateList::NotRead {
            return None;
        }
        *self = TemplateList::Reading;
        Some(Command::ReadTemplates)
    }

    /// "Read again" after a failure.
    pub fn retry(&mut self) -> Option<Command> {
        if matches!(self, TemplateList::Failed(_)) {
            *self = TemplateList::NotRead;
        }
        self.ask()
    }

    /// CM's answer: the smart card templates sorted by name, or the failure.
    pub fn read(&mut self, result: Result<Vec<ProfileTemplate>, Failure>) {
        if *self != TemplateList::Reading {
            return;
        }
        *self = match result {
            Ok(all) => {
                let total = all.len();
                let mut templates: Vec<ProfileTemplate> =
                    all.into_iter().filter(|t| t.is_smartcard).collect();
                templates.sort_by(|a, b| {
                    (a.name.to_lowercase(), a.uuid).cmp(&(b.name.to_lowercase(), b.uuid))
                });
                TemplateList::Read {
                    software: total - templates.len(),
                    templates,
                }
            }
            Err(failure) => TemplateList::Failed(failure.to_string()),
        };
    }

    /// The name of `template` in the list, when it is there.
    pub fn name_of(&self, template: Uuid) -> Option<&str> {
        match self {
            TemplateList::Read { templates, .. } => templates
                .iter()
                .find(|t| t.uuid == template)
                .map(|t| t.name.as_str()),
            _ => None,
        }
    }

    /// Forgets a finished read, so the next opening reads again.
    pub fn forget(&mut self) {
        if *self != TemplateList::Reading {
            *self = TemplateList::NotRead;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::person::DirectoryFailure;

    fn person(n: u128, name: &str) -> DirectoryPerson {
        DirectoryPerson {
            user: Uuid::from_u128(n),
            account: format!("a{n}"),
            principal: None,
            display_name: Some(name.to_owned()),
            photo: None,
        }
    }

    fn template(n: u128, name: &str, smartcard: bool) -> ProfileTemplate {
        ProfileTemplate {
            uuid: Uuid::from_u128(n),
            name: name.to_owned(),
            description: None,
            is_smartcard: smartcard,
            is_virtual_smartcard: false,
        }
    }

    #[test]
    fn a_search_takes_only_its_own_answer_and_a_pick_fills_the_guid() {
        let mut form = NewRequestForm::default();
        form.search.typed = "j".into();
        assert!(form.search.start().is_none(), "one letter is too little");
        assert!(
            matches!(&form.search.stage, SearchStage::Refused(why) if why.contains("at least"))
        );
        form.search.typed = "ja".into();
        let first = PeopleQuery::parse("ja").expect("a query");
        assert!(matches!(
            form.search.start(),
            Some(Command::FindPeople { query }) if query == first
        ));
        form.search.typed = "jan".into();
        let Some(Command::FindPeople { query: second }) = form.search.start() else {
            panic!("a second search");
        };
        // The first search's answer comes late: it is not the one on screen.
        form.search
            .answered(first, Ok(Matches::new(vec![person(1, "Jack")], false)));
        assert!(form.search.searching());
        let jane = person(2, "Jane");
        form.search
            .answered(second.clone(), Ok(Matches::new(vec![jane.clone()], false)));
        let SearchStage::Found { matches, .. } = &form.search.stage else {
            panic!("found: {:?}", form.search.stage);
        };
        assert_eq!(matches.people, std::slice::from_ref(&jane));
        form.person_by = PersonBy::CardId;
        form.pick(&jane);
        assert_eq!(form.person_by, PersonBy::UserGuid);
        assert_eq!(form.user(), Ok(Uuid::from_u128(2)));
        form.search.typed = "zz".into();
        let Some(Command::FindPeople { query }) = form.search.start() else {
            panic!("a search");
        };
        form.search.answered(
            query,
            Err(DirectoryFailure("The directory is down.".into())),
        );
        assert!(
            matches!(&form.search.stage, SearchStage::Failed { why, .. } if why == "The directory is down.")
        );
    }

    #[test]
    fn the_template_list_is_read_once_per_opening_smart_card_templates_by_name() {
        let mut list = TemplateList::default();
        assert!(matches!(list.ask(), Some(Command::ReadTemplates)));
        assert!(list.ask().is_none(), "asked once");
        list.read(Ok(vec![
            template(1, "Zeta card", true),
            template(2, "Software", false),
            template(3, "alpha card", true),
        ]));
        let TemplateList::Read {
            templates,
            software,
        } = &list
        else {
            panic!("read: {list:?}");
        };
        let names: Vec<&str> = templates.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["alpha card", "Zeta card"]);
        assert_eq!(*software, 1);
        assert_eq!(list.name_of(Uuid::from_u128(1)), Some("Zeta card"));
        assert_eq!(list.name_of(Uuid::from_u128(2)), None);
        list.forget();
        assert!(list.ask().is_some(), "read again at the next opening");
        list.read(Err(Failure::new("CM is down.")));
        assert_eq!(list, TemplateList::Failed("CM is down.".into()));
        assert!(list.ask().is_none(), "a failure waits for Read again");
        assert!(list.retry().is_some());
    }
}
