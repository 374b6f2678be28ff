"""The shape of the codebase: the notebooks build one library in reading order, one home for each name.

- every module imports only modules exported by the same or an earlier notebook (function-local imports included),
  and there is no import cycle; no notebook imports a later notebook's module;
- no public name is exported by two modules;
- no module, test or benchmark imports another module's private name.
"""
import ast, json, re
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG, NBS = ROOT/'genre_nbs', ROOT/'nbs'


def _modules()->dict:
    "module name -> (notebook stem, source) for every generated module."
    out = {}
    for f in sorted(PKG.glob('*.py')):
        if f.name.startswith('_'): continue
        src = f.read_text()
        m = re.search(r'File to edit: \.\./nbs/(\S+)\.ipynb', src)
        assert m, f"{f.name} is not generated from a notebook"
        out[f.stem] = (m.group(1), src)
    return out


def _imported(tree, mods)->set:
    "genre_nbs modules a syntax tree imports, anywhere in it (function-local imports count)."
    out = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom):
            if n.level == 1: out.update([n.module.split('.')[0]] if n.module else [a.name for a in n.names])
            elif n.module and n.module.startswith('genre_nbs.'): out.add(n.module.split('.')[1])
            elif n.module == 'genre_nbs': out.update(a.name for a in n.names)
        elif isinstance(n, ast.Import):
            out.update(a.name.split('.')[1] for a in n.names if a.name.startswith('genre_nbs.'))
    return out & set(mods)


def _notebook_cells(nb:Path):
    "The code cells of a notebook as syntax trees (magics dropped)."
    for cell in json.loads(nb.read_text())['cells']:
        if cell['cell_type'] != 'code': continue
        src = ''.join(l for l in cell['source'] if not l.lstrip().startswith(('%', '!')))
        try: yield ast.parse(src)
        except SyntaxError: continue


def test_modules_import_only_earlier_notebooks():
    mods = _modules()
    back = [f"{name} ({nb}) imports {dep} ({mods[dep][0]})" for name, (nb, src) in mods.items()
            for dep in _imported(ast.parse(src), mods) if mods[dep][0] > nb]
    assert not back, back


def test_no_import_cycles():
    mods = _modules()
    graph = {name: _imported(ast.parse(src), mods) - {name} for name, (_, src) in mods.items()}
    def reach(start):
        seen, todo = set(), list(graph[start])
        while todo:
            m = todo.pop()
            if m not in seen: seen.add(m); todo += graph[m]
        return seen
    cyclic = sorted(m for m in graph if m in reach(m))
    assert not cyclic, f"modules on an import cycle: {cyclic}"


def test_notebooks_import_only_earlier_notebooks():
    mods = _modules()
    back = sorted({f"{nb.stem} imports {dep} ({mods[dep][0]})" for nb in sorted(NBS.glob('[0-9]*.ipynb'))
                   for tree in _notebook_cells(nb) for dep in _imported(tree, mods) if mods[dep][0] > nb.stem})
    assert not back, back


def test_the_checker_sees_a_backward_import():
    "The rule above is not vacuous: a function-local import of a later module is found."
    mods = {'data': ('00_data', ''), 'evaluation': ('06_evaluation', '')}
    tree = ast.parse("def f():\n    from genre_nbs.evaluation import run_experiment\n")
    assert _imported(tree, mods) == {'evaluation'}


def _exports()->dict:
    "module name -> its __all__."
    out = {}
    for name, (_, src) in _modules().items():
        for n in ast.parse(src).body:
            if isinstance(n, ast.Assign) and any(getattr(t, 'id', None) == '__all__' for t in n.targets):
                out[name] = ast.literal_eval(n.value)
    return out


def test_no_public_name_in_two_modules():
    seen, dups = {}, []
    for mod, names in _exports().items():
        for n in names:
            if n in seen: dups.append(f"{n}: {seen[n]} and {mod}")
            seen.setdefault(n, mod)
    assert not dups, dups


def _private_imports(tree)->list:
    "`from genre_nbs.x import _name` and `import genre_nbs.x as M; M._name` found in a syntax tree."
    out, aliases = [], set()
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom) and (n.level == 1 or (n.module or '').startswith('genre_nbs')):
            out += [f"from {'.' * n.level}{n.module} import {a.name}" for a in n.names
                    if a.name.startswith('_') and not a.name.startswith('__')]
        if isinstance(n, ast.Import):
            aliases |= {a.asname or a.name for a in n.names if a.name.startswith('genre_nbs.')}
    for n in ast.walk(tree):
        if (isinstance(n, ast.Attribute) and n.attr.startswith('_') and not n.attr.startswith('__')
                and isinstance(n.value, ast.Name) and n.value.id in aliases):
            out.append(f"{n.value.id}.{n.attr}")
    return out


