//! A small safe layer over libclang (through clang-sys, loaded at run time so that commands
//! which never parse a header do not need libclang installed). Only what the extractor
//! uses; every `unsafe` block is a plain libclang call on handles this module owns.

use clang_sys::*;
use std::ffi::{c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::ptr;

/// Loads libclang for this thread (clang-sys keeps the loaded library per thread).
pub fn ensure_loaded() -> Result<(), String> {
    if is_loaded() {
        return Ok(());
    }
    load().map_err(|e| {
        format!("libclang could not be loaded ({e}); install it (Debian: apt-get install libclang-dev) or set LIBCLANG_PATH to the folder holding libclang.so")
    })
}

/// clang's own headers (`stddef.h`, `mm_malloc.h`, ...). libclang derives their folder
/// from its own file name, which distribution symlinks break (Debian's
/// /usr/lib/x86_64-linux-gnu/libclang-14.so.1 has no clang/ beside it), so the folder is
/// looked up once and passed as `-resource-dir`: from `DLLGEN_CLANG_RESOURCE_DIR`, else
/// from the clang executable (`clang -print-resource-dir`), else beside the library.
pub fn resource_dir() -> Option<PathBuf> {
    static DIR: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let valid = |d: PathBuf| d.join("include").join("stddef.h").is_file().then_some(d);
        if let Some(d) = std::env::var_os("DLLGEN_CLANG_RESOURCE_DIR") {
            return valid(PathBuf::from(d));
        }
        let from_exe = clang_sys::support::Clang::find(None, &[]).and_then(|c| {
            let out = std::process::Command::new(&c.path).arg("-print-resource-dir").output().ok()?;
            valid(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        });
        from_exe.or_else(|| {
            let lib = get_library()?.path().canonicalize().ok()?;
            lib.ancestors().skip(1).take(3).find_map(|dir| {
                let versions = std::fs::read_dir(dir.join("clang")).ok()?;
                versions.filter_map(|v| v.ok()).find_map(|v| valid(v.path()))
            })
        })
    })
    .clone()
}

/// Takes ownership of a `CXString`.
fn string(s: CXString) -> String {
    // SAFETY: `s` is a CXString just returned by libclang; it is read, then disposed once.
    unsafe {
        let p = clang_getCString(s);
        let out = if p.is_null() { String::new() } else { CStr::from_ptr(p).to_string_lossy().into_owned() };
        clang_disposeString(s);
        out
    }
}

/// A diagnostic clang reported while parsing.
pub struct Diagnostic {
    pub severity: CXDiagnosticSeverity,
    pub location: Location,
    pub message: String,
}

/// A parsed translation unit (and the index it came from).
pub struct TranslationUnit {
    index: CXIndex,
    tu: CXTranslationUnit,
}

impl Drop for TranslationUnit {
    fn drop(&mut self) {
        // SAFETY: both handles were created by `parse` and are disposed exactly once.
        unsafe {
            clang_disposeTranslationUnit(self.tu);
            clang_disposeIndex(self.index);
        }
    }
}

