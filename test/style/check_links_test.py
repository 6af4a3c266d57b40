#!/usr/bin/env python3
"""check_links.py's own test: it fails on a tree with a broken link, a
broken anchor, a broken backquoted path and a mention of the folder
outside the tree, naming each at its FILE:LINE, and passes on a tree
where everything resolves.

Usage: check_links_test.py CHECK_LINKS_PY
Python 3 standard library only; the trees are made in a temporary folder,
which is no git checkout, so the checker walks them.
"""
import os
import subprocess
import sys
import tempfile

# The folder outside the tree, in pieces so this file does not name it.
OUTSIDE = '..' + '/shared'

GOOD = {
    'README.md': '''# Project

See [the guide](docs/GUIDE.md), [its setup](docs/GUIDE.md#set-it-up-now)
and [below](#a-section). `core/a.c` and `docs/` are in the tree;
`build/core/a.o`, `pcap/NAME.out.pcap` and `core/*.c` are not paths to check,
nor is `a span
over two lines`; `core/a.c` again is.
![chart](docs/img/chart.png)

```sh
cat missing/file.txt    # fenced: [not a link](nowhere.md), `core/nothing.c`
```

## A section
''',
    'docs/GUIDE.md': '''# Guide

## Set it up, now!

Back to [the README](../README.md) and `../core/a.c`.
''',
    'docs/img/chart.png': '',
    'core/a.c': '/* a file */\n',
}

BAD = {
    'README.md': '''# Project

See [the guide](docs/MISSING.md).
The code is in `core/missing.c`.
[A section](#no-such-section) and [that one](docs/GUIDE.md#nor-this).
A code span `over a
line break` then `core/gone.c`, paired as Markdown pairs them.
''',
    'docs/GUIDE.md': '''# Guide

Leaving: [up](../../etc/passwd).
''',
    'core/a.c': '/* see %s/DESIGN.md */\n' % OUTSIDE,
}

EXPECT = [
    'README.md:3: link docs/MISSING.md',
    'README.md:4: path `core/missing.c`',
    'README.md:5: link #no-such-section',
    'README.md:5: link docs/GUIDE.md#nor-this',
    'README.md:7: path `core/gone.c`',
    'docs/GUIDE.md:3: link ../../etc/passwd leaves the repository',
    'core/a.c:1: %s' % OUTSIDE,
]


def make(root, files):
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)


def run(checker, root):
    p = subprocess.run([sys.executable, checker, root], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def main():
    checker = sys.argv[1]
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        good = os.path.join(tmp, 'good')
        make(good, GOOD)
        rc, out = run(checker, good)
        if rc != 0:
            print('FAIL: a tree where everything resolves: exit %d\n%s' % (rc, out))
            failed += 1
        else:
            print('ok: a tree where everything resolves passes: ' + out.strip())

        bad = os.path.join(tmp, 'bad')
        make(bad, BAD)
        rc, out = run(checker, bad)
        if rc != 1:
            print('FAIL: a broken tree: exit %d, not 1\n%s' % (rc, out))
            failed += 1
        for want in EXPECT:
            if any(line.startswith(want) for line in out.splitlines()):
                print('ok: names ' + want)
            else:
                print('FAIL: does not name %s in:\n%s' % (want, out))
                failed += 1
        lines = [ln for ln in out.splitlines() if ':' in ln.split(' ')[0]]
        if len(lines) != len(EXPECT):
            print('FAIL: %d problems reported, %d expected:\n%s' % (len(lines), len(EXPECT), out))
            failed += 1
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
