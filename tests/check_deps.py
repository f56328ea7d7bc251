#!/usr/bin/python3
"""Every Python module smbsim's code imports and every program its tools and tests run
comes from a Debian package that a fresh machine gets from tools/install-deps (issue 27:
python3-yaml and file were missing, and CI passed because this machine had them).

Found in the sources (build trees skipped):
- Python (parsed with ast): imports, stdlib and the project's own modules exempt;
  engines named to xarray or pandas (engine="h5netcdf"); programs named by subprocess
  calls (and a file's wrappers of them: a function passing its first parameter on) and
  shutil.which; and list literals starting with an installed program's name (["mpirun",
  ...] + args), not smbsim's own commands (["run", ...]);
- CMake: find_program names and COMMAND words (not variables or the project's targets);
- shell scripts: the word in command position of each simple command;
- EXPLICIT: programs that programs the project runs need (cpack runs `file`), each
  with the source text that makes it needed, checked to be still there.
Each is mapped to its package with dpkg -S: a module by its file, a program by its
`command -v` path, following symlinks (alternatives) and trying /bin for /usr/bin. A
package is on a fresh machine when tools/install-deps lists it (either list), when a
listed package depends on it (Depends or Pre-Depends, recursively), or when it is
Essential or Priority required (every Debian root has those: debootstrap's minbase).
Also checked: the Debian package tools/smbsim_report/entry.py names for each module
(what a user without it is told), and that the .deb's Depends (cmake/Install.cmake)
holds every package the report tool's modules need.

Usage: check_deps.py SOURCE_DIR [--install-deps FILE] [-v]
Exit 0 when everything is provided; 1 with one line per problem; 2 without dpkg.
"""
import argparse
import ast
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

RUNNERS = {"subprocess.run", "subprocess.Popen", "subprocess.call", "subprocess.check_call",
           "subprocess.check_output", "os.execv", "os.execvp", "os.execvpe", "os.execve", "os.spawnv", "os.spawnvp"}
SHELL_BUILTINS = set(
    "echo printf cd set export exit return local read shift true false test [ [[ ]] source . eval trap wait unset "
    "declare readonly type hash alias let pwd umask ulimit kill break continue : getopts command exec".split())
SHELL_KEYWORDS = set("if then else elif fi do done while until for in case esac function select time ! { }".split())
SHELL_OPERATORS = {";", "&&", "||", "|", "(", ")", "&", ";;", "|&"}
# Programs that the programs the project runs need, invisible in its sources: (program,
# file, text in that file that makes it needed, why). The text must still be there.
EXPLICIT = [
    ("file", "cmake/Install.cmake", "CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON",
     "cpack -G DEB runs file on every installed file to find the binaries for dpkg-shlibdeps"),
    ("dpkg-shlibdeps", "cmake/Install.cmake", "CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON",
     "cpack -G DEB finds the binary's library packages with it"),
    ("mpiexec", "tests/CMakeLists.txt", "${MPIEXEC_EXECUTABLE}", "CMake's FindMPI launcher runs the mpi_* tests"),
    ("g++", "CMakeLists.txt", "LANGUAGES C CXX", "the C++ compiler CMake finds"),
    ("make", "tools/setup", "cmake --build", "CMake's default generator on Linux writes Makefiles"),
]
# Programs a test may go without (it says it is skipped), by the package that has them,
# which tools/install-deps lists as optional: absent here, they are not a failure.
OPTIONAL = {"qemu-x86_64": "qemu-user"}
NOT_SCANNED = {"tools/install-deps": "it runs before anything is installed, with what every Debian root has"}


def source_files(root):
    """(relative path, kind) of the project's Python, shell and CMake files."""
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x not in {".git", "__pycache__", "Testing"}
                         and not (Path(d) / x / "CMakeCache.txt").exists())
        for f in sorted(files):
            path = Path(d) / f
            rel = path.relative_to(root).as_posix()
            if f == "CMakeLists.txt" or f.endswith(".cmake"):
                yield rel, "cmake"
            elif f.endswith(".py"):
                yield rel, "python"
            else:
                try:
                    first = path.open("rb").readline(200)
                except OSError:
                    continue
                if first.startswith(b"#!") and b"python" in first:
                    yield rel, "python"
                elif first.startswith(b"#!") and re.search(rb"\b(ba)?sh\b", first):
                    yield rel, "shell"