impl TranslationUnit {
    /// Parses `file` with compiler `args`; `unsaved` are in-memory files (path, contents).
    /// With `macros`, the preprocessor's macro definitions are kept as cursors.
    pub fn parse(
        file: &Path,
        args: &[String],
        unsaved: &[(String, String)],
        macros: bool,
    ) -> Result<Self, String> {
        ensure_loaded()?;
        let c_file =
            CString::new(file.to_string_lossy().as_bytes()).map_err(|_| "header path contains NUL")?;
        let c_args: Vec<CString> = args
            .iter()
            .map(|a| CString::new(a.as_str()))
            .collect::<Result<_, _>>()
            .map_err(|_| "argument contains NUL")?;
        let arg_ptrs: Vec<*const i8> = c_args.iter().map(|a| a.as_ptr()).collect();
        let c_unsaved: Vec<(CString, CString)> = unsaved
            .iter()
            .map(|(p, c)| Ok((CString::new(p.as_str())?, CString::new(c.as_str())?)))
            .collect::<Result<_, std::ffi::NulError>>()
            .map_err(|_| "in-memory file contains NUL")?;
        let mut unsaved_files: Vec<CXUnsavedFile> = c_unsaved
            .iter()
            .map(|(p, c)| CXUnsavedFile {
                Filename: p.as_ptr(),
                Contents: c.as_ptr(),
                Length: c.as_bytes().len() as _,
            })
            .collect();
        let mut flags = CXTranslationUnit_SkipFunctionBodies | CXTranslationUnit_KeepGoing;
        if macros {
            flags |= CXTranslationUnit_DetailedPreprocessingRecord;
        }
        // SAFETY: all pointers outlive the call; libclang copies what it keeps.
        unsafe {
            let index = clang_createIndex(0, 0);
            let mut tu = ptr::null_mut();
            let code = clang_parseTranslationUnit2(
                index,
                c_file.as_ptr(),
                arg_ptrs.as_ptr(),
                arg_ptrs.len() as i32,
                unsaved_files.as_mut_ptr(),
                unsaved_files.len() as u32,
                flags,
                &mut tu,
            );
            if code != CXError_Success || tu.is_null() {
                clang_disposeIndex(index);
                return Err(format!("libclang could not parse {} (error code {code})", file.display()));
            }
            Ok(TranslationUnit { index, tu })
        }
    }

    /// Every diagnostic, in order.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        // SAFETY: indexes are below clang_getNumDiagnostics; each diagnostic is disposed.
        unsafe {
            (0..clang_getNumDiagnostics(self.tu))
                .map(|i| {
                    let d = clang_getDiagnostic(self.tu, i);
                    let out = Diagnostic {
                        severity: clang_getDiagnosticSeverity(d),
                        location: Location::from(clang_getDiagnosticLocation(d)),
                        message: string(clang_getDiagnosticSpelling(d)),
                    };
                    clang_disposeDiagnostic(d);
                    out
                })
                .collect()
        }
    }

    /// The translation unit's root cursor.
    pub fn cursor(&self) -> Cursor {
        // SAFETY: self.tu is a live translation unit.
        Cursor(unsafe { clang_getTranslationUnitCursor(self.tu) })
    }

    /// `file` as clang read it: its handle in this unit and its bytes.
    fn buffer(&self, file: &Path) -> Option<(CXFile, &[u8])> {
        let c_file = CString::new(file.to_string_lossy().as_bytes()).ok()?;
        // SAFETY: the file handle belongs to self.tu, and its buffer lives as long as the unit
        // (the returned slice borrows `self`).
        unsafe {
            let f = clang_getFile(self.tu, c_file.as_ptr());
            if f.is_null() {
                return None;
            }
            let mut size = 0usize;
            let contents = clang_getFileContents(self.tu, f, &mut size);
            (!contents.is_null()).then(|| (f, std::slice::from_raw_parts(contents.cast::<u8>(), size)))
        }
    }

    /// The text of `file` as clang read it (the offsets its locations count in).
    pub fn file_text(&self, file: &Path) -> Option<String> {
        self.buffer(file).map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
    }

    /// The raw tokens of `file` (spelling and byte offset), for reading SAL annotations,
    /// which the preprocessor erases from the AST.
    pub fn file_tokens(&self, file: &Path) -> Vec<(String, u32)> {
        let Some((f, bytes)) = self.buffer(file) else { return Vec::new() };
        let size = bytes.len();
        // SAFETY: the file handle belongs to self.tu; the token array is disposed after use.
        unsafe {
            let range = clang_getRange(
                clang_getLocationForOffset(self.tu, f, 0),
                clang_getLocationForOffset(self.tu, f, size as u32),
            );
            let mut tokens = ptr::null_mut();
            let mut count = 0u32;
            clang_tokenize(self.tu, range, &mut tokens, &mut count);
            let out = (0..count as usize)
                .map(|i| {
                    let t = *tokens.add(i);
                    let loc = Location::from(clang_getTokenLocation(self.tu, t));
                    (string(clang_getTokenSpelling(self.tu, t)), loc.offset)
                })
                .collect();
            if !tokens.is_null() {
                clang_disposeTokens(self.tu, tokens, count);
            }
            out
        }
    }
}

