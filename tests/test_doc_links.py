"""Every relative link in the README and the Markdown documentation resolves,
and the README's map of the code names every module of ``mmmosaic/``.

A link to a file must name a file or folder of the repository; a link with
an anchor (``page.md#heading``, ``#heading``) must name a heading of that
page, spelled as GitHub spells its anchors. Web links are not followed.

``python tests/test_doc_links.py`` prints every link checked and what is
wrong with each broken one.
"""
import os.path as osp
import re
import sys
from glob import glob

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PAGES = ['README.md', 'configs/README.md', 'benchmarks/README.md'] + sorted(
    osp.relpath(p, ROOT)
    for p in glob(osp.join(ROOT, 'docs', '**', '*.md'), recursive=True))

_FENCE = re.compile(r'^(```|~~~).*?^\1', re.M | re.S)
_CODE = re.compile(r'`[^`\n]*`')
_LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)')
_HEADING = re.compile(r'^#{1,6}\s+(.*?)\s*#*\s*$', re.M)


def _slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped,
    spaces made hyphens."""
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', heading)  # link -> text
    text = re.sub(r'[^\w\- ]', '', text.strip().lower())
    return text.replace(' ', '-')


def anchors(path):
    """The anchors GitHub makes for the headings of the page at path."""
    with open(path, encoding='utf-8') as f:
        text = _FENCE.sub('', f.read())
    seen, found = {}, set()
    for heading in _HEADING.findall(text):
        slug = _slug(heading)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f'{slug}-{count}')
    return found


def links(path):
    """The link targets of the Markdown page at path, code left out."""
    with open(path, encoding='utf-8') as f:
        text = _CODE.sub('', _FENCE.sub('', f.read()))
    return _LINK.findall(text)


def broken_links(page):
    """(target, what is wrong) for each link of page (relative to ROOT)
    that does not resolve, and the number of links checked."""
    source = osp.join(ROOT, page)
    broken, checked = [], 0
    for target in links(source):
        if re.match(r'^[a-z][a-z0-9+.-]*:', target):  # http:, mailto:
            continue
        checked += 1
        file_part, _, anchor = target.partition('#')
        dest = (
            osp.normpath(osp.join(osp.dirname(source), file_part))
            if file_part else source)
        if not dest.startswith(ROOT + osp.sep) and dest != ROOT:
            broken.append((target, 'points outside the repository'))
        elif not osp.exists(dest):
            broken.append((target, 'no such file'))
        elif anchor and (not dest.endswith('.md')
                         or anchor not in anchors(dest)):
            broken.append((target, f'no heading #{anchor} in '
                           f'{osp.relpath(dest, ROOT)}'))
    return broken, checked


def test_every_relative_link_resolves():
    problems = []
    for page in PAGES:
        broken, _ = broken_links(page)
        problems += [f'{page}: {target} ({why})' for target, why in broken]
    assert not problems, '\n'.join(problems)


def _expand(path):
    """``a/{x,y}`` -> ``[a/x, a/y]``."""
    m = re.search(r'\{([^}]*)\}', path)
    if not m:
        return [path]
    return [
        q for part in m.group(1).split(',')
        for q in _expand(path[:m.start()] + part + path[m.end():])
    ]


def unmapped_modules():
    """The modules of mmmosaic/ that the README's map of the code ("Where
    things are") does not name. A module is named by its own path in a row's
    first column, or by its path below a folder that column names, in
    backticks in the row's second column (``mmmosaic/engine/`` ...
    ``optimizers/player_constructor.py``)."""
    with open(osp.join(ROOT, 'README.md'), encoding='utf-8') as f:
        text = f.read()
    start = text.index('\n## Where things are')
    end = text.find('\n## ', start + 1)
    rows = []
    for line in text[start:end if end != -1 else None].splitlines():
        cells = line.split(' | ')
        if line.startswith('| `') and len(cells) >= 2:
            paths = [
                q for p in re.findall(r'`([^`]+)`', cells[0])
                for q in _expand(p)
            ]
            rows.append((paths, ' | '.join(cells[1:])))
    missing = []
    for path in sorted(
            glob(osp.join(ROOT, 'mmmosaic', '**', '*.py'), recursive=True)):
        module = osp.relpath(path, ROOT).replace(osp.sep, '/')
        if module.endswith('/__init__.py'):
            continue
        named = any(
            module == p or (module.startswith(p.rstrip('/') + '/')
                            and f'`{module[len(p.rstrip("/")) + 1:]}`' in what)
            for paths, what in rows for p in paths)
        if not named:
            missing.append(module)
    return missing


def test_readme_map_names_every_module():
    missing = unmapped_modules()
    assert not missing, ('README.md, "Where things are", names no row for: ' +
                         ', '.join(missing))


def test_results_page_reads_in_five_minutes():
    """docs/benchmarks.md stays a summary; the details go to the pages of
    docs/benchmarks/."""
    with open(osp.join(ROOT, 'docs', 'benchmarks.md'), encoding='utf-8') as f:
        lines = f.read().count('\n')
    assert lines <= 300, (
        f'docs/benchmarks.md has {lines} lines (at most 300): move the '
        'details to a page of docs/benchmarks/ and link it')


if __name__ == '__main__':
    total = bad = 0
    for page in PAGES:
        broken, checked = broken_links(page)
        total, bad = total + checked, bad + len(broken)
        print(f'{page}: {checked} relative links, {len(broken)} broken')
        for target, why in broken:
            print(f'  {target}: {why}')
    print(f'{total} relative links in {len(PAGES)} pages, {bad} broken')
    sys.exit(1 if bad else 0)
