"""No import loop between mmmosaic's modules.

Read from the source, not by importing: an import inside a function counts
as much as one at the top of a file, since a loop through a deferred import
is still a loop in the design, only one that fails later and elsewhere.
A package's ``__init__`` is a module like the others; importing
``a.b.c`` is an edge to ``a.b.c`` alone, not to the packages above it.
"""
import ast
import os
import os.path as osp

from _tiny import ROOT

PACKAGE = 'mmmosaic'


def _modules() -> dict:
    """``{dotted name: file}`` of every module of the package."""
    found = {}
    for folder, _, files in os.walk(osp.join(ROOT, PACKAGE)):
        for name in files:
            if name.endswith('.py'):
                path = osp.join(folder, name)
                dotted = osp.relpath(path, ROOT)[:-3].replace(os.sep, '.')
                found[dotted.removesuffix('.__init__')] = path
    return found


def _targets(node, module: str, is_package: bool, modules: dict):
    """The package's modules an import statement in ``module`` names."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ''
        if node.level:
            parts = module.split('.')[:len(module.split('.')) + is_package -
                                      node.level]
            base = '.'.join(parts + ([base] if base else []))
        # ``from pkg import name``: the submodule ``pkg.name`` if there is
        # one, else ``pkg`` itself.
        names = [
            f'{base}.{alias.name}'
            if f'{base}.{alias.name}' in modules else base
            for alias in node.names
        ]
    for name in names:
        while name not in modules and '.' in name:
            name = name.rsplit('.', 1)[0]
        if name in modules and name != module:
            yield name


def import_graph() -> dict:
    """``{module: set of the package's modules it imports}``."""
    modules = _modules()
    graph = {}
    for module, path in modules.items():
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        is_package = path.endswith('__init__.py')
        graph[module] = {
            target
            for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for target in _targets(node, module, is_package, modules)
        }
    return graph


def find_loop(graph: dict):
    """One import loop of ``graph`` as ``[a, b, ..., a]``, or None."""
    done, path = set(), []

    def visit(module):
        if module in path:
            return path[path.index(module):] + [module]
        if module in done:
            return None
        path.append(module)
        for target in sorted(graph[module]):
            loop = visit(target)
            if loop:
                return loop
        path.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        loop = visit(module)
        if loop:
            return loop
    return None


def test_no_module_imports_itself_through_others():
    loop = find_loop(import_graph())
    assert loop is None, 'import loop: ' + ' -> '.join(loop)


def test_a_loop_through_a_deferred_import_is_found():
    """The check sees imports inside functions, and relative ones."""
    graph = import_graph()
    assert 'mmmosaic.models.algorithms.batch_rule' in graph[
        'mmmosaic.models.algorithms.mosaickd']
    graph['mmmosaic.models.algorithms.batch_rule'].add(
        'mmmosaic.models.algorithms.mosaickd')
    assert find_loop(graph) == [
        'mmmosaic.models.algorithms.batch_rule',
        'mmmosaic.models.algorithms.mosaickd',
        'mmmosaic.models.algorithms.batch_rule'
    ]