/// A source position (the spelling location: where the characters are written).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    pub file: Option<PathBuf>,
    pub line: u32,
    pub column: u32,
    pub offset: u32,
}

impl From<CXSourceLocation> for Location {
    fn from(loc: CXSourceLocation) -> Self {
        let (mut file, mut line, mut column, mut offset) = (ptr::null_mut(), 0, 0, 0);
        // SAFETY: out-pointers are valid; the file name string is disposed by `string`.
        unsafe {
            clang_getSpellingLocation(loc, &mut file, &mut line, &mut column, &mut offset);
            let file =
                if file.is_null() { None } else { Some(PathBuf::from(string(clang_getFileName(file)))) };
            Location { file, line, column, offset }
        }
    }
}

/// A node of the AST.
#[derive(Clone, Copy)]
pub struct Cursor(CXCursor);

extern "C" fn collect(child: CXCursor, _parent: CXCursor, data: CXClientData) -> CXChildVisitResult {
    // SAFETY: `data` is the Vec<Cursor> passed by `children`, alive for the whole visit.
    let out = unsafe { &mut *(data as *mut Vec<Cursor>) };
    out.push(Cursor(child));
    CXChildVisit_Continue
}

impl Cursor {
    pub fn kind(&self) -> CXCursorKind {
        // SAFETY: plain accessor on a live cursor (as for every method below).
        unsafe { clang_getCursorKind(self.0) }
    }

    pub fn spelling(&self) -> String {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        string(unsafe { clang_getCursorSpelling(self.0) })
    }

    pub fn children(&self) -> Vec<Cursor> {
        let mut out: Vec<Cursor> = Vec::new();
        // SAFETY: `collect` gets `out` back as its client data, alive for the whole visit.
        unsafe { clang_visitChildren(self.0, collect, &mut out as *mut Vec<Cursor> as *mut c_void) };
        out
    }

    pub fn ty(&self) -> Type {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        Type(unsafe { clang_getCursorType(self.0) })
    }

    pub fn location(&self) -> Location {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        Location::from(unsafe { clang_getCursorLocation(self.0) })
    }

    /// Start and end of the cursor's extent.
    pub fn extent(&self) -> (Location, Location) {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        unsafe {
            let r = clang_getCursorExtent(self.0);
            (Location::from(clang_getRangeStart(r)), Location::from(clang_getRangeEnd(r)))
        }
    }

    /// Where the cursor's extent ends in the file as written (macro expansions resolved to
    /// where they are used, not where the macro is defined).
    pub fn end_in_file(&self) -> Location {
        let (mut file, mut line, mut column, mut offset) = (ptr::null_mut(), 0, 0, 0);
        // SAFETY: out-pointers are valid; the file name string is disposed by `string`.
        unsafe {
            let end = clang_getRangeEnd(clang_getCursorExtent(self.0));
            clang_getFileLocation(end, &mut file, &mut line, &mut column, &mut offset);
            let file =
                if file.is_null() { None } else { Some(PathBuf::from(string(clang_getFileName(file)))) };
            Location { file, line, column, offset }
        }
    }

    pub fn in_system_header(&self) -> bool {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        unsafe { clang_Location_isInSystemHeader(clang_getCursorLocation(self.0)) != 0 }
    }

    pub fn definition(&self) -> Option<Cursor> {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        let c = unsafe { clang_getCursorDefinition(self.0) };
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        (unsafe { clang_Cursor_isNull(c) } == 0).then_some(Cursor(c))
    }

    pub fn storage_class(&self) -> CX_StorageClass {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        unsafe { clang_Cursor_getStorageClass(self.0) }
    }

    pub fn is_anonymous(&self) -> bool {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        unsafe { clang_Cursor_isAnonymous(self.0) != 0 }
    }

    pub fn is_bit_field(&self) -> bool {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        unsafe { clang_Cursor_isBitField(self.0) != 0 }
    }

    pub fn bit_width(&self) -> i32 {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        unsafe { clang_getFieldDeclBitWidth(self.0) }
    }

