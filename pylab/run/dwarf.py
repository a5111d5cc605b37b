"""Source lines of code addresses, read from a binary's DWARF line table (.debug_line).

The tracer asks where each stdio marker's call was made (pylab.run.tracer): a return
address in the program, to a file:line. `addr2line` answers it, but is a program to
start: on this kind of machine that is ~1 ms and more (glibc's start-up, then reading
the binary), most of a traced run's parse. This reads the same table in-process, as
addr2line does, for the small -g binaries the lab builds:

    where(path, [offset, ...])   # {offset: "file.c:LINE" or None}; raises Unsupported

offsets are what addr2line is given (relative to the load base for a PIE). DWARF
versions 2-5, 32- and 64-bit units, ELF64 little-endian. Anything else (compressed
sections, another layout) raises Unsupported, and the caller asks addr2line instead.
"""
from __future__ import annotations

import bisect
import os
import struct

# DW_FORM_* codes that can appear in a v5 line header's entry formats
_STRING, _LINE_STRP, _STRP, _UDATA, _DATA1, _DATA2, _DATA4, _DATA8, _DATA16, _BLOCK = (
    0x08, 0x1F, 0x0E, 0x0F, 0x0B, 0x05, 0x06, 0x07, 0x1E, 0x09)
_PATH = 1  # DW_LNCT_path


class Unsupported(Exception):
    """This binary's line table is not one this reader handles (ask addr2line)."""


