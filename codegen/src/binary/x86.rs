//! How many argument bytes an exported i386 function pops, read from its code: a linear
//! walk from the entry point through IA-32 instructions (lengths only) to the first `ret`.
//! `ret` pops none (cdecl), `ret N` pops N (stdcall's arguments). A walk that meets what it
//! does not know (an opcode outside the table, a jump through a thunk, a tail call followed
//! by padding, the end of the section) gives no answer rather than a guess.

use super::Binary;

/// The most bytes walked from an entry point.
const MAX_WALK: usize = 64 * 1024;

/// What one instruction does to the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Falls through (or branches conditionally).
    Next,
    /// `ret` / `ret N`: the bytes it pops.
    Return(u16),
    /// An unconditional jump: the function may end here.
    Jump,
    /// A call: it may not return (an `abort`, Wine's unimplemented-function stub).
    Call,
    /// The walk cannot go on (`int3`, `hlt`, `ud2`, a far return...).
    Stop,
}

/// The first `ret` reached from the start of `code`: how many bytes it pops.
pub fn pops(code: &[u8]) -> Option<u16> {
    let mut at = 0;
    while at < code.len().min(MAX_WALK) {
        let (len, step) = decode(&code[at..])?;
        at += len;
        match step {
            Step::Next => {}
            Step::Return(n) => return Some(n),
            // Padding after a tail call or a jump to code elsewhere, or right after a call
            // (the callee does not return, or a loop head is aligned): another function may
            // start there, whose `ret` the walk would read; no answer.
            Step::Jump | Step::Call if padding(code.get(at..).unwrap_or_default()) => return None,
            Step::Jump | Step::Call => {}
            Step::Stop => return None,
        }
    }
    None
}

/// Whether `code` starts with what compilers put between functions.
fn padding(code: &[u8]) -> bool {
    matches!(
        code,
        [0xcc, ..]                          // int3 (MSVC, mingw)
            | [0x90, ..]                    // nop
            | [0x66, 0x90, ..]              // xchg ax, ax
            | [0x0f, 0x1f, ..]              // nop r/m
            | [0x66, 0x0f, 0x1f, ..]
            | [0x89, 0xf6, ..]              // mov esi, esi
            | [0x8d, 0x76, 0x00, ..]        // lea esi, [esi + 0]
            | [0x8d, 0xb4, 0x26, ..]        // lea esi, [esi + 0] (disp32)
            | [0x8d, 0x74, 0x26, 0x00, ..]
            | [0x8d, 0xbc, 0x27, ..]        // lea edi, [edi + 0]
            | [0x8d, 0xb6, ..]
            | [0x8d, 0xbf, ..]
            | [0x00, 0x00, ..]              // zeros: the end of the section's code
            | []
    )
}

/// Immediate operand sizes.
#[derive(Clone, Copy)]
enum Imm {
    None,
    /// One byte.
    B,
    /// Four bytes, two with an operand-size prefix.
    Z,
}

