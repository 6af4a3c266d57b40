#!/usr/bin/env python3
"""Every link and every path the docs name exists in the tree.

Usage: check_links.py SOURCE_ROOT

A clone has only what the repository holds: a document that points to a
file outside it, or to one that moved or was renamed, sends its reader
nowhere. For each tracked Markdown file (`git ls-files '*.md'` in a git
checkout; else every .md under SOURCE_ROOT but build and result folders)
this checks, outside fenced code blocks:

  links    every relative target of [text](target), ![alt](target), a
           reference definition [label]: target and an HTML src= or href=
           (no scheme such as http: or mailto:): the path, resolved from
           the file's folder, exists and does not leave the tree; its
           #anchor, into a Markdown file or the same file (#anchor alone),
           is the GitHub slug of one of that file's headings;
  paths    every `code span` that reads as a path: no space, a '/', and
           either a first component that is a top-level entry of the tree
           (core/, docs/, README.md, ...) or a start of ./ or ../ (these
           from the file's folder); it exists and does not leave the tree.
           Globs and placeholders (* ? < > $ { } and upper-case segments
           such as NAME or MODE-DATE) are not paths; nor is what the build
           or a run makes (GENERATED below).

and, in every tracked file of any kind (but ALLOWED_OUTSIDE), no mention
of the old design and style notes in a sibling folder outside the tree.

One line per problem, FILE:LINE: message; exit status 1 if there is any,
else 0 with a count of what was checked. In a git checkout a path exists
when it is tracked, or untracked and not ignored (a file about to be
added), and is on disk; elsewhere, when it is on disk. Python 3 standard
library only.
"""
import os
import re
import subprocess
import sys
import urllib.parse

# What the build and the long runs write, named by the docs but never in
# the tree (all ignored by .gitignore): meson's build folders (build/,
# build-asan/, build-fuzz/, build-deb/...), scripts/soak.sh's results and
# scripts/bench.sh's charts and data files.
GENERATED = [
    re.compile(r'^build(-[^/]*)?(/|$)'),
    re.compile(r'^soak-results(/|$)'),
    re.compile(r'^bench-out(/|$)'),
]

# Files that may name the folder outside the tree: the CI entry point runs
# in a checkout that sits beside it.
ALLOWED_OUTSIDE = {'.ci/run'}

# The folder outside the tree the docs once pointed to. Written in pieces
# so that this file does not name it.
OUTSIDE = re.compile(r'\.\./' + 'shared(?![\\w-])'
                     r'|(?<![\w-])' + 'shared/' + r'(?:DESIGN|STYLE)\.md')

# Folders a walk of a tree that is no git checkout leaves out.
WALK_SKIP = re.compile(r'^(\.git|build(-.*)?|soak-results|bench-out|__pycache__)$')

FENCE = re.compile(r'^ {0,3}(?:[-*+] |\d+[.)] )?\s*(`{3,}|~{3,})')
ATX = re.compile(r'^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$')
SETEXT = re.compile(r'^ {0,3}(=+|-+)\s*$')
# A code span may run over a line break, never over a blank line.
CODE_SPAN = re.compile(r'(`+)((?:[^`\n]|\n(?![ \t]*\n)|(?!\1)`+)+?)(?<!`)\1(?!`)')
INLINE_LINK = re.compile(r'\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:"[^"]*"|\'[^\']*\'))?\s*\)')
REF_DEF = re.compile(r'^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)')
HTML_ATTR = re.compile(r'\b(?:src|href)\s*=\s*"([^"]*)"')
SCHEME = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*:')
PLACEHOLDER_CHARS = re.compile(r'[*?<>${}]')
# An upper-case word of two or more characters: NAME, MODE, DATE, PCI.
CAPS_WORD = re.compile(r'(?<![A-Za-z0-9])[A-Z][A-Z0-9_]+(?![a-z0-9])')
# ... except the name of an upper-case Markdown document: README.md.
CAPS_DOC = re.compile(r'^[A-Z][A-Z0-9_]*\.md$')


