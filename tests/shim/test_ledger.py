"""The API table (codemod.apis) says how the shim supports each DBOS name; hold the shim to it."""

from __future__ import annotations

import pytest

import shim
from codemod.apis import APIS, DbosApi, ShimSupport
from shim import DBOS
from shim.errors import ShimUnsupportedError

SUPPORTED = (ShimSupport.HONOURED, ShimSupport.INERT)


def _defined(api: DbosApi) -> bool:
    if api.name.startswith("DBOS."):
        attribute = api.name.removeprefix("DBOS.")
        return any(attribute in vars(klass) for klass in DBOS.__mro__)
    return api.name in shim.__all__


@pytest.mark.parametrize("api", [a for a in APIS if a.shim in SUPPORTED], ids=lambda a: a.name)
def test_supported_names_exist_in_the_shim(api: DbosApi) -> None:
    assert _defined(api), f"{api.name} is marked {api.shim} but the shim does not define it"


@pytest.mark.parametrize("api", [a for a in APIS if a.shim not in SUPPORTED], ids=lambda a: a.name)
def test_unsupported_names_raise_a_clear_error(api: DbosApi) -> None:
    attribute = api.name.removeprefix("DBOS.")
    source = DBOS if api.name.startswith("DBOS.") else shim
    with pytest.raises(ShimUnsupportedError, match="not supported by the dbos2resonate shim") as raised:
        getattr(source, attribute)()
    assert attribute in str(raised.value)
