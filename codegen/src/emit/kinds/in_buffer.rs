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

/// A retained buffer's owner: the handle parameter's host local and type, and the slot.
#[derive(Debug, Serialize)]
pub struct RetainView {
    pub handle_local: String,
    pub handle_kind: u32,
    /// An `Option<i64>` expression.
    pub slot: String,
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
    let retain = retain.and_then(|r| {
        let Some(Kind::Handle { handle, .. }) =
            at.f.params.iter().find(|q| q.name == r.handle).map(|q| &q.kind)
        else {
            cx.unsupported.push(format!("{}: it is kept on `{}`, which is not a handle", at.what, r.handle));
            return None;
        };
        Some(RetainView {
            handle_local: local(&r.handle),
            handle_kind: cx.handle_kind(handle),
            slot: r.slot.as_ref().map_or("None".into(), |s| format!("Some({} as i64)", local(s))),
        })
    });
    let checked = len.is_some();
    let len = len.cloned().unwrap_or(Expr::Const { value: 0 });
    match super::passed_buffer(at, element, &len, units, optional, false, cx, out) {
        Some(buffer) => ParamKind::InBuffer(View { buffer, optional, checked, retain }),
        None => ParamKind::UserData(super::user_data::View { kept: false }),
    }
}
