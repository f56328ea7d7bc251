"""How smbsim's Python programs start (smbsim-report, tools/calibrate, tools/size-gain,
bench/run): a module that is not installed, or any other failure while loading, is one
line naming what to install and exit 1, never a traceback and never a quieter result;
run() does the same for whatever the report's main lets through. tests/check_deps.py
checks DEBIAN_PACKAGES against dpkg and tools/install-deps."""
import contextlib
import errno
import os
import signal
import sys

# Every third-party module the programs and tests import, by the Debian package with it.
DEBIAN_PACKAGES = {
    "h5netcdf": "python3-h5netcdf",
    "h5py": "python3-h5py",
    "matplotlib": "python3-matplotlib",
    "numpy": "python3-numpy",
    "pandas": "python3-pandas",
    "xarray": "python3-xarray",
    "yaml": "python3-yaml",
}
EXIT_RUNTIME = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it


def one_line(text):
    """text on one line, cut at about 200 characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= 200 else text[:197] + "..."


def missing_module_line(program, error):
    """What to say for an ImportError: the module, and the Debian package that has it."""
    module = (error.name or "").partition(".")[0]
    if not module:
        return f"{program}: cannot load a Python module ({one_line(error)})"
    package = DEBIAN_PACKAGES.get(module)
    fix = (f"install the Debian package {package} (tools/install-deps installs it)" if package
           else "install it from Debian")
    return f"{program}: needs the Python module {module}, which is not installed: {fix}"


class Unforeseen(Exception):
    """An unforeseen failure met in a child process (its type and message, one line):
    said as run() says one of this process."""


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like SIGINT's KeyboardInterrupt so that every `finally`
    (the report's temporary directory) runs; the exit code is 128 + the signal."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def raise_interrupted(signum, _frame):
    raise Interrupted(signum)


class ClosedStream:
    """Standard output when its descriptor was closed (`>&-`): Python would set sys.stdout
    to None, and a print would fail as an AttributeError; writing to it is EBADF instead."""

    def write(self, _text):
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))

    flush = write

    def fileno(self):
        return 1


def guard_standard_descriptors():
    """Closed descriptors 0-2 get /dev/null, so that no file the program opens takes their
    number (and receives its output); a closed stdout stays an error to write to."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            os.open(os.devnull, os.O_RDWR)  # the lowest free number: fd
    if sys.stdout is None:
        sys.stdout = ClosedStream()


def stdout_lost():
    """After a write to stdout failed (full, closed): send the rest, and Python's flush at
    exit, to /dev/null, so that the failure is said once."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    sys.stdout = open(os.devnull, "w")


def run(program, main, argv):
    """main(argv)'s exit code; what main lets through (its --help onto a full stdout, say)
    is one line and exit 1 too."""
    guard_standard_descriptors()
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, raise_interrupted)
    try:
        try:
            return main(argv)
        finally:  # here, not at exit, so that a full stdout is ours to say (--help, a usage line)
            sys.stdout.flush()
    except OSError as e:  # main says its own; this is its output failing
        stdout_lost()
        print(f"{program}: cannot write its output ({e.strerror or one_line(e)})", file=sys.stderr)
    except Unforeseen as e:
        print(f"{program}: internal error ({e})", file=sys.stderr)
    except Exception as e:  # noqa: BLE001 - unforeseen, and still one line: never a traceback
        print(f"{program}: internal error ({type(e).__name__}: {one_line(e)})", file=sys.stderr)
    except KeyboardInterrupt as e:
        print(f"{program}: interrupted", file=sys.stderr)
        return 128 + e.signum if isinstance(e, Interrupted) else EXIT_INTERRUPTED
    return EXIT_RUNTIME


@contextlib.contextmanager
def loading(program):
    """Wrap a program's imports: a failure is one line on stderr and exit 1."""
    try:
        yield
    except ImportError as e:
        print(missing_module_line(program, e), file=sys.stderr)
        raise SystemExit(EXIT_RUNTIME) from None
    except Exception as e:  # noqa: BLE001 - any failure while loading is one line, not a traceback
        print(f"{program}: cannot start ({type(e).__name__}: {one_line(e)})", file=sys.stderr)
        raise SystemExit(EXIT_RUNTIME) from None
