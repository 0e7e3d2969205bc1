import json
import logging

import pytest
import structlog

from self_healing_bot.logging_setup import configure_logging


@pytest.mark.parametrize("use_structlog", [True, False])
def test_json_lines_carry_the_traceback_of_a_logged_exception(
    capsys: pytest.CaptureFixture[str], use_structlog: bool
) -> None:
    configure_logging("INFO", json_output=True)
    try:
        raise ZeroDivisionError("division by zero")
    except ZeroDivisionError:
        if use_structlog:
            structlog.stdlib.get_logger("test").error("processing failed", exc_info=True)
        else:
            logging.getLogger("test").exception("processing failed")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["event"] == "processing failed"
    assert "Traceback (most recent call last)" in line["exception"]
    assert "ZeroDivisionError: division by zero" in line["exception"]