class Needs:
    """What the sources need: {module: [where]}, programs strictly named {program:
    [where]}, and programs only guessed from a list literal (counted where installed)."""

    def __init__(self):
        self.modules, self.programs, self.guessed = {}, {}, {}

    def add(self, table, name, where):
        table.setdefault(name, []).append(where)


def dotted(node):
    """'subprocess.run' for the call subprocess.run(...), 'sh' for sh(...), else ''."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def command_word(node):
    """The program of a command given as a list/tuple literal or a string, else None."""
    if isinstance(node, (ast.List, ast.Tuple)) and node.elts:
        node = node.elts[0]
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return command_word(node.left)
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
        return node.value.split()[0]
    return None


class Wrappers(ast.NodeVisitor):
    """Functions that run their first parameter as a command (def sh(args): subprocess.run(args, ...))."""

    def __init__(self, tree):
        self.found, self.within = set(), []
        self.visit(tree)

    def visit_FunctionDef(self, f):
        self.within.append(f)
        self.generic_visit(f)
        self.within.pop()

    def visit_Call(self, c):
        f = self.within[-1] if self.within else None
        if (f and f.args.args and dotted(c.func) in RUNNERS and c.args and isinstance(c.args[0], ast.Name)
                and c.args[0].id == f.args.args[0].arg):
            self.found.add(f.name)
        self.generic_visit(c)


def scan_python(rel, text, needs, own_commands):
    tree = ast.parse(text, filename=rel)
    runners = RUNNERS | Wrappers(tree).found
    for node in ast.walk(tree):
        where = f"{rel}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                needs.add(needs.modules, alias.name.partition(".")[0], where)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            needs.add(needs.modules, node.module.partition(".")[0], where)
        elif isinstance(node, ast.Call):
            name = dotted(node.func)
            if name in runners and node.args and command_word(node.args[0]):
                needs.add(needs.programs, command_word(node.args[0]), where)
            elif name == "shutil.which" and node.args and command_word(node.args[0]):
                needs.add(needs.programs, command_word(node.args[0]), where)
            for k in node.keywords:  # xarray.open_dataset(..., engine="h5netcdf") imports it
                if k.arg == "engine" and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str):
                    needs.add(needs.modules, k.value.value, where)
        elif isinstance(node, ast.List):  # a command built before it is run: ["mpirun", "-np", ...] + args
            word = command_word(node)
            if word and re.fullmatch(r"[A-Za-z0-9_./+-]+", word) and not word.startswith("-") and word not in own_commands:
                needs.add(needs.guessed, word, where)


def scan_cmake(rel, text, needs, targets):
    text = re.sub(r"#[^\n]*", "", text)
    line_of = lambda pos: text.count("\n", 0, pos) + 1  # noqa: E731
    for m in re.finditer(r"find_program\s*\(\s*\w+\s+([^)]*)\)", text):
        words = m.group(1).split()
        names = words[words.index("NAMES") + 1:] if "NAMES" in words else words[:1]
        for w in names:
            if w.isupper():
                break
            needs.add(needs.programs, w, f"{rel}:{line_of(m.start())}")
    for m in re.finditer(r"\bCOMMAND\s+(\"?)([^\s\"()]+)", text):
        word = m.group(2)
        if not word.startswith("$") and word not in targets:
            needs.add(needs.programs, word, f"{rel}:{line_of(m.start())}")


def command_lines(line):
    """The commands of a shell line: each $( ... ) or `...` inside it (quoted or not) on
    its own, innermost first, then the line with them replaced."""
    inner = re.compile(r"\$\(([^()]*)\)|`([^`]*)`")
    while (m := inner.search(line)):
        yield m.group(1) if m.group(1) is not None else m.group(2)
        line = line[:m.start()] + "_" + line[m.end():]
    yield line


def scan_shell(rel, text, needs):
    text = re.sub(r"\\\n", " ", text)
    for number, whole in enumerate(text.splitlines(), 1):
        if not whole.lstrip().startswith(("#", "case ")):
            for line in command_lines(whole):
                scan_shell_command(rel, number, line, needs)


def scan_shell_command(rel, number, line, needs):
    """The word in command position of each simple command of `line`."""
    try:
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
        lexer.commenters = "#"
        lexer.wordchars += "$-./=+:[]{}!@%,"
        tokens = list(lexer)
    except ValueError:  # an unbalanced quote: a string spanning lines
        return
    at_command = True
    for t in tokens:
        if t in SHELL_OPERATORS:
            at_command = True
        elif not at_command:
            continue
        elif t in SHELL_KEYWORDS or re.fullmatch(r"\w+=.*", t):
            continue  # the next word is still a command
        else:
            at_command = False
            if t not in SHELL_BUILTINS and re.fullmatch(r"[A-Za-z0-9_./+-]+", t):
                needs.add(needs.programs, t, f"{rel}:{number}")


def find_needs(root):
    """What the sources need, less the stdlib and the project's own modules and programs
    (its CMake targets, the executables in its tools/ and bench/)."""
    needs = Needs()
    own_commands = {p.stem[len("cmd_"):] for p in (root / "tools/smbsim").glob("cmd_*.cpp")}
    files = [(rel, kind) for rel, kind in source_files(root) if rel not in NOT_SCANNED]
    cmake_text = "\n".join((root / rel).read_text() for rel, kind in files if kind == "cmake")
    targets = set(re.findall(r"add_(?:executable|library|custom_target)\s*\(\s*([\w-]+)", cmake_text))
    own_programs = targets | {p.name for d in ("tools", "bench") for p in (root / d).iterdir()
                              if p.is_file() and os.access(p, os.X_OK)}
    local = {Path(rel).stem for rel, kind in files if kind == "python"}
    local |= {Path(rel).parent.name for rel, _ in files if rel.endswith("/__init__.py")}
    for rel, kind in files:
        text = (root / rel).read_text(errors="replace")
        if kind == "python":
            scan_python(rel, text, needs, own_commands)
        elif kind == "cmake":
            scan_cmake(rel, text, needs, targets)
        else:
            scan_shell(rel, text, needs)
    for m in list(needs.modules):
        if m in sys.stdlib_module_names or m in local:
            del needs.modules[m]
    for table in (needs.programs, needs.guessed):
        for p in list(table):
            if os.path.basename(p) in own_programs:
                del table[p]
    return needs


def check_explicit(root, needs, problems):
    for program, rel, evidence, why in EXPLICIT:
        path = root / rel
        if not path.is_file() or evidence not in path.read_text():
            problems.append(f"{rel}: expected the text {evidence!r} that makes {program} needed ({why}), found none: "
                            "update EXPLICIT in tests/check_deps.py")
        else:
            needs.add(needs.programs, program, f"{rel} ({why})")


def listed_packages(install_deps):
    """The packages of tools/install-deps' two lists (packages=( ... ) and optional=( ... ))."""
    text = install_deps.read_text()
    lists = {}
    for name in ("packages", "optional"):
        m = re.search(rf"^{name}=\((.*?)^\)", text, re.S | re.M)
        lists[name] = [w for line in (m.group(1).splitlines() if m else []) for w in line.split("#")[0].split()]
    if not lists["packages"]:
        raise SystemExit(f"check_deps: {install_deps}: expected a packages=( ... ) list, found none")
    return lists


