#!/usr/bin/env python3
"""Builds dptrack's man pages; Python 3 standard library only.

  man.py yaml YAML OUT VERSION   dptrack.yaml(5) from config/dptrack.yaml
  man.py subst IN OUT VERSION    IN with @VERSION@ and @DATE@ filled in

The yaml mode turns the documented default configuration into a man page,
so the page cannot drift from the file: every key under its full name
(section.key, section.group.key) with its comment block, each section's
own prose, and the file's opening comment as the description. It reads the
layout config/dptrack.yaml keeps: `section:` at column 0, keys two spaces
in, grouped keys four; a comment block directly above a key is the key's,
one separated from the next key by a blank line is prose of the section. A
key without a comment stops the build.

@DATE@ and the pages' date is SOURCE_DATE_EPOCH's when set (Debian builds
set it from the changelog), else the modification time of the input, so a
rebuild of the same tree gives the same page.
"""
import os
import re
import sys
import time

KEY = re.compile(r'^( *)([A-Za-z_][A-Za-z0-9_]*):(.*)$')
TAG_ITEM = re.compile(r'^(\S+:)\s{2,}(.*)$')  # "device:  text" in an indented run


def fail(path, lineno, msg):
    sys.exit('%s:%d: %s' % (path, lineno, msg))


def page_date(path):
    epoch = os.environ.get('SOURCE_DATE_EPOCH')
    t = int(epoch) if epoch else int(os.stat(path).st_mtime)
    return time.strftime('%Y-%m-%d', time.gmtime(t))


def esc(text):
    """Escapes text for roff: backslash, minus signs, non-ASCII; `code` in bold."""
    out = []
    for ch in text:
        if ch == '\\':
            out.append('\\e')
        elif ch == '-':
            out.append('\\-')
        elif ord(ch) > 126:
            out.append('\\[u%04X]' % ord(ch))
        else:
            out.append(ch)
    s = ''.join(out)
    if s.count('`') % 2:
        raise ValueError('unbalanced ` in: ' + text)
    s = re.sub(r'`([^`]*)`', r'\\fB\1\\fR', s)
    if s.startswith(('.', "'")):
        s = '\\&' + s  # not a request
    return s


def render_block(lines, para):
    """Roff for one comment block (text lines, '#' and one space removed).

    A '#' line alone starts a new paragraph (the macro para); a run of lines
    indented further is set apart: as a tagged list when each item reads
    "tag:  text", else one output line per item. An item is a line of the
    run's smallest indent with the deeper lines that follow it."""
    out = []
    while lines and lines[0].strip() == '':
        lines = lines[1:]
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == '':
            out.append(para)
            i += 1
            continue
        if not line.startswith(' '):
            out.append(esc(line.strip()))
            i += 1
            continue
        run = []
        while i < len(lines) and lines[i].startswith(' '):
            run.append(lines[i])
            i += 1
        base = min(len(r) - len(r.lstrip(' ')) for r in run)
        items = []
        for r in run:
            if len(r) - len(r.lstrip(' ')) == base or not items:
                items.append(r.strip())
            else:
                items[-1] += ' ' + r.strip()
        tagged = [TAG_ITEM.match(it) for it in items]
        out.append('.RS')
        if all(tagged):
            width = max(len(m.group(1)) for m in tagged) + 2
            for n, m in enumerate(tagged):
                out.append('.TP %d' % width if n == 0 else '.TP')
                out.append('.B ' + esc(m.group(1)))
                out.append(esc(m.group(2)))
        else:
            for n, it in enumerate(items):
                if n:
                    out.append('.br')
                out.append(esc(it))
        out.append('.RE')
        if i < len(lines) and para == '.IP':
            out.append('.IP')  # back to the key's indent after the list
    return out