/// The length of the instruction at the start of `code` and what it does; `None` for an
/// opcode this table does not know or an instruction cut off by the end of `code`.
fn decode(code: &[u8]) -> Option<(usize, Step)> {
    let mut i = 0;
    let (mut opsize16, mut addr16) = (false, false);
    loop {
        match *code.get(i)? {
            0x66 => opsize16 = true,
            0x67 => addr16 = true,
            0xf0 | 0xf2 | 0xf3 | 0x26 | 0x2e | 0x36 | 0x3e | 0x64 | 0x65 => {}
            _ => break,
        }
        i += 1;
        if i > 14 {
            return None;
        }
    }
    let z = if opsize16 { 2 } else { 4 };
    let op = *code.get(i)?;
    i += 1;
    let (modrm, imm, step) = match op {
        0x0f => return two_byte(code, i, opsize16, addr16),
        // ALU r/m forms, and their accumulator-immediate forms.
        _ if op < 0x40 && op & 7 < 4 => (true, Imm::None, Step::Next),
        _ if op < 0x40 && op & 7 == 4 => (false, Imm::B, Step::Next),
        _ if op < 0x40 && op & 7 == 5 => (false, Imm::Z, Step::Next),
        // push/pop segment registers, daa/das/aaa/aas.
        _ if op < 0x40 => (false, Imm::None, Step::Next),
        0x40..=0x61 => (false, Imm::None, Step::Next),
        // bound (0x62 with mod = 3 is an EVEX prefix, not followed here), arpl.
        0x62 if *code.get(i)? >= 0xc0 => return None,
        0x62 | 0x63 => (true, Imm::None, Step::Next),
        0x68 => (false, Imm::Z, Step::Next),
        0x69 => (true, Imm::Z, Step::Next),
        0x6a => (false, Imm::B, Step::Next),
        0x6b => (true, Imm::B, Step::Next),
        0x6c..=0x6f => (false, Imm::None, Step::Next),
        0x70..=0x7f => (false, Imm::B, Step::Next),
        0x80 | 0x82 | 0x83 => (true, Imm::B, Step::Next),
        0x81 => (true, Imm::Z, Step::Next),
        // pop r/m is 8f /0; another reg field is AMD's XOP prefix, not followed here.
        0x8f if (*code.get(i)? >> 3) & 7 != 0 => return None,
        0x84..=0x8f => (true, Imm::None, Step::Next),
        0x90..=0x99 | 0x9b..=0x9f => (false, Imm::None, Step::Next),
        // call far ptr16:32.
        0x9a => return Some((i + z + 2, Step::Next)).filter(|(n, _)| *n <= code.len()),
        0xa0..=0xa3 => {
            return Some((i + if addr16 { 2 } else { 4 }, Step::Next)).filter(|(n, _)| *n <= code.len())
        }
        0xa4..=0xa7 | 0xaa..=0xaf => (false, Imm::None, Step::Next),
        0xa8 => (false, Imm::B, Step::Next),
        0xa9 => (false, Imm::Z, Step::Next),
        0xb0..=0xb7 => (false, Imm::B, Step::Next),
        0xb8..=0xbf => (false, Imm::Z, Step::Next),
        0xc0 | 0xc1 => (true, Imm::B, Step::Next),
        0xc2 => {
            let n = u16::from_le_bytes([*code.get(i)?, *code.get(i + 1)?]);
            return Some((i + 2, Step::Return(n)));
        }
        0xc3 => return Some((i, Step::Return(0))),
        // les/lds, or a VEX prefix (mod = 3), which this table does not follow.
        0xc4 | 0xc5 if *code.get(i)? >= 0xc0 => return None,
        0xc4 | 0xc5 => (true, Imm::None, Step::Next),
        0xc6 => (true, Imm::B, Step::Next),
        0xc7 => (true, Imm::Z, Step::Next),
        // enter imm16, imm8.
        0xc8 => return Some((i + 3, Step::Next)).filter(|(n, _)| *n <= code.len()),
        0xc9 => (false, Imm::None, Step::Next),
        // Far returns, int3, into, iret: not a near function's end.
        0xca | 0xcb | 0xcc | 0xce | 0xcf => return Some((i, Step::Stop)),
        0xcd => (false, Imm::B, Step::Next),
        0xd0..=0xd3 => (true, Imm::None, Step::Next),
        0xd4 | 0xd5 => (false, Imm::B, Step::Next),
        0xd6 | 0xd7 => (false, Imm::None, Step::Next),
        0xd8..=0xdf => (true, Imm::None, Step::Next),
        0xe0..=0xe7 => (false, Imm::B, Step::Next),
        0xe8 => (false, Imm::Z, Step::Call),
        0xe9 => (false, Imm::Z, Step::Jump),
        0xea => return Some((i + z + 2, Step::Stop)).filter(|(n, _)| *n <= code.len()),
        0xeb => (false, Imm::B, Step::Jump),
        0xec..=0xef | 0xf1 | 0xf5 | 0xf8..=0xfd => (false, Imm::None, Step::Next),
        0xf4 => return Some((i, Step::Stop)),
        // test r/m, imm (/0, /1) or not/neg/mul/div (no immediate).
        0xf6 | 0xf7 => {
            let reg = (*code.get(i)? >> 3) & 7;
            let imm = match (reg < 2, op) {
                (false, _) => Imm::None,
                (true, 0xf6) => Imm::B,
                (true, _) => Imm::Z,
            };
            (true, imm, Step::Next)
        }
        0xfe => (true, Imm::None, Step::Next),
        // jmp r/m (/4) and jmp far (/5) end the function here (a thunk: `jmp [iat]`).
        0xff => {
            let reg = (*code.get(i)? >> 3) & 7;
            let step = match reg {
                4 | 5 => Step::Stop,
                2 | 3 => Step::Call,
                _ => Step::Next,
            };
            (true, Imm::None, step)
        }
        _ => return None,
    };
    finish(code, i, modrm, imm, z, addr16, step)
}