def installed_packages():
    """{package: (Essential or Priority required, [the first alternative of each Depends
    and Pre-Depends, a virtual one read as its installed provider])} of what is installed."""
    out = subprocess.run(["dpkg-query", "-W", "-f", "${db:Status-Status}\t${Package}\t${Essential}\t${Priority}\t"
                          "${Pre-Depends}, ${Depends}\t${Provides}\n"], capture_output=True, text=True, check=True).stdout
    packages, provides = {}, {}
    for line in out.splitlines():
        status, name, essential, priority, depends, provided = (line.split("\t") + [""] * 6)[:6]
        if status != "installed":
            continue
        deps = [group.split("|")[0].split()[0].split(":")[0] for group in depends.split(",") if group.strip()]
        packages[name] = (essential == "yes" or priority == "required", deps)
        for v in provided.split(","):
            if v.strip():
                provides.setdefault(v.split()[0], []).append(name)
    for name, (base, deps) in packages.items():
        real = [d if d in packages else (provides.get(d) or [None])[0] for d in deps]
        packages[name] = (base, [d for d in real if d])
    return packages


def closure(roots, packages):
    """roots and every package they depend on, recursively."""
    have, todo = set(), list(roots)
    while todo:
        p = todo.pop()
        if p not in have:
            have.add(p)
            todo += packages.get(p, (False, []))[1]
    return have


