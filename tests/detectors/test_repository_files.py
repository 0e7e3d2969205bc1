from self_healing_bot.detectors.repository_files import CommitFiles, changed_paths, read_file
from self_healing_bot.github.models import RepoFile

REPO = "octo/ml"


class CountingFiles:
    """Two commits of one repository; counts every download."""

    def __init__(self) -> None:
        self.commits = {
            "old": {"metrics.json": b'{"f1": 0.9}'},
            "new": {"metrics.json": b'{"f1": 0.7}'},
        }
        self.downloads: list[tuple[str, str | None]] = []

    async def get_branch_sha(self, repo: str, branch: str) -> str:
        return "new"

    async def get_file(self, repo: str, path: str, ref: str | None = None) -> RepoFile | None:
        self.downloads.append((path, ref))
        content = self.commits[ref or "new"].get(path)
        return None if content is None else RepoFile(path, f"{ref}-{path}", content)


async def test_commit_files_downloads_each_file_once_per_commit() -> None:
    client = CountingFiles()
    files = CommitFiles(client)

    changed = await changed_paths(files, REPO, ["metrics.json", "absent.json"], "old", "new")
    new = await read_file(files, REPO, "metrics.json", "new")
    old = await files.get_file(REPO, "metrics.json", "old")

    assert changed == ["metrics.json"]
    assert (new, old.content if old else None) == (b'{"f1": 0.7}', b'{"f1": 0.9}')
    assert sorted(client.downloads) == [
        ("absent.json", "new"),
        ("absent.json", "old"),
        ("metrics.json", "new"),
        ("metrics.json", "old"),
    ]