def git_files(root, *args):
    """Lines of git ls-files ARGS run in root, or None outside a checkout."""
    try:
        top = subprocess.run(['git', '-C', root, 'rev-parse', '--show-toplevel'],
                             capture_output=True, text=True, check=True).stdout.strip()
        if os.path.realpath(top) != os.path.realpath(root):
            return None  # root is a folder inside some other checkout
        out = subprocess.run(['git', '-C', root, 'ls-files', '-z'] + list(args),
                             capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return [p for p in out.decode('utf-8', 'surrogateescape').split('\0') if p]


def walk_files(root):
    out = []
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if not WALK_SKIP.match(x))
        for f in sorted(files):
            out.append(os.path.relpath(os.path.join(d, f), root).replace(os.sep, '/'))
    return out


class Tree:
    """The files of the tree and the folders they make."""

    def __init__(self, root):
        self.root = root
        tracked = git_files(root)
        if tracked is not None:
            self.tracked = tracked
            others = git_files(root, '--others', '--exclude-standard') or []
            known = [p for p in tracked + others if os.path.lexists(os.path.join(root, p))]
        else:
            self.tracked = walk_files(root)
            known = self.tracked
        self.files = set(known)
        self.dirs = {''}
        for p in known:
            parts = p.split('/')
            for i in range(1, len(parts)):
                self.dirs.add('/'.join(parts[:i]))
        self.top = {p.split('/')[0] for p in known}

    def exists(self, rel):
        rel = rel.rstrip('/')
        return rel in self.files or rel in self.dirs


def slug(text):
    """GitHub's anchor for a heading's text."""
    text = re.sub(r'!?\[([^\]]*)\]\([^)]*\)', r'\1', text)  # a link: its text
    text = re.sub(r'<[^>]+>', '', text)                       # HTML tags
    text = text.replace('`', '').replace('*', '')
    text = text.strip().lower()
    text = re.sub(r'[^\w\- ]', '', text)  # letters, digits, _, - and spaces stay
    return text.replace(' ', '-')


def markdown_lines(text):
    """(line number, line) of the lines outside fenced code blocks."""
    fence = None
    for n, line in enumerate(text.split('\n'), 1):
        m = FENCE.match(line)
        if fence is None:
            if m:
                fence = m.group(1)
                continue
            yield n, line
        elif m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                and line.strip() == m.group(1):
            fence = None


def anchors(text):
    """The slugs of a Markdown text's headings, numbered as GitHub does."""
    seen = {}
    out = set()
    prev = ''
    for _, line in markdown_lines(text):
        title = None
        m = ATX.match(line)
        if m:
            title = m.group(2)
        elif SETEXT.match(line) and prev.strip() and '|' not in prev \
                and not ATX.match(prev):
            title = prev.strip()
        if title is not None:
            s = slug(title)
            k = seen.get(s, 0)
            out.add(s if k == 0 else '%s-%d' % (s, k))
            seen[s] = k + 1
        prev = line
    return out


def is_placeholder(token):
    if PLACEHOLDER_CHARS.search(token):
        return True
    segs = token.rstrip('/').split('/')
    for i, seg in enumerate(segs):
        if CAPS_WORD.search(seg) and not (i == len(segs) - 1 and CAPS_DOC.match(seg)):
            return True
    return False


def is_generated(rel):
    return any(g.match(rel) for g in GENERATED)