def on_fresh_machine(listed, packages):
    """The packages a fresh machine has after tools/install-deps: every Essential or
    Priority required one, the listed ones and what they depend on."""
    return closure([p for p, (base, _) in packages.items() if base] + listed, packages)


def path_candidates(path):
    """A program's path, each link it goes through (alternatives) and its target, each also
    with /bin for /usr/bin (and back): dpkg knows a file by the path its package ships."""
    chain, p = [path], path
    for _ in range(10):
        if not os.path.islink(p):
            break
        p = os.path.normpath(os.path.join(os.path.dirname(p), os.readlink(p)))
        chain.append(p)
    chain.append(os.path.realpath(path))
    out = []
    for c in chain:
        for alt in (c, re.sub(r"^/usr/(s?bin|lib)/", r"/\1/", c), re.sub(r"^/(s?bin|lib)/", r"/usr/\1/", c)):
            if alt not in out:
                out.append(alt)
    return out


def dpkg_owners(paths):
    """{path: package} for the paths dpkg knows (one dpkg -S for all)."""
    if not paths:
        return {}
    out = subprocess.run(["dpkg", "-S"] + sorted(set(paths)), capture_output=True, text=True).stdout
    owners = {}
    for line in out.splitlines():
        if line.startswith("diversion ") or ": " not in line:
            continue
        pkgs, path = line.split(": ", 1)
        owners[path] = pkgs.split(",")[0].strip().split(":")[0]
    return owners


def module_path(module):
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.origin and spec.origin not in ("built-in", "frozen", "namespace"):
        return spec.origin
    return next(iter(spec.submodule_search_locations or []), None)


def program_path(program):
    if "/" in program:
        return program if os.path.exists(program) else None
    return shutil.which(program, path=os.environ.get("PATH", "") + ":/usr/local/sbin:/usr/sbin:/sbin")


def owners_of(paths):
    """{name: its Debian package or None} for {name: path or None}."""
    candidates = {n: path_candidates(p) for n, p in paths.items() if p}
    owners = dpkg_owners([c for cs in candidates.values() for c in cs])
    return {n: next((owners[c] for c in candidates.get(n, []) if c in owners), None) for n in paths}


def where_list(places):
    return ", ".join(places[:3]) + (f" and {len(places) - 3} more" if len(places) > 3 else "")