/// `0f xx` opcodes.
fn two_byte(code: &[u8], mut i: usize, opsize16: bool, addr16: bool) -> Option<(usize, Step)> {
    let z = if opsize16 { 2 } else { 4 };
    let op = *code.get(i)?;
    i += 1;
    let (modrm, imm) = match op {
        0x00..=0x03 | 0x0d | 0x10..=0x17 | 0x18..=0x1f | 0x20..=0x23 | 0x28..=0x2f => (true, Imm::None),
        0x05..=0x09 | 0x30..=0x37 | 0x77 | 0xa0..=0xa2 | 0xa8..=0xaa | 0xc8..=0xcf => (false, Imm::None),
        0x0b => return Some((i, Step::Stop)),
        0x0f => (true, Imm::B),
        // Three-byte maps: 0f 38 xx /r, 0f 3a xx /r ib.
        0x38 => {
            i += 1;
            (true, Imm::None)
        }
        0x3a => {
            i += 1;
            (true, Imm::B)
        }
        // 0f 78 / 79: vmread / vmwrite, or SSE4a's extrq / insertq with two immediates
        // (by prefix): not followed.
        0x78 | 0x79 => return None,
        0x40..=0x6f | 0x74..=0x76 | 0x7a..=0x7f => (true, Imm::None),
        0x70..=0x73 => (true, Imm::B),
        0x80..=0x8f => (false, Imm::Z),
        0x90..=0x9f | 0xa3 | 0xa5 | 0xab | 0xad..=0xaf | 0xb0..=0xb9 | 0xbb..=0xc1 | 0xc3 | 0xc7 => {
            (true, Imm::None)
        }
        0xa4 | 0xac | 0xba | 0xc2 | 0xc4..=0xc6 => (true, Imm::B),
        0xd0..=0xff => (true, Imm::None),
        _ => return None,
    };
    finish(code, i, modrm, imm, z, addr16, Step::Next)
}

/// The rest of an instruction from its ModRM byte (when it has one) at `i`.
fn finish(
    code: &[u8],
    mut i: usize,
    modrm: bool,
    imm: Imm,
    z: usize,
    addr16: bool,
    step: Step,
) -> Option<(usize, Step)> {
    if modrm {
        let m = *code.get(i)?;
        i += 1;
        let (mode, rm) = (m >> 6, m & 7);
        i += match (addr16, mode, rm) {
            (_, 3, _) => 0,
            (true, 0, 6) => 2,
            (true, 0, _) => 0,
            (true, 1, _) => 1,
            (true, _, _) => 2,
            (false, _, 4) => {
                let sib = *code.get(i)?;
                1 + match mode {
                    0 if sib & 7 == 5 => 4,
                    0 => 0,
                    1 => 1,
                    _ => 4,
                }
            }
            (false, 0, 5) => 4,
            (false, 0, _) => 0,
            (false, 1, _) => 1,
            (false, _, _) => 4,
        };
    }
    i += match imm {
        Imm::None => 0,
        Imm::B => 1,
        Imm::Z => z,
    };
    (i <= code.len()).then_some((i, step))
}

