"""Command groups whose usage errors are one ``error:`` line (docs/cli.md, "Exit codes").

click prints a usage error over three or four lines (``Usage: ...``, ``Try ... --help``, a
blank line, ``Error: ...``). :class:`OneLineGroup` prints it as one line instead, naming
the command's help: ``error: Invalid value for '--score': ... (see 'pygbs score --help')``,
exit code 2. Both command-line programs (``pygbs``, ``encoders``) use it.
"""

from __future__ import annotations

import errno
import sys
from typing import Any

import click

__all__ = ["OneLineGroup", "one_line"]

#: The error click raises to show the help of a command given without arguments (its
#: help is shown as is); older click versions show the help without raising.
_NO_ARGS_IS_HELP: type[Exception] = getattr(
    click.exceptions, "NoArgsIsHelpError", type("_Never", (Exception,), {})
)


def one_line(text: str) -> str:
    """``text`` with its lines joined by ``"; "`` (blank lines dropped)."""
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())


class OneLineGroup(click.Group):
    """A click group that reports usage and other click errors on one ``error:`` line."""

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line; click's errors become one line on stderr.

        Exit codes are click's: 2 for a usage error, 1 for another click error or an
        abort, 130 for Ctrl-C while click itself reads input.
        """
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except _NO_ARGS_IS_HELP as err:  # a bare command: its help, as click shows it
            err.show()
            sys.exit(err.exit_code)
        except click.UsageError as err:
            where = f" (see '{err.ctx.command_path} --help')" if err.ctx is not None else ""
            click.echo(f"error: {one_line(err.format_message())}{where}", err=True)
            sys.exit(err.exit_code)
        except click.ClickException as err:
            click.echo(f"error: {one_line(err.format_message())}", err=True)
            sys.exit(err.exit_code)
        except click.exceptions.Abort as err:
            if isinstance(err.__cause__, KeyboardInterrupt):
                click.echo("error: interrupted by SIGINT", err=True)
                sys.exit(130)
            click.echo("error: aborted", err=True)
            sys.exit(1)
        except OSError as err:
            if err.errno != errno.EPIPE:
                raise
            sys.exit(1)  # the reader of our output went away (``pygbs ... | head``)
        # an explicit exit (``--help``, ``--version``, ``ctx.exit(n)``) returns its code;
        # a finished command returns None
        sys.exit(rv if isinstance(rv, int) and not isinstance(rv, bool) else 0)
