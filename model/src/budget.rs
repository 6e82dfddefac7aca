//! The evaluation budget of a condition: how much work one evaluation (one rule on one
//! change, one post-verify `state` condition) may do before it is stopped.
//!
//! The `cel` crate has no cost limit, no cancellation and no hook between steps, and a
//! model rule can cost more than any plan can afford: comprehensions nested four deep
//! over a list of a few dozen items, or a uniqueness check over 10,000 items, run for
//! minutes. Running evaluation on a worker thread and abandoning it at a deadline would
//! leave it burning a core (and holding the plan's borrowed values) until the process
//! exits, and a wall-clock limit would make the same plan and model give different
//! verdicts on a busy machine. So the cost is counted instead, deterministically:
//! compiling rewrites every comprehension's range, and the right operand of every `in`,
//! into a call to a function of ours that charges the size of the list or map about to
//! be walked before returning it unchanged (the comprehension then runs as before, with
//! the crate's own fast paths). A nested comprehension's inner range is charged on every
//! outer iteration, so the charge follows the number of items visited: n² for a
//! uniqueness check, nᵈ for d nested comprehensions. Once an evaluation has spent its
//! budget every further charge fails at once, so even the outer loops of a runaway
//! rule unwind in time linear in their own size, and the evaluation's result is replaced
//! by the budget error whatever CEL's `||`, `&&` or `exists` made of the failures.
//!
//! What is not charged (comparing two large values, a regular expression over a long
//! string) costs at most the size of the values involved per step, which the plan
//! bounds, times the number of steps, which the budget bounds.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use cel::ExecutionError;
use cel::FunctionContext;
use cel::common::value::CowVal;

/// Items visited per evaluation when nothing else is configured: ten million, far beyond
/// any linear rule over a real plan (a uniqueness check over 3,000 items spends nine
/// million, and passes).
pub const DEFAULT_BUDGET: u64 = 10_000_000;

/// The function comprehension ranges are wrapped in; not a name a condition can spell.
pub(crate) const CHARGE_RANGE: &str = "budget#range";
/// The function the right operand of `in` is wrapped in: a list is scanned, a map is not.
pub(crate) const CHARGE_SCAN: &str = "budget#scan";
/// The `function` of the error an evaluation over its budget ends with.
pub const BUDGET_EXCEEDED: &str = "evaluation budget";

static BUDGET: AtomicU64 = AtomicU64::new(DEFAULT_BUDGET);

thread_local! {
    /// Units left to the evaluation running on this thread; `None` outside one.
    static LEFT: Cell<Option<u64>> = const { Cell::new(None) };
    /// Whether the evaluation running on this thread has run out.
    static EXCEEDED: Cell<bool> = const { Cell::new(false) };
}

/// Sets the budget of every later evaluation in this process (`--cel-budget`).
pub fn set_budget(units: u64) {
    BUDGET.store(units, Ordering::Relaxed);
}

/// The budget each evaluation gets.
pub fn budget() -> u64 {
    BUDGET.load(Ordering::Relaxed)
}

/// The error of an evaluation that ran out; it names the budget, never a value.
pub fn exceeded_error(units: u64) -> ExecutionError {
    ExecutionError::FunctionError {
        function: BUDGET_EXCEEDED.into(),
        message: format!(
            "it visits more than {units} list or map items (the evaluation budget, --cel-budget); \
             a rule whose cost grows with the data, such as nested comprehensions, needs \
             a cheaper formulation or a larger budget"
        ),
    }
}

/// Whether `e` is the error of an evaluation that ran out of budget.
pub fn is_exceeded(e: &ExecutionError) -> bool {
    matches!(e, ExecutionError::FunctionError { function, .. } if function == BUDGET_EXCEEDED)
}

/// Runs one evaluation with `units` to spend on this thread; `true` beside its result
/// when it ran out.
pub(crate) fn metered<T>(units: u64, evaluate: impl FnOnce() -> T) -> (T, bool) {
    let outer = LEFT.replace(Some(units));
    let outer_exceeded = EXCEEDED.replace(false);
    let result = evaluate();
    let exceeded = EXCEEDED.replace(outer_exceeded);
    LEFT.set(outer);
    (result, exceeded)
}

fn spend(units: u64) -> Result<(), ExecutionError> {
    let Some(left) = LEFT.get() else {
        return Ok(());
    };
    if EXCEEDED.get() || units > left {
        EXCEEDED.set(true);
        return Err(exceeded_error(budget()));
    }
    LEFT.set(Some(left - units));
    Ok(())
}

/// The size of a list or map, as a charge (at least one unit: starting a walk is work).
fn size_of(value: &CowVal<'_, '_>) -> u64 {
    value
        .as_sizer()
        .map_or(1, |s| u64::try_from(*s.size().inner()).unwrap_or(0).max(1))
}

fn the_argument<'c, 'k>(
    ftx: &mut FunctionContext<'c, 'k>,
) -> Result<CowVal<'c, 'k>, ExecutionError> {
    match (ftx.args.len(), ftx.this.is_none()) {
        (1, true) => Ok(ftx.args.remove(0)),
        _ => Err(ftx.error("takes exactly one argument")),
    }
}

/// [`CHARGE_RANGE`]: charges the size of the collection a comprehension is about to walk
/// and returns it untouched (borrowed values stay borrowed).
pub(crate) fn charge_range<'c, 'k>(
    ftx: &mut FunctionContext<'c, 'k>,
) -> Result<CowVal<'c, 'k>, ExecutionError> {
    let value = the_argument(ftx)?;
    spend(size_of(&value))?;
    Ok(value)
}

/// [`CHARGE_SCAN`]: `x in list` scans the list; `x in map` looks a key up.
pub(crate) fn charge_scan<'c, 'k>(
    ftx: &mut FunctionContext<'c, 'k>,
) -> Result<CowVal<'c, 'k>, ExecutionError> {
    let value = the_argument(ftx)?;
    let is_list = value.get_type().kind() == cel::common::types::Kind::List;
    spend(if is_list { size_of(&value) } else { 1 })?;
    Ok(value)
}
