//! Kind `resident`: a pointer to a struct the host keeps at a fixed address
//! (`templates/kinds/resident.hbs`, `runtime/src/marshal/resident.rs`).

use super::{At, Param, ParamKind};
use crate::emit::view::Cx;
use crate::model;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    /// The client's object type and the host's mirror.
    pub rust: String,
    pub host: String,
    /// This function sets the struct up: the index of the end function it then needs.
    pub end_after: Option<u32>,
    /// This function is its end function: nothing is left to end.
    pub ends: bool,
    /// The call uses the buffer fields as its own (they are not read back).
    pub library_buffers: bool,
    /// The function's index (an end function refuses a copy another set up).
    pub fn_index: u32,
}

pub(super) fn view(
    at: &At<'_>,
    strukt: &str,
    library_buffers: bool,
    fn_index: u32,
    cx: &mut Cx,
    out: &mut Param,
) -> ParamKind {
    let (rust, host) =
        super::passed_value(at, &model::Value::Struct { name: strukt.into() }, false, true, cx, out);
    ParamKind::Resident(View {
        rust,
        host,
        end_after: cx.resident_end.get(&at.f.c_name).copied(),
        ends: cx.resident_enders.contains(&at.f.c_name),
        library_buffers,
        fn_index,
    })
}
