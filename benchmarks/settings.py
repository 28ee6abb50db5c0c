"""Sizes and counts of a benchmark run: the full run and ``--quick``."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Settings:
    """Everything that bounds a run; every wait in the harness derives from these."""

    warmup: int = 20
    echo_calls: int = 300
    echo_runs: int = 3
    echo_budget: float = 15.0  #: seconds per run at most (the reference is slow)
    add_threads: int = 8
    add_calls: int = 100  #: per thread
    add_runs: int = 3
    add_budget: float = 15.0
    grid_mb: tuple[float, ...] = (1, 10, 50, 200)
    grid_runs: int = 3
    mid_grid_runs: int = 3  #: runs for grids of 20-100 MB
    big_grid_runs: int = 3  #: runs for grids above 100 MB
    ref_max_grid_mb: float = 100  #: the reference needs > 4 min for 200 MB: skipped by default
    arg_mb: float = 50
    arg_runs: int = 3
    idle_connections: int = 10_000
    ref_idle_connections: int = 1000  #: daphne + SQLite: 10,000 handshakes take minutes
    idle_echo_calls: int = 100
    idle_echo_budget: float = 15.0
    fanout_replicas: int = 4
    fanout_threads: int = 16
    fanout_calls: int = 50  #: per thread
    fanout_runs: int = 3
    fanout_budget: float = 25.0
    ref_processes: int = 8  #: demessaging client processes (threads are spread over them)
    call_timeout: float = 150.0  #: one command to a client process (a whole run of calls)
    repeat_budget: float = 45.0  #: no further runs of a large-payload row after this many s
    stack_budget: float = 420.0  #: rows not started within this many s of a stack are skipped

    def quick(self) -> Settings:
        """A run of well under two minutes that still touches every row."""
        return replace(
            self,
            warmup=5,
            echo_calls=50,
            echo_runs=2,
            echo_budget=5.0,
            add_calls=15,
            add_runs=2,
            add_budget=5.0,
            grid_mb=(1, 10),
            grid_runs=2,
            arg_mb=10,
            arg_runs=2,
            idle_connections=200,
            ref_idle_connections=200,
            idle_echo_calls=30,
            idle_echo_budget=5.0,
            fanout_calls=10,
            fanout_budget=5.0,
            fanout_runs=1,
            ref_processes=4,
            call_timeout=60.0,
            repeat_budget=10.0,
            stack_budget=75.0,
        )

    def tiny(self) -> Settings:
        """Minimal sizes for the smoke test (proves the harness works, measures nothing)."""
        return replace(
            self.quick(),
            warmup=1,
            echo_calls=5,
            echo_runs=1,
            add_threads=2,
            add_calls=3,
            add_runs=1,
            grid_mb=(0.1,),
            grid_runs=1,
            arg_mb=0.1,
            arg_runs=1,
            idle_connections=10,
            ref_idle_connections=10,
            idle_echo_calls=5,
            fanout_replicas=2,
            fanout_threads=2,
            fanout_calls=3,
            ref_processes=2,
            call_timeout=60.0,
            stack_budget=200.0,
        )
