//! Kind `destroy`: a destroy-notify the library calls when it lets go of the context of
//! callbacks it kept; the host passes its own, which releases their registration
//! (`templates/kinds/destroy.hbs`, `runtime/src/host/kept.rs`).

use super::{At, Param, ParamKind};
use crate::emit::view::abi;
use crate::model::Convention;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    /// The host's destroy-notify.
    pub tramp: String,
    pub fn_type: String,
    pub abi: &'static str,
    pub c_name: String,
}

pub(super) fn view(at: &At<'_>, convention: Convention, fn_index: u32, out: &mut Param) -> ParamKind {
    let abi = abi(convention);
    let fn_type = format!("unsafe extern \"{abi}\" fn(*mut ::core::ffi::c_void)");
    out.ffi_type = format!("::core::option::Option<{fn_type}>");
    ParamKind::Destroy(View {
        tramp: format!("__dllgen_destroy_{fn_index}_{}", at.index),
        fn_type,
        abi,
        c_name: at.f.c_name.clone(),
    })
}