class Checker:
    def __init__(self, root):
        self.root = os.path.realpath(root)
        self.tree = Tree(self.root)
        self.problems = []
        self.links = 0
        self.paths = 0
        self.anchor_cache = {}

    def problem(self, where, lineno, msg):
        self.problems.append('%s:%d: %s' % (where, lineno, msg))

    def resolve(self, md, target):
        """target from md's folder as a path from the root, or None if it
        leaves the tree; a leading / is the root."""
        if target.startswith('/'):
            joined = target.lstrip('/')
        else:
            joined = os.path.join(os.path.dirname(md), target)
        norm = os.path.normpath(joined).replace(os.sep, '/')
        if norm == '.':
            return ''
        if norm == '..' or norm.startswith('../'):
            return None
        return norm

    def file_anchors(self, rel):
        if rel not in self.anchor_cache:
            with open(os.path.join(self.root, rel), encoding='utf-8', errors='replace') as f:
                self.anchor_cache[rel] = anchors(f.read())
        return self.anchor_cache[rel]

    def check_link(self, md, n, target):
        if target.startswith('<') and target.endswith('>'):
            target = target[1:-1]
        if not target or SCHEME.match(target):
            return
        self.links += 1
        path, _, anchor = target.partition('#')
        path = urllib.parse.unquote(path)
        anchor = urllib.parse.unquote(anchor)
        if path:
            rel = self.resolve(md, path)
            if rel is None:
                self.problem(md, n, 'link %s leaves the repository' % target)
                return
            if not self.tree.exists(rel):
                self.problem(md, n, 'link %s: no %s in the tree' % (target, rel or '.'))
                return
        else:
            rel = md
        if anchor and rel.endswith('.md') and rel in self.tree.files:
            if anchor.lower() not in self.file_anchors(rel):
                self.problem(md, n, 'link %s: %s has no heading #%s' % (target, rel, anchor))

    def check_path(self, md, n, token):
        token = re.sub(r'(:\d+)+$', '', token)  # FILE:LINE
        if token.startswith(('./', '../')):
            rel = self.resolve(md, token)
            if rel is None:
                self.paths += 1
                self.problem(md, n, 'path `%s` leaves the repository' % token)
                return
        else:
            rel = token
        if rel and is_generated(rel) or is_placeholder(token):
            return
        self.paths += 1
        if not self.tree.exists(rel):
            self.problem(md, n, 'path `%s`: no %s in the tree' % (token, rel))

    def path_like(self, token):
        if ' ' in token or '/' not in token or '://' in token:
            return False
        if token.startswith(('./', '../')):
            return True
        return token.split('/')[0] in self.tree.top

    def check_markdown(self, md):
        with open(os.path.join(self.root, md), encoding='utf-8', errors='replace') as f:
            text = f.read()
        # The text outside fences, fenced lines left empty so that offsets
        # still give line numbers.
        lines = text.split('\n')
        kept = dict(markdown_lines(text))
        prose = '\n'.join(kept.get(n, '') for n in range(1, len(lines) + 1))
        for m in CODE_SPAN.finditer(prose):
            token = ' '.join(m.group(2).split())
            if self.path_like(token):
                self.check_path(md, prose.count('\n', 0, m.start()) + 1, token)
        # Links outside code spans: the spans blanked, line breaks kept.
        bare = CODE_SPAN.sub(lambda m: re.sub(r'[^\n]', ' ', m.group(0)), prose)
        for n, line in enumerate(bare.split('\n'), 1):
            for m in INLINE_LINK.finditer(line):
                self.check_link(md, n, m.group(1))
            m = REF_DEF.match(line)
            if m:
                self.check_link(md, n, m.group(1))
            for m in HTML_ATTR.finditer(line):
                self.check_link(md, n, m.group(1))

    def check_outside(self, rel):
        if rel in ALLOWED_OUTSIDE:
            return
        path = os.path.join(self.root, rel)
        if not os.path.isfile(path):
            return
        with open(path, 'rb') as f:
            data = f.read()
        if b'\0' in data[:8192]:
            return  # binary
        for n, line in enumerate(data.decode('utf-8', 'replace').split('\n'), 1):
            m = OUTSIDE.search(line)
            if m:
                self.problem(rel, n, '%s is outside the repository; a clone does not have it'
                             % m.group(0))

    def run(self):
        mds = sorted(p for p in self.tree.tracked if p.endswith('.md'))
        for md in mds:
            if os.path.isfile(os.path.join(self.root, md)):
                self.check_markdown(md)
        for rel in sorted(self.tree.tracked):
            self.check_outside(rel)
        return mds


def main(argv):
    if len(argv) != 2:
        sys.exit('usage: check_links.py SOURCE_ROOT')
    c = Checker(argv[1])
    mds = c.run()
    for p in c.problems:
        print(p)
    if c.problems:
        print('%d problems in links and paths' % len(c.problems))
        return 1
    print('%d links and %d paths checked in %d Markdown files, %d files searched '
          'for paths outside the tree: all resolve'
          % (c.links, c.paths, len(mds), len(c.tree.tracked)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
