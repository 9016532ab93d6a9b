"""X6 load: one locust run drives every endpoint of the plan in turn, at one concurrency.

Started by bench/run.py as `locust -f bench/locustfile.py --headless -u N …` with
BENCH_PLAN naming a JSON plan (host, login, warm-up and duration, the phases). Every user
logs in through /accounts/login/ like a browser (GET the form, POST it with its CSRF
token). The phases then run one after another: all users request the phase's endpoint as
fast as it answers (closed loop, no think time), for the warm-up and then the measured
duration (each user makes at least one measured request, so a slow endpoint still gets
one per user). A phase starts only when every user has finished the previous one, so no
two endpoints share the server. The timings are taken here around each request (body read
included) and written to the plan's `out` file; bench/run.py computes the percentiles.

Standalone module: it imports nothing from Django or the project.
"""

import itertools
import json
import os
import random
import re
import time

from gevent.event import Event
from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser

with open(os.environ["BENCH_PLAN"], encoding="utf-8") as plan_file:
    PLAN = json.load(plan_file)
LOGIN_TIMEOUT = 120  # seconds for every user to log in (password hashing is slow)
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Run:
    """State shared by the users of this process (gevent: no two run at once)."""

    logged_in = 0
    phase = -1  # index into PLAN["phases"]; -1 while users log in
    phase_done = 0  # users that have finished the current phase
    windows: list[dict] = []  # per phase: start, measure_from, until (epoch seconds)
    samples: list[list] = []  # per phase: [start, ms, ok] per request
    errors: list[dict] = []  # per phase: message -> count
    advanced = Event()  # set, and replaced by a fresh one, whenever a phase starts
    fatal = ""
    written = False
    serial = itertools.count(1)


def _start_phase(index: int) -> None:
    now = time.time()
    Run.phase, Run.phase_done = index, 0
    event, Run.advanced = Run.advanced, Event()
    event.set()
    if index < len(PLAN["phases"]):
        Run.windows.append(
            {
                "start": now,
                "measure_from": now + PLAN["warmup"],
                "until": now + PLAN["warmup"] + PLAN["duration"],
            }
        )
        Run.samples.append([])
        Run.errors.append({})


def _error(phase: int, message: str) -> None:
    errors = Run.errors[phase]
    errors[message] = errors.get(message, 0) + 1


class BenchUser(FastHttpUser):
    wait_time = constant(0)
    # Requests may be slow at full scale; the runner stops on its own schedule.
    network_timeout = 300.0
    connection_timeout = 30.0

    def on_start(self):
        self.index = next(Run.serial)
        self.measured = -1  # the last phase in which this user made a measured request
        try:
            self._login()
        except Exception as exc:
            Run.fatal = f"login failed: {exc}"
            self.environment.runner.quit()
            raise StopUser() from exc
        Run.logged_in += 1
        if Run.logged_in == PLAN["users"]:
            _start_phase(0)

    def _login(self):
        page = self.client.get("/accounts/login/", name="login")
        page.raise_for_status()
        token = CSRF_INPUT.search(page.text)
        if not token:
            raise RuntimeError("no CSRF token on the login page")
        answer = self.client.post(
            "/accounts/login/",
            data={
                "username": PLAN["username"],
                "password": PLAN["password"],
                "csrfmiddlewaretoken": token.group(1),
            },
            headers={"Referer": PLAN["host"] + "/accounts/login/"},
            allow_redirects=False,
            name="login",
        )
        if answer.status_code != 302:
            raise RuntimeError(f"login answered {answer.status_code}, not a redirect")
        # Logging in rotates the CSRF token; the API's session auth wants the new one.
        self.csrf_token = self._cookie("csrftoken")
        if not self.csrf_token:
            raise RuntimeError("no csrftoken cookie after login")

    def _cookie(self, name: str) -> str:
        for cookie in self.client.cookiejar:
            if cookie.name == name:
                return cookie.value
        return ""

    @task
    def step(self):
        if Run.phase < 0 and not Run.advanced.wait(LOGIN_TIMEOUT):
            Run.fatal = Run.fatal or "users did not all log in in time"
            self.environment.runner.quit()
            raise StopUser()
        phase = Run.phase
        if phase >= len(PLAN["phases"]):
            self.environment.runner.quit()
            raise StopUser()
        # Each user makes at least one measured request, however slow the endpoint.
        if time.time() >= Run.windows[phase]["until"] and self.measured == phase:
            self._finish_phase(phase)
            return
        self._request(phase, PLAN["phases"][phase])

    def _finish_phase(self, phase: int):
        """Wait until every user is done with `phase`; the last one starts the next."""
        event = Run.advanced
        Run.phase_done += 1
        if Run.phase_done == PLAN["users"]:
            _start_phase(phase + 1)
            if Run.phase >= len(PLAN["phases"]):
                _write()
                self.environment.runner.quit()
                raise StopUser()
        event.wait()

    def _request(self, phase: int, spec: dict):
        kwargs = {"name": spec["key"], "allow_redirects": False, "catch_response": True}
        if spec["method"] == "POST":
            body = dict(spec["payload"])
            body["name"] = f"{spec['name_prefix']}{self.index}-{next(Run.serial)}"
            kwargs["json"] = body
            kwargs["headers"] = {"X-CSRFToken": self.csrf_token}
            path = spec["paths"][0]
        else:
            path = random.choice(spec["paths"])
        started = time.time()
        if started >= Run.windows[phase]["measure_from"]:
            self.measured = phase
        t0 = time.perf_counter()
        try:
            with self.client.request(spec["method"], path, **kwargs) as response:
                elapsed = (time.perf_counter() - t0) * 1000
                ok = 200 <= (response.status_code or 0) < 300
                if ok:
                    response.success()
                else:
                    message = (
                        f"HTTP {response.status_code} on {path}"
                        if response.status_code
                        else f"{response.error!r}"[:200]
                    )
                    response.failure(message)
                    _error(phase, message)
        except Exception as exc:  # connection errors: a failed request too
            elapsed = (time.perf_counter() - t0) * 1000
            ok = False
            _error(phase, f"{exc.__class__.__name__}: {exc}"[:200])
        Run.samples[phase].append([started, round(elapsed, 3), ok])


def _write() -> None:
    if Run.written:
        return
    Run.written = True
    phases = []
    for i, window in enumerate(Run.windows):
        phases.append(
            {
                "key": PLAN["phases"][i]["key"],
                **window,
                "samples": Run.samples[i],
                "errors": Run.errors[i],
            }
        )
    with open(PLAN["out"], "w", encoding="utf-8") as out:
        json.dump({"fatal": Run.fatal, "phases": phases}, out)


@events.test_stop.add_listener
def on_test_stop(**_kwargs):
    # Also when the safety time limit (-t) stops the run before the last phase ends.
    if not Run.written and not Run.fatal and Run.phase < len(PLAN["phases"]):
        Run.fatal = f"stopped during phase {Run.phase} (time limit)"
    _write()
