"""Command line: parses, calls the API, prints errors as one line. ``main(argv)`` runs in-process."""

from __future__ import annotations

import signal
import sys
import warnings

from brushwork.cli import commands
from brushwork.cli.parser import build_parser
from brushwork.errors import BrushworkError

RUNNERS = {
    "train": commands.run_train,
    "stylize": commands.run_stylize,
    "evaluate": commands.run_evaluate,
    "mix": commands.run_mix,
    "export": commands.run_export,
    "info": commands.run_info,
    "styles": commands.run_styles,
    "serve": commands.run_serve,
    "webcam": commands.run_webcam,
}


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"brushwork: warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `brushwork` command. Returns the exit status."""
    program = argv is None  # run as the `brushwork` program, not called in-process (tests)
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            args = build_parser(command if command in RUNNERS else None).parse_args(argv)
            return RUNNERS[args.command](args)
    except BrushworkError as exc:
        print(f"brushwork: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("brushwork: interrupted", file=sys.stderr)
        return 130
    finally:
        if program:  # the command is over: a late Ctrl-C must not break the interpreter's exit with a traceback
            signal.signal(signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    sys.exit(main())
