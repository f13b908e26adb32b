//! Kind `in_buffer` (`templates/kinds/in_buffer.hbs`).

use super::{local, At, Buffer, Param, ParamKind};
use crate::emit::view::Cx;
use crate::model::{self, Expr, Kind};
use crate::spec::Units;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    #[serde(flatten)]
    pub buffer: Buffer,
    pub optional: bool,
    /// A length parameter the slice must cover (none: the buffer's length is in its own
    /// contents, `len: slice`).
    pub checked: bool,
    /// The library keeps the pointer: where the host keeps the data.
    pub retain: Option<RetainView>,
}

/// What ends the library's hold on a retained buffer: the handle parameter that keeps it
/// (its host local and type, and the slot), the completion callback whose registration's
/// context the host saved before the call, and whether the client may end it.
#[derive(Debug, Serialize)]
pub struct RetainView {
    pub handle: Option<RetainHandle>,
    /// The host local of the resident struct parameter that keeps it, and the slot there
    /// (the function's index: calling it again replaces what it kept).
    pub resident: Option<RetainResident>,
    /// The host local holding the registration's context (`until`).
    pub until_ctx: Option<String>,
    pub explicit: bool,
    /// Readable between calls while the library holds it.
    pub between_calls: bool,
    /// Kept by both the handle and the registration (an input buffer: shared, freed when
    /// the later lets go).
    pub shared: bool,
}

/// A resident struct keeping what the library keeps: its host local, and the slot.
#[derive(Debug, Serialize)]
pub struct RetainResident {
    pub local: String,
    pub slot: u32,
}

/// A retained buffer's handle: the parameter's host local, its type, and the slot.
#[derive(Debug, Serialize)]
pub struct RetainHandle {
    pub handle_local: String,
    pub handle_kind: u32,
    /// An `Option<i64>` expression.
    pub slot: String,
}

/// The view of `retain` on parameter `at` (`None`, reported, when it names no handle).
pub(super) fn retain_view(at: &At<'_>, r: &model::Retain, cx: &mut Cx) -> Option<RetainView> {
    let (mut handle, mut resident) = (None, None);
    if let Some(h) = &r.handle {
        match at.f.params.iter().find(|q| q.name == *h).map(|q| &q.kind) {
            Some(Kind::Handle { handle: t, .. }) => {
                handle = Some(RetainHandle {
                    handle_local: local(h),
                    handle_kind: cx.handle_kind(t),
                    slot: r.slot.as_ref().map_or("None".into(), |s| format!("Some({} as i64)", local(s))),
                })
            }
            Some(Kind::Resident { .. }) if r.slot.is_none() => {
                resident = Some(RetainResident { local: local(h), slot: at.fn_index })
            }
            _ => {
                cx.unsupported.push(format!("{}: it is kept on `{h}`, which is not a handle", at.what));
                return None;
            }
        }
    }
    let until_ctx = r.until.as_ref().map(|_| format!("__dllgen_u_{}", at.p.name));
    let ties =
        usize::from(handle.is_some()) + usize::from(resident.is_some()) + usize::from(until_ctx.is_some());
    Some(RetainView {
        shared: ties > 1,
        handle,
        resident,
        until_ctx,
        explicit: r.explicit,
        between_calls: r.between_calls,
    })
}

#[allow(clippy::too_many_arguments)]
pub(super) fn view(
    at: &At<'_>,
    element: &model::Value,
    len: Option<&Expr>,
    units: Units,
    optional: bool,
    retain: Option<&model::Retain>,
    cx: &mut Cx,
    out: &mut Param,
) -> ParamKind {
    let retain = retain.and_then(|r| retain_view(at, r, cx));
    let checked = len.is_some();
    let len = len.cloned().unwrap_or(Expr::Const { value: 0 });
    match super::passed_buffer(at, element, &len, units, optional, false, cx, out) {
        Some(buffer) => ParamKind::InBuffer(View { buffer, optional, checked, retain }),
        None => ParamKind::UserData(super::user_data::View { kept: false }),
    }
}