def test_no_private_name_used_outside_its_module():
    files = [*PKG.glob('*.py'), *(ROOT/'tests').glob('*.py'), *(ROOT/'benchmarks').glob('*.py')]
    found = {str(f.relative_to(ROOT)): _private_imports(ast.parse(f.read_text())) for f in files if f.name != '_modidx.py'}
    mods = _modules()
    for nb in sorted(NBS.glob('[0-9]*.ipynb')):  # a notebook may use its own module's private names, not another's
        own = [m for m, (stem, _) in mods.items() if stem == nb.stem]
        hits = [h for tree in _notebook_cells(nb) for h in _private_imports(tree) if not any(f'.{m} ' in h or h.startswith(f'{m}.') for m in own)]
        found[f'nbs/{nb.name}'] = hits
    found = {k: v for k, v in found.items() if v}
    assert not found, found


def test_the_private_name_checker_finds_one():
    tree = ast.parse("import genre_nbs.data as D\nfrom genre_nbs.features import _executor\nD._umask()\n")
    assert _private_imports(tree) == ['from genre_nbs.features import _executor', 'D._umask']


# ---------------------------------------------------------------------------------------------- executed notebooks
def _outputs(nb:Path)->list:
    "(cell index, output) of every code cell output of a notebook."
    cells = json.loads(nb.read_text())['cells']
    return [(i, o) for i, c in enumerate(cells) if c['cell_type'] == 'code' for o in c.get('outputs', [])]


def _text(o)->str:
    "The text of an output (stream text, or the plain-text / HTML / markdown form of a result)."
    if 'text' in o: return ''.join(o['text'])
    d = o.get('data', {})
    return ''.join(''.join(d.get(k, '')) for k in ('text/plain', 'text/html', 'text/markdown'))


NUMBERED = sorted(p for p in NBS.glob('0[0-6]*.ipynb'))  # the chapters through 06_evaluation


@pytest.mark.parametrize('nb', NUMBERED, ids=lambda p: p.stem)
def test_notebook_is_committed_executed(nb):
    "Every chapter through 06 carries its outputs; each of 01-06 shows at least one figure inline; no output is an error."
    outs = _outputs(nb)
    assert outs, f"{nb.name} has no outputs: run `make notebooks` and commit it"
    errors = [i for i, o in outs if o['output_type'] == 'error']
    assert not errors, f"{nb.name}: cells {errors} hold an error"
    figures = [i for i, o in outs if 'image/png' in o.get('data', {}) or 'image/svg+xml' in o.get('data', {})]
    assert figures or nb.stem.startswith('00'), f"{nb.name} shows no figure inline"
    bare = [i for i, o in outs if re.fullmatch(r'<Figure size [^>]*>', _text(o).strip()) and 'image/png' not in o.get('data', {})]
    assert not bare, f"{nb.name}: cells {bare} show a figure's repr without its image"


@pytest.mark.parametrize('nb', sorted(NBS.glob('*.ipynb')), ids=lambda p: p.stem)
def test_outputs_are_clean(nb):
    "No warnings or log lines (stderr), no machine paths, no widget state, no execution counts in committed outputs."
    outs = _outputs(nb)
    stderr = [i for i, o in outs if o.get('name') == 'stderr']
    assert not stderr, f"{nb.name}: cells {stderr} print to stderr (warnings or log noise)"
    machine = re.compile(re.escape(str(ROOT.parent)) + r'/|/tmp/\w|/home/\w|/root/')
    paths = [i for i, o in outs if machine.search(_text(o))]
    assert not paths, f"{nb.name}: cells {paths} show a machine path"
    d = json.loads(nb.read_text())
    assert 'widgets' not in d.get('metadata', {}), f"{nb.name} carries widget state"
    counts = [i for i, c in enumerate(d['cells']) if c.get('execution_count') is not None]
    assert not counts, f"{nb.name}: cells {counts} keep an execution count (run nbdev_clean)"


# ------------------------------------------------------------------------------------------------ reader-facing text
READER_FILES = [ROOT/'README.md', *(ROOT/'figures').glob('*.md'), *(ROOT/'data').glob('*.md'), *(ROOT/'benchmarks').glob('*.md'),
                *(ROOT/'benchmarks'/'studies').glob('*.md')]
OUTSIDE = re.compile(re.escape(str(ROOT.parent)) + r'/|/tmp/\w|drafts?/|DESIGN\.md|other jobs|project lead|kept outside the repository')


def test_reader_text_names_nothing_outside_the_repository():
    "Markdown cells and the reader-facing .md files name no machine paths, no files outside the repository."
    hits = [f"{nb.name} cell {i}: {m.group(0)}" for nb in sorted(NBS.glob('*.ipynb'))
            for i, c in enumerate(json.loads(nb.read_text())['cells']) if c['cell_type'] == 'markdown'
            for m in OUTSIDE.finditer(''.join(c['source']))]
    hits += [f"{f.relative_to(ROOT)}:{n}: {m.group(0)}" for f in READER_FILES
             for n, line in enumerate(f.read_text().splitlines(), 1) for m in OUTSIDE.finditer(line)]
    assert not hits, hits