def parse(path):
    """Returns (header lines, sections): a section is a dict with name,
    prose (list of blocks) and entries (full key, block, is_group)."""
    with open(path, encoding='utf-8') as f:
        src = f.read().split('\n')
    header, sections = [], []
    block, loose = [], []  # the comment block being read; blocks ended by a blank line
    group = None  # (name, indent) of the open group
    value_indent = None  # indent of the key whose block value (a list) is being read

    def significant_after(n):
        for m in range(n + 1, len(src)):
            s = src[m].strip()
            if s and not s.startswith('#'):
                return src[m]
        return ''

    for n, raw in enumerate(src):
        lineno = n + 1
        stripped = raw.strip()
        if stripped.startswith('#'):
            text = stripped[1:]
            block.append(text[1:] if text.startswith(' ') else text)
            continue
        if stripped == '':
            if block:
                loose.append(block)
                block = []
            continue
        m = KEY.match(raw)
        indent = len(raw) - len(raw.lstrip(' '))
        if value_indent is not None and indent > value_indent:
            continue  # a block value's own lines (dpdk.ports' list)
        value_indent = None
        if not m:
            fail(path, lineno, 'neither a key nor part of a value: ' + stripped)
        name, value = m.group(2), m.group(3).strip()
        if indent == 0:
            if value:
                fail(path, lineno, 'a section takes no value: ' + name)
            (sections[-1]['prose'] if sections else header).extend(loose)
            if block:
                fail(path, lineno, 'a comment directly above a section: leave a blank line')
            sections.append({'name': name, 'prose': [], 'entries': []})
            block, loose, group = [], [], None
            continue
        if not sections:
            fail(path, lineno, 'a key before any section')
        sec = sections[-1]
        if group is not None and indent <= group[1]:
            group = None
        if indent > (4 if group else 2) or indent % 2:
            fail(path, lineno, 'unexpected indent for key ' + name)
        if not block:
            fail(path, lineno, 'key %s has no comment: document it' % name)
        sec['prose'].extend(loose)
        nxt = significant_after(n)
        nxt_indent = len(nxt) - len(nxt.lstrip(' '))
        is_group = (value == '' and nxt_indent > indent and not nxt.strip().startswith('-'))
        prefix = sec['name'] + '.' + (group[0] + '.' if group else '')
        sec['entries'].append((prefix + name, block, is_group))
        if is_group:
            group = (name, indent)
        elif value == '':
            value_indent = indent
        block, loose = [], []
    if sections:
        sections[-1]['prose'].extend(loose + ([block] if block else []))
    return header, sections


def yaml_page(path, version):
    header, sections = parse(path)
    # The file's first line names it ("dptrack.yaml - ..."); NAME says that.
    if header and ' - ' in header[0][0]:
        header[0] = header[0][1:]
    out = [
        '.\\" Generated from config/dptrack.yaml by docs/man.py. Do not edit.',
        '.TH DPTRACK.YAML 5 "%s" "dptrack %s" "File Formats Manual"' % (page_date(path), version),
        '.\\" Key names, paths and URLs must not be split across lines.',
        '.nh',
        '.ad l',
        '.SH NAME',
        'dptrack.yaml \\- configuration of dptrack, the BitTorrent tracker',
        '.SH SYNOPSIS',
        '.I /etc/dptrack/dptrack.yaml',
        '.SH DESCRIPTION',
        '.BR dptrack (8)',
        'reads a YAML file whose keys and defaults are those below: this page is',
        'generated from the comments of the documented default configuration,',
        'which is compiled into',
        '.B dptrack',
        'and installed as',
        '.IR /etc/dptrack/dptrack.yaml .',
    ]
    for b in header:
        out.append('.PP')
        out += render_block(b, '.PP')
    out += [
        '.SH KEYS',
        'Each key below is named in full,',
        '.IR section.key ,',
        'or',
        '.I section.group.key',
        'for a key of a group; in the file it sits under its section (and group),',
        'indented:',
        '.PP',
        '.RS',
        '.nf',
        'tracker:',
        '  snapshot:',
        '    path: /var/lib/dptrack/peers.snap',
        '.fi',
        '.RE',
    ]
    for sec in sections:
        out.append('.SS ' + sec['name'])
        for b in sec['prose']:
            out.append('.PP')
            out += render_block(b, '.PP')
        for key, block, _ in sec['entries']:
            out += ['.TP', '.B ' + esc(key)]
            out += render_block(block, '.IP')
    out += [
        '.SH FILES',
        '.TP',
        '.I /etc/dptrack/dptrack.yaml',
        'The system configuration, read when no',
        '.B \\-c',
        'option,',
        '.I ./dptrack.yaml',
        'or',
        '.I ~/.config/dptrack/dptrack.yaml',
        'comes first.',
        '.SH SEE ALSO',
        '.BR dptrack (8)',
    ]
    return '\n'.join(out) + '\n'


def subst(path, version):
    with open(path, encoding='utf-8') as f:
        text = f.read()
    return text.replace('@VERSION@', version).replace('@DATE@', page_date(path))


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ('yaml', 'subst'):
        sys.exit('usage: man.py yaml|subst INPUT OUTPUT VERSION')
    mode, src, dst, version = sys.argv[1:]
    try:
        page = yaml_page(src, version) if mode == 'yaml' else subst(src, version)
    except ValueError as e:
        sys.exit('%s: %s' % (src, e))
    with open(dst + '.tmp', 'w', encoding='ascii') as f:
        f.write(page)
    os.replace(dst + '.tmp', dst)


if __name__ == '__main__':
    main()
