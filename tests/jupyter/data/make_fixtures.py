"""Regenerate the api_info JSON fixtures of the form tests from real demessaging modules.

Run from the repository root::

    .venv/bin/python -m tests.jupyter.data.make_fixtures

Each fixture is ``BackendModule.get_api_info()`` of a module built with demessaging 0.6.4, so
the forms are tested against schemas exactly as the reference backend publishes them. The
``*_marked`` variant adds the ``x-dasf-codec`` markers our own backend puts on xarray/pandas/
numpy fields.
"""

import datetime as dt
import enum
import json
from pathlib import Path
from typing import Literal, Optional

import xarray as xr
from demessaging import configure
from demessaging.backend.module import BackendModule
from demessaging.config import ModuleConfig, WebsocketURLConfig
from demessaging.serializers.xarray import encode_xarray
from demessaging.validators.xarray import validate_dataarray
from deprogressapi import ProgressReport
from pydantic import BaseModel, Field

DATA = Path(__file__).parent


class Colour(str, enum.Enum):
    """A colour."""

    red = "red"
    green = "green"
    blue = "blue"


class Location(BaseModel):
    """A point on the globe."""

    lat: float = Field(ge=-90, le=90, description="latitude in degrees")
    lon: float = Field(ge=-180, le=180, description="longitude in degrees")
    name: str = Field("", description="station name")


class Region(BaseModel):
    """A named box with a centre."""

    label: str = Field(description="region label")
    centre: Location = Field(description="centre of the region")
    tags: list[str] = Field(default_factory=list, description="free tags")


@configure(
    field_params={
        "count": {"ge": 1, "le": 10},
        "ratio": {"gt": 0.0, "lt": 1.0},
        "code": {"pattern": r"^[A-Z]{3}$"},
    }
)
def scalars(
    count: int,
    ratio: float = 0.5,
    code: str = "ABC",
    flag: bool = False,
    plain: int = 3,
    scale: float = 1.5,
) -> str:
    """Take scalar arguments.

    Parameters
    ----------
    count : int
        how many items
    ratio : float
        fraction between 0 and 1
    code : str
        three capital letters
    flag : bool
        switch it on
    plain : int
        an unbounded integer
    scale : float
        an unbounded float
    """
    return f"{count} {ratio} {code} {flag} {plain} {scale}"


def choices(
    colour: Colour,
    mode: Literal["fast", "slow"] = "fast",
    note: Optional[str] = None,
    limit: Optional[int] = None,
) -> str:
    """Take choice arguments.

    Parameters
    ----------
    colour : Colour
        the colour to use
    mode : str
        how to run
    note : str, optional
        optional note
    limit : int, optional
        optional limit
    """
    return f"{colour} {mode} {note} {limit}"


def collections(
    values: list[int],
    names: list[str] = ["a", "b"],  # noqa: B006 - demessaging reads the default
    weights: dict[str, float] = {"x": 1.0},  # noqa: B006
) -> float:
    """Take collections.

    Parameters
    ----------
    values : list of int
        integer values
    names : list of str
        labels
    weights : dict
        weight per key
    """
    return float(sum(values))


def places(region: Region, where: Optional[Location] = None) -> str:
    """Take nested models.

    Parameters
    ----------
    region : Region
        the region
    where : Location, optional
        an optional point
    """
    return region.label


def when(day: dt.date, moment: dt.datetime = dt.datetime(2024, 5, 1, 12, 0)) -> str:
    """Take dates.

    Parameters
    ----------
    day : date
        the day
    moment : datetime
        the moment
    """
    return f"{day} {moment}"


@configure(
    serializers={"da": encode_xarray},
    validators={"da": [validate_dataarray]},
    return_serializer=encode_xarray,
    return_validators=[validate_dataarray],
)
def smooth(da: xr.DataArray, window: int = 3) -> xr.DataArray:
    """Smooth a data array.

    Parameters
    ----------
    da : xr.DataArray
        the data to smooth
    window : int
        window length
    """
    return da.rolling({da.dims[0]: window}, center=True).mean()


def slow(steps: int, reporter: ProgressReport = ProgressReport(step_message="Working")) -> int:
    """Report progress.

    Parameters
    ----------
    steps : int
        number of sub-steps
    reporter : ProgressReport
        the progress report
    """
    return steps


class Greeter:
    """Greets people.

    Parameters
    ----------
    name : str
        who to greet
    excited : bool
        add an exclamation mark
    """

    def __init__(self, name: str, excited: bool = False) -> None:
        self.name = name
        self.excited = excited

    def greet(self, times: int = 1) -> list[str]:
        """Greet ``times`` times.

        Parameters
        ----------
        times : int
            repetitions
        """
        return [f"hi {self.name}"] * times

    def shout(self, word: str, colour: Colour = Colour.red) -> str:
        """Shout a word.

        Parameters
        ----------
        word : str
            the word
        colour : Colour
            its colour
        """
        return word.upper()


def api_info(topic: str, members: list) -> dict:
    """The api_info that demessaging publishes for a module of ``members``."""
    config = ModuleConfig(messaging_config=WebsocketURLConfig(topic=topic))
    model = BackendModule.create_model(members=members, config=config)
    return json.loads(model.get_api_info().model_dump_json())


def mark_codecs(info: dict) -> dict:
    """Add our backend's ``x-dasf-codec`` marker to the xarray argument of ``smooth``."""
    for func in info["functions"]:
        if func["name"] == "smooth":
            func["rpc_schema"]["properties"]["da"]["x-dasf-codec"] = (
                "xarray.DataArray/netcdf3-base64"
            )
    return info


def main() -> None:
    """Write all fixtures."""
    everything = api_info(
        "forms-topic",
        [scalars, choices, collections, places, when, smooth, slow, Greeter],
    )
    (DATA / "api_info_forms.json").write_text(json.dumps(everything, indent=1) + "\n")
    marked = mark_codecs(json.loads(json.dumps(everything)))
    (DATA / "api_info_forms_marked.json").write_text(json.dumps(marked, indent=1) + "\n")


if __name__ == "__main__":
    main()
