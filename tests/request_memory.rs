//! A loaded request is one allocation-free value (issue 6, P5): its short
//! texts are inline and up to four collected values live in the request
//! itself. A list of 10,000 requests is then one block instead of some
//! 100,000, and the parsing's temporaries leave no holes between long-lived
//! pieces. Counted with a per-thread counting allocator, so the test
//! harness's other threads do not disturb the count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use enroll_station::cm::model::{WireRequest, format_cm_time};
use enroll_station::domain::request::Request;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is passed on to the system allocator unchanged; the
// counter is a const-initialised thread-local without a destructor.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn allocations_during<T>(work: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    let result = work();
    (result, ALLOCATIONS.with(Cell::get) - before)
}

fn wire(items: &[(&str, Option<&str>)], comment: Option<&str>) -> WireRequest {
    let data: Vec<serde_json::Value> = items
        .iter()
        .map(|(name, value)| serde_json::json!({"Name": name, "Value": value}))
        .collect();
    serde_json::from_value(serde_json::json!({
        "Uuid": "{5b2c5a06-1cc8-4ba4-a2d3-5e41c0b7a11e}",
        "RequestType": 1,
        "Status": 3,
        "TargetUserUuid": "{0d6f3c2e-7b3a-4f57-9a61-2b6d9c0f4e11}",
        "OriginatorUserUuid": "{0d6f3c2e-7b3a-4f57-9a61-2b6d9c0f4e11}",
        "Submitted": "2026-11-03T09:15:22.47Z",
        "Priority": 2,
        "DataCollection": data,
        "Comment": comment,
    }))
    .expect("a well-formed wire request")
}

#[test]
fn a_typical_request_owns_no_heap_block() {
    let typical = wire(
        &[
            ("FirstName", Some("Grace")),
            ("LastName", Some("Hopper")),
            ("Department", None),
            ("EmployeeId", Some("E10042")),
        ],
        Some("Lost card, replaced"),
    );
    let request = Request::try_from(typical).expect("converts");
    // A clone allocates once per heap block the request owns.
    let (copy, allocations) = allocations_during(|| request.clone());
    assert_eq!(
        allocations, 0,
        "texts up to 24 bytes and up to four collected values are kept inline"
    );
    assert_eq!(copy, request);
    assert_eq!(request.data_collection.len(), 4);
    assert_eq!(request.data_collection[1].value.as_deref(), Some("Hopper"));
    assert_eq!(request.data_collection[2].value, None);
    assert_eq!(request.comment.as_deref(), Some("Lost card, replaced"));
    // The submission time is a value (an instant), not text on the heap.
    assert_eq!(
        request.submitted.map(format_cm_time).as_deref(),
        Some("2026-11-03T09:15:22.47Z")
    );
}

#[test]
fn long_texts_and_many_values_are_kept_whole_on_the_heap() {
    let long_comment = "Approved by the help desk after the user's identity was checked in person";
    let many: Vec<(String, Option<String>)> = (0..7)
        .map(|i| (format!("Field{i}"), Some(format!("value number {i}"))))
        .collect();
    let items: Vec<(&str, Option<&str>)> = many
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_deref()))
        .collect();
    let request = Request::try_from(wire(&items, Some(long_comment))).expect("converts");
    let (_, allocations) = allocations_during(|| request.clone());
    // The comment, and the values beyond four, each in one block.
    assert_eq!(allocations, 2);
    assert_eq!(request.comment.as_deref(), Some(long_comment));
    assert_eq!(request.data_collection.len(), 7);
    assert_eq!(
        request.data_collection[6].value.as_deref(),
        Some("value number 6")
    );
}
