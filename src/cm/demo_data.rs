//! Deterministic, realistic seed data for the emulator: requests, profile
//! templates and the smart card objects of requests that already have a card.
//!
//! The same seed always gives the same data, so screenshots, tests and
//! training material stay stable. Timestamps count back from a fixed instant
//! ([`DEMO_NOW_UNIX`]) rather than the clock for the same reason.

use uuid::Uuid;

use super::model::{
    DOTNET_MIN_DATE, WireDataItem, WireEnum, WireProfileTemplate, WireRequest, WireSmartcard,
    guid_to_wire,
};
use crate::domain::card::CardId;
use crate::domain::request::{RequestStatus, RequestType, SmartcardStatus};

/// The instant the demo data is "now": 2026-11-27T17:00:00Z.
pub const DEMO_NOW_UNIX: i64 = 1_795_798_800;

/// The SDDL CM puts on requests, with the NUL terminator the server really sends.
pub const SECURITY_DESCRIPTOR: &str =
    "O:SYG:SYD:(A;;RPWPCCDCLCSWRCWDWOGA;;;SY)(A;;RPWPCCDCLCSWRCWDWOGA;;;DA)(A;;RPLCLORC;;;AU)\u{0}";

/// A profile template of the demo server.
#[derive(Clone, Copy, Debug)]
pub struct DemoTemplate {
    /// Its fixed GUID.
    pub uuid: Uuid,
    /// Its display name.
    pub name: &'static str,
    /// Its description.
    pub description: &'static str,
    /// Whether it issues smart cards.
    pub smartcard: bool,
    /// Whether it issues TPM virtual smart cards.
    pub virtual_smartcard: bool,
}

/// The demo server's profile templates. The first three issue cards and are used by requests.
pub const TEMPLATES: [DemoTemplate; 5] = [
    DemoTemplate {
        uuid: Uuid::from_u128(0x5c2a_91e4_7d3b_4f10_9a6e_1b2c_3d4e_5f60),
        name: "Smartcard User Logon",
        description: "Smart card logon and e-mail signing for employees",
        smartcard: true,
        virtual_smartcard: false,
    },
    DemoTemplate {
        uuid: Uuid::from_u128(0x8e1f_0a2b_3c4d_4e5f_8a9b_0c1d_2e3f_4a5b),
        name: "Administrator Smartcard",
        description: "Separate logon card for administrative accounts",
        smartcard: true,
        virtual_smartcard: false,
    },
    DemoTemplate {
        uuid: Uuid::from_u128(0x2b7c_6d5e_4f3a_4b21_9c8d_7e6f_5a4b_3c2d),
        name: "Temporary Smartcard",
        description: "Temporary card for a forgotten or lost card (7 days)",
        smartcard: true,
        virtual_smartcard: false,
    },
    DemoTemplate {
        uuid: Uuid::from_u128(0x9d8c_7b6a_5f4e_4d3c_8b2a_1f0e_9d8c_7b6a),
        name: "Virtual Smart Card",
        description: "TPM virtual smart card on managed laptops",
        smartcard: true,
        virtual_smartcard: true,
    },
    DemoTemplate {
        uuid: Uuid::from_u128(0x4a3b_2c1d_0e9f_4a8b_b7c6_d5e4_f3a2_b1c0),
        name: "Software Certificates",
        description: "User certificates in the Windows certificate store",
        smartcard: false,
        virtual_smartcard: false,
    },
];

/// A workflow policy of the demo server: how many approvals a request of
/// one type on one template needs, so a Pending request in the demo says
/// what it waits for as it would with a real CM.
#[derive(Clone, Copy, Debug)]
pub struct DemoPolicy {
    /// The template.
    pub template: Uuid,
    /// The policy type, as get-workflow-policy names it (`enroll`, ...).
    pub policy_type: &'static str,
    /// `ApprovalsNeeded`.
    pub approvals_needed: u32,
    /// `EnrollAgentRequired`.
    pub enroll_agent_required: bool,
}

