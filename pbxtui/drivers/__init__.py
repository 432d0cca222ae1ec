"""Vendor drivers, one module per API family, behind the protocol in ``base``."""

from __future__ import annotations

import importlib

import httpx

from pbxtui.config import PbxConfig
from pbxtui.drivers.base import Driver

# kind (as written in the config) → "module:Class"; imported on first use.
DRIVERS: dict[str, str] = {
    "pbxcloud": "pbxtui.drivers.pbxcloud:PbxCloudDriver",
    "iexpbx": "pbxtui.drivers.iexpbx:IexPbxDriver",
    "dialup": "pbxtui.drivers.dialup:DialupDriver",
    "while1": "pbxtui.drivers.while1:While1Driver",
}


def driver_class(kind: str) -> type[Driver]:
    module_name, _, class_name = DRIVERS[kind].partition(":")
    cls: type[Driver] = getattr(importlib.import_module(module_name), class_name)
    return cls


def create_driver(config: PbxConfig, client: httpx.AsyncClient) -> Driver:
    return driver_class(config.kind)(config, client)
