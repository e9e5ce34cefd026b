"""The Ray path of `annotate`: a pool of pipeline actors, each loading the pipeline once, each
annotating whole units of work and writing them itself (`units.annotate_unit`, as the local
run does), into the output folder, which on a cluster must be a path every node sees (a shared
file system). The driver sends units and gets back small results; no row passes through it.

An actor that dies (its process killed, its node gone) costs only the unit it held: that unit
goes to another actor, and a new actor is asked for in its place (it starts where the cluster
has room). Ray is an optional extra (`pip install "spacy-ner-ext[ray]"`). Without an address
(or with "local") a Ray is started on this machine; with one, or with RAY_ADDRESS set, the same
code runs on that cluster.
"""
import os
import re
import time
from collections import deque
from typing import Callable, Dict, Iterator, List

from ..errors import UserInputError
from .pipeline import load_pipeline
from .records import InputError, ReadOptions
from .units import StrictStop, UnitResult, UnitSettings, WorkUnit, annotate_unit

# A unit whose actor died this many times is the unit's doing (memory, say), not bad luck.
ATTEMPTS_PER_UNIT = 3
# How long the run waits, with no actor alive, for the cluster to start one.
ACTOR_WAIT_SECONDS = 300


class PipelineActor:
    """One per Ray actor: the pipeline is loaded once, then annotates unit after unit."""

    def __init__(self, model: str, labels: List[str], descriptions, use_gpu: bool, read: ReadOptions,
                 settings: UnitSettings):
        import spacy

        if use_gpu:
            spacy.require_gpu(0)  # Ray gives each actor its own GPU as device 0
        self.nlp = load_pipeline(model, labels, descriptions)
        self.read, self.settings = read, settings

    def ready(self) -> int:
        return os.getpid()

    def annotate(self, unit: WorkUnit) -> UnitResult:
        try:
            return annotate_unit(self.nlp, unit, self.read, self.settings)
        except UserInputError as err:  # a bad input or --strict: the driver's one-line error
            return UnitResult(unit.index, unit.shard.path, unit.shard.sha256, unit.output, unit.part, unit.parts,
                              failure=str(err), strict_stop=isinstance(err, StrictStop))


def connect(ray_address) -> None:
    """Start or join Ray; an address it cannot reach is one line, before any output is made."""
    try:
        import ray
    except ImportError as err:
        raise InputError('--ray needs Ray: pip install "spacy-ner-ext[ray]"') from err
    address = None if ray_address in (None, "", "local") and not os.environ.get("RAY_ADDRESS") \
        else (os.environ.get("RAY_ADDRESS") if ray_address in (None, "", "local") else ray_address)
    if not ray.is_initialized():
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise InputError(f"--ray {ray_address}: cannot start or reach Ray at {address or 'a new local Ray'} "
                             f"({_first_line(err)})") from None


def _init_failure(err: BaseException) -> str:
    """The exception an actor's constructor raised, from Ray's report of it (the last line that
    names an error type)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    named = [line for line in lines if re.match(r"^[\w.]*(Error|Exception)\b", line)]
    return (named or lines or [type(err).__name__])[-1]


def _first_line(err: BaseException) -> str:
    lines = [line for line in str(err).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__


def annotate_on_ray(model: str, units: List[WorkUnit], read: ReadOptions, settings: UnitSettings, options,
                    on_ready: Callable[[], None] = lambda: None) -> Iterator[UnitResult]:
    """Each unit's result as its actor finishes it (any order). on_ready: called once, when the
    first actors have their pipeline loaded (the end of start-up)."""
    import ray
    from ray.exceptions import RayActorError

    connect(options.ray_address)
    if not units:
        return
    actor_class = ray.remote(PipelineActor)

    def start():
        # No restarts by Ray: a dead actor's unit is handed on here, and a new actor asked for.
        return actor_class.options(num_cpus=options.num_cpus, num_gpus=options.num_gpus, max_restarts=0).remote(
            str(model), list(options.labels), options.descriptions, options.num_gpus > 0, read, settings)

    wanted = min(options.concurrency, len(units))
    starting: Dict = {}
    for _ in range(wanted):
        actor = start()
        starting[actor.ready.remote()] = actor
    idle: List = []
    running: Dict = {}  # future -> (actor, unit)
    queue = deque(units)
    attempts: Dict[int, int] = {}
    failed_starts = 0
    announced = False
    alive_since = time.monotonic()

    def lost(actor, err, unit=None) -> None:
        ray.kill(actor)
        if unit is not None:
            attempts[unit.index] = attempts.get(unit.index, 0) + 1
            if attempts[unit.index] >= ATTEMPTS_PER_UNIT:
                raise RuntimeError(f"{unit.shard.path} ({unit.output}): the actor annotating it died "
                                   f"{ATTEMPTS_PER_UNIT} times, the last: {_first_line(err)}")
            queue.appendleft(unit)
        # An actor dies with its node, and so may the idle ones beside it: each is asked whether
        # it lives before it gets a unit, so that a unit is not handed from one dead actor to the next.
        while idle:
            waiting = idle.pop()
            starting[waiting.ready.remote()] = waiting
        replacement = start()
        starting[replacement.ready.remote()] = replacement

    try:
        while queue or running:
            while idle and queue:
                actor, unit = idle.pop(), queue.popleft()
                running[actor.annotate.remote(unit)] = (actor, unit)
            done, _ = ray.wait([*running, *starting], num_returns=1, timeout=10)
            if not done:
                if running or idle:
                    alive_since = time.monotonic()
                elif time.monotonic() - alive_since > ACTOR_WAIT_SECONDS:
                    raise InputError(f"--ray: no pipeline actor could start for {ACTOR_WAIT_SECONDS} s: the cluster "
                                     f"has no room for one (--num-cpus {options.num_cpus}, --num-gpus "
                                     f"{options.num_gpus} each)")
                continue
            future = done[0]
            if future in starting:
                actor = starting.pop(future)
                try:
                    ray.get(future)
                except RayActorError as err:
                    if getattr(err, "actor_init_failed", False):
                        # The pipeline did not load in the actor (a path its node cannot see, a
                        # package it lacks): that is no bad luck, and a new actor would fail alike.
                        raise InputError(f"--ray: a pipeline actor could not load {model}: "
                                         f"{_init_failure(err)}") from None
                    failed_starts += 1
                    if failed_starts > 3 * wanted + len(units):
                        raise RuntimeError(f"--ray: pipeline actors keep dying as they start, the last: "
                                           f"{_first_line(err)}") from None
                    lost(actor, err)
                    continue
                idle.append(actor)
                alive_since = time.monotonic()
                if not announced and len(idle) + len(running) >= wanted:
                    on_ready()
                    announced = True
                continue
            actor, unit = running.pop(future)
            try:
                result = ray.get(future)
            except RayActorError as err:
                lost(actor, err, unit)
                continue
            idle.append(actor)
            if not announced:
                on_ready()
                announced = True
            yield result
    finally:
        for actor in [*idle, *(a for a, _ in running.values()), *starting.values()]:
            ray.kill(actor)