/// The code of the function `name` exports, from its entry point to the end of its section
/// (`bytes`: the whole file `binary` was read from).
pub fn code<'a>(bytes: &'a [u8], binary: &Binary, name: &str) -> Option<&'a [u8]> {
    match binary {
        Binary::Pe(pe) => {
            let e = pe.exports.as_ref()?.entries.iter().find(|e| e.name.as_deref() == Some(name))?;
            if e.forwarder.is_some() {
                return None;
            }
            let s = pe.sections.iter().find(|s| {
                let span = if s.virtual_size == 0 { s.file_size } else { s.virtual_size };
                e.rva >= s.rva && e.rva - s.rva < span.min(s.file_size)
            })?;
            let start = (s.file_offset as usize).checked_add((e.rva - s.rva) as usize)?;
            let end = (s.file_offset as usize).checked_add(s.file_size as usize)?.min(bytes.len());
            bytes.get(start..end)
        }
        Binary::Elf(elf) => {
            let s = elf.symbols.iter().find(|s| s.name == name && s.kind == "function")?;
            // The loadable, executable segment holding the symbol's address.
            let &(vaddr, offset, filesz) = elf
                .code_segments
                .iter()
                .find(|(vaddr, _, filesz)| s.value >= *vaddr && s.value - vaddr < *filesz)?;
            let start = usize::try_from(offset.checked_add(s.value - vaddr)?).ok()?;
            let end = usize::try_from(offset.checked_add(filesz)?).ok()?.min(bytes.len());
            let end = if s.size > 0 { end.min(start.saturating_add(s.size as usize)) } else { end };
            bytes.get(start..end)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_are_found_past_other_instructions() {
        // push ebp; mov ebp, esp; mov eax, [ebp+8]; add eax, [ebp+0xc]; pop ebp; ret 8
        assert_eq!(
            pops(&[0x55, 0x89, 0xe5, 0x8b, 0x45, 0x08, 0x03, 0x45, 0x0c, 0x5d, 0xc2, 0x08, 0x00]),
            Some(8)
        );
        // mov eax, [esp+4]; ret
        assert_eq!(pops(&[0x8b, 0x44, 0x24, 0x04, 0xc3]), Some(0));
        // test eax, eax; je +2; xor eax, eax; ret
        assert_eq!(pops(&[0x85, 0xc0, 0x74, 0x02, 0x31, 0xc0, 0xc3]), Some(0));
        // cmp dword [eax+ecx*4+0x12345678], 0x7f; mov word [esi], 0x1234 (66 prefix); ret 4
        let code =
            [0x83, 0xbc, 0x88, 0x78, 0x56, 0x34, 0x12, 0x7f, 0x66, 0xc7, 0x06, 0x34, 0x12, 0xc2, 0x04, 0x00];
        assert_eq!(pops(&code), Some(4));
        // test byte [eax], 1 (f6 /0 ib); movzx eax, byte [eax]; ret
        assert_eq!(pops(&[0xf6, 0x00, 0x01, 0x0f, 0xb6, 0x00, 0xc3]), Some(0));
    }

    #[test]
    fn no_answer_rather_than_a_guess() {
        // jmp [0x12345678]: an import thunk.
        assert_eq!(pops(&[0xff, 0x25, 0x78, 0x56, 0x34, 0x12, 0xc3]), None);
        // A tail call (jmp rel32), padding, then another function's `ret 4`.
        assert_eq!(pops(&[0xe9, 0, 0, 0, 0, 0xcc, 0xcc, 0xc2, 0x04, 0x00]), None);
        // Cut off in the middle of an instruction, or nothing there.
        assert_eq!(pops(&[0x8b, 0x44]), None);
        assert_eq!(pops(&[]), None);
        // Opcodes the table does not follow: VEX, EVEX, XOP, SSE4a's two-immediate forms.
        assert_eq!(pops(&[0xc5, 0xf8, 0x77, 0xc3]), None);
        assert_eq!(pops(&[0x62, 0xf1, 0x7c, 0x48, 0x10, 0x00, 0xc3]), None);
        assert_eq!(pops(&[0x8f, 0xe8, 0x78, 0xc2, 0xc0, 0x01, 0xc3]), None);
        assert_eq!(pops(&[0x66, 0x0f, 0x78, 0xc0, 0x04, 0x08, 0xc3]), None);
    }

    #[test]
    fn a_call_that_does_not_return_gives_no_answer() {
        // Wine's stub: sub esp, 12; mov [esp+4], imm; mov [esp], imm; call stub; then the
        // next stub's nops and its code, up to some `ret 16`.
        let mut code =
            vec![0x83, 0xec, 0x0c, 0xc7, 0x44, 0x24, 0x04, 1, 2, 3, 4, 0xc7, 0x04, 0x24, 1, 2, 3, 4];
        code.extend([0xe8, 0, 0, 0, 0]);
        code.extend([0x90; 9]);
        code.extend([0xc2, 0x10, 0x00]);
        assert_eq!(pops(&code), None);
        // A call followed by more code keeps walking.
        assert_eq!(pops(&[0xe8, 0, 0, 0, 0, 0x31, 0xc0, 0xc2, 0x08, 0x00]), Some(8));
    }

    #[test]
    fn a_jump_over_a_block_keeps_walking() {
        // jmp +1; inc eax; ret 12
        assert_eq!(pops(&[0xeb, 0x01, 0x40, 0xc2, 0x0c, 0x00]), Some(12));
    }
}