/// The demo's policies for the workflows its requests use; every other
/// workflow has the emulator's default (no approval, an agent). Applied
/// by [`crate::cm::emulator::Emulator::seed_demo_policies`] in demo mode
/// only: tests keep the plain default.
pub const DEMO_POLICIES: [DemoPolicy; 5] = [
    DemoPolicy {
        template: TEMPLATES[0].uuid,
        policy_type: "enroll",
        approvals_needed: 1,
        enroll_agent_required: true,
    },
    DemoPolicy {
        template: TEMPLATES[0].uuid,
        policy_type: "duplicate",
        approvals_needed: 2,
        enroll_agent_required: true,
    },
    DemoPolicy {
        template: TEMPLATES[0].uuid,
        policy_type: "renew",
        approvals_needed: 0,
        enroll_agent_required: true,
    },
    DemoPolicy {
        template: TEMPLATES[1].uuid,
        policy_type: "enroll",
        approvals_needed: 2,
        enroll_agent_required: true,
    },
    DemoPolicy {
        template: TEMPLATES[2].uuid,
        policy_type: "temporaryenroll",
        approvals_needed: 1,
        enroll_agent_required: false,
    },
];

/// What the emulator starts with.
#[derive(Clone, Debug, Default)]
pub struct DemoData {
    /// The requests, in submission order.
    pub requests: Vec<WireRequest>,
    /// The smart card objects of the requests that already have a card.
    pub smartcards: Vec<WireSmartcard>,
    /// The profile templates.
    pub templates: Vec<WireProfileTemplate>,
}

const FIRST_NAMES: &[&str] = &[
    "Anna",
    "Ben",
    "Chloé",
    "David",
    "Elif",
    "Farid",
    "Grace",
    "Hiroshi",
    "Ines",
    "Jonas",
    "Kavya",
    "Lars",
    "Maria",
    "Nikolai",
    "Olivia",
    "Pedro",
    "Quentin",
    "Rosa",
    "Samuel",
    "Tamara",
    "Umar",
    "Valentina",
    "Wei",
    "Yusuf",
    "Zoë",
];

const LAST_NAMES: &[&str] = &[
    "Andersen",
    "Bauer",
    "Castillo",
    "Dubois",
    "Eriksson",
    "Fischer",
    "García",
    "Hoffmann",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Müller",
    "Novak",
    "O'Brien",
    "Petrov",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Van der Berg",
    "Weber",
    "Yilmaz",
    "Zhang",
];

const DEPARTMENTS: &[&str] = &[
    "Finance",
    "Human Resources",
    "IT Operations",
    "Legal",
    "Manufacturing",
    "Research & Development",
    "Sales",
    "Facilities",
];

const COMMENTS: &[&str] = &[
    "New hire, starts Monday",
    "Card broken (chip damaged)",
    "Replacement for lost card, reported to security",
    "Contractor until end of Q1",
    "Name change after marriage",
];

/// The demo's first enrollment agent: the emulator's signed-in user by default.
pub const DEMO_AGENT: Uuid = Uuid::from_u128(0x1f2e_3d4c_5b6a_4789_8a0b_1c2d_3e4f_5a6b);

/// The enrollment agents and approvers who submit requests in the demo.
const ORIGINATORS: [Uuid; 3] = [
    DEMO_AGENT,
    Uuid::from_u128(0x6b5a_4f3e_2d1c_4b0a_9f8e_7d6c_5b4a_3f2e),
    Uuid::from_u128(0x0a1b_2c3d_4e5f_4061_b7c8_d9ea_fb0c_1d2e),
];

/// ATRs of cards a CM deployment typically sees (GIDS, YubiKey PIV, TPM VSC).
const ATRS: &[&str] = &[
    "3b8d0180fba000000397425446590301c8",
    "3bfd1300008131fe158073c021c057597562694b657940",
    "3b8d018080fba000000397425446590301c8",
];