def _sections(data: bytes) -> dict[str, bytes]:
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise Unsupported("not a little-endian ELF64 file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    heads = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names = heads[shstrndx]
    out = {}
    for name, _type, flags, _addr, offset, size in heads:
        end = data.index(b"\0", names[4] + name)
        label = data[names[4] + name:end].decode()
        if label.startswith(".debug_line") or label == ".debug_str":
            if flags & 0x800:  # SHF_COMPRESSED
                raise Unsupported(f"{label} is compressed")
            out[label] = data[offset:offset + size]
    return out


def _leb(b: bytes, i: int, signed: bool = False) -> tuple[int, int]:
    """A LEB128 number at b[i]: (its value, the index after it)."""
    value = shift = 0
    while True:
        byte = b[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return (value - (1 << shift) if signed and byte & 0x40 else value), i


def _uleb(b: bytes, i: int) -> tuple[int, int]:
    return _leb(b, i)


def _sleb(b: bytes, i: int) -> tuple[int, int]:
    return _leb(b, i, signed=True)


def _cstr(b: bytes, i: int) -> tuple[str, int]:
    end = b.index(b"\0", i)
    return b[i:end].decode(errors="replace"), end + 1


def _form(b: bytes, i: int, form: int, off: int, strs: dict) -> tuple[object, int]:
    if form == _STRING:
        return _cstr(b, i)
    if form in (_LINE_STRP, _STRP):
        (at,) = struct.unpack_from("<Q" if off == 8 else "<I", b, i)
        table = strs[".debug_line_str" if form == _LINE_STRP else ".debug_str"]
        return _cstr(table, at)[0], i + off
    if form == _UDATA:
        return _uleb(b, i)
    sizes = {_DATA1: 1, _DATA2: 2, _DATA4: 4, _DATA8: 8, _DATA16: 16}
    if form in sizes:
        return None, i + sizes[form]
    if form == _BLOCK:
        n, i = _uleb(b, i)
        return None, i + n
    raise Unsupported(f"line header form {form:#x}")


def _unit(b: bytes, i: int, strs: dict, rows: list) -> int:
    """Decode one line-number program from offset i; append its sequences' rows as
    (address, file, line, end_of_sequence) to rows; return the next unit's offset."""
    (length,) = struct.unpack_from("<I", b, i)
    off, i = (4, i + 4) if length != 0xFFFFFFFF else (8, i + 12)
    if off == 8:
        (length,) = struct.unpack_from("<Q", b, i - 8)
    end = i + length
    (version,) = struct.unpack_from("<H", b, i)
    i += 2
    if not 2 <= version <= 5:
        raise Unsupported(f"DWARF line table version {version}")
    addr_size = 8
    if version >= 5:
        addr_size, i = b[i], i + 2  # address_size, segment_selector_size
    (header_length,) = struct.unpack_from("<Q" if off == 8 else "<I", b, i)
    i += off
    program = i + header_length
    min_len = b[i]
    i += 2 if version >= 4 else 1  # (maximum_operations_per_instruction: VLIW only)
    line_base, line_range, opcode_base = struct.unpack_from("<b", b, i + 1)[0], b[i + 2], b[i + 3]  # (after default_is_stmt)
    lengths = b[i + 4:i + 3 + opcode_base]
    i += 3 + opcode_base
    files: list[str] = []
    if version >= 5:
        for kind in ("dirs", "files"):
            count = b[i]
            i += 1
            fmt = []
            for _ in range(count):
                ctype, i = _uleb(b, i)
                form, i = _uleb(b, i)
                fmt.append((ctype, form))
            n, i = _uleb(b, i)
            for _ in range(n):
                path = None
                for ctype, form in fmt:
                    value, i = _form(b, i, form, off, strs)
                    if ctype == _PATH:
                        path = value
                if kind == "files":
                    files.append(path or "?")
    else:
        while b[i]:  # include_directories
            _, i = _cstr(b, i)
        i += 1
        files.append("?")  # file numbers start at 1
        while b[i]:
            name, i = _cstr(b, i)
            for _ in range(3):
                _, i = _uleb(b, i)
            files.append(name)
    i = program

    def reset():
        return 0, 1, 1

    address, file, line = reset()
    while i < end:
        op = b[i]
        i += 1
        if op >= opcode_base:
            adj = op - opcode_base
            address += (adj // line_range) * min_len
            line += line_base + adj % line_range
            rows.append((address, files, file, line, False))
        elif op == 0:
            n, i = _uleb(b, i)
            sub, args = b[i], i + 1
            i += n
            if sub == 1:  # end_sequence
                rows.append((address, files, file, line, True))
                address, file, line = reset()
            elif sub == 2:  # set_address
                (address,) = struct.unpack_from("<Q" if addr_size == 8 else "<I", b, args)
            elif sub == 3:  # define_file (DWARF <= 4)
                files.append(_cstr(b, args)[0])
        elif op == 1:  # copy
            rows.append((address, files, file, line, False))
        elif op == 2:
            n, i = _uleb(b, i)
            address += n * min_len
        elif op == 3:
            n, i = _sleb(b, i)
            line += n
        elif op == 4:
            file, i = _uleb(b, i)
        elif op == 8:  # const_add_pc
            address += ((255 - opcode_base) // line_range) * min_len
        elif op == 9:
            (n,) = struct.unpack_from("<H", b, i)
            address, i = address + n, i + 2
        else:  # set_column, negate_stmt, ..., and any the header says take N arguments
            for _ in range(lengths[op - 1]):
                _, i = _uleb(b, i)
    return end


def table(path: str | os.PathLike) -> list[tuple[int, int, str | None, int]]:
    """Every line-table row as (start, end, file, line), sorted by start: the code from
    start up to end (exclusive) belongs to file:line."""
    with open(path, "rb") as f:
        data = f.read()
    secs = _sections(data)
    if ".debug_line" not in secs:
        return []
    b, rows, i = secs[".debug_line"], [], 0
    try:
        while i < len(b):
            i = _unit(b, i, secs, rows)
    except (IndexError, struct.error, KeyError, ValueError) as e:
        raise Unsupported(f"unreadable line table: {e}") from e
    spans = []
    for (a, files, f, ln, end), nxt in zip(rows, rows[1:]):
        if not end and nxt[0] > a:
            name = files[f] if 0 <= f < len(files) else None
            spans.append((a, nxt[0], name, ln))
    spans.sort()
    return spans


def where(path: str | os.PathLike, offsets) -> dict[int, str | None]:
    """{offset: "file.c:LINE"} for each offset (None where the table has no line for it),
    as addr2line prints it, reduced to the file's name."""
    spans = table(path)
    starts = [s[0] for s in spans]
    out = {}
    for o in offsets:
        k = bisect.bisect_right(starts, o) - 1
        if k >= 0 and spans[k][0] <= o < spans[k][1] and spans[k][2] and spans[k][3] > 0:
            out[o] = f"{os.path.basename(spans[k][2])}:{spans[k][3]}"
        else:
            out[o] = None
    return out