    /// Offset of a field in bits from the start of its record, or a negative error.
    pub fn field_offset_bits(&self) -> i64 {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        unsafe { clang_Cursor_getOffsetOfField(self.0) }
    }

    pub fn enum_value(&self) -> i64 {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        unsafe { clang_getEnumConstantDeclValue(self.0) }
    }

    pub fn enum_type(&self) -> Type {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        Type(unsafe { clang_getEnumDeclIntegerType(self.0) })
    }

    pub fn typedef_underlying(&self) -> Type {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        Type(unsafe { clang_getTypedefDeclUnderlyingType(self.0) })
    }

    pub fn is_macro_function_like(&self) -> bool {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        unsafe { clang_Cursor_isMacroFunctionLike(self.0) != 0 }
    }

    /// The spellings of the tokens the cursor covers (a macro definition: its name, then
    /// its body).
    pub fn tokens(&self) -> Vec<String> {
        // SAFETY: the translation unit is the cursor's own; the token array is disposed after use.
        unsafe {
            let tu = clang_Cursor_getTranslationUnit(self.0);
            let mut tokens = ptr::null_mut();
            let mut count = 0u32;
            clang_tokenize(tu, clang_getCursorExtent(self.0), &mut tokens, &mut count);
            let out =
                (0..count as usize).map(|i| string(clang_getTokenSpelling(tu, *tokens.add(i)))).collect();
            if !tokens.is_null() {
                clang_disposeTokens(tu, tokens, count);
            }
            out
        }
    }

    /// What clang's constant evaluator makes of a variable's initializer.
    #[allow(non_upper_case_globals)]
    pub fn evaluate(&self) -> Option<Evaluated> {
        // SAFETY: the result is read according to its kind, then disposed once.
        unsafe {
            let r = clang_Cursor_Evaluate(self.0);
            if r.is_null() {
                return None;
            }
            let out = match clang_EvalResult_getKind(r) {
                CXEval_Int if clang_EvalResult_isUnsignedInt(r) != 0 => {
                    Some(Evaluated::Int { bits: clang_EvalResult_getAsUnsigned(r), unsigned: true })
                }
                CXEval_Int => {
                    Some(Evaluated::Int { bits: clang_EvalResult_getAsLongLong(r) as u64, unsigned: false })
                }
                CXEval_Float => Some(Evaluated::Float(clang_EvalResult_getAsDouble(r))),
                CXEval_StrLiteral => {
                    let p = clang_EvalResult_getAsStr(r);
                    (!p.is_null()).then(|| Evaluated::Str(CStr::from_ptr(p).to_bytes().to_vec()))
                }
                _ => None,
            };
            clang_EvalResult_dispose(r);
            out
        }
    }

    /// Where the comment clang attached to the declaration starts (file and offset).
    pub fn comment_start(&self) -> Option<(PathBuf, u32)> {
        // SAFETY: a libclang query on a live cursor; the range is read, not kept.
        let loc = Location::from(unsafe { clang_getRangeStart(clang_Cursor_getCommentRange(self.0)) });
        Some((loc.file?, loc.offset))
    }

    /// Whether the attached comment is written as documentation (`/**`, `///`, `/*!`, `//!`).
    pub fn comment_is_doc(&self) -> bool {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        let raw = string(unsafe { clang_Cursor_getRawCommentText(self.0) });
        let raw = raw.trim_start();
        ["/**", "///", "/*!", "//!"].iter().any(|p| raw.starts_with(p))
    }

    /// The comment attached to the declaration, markers stripped line by line.
    pub fn comment(&self) -> Option<String> {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        let raw = string(unsafe { clang_Cursor_getRawCommentText(self.0) });
        (!raw.trim().is_empty()).then(|| clean_comment(&raw))
    }
}

