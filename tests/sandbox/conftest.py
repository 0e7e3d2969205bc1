from tests.github_sandbox_plugin import *  # noqa: F403
