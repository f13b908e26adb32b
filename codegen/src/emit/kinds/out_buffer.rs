//! Kind `out_buffer` (`templates/kinds/out_buffer.hbs`).

use super::expr::{self, Side};
use super::{local, At, Buffer, Param, ParamKind};
use crate::emit::view::{Cx, RT};
use crate::model::{self, Expr, Filled, Kind};
use crate::spec::Units;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    #[serde(flatten)]
    pub buffer: Buffer,
    /// The capacity as the client computes it, before the call (a `u64` expression).
    pub len_client: String,
    /// The client's local holding it.
    pub cap_local: String,
    /// The host's `Filled` for the reply (by path).
    pub filled: String,
    /// What the client returns: `Vec<T>`, or `String` for NUL-terminated bytes.
    pub result: String,
    /// The host grows the buffer and calls again when the library needs more.
    pub grow: Option<Grow>,
    /// The library keeps it past the call: the host keeps it, the client gets a token.
    pub retain: Option<super::in_buffer::RetainView>,
}

/// Grow-and-retry: the capacity the library says it needs, and where the host's capacity is.
#[derive(Debug, Serialize)]
pub struct Grow {
    /// The needed capacity (a `u64` expression over the host's locals and `__dllgen_ret`).
    pub needed: String,
    /// The host local of the capacity parameter, reassigned before the next call.
    pub cap_param: String,
    /// The capacity given to this try (a `u64` expression): the parameter itself, or for a
    /// count the library also writes (`*lpcbData`), the count as it was sent.
    pub given: String,
    /// A second local to set to the new capacity (an in/out count's sent value), if any.
    pub also: Option<String>,
}

#[allow(clippy::too_many_arguments)]
pub(super) fn view(
    at: &At<'_>,
    element: &model::Value,
    capacity: &Expr,
    units: Units,
    filled: &Filled,
    grow: Option<&Expr>,
    retain: Option<&model::Retain>,
    cx: &mut Cx,
    out: &mut Param,
) -> ParamKind {
    let Some((buffer, t)) = Buffer::new(at, element, capacity, units, cx) else {
        return ParamKind::UserData(super::user_data::View { kept: false });
    };
    let plain = !t.is_bool && !t.is_struct;
    // NUL-terminated bytes come back as text.
    let nul_string = *filled == Filled::Nul && t.size == 1 && plain;
    let filled_by = |what: &str| format!("{RT}::marshal::out_buffer::Filled::{what}");
    let filled = match filled {
        Filled::Capacity => filled_by("All"),
        Filled::Nul => {
            if !plain {
                cx.unsupported.push(format!("{}: only buffers of numbers can be NUL-terminated", at.what));
            }
            filled_by("Nul")
        }
        Filled::Return => format!("{}(__dllgen_ret)", filled_by("count")),
        Filled::Param { name } => format!("{}({})", filled_by("count"), local(name)),
        Filled::Expr { expr } => {
            format!("{}({})", filled_by("count"), expr::length(expr, at.f, cx, Side::Host))
        }
    };
    let retain = retain.and_then(|r| super::in_buffer::retain_view(at, r, cx));
    let result = if retain.is_some() {
        format!("{RT}::marshal::retained::Retained<{}>", t.rust)
    } else if nul_string {
        "::std::string::String".to_string()
    } else {
        format!("::std::vec::Vec<{}>", t.rust)
    };
    // An out-buffer shows as its capacity when a hidden length parameter gives it (a
    // capacity the caller passes as a visible scalar already is the capacity).
    let hidden_len = match capacity {
        Expr::Param { name } | Expr::Deref { name } => {
            at.f.params
                .iter()
                .any(|q| q.name == *name && matches!(q.kind, Kind::Length { .. } | Kind::InoutLength { .. }))
        }
        _ => false,
    };
    if hidden_len {
        out.sig = Some(format!("{}: usize", capacity_name(at)));
    }
    out.ffi_type = format!("*mut {}", buffer.host_elem);
    out.output = Some((result.clone(), at.local.clone()));
    let inout =
        |name: &str| at.f.params.iter().any(|q| q.name == name && matches!(q.kind, Kind::InoutLength { .. }));
    let grow = grow.and_then(|g| match capacity {
        Expr::Param { name } => Some(Grow {
            needed: expr::length(g, at.f, cx, Side::Host),
            cap_param: local(name),
            given: format!("{} as u64", local(name)),
            also: None,
        }),
        Expr::Deref { name } if inout(name) => Some(Grow {
            needed: expr::length(g, at.f, cx, Side::Host),
            cap_param: local(name),
            given: format!("__dllgen_g_{name}"),
            also: Some(format!("__dllgen_g_{name}")),
        }),
        _ => {
            cx.unsupported
                .push(format!("{}: a buffer that grows needs one parameter as its capacity", at.what));
            None
        }
    });
    ParamKind::OutBuffer(View {
        grow,
        retain,
        buffer,
        len_client: expr::length(capacity, at.f, cx, Side::Client),
        cap_local: format!("__dllgen_c_{}", at.p.name),
        filled,
        result,
    })
}

/// The client's parameter for the capacity of out-buffer `at`: `<name>_capacity`, with
/// `_` added while another parameter has that name.
pub(super) fn capacity_name(at: &At<'_>) -> String {
    let mut name = format!("{}_capacity", at.p.name);
    while at.f.params.iter().any(|q| q.name == name) {
        name.push('_');
    }
    name
}
