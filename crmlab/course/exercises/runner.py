"""Run one submitted notebook for the grader: clean kernel, time limits, no network.

:func:`run_submission` (called by :mod:`crmlab.course.exercises.grade`) copies the submission
into a fresh temporary folder and executes it there in a *child process*
(``python -m crmlab.course.exercises.runner JOB.json``) that runs papermill with:

- the student's ``SEED`` and ``DATA`` injected after the parameters cell;
- ``allow_errors``: a failing exercise does not stop the ones after it;
- a per-cell time limit: a cell still running after ``cell_timeout`` seconds is
  interrupted and recorded as an error named :data:`TIMEOUT_ENAME`, then the next cell runs
  (the released setup cells — parameters and the ``start(...)`` cell, which import crmlab
  and load the shop — get at least :data:`SETUP_TIMEOUT`, since a busy grading machine can
  make imports slow and they are not the student's code);
- a kernel environment in which checks only record answers (``CRMLAB_EXERCISES_MODE=
  grading`` and a log file, see :mod:`crmlab.exercises.checking`), IPython starts from an
  empty profile whose startup file refuses network connections, and proxies point nowhere.

The parent kills the child's whole process group when the notebook as a whole runs longer
than ``timeout`` seconds (the kernel, started in its own session, exits by itself once its
parent is gone: ipykernel polls ``JPY_PARENT_PID``). On Linux, when unprivileged user
namespaces are available (``unshare -rn``), the child also runs in a network namespace
with no interfaces, which cuts the network below Python.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: ``ename`` of the error output written into a cell that hit the per-cell time limit.
TIMEOUT_ENAME = "CellTimeoutError"

#: Seconds the setup cells may take at least, whatever ``cell_timeout`` says.
SETUP_TIMEOUT = 300.0

#: IPython startup file of the grading kernel: Python sockets refuse to connect anywhere.
NO_NETWORK_STARTUP = '''\
def _crmlab_no_network():
    import socket

    def _refuse(*args, **kwargs):
        raise PermissionError("network access is disabled while a submission is graded")

    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _refuse()
        return original_connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _refuse()
        return original_connect_ex(self, address)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.create_connection = _refuse
    socket.getaddrinfo = _refuse


_crmlab_no_network()
del _crmlab_no_network
'''


@dataclass
class RunResult:
    """What running one submission produced."""

    executed: Path | None
    log: list[dict[str, Any]] = field(default_factory=list)
    cell_errors: list[dict[str, Any]] = field(default_factory=list)
    timed_out: bool = False
    crashed: str = ""
    seconds: float = 0.0
    network_namespace: bool = False


@functools.cache
def network_namespace_available() -> bool:
    """Whether ``unshare -rn`` works here (Linux with unprivileged user namespaces)."""
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return False
    try:
        done = subprocess.run(["unshare", "-rn", "true"], capture_output=True, timeout=10,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _kernel_env(workdir: Path, log: Path) -> dict[str, str]:
    """Environment of the child (and so of the kernel): grading mode, log, no network."""
    ipython_dir = workdir / ".ipython"
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-crmlab-no-network.py").write_text(NO_NETWORK_STARTUP, encoding="utf-8")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CRMLAB_", "JPY_", "PYTEST_"))}
    dead = "http://127.0.0.1:9"  # discard port: every proxied request fails at once
    env.update({
        "CRMLAB_EXERCISES_MODE": "grading", "CRMLAB_EXERCISES_LOG": str(log),
        "IPYTHONDIR": str(ipython_dir), "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0",
        "HTTP_PROXY": dead, "HTTPS_PROXY": dead, "http_proxy": dead, "https_proxy": dead,
        "ALL_PROXY": dead, "all_proxy": dead, "NO_PROXY": "", "no_proxy": "",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env


def run_submission(notebook: str | os.PathLike, parameters: Mapping[str, Any], *,
                   output: str | os.PathLike, timeout: float = 600.0,
                   cell_timeout: float = 120.0, network: str = "auto") -> RunResult:
    """Execute the submission ``notebook`` in a temporary folder; keep the run at ``output``.

    ``parameters`` (``SEED``, ``DATA``) are injected. ``timeout`` bounds the whole run,
    ``cell_timeout`` each cell. ``network`` is ``"auto"`` (a network namespace when
    available, the Python-level block always) or ``"python"`` (the Python-level block only).
    Returns a :class:`RunResult`; never raises for anything the notebook does.
    """
    if network not in ("auto", "python"):
        raise ValueError(f"run_submission: network must be 'auto' or 'python', got {network!r}")
    if not (timeout > 0 and cell_timeout > 0):
        raise ValueError(f"run_submission: timeout ({timeout}) and cell_timeout "
                         f"({cell_timeout}) must be positive seconds")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="crmlab-grade-") as tmp:
        work = Path(tmp)
        source = work / "submission.ipynb"
        shutil.copyfile(notebook, source)
        log, executed, report = work / "checks.jsonl", work / "executed.ipynb", work / "run.json"
        log.touch()
        job = {"source": str(source), "output": str(executed), "report": str(report),
               "parameters": dict(parameters), "cwd": str(work / "run"),
               "cell_timeout": cell_timeout}
        (work / "run").mkdir()
        (work / "job.json").write_text(json.dumps(job), encoding="utf-8")
        command = [sys.executable, "-m", "crmlab.course.exercises.runner", str(work / "job.json")]
        use_ns = network == "auto" and network_namespace_available()
        if use_ns:
            command = ["unshare", "-rn", *command]
        result = RunResult(executed=None, network_namespace=use_ns)
        result.timed_out, result.crashed = _run_child(command, _kernel_env(work, log), timeout,
                                                      cwd=work / "run")
        if executed.is_file():
            shutil.copyfile(executed, output)
            result.executed = output
        if report.is_file():
            child = json.loads(report.read_text(encoding="utf-8"))
            result.crashed = result.crashed or child.get("crashed", "")
        result.log = _read_log(log)
    if result.executed is not None:
        result.cell_errors = cell_errors(result.executed)
    result.seconds = time.perf_counter() - start
    return result


def _run_child(command: list[str], env: dict[str, str], timeout: float,
               cwd: Path) -> tuple[bool, str]:
    """Run the child in its own process group; kill the group after ``timeout`` seconds."""
    with open(cwd.parent / "child.log", "wb") as out:
        proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            return True, ""
    if code != 0:
        tail = (cwd.parent / "child.log").read_text(encoding="utf-8", errors="replace")
        last = [ln for ln in tail.splitlines() if ln.strip()][-1:] or ["(no output)"]
        return False, f"the grading process exited with code {code}: {last[0][:300]}"
    return False, ""


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()


def _read_log(path: Path) -> list[dict[str, Any]]:
    """The check log, one dict per line; a torn last line (killed mid-write) is skipped."""
    entries = []
    if not path.is_file():
        return entries
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def cell_errors(executed: str | os.PathLike) -> list[dict[str, Any]]:
    """Error outputs of an executed notebook: ``{"cell", "ename", "evalue", "source"}``."""
    try:
        nb = json.loads(Path(executed).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return []
    found = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                source = cell.get("source", "")
                found.append({"cell": i, "ename": out.get("ename", ""),
                              "evalue": str(out.get("evalue", ""))[:300],
                              "source": "".join(source) if isinstance(source, list) else source})
                break
    return found


def timeout_for(cell_timeout: float) -> Any:
    """nbclient ``timeout_func``: ``cell_timeout`` per cell, :data:`SETUP_TIMEOUT` for setup."""
    from crmlab.course.exercises.release import START_CALL_RE

    def timeout(cell: Any) -> int:
        tags = cell.get("metadata", {}).get("tags", [])
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if "parameters" in tags or "injected-parameters" in tags or START_CALL_RE.search(source):
            return int(max(cell_timeout, SETUP_TIMEOUT))
        return max(1, int(round(cell_timeout)))

    return timeout


def _child(job_path: str) -> int:
    """Child process body: execute the job's notebook with papermill; report a crash."""
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    report: dict[str, Any] = {"crashed": ""}
    # as crmlab.course.build.worker_setup: skip jsonschema's 2-3 s "iri" grammar, unused by notebooks
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    try:
        import papermill as pm
        from papermill.exceptions import PapermillExecutionError
        from traitlets.config import Config

        from crmlab.course.build import _quiet_papermill

        _quiet_papermill()
        # every parameter is injected, even if the student deleted its line: papermill puts
        # them after the parameters cell (or first, when the tag is gone)
        inject = job["parameters"]
        sockets = tempfile.mkdtemp(prefix="k-", dir=Path(job["cwd"]).parent)
        try:
            pm.execute_notebook(
                job["source"], job["output"], parameters=inject, kernel_name="python3",
                cwd=job["cwd"], progress_bar=False, log_output=False,
                request_save_on_cell_execute=False, execution_timeout=job["cell_timeout"],
                timeout_func=timeout_for(job["cell_timeout"]), allow_errors=True, interrupt_on_timeout=True,
                error_on_timeout={"ename": TIMEOUT_ENAME,
                                  "evalue": f"the cell ran longer than {job['cell_timeout']} s",
                                  "traceback": []},
                config=Config({"KernelManager": {"transport": "ipc",
                                                 "ip": f"{sockets}/kernel"}}),
            )
        except PapermillExecutionError:
            pass  # cells raised: the executed notebook holds the errors, the grader reads them
    except Exception as exc:  # a notebook papermill cannot even start (bad JSON, dead kernel)
        report["crashed"] = f"{type(exc).__name__}: {str(exc)[:300]}"
    Path(job["report"]).write_text(json.dumps(report), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1]))