/// Removes `/**`, `*/`, leading `*`, `///` and `//` markers, keeping the text's lines.
pub(super) fn clean_comment(raw: &str) -> String {
    let lines: Vec<String> = raw
        .lines()
        .map(|l| {
            let l = l.trim();
            let l = ["/**<", "/*!<", "/**", "/*!", "/*"].iter().find_map(|p| l.strip_prefix(p)).unwrap_or(l);
            let l = l.strip_suffix("*/").unwrap_or(l);
            let l = ["///<", "//!<", "///", "//!", "//"].iter().find_map(|p| l.strip_prefix(p)).unwrap_or(l);
            let l = l.trim_start();
            let l = if l.starts_with('*') && !l.starts_with("*/") { l[1..].trim_start() } else { l };
            l.trim_end().to_string()
        })
        .collect();
    let start = lines.iter().position(|l| !l.is_empty()).unwrap_or(lines.len());
    let end = lines.iter().rposition(|l| !l.is_empty()).map_or(start, |e| e + 1);
    lines[start..end].join("\n")
}

/// A constant clang evaluated.
#[derive(Debug, Clone, PartialEq)]
pub enum Evaluated {
    /// An integer's two's-complement bits.
    Int {
        bits: u64,
        unsigned: bool,
    },
    Float(f64),
    /// A string literal's bytes (up to its first NUL).
    Str(Vec<u8>),
}

/// A C type as clang sees it for the target.
#[derive(Clone, Copy)]
pub struct Type(CXType);

impl Type {
    pub fn kind(&self) -> CXTypeKind {
        self.0.kind
    }

    pub fn spelling(&self) -> String {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        string(unsafe { clang_getTypeSpelling(self.0) })
    }

    pub fn canonical(&self) -> Type {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        Type(unsafe { clang_getCanonicalType(self.0) })
    }

    /// Size in bytes for the target, or `None` for incomplete and dependent types.
    pub fn size(&self) -> Option<u64> {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        let s = unsafe { clang_Type_getSizeOf(self.0) };
        u64::try_from(s).ok()
    }

    pub fn align(&self) -> Option<u64> {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        let a = unsafe { clang_Type_getAlignOf(self.0) };
        u64::try_from(a).ok()
    }

    pub fn pointee(&self) -> Type {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        Type(unsafe { clang_getPointeeType(self.0) })
    }

    pub fn is_const(&self) -> bool {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        unsafe { clang_isConstQualifiedType(self.0) != 0 }
    }

    pub fn declaration(&self) -> Cursor {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        Cursor(unsafe { clang_getTypeDeclaration(self.0) })
    }

    pub fn element(&self) -> Type {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        Type(unsafe { clang_getArrayElementType(self.0) })
    }

    pub fn array_len(&self) -> Option<u64> {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        u64::try_from(unsafe { clang_getArraySize(self.0) }).ok()
    }

    /// Strips elaboration (`struct x` written as such) and attributes.
    pub fn named(&self) -> Type {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        let t = Type(unsafe { clang_Type_getNamedType(self.0) });
        if t.kind() == CXType_Invalid {
            *self
        } else {
            t
        }
    }

    pub fn modified(&self) -> Type {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        Type(unsafe { clang_Type_getModifiedType(self.0) })
    }

    pub fn result(&self) -> Type {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        Type(unsafe { clang_getResultType(self.0) })
    }

    pub fn args(&self) -> Vec<Type> {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        let n = unsafe { clang_getNumArgTypes(self.0) };
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        (0..n.max(0) as u32).map(|i| Type(unsafe { clang_getArgType(self.0, i) })).collect()
    }

    pub fn is_variadic(&self) -> bool {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        unsafe { clang_isFunctionTypeVariadic(self.0) != 0 }
    }

    pub fn calling_conv(&self) -> CXCallingConv {
        // SAFETY: a libclang query on a live cursor, type or token of this translation unit.
        unsafe { clang_getFunctionTypeCallingConv(self.0) }
    }
}

#[cfg(test)]
mod tests {
    use super::clean_comment;

    #[test]
    fn comments_lose_their_markers() {
        assert_eq!(
            clean_comment("/** Opens a device.\n * @param path where\n */"),
            "Opens a device.\n@param path where"
        );
        assert_eq!(clean_comment("/// One.\n/// Two."), "One.\nTwo.");
        assert_eq!(clean_comment("// plain"), "plain");
        assert_eq!(clean_comment("/* x */"), "x");
        assert_eq!(clean_comment("/**< column */"), "column");
        assert_eq!(clean_comment("///< row"), "row");
    }
}