def entry_packages(root):
    """DEBIAN_PACKAGES of tools/smbsim_report/entry.py (read, not imported)."""
    tree = ast.parse((root / "tools/smbsim_report/entry.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "DEBIAN_PACKAGES" for t in node.targets):
            return ast.literal_eval(node.value)
    return {}


def deb_depends(root):
    m = re.search(r'set\(CPACK_DEBIAN_PACKAGE_DEPENDS\s+"([^"]*)"\)', (root / "cmake/Install.cmake").read_text())
    return {d.split()[0] for d in m.group(1).split(",") if d.strip()} if m else set()


def deb_depends_problems(root, needs, owners, packages):
    """The report tool's modules whose packages the .deb does not depend on."""
    depends = deb_depends(root)
    return [f"cmake/Install.cmake: expected {owners[m]} (the report tool imports {m}) in "
            f"CPACK_DEBIAN_PACKAGE_DEPENDS, found {', '.join(sorted(depends))}"
            for m, places in sorted(needs.modules.items())
            if any(w.startswith(("tools/smbsim-report:", "tools/smbsim_report/")) for w in places)
            and owners.get(m) and not any(owners[m] in closure([d], packages) for d in depends)]


def module_problems(needs, paths, owners, have, named, packages):
    """Modules not installed, not from Debian, or named wrongly in entry.py; and {package
    not on a fresh machine: [why]}."""
    problems, missing = [], {}
    for m, places in sorted(needs.modules.items()):
        package, where = owners[("module", m)], where_list(places)
        if package is None:
            path = paths[("module", m)]
            problems.append(f"{where}: imports {m}, which " + (f"is not from a Debian package ({path})" if path else
                            "is not installed here") + ": install it from Debian and list its package in tools/install-deps")
            continue
        if package not in have:
            missing.setdefault(package, []).append(f"module {m} ({where})")
        if named.get(m) is None or package not in closure([named[m]], packages):
            problems.append(f"tools/smbsim_report/entry.py: DEBIAN_PACKAGES[{m!r}] expected {package!r} or a package "
                            f"depending on it (dpkg -S {paths[('module', m)]}), found {named.get(m)!r}")
    return problems, missing


def program_problems(needs, paths, owners, have, optional, verbose):
    """Programs not installed or not from Debian; and {package not on a fresh machine: [why]}."""
    problems, missing = [], {}
    for p in sorted(set(needs.programs) | set(needs.guessed)):
        package, path, strict = owners[("program", p)], paths[("program", p)], p in needs.programs
        where = where_list(needs.programs.get(p) or needs.guessed[p])
        if path is None:
            if strict and OPTIONAL.get(p) not in optional:
                problems.append(f"{where}: runs {p}, which is not installed here: install it from Debian "
                                "and list its package in tools/install-deps")
        elif package is None:
            if strict:
                problems.append(f"{where}: runs {p} ({path}), which is not from a Debian package")
        else:
            if p in OPTIONAL and OPTIONAL[p] != package:
                problems.append(f"tests/check_deps.py: OPTIONAL[{p!r}] expected {package!r}, found {OPTIONAL[p]!r}")
            if package not in have:
                missing.setdefault(package, []).append(f"program {p} ({where})")
            if verbose:
                print(f"  {p}: {path} from {package}")
    return problems, missing


def check(root, install_deps, verbose=False):
    """The problems (one line each) and a summary line."""
    problems = []
    needs = find_needs(root)
    check_explicit(root, needs, problems)
    lists = listed_packages(install_deps)
    packages = installed_packages()
    have = on_fresh_machine(lists["packages"] + lists["optional"], packages)
    paths = {("module", m): module_path(m) for m in needs.modules}
    paths.update({("program", p): program_path(p) for p in set(needs.programs) | set(needs.guessed)})
    owners = owners_of(paths)  # one dpkg -S for all: it takes a second
    found, missing = module_problems(needs, paths, owners, have, entry_packages(root), packages)
    more, missing_programs = program_problems(needs, paths, owners, have, lists["optional"], verbose)
    problems += found + more
    for package, why in missing_programs.items():
        missing.setdefault(package, []).extend(why)
    for package, why in sorted(missing.items()):
        problems.append(f"tools/install-deps: expected the Debian package {package}, needed for "
                        + "; ".join(why) + ", found it not listed")
    problems += deb_depends_problems(root, needs, {m: owners[("module", m)] for m in needs.modules}, packages)
    used = {p for p in owners.values() if p}
    return problems, (f"check_deps: {len(needs.modules)} Python modules and "
                      f"{sum(1 for (kind, _), path in paths.items() if kind == 'program' and path)} programs from "
                      f"{len(used)} Debian packages, all on a fresh machine after tools/install-deps")


def main(argv):
    a = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    a.add_argument("source", type=Path)
    a.add_argument("--install-deps", type=Path, help="the list to check (default: SOURCE/tools/install-deps)")
    a.add_argument("-v", "--verbose", action="store_true", help="print each program's path and package")
    a = a.parse_args(argv)
    root = a.source.resolve()
    try:
        problems, summary = check(root, a.install_deps or root / "tools/install-deps", a.verbose)
    except (OSError, subprocess.CalledProcessError) as e:  # no dpkg: not a Debian machine
        print(f"check_deps: expected a Debian system (dpkg, dpkg-query) and readable sources, found: {e}", file=sys.stderr)
        return 2
    for p in problems:
        print(f"check_deps: {p}", file=sys.stderr)
    if problems:
        return 1
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