/// A GUID from the generator, shaped like the version-4 GUIDs CM makes.
pub fn random_uuid(rng: &mut fastrand::Rng) -> Uuid {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// Formats seconds since 1970 as CM writes dates: `2026-11-20T09:14:33.12Z`
/// (fraction with trailing zeros dropped, as .NET does).
pub fn format_timestamp(unix_secs: i64, centis: u32) -> String {
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let mut out = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    );
    let centis = centis % 100;
    if centis != 0 {
        let fraction = format!("{centis:02}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn pick<'a, T>(rng: &mut fastrand::Rng, items: &'a [T]) -> &'a T {
    // The slices above are constant and non-empty.
    &items[rng.usize(..items.len())]
}

fn request_status(rng: &mut fastrand::Rng) -> RequestStatus {
    match rng.u32(..100) {
        0..=59 => RequestStatus::APPROVED,
        60..=74 => RequestStatus::PENDING,
        75..=82 => RequestStatus::EXECUTING,
        83..=90 => RequestStatus::COMPLETED,
        91..=95 => RequestStatus::DENIED,
        96..=97 => RequestStatus::CANCELED,
        _ => RequestStatus::FAILED,
    }
}

fn request_type(rng: &mut fastrand::Rng) -> RequestType {
    match rng.u32(..100) {
        0..=69 => RequestType::ENROLL,
        70..=81 => RequestType::RENEW,
        82..=91 => RequestType::DUPLICATE,
        _ => RequestType::TEMPORARY_CARD_ENROLL,
    }
}

/// A data collection value that is sometimes not filled in, as in real workflows.
fn sometimes_null(rng: &mut fastrand::Rng, value: String, null_percent: u32) -> Option<String> {
    (rng.u32(..100) >= null_percent).then_some(value)
}

/// Generates `count` requests (and what goes with them) from `seed`.
///
/// The first request is always an approved, unbound enrollment, so even a
/// tiny demo has something to bind; with 8 or more requests one already has a
/// card, with 20 or more two do.
pub fn generate(count: usize, seed: u64) -> DemoData {
    let mut data = generate_card_requests(count, seed);
    add_requests_that_take_no_card(&mut data.requests, seed);
    data
}

/// [`generate`] before [`add_requests_that_take_no_card`]: every request a
/// smart card request of a type that issues a card.
fn generate_card_requests(count: usize, seed: u64) -> DemoData {
    let mut rng = fastrand::Rng::with_seed(seed);
    let nil = guid_to_wire(Uuid::nil());
    let mut requests = Vec::with_capacity(count);
    let mut submitted_at = Vec::with_capacity(count);
    for index in 0..count {
        let status = if index == 0 {
            RequestStatus::APPROVED
        } else {
            request_status(&mut rng)
        };
        let kind = if index == 0 {
            RequestType::ENROLL
        } else {
            request_type(&mut rng)
        };
        let template = if kind == RequestType::TEMPORARY_CARD_ENROLL {
            &TEMPLATES[2]
        } else if rng.u32(..100) < 15 {
            &TEMPLATES[1]
        } else {
            &TEMPLATES[0]
        };
        let first = *pick(&mut rng, FIRST_NAMES);
        let last = *pick(&mut rng, LAST_NAMES);
        let department = (*pick(&mut rng, DEPARTMENTS)).to_owned();
        let employee_id = format!("E{:05}", rng.u32(10_000..99_999));
        let data_collection = vec![
            WireDataItem {
                name: Some("FirstName".into()),
                value: Some(first.to_owned()),
            },
            WireDataItem {
                name: Some("LastName".into()),
                value: Some(last.to_owned()),
            },
            WireDataItem {
                name: Some("Department".into()),
                value: sometimes_null(&mut rng, department, 12),
            },
            WireDataItem {
                name: Some("EmployeeId".into()),
                value: sometimes_null(&mut rng, employee_id, 8),
            },
        ];
        // Up to four weeks back, during office hours most of the time.
        let days_back = i64::from(rng.u32(0..28));
        let seconds_of_day = i64::from(rng.u32(7 * 3600..18 * 3600));
        let unix = (DEMO_NOW_UNIX - DEMO_NOW_UNIX.rem_euclid(86_400)) - days_back * 86_400
            + seconds_of_day
            - 86_400;
        let submitted = format_timestamp(unix, rng.u32(0..100));
        submitted_at.push(unix);
        let completed = if status == RequestStatus::COMPLETED {
            format_timestamp(unix + i64::from(rng.u32(600..86_400)), rng.u32(0..100))
        } else {
            DOTNET_MIN_DATE.to_owned()
        };
        let is_enrollment_agent = rng.u32(..100) < 85;
        let comment = if rng.u32(..100) < 25 {
            Some((*pick(&mut rng, COMMENTS)).to_owned())
        } else if rng.bool() {
            Some(String::new())
        } else {
            None
        };
        let uuid = random_uuid(&mut rng);
        let target = random_uuid(&mut rng);
        let originator = if rng.u32(..100) < 20 {
            target
        } else {
            *pick(&mut rng, &ORIGINATORS)
        };
        let old_smartcard = if matches!(kind, RequestType::RENEW | RequestType::DUPLICATE) {
            guid_to_wire(random_uuid(&mut rng))
        } else {
            nil.clone()
        };
        requests.push(WireRequest {
            uuid: Some(guid_to_wire(uuid)),
            request_type: Some(WireEnum::from_domain(kind)),
            status: Some(WireEnum::from_domain(status)),
            flags: 2 + i64::from(is_enrollment_agent),
            data_collection,
            data_collection_flags: 32,
            originator_user_uuid: Some(guid_to_wire(originator)),
            target_user_uuid: Some(guid_to_wire(target)),
            submitted: Some(submitted),
            completed: Some(completed),
            new_profile_uuid: Some(nil.clone()),
            old_profile_uuid: Some(nil.clone()),
            new_smartcard_uuid: Some(nil.clone()),
            old_smartcard_uuid: Some(old_smartcard),
            priority: i64::from(rng.u32(0..=5)),
            comment,
            profile_template_uuid: Some(guid_to_wire(template.uuid)),
            security_descriptor: Some(SECURITY_DESCRIPTOR.to_owned()),
            is_smartcard: true,
            is_enrollment_agent,
            is_data_collection_complete: status != RequestStatus::PENDING,
        });
    }

    // Oldest first, as CM lists them.
    let mut order: Vec<usize> = (0..count).collect();
    order.sort_by_key(|&i| (i != 0, submitted_at[i]));
    let mut requests: Vec<WireRequest> = order.into_iter().map(|i| requests[i].clone()).collect();

    let bound_wanted = match count {
        0..=7 => 0,
        8..=19 => 1,
        _ => 2,
    };
    let mut smartcards = Vec::new();
    // Request 0 stays free to bind; the bound ones come from the other open requests.
    for request in requests.iter_mut().skip(1) {
        if smartcards.len() >= bound_wanted {
            break;
        }
        let status = request
            .status
            .as_ref()
            .map(WireEnum::to_domain::<RequestStatus>);
        if !matches!(
            status,
            Some(RequestStatus::APPROVED | RequestStatus::EXECUTING)
        ) {
            continue;
        }
        let card_uuid = random_uuid(&mut rng);
        let mut card_bytes = [0u8; 16];
        rng.fill(&mut card_bytes);
        let card_id = CardId::from_raw(card_bytes);
        request.new_smartcard_uuid = Some(guid_to_wire(card_uuid));
        smartcards.push(WireSmartcard {
            uuid: Some(guid_to_wire(card_uuid)),
            status: Some(WireEnum::from_domain(SmartcardStatus::ASSIGNED)),
            flags: 1,
            parent_smartcard_uuid: Some(nil.clone()),
            primary_smartcard_uuid: Some(nil.clone()),
            permanent_smartcard_uuid: Some(nil.clone()),
            assigned_user_uuid: request.target_user_uuid.clone(),
            profile_template_uuid: request.profile_template_uuid.clone(),
            profile_template_version: 1,
            comment: None,
            serial_number: Some(format!("{{{}}}", card_id.to_cm_string())),
            middleware: Some("MSBaseCSP".into()),
            atr: Some((*pick(&mut rng, ATRS)).to_owned()),
        });
    }

    DemoData {
        requests,
        smartcards,
        templates: TEMPLATES.iter().map(wire_template).collect(),
    }
}

/// From how many requests on the demo has requests that never take a card.
pub const CARDLESS_FROM: usize = 10;

/// Turns the second and third approved, unbound requests into two that CM
/// would never bind a card to, so the desk shows them with their reasons:
/// a software-profile request (`IsSmartcard` false, the software template)
/// and a Retire of the user's card. Only with [`CARDLESS_FROM`] or more
/// requests, so small test setups keep every approved request bindable.
/// Draws from its own generator: the rest of the data stays as it was.
fn add_requests_that_take_no_card(requests: &mut [WireRequest], seed: u64) {
    if requests.len() < CARDLESS_FROM {
        return;
    }
    let mut rng = fastrand::Rng::with_seed(seed ^ 0xca2d_1e55_0000_0001);
    let nil = guid_to_wire(Uuid::nil());
    let mut open = requests.iter_mut().skip(1).filter(|r| {
        r.status.as_ref().map(WireEnum::to_domain::<RequestStatus>) == Some(RequestStatus::APPROVED)
            && r.new_smartcard_uuid.as_deref() == Some(nil.as_str())
    });
    if let Some(software) = open.next() {
        software.request_type = Some(WireEnum::from_domain(RequestType::ENROLL));
        software.is_smartcard = false;
        // Flags: Smartcard (2) off, EnrollmentAgent (1) as it was.
        software.flags &= !2;
        software.profile_template_uuid = Some(guid_to_wire(TEMPLATES[4].uuid));
        software.old_smartcard_uuid = Some(nil.clone());
    }
    if let Some(retire) = open.next() {
        retire.request_type = Some(WireEnum::from_domain(RequestType::RETIRE));
        retire.old_smartcard_uuid = Some(guid_to_wire(random_uuid(&mut rng)));
        retire.comment = Some("Card returned at the desk".into());
    }
}

fn wire_template(template: &DemoTemplate) -> WireProfileTemplate {
    WireProfileTemplate {
        name: Some(template.name.to_owned()),
        description: Some(template.description.to_owned()),
        uuid: Some(guid_to_wire(template.uuid)),
        is_smartcard_profile_template: template.smartcard,
        is_virtual_smartcard_profile_template: template.virtual_smartcard,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::request::Request;

    fn domain(data: &DemoData) -> Vec<Request> {
        data.requests
            .iter()
            .cloned()
            .map(|w| Request::try_from(w).expect("demo requests convert"))
            .collect()
    }

    #[test]
    fn same_seed_same_data_other_seed_other_data() {
        let a = generate(40, 1);
        assert_eq!(a.requests, generate(40, 1).requests);
        assert_eq!(a.smartcards, generate(40, 1).smartcards);
        assert_ne!(a.requests, generate(40, 2).requests);
    }

    #[test]
    fn the_mix_is_realistic() {
        let data = generate(40, 1);
        let requests = domain(&data);
        assert_eq!(requests.len(), 40);
        let count = |s: RequestStatus| requests.iter().filter(|r| r.status == s).count();
        assert!(count(RequestStatus::APPROVED) >= 15, "{requests:?}");
        assert!(count(RequestStatus::PENDING) >= 2);
        assert!(count(RequestStatus::APPROVED) > count(RequestStatus::PENDING));
        let bound: Vec<_> = requests
            .iter()
            .filter(|r| r.new_smartcard.is_some())
            .collect();
        assert_eq!(bound.len(), 2);
        assert_eq!(data.smartcards.len(), 2);
        assert!(requests[0].is_bindable());
        let enroll = requests
            .iter()
            .filter(|r| r.request_type == RequestType::ENROLL)
            .count();
        assert!(enroll > 20);
        assert!(requests.iter().all(|r| (0..=5).contains(&r.priority)));
        // One software-profile request and one Retire, both approved and
        // unbound, which the desk shows with the reason they take no card.
        let software: Vec<_> = requests.iter().filter(|r| !r.is_smartcard).collect();
        assert_eq!(software.len(), 1);
        assert_eq!(software[0].status, RequestStatus::APPROVED);
        assert_eq!(software[0].profile_template, Some(TEMPLATES[4].uuid));
        assert_eq!(
            software[0].bindability(),
            Err(crate::domain::request::NotBindable::NotSmartcard)
        );
        let retire: Vec<_> = requests
            .iter()
            .filter(|r| r.request_type == RequestType::RETIRE)
            .collect();
        assert_eq!(retire.len(), 1);
        assert_eq!(retire[0].status, RequestStatus::APPROVED);
        assert!(retire[0].is_smartcard && retire[0].new_smartcard.is_none());
        assert_eq!(
            retire[0].bindability(),
            Err(crate::domain::request::NotBindable::TakesNoCard(
                RequestType::RETIRE
            ))
        );
        assert!(requests.iter().filter(|r| r.is_bindable()).count() >= 15);
        let templates: Vec<Uuid> = TEMPLATES.iter().map(|t| t.uuid).collect();
        assert!(
            requests
                .iter()
                .all(|r| r.profile_template.is_some_and(|t| templates.contains(&t)))
        );
        assert!(
            requests
                .iter()
                .flat_map(|r| &r.data_collection)
                .any(|d| d.value.is_none())
        );
        assert!(requests.iter().all(|r| r.uuid.get_version_num() == 4));
    }

    #[test]
    fn wire_form_has_the_servers_quirks() {
        let data = generate(5, 7);
        let json = serde_json::to_value(&data.requests[0]).expect("serializes");
        assert_eq!(json["Status"], 3);
        assert_eq!(json["RequestType"], 1);
        assert_eq!(json["Completed"], DOTNET_MIN_DATE);
        assert_eq!(
            json["NewSmartcardUuid"],
            "00000000-0000-0000-0000-000000000000"
        );
        assert!(
            json["SecurityDescriptor"]
                .as_str()
                .is_some_and(|s| s.ends_with('\0'))
        );
        assert_eq!(json["IsSmartcard"], true);
        let submitted = json["Submitted"].as_str().expect("submitted");
        assert!(submitted.starts_with("2026-1"), "{submitted}");
        assert!(submitted.ends_with('Z'));
    }

    #[test]
    fn timestamps_look_like_the_server_s() {
        assert_eq!(format_timestamp(DEMO_NOW_UNIX, 0), "2026-11-27T17:00:00Z");
        assert_eq!(
            format_timestamp(1_795_684_473, 12),
            "2026-11-26T09:14:33.12Z"
        );
        assert_eq!(format_timestamp(0, 50), "1970-01-01T00:00:00.5Z");
        assert_eq!(format_timestamp(951_782_400, 93), "2000-02-29T00:00:00.93Z");
    }

    #[test]
    fn small_demos_still_have_something_to_bind() {
        let requests = domain(&generate(1, 99));
        assert_eq!(requests.len(), 1);
        assert!(requests[0].is_bindable());
        assert!(generate(0, 1).requests.is_empty());
        // Below CARDLESS_FROM every approved, unbound request can take a card.
        for count in 1..CARDLESS_FROM {
            let requests = domain(&generate(count, 1));
            assert!(
                requests
                    .iter()
                    .filter(|r| r.status == RequestStatus::APPROVED && r.new_smartcard.is_none())
                    .all(Request::is_bindable),
                "{count}"
            );
        }
    }

    #[test]
    fn the_cardless_requests_leave_the_rest_of_the_data_as_it_was() {
        let base = generate_card_requests(40, 1);
        let data = generate(40, 1);
        assert_eq!(data.smartcards, base.smartcards);
        let changed: Vec<usize> = (0..40)
            .filter(|&i| data.requests[i] != base.requests[i])
            .collect();
        assert_eq!(changed.len(), 2, "{changed:?}");
        assert!(
            !changed.contains(&0),
            "the first request stays the bindable enroll"
        );
        for i in changed {
            let (mut was, now) = (base.requests[i].clone(), &data.requests[i]);
            // Only what makes it a request that takes no card changed.
            was.request_type = now.request_type.clone();
            was.is_smartcard = now.is_smartcard;
            was.flags = now.flags;
            was.profile_template_uuid = now.profile_template_uuid.clone();
            was.old_smartcard_uuid = now.old_smartcard_uuid.clone();
            was.comment = now.comment.clone();
            assert_eq!(&was, now);
        }
    }
}
